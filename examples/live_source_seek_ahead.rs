//! GStreamer 1.22's live `audiotestsrc` takes a flushing seek's position for its stamps (it
//! is seekable when live), but GstBaseSrc keeps the timestamp correction it computed for the
//! first buffer (`ts_offset`, reset only on PAUSED → PLAYING, gstbasesrc.c
//! `gst_base_src_set_playing`): after a flushing seek to 10 s made while PLAYING, the source
//! waits on the clock until 10 s after its first buffer before it pushes anything, and its sink
//! cannot preroll meanwhile. The pipeline stays "PAUSED, pending PAUSED" as long as the jump
//! (a seek to 1000 s: 1000 s). With GStreamer's elements only: `audiotestsrc is-live=true !
//! fakesink sync=false`, PLAYING, a flushing seek to 20 s.
//!
//! The stress test therefore seeks no further than 5 s ahead in a pipeline with a live
//! `pushsrcbin`, which wraps such sources (KNOWN_DEFECTS `live-source-seek-ahead`, stress seeds
//! 8378614706868829888, 15594622961106801611).
//!
//! `cargo run --example live_source_seek_ahead`: prints how long the pipeline took to reach
//! PLAYING again; exit status 1 if it did within 10 s.

use std::time::{Duration, Instant};

use gst::prelude::*;

const SEEK_TO: gst::ClockTime = gst::ClockTime::from_seconds(20);
const BOUND: gst::ClockTime = gst::ClockTime::from_seconds(10);

fn main() {
    gst::init().expect("GStreamer initializes");
    let pipeline = gst::parse::launch(
        "audiotestsrc is-live=true samplesperbuffer=1024 ! \
         audio/x-raw,format=S16LE,rate=44100,channels=1 ! fakesink name=k sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let (reached, _, _) = pipeline.state(BOUND);
    assert!(reached.is_ok(), "the pipeline reaches PLAYING");
    std::thread::sleep(Duration::from_millis(200));

    let seek = gst::event::Seek::new(
        1.0,
        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
        gst::SeekType::Set,
        SEEK_TO,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    );
    let sent = Instant::now();
    let accepted = pipeline.send_event(seek);
    let (result, current, pending) = pipeline.state(BOUND);
    let waited = sent.elapsed();
    println!(
        "seek to {SEEK_TO} accepted: {accepted}; after {:.1} s: {result:?}, {current:?} → {pending:?}",
        waited.as_secs_f64()
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let stalled = accepted && current != gst::State::Playing;
    if stalled {
        println!(
            "the live source waits for the seek's jump: PLAYING not reached again within {BOUND}"
        );
    } else {
        println!("PLAYING again within {BOUND}: not shown");
        std::process::exit(1);
    }
}
