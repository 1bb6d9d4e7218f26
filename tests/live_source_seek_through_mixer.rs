//! Regression tests for KNOWN_DEFECTS `live-test-source-seek-through-mixer` (found by the
//! stress test): a flushing seek that reaches a live push test source through a mixer left the
//! pipeline ASYNC in PAUSED for ever. The source now flushes from the seeking thread, as
//! GStreamer's `GstBaseSrc` does for a live source (each test but the reference one fails
//! without that flush).

mod common;

use common::*;
use gst::prelude::*;

const AUDIO: &str = "audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved";
const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

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
    let _ = pipeline.send_event(rate_seek(rate));
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
