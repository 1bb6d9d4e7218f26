//! A bin emptied of its elements while PAUSED keeps a live pipeline from PLAYING for ever,
//! with GStreamer 1.22's elements only (none of this plugin's): `bin.( videotestsrc
//! is-live=true ! … ! queue ! fakesink )` next to `audiotestsrc is-live=true ! fakesink`, PAUSED,
//! every element of the bin removed as tests/stress/run.rs removes a source (locked, NULL from
//! downstream up, removed), then PLAYING: the pipeline stays PAUSED with PLAYING pending, no
//! ERROR. With one more branch left in the bin it reaches PLAYING.
//!
//! The stress test met it with `graphbin` in place of the bin (seed 3443310680046781204); its
//! generator no longer removes the last source inside the graph (tests/stress/plan.rs).
//!
//! `cargo run --example emptied_bin [keep]`: with `keep`, a second branch stays in the bin.
//! Prints the state reached within 10 s; exit status 1 if not PLAYING.

use gst::prelude::*;

fn main() {
    gst::init().expect("GStreamer initializes");
    let keep = std::env::args().nth(1).is_some_and(|a| a == "keep");
    let extra = if keep {
        "videotestsrc is-live=true ! fakesink sync=true"
    } else {
        ""
    };
    let description = format!(
        "bin.( name=g0 videotestsrc name=s0 is-live=true ! capsfilter name=c0 \
         caps=video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! queue name=q0 ! \
         fakesink name=k0 sync=true {extra} ) audiotestsrc is-live=true ! fakesink sync=true"
    );
    println!("{description}");
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let bin = pipeline
        .by_name("g0")
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    let branch: Vec<gst::Element> = ["s0", "c0", "q0", "k0"]
        .iter()
        .map(|name| bin.by_name(name).unwrap())
        .collect();
    for element in &branch {
        element.set_locked_state(true);
    }
    for element in branch.iter().rev() {
        let _ = element.set_state(gst::State::Null);
    }
    for element in &branch {
        bin.remove(element).unwrap();
    }
    pipeline.set_state(gst::State::Playing).unwrap();
    let (result, current, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
    println!("after 10 s: {result:?}, {current:?} (pending {pending:?})");
    pipeline.set_state(gst::State::Null).unwrap();
    if current != gst::State::Playing {
        std::process::exit(1);
    }
}
