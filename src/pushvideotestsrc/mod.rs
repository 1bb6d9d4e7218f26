//! `pushvideotestsrc`: a live (or non-live) raw video test source with DirectShow push-source
//! timing.
//!
//! It simulates a capture device, exactly as `pushaudiotestsrc` does: a frame captured at running
//! time `c` is pushed at `c + latency` (never before it is fully captured: one frame at least),
//! its output running time is shifted by `ts-offset`, and a capture buffer of
//! `latency + max-offset` loses the oldest frames when downstream blocks for longer than that.
//! Each frame shows moving colour bars and, in its top left corner, its frame number as a grid of
//! black and white cells (see [`pattern`]).
//!
//! `drift` (ppm) gives the simulated camera a clock of its own, `1 + drift·10⁻⁶` times as fast as
//! the pipeline clock: frame `n` is captured at `start + n/(rate·k)` on the pipeline clock and
//! still shows number `n`; the push-source flags say what the stamps are, as for
//! `pushaudiotestsrc` (README, "Device clock drift").
//!
//! ```text
//! gst-launch-1.0 pushvideotestsrc latency=100000000 num-buffers=100 ! \
//!     video/x-raw,width=640,height=480,framerate=30000/1001 ! videoconvert ! autovideosink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;
pub(crate) mod pattern;

glib::wrapper! {
    /// The `pushvideotestsrc` element.
    pub struct PushVideoTestSrc(ObjectSubclass<imp::PushVideoTestSrc>)
        @extends crate::pushtestsrc::PushTestSrc, gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object,
        @implements crate::PushSource;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "pushvideotestsrc",
        gst::Rank::NONE,
        PushVideoTestSrc::static_type(),
    )
}
