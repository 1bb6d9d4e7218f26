//! The other candidate: `rubato`'s asynchronous sinc resampler behind the same calls as
//! `ratematch`'s `Resampler` (new, process, read_position, delay_frames), enough to measure its
//! quality and cost the same way.
//!
//! rubato takes fixed chunks, so input is queued here until a chunk is complete, and a ratio
//! applies from the next chunk on. It keeps its read position in an `f64` it does not expose;
//! the position here repeats its arithmetic (one `idx += 1/resample_ratio` per output frame,
//! less the chunk at each chunk's end) and adds the centre of its sinc window, which the
//! benchmark checks by fitting the phase of the output.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Adjustable, Async, FixedAsync, Resampler as _, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

/// Input frames rubato takes per call (its `chunk_size`).
const CHUNK: usize = 1024;

pub struct RubatoResampler {
    inner: Async<f32>,
    channels: usize,
    /// Interleaved input not yet handed to rubato.
    queued: Vec<f32>,
    /// rubato's ratio (output rate / input rate) last set.
    resample_ratio: f64,
    /// Frames handed to rubato in completed chunks.
    consumed: u64,
    /// rubato's `last_index` as it computes it.
    last_index: f64,
    sinc_len: usize,
    oversampling_factor: usize,
}

impl RubatoResampler {
    pub fn new(channels: usize, sinc_len: usize, interpolation: SincInterpolationType) -> Self {
        let oversampling_factor = match interpolation {
            SincInterpolationType::Linear | SincInterpolationType::Nearest => 256,
            _ => 128,
        };
        let parameters = SincInterpolationParameters {
            sinc_len,
            f_cutoff: None,
            oversampling_factor,
            interpolation,
            window: WindowFunction::BlackmanHarris2,
        };
        let inner =
            Async::<f32>::new_sinc(1.0, 1.2, &parameters, CHUNK, channels, FixedAsync::Input)
                .expect("valid rubato parameters");
        // rubato rounds the length up to a multiple of 8, and starts one window back.
        let sinc_len = sinc_len.div_ceil(8) * 8;
        Self {
            inner,
            channels,
            queued: Vec::new(),
            resample_ratio: 1.0,
            consumed: 0,
            last_index: -(sinc_len as f64 - 1.0),
            sinc_len,
            oversampling_factor,
        }
    }

    pub fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        let resample_ratio = 1.0 / ratio;
        if resample_ratio != self.resample_ratio {
            self.inner
                .set_resample_ratio(resample_ratio, false)
                .expect("ratio within the range given at creation");
            self.resample_ratio = resample_ratio;
        }
        self.queued.extend_from_slice(input);
        let channels = self.channels;
        loop {
            let in_frames = self.inner.input_frames_next();
            if self.queued.len() < in_frames * channels {
                break;
            }
            let out_frames = self.inner.output_frames_next();
            let start = output.len();
            output.resize(start + out_frames * channels, 0.0);
            let input =
                InterleavedSlice::new(&self.queued[..in_frames * channels], channels, in_frames)
                    .expect("queued input fits");
            let mut out = InterleavedSlice::new_mut(&mut output[start..], channels, out_frames)
                .expect("output fits");
            let (used, produced) = self
                .inner
                .process_into_buffer(&input, &mut out, None)
                .expect("rubato processes a complete chunk");
            debug_assert_eq!((used, produced), (in_frames, out_frames));
            self.queued.drain(..in_frames * channels);
            let t_ratio = 1.0 / self.resample_ratio;
            let mut idx = self.last_index;
            for _ in 0..produced {
                idx += t_ratio;
            }
            self.last_index = idx - used as f64;
            self.consumed += used as u64;
        }
    }

    /// The input position of the next output frame: the sinc window's centre is one frame
    /// before half its length, and its table is read one oversampled row ahead (both found
    /// by the benchmark's phase fit, which checks them).
    pub fn read_position(&self) -> f64 {
        self.consumed as f64
            + self.last_index
            + 1.0 / self.resample_ratio
            + (self.sinc_len / 2) as f64
            - 1.0
            + 1.0 / self.oversampling_factor as f64
    }

    pub fn delay_frames(&self) -> usize {
        self.sinc_len / 2 + CHUNK
    }
}
