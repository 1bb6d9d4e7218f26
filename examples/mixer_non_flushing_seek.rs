//! Does a non-flushing seek through `compositor` return, with GStreamer's elements only (none
//! of this plugin's)? KNOWN_DEFECTS `non-flushing-seek-through-mixer` (tests/stress/plan.rs):
//! the stress test saw such a seek, sent to a playing pipeline whose non-live push sources
//! feed a `compositor` (one input removed before), never return.
//!
//! Here `videotestsrc` feeds the mixer through queues, the pipeline plays, optionally one input
//! is removed as tests/stress/run.rs removes it (the mixer's pad released, the branch set to
//! NULL from downstream up), and a non-flushing seek at `rate` goes to the pipeline.
//!
//! `cargo run --example mixer_non_flushing_seek [runs] [rate] [remove] [push]`: prints each
//! run; on a hang, every thread's stack (with gdb) and exit status 1. With `push`, this
//! plugin's `pushvideotestsrc is-live=false` replaces `videotestsrc`, for comparison.

use std::sync::mpsc;
use std::time::Duration;

use gst::prelude::*;

const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

fn branch(source: &str, index: usize) -> String {
    format!("{source} name=s{index} num-buffers=300 ! {VIDEO} ! queue name=q{index} ! m. ")
}

fn remove_input(pipeline: &gst::Pipeline, index: usize) {
    let elements: Vec<gst::Element> = [format!("s{index}"), format!("q{index}")]
        .iter()
        .map(|name| pipeline.by_name(name).expect("the branch"))
        .collect();
    let queue = elements.last().unwrap();
    let peer = queue.static_pad("src").unwrap().peer().expect("linked");
    peer.parent_element().unwrap().release_request_pad(&peer);
    for element in &elements {
        element.set_locked_state(true);
    }
    // The capsfilter between them has no name: unlink-free removal of the whole branch is not
    // needed, NULL is.
    let capsfilter = elements[0]
        .static_pad("src")
        .unwrap()
        .peer()
        .unwrap()
        .parent_element()
        .unwrap();
    capsfilter.set_locked_state(true);
    for element in [queue, &capsfilter, &elements[0]] {
        let _ = element.set_state(gst::State::Null);
    }
    for element in [&elements[0], &capsfilter, queue] {
        let _ = pipeline.remove(element);
    }
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(10, |a| a.parse().expect("runs"));
    let rate: f64 = args.next().map_or(2.0, |a| a.parse().expect("rate"));
    let remove = args.next().is_some_and(|a| a == "remove");
    let source = if args.next().is_some_and(|a| a == "push") {
        gstpushsource::plugin_register_static().expect("register pushsource");
        "pushvideotestsrc is-live=false"
    } else {
        "videotestsrc"
    };
    let description = format!(
        "{}{}{}compositor name=m ! queue ! fakesink sync=true",
        branch(source, 0),
        branch(source, 1),
        branch(source, 2)
    );
    println!("{description}; non-flushing seek at {rate}, input removed first: {remove}");
    for run in 0..runs {
        let pipeline = gst::parse::launch(&description)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let (reached, _, _) = pipeline.state(gst::ClockTime::from_seconds(10));
        std::thread::sleep(Duration::from_millis(200));
        if remove {
            remove_input(&pipeline, 0);
            std::thread::sleep(Duration::from_millis(100));
        }
        let (sender, receiver) = mpsc::channel();
        let seeking = pipeline.clone();
        std::thread::spawn(move || {
            let seek = gst::event::Seek::new(
                rate,
                gst::SeekFlags::ACCURATE,
                gst::SeekType::Set,
                gst::ClockTime::ZERO,
                gst::SeekType::None,
                gst::ClockTime::NONE,
            );
            let _ = sender.send(seeking.send_event(seek));
        });
        match receiver.recv_timeout(Duration::from_secs(15)) {
            Ok(accepted) => {
                println!("run {run}: PLAYING {reached:?}; the seek returned {accepted}");
                pipeline.set_state(gst::State::Null).unwrap();
            }
            Err(_) => {
                println!("run {run}: PLAYING {reached:?}; HANG: the seek has not returned");
                let pid = std::process::id().to_string();
                if let Ok(output) = std::process::Command::new("gdb")
                    .args(["-p", &pid, "-batch", "-ex", "thread apply all bt"])
                    .output()
                {
                    println!("{}", String::from_utf8_lossy(&output.stdout));
                }
                std::process::exit(1);
            }
        }
    }
}
