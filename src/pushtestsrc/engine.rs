//! The timing engine of the test sources: every rule of SPEC section 2 that does not depend on
//! what the buffers contain, on a grid of *units* (audio samples, video frames) produced at an
//! exact rational [`Rate`], in buffers of `units_per_buffer` units.
//!
//! It owns the timing settings (`latency`, `ts-offset`, `max-offset`, `push-source-flags`,
//! `is-live`, `num-buffers`, `drift`), the simulated capture (a buffer captured at `c` is pushed
//! at `c + latency`, its units captured, stamped and filled on the time lines of
//! `device_time.rs` per the flags; the capture buffer of `src/timing/capture_loss.rs` loses whole buffers when
//! downstream blocks), the clock wait that `unlock` and timing changes interrupt, seeking (any
//! rate but 0, reverse included; live sources refuse rates other than 1.0) and the LATENCY and
//! DURATION answers. The base class (`imp.rs`) calls it from the GStreamer virtual methods.
//!
//! Locks: `timing`, `stream`, `clock_wait` and `device_clock` are each taken alone, never one
//! inside another, and none is held while the engine posts a message, pushes an event,
//! notifies, sets the base class's live flag or waits on (or unschedules) a clock wait.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst_base::prelude::*;

use super::device_clock::DeviceClock;
use super::device_time::{self, Clocking, Drift, Timeline, UnitRate};
use crate::push_source::{PushSourceFlags, StreamOffsetResult};
use crate::time::{self, Rate};
use crate::timing::capture_loss::{self, CaptureBuffer, LossReport, QosUnits, UnreportedLoss};
use crate::timing::latency::{self, LatencyAnswer};
use crate::timing::lock;
use crate::timing::offset_warning::OffsetWarning;
use crate::timing::properties::{self, DEFAULT_MAX_OFFSET, DEFAULT_TS_OFFSET};
use crate::timing::segment_offset::SegmentOffsetter;

/// 0 asks for the smallest latency there is: one buffer's duration.
const DEFAULT_REQUESTED_LATENCY: ClockTime = ClockTime::ZERO;
const DEFAULT_NUM_BUFFERS: i32 = -1;

/// The longest single clock wait (a day): a longer one is made of several, so that a wait is
/// always one the clock can schedule and `unlock` can interrupt, whatever `latency` asks for (a
/// wait past the end of the system clock's range can no longer be unscheduled).
const LONGEST_WAIT: ClockTime = ClockTime::from_seconds(24 * 3600);

/// What differs between the sources that use the engine.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The rate assumed before caps are negotiated (for the `latency` property).
    pub default_rate: Rate,
    pub default_units_per_buffer: u32,
    pub default_is_live: bool,
    pub qos_units: QosUnits,
}

impl Config {
    /// The `latency` a source reports by default: one buffer at the default rate.
    pub fn default_latency(&self) -> ClockTime {
        Timing::new(self).effective_latency(self.default_rate)
    }
}

/// The timing settings, as one consistent snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub units_per_buffer: u32,
    pub requested_latency: ClockTime,
    pub ts_offset: i64,
    pub max_offset: ClockTime,
    pub flags: PushSourceFlags,
    pub num_buffers: i32,
    pub drift: Drift,
}

impl Timing {
    fn new(config: &Config) -> Self {
        Self {
            units_per_buffer: config.default_units_per_buffer.max(1),
            requested_latency: DEFAULT_REQUESTED_LATENCY,
            ts_offset: DEFAULT_TS_OFFSET,
            max_offset: DEFAULT_MAX_OFFSET,
            flags: if config.default_is_live {
                PushSourceFlags::empty()
            } else {
                PushSourceFlags::NOT_LIVE
            },
            num_buffers: DEFAULT_NUM_BUFFERS,
            drift: Drift::from_ppm(device_time::DEFAULT_DRIFT_PPM),
        }
    }

    pub fn is_live(&self) -> bool {
        !self.flags.contains(PushSourceFlags::NOT_LIVE)
    }

    /// The latency the source really has at `rate`: never below one buffer's duration in
    /// pipeline time (a drifting device's buffer takes `1/k` as long), because a buffer cannot be
    /// pushed before its last unit is captured. With `use-stream-clock`, as on its own clock.
    pub fn effective_latency(&self, rate: Rate) -> ClockTime {
        let capture_rate = self
            .clocking(self.provides_clock())
            .capture_rate(rate, self.drift);
        let buffer_duration = capture_rate.units_to_time_ceil(self.units_per_buffer as u64);
        self.requested_latency.max(buffer_duration)
    }

    /// Whether the source provides its device clock (`use-stream-clock`, live).
    pub fn provides_clock(&self) -> bool {
        self.is_live() && self.flags.contains(PushSourceFlags::USE_STREAM_CLOCK)
    }

    /// What the stamps and pace follow (SPEC 3a table); `on_own_clock` when the pipeline runs
    /// on the source's device clock (selected with `use-stream-clock`, or still in use after
    /// the flag went): the device then captures `R` per second of the pipeline clock and its
    /// time is the pipeline's, whatever the flags. Otherwise `internal-rm` wins (the source
    /// matches rates, whatever else), then `private-clock`.
    pub fn clocking(&self, on_own_clock: bool) -> Clocking {
        let flags = self.flags;
        if !self.is_live() || on_own_clock || flags.contains(PushSourceFlags::INTERNAL_RM) {
            Clocking::Nominal
        } else if flags.contains(PushSourceFlags::PRIVATE_CLOCK) {
            Clocking::DeviceTime
        } else {
            Clocking::CaptureTime
        }
    }

    /// The unit at which the stream ends (`num-buffers`), if it does.
    fn end_unit(&self) -> Option<u64> {
        u64::try_from(self.num_buffers)
            .ok()
            .map(|buffers| buffers.saturating_mul(self.units_per_buffer as u64))
    }
}

/// The next buffer to produce: `units` units from unit `first`, stamped `pts` and `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: u64,
    pub units: u64,
    pub pts: ClockTime,
    pub duration: ClockTime,
    /// Where the units sample the content's time line: unit `n` holds the signal at
    /// `signal.time_of(n)` (exactly: a content function computes its phase from this line).
    pub signal: Timeline,
}

/// Streaming state, reset on every start.
#[derive(Debug, Default)]
struct Stream {
    /// The negotiated rate; `None` before negotiation.
    rate: Option<Rate>,
    /// Forward: first unit of the next buffer. Reverse: end (exclusive) of the next buffer.
    next_unit: u64,
    reverse: bool,
    /// A seek's position, turned into `next_unit` once the rate is known.
    pending_position: Option<ClockTime>,
    segment_start: ClockTime,
    segment_stop: Option<ClockTime>,
    /// Live: the running time at which each unit is captured, from the unit the capture
    /// (re)started with (the unit numbering goes on across a restart); `None` before a start.
    capture: Option<Timeline>,
    /// Live: the device clock's time of each unit (the stamps with `private-clock`).
    device: Option<Timeline>,
    /// The content's time line (continuous across capture restarts); `None` before the first
    /// buffer.
    signal: Option<Timeline>,
    /// The clocking and drift the time lines follow now.
    clocking: Option<(Clocking, Drift)>,
    discont: bool,
    /// Live: the pipeline went to PLAYING since the last buffer. A clock provided downstream (an
    /// audio sink's) may stand still until a buffer reaches that sink again (it lost its
    /// preroll in PAUSED), so the next buffer goes out at once, as the first one does
    /// (GstBaseSrc restarts its timestamp correction at each PLAYING, which lets a live
    /// `audiotestsrc`'s next buffer through at once).
    resumed: bool,
    processed_units: u64,
    dropped_units: u64,
}

impl Stream {
    fn rate(&self) -> Result<Rate, gst::FlowError> {
        self.rate.ok_or(gst::FlowError::NotNegotiated)
    }

    /// A new rate: each time line keeps its anchor's time, its anchor unit becomes the unit at
    /// that position on the new grid, and its units go on at the new rate.
    fn rescale_time_lines(&mut self, old: Rate, new: Rate) {
        let Some((clocking, drift)) = self.clocking else {
            return;
        };
        let unit = |unit: u64| new.time_to_units_ceil(old.units_to_time(unit));
        let capture_rate = clocking.capture_rate(new, drift);
        for (line, rate) in [
            (&mut self.capture, capture_rate),
            (&mut self.device, UnitRate::nominal(new)),
            (&mut self.signal, capture_rate),
        ] {
            if let Some(line) = line {
                *line = Timeline {
                    unit: unit(line.unit),
                    time: line.time,
                    rate,
                };
            }
        }
    }

    /// The stamp of `unit` under `clocking`: its device time with `private-clock`, else its
    /// capture time.
    fn stamp(&self, clocking: Clocking, unit: u64) -> Option<ClockTime> {
        let line = match clocking {
            Clocking::DeviceTime => self.device?,
            Clocking::CaptureTime | Clocking::Nominal => self.capture?,
        };
        Some(line.time_of(unit))
    }

    /// Starts the capture at running time `now` (a first start or a restart), or makes the time
    /// lines follow a changed clocking or drift from the next unit on: no time line jumps, but
    /// the stamps do when they change between the device clock and the pipeline clock (then the
    /// next buffer is a discontinuity).
    fn follow(&mut self, rate: Rate, clocking: Clocking, drift: Drift, now: ClockTime) {
        let next = self.next_unit;
        let capture_rate = clocking.capture_rate(rate, drift);
        // The device clock goes on at R units per second of its own time whatever changes: only
        // the capture line follows the new pace.
        match (self.capture, self.device) {
            (Some(capture), Some(_)) if self.clocking != Some((clocking, drift)) => {
                let old_stamp = self.clocking.and_then(|(old, _)| self.stamp(old, next));
                self.capture = Some(capture.continued(next, capture_rate));
                if old_stamp != self.stamp(clocking, next) {
                    self.discont = true;
                }
            }
            (Some(_), Some(_)) => {}
            _ => {
                self.capture = Some(Timeline {
                    unit: next,
                    time: now,
                    rate: capture_rate,
                });
                self.device = Some(Timeline {
                    unit: next,
                    time: now,
                    rate: UnitRate::nominal(rate),
                });
            }
        }
        let signal = self.signal.get_or_insert(Timeline {
            unit: 0,
            time: ClockTime::ZERO,
            rate: capture_rate,
        });
        *signal = signal.continued(next, capture_rate);
        self.clocking = Some((clocking, drift));
    }
}

#[derive(Debug, Default)]
struct ClockWait {
    clock_id: Option<gst::SingleShotClockId>,
    flushing: bool,
    /// Counts changes of latency or capacity, so that a wait computed from older settings is
    /// never started.
    timing_changes: u64,
}

/// What becomes of an event sent to the source: answered here, performed by the base class, or
/// (a flushing seek to a live source) a flush of the stream that leaves its position alone, then
/// answered.
pub enum Seek {
    Answer(bool),
    Perform(gst::Event),
    FlushLive { seqnum: gst::Seqnum, accepted: bool },
}

/// The positions of a TIME seek.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeekBounds {
    start_type: gst::SeekType,
    start: Option<ClockTime>,
    stop_type: gst::SeekType,
    stop: Option<ClockTime>,
}

impl SeekBounds {
    /// The seek as `gst_segment_do_seek` must get it: it keeps the stop of the segment before
    /// when the seek leaves it open, and fails (a CRITICAL) when that stop is before the new
    /// start. Reverse, an open end is the stream's end (`duration`) and a start past the end is
    /// the end; forward, an open end past the old stop is open (to the end of the stream).
    fn completed(
        mut self,
        rate: f64,
        duration: Option<ClockTime>,
        current_stop: Option<ClockTime>,
    ) -> Self {
        let open_end = self.stop_type == gst::SeekType::None || self.stop.is_none();
        if rate < 0.0 && open_end {
            if let Some(duration) = duration {
                self.stop_type = gst::SeekType::Set;
                self.stop = Some(duration);
                if self.start_type == gst::SeekType::Set && self.start > Some(duration) {
                    self.start = Some(duration);
                }
            }
        } else if self.stop_type == gst::SeekType::None
            && self.start_type == gst::SeekType::Set
            && current_stop.is_some_and(|stop| self.start > Some(stop))
        {
            self.stop_type = gst::SeekType::Set;
            self.stop = None;
        }
        self
    }
}

/// A reverse segment cut to the stream's end. Reverse playback starts at the segment's stop,
/// and a sink's running time counts back from it: a stop left past the end (a seek from 1000 s
/// into a 3 s stream) would stamp the first buffer 997 s of running time late, and every sink
/// that syncs would wait that long (holding the streaming thread, so EOS and non-flushing seeks
/// sent meanwhile block too). A start past the end plays nothing, but the segment must stay
/// valid (start <= stop), or the next seek made from it fails in gst_segment_do_seek.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReverseBounds {
    start: ClockTime,
    stop: ClockTime,
}

impl ReverseBounds {
    /// `None` when the segment already ends within the stream.
    fn within(start: ClockTime, stop: Option<ClockTime>, duration: ClockTime) -> Option<Self> {
        if stop.is_some_and(|stop| stop <= duration) {
            return None;
        }
        Some(ReverseBounds {
            start: start.min(duration),
            stop: duration,
        })
    }
}

/// What a live source has to do before it can push its next buffer.
enum Capture {
    Ready(Span),
    Wait(ClockTime),
    Lost(LossReport),
}

fn pack_rate(rate: Rate) -> u64 {
    (rate.num() as u64) << 32 | rate.den() as u64
}

fn unpack_rate(packed: u64) -> Option<Rate> {
    Rate::new((packed >> 32) as u32, packed as u32)
}

/// The timing of one push test source. See the module documentation.
pub struct Engine {
    /// The clock provided with `use-stream-clock`, made when first asked for (on the system
    /// clock of that moment). Its own lock, taken alone.
    device_clock: Mutex<Option<DeviceClock>>,
    config: Config,
    cat: gst::DebugCategory,
    timing: Mutex<Timing>,
    stream: Mutex<Stream>,
    clock_wait: Mutex<ClockWait>,
    segment_offsetter: SegmentOffsetter,
    /// The negotiated rate (0 before negotiation), readable without the stream lock so that
    /// property reads never wait for the streaming thread.
    negotiated_rate: AtomicU64,
    offset_warning: OffsetWarning,
}

/// The timing properties every push test source has, after its own.
pub fn properties(config: &Config) -> Vec<glib::ParamSpec> {
    vec![
        properties::settable_is_live(config.default_is_live),
        properties::simulated_latency(config.default_latency()),
        properties::ts_offset(),
        properties::max_offset(),
        properties::push_source_flags(),
        drift_property(),
        glib::ParamSpecOverride::for_class::<gst_base::BaseSrc>("num-buffers"),
    ]
}

/// `drift`: the simulated device clock's speed against the pipeline clock.
fn drift_property() -> glib::ParamSpec {
    glib::ParamSpecDouble::builder("drift")
        .nick("Device clock drift")
        .blurb("Simulated device clock drift in ppm: it runs 1 + drift/10^6 times as fast")
        .minimum(-device_time::MAX_DRIFT_PPM)
        .maximum(device_time::MAX_DRIFT_PPM)
        .default_value(device_time::DEFAULT_DRIFT_PPM)
        .mutable_playing()
        .build()
}

impl Engine {
    pub fn new(config: Config, cat: gst::DebugCategory) -> Self {
        Self {
            device_clock: Mutex::default(),
            timing: Mutex::new(Timing::new(&config)),
            config,
            cat,
            stream: Mutex::default(),
            clock_wait: Mutex::default(),
            segment_offsetter: SegmentOffsetter::default(),
            negotiated_rate: AtomicU64::new(0),
            offset_warning: OffsetWarning::default(),
        }
    }

    pub fn timing(&self) -> Timing {
        *lock(&self.timing)
    }

    /// The negotiated rate, or the default one before negotiation.
    pub fn rate(&self) -> Rate {
        unpack_rate(self.negotiated_rate.load(Ordering::Relaxed))
            .unwrap_or(self.config.default_rate)
    }

    pub fn effective_latency(&self) -> ClockTime {
        self.timing().effective_latency(self.rate())
    }

    /// Handles a write of one of the [`properties`]; `false` when `pspec` is not one of them.
    pub fn set_property(
        &self,
        obj: &gst_base::BaseSrc,
        value: &glib::Value,
        pspec: &glib::ParamSpec,
    ) -> bool {
        match pspec.name() {
            "is-live" => self.set_is_live(obj, value.get().expect("type checked upstream")),
            "latency" => {
                let latency = ClockTime::from_nseconds(value.get().expect("type checked upstream"));
                self.change_timing(obj, |timing| timing.requested_latency = latency);
            }
            "ts-offset" => {
                self.apply_ts_offset(obj, value.get().expect("type checked upstream"));
            }
            "max-offset" => self.apply_max_offset(
                obj,
                ClockTime::from_nseconds(value.get().expect("type checked upstream")),
            ),
            "push-source-flags" => {
                self.set_flags(obj, value.get().expect("type checked upstream"));
                obj.notify("is-live");
            }
            "num-buffers" => {
                lock(&self.timing).num_buffers = value.get().expect("type checked upstream")
            }
            "drift" => self.set_drift(obj, value.get().expect("type checked upstream")),
            _ => return false,
        }
        true
    }

    /// Reads one of the [`properties`]; `None` when `pspec` is not one of them.
    pub fn property(&self, pspec: &glib::ParamSpec) -> Option<glib::Value> {
        let timing = self.timing();
        Some(match pspec.name() {
            "is-live" => timing.is_live().to_value(),
            "latency" => timing.effective_latency(self.rate()).nseconds().to_value(),
            "ts-offset" => timing.ts_offset.to_value(),
            "max-offset" => timing.max_offset.nseconds().to_value(),
            "push-source-flags" => timing.flags.to_value(),
            "num-buffers" => timing.num_buffers.to_value(),
            "drift" => timing.drift.ppm().to_value(),
            _ => return None,
        })
    }

    /// Sets the number of units in each buffer (it changes the minimum latency).
    pub fn set_units_per_buffer(&self, obj: &gst_base::BaseSrc, units: u32) {
        self.change_timing(obj, |timing| timing.units_per_buffer = units.max(1));
    }

    /// Runs `change` on the timing settings and posts a LATENCY message when it changed what the
    /// LATENCY query answers while the element is running.
    fn change_timing(&self, obj: &gst_base::BaseSrc, change: impl FnOnce(&mut Timing)) {
        let rate = self.rate();
        let (before, after, paced_before, paced_after) = {
            let mut timing = lock(&self.timing);
            let before = (timing.effective_latency(rate), timing.max_offset);
            let paced_before = (timing.drift, timing.flags);
            change(&mut timing);
            let after = (timing.effective_latency(rate), timing.max_offset);
            (before, after, paced_before, (timing.drift, timing.flags))
        };
        if before == after && paced_before == paced_after {
            return;
        }
        // A wait scheduled with the old latency is recomputed with the new one.
        let scheduled = {
            let mut wait = lock(&self.clock_wait);
            wait.timing_changes += 1;
            wait.clock_id.take()
        };
        if let Some(id) = scheduled {
            id.unschedule();
        }
        if before == after {
            return;
        }
        gst::debug!(self.cat, obj = obj, "latency and capacity now {after:?}");
        latency::post_latency_if_running(obj, self.cat);
    }

    /// `drift`: from the next unit on (the time lines continue where they are), and the
    /// device clock's speed from now on.
    fn set_drift(&self, obj: &gst_base::BaseSrc, ppm: f64) {
        let drift = Drift::from_ppm(ppm);
        self.change_timing(obj, |timing| timing.drift = drift);
        gst::debug!(self.cat, obj = obj, "drift now {} ppm", drift.ppm());
        let clock = lock(&self.device_clock).clone();
        if let Some(clock) = clock {
            clock.set_drift(drift);
        }
    }

    /// The device clock, when `use-stream-clock` makes the source provide it (live only).
    pub fn provided_clock(&self) -> Option<gst::Clock> {
        let timing = self.timing();
        if !timing.provides_clock() {
            return None;
        }
        let clock = lock(&self.device_clock)
            .get_or_insert_with(|| DeviceClock::new(timing.drift))
            .clone();
        Some(clock.upcast())
    }

    /// Whether `clock` is this source's device clock.
    fn is_own_clock(&self, clock: &gst::Clock) -> bool {
        lock(&self.device_clock)
            .as_ref()
            .is_some_and(|own| own.upcast_ref::<gst::Clock>() == clock)
    }

    pub fn apply_ts_offset(&self, obj: &gst_base::BaseSrc, offset: i64) -> StreamOffsetResult {
        let max_offset = {
            let mut timing = lock(&self.timing);
            timing.ts_offset = offset;
            timing.max_offset
        };
        gst::debug!(self.cat, obj = obj, "ts-offset set to {offset} ns");
        self.offset_warning.offset_set(obj, offset, max_offset)
    }

    pub fn apply_max_offset(&self, obj: &gst_base::BaseSrc, max_offset: ClockTime) {
        let (mut offset, mut before) = (0, max_offset);
        self.change_timing(obj, |timing| {
            offset = timing.ts_offset;
            before = std::mem::replace(&mut timing.max_offset, max_offset);
        });
        self.offset_warning
            .max_offset_changed(obj, offset, before, max_offset);
    }

    /// Sets the flags; `not-live` and the base class's live flag are one fact, and both only
    /// change in NULL or READY (a running source cannot turn into another kind of source).
    pub fn set_flags(&self, obj: &gst_base::BaseSrc, requested: PushSourceFlags) {
        let state = obj.current_state();
        let was_live = self.timing().is_live();
        let fixed = (state > gst::State::Ready).then_some(was_live);
        let (flags, refused) = properties::flags_with_fixed_liveness(requested, fixed);
        let mut before = flags;
        self.change_timing(obj, |timing| {
            before = std::mem::replace(&mut timing.flags, flags)
        });
        self.announce_clock(obj, before, flags);
        if refused {
            gst::element_warning!(
                obj,
                gst::CoreError::StateChange,
                ("Liveness can only change in NULL or READY: keeping is-live={was_live}"),
                ["refused not-live={} in {state:?}", !was_live]
            );
        }
        obj.set_live(!flags.contains(PushSourceFlags::NOT_LIVE));
    }

    /// A source that starts (stops) providing its device clock says so, as GStreamer's clock
    /// providers do: the element flag, and CLOCK_PROVIDE (CLOCK_LOST) for the bins, which select
    /// a clock again at the next PAUSED to PLAYING.
    fn announce_clock(
        &self,
        obj: &gst_base::BaseSrc,
        before: PushSourceFlags,
        after: PushSourceFlags,
    ) {
        let provides = |flags: PushSourceFlags| {
            flags.contains(PushSourceFlags::USE_STREAM_CLOCK)
                && !flags.contains(PushSourceFlags::NOT_LIVE)
        };
        match (provides(before), provides(after)) {
            (false, true) => {
                obj.set_element_flags(gst::ElementFlags::PROVIDE_CLOCK);
                if let Some(clock) = self.provided_clock() {
                    let _ = obj.post_message(
                        gst::message::ClockProvide::builder(&clock, true)
                            .src(obj)
                            .build(),
                    );
                }
            }
            (true, false) => {
                obj.unset_element_flags(gst::ElementFlags::PROVIDE_CLOCK);
                let clock = lock(&self.device_clock).clone();
                if let Some(clock) = clock {
                    let _ = obj.post_message(
                        gst::message::ClockLost::builder(clock.upcast_ref())
                            .src(obj)
                            .build(),
                    );
                }
            }
            _ => {}
        }
    }

    fn set_is_live(&self, obj: &gst_base::BaseSrc, live: bool) {
        let mut flags = self.timing().flags;
        flags.set(PushSourceFlags::NOT_LIVE, !live);
        self.set_flags(obj, flags);
        obj.notify("push-source-flags");
    }

    /// To call from `constructed`: the base class's live flag and format, and the pad probe that
    /// applies `ts-offset` to every SEGMENT the source sends. `engine` finds this engine from
    /// the element.
    pub fn constructed<T: IsA<gst_base::BaseSrc> + Send + Sync>(
        &self,
        obj: &T,
        engine: fn(&T) -> &Engine,
    ) {
        obj.set_live(self.config.default_is_live);
        obj.set_format(gst::Format::Time);
        let weak = obj.downgrade();
        obj.src_pad()
            .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_pad, info| {
                let Some(element) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                if let Some(gst::PadProbeData::Event(event)) = &info.data
                    && let Some(shifted) =
                        engine(&element).offset_segment_event(element.upcast_ref(), event)
                {
                    info.data = Some(gst::PadProbeData::Event(shifted));
                }
                gst::PadProbeReturn::Ok
            });
    }

    /// To call from `change_state` before the parent class.
    pub fn change_state(&self, obj: &gst_base::BaseSrc, transition: gst::StateChange) {
        if transition == gst::StateChange::NullToReady {
            let timing = self.timing();
            self.offset_warning
                .post_pending(obj, timing.ts_offset, timing.max_offset);
        }
        if transition == gst::StateChange::PausedToPlaying {
            self.resume();
        }
    }

    /// PLAYING again: the next buffer may go out at once (see [`Stream::resumed`]); a wait under
    /// way (the streaming thread stays in it through PAUSED) is computed again.
    fn resume(&self) {
        lock(&self.stream).resumed = true;
        let scheduled = {
            let mut wait = lock(&self.clock_wait);
            wait.timing_changes += 1;
            wait.clock_id.take()
        };
        if let Some(id) = scheduled {
            id.unschedule();
        }
    }

    /// Applies the current `ts-offset` to a SEGMENT event on its way downstream.
    fn offset_segment_event(
        &self,
        obj: &gst_base::BaseSrc,
        event: &gst::Event,
    ) -> Option<gst::Event> {
        let offset = self.timing().ts_offset;
        let shifted = self.segment_offsetter.offset_event(event, offset)?;
        gst::debug!(
            self.cat,
            obj = obj,
            "segment with ts-offset {offset}: {shifted:?}"
        );
        Some(shifted)
    }

    /// `ts-offset` is effective from the next buffer: resend the segment when it changed.
    fn push_offset_update(&self, obj: &gst_base::BaseSrc) {
        let offset = self.timing().ts_offset;
        if let Some(event) = self.segment_offsetter.update_event(offset) {
            let _ = obj.src_pad().push_event(event);
        }
    }

    /// To call from `set_caps` with the negotiated rate. A rate change keeps the stream position
    /// (and a live source's capture timeline); the unit grid changes, so the next buffer is a
    /// discontinuity.
    pub fn set_rate(&self, obj: &gst_base::BaseSrc, rate: Rate) {
        {
            let mut stream = lock(&self.stream);
            if let Some(old) = stream.rate.filter(|old| *old != rate) {
                let position = old.units_to_time(stream.next_unit);
                stream.next_unit = rate.time_to_units_ceil(position);
                stream.rescale_time_lines(old, rate);
                stream.discont = true;
            }
            stream.rate = Some(rate);
        }
        let old_rate = unpack_rate(
            self.negotiated_rate
                .swap(pack_rate(rate), Ordering::Relaxed),
        )
        .unwrap_or(self.config.default_rate);
        let timing = self.timing();
        if timing.effective_latency(old_rate) != timing.effective_latency(rate) {
            latency::post_latency_if_running(obj, self.cat);
        }
    }

    /// To call from `negotiate` before the parent class: downstream accepting none of the
    /// formats the source produces is a clear negotiation ERROR naming both sides.
    pub fn check_downstream_caps(&self, obj: &gst_base::BaseSrc) -> Result<(), gst::LoggableError> {
        let template = obj.src_pad().pad_template_caps();
        let peer = obj.src_pad().peer_query_caps(Some(&template));
        if peer.is_empty() {
            let name = obj
                .factory()
                .map_or_else(|| obj.type_().name().into(), |factory| factory.name());
            let downstream = obj.src_pad().peer_query_caps(None);
            gst::element_error!(
                obj,
                gst::CoreError::Negotiation,
                ("Downstream accepts none of the formats {name} produces"),
                ["{name} produces {template}; downstream accepts {downstream}"]
            );
            return Err(gst::loggable_error!(
                self.cat,
                "no common caps with downstream"
            ));
        }
        Ok(())
    }

    /// The stream's duration, when `num-buffers` ends it and the rate is known.
    pub fn duration(&self) -> Option<ClockTime> {
        let end = self.timing().end_unit()?;
        let rate = unpack_rate(self.negotiated_rate.load(Ordering::Relaxed))?;
        Some(rate.units_to_time(end))
    }

    pub fn start(&self) {
        *lock(&self.stream) = Stream::default();
        self.segment_offsetter.reset();
        lock(&self.clock_wait).flushing = false;
    }

    pub fn stop(&self) {
        *lock(&self.stream) = Stream::default();
        self.negotiated_rate.store(0, Ordering::Relaxed);
    }

    pub fn is_seekable(&self) -> bool {
        !self.timing().is_live()
    }

    /// Answers the LATENCY query (SPEC section 2 rule 1) and the DURATION query; `None` leaves
    /// any other query to the base class.
    pub fn query(&self, obj: &gst_base::BaseSrc, query: &mut gst::QueryRef) -> Option<bool> {
        match query.view_mut() {
            gst::QueryViewMut::Latency(q) => {
                let timing = self.timing();
                let answer = LatencyAnswer::new(
                    timing.is_live(),
                    timing.effective_latency(self.rate()),
                    timing.max_offset,
                );
                gst::debug!(self.cat, obj = obj, "latency: {answer:?}");
                answer.apply(q);
                Some(true)
            }
            gst::QueryViewMut::Duration(q) if q.format() == gst::Format::Time => {
                if self.timing().is_live() {
                    return Some(false);
                }
                Some(match self.duration() {
                    Some(duration) => {
                        q.set(duration);
                        true
                    }
                    None => false,
                })
            }
            _ => None,
        }
    }

    /// Answers the seeks this source refuses before the base class acts on them (it flushes
    /// first, and a seek refused after the flush would leave the stream without a segment), and
    /// completes an open-ended seek into one `gst_segment_do_seek` accepts whatever segment came
    /// before. [`Seek::Perform`] lets the base class perform the (completed) seek, or handle any
    /// other event. To call from `send_event` and `event`.
    pub fn admit_seek(&self, obj: &gst_base::BaseSrc, event: &gst::Event) -> Seek {
        let gst::EventView::Seek(seek) = event.view() else {
            return Seek::Perform(event.clone());
        };
        let (rate, flags, start_type, start, stop_type, stop) = seek.get();
        if self.timing().is_live() {
            return self.admit_live_seek(obj, rate, flags, event.seqnum());
        }
        let open_end = stop_type == gst::SeekType::None || stop.value() == -1;
        if rate < 0.0 && open_end && self.duration().is_none() {
            gst::warning!(
                self.cat,
                obj = obj,
                "reverse playback needs a stop position: seek with a stop or set num-buffers"
            );
            return Seek::Answer(false);
        }
        let (gst::GenericFormattedValue::Time(start), gst::GenericFormattedValue::Time(stop)) =
            (start, stop)
        else {
            return Seek::Perform(event.clone());
        };
        // The base class's segment as `do_seek` last saw it (reading it from the base class
        // would take the stream lock, held by a streaming thread blocked in preroll).
        let current_stop = lock(&self.stream).segment_stop;
        let bounds = SeekBounds {
            start_type,
            start,
            stop_type,
            stop,
        }
        .completed(rate, self.duration(), current_stop);
        if bounds.start == start && bounds.stop == stop && bounds.stop_type == stop_type {
            return Seek::Perform(event.clone());
        }
        gst::debug!(self.cat, obj = obj, "seek completed to {bounds:?}");
        Seek::Perform(
            gst::event::Seek::builder(
                rate,
                flags,
                bounds.start_type,
                bounds.start,
                bounds.stop_type,
                bounds.stop,
            )
            .seqnum(event.seqnum())
            .build(),
        )
    }

    /// Live sources cannot move in time: a seek at rate 1.0 keeps the position (accepted), any
    /// other rate is refused (SPEC section 2 rule 7). A flushing seek flushes either way: whoever
    /// sent it flushes downstream and waits for a FLUSH_STOP through each of its inputs (a
    /// mixer waits for all of them, and a mixer that set its input flushing leaves our
    /// streaming task paused by a FLUSHING push until one comes), as with any GStreamer source
    /// that handles the seek. Not started, there is nothing to flush.
    fn admit_live_seek(
        &self,
        obj: &gst_base::BaseSrc,
        rate: f64,
        flags: gst::SeekFlags,
        seqnum: gst::Seqnum,
    ) -> Seek {
        let accepted = rate == 1.0;
        if accepted {
            gst::debug!(
                self.cat,
                obj = obj,
                "live source: seek at rate 1.0 keeps the position"
            );
        } else {
            gst::warning!(
                self.cat,
                obj = obj,
                "live source refuses a seek at rate {rate}: a live capture runs at rate 1.0"
            );
        }
        if flags.contains(gst::SeekFlags::FLUSH) && obj.src_pad().is_active() {
            return Seek::FlushLive { seqnum, accepted };
        }
        Seek::Answer(accepted)
    }

    pub fn do_seek(&self, obj: &gst_base::BaseSrc, segment: &mut gst::Segment) -> bool {
        if self.timing().is_live() {
            return true;
        }
        let Some(segment) = segment.downcast_mut::<ClockTime>() else {
            gst::error!(self.cat, obj = obj, "can only seek in TIME");
            return false;
        };
        let reverse = segment.rate() < 0.0;
        if reverse && segment.stop().is_none() && self.duration().is_none() {
            gst::warning!(
                self.cat,
                obj = obj,
                "reverse playback needs a stop position: seek with a stop or set num-buffers"
            );
            return false;
        }
        if let (true, Some(duration)) = (reverse, self.duration())
            && let Some(bounds) = ReverseBounds::within(
                segment.start().unwrap_or(ClockTime::ZERO),
                segment.stop(),
                duration,
            )
        {
            segment.set_start(bounds.start);
            segment.set_stop(bounds.stop);
            segment.set_position(bounds.stop);
        }
        let position = if reverse {
            segment.stop()
        } else {
            segment.position().or(segment.start())
        }
        .unwrap_or(ClockTime::ZERO);
        gst::debug!(
            self.cat,
            obj = obj,
            "seek to {position} at rate {}",
            segment.rate()
        );
        // The segment kept for ts-offset updates is the one before the seek: the base class sends
        // the new one before the next buffer.
        self.segment_offsetter.forget();
        let mut stream = lock(&self.stream);
        stream.reverse = reverse;
        stream.pending_position = Some(position);
        stream.segment_start = segment.start().unwrap_or(ClockTime::ZERO);
        stream.segment_stop = segment.stop();
        true
    }

    /// A live capture that was flushed starts again from the running time of its next buffer
    /// (a flushing seek resets the pipeline's running time: a capture kept on the old timeline
    /// would stamp buffers far ahead of it and wait that long before pushing anything again).
    /// The units go on being numbered from where they were; the next buffer is a discontinuity.
    pub fn restart_capture(&self, obj: &gst_base::BaseSrc) {
        let mut stream = lock(&self.stream);
        stream.capture = None;
        stream.device = None;
        stream.discont = true;
        gst::debug!(
            self.cat,
            obj = obj,
            "capture restarts at unit {}",
            stream.next_unit
        );
    }

    pub fn unlock(&self) {
        let scheduled = {
            let mut wait = lock(&self.clock_wait);
            wait.flushing = true;
            wait.clock_id.take()
        };
        if let Some(id) = scheduled {
            id.unschedule();
        }
    }

    pub fn unlock_stop(&self) {
        lock(&self.clock_wait).flushing = false;
    }

    /// Produces the next buffer: decides which units it holds (waiting on the clock and losing
    /// overwritten data when live, following the segment when not), lets `produce` make a
    /// buffer with their content, and stamps it (PTS, duration, offsets in units, DISCONT).
    pub fn create(
        &self,
        obj: &gst_base::BaseSrc,
        produce: impl FnOnce(&Span) -> Result<gst::Buffer, gst::FlowError>,
    ) -> Result<gst::Buffer, gst::FlowError> {
        let span = if self.timing().is_live() {
            self.next_live_span(obj)?
        } else {
            self.next_seekable_span()?
        };
        let mut buffer = produce(&span)?;
        {
            let buffer = buffer.make_mut();
            buffer.set_pts(span.pts);
            buffer.set_duration(span.duration);
            buffer.set_offset(span.first);
            buffer.set_offset_end(span.first + span.units);
            let mut stream = lock(&self.stream);
            if std::mem::take(&mut stream.discont) {
                buffer.set_flags(gst::BufferFlags::DISCONT);
            } else {
                buffer.unset_flags(gst::BufferFlags::DISCONT);
            }
            stream.processed_units += span.units;
        }
        gst::trace!(
            self.cat,
            obj = obj,
            "buffer at unit {} ({} units), pts {}",
            span.first,
            span.units,
            span.pts
        );
        // After any clock wait, so that an offset set meanwhile applies to this buffer.
        self.push_offset_update(obj);
        Ok(buffer)
    }

    fn timing_changes(&self) -> u64 {
        lock(&self.clock_wait).timing_changes
    }

    /// Waits on the clock until `target` (a clock time), computed from the settings as they were
    /// at `timing_changes`. `unlock` interrupts it at once (FLUSHING); a timing change interrupts
    /// it too, and the caller computes the wait again.
    fn wait_until(
        &self,
        obj: &gst_base::BaseSrc,
        clock: &gst::Clock,
        target: ClockTime,
        timing_changes: u64,
    ) -> Result<(), gst::FlowError> {
        let id = clock.new_single_shot_id(target);
        {
            let mut wait = lock(&self.clock_wait);
            if wait.flushing {
                return Err(gst::FlowError::Flushing);
            }
            if wait.timing_changes != timing_changes {
                return Ok(());
            }
            wait.clock_id = Some(id.clone());
        }
        let (result, jitter) = id.wait();
        lock(&self.clock_wait).clock_id = None;
        gst::log!(
            self.cat,
            obj = obj,
            "waited for {target}: {result:?}, jitter {jitter}"
        );
        match result {
            Ok(_) | Err(gst::ClockError::Early) => Ok(()),
            // Only `unlock` flushes; a timing change unschedules to have the wait recomputed.
            Err(gst::ClockError::Unscheduled) if lock(&self.clock_wait).flushing => {
                Err(gst::FlowError::Flushing)
            }
            Err(gst::ClockError::Unscheduled) => Ok(()),
            Err(error) => {
                gst::element_error!(obj, gst::CoreError::Clock, ("Clock wait failed: {error:?}"));
                Err(gst::FlowError::Error)
            }
        }
    }

    /// Decides, at running time `now`, what happens to the next live buffer. `clock_needs_data`
    /// is true when the clock may stand still until the source has pushed (see
    /// [`Self::next_live_span`]): the first buffer of the capture, and the first one after the
    /// pipeline went to PLAYING again, then go out at once.
    fn next_capture(
        &self,
        timing: &Timing,
        now: ClockTime,
        clock_needs_data: bool,
        on_own_clock: bool,
    ) -> Result<Capture, gst::FlowError> {
        let mut stream = lock(&self.stream);
        let rate = stream.rate()?;
        let per_buffer = timing.units_per_buffer as u64;
        let first_of_capture = stream.capture.is_none();
        let clocking = timing.clocking(on_own_clock);
        stream.follow(rate, clocking, timing.drift, now);
        let (Some(capture_line), Some(signal)) = (stream.capture, stream.signal) else {
            unreachable!("follow() starts the time lines");
        };
        let first = stream.next_unit;
        let units = match timing.end_unit() {
            Some(end) if first >= end => return Err(gst::FlowError::Eos),
            Some(end) => per_buffer.min(end - first),
            None => per_buffer,
        };
        let captured = capture_line.time_of(first);
        let complete = capture_line.time_of(first + units);

        let push_at = time::saturating_add(captured, timing.requested_latency).max(complete);
        let unpaced = clock_needs_data && (first_of_capture || stream.resumed);
        if now < push_at && !unpaced {
            return Ok(Capture::Wait(push_at));
        }

        let stamp = |unit| stream.stamp(clocking, unit).unwrap_or(ClockTime::ZERO);
        let (pts, end) = (stamp(first), stamp(first + units));
        let capture = CaptureBuffer::new(timing.effective_latency(rate), timing.max_offset);
        let overwritten = capture_line.units_until(capture.kept_from(now));
        let lost_buffers = overwritten.saturating_sub(first) / per_buffer;
        if lost_buffers > 0 {
            let next = first.saturating_add(lost_buffers.saturating_mul(per_buffer));
            let next = timing.end_unit().map_or(next, |end| next.min(end));
            let dropped = next - first;
            stream.next_unit = next;
            stream.dropped_units += dropped;
            stream.discont = true;
            return Ok(Capture::Lost(LossReport {
                timestamp: pts,
                stream_time: Some(pts),
                running_time: captured,
                duration: capture_line.rate.units_to_time(dropped),
                now,
                units: self.config.qos_units,
                processed: stream.processed_units,
                dropped: stream.dropped_units,
            }));
        }
        stream.next_unit = first + units;
        stream.resumed = false;
        Ok(Capture::Ready(Span {
            first,
            units,
            pts,
            duration: end.saturating_sub(pts),
            signal,
        }))
    }

    fn next_live_span(&self, obj: &gst_base::BaseSrc) -> Result<Span, gst::FlowError> {
        let (Some(clock), Some(base_time)) = (obj.clock(), obj.base_time()) else {
            gst::element_error!(obj, gst::CoreError::Clock, ("A live source needs a clock"));
            return Err(gst::FlowError::Error);
        };
        // A clock provided by a sink (an audio sink's) only runs once that sink has data: waiting
        // on it for the first buffer would wait for ever, whether the sink is downstream or in
        // another branch, whose source waits on it too. GstBaseSrc lets a live source's first
        // buffer through at once (it syncs on the buffer's start, which is now); so does this.
        let clock_needs_data = provided_downstream(obj.src_pad(), &clock)
            || provided_by_a_sink(obj.upcast_ref(), &clock);
        let on_own_clock = self.is_own_clock(&clock);
        // Losses found one after the other are posted as one QOS message, before the source
        // waits or when it leaves (with a buffer, or EOS, or flushing): at most one per wait
        // or buffer, however far behind the source falls while it posts.
        let mut unreported = UnreportedLoss::default();
        let post_unreported = |unreported: &mut UnreportedLoss, ts_offset: i64| {
            if let Some(report) = unreported.take() {
                capture_loss::post_loss(obj, self.cat, &report, ts_offset);
            }
        };
        loop {
            let timing_changes = self.timing_changes();
            let timing = self.timing();
            let now = clock.time().saturating_sub(base_time);
            let capture = self.next_capture(&timing, now, clock_needs_data, on_own_clock);
            if !matches!(capture, Ok(Capture::Lost(_))) {
                post_unreported(&mut unreported, timing.ts_offset);
            }
            match capture? {
                Capture::Wait(push_at) => {
                    let target = time::saturating_add(base_time, push_at);
                    let horizon =
                        time::saturating_add(base_time, time::saturating_add(now, LONGEST_WAIT));
                    self.wait_until(obj, &clock, target.min(horizon), timing_changes)?;
                }
                Capture::Lost(report) => unreported.add(report),
                Capture::Ready(span) => return Ok(span),
            }
        }
    }

    fn next_seekable_span(&self) -> Result<Span, gst::FlowError> {
        let timing = self.timing();
        let mut stream = lock(&self.stream);
        let rate = stream.rate()?;
        let per_buffer = timing.units_per_buffer as u64;
        let end = timing.end_unit().unwrap_or(u64::MAX);
        if let Some(position) = stream.pending_position.take() {
            stream.next_unit = if stream.reverse {
                rate.time_to_units_floor(position).min(end)
            } else {
                rate.time_to_units_ceil(position)
            };
            stream.discont = true;
        }
        let first_allowed = rate.time_to_units_ceil(stream.segment_start);
        let stop = stream
            .segment_stop
            .map_or(end, |stop| rate.time_to_units_ceil(stop).min(end));
        let next = stream.next_unit;
        let (first, units) = if stream.reverse {
            if next <= first_allowed {
                return Err(gst::FlowError::Eos);
            }
            let units = per_buffer.min(next - first_allowed);
            stream.next_unit = next - units;
            (next - units, units)
        } else {
            if next >= stop {
                return Err(gst::FlowError::Eos);
            }
            let units = per_buffer.min(stop - next);
            stream.next_unit = next + units;
            (next, units)
        };
        let pts = rate.units_to_time(first);
        Ok(Span {
            first,
            units,
            pts,
            duration: rate.units_to_time(first + units) - pts,
            signal: Timeline {
                unit: 0,
                time: ClockTime::ZERO,
                rate: UnitRate::nominal(rate),
            },
        })
    }
}

/// Whether a sink in the same top-level bin as `element` provides `clock`.
fn provided_by_a_sink(element: &gst::Element, clock: &gst::Clock) -> bool {
    let mut top = element.clone();
    while let Some(parent) = top.parent().and_then(|p| p.downcast::<gst::Element>().ok()) {
        top = parent;
    }
    let Some(bin) = top.downcast_ref::<gst::Bin>() else {
        return false;
    };
    bin.iterate_recurse()
        .into_iter()
        .filter_map(Result::ok)
        .any(|candidate| {
            candidate.element_flags().contains(gst::ElementFlags::SINK)
                && candidate
                    .provide_clock()
                    .is_some_and(|provided| &provided == clock)
        })
}

/// Whether the element providing `clock` is downstream of `pad` (through any element, bin or
/// ghost pad).
fn provided_downstream(pad: &gst::Pad, clock: &gst::Clock) -> bool {
    fn search(pad: &gst::Pad, clock: &gst::Clock, depth: u32) -> bool {
        let Some(peer) = pad.peer() else {
            return false;
        };
        if depth == 0 {
            return false;
        }
        // Into a bin through its sink ghost pad.
        if let Some(ghost) = peer.downcast_ref::<gst::GhostPad>() {
            return ghost
                .internal()
                .is_some_and(|inside| search(inside.upcast_ref(), clock, depth - 1));
        }
        // Out of a bin through its src ghost pad.
        if let Some(ghost) = peer
            .parent()
            .and_then(|parent| parent.downcast::<gst::GhostPad>().ok())
        {
            return search(ghost.upcast_ref(), clock, depth - 1);
        }
        let Some(element) = peer.parent_element() else {
            return false;
        };
        if element
            .provide_clock()
            .is_some_and(|provided| &provided == clock)
        {
            return true;
        }
        element
            .src_pads()
            .iter()
            .any(|next| search(next, clock, depth - 1))
    }
    // Deep enough for any real pipeline; a loop of links cannot recurse for ever.
    search(pad, clock, 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(s: u64) -> Option<ClockTime> {
        Some(ClockTime::from_seconds(s))
    }

    fn open_from(start: Option<ClockTime>) -> SeekBounds {
        SeekBounds {
            start_type: gst::SeekType::Set,
            start,
            stop_type: gst::SeekType::None,
            stop: None,
        }
    }

    #[test]
    fn a_stamp_that_jumps_is_a_discontinuity_and_a_pace_change_is_not() {
        gst::init().unwrap();
        let rate = Rate::per_second(1000);
        // 1001 units per pipeline second.
        let drift = Drift::from_ppm(1000.0);
        let mut stream = Stream {
            rate: Some(rate),
            ..Stream::default()
        };
        let s = ClockTime::from_seconds;
        stream.follow(rate, Clocking::CaptureTime, drift, s(5));
        assert!(!stream.discont);
        assert_eq!(stream.stamp(Clocking::CaptureTime, 1001), Some(s(6)));
        assert_eq!(stream.stamp(Clocking::DeviceTime, 1001), Some(ms(6001)));
        // private-clock at unit 1001: the same capture line, stamps from the device clock.
        stream.next_unit = 1001;
        stream.follow(rate, Clocking::DeviceTime, drift, s(99));
        assert!(std::mem::take(&mut stream.discont), "6 s to 6.001 s");
        assert_eq!(stream.capture.unwrap().time_of(2002), s(7));
        // internal-rm at unit 2002: nominal pace from 7 s on, stamps on the pipeline clock again.
        stream.next_unit = 2002;
        stream.follow(rate, Clocking::Nominal, drift, s(99));
        assert!(std::mem::take(&mut stream.discont), "7.002 s to 7 s");
        assert_eq!(stream.stamp(Clocking::Nominal, 3002), Some(s(8)));
        // No flag at unit 3002: the pace changes, the stamps go on.
        stream.next_unit = 3002;
        stream.follow(rate, Clocking::CaptureTime, drift, s(99));
        assert!(!stream.discont);
        assert_eq!(stream.stamp(Clocking::CaptureTime, 4003), Some(s(9)));
        // The content's line went the same way: 2 s at 1001, 1 s at 1000, on at 1001.
        let signal = stream.signal.unwrap();
        assert_eq!((signal.unit, signal.time), (3002, s(3)));
        assert_eq!(signal.time_of(4003), s(4));
        // A drift change is a pace change too.
        stream.next_unit = 4003;
        stream.follow(rate, Clocking::CaptureTime, Drift::NONE, s(99));
        assert!(!stream.discont);
        assert_eq!(stream.stamp(Clocking::CaptureTime, 5003), Some(s(10)));
    }

    fn ms(n: u64) -> ClockTime {
        ClockTime::from_mseconds(n)
    }

    #[test]
    fn a_reverse_seek_from_past_the_end_is_a_seek_to_the_end() {
        gst::init().unwrap();
        let completed = open_from(seconds(5)).completed(-1.0, seconds(1), None);
        assert_eq!((completed.start, completed.stop), (seconds(1), seconds(1)));
        assert_eq!(completed.stop_type, gst::SeekType::Set);
        let within = open_from(seconds(0)).completed(-1.0, seconds(1), seconds(1));
        assert_eq!((within.start, within.stop), (seconds(0), seconds(1)));
    }

    #[test]
    fn a_reverse_segment_past_the_end_is_cut_to_the_end() {
        gst::init().unwrap();
        let end = ClockTime::from_seconds(3);
        let cut = |start, stop| ReverseBounds::within(start, stop, end);
        let past = cut(ClockTime::ZERO, seconds(1000)).unwrap();
        assert_eq!((past.start, past.stop), (ClockTime::ZERO, end));
        let open = cut(ClockTime::from_seconds(1), None).unwrap();
        assert_eq!((open.start, open.stop), (ClockTime::from_seconds(1), end));
        let all_past = cut(ClockTime::from_seconds(5), seconds(8)).unwrap();
        assert_eq!((all_past.start, all_past.stop), (end, end));
        assert_eq!(cut(ClockTime::ZERO, seconds(2)), None, "within: as asked");
        assert_eq!(
            cut(ClockTime::ZERO, seconds(3)),
            None,
            "to the end: as asked"
        );
    }

    #[test]
    fn a_forward_seek_past_the_old_stop_opens_the_end() {
        gst::init().unwrap();
        let completed = open_from(seconds(5)).completed(1.0, seconds(1), seconds(1));
        assert_eq!(completed.stop_type, gst::SeekType::Set);
        assert_eq!(completed.stop, None);
        let before = open_from(seconds(0)).completed(1.0, seconds(1), seconds(1));
        assert_eq!(before, open_from(seconds(0)), "left as asked");
    }
}
