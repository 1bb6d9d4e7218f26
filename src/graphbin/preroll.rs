//! Holding back the preroll for a rate set before PAUSED (SPEC section 3, rates item 7).
//!
//! A rate set before the graph has prerolled is applied once it has, with a flushing seek made
//! from a GStreamer thread-pool thread; meanwhile the bin's ASYNC_DONE is held back, so that the
//! pipeline counts as prerolled (and gst-launch sets PLAYING) only once the graph plays at that
//! rate. [`Preroll`] is where one run (READY→PAUSED to PAUSED→READY) stands in that; its
//! transitions are plain values, the glue applies what they decide.

use gst::prelude::*;
use gst::subclass::prelude::*;

use super::imp::{GraphBin, lock};
use super::rate::Request;

/// Where the preroll of one run stands, for a rate waiting for it.
#[derive(Debug, Default)]
pub(super) enum Preroll {
    /// On the way to PAUSED, no rate waiting.
    #[default]
    Awaited,
    /// On the way to PAUSED with a rate waiting: the bin's ASYNC_DONE (or, for a bin without a
    /// parent, which posts none, its state change to PAUSED) sets it off.
    Holding,
    /// The bin's ASYNC_DONE, held back while the rate is applied. `lost`: the rate's flushing
    /// seek made the bin lose its preroll again, a new ASYNC_DONE follows and this one is void.
    Held {
        async_done: gst::Message,
        lost: bool,
    },
    /// Prerolled (or live): a rate applies at once.
    Done,
}

/// What the glue does with a message of the bin's own, as [`Preroll::on_own_message`] decides.
#[derive(Debug, PartialEq)]
pub(super) enum OnMessage {
    /// Post it.
    Post,
    /// Post it, then apply the waiting rate.
    PostThenApply,
    /// Keep it back (it is held) and apply the waiting rate.
    HoldAndApply,
}

impl Preroll {
    /// Whether a rate set now is applied at once rather than stored for the preroll.
    pub(super) fn prerolled(&self) -> bool {
        matches!(self, Preroll::Held { .. } | Preroll::Done)
    }

    pub(super) fn is_held(&self) -> bool {
        matches!(self, Preroll::Held { .. })
    }

    /// A rate was stored while the preroll is under way: it waits for it.
    pub(super) fn rate_stored(&mut self) {
        if matches!(self, Preroll::Awaited) {
            *self = Preroll::Holding;
        }
    }

    /// The bin's READY to PAUSED returned `result`: without ASYNC there is no preroll to wait
    /// for. Whether a waiting rate is to be applied now.
    pub(super) fn state_change_returned(
        &mut self,
        result: Result<gst::StateChangeSuccess, gst::StateChangeError>,
    ) -> bool {
        if result == Ok(gst::StateChangeSuccess::Async) {
            return false;
        }
        // The sinks inside prerolled before the change returned (NO_PREROLL, a live source
        // too): the ASYNC_DONE held back stays held for the rate already scheduled, which
        // releases it. Dropped here, the ASYNC_START the bin passed up was never answered and
        // the pipeline never reached PLAYING (stress seed 12653876109422363067).
        if self.is_held() {
            return false;
        }
        let holding = matches!(self, Preroll::Holding);
        *self = Preroll::Done;
        holding && result.is_ok()
    }

    /// A message the bin posts itself; `has_parent`: a bin without a parent posts no
    /// ASYNC_DONE of its own.
    pub(super) fn on_own_message(&mut self, message: &gst::Message, has_parent: bool) -> OnMessage {
        let holding = matches!(self, Preroll::Holding);
        match message.view() {
            gst::MessageView::AsyncDone(_) if holding && has_parent => {
                *self = Preroll::Held {
                    async_done: message.clone(),
                    lost: false,
                };
                OnMessage::HoldAndApply
            }
            gst::MessageView::AsyncDone(_) if matches!(self, Preroll::Awaited) => {
                *self = Preroll::Done;
                OnMessage::Post
            }
            gst::MessageView::AsyncStart(_) => {
                if let Preroll::Held { lost, .. } = self {
                    *lost = true;
                }
                OnMessage::Post
            }
            gst::MessageView::StateChanged(changed)
                if changed.current() == gst::State::Paused
                    && changed.pending() == gst::State::VoidPending
                    && matches!(self, Preroll::Awaited | Preroll::Holding)
                    && !(holding && has_parent) =>
            {
                *self = Preroll::Done;
                if holding {
                    OnMessage::PostThenApply
                } else {
                    OnMessage::Post
                }
            }
            _ => OnMessage::Post,
        }
    }

    /// The rate was applied (or refused): the ASYNC_DONE held back, unless a new preroll made
    /// it void, is the graph's to post now.
    pub(super) fn release(&mut self) -> Option<gst::Message> {
        match std::mem::replace(self, Preroll::Done) {
            Preroll::Held { async_done, lost } => (!lost).then_some(async_done),
            _ => None,
        }
    }
}

impl GraphBin {
    /// Applies the rate waiting for the preroll from a thread-pool thread: seeking from where
    /// the preroll completed could be seeking from a streaming thread.
    pub(super) fn schedule_pending_rate(&self) {
        self.obj().call_async(|bin| bin.imp().apply_pending_rate());
    }

    /// SPEC section 3, rates item 7: the rate set before PAUSED, once the graph has prerolled;
    /// then the ASYNC_DONE held back.
    fn apply_pending_rate(&self) {
        let pending = lock(&self.rates).pending;
        let in_run = lock(&self.run).is_some();
        if let Some(rate) = pending
            && in_run
        {
            self.change_rate(rate, Request::Preroll);
        }
        let held = lock(&self.run)
            .as_mut()
            .and_then(|run| run.preroll.release());
        // Nothing flushed (the rate was refused), or the flush prerolled again: the preroll
        // held back is the graph's. A bin that left PAUSED meanwhile has none to announce.
        if let Some(async_done) = held
            && self.obj().current_state() >= gst::State::Paused
        {
            self.parent_post_message(async_done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn async_done() -> gst::Message {
        gst::message::AsyncDone::new(gst::ClockTime::NONE)
    }

    #[test]
    fn a_rate_stored_during_the_preroll_holds_the_async_done_back() {
        gst::init().unwrap();
        let mut preroll = Preroll::Awaited;
        preroll.rate_stored();
        assert!(!preroll.prerolled());
        assert_eq!(
            preroll.on_own_message(&async_done(), true),
            OnMessage::HoldAndApply
        );
        assert!(preroll.prerolled() && preroll.is_held());
        assert!(preroll.release().is_some());
        assert!(matches!(preroll, Preroll::Done));
    }

    #[test]
    fn without_a_waiting_rate_the_async_done_passes() {
        gst::init().unwrap();
        let mut preroll = Preroll::Awaited;
        assert_eq!(preroll.on_own_message(&async_done(), true), OnMessage::Post);
        assert!(matches!(preroll, Preroll::Done));
        preroll.rate_stored();
        assert!(
            matches!(preroll, Preroll::Done),
            "prerolled: applies at once"
        );
    }

    #[test]
    fn a_new_preroll_voids_the_held_async_done() {
        gst::init().unwrap();
        let mut preroll = Preroll::Holding;
        preroll.on_own_message(&async_done(), true);
        let start = gst::message::AsyncStart::new();
        assert_eq!(preroll.on_own_message(&start, true), OnMessage::Post);
        assert_eq!(
            preroll.on_own_message(&async_done(), true),
            OnMessage::Post,
            "the new preroll's ASYNC_DONE passes"
        );
        assert!(preroll.release().is_none());
    }

    #[test]
    fn a_bin_without_a_parent_applies_at_its_state_change_to_paused() {
        gst::init().unwrap();
        let mut preroll = Preroll::Holding;
        assert_eq!(
            preroll.on_own_message(&async_done(), false),
            OnMessage::Post
        );
        let changed = gst::message::StateChanged::new(
            gst::State::Ready,
            gst::State::Paused,
            gst::State::VoidPending,
        );
        assert_eq!(
            preroll.on_own_message(&changed, false),
            OnMessage::PostThenApply
        );
        assert!(matches!(preroll, Preroll::Done));
    }

    #[test]
    fn an_async_done_held_during_the_change_stays_held_when_the_change_returns() {
        gst::init().unwrap();
        let mut preroll = Preroll::Holding;
        assert_eq!(
            preroll.on_own_message(&async_done(), true),
            OnMessage::HoldAndApply
        );
        assert!(!preroll.state_change_returned(Ok(gst::StateChangeSuccess::NoPreroll)));
        assert!(
            preroll.release().is_some(),
            "the rate scheduled with it posts the ASYNC_DONE held back"
        );
    }

    #[test]
    fn a_change_without_async_applies_at_once() {
        let mut preroll = Preroll::Holding;
        assert!(!preroll.state_change_returned(Ok(gst::StateChangeSuccess::Async)));
        assert!(preroll.state_change_returned(Ok(gst::StateChangeSuccess::NoPreroll)));
        let mut failed = Preroll::Holding;
        assert!(!failed.state_change_returned(Err(gst::StateChangeError)));
    }
}
