//! GStreamer 1.22's `scaletempo` at an extreme playback rate, with GStreamer's elements only
//! (none of this plugin's): `audiotestsrc ! scaletempo ! fakesink`, a flushing seek at `rate`,
//! played to the end. The stress test (tests/stress.rs) saw processes die of heap corruption
//! and of a SIGSEGV in `scaletempo`'s memcpy (libgstaudiofx) in graphs with `preserve-pitch`
//! (graphbin puts `scaletempo` in front of its audio renderers) after seeks at 1e9 and 1e300.
//!
//! `cargo run --example scaletempo_extreme_rate [rate]` (default 1e9): prints how the run
//! ended; a crash ends the process.

use gst::prelude::*;

fn main() {
    gst::init().expect("GStreamer initializes");
    let rate: f64 = std::env::args()
        .nth(1)
        .map_or(1e9, |a| a.parse().expect("rate: a number"));
    let description = "audiotestsrc num-buffers=200 samplesperbuffer=1024 ! \
         audio/x-raw,format=S16LE,rate=44100,channels=1 ! scaletempo ! audioconvert ! \
         fakesink sync=false";
    println!("{description}; seek at rate {rate:e}");
    let pipeline = gst::parse::launch(description).unwrap();
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(5));
    let accepted = pipeline.send_event(gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::from_seconds(1),
        gst::SeekType::None,
        gst::ClockTime::NONE,
    ));
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let end = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(10),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    println!(
        "seek accepted: {accepted}; ended with {:?}",
        end.map(|m| m.type_())
    );
    pipeline.set_state(gst::State::Null).unwrap();
}
