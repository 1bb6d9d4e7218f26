//! `graphbin`: DirectShow's Filter Graph Manager for the live push sources inside a bin.
//!
//! Whenever the pipeline computes its latency, the bin finds every live push source inside
//! (recursively, by the `GstPushSource` interface), groups the sources whose streams reach a
//! common sink, and with `sync-using-stream-offset` gives each group the stream offset
//! `Lmax − L(group)` and each of its sinks the latency `PL − offset`: every stream is still
//! rendered at `capture + PL`, and the equalization is visible per source. It is meant to be a
//! child of a pipeline (the pipeline computes the latency and selects the clock).
//!
//! ```text
//! gst-launch-1.0 graphbin.\( sync-using-stream-offset=true \
//!     pushaudiotestsrc latency=33000000 ! fakesink sync=true \
//!     pushaudiotestsrc latency=500000000 ! fakesink sync=true \)
//! ```

use gst::glib;
use gst::prelude::*;

mod graph;
mod imp;
mod pitch;
mod rate;

glib::wrapper! {
    /// The `graphbin` element.
    pub struct GraphBin(ObjectSubclass<imp::GraphBin>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "graphbin",
        gst::Rank::NONE,
        GraphBin::static_type(),
    )
}
