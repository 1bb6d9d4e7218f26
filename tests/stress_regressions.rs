//! Regression tests for the defects the stress test (tests/stress.rs) found beyond issue 10's
//! list (each failed on the code before its fix; the reference tests with GStreamer's own
//! elements pass either way). The others are in tests/live_source_seek_through_mixer.rs and
//! tests/negative_offset_into_compositor.rs (which runs gst-launch: that defect aborted the
//! process).

mod common;

use common::*;
use gst::prelude::*;

const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

/// KNOWN_DEFECTS `pushsrcbin-live-rate-seek`: SPEC section 2 rule 7 ("live sources refuse
/// rate seeks other than 1.0", a rule of every source-like element) holds for pushsrcbin too.
/// Today pushsrcbin passes the seek to the wrapped live `videotestsrc`, which accepts it and
/// then stamps buffers 2^64 − 31 ms (wrapped) in the reverse segment, with a CRITICAL
/// `gst_object_sync_values: assertion 'GST_CLOCK_TIME_IS_VALID (timestamp)'` (GStreamer's bug,
/// which the refusal keeps away).
#[test]
fn pushsrcbin_refuses_rate_seeks_for_a_live_source() {
    for rate in [-1.0, 2.0] {
        let pipeline = pipeline(&format!(
            "pushsrcbin name=bin source-description=\"videotestsrc is-live=true\" ! {VIDEO} ! fakesink sync=false"
        ));
        pipeline.set_state(gst::State::Paused).unwrap();
        let _ = settle(&pipeline);
        let bin = pipeline.by_name("bin").unwrap();
        let accepted = bin.static_pad("src").unwrap().send_event(rate_seek(rate));
        pipeline.set_state(gst::State::Null).unwrap();
        assert!(
            !accepted,
            "a live wrapped source: seek at rate {rate} refused"
        );
    }
}

/// The live test sources refuse such seeks: the reference behaviour.
#[test]
fn pushvideotestsrc_refuses_rate_seeks_when_live() {
    let pipeline = pipeline(&format!(
        "pushvideotestsrc is-live=true ! {VIDEO} ! fakesink sync=false"
    ));
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = settle(&pipeline);
    let accepted = pipeline.send_event(rate_seek(-1.0));
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(!accepted);
}
