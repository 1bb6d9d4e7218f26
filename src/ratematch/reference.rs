//! Where input frames belong and when output frames are rendered, per reference (RATEMATCH.md):
//! the two time lines the control loop brings together. Pure: times are seconds of running time
//! since an origin the caller picks, frames are counted from the resampler's start.

use super::control::Dll;
use super::mode::Reference;

/// Bandwidth of the loops that learn a clock mapping (arrival times, the sink's clock), in Hz:
/// slower than the ratio loop, so that the jitter of arrival times is smoothed before it
/// steers anything.
pub const MAPPING_BANDWIDTH: f64 = 0.1;

/// A stretch of input frames placed on the pipeline's running time: frame `frame` belongs at
/// `time`, and frames follow each other every `period` seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BelongLine {
    pub frame: f64,
    pub time: f64,
    pub period: f64,
}

impl BelongLine {
    /// The (fractional) input frame that belongs at `time`: `belong⁻¹`.
    pub fn frame_at(&self, time: f64) -> f64 {
        self.frame + (time - self.time) / self.period
    }

    #[cfg(test)]
    pub fn time_of(&self, frame: f64) -> f64 {
        self.time + (frame - self.frame) * self.period
    }
}

/// One input buffer as the references see it, in seconds since the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputTimes {
    /// Index of its first frame since the resampler started.
    pub first_frame: u64,
    pub frames: u64,
    /// Running time of its stamp and of its end (stamp + duration).
    pub start: f64,
    pub end: f64,
    /// Running time at which it reached the element, minus the upstream latency: when its first
    /// frame was captured, on the pipeline clock.
    pub arrival: Option<f64>,
}

/// `belong`, per reference.
#[derive(Debug, Clone)]
pub enum Belong {
    /// The stamps are capture times on the pipeline clock: taken as they are (their jitter is
    /// smoothed by the ratio loop).
    Stamps,
    /// The stamps are on the device clock: exact spacing, unknown mapping to the pipeline
    /// clock, learnt by a delay-locked loop on (stamp, arrival) pairs.
    DeviceClock(Dll),
}

impl Belong {
    pub fn new(reference: Reference) -> Self {
        match reference {
            Reference::Timestamps => Self::DeviceClock(Dll::new(MAPPING_BANDWIDTH)),
            _ => Self::Stamps,
        }
    }

    /// The line of `input`'s frames; `None` when it has no frames or no usable times.
    pub fn observe(&mut self, input: &InputTimes) -> Option<BelongLine> {
        if input.frames == 0 || input.end < input.start {
            return None;
        }
        let stamp_period = (input.end - input.start) / input.frames as f64;
        match self {
            Self::Stamps => Some(BelongLine {
                frame: input.first_frame as f64,
                time: input.start,
                period: stamp_period,
            }),
            Self::DeviceClock(map) => {
                map.update(input.start, input.arrival?);
                Some(BelongLine {
                    frame: input.first_frame as f64,
                    time: map.predict(input.start)?,
                    period: stamp_period * map.slope(),
                })
            }
        }
    }
}

/// `render`: the running time output frame `k` stands for.
#[derive(Debug, Clone)]
pub enum Render {
    /// The nominal rate on the pipeline clock: `origin + k·period`.
    Nominal { origin: f64, period: f64 },
    /// The sink consumes `1/period` frames per second of its own clock: frame `k` is rendered
    /// when the sink's clock reads `sink_origin + k·period`, mapped to the pipeline clock by a
    /// delay-locked loop on (sink clock, running time) pairs.
    SinkClock {
        sink_origin: Option<f64>,
        origin: f64,
        period: f64,
        map: Dll,
    },
}

impl Render {
    /// Output frame 0 stands for `origin`; `period` is the nominal time of one output frame.
    pub fn new(reference: Reference, origin: f64, period: f64) -> Self {
        match reference {
            Reference::SinkClock => Self::SinkClock {
                sink_origin: None,
                origin,
                period,
                map: Dll::new(MAPPING_BANDWIDTH),
            },
            _ => Self::Nominal { origin, period },
        }
    }

    /// A reading of the sink's clock (seconds) taken at running time `time`.
    pub fn observe_sink_clock(&mut self, sink_time: f64, time: f64) {
        if let Self::SinkClock {
            sink_origin,
            origin,
            map,
            ..
        } = self
        {
            map.update(sink_time, time);
            if sink_origin.is_none() {
                *sink_origin = map.inverse(*origin);
            }
        }
    }

    pub fn time_of(&self, frame: u64) -> f64 {
        match self {
            Self::Nominal { origin, period } => origin + frame as f64 * period,
            Self::SinkClock {
                sink_origin: Some(sink_origin),
                period,
                map,
                ..
            } => map
                .predict(sink_origin + frame as f64 * period)
                .expect("the map has its first pair"),
            // No reading of the sink's clock yet: nominal until there is one.
            Self::SinkClock { origin, period, .. } => origin + frame as f64 * period,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_place_frames_as_they_say() {
        let mut belong = Belong::new(Reference::GraphClock);
        let line = belong
            .observe(&InputTimes {
                first_frame: 100,
                frames: 10,
                start: 1.0,
                end: 1.01,
                arrival: None,
            })
            .unwrap();
        assert!((line.frame_at(1.005) - 105.0).abs() < 1e-9);
        assert!((line.time_of(110.0) - 1.01).abs() < 1e-12);
    }

    #[test]
    fn device_stamps_are_mapped_through_the_arrivals() {
        // A device clock running 1000 ppm fast, buffers of 100 ms of device time arriving when
        // their first frame was captured (latency already taken off).
        let mut belong = Belong::new(Reference::Timestamps);
        let k = 1.001;
        let mut line = None;
        for n in 0..3000u64 {
            let start = n as f64 * 0.1;
            line = belong.observe(&InputTimes {
                first_frame: n * 100,
                frames: 100,
                start,
                end: start + 0.1,
                arrival: Some(2.0 + start / k),
            });
        }
        let line = line.unwrap();
        assert!((line.period - 0.001 / k).abs() < 1e-12, "{}", line.period);
        assert!((line.time_of(299_900.0) - (2.0 + 299.9 / k)).abs() < 1e-6);
    }

    #[test]
    fn the_sink_clock_sets_the_render_rate() {
        let rho = 1.001;
        // Output frame 0 stands for 0.05 s, and the first reading of the sink's clock is taken
        // then (in the element: the first buffer's arrival, a latency after it belongs).
        let mut render = Render::new(Reference::SinkClock, 0.05, 1.0 / 8000.0);
        for n in 0..3000 {
            let time = 0.05 + n as f64 * 0.1;
            render.observe_sink_clock(7.0 + time * rho, time);
        }
        let expected = 0.05 + 80_000.0 / 8000.0 / rho;
        assert!(
            (render.time_of(80_000) - expected).abs() < 1e-6,
            "{} {expected}",
            render.time_of(80_000)
        );
        let nominal = Render::new(Reference::GraphClock, 0.5, 1.0 / 8000.0);
        assert_eq!(nominal.time_of(8000), 1.5);
    }
}
