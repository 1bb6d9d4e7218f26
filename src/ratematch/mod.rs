//! `ratematch`: continuous rate matching for a live audio stream (SPEC section 3a).
//!
//! An audio filter (same caps on both sides: interleaved F32LE, S32LE or S16LE, any rate and
//! channel count) that outputs a contiguous stream at the nominal rate — no gaps, no overlaps,
//! no DISCONT, output frame `k` at running time `out0 + k/rate` — and resamples it with a
//! band-limited interpolator whose ratio a control loop steers, so that each output frame
//! carries the input that belongs at the time it stands for. Nothing is dropped or repeated and
//! nothing jumps: the correction is spread over every sample.
//!
//! The reference (`mode`):
//! - `graph-clock`: input stamps are capture times on the pipeline clock; render at the
//!   nominal rate on the pipeline clock.
//! - `timestamps`: input stamps are on the device's own clock (`private-clock`); where they
//!   belong on the pipeline clock is learnt from arrival times minus the upstream latency.
//! - `sink-clock`: the audio sink downstream provides a clock other than the pipeline's and
//!   consumes at its rate; the element follows that clock.
//! - `auto` (default): DirectShow's renderer decision from the push-source flags of the push
//!   source upstream (`internal-rm` and `not-live`: buffers pass untouched).
//!
//! Two loops do it (`control.rs`): a delay-locked loop learns where the input belongs from one
//! pair per buffer (frame count and stamp, stamp and arrival time, or the two clocks), which
//! smooths their jitter, and a critically damped PI loop of `bandwidth` Hz (0.2 by default:
//! locked within 5 s) steers the resampler's ratio so that its read position meets that place.
//! After 10 s locked both narrow their bandwidth fourfold to track with less jitter, and widen
//! again when the offset leaves ±1 ms. A flush, a new segment or a DISCONT restarts them (the
//! first output buffer after is flagged DISCONT); a caps change drains the resampler and goes
//! on where the output stopped, keeping what was learnt.
//!
//! It reports `drift` (ppm: the input's rate relative to the rate it is rendered at) and
//! `offset` (ns: how much later the input the output plays belongs than the time it stands
//! for) as read-only properties and, about once a second and at each start, in an element
//! message `rate-matching` (`mode`, `drift`, `offset`, `locked`: within ±1 ms for the last
//! second). A ratio beyond ±5 % (±50 000 ppm) posts one WARNING naming the ratio needed and
//! holds the clamp. The resampler's wait for input is added to LATENCY answers. Negative rates
//! pass through untouched. Put the audio sink's `slave-method` to `none`, or the sink corrects
//! the drift a second time:
//!
//! ```text
//! gst-launch-1.0 alsasrc ! audioconvert ! ratematch mode=graph-clock ! \
//!     alsasink device=hw:1 slave-method=none
//! ```

use gst::glib;
use gst::prelude::*;

mod control;
mod imp;
mod matcher;
mod message;
mod mode;
mod reference;
mod resampler;
mod samples;

pub use mode::Mode;

glib::wrapper! {
    /// The `ratematch` element.
    pub struct RateMatch(ObjectSubclass<imp::RateMatch>) @extends gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    Mode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "ratematch",
        gst::Rank::NONE,
        RateMatch::static_type(),
    )
}
