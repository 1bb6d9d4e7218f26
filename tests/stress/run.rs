//! Runs a plan on a real pipeline and checks, after every operation, what the README promises:
//! a requested state is reached or an ERROR is posted (within [`STATE_BOUND`]); stamps are
//! monotonic within a segment at every sink; a refused `set-rate` or `rate` write leaves `rate`
//! unchanged (and a refused write posts its WARNING); no panic; no GLib warning or critical.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use gst::glib;
use gst::prelude::*;

use super::monitor;
use super::plan::{self, Op, Plan, SeekTarget, SinkKind, Source, Value};

/// How long a state change may take before it counts as never reached: generous, as no sane
/// state change in these small pipelines takes more than a fraction of a second.
pub const STATE_BOUND: Duration = Duration::from_secs(10);
/// How long a rate waiting for the graph's preroll may take to be applied once the pipeline
/// plays (a thread-pool thread's flushing seek: milliseconds; generous for a loaded machine).
const RATE_OUTCOME_BOUND: Duration = Duration::from_secs(2);

/// What a sequence saw besides its problems, for the figures of a run.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub operations: usize,
    pub errors_posted: usize,
    pub refused_rates: usize,
    pub accepted_rates: usize,
    /// Non-flushing seeks and EOS not made: the pipeline was not in PLAYING.
    pub skipped: usize,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// The first broken promise, with the index of the operation that broke it.
    pub problem: Option<(Option<usize>, String)>,
    pub figures: Figures,
}

/// Segment rate and last stamp seen at one sink pad, with the pipeline's running time when it
/// was seen, and whether that running time went back since the stamps last went back.
#[derive(Default)]
struct StampTrack {
    rate: f64,
    last: Option<gst::ClockTime>,
    running_time_at_last: Option<gst::ClockTime>,
    running_time_went_back: bool,
    /// [`Run::running_time_resets`] when the last stamp was seen.
    resets_at_last: u64,
}

/// The running time of `sink`'s clock now, when it has one and a base time.
fn running_time_now(sink: &gst::Element) -> Option<gst::ClockTime> {
    let clock = sink.clock()?;
    let base_time = sink.base_time()?;
    clock.time().checked_sub(base_time)
}

struct Run<'a> {
    plan: &'a Plan,
    pipeline: gst::Pipeline,
    bus: gst::Bus,
    /// Problems found on streaming threads (stamps), read after each operation.
    stream_problems: Arc<Mutex<Vec<String>>>,
    /// How many times the pipeline's running time was reset (RESET_TIME messages).
    running_time_resets: Arc<AtomicU64>,
    error_seen: bool,
    /// A state may legitimately take longer than the bound: a live source with seconds of
    /// latency, or one whose output is clipped for seconds by a negative offset.
    slow_state_allowed: bool,
    /// State changes under way in other threads: two in a row run side by side, and each is
    /// joined (a handle replaced unjoined let its change land after a later one was checked).
    second_threads: Vec<JoinHandle<Result<gst::StateChangeSuccess, gst::StateChangeError>>>,
    /// A state change from the second thread raced one from here since the last settle.
    raced: bool,
    /// A graph's rate set before its preroll may still be waiting for it: graphbin applies it
    /// by a flushing seek from a thread-pool thread once the graph has prerolled (SPEC section
    /// 3, rates item 7), which a graph without sinks of its own cannot hold the pipeline for.
    /// Until its outcome (`rate-changed`, or the `rate-refused` WARNING) is seen, a pipeline
    /// in PLAYING may still lose its preroll to that seek.
    rate_awaits_preroll: Option<f64>,
    figures: Figures,
}

/// A pipeline is never dropped out of NULL, even when the test itself panics.
impl Drop for Run<'_> {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Runs `plan`, keeping only the operations in `only` when given.
pub fn run(plan: &Plan, only: Option<&[usize]>) -> Outcome {
    let pipeline = match gst::parse::launch(&plan.topology.description) {
        Ok(element) => match element.downcast::<gst::Pipeline>() {
            Ok(pipeline) => pipeline,
            // A description of one bin alone (`graphbin.( … )`) gives that bin.
            Err(element) => {
                let pipeline = gst::Pipeline::new();
                pipeline.add(&element).expect("add the bin to a pipeline");
                pipeline
            }
        },
        Err(error) => {
            return Outcome {
                problem: Some((None, format!("the description does not parse: {error}"))),
                figures: Figures::default(),
            };
        }
    };
    // A pipeline flushes its bus in NULL (GStreamer's `auto-flush-bus`): a WARNING an element
    // posts then (a `rate` write refused in NULL) would be dropped before anyone could read it.
    // The checker keeps the bus so that every message the README promises can be seen.
    pipeline.set_auto_flush_bus(false);
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut run = Run {
        plan,
        pipeline,
        bus,
        stream_problems: Arc::new(Mutex::new(Vec::new())),
        running_time_resets: Arc::new(AtomicU64::new(0)),
        error_seen: false,
        slow_state_allowed: false,
        second_threads: Vec::new(),
        raced: false,
        rate_awaits_preroll: rate_at_launch(&plan.topology.description),
        figures: Figures::default(),
    };
    // A sink posts RESET_TIME on a flushing seek's FLUSH_STOP, and the pipeline's running time
    // starts again from 0: counted as it is posted, before any buffer after it can be rendered.
    let resets = run.running_time_resets.clone();
    run.bus.set_sync_handler(move |_, message| {
        if message.type_() == gst::MessageType::ResetTime {
            resets.fetch_add(1, Ordering::SeqCst);
        }
        gst::BusSyncReply::Pass
    });
    run.watch_all_sinks();
    let mut problem = None;
    for (index, op) in plan.ops.iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&index)) {
            continue;
        }
        monitor::at_operation(Some(index));
        run.figures.operations += 1;
        let mut result = run.apply(op);
        if result.is_ok()
            && !matches!(
                op,
                Op::SetState {
                    from_second_thread: true,
                    ..
                }
            )
        {
            result = run.join_second_thread();
        }
        let result = result.and_then(|()| run.check_streams_and_log());
        if let Err(text) = result {
            problem = Some((Some(index), text));
            break;
        }
    }
    monitor::at_operation(None);
    let cleanup = run.join_second_thread().and_then(|()| run.stop());
    if problem.is_none()
        && let Err(text) = cleanup.and_then(|()| run.check_streams_and_log())
    {
        problem = Some((None, text));
    }
    Outcome {
        problem,
        figures: run.figures.clone(),
    }
}

fn flags_value(pspec: &glib::ParamSpec, bits: u32) -> Option<glib::Value> {
    let class = glib::FlagsClass::with_type(pspec.value_type())?;
    class.to_value(bits)
}

fn to_gvalue(pspec: &glib::ParamSpec, value: &Value) -> Option<glib::Value> {
    // Only values in the property's range: GLib refuses others with a warning of its own.
    let gvalue = match value {
        Value::I64(v) => {
            let spec = pspec.downcast_ref::<glib::ParamSpecInt64>()?;
            (spec.minimum()..=spec.maximum())
                .contains(v)
                .then(|| v.to_value())?
        }
        Value::U64(v) => {
            let spec = pspec.downcast_ref::<glib::ParamSpecUInt64>()?;
            (spec.minimum()..=spec.maximum())
                .contains(v)
                .then(|| v.to_value())?
        }
        Value::F64(v) => {
            let spec = pspec.downcast_ref::<glib::ParamSpecDouble>()?;
            (spec.minimum()..=spec.maximum())
                .contains(v)
                .then(|| v.to_value())?
        }
        Value::Bool(v) => {
            pspec.downcast_ref::<glib::ParamSpecBoolean>()?;
            v.to_value()
        }
        Value::Flags(bits) => flags_value(pspec, *bits)?,
    };
    Some(gvalue)
}

/// More runnable threads than cores (the 1-minute load average): a live source then wakes up
/// late, and late live data is lost as the README says; a live pipeline may legitimately not
/// reach PLAYING, so its state check is skipped.
fn overloaded() -> bool {
    // `PUSHSOURCE_STRESS_STRICT=1` excuses nothing: a replay on a busy machine judges as on a
    // quiet one.
    if std::env::var("PUSHSOURCE_STRESS_STRICT")
        .is_ok_and(|value| !value.is_empty() && value != "0")
    {
        return false;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .is_some_and(|load| load > cores)
}

/// Whether a mixer is upstream of `sink` (through queues, converters and ghost pads).
fn fed_by_mixer(sink: &gst::Element) -> bool {
    let mut pad = sink.static_pad("sink");
    for _ in 0..16 {
        let Some(peer) = pad.as_ref().and_then(|pad| pad.peer()) else {
            return false;
        };
        let upstream = match peer.downcast_ref::<gst::GhostPad>() {
            Some(ghost) => ghost.target(),
            None => Some(peer),
        };
        let Some(element) = upstream.and_then(|pad| pad.parent_element()) else {
            return false;
        };
        let factory = element
            .factory()
            .map(|f| f.name().to_string())
            .unwrap_or_default();
        if matches!(factory.as_str(), "audiomixer" | "adder" | "compositor") {
            return true;
        }
        pad = element.static_pad("sink");
    }
    false
}

/// What the SPEC accepts as a rate: anything but 0, NaN and the infinities.
fn valid_rate(rate: f64) -> bool {
    rate.is_finite() && rate != 0.0
}

fn same_rate(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

impl Run<'_> {
    fn element(&self, name: &str) -> Option<gst::Element> {
        self.pipeline.by_name(name)
    }

    fn watch_all_sinks(&self) {
        let sinks: Vec<gst::Element> = self
            .pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.element_flags().contains(gst::ElementFlags::SINK) && !e.is::<gst::Bin>())
            .collect();
        // A mixer (an aggregator) stamps its output itself: what reaches its sink is checked
        // only on request, the promise being about what the push sources output.
        let check_mixed = std::env::var_os("PUSHSOURCE_STRESS_CHECK_MIXER_STAMPS").is_some();
        for sink in sinks {
            if check_mixed || !fed_by_mixer(&sink) {
                self.watch_sink(&sink);
            }
        }
    }

    fn watch_sink(&self, sink: &gst::Element) {
        watch_stamps(
            sink,
            self.stream_problems.clone(),
            self.running_time_resets.clone(),
        );
    }

    /// Reads the bus; ERRORs make a state that is never reached acceptable, except a panic.
    fn drain_bus(&mut self) -> Result<Vec<gst::Message>, String> {
        let mut messages = Vec::new();
        while let Some(message) = self.bus.pop() {
            messages.push(self.note_message(message)?);
        }
        Ok(messages)
    }

    /// Counts an ERROR; one that comes from a panic fails the sequence.
    fn note_message(&mut self, message: gst::Message) -> Result<gst::Message, String> {
        if let Some(rate) = self.rate_awaits_preroll
            && is_rate_outcome(&message, rate)
        {
            self.rate_awaits_preroll = None;
        }
        if let gst::MessageView::Error(error) = message.view() {
            self.error_seen = true;
            self.figures.errors_posted += 1;
            let text = format!("{} ({:?})", error.error(), error.debug());
            if text.contains("anicked") {
                return Err(format!("ERROR from a panic: {text}"));
            }
        }
        Ok(message)
    }

    fn check_streams_and_log(&mut self) -> Result<(), String> {
        if let Some(problem) = self.stream_problems.lock().unwrap().first() {
            return Err(format!("stamps not monotonic: {problem}"));
        }
        if let Some(finding) = monitor::findings().first() {
            return Err(finding.clone());
        }
        Ok(())
    }

    /// Waits until no state change is under way; one that stays under way past the bound
    /// without an ERROR breaks the README's promise.
    fn settle(&mut self, after: &str) -> Result<(gst::State, bool), String> {
        // When a change may legitimately stay under way (an ERROR was posted, or a live source
        // has seconds of latency), nothing is checked: no need to wait.
        let bound = if self.error_seen || self.slow_state_allowed {
            gst::ClockTime::from_mseconds(50)
        } else {
            gst::ClockTime::from_nseconds(STATE_BOUND.as_nanos() as u64)
        };
        let (mut result, mut current, mut pending) = self.pipeline.state(bound);
        // A wait interrupted by a change from another thread answers FAILURE (GStreamer's
        // get_state): ask again for the change that interrupted it.
        for _ in 0..3 {
            if result.is_ok() {
                break;
            }
            (result, current, pending) = self.pipeline.state(bound);
        }
        self.drain_bus()?;
        // Two set_state() calls racing can leave even `audiotestsrc ! queue ! fakesink` under
        // way for ever (GStreamer 1.22: 14 of 150 runs on a loaded machine). The check asks
        // again, as an application would, and does not judge a change that raced: a deadlock
        // is still caught by the watchdog.
        let raced = std::mem::take(&mut self.raced);
        if raced
            && result == Ok(gst::StateChangeSuccess::Async)
            && pending != gst::State::VoidPending
        {
            let _ = self.pipeline.set_state(pending);
            (result, current, pending) = self.pipeline.state(bound);
            self.drain_bus()?;
        }
        match result {
            Ok(gst::StateChangeSuccess::Async) => {
                if raced
                    || self.error_seen
                    || self.slow_state_allowed
                    || (self.may_be_live() && overloaded())
                {
                    Ok((current, false))
                } else {
                    Err(format!(
                        "after {after}: {current:?} → {pending:?} still under way after {STATE_BOUND:?}, and no ERROR posted"
                    ))
                }
            }
            Ok(_) => Ok((current, true)),
            Err(_) if self.error_seen => Ok((current, false)),
            Err(_) => Err(format!(
                "after {after}: the state change failed and no ERROR was posted"
            )),
        }
    }

    fn join_second_thread(&mut self) -> Result<(), String> {
        if self.second_threads.is_empty() {
            return Ok(());
        }
        self.raced = true;
        for handle in std::mem::take(&mut self.second_threads) {
            let result = handle
                .join()
                .map_err(|_| "the second thread panicked".to_string())?;
            self.drain_bus()?;
            if result.is_err() && !self.error_seen {
                return Err(
                    "set_state from the second thread failed and no ERROR was posted".into(),
                );
            }
        }
        self.settle("the second thread's set_state").map(|_| ())
    }

    fn stop(&mut self) -> Result<(), String> {
        match self.pipeline.set_state(gst::State::Null) {
            Ok(_) => Ok(()),
            Err(_) => Err("set_state(NULL) failed".into()),
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let text = op.to_string();
        match op {
            Op::SetState {
                state,
                from_second_thread: true,
            } => {
                let pipeline = self.pipeline.clone();
                let state = state.gst();
                self.second_threads.push(
                    std::thread::Builder::new()
                        .name("second thread".into())
                        .spawn(move || pipeline.set_state(state))
                        .expect("spawn"),
                );
                Ok(())
            }
            Op::SetState {
                state,
                from_second_thread: false,
            } => {
                let result = self.pipeline.set_state(state.gst());
                self.drain_bus()?;
                if result.is_err() && !self.error_seen {
                    return Err(format!("{text} failed and no ERROR was posted"));
                }
                let racing = !self.second_threads.is_empty();
                self.raced |= racing;
                let (current, settled) = self.settle(&text)?;
                // With a change from the second thread under way, either may come last.
                if settled && !racing && current != state.gst() && !self.error_seen {
                    return Err(format!("{text} succeeded but the pipeline is {current:?}"));
                }
                Ok(())
            }
            Op::Seek { flush: false, .. } | Op::Eos if !self.playing_with_rate_applied()? => {
                self.figures.skipped += 1;
                Ok(())
            }
            Op::Seek { .. }
            | Op::SetRate { .. }
            | Op::SetProperty {
                property: "rate", ..
            } if self.plan.no_seeks_nor_rate_changes => {
                self.figures.skipped += 1;
                Ok(())
            }
            Op::Seek {
                target,
                rate,
                flush,
                accurate,
                start,
                stop,
            } => {
                let mut flags = gst::SeekFlags::empty();
                if *flush {
                    flags |= gst::SeekFlags::FLUSH;
                }
                if *accurate {
                    flags |= gst::SeekFlags::ACCURATE;
                }
                let position = |t: Option<i64>| match t {
                    Some(t) => (
                        gst::SeekType::Set,
                        Some(gst::ClockTime::from_nseconds(t as u64)),
                    ),
                    None => (gst::SeekType::None, gst::ClockTime::NONE),
                };
                let (start_type, start) = position(*start);
                let (stop_type, stop) = position(*stop);
                let event = gst::event::Seek::new(*rate, flags, start_type, start, stop_type, stop);
                let element = match target {
                    SeekTarget::Pipeline => Some(self.pipeline.clone().upcast()),
                    SeekTarget::Element(name) => self.element(name),
                };
                if let Some(element) = element {
                    element.send_event(event);
                }
                self.settle(&text).map(|_| ())
            }
            Op::SetRate { graph, rate } => {
                let Some(graph) = self.element(graph) else {
                    return Ok(());
                };
                let before = graph.property::<f64>("rate");
                let prerolled = self.prerolled();
                let changed = graph.emit_by_name::<bool>("set-rate", &[rate]);
                let after = graph.property::<f64>("rate");
                if changed && !prerolled && !same_rate(before, after) {
                    self.rate_awaits_preroll = Some(after);
                }
                let mut messages = self.drain_bus()?;
                if changed {
                    self.figures.accepted_rates += 1;
                    if !valid_rate(*rate) {
                        return Err(format!("{text} returned TRUE for a rate the SPEC refuses"));
                    }
                    if !same_rate(after, *rate) {
                        return Err(format!("{text} returned TRUE but rate reads {after:e}"));
                    }
                } else {
                    self.figures.refused_rates += 1;
                    if !same_rate(before, after) {
                        // A state change from another thread may judge a rate set before the
                        // preroll at that preroll, and drop it with its WARNING (README, rate
                        // changes) while this call runs: the rate then changes under the call,
                        // not by it.
                        let settled = self.settle(&text);
                        messages.extend(self.drain_bus()?);
                        if !self.await_preroll_refusal(&mut messages, &[before])? {
                            return Err(format!(
                                "{text} returned FALSE but rate went from {before:e} to {after:e}"
                            ));
                        }
                        return settled.map(|_| ());
                    }
                }
                self.settle(&text).map(|_| ())
            }
            Op::SetProperty {
                element,
                property,
                value,
            } => {
                let Some(element) = self.element(element) else {
                    return Ok(());
                };
                let Some(pspec) = element.find_property(property) else {
                    return Ok(());
                };
                if !pspec.flags().contains(glib::ParamFlags::WRITABLE) {
                    return Ok(());
                }
                let Some(gvalue) = to_gvalue(&pspec, value) else {
                    return Ok(());
                };
                self.note_slow_values(property, value);
                self.note_slow_mixer_input(&element.name(), property, value);
                if *property == "rate" {
                    return self.write_rate(&element, gvalue, &text);
                }
                element.set_property_from_value(property, &gvalue);
                self.settle(&text).map(|_| ())
            }
            Op::AddSource { source, sink } => {
                self.add_source(source, *sink)?;
                self.settle(&text).map(|_| ())
            }
            Op::RemoveSource { source } => {
                self.remove_source(source);
                self.settle(&text).map(|_| ())
            }
            Op::Eos => {
                self.pipeline.send_event(gst::event::Eos::new());
                self.settle(&text).map(|_| ())
            }
            Op::QueryPosition => {
                let _ = self.pipeline.query_position::<gst::ClockTime>();
                let _ = self.pipeline.query_duration::<gst::ClockTime>();
                Ok(())
            }
            Op::Wait { ms } => {
                std::thread::sleep(Duration::from_millis(*ms));
                Ok(())
            }
        }
    }

    /// Whether the pipeline plays, with no state change under way. The generator makes
    /// non-flushing seeks and EOS only where it asked for PLAYING, and a state check may have
    /// let a pipeline that never got there pass (an ERROR posted, a live source on an
    /// overloaded machine): there both would wait for ever, by GStreamer's design (a
    /// non-flushing seek takes the streaming lock of a source blocked in a sink's preroll; EOS
    /// too), so they are not made (stress seed 15444481923035954426).
    fn playing(&self) -> bool {
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        current == gst::State::Playing && pending == gst::State::VoidPending
    }

    /// Whether the pipeline is in PAUSED or PLAYING with no state change under way: a rate
    /// written then is applied at once, not stored for the preroll.
    fn prerolled(&self) -> bool {
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        current >= gst::State::Paused && pending == gst::State::VoidPending
    }

    /// [`Self::playing`], once a rate waiting for the graph's preroll was applied or refused:
    /// its flushing seek, made from a thread-pool thread just after the pipeline reached
    /// PLAYING, makes the sinks preroll again, and EOS (or a non-flushing seek) made then waits
    /// for ever for a source blocked in that preroll (stress seed 6440220140704294518: a rate
    /// set in NULL, sinks outside the graph, PLAYING, EOS). Its outcome follows the preroll
    /// within milliseconds; without it (a rate dropped silently as the one already applied)
    /// the operation is not made.
    fn playing_with_rate_applied(&mut self) -> Result<bool, String> {
        if self.rate_awaits_preroll.is_some() && self.playing() {
            let deadline = std::time::Instant::now() + RATE_OUTCOME_BOUND;
            while self.rate_awaits_preroll.is_some() && std::time::Instant::now() < deadline {
                if let Some(message) = self.bus.timed_pop(gst::ClockTime::from_mseconds(10)) {
                    self.note_message(message)?;
                }
            }
            if self.rate_awaits_preroll.is_none() {
                self.settle("the rate applied at the preroll")?;
            }
        }
        Ok(self.rate_awaits_preroll.is_none() && self.playing())
    }

    /// Whether a source of this sequence is, or may have become, live.
    fn may_be_live(&self) -> bool {
        self.plan.topology.sources.iter().any(|s| s.live)
            || self.plan.ops.iter().any(|op| match op {
                Op::AddSource { source, .. } => source.live,
                Op::SetProperty {
                    property: "is-live" | "push-source-flags",
                    ..
                } => true,
                _ => false,
            })
    }

    fn note_slow_values(&mut self, property: &str, value: &Value) {
        let slow = match (property, value) {
            ("latency" | "extra-latency", Value::U64(latency)) => *latency > plan::SECOND as u64,
            ("ts-offset", Value::I64(offset)) => *offset < -plan::SECOND,
            // A capture buffer of (almost) no more than the latency loses what a loaded
            // machine pushes late: a live stream can lose every buffer, and its sink never
            // prerolls (issue 10 #8 for the test sources; pushsrcbin drops stale buffers by
            // design). The state check is not made then.
            ("max-offset" | "max-graph-latency", Value::U64(max)) => {
                *max > 0 && *max < 50_000_000 || (*max == 0 && property == "max-offset")
            }
            _ => false,
        };
        self.slow_state_allowed |= slow;
    }

    /// A mixer aligns its inputs by running time: an input shifted by seconds may hold its
    /// output (and the preroll of the sink after it) that long, by GStreamer's aggregator
    /// timing.
    fn note_slow_mixer_input(&mut self, element: &str, property: &str, value: &Value) {
        let shifted = matches!((property, value), ("ts-offset", Value::I64(offset)) if offset.unsigned_abs() > plan::SECOND as u64);
        let feeds_mixer = self
            .plan
            .topology
            .sources
            .iter()
            .chain(self.plan.ops.iter().filter_map(|op| match op {
                Op::AddSource { source, .. } => Some(source),
                _ => None,
            }))
            .any(|source| source.name == element && source.mixer.is_some());
        self.slow_state_allowed |= shifted && feeds_mixer;
    }

    /// Whether the preroll refused one of `rates` (a `pushsource/rate-refused` WARNING naming
    /// it), in `messages` or posted within the bound: the preroll drops the rate before it
    /// posts why, and a settle allowed to stay under way does not wait for it.
    fn await_preroll_refusal(
        &mut self,
        messages: &mut Vec<gst::Message>,
        rates: &[f64],
    ) -> Result<bool, String> {
        let refused = |messages: &[gst::Message]| {
            rates.iter().any(|&rate| refused_at_preroll(messages, rate))
        };
        let deadline = std::time::Instant::now() + STATE_BOUND;
        while !refused(messages) && std::time::Instant::now() < deadline {
            if let Some(message) = self.bus.timed_pop(gst::ClockTime::from_mseconds(10)) {
                messages.push(self.note_message(message)?);
            }
        }
        Ok(refused(messages))
    }

    /// A write of `rate` has no return value: it is applied, or refused with a WARNING
    /// (`pushsource/rate-refused`) and the old value kept.
    fn write_rate(
        &mut self,
        graph: &gst::Element,
        value: glib::Value,
        text: &str,
    ) -> Result<(), String> {
        let rate = value.get::<f64>().expect("a gdouble");
        let before = graph.property::<f64>("rate");
        let prerolled = self.prerolled();
        graph.set_property_from_value("rate", &value);
        let after = graph.property::<f64>("rate");
        if !prerolled && !same_rate(before, after) {
            self.rate_awaits_preroll = Some(after);
        }
        let mut messages = self.drain_bus()?;
        let refusal_posted = |messages: &[gst::Message]| {
            messages.iter().any(|message| match message.view() {
                gst::MessageView::Warning(warning) => warning
                    .details()
                    .is_some_and(|details| details.name() == "pushsource/rate-refused"),
                _ => false,
            })
        };
        // The preroll may drop the rate waiting for it meanwhile (see below).
        if !valid_rate(rate)
            && !same_rate(before, after)
            && !self.await_preroll_refusal(&mut messages, &[before])?
        {
            return Err(format!(
                "{text}: a rate the SPEC refuses changed rate from {before:e} to {after:e}"
            ));
        }
        if same_rate(after, rate) {
            self.figures.accepted_rates += 1;
        } else {
            self.figures.refused_rates += 1;
            // As for `set-rate`: a state change from another thread may judge the rate
            // waiting for the preroll (the old one, or this one once stored) and drop it with
            // its WARNING while this write runs.
            if !same_rate(after, before)
                && !self.await_preroll_refusal(&mut messages, &[before, rate])?
            {
                return Err(format!(
                    "{text}: rate reads {after:e}, neither the old {before:e} nor the new"
                ));
            }
            if !refusal_posted(&messages) && !self.error_seen {
                return Err(format!(
                    "{text}: refused (rate stays {before:e}) without the rate-refused WARNING"
                ));
            }
        }
        self.settle(text).map(|_| ())
    }

    fn container(&self, source: &Source) -> gst::Bin {
        match (&self.plan.topology.graph, source.in_graph) {
            (Some(graph), true) => self
                .element(graph)
                .and_then(|graph| graph.downcast::<gst::Bin>().ok())
                .expect("the graph bin"),
            _ => self.pipeline.clone().upcast(),
        }
    }

    fn add_source(&mut self, source: &Source, sink: Option<SinkKind>) -> Result<(), String> {
        let index = &source.name[1..];
        let element = gst::parse::launch(&source.launch_text())
            .map_err(|error| format!("the source does not parse: {error}"))?;
        let capsfilter = gst::ElementFactory::make("capsfilter")
            .name(format!("c{index}"))
            .property("caps", gst::Caps::from_str(source.caps()).expect("caps"))
            .build()
            .expect("capsfilter");
        let container = self.container(source);
        match &source.mixer {
            Some(mixer_name) => {
                let Some(mixer) = self.element(mixer_name) else {
                    return Ok(());
                };
                let queue = gst::ElementFactory::make("queue")
                    .name(format!("q{index}"))
                    .build()
                    .expect("queue");
                container
                    .add_many([&element, &capsfilter, &queue])
                    .expect("add");
                gst::Element::link_many([&element, &capsfilter, &queue]).expect("link");
                let pad = mixer.request_pad_simple("sink_%u").expect("a mixer pad");
                queue
                    .static_pad("src")
                    .unwrap()
                    .link(&pad)
                    .expect("link to the mixer");
                for e in [&queue, &capsfilter, &element] {
                    let _ = e.sync_state_with_parent();
                }
            }
            None => {
                let sink = match sink.unwrap_or(SinkKind::Fake) {
                    SinkKind::App => gst::ElementFactory::make("appsink")
                        .property("max-buffers", 2u32)
                        .property("drop", true)
                        .property("wait-on-eos", false),
                    _ => gst::ElementFactory::make("fakesink"),
                }
                .name(format!("dk{index}"))
                .property("sync", true)
                // A sink added to a running pipeline that waited for preroll would take the
                // pipeline's state down to PAUSED, and a live source synced to that PAUSED
                // never produces the buffer it waits for: GStreamer's rule (plain
                // `audiotestsrc is-live=true` too), not a defect.
                .property("async", false)
                .build()
                .expect("sink");
                self.watch_sink(&sink);
                container
                    .add_many([&element, &capsfilter, &sink])
                    .expect("add");
                gst::Element::link_many([&element, &capsfilter, &sink]).expect("link");
                for e in [&sink, &capsfilter, &element] {
                    let _ = e.sync_state_with_parent();
                }
            }
        }
        Ok(())
    }

    /// Removes a source as an application must: first what blocks its streaming thread
    /// downstream goes (the mixer's pad released, which unblocks a thread waiting in the
    /// mixer; or the branch's sink set to NULL, which unblocks a preroll or clock wait), then
    /// each element to NULL from downstream up, so that no element joins a thread still
    /// blocked further down.
    fn remove_source(&mut self, source: &Source) {
        let elements: Vec<gst::Element> = source
            .elements
            .iter()
            .filter_map(|name| self.element(name))
            .collect();
        if elements.len() != source.elements.len() {
            return;
        }
        if source.mixer.is_some() {
            let queue = elements.last().expect("the queue");
            let src = queue.static_pad("src").expect("a queue src pad");
            if let Some(peer) = src.peer()
                && let Some(mixer) = peer.parent_element()
            {
                mixer.release_request_pad(&peer);
            }
        }
        // Locked first: a state change of the pipeline from the second thread must not take
        // them back up while they go down.
        for element in &elements {
            element.set_locked_state(true);
        }
        for element in elements.iter().rev() {
            let _ = element.set_state(gst::State::Null);
        }
        for element in &elements {
            if let Some(bin) = element.parent().and_then(|p| p.downcast::<gst::Bin>().ok()) {
                let _ = bin.remove(element);
            }
        }
    }
}

use std::str::FromStr;

/// Stamps must not go back in a forward segment, nor forward in a reverse one, at `sink`'s sink
/// pad: what breaks it is pushed to `problems`, from the streaming thread.
pub fn watch_stamps(
    sink: &gst::Element,
    problems: Arc<Mutex<Vec<String>>>,
    running_time_resets: Arc<AtomicU64>,
) {
    let Some(pad) = sink.static_pad("sink") else {
        return;
    };
    let track = Mutex::new(StampTrack {
        rate: 1.0,
        last: None,
        running_time_at_last: None,
        running_time_went_back: false,
        resets_at_last: running_time_resets.load(Ordering::SeqCst),
    });
    let name = sink.name();
    let weak_sink = sink.downgrade();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            let mut track = track.lock().unwrap();
            match &info.data {
                Some(gst::PadProbeData::Event(event)) => match event.view() {
                    gst::EventView::Segment(segment) => {
                        track.rate = segment.segment().rate();
                        track.last = None;
                    }
                    gst::EventView::FlushStop(_) => track.last = None,
                    _ => {}
                },
                Some(gst::PadProbeData::Buffer(buffer)) => {
                    if let Some(pts) = buffer.pts() {
                        // A live source stamps with the pipeline's running time at capture,
                        // and a flushing seek that one branch accepts resets the running
                        // time of the whole pipeline (GStreamer's `reset-time`), also of a
                        // branch whose live source refused the seek (SPEC section 2 rule 7:
                        // a rate other than 1.0) and so sends no new segment: its stamps
                        // then start again from 0 in the same segment, as the clock's
                        // running time did, and its sink still renders them in order.
                        // Only a running time that went back excuses stamps that go back,
                        // once: buffers stamped before it went back may still be on their way
                        // (in a queue) and come first (stress seeds 7227476234108146129,
                        // 14264522031909911876, 2167396583324345879, 4230284498133243476).
                        let now = weak_sink.upgrade().and_then(|sink| running_time_now(&sink));
                        // Seen as a RESET_TIME, or as a running time lower than at the last
                        // buffer (a reset whose message this pipeline did not see).
                        let resets = running_time_resets.load(Ordering::SeqCst);
                        if resets != track.resets_at_last {
                            track.running_time_went_back = true;
                        }
                        track.resets_at_last = resets;
                        if let (Some(before), Some(now)) = (track.running_time_at_last, now)
                            && now < before
                        {
                            track.running_time_went_back = true;
                        }
                        track.running_time_at_last = now;
                        if let Some(last) = track.last {
                            let backwards = if track.rate >= 0.0 {
                                pts < last
                            } else {
                                pts > last
                            };
                            let excused = backwards && track.running_time_went_back;
                            if excused {
                                track.running_time_went_back = false;
                            } else if backwards {
                                problems.lock().unwrap().push(format!(
                                    "{name}: PTS {pts} after {last} in a segment of rate {:e}",
                                    track.rate
                                ));
                            }
                        }
                        track.last = Some(pts);
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// Whether `messages` hold the WARNING of graphbin refusing `rate` (a rate set before its
/// preroll, judged then).
fn refused_at_preroll(messages: &[gst::Message], rate: f64) -> bool {
    messages.iter().any(|message| match message.view() {
        gst::MessageView::Warning(warning) => warning
            .details()
            .filter(|details| details.name() == "pushsource/rate-refused")
            .and_then(|details| details.get::<f64>("rate").ok())
            .is_some_and(|refused| same_rate(refused, rate)),
        _ => false,
    })
}

/// The rate a graph is given at launch (`graphbin.( rate=2 … )`): it waits for the preroll.
fn rate_at_launch(description: &str) -> Option<f64> {
    let (_, after) = description.split_once(" rate=")?;
    after.split_whitespace().next()?.parse().ok()
}

/// Whether `message` tells the outcome of `rate`, waiting for a graph's preroll: a rate applied
/// (`rate-changed`), or that one refused (the `pushsource/rate-refused` WARNING naming it).
fn is_rate_outcome(message: &gst::Message, rate: f64) -> bool {
    let applied = match message.view() {
        gst::MessageView::Element(element) => element
            .structure()
            .is_some_and(|structure| structure.name() == "rate-changed"),
        _ => false,
    };
    applied || refused_at_preroll(std::slice::from_ref(message), rate)
}
