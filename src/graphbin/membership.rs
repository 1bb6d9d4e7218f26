//! Elements that come and go while the graph runs: push sources joining (handed
//! `max-graph-latency`, equalized once they play), elements leaving (given back the offset and
//! `slave-method` the bin took over), and the new latency computation either asks for.

use gst::prelude::*;
use gst::subclass::prelude::*;

use super::graph;
use super::imp::{CAT, GraphBin, lock};
use super::rate_matching;
use crate::push_source::{PushSource, PushSourceExt};

/// The element and, for a bin, everything inside it: a bin added or removed whole signals only
/// itself.
fn with_descendants(element: &gst::Element) -> Vec<gst::Element> {
    let mut elements = vec![element.clone()];
    if let Some(bin) = element.downcast_ref::<gst::Bin>() {
        let contents = graph::Contents::of(bin);
        elements.extend(contents.sources);
        elements.extend(contents.sinks);
    }
    elements
}

impl GraphBin {
    /// With sync, `max-graph-latency` handed to `sources` as their `max-offset` before they
    /// run (SPEC section 3, latency item 4; DirectShow's SetMaxStreamOffset when
    /// SyncUsingStreamOffset is turned on); each equalization then sizes the live ones for the
    /// wait their sinks impose. The bin takes their own values over, to give them back.
    pub(super) fn hand_max_graph_latency(&self, sources: &[gst::Element]) {
        let settings = *lock(&self.settings);
        let max = settings.max_graph_latency;
        if !settings.sync_using_stream_offset || max.is_zero() {
            return;
        }
        for element in sources {
            let Some(source) = element.dynamic_cast_ref::<PushSource>() else {
                continue;
            };
            let own = source.max_stream_offset();
            lock(&self.equalizer)
                .taken_over_max
                .entry(element.clone())
                .or_insert(own);
            if own != max {
                source.set_max_stream_offset(max);
            }
        }
    }

    /// What the bin knows about its contents is void.
    fn contents_changed(&self) {
        if let Some(run) = &mut *lock(&self.run) {
            run.live = None;
            run.quiet = None;
        }
    }

    pub(super) fn element_added(&self, element: &gst::Element) {
        self.contents_changed();
        if self.obj().current_state() < gst::State::Paused {
            return;
        }
        let sources: Vec<gst::Element> = with_descendants(element)
            .into_iter()
            .filter(|element| element.is::<PushSource>())
            .collect();
        self.hand_max_graph_latency(&sources);
        if let Some(run) = &mut *lock(&self.run) {
            run.joining.extend(sources);
        }
    }

    pub(super) fn element_removed(&self, element: &gst::Element) {
        self.contents_changed();
        let mut matters = false;
        for element in with_descendants(element) {
            let slave_method = lock(&self.run).as_mut().and_then(|run| {
                run.joining.remove(&element);
                run.sink_offsets.retain(|(sink, _)| *sink != element);
                run.slave_methods.remove(&element)
            });
            let (original, original_max) = {
                let mut equalizer = lock(&self.equalizer);
                (
                    equalizer.taken_over.remove(&element),
                    equalizer.taken_over_max.remove(&element),
                )
            };
            if let Some(source) = element.dynamic_cast_ref::<PushSource>() {
                if let Some(offset) = original {
                    source.set_stream_offset(offset);
                }
                if let Some(max_offset) = original_max {
                    source.set_max_stream_offset(max_offset);
                }
            }
            if let Some(method) = slave_method {
                rate_matching::set_slave_methods(vec![(element.clone(), method)]);
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
    pub(super) fn source_joined(&self, message: &gst::Message) -> bool {
        let Some(element) = message
            .src()
            .and_then(|src| src.downcast_ref::<gst::Element>())
        else {
            return false;
        };
        // Every element's way to PLAYING comes here: no hashing while none is joining.
        let joined = lock(&self.run)
            .as_mut()
            .is_some_and(|run| !run.joining.is_empty() && run.joining.remove(element));
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

    pub(super) fn post_latency_message(&self) {
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Latency::builder().src(&*obj).build());
    }
}
