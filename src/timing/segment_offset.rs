//! `ts-offset` as every push source applies it: to the running time of its output, through the
//! SEGMENT events it sends (the mechanism of `gst_pad_set_offset`, with saturating arithmetic
//! that always leaves a valid segment), and sent again when it changes (SPEC section 2 rule 3).
//!
//! A negative offset gives the first positions negative running times. `gst_pad_set_offset`
//! leaves them inside the segment, where `gst_segment_to_running_time` answers -1 for them, and
//! elements that assume a buffer inside its segment has a running time abort (`compositor`:
//! `gst_video_aggregator_fill_queues: assertion failed: (start_running_time != -1 && …)`, with
//! a plain `gst_pad_set_offset` on `videotestsrc` too). The segment we send therefore starts
//! where running time 0 falls: every position inside it keeps its exact shifted running time,
//! and what lies before it is outside the segment, which every element clips (a buffer
//! straddling it is cut at running time 0, a buffer wholly before it dropped downstream).

use std::sync::Mutex;

use gst::ClockTime;

use super::lock;
use crate::time::{clamp_nsecs, saturating_add};

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
        let shifted = exclude_negative_running_time(&offset_segment(&segment, offset));
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

/// `segment` with the same running time for every position whose running time is not negative,
/// and those whose running time is negative left outside it: forward, the start moves up to where
/// running time 0 falls; in reverse, the stop moves down to it. The segment's `offset` and `base`
/// become 0 (running time 0 is now at its edge) and its `time` follows the edge that moved, so
/// that stream times are unchanged too. When running time 0 lies beyond the other edge (an
/// offset larger than the whole segment), both edges meet there: everything in the original
/// segment is outside. A segment with no negative running time is returned unchanged.
pub fn exclude_negative_running_time(
    segment: &gst::FormattedSegment<ClockTime>,
) -> gst::FormattedSegment<ClockTime> {
    let rate = segment.rate().abs();
    let offset = nanos(segment.offset());
    let base_as_position = scale(nanos(segment.base()), rate);
    // Running time is `base + (distance from the edge − offset) / rate`: negative for the first
    // `offset − base × rate` of the segment.
    if offset <= base_as_position {
        return segment.clone();
    }
    let negative_span = offset - base_as_position;
    let start = nanos(segment.start());
    let mut clipped = segment.clone();
    clipped.set_offset(ClockTime::ZERO);
    clipped.set_base(ClockTime::ZERO);
    if segment.rate() > 0.0 {
        let new_start = clamp_nsecs(start + negative_span);
        clipped.set_start(new_start);
        if segment.stop().is_some_and(|stop| stop < new_start) {
            clipped.set_stop(new_start);
        }
        if segment
            .position()
            .is_some_and(|position| position < new_start)
        {
            clipped.set_position(new_start);
        }
        let moved = new_start.nseconds() as u128 - start;
        if segment.applied_rate() > 0.0 {
            shift_time(&mut clipped, segment, moved, true);
        } else if let Some(stop) = segment.stop().filter(|stop| *stop < new_start) {
            shift_time(
                &mut clipped,
                segment,
                (new_start - stop).nseconds() as u128,
                false,
            );
        }
    } else {
        let Some(stop) = segment.stop().or_else(|| {
            segment
                .duration()
                .map(|duration| saturating_add(clamp_nsecs(start), duration))
        }) else {
            // No running time at all without an end to count it from: nothing to exclude.
            return segment.clone();
        };
        let stop = stop.nseconds() as u128;
        let new_stop = stop.saturating_sub(negative_span);
        clipped.set_stop(clamp_nsecs(new_stop));
        if start > new_stop {
            clipped.set_start(clamp_nsecs(new_stop));
        }
        if segment
            .position()
            .is_some_and(|position| position.nseconds() as u128 > new_stop)
        {
            clipped.set_position(clamp_nsecs(new_stop));
        }
        if segment.applied_rate() > 0.0 {
            shift_time(&mut clipped, segment, start.saturating_sub(new_stop), false);
        } else {
            shift_time(&mut clipped, segment, stop - new_stop, true);
        }
    }
    clipped
}

/// Moves `clipped`'s stream time at its reference edge by `distance` of position (scaled by the
/// applied rate), later when `later`, saturating.
fn shift_time(
    clipped: &mut gst::FormattedSegment<ClockTime>,
    segment: &gst::FormattedSegment<ClockTime>,
    distance: u128,
    later: bool,
) {
    let Some(time) = segment.time() else {
        return;
    };
    let distance = scale(distance, segment.applied_rate().abs());
    let time = time.nseconds() as u128;
    clipped.set_time(clamp_nsecs(if later {
        time + distance
    } else {
        time.saturating_sub(distance)
    }));
}

fn nanos(time: Option<ClockTime>) -> u128 {
    time.unwrap_or(ClockTime::ZERO).nseconds() as u128
}

/// `nanos × rate`, exact at rate 1.0.
fn scale(nanos: u128, rate: f64) -> u128 {
    if rate == 1.0 {
        nanos
    } else {
        // Saturates at both ends, as float-to-integer casts do.
        (nanos as f64 * rate) as u128
    }
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

    /// Every position of `original` whose running time after `offset` is not negative keeps it
    /// exactly, inside the segment sent; every other one lies outside it.
    fn assert_only_negative_running_times_excluded(
        original: &gst::FormattedSegment<ClockTime>,
        offset: i64,
    ) {
        let sent = exclude_negative_running_time(&offset_segment(original, offset));
        let (start, stop) = (original.start().unwrap(), original.stop().unwrap());
        let step = ((stop - start).nseconds() / 200).max(1);
        for position in (start.nseconds()..=stop.nseconds()).step_by(step as usize) {
            let position = ClockTime::from_nseconds(position);
            let from_edge = if original.rate() > 0.0 {
                position - start
            } else {
                stop - position
            };
            let exact = (from_edge.nseconds() as f64 / original.rate().abs()) as i128
                + original.base().unwrap().nseconds() as i128
                + offset as i128;
            let inside = sent.start().unwrap() <= position && sent.stop().unwrap() >= position;
            if exact < 0 {
                assert!(!inside, "{offset} at {position}: {sent:?}");
                continue;
            }
            assert!(inside, "{offset} at {position}: {sent:?}");
            let running_time = sent.to_running_time(position).unwrap().nseconds() as i128;
            assert!(
                (running_time - exact).abs() <= 1,
                "{offset} at {position}: {running_time} for {exact}"
            );
            assert_eq!(
                sent.to_stream_time(position),
                original.to_stream_time(position),
                "stream time unchanged"
            );
        }
    }

    #[test]
    fn negative_running_times_fall_outside_the_segment() {
        gst::init().unwrap();
        for rate in [1.0, 2.0, 0.5, -1.0, -2.0] {
            for base in [0, 3_000_000_000] {
                let mut original = segment(rate);
                original.set_start(ClockTime::from_seconds(10));
                original.set_time(ClockTime::from_seconds(7));
                original.set_base(ClockTime::from_nseconds(base));
                for offset in [
                    0,
                    -10_000_000,
                    -2_999_999_999,
                    -5_000_000_000,
                    -45_000_000_000,
                    -89_999_999_999,
                    -200_000_000_000,
                    -(1 << 62),
                    i64::MIN,
                    10_000_000,
                ] {
                    assert_only_negative_running_times_excluded(&original, offset);
                }
            }
        }
    }

    #[test]
    fn negative_offset_moves_the_start_to_running_time_zero() {
        gst::init().unwrap();
        let mut live = segment(1.0);
        live.set_stop(None::<ClockTime>);
        let sent = exclude_negative_running_time(&offset_segment(&live, -10_000_000));
        assert_eq!(sent.start(), Some(ClockTime::from_mseconds(10)));
        assert_eq!(sent.time(), Some(ClockTime::from_mseconds(10)));
        assert_eq!(
            (sent.offset(), sent.base()),
            (Some(ClockTime::ZERO), Some(ClockTime::ZERO))
        );
        // What a mixer asks of a buffer it has not dropped as outside the segment: its start,
        // clipped to the segment, and its end have running times.
        let frame = ClockTime::from_nseconds(33_333_333);
        assert_eq!(
            sent.to_running_time(ClockTime::ZERO.max(sent.start().unwrap())),
            Some(ClockTime::ZERO)
        );
        assert_eq!(
            sent.to_running_time(frame),
            Some(frame - ClockTime::from_mseconds(10))
        );

        let extreme = exclude_negative_running_time(&offset_segment(&live, i64::MIN));
        assert_eq!(
            extreme.start(),
            Some(ClockTime::from_nseconds(i64::MIN.unsigned_abs()))
        );
        assert_eq!(extreme.to_running_time(ClockTime::from_seconds(1000)), None);
    }

    #[test]
    fn an_offset_beyond_the_segment_leaves_all_of_it_outside() {
        gst::init().unwrap();
        let sent = exclude_negative_running_time(&offset_segment(&segment(1.0), -150_000_000_000));
        assert_eq!(sent.start(), Some(ClockTime::from_seconds(150)));
        assert_eq!(sent.stop(), Some(ClockTime::from_seconds(150)));

        let mut reverse = segment(-1.0);
        reverse.set_start(ClockTime::from_seconds(5));
        reverse.set_stop(ClockTime::from_seconds(23));
        let sent = exclude_negative_running_time(&offset_segment(&reverse, -30_000_000_000));
        assert_eq!(sent.start(), Some(ClockTime::ZERO));
        assert_eq!(sent.stop(), Some(ClockTime::ZERO));
        assert!(sent.offset() <= sent.stop());
    }

    #[test]
    fn segments_without_negative_running_times_are_unchanged() {
        gst::init().unwrap();
        let mut with_base = segment(1.0);
        with_base.set_base(ClockTime::from_seconds(1));
        for offset in [0, 5_000, -1_000_000_000, i64::MAX] {
            let shifted = offset_segment(&with_base, offset);
            assert_eq!(exclude_negative_running_time(&shifted), shifted);
        }
        let mut unbounded_reverse = segment(-1.0);
        unbounded_reverse.set_stop(None::<ClockTime>);
        unbounded_reverse.set_offset(ClockTime::from_seconds(1));
        assert_eq!(
            exclude_negative_running_time(&unbounded_reverse),
            unbounded_reverse
        );
    }
}
