//! Regression tests for the defects the stress test (tests/stress.rs) found beyond issue 10's
//! list (each failed on the code before its fix; the reference tests with GStreamer's own
//! elements pass either way). The negative-offset-into-compositor one is still pending:
//! `tests/negative_offset_into_compositor.rs.pending`.

mod common;

use common::*;
use gst::prelude::*;

const AUDIO: &str = "audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved";
const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

/// Waits for the state within a generous bound: (result, current, pending).
fn settle(
    pipeline: &gst::Pipeline,
) -> (
    Result<gst::StateChangeSuccess, gst::StateChangeError>,
    gst::State,
) {
    let (result, current, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    (result, current)
}

fn flushing_seek(rate: f64) -> gst::Event {
    gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::ZERO,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    )
}

fn playing(description: &str) -> gst::Pipeline {
    let pipeline = pipeline(description);
    pipeline.set_state(gst::State::Playing).unwrap();
    assert_eq!(
        settle(&pipeline),
        (Ok(gst::StateChangeSuccess::Success), gst::State::Playing)
    );
    pipeline
}

/// KNOWN_DEFECTS `live-test-source-seek-through-mixer`: a flushing seek that reaches a live
/// push test source through a mixer leaves the pipeline ASYNC in PAUSED for ever, with no
/// ERROR. `audiotestsrc is-live=true` in its place goes back to PLAYING.
fn assert_back_to_playing_after_seek(description: &str, rate: f64) {
    let pipeline = playing(description);
    let _ = pipeline.send_event(flushing_seek(rate));
    let (result, current) = settle(&pipeline);
    let errors: Vec<_> = pipeline
        .bus()
        .unwrap()
        .iter()
        .filter(|m| m.type_() == gst::MessageType::Error)
        .collect();
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        !errors.is_empty()
            || (result == Ok(gst::StateChangeSuccess::Success) && current == gst::State::Playing),
        "{description}: after seek(rate {rate}): {result:?}, {current:?}, and no ERROR"
    );
}

#[test]
fn live_pushaudiotestsrc_through_audiomixer_survives_a_flushing_seek() {
    let description =
        format!("pushaudiotestsrc is-live=true ! {AUDIO} ! audiomixer ! fakesink sync=true");
    assert_back_to_playing_after_seek(&description, 1.0);
    // Not at 2.0: `audiomixer` (GstAudioAggregator) takes a seek's rate for its output whatever
    // its inputs answer, then refuses their segments at any other rate and clips their buffers
    // against no segment (a CRITICAL): GStreamer's, see README "Stress test".
}

#[test]
fn live_pushaudiotestsrc_through_adder_survives_a_flushing_seek() {
    assert_back_to_playing_after_seek(
        &format!("pushaudiotestsrc is-live=true ! {AUDIO} ! adder ! fakesink sync=true"),
        1.0,
    );
}

#[test]
fn live_pushvideotestsrc_through_compositor_survives_a_flushing_seek() {
    assert_back_to_playing_after_seek(
        &format!("pushvideotestsrc is-live=true ! {VIDEO} ! compositor ! fakesink sync=true"),
        1.0,
    );
    assert_back_to_playing_after_seek(
        &format!("pushvideotestsrc is-live=true ! {VIDEO} ! compositor ! fakesink sync=true"),
        2.0,
    );
}

#[test]
fn live_and_non_live_into_audiomixer_survive_a_flushing_seek() {
    assert_back_to_playing_after_seek(
        &format!(
            "pushaudiotestsrc is-live=true ! {AUDIO} ! queue ! audiomixer name=m ! fakesink sync=true \
             pushaudiotestsrc is-live=false num-buffers=300 ! {AUDIO} ! queue ! m."
        ),
        1.0,
    );
}

/// The same pipeline with GStreamer's own live source: the reference behaviour.
#[test]
fn live_audiotestsrc_through_audiomixer_survives_a_flushing_seek() {
    assert_back_to_playing_after_seek(
        &format!("audiotestsrc is-live=true ! {AUDIO} ! audiomixer ! fakesink sync=true"),
        1.0,
    );
}

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
        let accepted = bin
            .static_pad("src")
            .unwrap()
            .send_event(flushing_seek(rate));
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
    let accepted = pipeline.send_event(flushing_seek(-1.0));
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(!accepted);
}
