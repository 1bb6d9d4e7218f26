//! Time arithmetic shared by every element: unit (sample, frame)/time conversion at exact
//! rational rates, and saturating sums and offsets.
//!
//! Everything here saturates instead of overflowing: a stream offset may be any `i64`, and a
//! timestamp must never wrap around (SPEC section 2, rule 3).

use gst::ClockTime;

const NSECS_PER_SEC: u128 = 1_000_000_000;

/// Largest duration a property takes, in ns: GstClockTimeDiff's range, so that a negative number
/// (which GLib's parser turns into a huge guint64) is refused instead of becoming a latency or
/// a wait of centuries.
pub const MAX_DURATION_NS: u64 = i64::MAX as u64;

/// `nsecs` as a clock time, saturating at the largest valid one.
pub fn clamp_nsecs(nsecs: u128) -> ClockTime {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_conversions_are_exact_and_saturate() {
        gst::init().unwrap();
        let (r48k, r44k1) = (Rate::per_second(48_000), Rate::per_second(44_100));
        assert_eq!(r48k.units_to_time(48_000), ClockTime::SECOND);
        assert_eq!(r44k1.units_to_time(1).nseconds(), 22_675);
        assert_eq!(r44k1.units_to_time_ceil(1).nseconds(), 22_676);
        assert_eq!(
            Rate::per_second(8_000).units_to_time(u64::MAX),
            ClockTime::MAX
        );
        assert_eq!(
            r44k1.time_to_units_ceil(ClockTime::from_nseconds(22_676)),
            2
        );
        assert_eq!(
            r44k1.time_to_units_floor(ClockTime::from_nseconds(22_676)),
            1
        );
        assert_eq!(
            Rate::per_second(192_000).time_to_units_ceil(ClockTime::MAX),
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
}
