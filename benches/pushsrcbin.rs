//! Per-buffer cost of `pushsrcbin`: `audiotestsrc` wrapped in the bin against bare
//! `audiotestsrc`, in one process, in alternating rounds.
//!
//! Both pipelines produce the same stream (non-live sine, F32LE, 48 kHz, stereo, 1024 samples
//! per buffer) into `fakesink sync=false`. Non-live, so that nothing paces the source and the
//! difference is what the bin adds to every buffer: the ghost pad's extra hop and the bin's pad
//! probes (ts-offset and the capture-buffer model, which a non-live source skips after one
//! atomic load). Each run is prerolled outside the timed region and timed from
//! `set_state(Playing)` to the EOS message. After one untimed run each (a warm-up that also
//! checks both deliver N buffers of the expected size), the two alternate for R rounds; the report
//! gives medians and minimums, and as its headline the median of the rounds' ratios (bin / bare:
//! each round runs both back to back under the same machine load), as overhead in percent and
//! in nanoseconds per buffer.
//!
//! Run with `cargo bench --bench pushsrcbin`; `PUSHSOURCE_BENCH_BUFFERS` and
//! `PUSHSOURCE_BENCH_ROUNDS` override N and R. A benchmark, not a test: it exits non-zero only
//! when a pipeline fails, never because the target is missed.

mod common;

use common::{count_delivered, env_or, ms, run_once};
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_BUFFERS: u64 = 100_000;
const DEFAULT_ROUNDS: usize = 11;
const SAMPLES_PER_BUFFER: u64 = 1024;
const BYTES_PER_FRAME: u64 = 2 * 4;
const CAPS: &str = "audio/x-raw,format=F32LE,rate=48000,channels=2";
/// The target: the bin adds at most 2 % to the bare source's time.
const TARGET_OVERHEAD_PERCENT: f64 = 2.0;

struct Candidate {
    name: &'static str,
    line: String,
    times: Vec<Duration>,
}

impl Candidate {
    fn median(&self) -> Duration {
        common::median(&self.times)
    }

    fn min(&self) -> Duration {
        common::minimum(&self.times)
    }
}

fn bench() -> Result<(), String> {
    gst::init().map_err(|e| format!("gst::init: {e}"))?;
    gstpushsource::plugin_register_static().map_err(|e| format!("plugin registration: {e}"))?;
    let buffers: u64 = env_or("PUSHSOURCE_BENCH_BUFFERS", DEFAULT_BUFFERS)?;
    let rounds: usize = env_or("PUSHSOURCE_BENCH_ROUNDS", DEFAULT_ROUNDS)?;
    if buffers == 0 || rounds == 0 {
        return Err("PUSHSOURCE_BENCH_BUFFERS and PUSHSOURCE_BENCH_ROUNDS must be positive".into());
    }

    let source =
        format!("audiotestsrc samplesperbuffer={SAMPLES_PER_BUFFER} num-buffers={buffers}");
    let sink = format!("{CAPS} ! fakesink name=sink sync=false");
    let mut candidates = [
        Candidate {
            name: "pushsrcbin",
            line: format!("pushsrcbin source-description=\"{source}\" ! {sink}"),
            times: Vec::new(),
        },
        Candidate {
            name: "audiotestsrc",
            line: format!("{source} ! {sink}"),
            times: Vec::new(),
        },
    ];
    println!(
        "pushsrcbin overhead: {buffers} buffers x {SAMPLES_PER_BUFFER} samples, {rounds} rounds, {}",
        gst::version_string()
    );
    for candidate in &candidates {
        println!("  {}", candidate.line);
    }

    let expected = (buffers, buffers * SAMPLES_PER_BUFFER * BYTES_PER_FRAME);
    for candidate in &candidates {
        let delivered = count_delivered(&candidate.line)?;
        if delivered != expected {
            return Err(format!(
                "{}: delivered {delivered:?} (buffers, bytes), expected {expected:?}",
                candidate.name
            ));
        }
    }
    for _ in 0..rounds {
        for candidate in &mut candidates {
            let elapsed = run_once(&candidate.line)?;
            candidate.times.push(elapsed);
        }
    }

    println!();
    println!(
        "{:<14} {:>11} {:>11} {:>14}",
        "element", "median ms", "min ms", "buffers/s"
    );
    for candidate in &candidates {
        println!(
            "{:<14} {:>11.1} {:>11.1} {:>14.0}",
            candidate.name,
            ms(candidate.median()),
            ms(candidate.min()),
            buffers as f64 / candidate.median().as_secs_f64()
        );
    }
    println!();
    for candidate in &candidates {
        let runs: Vec<String> = candidate
            .times
            .iter()
            .map(|t| format!("{:.1}", ms(*t)))
            .collect();
        println!("{:<14} runs ms: {}", candidate.name, runs.join(" "));
    }
    let [wrapped, bare] = &candidates;
    // Each round runs the two back to back, so a round's ratio sees one machine load; the
    // median of those ratios is the headline figure on a shared machine.
    let mut round_ratios: Vec<f64> = wrapped
        .times
        .iter()
        .zip(&bare.times)
        .map(|(wrapped, bare)| wrapped.as_secs_f64() / bare.as_secs_f64())
        .collect();
    round_ratios.sort_by(f64::total_cmp);
    let n = round_ratios.len();
    let ratio = if n % 2 == 1 {
        round_ratios[n / 2]
    } else {
        (round_ratios[n / 2 - 1] + round_ratios[n / 2]) / 2.0
    };
    let overhead = (ratio - 1.0) * 100.0;
    let per_buffer_ns = (ratio - 1.0) * bare.median().as_secs_f64() * 1e9 / buffers as f64;
    let verdict = if overhead <= TARGET_OVERHEAD_PERCENT {
        "meets"
    } else {
        "MISSES"
    };
    println!();
    println!(
        "median of the rounds' ratios (pushsrcbin / audiotestsrc): {ratio:.4}: overhead \
         {overhead:+.2} % ({verdict} the target <= {TARGET_OVERHEAD_PERCENT} %), \
         {per_buffer_ns:+.0} ns per buffer"
    );
    println!(
        "ratio of medians: {:.4}, ratio of minimums: {:.4}",
        wrapped.median().as_secs_f64() / bare.median().as_secs_f64(),
        wrapped.min().as_secs_f64() / bare.min().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pushsrcbin benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
