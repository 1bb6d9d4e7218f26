//! Where input frames belong and when output frames are rendered, per reference (SPEC 3a;
//! README "Rate matching"): the two time lines the control loop brings together. Pure: times are seconds of running time
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

/// What one buffer says about `belong`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub line: BelongLine,
    pub raw: BelongLine,
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

/// `belong`, per reference: a delay-locked loop learns where the input's frames belong from
/// one pair per buffer, so that the jitter of stamps or arrival times is smoothed before it
/// reaches the ratio loop.
#[derive(Debug, Clone)]
pub enum Belong {
    /// The stamps are capture times on the pipeline clock, which jitter: the line through
    /// (frame index, stamp) pairs, the frame index counted in nominal seconds.
    Stamps { map: Dll, nominal_period: f64 },
    /// The stamps are on the device clock: exact spacing, unknown mapping to the pipeline
    /// clock, learnt from (stamp, arrival) pairs.
    DeviceClock(Dll),
}

impl Belong {
    /// `nominal_period`: seconds of running time per input frame at the nominal rate;
    /// `slope`: the map's slope learnt before (same clocks, after a caps change).
    pub fn new(reference: Reference, nominal_period: f64, slope: Option<f64>) -> Self {
        let map = Dll::new(MAPPING_BANDWIDTH).with_slope(slope);
        match reference {
            Reference::Timestamps => Self::DeviceClock(map),
            _ => Self::Stamps {
                map,
                nominal_period,
            },
        }
    }

    /// The smoothed line of `input`'s frames and the line its own times draw (`raw`, for
    /// long-term measurements that must not wait for the loop); `None` when it has no frames
    /// or no usable times.
    pub fn observe(&mut self, input: &InputTimes) -> Option<Observation> {
        // A buffer of no duration gives no period to place its frames by.
        if input.frames == 0 || input.end <= input.start {
            return None;
        }
        let stamp_period = (input.end - input.start) / input.frames as f64;
        let frame = input.first_frame as f64;
        match self {
            Self::Stamps {
                map,
                nominal_period,
            } => {
                let x = frame * *nominal_period;
                map.update(x, input.start);
                Some(Observation {
                    line: BelongLine {
                        frame,
                        time: map.predict(x)?,
                        period: map.slope() * *nominal_period,
                    },
                    raw: BelongLine {
                        frame,
                        time: input.start,
                        period: stamp_period,
                    },
                })
            }
            Self::DeviceClock(map) => {
                let arrival = input.arrival?;
                map.update(input.start, arrival);
                Some(Observation {
                    line: BelongLine {
                        frame,
                        time: map.predict(input.start)?,
                        period: stamp_period * map.slope(),
                    },
                    raw: BelongLine {
                        frame,
                        time: arrival,
                        period: stamp_period * map.slope(),
                    },
                })
            }
        }
    }

    /// The map's slope, once learnt (see [`Dll::learnt_slope`]).
    pub fn learnt_slope(&self) -> Option<f64> {
        match self {
            Self::Stamps { map, .. } | Self::DeviceClock(map) => map.learnt_slope(),
        }
    }

    pub fn set_tracking(&mut self, tracking: bool) {
        match self {
            Self::Stamps { map, .. } | Self::DeviceClock(map) => map.set_tracking(tracking),
        }
    }
}

/// `render`: the running time output frame `k` stands for.
// One per run of the loop, never in a collection: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Render {
    /// The nominal rate on the pipeline clock: `origin + k·period`.
    Nominal { origin: f64, period: f64 },
    /// The sink consumes `1/period` frames per second of its own clock: frame `k` is rendered
    /// when the sink's clock reads `sink_origin + k·period`, mapped to the pipeline clock by a
    /// delay-locked loop on (sink clock, running time) pairs. The sink's time is its device
    /// time: it stands still while the device does (a sound server starting the stream) and
    /// may leap (a device recovered). Such a change of the sink's own latency is not a rate:
    /// the sink's time line is shifted by the jump (`stalled`) so that the audio neither jumps
    /// nor chases it.
    SinkClock {
        /// The sink's time at `origin`: first from the first reading (the slope unknown), then
        /// once more from the same reading when the loop is locked and the slope learnt, so
        /// that no error of the first guess (the drift times the first reading's distance from
        /// `origin`) remains.
        sink_origin: Option<f64>,
        first_reading: Option<(f64, f64)>,
        /// The last reading (sink time, running time).
        last_reading: Option<(f64, f64)>,
        /// Running time the map has learnt from, between readings that showed no jump.
        learnt_for: f64,
        /// The slope the map started from.
        initial_slope: Option<f64>,
        /// How long (running time) the sink's time has stood still since the first reading, in
        /// all (negative: leapt); turned into sink time with the slope learnt so far.
        stalled: f64,
        refined: bool,
        origin: f64,
        period: f64,
        map: Dll,
    },
}

/// How far (seconds) a reading of the sink's time may stray from the learnt map, beyond
/// [`SINK_RATE_TOLERANCE`] of the time since the previous reading, before it counts as a jump
/// of the sink's time line rather than jitter or drift.
pub const SINK_JUMP_TOLERANCE: f64 = 0.01;
/// The largest rate error the map is expected to have between two readings: ten times a
/// crystal's tolerance. A stall of the sink's time within a long wait for it (`ratematch`
/// blocked behind the sink) must not bend the slope by more.
pub const SINK_RATE_TOLERANCE: f64 = 0.01;
/// Seconds of steady readings before the slope learnt is kept across a jump of the sink's
/// time.
pub const SINK_SETTLE: f64 = 2.0;

impl Render {
    /// Output frame 0 stands for `origin`; `period` is the nominal time of one output frame;
    /// `slope`: the sink map's slope learnt before.
    pub fn new(reference: Reference, origin: f64, period: f64, slope: Option<f64>) -> Self {
        match reference {
            Reference::SinkClock => Self::SinkClock {
                sink_origin: None,
                first_reading: None,
                last_reading: None,
                learnt_for: 0.0,
                initial_slope: slope,
                stalled: 0.0,
                refined: false,
                origin,
                period,
                map: Dll::new(MAPPING_BANDWIDTH).with_slope(slope),
            },
            _ => Self::Nominal { origin, period },
        }
    }

    /// A reading of the sink's clock (seconds) taken at running time `time`. Returns how long
    /// (running time) it shows the sink's time stood still (negative: leapt), if it does: the
    /// render times go on without a jump.
    pub fn observe_sink_clock(&mut self, sink_time: f64, time: f64) -> Option<f64> {
        let Self::SinkClock {
            sink_origin,
            first_reading,
            last_reading,
            learnt_for,
            initial_slope,
            stalled,
            origin,
            map,
            ..
        } = self
        else {
            return None;
        };
        // Against the last reading itself, not the smoothed line: the line's own error at
        // that moment is the loop's to correct, not part of the jump.
        let jump = last_reading
            .map(|(last_sink_time, last_time)| {
                let expected = last_time + (sink_time - last_sink_time) * map.slope();
                let tolerance =
                    SINK_JUMP_TOLERANCE + SINK_RATE_TOLERANCE * (time - last_time).abs();
                (time - expected, tolerance)
            })
            .filter(|(late, tolerance)| late.abs() > *tolerance)
            .map(|(late, _)| late);
        let advanced = last_reading.is_none_or(|(last_sink_time, _)| sink_time > last_sink_time);
        match jump {
            Some(late) => {
                map.shift(late);
                *stalled += late;
                // A jump within the first readings (a sound server starting the stream):
                // the slope learnt from so few, bent by the start, is dropped.
                if *learnt_for < SINK_SETTLE {
                    map.set_slope(*initial_slope);
                }
                *last_reading = Some((sink_time, time));
            }
            // A reading at the same sink time as the last one is kept out of the comparison:
            // a sink standing still reading after reading (a sound server starting the stream
            // while it still takes a buffer every 10 ms) adds up to a jump against the last
            // reading it moved at, instead of passing as steps within the tolerance each.
            None if advanced => {
                *learnt_for += last_reading.map_or(0.0, |(_, last_time)| time - last_time);
                *last_reading = Some((sink_time, time));
            }
            None => {}
        }
        map.update(sink_time, time);
        if sink_origin.is_none() {
            *first_reading = Some((sink_time, time));
            *sink_origin = map.inverse(*origin);
        }
        jump
    }

    pub fn set_tracking(&mut self, tracking: bool) {
        if let Self::SinkClock { map, refined, .. } = self {
            map.set_tracking(tracking);
            if tracking && !*refined {
                *refined = true;
                self.place_origin();
            }
        }
    }

    /// Places the sink's time at `origin` again from the first reading with the slope learnt
    /// so far: when the loop first locks (the slope is good to the lock's precision, and the
    /// first guess, off by the drift times the first reading's distance from `origin`, is
    /// milliseconds off when the input arrives late), and once more when it starts tracking.
    pub fn place_origin(&mut self) {
        if let Self::SinkClock {
            map,
            sink_origin,
            first_reading: Some((sink_time, time)),
            origin,
            ..
        } = self
        {
            *sink_origin = Some(*sink_time - (*time - *origin) / map.slope());
        }
    }

    /// The sink map's slope, once learnt (`None`: nominal, or not learnt yet).
    pub fn learnt_slope(&self) -> Option<f64> {
        match self {
            Self::SinkClock { map, .. } => map.learnt_slope(),
            Self::Nominal { .. } => None,
        }
    }

    pub fn time_of(&self, frame: u64) -> f64 {
        match self {
            Self::Nominal { origin, period } => origin + frame as f64 * period,
            Self::SinkClock {
                sink_origin: Some(sink_origin),
                stalled,
                period,
                map,
                ..
            } => map
                .predict(sink_origin - stalled / map.slope() + frame as f64 * period)
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
        let mut belong = Belong::new(Reference::GraphClock, 0.001, None);
        let line = belong
            .observe(&InputTimes {
                first_frame: 100,
                frames: 10,
                start: 1.0,
                end: 1.01,
                arrival: None,
            })
            .unwrap()
            .line;
        assert!((line.frame_at(1.005) - 105.0).abs() < 1e-9);
        assert!((line.time_of(110.0) - 1.01).abs() < 1e-12);
    }

    #[test]
    fn jittering_stamps_are_smoothed_into_a_line() {
        // 1000 ppm fast, 100 frames a buffer, stamps ±1 ms off.
        let mut belong = Belong::new(Reference::GraphClock, 0.001, None);
        let k = 1.001;
        let mut line = None;
        for n in 0..3000u64 {
            let jitter = if n % 3 == 0 { 0.001 } else { -0.0005 };
            let start = n as f64 * 0.1 / k + jitter;
            line = belong
                .observe(&InputTimes {
                    first_frame: n * 100,
                    frames: 100,
                    start,
                    end: start + 0.1 / k,
                    arrival: None,
                })
                .map(|observation| observation.line);
        }
        let line = line.unwrap();
        assert!((line.time_of(299_900.0) - 299.9 / k).abs() < 2e-4);
    }

    #[test]
    fn device_stamps_are_mapped_through_the_arrivals() {
        // A device clock running 1000 ppm fast, buffers of 100 ms of device time arriving when
        // their first frame was captured (latency already taken off).
        let mut belong = Belong::new(Reference::Timestamps, 0.001, None);
        let k = 1.001;
        let mut line = None;
        for n in 0..3000u64 {
            let start = n as f64 * 0.1;
            line = belong
                .observe(&InputTimes {
                    first_frame: n * 100,
                    frames: 100,
                    start,
                    end: start + 0.1,
                    arrival: Some(2.0 + start / k),
                })
                .map(|observation| observation.line);
        }
        let line = line.unwrap();
        assert!((line.period - 0.001 / k).abs() < 1e-12, "{}", line.period);
        assert!((line.time_of(299_900.0) - (2.0 + 299.9 / k)).abs() < 1e-6);
    }

    #[test]
    fn the_sink_clock_sets_the_render_rate() {
        let rho = 1.001;
        // Output frame 0 stands for 0.05 s; the sink's clock is first read at 0.25 s (in the
        // element: the first buffer's arrival, a latency after it belongs).
        let mut render = Render::new(Reference::SinkClock, 0.05, 1.0 / 8000.0, None);
        for n in 0..3000 {
            let time = 0.25 + n as f64 * 0.1;
            render.observe_sink_clock(7.0 + time * rho, time);
        }
        let expected = 0.05 + 80_000.0 / 8000.0 / rho;
        let first_guess = render.time_of(80_000);
        assert!(
            (first_guess - expected).abs() > 1e-4,
            "0.2 s with a slope 1000 ppm off: 200 µs"
        );
        render.set_tracking(true);
        assert!(
            (render.time_of(80_000) - expected).abs() < 1e-6,
            "{} {expected}",
            render.time_of(80_000)
        );
        let nominal = Render::new(Reference::GraphClock, 0.5, 1.0 / 8000.0, None);
        assert_eq!(nominal.time_of(8000), 1.5);
    }
}
