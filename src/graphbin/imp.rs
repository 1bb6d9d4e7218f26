use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::graph::{self, Survey};
use super::pitch::PitchKeepers;
use super::rate::{self, Refusal, Request};
use crate::push_source::{PushSource, PushSourceExt, PushSourceFlags, StreamOffsetResult};
use crate::time;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "graphbin",
        gst::DebugColorFlags::empty(),
        Some("Filter graph manager: latency equalization with stream offsets, rate changes"),
    )
});

const DEFAULT_SYNC_USING_STREAM_OFFSET: bool = false;
/// 0: no maximum graph latency.
const DEFAULT_MAX_GRAPH_LATENCY: ClockTime = ClockTime::ZERO;
const DEFAULT_PRESERVE_PITCH: bool = false;
/// How long a rate change waits for the graph to be back in its state after the change before.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Values of the `rate-matching` field of each source in the `graph-latency` message.
mod rate_matching {
    /// The source does its own rate matching (`internal-rm`, itself or a source sharing its
    /// sinks): the audio sinks it feeds have `slave-method=none`.
    pub const SOURCE: &str = "source";
    /// The audio sinks it feeds match rates, GStreamer's default (their `slave-method` as set).
    pub const SINK: &str = "sink";
    /// It feeds no audio sink inside the bin: there is no rate to match.
    pub const NO_AUDIO_SINK: &str = "no-audio-sink";
    /// Flagged `not-live`: no part in rate matching.
    pub const NOT_LIVE: &str = "not-live";
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    sync_using_stream_offset: bool,
    max_graph_latency: ClockTime,
    preserve_pitch: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sync_using_stream_offset: DEFAULT_SYNC_USING_STREAM_OFFSET,
            max_graph_latency: DEFAULT_MAX_GRAPH_LATENCY,
            preserve_pitch: DEFAULT_PRESERVE_PITCH,
        }
    }
}

/// The graph's playback rate.
#[derive(Debug)]
struct Rates {
    /// The rate the streams play at.
    applied: f64,
    /// A rate set before the graph prerolled (or the rate it played at before it stopped),
    /// applied once it has.
    pending: Option<f64>,
    /// Where the last seek through the bin resumed playback: the position while the sinks,
    /// flushed, wait for the segment that will tell it.
    last_seek: Option<ClockTime>,
    /// The preroll under way will end with the bin's ASYNC_DONE to its parent, which is held
    /// back until the pending rate is applied.
    hold_preroll: bool,
    /// The bin's ASYNC_DONE held back: the pipeline is not prerolled (and gst-launch does not
    /// go to PLAYING) before the graph plays at its rate.
    held_async_done: Option<gst::Message>,
    /// The rate's flushing seek made the bin lose its preroll again: a new ASYNC_DONE will
    /// follow, and the one held back is void.
    preroll_lost: bool,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            applied: rate::DEFAULT_RATE,
            pending: None,
            last_seek: None,
            hold_preroll: false,
            held_async_done: None,
            preroll_lost: false,
        }
    }
}

impl Rates {
    /// What `rate` reads: the rate the graph plays, or will play once prerolled, at.
    fn current(&self) -> f64 {
        self.pending.unwrap_or(self.applied)
    }
}

/// The problems the last equalizations reported, so that a WARNING is posted when a problem
/// appears or changes, not at every latency computation.
#[derive(Debug, Default, PartialEq)]
struct Reported {
    exceeds_max: Option<(ClockTime, ClockTime)>,
    exits: Vec<(String, String)>,
    unknown_latency: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    /// Sources whose offset the bin took over, with the offset they had before.
    taken_over: HashMap<gst::Element, i64>,
    /// Every sink inside with the offset of the group feeding it (0 when none is, or without
    /// sync), from the last equalization: what the next LATENCY event is distributed by.
    sink_offsets: Vec<(gst::Element, ClockTime)>,
    /// The pipeline latency of the last LATENCY event.
    pipeline_latency: Option<ClockTime>,
    /// Lmax of the last equalization.
    graph_latency: ClockTime,
    equalized_since_paused: bool,
    reported: Reported,
    /// Audio sinks whose `slave-method` the bin set to `none`, with their own value.
    slave_methods: HashMap<gst::Element, String>,
    /// Push sources added while running, until they reach PLAYING.
    joining: HashSet<gst::Element>,
    /// Whether the bin's last change to PAUSED said it is live (NO_PREROLL); `None` once
    /// elements came or went since.
    live: Option<bool>,
    /// The last equalization found no live push source: what the next one, with no element
    /// added or removed since, need not survey again.
    quiet: Option<Quiet>,
}

/// What a rate change that was not refused did.
enum Changed {
    /// The graph plays at that rate already.
    Nothing,
    /// Stored, to apply once the graph has prerolled.
    Stored,
    /// The streams play at `rate` from `position`.
    Applied {
        rate: f64,
        notify: bool,
        position: ClockTime,
    },
}

/// A graph without live push sources as the last equalization found it: its `graph-latency`
/// message, and its push sources with the values the message shows.
#[derive(Debug)]
struct Quiet {
    sync: bool,
    message: gst::Structure,
    not_live: Vec<(gst::Element, i64, ClockTime)>,
}

#[derive(Default)]
pub struct GraphBin {
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// Serializes equalizations: the pipeline's latency query, property changes.
    equalizing: Mutex<()>,
    rates: Mutex<Rates>,
    /// Serializes rate changes: each reads the position the one before it seeked to.
    changing_rate: Mutex<()>,
    /// The `scaletempo` elements put in front of the audio sinks while PAUSED or PLAYING.
    pitch_keepers: Mutex<Option<PitchKeepers>>,
    /// The seeks the bin itself is sending: they pass its src ghost pads as they are.
    own_seeks: Mutex<Vec<gst::Seqnum>>,
    /// The last seek event with a new rate the procedure handled, and its answer: a pipeline
    /// sends its seek to each of its sinks, so the same event can reach the bin once per sink
    /// inside and per src ghost pad, and the procedure already seeked every stream.
    handled_seek: Mutex<Option<(gst::Seqnum, bool)>>,
    /// The last state change asked of the bin was to PLAYING: a PAUSED bin with this set lost
    /// its state (a flush) rather than being paused.
    asked_to_play: std::sync::atomic::AtomicBool,
}

/// An element's state lock (`GST_STATE_LOCK`, recursive), held for a scope: what
/// `gst_element_send_event` and `gst_element_set_state` hold.
struct StateLock<'a>(&'a gst::Element);

impl<'a> StateLock<'a> {
    fn acquire(element: &'a gst::Element) -> Self {
        // SAFETY: the element outlives the guard; the lock is initialized with the element.
        unsafe {
            glib::ffi::g_rec_mutex_lock(&mut (*element.as_ptr()).state_lock);
        }
        Self(element)
    }
}

impl Drop for StateLock<'_> {
    fn drop(&mut self) {
        // SAFETY: locked by `acquire` in this thread.
        unsafe {
            glib::ffi::g_rec_mutex_unlock(&mut (*self.0.as_ptr()).state_lock);
        }
    }
}

/// A lock that survives a panic elsewhere: the data is plain values, always consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn slave_method(sink: &gst::Element) -> Option<String> {
    let value = sink.property_value("slave-method");
    glib::EnumValue::from_value(&value).map(|(_, value)| value.nick().to_string())
}

fn exceeds(offset: i64, max_offset: ClockTime) -> bool {
    StreamOffsetResult::for_offset(offset, max_offset) == StreamOffsetResult::ExceedsMaximum
}

/// What one equalization found, for its WARNINGs and its message.
struct Findings {
    exceeds_max: Option<(ClockTime, ClockTime)>,
    exits: Vec<(String, String)>,
    unknown_latency: Vec<String>,
}

impl GraphBin {
    fn survey(&self) -> Survey {
        let bin = self.obj();
        Survey::of(bin.upcast_ref(), graph::Contents::of(bin.upcast_ref()))
    }

    /// SPEC section 3, latency items 1–5: runs whenever the pipeline computes latency.
    fn equalize(&self) {
        let _serial = lock(&self.equalizing);
        let settings = *lock(&self.settings);
        let sync = settings.sync_using_stream_offset;
        if !sync {
            self.restore_offsets();
        }
        // The pipeline computes latency each time it goes to PLAYING, so twice per rate change
        // and seek: a graph without live push sources is not surveyed again for nothing.
        if let Some(message) = self.unchanged_quiet_message(sync) {
            lock(&self.state).equalized_since_paused = true;
            self.post_graph_latency_message(message);
            return;
        }
        let mut survey = self.survey();
        let max_latency = survey.max_latency();
        let group_offsets = survey.group_offsets(max_latency);
        self.apply_rate_matching(&survey);

        let mut group_sink_offsets = HashMap::new();
        if sync {
            {
                let mut state = lock(&self.state);
                for source in survey.live.iter().filter(|source| source.latency.is_some()) {
                    state
                        .taken_over
                        .entry(source.element.clone())
                        .or_insert(source.offset);
                }
            }
            for (index, source) in survey.live.iter_mut().enumerate() {
                if source.latency.is_none() {
                    continue;
                }
                let group = survey.group_of[index];
                let offset = group_offsets[group].nseconds() as i64;
                if source.offset != offset {
                    gst::debug!(
                        CAT,
                        imp = self,
                        "{}: ts-offset {offset} ns (group latency {}, Lmax {max_latency})",
                        source.name,
                        survey.groups[group].latency
                    );
                    source.push_source().set_stream_offset(offset);
                    source.offset = offset;
                }
            }
            for (group, offset) in survey.groups.iter().zip(&group_offsets) {
                for sink in &group.sinks {
                    group_sink_offsets.insert(sink, *offset);
                }
            }
        }

        let findings = Findings {
            exceeds_max: (!settings.max_graph_latency.is_zero()
                && max_latency > settings.max_graph_latency)
                .then_some((max_latency, settings.max_graph_latency)),
            exits: if sync {
                survey
                    .groups
                    .iter()
                    .flat_map(|group| &group.exits)
                    .map(|(source, pad)| {
                        (
                            survey.live[*source].name.to_string(),
                            pad.name().to_string(),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            },
            unknown_latency: survey
                .live
                .iter()
                .filter(|source| source.latency.is_none())
                .map(|source| source.name.to_string())
                .collect(),
        };
        for name in &findings.unknown_latency {
            gst::warning!(
                CAT,
                imp = self,
                "{name} cannot tell its latency: left out of the equalization"
            );
        }

        let (new_findings, latency_changed) = {
            let mut state = lock(&self.state);
            state.sink_offsets = survey
                .sinks
                .iter()
                .map(|sink| {
                    let offset = group_sink_offsets.get(sink).copied();
                    (sink.clone(), offset.unwrap_or(ClockTime::ZERO))
                })
                .collect();
            state.equalized_since_paused = true;
            let latency_changed = state.graph_latency != max_latency;
            state.graph_latency = max_latency;
            let reported = Reported {
                exceeds_max: findings.exceeds_max,
                exits: findings.exits.clone(),
                unknown_latency: findings.unknown_latency.clone(),
            };
            let previous = std::mem::replace(&mut state.reported, reported);
            (
                Findings {
                    exceeds_max: findings
                        .exceeds_max
                        .filter(|_| previous.exceeds_max != findings.exceeds_max),
                    exits: findings
                        .exits
                        .iter()
                        .filter(|exit| !previous.exits.contains(exit))
                        .cloned()
                        .collect(),
                    unknown_latency: findings
                        .unknown_latency
                        .iter()
                        .filter(|name| !previous.unknown_latency.contains(name))
                        .cloned()
                        .collect(),
                },
                latency_changed,
            )
        };
        self.post_warnings(&new_findings);
        let message = self.graph_latency_message(&survey, max_latency, sync);
        lock(&self.state).quiet = survey.live.is_empty().then(|| Quiet {
            sync,
            message: message.clone(),
            not_live: survey
                .not_live
                .iter()
                .map(|source| (source.element.clone(), source.offset, source.max_offset))
                .collect(),
        });
        self.post_graph_latency_message(message);
        if latency_changed {
            self.obj().notify("graph-latency");
        }
    }

    fn post_warnings(&self, findings: &Findings) {
        if let Some((latency, max)) = findings.exceeds_max {
            let details = gst::Structure::builder("pushsource/graph-latency-exceeds-max")
                .field("latency", latency.nseconds())
                .field("max-graph-latency", max.nseconds())
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Clock,
                (
                    "Graph latency exceeds max-graph-latency: the sources may not buffer enough \
                     to be equalized"
                ),
                [
                    "graph latency {} ns > max-graph-latency {} ns",
                    latency.nseconds(),
                    max.nseconds()
                ],
                details: details
            );
        }
        for (source, pad) in &findings.exits {
            let details = gst::Structure::builder("pushsource/stream-leaves-bin")
                .field("source", source)
                .field("pad", pad)
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Pad,
                (
                    "The stream of {source} leaves the graph bin through {pad}: its sink outside \
                     cannot be compensated, so its group keeps ts-offset 0"
                ),
                ["source {source}, pad {pad}"],
                details: details
            );
        }
        for source in &findings.unknown_latency {
            let details = gst::Structure::builder("pushsource/latency-unknown")
                .field("source", source)
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Clock,
                (
                    "{source} cannot tell its latency: it is left out of the equalization, and \
                     the sources sharing its sinks keep ts-offset 0"
                ),
                ["get_latency of {source} failed"],
                details: details
            );
        }
    }

    fn rate_matching_of(survey: &Survey, group: usize) -> &'static str {
        let group = &survey.groups[group];
        if group.audio_sinks().next().is_none() {
            rate_matching::NO_AUDIO_SINK
        } else if group.internal_rm {
            rate_matching::SOURCE
        } else {
            rate_matching::SINK
        }
    }

    /// The message of the last equalization, when it found no live push source, no element
    /// came or went since and its push sources are still not live with the same offsets.
    fn unchanged_quiet_message(&self, sync: bool) -> Option<gst::Structure> {
        let state = lock(&self.state);
        let quiet = state.quiet.as_ref().filter(|quiet| quiet.sync == sync)?;
        let unchanged = quiet.not_live.iter().all(|(element, offset, max_offset)| {
            let source = element
                .dynamic_cast_ref::<PushSource>()
                .expect("found by its interface");
            source
                .push_source_flags()
                .contains(PushSourceFlags::NOT_LIVE)
                && source.stream_offset() == *offset
                && source.max_stream_offset() == *max_offset
        });
        unchanged.then(|| quiet.message.clone())
    }

    fn post_graph_latency_message(&self, structure: gst::Structure) {
        gst::info!(CAT, imp = self, "{structure}");
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Element::builder(structure).src(&*obj).build());
    }

    fn graph_latency_message(
        &self,
        survey: &Survey,
        max_latency: ClockTime,
        sync: bool,
    ) -> gst::Structure {
        let mut sources = Vec::new();
        let mut excluded = Vec::new();
        for (index, source) in survey.live.iter().enumerate() {
            let (offset, max_offset) = (source.offset, source.max_offset);
            let group = survey.group_of[index];
            let rate_matching = Self::rate_matching_of(survey, group);
            match source.latency {
                Some(latency) => sources.push(
                    gst::Structure::builder("source")
                        .field("name", &source.name)
                        .field("latency", latency.nseconds())
                        .field("ts-offset", offset)
                        .field("max-offset", max_offset.nseconds())
                        .field("group", group as u32)
                        .field("exceeds-max", exceeds(offset, max_offset))
                        .field("rate-matching", rate_matching)
                        .build(),
                ),
                None => excluded.push(
                    gst::Structure::builder("source")
                        .field("name", &source.name)
                        .field("reason", "latency-unknown")
                        .field("ts-offset", offset)
                        .field("max-offset", max_offset.nseconds())
                        .field("rate-matching", rate_matching)
                        .build(),
                ),
            }
        }
        for source in &survey.not_live {
            excluded.push(
                gst::Structure::builder("source")
                    .field("name", &source.name)
                    .field("reason", "not-live")
                    .field("ts-offset", source.offset)
                    .field("max-offset", source.max_offset.nseconds())
                    .field("rate-matching", rate_matching::NOT_LIVE)
                    .build(),
            );
        }
        gst::Structure::builder("graph-latency")
            .field("latency", max_latency.nseconds())
            .field("sync-using-stream-offset", sync)
            .field("sources", gst::List::new(sources))
            .field("excluded", gst::List::new(excluded))
            .build()
    }

    /// Gives back the offsets the sources had before the bin took them over.
    fn restore_offsets(&self) {
        let taken_over = std::mem::take(&mut lock(&self.state).taken_over);
        for (element, offset) in taken_over {
            if let Some(source) = element.dynamic_cast_ref::<PushSource>()
                && source.stream_offset() != offset
            {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{}: ts-offset restored to {offset}",
                    element.name()
                );
                source.set_stream_offset(offset);
            }
        }
    }

    /// SPEC section 3, rate matching: `slave-method=none` on the audio sinks fed by a live
    /// source with `internal-rm`; the sinks' own value back when that is no longer so.
    fn apply_rate_matching(&self, survey: &Survey) {
        let mut changes = Vec::new();
        {
            let mut state = lock(&self.state);
            for group in &survey.groups {
                for sink in group.audio_sinks() {
                    if group.internal_rm {
                        if state.slave_methods.contains_key(sink) {
                            continue;
                        }
                        let Some(current) = slave_method(sink) else {
                            continue;
                        };
                        if current != "none" {
                            state.slave_methods.insert(sink.clone(), current);
                            changes.push((sink.clone(), "none".to_string()));
                        }
                    } else if let Some(original) = state.slave_methods.remove(sink) {
                        changes.push((sink.clone(), original));
                    }
                }
            }
        }
        for (sink, method) in changes {
            gst::debug!(CAT, imp = self, "{}: slave-method {method}", sink.name());
            sink.set_property_from_str("slave-method", &method);
        }
    }

    fn restore_rate_matching(&self) {
        let changed = std::mem::take(&mut lock(&self.state).slave_methods);
        for (sink, method) in changed {
            sink.set_property_from_str("slave-method", &method);
        }
    }

    fn hand_max_graph_latency(&self, sources: &[gst::Element]) {
        let max = lock(&self.settings).max_graph_latency;
        if max.is_zero() {
            return;
        }
        for element in sources {
            if let Some(source) = element.dynamic_cast_ref::<PushSource>()
                && source.max_stream_offset() != max
            {
                source.set_max_stream_offset(max);
            }
        }
    }

    fn all_push_sources(&self) -> Vec<gst::Element> {
        graph::Contents::of(self.obj().upcast_ref()).sources
    }

    /// Hands each sink inside `PL − offset of its group` (`PL` for sinks no equalized source
    /// feeds), so that no stream is compensated twice.
    fn distribute_latency(&self, event: &gst::Event, pipeline_latency: ClockTime) -> bool {
        let sink_offsets = lock(&self.state).sink_offsets.clone();
        let sink_offsets = if sink_offsets.is_empty() {
            // Not equalized yet: every sink gets PL, as GstBin would give it.
            graph::Contents::of(self.obj().upcast_ref())
                .sinks
                .into_iter()
                .map(|sink| (sink, ClockTime::ZERO))
                .collect()
        } else {
            sink_offsets
        };
        let mut handled = true;
        for (sink, offset) in sink_offsets {
            let latency = pipeline_latency.saturating_sub(offset);
            gst::debug!(CAT, imp = self, "{}: latency {latency}", sink.name());
            handled &= sink.send_event(
                gst::event::Latency::builder(latency)
                    .seqnum(event.seqnum())
                    .build(),
            );
        }
        // As GstBin does: upstream events also go out through the bin's src pads.
        for pad in self.obj().src_pads() {
            handled &= pad.send_event(event.clone());
        }
        handled
    }

    fn sync_changed(&self) {
        if self.obj().current_state() >= gst::State::Paused {
            self.equalize();
            let pipeline_latency = lock(&self.state).pipeline_latency;
            if let Some(pipeline_latency) = pipeline_latency {
                let event = gst::event::Latency::new(pipeline_latency);
                self.distribute_latency(&event, pipeline_latency);
            }
        } else if !lock(&self.settings).sync_using_stream_offset {
            self.restore_offsets();
        }
    }

    /// The element and, for a bin, everything inside it: a bin added or removed whole
    /// signals only itself.
    fn with_descendants(element: &gst::Element) -> Vec<gst::Element> {
        let mut elements = vec![element.clone()];
        if let Some(bin) = element.downcast_ref::<gst::Bin>() {
            let contents = graph::Contents::of(bin);
            elements.extend(contents.sources);
            elements.extend(contents.sinks);
        }
        elements
    }

    fn element_added(&self, element: &gst::Element) {
        {
            let mut state = lock(&self.state);
            state.live = None;
            state.quiet = None;
        }
        if self.obj().current_state() < gst::State::Paused {
            return;
        }
        let sources: Vec<gst::Element> = Self::with_descendants(element)
            .into_iter()
            .filter(|element| element.is::<PushSource>())
            .collect();
        self.hand_max_graph_latency(&sources);
        lock(&self.state).joining.extend(sources);
    }

    fn element_removed(&self, element: &gst::Element) {
        {
            let mut state = lock(&self.state);
            state.live = None;
            state.quiet = None;
        }
        let mut matters = false;
        for element in Self::with_descendants(element) {
            let (original, slave_method) = {
                let mut state = lock(&self.state);
                state.joining.remove(&element);
                state.sink_offsets.retain(|(sink, _)| *sink != element);
                (
                    state.taken_over.remove(&element),
                    state.slave_methods.remove(&element),
                )
            };
            if let (Some(offset), Some(source)) =
                (original, element.dynamic_cast_ref::<PushSource>())
            {
                source.set_stream_offset(offset);
            }
            if let Some(method) = slave_method {
                element.set_property_from_str("slave-method", &method);
            }
            matters |= element.is::<PushSource>()
                || element.element_flags().contains(gst::ElementFlags::SINK);
        }
        if matters && self.obj().current_state() >= gst::State::Paused {
            gst::debug!(
                CAT,
                imp = self,
                "{} removed: asking for a new latency computation",
                element.name()
            );
            self.post_latency_message();
        }
    }

    /// Whether `message` (a state change to PLAYING) comes from a source added while running.
    fn source_joined(&self, message: &gst::Message) -> bool {
        let Some(element) = message
            .src()
            .and_then(|src| src.downcast_ref::<gst::Element>())
        else {
            return false;
        };
        let joined = lock(&self.state).joining.remove(element);
        if joined {
            gst::debug!(
                CAT,
                imp = self,
                "{} joined while running: equalizing again",
                element.name()
            );
        }
        joined
    }

    fn post_latency_message(&self) {
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Latency::builder().src(&*obj).build());
    }

    /// SPEC section 3, rates: the one procedure behind `set-rate`, a write of `rate`, a rate set
    /// before PAUSED and a seek event with a new rate. Returns whether the graph now plays at
    /// `rate`; a refusal is logged, and posted as a WARNING when nobody gets the answer.
    fn change_rate(&self, rate: f64, request: Request) -> bool {
        let obj = self.obj();
        // Before any lock: a flush while the pipeline is still on its way back to PLAYING can
        // leave the graph PAUSED for good. Not for a seek event, whose sender holds a state
        // lock that the pipeline's way back needs; not while the preroll is held back, as the
        // pipeline waits for this change.
        if !matches!(request, Request::Seek(_))
            && obj.current_state() >= gst::State::Paused
            && lock(&self.rates).held_async_done.is_none()
        {
            self.await_settled();
        }
        // Serialized under the bin's state lock first, then the bin's own: the order of a seek
        // sent to the pipeline (its state lock, the bin's, then the procedure). What the change
        // posts and notifies goes out after both are released: an application reacting to it
        // may ask for the next change at once.
        let outcome = {
            let _state = StateLock::acquire(obj.upcast_ref());
            let _serial = lock(&self.changing_rate);
            self.try_change_rate(rate, &request)
        };
        match outcome {
            Ok(Changed::Nothing) => true,
            Ok(Changed::Stored) => {
                self.obj().notify("rate");
                true
            }
            Ok(Changed::Applied {
                rate,
                notify,
                position,
            }) => {
                let obj = self.obj();
                if matches!(request, Request::Seek(_)) {
                    // A seek sent to the bin itself holds only the bin's state lock: check,
                    // once everything has settled, that the graph did not stay behind.
                    obj.call_async(|bin| {
                        bin.imp().await_settled();
                        bin.imp().catch_up();
                    });
                }
                if notify {
                    obj.notify("rate");
                }
                let message = gst::message::Element::builder(
                    gst::Structure::builder("rate-changed")
                        .field("rate", rate)
                        .field("position", position.nseconds())
                        .build(),
                )
                .src(&*obj)
                .build();
                let _ = obj.post_message(message);
                true
            }
            Err(refusal) => {
                gst::warning!(CAT, imp = self, "rate {rate} refused: {refusal}");
                if matches!(request, Request::Preroll) {
                    lock(&self.rates).pending = None;
                    self.obj().notify("rate");
                }
                if request.warns() {
                    self.post_rate_refused(rate, &refusal);
                }
                false
            }
        }
    }

    fn try_change_rate(&self, rate: f64, request: &Request) -> Result<Changed, Refusal> {
        // The rate waiting for the preroll, as it is now: the application may have changed it
        // since the preroll was announced.
        let rate = match request {
            Request::Preroll => match lock(&self.rates).pending {
                Some(pending) => pending,
                None => return Ok(Changed::Nothing),
            },
            _ => rate,
        };
        if !rate::is_playback_rate(rate) {
            return Err(Refusal::NotARate(rate));
        }
        let obj = self.obj();
        if rate != 1.0
            && let Some(live) = self.live_source()
        {
            return Err(Refusal::Live(live));
        }
        if obj.current_state() < gst::State::Paused {
            if let Request::Seek(event) = request {
                // Before PAUSED only sources take seeks (to start with): not a rate change of
                // the graph, which rate= or set-rate would be.
                return if self.send_seek(event.clone()) {
                    Ok(Changed::Nothing)
                } else {
                    Err(Refusal::NotSeekable)
                };
            }
            let changed = {
                let mut rates = lock(&self.rates);
                let changed = rates.current() != rate;
                rates.pending = (rate != rates.applied).then_some(rate);
                changed
            };
            gst::debug!(CAT, imp = self, "rate {rate} applies once prerolled");
            return Ok(if changed {
                Changed::Stored
            } else {
                Changed::Nothing
            });
        }

        let previous = lock(&self.rates).applied;
        if rate == previous && !matches!(request, Request::Seek(_)) {
            // A rate still waiting for the preroll is dropped: `rate` reads another value.
            let dropped = lock(&self.rates).pending.take().is_some();
            return Ok(if dropped {
                Changed::Stored
            } else {
                Changed::Nothing
            });
        }
        let position = self
            .position()
            .or(lock(&self.rates).last_seek)
            .ok_or(Refusal::PositionUnknown)?;
        let seek = match request {
            Request::Seek(event) => event.clone(),
            _ => rate::seek_to_rate(rate, position),
        };
        let resumes_at = rate::resume_position(&seek, position);
        gst::debug!(
            CAT,
            imp = self,
            "rate {previous} -> {rate} at position {position}"
        );
        if !self.send_seek(seek) {
            // DirectShow: "If an error occurs, the Filter Graph Manager tries to restore the
            // previous rate." Streams that took the new rate go back; the others never left it
            // (and a stream that cannot seek refuses this seek as well, without a flush).
            let seekable = self.seekable();
            let restored = self.send_seek(rate::seek_to_rate(previous, position));
            if !restored && seekable {
                gst::error!(
                    CAT,
                    imp = self,
                    "restoring rate {previous} at {position} failed too"
                );
            }
            return Err(if seekable {
                Refusal::SeekRefused {
                    rate,
                    restored: previous,
                    position,
                }
            } else {
                Refusal::NotSeekable
            });
        }
        {
            let mut rates = lock(&self.rates);
            rates.applied = rate;
            rates.pending = None;
            rates.last_seek = Some(resumes_at);
        }
        Ok(Changed::Applied {
            rate,
            notify: rate != previous,
            position: resumes_at,
        })
    }

    /// Waits until the pipeline is back in the state it was in after the last flushing seek:
    /// a flush while it is still on its way back to PLAYING can leave it PAUSED for good
    /// (GStreamer 1.22 commits the bin's lost state while the pipeline believes it is PLAYING).
    /// Gives up after [`SETTLE_TIMEOUT`] (a graph that cannot preroll), saying so in the log.
    fn await_settled(&self) {
        let top = self.top_level();
        let deadline = std::time::Instant::now() + SETTLE_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let (result, current, pending) =
                top.state(ClockTime::from_nseconds(left.as_nanos() as u64));
            if pending == gst::State::VoidPending {
                return;
            }
            if result == Ok(gst::StateChangeSuccess::Async) || left.is_zero() {
                gst::warning!(
                    CAT,
                    imp = self,
                    "{} still on its way from {current:?} to {pending:?}: changing the rate anyway",
                    top.name()
                );
                return;
            }
            // The change is done, only the continuation to the target state (run by
            // GstBin in a thread of its own) is still under way: a matter of microseconds.
            std::thread::yield_now();
        }
    }

    /// Sends `seek` to every stream inside, as GstBin does: to the sinks inside and in through
    /// the src ghost pads, which let it pass. Through `gst_element_send_event`, which holds the
    /// bin's state lock as for any seek, so that a state change (the pipeline returning to
    /// PLAYING after the seek before) waits for the seek instead of running through it.
    fn send_seek(&self, seek: gst::Event) -> bool {
        let seqnum = seek.seqnum();
        let position = rate::seek_position(&seek);
        lock(&self.own_seeks).push(seqnum);
        let sent = self.obj().send_event(seek);
        {
            let mut own = lock(&self.own_seeks);
            if let Some(index) = own.iter().position(|own| *own == seqnum) {
                own.swap_remove(index);
            }
        }
        if sent {
            self.seeked_to(position);
        }
        sent
    }

    /// Keeps where a seek that went through resumed playback, for the position read right
    /// after a flush.
    fn seeked_to(&self, position: Option<ClockTime>) {
        if let Some(position) = position {
            lock(&self.rates).last_seek = Some(position);
        }
    }

    /// The answer already given to this seek, when it is a copy of one the procedure handled.
    fn answer_to_copy(&self, event: &gst::Event) -> Option<bool> {
        let seqnum = event.seqnum();
        (*lock(&self.handled_seek))
            .filter(|(handled, _)| *handled == seqnum)
            .map(|(_, answer)| answer)
    }

    /// A seek event with a new rate, through the procedure (once per event).
    fn seek_at_new_rate(&self, rate: f64, event: gst::Event) -> bool {
        let seqnum = event.seqnum();
        let answer = self.change_rate(rate, Request::Seek(event));
        *lock(&self.handled_seek) = Some((seqnum, answer));
        answer
    }

    /// The events that come upstream through a src ghost pad: a pipeline holding a bin whose
    /// streams leave it sends its seeks to the sinks outside, and they come in here.
    fn src_pad_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        let forward = |event| gst::Pad::event_default(pad, Some(&*self.obj()), event);
        match rate::rate_of_seek(&event) {
            Some(rate) => self.seek_on_its_way(rate, event, forward),
            None => forward(event),
        }
    }

    /// A seek on its way into the graph (sent to the bin, or upstream through a src ghost pad),
    /// passed on by `forward`: one with a new rate goes through the procedure, a copy of one it
    /// handled gets the same answer, and any other that went through is where a rate change
    /// right after it resumes.
    fn seek_on_its_way(
        &self,
        rate: f64,
        event: gst::Event,
        forward: impl FnOnce(gst::Event) -> bool,
    ) -> bool {
        if lock(&self.own_seeks).contains(&event.seqnum()) {
            return forward(event);
        }
        if let Some(answer) = self.answer_to_copy(&event) {
            return answer;
        }
        if rate != lock(&self.rates).current() {
            return self.seek_at_new_rate(rate, event);
        }
        let position = rate::seek_position(&event);
        let sent = forward(event);
        if sent {
            self.seeked_to(position);
        }
        sent
    }

    fn pad_added(&self, pad: &gst::Pad) {
        if pad.direction() != gst::PadDirection::Src || !pad.is::<gst::GhostPad>() {
            return;
        }
        // SAFETY: set when the pad is added, before any stream goes through it; a ghost pad's
        // own event function is gst_pad_event_default, which the new one falls back to.
        unsafe {
            pad.set_event_function(|pad, parent, event| {
                match parent.and_then(|parent| parent.downcast_ref::<super::GraphBin>()) {
                    Some(bin) => bin.imp().src_pad_event(pad, event),
                    None => gst::Pad::event_default(pad, parent, event),
                }
            });
        }
    }

    /// The name of a live source inside, if there is one. Once PAUSED the bin's own state
    /// change told (NO_PREROLL), and the walk is needed only to name the source.
    fn live_source(&self) -> Option<String> {
        let known = lock(&self.state).live;
        if known == Some(false) && self.obj().current_state() >= gst::State::Paused {
            return None;
        }
        match rate::live_source(self.obj().upcast_ref()) {
            Some(source) => Some(source.name().to_string()),
            None if known == Some(true) => Some("an element inside".to_string()),
            None => None,
        }
    }

    /// Whether a stream inside can seek in time, asked once a seek was refused, to tell why;
    /// an unanswered query counts as seekable.
    fn seekable(&self) -> bool {
        let mut query = gst::query::Seeking::new(gst::Format::Time);
        if !ElementImplExt::parent_query(self, &mut query) {
            return true;
        }
        let (seekable, _, _) = query.result();
        seekable
    }

    /// The graph's current position in time: what its sinks say or, when its streams leave
    /// the bin, what the pipeline holding it says (GstBin would ask its sources, which are ahead
    /// of what was rendered by whatever they have queued).
    fn position(&self) -> Option<ClockTime> {
        let obj = self.obj();
        if obj.element_flags().contains(gst::ElementFlags::SINK) {
            return obj.query_position::<ClockTime>();
        }
        self.top_level().query_position::<ClockTime>()
    }

    /// The outermost element holding the bin (usually the pipeline), or the bin itself.
    fn top_level(&self) -> gst::Element {
        let mut top: gst::Element = self.obj().clone().upcast();
        while let Some(parent) = top.parent().and_then(|p| p.downcast::<gst::Element>().ok()) {
            top = parent;
        }
        top
    }

    fn post_rate_refused(&self, rate: f64, refusal: &Refusal) {
        let applied = lock(&self.rates).current();
        let details = gst::Structure::builder("pushsource/rate-refused")
            .field("rate", rate)
            .field("reason", refusal.nick())
            .field("current-rate", applied)
            .build();
        gst::element_imp_warning!(
            self,
            gst::CoreError::Seek,
            ("Playback rate {rate} refused: {refusal}; the graph plays on at rate {applied}"),
            ["rate {rate}: {refusal}"],
            details: details
        );
    }

    /// SPEC section 3, rates item 7: the rate set before PAUSED, once the graph has prerolled.
    fn apply_pending_rate(&self) {
        let pending = lock(&self.rates).pending;
        if let Some(rate) = pending
            && self.obj().current_state() >= gst::State::Paused
        {
            self.change_rate(rate, Request::Preroll);
        }
        let held = {
            let mut rates = lock(&self.rates);
            let held = rates.held_async_done.take();
            held.filter(|_| !std::mem::take(&mut rates.preroll_lost))
        };
        // Nothing flushed (the rate was refused): the preroll held back is the graph's. A bin
        // that left PAUSED meanwhile has no preroll to announce.
        if let Some(async_done) = held
            && self.obj().current_state() >= gst::State::Paused
        {
            self.parent_post_message(async_done);
        }
    }

    /// Whether the bin got its preroll back after a flushing seek but stays PAUSED under a
    /// PLAYING pipeline: GStreamer 1.22 loses the way back to PLAYING when a bin inside a
    /// pipeline loses its state while the pipeline is itself on its way back to PLAYING (a
    /// seek sent to the bin right after the one before). The last state change asked of the bin
    /// was to PLAYING, so this is not a bin an application paused on purpose.
    fn left_behind(&self) -> bool {
        let obj = self.obj();
        let Some(parent) = obj.parent().and_then(|p| p.downcast::<gst::Element>().ok()) else {
            return false;
        };
        self.asked_to_play.load(std::sync::atomic::Ordering::SeqCst)
            && obj.current_state() == gst::State::Paused
            && obj.pending_state() == gst::State::VoidPending
            && parent.current_state() == gst::State::Playing
            && parent.pending_state() == gst::State::VoidPending
    }

    fn catch_up(&self) {
        if self.left_behind() {
            gst::debug!(
                CAT,
                imp = self,
                "prerolled again under a playing pipeline: playing on"
            );
            let _ = self.obj().sync_state_with_parent();
        }
    }

    fn schedule_pending_rate(&self) {
        // Seeking from here could be seeking from a streaming thread (the one whose preroll
        // completed the state change).
        self.obj().call_async(|bin| bin.imp().apply_pending_rate());
    }

    /// The rate the streams played at is set again at the next preroll: a stopped source
    /// starts over at rate 1.0.
    fn keep_rate_for_next_preroll(&self) {
        let mut rates = lock(&self.rates);
        if rates.pending.is_none() && rates.applied != rate::DEFAULT_RATE {
            rates.pending = Some(rates.applied);
        }
        rates.applied = rate::DEFAULT_RATE;
        rates.last_seek = None;
    }

    fn preserve_pitch_changed(&self) {
        if self.obj().current_state() >= gst::State::Paused {
            gst::info!(
                CAT,
                imp = self,
                "preserve-pitch takes effect at the next READY to PAUSED"
            );
        }
    }

    fn insert_pitch_keepers(&self) {
        if !lock(&self.settings).preserve_pitch {
            return;
        }
        let bin = self.obj();
        match PitchKeepers::insert(bin.upcast_ref()) {
            // Keepers still in from a READY to PAUSED that failed are kept track of, not lost.
            Ok(keepers) => match &mut *lock(&self.pitch_keepers) {
                Some(inserted) => inserted.merge(keepers),
                slot => *slot = Some(keepers),
            },
            Err(error) => gst::element_imp_warning!(
                self,
                gst::CoreError::MissingPlugin,
                ("preserve-pitch: {error}; audio changes pitch with the rate")
            ),
        }
    }

    fn remove_pitch_keepers(&self) {
        let keepers = lock(&self.pitch_keepers).take();
        if let Some(keepers) = keepers {
            keepers.remove(self.obj().upcast_ref());
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for GraphBin {
    const NAME: &'static str = "GstGraphBin";
    type Type = super::GraphBin;
    type ParentType = gst::Bin;
}

impl ObjectImpl for GraphBin {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecBoolean::builder("sync-using-stream-offset")
                    .nick("Sync using stream offset")
                    .blurb(
                        "Equalize the latencies of the live push sources inside with stream \
                         offsets (IAMGraphStreams::SyncUsingStreamOffset): each group of sources \
                         gets ts-offset = Lmax - its latency and its sinks PL - that offset; off, \
                         the sources get their own offsets back",
                    )
                    .default_value(DEFAULT_SYNC_USING_STREAM_OFFSET)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("max-graph-latency")
                    .nick("Maximum graph latency")
                    .blurb(
                        "Largest latency the graph should equalize to, in ns, handed to every \
                         push source as max-offset before the bin leaves READY; a larger Lmax \
                         posts a WARNING (IAMGraphStreams::SetMaxGraphLatency). 0: unset",
                    )
                    .maximum(time::MAX_DURATION_NS)
                    .default_value(DEFAULT_MAX_GRAPH_LATENCY.nseconds())
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("graph-latency")
                    .nick("Graph latency")
                    .blurb(
                        "The latency of the slowest live push source inside (Lmax, ns) at the \
                         last equalization",
                    )
                    .maximum(u64::MAX)
                    .read_only()
                    .build(),
                glib::ParamSpecDouble::builder("rate")
                    .nick("Rate")
                    .blurb(
                        "Playback rate of the graph (IMediaSeeking::SetRate): 1.0 normal, 2.0 \
                         twice the speed, negative rates play in reverse. A write flushes every \
                         stream and seeks it to the current position at the new rate; set before \
                         PAUSED, it applies once the graph has prerolled. 0, infinities and any \
                         rate but 1.0 on a live graph are refused with a WARNING (set-rate \
                         answers FALSE instead; NaN reaches the bin through set-rate only)",
                    )
                    // Infinities pass GLib's range check so that the bin refuses them itself,
                    // with the WARNING a refused rate gets.
                    .minimum(f64::NEG_INFINITY)
                    .maximum(f64::INFINITY)
                    .default_value(rate::DEFAULT_RATE)
                    .mutable_playing()
                    // The bin notifies when the rate changes, not when a write is refused.
                    .explicit_notify()
                    .build(),
                glib::ParamSpecBoolean::builder("preserve-pitch")
                    .nick("Preserve pitch")
                    .blurb(
                        "Keep the pitch of the audio at rates other than 1.0: the bin puts \
                         scaletempo in front of each audio sink inside when it goes to PAUSED. \
                         Off, audio sinks change speed and pitch together, as DirectShow's audio \
                         renderer does",
                    )
                    .default_value(DEFAULT_PRESERVE_PITCH)
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                glib::subclass::Signal::builder("set-rate")
                    .param_types([f64::static_type()])
                    .return_type::<bool>()
                    .action()
                    .class_handler(|args| {
                        let bin = args[0].get::<super::GraphBin>().expect("signal emitter");
                        let rate = args[1].get::<f64>().expect("signal argument");
                        Some(bin.imp().change_rate(rate, Request::Signal).to_value())
                    })
                    .build(),
            ]
        });
        SIGNALS.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "sync-using-stream-offset" => {
                let sync = value.get().expect("type checked upstream");
                let previous =
                    std::mem::replace(&mut lock(&self.settings).sync_using_stream_offset, sync);
                gst::debug!(CAT, imp = self, "sync-using-stream-offset {sync}");
                if previous != sync {
                    self.sync_changed();
                }
            }
            "max-graph-latency" => {
                let max = ClockTime::from_nseconds(value.get().expect("type checked upstream"));
                lock(&self.settings).max_graph_latency = max;
                gst::debug!(CAT, imp = self, "max-graph-latency {max}");
                if self.obj().current_state() >= gst::State::Paused {
                    self.hand_max_graph_latency(&self.all_push_sources());
                }
            }
            "rate" => {
                let rate = value.get().expect("type checked upstream");
                self.change_rate(rate, Request::Property);
            }
            "preserve-pitch" => {
                let preserve = value.get().expect("type checked upstream");
                lock(&self.settings).preserve_pitch = preserve;
                gst::debug!(CAT, imp = self, "preserve-pitch {preserve}");
                self.preserve_pitch_changed();
            }
            name => unreachable!("unknown property {name}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "sync-using-stream-offset" => lock(&self.settings).sync_using_stream_offset.to_value(),
            "max-graph-latency" => lock(&self.settings).max_graph_latency.nseconds().to_value(),
            "graph-latency" => lock(&self.state).graph_latency.nseconds().to_value(),
            "rate" => lock(&self.rates).current().to_value(),
            "preserve-pitch" => lock(&self.settings).preserve_pitch.to_value(),
            name => unreachable!("unknown property {name}"),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.connect_deep_element_added(|bin, _sub_bin, element| {
            bin.imp().element_added(element);
        });
        obj.connect_deep_element_removed(|bin, _sub_bin, element| {
            bin.imp().element_removed(element);
        });
        obj.connect_pad_added(|bin, pad| bin.imp().pad_added(pad));
    }
}

impl GstObjectImpl for GraphBin {}

impl ElementImpl for GraphBin {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Filter graph manager bin",
                "Generic/Bin",
                "A bin that manages the live push sources inside as DirectShow's Filter Graph \
                 Manager does: it equalizes their latencies with stream offsets (each group of \
                 sources reaching a common sink gets Lmax - its latency, its sinks the pipeline \
                 latency minus that offset), hands max-graph-latency on as max-offset, sets the \
                 audio sinks' rate matching from the push-source flags and reports every \
                 equalization in a graph-latency message. It changes the playback rate of the \
                 whole graph (rate, set-rate, seeks with a new rate) as IMediaSeeking::SetRate \
                 does: a flushing seek of every stream to the current position at the new rate, \
                 the old rate restored when an element refuses. Meant to be a child of a \
                 pipeline",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        match transition {
            gst::StateChange::ReadyToPaused => {
                {
                    let mut rates = lock(&self.rates);
                    rates.hold_preroll = rates.pending.is_some() && self.obj().parent().is_some();
                    rates.held_async_done = None;
                    rates.preroll_lost = false;
                }
                let contents = graph::Contents::of(self.obj().upcast_ref());
                self.hand_max_graph_latency(&contents.sources);
                // Only audio renderers have a rate to match: no need to walk the graph
                // without one.
                if contents
                    .sinks
                    .iter()
                    .any(|sink| sink.is::<gst_audio::AudioBaseSink>())
                {
                    self.apply_rate_matching(&Survey::of(self.obj().upcast_ref(), contents));
                }
                let mut state = lock(&self.state);
                state.equalized_since_paused = false;
                state.reported = Reported::default();
                drop(state);
                self.insert_pitch_keepers();
            }
            // The pipeline's latency query reaches the bin only through sinks inside it; the
            // sources must have their offsets before their first buffer all the same.
            gst::StateChange::PausedToPlaying if !lock(&self.state).equalized_since_paused => {
                self.equalize();
            }
            _ => {}
        }
        if transition == gst::StateChange::PlayingToPaused {
            lock(&self.state).equalized_since_paused = false;
        }
        self.asked_to_play.store(
            transition.next() == gst::State::Playing,
            std::sync::atomic::Ordering::SeqCst,
        );
        let result = self.parent_change_state(transition);
        if transition == gst::StateChange::ReadyToPaused
            && result != Ok(gst::StateChangeSuccess::Async)
            && std::mem::take(&mut lock(&self.rates).hold_preroll)
        {
            // Prerolled at once (or live, or failed): no ASYNC_DONE to hold back.
            if result.is_ok() {
                self.schedule_pending_rate();
            }
        }
        if matches!(
            transition,
            gst::StateChange::ReadyToPaused | gst::StateChange::PlayingToPaused
        ) {
            lock(&self.state).live = Some(result == Ok(gst::StateChangeSuccess::NoPreroll));
        }
        // After a READY to PAUSED that failed, the bin goes back down without a PAUSED to
        // READY: the keepers come out on the way to NULL then.
        if transition == gst::StateChange::ReadyToNull {
            self.remove_pitch_keepers();
        }
        if transition == gst::StateChange::PausedToReady {
            self.restore_rate_matching();
            self.remove_pitch_keepers();
            self.keep_rate_for_next_preroll();
            let mut state = lock(&self.state);
            state.pipeline_latency = None;
            state.sink_offsets.clear();
            state.joining.clear();
            state.live = None;
            state.quiet = None;
        }
        result
    }

    fn query(&self, query: &mut gst::QueryRef) -> bool {
        if query.type_() == gst::QueryType::Latency {
            // Offsets first, so that the sinks' answers (and so PL) come from the graph as
            // equalized; the sources' answers do not include their offsets.
            self.equalize();
        }
        ElementImplExt::parent_query(self, query)
    }

    fn send_event(&self, event: gst::Event) -> bool {
        if let Some(rate) = rate::rate_of_seek(&event) {
            return self.seek_on_its_way(rate, event, |event| self.parent_send_event(event));
        }
        if let gst::EventView::Latency(latency) = event.view() {
            let pipeline_latency = latency.latency();
            lock(&self.state).pipeline_latency = Some(pipeline_latency);
            if lock(&self.settings).sync_using_stream_offset {
                return self.distribute_latency(&event, pipeline_latency);
            }
        }
        self.parent_send_event(event)
    }

    fn post_message(&self, message: gst::Message) -> bool {
        let from_self = message.src() == Some(self.obj().upcast_ref());
        if !from_self {
            return self.parent_post_message(message);
        }
        let mut schedule = false;
        {
            let mut rates = lock(&self.rates);
            match message.view() {
                gst::MessageView::AsyncDone(_) if rates.hold_preroll => {
                    rates.hold_preroll = false;
                    if rates.pending.is_some() {
                        rates.held_async_done = Some(message);
                        drop(rates);
                        self.schedule_pending_rate();
                        return true;
                    }
                }
                gst::MessageView::AsyncStart(_) if rates.held_async_done.is_some() => {
                    rates.preroll_lost = true;
                }
                // A bin without a parent posts no ASYNC_DONE: its state change tells.
                gst::MessageView::StateChanged(changed) => {
                    schedule = changed.old() == gst::State::Ready
                        && changed.current() == gst::State::Paused
                        && self.obj().parent().is_none()
                        && rates.pending.is_some();
                }
                _ => {}
            }
        }
        // GstBin does not always announce the commit of a lost state with an ASYNC_DONE.
        let prerolled = match message.view() {
            gst::MessageView::AsyncDone(_) => true,
            gst::MessageView::StateChanged(changed) => {
                changed.current() == gst::State::Paused
                    && changed.pending() == gst::State::VoidPending
            }
            _ => false,
        };
        let posted = self.parent_post_message(message);
        if schedule {
            self.schedule_pending_rate();
        }
        if prerolled && self.left_behind() {
            self.obj().call_async(|bin| bin.imp().catch_up());
        }
        posted
    }
}

impl BinImpl for GraphBin {
    fn handle_message(&self, message: gst::Message) {
        let mut latency_changed = match message.view() {
            gst::MessageView::Latency(_) => self.obj().current_state() >= gst::State::Paused,
            gst::MessageView::StateChanged(changed) => {
                changed.current() == gst::State::Playing && self.source_joined(&message)
            }
            _ => false,
        };
        // Without a sink inside, the pipeline's latency computation never reaches the bin: a
        // source's new latency, or a source joining, is equalized here instead.
        if latency_changed && self.obj().element_flags().contains(gst::ElementFlags::SINK) {
            if matches!(message.view(), gst::MessageView::StateChanged(_)) {
                self.post_latency_message();
            }
            latency_changed = false;
        }
        self.parent_handle_message(message);
        if latency_changed {
            self.equalize();
        }
    }
}
