//! `pushaudiotestsrc`: a live (or non-live) audio test source with DirectShow push-source timing.
//!
//! It simulates a capture device: a buffer captured at running time `c` is pushed at
//! `c + latency` (never before its last sample is captured), its output running time is shifted
//! by `ts-offset`, and a capture buffer of `latency + max-offset` loses the oldest data when
//! downstream blocks for longer than that.
//!
//! `drift` (ppm) gives the simulated device a clock of its own, `1 + drift·10⁻⁶` times as fast as
//! the pipeline clock: it captures its rate per second of that clock and samples a signal
//! defined in pipeline time (a sine at `freq` Hz on the pipeline clock) at its own instants; the
//! push-source flags say what the stamps are (capture times on the pipeline clock, the device
//! clock with `private-clock`, the nominal grid with `internal-rm`, the device clock provided as
//! the pipeline's with `use-stream-clock`). See the README, "Device clock drift".
//!
//! ```text
//! gst-launch-1.0 pushaudiotestsrc latency=100000000 ts-offset=50000000 num-buffers=100 ! \
//!     audioconvert ! autoaudiosink
//! ```

use gst::glib;
use gst::prelude::*;

mod imp;
pub(crate) mod wave;

pub use wave::Wave;

glib::wrapper! {
    /// The `pushaudiotestsrc` element.
    pub struct PushAudioTestSrc(ObjectSubclass<imp::PushAudioTestSrc>)
        @extends crate::pushtestsrc::PushTestSrc, gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object,
        @implements crate::PushSource;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    Wave::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "pushaudiotestsrc",
        gst::Rank::NONE,
        PushAudioTestSrc::static_type(),
    )
}
