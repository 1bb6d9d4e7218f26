//! Band-limited resampling of interleaved f32 frames at a ratio that may change with every call.
//!
//! A placeholder with the API of RATEMATCH.md, written so that `ratematch` can be built and
//! tested before the benchmarked resampler lands (issue 12, item 5): a windowed sinc (Blackman,
//! 32 taps) read from a table of phases with linear interpolation between them. It is correct,
//! not fast; `ratematch` depends on nothing but the API.

use std::f64::consts::PI;

/// Taps on each side of the read position: the resampler's delay in frames.
const HALF_TAPS: usize = 16;
const TAPS: usize = 2 * HALF_TAPS;
/// Fractional positions tabulated between two input frames.
const PHASES: usize = 512;
/// Cutoff relative to the input's Nyquist frequency: below 1/ratio for the ratios allowed, so a
/// slightly faster read does not alias.
const CUTOFF: f64 = 0.9;
/// Ratios outside this range are clamped (input frames per output frame).
pub const MIN_RATIO: f64 = 0.5;
pub const MAX_RATIO: f64 = 2.0;

pub struct Resampler {
    channels: usize,
    /// `table[phase][tap]`: the weight of input frame `floor(p) - HALF_TAPS + 1 + tap` when the
    /// fractional part of `p` is `phase / PHASES`.
    table: Vec<[f32; TAPS]>,
    /// Input frames kept for the taps, interleaved; `history[0]` is frame `history_start`.
    history: Vec<f32>,
    history_start: i64,
    position: f64,
}

impl Resampler {
    pub fn new(channels: usize) -> Self {
        let mut resampler = Self {
            channels: channels.max(1),
            table: kernel_table(),
            history: Vec::new(),
            history_start: 0,
            position: 0.0,
        };
        resampler.reset();
        resampler
    }

    /// Appends to `output` the frames interpolated at input positions p, p+ratio, p+2·ratio, …
    /// as far as the input fed so far allows (`ratio` = input frames per output frame, clamped
    /// to [`MIN_RATIO`, `MAX_RATIO`]).
    pub fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        let ratio = if ratio.is_finite() {
            ratio.clamp(MIN_RATIO, MAX_RATIO)
        } else {
            1.0
        };
        let channels = self.channels;
        self.history
            .extend_from_slice(&input[..input.len() / channels * channels]);
        let fed_end = self.history_start + (self.history.len() / channels) as i64;
        loop {
            let whole = self.position.floor();
            let index = whole as i64;
            if index + HALF_TAPS as i64 >= fed_end {
                break;
            }
            let phase = (self.position - whole) * PHASES as f64;
            let phase_index = (phase as usize).min(PHASES - 1);
            let blend = (phase - phase_index as f64) as f32;
            let (low, high) = (&self.table[phase_index], &self.table[phase_index + 1]);
            let first = (index - HALF_TAPS as i64 + 1 - self.history_start) as usize;
            for channel in 0..channels {
                let mut sum = 0.0f32;
                for tap in 0..TAPS {
                    let weight = low[tap] + (high[tap] - low[tap]) * blend;
                    sum += weight * self.history[(first + tap) * channels + channel];
                }
                output.push(sum);
            }
            self.position += ratio;
        }
        let keep_from = self.position.floor() as i64 - HALF_TAPS as i64 + 1;
        let drop = (keep_from - self.history_start).clamp(0, fed_end - self.history_start);
        self.history.drain(..drop as usize * channels);
        self.history_start += drop;
    }

    /// The input position (in frames since the first frame fed after `new`/`reset`, fractional)
    /// the next output frame will be interpolated at.
    pub fn read_position(&self) -> f64 {
        self.position
    }

    /// Input frames the resampler must see beyond a position before it can output it.
    pub fn delay_frames(&self) -> usize {
        HALF_TAPS
    }

    pub fn reset(&mut self) {
        // Silence before the first frame, so that the first output needs no special case.
        self.history_start = -(HALF_TAPS as i64);
        self.history.clear();
        self.history.resize(HALF_TAPS * self.channels, 0.0);
        self.position = 0.0;
    }
}

fn kernel_table() -> Vec<[f32; TAPS]> {
    (0..=PHASES)
        .map(|phase| {
            let fraction = phase as f64 / PHASES as f64;
            let mut taps = [0.0f64; TAPS];
            for (tap, weight) in taps.iter_mut().enumerate() {
                let distance = fraction + HALF_TAPS as f64 - 1.0 - tap as f64;
                *weight = windowed_sinc(distance);
            }
            // Unity gain at DC for every phase.
            let sum: f64 = taps.iter().sum();
            let mut row = [0.0f32; TAPS];
            for (out, weight) in row.iter_mut().zip(taps) {
                *out = (weight / sum) as f32;
            }
            row
        })
        .collect()
}

fn windowed_sinc(distance: f64) -> f64 {
    let half = HALF_TAPS as f64;
    if distance.abs() >= half {
        return 0.0;
    }
    let x = PI * CUTOFF * distance;
    let sinc = if x.abs() < 1e-12 { 1.0 } else { x.sin() / x };
    let w = PI * (distance / half + 1.0);
    let blackman = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
    CUTOFF * sinc * blackman
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(frames: usize, cycles_per_frame: f64) -> Vec<f32> {
        (0..frames)
            .map(|n| (2.0 * PI * cycles_per_frame * n as f64).sin() as f32)
            .collect()
    }

    #[test]
    fn reads_every_position_the_input_allows_and_keeps_the_read_position() {
        let mut resampler = Resampler::new(1);
        let mut output = Vec::new();
        resampler.process(&sine(1000, 0.01), 1.001, &mut output);
        let delay = resampler.delay_frames() as f64;
        let position = resampler.read_position();
        assert!(position < 1000.0 - delay + 1.0 && position >= 1000.0 - delay - 1.001);
        assert_eq!(output.len(), (position / 1.001).round() as usize);
        resampler.reset();
        assert_eq!(resampler.read_position(), 0.0);
    }

    #[test]
    fn interpolates_a_sine_at_fractional_positions_in_any_chunking() {
        let input = sine(4000, 0.01);
        let mut resampler = Resampler::new(1);
        let mut output = Vec::new();
        for chunk in input.chunks(333) {
            resampler.process(chunk, 0.97, &mut output);
        }
        for (k, value) in output.iter().enumerate().skip(40) {
            let expected = (2.0 * PI * 0.01 * 0.97 * k as f64).sin();
            assert!((*value as f64 - expected).abs() < 1e-3, "frame {k}");
        }
    }
}
