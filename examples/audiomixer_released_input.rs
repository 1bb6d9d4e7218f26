//! Releasing an input of a prerolled `audiomixer` can make its streaming thread use the pad
//! after it is gone, with GStreamer 1.22's elements only (none of this plugin's): `GLib-GObject:
//! invalid unclassed pointer in cast to 'GstAudioMixerPad'`, from the mixer's `src` thread in
//! its per-pad mixing (`aggregate_one_buffer`), while the released input's elements go to NULL
//! and are removed; once `gst_aggregator_pad_is_inactive: 'self' should not be NULL`, which
//! aborts the process. KNOWN_DEFECTS `audio-mixer-input-released` (tests/stress/plan.rs).
//!
//! The stress sequence's pipeline with GStreamer's elements (a plain `bin` for the graph, two
//! `audiomixer`s fed by `audiotestsrc`, one into `alsasink device=null`, or a `fakesink` with
//! `fake`); the pipeline goes to PAUSED, a second PAUSED from another thread (as the stress
//! sequence did), then the shortest input of the first mixer is removed as tests/stress/run.rs
//! removes one: its mixer pad released first, its elements locked, set to NULL from downstream
//! up, removed. The
//! stress test met it with seed 15035247822718231220 (4 of 150 runs of its first three
//! operations; `cargo run --example stock_replay 15035247822718231220 200 0,1,2`: 9 of 400
//! with `audiotestsrc` and a plain `bin`).
//!
//! `cargo run --example audiomixer_released_input [runs] [fake]` (200 runs by default): prints
//! how many runs saw the warning; exit status 1 if any did. It is rare: of two processes of 300
//! runs side by side on a loaded machine, one aborted as above, the other saw nothing; the
//! stress harness's replay meets it more often.

use std::sync::atomic::{AtomicUsize, Ordering};

use gst::glib;
use gst::prelude::*;

const AUDIO: &str = "audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved";

static WARNINGS: AtomicUsize = AtomicUsize::new(0);

fn one_run(sink: &str) {
    let description = format!(
        "bin.( name=g0 videotestsrc num-buffers=118 ! video/x-raw,width=64,height=48 ! \
         queue name=q0 \
         audiotestsrc num-buffers=260 samplesperbuffer=441 ! {AUDIO} ! queue ! m1. \
         audiotestsrc num-buffers=86 samplesperbuffer=441 ! {AUDIO} ! queue ! m1. \
         audiotestsrc name=s3 num-buffers=25 samplesperbuffer=1024 ! capsfilter name=c3 \
         caps={AUDIO} ! queue name=q3 ! m1. \
         audiomixer name=m1 ! queue ! audioconvert ! audioresample ! {sink} \
         audiotestsrc num-buffers=64 samplesperbuffer=4410 ! {AUDIO} ! queue ! m2. \
         audiotestsrc num-buffers=109 samplesperbuffer=441 ! {AUDIO} ! queue ! m2. \
         audiomixer name=m2 ) \
         q0. ! queue ! fakesink sync=true m2. ! queue ! fakesink sync=false"
    );
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let second = {
        let pipeline = pipeline.clone();
        std::thread::spawn(move || pipeline.set_state(gst::State::Paused))
    };
    let branch: Vec<gst::Element> = ["s3", "c3", "q3"]
        .iter()
        .map(|name| pipeline.by_name(name).unwrap())
        .collect();
    let mixer_pad = branch[2].static_pad("src").unwrap().peer().unwrap();
    pipeline
        .by_name("m1")
        .unwrap()
        .release_request_pad(&mixer_pad);
    for element in &branch {
        element.set_locked_state(true);
    }
    for element in branch.iter().rev() {
        let _ = element.set_state(gst::State::Null);
    }
    let bin = pipeline
        .by_name("g0")
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    for element in &branch {
        bin.remove(element).unwrap();
    }
    let _ = second.join();
    pipeline.set_state(gst::State::Null).unwrap();
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    glib::log_set_default_handler(|domain, level, message| {
        if message.contains("GstAudioMixerPad") {
            WARNINGS.fetch_add(1, Ordering::SeqCst);
        }
        glib::log_default_handler(domain, level, Some(message));
    });
    let mut runs_with_warning = 0;
    // `alsasink device=null` as in the stress sequence; `fake` for a fakesink in its place.
    let sink = if std::env::args().nth(2).is_some_and(|a| a == "fake") {
        "fakesink sync=true"
    } else {
        "alsasink device=null sync=true"
    };
    for _ in 0..runs {
        let before = WARNINGS.load(Ordering::SeqCst);
        one_run(sink);
        if WARNINGS.load(Ordering::SeqCst) > before {
            runs_with_warning += 1;
        }
    }
    println!("{runs_with_warning} of {runs} runs: invalid cast to 'GstAudioMixerPad'");
    if runs_with_warning > 0 {
        std::process::exit(1);
    }
}
