use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::base_src::CreateSuccess;
use gst_base::subclass::prelude::*;

use super::wave::{Generator, SampleFormat, Wave};
use crate::push_source::{PushSource, PushSourceFlags, PushSourceImpl, StreamOffsetResult};
use crate::stream_offset::{OffsetWarning, SegmentOffsetter};
use crate::time;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pushaudiotestsrc",
        gst::DebugColorFlags::empty(),
        Some("Audio test source with push-source timing"),
    )
});

const DEFAULT_SAMPLES_PER_BUFFER: u32 = 1024;
const DEFAULT_FREQ: f64 = 440.0;
const MAX_FREQ: f64 = 96_000.0;
const DEFAULT_VOLUME: f64 = 0.8;
const DEFAULT_WAVE: Wave = Wave::Sine;
const DEFAULT_IS_LIVE: bool = true;
/// 0 asks for the smallest latency there is: one buffer's duration.
const DEFAULT_REQUESTED_LATENCY: ClockTime = ClockTime::ZERO;
const DEFAULT_TS_OFFSET: i64 = 0;
const DEFAULT_MAX_OFFSET: ClockTime = ClockTime::from_mseconds(200);
const DEFAULT_NUM_BUFFERS: i32 = -1;
/// The rate `fixate` picks when downstream leaves it open, as audiotestsrc does.
const DEFAULT_RATE: u32 = 44_100;
const MIN_RATE: i32 = 8_000;
const MAX_RATE: i32 = 192_000;
const MAX_CHANNELS: i32 = 8;
/// 2^20 samples (about 22 s at 48 kHz, 32 MiB at 8 channels of F32): a buffer that can always
/// be allocated, where G_MAXINT would make the allocation abort the process.
const MAX_SAMPLES_PER_BUFFER: i32 = 1 << 20;
/// Durations stay within GstClockTimeDiff's range, so that a negative number (which GLib's
/// parser turns into a huge guint64) is refused instead of becoming a wait of centuries.
const MAX_DURATION_NS: u64 = i64::MAX as u64;

#[derive(Debug, Clone, Copy)]
struct Settings {
    samples_per_buffer: u32,
    freq: f64,
    volume: f64,
    wave: Wave,
    requested_latency: ClockTime,
    ts_offset: i64,
    max_offset: ClockTime,
    flags: PushSourceFlags,
    num_buffers: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            samples_per_buffer: DEFAULT_SAMPLES_PER_BUFFER,
            freq: DEFAULT_FREQ,
            volume: DEFAULT_VOLUME,
            wave: DEFAULT_WAVE,
            requested_latency: DEFAULT_REQUESTED_LATENCY,
            ts_offset: DEFAULT_TS_OFFSET,
            max_offset: DEFAULT_MAX_OFFSET,
            flags: if DEFAULT_IS_LIVE {
                PushSourceFlags::empty()
            } else {
                PushSourceFlags::NOT_LIVE
            },
            num_buffers: DEFAULT_NUM_BUFFERS,
        }
    }
}

impl Settings {
    fn is_live(&self) -> bool {
        !self.flags.contains(PushSourceFlags::NOT_LIVE)
    }

    /// The latency the source really has at `rate`: never below one buffer's duration, because a
    /// buffer cannot be pushed before its last sample is captured.
    fn effective_latency(&self, rate: u32) -> ClockTime {
        let buffer_duration = time::samples_to_time_ceil(self.samples_per_buffer as u64, rate);
        self.requested_latency.max(buffer_duration)
    }

    fn end_sample(&self) -> Option<u64> {
        u64::try_from(self.num_buffers)
            .ok()
            .map(|buffers| buffers.saturating_mul(self.samples_per_buffer as u64))
    }
}

/// Streaming state, reset on every start.
#[derive(Debug, Default)]
struct State {
    generator: Option<Generator>,
    /// Forward: first sample of the next buffer. Reverse: end (exclusive) of the next buffer.
    next_sample: u64,
    reverse: bool,
    /// A seek's position, turned into `next_sample` once the rate is known.
    pending_position: Option<ClockTime>,
    segment_start: ClockTime,
    segment_stop: Option<ClockTime>,
    /// Live: running time at which sample 0 was captured.
    capture_start: Option<ClockTime>,
    discont: bool,
    processed_samples: u64,
    dropped_samples: u64,
}

impl State {
    fn rate(&self) -> Result<u32, gst::FlowError> {
        let generator = self
            .generator
            .as_ref()
            .ok_or(gst::FlowError::NotNegotiated)?;
        Ok(generator.rate)
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

#[derive(Default)]
pub struct PushAudioTestSrc {
    settings: Mutex<Settings>,
    state: Mutex<State>,
    clock_wait: Mutex<ClockWait>,
    segment_offsetter: SegmentOffsetter,
    /// The negotiated rate (0 before negotiation), readable without the state lock so that
    /// property reads never wait for the streaming thread.
    negotiated_rate: AtomicU32,
    offset_warning: OffsetWarning,
}

/// A lock that survives a panic elsewhere: the data is plain values, always consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a live source has to do before it can push its next buffer.
enum Capture {
    Ready {
        first: u64,
        frames: u64,
        pts: ClockTime,
        end: ClockTime,
    },
    Wait(ClockTime),
    Lost {
        dropped: u64,
        at: ClockTime,
    },
}

impl PushAudioTestSrc {
    fn rate(&self) -> u32 {
        match self.negotiated_rate.load(Ordering::Relaxed) {
            0 => DEFAULT_RATE,
            rate => rate,
        }
    }

    fn effective_latency(&self) -> ClockTime {
        lock(&self.settings).effective_latency(self.rate())
    }

    /// Runs `change` on the settings and posts a LATENCY message when it changed what the
    /// LATENCY query answers while the element is running.
    fn change_timing(&self, change: impl FnOnce(&mut Settings)) {
        let rate = self.rate();
        let (before, after) = {
            let mut settings = lock(&self.settings);
            let before = (settings.effective_latency(rate), settings.max_offset);
            change(&mut settings);
            (
                before,
                (settings.effective_latency(rate), settings.max_offset),
            )
        };
        if before != after {
            // A wait scheduled with the old latency is recomputed with the new one.
            let mut wait = lock(&self.clock_wait);
            wait.timing_changes += 1;
            if let Some(id) = wait.clock_id.take() {
                id.unschedule();
            }
        }
        if before != after && self.obj().current_state() >= gst::State::Paused {
            gst::debug!(
                CAT,
                imp = self,
                "latency changed to {:?}, posting LATENCY",
                after
            );
            let _ = self
                .obj()
                .post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
    }

    fn apply_ts_offset(&self, offset: i64) -> StreamOffsetResult {
        let max_offset = {
            let mut settings = lock(&self.settings);
            settings.ts_offset = offset;
            settings.max_offset
        };
        gst::debug!(CAT, imp = self, "ts-offset set to {offset} ns");
        let result = StreamOffsetResult::for_offset(offset, max_offset);
        if result == StreamOffsetResult::ExceedsMaximum {
            self.warn_offset_exceeds_max(offset, max_offset);
        }
        result
    }

    fn apply_max_offset(&self, max_offset: ClockTime) {
        let mut offset = 0;
        let mut was_exceeding = false;
        self.change_timing(|settings| {
            offset = settings.ts_offset;
            was_exceeding = StreamOffsetResult::for_offset(offset, settings.max_offset)
                == StreamOffsetResult::ExceedsMaximum;
            settings.max_offset = max_offset;
        });
        let exceeds = StreamOffsetResult::for_offset(offset, max_offset)
            == StreamOffsetResult::ExceedsMaximum;
        if exceeds && !was_exceeding {
            self.warn_offset_exceeds_max(offset, max_offset);
        }
    }

    fn warn_offset_exceeds_max(&self, offset: i64, max_offset: ClockTime) {
        self.offset_warning.warn(&*self.obj(), offset, max_offset);
    }

    /// Sets the flags; `not-live` and the base class's live flag are one fact, and both only
    /// change in NULL or READY (a running source cannot turn into another kind of source).
    fn set_flags(&self, mut flags: PushSourceFlags) {
        let state = self.obj().current_state();
        let live = !flags.contains(PushSourceFlags::NOT_LIVE);
        let was_live = lock(&self.settings).is_live();
        if live != was_live && state > gst::State::Ready {
            gst::element_imp_warning!(
                self,
                gst::CoreError::StateChange,
                ("Liveness can only change in NULL or READY: keeping is-live={was_live}"),
                ["refused not-live={} in {state:?}", !live]
            );
            flags.set(PushSourceFlags::NOT_LIVE, !was_live);
        }
        lock(&self.settings).flags = flags;
        self.obj()
            .set_live(!flags.contains(PushSourceFlags::NOT_LIVE));
    }

    fn set_is_live(&self, live: bool) {
        let flags = {
            let settings = lock(&self.settings);
            let mut flags = settings.flags;
            flags.set(PushSourceFlags::NOT_LIVE, !live);
            flags
        };
        self.set_flags(flags);
        self.obj().notify("push-source-flags");
    }

    /// Applies the current `ts-offset` to a SEGMENT event on its way downstream.
    fn offset_segment_event(&self, event: &gst::Event) -> Option<gst::Event> {
        let offset = lock(&self.settings).ts_offset;
        let shifted = self.segment_offsetter.offset_event(event, offset)?;
        gst::debug!(
            CAT,
            imp = self,
            "segment with ts-offset {offset}: {shifted:?}"
        );
        Some(shifted)
    }

    /// `ts-offset` is effective from the next buffer: resend the segment when it changed.
    fn push_offset_update(&self) {
        let offset = lock(&self.settings).ts_offset;
        if let Some(event) = self.segment_offsetter.update_event(offset) {
            let _ = self.obj().src_pad().push_event(event);
        }
    }

    fn running_time_now(clock: &gst::Clock, base_time: ClockTime) -> ClockTime {
        clock.time().saturating_sub(base_time)
    }

    fn timing_changes(&self) -> u64 {
        lock(&self.clock_wait).timing_changes
    }

    /// Waits on the clock until `target` (a clock time), computed from the settings as they were
    /// at `timing_changes`. `unlock` interrupts it at once (FLUSHING); a timing change interrupts
    /// it too, and the caller computes the wait again.
    fn wait_until(
        &self,
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
            CAT,
            imp = self,
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
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Clock,
                    ("Clock wait failed: {error:?}")
                );
                Err(gst::FlowError::Error)
            }
        }
    }

    /// Decides, at running time `now`, what happens to the next live buffer.
    fn next_capture(&self, settings: &Settings, now: ClockTime) -> Result<Capture, gst::FlowError> {
        let mut state = lock(&self.state);
        let rate = state.rate()?;
        let spb = settings.samples_per_buffer as u64;
        let start = *state.capture_start.get_or_insert(now);
        let first = state.next_sample;
        let frames = match settings.end_sample() {
            Some(end) if first >= end => return Err(gst::FlowError::Eos),
            Some(end) => spb.min(end - first),
            None => spb,
        };
        let pts = time::saturating_add(start, time::samples_to_time(first, rate));
        let end = time::saturating_add(start, time::samples_to_time(first + frames, rate));

        let push_at = time::saturating_add(pts, settings.requested_latency).max(end);
        if now < push_at {
            return Ok(Capture::Wait(push_at));
        }

        // The modelled device buffer holds `latency + max-offset` of capture: anything captured
        // before `now - capacity` has been overwritten. Like a device's ring buffer it works in
        // whole buffers (periods): a buffer is lost once all of it has been overwritten, so the
        // wake-up jitter of a source with no slack (max-offset 0) loses nothing.
        let capacity = time::saturating_add(settings.effective_latency(rate), settings.max_offset);
        let oldest_kept = now.saturating_sub(capacity).saturating_sub(start);
        let oldest_kept_sample = time::time_to_samples_ceil(oldest_kept, rate);
        let lost_buffers = oldest_kept_sample.saturating_sub(first) / spb;
        if lost_buffers > 0 {
            let next = first.saturating_add(lost_buffers.saturating_mul(spb));
            let next = settings.end_sample().map_or(next, |end| next.min(end));
            let dropped = next - first;
            state.next_sample = next;
            state.dropped_samples += dropped;
            state.discont = true;
            return Ok(Capture::Lost { dropped, at: pts });
        }
        state.next_sample = first + frames;
        Ok(Capture::Ready {
            first,
            frames,
            pts,
            end,
        })
    }

    fn create_live(&self) -> Result<gst::Buffer, gst::FlowError> {
        let obj = self.obj();
        let (Some(clock), Some(base_time)) = (obj.clock(), obj.base_time()) else {
            gst::element_imp_error!(self, gst::CoreError::Clock, ("A live source needs a clock"));
            return Err(gst::FlowError::Error);
        };
        loop {
            let timing_changes = self.timing_changes();
            let settings = *lock(&self.settings);
            let now = Self::running_time_now(&clock, base_time);
            match self.next_capture(&settings, now)? {
                Capture::Wait(push_at) => {
                    self.wait_until(
                        &clock,
                        time::saturating_add(base_time, push_at),
                        timing_changes,
                    )?;
                }
                Capture::Lost { dropped, at } => self.post_lost(&settings, dropped, at, now),
                Capture::Ready {
                    first,
                    frames,
                    pts,
                    end,
                } => {
                    return self.produce(first, frames, pts, end - pts);
                }
            }
        }
    }

    fn post_lost(&self, settings: &Settings, dropped: u64, at: ClockTime, now: ClockTime) {
        let (processed, total_dropped, rate) = {
            let state = lock(&self.state);
            (
                state.processed_samples,
                state.dropped_samples,
                state.rate().unwrap_or(DEFAULT_RATE),
            )
        };
        let running_time = time::add_offset(at, settings.ts_offset).unwrap_or(ClockTime::ZERO);
        gst::warning!(
            CAT,
            imp = self,
            "blocked downstream beyond latency + max-offset ({} + {}): lost {dropped} samples from {at}",
            self.effective_latency(),
            settings.max_offset
        );
        let jitter = now.nseconds() as i64 - at.nseconds() as i64;
        let message = gst::message::Qos::builder(true)
            .running_time(running_time)
            .stream_time(at)
            .timestamp(at)
            .duration(time::samples_to_time(dropped, rate))
            .values(jitter, 1.0, 1_000_000)
            .stats(
                gst::GenericFormattedValue::Default(Some(gst::format::Default::from_u64(
                    processed,
                ))),
                gst::GenericFormattedValue::Default(Some(gst::format::Default::from_u64(
                    total_dropped,
                ))),
            )
            .src(&*self.obj())
            .build();
        let _ = self.obj().post_message(message);
    }

    fn create_seekable(&self, settings: &Settings) -> Result<gst::Buffer, gst::FlowError> {
        let (first, frames, rate) = {
            let mut state = lock(&self.state);
            let rate = state.rate()?;
            let spb = settings.samples_per_buffer as u64;
            let end = settings.end_sample().unwrap_or(u64::MAX);
            if let Some(position) = state.pending_position.take() {
                state.next_sample = if state.reverse {
                    time::time_to_samples_floor(position, rate).min(end)
                } else {
                    time::time_to_samples_ceil(position, rate)
                };
                state.discont = true;
            }
            let first_allowed = time::time_to_samples_ceil(state.segment_start, rate);
            let stop = state
                .segment_stop
                .map_or(end, |stop| time::time_to_samples_ceil(stop, rate).min(end));
            let next = state.next_sample;
            if state.reverse {
                if next <= first_allowed {
                    return Err(gst::FlowError::Eos);
                }
                let frames = spb.min(next - first_allowed);
                state.next_sample = next - frames;
                (next - frames, frames, rate)
            } else {
                if next >= stop {
                    return Err(gst::FlowError::Eos);
                }
                let frames = spb.min(stop - next);
                state.next_sample = next + frames;
                (next, frames, rate)
            }
        };
        let pts = time::samples_to_time(first, rate);
        let end = time::samples_to_time(first + frames, rate);
        self.produce(first, frames, pts, end - pts)
    }

    fn produce(
        &self,
        first: u64,
        frames: u64,
        pts: ClockTime,
        duration: ClockTime,
    ) -> Result<gst::Buffer, gst::FlowError> {
        let mut state = lock(&self.state);
        let generator = state
            .generator
            .as_mut()
            .ok_or(gst::FlowError::NotNegotiated)?;
        let size = frames as usize * generator.bytes_per_frame();
        let mut buffer = gst::Buffer::with_size(size).map_err(|_| gst::FlowError::Error)?;
        {
            let buffer = buffer.get_mut().expect("new buffer is writable");
            {
                let mut map = buffer.map_writable().map_err(|_| gst::FlowError::Error)?;
                generator.fill(first, map.as_mut_slice());
            }
            buffer.set_pts(pts);
            buffer.set_duration(duration);
            buffer.set_offset(first);
            buffer.set_offset_end(first + frames);
            if std::mem::take(&mut state.discont) {
                buffer.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        state.processed_samples += frames;
        gst::trace!(
            CAT,
            imp = self,
            "buffer at sample {first} ({frames} frames), pts {pts}"
        );
        Ok(buffer)
    }

    fn duration(&self) -> Option<ClockTime> {
        let end = lock(&self.settings).end_sample()?;
        let rate = self.negotiated_rate.load(Ordering::Relaxed);
        (rate != 0).then(|| time::samples_to_time(end, rate))
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PushAudioTestSrc {
    const NAME: &'static str = "GstPushAudioTestSrc";
    type Type = super::PushAudioTestSrc;
    type ParentType = gst_base::PushSrc;
    type Interfaces = (PushSource,);
}

impl ObjectImpl for PushAudioTestSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecInt::builder("samplesperbuffer")
                    .nick("Samples per buffer")
                    .blurb("Number of samples in each outgoing buffer")
                    .minimum(1)
                    .maximum(MAX_SAMPLES_PER_BUFFER)
                    .default_value(DEFAULT_SAMPLES_PER_BUFFER as i32)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("wave", DEFAULT_WAVE)
                    .nick("Waveform")
                    .blurb("Oscillator waveform")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("freq")
                    .nick("Frequency")
                    .blurb(
                        "Frequency of the test signal in Hz (sine, square, saw, triangle, ticks)",
                    )
                    .minimum(0.0)
                    .maximum(MAX_FREQ)
                    .default_value(DEFAULT_FREQ)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("volume")
                    .nick("Volume")
                    .blurb("Volume of the test signal (1.0 is full scale)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_VOLUME)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("is-live")
                    .nick("Is live")
                    .blurb("Act as a live source (the inverse of the not-live push-source flag)")
                    .default_value(DEFAULT_IS_LIVE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("latency")
                    .nick("Latency")
                    .blurb(
                        "Simulated device latency in ns: a buffer captured at running time c is \
                         pushed at c + latency. Never less than one buffer's duration, which is \
                         what reading it returns when less (or 0) was asked for",
                    )
                    .maximum(MAX_DURATION_NS)
                    .default_value(
                        Settings::default()
                            .effective_latency(DEFAULT_RATE)
                            .nseconds(),
                    )
                    .mutable_playing()
                    .build(),
                glib::ParamSpecInt64::builder("ts-offset")
                    .nick("Stream offset")
                    .blurb(
                        "Stream offset in ns added to the running time of all output \
                         (IAMPushSource::SetStreamOffset); effective from the next buffer",
                    )
                    .default_value(DEFAULT_TS_OFFSET)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("max-offset")
                    .nick("Maximum stream offset")
                    .blurb(
                        "Largest stream offset in ns the source can buffer: the capture buffer \
                         holds latency + max-offset (IAMPushSource::SetMaxStreamOffset)",
                    )
                    .maximum(MAX_DURATION_NS)
                    .default_value(DEFAULT_MAX_OFFSET.nseconds())
                    .mutable_playing()
                    .build(),
                glib::ParamSpecFlags::builder::<PushSourceFlags>("push-source-flags")
                    .nick("Push source flags")
                    .blurb("DirectShow push-source flags (IAMPushSource::SetPushSourceFlags)")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecOverride::for_class::<gst_base::BaseSrc>("num-buffers"),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "samplesperbuffer" => {
                let samples = value.get::<i32>().expect("type checked upstream") as u32;
                self.change_timing(|settings| settings.samples_per_buffer = samples);
            }
            "wave" => lock(&self.settings).wave = value.get().expect("type checked upstream"),
            "freq" => lock(&self.settings).freq = value.get().expect("type checked upstream"),
            "volume" => lock(&self.settings).volume = value.get().expect("type checked upstream"),
            "is-live" => self.set_is_live(value.get().expect("type checked upstream")),
            "latency" => {
                let latency = ClockTime::from_nseconds(value.get().expect("type checked upstream"));
                self.change_timing(|settings| settings.requested_latency = latency);
            }
            "ts-offset" => {
                self.apply_ts_offset(value.get().expect("type checked upstream"));
            }
            "max-offset" => self.apply_max_offset(ClockTime::from_nseconds(
                value.get().expect("type checked upstream"),
            )),
            "push-source-flags" => {
                self.set_flags(value.get().expect("type checked upstream"));
                self.obj().notify("is-live");
            }
            "num-buffers" => {
                lock(&self.settings).num_buffers = value.get().expect("type checked upstream")
            }
            name => unreachable!("unknown property {name}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = *lock(&self.settings);
        match pspec.name() {
            "samplesperbuffer" => (settings.samples_per_buffer as i32).to_value(),
            "wave" => settings.wave.to_value(),
            "freq" => settings.freq.to_value(),
            "volume" => settings.volume.to_value(),
            "is-live" => settings.is_live().to_value(),
            "latency" => settings
                .effective_latency(self.rate())
                .nseconds()
                .to_value(),
            "ts-offset" => settings.ts_offset.to_value(),
            "max-offset" => settings.max_offset.nseconds().to_value(),
            "push-source-flags" => settings.flags.to_value(),
            "num-buffers" => settings.num_buffers.to_value(),
            name => unreachable!("unknown property {name}"),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_live(DEFAULT_IS_LIVE);
        obj.set_format(gst::Format::Time);
        let weak = obj.downgrade();
        obj.src_pad()
            .add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_pad, info| {
                let Some(element) = weak.upgrade() else {
                    return gst::PadProbeReturn::Ok;
                };
                if let Some(gst::PadProbeData::Event(event)) = &info.data
                    && let Some(shifted) = element.imp().offset_segment_event(event)
                {
                    info.data = Some(gst::PadProbeData::Event(shifted));
                }
                gst::PadProbeReturn::Ok
            });
    }
}

impl GstObjectImpl for PushAudioTestSrc {}

impl ElementImpl for PushAudioTestSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Push audio test source",
                "Source/Audio",
                "Audio test signals (sine, square, noise, ticks…) from a simulated live capture \
                 device with DirectShow push-source timing: latency, stream offset, maximum \
                 stream offset and a capture buffer that loses data when blocked",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list([gst_audio::AudioFormat::S16le, gst_audio::AudioFormat::F32le])
                .rate_range(MIN_RATE..=MAX_RATE)
                .channels_range(1..=MAX_CHANNELS)
                .build();
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
            ]
        });
        PAD_TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::NullToReady {
            let (offset, max_offset) = {
                let settings = lock(&self.settings);
                (settings.ts_offset, settings.max_offset)
            };
            self.offset_warning
                .post_pending(&*self.obj(), offset, max_offset);
        }
        self.parent_change_state(transition)
    }

    fn send_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::Seek(seek) = event.view()
            && let Some(handled) = self.refuse_seek(seek)
        {
            return handled;
        }
        self.parent_send_event(event)
    }
}

impl PushAudioTestSrc {
    /// Answers the seeks this source refuses before the base class acts on them (it flushes
    /// first, and a seek refused after the flush would leave the stream without a segment).
    /// `None` lets the base class perform the seek.
    fn refuse_seek(&self, seek: &gst::event::Seek) -> Option<bool> {
        let (rate, _flags, _start_type, _start, stop_type, stop) = seek.get();
        if lock(&self.settings).is_live() {
            // Live sources cannot move in time: rate 1.0 is a no-op, any other rate is refused.
            if rate == 1.0 {
                gst::debug!(CAT, imp = self, "live source: seek at rate 1.0 is a no-op");
                return Some(true);
            }
            gst::warning!(
                CAT,
                imp = self,
                "live source refuses a seek at rate {rate}: a live capture runs at rate 1.0"
            );
            return Some(false);
        }
        let open_end = stop_type == gst::SeekType::None || stop.value() == -1;
        if rate < 0.0 && open_end && self.duration().is_none() {
            gst::warning!(
                CAT,
                imp = self,
                "reverse playback needs a stop position: seek with a stop or set num-buffers"
            );
            return Some(false);
        }
        None
    }
}

impl BaseSrcImpl for PushAudioTestSrc {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        *lock(&self.state) = State::default();
        self.segment_offsetter.reset();
        lock(&self.clock_wait).flushing = false;
        gst::debug!(CAT, imp = self, "started");
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *lock(&self.state) = State::default();
        self.negotiated_rate.store(0, Ordering::Relaxed);
        gst::debug!(CAT, imp = self, "stopped");
        Ok(())
    }

    fn is_seekable(&self) -> bool {
        !lock(&self.settings).is_live()
    }

    fn negotiate(&self) -> Result<(), gst::LoggableError> {
        let template = self.obj().src_pad().pad_template_caps();
        let peer = self.obj().src_pad().peer_query_caps(Some(&template));
        if peer.is_empty() {
            let downstream = self.obj().src_pad().peer_query_caps(None);
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ("Downstream accepts none of the formats pushaudiotestsrc produces"),
                ["pushaudiotestsrc produces {template}; downstream accepts {downstream}"]
            );
            return Err(gst::loggable_error!(CAT, "no common caps with downstream"));
        }
        self.parent_negotiate()
    }

    fn fixate(&self, mut caps: gst::Caps) -> gst::Caps {
        caps.truncate();
        {
            let caps = caps.make_mut();
            let s = caps.structure_mut(0).expect("caps are not empty");
            s.fixate_field_nearest_int("rate", DEFAULT_RATE as i32);
            s.fixate_field_nearest_int("channels", 1);
            s.fixate_field_str("format", gst_audio::AudioFormat::S16le.to_str());
            let channels = s.get::<i32>("channels").unwrap_or(1);
            if channels > 2 && !s.has_field("channel-mask") {
                let mask = gst_audio::AudioChannelPosition::fallback_mask(channels as u32);
                s.set("channel-mask", gst::Bitmask::new(mask));
            }
        }
        self.parent_fixate(caps)
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_audio::AudioInfo::from_caps(caps)
            .map_err(|_| gst::loggable_error!(CAT, "cannot parse caps {caps}"))?;
        let format = match info.format() {
            gst_audio::AudioFormat::S16le => SampleFormat::S16le,
            gst_audio::AudioFormat::F32le => SampleFormat::F32le,
            other => return Err(gst::loggable_error!(CAT, "unsupported format {other:?}")),
        };
        let settings = *lock(&self.settings);
        let rate = info.rate();
        gst::debug!(CAT, imp = self, "configured for {caps}");
        {
            let mut state = lock(&self.state);
            if let Some(old) = state.generator.as_ref().filter(|old| old.rate != rate) {
                // Keep the stream position (and a live source's capture timeline) across a rate
                // change; the sample grid changes, so the next buffer is a discontinuity.
                let position = time::samples_to_time(state.next_sample, old.rate);
                state.next_sample = time::time_to_samples_ceil(position, rate);
                state.discont = true;
            }
            state.generator = Some(Generator::new(
                settings.wave,
                settings.freq,
                settings.volume,
                rate,
                info.channels() as usize,
                format,
            ));
        }
        let old_rate = self.negotiated_rate.swap(rate, Ordering::Relaxed);
        let old_rate = if old_rate == 0 {
            DEFAULT_RATE
        } else {
            old_rate
        };
        if settings.effective_latency(old_rate) != settings.effective_latency(rate)
            && self.obj().current_state() >= gst::State::Paused
        {
            let _ = self
                .obj()
                .post_message(gst::message::Latency::builder().src(&*self.obj()).build());
        }
        Ok(())
    }

    fn query(&self, query: &mut gst::QueryRef) -> bool {
        match query.view_mut() {
            gst::QueryViewMut::Latency(q) => {
                let settings = *lock(&self.settings);
                let min = settings.effective_latency(self.rate());
                let max = time::saturating_add(min, settings.max_offset);
                gst::debug!(
                    CAT,
                    imp = self,
                    "latency: live {} min {min} max {max}",
                    settings.is_live()
                );
                q.set(settings.is_live(), min, max);
                true
            }
            gst::QueryViewMut::Duration(q) if q.format() == gst::Format::Time => {
                if lock(&self.settings).is_live() {
                    return false;
                }
                match self.duration() {
                    Some(duration) => {
                        q.set(duration);
                        true
                    }
                    None => false,
                }
            }
            _ => BaseSrcImplExt::parent_query(self, query),
        }
    }

    fn event(&self, event: &gst::Event) -> bool {
        if let gst::EventView::Seek(seek) = event.view()
            && let Some(handled) = self.refuse_seek(seek)
        {
            return handled;
        }
        self.parent_event(event)
    }

    fn do_seek(&self, segment: &mut gst::Segment) -> bool {
        if lock(&self.settings).is_live() {
            return true;
        }
        let Some(segment) = segment.downcast_mut::<ClockTime>() else {
            gst::error!(CAT, imp = self, "can only seek in TIME");
            return false;
        };
        let reverse = segment.rate() < 0.0;
        if reverse && segment.stop().is_none() {
            let Some(duration) = self.duration() else {
                gst::warning!(
                    CAT,
                    imp = self,
                    "reverse playback needs a stop position: seek with a stop or set num-buffers"
                );
                return false;
            };
            segment.set_stop(duration);
            segment.set_position(duration);
        }
        let position = if reverse {
            segment.stop()
        } else {
            segment.position().or(segment.start())
        }
        .unwrap_or(ClockTime::ZERO);
        gst::debug!(
            CAT,
            imp = self,
            "seek to {position} at rate {}",
            segment.rate()
        );
        // The segment kept for ts-offset updates is the one before the seek: the base class sends
        // the new one before the next buffer.
        self.segment_offsetter.forget();
        let mut state = lock(&self.state);
        state.reverse = reverse;
        state.pending_position = Some(position);
        state.segment_start = segment.start().unwrap_or(ClockTime::ZERO);
        state.segment_stop = segment.stop();
        true
    }

    fn unlock(&self) -> Result<(), gst::ErrorMessage> {
        let mut wait = lock(&self.clock_wait);
        wait.flushing = true;
        if let Some(id) = wait.clock_id.take() {
            id.unschedule();
        }
        Ok(())
    }

    fn unlock_stop(&self) -> Result<(), gst::ErrorMessage> {
        lock(&self.clock_wait).flushing = false;
        Ok(())
    }
}

impl PushSrcImpl for PushAudioTestSrc {
    fn create(
        &self,
        _buffer: Option<&mut gst::BufferRef>,
    ) -> Result<CreateSuccess, gst::FlowError> {
        let settings = *lock(&self.settings);
        if let Some(generator) = lock(&self.state).generator.as_mut() {
            generator.wave = settings.wave;
            generator.freq = settings.freq;
            generator.volume = settings.volume;
        }
        let buffer = if settings.is_live() {
            self.create_live()?
        } else {
            self.create_seekable(&settings)?
        };
        // After any clock wait, so that an offset set meanwhile applies to this buffer.
        self.push_offset_update();
        Ok(CreateSuccess::NewBuffer(buffer))
    }
}

impl PushSourceImpl for PushAudioTestSrc {
    fn latency(&self) -> Option<ClockTime> {
        Some(self.effective_latency())
    }

    fn stream_offset(&self) -> i64 {
        lock(&self.settings).ts_offset
    }

    fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
        let result = self.apply_ts_offset(offset);
        self.obj().notify("ts-offset");
        result
    }

    fn max_stream_offset(&self) -> ClockTime {
        lock(&self.settings).max_offset
    }

    fn set_max_stream_offset(&self, max_offset: ClockTime) {
        self.apply_max_offset(max_offset);
        self.obj().notify("max-offset");
    }

    fn push_source_flags(&self) -> PushSourceFlags {
        lock(&self.settings).flags
    }

    fn set_push_source_flags(&self, flags: PushSourceFlags) {
        self.set_flags(flags);
        self.obj().notify("push-source-flags");
        self.obj().notify("is-live");
    }
}
