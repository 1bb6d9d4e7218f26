//! `pushsrcbin`: gives any GStreamer source element DirectShow push-source timing.
//!
//! The bin wraps one source, given as an element (`source`) or as a launch description
//! (`source-description`, parsed at each NULL→READY), and exposes its output on an always `src`
//! ghost pad. On that pad it answers the LATENCY query with the wrapped source's own `min` plus
//! `extra-latency`, applies `ts-offset` to the running time of everything that passes, and models
//! a capture buffer of `latency + max-offset` for a live source: data that waited longer than that
//! is dropped, the next buffer is flagged DISCONT and a QOS message reports the loss.
//!
//! ```text
//! gst-launch-1.0 pushsrcbin source-description="v4l2src device=/dev/video0" \
//!     extra-latency=40000000 ts-offset=20000000 ! videoconvert ! autovideosink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;
mod network;

glib::wrapper! {
    /// The `pushsrcbin` element.
    pub struct PushSrcBin(ObjectSubclass<imp::PushSrcBin>)
        @extends gst::Bin, gst::Element, gst::Object,
        @implements gst::ChildProxy, crate::PushSource;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "pushsrcbin",
        gst::Rank::NONE,
        PushSrcBin::static_type(),
    )
}
