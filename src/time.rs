//! Time arithmetic shared by every element: unit (sample, frame)/time conversion at exact
//! rational rates, and stream offsets.
//!
//! Everything here saturates instead of overflowing: a stream offset may be any `i64`, and a
//! timestamp must never wrap around (SPEC section 2, rule 3).

use gst::ClockTime;

const NSECS_PER_SEC: u128 = 1_000_000_000;

/// Largest duration a property takes, in ns: GstClockTimeDiff's range, so that a negative number
/// (which GLib's parser turns into a huge guint64) is refused instead of becoming a latency or
/// a wait of centuries.
pub const MAX_DURATION_NS: u64 = i64::MAX as u64;

fn clamp_nsecs(nsecs: u128) -> ClockTime {
    ClockTime::from_nseconds(nsecs.min(ClockTime::MAX.nseconds() as u128) as u64)
}

/// A rate of units (samples, video frames) per second, as the exact fraction `num / den`:
/// 48000/1 for audio, 30000/1001 for NTSC video. Both terms are positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    num: u32,
    den: u32,
}

impl Rate {
    /// `num / den` units per second; `None` unless both are positive.
    pub const fn new(num: u32, den: u32) -> Option<Self> {
        if num == 0 || den == 0 {
            None
        } else {
            Some(Self { num, den })
        }
    }

    /// `units` per second (an audio sample rate); 0 counts as 1.
    pub const fn per_second(units: u32) -> Self {
        Self {
            num: if units == 0 { 1 } else { units },
            den: 1,
        }
    }

    pub const fn num(self) -> u32 {
        self.num
    }

    pub const fn den(self) -> u32 {
        self.den
    }

    /// Time of unit `units`, rounded down as `gst_util_uint64_scale()` rounds: each stamp is
    /// computed from the unit index, so stamps never drift, whatever the fraction.
    pub fn units_to_time(self, units: u64) -> ClockTime {
        clamp_nsecs(units as u128 * self.den as u128 * NSECS_PER_SEC / self.num as u128)
    }

    /// Time of `units`, rounded up: the smallest time that covers all of them.
    pub fn units_to_time_ceil(self, units: u64) -> ClockTime {
        clamp_nsecs((units as u128 * self.den as u128 * NSECS_PER_SEC).div_ceil(self.num as u128))
    }

    /// Index of the first unit that starts at or after `time`.
    pub fn time_to_units_ceil(self, time: ClockTime) -> u64 {
        let units =
            (time.nseconds() as u128 * self.num as u128).div_ceil(self.den as u128 * NSECS_PER_SEC);
        units.min(u64::MAX as u128) as u64
    }

    /// Index of the last unit boundary at or before `time`.
    pub fn time_to_units_floor(self, time: ClockTime) -> u64 {
        let units = time.nseconds() as u128 * self.num as u128 / (self.den as u128 * NSECS_PER_SEC);
        units.min(u64::MAX as u128) as u64
    }
}

/// Time of the first sample at `samples` (rounded down), saturating at [`ClockTime::MAX`].
pub fn samples_to_time(samples: u64, rate: u32) -> ClockTime {
    Rate::per_second(rate).units_to_time(samples)
}

/// Time of `samples`, rounded up: the smallest time that covers all of them.
pub fn samples_to_time_ceil(samples: u64, rate: u32) -> ClockTime {
    Rate::per_second(rate).units_to_time_ceil(samples)
}

/// Index of the first sample at or after `time`.
pub fn time_to_samples_ceil(time: ClockTime, rate: u32) -> u64 {
    let samples = (time.nseconds() as u128 * rate as u128).div_ceil(NSECS_PER_SEC);
    samples.min(u64::MAX as u128) as u64
}

/// Index of the last sample boundary at or before `time`.
pub fn time_to_samples_floor(time: ClockTime, rate: u32) -> u64 {
    let samples = time.nseconds() as u128 * rate as u128 / NSECS_PER_SEC;
    samples.min(u64::MAX as u128) as u64
}

/// `time + offset`, saturating at [`ClockTime::MAX`]; `None` when the result would be negative.
pub fn add_offset(time: ClockTime, offset: i64) -> Option<ClockTime> {
    let result = time.nseconds() as i128 + offset as i128;
    if result < 0 {
        None
    } else {
        Some(clamp_nsecs(result as u128))
    }
}

/// `a + b`, saturating at [`ClockTime::MAX`] (`ClockTime` itself panics on overflow).
pub fn saturating_add(a: ClockTime, b: ClockTime) -> ClockTime {
    clamp_nsecs(a.nseconds() as u128 + b.nseconds() as u128)
}

/// Shifts the running time of everything in `segment` by `offset`, the way
/// `gst_segment_offset_running_time()` (and so `gst_pad_set_offset()`) does, but saturating:
/// a positive offset is added to `base`; a negative one is taken from `base` first and the rest
/// moves the segment's `offset` field, so positions whose running time would be negative fall
/// outside the segment instead of wrapping around.
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
    shifted.set_offset(saturating_add(current, position_shift));
    shifted
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
    fn sample_conversions_are_exact_and_saturate() {
        gst::init().unwrap();
        assert_eq!(samples_to_time(48_000, 48_000), ClockTime::SECOND);
        assert_eq!(samples_to_time(1, 44_100).nseconds(), 22_675);
        assert_eq!(samples_to_time_ceil(1, 44_100).nseconds(), 22_676);
        assert_eq!(samples_to_time(u64::MAX, 8_000), ClockTime::MAX);
        assert_eq!(
            time_to_samples_ceil(ClockTime::from_nseconds(22_676), 44_100),
            2
        );
        assert_eq!(
            time_to_samples_floor(ClockTime::from_nseconds(22_676), 44_100),
            1
        );
        assert_eq!(
            time_to_samples_ceil(ClockTime::MAX, 192_000),
            (ClockTime::MAX.nseconds() as u128 * 192_000).div_ceil(1_000_000_000) as u64
        );
    }

    #[test]
    fn rational_rates_are_exact_and_never_drift() {
        gst::init().unwrap();
        let ntsc = Rate::new(30_000, 1_001).unwrap();
        assert_eq!(ntsc.units_to_time(1).nseconds(), 33_366_666);
        assert_eq!(ntsc.units_to_time_ceil(1).nseconds(), 33_366_667);
        assert_eq!(ntsc.units_to_time(2).nseconds(), 66_733_333);
        // 30000 frames at 30000/1001 last exactly 1001 s, however many frames came before.
        assert_eq!(ntsc.units_to_time(30_000), ClockTime::from_seconds(1_001));
        assert_eq!(
            ntsc.units_to_time(30_000 * 1_000),
            ClockTime::from_seconds(1_001_000)
        );
        assert_eq!(
            ntsc.time_to_units_ceil(ClockTime::from_nseconds(33_366_666)),
            1
        );
        assert_eq!(
            ntsc.time_to_units_ceil(ClockTime::from_nseconds(33_366_667)),
            2
        );
        assert_eq!(
            ntsc.time_to_units_floor(ClockTime::from_nseconds(33_366_667)),
            1
        );
        assert_eq!(
            ntsc.time_to_units_floor(ClockTime::from_seconds(1_001)),
            30_000
        );
        let slowest = Rate::new(1, i32::MAX as u32).unwrap();
        assert_eq!(slowest.units_to_time(u64::MAX), ClockTime::MAX);
        let fastest = Rate::new(i32::MAX as u32, 1).unwrap();
        // 2^64 ns at 2^31 frames per second is more frames than a u64 holds: saturated, not
        // wrapped.
        assert_eq!(fastest.time_to_units_ceil(ClockTime::MAX), u64::MAX);
        assert_eq!(fastest.time_to_units_floor(ClockTime::MAX), u64::MAX);
        assert_eq!(Rate::new(0, 1), None);
        assert_eq!(Rate::new(25, 0), None);
        assert_eq!(Rate::per_second(0), Rate::per_second(1));
    }

    #[test]
    fn add_offset_saturates_and_never_wraps() {
        gst::init().unwrap();
        let t = ClockTime::from_seconds(1);
        assert_eq!(
            add_offset(t, i64::MAX),
            Some(ClockTime::from_nseconds(i64::MAX as u64 + 1_000_000_000))
        );
        assert_eq!(add_offset(ClockTime::MAX, i64::MAX), Some(ClockTime::MAX));
        assert_eq!(add_offset(t, i64::MIN), None);
        assert_eq!(add_offset(t, -1_000_000_000), Some(ClockTime::ZERO));
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
}
