//! The resampler's contract: output frame at position p is the band-limited input at p, the
//! position is exact whatever the ratio does, and changes of ratio do not click.

use super::*;
use std::f64::consts::TAU;

const RATE: f64 = 48000.0;

/// Channel `c` of input frame `n`: a sine of `freqs[c]` Hz, phase shifted per channel so that a
/// swap of channels shows.
fn wave(freqs: &[f64], c: usize, position: f64) -> f64 {
    0.5 * (TAU * freqs[c] * position / RATE + c as f64).sin()
}

/// Output frames with the position each was interpolated at.
struct Run {
    positions: Vec<f64>,
    frames: Vec<f32>,
}

/// Feeds `total` frames of `freqs` in chunks of the sizes `chunk(i)` for call `i`, at the ratio
/// `ratio(i)`, and collects every output frame with its position, taken from `read_position()`
/// before and after each call (frames of one call are evenly spaced by its ratio).
fn run(
    resampler: &mut Resampler,
    freqs: &[f64],
    total: usize,
    chunk: impl Fn(usize) -> usize,
    ratio: impl Fn(usize) -> f64,
) -> Run {
    let channels = freqs.len();
    let input: Vec<f32> = (0..total)
        .flat_map(|n| (0..channels).map(move |c| wave(freqs, c, n as f64) as f32))
        .collect();
    let mut out = Run {
        positions: Vec::new(),
        frames: Vec::new(),
    };
    let (mut fed, mut call) = (0, 0);
    while fed < total {
        let n = chunk(call).min(total - fed);
        let before = resampler.read_position();
        let len = out.frames.len();
        resampler.process(
            &input[fed * channels..(fed + n) * channels],
            ratio(call),
            &mut out.frames,
        );
        let produced = (out.frames.len() - len) / channels;
        let after = resampler.read_position();
        if produced > 0 {
            let step = (after - before) / produced as f64;
            out.positions
                .extend((0..produced).map(|i| before + i as f64 * step));
        }
        fed += n;
        call += 1;
    }
    out
}

/// Per channel: the SNR (dB) of the output against the input signal at the output positions,
/// over the frames whose filter saw no start-up silence.
fn snr_per_channel(run: &Run, freqs: &[f64], skip_before: f64) -> Vec<f64> {
    let channels = freqs.len();
    (0..channels)
        .map(|c| {
            let (mut signal, mut noise) = (0.0, 0.0);
            for (k, &p) in run.positions.iter().enumerate() {
                if p < skip_before {
                    continue;
                }
                let ideal = wave(freqs, c, p);
                let err = run.frames[k * channels + c] as f64 - ideal;
                signal += ideal * ideal;
                noise += err * err;
            }
            10.0 * (signal / noise).log10()
        })
        .collect()
}

fn max_error(run: &Run, freqs: &[f64], skip_before: f64) -> f64 {
    let channels = freqs.len();
    let mut max: f64 = 0.0;
    for (k, &p) in run.positions.iter().enumerate() {
        if p < skip_before {
            continue;
        }
        for c in 0..channels {
            max = max.max((run.frames[k * channels + c] as f64 - wave(freqs, c, p)).abs());
        }
    }
    max
}

#[test]
fn a_1khz_sine_at_ratio_1_001_keeps_90_db_snr() {
    gst::init().unwrap();
    let mut resampler = Resampler::new(2);
    let freqs = [1000.0, 1000.0];
    let skip = 2.0 * resampler.delay_frames() as f64;
    let out = run(
        &mut resampler,
        &freqs,
        96000,
        |i| 480 + i % 7 * 37,
        |_| 1.001,
    );
    assert!(out.positions.len() > 95000);
    for snr in snr_per_channel(&out, &freqs, skip) {
        assert!(snr >= 90.0, "SNR {snr:.1} dB < 90 dB");
    }
}

/// The default and the settings whose position works differently: cubic table interpolation
/// (read one table row behind the phase) and a quality whose table needs a smaller
/// denominator (2²³).
fn settings_with_their_own_bookkeeping() -> [Settings; 3] {
    [
        Settings::DEFAULT,
        Settings {
            interpolation: TableInterpolation::Cubic,
            ..Settings::DEFAULT
        },
        Settings {
            quality: 8,
            interpolation: TableInterpolation::Linear,
            filter: None,
        },
    ]
}

#[test]
fn read_position_stays_exact_over_many_calls_with_a_changing_ratio() {
    gst::init().unwrap();
    for settings in settings_with_their_own_bookkeeping() {
        let mut resampler = Resampler::with_settings(1, settings);
        // A low tone: a position off by 10⁻³ frame is an error of 6.5·10⁻⁶ here, above what
        // the filters leave at 100 Hz (2·10⁻⁶ at most); so a position that drifted from where
        // the resampler reads fails this, over 3000 calls and as many ratio changes.
        let freqs = [100.0];
        let skip = 2.0 * resampler.delay_frames() as f64;
        let ratio = |i: usize| 1.0 + ((i * 7919) % 2001) as f64 * 1e-5 - 0.01;
        let out = run(&mut resampler, &freqs, 3000 * 97, |i| 61 + i % 73, ratio);
        let max = max_error(&out, &freqs, skip);
        assert!(
            max < 4e-6,
            "{settings:?}: largest error {max:e}: the position is not exact"
        );
        // Each call advanced by its own produced frames × its ratio as quantized.
        let mut check = Resampler::with_settings(1, settings);
        let mut expected = check.read_position();
        let mut sink = Vec::new();
        for i in 0..500 {
            let before = sink.len();
            check.process(&vec![0.0; 61 + i % 73], ratio(i), &mut sink);
            let quantized = check.ratio_to_in_rate(ratio(i)) as f64 / check.denominator as f64;
            expected += (sink.len() - before) as f64 * quantized;
            assert!((check.read_position() - expected).abs() < 1e-9);
        }
    }
}

#[test]
fn ratio_changes_do_not_click() {
    gst::init().unwrap();
    let mut resampler = Resampler::new(2);
    let freqs = [1000.0, 3000.0];
    let skip = 2.0 * resampler.delay_frames() as f64;
    // From one end of the range to the other every 64 frames: far harsher than a control loop.
    let ratio = |i: usize| {
        if i.is_multiple_of(2) {
            MIN_RATIO
        } else {
            MAX_RATIO
        }
    };
    let out = run(&mut resampler, &freqs, 48000, |_| 64, ratio);
    let max = max_error(&out, &freqs, skip);
    assert!(max < 1e-4, "largest error {max:e} around the ratio changes");
    // No step larger than the band-limited signal allows at the widest output spacing.
    for (c, freq) in freqs.iter().enumerate() {
        let bound = 0.5 * TAU * freq / RATE * MAX_RATIO + 1e-4;
        for k in 1..out.positions.len() {
            if out.positions[k - 1] < skip {
                continue;
            }
            let step = (out.frames[k * 2 + c] - out.frames[(k - 1) * 2 + c]).abs() as f64;
            assert!(
                step <= bound,
                "channel {c}, frame {k}: step {step} > {bound}"
            );
        }
    }
}

#[test]
fn six_channels_keep_their_signals() {
    gst::init().unwrap();
    let mut resampler = Resampler::new(6);
    let freqs = [500.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0];
    let skip = 2.0 * resampler.delay_frames() as f64;
    let out = run(&mut resampler, &freqs, 48000, |_| 1024, |_| 0.999);
    for (c, snr) in snr_per_channel(&out, &freqs, skip).into_iter().enumerate() {
        assert!(snr >= 90.0, "channel {c}: SNR {snr:.1} dB");
    }
}

#[test]
fn reset_starts_again_as_new() {
    gst::init().unwrap();
    let freqs = [1000.0, 700.0];
    let mut used = Resampler::new(2);
    run(
        &mut used,
        &[3000.0, 5000.0],
        5000,
        |_| 333,
        |i| 1.0 + i as f64 * 1e-3,
    );
    used.reset();
    let mut fresh = Resampler::new(2);
    assert_eq!(used.read_position(), fresh.read_position());
    // The kept ratio is set again by the first call, so both see the same ratios.
    let again = run(&mut used, &freqs, 9600, |_| 480, |_| 1.002);
    let first = run(&mut fresh, &freqs, 9600, |_| 480, |_| 1.002);
    assert!(
        again.positions == first.positions,
        "positions differ after reset"
    );
    assert!(again.frames == first.frames, "frames differ after reset");
}

#[test]
fn every_position_delay_frames_behind_the_input_is_output() {
    gst::init().unwrap();
    for settings in settings_with_their_own_bookkeeping() {
        let mut resampler = Resampler::with_settings(1, settings);
        let delay = resampler.delay_frames();
        assert!(delay > 2);
        // Starts at frame 0, or a little before it (cubic table interpolation).
        let start = resampler.read_position();
        assert!(
            start <= 0.0 && start > -1.0,
            "{settings:?}: starts at {start}"
        );
        let mut out = Vec::new();
        resampler.process(&vec![0.25; delay - 2], 1.0, &mut out);
        assert!(out.is_empty());
        let (mut fed, mut frames) = (delay - 2, 0);
        for i in 0..2000 {
            let n = 1 + i * 13 % 29;
            let ratio = 1.0 + (i % 11) as f64 * 0.004 - 0.02;
            resampler.process(&vec![0.25; n], ratio, &mut out);
            fed += n;
            assert!(out.len() >= frames);
            frames = out.len();
            // What was not output yet needs more input than was fed ...
            let next = resampler.read_position();
            assert!(
                (fed as f64) < next + delay as f64,
                "{settings:?}, call {i}: {fed} fed, next at {next}"
            );
            // ... and what was output came as soon as its input was there: the bound is
            // tight to a frame (floor of the position) and a step of the ratio.
            assert!(
                fed as f64 > next + delay as f64 - 2.0 - ratio - 0.01,
                "{settings:?}, call {i}: {fed} fed, next at {next}"
            );
        }
    }
}

#[test]
fn ratios_outside_the_range_are_clamped() {
    gst::init().unwrap();
    for (asked, used) in [
        (10.0, MAX_RATIO),
        (0.0, MIN_RATIO),
        (-1.0, MIN_RATIO),
        (f64::NAN, 1.0),
        (f64::INFINITY, MAX_RATIO),
    ] {
        let mut resampler = Resampler::new(1);
        let mut out = Vec::new();
        let start = resampler.read_position();
        resampler.process(&vec![0.0; 4000], asked, &mut out);
        let per_frame = (resampler.read_position() - start) / out.len() as f64;
        assert!((per_frame - used).abs() < 1e-6, "{asked}: {per_frame}");
    }
}

#[test]
fn a_partial_trailing_frame_is_ignored() {
    gst::init().unwrap();
    let mut resampler = Resampler::new(2);
    let mut out = Vec::new();
    resampler.process(&[0.1; 2001], 1.0, &mut out);
    assert_eq!(out.len() % 2, 0);
}
