//! Every GStreamer 1.22 behaviour the bin works around, each with the upstream behaviour it
//! answers, so that it can be dropped when the floor moves; and the one place the bin takes a
//! GStreamer state lock itself.
//!
//! - [`TopLevelStateLock`]: a rate change serializes with the pipeline's state changes.
//! - [`GraphBin::await_settled`]: a flush while the pipeline is on its way back to PLAYING.
//! - [`GraphBin::left_behind`] / [`GraphBin::catch_up`]: a bin that lost its state inside a
//!   pipeline on its way back to PLAYING stays PAUSED.
//! - [`GraphBin::prerolled_again`]: GstBin commits a lost state without an ASYNC_DONE.
//! - [`GraphBin::pass_on_late_async_done`]: GstBin keeps a child's late ASYNC_DONE to itself.
//! - [`Seeks`]: GstPipeline sends one seek to each of its sinks, so the same event can reach
//!   the bin several times.

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::imp::{CAT, GraphBin, lock};

/// How long a rate change waits for the graph to be back in its state after the change before.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The state lock (`GST_STATE_LOCK`, recursive) of the outermost element holding the bin,
/// held for a scope.
///
/// Works around: in GStreamer 1.22 a flushing seek makes the sinks post ASYNC_START/ASYNC_DONE
/// in the seeking thread, and GstPipeline answers them there by recomputing its latency, which
/// takes the pipeline's state lock. A seek sent to the bin from a thread that holds only the
/// bin's state lock (what `gst_element_send_event` takes) therefore deadlocks against a pipeline
/// that holds its own and sends LATENCY to the bin on its way to PLAYING (issue 10, defect 3).
/// Taking the pipeline's lock first keeps GStreamer's order (parent before child); it also makes
/// a state change wait for the seek instead of running through it.
pub(super) struct TopLevelStateLock(gst::Element);

impl TopLevelStateLock {
    pub(super) fn acquire(bin: &gst::Element) -> Self {
        let top = top_level(bin);
        // SAFETY: the guard owns a reference to the element, whose lock lives as long as it.
        unsafe {
            glib::ffi::g_rec_mutex_lock(&mut (*top.as_ptr()).state_lock);
        }
        Self(top)
    }
}

impl Drop for TopLevelStateLock {
    fn drop(&mut self) {
        // SAFETY: locked by `acquire` in this thread.
        unsafe {
            glib::ffi::g_rec_mutex_unlock(&mut (*self.0.as_ptr()).state_lock);
        }
    }
}

/// The outermost element holding `element` (usually the pipeline), or `element` itself.
pub(super) fn top_level(element: &gst::Element) -> gst::Element {
    let mut top = element.clone();
    while let Some(parent) = top.parent().and_then(|p| p.downcast::<gst::Element>().ok()) {
        top = parent;
    }
    top
}

/// The seeks on their way through the bin that it must recognise.
///
/// Works around: GstPipeline (like GstBin) sends a seek to each of its sinks, so a pipeline
/// holding a bin whose streams leave it can hand the bin the same event once per sink inside
/// and per src ghost pad; the procedure must handle it once and give the copies its answer.
#[derive(Debug, Default)]
pub(super) struct Seeks {
    /// The seeks the bin itself is sending: they pass its src ghost pads as they are.
    own: Vec<gst::Seqnum>,
    /// The last seek with a new rate the procedure handled, and its answer.
    handled: Option<(gst::Seqnum, bool)>,
}

impl Seeks {
    pub(super) fn start_own(&mut self, seqnum: gst::Seqnum) {
        self.own.push(seqnum);
    }

    pub(super) fn end_own(&mut self, seqnum: gst::Seqnum) {
        if let Some(index) = self.own.iter().position(|own| *own == seqnum) {
            self.own.swap_remove(index);
        }
    }

    pub(super) fn is_own(&self, seqnum: gst::Seqnum) -> bool {
        self.own.contains(&seqnum)
    }

    pub(super) fn handled(&mut self, seqnum: gst::Seqnum, answer: bool) {
        self.handled = Some((seqnum, answer));
    }

    /// The answer already given to this seek, when it is a copy of one the procedure handled.
    pub(super) fn answer_to_copy(&self, seqnum: gst::Seqnum) -> Option<bool> {
        self.handled
            .filter(|(handled, _)| *handled == seqnum)
            .map(|(_, answer)| answer)
    }
}

impl GraphBin {
    /// Waits until the pipeline is back in the state it was in after the last flushing seek.
    ///
    /// Works around: GStreamer 1.22 commits the bin's lost state while the pipeline believes it
    /// is PLAYING, so a flush while the pipeline is still on its way back to PLAYING can leave
    /// it PAUSED for good. Gives up after [`SETTLE_TIMEOUT`] (a graph that cannot preroll),
    /// saying so in the log. Called with no lock held: the continuation it waits for takes the
    /// pipeline's state lock.
    pub(super) fn await_settled(&self) {
        let top = top_level(self.obj().upcast_ref());
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

    /// Whether the bin got its preroll back after a flushing seek but stays PAUSED under a
    /// PLAYING pipeline.
    ///
    /// Works around: GStreamer 1.22 loses the way back to PLAYING when a bin inside a pipeline
    /// loses its state while the pipeline is itself on its way back to PLAYING (a seek sent to
    /// the bin right after the one before). The last state change asked of the bin was to
    /// PLAYING, so this is not a bin an application paused on purpose.
    pub(super) fn left_behind(&self) -> bool {
        let obj = self.obj();
        let Some(parent) = obj.parent().and_then(|p| p.downcast::<gst::Element>().ok()) else {
            return false;
        };
        let asked_to_play = lock(&self.run)
            .as_ref()
            .is_some_and(|run| run.asked_to_play);
        asked_to_play
            && obj.current_state() == gst::State::Paused
            && obj.pending_state() == gst::State::VoidPending
            && parent.current_state() == gst::State::Playing
            && parent.pending_state() == gst::State::VoidPending
    }

    /// Brings a bin [`left_behind`](Self::left_behind) back to its parent's state.
    pub(super) fn catch_up(&self) {
        if self.left_behind() {
            gst::debug!(
                CAT,
                imp = self,
                "prerolled again under a playing pipeline: playing on"
            );
            let _ = self.obj().sync_state_with_parent();
        }
    }

    /// Whether the bin's own `message` says it has its preroll (back).
    ///
    /// Works around: GstBin does not always announce the commit of a lost state with an
    /// ASYNC_DONE; a state change to PAUSED with nothing pending tells as well.
    pub(super) fn prerolled_again(message: &gst::Message) -> bool {
        match message.view() {
            gst::MessageView::AsyncDone(_) => true,
            gst::MessageView::StateChanged(changed) => {
                changed.current() == gst::State::Paused
                    && changed.pending() == gst::State::VoidPending
            }
            _ => false,
        }
    }

    /// Posts the ASYNC_DONE that GstBin kept to itself when a child's ASYNC_DONE it has just
    /// handled (`running_time` its running time) found the bin with nothing pending and no
    /// child still prerolling. Called from `handle_message` with no lock held; `posted`: the
    /// bin posted an ASYNC_DONE of its own while it handled the child's.
    ///
    /// Works around: GStreamer 1.22's GstBin passes every ASYNC_START of a child up to its
    /// parent, but not an ASYNC_DONE that arrives once the bin's own change is over
    /// (gstbin.c `bin_handle_async_done`, "nothing pending"). A graph holding a live source
    /// (NO_PREROLL) and a sink that prerolls after the graph's change to PAUSED returned thus
    /// leaves its ASYNC_START with the pipeline for good, and the pipeline's next change that
    /// is ASYNC (to PLAYING, with a sink outside fed by the live source) never completes
    /// (examples/bin_late_async_done.rs shows it with a plain `bin`). GStreamer 1.23.1 posts
    /// it (commit dfa8661334, "bin: Fix bin won't post async done message to parent while
    /// nothing pending in state changing"); this does the same, under the same conditions.
    pub(super) fn pass_on_late_async_done(&self, running_time: Option<ClockTime>, posted: bool) {
        if posted || !self.nothing_pending_nor_prerolling() {
            return;
        }
        gst::debug!(
            CAT,
            imp = self,
            "a child prerolled after the bin's change: passing its ASYNC_DONE on"
        );
        let obj = self.obj();
        let message = gst::message::AsyncDone::builder()
            .running_time(running_time)
            .src(&*obj)
            .build();
        let _ = obj.post_message(message);
    }

    /// GstBin's own test for "nothing pending", made as it makes it (under the object lock): the
    /// bin is not changing state, its change did not fail, its target is PAUSED or above, and no
    /// child's ASYNC_START is still waiting for its ASYNC_DONE.
    fn nothing_pending_nor_prerolling(&self) -> bool {
        let obj = self.obj();
        let bin = obj.upcast_ref::<gst::Bin>();
        let _object_lock = bin.object_lock();
        // SAFETY: the fields are read under the object lock, as GstBin reads and writes them;
        // the messages in the list are owned by the bin while it is held.
        unsafe {
            let raw: *mut gst::ffi::GstBin = bin.as_ptr();
            let element = &(*raw).element;
            if (*raw).polling != glib::ffi::GFALSE
                || element.pending_state != gst::ffi::GST_STATE_VOID_PENDING
                || element.last_return == gst::ffi::GST_STATE_CHANGE_FAILURE
                || element.target_state <= gst::ffi::GST_STATE_READY
            {
                return false;
            }
            let mut link = (*raw).messages;
            while !link.is_null() {
                let message = (*link).data as *const gst::ffi::GstMessage;
                if (*message).type_ == gst::ffi::GST_MESSAGE_ASYNC_START {
                    return false;
                }
                link = (*link).next;
            }
        }
        true
    }

    /// After a seek sent to the bin itself (which holds only the bin's state lock), checks on
    /// a thread-pool thread, once everything has settled, that the graph did not stay behind.
    pub(super) fn check_not_left_behind(&self) {
        self.obj().call_async(|bin| {
            bin.imp().await_settled();
            bin.imp().catch_up();
        });
    }
}
