//! The pieces of a rate change (IMediaSeeking::SetRate) that do not depend on the bin's state:
//! which rates exist, the seek that changes the rate at a position, and what refuses one.

use std::fmt;

use gst::ClockTime;
use gst::prelude::*;
use gst_base::prelude::*;

pub const DEFAULT_RATE: f64 = 1.0;

/// Where a rate change came from: a refused one answers differently (the signal and a seek
/// return FALSE, a property write, having no return value, posts a WARNING).
#[derive(Debug)]
pub enum Request {
    /// The `set-rate` action signal.
    Signal,
    /// A write of the `rate` property.
    Property,
    /// A rate set before PAUSED, applied once the graph has prerolled.
    Preroll,
    /// A seek event with a new rate, sent to the bin or to the pipeline holding it.
    Seek(gst::Event),
}

impl Request {
    /// Whether a refusal must be posted as a WARNING: nobody gets a return value.
    pub fn warns(&self) -> bool {
        matches!(self, Request::Property | Request::Preroll)
    }
}

/// Why a rate change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 0, NaN or ±infinity.
    NotARate(f64),
    /// A live source inside: live graphs play at rate 1.0.
    Live(String),
    /// The seeking query said nothing inside can seek.
    NotSeekable,
    /// No element inside could tell the current position, so there is nothing to resume from.
    PositionUnknown,
    /// The seek with the new rate was refused; the old rate was restored at `position`.
    SeekRefused {
        rate: f64,
        restored: f64,
        position: ClockTime,
    },
}

impl Refusal {
    /// The `reason` field of the WARNING's details.
    pub fn nick(&self) -> &'static str {
        match self {
            Refusal::NotARate(_) => "not-a-rate",
            Refusal::Live(_) => "live",
            Refusal::NotSeekable => "not-seekable",
            Refusal::PositionUnknown => "position-unknown",
            Refusal::SeekRefused { .. } => "seek-refused",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotARate(rate) => write!(
                f,
                "{rate} is not a playback rate: 0, NaN and infinities are refused"
            ),
            Refusal::Live(source) => write!(
                f,
                "{source} is live: a live source cannot change its rate, so a graph holding one \
                 plays at rate 1.0"
            ),
            Refusal::NotSeekable => write!(f, "nothing inside the graph can seek"),
            Refusal::PositionUnknown => {
                write!(
                    f,
                    "no element inside the graph can tell the current position"
                )
            }
            Refusal::SeekRefused {
                rate,
                restored,
                position,
            } => write!(
                f,
                "an element refused the seek to rate {rate}; rate {restored} was restored at \
                 position {position}"
            ),
        }
    }
}

/// Whether `rate` is a playback rate: finite and not 0.
pub fn is_playback_rate(rate: f64) -> bool {
    rate.is_finite() && rate != 0.0
}

/// The flushing seek of SPEC section 3, rates item 2: play on from `position` at `rate`; for a
/// negative rate `position` is where reverse playback starts, the stop of the segment.
pub fn seek_to_rate(rate: f64, position: ClockTime) -> gst::Event {
    let flags = gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE;
    if rate > 0.0 {
        gst::event::Seek::new(
            rate,
            flags,
            gst::SeekType::Set,
            position,
            gst::SeekType::Set,
            ClockTime::NONE,
        )
    } else {
        gst::event::Seek::new(
            rate,
            flags,
            gst::SeekType::Set,
            ClockTime::ZERO,
            gst::SeekType::Set,
            position,
        )
    }
}

/// The rate `event` asks for, when it is a seek.
pub fn rate_of_seek(event: &gst::Event) -> Option<f64> {
    match event.view() {
        gst::EventView::Seek(seek) => Some(seek.get().0),
        _ => None,
    }
}

/// Where playback resumes after `seek`: its start (its stop when reverse) when it sets one in
/// time, else `position`, where it was sent.
pub fn resume_position(seek: &gst::Event, position: ClockTime) -> ClockTime {
    seek_position(seek).unwrap_or(position)
}

/// The start (the stop when reverse) `seek` sets in time, if it sets one.
pub fn seek_position(seek: &gst::Event) -> Option<ClockTime> {
    let gst::EventView::Seek(seek) = seek.view() else {
        return None;
    };
    let (rate, _, start_type, start, stop_type, stop) = seek.get();
    let (seek_type, value) = if rate > 0.0 {
        (start_type, start)
    } else {
        (stop_type, stop)
    };
    match value.try_into() {
        Ok(Some(value)) if seek_type == gst::SeekType::Set => Some(value),
        _ => None,
    }
}

/// The first live source inside `bin`, recursively: a GstBaseSrc that says it is live, or an
/// element with a boolean `is-live` property set (a source bin such as `pushsrcbin`, which
/// speaks for its contents).
pub fn live_source(bin: &gst::Bin) -> Option<gst::Element> {
    let children = super::graph::collect(bin.iterate_elements());
    for child in children {
        if let Some(source) = child.downcast_ref::<gst_base::BaseSrc>() {
            if source.is_live() {
                return Some(child);
            }
            continue;
        }
        let says_live = child
            .find_property("is-live")
            .filter(|pspec| {
                pspec.value_type() == bool::static_type()
                    && pspec.flags().contains(gst::glib::ParamFlags::READABLE)
            })
            .map(|_| child.property::<bool>("is-live"));
        match says_live {
            Some(true) => return Some(child),
            Some(false) => continue,
            None => {}
        }
        if let Some(inner) = child.downcast_ref::<gst::Bin>()
            && let Some(live) = live_source(inner)
        {
            return Some(live);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_rates() {
        for rate in [1.0, 2.0, -1.0, 0.5, -0.25, f64::MIN_POSITIVE, f64::MAX] {
            assert!(is_playback_rate(rate), "{rate}");
        }
        for rate in [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!is_playback_rate(rate), "{rate}");
        }
    }

    #[test]
    fn the_seek_starts_forward_playback_and_stops_reverse_playback_at_the_position() {
        gst::init().unwrap();
        let position = ClockTime::from_seconds(5);
        for (rate, expected_start, expected_stop) in [
            (2.0, Some(position), None),
            (-1.0, Some(ClockTime::ZERO), Some(position)),
        ] {
            let event = seek_to_rate(rate, position);
            let gst::EventView::Seek(seek) = event.view() else {
                unreachable!()
            };
            let (seek_rate, flags, start_type, start, stop_type, stop) = seek.get();
            assert_eq!(seek_rate, rate);
            assert!(flags.contains(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE));
            assert_eq!(
                (start_type, stop_type),
                (gst::SeekType::Set, gst::SeekType::Set)
            );
            assert_eq!(start.try_into(), Ok(expected_start));
            assert_eq!(stop.try_into(), Ok(expected_stop));
            assert_eq!(resume_position(&event, ClockTime::ZERO), position);
            assert_eq!(rate_of_seek(&event), Some(rate));
        }
    }

    #[test]
    fn a_seek_that_sets_no_position_resumes_where_it_was_sent() {
        gst::init().unwrap();
        let event = gst::event::Seek::new(
            2.0,
            gst::SeekFlags::FLUSH,
            gst::SeekType::None,
            ClockTime::ZERO,
            gst::SeekType::None,
            ClockTime::NONE,
        );
        let position = ClockTime::from_mseconds(1234);
        assert_eq!(resume_position(&event, position), position);
    }
}
