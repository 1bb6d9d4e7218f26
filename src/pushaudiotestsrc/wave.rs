//! Sample generation for `pushaudiotestsrc`.
//!
//! Every sample is a function of its absolute index in the stream and of the time line it
//! samples (a [`Timeline`]: sample `n` holds the signal at the line's time of `n`, so a drifting
//! device samples a signal defined in pipeline time at its own instants), so a buffer generated
//! after a seek, in reverse playback or after lost data holds exactly what it would have held in
//! one uninterrupted forward run. Phases are computed from whole seconds and an exact remainder,
//! never accumulated.

use gst::glib;
use std::f64::consts::TAU;

use crate::pushtestsrc::Timeline;

#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstPushAudioTestSrcWave")]
pub enum Wave {
    #[default]
    #[enum_value(name = "Sine", nick = "sine")]
    Sine = 0,
    #[enum_value(name = "Square", nick = "square")]
    Square = 1,
    #[enum_value(name = "Saw", nick = "saw")]
    Saw = 2,
    #[enum_value(name = "Triangle", nick = "triangle")]
    Triangle = 3,
    #[enum_value(name = "Silence", nick = "silence")]
    Silence = 4,
    #[enum_value(name = "White uniform noise", nick = "white-noise")]
    WhiteNoise = 5,
    #[enum_value(
        name = "Ticks: one period of the sine at the start of every second",
        nick = "ticks"
    )]
    Ticks = 8,
}

/// The sample formats the element produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    S16le,
    F32le,
}

impl SampleFormat {
    pub fn bytes_per_sample(self) -> usize {
        match self {
            SampleFormat::S16le => 2,
            SampleFormat::F32le => 4,
        }
    }
}

const NSECS_PER_SEC: u64 = 1_000_000_000;

/// Independent phase rotations per step of the sine loop: they break the dependency chain of a
/// single recurrence so the loop vectorizes.
const LANES: usize = 8;

#[derive(Debug, Clone)]
pub struct Generator {
    pub wave: Wave,
    pub freq: f64,
    pub volume: f64,
    pub channels: usize,
    pub format: SampleFormat,
    scratch: Vec<f32>,
}

impl Generator {
    pub fn new(wave: Wave, freq: f64, volume: f64, channels: usize, format: SampleFormat) -> Self {
        Self {
            wave,
            freq,
            volume,
            channels,
            format,
            scratch: Vec::new(),
        }
    }

    pub fn bytes_per_frame(&self) -> usize {
        self.channels * self.format.bytes_per_sample()
    }

    /// Phase, in cycles within `[0, 1)`, of sample `index` on `signal`, without the precision
    /// loss of `index * freq / rate` for large indices: whole seconds and the rest apart.
    fn phase_cycles(&self, signal: &Timeline, index: u64) -> f64 {
        let anchor = signal.time.nseconds();
        let anchor_cycles = ((anchor / NSECS_PER_SEC) as f64 * self.freq.fract()).fract()
            + (anchor % NSECS_PER_SEC) as f64 * self.freq / NSECS_PER_SEC as f64;
        let (seconds, rest) = signal.rate.split_seconds(index.saturating_sub(signal.unit));
        let whole_seconds = (seconds as f64 * self.freq.fract()).fract();
        (anchor_cycles + whole_seconds + rest as f64 * self.freq / signal.rate.num() as f64).fract()
    }

    /// Fills `out` (interleaved frames) with the samples starting at stream sample `first`,
    /// sampling the signal at the times of `signal`.
    pub fn fill(&mut self, signal: &Timeline, first: u64, out: &mut [u8]) {
        let frames = out.len() / self.bytes_per_frame();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.resize(frames, 0.0);
        match self.wave {
            Wave::Sine => self.sine(signal, first, &mut scratch),
            Wave::Square => {
                self.sine(signal, first, &mut scratch);
                let volume = self.volume as f32;
                scratch
                    .iter_mut()
                    .for_each(|v| *v = if *v >= 0.0 { volume } else { -volume });
            }
            Wave::Saw => self.shaped_phase(signal, first, &mut scratch, |p| 2.0 * p - 1.0),
            Wave::Triangle => {
                self.shaped_phase(signal, first, &mut scratch, |p| 1.0 - 4.0 * (p - 0.5).abs())
            }
            Wave::Silence => {}
            Wave::WhiteNoise => self.white_noise(first, &mut scratch),
            Wave::Ticks => self.ticks(signal, first, &mut scratch),
        }
        write_frames(self.format, self.channels, &scratch, out);
        self.scratch = scratch;
    }

    fn sine(&self, signal: &Timeline, first: u64, out: &mut [f32]) {
        let step = TAU * self.freq / signal.rate.as_f64();
        let start = TAU * self.phase_cycles(signal, first);
        let mut re = [0.0f64; LANES];
        let mut im = [0.0f64; LANES];
        for lane in 0..LANES {
            let phase = start + step * lane as f64;
            re[lane] = phase.cos();
            im[lane] = phase.sin();
        }
        let (rot_re, rot_im) = ((step * LANES as f64).cos(), (step * LANES as f64).sin());
        let volume = self.volume;
        let (chunks, tail) = out.as_chunks_mut::<LANES>();
        for chunk in chunks {
            for lane in 0..LANES {
                chunk[lane] = (im[lane] * volume) as f32;
                let r = re[lane] * rot_re - im[lane] * rot_im;
                im[lane] = im[lane] * rot_re + re[lane] * rot_im;
                re[lane] = r;
            }
        }
        for (value, lane_im) in tail.iter_mut().zip(im) {
            *value = (lane_im * volume) as f32;
        }
    }

    fn shaped_phase(
        &self,
        signal: &Timeline,
        first: u64,
        out: &mut [f32],
        shape: impl Fn(f64) -> f64,
    ) {
        let step = self.freq / signal.rate.as_f64();
        let start = self.phase_cycles(signal, first);
        for (i, value) in out.iter_mut().enumerate() {
            let phase = (start + step * i as f64).fract();
            *value = (shape(phase) * self.volume) as f32;
        }
    }

    fn white_noise(&self, first: u64, out: &mut [f32]) {
        let volume = self.volume;
        for (i, value) in out.iter_mut().enumerate() {
            let bits = splitmix64(first + i as u64) >> 11;
            let uniform = bits as f64 / (1u64 << 53) as f64;
            *value = ((2.0 * uniform - 1.0) * volume) as f32;
        }
    }

    /// One period of the sine at the start of every second of the signal's time.
    fn ticks(&self, signal: &Timeline, first: u64, out: &mut [f32]) {
        let rate = signal.rate.as_f64();
        let period = if self.freq > 0.0 {
            rate / self.freq
        } else {
            0.0
        };
        let step = TAU * self.freq / rate;
        // Where in its second the line's anchor is, in samples (0 for a line from time 0).
        let anchor_samples =
            (signal.time.nseconds() % NSECS_PER_SEC) as f64 * rate / NSECS_PER_SEC as f64;
        for (i, value) in out.iter_mut().enumerate() {
            let index = (first + i as u64).saturating_sub(signal.unit);
            let (_, rest) = signal.rate.split_seconds(index);
            let mut within_second = anchor_samples + rest as f64 / signal.rate.den() as f64;
            if within_second >= rate {
                within_second -= rate;
            }
            if within_second < period {
                *value = ((step * within_second).sin() * self.volume) as f32;
            }
        }
    }
}

/// A stateless hash of the sample index: noise is reproducible at any position.
fn splitmix64(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn to_s16(value: f32) -> [u8; 2] {
    let scaled = value * 32767.0;
    let rounded = scaled + if scaled >= 0.0 { 0.5 } else { -0.5 };
    (rounded as i16).to_le_bytes()
}

fn to_f32(value: f32) -> [u8; 4] {
    value.to_le_bytes()
}

fn write_frames(format: SampleFormat, channels: usize, mono: &[f32], out: &mut [u8]) {
    macro_rules! dispatch {
        ($($channels:literal),*) => {
            match (format, channels) {
                $(
                    (SampleFormat::S16le, $channels) => interleave::<{ 2 * $channels }, 2>(mono, out, to_s16),
                    (SampleFormat::F32le, $channels) => interleave::<{ 4 * $channels }, 4>(mono, out, to_f32),
                )*
                _ => unreachable!("caps restrict channels to 1..=8"),
            }
        };
    }
    dispatch!(1, 2, 3, 4, 5, 6, 7, 8);
}

fn interleave<const FRAME: usize, const SAMPLE: usize>(
    mono: &[f32],
    out: &mut [u8],
    convert: impl Fn(f32) -> [u8; SAMPLE],
) {
    let (frames, _) = out.as_chunks_mut::<FRAME>();
    for (frame, &value) in frames.iter_mut().zip(mono) {
        let bytes = convert(value);
        let (samples, _) = frame.as_chunks_mut::<SAMPLE>();
        for sample in samples {
            *sample = bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pushtestsrc::{Drift, UnitRate};
    use crate::time::Rate;

    /// Sample `n` at `n / rate`, as a device at its nominal rate from time 0.
    fn line(rate: u32) -> Timeline {
        Timeline {
            unit: 0,
            time: gst::ClockTime::ZERO,
            rate: UnitRate::nominal(Rate::per_second(rate)),
        }
    }

    fn samples_f32(generator: &mut Generator, rate: u32, first: u64, frames: usize) -> Vec<f32> {
        let mut bytes = vec![0u8; frames * generator.bytes_per_frame()];
        generator.fill(&line(rate), first, &mut bytes);
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn sine_matches_the_closed_form_at_any_position() {
        let mut generator = Generator::new(Wave::Sine, 440.0, 0.8, 2, SampleFormat::F32le);
        for first in [0u64, 1023, 48_000 * 3600 + 17] {
            let samples = samples_f32(&mut generator, 48_000, first, 1027);
            for (frame, pair) in samples.chunks_exact(2).enumerate() {
                let n = first + frame as u64;
                let expected = 0.8 * (TAU * 440.0 * n as f64 / 48_000.0).sin();
                assert!((pair[0] as f64 - expected).abs() < 1e-6, "sample {n}");
                assert_eq!(pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn a_drifting_device_samples_the_signal_at_its_own_instants() {
        // 48 048 samples per second of signal time; the second line starts at sample 1000 at
        // 1.5 s (where a drift change left it).
        let rate = UnitRate::drifting(Rate::per_second(48_000), Drift::from_ppm(1000.0));
        let lines = [
            (
                Timeline {
                    unit: 0,
                    time: gst::ClockTime::ZERO,
                    rate,
                },
                0.0,
            ),
            (
                Timeline {
                    unit: 1000,
                    time: gst::ClockTime::from_mseconds(1500),
                    rate,
                },
                1.5,
            ),
        ];
        let mut generator = Generator::new(Wave::Sine, 440.0, 0.8, 1, SampleFormat::F32le);
        for (line, anchor_seconds) in lines {
            for first in [1000u64, 48_048 * 3600 + 17] {
                let mut bytes = vec![0u8; 4 * 1027];
                generator.fill(&line, first, &mut bytes);
                for (i, value) in bytes.chunks_exact(4).enumerate() {
                    let value = f32::from_le_bytes(value.try_into().unwrap()) as f64;
                    let n = first + i as u64 - line.unit;
                    // Whole cycles apart: 440 per second, an integer per 48 048 samples.
                    let cycles = (440 * (n % 48_048)) as f64 / 48_048.0 + 440.0 * anchor_seconds;
                    let expected = 0.8 * (TAU * cycles.fract()).sin();
                    assert!(
                        (value - expected).abs() < 1e-6,
                        "sample {n} at {anchor_seconds}"
                    );
                }
            }
        }
    }

    #[test]
    fn ticks_fall_on_the_seconds_of_the_signal() {
        let rate = UnitRate::drifting(Rate::per_second(8_000), Drift::from_ppm(-1000.0));
        let line = Timeline {
            unit: 0,
            time: gst::ClockTime::ZERO,
            rate,
        };
        // 7 992 samples per second: second 1 starts at sample 7 992, the tick lasts 8 samples.
        let mut generator = Generator::new(Wave::Ticks, 1000.0, 1.0, 1, SampleFormat::F32le);
        let mut bytes = vec![0u8; 4 * 20];
        generator.fill(&line, 7_990, &mut bytes);
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(
            &values[..3],
            &[0.0, 0.0, 0.0],
            "silence, then the tick at 0 phase"
        );
        assert!(values[3] > 0.5, "a quarter of the way into the tick");
        assert!(values[2..10].iter().any(|v| *v < -0.5));
        assert!(values[10..].iter().all(|v| *v == 0.0), "one period only");
    }

    #[test]
    fn split_buffers_equal_one_buffer() {
        for wave in [
            Wave::Sine,
            Wave::Square,
            Wave::Saw,
            Wave::Triangle,
            Wave::WhiteNoise,
            Wave::Ticks,
        ] {
            let mut generator = Generator::new(wave, 1000.0, 1.0, 1, SampleFormat::S16le);
            let mut whole = vec![0u8; 2 * 9000];
            let line = line(8_000);
            generator.fill(&line, 0, &mut whole);
            let mut parts = vec![0u8; 2 * 9000];
            let (a, b) = parts.split_at_mut(2 * 4001);
            generator.fill(&line, 0, a);
            generator.fill(&line, 4001, b);
            assert_eq!(whole, parts, "{wave:?}");
        }
    }

    #[test]
    fn s16_is_full_scale_and_silence_is_zero() {
        let mut square = Generator::new(Wave::Square, 100.0, 1.0, 1, SampleFormat::S16le);
        let mut bytes = vec![0u8; 2 * 80];
        square.fill(&line(8_000), 0, &mut bytes);
        assert_eq!(i16::from_le_bytes([bytes[2], bytes[3]]), 32767);
        assert_eq!(
            i16::from_le_bytes([bytes[2 * 50], bytes[2 * 50 + 1]]),
            -32767
        );
        let mut silence = Generator::new(Wave::Silence, 100.0, 1.0, 8, SampleFormat::S16le);
        let mut bytes = vec![1u8; 2 * 8 * 10];
        silence.fill(&line(8_000), 5, &mut bytes);
        assert!(bytes.iter().all(|&b| b == 0));
    }
}
