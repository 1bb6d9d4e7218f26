//! `graphbin`'s GObject/GStreamer glue: the instance, its state, and the virtual methods that
//! hand each event to the module that owns it (equalize, rate, preroll, membership,
//! rate_matching, pitch, workarounds, properties).
//!
//! # Locks
//!
//! Each of the mutexes below guards plain values and is held only to read or write them: never
//! while the bin posts a message, emits a notify or a signal, sets a property of another
//! element, sends it an event or a query, changes its state, or waits. When two are held
//! together it is in this order: `settings` → `run` → `rates`. `equalizer`, `seeks`,
//! `pitch_keepers`, `rate_matchers` and `unposted` are never held with another. The only other lock the bin takes itself is
//! GStreamer's state lock of the pipeline, around a rate change, with none of these held
//! ([`super::workarounds::TopLevelStateLock`]).

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::equalize::{Equalizer, Findings, Quiet};
use super::graph::{self, Survey};
use super::pitch::PitchKeepers;
use super::preroll::{OnMessage, Preroll};
use super::properties::Settings;
use super::rate::{self, Rates};
use super::rate_matching::RateMatchers;
use super::workarounds::Seeks;

pub(super) static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "graphbin",
        gst::DebugColorFlags::empty(),
        Some("Filter graph manager: latency equalization with stream offsets, rate changes"),
    )
});

thread_local! {
    /// How many ASYNC_DONE messages of a graph's own this thread has posted: whether GstBin
    /// passed a child's on while it handled it (see `GraphBin::pass_on_late_async_done`).
    static OWN_ASYNC_DONE_POSTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A lock that survives a panic elsewhere: the data is plain values, always consistent.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What lives from READY→PAUSED to PAUSED→READY: created and dropped in one place each.
#[derive(Debug, Default)]
pub(super) struct RunState {
    /// Where the preroll stands for a rate set before it.
    pub preroll: Preroll,
    /// The last state change asked of the bin was to PLAYING: a PAUSED bin with this set lost
    /// its state (a flush) rather than being paused.
    pub asked_to_play: bool,
    /// Whether the bin's last change to PAUSED said it is live (NO_PREROLL); `None` once
    /// elements came or went since.
    pub live: Option<bool>,
    /// The last equalization found no live push source: what the next one, with no element
    /// added or removed since, need not survey again.
    pub quiet: Option<Quiet>,
    /// Push sources added while running, until they reach PLAYING.
    pub joining: HashSet<gst::Element>,
    /// Every sink inside with the offset of the group feeding it (0 when none is, or without
    /// sync), from the last equalization: what the next LATENCY event is distributed by.
    pub sink_offsets: Vec<(gst::Element, ClockTime)>,
    /// The pipeline latency of the last LATENCY event.
    pub pipeline_latency: Option<ClockTime>,
    /// The largest pipeline latency seen in this run, from the bin's own latency answer or a
    /// LATENCY event: what the push sources' capture buffers are sized for.
    pub sinks_wait: ClockTime,
    /// The pipeline latency the last equalization that surveyed live sources sized their
    /// capture buffers for (at least `sinks_wait` then): a LATENCY event within it needs no
    /// second equalization, which would plan the same values.
    pub sized_for: ClockTime,
    pub equalized_since_paused: bool,
    /// The problems the last equalization reported.
    pub reported: Findings,
    /// Audio sinks whose `slave-method` the bin set to `none`, with their own value.
    pub slave_methods: HashMap<gst::Element, String>,
    /// Audio sinks with a `ratematch` of the bin in front.
    pub matched_sinks: HashSet<gst::Element>,
    /// Where the last seek through the bin resumed playback: the position while the sinks,
    /// flushed, wait for the segment that will tell it.
    pub last_seek: Option<ClockTime>,
}

#[derive(Default)]
pub struct GraphBin {
    pub(super) settings: Mutex<Settings>,
    /// `Some` from READY→PAUSED to PAUSED→READY.
    pub(super) run: Mutex<Option<RunState>>,
    pub(super) rates: Mutex<Rates>,
    pub(super) equalizer: Mutex<Equalizer>,
    pub(super) seeks: Mutex<Seeks>,
    /// The `scaletempo` elements put in front of the audio sinks while PAUSED or PLAYING.
    pub(super) pitch_keepers: Mutex<Option<PitchKeepers>>,
    /// The `ratematch` elements put in front of the audio sinks while PAUSED or PLAYING.
    pub(super) rate_matchers: Mutex<Option<RateMatchers>>,
    /// WARNINGs raised while the bin had no bus (gst-launch sets properties before the bin is
    /// in a pipeline): posted once it has one.
    unposted: Mutex<Vec<gst::Message>>,
}

impl GraphBin {
    /// A run starts: the preroll waits for a rate set before it, if there is one.
    fn start_run(&self) {
        let preroll = if lock(&self.rates).pending.is_some() {
            Preroll::Holding
        } else {
            Preroll::Awaited
        };
        *lock(&self.run) = Some(RunState {
            preroll,
            ..RunState::default()
        });
    }

    /// The run ends: the audio sinks get their own `slave-method` back.
    fn end_run(&self) {
        let run = lock(&self.run).take();
        if let Some(run) = run {
            super::rate_matching::set_slave_methods(run.slave_methods.into_iter().collect());
        }
    }

    /// Posts the WARNINGs kept while the bin had no bus, once it has one.
    fn post_unposted(&self) {
        if self.obj().bus().is_none() {
            return;
        }
        let unposted = std::mem::take(&mut *lock(&self.unposted));
        let obj = self.obj();
        for message in unposted {
            let _ = obj.post_message(message);
        }
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
}

#[glib::object_subclass]
impl ObjectSubclass for GraphBin {
    const NAME: &'static str = "GstGraphBin";
    type Type = super::GraphBin;
    type ParentType = gst::Bin;
}

impl ObjectImpl for GraphBin {
    fn properties() -> &'static [glib::ParamSpec] {
        Self::property_specs()
    }

    fn signals() -> &'static [glib::subclass::Signal] {
        Self::signal_specs()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        self.write_property(value, pspec);
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.read_property(pspec)
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
        Self::element_metadata()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        self.post_unposted();
        match transition {
            gst::StateChange::ReadyToPaused => {
                self.start_run();
                let contents = graph::Contents::of(self.obj().upcast_ref());
                self.hand_max_graph_latency(&contents.sources);
                let has_audio_sink = contents
                    .sinks
                    .iter()
                    .any(|sink| sink.is::<gst_audio::AudioBaseSink>());
                self.insert_pitch_keepers();
                // Only audio renderers have a rate to match: no need to walk the graph
                // without one.
                if has_audio_sink {
                    let survey = Survey::of(self.obj().upcast_ref(), contents);
                    self.insert_rate_matchers(&survey);
                    self.apply_rate_matching(&survey);
                }
            }
            // The pipeline's latency query reaches the bin only through sinks inside it; the
            // sources must have their offsets before their first buffer all the same.
            gst::StateChange::PausedToPlaying => {
                let equalized = lock(&self.run)
                    .as_ref()
                    .is_none_or(|run| run.equalized_since_paused);
                if !equalized {
                    self.equalize(false);
                }
            }
            _ => {}
        }
        if let Some(run) = &mut *lock(&self.run) {
            if transition == gst::StateChange::PlayingToPaused {
                run.equalized_since_paused = false;
            }
            run.asked_to_play = transition.next() == gst::State::Playing;
        }
        let result = self.parent_change_state(transition);
        match transition {
            gst::StateChange::ReadyToPaused => {
                let apply = lock(&self.run).as_mut().is_some_and(|run| {
                    run.live = Some(result == Ok(gst::StateChangeSuccess::NoPreroll));
                    // Prerolled at once (or live, or failed): no ASYNC_DONE to hold back.
                    run.preroll.state_change_returned(result)
                });
                if apply {
                    self.schedule_pending_rate();
                }
                if result.is_err() {
                    // The bin goes back down without a PAUSED to READY (the pitch keepers and
                    // rate matchers come out on the way to NULL).
                    self.end_run();
                }
            }
            gst::StateChange::PlayingToPaused => {
                if let Some(run) = &mut *lock(&self.run) {
                    run.live = Some(result == Ok(gst::StateChangeSuccess::NoPreroll));
                }
            }
            gst::StateChange::PausedToReady => {
                self.end_run();
                self.remove_rate_matchers();
                self.remove_pitch_keepers();
                lock(&self.rates).keep_for_next_preroll();
            }
            gst::StateChange::ReadyToNull => {
                self.remove_rate_matchers();
                self.remove_pitch_keepers();
            }
            _ => {}
        }
        result
    }

    fn query(&self, query: &mut gst::QueryRef) -> bool {
        if query.type_() == gst::QueryType::Latency {
            return self.answer_latency_query(query);
        }
        ElementImplExt::parent_query(self, query)
    }

    fn send_event(&self, event: gst::Event) -> bool {
        if let Some(rate) = rate::rate_of_seek(&event) {
            return self.seek_on_its_way(rate, event, |event| self.parent_send_event(event));
        }
        if let gst::EventView::Latency(latency) = event.view() {
            let pipeline_latency = latency.latency();
            if let Some(run) = &mut *lock(&self.run) {
                run.pipeline_latency = Some(pipeline_latency);
            }
            if lock(&self.settings).sync_using_stream_offset {
                // A pipeline latency above this bin's own answer (sinks outside it): the
                // sources buffer for the longer wait.
                if self.pipeline_latency_seen(pipeline_latency) {
                    self.equalize(false);
                }
                return self.distribute_latency(&event, pipeline_latency);
            }
        }
        self.parent_send_event(event)
    }

    fn post_message(&self, message: gst::Message) -> bool {
        let obj = self.obj();
        if message.type_() == gst::MessageType::Warning && obj.bus().is_none() {
            gst::debug!(
                CAT,
                imp = self,
                "no bus yet: WARNING kept until there is one"
            );
            lock(&self.unposted).push(message);
            return true;
        }
        if message.src() != Some(obj.upcast_ref()) {
            return self.parent_post_message(message);
        }
        if message.type_() == gst::MessageType::AsyncDone {
            OWN_ASYNC_DONE_POSTED.set(OWN_ASYNC_DONE_POSTED.get().wrapping_add(1));
        }
        let has_parent = obj.parent().is_some();
        let decision = lock(&self.run).as_mut().map_or(OnMessage::Post, |run| {
            run.preroll.on_own_message(&message, has_parent)
        });
        if decision == OnMessage::HoldAndApply {
            self.schedule_pending_rate();
            return true;
        }
        let prerolled = Self::prerolled_again(&message);
        let posted = self.parent_post_message(message);
        if decision == OnMessage::PostThenApply {
            self.schedule_pending_rate();
        }
        if prerolled && self.left_behind() {
            obj.call_async(|bin| bin.imp().catch_up());
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
        let late_async_done = match message.view() {
            gst::MessageView::AsyncDone(done) if message.src() != Some(self.obj().upcast_ref()) => {
                Some(done.running_time())
            }
            _ => None,
        };
        let own_async_done_before = OWN_ASYNC_DONE_POSTED.get();
        self.parent_handle_message(message);
        if let Some(running_time) = late_async_done {
            let posted = OWN_ASYNC_DONE_POSTED.get() != own_async_done_before;
            self.pass_on_late_async_done(running_time, posted);
        }
        if latency_changed {
            self.equalize(false);
        }
    }
}
