//! A seeded randomized stress test: random pipelines of the four elements with mixers, queues
//! and sinks, driven through random sequences of state changes (also from a second thread),
//! seeks of every kind and rate, `set-rate`, property writes with extreme values in every state,
//! sources added and removed while running, and EOS; each sequence under a watchdog, checking
//! what the README promises (see `stress/run.rs`).
//!
//! `cargo test --test stress` runs a bounded number of sequences from a fixed base seed. Set
//! `PUSHSOURCE_STRESS_SEQUENCES=10000` for a long run, `PUSHSOURCE_STRESS_BASE_SEED=n` for
//! other sequences (`PUSHSOURCE_STRESS_FIRST_SEQUENCE=k` starts at the k-th sequence of the base
//! seed, to run a long run in parts), `PUSHSOURCE_STRESS_SEED=n` to replay the one a failure names (with
//! `PUSHSOURCE_STRESS_OPS=0,4,7` to keep only some of its operations, for a minimal
//! reproduction), `PUSHSOURCE_STRESS_KEEP_GOING=1` to collect every failure of a run instead of
//! stopping at the first, and `PUSHSOURCE_STRESS_KNOWN_DEFECTS` to choose the defects avoided
//! (`stress/plan.rs`, `KNOWN_DEFECTS`).

mod common;
#[path = "stress/monitor.rs"]
mod monitor;
#[path = "stress/plan.rs"]
mod plan;
#[path = "stress/rng.rs"]
mod rng;
#[path = "stress/run.rs"]
mod run;

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use gst::prelude::*;

use plan::{KnownDefect, Op, Plan};

/// Sequences run by `cargo test`: the whole test stays well under two minutes on two cores.
const DEFAULT_SEQUENCES: u64 = 40;
const DEFAULT_BASE_SEED: u64 = 0x5EED_0010;
/// An operation that has not finished by then is a hang (an operation finishes, or fails,
/// within seconds; its state check waits `run::STATE_BOUND`, a few times when a change from
/// another thread interrupts the wait). The bound is per operation, not per sequence: a
/// sequence of several slow but finishing operations is no hang.
/// `PUSHSOURCE_STRESS_HANG_SECONDS` shortens it when minimizing a hang.
fn operation_bound() -> Duration {
    Duration::from_secs(env_u64("PUSHSOURCE_STRESS_HANG_SECONDS").unwrap_or(60))
}

/// With `PUSHSOURCE_STRESS_GDB=1`, a hang prints every thread's stack (gdb attached to this
/// process), to see who waits for whom.
fn print_stacks() {
    if !env_flag("PUSHSOURCE_STRESS_GDB") {
        return;
    }
    let pid = std::process::id().to_string();
    let output = std::process::Command::new("gdb")
        .args(["-p", &pid, "-batch", "-ex", "thread apply all bt"])
        .output();
    if let Ok(output) = output {
        let _ = std::io::stderr().write_all(&output.stdout);
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|value| {
        let value = value.trim();
        let parsed = match value.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => value.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("{name}={value}: not a number"))
    })
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.is_empty() && value != "0")
}

struct Failure {
    seed: u64,
    text: String,
}

fn report(plan: &Plan, at: Option<usize>, what: &str, only: Option<&[usize]>) -> String {
    let at = match at {
        Some(index) => format!("at op #{index:02} ({})", plan.ops[index]),
        None => "outside the operations (setup or the final set_state(NULL))".to_string(),
    };
    let mut text = format!("seed {}: {what}\n  {at}\n{plan}", plan.seed);
    if let Some(only) = only {
        text.push_str(&format!("  (only operations {only:?} were run)\n"));
    }
    text.push_str(&monitor::replay_hint(plan.seed));
    text
}

/// Runs one sequence under the watchdog: `Err` with the report when it fails. A hang leaves
/// its worker thread behind (its pipeline is stuck): the caller decides whether to go on.
fn run_sequence(plan: &Plan, only: Option<&[usize]>) -> Result<run::Figures, (String, bool)> {
    monitor::begin(plan.seed, plan.to_string());
    let (sender, receiver) = mpsc::channel();
    let worker_plan = plan.clone();
    let worker_only = only.map(<[usize]>::to_vec);
    std::thread::Builder::new()
        .name(format!("stress::seed-{}", plan.seed))
        .spawn(move || {
            let outcome = run::run(&worker_plan, worker_only.as_deref());
            let _ = sender.send(outcome);
        })
        .expect("spawn the sequence's worker");
    let bound = operation_bound();
    let outcome = loop {
        match receiver.recv_timeout(Duration::from_millis(250)) {
            Err(mpsc::RecvTimeoutError::Timeout) if monitor::time_at_operation() < bound => {}
            other => break other,
        }
    };
    let result = match outcome {
        Ok(outcome) => match outcome.problem {
            None => Ok(outcome.figures),
            Some((at, problem)) => Err((report(plan, at, &problem, only), false)),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let at = monitor::current_operation();
            let what = format!("HANG: the operation has not finished after {bound:?}");
            print_stacks();
            Err((report(plan, at, &what, only), true))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err((
            report(
                plan,
                monitor::current_operation(),
                "the worker panicked",
                only,
            ),
            false,
        )),
    };
    let findings = monitor::end();
    match result {
        // A critical or warning after the last check (in the final set_state(NULL)).
        Ok(_) if !findings.is_empty() => Err((report(plan, None, &findings[0], only), false)),
        other => other,
    }
}

#[test]
fn random_sequences_keep_the_readme_promises() {
    common::init();
    let keep_going = env_flag("PUSHSOURCE_STRESS_KEEP_GOING");
    monitor::install(keep_going);
    let avoided = plan::avoided_defects();
    let only: Option<Vec<usize>> = std::env::var("PUSHSOURCE_STRESS_OPS").ok().map(|list| {
        list.split(',')
            .map(|i| i.trim().parse().expect("PUSHSOURCE_STRESS_OPS: indices"))
            .collect()
    });
    let seeds: Vec<u64> = match env_u64("PUSHSOURCE_STRESS_SEED") {
        Some(seed) => vec![seed],
        None => {
            let base = env_u64("PUSHSOURCE_STRESS_BASE_SEED").unwrap_or(DEFAULT_BASE_SEED);
            let count = env_u64("PUSHSOURCE_STRESS_SEQUENCES").unwrap_or(DEFAULT_SEQUENCES);
            let first = env_u64("PUSHSOURCE_STRESS_FIRST_SEQUENCE").unwrap_or(0);
            (first..first + count)
                .map(|index| rng::sequence_seed(base, index))
                .collect()
        }
    };
    let verbose = env_flag("PUSHSOURCE_STRESS_VERBOSE") || seeds.len() == 1;
    let started = Instant::now();
    let mut figures = run::Figures::default();
    let mut failures: Vec<Failure> = Vec::new();
    let mut hangs = 0;
    for (index, &seed) in seeds.iter().enumerate() {
        let plan = plan::plan(seed, &avoided);
        if verbose {
            let _ = writeln!(
                std::io::stderr(),
                "stress: sequence {index}, seed {seed}\n{plan}"
            );
        }
        if !verbose && index > 0 && index % 500 == 0 {
            let _ = writeln!(
                std::io::stderr(),
                "stress: {index} sequences, {} failed, {:.0} s",
                failures.len(),
                started.elapsed().as_secs_f64()
            );
        }
        match run_sequence(&plan, only.as_deref()) {
            Ok(seen) => {
                figures.operations += seen.operations;
                figures.errors_posted += seen.errors_posted;
                figures.refused_rates += seen.refused_rates;
                figures.accepted_rates += seen.accepted_rates;
                figures.skipped += seen.skipped;
            }
            Err((text, hang)) => {
                // Written directly: a hang ends the process below, past the harness's capture.
                let _ = writeln!(std::io::stderr(), "\nstress: FAILED {text}\n");
                if hang {
                    hangs += 1;
                }
                failures.push(Failure { seed, text });
                if !keep_going {
                    if hang {
                        // The stuck worker cannot be stopped: end the process, not just the test.
                        let _ = writeln!(std::io::stderr(), "stress: exiting on a hang");
                        std::process::exit(1);
                    }
                    break;
                }
            }
        }
    }
    let avoided_names: Vec<&str> = avoided.iter().map(|d| d.name()).collect();
    let summary = format!(
        "stress: {} sequences, {} operations in {:.1} s; {} failed ({hangs} hangs); {} ERRORs posted, \
         rate changes {} accepted / {} refused; {} operations skipped (non-flushing seeks and EOS outside PLAYING, seeks and rate changes through an adder); \
         known defects avoided: {}",
        seeds.len(),
        figures.operations,
        started.elapsed().as_secs_f64(),
        failures.len(),
        figures.errors_posted,
        figures.accepted_rates,
        figures.refused_rates,
        figures.skipped,
        if avoided_names.is_empty() {
            "none".to_string()
        } else {
            avoided_names.join(", ")
        }
    );
    let _ = writeln!(std::io::stderr(), "{summary}");
    if !failures.is_empty() {
        let seeds: Vec<u64> = failures.iter().map(|f| f.seed).collect();
        panic!(
            "{summary}\nfailed seeds: {seeds:?}\nfirst failure:\n{}",
            failures[0].text
        );
    }
}

#[test]
fn a_seed_always_gives_the_same_plan() {
    let avoided = plan::avoided_defects();
    for index in 0..50 {
        let seed = rng::sequence_seed(DEFAULT_BASE_SEED, index);
        let first = plan::plan(seed, &avoided).to_string();
        let second = plan::plan(seed, &avoided).to_string();
        assert_eq!(first, second, "seed {seed}");
        assert_eq!(
            plan::plan(seed, &avoided).ops.len(),
            plan::OPERATIONS_PER_SEQUENCE
        );
    }
    let a = plan::plan(rng::sequence_seed(DEFAULT_BASE_SEED, 0), &avoided).to_string();
    let b = plan::plan(rng::sequence_seed(DEFAULT_BASE_SEED, 1), &avoided).to_string();
    assert_ne!(a, b, "different seeds give different plans");
}

/// With every known defect avoided, no plan contains what triggers them; with none avoided,
/// the generator does make those operations (so the switch is what keeps them out).
#[test]
fn known_defects_are_avoided_only_when_listed() {
    let triggers = |plan: &Plan| {
        let mut huge_latency = false;
        let mut reverse_past_end = false;
        let mut eos_after_mixer_input = false;
        let mut mixer_input_added = false;
        // The generator's view: the shortest stream of the sources present at each operation.
        let mut sources: Vec<plan::Source> = plan.topology.sources.clone();
        for op in &plan.ops {
            let end = sources
                .iter()
                .map(plan::Source::duration_ns)
                .min()
                .unwrap_or(0);
            match op {
                Op::AddSource { source, .. } => {
                    mixer_input_added |= source.mixer.is_some();
                    sources.push(source.clone());
                }
                Op::SetState {
                    state: plan::State::Null | plan::State::Ready,
                    from_second_thread: false,
                } => mixer_input_added = false,
                Op::Eos => eos_after_mixer_input |= mixer_input_added,
                Op::RemoveSource { source } => sources.retain(|s| s.name != source.name),
                Op::SetProperty {
                    property: "latency" | "extra-latency",
                    value: plan::Value::U64(v),
                    ..
                } => {
                    huge_latency |= *v > 1 << 62;
                }
                Op::Seek {
                    rate,
                    stop: Some(stop),
                    ..
                } if *rate < 0.0 => reverse_past_end |= *stop >= end,
                _ => {}
            }
        }
        (huge_latency, reverse_past_end, eos_after_mixer_input)
    };
    let mut seen_without = (false, false, false);
    for index in 0..400 {
        let seed = rng::sequence_seed(DEFAULT_BASE_SEED, index);
        assert_eq!(
            triggers(&plan::plan(seed, &KnownDefect::ALL)),
            (false, false, false),
            "seed {seed}"
        );
        let (a, b, c) = triggers(&plan::plan(seed, &[]));
        seen_without = (seen_without.0 | a, seen_without.1 | b, seen_without.2 | c);
    }
    assert_eq!(seen_without, (true, true, true));
}

/// What the README states as GStreamer's own limits is never asked for, whatever defects are
/// avoided: no `ts-offset` past `G_MAXINT64 / 2` (a synchronising sink could then never be
/// stopped: GStreamer's system clock) and no reverse rate given at launch to a graph holding an
/// audio mixer (`audiomixer` has no reverse playback).
#[test]
fn plans_stay_within_what_gstreamer_can_do() {
    for avoid in [&KnownDefect::ALL[..], &[]] {
        let mut reverse_at_launch_seen = false;
        let mut extreme_rate_through_compositor_seen = false;
        for index in 0..400 {
            let seed = rng::sequence_seed(DEFAULT_BASE_SEED, index);
            let plan = plan::plan(seed, avoid);
            let compositor = plan
                .topology
                .mixers
                .iter()
                .any(|mixer| mixer.element == "compositor");
            for op in &plan.ops {
                let rate = match op {
                    Op::Seek { rate, .. } | Op::SetRate { rate, .. } => Some(*rate),
                    Op::SetProperty {
                        property: "rate",
                        value: plan::Value::F64(rate),
                        ..
                    } => Some(*rate),
                    _ => None,
                };
                let extreme_through_compositor = compositor && rate.is_some_and(|r| r > 1e9);
                if avoid.contains(&KnownDefect::CompositorExtremeRate) {
                    assert!(!extreme_through_compositor, "seed {seed}: {op:?}");
                }
                extreme_rate_through_compositor_seen |= extreme_through_compositor;
                if let Op::SetProperty {
                    property: "ts-offset",
                    value: plan::Value::I64(offset),
                    ..
                } = op
                {
                    assert!(*offset <= 1 << 62, "seed {seed}: ts-offset {offset}");
                }
            }
            let reverse_at_launch = plan.topology.description.contains(" rate=-");
            let audio_mixer = plan
                .topology
                .mixers
                .iter()
                .any(|mixer| mixer.media == plan::Media::Audio);
            assert!(!(reverse_at_launch && audio_mixer), "seed {seed}");
            reverse_at_launch_seen |= reverse_at_launch;
        }
        // The rate given at launch is still exercised where it is avoided for no defect.
        if !avoid.contains(&KnownDefect::RateBeforePreroll) {
            assert!(reverse_at_launch_seen);
        }
        // Extreme rates through a compositor are planned where that defect is not avoided.
        if !avoid.contains(&KnownDefect::CompositorExtremeRate) {
            assert!(extreme_rate_through_compositor_seen);
        }
    }
}

/// The stamp check (`stress/run.rs`) reports stamps that go back within a segment, and
/// excuses them going back only once the sink's running time itself went back (a flushing seek
/// another branch accepted reset the pipeline's: `examples/running_time_reset.rs`), also after
/// a buffer stamped before that, and only once.
#[derive(Debug, Clone, Copy)]
enum Reset {
    None,
    SeenInBaseTime,
    Posted,
}

#[test]
fn the_stamp_check_excuses_only_a_running_time_that_went_back() {
    common::init();
    let ms = gst::ClockTime::from_mseconds;
    let problems_seen = |reset: Reset| -> Vec<String> {
        let clock = gst_check::TestClock::new();
        let sink = gst::ElementFactory::make("fakesink")
            .property("sync", false)
            .property("async", false)
            .build()
            .expect("fakesink");
        sink.set_clock(Some(&clock)).expect("a clock");
        sink.set_base_time(gst::ClockTime::ZERO);
        let problems = Arc::new(Mutex::new(Vec::new()));
        let resets = Arc::new(AtomicU64::new(0));
        run::watch_stamps(&sink, problems.clone(), resets.clone());
        let src = gst::Pad::builder(gst::PadDirection::Src).build();
        src.set_active(true).expect("active");
        src.link(&sink.static_pad("sink").expect("a sink pad"))
            .expect("linked");
        sink.set_state(gst::State::Playing).expect("PLAYING");
        assert!(src.push_event(gst::event::StreamStart::new("stamps")));
        assert!(
            src.push_event(gst::event::Caps::new(&gst::Caps::new_empty_simple(
                "application/x-stamps"
            )))
        );
        let segment = gst::FormattedSegment::<gst::ClockTime>::new();
        assert!(src.push_event(gst::event::Segment::new(&segment)));
        let push = |pts: gst::ClockTime| {
            let mut buffer = gst::Buffer::new();
            buffer.get_mut().expect("writable").set_pts(pts);
            src.push(buffer).expect("pushed");
        };
        clock.set_time(ms(1000));
        push(ms(900));
        match reset {
            // Running time 1000 ms → 200 ms: the base time moved on by more than the clock.
            Reset::SeenInBaseTime => sink.set_base_time(ms(800)),
            // A RESET_TIME message posted (the base time moves at the next PLAYING).
            Reset::Posted => {
                resets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            Reset::None => {}
        }
        clock.set_time(ms(1010));
        // Stamped before the running time went back, still on its way.
        push(ms(950));
        push(ms(100));
        push(ms(50));
        sink.set_state(gst::State::Null).expect("NULL");
        problems.lock().unwrap().clone()
    };
    for reset in [Reset::SeenInBaseTime, Reset::Posted] {
        let after_reset = problems_seen(reset);
        assert_eq!(after_reset.len(), 1, "{reset:?}: {after_reset:?}");
        assert!(after_reset[0].contains("PTS 0:00:00.050000000 after 0:00:00.100000000"));
    }
    let same_running_time = problems_seen(Reset::None);
    assert_eq!(same_running_time.len(), 2, "{same_running_time:?}");
}
