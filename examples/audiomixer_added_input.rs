//! Do seeks after an input was added to a running `audiomixer` give `gst_audio_buffer_clip`
//! CRITICALs, with GStreamer's elements only (none of this plugin's)? KNOWN_DEFECTS
//! `source-added-to-audio-mixer` (tests/stress/plan.rs): the stress test saw such CRITICALs
//! after a push source was added to an `audiomixer` while running, then seeks and rate
//! changes.
//!
//! Here `audiotestsrc` feeds the mixer through queues, the pipeline plays, a third input is
//! added as tests/stress/run.rs adds one (source, capsfilter and queue added, linked to a new
//! request pad, brought to the pipeline's state), then flushing seeks at several rates go to
//! the pipeline. GLib's default log handler prints any CRITICAL on stderr.
//!
//! `cargo run --example audiomixer_added_input [runs] [push]`: with `push`, this plugin's
//! `pushaudiotestsrc is-live=false` replaces `audiotestsrc`, for comparison.

use std::time::Duration;

use gst::prelude::*;

const AUDIO: &str = "audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved";

fn add_input(pipeline: &gst::Pipeline, source: &str, index: usize) {
    let branch = gst::parse::bin_from_description(
        &format!("{source} num-buffers=200 samplesperbuffer=1024 ! {AUDIO} ! queue"),
        true,
    )
    .expect("the branch parses");
    branch.set_property("name", format!("added{index}"));
    pipeline.add(&branch).unwrap();
    let mixer = pipeline.by_name("m").unwrap();
    let pad = mixer.request_pad_simple("sink_%u").unwrap();
    branch.static_pad("src").unwrap().link(&pad).unwrap();
    branch.sync_state_with_parent().unwrap();
}

fn seek(pipeline: &gst::Pipeline, rate: f64, start: u64) -> bool {
    pipeline.send_event(gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
        gst::SeekType::Set,
        gst::ClockTime::from_mseconds(start),
        gst::SeekType::None,
        gst::ClockTime::NONE,
    ))
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let source = if args.next().is_some_and(|a| a == "push") {
        gstpushsource::plugin_register_static().expect("register pushsource");
        "pushaudiotestsrc is-live=false"
    } else {
        "audiotestsrc"
    };
    let description = format!(
        "{source} num-buffers=200 samplesperbuffer=1024 ! {AUDIO} ! queue ! m. \
         {source} num-buffers=300 samplesperbuffer=441 ! {AUDIO} ! queue ! m. \
         audiomixer name=m ! queue ! fakesink sync=true"
    );
    println!("{description}; an input added while playing, then seeks");
    for run in 0..runs {
        let pipeline = gst::parse::launch(&description)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let _ = pipeline.state(gst::ClockTime::from_seconds(10));
        std::thread::sleep(Duration::from_millis(100));
        add_input(&pipeline, source, 0);
        let _ = pipeline.state(gst::ClockTime::from_seconds(10));
        std::thread::sleep(Duration::from_millis(100));
        let mut answers = Vec::new();
        for (rate, start) in [(2.0, 0), (0.5, 1000), (1.0, 5000), (2.0, 500), (1.0, 0)] {
            answers.push(seek(&pipeline, rate, start));
            let _ = pipeline.state(gst::ClockTime::from_seconds(10));
            std::thread::sleep(Duration::from_millis(60));
        }
        println!("run {run}: seeks answered {answers:?}");
        pipeline.set_state(gst::State::Null).unwrap();
    }
}
