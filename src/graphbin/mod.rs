//! `graphbin`: DirectShow's Filter Graph Manager for the live push sources inside a bin.
//!
//! Whenever the pipeline computes its latency, the bin finds every live push source inside
//! (recursively, by the `GstPushSource` interface), groups the sources whose streams reach a
//! common sink, and with `sync-using-stream-offset` gives each group the stream offset
//! `Lmax − L(group)` (Lmax capped by `max-graph-latency`, 500 ms by default) and each of its
//! sinks the latency `PL − offset`: every stream is still rendered at `capture + PL`, and the
//! equalization is visible per source. Each source's `max-offset` becomes
//! `max(max-graph-latency, PL − its latency)`, so that no data is lost while it waits. It is meant to be a
//! child of a pipeline (the pipeline computes the latency and selects the clock).
//!
//! ```text
//! gst-launch-1.0 graphbin.\( sync-using-stream-offset=true \
//!     pushaudiotestsrc latency=33000000 ! fakesink sync=true \
//!     pushaudiotestsrc latency=500000000 ! fakesink sync=true \)
//! ```
//!
//! It also changes the playback rate of everything inside at once (DirectShow's
//! `IMediaSeeking::SetRate`), through the `set-rate` action signal, a write of `rate`, or a seek
//! event with a new rate: the bin reads the position, sends every stream a flushing seek to it at
//! the new rate, and the graph returns to the state it was in; the sinks scale time by `1/rate`.
//! 0, NaN, infinities and any rate but 1.0 on a graph holding a live source are refused (the
//! signal and a seek answer FALSE, and every refusal posts a WARNING with
//! `pushsource/rate-refused` details); if an element refuses the seek, the old rate is restored
//! at the same position. A success posts a `rate-changed` element message. A rate set before
//! PAUSED is applied once the graph has prerolled (a negative one from the end), and
//! `preserve-pitch` puts `scaletempo` in front of the audio sinks so that the pitch does not
//! change with the speed.
//!
//! ```text
//! gst-launch-1.0 graphbin.\( rate=2.0 \
//!     pushaudiotestsrc is-live=false num-buffers=50 ! fakesink sync=true \)
//! ```

use gst::glib;
use gst::prelude::*;

mod equalize;
mod graph;
mod imp;
mod membership;
mod pitch;
mod preroll;
mod properties;
mod rate;
mod rate_matching;
mod sink_feeders;
mod workarounds;

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
