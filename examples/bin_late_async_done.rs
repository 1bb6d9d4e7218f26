//! A sink inside a bin that prerolls only after the bin went to PAUSED with NO_PREROLL (the bin
//! holds a live source too) keeps the pipeline from PLAYING for ever, no ERROR, with GStreamer
//! 1.22's elements only (none of this plugin's): `bin.( audiotestsrc is-live=false ! identity
//! sleep-time=200000 ! fakesink sync=true audiotestsrc is-live=true ! queue )` whose live
//! branch leaves the bin for `queue ! fakesink` next to it, PAUSED, then PLAYING: the pipeline
//! stays PAUSED with PLAYING pending.
//!
//! Why: the sink's ASYNC_START goes up to the pipeline, but its ASYNC_DONE, arriving once the
//! bin has nothing pending, is not passed on (gstbin.c `bin_handle_async_done`, "nothing
//! pending"), so the pipeline keeps the bin's ASYNC_START and waits for it once the sink outside
//! (fed by the live source, unprerolled) makes its change to PLAYING ASYNC. Fixed in GStreamer
//! 1.23.1 (commit dfa8661334, "bin: Fix bin won't post async done message to parent while nothing
//! pending in state changing", MR 3490).
//!
//! The stress test met it with `graphbin` in place of the bin and a `pushsrcbin` for each source
//! (seed 13011042603068578167, op #20); `graphbin` now posts the ASYNC_DONE as 1.23.1 does
//! (src/graphbin/workarounds.rs, `pass_on_late_async_done`; tests/stress_regressions.rs).
//!
//! `cargo run --example bin_late_async_done [nodelay]`: with `nodelay`, no `identity` delay:
//! the sink prerolls as soon as it can, still after the bin's change in most runs (4 of 5
//! here), by a race. Prints the state reached within 10 s; exit status 1 if not PLAYING.

use gst::prelude::*;

fn main() {
    gst::init().expect("GStreamer initializes");
    let no_delay = std::env::args().nth(1).is_some_and(|a| a == "nodelay");
    let delay = if no_delay { 0 } else { 200_000 };
    let description = format!(
        "bin.( name=g0 audiotestsrc is-live=false num-buffers=85 samplesperbuffer=441 ! \
         identity sleep-time={delay} ! fakesink name=k0 sync=true \
         audiotestsrc is-live=true samplesperbuffer=441 ! queue name=q1 ) \
         q1. ! queue ! fakesink name=k1 sync=false"
    );
    println!("{description}");
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let paused = pipeline.set_state(gst::State::Paused);
    println!("set_state(PAUSED): {paused:?}");
    // Let the sink inside preroll (late, when delayed).
    std::thread::sleep(std::time::Duration::from_millis(500));
    pipeline.set_state(gst::State::Playing).unwrap();
    let (result, current, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
    println!("after 10 s: {result:?}, {current:?} (pending {pending:?})");
    pipeline.set_state(gst::State::Null).unwrap();
    if current != gst::State::Playing {
        std::process::exit(1);
    }
}
