//! The simulated device's clock (SPEC 3a; README "Device clock drift"): pure
//! arithmetic, no GStreamer object.
//!
//! The device clock runs `k = 1 + drift·10⁻⁶` times as fast as the pipeline clock and captures
//! its nominal rate `R` per second of its own clock, so `R·k` per second of pipeline time. All of
//! it is exact integer arithmetic (u128) on rationals: `k` is kept as `(10⁹ + drift·10³) / 10⁹`,
//! i.e. the drift is taken to 0.001 ppm, and a rate of units per pipeline second `R·k` is the
//! reduced fraction `num·(10⁹ + drift·10³) / (den·10⁹)`. Every time is computed from a unit
//! index against an anchor ([`Timeline`]), never by adding durations, so nothing accumulates
//! over hours; f64 would lose the ns after about 100 days at 1 GHz resolution and could not
//! reproduce drift 0 bit for bit, which the integer form does (drift 0 reduces to `num/den`, and
//! the same floor of the same exact quotient is the same ns as [`Rate::units_to_time`]).

use gst::ClockTime;

use crate::time::{self, Rate};

/// `drift` property: the default, and the range on either side of 0.
pub const DEFAULT_DRIFT_PPM: f64 = 0.0;
pub const MAX_DRIFT_PPM: f64 = 100_000.0;

const NSECS_PER_SEC: u128 = 1_000_000_000;
/// `k` in billionths: the resolution of the drift is 10⁻³ ppm.
const SPEED_DENOMINATOR: u128 = 1_000_000_000;
const PPM_TO_SPEED_UNITS: f64 = 1_000.0;

/// A device clock's drift against the pipeline clock, to 0.001 ppm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drift {
    /// `drift·10³`: `k − 1` in billionths.
    billionths: i64,
}

impl Drift {
    pub const NONE: Self = Self { billionths: 0 };

    /// `ppm` rounded to 0.001 ppm and clamped to ±[`MAX_DRIFT_PPM`] (the ParamSpec refuses more).
    pub fn from_ppm(ppm: f64) -> Self {
        let ppm = if ppm.is_nan() {
            0.0
        } else {
            ppm.clamp(-MAX_DRIFT_PPM, MAX_DRIFT_PPM)
        };
        Self {
            billionths: (ppm * PPM_TO_SPEED_UNITS).round() as i64,
        }
    }

    pub fn ppm(self) -> f64 {
        self.billionths as f64 / PPM_TO_SPEED_UNITS
    }

    pub fn is_none(self) -> bool {
        self.billionths == 0
    }

    /// `k` as the fraction `(numerator, denominator)`; positive, since |drift| ≤ 10 %.
    fn speed(self) -> (u128, u128) {
        let numerator = SPEED_DENOMINATOR as i128 + self.billionths as i128;
        (numerator.max(1) as u128, SPEED_DENOMINATOR)
    }

    /// Device time elapsed while `elapsed` passes on the reference clock: `elapsed·k`, rounded
    /// down, saturating.
    pub fn device_elapsed(self, elapsed: ClockTime) -> ClockTime {
        let (num, den) = self.speed();
        time::clamp_nsecs(mul_div_floor(elapsed.nseconds() as u128, num, den))
    }

    /// Reference-clock time it takes the device clock to advance `elapsed`: `elapsed / k`,
    /// rounded up (a wait converted with it never ends early).
    pub fn reference_elapsed_ceil(self, elapsed: ClockTime) -> ClockTime {
        let (num, den) = self.speed();
        time::clamp_nsecs(mul_div_ceil(elapsed.nseconds() as u128, den, num))
    }
}

/// An exact rate of units per second: `num / den`, reduced, both positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnitRate {
    num: u128,
    den: u128,
}

impl UnitRate {
    /// `rate` itself.
    pub fn nominal(rate: Rate) -> Self {
        Self::reduced(rate.num() as u128, rate.den() as u128)
    }

    /// What a device of nominal `rate` drifting by `drift` delivers per second of the reference
    /// clock: `rate·k`.
    pub fn drifting(rate: Rate, drift: Drift) -> Self {
        let (speed_num, speed_den) = drift.speed();
        Self::reduced(
            rate.num() as u128 * speed_num,
            rate.den() as u128 * speed_den,
        )
    }

    fn reduced(num: u128, den: u128) -> Self {
        let divisor = gcd(num, den).max(1);
        Self {
            num: (num / divisor).max(1),
            den: (den / divisor).max(1),
        }
    }

    pub fn num(self) -> u128 {
        self.num
    }

    pub fn den(self) -> u128 {
        self.den
    }

    /// Units per second as an f64 (for a sine's phase step, where it is exact enough).
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Time of `units` units, rounded down (as [`Rate::units_to_time`]), saturating.
    pub fn units_to_time(self, units: u64) -> ClockTime {
        time::clamp_nsecs(mul_div_floor(
            units as u128,
            self.den * NSECS_PER_SEC,
            self.num,
        ))
    }

    /// Time of `units` units, rounded up, saturating.
    pub fn units_to_time_ceil(self, units: u64) -> ClockTime {
        time::clamp_nsecs(mul_div_ceil(
            units as u128,
            self.den * NSECS_PER_SEC,
            self.num,
        ))
    }

    /// Number of whole units in `time`.
    pub fn time_to_units_floor(self, time: ClockTime) -> u64 {
        let units = mul_div_floor(time.nseconds() as u128, self.num, self.den * NSECS_PER_SEC);
        units.min(u64::MAX as u128) as u64
    }

    /// Index of the first unit that starts at or after `time`.
    pub fn time_to_units_ceil(self, time: ClockTime) -> u64 {
        let units = mul_div_ceil(time.nseconds() as u128, self.num, self.den * NSECS_PER_SEC);
        units.min(u64::MAX as u128) as u64
    }

    /// `units` units in whole seconds and the rest: `units/rate = seconds + rest/num` exactly.
    /// A signal's phase computed from these two keeps its precision at any position.
    pub fn split_seconds(self, units: u64) -> (u128, u128) {
        let scaled = units as u128 * self.den;
        (scaled / self.num, scaled % self.num)
    }
}

/// A line of units through time: unit `unit` at `time`, every later one at `rate` from there.
/// Times of a unit are computed from the anchor, never accumulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub unit: u64,
    pub time: ClockTime,
    pub rate: UnitRate,
}

impl Timeline {
    /// Time of `unit` (a unit before the anchor is at the anchor).
    pub fn time_of(&self, unit: u64) -> ClockTime {
        time::saturating_add(
            self.time,
            self.rate.units_to_time(unit.saturating_sub(self.unit)),
        )
    }

    /// Units from the anchor on that end at or before `time`, as the next unit's index.
    pub fn units_until(&self, time: ClockTime) -> u64 {
        self.unit.saturating_add(
            self.rate
                .time_to_units_floor(time.saturating_sub(self.time)),
        )
    }

    /// The same line from `unit` on at `rate`: no jump at `unit` (to the ns).
    pub fn continued(&self, unit: u64, rate: UnitRate) -> Self {
        if rate == self.rate {
            return *self;
        }
        Self {
            unit,
            time: self.time_of(unit),
            rate,
        }
    }
}

/// What a push test source's stamps and pace follow (SPEC 3a table), from its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clocking {
    /// No flag (and `use-stream-clock` when the pipeline runs on another clock): captured at
    /// `R·k` per pipeline second, stamped with the capture times on the pipeline clock.
    CaptureTime,
    /// `private-clock`: captured at `R·k` per pipeline second, stamped on the device clock.
    DeviceTime,
    /// `internal-rm` (the source matches rates), `use-stream-clock` on the source's own clock,
    /// and not-live sources: `R` per second of pipeline time.
    Nominal,
}

impl Clocking {
    /// The rate of units per second of pipeline time (capture pace and the signal's grid).
    pub fn capture_rate(self, rate: Rate, drift: Drift) -> UnitRate {
        match self {
            Clocking::CaptureTime | Clocking::DeviceTime => UnitRate::drifting(rate, drift),
            Clocking::Nominal => UnitRate::nominal(rate),
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `⌊a·b/c⌋` without overflow for `a < 2⁶⁴` and `min(b, c) < 2⁶⁴` (every use here: a unit
/// count or a time, times a rate term below 2⁶²): `b` is split into `q·c + r`, so the products
/// are `a·q` (saturating: its result is past any clock time) and `a·r < 2¹²⁸`.
fn mul_div_floor(a: u128, b: u128, c: u128) -> u128 {
    let (q, r) = (b / c, b % c);
    a.saturating_mul(q)
        .saturating_add(a.checked_mul(r).map_or(u128::MAX, |ar| ar / c))
}

/// `⌈a·b/c⌉`, with the bounds of [`mul_div_floor`].
fn mul_div_ceil(a: u128, b: u128, c: u128) -> u128 {
    let (q, r) = (b / c, b % c);
    a.saturating_mul(q)
        .saturating_add(a.checked_mul(r).map_or(u128::MAX, |ar| ar.div_ceil(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: u64) -> ClockTime {
        ClockTime::from_nseconds(n)
    }

    #[test]
    fn drift_zero_is_the_nominal_rate_bit_for_bit() {
        for rate in [
            Rate::per_second(44_100),
            Rate::per_second(48_000),
            Rate::new(30_000, 1_001).unwrap(),
            Rate::new(i32::MAX as u32, 1).unwrap(),
            Rate::new(1, i32::MAX as u32).unwrap(),
        ] {
            let drifting = UnitRate::drifting(rate, Drift::NONE);
            assert_eq!(drifting, UnitRate::nominal(rate));
            for units in [0, 1, 1023, 48_000 * 3600 + 17, u64::MAX / 3, u64::MAX] {
                assert_eq!(drifting.units_to_time(units), rate.units_to_time(units));
                assert_eq!(
                    drifting.units_to_time_ceil(units),
                    rate.units_to_time_ceil(units)
                );
            }
            for t in [
                0,
                1,
                22_676,
                33_366_667,
                3_600_000_000_017,
                ClockTime::MAX.nseconds(),
            ] {
                assert_eq!(
                    drifting.time_to_units_ceil(ns(t)),
                    rate.time_to_units_ceil(ns(t))
                );
                assert_eq!(
                    drifting.time_to_units_floor(ns(t)),
                    rate.time_to_units_floor(ns(t))
                );
            }
        }
    }

    #[test]
    fn a_drifting_device_delivers_r_times_k_per_second_exactly() {
        let r48k = Rate::per_second(48_000);
        let fast = UnitRate::drifting(r48k, Drift::from_ppm(1000.0));
        // 48 048 samples per pipeline second.
        assert_eq!((fast.num(), fast.den()), (48_048, 1));
        assert_eq!(fast.units_to_time(48_048), ClockTime::SECOND);
        assert_eq!(
            fast.units_to_time(48_048 * 36_000),
            ClockTime::from_seconds(36_000)
        );
        let slow = UnitRate::drifting(r48k, Drift::from_ppm(-1000.0));
        assert_eq!(
            slow.units_to_time(47_952 * 600),
            ClockTime::from_seconds(600)
        );
        // 1 / 47 952 s = 20 854.187… ns.
        assert_eq!(slow.units_to_time(1), ns(20_854));
        assert_eq!(slow.units_to_time_ceil(1), ns(20_855));
        assert_eq!(slow.time_to_units_floor(ns(20_854)), 0);
        assert_eq!(slow.time_to_units_ceil(ns(20_854)), 1);
        let ntsc = UnitRate::drifting(Rate::new(30_000, 1_001).unwrap(), Drift::from_ppm(0.5));
        // 30000/1001 · 1.0000005: frame 1 at 1001/30000.015 s.
        assert_eq!(ntsc.units_to_time(1), ns(33_366_649));
        assert_eq!(
            ntsc.units_to_time(30_000_015),
            ClockTime::from_seconds(1_001_000)
        );
    }

    #[test]
    fn the_limits_and_beyond() {
        assert_eq!(Drift::from_ppm(100_000.0).ppm(), 100_000.0);
        assert_eq!(Drift::from_ppm(1e9), Drift::from_ppm(MAX_DRIFT_PPM));
        assert_eq!(Drift::from_ppm(-1e9), Drift::from_ppm(-MAX_DRIFT_PPM));
        assert_eq!(Drift::from_ppm(f64::NAN), Drift::NONE);
        assert_eq!(Drift::from_ppm(0.0004), Drift::NONE);
        assert_eq!(Drift::from_ppm(0.0006).ppm(), 0.001);
        let r = Rate::per_second(192_000);
        let fastest = UnitRate::drifting(r, Drift::from_ppm(MAX_DRIFT_PPM));
        assert_eq!(fastest.units_to_time(211_200), ClockTime::SECOND);
        // 2⁶⁴ units at 211 200 per second are past the end of the clock: saturated, not wrapped.
        assert_eq!(fastest.units_to_time(u64::MAX), ClockTime::MAX);
        let slowest = UnitRate::drifting(
            Rate::new(1, i32::MAX as u32).unwrap(),
            Drift::from_ppm(-MAX_DRIFT_PPM),
        );
        assert_eq!(slowest.units_to_time(u64::MAX), ClockTime::MAX);
        // One unit every 2 386 s: the clock's whole range holds 8 units.
        assert_eq!(slowest.time_to_units_ceil(ClockTime::MAX), 8);
    }

    #[test]
    fn device_time_and_back() {
        let fast = Drift::from_ppm(1000.0);
        assert_eq!(fast.device_elapsed(ClockTime::SECOND), ns(1_001_000_000));
        assert_eq!(
            fast.reference_elapsed_ceil(ns(1_001_000_000)),
            ClockTime::SECOND
        );
        assert_eq!(fast.reference_elapsed_ceil(ns(1)), ns(1));
        let slow = Drift::from_ppm(-100_000.0);
        assert_eq!(slow.device_elapsed(ns(10)), ns(9));
        assert_eq!(slow.reference_elapsed_ceil(ns(9)), ns(10));
        assert_eq!(slow.reference_elapsed_ceil(ns(10)), ns(12));
        assert_eq!(Drift::NONE.device_elapsed(ns(12_345)), ns(12_345));
        assert_eq!(fast.device_elapsed(ClockTime::MAX), ClockTime::MAX);
    }

    #[test]
    fn ten_hours_of_drift_do_not_accumulate() {
        let rate = UnitRate::drifting(Rate::per_second(44_100), Drift::from_ppm(-37.5));
        let line = Timeline {
            unit: 0,
            time: ClockTime::ZERO,
            rate,
        };
        // 10 h of pipeline time hold exactly 36 000 · 44 100 · (1 − 37.5e-6) units.
        let units = 36_000 * 44_100 - 59_535;
        assert_eq!(line.time_of(units), ClockTime::from_seconds(36_000));
        assert_eq!(line.units_until(ClockTime::from_seconds(36_000)), units);
        // Piecewise: continuing the line at the same rate changes nothing.
        assert_eq!(line.continued(12_345, rate), line);
    }

    #[test]
    fn a_changed_rate_continues_without_a_jump() {
        let r48k = Rate::per_second(48_000);
        let line = Timeline {
            unit: 480,
            time: ClockTime::from_seconds(5),
            rate: UnitRate::nominal(r48k),
        };
        let faster = line.continued(4_800, UnitRate::drifting(r48k, Drift::from_ppm(1000.0)));
        assert_eq!(faster.time_of(4_800), line.time_of(4_800));
        assert_eq!(
            faster.time_of(4_800 + 48_048),
            line.time_of(4_800) + ClockTime::SECOND
        );
        assert_eq!(faster.units_until(line.time_of(4_800)), 4_800);
        // Before its anchor, a line stays at its anchor.
        assert_eq!(faster.time_of(0), faster.time);
        assert_eq!(faster.units_until(ClockTime::ZERO), 4_800);
    }

    #[test]
    fn seconds_split_exactly() {
        let rate = UnitRate::drifting(Rate::per_second(48_000), Drift::from_ppm(1000.0));
        assert_eq!(rate.split_seconds(48_048 * 7 + 5), (7, 5));
        let ntsc = UnitRate::nominal(Rate::new(30_000, 1_001).unwrap());
        // 31 frames = 1 s + (31·1001 − 30000)/30000 s.
        assert_eq!(ntsc.split_seconds(30), (1, 30 * 1001 - 30_000));
        assert_eq!(
            ntsc.split_seconds(u64::MAX).0,
            u64::MAX as u128 * 1001 / 30_000
        );
    }

    #[test]
    fn clocking_picks_the_rate() {
        let r = Rate::per_second(8_000);
        let drift = Drift::from_ppm(-1000.0);
        assert_eq!(
            Clocking::CaptureTime.capture_rate(r, drift),
            UnitRate::drifting(r, drift)
        );
        assert_eq!(
            Clocking::DeviceTime.capture_rate(r, drift),
            UnitRate::drifting(r, drift)
        );
        assert_eq!(
            Clocking::Nominal.capture_rate(r, drift),
            UnitRate::nominal(r)
        );
    }
}
