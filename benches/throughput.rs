//! Non-live throughput of the push test sources against the GStreamer elements a user would
//! otherwise use: `pushaudiotestsrc` against `audiotestsrc`, then `pushvideotestsrc` against
//! `videotestsrc`.
//!
//! Audio: both elements produce the same stream (sine, F32LE, 48 kHz, stereo, 1024 samples per
//! buffer). Video: both produce I420 1280x720 at 30/1 (`videotestsrc` with its default pattern).
//! Each pipeline ends in `fakesink sync=false`; each run is timed from `set_state(Playing)` to
//! the EOS message. After one untimed run each (a warm-up that also checks both deliver N buffers
//! of the expected size), the two pipelines of a comparison alternate for R rounds; the report
//! gives median and minimum per element, buffers per second and the ratio of the medians
//! (push / GStreamer's element).
//!
//! Run with `cargo bench --bench throughput`. Override the number of buffers per run with
//! `PUSHSOURCE_BENCH_BUFFERS` (audio) and `PUSHSOURCE_BENCH_FRAMES` (video), the number of
//! rounds with `PUSHSOURCE_BENCH_ROUNDS`, and run one comparison only with
//! `PUSHSOURCE_BENCH_ONLY=audio` or `=video`.
//!
//! This is a benchmark, not a test: it exits non-zero only when a pipeline fails, never because
//! the ratio misses its target.

mod common;

use common::{count_delivered, env_or, ms, run_once};
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_BUFFERS: u64 = 100_000;
const DEFAULT_FRAMES: u64 = 3_000;
const DEFAULT_ROUNDS: usize = 7;
const SAMPLES_PER_BUFFER: u64 = 1024;
const TARGET_RATIO: f64 = 0.5;
const BYTES_PER_FRAME: u64 = 2 * 4;
const CAPS: &str = "audio/x-raw,format=F32LE,rate=48000,channels=2";
const VIDEO_CAPS: &str = "video/x-raw,format=I420,width=1280,height=720,framerate=30/1";
/// One I420 1280x720 frame: a luma plane and two quarter-size chroma planes.
const VIDEO_FRAME_BYTES: u64 = 1280 * 720 * 3 / 2;
const VIDEO_FPS: f64 = 30.0;

struct Candidate {
    name: &'static str,
    source: String,
    caps: &'static str,
    times: Vec<Duration>,
}

impl Candidate {
    fn new(name: &'static str, source: String, caps: &'static str) -> Self {
        Self {
            name,
            source,
            caps,
            times: Vec::new(),
        }
    }

    fn launch_line(&self) -> String {
        format!("{} ! {} ! fakesink sync=false", self.source, self.caps)
    }

    fn median(&self) -> Duration {
        common::median(&self.times)
    }

    fn min(&self) -> Duration {
        common::minimum(&self.times)
    }
}

/// One comparison: a push source and the GStreamer element it is measured against.
struct Comparison {
    candidates: [Candidate; 2],
    buffers: u64,
    /// Bytes of each buffer, to check that both deliver the same stream.
    buffer_bytes: u64,
    /// Seconds of media in each buffer, for the "x realtime" column.
    buffer_seconds: f64,
}

impl Comparison {
    fn run(mut self, rounds: usize) -> Result<(), String> {
        let buffers = self.buffers;
        for candidate in &self.candidates {
            println!("  {}", candidate.launch_line());
        }

        // Check, untimed, that both pipelines really deliver the same stream size; this run also
        // warms up: it pages in code and fills the allocator's caches.
        let expected = (buffers, buffers * self.buffer_bytes);
        for candidate in &self.candidates {
            let delivered = count_delivered(&candidate.launch_line())?;
            if delivered != expected {
                return Err(format!(
                    "{}: delivered {} buffers / {} bytes, expected {} / {}",
                    candidate.name, delivered.0, delivered.1, expected.0, expected.1
                ));
            }
        }
        for _ in 0..rounds {
            for candidate in &mut self.candidates {
                let elapsed = run_once(&candidate.launch_line())?;
                candidate.times.push(elapsed);
            }
        }

        println!();
        println!(
            "{:<18} {:>11} {:>11} {:>14} {:>10}",
            "element", "median ms", "min ms", "buffers/s", "x realtime"
        );
        for candidate in &self.candidates {
            let median = candidate.median();
            let per_second = buffers as f64 / median.as_secs_f64();
            println!(
                "{:<18} {:>11.1} {:>11.1} {:>14.0} {:>10.0}",
                candidate.name,
                ms(median),
                ms(candidate.min()),
                per_second,
                per_second * self.buffer_seconds
            );
        }
        let [push, reference] = &self.candidates;
        let ratio = push.median().as_secs_f64() / reference.median().as_secs_f64();
        let verdict = if ratio <= TARGET_RATIO {
            "meets"
        } else {
            "MISSES"
        };
        println!();
        for candidate in &self.candidates {
            let runs: Vec<String> = candidate
                .times
                .iter()
                .map(|t| format!("{:.1}", ms(*t)))
                .collect();
            println!("{:<18} runs ms: {}", candidate.name, runs.join(" "));
        }
        println!();
        println!(
            "ratio of medians ({} / {}): {ratio:.3} ({verdict} the target <= {TARGET_RATIO})",
            push.name, reference.name
        );
        println!(
            "ratio of minimums: {:.3}",
            push.min().as_secs_f64() / reference.min().as_secs_f64()
        );
        Ok(())
    }
}

fn run() -> Result<(), String> {
    gst::init().map_err(|e| format!("gst::init: {e}"))?;
    gstpushsource::plugin_register_static().map_err(|e| format!("plugin registration: {e}"))?;

    let buffers: u64 = env_or("PUSHSOURCE_BENCH_BUFFERS", DEFAULT_BUFFERS)?;
    let frames: u64 = env_or("PUSHSOURCE_BENCH_FRAMES", DEFAULT_FRAMES)?;
    let rounds: usize = env_or("PUSHSOURCE_BENCH_ROUNDS", DEFAULT_ROUNDS)?;
    if buffers == 0 || frames == 0 || rounds == 0 {
        return Err("PUSHSOURCE_BENCH_BUFFERS, PUSHSOURCE_BENCH_FRAMES and \
                    PUSHSOURCE_BENCH_ROUNDS must be positive"
            .into());
    }
    let only = std::env::var("PUSHSOURCE_BENCH_ONLY").unwrap_or_default();
    if !["", "audio", "video"].contains(&only.as_str()) {
        return Err(format!("PUSHSOURCE_BENCH_ONLY={only:?}: audio or video"));
    }

    if only != "video" {
        let common =
            format!("wave=sine samplesperbuffer={SAMPLES_PER_BUFFER} num-buffers={buffers}");
        println!(
            "throughput: {buffers} buffers x {SAMPLES_PER_BUFFER} samples ({:.1} s of audio), \
             {rounds} rounds, {}",
            (buffers * SAMPLES_PER_BUFFER) as f64 / 48_000.0,
            gst::version_string()
        );
        Comparison {
            candidates: [
                Candidate::new(
                    "pushaudiotestsrc",
                    format!("pushaudiotestsrc is-live=false {common}"),
                    CAPS,
                ),
                Candidate::new(
                    "audiotestsrc",
                    format!("audiotestsrc is-live=false {common}"),
                    CAPS,
                ),
            ],
            buffers,
            buffer_bytes: SAMPLES_PER_BUFFER * BYTES_PER_FRAME,
            buffer_seconds: SAMPLES_PER_BUFFER as f64 / 48_000.0,
        }
        .run(rounds)?;
    }
    if only != "audio" {
        if only.is_empty() {
            println!();
        }
        println!(
            "throughput: {frames} frames of I420 1280x720 at 30/1 ({:.1} s of video), \
             {rounds} rounds, {}",
            frames as f64 / VIDEO_FPS,
            gst::version_string()
        );
        Comparison {
            candidates: [
                Candidate::new(
                    "pushvideotestsrc",
                    format!("pushvideotestsrc is-live=false num-buffers={frames}"),
                    VIDEO_CAPS,
                ),
                Candidate::new(
                    "videotestsrc",
                    format!("videotestsrc is-live=false num-buffers={frames}"),
                    VIDEO_CAPS,
                ),
            ],
            buffers: frames,
            buffer_bytes: VIDEO_FRAME_BYTES,
            buffer_seconds: 1.0 / VIDEO_FPS,
        }
        .run(rounds)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("throughput benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}
