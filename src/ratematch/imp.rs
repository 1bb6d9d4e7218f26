//! The GObject glue of `ratematch`: pads, properties, events and queries. The matching itself is
//! in `matcher.rs`; this file only stamps its output and tells the pipeline, without a lock of
//! ours held.

use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::matcher::{Learnt, Matcher, Notice, Status};
use super::message;
use super::mode::{self, Mode, Reference, Surroundings};
use super::reference::InputTimes;
use super::resampler::Resampler;
use super::samples;
use crate::PushSourceFlags;
use crate::time::{Rate, saturating_add};
use crate::timing::lock;

pub(super) static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "ratematch",
        gst::DebugColorFlags::empty(),
        Some("Continuous audio rate matching"),
    )
});

const DEFAULT_MODE: Mode = Mode::Auto;
/// How far (seconds) the sink's time must leap ahead before the output skips with it: a
/// smaller leap only eats into the sink's buffer.
const SINK_SKIP: f64 = 0.05;
/// Bandwidth of the ratio loop: locks within about 5 s, smooths stamp jitter above it.
const DEFAULT_BANDWIDTH: f64 = 0.2;
const MIN_BANDWIDTH: f64 = 0.001;
const MAX_BANDWIDTH: f64 = 10.0;

#[derive(Debug, Clone, Copy)]
struct Settings {
    mode: Mode,
    bandwidth: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: DEFAULT_MODE,
            bandwidth: DEFAULT_BANDWIDTH,
        }
    }
}

/// One run of the loop, from a (re)start to the next.
struct Run {
    matcher: Matcher,
    /// Running time (ns) of second 0 of the matcher's time line, which is output frame 0.
    origin: u64,
    /// PTS of output frame 0.
    pts0: gst::ClockTime,
    /// First reading of the sink's clock, the zero of the matcher's sink times.
    sink_origin: Option<u64>,
    /// Running time (ns) where the last input buffer ended: the start of one without a stamp.
    input_end: u64,
}

/// The stretch of PTS that `seconds` of running time span in `segment` (its rate scales them).
/// Saturates at `ClockTime::MAX`: a gap of years at a high rate is past `u64` nanoseconds, and
/// `u64::MAX` itself is `GST_CLOCK_TIME_NONE`.
fn media_duration(segment: &gst::FormattedSegment<gst::ClockTime>, seconds: f64) -> gst::ClockTime {
    let nanoseconds = (seconds.max(0.0) * segment.rate().abs() * 1e9).round();
    if nanoseconds < gst::ClockTime::MAX.nseconds() as f64 {
        gst::ClockTime::from_nseconds(nanoseconds as u64)
    } else {
        gst::ClockTime::MAX
    }
}

impl Run {
    fn seconds(&self, running_time: u64) -> f64 {
        (running_time as i128 - self.origin as i128) as f64 / 1e9
    }
}

/// Where the next run continues after a caps change: the output goes on where it stopped and
/// the drift estimate is kept (same device, new format).
struct Continuation {
    learnt: Learnt,
    /// What output frame 0 of the next run stands for; `None`: where its first input belongs.
    running_time: Option<u64>,
    pts: gst::ClockTime,
}

#[derive(Default)]
struct State {
    info: Option<gst_audio::AudioInfo>,
    segment: gst::FormattedSegment<gst::ClockTime>,
    /// Decided at the first buffer after each restart.
    reference: Option<Reference>,
    sink_clock: Option<gst::Clock>,
    /// Upstream `min` latency; `None`: ask again (after a LATENCY event).
    upstream_latency: Option<gst::ClockTime>,
    run: Option<Run>,
    continuation: Option<Continuation>,
    /// The next output buffer follows a restart.
    discont: bool,
    status: Status,
    /// Running time of the next report while buffers pass untouched.
    next_passthrough_report: u64,
    /// The latency added in the last LATENCY answer.
    answered_latency: Option<gst::ClockTime>,
}

/// What a call decided, applied once the state lock is released.
#[derive(Default)]
struct Outcome {
    buffers: Vec<gst::Buffer>,
    messages: Vec<gst::Structure>,
    warning: Option<String>,
    latency_changed: bool,
}

pub struct RateMatch {
    sinkpad: gst::Pad,
    srcpad: gst::Pad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// Input frames the resampler waits for (its latency).
    delay_frames: usize,
}

impl RateMatch {
    fn sink_chain(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let (decided, latency) = {
            let state = lock(&self.state);
            (
                state
                    .reference
                    .map(|reference| (reference, state.sink_clock.clone())),
                state.upstream_latency,
            )
        };
        let (reference, sink_clock) = match decided {
            Some(decided) => decided,
            None => self.decide(),
        };
        let latency = match (reference, latency) {
            (Reference::Timestamps | Reference::SinkClock, None) => Some(self.upstream_latency()),
            _ => latency,
        };
        let now = self.obj().current_running_time();
        // The sink's device time, not its calibrated time: an audio sink calibrates the clock it
        // provides to follow the pipeline clock (by hours at PLAYING, then at the master's rate
        // when it slaves), which would hide the very rate this follows.
        let sink_now = sink_clock.as_ref().map(|clock| clock.internal_time());

        let outcome = {
            let mut state = lock(&self.state);
            if state.reference.is_none() {
                gst::info!(
                    CAT,
                    imp = self,
                    "matching rates against {}",
                    reference.name()
                );
                state.reference = Some(reference);
                state.sink_clock = sink_clock;
            }
            if latency.is_some() {
                state.upstream_latency = latency;
            }
            self.process(&mut state, reference, buffer, now, sink_now)
                .map(|mut outcome| {
                    outcome.latency_changed = self.latency_changed(&mut state);
                    outcome
                })
        };
        match outcome {
            Ok(outcome) => self.apply(outcome),
            Err(gst::FlowError::NotNegotiated) => {
                gst::element_imp_error!(
                    self,
                    gst::CoreError::Negotiation,
                    ("No audio caps before data")
                );
                Err(gst::FlowError::NotNegotiated)
            }
            Err(error) => Err(error),
        }
    }

    /// The latency added changed since the last answer (new caps, a decision to pass through):
    /// the pipeline must ask again. Once per answer.
    fn latency_changed(&self, state: &mut State) -> bool {
        let added = self.added_latency(state);
        if state
            .answered_latency
            .is_some_and(|answered| answered != added)
        {
            state.answered_latency = None;
            true
        } else {
            false
        }
    }

    fn post_latency_message(&self) {
        gst::debug!(CAT, imp = self, "added latency changed");
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Latency::builder().src(&*obj).build());
    }

    /// The reference for the current `mode`, from the walks upstream and downstream.
    fn decide(&self) -> (Reference, Option<gst::Clock>) {
        let mode = lock(&self.settings).mode;
        let upstream_flags = match mode {
            Mode::Auto => mode::upstream_flags(&self.sinkpad),
            _ => None,
        };
        let wants_sink_clock = mode == Mode::SinkClock
            || upstream_flags
                .is_some_and(|flags| flags.contains(PushSourceFlags::USE_STREAM_CLOCK));
        let sink_clock = wants_sink_clock
            .then(|| mode::downstream_sink_clock(&self.srcpad))
            .flatten();
        let sink_clock_differs = sink_clock.is_some() && sink_clock != self.obj().clock();
        let reference = mode::decide(
            mode,
            Surroundings {
                upstream_flags,
                sink_clock_differs,
            },
        );
        gst::debug!(
            CAT,
            imp = self,
            "mode {mode:?}, upstream flags {upstream_flags:?}, other sink clock \
             {sink_clock_differs}: {}",
            reference.name()
        );
        let sink_clock = sink_clock.filter(|_| reference == Reference::SinkClock);
        (reference, sink_clock)
    }

    fn upstream_latency(&self) -> gst::ClockTime {
        let mut query = gst::query::Latency::new();
        if self.sinkpad.peer_query(&mut query) {
            let (_, min, _) = query.result();
            min
        } else {
            gst::debug!(CAT, imp = self, "no upstream latency: taken as 0");
            gst::ClockTime::ZERO
        }
    }

    fn process(
        &self,
        state: &mut State,
        reference: Reference,
        buffer: gst::Buffer,
        now: Option<gst::ClockTime>,
        sink_now: Option<gst::ClockTime>,
    ) -> Result<Outcome, gst::FlowError> {
        let mut outcome = Outcome::default();
        let Some(info) = state.info.clone() else {
            return Err(gst::FlowError::NotNegotiated);
        };
        if !reference.resamples() || state.segment.rate() < 0.0 {
            self.pass_through(state, reference, &buffer, &mut outcome);
            outcome.buffers.push(buffer);
            return Ok(outcome);
        }
        let input_discont = buffer.flags().contains(gst::BufferFlags::DISCONT)
            && state.run.as_ref().is_some_and(|run| run.matcher.fed() > 0);
        if input_discont && reference == Reference::SinkClock {
            // The sink plays what it gets at its own pace. When the input was lost because the
            // sink held it up (it arrives that much late: a backlog), the sink's time line lags
            // as much: a gap in the output would be one more wait for its device, blocking
            // upstream as long, which loses the source as much again. The part of the loss the
            // backlog covers is spliced; only the rest is a gap.
            let gap = self.sink_clock_gap(state, &buffer, now);
            gst::debug!(
                CAT,
                imp = self,
                "input DISCONT: restarting, output gap {}",
                gst::ClockTime::from_nseconds(gap)
            );
            outcome.buffers.extend(self.end_run(state, true));
            let skip = media_duration(&state.segment, gap as f64 / 1e9);
            if let Some(continuation) = state.continuation.as_mut() {
                continuation.running_time = None;
                continuation.pts = saturating_add(continuation.pts, skip);
            }
            state.discont |= gap > 0;
        } else if input_discont {
            gst::debug!(CAT, imp = self, "input DISCONT: restarting");
            outcome.buffers.extend(self.drain(state));
            state.run = None;
            state.discont = true;
        }

        let rate = Rate::per_second(info.rate());
        let frames = buffer.size() / info.bpf() as usize;
        let start = match buffer
            .pts()
            .and_then(|pts| state.segment.to_running_time(pts))
        {
            Some(start) => start.nseconds(),
            None => match &state.run {
                Some(run) => run.input_end,
                None => now.map_or(0, gst::ClockTime::nseconds),
            },
        };
        let duration = buffer
            .duration()
            .unwrap_or_else(|| rate.units_to_time(frames as u64));
        let end = buffer
            .pts()
            .and_then(|pts| state.segment.to_running_time(saturating_add(pts, duration)))
            .map_or(
                start.saturating_add((duration.nseconds() as f64 / state.segment.rate()) as u64),
                |end| end.nseconds(),
            );
        let arrival = now.map(|now| {
            now.nseconds()
                .saturating_sub(state.upstream_latency.unwrap_or_default().nseconds())
        });

        if state.run.is_none() {
            let run = self.start_run(state, reference, &info, &buffer, start, arrival);
            state.run = Some(run);
        }
        let data = {
            let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
            samples::to_f32(info.format(), map.as_slice()).ok_or(gst::FlowError::NotNegotiated)?
        };
        if let Some(leap) = self
            .observe_sink_clock(state, sink_now, now)
            .filter(|jump| *jump < -SINK_SKIP)
        {
            // The sink's time leapt ahead (it played silence while starved): what follows in
            // the output would land where it has played already, and all of it after. The
            // output skips as far, as a restart.
            outcome.buffers.extend(self.end_run(state, true));
            let skip = media_duration(&state.segment, -leap);
            if let Some(continuation) = state.continuation.as_mut() {
                continuation.pts = saturating_add(continuation.pts, skip);
                continuation.running_time = None;
            }
            state.discont = true;
            let run = self.start_run(state, reference, &info, &buffer, start, arrival);
            state.run = Some(run);
            self.observe_sink_clock(state, sink_now, now);
        }
        let run = state.run.as_mut().expect("started above");
        let times = InputTimes {
            first_frame: 0,
            frames: frames as u64,
            start: run.seconds(start),
            end: run.seconds(end),
            arrival: arrival.map(|arrival| run.seconds(arrival)),
        };
        run.input_end = end;
        let first = run.matcher.produced();
        gst::log!(
            CAT,
            imp = self,
            "input at {} arrives {now:?} (sink clock {sink_now:?}), output frame {first} at {}",
            gst::ClockTime::from_nseconds(start),
            gst::ClockTime::from_nseconds(run.origin)
                + Rate::per_second(info.rate()).units_to_time(first)
        );
        let produced = run.matcher.process(&data, times);
        state.status = run.matcher.status();
        for notice in produced.notices {
            match notice {
                Notice::Report(status) => outcome
                    .messages
                    .push(message::rate_matching(reference, status)),
                Notice::BeyondReach { needed, clamp } => {
                    outcome.warning = Some(message::beyond_reach(needed, clamp))
                }
            }
        }
        outcome
            .buffers
            .extend(self.output_buffer(state, first, &produced.frames)?);
        Ok(outcome)
    }

    /// After a capture loss in sink-clock mode, the output's gap (ns of running time): the time
    /// lost beyond how late the buffer after it arrives (the backlog the sink's lag holds).
    fn sink_clock_gap(
        &self,
        state: &State,
        buffer: &gst::Buffer,
        now: Option<gst::ClockTime>,
    ) -> u64 {
        let (Some(run), Some(start)) = (
            &state.run,
            buffer
                .pts()
                .and_then(|pts| state.segment.to_running_time(pts)),
        ) else {
            return 0;
        };
        let lost = start.nseconds().saturating_sub(run.input_end);
        let backlog = now.map_or(0, |now| {
            now.nseconds()
                .saturating_sub(state.upstream_latency.unwrap_or_default().nseconds())
                .saturating_sub(start.nseconds())
        });
        lost.saturating_sub(backlog)
    }

    /// Feeds the run a reading of the sink's clock; the jump of the sink's time it shows
    /// (seconds it stood still; negative: leapt ahead), if any.
    fn observe_sink_clock(
        &self,
        state: &mut State,
        sink_now: Option<gst::ClockTime>,
        now: Option<gst::ClockTime>,
    ) -> Option<f64> {
        let (Some(sink_now), Some(now), Some(run)) = (sink_now, now, state.run.as_mut()) else {
            return None;
        };
        let sink_origin = *run.sink_origin.get_or_insert(sink_now.nseconds());
        let sink_time = (sink_now.nseconds() as i128 - sink_origin as i128) as f64 / 1e9;
        let time = run.seconds(now.nseconds());
        let jump = run.matcher.observe_sink_clock(sink_time, time);
        if let Some(jump) = jump {
            gst::debug!(
                CAT,
                imp = self,
                "the sink's time stood still for {:.3} ms (negative: leapt) at {time:.6} s of \
                 the run: its latency, not its rate",
                jump * 1e3
            );
        }
        jump
    }

    fn start_run(
        &self,
        state: &mut State,
        reference: Reference,
        info: &gst_audio::AudioInfo,
        buffer: &gst::Buffer,
        start: u64,
        arrival: Option<u64>,
    ) -> Run {
        let bandwidth = lock(&self.settings).bandwidth;
        // Output frame 0 stands for where the first input frame belongs.
        let belongs = match reference {
            Reference::Timestamps => arrival.unwrap_or(start),
            _ => start,
        };
        let (learnt, origin, pts0) = match state.continuation.take() {
            Some(continuation) => (
                continuation.learnt,
                continuation.running_time.unwrap_or(belongs),
                continuation.pts,
            ),
            None => {
                let origin = belongs;
                let pts0 = state
                    .segment
                    .position_from_running_time(gst::ClockTime::from_nseconds(origin))
                    .or(buffer.pts())
                    .unwrap_or(state.segment.start().unwrap_or_default());
                (Learnt::new(bandwidth), origin, pts0)
            }
        };
        gst::debug!(
            CAT,
            imp = self,
            "run starts at running time {}, PTS {pts0}",
            gst::ClockTime::from_nseconds(origin)
        );
        Run {
            matcher: Matcher::new(
                reference,
                info.rate(),
                info.channels() as usize,
                state.segment.rate(),
                0.0,
                learnt,
            ),
            origin,
            pts0,
            sink_origin: None,
            input_end: start,
        }
    }

    /// Buffers pass untouched; the message still says what was decided, once a second.
    fn pass_through(
        &self,
        state: &mut State,
        reference: Reference,
        buffer: &gst::Buffer,
        outcome: &mut Outcome,
    ) {
        state.status = Status::default();
        let running_time = buffer
            .pts()
            .and_then(|pts| state.segment.to_running_time(pts))
            .map_or(0, gst::ClockTime::nseconds);
        if running_time >= state.next_passthrough_report {
            state.next_passthrough_report = running_time + gst::ClockTime::SECOND.nseconds();
            outcome
                .messages
                .push(message::rate_matching(reference, state.status));
        }
    }

    /// `frames` (interleaved f32) as a buffer stamped as output frames `first`…
    fn output_buffer(
        &self,
        state: &mut State,
        first: u64,
        frames: &[f32],
    ) -> Result<Option<gst::Buffer>, gst::FlowError> {
        let (Some(info), Some(run)) = (&state.info, &state.run) else {
            return Ok(None);
        };
        let count = (frames.len() / info.channels() as usize) as u64;
        if count == 0 {
            return Ok(None);
        }
        let rate = Rate::per_second(info.rate());
        let bytes =
            samples::from_f32(info.format(), frames).ok_or(gst::FlowError::NotNegotiated)?;
        let mut buffer = gst::Buffer::from_mut_slice(bytes);
        {
            let buffer = buffer.get_mut().expect("new buffer is writable");
            let pts = saturating_add(run.pts0, rate.units_to_time(first));
            let end = saturating_add(run.pts0, rate.units_to_time(first + count));
            buffer.set_pts(pts);
            buffer.set_duration(end - pts);
            if std::mem::take(&mut state.discont) {
                buffer.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        Ok(Some(buffer))
    }

    /// The rest of the run's input, read to its end.
    fn drain(&self, state: &mut State) -> Option<gst::Buffer> {
        let run = state.run.as_mut()?;
        let first = run.matcher.produced();
        let frames = run.matcher.drain();
        self.output_buffer(state, first, &frames).ok().flatten()
    }

    /// Ends the run; with `continue_output` the next one goes on where its output stopped.
    fn end_run(&self, state: &mut State, continue_output: bool) -> Option<gst::Buffer> {
        let drained = self.drain(state);
        let run = state.run.take()?;
        if continue_output && let Some(info) = &state.info {
            let pts = saturating_add(
                run.pts0,
                Rate::per_second(info.rate()).units_to_time(run.matcher.produced()),
            );
            if let Some(running_time) = state.segment.to_running_time(pts) {
                state.continuation = Some(Continuation {
                    learnt: run.matcher.learnt(),
                    running_time: Some(running_time.nseconds()),
                    pts,
                });
            }
        }
        drained
    }

    fn apply(&self, outcome: Outcome) -> Result<gst::FlowSuccess, gst::FlowError> {
        if outcome.latency_changed {
            self.post_latency_message();
        }
        if let Some(warning) = outcome.warning {
            gst::element_imp_warning!(self, gst::CoreError::Clock, ("{}", warning));
        }
        for structure in outcome.messages {
            gst::debug!(CAT, imp = self, "{structure}");
            let _ = self.obj().post_message(
                gst::message::Element::builder(structure)
                    .src(&*self.obj())
                    .build(),
            );
        }
        let mut result = Ok(gst::FlowSuccess::Ok);
        for buffer in outcome.buffers {
            result = self.srcpad.push(buffer);
            if result.is_err() {
                break;
            }
        }
        result
    }

    fn sink_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        use gst::EventView;
        let mut latency_changed = false;
        let drained = match event.view() {
            EventView::Caps(caps) => {
                let Ok(info) = gst_audio::AudioInfo::from_caps(caps.caps()) else {
                    gst::warning!(
                        CAT,
                        imp = self,
                        "caps without audio info: {:?}",
                        caps.caps()
                    );
                    return false;
                };
                let mut state = lock(&self.state);
                if state.info.as_ref() == Some(&info) {
                    None
                } else {
                    gst::debug!(CAT, imp = self, "caps {info:?}: draining");
                    let drained = self.end_run(&mut state, true);
                    state.info = Some(info);
                    latency_changed = self.latency_changed(&mut state);
                    drained
                }
            }
            EventView::Segment(segment) => {
                let Some(segment) = segment.segment().downcast_ref::<gst::ClockTime>() else {
                    gst::element_imp_error!(
                        self,
                        gst::StreamError::Format,
                        ("ratematch needs a TIME segment")
                    );
                    return false;
                };
                let mut state = lock(&self.state);
                if state.segment == *segment {
                    None
                } else {
                    let drained = self.end_run(&mut state, false);
                    self.restart(&mut state);
                    state.segment = segment.clone();
                    drained
                }
            }
            EventView::FlushStop(_) => {
                let mut state = lock(&self.state);
                state.run = None;
                self.restart(&mut state);
                state.segment = gst::FormattedSegment::new();
                None
            }
            EventView::Eos(_) => self.end_run(&mut lock(&self.state), false),
            _ => None,
        };
        if let Some(buffer) = drained {
            let _ = self.srcpad.push(buffer);
        }
        let forwarded = gst::Pad::event_default(pad, Some(&*self.obj()), event);
        if latency_changed {
            self.post_latency_message();
        }
        forwarded
    }

    /// Forgets the run and the decision: the next buffer starts a new run (with a DISCONT when
    /// one was running).
    fn restart(&self, state: &mut State) {
        state.discont |= state.reference.is_some();
        state.reference = None;
        state.sink_clock = None;
        state.continuation = None;
        state.next_passthrough_report = 0;
    }

    fn src_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        if let gst::EventView::Latency(_) = event.view() {
            lock(&self.state).upstream_latency = None;
        }
        gst::Pad::event_default(pad, Some(&*self.obj()), event)
    }

    fn src_query(&self, pad: &gst::Pad, query: &mut gst::QueryRef) -> bool {
        if let gst::QueryViewMut::Latency(latency) = query.view_mut() {
            if !self.sinkpad.peer_query(latency.query_mut()) {
                return false;
            }
            let added = {
                let mut state = lock(&self.state);
                let added = self.added_latency(&state);
                state.answered_latency = Some(added);
                added
            };
            let (live, min, max) = latency.result();
            latency.set(
                live,
                saturating_add(min, added),
                max.map(|max| saturating_add(max, added)),
            );
            gst::debug!(CAT, imp = self, "latency: {min} + {added}");
            return true;
        }
        gst::Pad::query_default(pad, Some(&*self.obj()), query)
    }

    /// The resampler's wait for input, while it resamples.
    fn added_latency(&self, state: &State) -> gst::ClockTime {
        let resamples = state.reference.is_none_or(Reference::resamples);
        match &state.info {
            Some(info) if resamples => {
                Rate::per_second(info.rate()).units_to_time_ceil(self.delay_frames as u64)
            }
            _ => gst::ClockTime::ZERO,
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for RateMatch {
    const NAME: &'static str = "GstRateMatch";
    type Type = super::RateMatch;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let sinkpad = gst::Pad::builder_from_template(&klass.pad_template("sink").unwrap())
            .chain_function(|_pad, parent, buffer| {
                RateMatch::catch_panic_pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |imp| imp.sink_chain(buffer),
                )
            })
            .event_function(|pad, parent, event| {
                RateMatch::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.sink_event(pad, event),
                )
            })
            .flags(gst::PadFlags::PROXY_CAPS | gst::PadFlags::PROXY_ALLOCATION)
            .build();
        let srcpad = gst::Pad::builder_from_template(&klass.pad_template("src").unwrap())
            .event_function(|pad, parent, event| {
                RateMatch::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.src_event(pad, event),
                )
            })
            .query_function(|pad, parent, query| {
                RateMatch::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.src_query(pad, query),
                )
            })
            .flags(gst::PadFlags::PROXY_CAPS | gst::PadFlags::PROXY_ALLOCATION)
            .build();
        Self {
            sinkpad,
            srcpad,
            settings: Mutex::default(),
            state: Mutex::default(),
            delay_frames: Resampler::new(1).delay_frames(),
        }
    }
}

impl ObjectImpl for RateMatch {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("mode", DEFAULT_MODE)
                    .nick("Mode")
                    .blurb("Reference to match rates against (applies at the next restart)")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("bandwidth")
                    .nick("Bandwidth")
                    .blurb("Bandwidth of the control loop in Hz (applies at the next restart)")
                    .minimum(MIN_BANDWIDTH)
                    .maximum(MAX_BANDWIDTH)
                    .default_value(DEFAULT_BANDWIDTH)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("drift")
                    .nick("Drift")
                    .blurb("Measured input rate relative to the output's, in ppm")
                    .minimum(-1e6)
                    .maximum(1e6)
                    .default_value(0.0)
                    .read_only()
                    .build(),
                glib::ParamSpecInt64::builder("offset")
                    .nick("Offset")
                    .blurb("Residual offset of the output from its reference, in ns")
                    .default_value(0)
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = lock(&self.settings);
        match pspec.name() {
            "mode" => settings.mode = value.get().expect("type checked upstream"),
            "bandwidth" => settings.bandwidth = value.get().expect("type checked upstream"),
            _ => unimplemented!(),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "mode" => lock(&self.settings).mode.to_value(),
            "bandwidth" => lock(&self.settings).bandwidth.to_value(),
            "drift" => lock(&self.state).status.drift_ppm.to_value(),
            "offset" => lock(&self.state).status.offset_ns.to_value(),
            _ => unimplemented!(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).unwrap();
        obj.add_pad(&self.srcpad).unwrap();
    }
}

impl GstObjectImpl for RateMatch {}

impl ElementImpl for RateMatch {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Rate matcher",
                "Filter/Effect/Audio",
                "Resamples a live stream continuously so it keeps to its clock reference",
                "pushsource authors",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list(samples::FORMATS)
                .build();
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            *lock(&self.state) = State::default();
        }
        let result = self.parent_change_state(transition)?;
        if transition == gst::StateChange::PausedToReady {
            *lock(&self.state) = State::default();
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_duration_past_u64_saturates_instead_of_panicking() {
        gst::init().unwrap();
        let mut segment = gst::FormattedSegment::<gst::ClockTime>::new();
        segment.set_rate(100.0);
        assert_eq!(media_duration(&segment, 2e8), gst::ClockTime::MAX);
        assert_eq!(media_duration(&segment, f64::INFINITY), gst::ClockTime::MAX);
        segment.set_rate(1.0);
        assert_eq!(
            media_duration(&segment, u64::MAX as f64 / 1e9),
            gst::ClockTime::MAX
        );
        segment.set_rate(-2.0);
        assert_eq!(
            media_duration(&segment, 1.5),
            gst::ClockTime::from_seconds(3)
        );
    }
}
