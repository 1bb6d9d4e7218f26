//! A reproduction of a GStreamer 1.22 deadlock with GStreamer's own elements only (none of
//! this plugin's): a flushing seek sent to a bin inside a playing pipeline (not to the
//! pipeline) that holds a live source. The seek holds the bin's state lock while
//! `videotestsrc is-live=true` flushes from the seeking thread (`GstBaseSrc` does that for a
//! live source); once the other branch has prerolled again, the pipeline continues to PLAYING
//! in a thread of its own, holding the pipeline's state lock and waiting for the bin's, while a
//! sink's message on the live branch's FLUSH_STOP makes the pipeline recalculate its latency
//! from the seeking thread, waiting for the pipeline's state lock.
//!
//! It replays stress seed 6172500240292503709 (tests/stress.rs) with `graphbin` replaced by a
//! plain `bin`, `pushsrcbin`, `pushaudiotestsrc` by `audiotestsrc` (the one still playing
//! long enough to be running after the seek), the live `pushvideotestsrc` by `videotestsrc
//! is-live=true`; the operations on our elements are skipped or short waits, and it stops after
//! the seek. The stress
//! generator sends such seeks to the pipeline instead (tests/stress/plan.rs, `bin_seek_hazard`).
//!
//! `cargo run --example bin_seek_hazard [runs]`: prints each replay; on a hang, every thread's
//! stack (with gdb) and exit status 1. About one replay in two hangs on a 2-core machine.

#![allow(dead_code)]

#[path = "../tests/stress/monitor.rs"]
mod monitor;
#[path = "../tests/stress/plan.rs"]
mod plan;
#[path = "../tests/stress/rng.rs"]
mod rng;
#[path = "../tests/stress/run.rs"]
mod run;

use std::sync::mpsc;
use std::time::Duration;

const SEED: u64 = 6172500240292503709;
const SEEK_TO_THE_BIN: usize = 17;

fn gstreamer_only(mut plan: plan::Plan) -> plan::Plan {
    plan.topology.description = plan
        .topology
        .description
        .replace(
            "graphbin.( name=g0 sync-using-stream-offset=true max-graph-latency=0",
            "bin.( name=g0",
        )
        .replace(
            "pushsrcbin name=s0 source-description=\"audiotestsrc is-live=false num-buffers=82 samplesperbuffer=4410\"",
            "audiotestsrc name=s0 is-live=false num-buffers=82 samplesperbuffer=4410",
        )
        .replace("pushaudiotestsrc", "audiotestsrc")
        .replace(
            "name=s2 is-live=false num-buffers=25",
            "name=s2 is-live=false num-buffers=2500",
        )
        .replace("pushvideotestsrc", "videotestsrc");
    assert!(!plan.topology.description.contains("push"));
    assert!(!plan.topology.description.contains("graphbin"));
    for op in plan.ops.iter_mut() {
        let graph_op = match op {
            plan::Op::SetRate { .. } => true,
            plan::Op::SetProperty { element, .. } => element == "g0",
            _ => false,
        };
        if graph_op {
            *op = plan::Op::Wait { ms: 1 };
        }
    }
    // What follows the seek adds a `pushsrcbin`: left out.
    plan.ops.truncate(SEEK_TO_THE_BIN + 1);
    if let plan::Op::Seek { target, .. } = &mut plan.ops[SEEK_TO_THE_BIN] {
        *target = plan::SeekTarget::Element("g0".into());
    }
    plan
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let runs: usize = std::env::args()
        .nth(1)
        .map(|runs| runs.parse().expect("runs: a number"))
        .unwrap_or(10);
    let avoid = [
        plan::KnownDefect::NegativeOffsetIntoCompositor,
        plan::KnownDefect::LiveSourcesIntoMixer,
        plan::KnownDefect::SourceAddedToAudioMixer,
        plan::KnownDefect::NonFlushingSeekThroughMixer,
    ];
    let plan = gstreamer_only(plan::plan(SEED, &avoid));
    println!("{plan}");
    for replay in 0..runs {
        monitor::begin(plan.seed, plan.to_string());
        let (sender, receiver) = mpsc::channel();
        let worker_plan = plan.clone();
        std::thread::spawn(move || {
            let _ = sender.send(run::run(&worker_plan, None).problem);
        });
        match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(problem) => println!("replay {replay}: finished, problem: {problem:?}"),
            Err(_) => {
                println!(
                    "replay {replay}: HANG at operation {:?}",
                    monitor::current_operation()
                );
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
        let _ = monitor::end();
    }
}
