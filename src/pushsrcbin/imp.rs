use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;

use super::network::{self, Buffering, ClockRelation};
use crate::push_source::{PushSource, PushSourceFlags, PushSourceImpl, StreamOffsetResult};
use crate::time;
use crate::timing::capture_loss::{self, CaptureBuffer, LossReport, QosUnits};
use crate::timing::latency::{self, LatencyAnswer};
use crate::timing::lock;
use crate::timing::offset_warning::OffsetWarning;
use crate::timing::properties::{self, DEFAULT_MAX_OFFSET, DEFAULT_TS_OFFSET};
use crate::timing::segment_offset::SegmentOffsetter;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pushsrcbin",
        gst::DebugColorFlags::empty(),
        Some("Bin giving any source push-source timing"),
    )
});

const DEFAULT_EXTRA_LATENCY: ClockTime = ClockTime::ZERO;

/// What the bin knows of its wrapped source, as one consistent value: a reader never sees the
/// liveness of one answer with the latency of another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SourceView {
    /// `None` until known (from the element, its state change or its LATENCY answer).
    live: Option<bool>,
    /// `min` of its last LATENCY answer.
    min: Option<ClockTime>,
    /// `max − min` of its last LATENCY answer; `None` when unlimited or not known.
    slack: Option<ClockTime>,
    /// The streaming thread asked it for its latency in this segment: a source that does not
    /// answer is asked once per segment, not once per buffer.
    asked_this_segment: bool,
    /// What its elements say about it as a network receiver.
    chain: ChainView,
}

/// The part of [`network::Chain`] the bin's answers depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChainView {
    network: bool,
    /// `None`: no RTP receiver, the flags are the user's.
    clock: Option<ClockRelation>,
    buffering: Buffering,
    /// What the jitterbuffers are configured to add (an RTP receiver only).
    configured_latency: Option<ClockTime>,
    /// A live base source is inside (a udpsrc is live).
    live_inside: bool,
}

impl Default for ChainView {
    fn default() -> Self {
        Self {
            network: false,
            clock: None,
            buffering: Buffering::Reported,
            configured_latency: None,
            live_inside: false,
        }
    }
}

impl ChainView {
    fn of(element: &gst::Element) -> Self {
        let chain = network::inspect(element);
        Self {
            network: chain.network,
            clock: chain.clock_relation(),
            buffering: chain.buffering(),
            configured_latency: chain.configured_latency(),
            live_inside: PushSrcBin::base_src_liveness(element) == Some(true),
        }
    }

    /// An RTP receiver's answer before its stream flows says less than the chain will add (an
    /// `rtpbin` without its stream pads answers "not live, 0"): the configured jitterbuffer
    /// latency is the least it adds, and a live receiving element makes it live.
    fn wrapped_answer(&self, live: bool, min: ClockTime) -> (bool, ClockTime) {
        match self.configured_latency {
            Some(configured) => (live || self.live_inside, min.max(configured)),
            None => (live, min),
        }
    }
}

/// SPEC 3a for a wrapped RTP receiver whose flags nobody wrote: stamps that follow the sender's
/// clock are a private clock; stamps on the receiver's clock (the jitterbuffer's skew mapping)
/// or on a shared clock are on the graph's clock.
fn flags_for_chain(
    flags: PushSourceFlags,
    written: bool,
    clock: Option<ClockRelation>,
) -> PushSourceFlags {
    match clock {
        Some(ClockRelation::Sender) if !written => flags | PushSourceFlags::PRIVATE_CLOCK,
        _ => flags,
    }
}

/// `max-offset` as set, or else what the wrapped source's LATENCY `max` allows.
fn effective_max_offset(settings: &Settings, view: &SourceView) -> ClockTime {
    settings
        .max_offset
        .unwrap_or_else(|| match view.chain.buffering {
            Buffering::Reported => view.slack.unwrap_or(DEFAULT_MAX_OFFSET),
            Buffering::Bounded(capacity) => capacity,
            Buffering::Unbounded => ClockTime::from_nseconds(time::MAX_DURATION_NS),
        })
}

#[derive(Debug, Default)]
struct Settings {
    source: Option<gst::Element>,
    description: Option<String>,
    extra_latency: ClockTime,
    ts_offset: i64,
    /// `None` until set: the maximum then follows the wrapped source's LATENCY `max`.
    max_offset: Option<ClockTime>,
    /// As set; `not-live` is corrected to the wrapped source's liveness once that is known.
    flags: PushSourceFlags,
    /// The flags were written (property or interface): a `not-live` that contradicts the
    /// wrapped source is then a request refused with a WARNING, while the default flags follow
    /// the source silently.
    flags_written: bool,
}

/// The wrapped element, as set up at the last NULL→READY.
#[derive(Debug, Default)]
struct Wrapped {
    element: Option<gst::Element>,
    pad_added: Option<glib::SignalHandlerId>,
    /// The `rtpbin`s inside, watched for their stream pads and for the jitterbuffers they make.
    rtpbin_pads: Vec<(gst::Element, glib::SignalHandlerId)>,
    rtpbin_jitterbuffers: Vec<(gst::Element, glib::SignalHandlerId)>,
    /// The src pads of the `rtpjitterbuffer`s inside (and of those the `rtpbin`s made), watched
    /// for the packets they give up on. Weak: a jitterbuffer an `rtpbin` drops (its stream's
    /// SSRC timed out or said BYE) takes its pad with it, and its entry is pruned.
    loss_probes: Vec<(glib::WeakRef<gst::Pad>, gst::PadProbeId)>,
    /// `source` or `source-description` changed in READY: set up again at READY→PAUSED.
    stale: bool,
}

/// Data lost from the modelled capture buffer and not reported yet.
#[derive(Debug, Clone, Copy)]
struct Loss {
    first_pts: ClockTime,
    first_running_time: ClockTime,
    end_running_time: ClockTime,
}

/// What passed the ghost pad since the last start, for the capture-buffer model.
#[derive(Debug, Default)]
struct Stream {
    /// The wrapped source's segment, before the offset.
    segment: Option<gst::FormattedSegment<ClockTime>>,
    processed_buffers: u64,
    dropped_buffers: u64,
    loss: Option<Loss>,
    /// A flush that resets the running time went through and no buffer since: the next one
    /// is the sinks' preroll, which the capture model does not judge.
    prerolling: bool,
}

impl Stream {
    /// The loss to report once the streaming lock is released.
    fn report(&self, loss: Loss, now: ClockTime) -> LossReport {
        LossReport {
            timestamp: loss.first_pts,
            stream_time: self
                .segment
                .as_ref()
                .and_then(|segment| segment.to_stream_time(loss.first_pts)),
            running_time: loss.first_running_time,
            duration: loss
                .end_running_time
                .saturating_sub(loss.first_running_time),
            now,
            units: QosUnits::Buffers,
            processed: self.processed_buffers,
            dropped: self.dropped_buffers,
        }
    }
}

/// What happens to a buffer at the ghost pad.
enum Admission {
    Pass,
    PassAfterLoss(LossReport),
    Lost,
}

/// The locks, in the order they may be taken (never two at once is the rule; none of them is
/// held while the bin posts, notifies, queries or pushes): `settings`, `wrapped`, `source_view`,
/// `stream`, `buffer_probes`.
///
/// The buffer probes of the ghost pad, installed only while they have work: a non-live source's
/// buffers then pass with no call into the bin.
#[derive(Debug, Default)]
struct BufferProbes {
    capture_model: Option<gst::PadProbeId>,
    offset_update: Option<gst::PadProbeId>,
}

pub struct PushSrcBin {
    src_pad: gst::GhostPad,
    buffer_probes: Mutex<BufferProbes>,
    settings: Mutex<Settings>,
    wrapped: Mutex<Wrapped>,
    stream: Mutex<Stream>,
    segment_offsetter: SegmentOffsetter,
    offset_warning: OffsetWarning,
    /// Set with every `ts-offset` change, so that the streaming thread only looks at the offset
    /// when it changed.
    offset_changed: AtomicBool,
    source_view: Mutex<SourceView>,
}

/// A configuration problem found when setting up the wrapped source.
struct SetupError {
    error: gst::ResourceError,
    message: String,
    debug: String,
}

impl SetupError {
    fn settings(message: impl Into<String>, debug: impl Into<String>) -> Self {
        Self {
            error: gst::ResourceError::Settings,
            message: message.into(),
            debug: debug.into(),
        }
    }
}

impl PushSrcBin {
    fn view(&self) -> SourceView {
        *lock(&self.source_view)
    }

    fn wrapped_liveness(&self) -> Option<bool> {
        self.view().live
    }

    /// Changes the view with `change`; notifies `is-live` (with no lock held) when that changed.
    fn update_view(&self, change: impl FnOnce(&mut SourceView)) {
        let (before, after) = {
            let mut view = lock(&self.source_view);
            let before = view.live;
            change(&mut view);
            (before, view.live)
        };
        if before != after {
            gst::debug!(CAT, imp = self, "wrapped source live: {after:?}");
            self.obj().notify("is-live");
        }
    }

    fn note_wrapped_liveness(&self, live: Option<bool>) {
        self.update_view(|view| view.live = live);
    }

    fn max_offset(&self) -> ClockTime {
        let view = self.view();
        effective_max_offset(&lock(&self.settings), &view)
    }

    fn reported_flags(&self) -> PushSourceFlags {
        let view = self.view();
        let (flags, written) = {
            let settings = lock(&self.settings);
            (settings.flags, settings.flags_written)
        };
        let flags = properties::flags_with_fixed_liveness(flags, view.live).0;
        flags_for_chain(flags, written, view.chain.clock)
    }

    /// Looks at the wrapped chain's elements again (their properties may have changed since).
    fn refresh_chain(&self) {
        let element = lock(&self.wrapped).element.clone();
        let chain = element.as_ref().map(ChainView::of).unwrap_or_default();
        self.update_view(|view| view.chain = chain);
    }

    /// Asks the wrapped source for its latency through the ghost pad (whose probe adds the
    /// extra latency and remembers the answer): `(live, min, max)`.
    fn query_latency(&self) -> Option<(bool, ClockTime, Option<ClockTime>)> {
        self.src_pad.target()?;
        let mut query = gst::query::Latency::new();
        self.src_pad.query(&mut query).then(|| query.result())
    }

    /// The latency the bin reports: from a fresh answer when the wrapped source gives one, else
    /// from its last answer.
    fn current_latency(&self) -> Option<ClockTime> {
        if let Some((_, min, _)) = self.query_latency() {
            return Some(min);
        }
        let wrapped_min = self.view().min?;
        Some(time::saturating_add(
            wrapped_min,
            lock(&self.settings).extra_latency,
        ))
    }

    /// Rewrites the wrapped source's LATENCY answer into the bin's (SPEC section 2, rule 1).
    fn answer_latency(&self, query: &mut gst::query::Latency) {
        // Without a source, GStreamer's proxy pad answers with the query's initial values, which
        // say nothing about any source.
        if self.src_pad.target().is_none() {
            return;
        }
        let (live, wrapped_min, wrapped_max) = query.result();
        self.refresh_chain();
        let (live, wrapped_min) = self.view().chain.wrapped_answer(live, wrapped_min);
        self.update_view(|view| {
            view.live = Some(live);
            view.min = Some(wrapped_min);
            view.slack = wrapped_max.map(|max| max.saturating_sub(wrapped_min));
        });
        let view = self.view();
        let answer = {
            let settings = lock(&self.settings);
            LatencyAnswer::new(
                live,
                time::saturating_add(wrapped_min, settings.extra_latency),
                effective_max_offset(&settings, &view),
            )
        };
        gst::debug!(
            CAT,
            imp = self,
            "latency: wrapped live {live} min {wrapped_min} max {wrapped_max:?}, answering {answer:?}"
        );
        answer.apply(query);
    }

    fn post_latency_if_running(&self) {
        latency::post_latency_if_running(&*self.obj(), *CAT);
    }

    fn apply_ts_offset(&self, offset: i64) -> StreamOffsetResult {
        let view = self.view();
        let max_offset = {
            let mut settings = lock(&self.settings);
            settings.ts_offset = offset;
            effective_max_offset(&settings, &view)
        };
        self.offset_changed.store(true, Ordering::Release);
        self.schedule_offset_update();
        gst::debug!(CAT, imp = self, "ts-offset set to {offset} ns");
        self.offset_warning
            .offset_set(&*self.obj(), offset, max_offset)
    }

    fn apply_max_offset(&self, max_offset: ClockTime) {
        let view = self.view();
        let (offset, before) = {
            let mut settings = lock(&self.settings);
            let before = effective_max_offset(&settings, &view);
            settings.max_offset = Some(max_offset);
            (settings.ts_offset, before)
        };
        if before == max_offset {
            return;
        }
        self.offset_warning
            .max_offset_changed(&*self.obj(), offset, before, max_offset);
        self.post_latency_if_running();
    }

    fn apply_extra_latency(&self, extra_latency: ClockTime) {
        let before = std::mem::replace(&mut lock(&self.settings).extra_latency, extra_latency);
        if before != extra_latency {
            self.post_latency_if_running();
        }
    }

    fn set_flags(&self, flags: PushSourceFlags) {
        {
            let mut settings = lock(&self.settings);
            settings.flags = flags;
            settings.flags_written = true;
        }
        if self.obj().current_state() > gst::State::Null {
            self.check_not_live_request();
        }
    }

    /// `not-live` is a fact about the wrapped source, which the bin cannot change: a request
    /// that contradicts it is refused with a WARNING (in NULL, once the source is known). Flags
    /// nobody wrote follow the source without a word.
    fn check_not_live_request(&self) {
        let Some(live) = self.wrapped_liveness() else {
            return;
        };
        let (requested_not_live, refused, explicit) = {
            let mut settings = lock(&self.settings);
            let requested = settings.flags.contains(PushSourceFlags::NOT_LIVE);
            let (flags, refused) =
                properties::flags_with_fixed_liveness(settings.flags, Some(live));
            settings.flags = flags;
            (requested, refused, settings.flags_written)
        };
        if !refused {
            return;
        }
        if !explicit {
            gst::debug!(
                CAT,
                imp = self,
                "not-live follows the wrapped source: {}",
                if live { "live" } else { "not live" }
            );
            self.obj().notify("push-source-flags");
            return;
        }
        let what = if live { "live" } else { "not live" };
        gst::element_imp_warning!(
            self,
            gst::CoreError::StateChange,
            ("The not-live flag follows the wrapped source, which is {what}: change the \
                 source itself (for example its is-live property)"),
            ["refused not-live={requested_not_live} for a wrapped source that is {what}"]
        );
        self.obj().notify("push-source-flags");
    }

    /// `source` and `source-description` change in NULL or READY only: a running source cannot
    /// be swapped under a running pipeline.
    fn source_may_change(&self, property: &str) -> bool {
        let state = self.obj().current_state();
        if state <= gst::State::Ready {
            return true;
        }
        gst::element_imp_warning!(
            self,
            gst::CoreError::StateChange,
            ("The wrapped source can only change in NULL or READY: {property} keeps its value"),
            ["refused a change of {property} in {state:?}"]
        );
        false
    }

    fn parse_description(&self, description: &str) -> Result<gst::Element, SetupError> {
        // A single element is wrapped as it is; a chain goes into a bin (not a pipeline, which
        // would pick its own clock and base time) with its unlinked src pad ghosted.
        let flags = gst::ParseFlags::FATAL_ERRORS
            | gst::ParseFlags::NO_SINGLE_ELEMENT_BINS
            | gst::ParseFlags::PLACE_IN_BIN;
        let element = gst::parse::bin_from_description_full(description, false, None, flags)
            .map_err(|error| {
                let kind = if error.matches(gst::ParseError::NoSuchElement) {
                    gst::ResourceError::NotFound
                } else {
                    gst::ResourceError::Settings
                };
                SetupError {
                    error: kind,
                    message: format!("Cannot use source-description \"{description}\": {error}"),
                    debug: format!("parse error {error:?}"),
                }
            })?;
        if element.type_() == gst::Bin::static_type()
            && let Some(bin) = element.downcast_ref::<gst::Bin>()
        {
            Self::ghost_unlinked_pads(bin).map_err(|error| {
                SetupError::settings(
                    format!("Cannot use source-description \"{description}\""),
                    error.to_string(),
                )
            })?;
        }
        Ok(element)
    }

    /// Ghosts the chain's unlinked src pad, and an unlinked sink pad (which makes it no source)
    /// unless an element inside has sometimes src pads: gst-launch links those when they
    /// appear (`udpsrc ! rtpbin.recv_rtp_sink_0 rtpbin. ! rtpL16depay` leaves the depayloader's
    /// sink pad unlinked until rtpbin's first stream pad).
    fn ghost_unlinked_pads(bin: &gst::Bin) -> Result<(), glib::BoolError> {
        if let Some(pad) = bin.find_unlinked_pad(gst::PadDirection::Src) {
            let ghost = gst::GhostPad::builder_with_target(&pad)?
                .name("src")
                .build();
            bin.add_pad(&ghost)?;
        }
        let delayed_links = bin.iterate_recurse().into_iter().flatten().any(|element| {
            element.pad_template_list().iter().any(|template| {
                template.direction() == gst::PadDirection::Src
                    && template.presence() == gst::PadPresence::Sometimes
            })
        });
        if !delayed_links && let Some(pad) = bin.find_unlinked_pad(gst::PadDirection::Sink) {
            let ghost = gst::GhostPad::builder_with_target(&pad)?
                .name("sink")
                .build();
            bin.add_pad(&ghost)?;
        }
        Ok(())
    }

    /// Checks that `element` is a source that can go into this bin; returns its src pad, or
    /// `None` when its src pad is a sometimes pad still to come.
    fn check_source(&self, element: &gst::Element) -> Result<Option<gst::Pad>, SetupError> {
        let name = element.name();
        let obj = self.obj();
        if element == obj.upcast_ref::<gst::Element>()
            || obj
                .parent()
                .into_iter()
                .flat_map(|parent| std::iter::successors(Some(parent), |p| p.parent()))
                .any(|ancestor| &ancestor == element.upcast_ref::<gst::Object>())
        {
            return Err(SetupError::settings(
                format!("Element {name} contains this pushsrcbin: it cannot be its source"),
                "the source would contain itself",
            ));
        }
        if let Some(parent) = element.parent()
            && &parent != obj.upcast_ref::<gst::Object>()
        {
            return Err(SetupError::settings(
                format!(
                    "Element {name} is already inside {}: it cannot be wrapped",
                    parent.name()
                ),
                "give pushsrcbin an element without a parent",
            ));
        }
        let sink_pad = element
            .sink_pads()
            .first()
            .map(|pad| pad.name().to_string())
            .or_else(|| {
                element
                    .pad_template_list()
                    .iter()
                    .find(|t| {
                        t.direction() == gst::PadDirection::Sink
                            && t.presence() == gst::PadPresence::Always
                    })
                    .map(|t| t.name_template().to_string())
            });
        if let Some(sink_pad) = sink_pad {
            return Err(SetupError::settings(
                format!("Element {name} is not a source: it has a sink pad ({sink_pad})"),
                "pushsrcbin wraps a source: an element with src pads and no sink pad",
            ));
        }
        let src_pad = element
            .static_pad("src")
            .filter(|pad| pad.direction() == gst::PadDirection::Src)
            .or_else(|| element.src_pads().into_iter().next());
        if let Some(pad) = src_pad {
            if pad.is_linked() {
                return Err(SetupError::settings(
                    format!("The src pad of {name} is already linked"),
                    format!("{} is linked to {:?}", pad.name(), pad.peer()),
                ));
            }
            return Ok(Some(pad));
        }
        let has_sometimes_src = element.pad_template_list().iter().any(|t| {
            t.direction() == gst::PadDirection::Src && t.presence() == gst::PadPresence::Sometimes
        });
        if has_sometimes_src {
            return Ok(None);
        }
        Err(SetupError::settings(
            format!("Element {name} is not a source: it has no src pad"),
            "pushsrcbin needs an always or sometimes src pad to ghost",
        ))
    }

    /// Liveness of a GstBaseSrc, or of the base sources inside a bin; `None` when there is none.
    fn base_src_liveness(element: &gst::Element) -> Option<bool> {
        if let Some(base_src) = element.downcast_ref::<gst_base::BaseSrc>() {
            return Some(base_src.is_live());
        }
        let bin = element.downcast_ref::<gst::Bin>()?;
        let mut live = None;
        for child in bin.iterate_recurse().into_iter().flatten() {
            if let Some(base_src) = child.downcast_ref::<gst_base::BaseSrc>() {
                live = Some(live.unwrap_or(false) || base_src.is_live());
            }
        }
        live
    }

    /// Builds the wrapped source from the settings and ghosts its src pad.
    fn set_up_source(&self) -> Result<(), gst::StateChangeError> {
        self.tear_down();
        let result = self.try_set_up_source();
        if let Err(error) = result {
            gst::element_imp_error!(
                self,
                error.error,
                ("{}", error.message),
                ["{}", error.debug]
            );
            return Err(gst::StateChangeError);
        }
        Ok(())
    }

    fn try_set_up_source(&self) -> Result<(), SetupError> {
        let (source, description) = {
            let settings = lock(&self.settings);
            (settings.source.clone(), settings.description.clone())
        };
        let element = match (source, description) {
            (Some(element), _) => element,
            (None, Some(description)) => self.parse_description(&description)?,
            (None, None) => {
                return Err(SetupError::settings(
                    "pushsrcbin has no source: set source or source-description",
                    "neither source nor source-description is set",
                ));
            }
        };
        let src_pad = self.check_source(&element)?;
        let obj = self.obj();
        if element.parent().is_none() {
            obj.add(&element).map_err(|error| {
                SetupError::settings(
                    format!("Cannot add {} to pushsrcbin", element.name()),
                    error.to_string(),
                )
            })?;
        }
        let pad_added = match src_pad {
            Some(pad) => {
                self.src_pad.set_target(Some(&pad)).map_err(|error| {
                    SetupError::settings(
                        format!("Cannot ghost the src pad of {}", element.name()),
                        error.to_string(),
                    )
                })?;
                None
            }
            None => {
                gst::debug!(CAT, imp = self, "waiting for a sometimes src pad");
                let weak = obj.downgrade();
                Some(element.connect_pad_added(move |_, pad| {
                    if let Some(bin) = weak.upgrade() {
                        bin.imp().ghost_added_pad(pad);
                    }
                }))
            }
        };
        self.note_wrapped_liveness(Self::base_src_liveness(&element));
        let chain = ChainView::of(&element);
        self.update_view(|view| view.chain = chain);
        let rtpbin_pads = network::rtpbins(&element)
            .into_iter()
            .map(|rtpbin| {
                let weak = obj.downgrade();
                let handler = rtpbin.connect_pad_added(move |_, pad| {
                    if pad.direction() == gst::PadDirection::Src
                        && let Some(bin) = weak.upgrade()
                    {
                        bin.imp().on_rtp_stream_pad();
                    }
                });
                (rtpbin, handler)
            })
            .collect();
        let loss_probes = self.watch_network_losses(&element);
        let rtpbin_jitterbuffers = self.watch_rtpbin_losses(&element);
        gst::debug!(CAT, imp = self, "wrapping {} ({chain:?})", element.name());
        let mut wrapped = lock(&self.wrapped);
        wrapped.element = Some(element);
        wrapped.pad_added = pad_added;
        wrapped.rtpbin_pads = rtpbin_pads;
        wrapped.rtpbin_jitterbuffers = rtpbin_jitterbuffers;
        // A jitterbuffer an rtpbin made meanwhile has put its probe in already.
        wrapped.loss_probes.extend(loss_probes);
        wrapped.stale = false;
        Ok(())
    }

    fn ghost_added_pad(&self, pad: &gst::Pad) {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        if self.src_pad.target().is_some() {
            gst::debug!(
                CAT,
                imp = self,
                "already ghosting a src pad: ignoring {}",
                pad.name()
            );
            return;
        }
        if let Err(error) = self.src_pad.set_target(Some(pad)) {
            gst::element_imp_error!(
                self,
                gst::CoreError::Pad,
                ("Cannot ghost the new src pad {}", pad.name()),
                ["{error}"]
            );
        }
    }

    /// An `rtpbin` inside made a stream pad: the chain now reaches the jitterbuffer, whose
    /// latency the pipeline has to ask for again.
    fn on_rtp_stream_pad(&self) {
        gst::debug!(
            CAT,
            imp = self,
            "RTP stream pad added: latency to be asked again"
        );
        self.post_latency_if_running();
    }

    /// Turns on `do-lost` on the chain's `rtpjitterbuffer`s, so that each packet one gives up
    /// on is announced (downstream as a GAP from the depayloader, to the application as a QOS
    /// message from the bin), and watches for it.
    fn watch_network_losses(
        &self,
        element: &gst::Element,
    ) -> Vec<(glib::WeakRef<gst::Pad>, gst::PadProbeId)> {
        let mut probes = Vec::new();
        for jitterbuffer in network::jitterbuffers(element) {
            if jitterbuffer.find_property("do-lost").is_some() {
                jitterbuffer.set_property("do-lost", true);
            }
            probes.extend(self.watch_jitterbuffer_losses(&jitterbuffer));
        }
        probes
    }

    /// The same for the `rtpbin`s inside: `do-lost` on the `rtpbin` (which hands it to each
    /// jitterbuffer it makes), and each jitterbuffer watched as the `rtpbin` makes it (with the
    /// first packet of its stream).
    fn watch_rtpbin_losses(
        &self,
        element: &gst::Element,
    ) -> Vec<(gst::Element, glib::SignalHandlerId)> {
        network::rtpbins(element)
            .into_iter()
            .filter(|rtpbin| rtpbin.find_property("do-lost").is_some())
            .map(|rtpbin| {
                rtpbin.set_property("do-lost", true);
                let weak = self.obj().downgrade();
                let handler = rtpbin.connect("new-jitterbuffer", false, move |values| {
                    if let Some(bin) = weak.upgrade()
                        && let Some(Ok(jitterbuffer)) =
                            values.get(1).map(|value| value.get::<gst::Element>())
                        && let Some(probe) = bin.imp().watch_jitterbuffer_losses(&jitterbuffer)
                    {
                        let mut wrapped = lock(&bin.imp().wrapped);
                        wrapped
                            .loss_probes
                            .retain(|(pad, _)| pad.upgrade().is_some());
                        wrapped.loss_probes.push(probe);
                    }
                    None
                });
                (rtpbin, handler)
            })
            .collect()
    }

    /// Watches `jitterbuffer`'s src pad for the packets it gives up on.
    fn watch_jitterbuffer_losses(
        &self,
        jitterbuffer: &gst::Element,
    ) -> Option<(glib::WeakRef<gst::Pad>, gst::PadProbeId)> {
        let pad = jitterbuffer.static_pad("src")?;
        let weak = self.obj().downgrade();
        let counted = jitterbuffer.downgrade();
        let probe = pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(event)) = &info.data
                && let Some(lost) = network::PacketLost::of(event)
                && let Some(bin) = weak.upgrade()
                && let Some(jitterbuffer) = counted.upgrade()
            {
                bin.imp().report_network_loss(lost, &jitterbuffer);
            }
            gst::PadProbeReturn::Ok
        })?;
        Some((pad.downgrade(), probe))
    }

    /// A packet the network lost, as the capture-buffer model reports its own losses: a QOS
    /// message, counting the jitterbuffer's packets pushed and lost.
    fn report_network_loss(&self, lost: network::PacketLost, jitterbuffer: &gst::Element) {
        let (pushed, lost_count) = network::jitterbuffer_counts(jitterbuffer);
        let (running_time, stream_time) = {
            let stream = lock(&self.stream);
            let segment = stream.segment.as_ref();
            (
                segment.and_then(|segment| segment.to_running_time(lost.timestamp)),
                segment.and_then(|segment| segment.to_stream_time(lost.timestamp)),
            )
        };
        let running_time = running_time.unwrap_or(lost.timestamp);
        let report = LossReport {
            timestamp: lost.timestamp,
            stream_time,
            running_time,
            duration: lost.duration,
            now: self.live_now().unwrap_or(running_time),
            units: QosUnits::Buffers,
            processed: pushed,
            dropped: lost_count,
        };
        gst::warning!(
            CAT,
            imp = self,
            "packet {} lost in the network: {} from running time {running_time}",
            lost.seqnum,
            lost.duration
        );
        let offset = lock(&self.settings).ts_offset;
        let obj = self.obj();
        let _ = obj.post_message(report.message(&*obj, offset));
    }

    fn tear_down(&self) {
        let (element, pad_added, rtpbin_handlers, loss_probes) = {
            let mut wrapped = lock(&self.wrapped);
            let mut rtpbin_handlers = std::mem::take(&mut wrapped.rtpbin_pads);
            rtpbin_handlers.append(&mut wrapped.rtpbin_jitterbuffers);
            (
                wrapped.element.take(),
                wrapped.pad_added.take(),
                rtpbin_handlers,
                std::mem::take(&mut wrapped.loss_probes),
            )
        };
        for (rtpbin, handler) in rtpbin_handlers {
            rtpbin.disconnect(handler);
        }
        for (pad, probe) in loss_probes {
            if let Some(pad) = pad.upgrade() {
                pad.remove_probe(probe);
            }
        }
        self.update_view(|view| view.chain = ChainView::default());
        let _ = self.src_pad.set_target(None::<&gst::Pad>);
        let Some(element) = element else {
            return;
        };
        if let Some(handler) = pad_added {
            element.disconnect(handler);
        }
        let _ = element.set_state(gst::State::Null);
        if element.parent().as_ref() == Some(self.obj().upcast_ref::<gst::Object>()) {
            let _ = self.obj().remove(&element);
        }
        self.note_wrapped_liveness(None);
    }

    /// The stream offset is effective from the next buffer: a one-shot probe sends the segment
    /// again, offset, before it.
    fn schedule_offset_update(&self) {
        let mut probes = lock(&self.buffer_probes);
        if probes.offset_update.is_some() {
            return;
        }
        probes.offset_update = self.src_pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            |pad, _info| {
                if let Some(bin) = imp_of_pad(pad) {
                    bin.imp().push_offset_update();
                }
                gst::PadProbeReturn::Remove
            },
        );
    }

    fn push_offset_update(&self) {
        // The probe is forgotten before the change is taken, so that a change made from now on
        // schedules a new one.
        lock(&self.buffer_probes).offset_update = None;
        if !self.offset_changed.swap(false, Ordering::Acquire) {
            return;
        }
        let offset = lock(&self.settings).ts_offset;
        if let Some(event) = self.segment_offsetter.update_event(offset) {
            gst::debug!(CAT, imp = self, "ts-offset now {offset}: segment again");
            let _ = self.src_pad.push_event(event);
        }
    }

    fn on_event(&self, event: &mut gst::Event) {
        match event.view() {
            gst::EventView::Segment(segment) => {
                lock(&self.stream).segment = segment.segment().downcast_ref::<ClockTime>().cloned();
                lock(&self.source_view).asked_this_segment = false;
                let offset = lock(&self.settings).ts_offset;
                if let Some(shifted) = self.segment_offsetter.offset_event(event, offset) {
                    gst::debug!(CAT, imp = self, "segment with ts-offset {offset}");
                    *event = shifted;
                }
            }
            gst::EventView::FlushStop(flush_stop) => {
                let mut stream = lock(&self.stream);
                stream.segment = None;
                stream.loss = None;
                stream.prerolling = flush_stop.resets_time();
            }
            gst::EventView::Eos(_) => {
                // Data lost at the very end is reported too, as of the end of the loss.
                let report = {
                    let mut stream = lock(&self.stream);
                    stream
                        .loss
                        .take()
                        .map(|loss| stream.report(loss, loss.end_running_time))
                };
                if let Some(report) = report {
                    self.post_loss(report);
                }
            }
            _ => {}
        }
    }

    /// An upstream event on the src pad. SPEC section 2 rule 7 holds for every source-like
    /// element: with a live wrapped source, a seek at a rate other than 1.0 is refused here (a
    /// wrapped `videotestsrc is-live=true` would accept it and stamp wrapped times), and one at
    /// rate 1.0 keeps the position, as the test sources' live seeks do. Anything else goes on
    /// to the wrapped source.
    fn src_event(
        &self,
        pad: &gst::GhostPad,
        parent: Option<&gst::Object>,
        event: gst::Event,
    ) -> bool {
        let mut event = event;
        if let gst::EventView::Seek(seek) = event.view()
            && self.wrapped_liveness() == Some(true)
        {
            let (rate, flags, ..) = seek.get();
            if rate != 1.0 {
                gst::debug!(
                    CAT,
                    imp = self,
                    "live wrapped source: refusing a seek at rate {rate} (a live capture runs at \
                     rate 1.0)"
                );
                return false;
            }
            // A capture cannot move in time: a wrapped live `videotestsrc` takes the position
            // and then waits on the clock until it gets there (a seek 1000 s ahead leaves the
            // sinks unprerolled for 1000 s; GStreamer's own elements do it). The seek still
            // flushes, from where the capture is.
            if let Some(position) = pad
                .target()
                .and_then(|target| target.query_position::<ClockTime>())
            {
                gst::debug!(
                    CAT,
                    imp = self,
                    "live wrapped source: the seek flushes and keeps the position {position}"
                );
                event = gst::event::Seek::builder(
                    1.0,
                    flags,
                    gst::SeekType::Set,
                    position,
                    gst::SeekType::None,
                    ClockTime::NONE,
                )
                .seqnum(event.seqnum())
                .build();
            }
        }
        gst::Pad::event_default(pad, parent, event)
    }

    /// The running time on the clock, when the wrapped source is live and a clock is running.
    fn live_now(&self) -> Option<ClockTime> {
        if self.wrapped_liveness() != Some(true) {
            return None;
        }
        let obj = self.obj();
        let clock = obj.clock()?;
        let base_time = obj.base_time()?;
        Some(clock.time().saturating_sub(base_time))
    }

    /// The capture buffer of the model (`latency + max-offset`); `None` while the wrapped
    /// source's latency is unknown (it is asked once per segment).
    fn capture_buffer(&self) -> Option<CaptureBuffer> {
        let ask = {
            let mut view = lock(&self.source_view);
            let ask = view.min.is_none() && !view.asked_this_segment;
            view.asked_this_segment |= ask;
            ask
        };
        if ask {
            self.query_latency()?;
        }
        let view = self.view();
        let wrapped_min = view.min?;
        let settings = lock(&self.settings);
        Some(CaptureBuffer::new(
            time::saturating_add(wrapped_min, settings.extra_latency),
            effective_max_offset(&settings, &view),
        ))
    }

    /// SPEC section 2 rule 5 for a wrapped source: a buffer that reaches the ghost pad after the
    /// modelled capture buffer has overwritten all of it is lost.
    fn admit(
        &self,
        stream: &mut Stream,
        buffer: &gst::BufferRef,
        now: ClockTime,
        capture: CaptureBuffer,
    ) -> Admission {
        // After a flush that resets the running time, the sinks preroll again and the pipeline
        // then plays on from a new base time: until then the clock's running time is the old
        // one's, against which a source that moved its position (a wrapped `audiotestsrc`
        // takes a seek's) looks late by the jump. Judged, every buffer was lost, no sink
        // prerolled and the pipeline stayed PAUSED for good. The first one passes, as a sink
        // prerolls on a buffer however late.
        if std::mem::take(&mut stream.prerolling) {
            stream.processed_buffers += 1;
            return Admission::Pass;
        }
        let running_times = buffer.pts().and_then(|pts| {
            let segment = stream.segment.as_ref()?;
            let start = segment.to_running_time(pts)?;
            let end = buffer
                .duration()
                .and_then(|duration| segment.to_running_time(time::saturating_add(pts, duration)))
                .map_or(start, |end| end.max(start));
            Some((pts, start, end))
        });
        if let Some((pts, start, end)) = running_times
            && capture.has_overwritten(end, now)
        {
            stream.dropped_buffers += 1;
            let loss = stream.loss.get_or_insert(Loss {
                first_pts: pts,
                first_running_time: start,
                end_running_time: end,
            });
            loss.end_running_time = end;
            return Admission::Lost;
        }
        let admission = match stream.loss.take() {
            Some(loss) => Admission::PassAfterLoss(stream.report(loss, now)),
            None => Admission::Pass,
        };
        stream.processed_buffers += 1;
        admission
    }

    fn post_loss(&self, report: LossReport) {
        let offset = lock(&self.settings).ts_offset;
        capture_loss::post_loss(&*self.obj(), *CAT, &report, offset);
    }

    fn on_buffer(&self, buffer: &mut gst::Buffer) -> gst::PadProbeReturn {
        let Some(now) = self.live_now() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(capture) = self.capture_buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let admission = self.admit(&mut lock(&self.stream), buffer, now, capture);
        match admission {
            Admission::Pass => gst::PadProbeReturn::Ok,
            Admission::Lost => {
                gst::log!(CAT, imp = self, "lost {buffer:?}");
                gst::PadProbeReturn::Drop
            }
            Admission::PassAfterLoss(report) => {
                self.post_loss(report);
                buffer.make_mut().set_flags(gst::BufferFlags::DISCONT);
                gst::PadProbeReturn::Ok
            }
        }
    }

    fn on_buffer_list(&self, list: &mut gst::BufferList) -> gst::PadProbeReturn {
        let Some(now) = self.live_now() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(capture) = self.capture_buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let mut reports = Vec::new();
        {
            let mut stream = lock(&self.stream);
            list.make_mut().foreach_mut(|mut buffer, _| {
                std::ops::ControlFlow::Continue(
                    match self.admit(&mut stream, &buffer, now, capture) {
                        Admission::Pass => Some(buffer),
                        Admission::Lost => None,
                        Admission::PassAfterLoss(report) => {
                            reports.push(report);
                            buffer.make_mut().set_flags(gst::BufferFlags::DISCONT);
                            Some(buffer)
                        }
                    },
                )
            });
        }
        for report in reports {
            self.post_loss(report);
        }
        if list.is_empty() {
            gst::PadProbeReturn::Drop
        } else {
            gst::PadProbeReturn::Ok
        }
    }

    fn model_capture(&self, info: &mut gst::PadProbeInfo) -> gst::PadProbeReturn {
        match &mut info.data {
            Some(gst::PadProbeData::Buffer(buffer)) => self.on_buffer(buffer),
            Some(gst::PadProbeData::BufferList(list)) => self.on_buffer_list(list),
            _ => gst::PadProbeReturn::Ok,
        }
    }

    /// The capture-buffer model runs for a source that may be live (known live, or not known);
    /// it needs no probe for a source known not to be live, nor for a network receiver: no
    /// device overwrites its data, its own elements lose what they lose (the socket buffer, a
    /// jitterbuffer with `drop-on-latency`) and the bin must not lose more.
    fn install_capture_model(&self) {
        let view = self.view();
        let mut probes = lock(&self.buffer_probes);
        if probes.capture_model.is_some() || view.live == Some(false) || view.chain.network {
            return;
        }
        gst::debug!(CAT, imp = self, "modelling the capture buffer");
        probes.capture_model = self.src_pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            |pad, info| match imp_of_pad(pad) {
                Some(bin) => bin.imp().model_capture(info),
                None => gst::PadProbeReturn::Ok,
            },
        );
    }

    fn remove_capture_model(&self) {
        if let Some(probe) = lock(&self.buffer_probes).capture_model.take() {
            self.src_pad.remove_probe(probe);
        }
    }

    fn reset_stream(&self) {
        *lock(&self.stream) = Stream::default();
        lock(&self.source_view).asked_this_segment = false;
        self.segment_offsetter.reset();
        self.offset_changed.store(false, Ordering::Relaxed);
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PushSrcBin {
    const NAME: &'static str = "GstPushSrcBin";
    type Type = super::PushSrcBin;
    type ParentType = gst::Bin;
    type Interfaces = (PushSource,);

    fn with_class(klass: &Self::Class) -> Self {
        let template = klass.pad_template("src").expect("src pad template");
        let src_pad = gst::GhostPad::builder_from_template(&template)
            .event_function(|pad, parent, event| {
                PushSrcBin::catch_panic_pad_function(
                    parent,
                    || false,
                    |bin| bin.src_event(pad, parent, event),
                )
            })
            .build();
        Self {
            src_pad,
            buffer_probes: Mutex::default(),
            settings: Mutex::new(Settings {
                extra_latency: DEFAULT_EXTRA_LATENCY,
                ts_offset: DEFAULT_TS_OFFSET,
                ..Settings::default()
            }),
            wrapped: Mutex::default(),
            stream: Mutex::default(),
            segment_offsetter: SegmentOffsetter::default(),
            offset_warning: OffsetWarning::default(),
            offset_changed: AtomicBool::new(false),
            source_view: Mutex::default(),
        }
    }
}

fn imp_of_pad(pad: &gst::GhostPad) -> Option<super::PushSrcBin> {
    pad.parent().and_then(|parent| parent.downcast().ok())
}

impl ObjectImpl for PushSrcBin {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecObject::builder::<gst::Element>("source")
                    .nick("Source")
                    .blurb(
                        "The source element to wrap (one without sink pads, with an always or \
                         sometimes src pad); set in NULL or READY. Reads back the wrapped \
                         element, also when it came from source-description",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecString::builder("source-description")
                    .nick("Source description")
                    .blurb(
                        "The source as a gst-launch description, e.g. \"v4l2src \
                         device=/dev/video0\" or \"videotestsrc is-live=true ! videoconvert\", \
                         parsed at each NULL→READY; set in NULL or READY. The last of source \
                         and source-description set is used",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt64::builder("extra-latency")
                    .nick("Extra latency")
                    .blurb(
                        "Latency in ns added to what the wrapped source reports, for a device \
                         whose driver does not report all of its delay; a change while \
                         playing posts a LATENCY message",
                    )
                    .maximum(time::MAX_DURATION_NS)
                    .default_value(DEFAULT_EXTRA_LATENCY.nseconds())
                    .mutable_playing()
                    .build(),
                properties::reported_latency(),
                properties::ts_offset(),
                properties::max_offset(),
                properties::push_source_flags(),
                properties::wrapped_is_live(),
                glib::ParamSpecBoolean::builder("network")
                    .nick("Network source")
                    .blurb("The wrapped source receives from the network")
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "source" => {
                if !self.source_may_change("source") {
                    return;
                }
                let source = value
                    .get::<Option<gst::Element>>()
                    .expect("type checked upstream");
                {
                    let mut settings = lock(&self.settings);
                    if source.is_some() {
                        settings.description = None;
                    }
                    settings.source = source;
                }
                lock(&self.wrapped).stale = true;
            }
            "source-description" => {
                if !self.source_may_change("source-description") {
                    return;
                }
                let description = value
                    .get::<Option<String>>()
                    .expect("type checked upstream");
                {
                    let mut settings = lock(&self.settings);
                    if description.is_some() {
                        settings.source = None;
                    }
                    settings.description = description;
                }
                lock(&self.wrapped).stale = true;
            }
            "extra-latency" => self.apply_extra_latency(ClockTime::from_nseconds(
                value.get().expect("type checked upstream"),
            )),
            "ts-offset" => {
                self.apply_ts_offset(value.get().expect("type checked upstream"));
            }
            "max-offset" => self.apply_max_offset(ClockTime::from_nseconds(
                value.get().expect("type checked upstream"),
            )),
            "push-source-flags" => self.set_flags(value.get().expect("type checked upstream")),
            name => unreachable!("unknown property {name}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "source" => {
                let set = lock(&self.settings).source.clone();
                set.or_else(|| lock(&self.wrapped).element.clone())
                    .to_value()
            }
            "source-description" => lock(&self.settings).description.to_value(),
            "extra-latency" => lock(&self.settings).extra_latency.nseconds().to_value(),
            "latency" => self
                .current_latency()
                .unwrap_or_else(|| lock(&self.settings).extra_latency)
                .nseconds()
                .to_value(),
            "ts-offset" => lock(&self.settings).ts_offset.to_value(),
            "max-offset" => self.max_offset().nseconds().to_value(),
            "push-source-flags" => self.reported_flags().to_value(),
            "is-live" => (!self.reported_flags().contains(PushSourceFlags::NOT_LIVE)).to_value(),
            "network" => self.view().chain.network.to_value(),
            name => unreachable!("unknown property {name}"),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        self.src_pad.add_probe(
            gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::EVENT_FLUSH,
            |pad, info| {
                if let Some(gst::PadProbeData::Event(event)) = &mut info.data
                    && let Some(bin) = imp_of_pad(pad)
                {
                    bin.imp().on_event(event);
                }
                gst::PadProbeReturn::Ok
            },
        );
        self.src_pad.add_probe(
            gst::PadProbeType::QUERY_UPSTREAM | gst::PadProbeType::PULL,
            |pad, info| {
                if let Some(gst::PadProbeData::Query(query)) = &mut info.data
                    && let gst::QueryViewMut::Latency(latency) = query.view_mut()
                    && let Some(bin) = imp_of_pad(pad)
                {
                    bin.imp().answer_latency(latency);
                }
                gst::PadProbeReturn::Ok
            },
        );
        obj.add_pad(&self.src_pad)
            .expect("a new bin has no src pad yet");
    }
}

impl GstObjectImpl for PushSrcBin {}

impl ElementImpl for PushSrcBin {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Push source bin",
                "Generic/Bin/Source",
                "Gives any source element (v4l2src, alsasrc, udpsrc, …) DirectShow push-source \
                 timing: reports its latency plus an extra latency, applies a stream offset to \
                 the running time of its output, and models a capture buffer of latency + \
                 max-offset that loses data when downstream blocks",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &gst::Caps::new_any(),
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
        match transition {
            gst::StateChange::NullToReady => {
                self.set_up_source()?;
                let offset = lock(&self.settings).ts_offset;
                let max_offset = self.max_offset();
                self.offset_warning
                    .post_pending(&*self.obj(), offset, max_offset);
                self.check_not_live_request();
            }
            gst::StateChange::ReadyToPaused => {
                let stale = lock(&self.wrapped).stale;
                if stale {
                    self.set_up_source()?;
                } else {
                    self.refresh_chain();
                }
                self.reset_stream();
            }
            _ => {}
        }
        let result = self.parent_change_state(transition);
        match (transition, result) {
            (gst::StateChange::ReadyToPaused, Ok(success)) => {
                // A live source does not preroll: the bin's answer says what the source is.
                match success {
                    gst::StateChangeSuccess::NoPreroll => self.note_wrapped_liveness(Some(true)),
                    gst::StateChangeSuccess::Success => self.note_wrapped_liveness(Some(false)),
                    gst::StateChangeSuccess::Async => {}
                }
                self.check_not_live_request();
                // A live source waits for PLAYING: the model is in place before its first buffer.
                self.install_capture_model();
            }
            (gst::StateChange::PausedToReady, _) => self.remove_capture_model(),
            (gst::StateChange::ReadyToNull, _) | (gst::StateChange::NullToReady, Err(_)) => {
                self.tear_down();
            }
            _ => {}
        }
        result
    }
}

impl BinImpl for PushSrcBin {}

impl PushSourceImpl for PushSrcBin {
    fn latency(&self) -> Option<ClockTime> {
        self.current_latency()
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
        self.max_offset()
    }

    fn set_max_stream_offset(&self, max_offset: ClockTime) {
        self.apply_max_offset(max_offset);
        self.obj().notify("max-offset");
    }

    fn push_source_flags(&self) -> PushSourceFlags {
        self.reported_flags()
    }

    fn set_push_source_flags(&self, flags: PushSourceFlags) {
        self.set_flags(flags);
        self.obj().notify("push-source-flags");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_on_the_senders_clock_is_a_private_clock_unless_the_flags_were_written() {
        let rm = PushSourceFlags::INTERNAL_RM;
        let senders = Some(ClockRelation::Sender);
        assert_eq!(
            flags_for_chain(rm, false, senders),
            rm | PushSourceFlags::PRIVATE_CLOCK
        );
        assert_eq!(flags_for_chain(rm, true, senders), rm);
        for on_the_graphs_clock in [ClockRelation::Receiver, ClockRelation::Shared] {
            assert_eq!(flags_for_chain(rm, false, Some(on_the_graphs_clock)), rm);
        }
        assert_eq!(flags_for_chain(rm, false, None), rm);
    }

    #[test]
    fn an_rtp_receiver_answers_at_least_its_configured_latency() {
        let receiver = ChainView {
            configured_latency: Some(ClockTime::from_mseconds(90)),
            live_inside: true,
            ..ChainView::default()
        };
        // rtpbin before its stream pads: "not live, 0".
        assert_eq!(
            receiver.wrapped_answer(false, ClockTime::ZERO),
            (true, ClockTime::from_mseconds(90))
        );
        // Flowing: the chain's own answer, which adds more than the jitterbuffer.
        assert_eq!(
            receiver.wrapped_answer(true, ClockTime::from_mseconds(110)),
            (true, ClockTime::from_mseconds(110))
        );
        let other = ChainView::default();
        assert_eq!(
            other.wrapped_answer(false, ClockTime::from_mseconds(5)),
            (false, ClockTime::from_mseconds(5))
        );
    }

    #[test]
    fn max_offset_follows_the_chains_buffering_until_set() {
        let mut view = SourceView {
            slack: Some(ClockTime::from_mseconds(70)),
            ..SourceView::default()
        };
        let mut settings = Settings::default();
        assert_eq!(
            effective_max_offset(&settings, &view),
            ClockTime::from_mseconds(70)
        );
        view.chain.buffering = Buffering::Bounded(ClockTime::from_mseconds(120));
        assert_eq!(
            effective_max_offset(&settings, &view),
            ClockTime::from_mseconds(120)
        );
        view.chain.buffering = Buffering::Unbounded;
        assert_eq!(
            effective_max_offset(&settings, &view).nseconds(),
            time::MAX_DURATION_NS
        );
        settings.max_offset = Some(ClockTime::from_mseconds(30));
        assert_eq!(
            effective_max_offset(&settings, &view),
            ClockTime::from_mseconds(30)
        );
    }
}
