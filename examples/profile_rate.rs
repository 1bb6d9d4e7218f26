//! Instruction counts of a rate change (BENCHMARKS.md, "Where graphbin's extra time goes"):
//! `pushaudiotestsrc is-live=false ! fakesink sync=true` inside `graphbin` (its `set-rate`) or a
//! plain `bin` (a position query and a flushing seek on the pipeline, what a user does), as in
//! `benches/rate.rs`. Each change alternates 1.0 and 2.0 once 3 buffers were rendered, and is
//! waited for until a buffer at the new rate is rendered and the pipeline is PLAYING again.
//! Meant to run under callgrind over the whole process, twice with different counts: the
//! difference divided by the difference of the counts is the cost of one change.
//!
//! ```sh
//! valgrind --tool=callgrind target/release/examples/profile_rate graphbin 4
//! valgrind --tool=callgrind target/release/examples/profile_rate graphbin 12
//! ```
//!
//! Arguments: `graphbin` or `bin` (default graphbin), CHANGES (default 10).

use std::sync::mpsc;

use gst::prelude::*;

fn main() {
    gst::init().unwrap();
    gstpushsource::plugin_register_static().unwrap();
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).map_or("graphbin", String::as_str).to_string();
    let changes: usize = args.get(2).map_or(10, |n| n.parse().unwrap());
    let element = gst::parse::launch(&format!(
        "{bin}.( name=under_test pushaudiotestsrc is-live=false ! fakesink name=sink sync=true \
         signal-handoffs=true )"
    ))
    .unwrap()
    .downcast::<gst::Bin>()
    .unwrap();
    let sink = element.by_name("sink").unwrap();
    let (sender, rendered) = mpsc::channel::<f64>();
    sink.connect("handoff", false, move |args| {
        let pad = args[2].get::<gst::Pad>().unwrap();
        if let Some(segment) = pad.sticky_event::<gst::event::Segment>(0) {
            let _ = sender.send(segment.segment().rate());
        }
        None
    });
    let pipeline = gst::Pipeline::new();
    pipeline.add(&element).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(60));
    let mut rate = 1.0;
    for _ in 0..changes {
        for _ in 0..3 {
            rendered.recv().unwrap();
        }
        rate = if rate == 1.0 { 2.0 } else { 1.0 };
        if bin == "graphbin" {
            assert!(element.emit_by_name::<bool>("set-rate", &[&rate]));
        } else {
            let position = pipeline.query_position::<gst::ClockTime>().unwrap();
            pipeline
                .seek(
                    rate,
                    gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                    gst::SeekType::Set,
                    position,
                    gst::SeekType::None,
                    gst::ClockTime::NONE,
                )
                .unwrap();
        }
        while rendered.recv().unwrap() != rate {}
        let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
        assert!(result.is_ok() && state == gst::State::Playing);
    }
    pipeline.set_state(gst::State::Null).unwrap();
}
