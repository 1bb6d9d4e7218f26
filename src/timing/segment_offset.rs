//! `ts-offset` as every push source applies it: to the running time of its output, through the
//! SEGMENT events it sends (the mechanism of `gst_pad_set_offset`, with saturating arithmetic
//! that always leaves a valid segment), and sent again when it changes (SPEC section 2 rule 3).

use std::sync::Mutex;

use gst::ClockTime;

use super::lock;
use crate::time::saturating_add;

/// The last SEGMENT a pad sent, kept as it was before the offset so that the offset can be applied
/// to it again whenever it changes.
#[derive(Debug, Default)]
pub struct SegmentOffsetter {
    output: Mutex<OutputSegment>,
}

#[derive(Debug, Default)]
struct OutputSegment {
    original: Option<(gst::FormattedSegment<ClockTime>, gst::Seqnum)>,
    applied_offset: i64,
}

impl SegmentOffsetter {
    fn output(&self) -> std::sync::MutexGuard<'_, OutputSegment> {
        lock(&self.output)
    }

    /// For a TIME SEGMENT event on its way downstream: the event with `offset` applied (None when
    /// it goes on unchanged). Any other event is left alone.
    pub fn offset_event(&self, event: &gst::Event, offset: i64) -> Option<gst::Event> {
        let gst::EventView::Segment(segment_event) = event.view() else {
            return None;
        };
        let segment = segment_event.segment().downcast_ref::<ClockTime>()?.clone();
        {
            let mut output = self.output();
            output.original = Some((segment.clone(), event.seqnum()));
            output.applied_offset = offset;
        }
        if offset == 0 {
            return None;
        }
        let shifted = offset_segment(&segment, offset);
        Some(
            gst::event::Segment::builder(&shifted)
                .seqnum(event.seqnum())
                .build(),
        )
    }

    /// The original SEGMENT to send again (through [`Self::offset_event`]) when the offset to
    /// apply is no longer the one the last segment carries.
    pub fn update_event(&self, offset: i64) -> Option<gst::Event> {
        let output = self.output();
        if output.applied_offset == offset {
            return None;
        }
        let (segment, seqnum) = output.original.as_ref()?;
        Some(
            gst::event::Segment::builder(segment)
                .seqnum(*seqnum)
                .build(),
        )
    }

    /// Forgets the last segment (a seek or a restart will send a new one).
    pub fn forget(&self) {
        self.output().original = None;
    }

    pub fn reset(&self) {
        *self.output() = OutputSegment::default();
    }
}

/// Shifts the running time of everything in `segment` by `offset`, the way
/// `gst_segment_offset_running_time()` (and so `gst_pad_set_offset()`) does, but saturating:
/// a positive offset is added to `base`; a negative one is taken from `base` first and the rest
/// moves the segment's `offset` field, so positions whose running time would be negative fall
/// outside the segment instead of wrapping around.
///
/// Where `gst_segment_offset_running_time()` fails for an offset larger than the segment, this
/// saturates it so that the segment stays valid for every GStreamer function: reverse, `offset`
/// never passes `stop` (`gst_segment_to_running_time_full` asserts `stop >= offset`); forward,
/// `start + offset` never passes the largest clock time. Every position of such a segment then
/// has a negative running time, as the offset asks.
pub fn offset_segment(
    segment: &gst::FormattedSegment<ClockTime>,
    offset: i64,
) -> gst::FormattedSegment<ClockTime> {
    let mut shifted = segment.clone();
    let base = segment.base().unwrap_or(ClockTime::ZERO);
    if offset >= 0 {
        shifted.set_base(saturating_add(
            base,
            ClockTime::from_nseconds(offset as u64),
        ));
        return shifted;
    }
    let shift = ClockTime::from_nseconds(offset.unsigned_abs());
    if base >= shift {
        shifted.set_base(base - shift);
        return shifted;
    }
    shifted.set_base(ClockTime::ZERO);
    let remaining_running_time = (shift - base).nseconds() as f64;
    let position_shift = remaining_running_time * segment.rate().abs();
    let position_shift = if position_shift >= ClockTime::MAX.nseconds() as f64 {
        ClockTime::MAX
    } else {
        ClockTime::from_nseconds(position_shift as u64)
    };
    let current = segment.offset().unwrap_or(ClockTime::ZERO);
    shifted.set_offset(saturating_add(current, position_shift).min(largest_offset(segment)));
    shifted
}

/// The largest `offset` field `segment` can carry and stay valid.
fn largest_offset(segment: &gst::FormattedSegment<ClockTime>) -> ClockTime {
    match segment.stop() {
        Some(stop) if segment.rate() < 0.0 => stop,
        _ => ClockTime::MAX.saturating_sub(segment.start().unwrap_or(ClockTime::ZERO)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(rate: f64) -> gst::FormattedSegment<ClockTime> {
        let mut segment = gst::FormattedSegment::<ClockTime>::new();
        segment.set_rate(rate);
        segment.set_start(ClockTime::ZERO);
        segment.set_stop(ClockTime::from_seconds(100));
        segment
    }

    #[test]
    fn positive_offset_moves_base() {
        gst::init().unwrap();
        let shifted = offset_segment(&segment(1.0), 5_000);
        let pts = ClockTime::from_seconds(2);
        assert_eq!(
            shifted.to_running_time(pts),
            Some(pts + ClockTime::from_nseconds(5_000))
        );
        assert_eq!(
            offset_segment(&segment(1.0), i64::MAX).base(),
            Some(ClockTime::from_nseconds(i64::MAX as u64))
        );
    }

    #[test]
    fn negative_offset_beyond_base_clips_instead_of_wrapping() {
        gst::init().unwrap();
        let mut with_base = segment(1.0);
        with_base.set_base(ClockTime::from_seconds(1));
        let shifted = offset_segment(&with_base, -3_000_000_000);
        assert_eq!(shifted.base(), Some(ClockTime::ZERO));
        assert_eq!(
            shifted.to_running_time(ClockTime::from_seconds(5)),
            Some(ClockTime::from_seconds(3))
        );
        assert_eq!(shifted.to_running_time(ClockTime::from_seconds(1)), None);

        let extreme = offset_segment(&segment(1.0), i64::MIN);
        assert_eq!(extreme.to_running_time(ClockTime::from_seconds(99)), None);
    }

    #[test]
    fn negative_offset_scales_with_rate() {
        gst::init().unwrap();
        let shifted = offset_segment(&segment(2.0), -1_000_000_000);
        // 1 s of running time at rate 2.0 is 2 s of position.
        assert_eq!(
            shifted.to_running_time(ClockTime::from_seconds(4)),
            Some(ClockTime::from_seconds(1))
        );
        let reverse = offset_segment(&segment(-1.0), -1_000_000_000);
        assert_eq!(
            reverse.to_running_time(ClockTime::from_seconds(98)),
            Some(ClockTime::from_seconds(1))
        );
    }

    #[test]
    fn negative_offset_beyond_a_reverse_segment_keeps_it_valid() {
        gst::init().unwrap();
        // A reverse segment of 23 s with 30 s to take: offset would pass stop.
        let mut reverse = segment(-1.0);
        reverse.set_stop(ClockTime::from_seconds(23));
        let shifted = offset_segment(&reverse, -30_000_000_000);
        assert_eq!(shifted.offset(), Some(ClockTime::from_seconds(23)));
        assert_eq!(shifted.to_running_time(ClockTime::from_seconds(10)), None);
        assert_eq!(
            shifted.to_running_time_full(ClockTime::from_seconds(10)),
            Some(gst::Signed::Negative(ClockTime::from_seconds(10)))
        );
        let extreme = offset_segment(&reverse, i64::MIN);
        assert_eq!(extreme.offset(), Some(ClockTime::from_seconds(23)));
    }

    #[test]
    fn negative_offset_at_a_high_rate_never_wraps_start_plus_offset() {
        gst::init().unwrap();
        let mut forward = segment(4.0);
        forward.set_start(ClockTime::from_seconds(5));
        forward.set_stop(None::<ClockTime>);
        let shifted = offset_segment(&forward, i64::MIN);
        let start_plus_offset = shifted.start().unwrap().nseconds() as u128
            + shifted.offset().unwrap().nseconds() as u128;
        assert!(start_plus_offset <= ClockTime::MAX.nseconds() as u128);
        assert_eq!(shifted.to_running_time(ClockTime::from_seconds(6)), None);
    }
}
