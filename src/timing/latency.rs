//! The LATENCY answer of a push source (SPEC section 2 rule 1) and the LATENCY message that
//! tells the pipeline to ask again.

use gst::ClockTime;
use gst::prelude::*;

use crate::time;

/// What a push source answers to the LATENCY query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyAnswer {
    pub live: bool,
    pub min: ClockTime,
    pub max: ClockTime,
}

impl LatencyAnswer {
    /// `min` is the latency; `max` adds the buffering capacity `max-offset` (saturating).
    pub fn new(live: bool, latency: ClockTime, max_offset: ClockTime) -> Self {
        Self {
            live,
            min: latency,
            max: time::saturating_add(latency, max_offset),
        }
    }

    pub fn apply(&self, query: &mut gst::query::Latency) {
        query.set(self.live, self.min, self.max);
    }
}

/// Posts a LATENCY message when `element` is running (in PAUSED or PLAYING): the pipeline asks
/// every source again and redistributes the latency. To call with no lock of ours held.
pub fn post_latency_if_running(element: &impl IsA<gst::Element>, cat: gst::DebugCategory) {
    let element = element.upcast_ref::<gst::Element>();
    if element.current_state() >= gst::State::Paused {
        gst::debug!(cat, obj = element, "latency changed, posting LATENCY");
        let _ = element.post_message(gst::message::Latency::builder().src(element).build());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_is_latency_plus_max_offset_and_saturates() {
        gst::init().unwrap();
        let answer = LatencyAnswer::new(
            true,
            ClockTime::from_mseconds(40),
            ClockTime::from_mseconds(200),
        );
        assert_eq!(answer.max, ClockTime::from_mseconds(240));
        let huge = LatencyAnswer::new(false, ClockTime::MAX, ClockTime::MAX);
        assert_eq!(huge.max, ClockTime::MAX);
        assert!(!huge.live);
    }
}
