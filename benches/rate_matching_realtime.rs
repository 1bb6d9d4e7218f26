//! Rate matching in real time, against a real sound server (issue 12): a live source whose
//! device clock drifts from the sound card's, played to PulseAudio's `module-null-sink` (paced
//! in real time by the server, no hardware), recorded back from the sink's monitor, and judged
//! from the recording: discontinuities and how far the audio strays from where it belongs.
//!
//! The source is `pushaudiotestsrc push-source-flags=use-stream-clock drift=D`: it provides its
//! device clock, which runs `1 + D·10⁻⁶` times as fast as the system clock, and the pipeline
//! runs on it (the classic `alsasrc ! alsasink` of two devices). A `queue` holds what the source
//! captures while `pulsesink` blocks (it does for hundreds of milliseconds while the server
//! starts the stream), as it would for a real capture device. Each drift is played three
//! ways, side by side in one run, each to its own null sink:
//! - `graphbin`: the source and `pulsesink` inside `graphbin`, which puts a `ratematch`
//!   (mode `sink-clock`) in front of the sink and turns the sink's own slaving off;
//! - `skew`: GStreamer alone, `pulsesink slave-method=skew` (its default);
//! - `resample`: GStreamer alone, `pulsesink slave-method=resample`.
//!
//! What is measured, on the recording (48 kHz mono F32 from `pulsesrc device=<sink>.monitor`):
//! - **discontinuities**: the source plays a sine of `FREQ` Hz in pipeline time, heard as a sine
//!   of `FREQ·k` Hz in the server's time when the audio follows the pipeline clock. A sine obeys
//!   `x[n] = 2·cos(ω)·x[n−1] − x[n−2]`; a sample dropped or repeated, or a jump, breaks that by
//!   far more than resampling noise or a frequency error of 10 000 ppm does. Each run of
//!   samples breaking it by more than `DISCONTINUITY_THRESHOLD` counts once.
//! - **the sink's rate in real time**: the null sink does not consume exactly its nominal rate
//!   per second of the host's monotonic clock (it advances its time line by
//!   `pa_bytes_to_usec` of each chunk it renders, rounded down to the µs: tens of ppm fast).
//!   The recording's buffers are stamped with the monotonic clock on arrival and a straight
//!   line through (samples recorded, arrival time) gives the samples rendered per second of
//!   real time, `R·(1 + e)` (least squares, then again through the earliest half of the
//!   arrivals: a late delivery is the client's wake-up, not the sink's rate).
//! - **offset**: where each sample is rendered in real time (its index in the recording mapped
//!   through the sink's measured rate) against where the pipeline clock says it belongs (the
//!   phase of the sine, which runs at `FREQ·k` Hz of real time), in 10 ms Hann-windowed
//!   blocks every 2.5 ms, unwrapped, as time: the phase of the heard sine against
//!   `FREQ·k/(1 + e)` per second of recording. Aligned audio keeps it constant; audio played
//!   at the sound card's rate drifts by about `D` µs per second. Reported: the largest
//!   distance from its value at lock (`LOCKED_AFTER` after the first sound: the sink's
//!   start-up, `START_UP`, which no way plays without losing capture, and 5 s) while no
//!   discontinuity intervened (a jump's size is ambiguous by whole periods of the sine, so the
//!   drift between jumps is what is measured).
//!   Judged against the nominal `FREQ·k` per second of recording instead (as if the sink kept
//!   its nominal rate in real time), a matcher that holds the real-time delay constant drifts
//!   by `e` µs per second: the column "against nominal" shows that figure too.
//!
//! `bash scripts/realtime-drift.sh` starts a private PulseAudio daemon (as root too, without a
//! session bus), runs this benchmark and stops the daemon. Environment:
//! `PUSHSOURCE_REALTIME_SECONDS` (default 60), `PUSHSOURCE_REALTIME_DRIFTS` (ppm, comma
//! separated, default `1000,10000`), `PUSHSOURCE_REALTIME_DUMP=<dir>` (keep the recordings and
//! their arrival times), `PUSHSOURCE_REALTIME_JUDGE=<dir>` (judge kept ones again, no server:
//! `cargo bench --bench rate_matching_realtime`).
//!
//! A benchmark, not a test: it fails only when a pipeline fails (an ERROR, no sound recorded).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{pactl, setting};
use gst::prelude::*;

const RATE: u32 = 48_000;
/// Not a divisor of the block or of a 20 ms jump, so that no jump hides in whole periods.
const FREQ: f64 = 997.0;
const VOLUME: f64 = 0.5;
const BLOCK: usize = 480;
/// Blocks overlap, one every 2.5 ms: the phase is unwrapped from one to the next, and at the
/// loop's clamp (5 %) the audio moves by half a period of the sine in 10 ms, where the unwrap
/// could no longer tell which way; in 2.5 ms it moves an eighth.
const HOP: usize = BLOCK / 4;
/// What the sine predictor's error must exceed to count as a discontinuity: about a tenth of the
/// error a single dropped or repeated sample makes (`VOLUME·ω`), and 50 times what an error of
/// 10 000 ppm in frequency or 16-bit quantization make.
const DISCONTINUITY_THRESHOLD: f64 = 0.006;
/// The first seconds of sound: the sink starting up, not rate matching. `pulsesink` plays a
/// few buffers, then blocks for about 1.8 s while the server starts the stream, which
/// overflows the source's capture buffer (and the `queue`) whichever way it is played: the
/// capture lost there is spliced or skipped over in the first 1.5 s of sound.
const START_UP: Duration = Duration::from_millis(2500);
/// The loop starts learning once the sink runs: locked 5 s after the start-up.
const LOCKED_AFTER: Duration = Duration::from_millis(7500);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Way {
    GraphBin,
    Skew,
    Resample,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::GraphBin => "graphbin (ratematch)",
            Way::Skew => "pulsesink slave-method=skew",
            Way::Resample => "pulsesink slave-method=resample",
        }
    }

    fn description(self, drift: f64, device: &str) -> String {
        let source = format!(
            "pushaudiotestsrc push-source-flags=use-stream-clock drift={drift} freq={FREQ} \
             volume={VOLUME} samplesperbuffer=480 ! audio/x-raw,format=F32LE,rate={RATE},channels=1 ! \
             queue"
        );
        match self {
            Way::GraphBin => {
                format!("graphbin.( name=graph {source} ! pulsesink name=sink device={device} )")
            }
            Way::Skew => {
                format!("{source} ! pulsesink name=sink device={device} slave-method=skew")
            }
            Way::Resample => {
                format!("{source} ! pulsesink name=sink device={device} slave-method=resample")
            }
        }
    }
}

struct Run {
    way: Way,
    drift: f64,
    sink_name: String,
    module: String,
    playback: gst::Pipeline,
    recording: gst::Pipeline,
    samples: Arc<Mutex<Vec<f32>>>,
    /// (seconds of the monotonic clock since `epoch`, samples recorded so far) per buffer.
    arrivals: Arc<Mutex<Vec<(f64, u64)>>>,
    matcher_report: Arc<Mutex<Option<gst::Structure>>>,
    /// The drift of each of its reports (about one a second).
    matcher_drifts: Arc<Mutex<Vec<f64>>>,
}

fn launch(description: &str) -> gst::Pipeline {
    let element = gst::parse::launch(description).unwrap_or_else(|e| panic!("{description}: {e}"));
    element
        .downcast::<gst::Pipeline>()
        .unwrap_or_else(|element| {
            let pipeline = gst::Pipeline::new();
            pipeline.add(&element).unwrap();
            pipeline
        })
}

impl Run {
    fn new(way: Way, drift: f64, index: usize, epoch: Instant) -> Self {
        let sink_name = format!("pushsource_{index}");
        let module = pactl(&[
            "load-module",
            "module-null-sink",
            &format!("sink_name={sink_name}"),
            &format!("rate={RATE}"),
            "channels=1",
            "format=float32le",
        ]);
        let recording = launch(&format!(
            "pulsesrc device={sink_name}.monitor ! \
             audio/x-raw,format=F32LE,rate={RATE},channels=1 ! appsink name=record sync=false"
        ));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let appsink = recording
            .by_name("record")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        let kept = samples.clone();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let arrived = arrivals.clone();
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| {
                    let sample = appsink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                    let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                    let now = epoch.elapsed().as_secs_f64();
                    let mut kept = kept.lock().unwrap();
                    kept.extend(
                        map.chunks_exact(4)
                            .map(|bytes| f32::from_le_bytes(bytes.try_into().unwrap())),
                    );
                    arrived.lock().unwrap().push((now, kept.len() as u64));
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        let playback = launch(&way.description(drift, &sink_name));
        let matcher_report = Arc::new(Mutex::new(None));
        Self {
            way,
            drift,
            sink_name,
            module,
            playback,
            recording,
            samples,
            arrivals,
            matcher_report,
            matcher_drifts: Arc::default(),
        }
    }

    fn start(&self) {
        self.recording.set_state(gst::State::Playing).unwrap();
        let report = self.matcher_report.clone();
        let drifts = self.matcher_drifts.clone();
        let bus = self.playback.bus().unwrap();
        bus.set_sync_handler(move |_, message| {
            match message.view() {
                gst::MessageView::Element(element) => {
                    if let Some(s) = element.structure().filter(|s| s.name() == "rate-matching") {
                        if let Ok(drift) = s.get::<f64>("drift") {
                            drifts.lock().unwrap().push(drift);
                        }
                        *report.lock().unwrap() = Some(s.to_owned());
                    }
                }
                gst::MessageView::Error(error) => {
                    eprintln!("ERROR: {} ({:?})", error.error(), error.debug());
                }
                gst::MessageView::Warning(warning) => {
                    eprintln!("WARNING: {} ({:?})", warning.error(), warning.debug());
                }
                _ => {}
            }
            gst::BusSyncReply::Drop
        });
        self.playback.set_state(gst::State::Playing).unwrap();
    }

    fn stop(&self) {
        self.playback.set_state(gst::State::Null).unwrap();
        self.recording.set_state(gst::State::Null).unwrap();
        pactl(&["unload-module", &self.module]);
    }
}

#[derive(Debug, Default)]
struct Judgement {
    seconds: f64,
    discontinuities: usize,
    largest_offset: Duration,
    /// The offset's total change from lock to the end, at the end of the last stretch without a
    /// discontinuity (what a listener hears as audio running ahead or behind).
    end_offset_ms: f64,
    /// 10 ms blocks whose offset was measured (none: a discontinuity in every block).
    measured_blocks: usize,
}

impl Judgement {
    /// The largest offset and the one at the end, in ms, or dashes when nothing was measured.
    fn offsets(&self) -> (String, String) {
        if self.measured_blocks == 0 {
            return ("—".to_string(), "—".to_string());
        }
        (
            format!("{:.3}", self.largest_offset.as_secs_f64() * 1e3),
            format!("{:+.3}", self.end_offset_ms),
        )
    }
}

/// The recorded samples from the first sound on.
fn sound(samples: &[f32]) -> &[f32] {
    let first = samples
        .iter()
        .position(|sample| sample.abs() > (VOLUME / 4.0) as f32)
        .unwrap_or(samples.len());
    &samples[first..]
}

/// The least-squares line `time = a + b·samples` through `points`: (b, a).
fn line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if n < 2.0 {
        return None;
    }
    let (mean_x, mean_y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), (px, py)| (x + px / n, y + py / n));
    let (sxx, sxy) = points.iter().fold((0.0, 0.0), |(xx, xy), (px, py)| {
        let dx = px - mean_x;
        (xx + dx * dx, xy + dx * (py - mean_y))
    });
    (sxx > 0.0).then(|| (sxy / sxx, mean_y - sxy / sxx * mean_x))
}

/// Samples the sink rendered per second of the monotonic clock, from the recording's arrival
/// times after sample `from` (the sink's start-up left out): a line through all of them, then
/// through the earlier-arriving half (each buffer arrives when the sink rendered it plus the
/// recording client's wake-up delay, which is never negative).
fn sink_rate(arrivals: &[(f64, u64)], from: u64) -> Option<f64> {
    let points: Vec<(f64, f64)> = arrivals
        .iter()
        .filter(|(_, samples)| *samples >= from)
        .map(|&(time, samples)| (samples as f64, time))
        .collect();
    let (slope, intercept) = line(&points)?;
    let mut residuals: Vec<f64> = points
        .iter()
        .map(|(x, y)| y - (intercept + slope * x))
        .collect();
    residuals.sort_by(f64::total_cmp);
    let median = residuals[residuals.len() / 2];
    let early: Vec<(f64, f64)> = points
        .into_iter()
        .filter(|(x, y)| y - (intercept + slope * x) <= median)
        .collect();
    let (slope, _) = line(&early)?;
    Some(1.0 / slope)
}

/// `rendered_rate`: samples the sink renders per second of real time (the nominal `RATE` to
/// judge as if it kept its nominal rate).
fn judge(samples: &[f32], k: f64, rendered_rate: f64) -> Judgement {
    let omega = std::f64::consts::TAU * FREQ * k / rendered_rate;
    let seconds = samples.len() as f64 / RATE as f64;
    let start_up = (START_UP.as_secs_f64() * RATE as f64) as usize;
    // The discontinuities: runs of samples the sine predictor cannot explain.
    let two_cos = 2.0 * omega.cos();
    let mut discontinuities = Vec::new();
    let mut in_run = false;
    for n in start_up.max(2)..samples.len() {
        let predicted = two_cos * samples[n - 1] as f64 - samples[n - 2] as f64;
        let broken = (samples[n] as f64 - predicted).abs() > DISCONTINUITY_THRESHOLD;
        if broken && !in_run {
            discontinuities.push(n);
        }
        in_run = broken;
    }
    // The offset: unwrapped phase per block, as time, in the stretches between discontinuities.
    let window: Vec<f64> = (0..BLOCK)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / BLOCK as f64).cos())
        .collect();
    let locked = (LOCKED_AFTER.as_secs_f64() * RATE as f64) as usize;
    let mut largest: f64 = 0.0;
    let mut measured_blocks = 0;
    let mut end_offset = 0.0;
    let mut reference: Option<f64> = None;
    let mut previous_phase: Option<f64> = None;
    let mut unwrapped = 0.0;
    let mut next_discontinuity = discontinuities.iter().peekable();
    let first_block = start_up.max(locked);
    for start in (first_block..samples.len().saturating_sub(BLOCK)).step_by(HOP) {
        while next_discontinuity.peek().is_some_and(|&&at| at < start) {
            next_discontinuity.next();
        }
        // Blocks overlap: every block holding a discontinuity is left out.
        let crossed = next_discontinuity
            .peek()
            .is_some_and(|&&at| at < start + BLOCK);
        if crossed {
            // A new stretch: measured from where it starts.
            reference = None;
            previous_phase = None;
            continue;
        }
        let (mut i, mut q) = (0.0, 0.0);
        for (j, weight) in window.iter().enumerate() {
            let n = start + j;
            let x = samples[n] as f64 * weight;
            i += x * (omega * n as f64).cos();
            q += x * (omega * n as f64).sin();
        }
        // x = A·cos(ωn + φ): i ∝ cos φ, q ∝ −sin φ, |(i, q)| = A·Σw/2 = A·BLOCK/4. Silence
        // (a sink that ran dry plays zeros, which the predictor cannot tell from a sine) has
        // no phase: it ends the stretch, as the discontinuities at its ends do.
        if i.hypot(q) < VOLUME * BLOCK as f64 / 8.0 {
            reference = None;
            previous_phase = None;
            continue;
        }
        let phase = (-q).atan2(i);
        unwrapped = match previous_phase {
            None => phase,
            Some(previous) => {
                let mut step = phase - previous;
                step -= std::f64::consts::TAU * (step / std::f64::consts::TAU).round();
                unwrapped + step
            }
        };
        previous_phase = Some(phase);
        // Audio late by τ (real time) has φ = −2π·FREQ·k·τ: the offset is how late it is.
        let offset = -unwrapped / (std::f64::consts::TAU * FREQ * k);
        let reference = *reference.get_or_insert(offset);
        largest = largest.max((offset - reference).abs());
        end_offset = offset - reference;
        measured_blocks += 1;
    }
    Judgement {
        seconds,
        discontinuities: discontinuities.len(),
        largest_offset: Duration::from_secs_f64(largest),
        end_offset_ms: end_offset * 1e3,
        measured_blocks,
    }
}

fn main() {
    gst::init().unwrap();
    gstpushsource::plugin_register_static().expect("the plugin registers");
    let seconds: u64 = setting("PUSHSOURCE_REALTIME_SECONDS", 60);
    let drifts: Vec<f64> = std::env::var("PUSHSOURCE_REALTIME_DRIFTS")
        .unwrap_or_else(|_| "1000,10000".to_string())
        .split(',')
        .map(|drift| drift.trim().parse().expect("drifts in ppm"))
        .collect();
    if let Ok(directory) = std::env::var("PUSHSOURCE_REALTIME_JUDGE") {
        judge_dumped(&directory, &drifts);
        return;
    }
    let server = pactl(&["info"]);
    let server = server
        .lines()
        .find(|line| line.starts_with("Server Name") || line.starts_with("Server Version"))
        .unwrap_or("a PulseAudio server");
    println!("rate matching in real time: {seconds} s per run, all runs side by side, {server}");

    let epoch = Instant::now();
    let mut runs = Vec::new();
    for &drift in &drifts {
        for way in [Way::GraphBin, Way::Skew, Way::Resample] {
            runs.push(Run::new(way, drift, runs.len(), epoch));
        }
    }
    for run in &runs {
        run.start();
    }
    std::thread::sleep(Duration::from_secs(seconds));
    for run in &runs {
        run.stop();
    }

    print_header();
    for run in &runs {
        let recorded = run.samples.lock().unwrap();
        let samples = sound(&recorded);
        let first_sound = (recorded.len() - samples.len()) as u64;
        assert!(
            samples.len() > RATE as usize,
            "{} at {} ppm: no sound recorded from {}",
            run.way.name(),
            run.drift,
            run.sink_name
        );
        // From the first sound on, as the recording judged.
        let arrivals: Vec<(f64, u64)> = run
            .arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|&(time, samples)| (time, samples.saturating_sub(first_sound)))
            .collect();
        if let Ok(directory) = std::env::var("PUSHSOURCE_REALTIME_DUMP") {
            let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
            let name = format!("{directory}/{}-{}.f32", run.drift, run.sink_name);
            std::fs::write(&name, bytes).expect("the recording written");
            let lines: String = arrivals
                .iter()
                .map(|(time, samples)| format!("{time:.6} {samples}\n"))
                .collect();
            let name = format!("{directory}/{}-{}.arrivals", run.drift, run.sink_name);
            std::fs::write(&name, lines).expect("the arrival times written");
        }
        let report = run
            .matcher_report
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| {
                let mut drifts = run.matcher_drifts.lock().unwrap().clone();
                let late = drifts.split_off(drifts.len() / 2);
                let mean = late.iter().sum::<f64>() / late.len().max(1) as f64;
                format!(
                    "drift {:.1} ppm (mean of the last {} reports {mean:.1}), offset {:.3} ms",
                    s.get::<f64>("drift").unwrap_or(f64::NAN),
                    late.len(),
                    s.get::<i64>("offset").unwrap_or(0) as f64 / 1e6
                )
            })
            .unwrap_or_else(|| "—".to_string());
        print_row(run.drift, run.way, samples, &arrivals, &report);
    }
}

fn print_header() {
    println!();
    println!(
        "| drift (ppm) | played by | sound (s) | sink's rate e (ppm) | discontinuities | largest offset (ms) | offset at the end (ms) | against nominal: largest, end (ms) | ratematch's own report |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---|");
}

/// Judges one recording (from its first sound on; `arrivals` counted from there too).
fn print_row(drift: f64, way: Way, samples: &[f32], arrivals: &[(f64, u64)], report: &str) {
    let k = 1.0 + drift * 1e-6;
    let rendered_rate = sink_rate(arrivals, (START_UP.as_secs_f64() * RATE as f64) as u64)
        .expect("the recording's arrivals give the sink's rate");
    let judgement = judge(samples, k, rendered_rate);
    let nominal = judge(samples, k, RATE as f64);
    let (largest, end) = judgement.offsets();
    let (nominal_largest, nominal_end) = nominal.offsets();
    println!(
        "| {drift} | {} | {:.1} | {:+.1} | {} | {largest} | {end} | {nominal_largest}, {nominal_end} | {report} |",
        way.name(),
        judgement.seconds,
        (rendered_rate / RATE as f64 - 1.0) * 1e6,
        judgement.discontinuities,
    );
}

/// Judges the recordings a run dumped with `PUSHSOURCE_REALTIME_DUMP` again (the judge
/// changed, or to look closer), without a sound server.
fn judge_dumped(directory: &str, drifts: &[f64]) {
    println!("rate matching in real time: the recordings in {directory} judged again");
    print_header();
    let mut index = 0;
    for &drift in drifts {
        for way in [Way::GraphBin, Way::Skew, Way::Resample] {
            let name = format!("{directory}/{drift}-pushsource_{index}");
            index += 1;
            let Ok(bytes) = std::fs::read(format!("{name}.f32")) else {
                println!("| {drift} | {} | no recording {name}.f32 |", way.name());
                continue;
            };
            let samples: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|bytes| f32::from_le_bytes(bytes.try_into().unwrap()))
                .collect();
            let arrivals: Vec<(f64, u64)> = std::fs::read_to_string(format!("{name}.arrivals"))
                .unwrap_or_default()
                .lines()
                .filter_map(|line| {
                    let (time, samples) = line.split_once(' ')?;
                    Some((time.parse().ok()?, samples.parse().ok()?))
                })
                .collect();
            print_row(drift, way, &samples, &arrivals, "(not kept)");
        }
    }
}
