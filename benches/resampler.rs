//! Choosing `ratematch`'s resampler by measurement (issue 12, item 5): GStreamer's
//! `GstAudioResampler` (variable-rate mode, as `src/ratematch/resampler.rs` uses it) against the
//! `rubato` crate's asynchronous sinc resampler, at the settings of each that matter.
//!
//! Quality: a sine (1 kHz, and 10 kHz for the upper band) in 48 kHz stereo, resampled at the
//! fixed ratio 1.001 (input frames per output frame); the SNR is taken against the ideal
//! resampled sine, computed analytically at each output frame's read position, after the
//! filter's start-up. "SNR" uses the position the resampler reports (the one `ratematch`'s
//! control loop steers); "fit" is the phase offset between that position and where the output
//! really is (0 when the position is exact).
//!
//! Cost: CPU time of the calling thread per second of 48 kHz stereo F32, fed in 1024-frame
//! chunks, and the same for GStreamer's `audioresample` element at its default quality
//! resampling 48000 → 48048 Hz (the same 0.1 %), driven in the same thread through a
//! gst_check Harness, measured in the same run; the ratio is against `audioresample`.
//!
//! `cargo bench --bench resampler` (see BENCHMARKS.md). Environment:
//! `PUSHSOURCE_BENCH_ROUNDS` (cost rounds, median taken, default 5),
//! `PUSHSOURCE_BENCH_SECONDS` (seconds of audio per cost round, default 10).
//!
//! A benchmark, not a test: it prints figures and asserts nothing about them.

mod common;
#[path = "../src/ratematch/resampler.rs"]
#[allow(dead_code)]
mod resampler;
#[path = "resampler/rubato_backend.rs"]
mod rubato_backend;

use std::f64::consts::TAU;
use std::time::Duration;

use common::{median, setting};
use resampler::TableInterpolation;
use rubato::SincInterpolationType;

const RATE: f64 = 48000.0;
const CHANNELS: usize = 2;
const CHUNK_FRAMES: usize = 1024;
const RATIO: f64 = 1.001;
const QUALITY_FRAMES: usize = 2 * 48000;
const AMPLITUDE: f64 = 0.5;
const AUDIORESAMPLE: &str = "audioresample (default, 48000→48048)";

/// What the measurements need of a resampler.
trait Candidate {
    fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>);
    fn read_position(&self) -> f64;
    fn delay_frames(&self) -> usize;
}

impl Candidate for resampler::Resampler {
    fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        resampler::Resampler::process(self, input, ratio, output)
    }
    fn read_position(&self) -> f64 {
        resampler::Resampler::read_position(self)
    }
    fn delay_frames(&self) -> usize {
        resampler::Resampler::delay_frames(self)
    }
}

impl Candidate for rubato_backend::RubatoResampler {
    fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        rubato_backend::RubatoResampler::process(self, input, ratio, output)
    }
    fn read_position(&self) -> f64 {
        rubato_backend::RubatoResampler::read_position(self)
    }
    fn delay_frames(&self) -> usize {
        rubato_backend::RubatoResampler::delay_frames(self)
    }
}

#[derive(Clone, Copy)]
enum Setting {
    /// GstAudioResampler, Kaiser quality 0–10, interpolation of the filter table, and a
    /// filter other than the quality's (stopband attenuation dB, transition bandwidth).
    Gst(u32, TableInterpolation, Option<(f64, f64)>),
    /// rubato, sinc length and interpolation between its oversampled sincs.
    Rubato(usize, SincInterpolationType),
}

impl Setting {
    fn name(self) -> String {
        match self {
            Setting::Gst(quality, interpolation, None) => {
                format!("GstAudioResampler q{quality} {interpolation:?}")
            }
            Setting::Gst(quality, interpolation, Some((att, bw))) => {
                format!("GstAudioResampler q{quality} {interpolation:?} {att}dB/{bw}")
            }
            Setting::Rubato(len, interpolation) => {
                format!("rubato sinc {len} {interpolation:?}")
            }
        }
    }

    fn make(self) -> Box<dyn Candidate> {
        match self {
            Setting::Gst(quality, interpolation, filter) => {
                Box::new(resampler::Resampler::with_settings(
                    CHANNELS,
                    resampler::Settings {
                        quality,
                        interpolation,
                        filter: filter.map(|(stop_attenuation, transition_bandwidth)| {
                            resampler::KaiserFilter {
                                stop_attenuation,
                                transition_bandwidth,
                            }
                        }),
                    },
                ))
            }
            Setting::Rubato(len, interpolation) => Box::new(rubato_backend::RubatoResampler::new(
                CHANNELS,
                len,
                interpolation,
            )),
        }
    }
}

/// Channel 0 a sine, channel 1 a cosine of `freq`, at (fractional) input position `p`.
fn ideal(freq: f64, channel: usize, p: f64) -> f64 {
    let phase = TAU * freq * p / RATE;
    AMPLITUDE
        * if channel == 0 {
            phase.sin()
        } else {
            phase.cos()
        }
}

fn signal(freq: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .flat_map(|n| (0..CHANNELS).map(move |c| ideal(freq, c, n as f64) as f32))
        .collect()
}

fn quality(setting: Setting, freq: f64) -> (f64, f64, f64) {
    let mut candidate = setting.make();
    let input = signal(freq, QUALITY_FRAMES);
    let (mut positions, mut frames) = (Vec::new(), Vec::new());
    for chunk in input.chunks(CHUNK_FRAMES * CHANNELS) {
        let before = candidate.read_position();
        let len = frames.len();
        candidate.process(chunk, RATIO, &mut frames);
        let produced = (frames.len() - len) / CHANNELS;
        if produced > 0 {
            let step = (candidate.read_position() - before) / produced as f64;
            positions.extend((0..produced).map(|i| before + i as f64 * step));
        }
    }
    let skip = 2.0 * candidate.delay_frames() as f64;
    snr_and_fit(&positions, &frames, freq, skip)
}

/// (SNR in dB at the reported positions, phase-fitted offset in frames, SNR in dB at the
/// positions corrected by that offset).
fn snr_and_fit(positions: &[f64], frames: &[f32], freq: f64, skip: f64) -> (f64, f64, f64) {
    let omega = TAU * freq / RATE;
    // Least squares of channel 0 on sin ωp and cos ωp: y ≈ a·sin ωp + b·cos ωp = A·sin(ω(p + δ)).
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &p) in positions.iter().enumerate().filter(|(_, p)| **p >= skip) {
        let (s, c, y) = (
            (omega * p).sin(),
            (omega * p).cos(),
            frames[k * CHANNELS] as f64,
        );
        ss += s * s;
        sc += s * c;
        cc += c * c;
        ys += y * s;
        yc += y * c;
    }
    let det = ss * cc - sc * sc;
    let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
    let fit = b.atan2(a) / omega;
    let snr = |shift: f64| {
        let (mut signal, mut noise) = (0.0, 0.0);
        for (k, &p) in positions.iter().enumerate().filter(|(_, p)| **p >= skip) {
            for c in 0..CHANNELS {
                let want = ideal(freq, c, p + shift);
                let err = frames[k * CHANNELS + c] as f64 - want;
                signal += want * want;
                noise += err * err;
            }
        }
        10.0 * (signal / noise).log10()
    };
    (snr(0.0), fit, snr(fit))
}

/// SNR of `audioresample` (default quality) doing 48000 → 48048 Hz: output frame k belongs
/// at input position k·48000/48048.
fn audioresample_quality(freq: f64) -> (f64, f64, f64) {
    let mut harness = audioresample_harness();
    let input = signal(freq, QUALITY_FRAMES);
    let mut frames: Vec<f32> = Vec::new();
    for buffer in buffers(&input) {
        harness
            .push(buffer)
            .expect("audioresample takes the buffer");
        drain(&mut harness, &mut frames);
    }
    let positions: Vec<f64> = (0..frames.len() / CHANNELS)
        .map(|k| k as f64 * 48000.0 / 48048.0)
        .collect();
    snr_and_fit(&positions, &frames, freq, 200.0)
}

fn audioresample_harness() -> gst_check::Harness {
    element_harness("audioresample", 48048)
}

/// A Harness around `factory`, F32 stereo, 48000 Hz in and `out_rate` out.
fn element_harness(factory: &str, out_rate: i32) -> gst_check::Harness {
    let mut harness = gst_check::Harness::new(factory);
    let caps = |rate: i32| {
        gst_audio::AudioCapsBuilder::new_interleaved()
            .format(gst_audio::AUDIO_FORMAT_F32)
            .rate(rate)
            .channels(CHANNELS as i32)
            .build()
    };
    harness.set_caps(caps(48000), caps(out_rate));
    harness.play();
    harness
}

/// `input` as timestamped 1024-frame buffers, made before any timing starts.
fn buffers(input: &[f32]) -> Vec<gst::Buffer> {
    input
        .chunks(CHUNK_FRAMES * CHANNELS)
        .enumerate()
        .map(|(i, chunk)| {
            let bytes: Vec<u8> = chunk.iter().flat_map(|s| s.to_ne_bytes()).collect();
            let frames = (chunk.len() / CHANNELS) as u64;
            let first = (i * CHUNK_FRAMES) as u64;
            let mut buffer = gst::Buffer::from_mut_slice(bytes);
            {
                let buffer = buffer.get_mut().unwrap();
                buffer.set_pts(gst::ClockTime::from_nseconds(first * 1_000_000_000 / 48000));
                buffer.set_duration(gst::ClockTime::from_nseconds(
                    frames * 1_000_000_000 / 48000,
                ));
                buffer.set_offset(first);
                buffer.set_offset_end(first + frames);
            }
            buffer
        })
        .collect()
}

fn drain(harness: &mut gst_check::Harness, frames: &mut Vec<f32>) {
    while let Some(buffer) = harness.try_pull() {
        let map = buffer.map_readable().expect("readable output");
        frames.extend(
            map.chunks_exact(4)
                .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid timespec to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time to resample `input` (whole chunks), and the output frames.
fn cost(setting: Setting, input: &[f32]) -> (Duration, usize) {
    let mut candidate = setting.make();
    let mut output = Vec::with_capacity(input.len() + input.len() / 100);
    let start = thread_cpu_time();
    for chunk in input.chunks(CHUNK_FRAMES * CHANNELS) {
        candidate.process(chunk, RATIO, &mut output);
    }
    (thread_cpu_time() - start, output.len() / CHANNELS)
}

/// CPU time for `factory` (through a Harness, in this thread) to take `buffers` at 48000 Hz
/// and give `out_rate`, and the output frames.
fn element_cost(factory: &str, out_rate: i32, buffers: &[gst::Buffer]) -> (Duration, usize) {
    let mut harness = element_harness(factory, out_rate);
    let mut out_frames = 0;
    let start = thread_cpu_time();
    for buffer in buffers {
        harness
            .push(buffer.clone())
            .expect("audioresample takes the buffer");
        while let Some(buffer) = harness.try_pull() {
            out_frames += buffer.size() / (4 * CHANNELS);
        }
    }
    (thread_cpu_time() - start, out_frames)
}

fn main() {
    gst::init().expect("GStreamer initializes");
    let rounds: usize = setting("PUSHSOURCE_BENCH_ROUNDS", 5);
    let seconds: usize = setting("PUSHSOURCE_BENCH_SECONDS", 10);

    let mut settings = Vec::new();
    for interpolation in [TableInterpolation::Linear, TableInterpolation::Cubic] {
        settings.extend((0..=10).map(|quality| Setting::Gst(quality, interpolation, None)));
    }
    for filter in [(95.0, 0.13), (90.0, 0.147)] {
        settings.push(Setting::Gst(4, TableInterpolation::Linear, Some(filter)));
    }
    for len in [32, 48, 64, 128, 256] {
        for interpolation in [SincInterpolationType::Linear, SincInterpolationType::Cubic] {
            settings.push(Setting::Rubato(len, interpolation));
        }
    }

    println!(
        "Quality: 48 kHz stereo sine at ratio {RATIO}, SNR against the ideal resampled sine \
         at the reported read positions; fit: offset of the output from them (frames); \
         fitted: SNR with that offset removed"
    );
    println!(
        "{:<38} {:>9} {:>8} {:>9} {:>9} {:>8} {:>9}",
        "resampler", "1 kHz", "fit", "fitted", "10 kHz", "fit", "fitted"
    );
    let row = |name: &str, (a, b, c): (f64, f64, f64), (d, e, f): (f64, f64, f64)| {
        println!("{name:<38} {a:>6.1} dB {b:>8.4} {c:>6.1} dB {d:>6.1} dB {e:>8.4} {f:>6.1} dB");
    };
    for &s in &settings {
        row(&s.name(), quality(s, 1000.0), quality(s, 10000.0));
    }
    row(
        AUDIORESAMPLE,
        audioresample_quality(1000.0),
        audioresample_quality(10000.0),
    );

    let input = signal(1000.0, seconds * 48000);
    let input_buffers = buffers(&input);
    // Each candidate's run is paired with an audioresample run right before it, and the
    // ratio taken per pair: the machine is shared, and a pair sees the same load.
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); settings.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    let mut net_ratios: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    let mut reference_times = Vec::new();
    let mut harness_times = Vec::new();
    let mut out_frames = vec![0; settings.len()];
    let mut reference_frames = 0;
    for _ in 0..rounds {
        for (i, &s) in settings.iter().enumerate() {
            let harness = element_cost("identity", 48000, &input_buffers).0;
            let (reference, n) = element_cost("audioresample", 48048, &input_buffers);
            let (t, frames) = cost(s, &input);
            reference_frames = n;
            out_frames[i] = frames;
            times[i].push(t);
            ratios[i].push(t.as_secs_f64() / reference.as_secs_f64());
            net_ratios[i].push(t.as_secs_f64() / (reference - harness).as_secs_f64());
            reference_times.push(reference);
            harness_times.push(harness);
        }
    }
    let per_second = |t: Duration| t.as_secs_f64() * 1e3 / seconds as f64;
    let median_of = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    println!();
    println!(
        "Cost: CPU ms per second of 48 kHz stereo F32 ({seconds} s, {CHUNK_FRAMES}-frame chunks, \
         median of {rounds} rounds); ratio: median of the ratios to an audioresample run \
         just before each; net: the same against audioresample less the Harness's own cost \
         (identity through the same Harness)"
    );
    println!(
        "{:<38} {:>8} {:>7} {:>7} {:>11}",
        "resampler", "ms/s", "ratio", "net", "out frames"
    );
    println!(
        "{:<38} {:>8.3} {:>7.2} {:>7} {:>11}",
        AUDIORESAMPLE,
        per_second(median(&reference_times)),
        1.0,
        "",
        reference_frames
    );
    println!(
        "{:<38} {:>8.3}",
        "identity (Harness alone)",
        per_second(median(&harness_times))
    );
    for (i, s) in settings.iter().enumerate() {
        println!(
            "{:<38} {:>8.3} {:>7.2} {:>7.2} {:>11}",
            s.name(),
            per_second(median(&times[i])),
            median_of(&ratios[i]),
            median_of(&net_ratios[i]),
            out_frames[i]
        );
    }

    // The whole element: `ratematch` (mode graph-clock, its control loop included) following a
    // device 1000 ppm fast, so that it settles at ratio 1.001, against audioresample, both
    // through the same Harness, paired per round as above.
    gstpushsource::plugin_register_static().expect("the plugin registers");
    let device_buffers = drifting_buffers(&input, RATIO);
    let (mut element_times, mut element_ratios, mut element_net) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut element_frames = 0;
    for _ in 0..rounds {
        let harness = element_cost("identity", 48000, &input_buffers).0;
        let (reference, _) = element_cost("audioresample", 48048, &input_buffers);
        let (t, frames) = element_cost("ratematch", 48000, &device_buffers);
        element_frames = frames;
        element_times.push(t);
        element_ratios.push(t.as_secs_f64() / reference.as_secs_f64());
        element_net.push((t - harness).as_secs_f64() / (reference - harness).as_secs_f64());
    }
    println!(
        "{:<38} {:>8.3} {:>7.2} {:>7.2} {:>11}",
        "ratematch element (loop + resampler)",
        per_second(median(&element_times)),
        median_of(&element_ratios),
        median_of(&element_net),
        element_frames
    );
}

/// `input` in 1024-frame buffers stamped as a device `k` times as fast as the pipeline clock
/// captures them: what `ratematch` in mode graph-clock resamples by `k`.
fn drifting_buffers(input: &[f32], k: f64) -> Vec<gst::Buffer> {
    let stamp = |frame: u64| {
        gst::ClockTime::from_nseconds((frame as f64 * 1e9 / (48000.0 * k)).floor() as u64)
    };
    buffers(input)
        .into_iter()
        .map(|mut buffer| {
            let first = buffer.offset();
            let end = buffer.offset_end();
            let buffer_mut = buffer.make_mut();
            buffer_mut.set_pts(stamp(first));
            buffer_mut.set_duration(stamp(end) - stamp(first));
            buffer
        })
        .collect()
}
