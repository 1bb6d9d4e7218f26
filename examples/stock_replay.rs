//! Replays a stress sequence (tests/stress.rs) with GStreamer's elements in place of this
//! plugin's, to tell whose a failure is: `graphbin` becomes a plain `bin` (its own properties
//! dropped), `pushsrcbin` the source it wraps, `pushaudiotestsrc` `audiotestsrc` and
//! `pushvideotestsrc` `videotestsrc`. Operations only this plugin's elements have (`set-rate`,
//! their properties) become 1 ms waits; sources added while running are left out (they are
//! built as this plugin's).
//!
//! `cargo run --example stock_replay SEED [runs] [ops]` (ops: comma-separated indices, as
//! `PUSHSOURCE_STRESS_OPS`): prints the stock plan, then each replay's first broken promise;
//! on a hang, every thread's stack (with gdb) and exit status 1.

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

const GRAPH_ONLY: [&str; 4] = [
    "sync-using-stream-offset=",
    "max-graph-latency=",
    "preserve-pitch=",
    "rate=",
];

/// `pushsrcbin name=N source-description="INNER"` → `INNER name=N`.
fn unwrap_source_bins(description: &str) -> String {
    let mut out = String::new();
    let mut rest = description;
    while let Some(at) = rest.find("pushsrcbin name=") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "pushsrcbin name=".len()..];
        let name_end = after.find(' ').expect("a name");
        let name = &after[..name_end];
        let inner_start = after.find("source-description=\"").expect("a description")
            + "source-description=\"".len();
        let inner_len = after[inner_start..].find('"').expect("closing quote");
        let inner = &after[inner_start..inner_start + inner_len];
        out.push_str(&format!("{inner} name={name}"));
        rest = &after[inner_start + inner_len + 1..];
    }
    out.push_str(rest);
    out
}

fn stock(mut plan: plan::Plan) -> plan::Plan {
    let description = unwrap_source_bins(&plan.topology.description);
    let tokens: Vec<String> = description
        .split(' ')
        .filter(|token| {
            // The graph's own properties come right after its name; the audio caps' `rate=`
            // is inside a quoted caps string, never a token of its own.
            !GRAPH_ONLY.iter().any(|p| token.starts_with(p))
        })
        .map(|token| match token {
            "graphbin.(" => "bin.(".to_string(),
            "pushaudiotestsrc" => "audiotestsrc".to_string(),
            "pushvideotestsrc" => "videotestsrc".to_string(),
            other => other.to_string(),
        })
        .collect();
    plan.topology.description = tokens.join(" ");
    assert!(!plan.topology.description.contains("push"));
    assert!(!plan.topology.description.contains("graphbin"));
    for op in plan.ops.iter_mut() {
        let ours = match op {
            plan::Op::SetRate { .. } | plan::Op::AddSource { .. } => true,
            plan::Op::SetProperty {
                element, property, ..
            } => element == "g0" || *property != "is-live",
            _ => false,
        };
        if ours {
            *op = plan::Op::Wait { ms: 1 };
        }
    }
    plan
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let mut args = std::env::args().skip(1);
    let seed: u64 = args
        .next()
        .expect("usage: stock_replay SEED [runs] [ops]")
        .parse()
        .expect("SEED: a number");
    let runs: usize = args.next().map_or(5, |a| a.parse().expect("runs"));
    let only: Option<Vec<usize>> = args.next().map(|list| {
        list.split(',')
            .map(|i| i.trim().parse().expect("ops: indices"))
            .collect()
    });
    // GLib warnings and criticals are recorded as the stress test records them, not fatal.
    monitor::install(true);
    let plan = stock(plan::plan(seed, &plan::avoided_defects()));
    println!("{plan}");
    for replay in 0..runs {
        monitor::begin(plan.seed, plan.to_string());
        let (sender, receiver) = mpsc::channel();
        let worker_plan = plan.clone();
        let worker_only = only.clone();
        std::thread::spawn(move || {
            let _ = sender.send(run::run(&worker_plan, worker_only.as_deref()).problem);
        });
        match receiver.recv_timeout(Duration::from_secs(90)) {
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
