//! `adder` deadlocks in a flushing seek made while PAUSED when some of its inputs have reached
//! EOS, with GStreamer 1.22's elements only (none of this plugin's):
//! `audiotestsrc num-buffers=1000 ! queue ! adder ! queue ! fakesink sync=true` with a second
//! and a third input `audiotestsrc num-buffers=1 ! queue` that have ended, PAUSED, then a
//! flushing seek.
//!
//! adder forwards the seek to its inputs one after another. The first input's FLUSH_STOP goes
//! downstream and its new buffers flow; `collectpads` counts the inputs still at EOS as having
//! data, so adder mixes the first input alone and pushes until the prerolled sink blocks it,
//! holding the collectpads stream lock. The second input's FLUSH_STOP then waits for that lock
//! (gstadder.c, `gst_adder_sink_event`): the seek never returns.
//!
//! The stress test met it with this plugin's sources, which end at once after a seek past
//! their end (seed 8315800648311877451: a seek to 1000 s, then one to 0.743 s while PAUSED);
//! its generator makes no flushing seek through an `adder` outside PLAYING once an input
//! may have ended (tests/stress/plan.rs, `adder-seek-after-eos`). `audiomixer` (aggregator)
//! has no such lock.
//!
//! In PLAYING it deadlocks the same way (`playing` as the second argument): the seek holds
//! the pipeline's state lock, so the sink that lost its preroll to the first FLUSH_STOP stays
//! blocked in it, never set back to PLAYING (stress seeds 7244035486478597456 and
//! 16929425289723456444: flushing seeks at rate 1.0 in PLAYING through an `adder`).
//!
//! `cargo run --example adder_seek_after_eos [runs] [playing]`: prints how many of the runs
//! (default 20) hung; exit status 1 if any did.

use std::sync::mpsc;
use std::time::Duration;

use gst::prelude::*;

/// Whether the seek returned within 5 s (a hung pipeline is left behind).
fn seek_returns(state: gst::State) -> bool {
    let description = "audiotestsrc name=s0 num-buffers=1000 samplesperbuffer=4410 ! queue ! \
                       adder name=m ! queue ! fakesink sync=true \
                       audiotestsrc name=s1 num-buffers=1 samplesperbuffer=4410 ! queue ! m. \
                       audiotestsrc name=s2 num-buffers=1 samplesperbuffer=4410 ! queue ! m.";
    let pipeline = gst::parse::launch(description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(state).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(5));
    // The short input ends meanwhile (its one buffer is queued in adder or passed on).
    std::thread::sleep(Duration::from_millis(200));
    let (done, finished) = mpsc::channel();
    let seeking = pipeline.clone();
    std::thread::spawn(move || {
        let _ = seeking.seek_simple(gst::SeekFlags::FLUSH, gst::ClockTime::ZERO);
        let _ = done.send(());
    });
    let returned = finished.recv_timeout(Duration::from_secs(5)).is_ok();
    if returned {
        pipeline.set_state(gst::State::Null).unwrap();
    }
    returned
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(20);
    let state = match std::env::args().nth(2).as_deref() {
        Some("playing") => gst::State::Playing,
        _ => gst::State::Paused,
    };
    let hung = (0..runs).filter(|_| !seek_returns(state)).count();
    println!("adder, flushing seek in {state:?} after an input ended: {hung} of {runs} hung");
    if hung > 0 {
        std::process::exit(1);
    }
}
