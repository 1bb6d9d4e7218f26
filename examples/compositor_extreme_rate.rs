//! GStreamer 1.22's `compositor` at an extreme playback rate, with GStreamer's elements only
//! (none of this plugin's): `videotestsrc ! queue ! compositor ! queue ! fakesink sync=true`
//! (two inputs), PLAYING, a flushing seek at `rate`, then EOS sent to the pipeline. The
//! stress test (tests/stress.rs, seed 8599324746068113789) saw such an EOS never return after
//! `set-rate 1e300` on a graph holding a `compositor`: the mixer's streaming thread spins in
//! its aggregate function without taking input, the sources stay blocked in full queues, and
//! EOS waits for their streaming lock.
//!
//! `cargo run --example compositor_extreme_rate [rate] [runs]` (default 1e300, 5 runs):
//! prints per run whether the mixer still consumes its input and whether EOS returned; exit
//! status 1 when one did not (the process is then left to end without a clean shutdown).

use gst::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

/// How long EOS may take before it counts as hung: generous, nothing here is slow.
const HANG_BOUND: Duration = Duration::from_secs(10);

fn main() {
    gst::init().expect("GStreamer initializes");
    let mut args = std::env::args().skip(1);
    let rate: f64 = args
        .next()
        .map_or(1e300, |a| a.parse().expect("rate: a number"));
    let runs: u32 = args
        .next()
        .map_or(5, |a| a.parse().expect("runs: a number"));
    let description = "compositor name=m ! queue ! fakesink sync=true \
         videotestsrc num-buffers=300 ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 \
         ! queue ! m. \
         videotestsrc num-buffers=300 ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 \
         ! queue ! m.";
    println!("{description}; flushing seek at rate {rate:e}, then EOS");
    let mut hung = 0;
    for run in 1..=runs {
        let pipeline = gst::parse::launch(description).unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let _ = pipeline.state(gst::ClockTime::from_seconds(5));
        let accepted = pipeline.send_event(gst::event::Seek::new(
            rate,
            gst::SeekFlags::FLUSH,
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::None,
            gst::ClockTime::NONE,
        ));
        let _ = pipeline.state(gst::ClockTime::from_seconds(5));
        std::thread::sleep(Duration::from_millis(100));
        let (done, finished) = mpsc::channel();
        let sender = pipeline.clone();
        std::thread::spawn(move || {
            let returned = sender.send_event(gst::event::Eos::new());
            let _ = done.send(returned);
        });
        match finished.recv_timeout(HANG_BOUND) {
            Ok(returned) => {
                println!("run {run}: seek accepted: {accepted}; EOS returned {returned}");
                pipeline.set_state(gst::State::Null).unwrap();
            }
            Err(_) => {
                println!("run {run}: seek accepted: {accepted}; EOS HUNG");
                hung += 1;
                // Left as it is: shutting a hung pipeline down would hang too.
                std::mem::forget(pipeline);
                break;
            }
        }
    }
    println!("{hung} of the runs hung");
    std::process::exit(if hung > 0 { 1 } else { 0 });
}
