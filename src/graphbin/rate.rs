//! Rate changes (IMediaSeeking::SetRate, SPEC section 3, rates): the one procedure behind
//! `set-rate`, a write of `rate`, a rate set before PAUSED and a seek event with a new rate.
//!
//! The pure pieces come first (which rates exist, the seek that changes the rate at a position,
//! what refuses one), then the procedure. It holds none of the bin's locks while it queries or
//! seeks, and posts and notifies once done; it serializes with the pipeline's state changes
//! through the state lock of the pipeline ([`super::workarounds::TopLevelStateLock`]), which is
//! GStreamer's own order for a seek.

use std::fmt;

use gst::ClockTime;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;

use super::imp::{CAT, GraphBin, lock};
use super::workarounds::{TopLevelStateLock, top_level};

pub const DEFAULT_RATE: f64 = 1.0;

/// Where a rate change came from. A refusal is posted as a WARNING whatever the request (the
/// signal and a seek also answer FALSE), so that the reason reaches the bus.
#[derive(Debug)]
pub enum Request {
    /// The `set-rate` action signal.
    Signal,
    /// A write of the `rate` property.
    Property,
    /// A rate set before PAUSED, applied once the graph has prerolled.
    Preroll,
    /// A seek event with a new rate, sent to the bin or to the pipeline holding it.
    Seek(gst::Event),
}

/// Why a rate change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 0, NaN or ±infinity.
    NotARate(f64),
    /// A rate the pitch keepers (`preserve-pitch`'s scaletempo) cannot stretch.
    PitchRange(f64),
    /// A live source inside: live graphs play at rate 1.0.
    Live(String),
    /// The seeking query said nothing inside can seek.
    NotSeekable,
    /// No element inside could tell the current position, so there is nothing to resume from.
    PositionUnknown,
    /// The seek with the new rate was refused; the old rate was restored at `position`.
    SeekRefused {
        rate: f64,
        restored: f64,
        position: ClockTime,
    },
}

impl Refusal {
    /// The `reason` field of the WARNING's details.
    pub fn nick(&self) -> &'static str {
        match self {
            Refusal::NotARate(_) => "not-a-rate",
            Refusal::PitchRange(_) => "pitch-range",
            Refusal::Live(_) => "live",
            Refusal::NotSeekable => "not-seekable",
            Refusal::PositionUnknown => "position-unknown",
            Refusal::SeekRefused { .. } => "seek-refused",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotARate(rate) => write!(
                f,
                "{rate} is not a playback rate: 0, NaN and infinities are refused"
            ),
            Refusal::PitchRange(rate) => write!(
                f,
                "preserve-pitch stretches audio by rates of {} to {} in magnitude, not {rate} \
                 (GStreamer 1.22's scaletempo crashes far beyond)",
                super::pitch::PITCH_KEPT_RATES.start(),
                super::pitch::PITCH_KEPT_RATES.end()
            ),
            Refusal::Live(source) => write!(
                f,
                "{source} is live: a live source cannot change its rate, so a graph holding one \
                 plays at rate 1.0"
            ),
            Refusal::NotSeekable => write!(f, "nothing inside the graph can seek"),
            Refusal::PositionUnknown => {
                write!(
                    f,
                    "no element inside the graph can tell the current position"
                )
            }
            Refusal::SeekRefused {
                rate,
                restored,
                position,
            } => write!(
                f,
                "an element refused the seek to rate {rate}; rate {restored} was restored at \
                 position {position}"
            ),
        }
    }
}

/// Whether `rate` is a playback rate: finite and not 0.
pub fn is_playback_rate(rate: f64) -> bool {
    rate.is_finite() && rate != 0.0
}

/// The flushing seek of SPEC section 3, rates item 2: play on from `position` at `rate`; for a
/// negative rate `position` is where reverse playback starts, the stop of the segment.
pub fn seek_to_rate(rate: f64, position: ClockTime) -> gst::Event {
    let flags = gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE;
    if rate > 0.0 {
        gst::event::Seek::new(
            rate,
            flags,
            gst::SeekType::Set,
            position,
            gst::SeekType::Set,
            ClockTime::NONE,
        )
    } else {
        gst::event::Seek::new(
            rate,
            flags,
            gst::SeekType::Set,
            ClockTime::ZERO,
            gst::SeekType::Set,
            position,
        )
    }
}

/// `seek` made flushing, same seqnum: the procedure flushes whatever the flags (a
/// non-flushing seek would wait for streaming threads that a prerolled sink holds).
pub fn flushing(seek: &gst::Event) -> gst::Event {
    let gst::EventView::Seek(view) = seek.view() else {
        return seek.clone();
    };
    let (rate, flags, start_type, start, stop_type, stop) = view.get();
    if flags.contains(gst::SeekFlags::FLUSH) {
        return seek.clone();
    }
    gst::event::Seek::builder(
        rate,
        flags | gst::SeekFlags::FLUSH,
        start_type,
        start,
        stop_type,
        stop,
    )
    .seqnum(seek.seqnum())
    .build()
}

/// The rate `event` asks for, when it is a seek.
pub fn rate_of_seek(event: &gst::Event) -> Option<f64> {
    match event.view() {
        gst::EventView::Seek(seek) => Some(seek.get().0),
        _ => None,
    }
}

/// Where playback resumes after `seek`: its start (its stop when reverse) when it sets one in
/// time, else `position`, where it was sent.
pub fn resume_position(seek: &gst::Event, position: ClockTime) -> ClockTime {
    seek_position(seek).unwrap_or(position)
}

/// The start (the stop when reverse) `seek` sets in time, if it sets one.
pub fn seek_position(seek: &gst::Event) -> Option<ClockTime> {
    let gst::EventView::Seek(seek) = seek.view() else {
        return None;
    };
    let (rate, _, start_type, start, stop_type, stop) = seek.get();
    let (seek_type, value) = if rate > 0.0 {
        (start_type, start)
    } else {
        (stop_type, stop)
    };
    match value.try_into() {
        Ok(Some(value)) if seek_type == gst::SeekType::Set => Some(value),
        _ => None,
    }
}

/// The first live source inside `bin`, recursively, whose liveness is known for sure: a
/// GstBaseSrc that says it is live. A source bin (`pushsrcbin`) is walked into: before it has
/// built its contents nothing inside tells, and the bin's preroll (NO_PREROLL) will.
pub fn live_source(bin: &gst::Bin) -> Option<gst::Element> {
    let children = super::graph::collect(bin.iterate_elements());
    for child in children {
        if let Some(source) = child.downcast_ref::<gst_base::BaseSrc>() {
            if source.is_live() {
                return Some(child);
            }
            continue;
        }
        if let Some(inner) = child.downcast_ref::<gst::Bin>()
            && let Some(live) = live_source(inner)
        {
            return Some(live);
        }
    }
    None
}

/// The first element inside `bin`, recursively, with a readable boolean `is-live` property set
/// (a source bin such as `pushsrcbin`, which speaks for its contents): what names the live
/// element once the bin's preroll said it is live.
fn says_live(bin: &gst::Bin) -> Option<gst::Element> {
    let children = super::graph::collect(bin.iterate_elements());
    for child in children {
        let readable_flag = child.find_property("is-live").is_some_and(|pspec| {
            pspec.value_type() == bool::static_type()
                && pspec.flags().contains(gst::glib::ParamFlags::READABLE)
        });
        if readable_flag && child.property::<bool>("is-live") {
            return Some(child);
        }
        if let Some(inner) = child.downcast_ref::<gst::Bin>()
            && let Some(live) = says_live(inner)
        {
            return Some(live);
        }
    }
    None
}

/// The graph's playback rate. Lives with the bin: a rate set before PAUSED waits for the run.
#[derive(Debug)]
pub(super) struct Rates {
    /// The rate the streams play at.
    pub applied: f64,
    /// A rate set before the graph prerolled (or the rate it played at before it stopped),
    /// applied once it has.
    pub pending: Option<f64>,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            applied: DEFAULT_RATE,
            pending: None,
        }
    }
}

impl Rates {
    /// What `rate` reads: the rate the graph plays, or will play once prerolled, at.
    pub fn current(&self) -> f64 {
        self.pending.unwrap_or(self.applied)
    }

    /// The rate the streams played at is set again at the next preroll: a stopped source
    /// starts over at rate 1.0.
    pub fn keep_for_next_preroll(&mut self) {
        if self.pending.is_none() && self.applied != DEFAULT_RATE {
            self.pending = Some(self.applied);
        }
        self.applied = DEFAULT_RATE;
    }
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
        /// A reverse rate at the preroll started from the current position, for want of a
        /// duration: a WARNING says so.
        end_unknown: bool,
    },
}

impl GraphBin {
    /// SPEC section 3, rates: the one procedure behind `set-rate`, a write of `rate`, a rate
    /// set before PAUSED and a seek event with a new rate. Returns whether the graph now plays
    /// at `rate`; a refusal is logged and posted as a WARNING with its reason.
    pub(super) fn change_rate(&self, rate: f64, request: Request) -> bool {
        let obj = self.obj();
        // Before any lock: a flush while the pipeline is still on its way back to PLAYING can
        // leave the graph PAUSED for good. Not for a seek event, whose sender holds a state
        // lock that the pipeline's way back needs; not while the preroll is held back, as the
        // pipeline waits for this change.
        let held = lock(&self.run)
            .as_ref()
            .is_some_and(|run| run.preroll.is_held());
        if !matches!(request, Request::Seek(_))
            && obj.current_state() >= gst::State::Paused
            && !held
        {
            self.await_settled();
        }
        // A seek event comes with the state lock its sender took; any other change takes the
        // pipeline's. What the change posts and notifies goes out after it is released: an
        // application reacting to it may ask for the next change at once.
        let (rate, outcome) = match request {
            Request::Seek(_) => self.try_change_rate(rate, &request),
            _ => {
                let _serial = TopLevelStateLock::acquire(obj.upcast_ref());
                self.try_change_rate(rate, &request)
            }
        };
        match outcome {
            Ok(Changed::Nothing) => true,
            Ok(Changed::Stored) => {
                obj.notify("rate");
                true
            }
            Ok(Changed::Applied {
                rate,
                notify,
                position,
                end_unknown,
            }) => {
                if matches!(request, Request::Seek(_)) {
                    self.check_not_left_behind();
                }
                if end_unknown {
                    self.post_reverse_from_position(rate, position);
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
                // The rate judged is dropped, not one the application set since.
                if matches!(request, Request::Preroll) {
                    let dropped = {
                        let mut rates = lock(&self.rates);
                        let judged = rates.pending.is_some_and(|pending| pending == rate);
                        if judged {
                            rates.pending = None;
                        }
                        judged
                    };
                    if dropped {
                        obj.notify("rate");
                    }
                }
                self.post_rate_refused(rate, &refusal);
                false
            }
        }
    }

    /// Stores `rate` for the preroll when the graph has not prerolled yet (and makes the
    /// preroll under way wait for it): `Some(whether `rate` reads another value)`; `None` once
    /// prerolled. One decision under the run's lock, so that a preroll completing meanwhile
    /// either sees the rate waiting or was seen.
    fn store_unless_prerolled(&self, rate: f64) -> Option<bool> {
        let mut run = lock(&self.run);
        if run.as_ref().is_some_and(|run| run.preroll.prerolled()) {
            return None;
        }
        let mut rates = lock(&self.rates);
        let changed = rates.current() != rate;
        rates.pending = (rate != rates.applied).then_some(rate);
        if rates.pending.is_some()
            && let Some(run) = run.as_mut()
        {
            run.preroll.rate_stored();
        }
        Some(changed)
    }

    /// `rate` is changed to, or refused with its reason: for the preroll, the rate waiting as
    /// it is now (the application may have changed it since the preroll was announced).
    fn try_change_rate(&self, rate: f64, request: &Request) -> (f64, Result<Changed, Refusal>) {
        let rate = match request {
            Request::Preroll => match lock(&self.rates).pending {
                Some(pending) => pending,
                None => return (rate, Ok(Changed::Nothing)),
            },
            _ => rate,
        };
        (rate, self.try_change_to(rate, request))
    }

    fn try_change_to(&self, rate: f64, request: &Request) -> Result<Changed, Refusal> {
        if !is_playback_rate(rate) {
            return Err(Refusal::NotARate(rate));
        }
        if !super::pitch::PITCH_KEPT_RATES.contains(&rate.abs()) && self.keeps_pitch() {
            return Err(Refusal::PitchRange(rate));
        }
        if rate != 1.0
            && let Some(live) = self.live_source()
        {
            return Err(Refusal::Live(live));
        }
        if let Request::Seek(event) = request
            && self.obj().current_state() < gst::State::Paused
        {
            // Before PAUSED only sources take seeks (to start with): not a rate change of the
            // graph, which rate= or set-rate would be.
            return if self.send_seek(event.clone()) {
                Ok(Changed::Nothing)
            } else {
                Err(Refusal::NotSeekable)
            };
        }
        if !matches!(request, Request::Seek(_) | Request::Preroll)
            && let Some(changed) = self.store_unless_prerolled(rate)
        {
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
        let last_seek = lock(&self.run).as_ref().and_then(|run| run.last_seek);
        // A reverse rate set before the graph started plays it backwards from its end, when
        // that is known; otherwise (and for any change while running) DirectShow's rule: from
        // the current position.
        let from_end = (matches!(request, Request::Preroll) && rate < 0.0).then(|| self.duration());
        let position = match from_end {
            Some(Some(duration)) => duration,
            _ => self
                .position()
                .or(last_seek)
                .ok_or(Refusal::PositionUnknown)?,
        };
        let end_unknown = from_end == Some(None);
        let seek = match request {
            Request::Seek(event) => flushing(event),
            _ => seek_to_rate(rate, position),
        };
        let resumes_at = resume_position(&seek, position);
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
            let restored = self.send_seek(seek_to_rate(previous, position));
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
        }
        self.seeked_to(Some(resumes_at));
        Ok(Changed::Applied {
            rate,
            notify: rate != previous,
            position: resumes_at,
            end_unknown,
        })
    }

    /// Sends `seek` to every stream inside, as GstBin does: to the sinks inside and in through
    /// the src ghost pads, which let it pass. Through `gst_element_send_event`, which holds the
    /// bin's state lock as for any seek.
    fn send_seek(&self, seek: gst::Event) -> bool {
        let seqnum = seek.seqnum();
        let position = seek_position(&seek);
        lock(&self.seeks).start_own(seqnum);
        let sent = self.obj().send_event(seek);
        lock(&self.seeks).end_own(seqnum);
        if sent {
            self.seeked_to(position);
        }
        sent
    }

    /// Keeps where a seek that went through resumed playback, for the position read right
    /// after a flush.
    fn seeked_to(&self, position: Option<ClockTime>) {
        if let Some(position) = position
            && let Some(run) = &mut *lock(&self.run)
        {
            run.last_seek = Some(position);
        }
    }

    /// A seek event with a new rate, through the procedure (once per event).
    fn seek_at_new_rate(&self, rate: f64, event: gst::Event) -> bool {
        let seqnum = event.seqnum();
        let answer = self.change_rate(rate, Request::Seek(event));
        lock(&self.seeks).handled(seqnum, answer);
        answer
    }

    /// The events that come upstream through a src ghost pad: a pipeline holding a bin whose
    /// streams leave it sends its seeks to the sinks outside, and they come in here.
    pub(super) fn src_pad_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        let forward = |event| gst::Pad::event_default(pad, Some(&*self.obj()), event);
        match rate_of_seek(&event) {
            Some(rate) => self.seek_on_its_way(rate, event, forward),
            None => forward(event),
        }
    }

    /// A seek on its way into the graph (sent to the bin, or upstream through a src ghost pad),
    /// passed on by `forward`: one with a new rate goes through the procedure, a copy of one it
    /// handled gets the same answer, and any other that went through is where a rate change
    /// right after it resumes.
    pub(super) fn seek_on_its_way(
        &self,
        rate: f64,
        event: gst::Event,
        forward: impl FnOnce(gst::Event) -> bool,
    ) -> bool {
        let (own, copy) = {
            let seeks = lock(&self.seeks);
            (
                seeks.is_own(event.seqnum()),
                seeks.answer_to_copy(event.seqnum()),
            )
        };
        if own {
            return forward(event);
        }
        if let Some(answer) = copy {
            return answer;
        }
        if rate != lock(&self.rates).current() {
            return self.seek_at_new_rate(rate, event);
        }
        let position = seek_position(&event);
        let sent = forward(event);
        if sent {
            self.seeked_to(position);
        }
        sent
    }

    /// The name of a live source inside, if there is one. Once PAUSED the bin's own state
    /// change told (NO_PREROLL), and the walk is needed only to name the source. Before PAUSED
    /// only a source whose liveness is known for sure counts (a live GstBaseSrc): a source bin
    /// that has not built its contents yet is judged at the preroll, where a refusal is posted.
    fn live_source(&self) -> Option<String> {
        let known = lock(&self.run).as_ref().and_then(|run| run.live);
        let bin = self.obj();
        let running = bin.current_state() >= gst::State::Paused;
        if running && known == Some(false) {
            return None;
        }
        if let Some(source) = live_source(bin.upcast_ref()) {
            return Some(source.name().to_string());
        }
        if !running {
            return None;
        }
        match says_live(bin.upcast_ref()) {
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
        top_level(obj.upcast_ref()).query_position::<ClockTime>()
    }

    /// The graph's duration in time, asked as [`Self::position`] asks the position.
    fn duration(&self) -> Option<ClockTime> {
        let obj = self.obj();
        if obj.element_flags().contains(gst::ElementFlags::SINK) {
            return obj.query_duration::<ClockTime>();
        }
        top_level(obj.upcast_ref()).query_duration::<ClockTime>()
    }

    fn post_reverse_from_position(&self, rate: f64, position: ClockTime) {
        let details = gst::Structure::builder("pushsource/reverse-from-position")
            .field("rate", rate)
            .field("position", position.nseconds())
            .build();
        gst::element_imp_warning!(
            self,
            gst::CoreError::Seek,
            (
                "Rate {rate} plays backwards from position {position}, not from the end: the \
                 duration is unknown"
            ),
            ["no duration to start reverse playback from; position {position}"],
            details: details
        );
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_rates() {
        for rate in [1.0, 2.0, -1.0, 0.5, -0.25, f64::MIN_POSITIVE, f64::MAX] {
            assert!(is_playback_rate(rate), "{rate}");
        }
        for rate in [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!is_playback_rate(rate), "{rate}");
        }
    }

    #[test]
    fn the_seek_starts_forward_playback_and_stops_reverse_playback_at_the_position() {
        gst::init().unwrap();
        let position = ClockTime::from_seconds(5);
        for (rate, expected_start, expected_stop) in [
            (2.0, Some(position), None),
            (-1.0, Some(ClockTime::ZERO), Some(position)),
        ] {
            let event = seek_to_rate(rate, position);
            let gst::EventView::Seek(seek) = event.view() else {
                unreachable!()
            };
            let (seek_rate, flags, start_type, start, stop_type, stop) = seek.get();
            assert_eq!(seek_rate, rate);
            assert!(flags.contains(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE));
            assert_eq!(
                (start_type, stop_type),
                (gst::SeekType::Set, gst::SeekType::Set)
            );
            assert_eq!(start.try_into(), Ok(expected_start));
            assert_eq!(stop.try_into(), Ok(expected_stop));
            assert_eq!(resume_position(&event, ClockTime::ZERO), position);
            assert_eq!(rate_of_seek(&event), Some(rate));
        }
    }

    #[test]
    fn a_seek_with_a_new_rate_is_made_flushing_and_keeps_its_seqnum() {
        gst::init().unwrap();
        let seek = gst::event::Seek::new(
            2.0,
            gst::SeekFlags::ACCURATE,
            gst::SeekType::Set,
            ClockTime::ZERO,
            gst::SeekType::None,
            ClockTime::NONE,
        );
        let flushing = flushing(&seek);
        assert_eq!(flushing.seqnum(), seek.seqnum());
        let gst::EventView::Seek(view) = flushing.view() else {
            unreachable!()
        };
        let (rate, flags, ..) = view.get();
        assert_eq!(rate, 2.0);
        assert_eq!(flags, gst::SeekFlags::ACCURATE | gst::SeekFlags::FLUSH);
    }

    #[test]
    fn a_seek_that_sets_no_position_resumes_where_it_was_sent() {
        gst::init().unwrap();
        let event = gst::event::Seek::new(
            2.0,
            gst::SeekFlags::FLUSH,
            gst::SeekType::None,
            ClockTime::ZERO,
            gst::SeekType::None,
            ClockTime::NONE,
        );
        let position = ClockTime::from_mseconds(1234);
        assert_eq!(resume_position(&event, position), position);
    }
}
