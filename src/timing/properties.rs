//! The properties of SPEC section 2, defined once: every push source installs these, so names,
//! types, ranges, defaults, blurbs and mutability cannot drift between elements.

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;

use crate::push_source::PushSourceFlags;
use crate::time;

pub const DEFAULT_TS_OFFSET: i64 = 0;
/// SPEC section 2: the default maximum stream offset.
pub const DEFAULT_MAX_OFFSET: ClockTime = ClockTime::from_mseconds(200);

/// `ts-offset`: any gint64, settable in any state, effective from the next buffer.
pub fn ts_offset() -> glib::ParamSpec {
    glib::ParamSpecInt64::builder("ts-offset")
        .nick("Stream offset")
        .blurb(
            "Stream offset in ns added to the running time of all output \
             (IAMPushSource::SetStreamOffset); effective from the next buffer",
        )
        .default_value(DEFAULT_TS_OFFSET)
        .mutable_playing()
        .build()
}

/// `max-offset`: the buffering capacity beyond the latency, settable in any state (a change
/// while running posts a LATENCY message).
pub fn max_offset() -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder("max-offset")
        .nick("Maximum stream offset")
        .blurb(
            "Largest stream offset in ns the source can buffer: the capture buffer \
             holds latency + max-offset (IAMPushSource::SetMaxStreamOffset)",
        )
        .maximum(time::MAX_DURATION_NS)
        .default_value(DEFAULT_MAX_OFFSET.nseconds())
        .mutable_playing()
        .build()
}

/// `push-source-flags`: settable in any state; every element stores and reports the flags as
/// set, except `not-live` where the element's liveness cannot change (a running test source, a
/// wrapped source that is what it is): that part of the write is refused with a WARNING. The
/// flags that decide what a test source's stamps are (`private-clock`, `internal-rm`,
/// `use-stream-clock`) take effect at its next buffer, a DISCONT when its stamp jumps.
pub fn push_source_flags() -> glib::ParamSpec {
    glib::ParamSpecFlags::builder::<PushSourceFlags>("push-source-flags")
        .nick("Push source flags")
        .blurb("DirectShow push-source flags (IAMPushSource::SetPushSourceFlags)")
        .mutable_playing()
        .build()
}

/// `latency` of a simulated capture device, settable (a change while running posts a LATENCY
/// message). `default` is one buffer at the element's default format.
pub fn simulated_latency(default: ClockTime) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder("latency")
        .nick("Latency")
        .blurb(
            "Simulated device latency in ns: a buffer captured at running time c is \
             pushed at c + latency. Never less than one buffer's duration, which is \
             what reading it returns when less (or 0) was asked for",
        )
        .maximum(time::MAX_DURATION_NS)
        .default_value(default.nseconds())
        .mutable_playing()
        .build()
}

/// `latency` of an element that reports what it wraps (read-only).
pub fn reported_latency() -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder("latency")
        .nick("Latency")
        .blurb(
            "The latency in ns the bin reports (IAMLatency::GetLatency): the wrapped \
             source's LATENCY min + extra-latency, from its last answer \
             (extra-latency alone before it has answered)",
        )
        .maximum(u64::MAX - 1)
        .read_only()
        .build()
}

/// `is-live` of a source whose liveness is a setting (NULL or READY only).
pub fn settable_is_live(default: bool) -> glib::ParamSpec {
    glib::ParamSpecBoolean::builder("is-live")
        .nick("Is live")
        .blurb("Act as a live source (the inverse of the not-live push-source flag)")
        .default_value(default)
        .mutable_ready()
        .build()
}

/// `is-live` of an element whose liveness is its wrapped source's (read-only).
pub fn wrapped_is_live() -> glib::ParamSpec {
    glib::ParamSpecBoolean::builder("is-live")
        .nick("Is live")
        .blurb(
            "Whether the wrapped source is live (the inverse of the not-live flag); \
             true until the source is known",
        )
        .default_value(true)
        .read_only()
        .build()
}

/// What a write of `requested` flags becomes when the element's liveness is `fixed` (it cannot
/// change now): `not-live` keeps following the liveness, every other bit is taken as asked.
/// The second value says whether `not-live` was refused.
pub fn flags_with_fixed_liveness(
    requested: PushSourceFlags,
    fixed: Option<bool>,
) -> (PushSourceFlags, bool) {
    let Some(live) = fixed else {
        return (requested, false);
    };
    let mut flags = requested;
    flags.set(PushSourceFlags::NOT_LIVE, !live);
    (flags, flags != requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_liveness_keeps_not_live_and_takes_the_other_bits() {
        let asked = PushSourceFlags::NOT_LIVE | PushSourceFlags::INTERNAL_RM;
        assert_eq!(flags_with_fixed_liveness(asked, None), (asked, false));
        assert_eq!(
            flags_with_fixed_liveness(asked, Some(true)),
            (PushSourceFlags::INTERNAL_RM, true)
        );
        assert_eq!(
            flags_with_fixed_liveness(asked, Some(false)),
            (asked, false)
        );
        assert_eq!(
            flags_with_fixed_liveness(PushSourceFlags::empty(), Some(false)),
            (PushSourceFlags::NOT_LIVE, true)
        );
    }
}
