//! Which reference `ratematch` matches rates against: the `mode` property, DirectShow's
//! renderer decision from the push-source flags for `auto` (SPEC section 3a), and the walks
//! through the pipeline that find the flags upstream and the audio sink's clock downstream.

use gst::glib;
use gst::prelude::*;

use crate::{PushSource, PushSourceExt, PushSourceFlags};

/// The `mode` property (`GstRateMatchMode`).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(i32)]
#[enum_type(name = "GstRateMatchMode")]
pub enum Mode {
    /// Decide from the push-source flags of the source upstream.
    #[default]
    #[enum_value(name = "Decide from the push-source flags upstream", nick = "auto")]
    Auto = 0,
    #[enum_value(
        name = "Input stamps are capture times on the pipeline clock",
        nick = "graph-clock"
    )]
    GraphClock = 1,
    #[enum_value(
        name = "Input stamps are on the device clock (private-clock)",
        nick = "timestamps"
    )]
    Timestamps = 2,
    #[enum_value(
        name = "Follow the clock of the audio sink downstream",
        nick = "sink-clock"
    )]
    SinkClock = 3,
}

/// What the element does with the stream, decided at each restart of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// Stamps are capture times on the pipeline clock; render at the nominal rate.
    GraphClock,
    /// Stamps are on the device clock; where they belong is learnt from arrival times.
    Timestamps,
    /// Stamps as for `GraphClock`; render at the rate of the sink's own clock.
    SinkClock,
    /// The source matches rates itself (`internal-rm`): buffers pass untouched.
    Source,
    /// The source is not live: buffers pass untouched.
    NotLive,
}

impl Reference {
    /// The `mode` field of the `rate-matching` message.
    pub fn name(self) -> &'static str {
        match self {
            Self::GraphClock => "graph-clock",
            Self::Timestamps => "timestamps",
            Self::SinkClock => "sink-clock",
            Self::Source => "source",
            Self::NotLive => "not-live",
        }
    }

    pub fn resamples(self) -> bool {
        matches!(self, Self::GraphClock | Self::Timestamps | Self::SinkClock)
    }
}

/// What the walks found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Surroundings {
    /// The flags of the first push source upstream, if there is one.
    pub upstream_flags: Option<PushSourceFlags>,
    /// The audio sink downstream provides a clock that is not the pipeline's.
    pub sink_clock_differs: bool,
}

/// The reference for `mode`, as DirectShow's audio renderer decided it (SPEC 3a): `not-live`
/// first (the source takes no part in rate matching at all, as in graphbin), `internal-rm`
/// (nobody else may match), `private-clock` (slave to the stamps), `use-stream-clock` (follow
/// the sink's clock when it is not the pipeline's), the graph clock otherwise. An explicit
/// `sink-clock` with no other clock downstream is the graph clock: the sink consumes at the
/// pipeline's rate.
pub fn decide(mode: Mode, surroundings: Surroundings) -> Reference {
    match mode {
        Mode::GraphClock => Reference::GraphClock,
        Mode::Timestamps => Reference::Timestamps,
        Mode::SinkClock if surroundings.sink_clock_differs => Reference::SinkClock,
        Mode::SinkClock => Reference::GraphClock,
        Mode::Auto => {
            let Some(flags) = surroundings.upstream_flags else {
                return Reference::GraphClock;
            };
            if flags.contains(PushSourceFlags::NOT_LIVE) {
                Reference::NotLive
            } else if flags.contains(PushSourceFlags::INTERNAL_RM) {
                Reference::Source
            } else if flags.contains(PushSourceFlags::PRIVATE_CLOCK) {
                Reference::Timestamps
            } else if flags.contains(PushSourceFlags::USE_STREAM_CLOCK)
                && surroundings.sink_clock_differs
            {
                Reference::SinkClock
            } else {
                Reference::GraphClock
            }
        }
    }
}

/// Pads visited at most by a walk: a guard against loops, far more than any real pipeline.
const MAX_STEPS: usize = 256;

/// The first element implementing `GstPushSource` upstream of `sinkpad`, through bins (a bin
/// implementing it, such as `pushsrcbin`, counts itself) and through every sink pad of the
/// elements on the way (a mixer: the first push source found wins).
pub fn upstream_push_source(sinkpad: &gst::Pad) -> Option<PushSource> {
    let mut pending = vec![sinkpad.peer()?];
    let mut steps = 0;
    while let Some(srcpad) = pending.pop() {
        steps += 1;
        if steps > MAX_STEPS {
            return None;
        }
        // The inside of a bin's src ghost pad: continue outside, from the ghost pad's peer.
        if let Some(ghost) = srcpad.parent().and_downcast::<gst::GhostPad>() {
            pending.extend(ghost.peer());
            continue;
        }
        let Some(element) = srcpad.parent_element() else {
            continue;
        };
        if let Ok(source) = element.clone().dynamic_cast::<PushSource>() {
            return Some(source);
        }
        if let Some(target) = srcpad
            .downcast_ref::<gst::GhostPad>()
            .and_then(|ghost| ghost.target())
        {
            pending.push(target);
            continue;
        }
        let mut sinkpads = element.sink_pads();
        sinkpads.reverse();
        pending.extend(sinkpads.iter().filter_map(|pad| pad.peer()));
    }
    None
}

/// The flags of the push source upstream of `sinkpad`.
pub fn upstream_flags(sinkpad: &gst::Pad) -> Option<PushSourceFlags> {
    upstream_push_source(sinkpad).map(|source| source.push_source_flags())
}

/// The clock provided by the first sink downstream of `srcpad` (following the first linked
/// src pad of each element, into and out of bins).
pub fn downstream_sink_clock(srcpad: &gst::Pad) -> Option<gst::Clock> {
    let mut pad = srcpad.peer()?;
    for _ in 0..MAX_STEPS {
        // The inside of a bin's src ghost pad: continue outside.
        if let Some(ghost) = pad.parent().and_downcast::<gst::GhostPad>() {
            pad = ghost.peer()?;
            continue;
        }
        if let Some(target) = pad
            .downcast_ref::<gst::GhostPad>()
            .and_then(|ghost| ghost.target())
        {
            pad = target;
            continue;
        }
        let element = pad.parent_element()?;
        if element.element_flags().contains(gst::ElementFlags::SINK) {
            return element.provide_clock();
        }
        pad = element.src_pads().iter().find_map(|pad| pad.peer())?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(flags: PushSourceFlags, sink_clock_differs: bool) -> Reference {
        decide(
            Mode::Auto,
            Surroundings {
                upstream_flags: Some(flags),
                sink_clock_differs,
            },
        )
    }

    #[test]
    fn auto_decides_as_directshows_renderer() {
        gst::init().unwrap();
        assert_eq!(auto(PushSourceFlags::empty(), false), Reference::GraphClock);
        assert_eq!(
            auto(PushSourceFlags::PRIVATE_CLOCK, true),
            Reference::Timestamps
        );
        assert_eq!(
            auto(PushSourceFlags::USE_STREAM_CLOCK, true),
            Reference::SinkClock
        );
        assert_eq!(
            auto(PushSourceFlags::USE_STREAM_CLOCK, false),
            Reference::GraphClock
        );
        assert_eq!(
            auto(
                PushSourceFlags::INTERNAL_RM | PushSourceFlags::PRIVATE_CLOCK,
                true
            ),
            Reference::Source
        );
        assert_eq!(
            auto(
                PushSourceFlags::NOT_LIVE | PushSourceFlags::INTERNAL_RM,
                false
            ),
            Reference::NotLive
        );
        assert_eq!(
            auto(PushSourceFlags::USE_CLOCK_CHAIN, true),
            Reference::GraphClock,
            "reserved: no effect"
        );
        assert_eq!(
            decide(Mode::Auto, Surroundings::default()),
            Reference::GraphClock,
            "no push source upstream"
        );
    }

    #[test]
    fn explicit_modes_ignore_the_flags() {
        let surroundings = Surroundings {
            upstream_flags: Some(PushSourceFlags::INTERNAL_RM),
            sink_clock_differs: false,
        };
        assert_eq!(
            decide(Mode::Timestamps, surroundings),
            Reference::Timestamps
        );
        assert_eq!(
            decide(Mode::SinkClock, surroundings),
            Reference::GraphClock,
            "the sink consumes at the pipeline clock's rate"
        );
        assert_eq!(
            decide(
                Mode::SinkClock,
                Surroundings {
                    sink_clock_differs: true,
                    ..surroundings
                }
            ),
            Reference::SinkClock
        );
    }
}
