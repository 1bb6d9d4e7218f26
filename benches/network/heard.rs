//! What a listener hears: two receivers rendering into the two channels of one PulseAudio null
//! sink (receiver A left, B right), recorded from the sink's monitor. The two channels of one
//! sink are rendered at one instant, so the delay between them is the inter-receiver render
//! spread, sink and all. The sender sends white noise (no period: a sine's phase tells a delay
//! only modulo its period, 2.3 ms at 440 Hz, and a start-up jump is tens of ms), and each 10 ms
//! block of the left channel is found in the right one by normalized cross-correlation (whole
//! samples, then a parabola through the peak and its neighbours for the fraction).

use std::sync::{Arc, Mutex};

use gst::prelude::*;

use crate::common::pactl;

pub const RATE: u32 = 48_000;
/// One block: 10 ms.
const BLOCK: usize = 480;
/// The farthest delay searched: ±2 s (a sink that does not slave its clock keeps what its
/// start-up did, hundreds of ms).
const FULL_SEARCH: isize = 96_000;
/// A block not found near the last delay found is searched fully only every this many blocks
/// (one full search costs as much as 2000 near ones): a jump is found within 0.2 s.
const FULL_SEARCH_EVERY: usize = 20;
/// Around the previous block's delay first: ±1 ms.
const NEAR_SEARCH: isize = 48;
/// A block is found when its correlation with the other channel reaches this (identical noise:
/// about 1; resampled by a sink's slaving, a little less).
const FOUND: f64 = 0.9;
/// Below this mean square a block is silence (the noise has about 0.2).
const SILENCE: f64 = 1e-4;

/// A stereo null sink and a recording of its monitor (F32, interleaved).
pub struct Recording {
    module: String,
    pub sink_name: String,
    pipeline: gst::Pipeline,
    samples: Arc<Mutex<Vec<f32>>>,
}

impl Recording {
    pub fn start(sink_name: &str) -> Self {
        let module = pactl(&[
            "load-module",
            "module-null-sink",
            &format!("sink_name={sink_name}"),
            &format!("rate={RATE}"),
            "channels=2",
            "channel_map=front-left,front-right",
            "format=float32le",
        ]);
        let pipeline = gst::parse::launch(&format!(
            "pulsesrc device={sink_name}.monitor ! \
             audio/x-raw,format=F32LE,rate={RATE},channels=2 ! appsink name=record sync=false"
        ))
        .expect("a recording pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
        let appsink = pipeline
            .by_name("record")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        let samples = Arc::new(Mutex::new(Vec::new()));
        let kept = samples.clone();
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| {
                    let sample = appsink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                    let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                    kept.lock().unwrap().extend(
                        map.chunks_exact(4)
                            .map(|bytes| f32::from_le_bytes(bytes.try_into().unwrap())),
                    );
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .expect("the recording starts");
        Self {
            module,
            sink_name: sink_name.to_string(),
            pipeline,
            samples,
        }
    }

    /// Stops, unloads the sink; the recording's left and right channels.
    pub fn stop(self) -> (Vec<f32>, Vec<f32>) {
        let _ = self.pipeline.set_state(gst::State::Null);
        pactl(&["unload-module", &self.module]);
        let samples = self.samples.lock().unwrap();
        let left = samples.iter().step_by(2).copied().collect();
        let right = samples.iter().skip(1).step_by(2).copied().collect();
        (left, right)
    }
}

/// What one 10 ms block of the recording holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Block {
    /// Silence in both channels (before the receivers play, or after).
    Silence,
    /// Sound in one channel not found in the other (one receiver silent, a gap inside the
    /// block, or within 0.2 s of a jump: see `FULL_SEARCH_EVERY`).
    NotFound,
    /// The delay of the right channel behind the left, in ns.
    Delay(f64),
}

/// Each 10 ms block of the left channel, found in the right one.
pub fn delays(left: &[f32], right: &[f32]) -> Vec<Block> {
    let mut previous: Option<isize> = None;
    (0..left.len().min(right.len()) / BLOCK)
        .map(|index| {
            let start = index * BLOCK;
            let block = &left[start..start + BLOCK];
            if mean_square(block) < SILENCE {
                return if mean_square(&right[start..start + BLOCK]) < SILENCE {
                    Block::Silence
                } else {
                    Block::NotFound
                };
            }
            let found = previous
                .and_then(|lag| best_lag(block, right, start, lag - NEAR_SEARCH, lag + NEAR_SEARCH))
                .filter(|(_, correlation)| *correlation >= FOUND)
                .or_else(|| {
                    (index % FULL_SEARCH_EVERY == 0)
                        .then(|| best_lag(block, right, start, -FULL_SEARCH, FULL_SEARCH))
                        .flatten()
                })
                .filter(|(_, correlation)| *correlation >= FOUND);
            let Some((lag, _)) = found else {
                return Block::NotFound;
            };
            previous = Some(lag);
            Block::Delay(refine(block, right, start, lag) * 1e9 / f64::from(RATE))
        })
        .collect()
}

fn mean_square(samples: &[f32]) -> f64 {
    samples
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / samples.len() as f64
}

/// The normalized correlation of `block` with `right` at `start + lag` (`None`: out of the
/// recording, or silence there).
fn correlation(block: &[f32], right: &[f32], start: usize, lag: isize) -> Option<f64> {
    let from = usize::try_from(start as isize + lag).ok()?;
    let other = right.get(from..from + block.len())?;
    let (mut product, mut energy_a, mut energy_b) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in block.iter().zip(other) {
        product += f64::from(a) * f64::from(b);
        energy_a += f64::from(a) * f64::from(a);
        energy_b += f64::from(b) * f64::from(b);
    }
    if energy_b / (block.len() as f64) < SILENCE {
        return None;
    }
    Some(product / (energy_a * energy_b).sqrt())
}

/// The lag in `from..=to` of the highest correlation, and that correlation.
fn best_lag(
    block: &[f32],
    right: &[f32],
    start: usize,
    from: isize,
    to: isize,
) -> Option<(isize, f64)> {
    (from..=to)
        .filter_map(|lag| Some((lag, correlation(block, right, start, lag)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The peak at `lag` to a fraction of a sample: the vertex of the parabola through the
/// correlations at `lag - 1`, `lag`, `lag + 1`.
fn refine(block: &[f32], right: &[f32], start: usize, lag: isize) -> f64 {
    let at = |lag| correlation(block, right, start, lag);
    match (at(lag - 1), at(lag), at(lag + 1)) {
        (Some(before), Some(peak), Some(after)) => {
            let curvature = before - 2.0 * peak + after;
            if curvature < 0.0 {
                lag as f64 + 0.5 * (before - after) / curvature
            } else {
                lag as f64
            }
        }
        _ => lag as f64,
    }
}
