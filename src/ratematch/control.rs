//! The control loops of `ratematch`, pure arithmetic on seconds and frames, so that they are
//! tested without a pipeline.
//!
//! [`RateController`] steers the resampler's ratio so that its read position meets the position
//! the reference asks for: a second-order (PI) loop, critically damped, with anti-windup at the
//! clamp. [`Dll`] is a delay-locked loop that learns a straight line `y ≈ a + slope·x` from noisy
//! pairs (device stamp → arrival time, sink clock → pipeline clock).

use std::f64::consts::{PI, SQRT_2};

/// Damping of both loops: 1/√2, fastest settling without overshoot worth the name.
const DAMPING: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// Largest `ω·dt` a single update may use: beyond it a discrete second-order loop rings or
/// diverges, so sparse updates (big buffers) get a proportionally lower bandwidth.
const MAX_STEP_OMEGA: f64 = 0.5;

/// Once locked, the ratio loop narrows its bandwidth by this much: it acquires fast and then
/// tracks with less of the stamps' jitter in the ratio (and in the reported drift).
pub const TRACKING_NARROWING: f64 = 4.0;

/// Natural angular frequency of a loop of `bandwidth` Hz updated every `dt` s.
fn effective_omega(bandwidth: f64, dt: f64) -> f64 {
    let omega = 2.0 * PI * bandwidth;
    if dt > 0.0 {
        omega.min(MAX_STEP_OMEGA / dt)
    } else {
        omega
    }
}

/// What the controller did with its last update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Steering {
    pub ratio: f64,
    /// The ratio the loop asked for is beyond the clamp and the clamp is held.
    pub clamped: bool,
}

/// The ratio loop. The error `e` is `(p − j*)` in seconds of running time (positive: the read
/// position is ahead, reading input that belongs later). With `r = integral − Kp·e` and
/// `integral' = −Ki·e`, `e'' + Kp·e' + Ki·e = 0` for any constant true ratio: a type-2 loop
/// that tracks a constant drift with no residual offset.
#[derive(Debug, Clone)]
pub struct RateController {
    bandwidth: f64,
    tracking: bool,
    max_deviation: f64,
    /// The ratio without the proportional term: the filtered drift estimate.
    integral: f64,
    last: Steering,
}

impl RateController {
    /// A loop of `bandwidth` Hz whose ratio stays within `1 ± max_deviation`.
    pub fn new(bandwidth: f64, max_deviation: f64) -> Self {
        Self {
            bandwidth,
            tracking: false,
            max_deviation,
            integral: 1.0,
            last: Steering {
                ratio: 1.0,
                clamped: false,
            },
        }
    }

    /// Feeds the error measured now, `dt` seconds after the previous update; returns the ratio
    /// to read the next frames at.
    pub fn update(&mut self, error: f64, dt: f64) -> Steering {
        // An error that is not a number (times that could not be placed) must not become the
        // integral: a NaN would stay there for good.
        if !error.is_finite() || !dt.is_finite() {
            return self.last;
        }
        let bandwidth = if self.tracking {
            self.bandwidth / TRACKING_NARROWING
        } else {
            self.bandwidth
        };
        let omega = effective_omega(bandwidth, dt);
        let (low, high) = (1.0 - self.max_deviation, 1.0 + self.max_deviation);
        let proportional = 2.0 * DAMPING * omega * error;
        let integral = self.integral - omega * omega * dt.max(0.0) * error;
        let wanted = integral - proportional;
        let clamped = !(low..=high).contains(&wanted);
        // Anti-windup: the integral stops at the clamp, so that the ratio holds it while the
        // stream needs more and comes back as soon as it needs less, without a swing.
        self.integral = integral.clamp(low, high);
        self.last = Steering {
            ratio: wanted.clamp(low, high),
            clamped,
        };
        self.last
    }

    /// Acquiring (the full bandwidth) or tracking (narrowed), from the next update on.
    pub fn set_tracking(&mut self, tracking: bool) {
        self.tracking = tracking;
    }

    pub fn last(&self) -> Steering {
        self.last
    }

    /// The ratio the loop has settled to, without the correction of the current offset:
    /// `(drift_estimate − 1)·10⁶` is the drift in ppm.
    pub fn drift_estimate(&self) -> f64 {
        self.integral
    }

    /// The same loop with nothing learnt.
    pub fn fresh(&self) -> Self {
        Self::new(self.bandwidth, self.max_deviation)
    }

    /// Forgets the phase but keeps the drift estimate (same device after a flush or caps
    /// change); the next update starts from it.
    pub fn restart(&mut self) {
        self.tracking = false;
        self.last = Steering {
            ratio: self.integral,
            clamped: false,
        };
    }
}

/// A delay-locked loop learning `y ≈ y0 + slope·(x − x0)` from pairs that arrive in order of
/// `x`; `y` may jitter, `x` is the exact side (stamps, a clock read).
///
/// It acquires with a least-squares line through all pairs so far (`LineFit`) and loops only
/// from there: a second-order loop started from a wrong slope (the nominal 1 against a device
/// 1000 ppm off) carries its transient for many times `1/bandwidth`, so the line it draws, and
/// the ratio steered by it, would still wander by microseconds long after the offset looks
/// locked. The fit is exact from its second pair on when the pairs are, and averages their
/// jitter as well as the loop would over the same span.
#[derive(Debug, Clone)]
pub struct Dll {
    bandwidth: f64,
    tracking: bool,
    anchor: Option<(f64, f64)>,
    slope: f64,
    /// Acquiring: the fit that places the line, until it spans `1/bandwidth` or tracking starts
    /// (the ratio loop has been locked for a while on the fitted line).
    fit: Option<LineFit>,
}

/// Running sums of a least-squares line through pairs, relative to the first pair (so that
/// the sums stay small and exact over minutes of running time).
#[derive(Debug, Clone, Copy, Default)]
struct LineFit {
    origin: Option<(f64, f64)>,
    count: f64,
    sum_x: f64,
    sum_y: f64,
    sum_xx: f64,
    sum_xy: f64,
}

impl LineFit {
    fn add(&mut self, x: f64, y: f64) {
        let (x0, y0) = *self.origin.get_or_insert((x, y));
        let (dx, dy) = (x - x0, y - y0);
        self.count += 1.0;
        self.sum_x += dx;
        self.sum_y += dy;
        self.sum_xx += dx * dx;
        self.sum_xy += dx * dy;
    }

    /// The fitted slope and the line's `y` at `x` (`None` before two distinct `x`).
    fn line_at(&self, x: f64) -> Option<(f64, f64)> {
        let (x0, y0) = self.origin?;
        let determinant = self.count * self.sum_xx - self.sum_x * self.sum_x;
        if self.count < 2.0 || determinant <= 0.0 {
            return None;
        }
        let slope = (self.count * self.sum_xy - self.sum_x * self.sum_y) / determinant;
        let intercept = (self.sum_y - slope * self.sum_x) / self.count;
        Some((slope, y0 + intercept + slope * (x - x0)))
    }

    /// How far in `x` the pairs reach.
    fn span(&self, x: f64) -> f64 {
        self.origin.map_or(0.0, |(x0, _)| x - x0)
    }
}

impl Dll {
    pub fn new(bandwidth: f64) -> Self {
        Self {
            bandwidth,
            tracking: false,
            anchor: None,
            slope: 1.0,
            fit: Some(LineFit::default()),
        }
    }

    pub fn update(&mut self, x: f64, y: f64) {
        let Some((x0, y0)) = self.anchor else {
            self.anchor = Some((x, y));
            if let Some(fit) = &mut self.fit {
                fit.add(x, y);
            }
            return;
        };
        let dx = x - x0;
        if dx <= 0.0 {
            // Repeated or out of order: nothing to learn a slope from.
            return;
        }
        if let Some(fit) = &mut self.fit {
            fit.add(x, y);
            // A slope of 0 or beyond reason (two pairs at one `y`: a coarse clock read twice in
            // a tick) would put the line nowhere: wait for pairs that tell.
            if let Some((slope, y_at)) = fit.line_at(x).filter(|(slope, y_at)| {
                slope.is_finite() && (0.5..=2.0).contains(slope) && y_at.is_finite()
            }) {
                self.slope = slope;
                self.anchor = Some((x, y_at));
            }
            if fit.span(x) * self.bandwidth >= 1.0 {
                self.fit = None;
            }
            return;
        }
        let predicted = y0 + self.slope * dx;
        let error = y - predicted;
        let bandwidth = if self.tracking {
            self.bandwidth / TRACKING_NARROWING
        } else {
            self.bandwidth
        };
        let step_omega = effective_omega(bandwidth, dx) * dx;
        self.anchor = Some((x, predicted + SQRT_2 * step_omega * error));
        self.slope += step_omega * step_omega * error / dx;
    }

    /// Starts learning the slope again from `slope` (1 by default), keeping the anchor: the
    /// pairs so far are forgotten, and a fit starts again from the anchor.
    pub fn set_slope(&mut self, slope: Option<f64>) {
        self.slope = slope.unwrap_or(1.0);
        let mut fit = LineFit::default();
        if let Some((x0, y0)) = self.anchor {
            fit.add(x0, y0);
        }
        self.fit = Some(fit);
    }

    /// Moves the line by `dy`, keeping its slope: the `x` side jumped. The pairs a fit under
    /// way has taken move with it.
    pub fn shift(&mut self, dy: f64) {
        if let Some((_, y0)) = &mut self.anchor {
            *y0 += dy;
        }
        if let Some(LineFit {
            origin: Some((_, y0)),
            ..
        }) = &mut self.fit
        {
            *y0 += dy;
        }
    }

    /// Acquiring (the full bandwidth) or tracking (narrowed), from the next update on.
    pub fn set_tracking(&mut self, tracking: bool) {
        self.tracking = tracking;
        if tracking {
            // The ratio loop has locked on the fitted line: the loop follows it from here.
            self.fit = None;
        }
    }

    /// Starts from a slope learnt before (the same clocks, after a caps change): it is better
    /// than a fit through the first few pairs, so the loop starts at once.
    pub fn with_slope(mut self, slope: Option<f64>) -> Self {
        if let Some(slope) = slope {
            self.slope = slope;
            self.fit = None;
        }
        self
    }

    /// `y` at `x` on the learnt line (`None` before the first pair).
    pub fn predict(&self, x: f64) -> Option<f64> {
        self.anchor.map(|(x0, y0)| y0 + self.slope * (x - x0))
    }

    /// `x` at which the learnt line reaches `y`.
    pub fn inverse(&self, y: f64) -> Option<f64> {
        self.anchor.map(|(x0, y0)| x0 + (y - y0) / self.slope)
    }

    pub fn slope(&self) -> f64 {
        self.slope
    }

    /// The slope, once learnt: the fit spanned `1/bandwidth`, the ratio loop locked on it, or
    /// it was learnt before. A fit through a few pairs (a run restarted at once) says little.
    pub fn learnt_slope(&self) -> Option<f64> {
        self.fit.is_none().then_some(self.slope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_is_not_a_number_leaves_the_loop_as_it_was() {
        let mut controller = RateController::new(0.2, 0.05);
        let before = controller.update(1e-4, 0.1);
        assert_eq!(controller.update(f64::NAN, 0.1), before);
        assert_eq!(controller.update(f64::INFINITY, 0.1), before);
        assert!(controller.update(0.0, 0.1).ratio.is_finite());
    }

    #[test]
    fn a_dll_does_not_take_a_slope_of_0_from_a_clock_read_twice_in_a_tick() {
        let mut dll = Dll::new(0.1);
        dll.update(0.0, 5.0);
        dll.update(0.01, 5.0);
        assert_eq!(dll.slope(), 1.0, "no slope from two readings at one time");
        dll.update(0.02, 5.02);
        assert!((dll.slope() - 1.0).abs() < 0.5, "{}", dll.slope());
        assert!(dll.inverse(6.0).is_some_and(f64::is_finite));
    }

    /// Simulates the read position against a reference running `true_ratio` input frames per
    /// output frame, with an update every `dt` s; returns the error after each update.
    fn simulate(
        true_ratio: f64,
        seconds: f64,
        dt: f64,
        controller: &mut RateController,
    ) -> Vec<f64> {
        let mut error = 0.0;
        let mut errors = Vec::new();
        for _ in 0..(seconds / dt) as usize {
            let steering = controller.update(error, dt);
            error += (steering.ratio - true_ratio) * dt;
            errors.push(error);
        }
        errors
    }

    #[test]
    fn locks_to_a_constant_drift_within_five_seconds_and_keeps_no_offset() {
        for drift in [-1000e-6, 1000e-6, 20_000e-6] {
            let mut controller = RateController::new(0.2, 0.05);
            let errors = simulate(1.0 + drift, 60.0, 0.01, &mut controller);
            let worst_after_lock = errors[500..].iter().fold(0.0f64, |m, e| m.max(e.abs()));
            assert!(worst_after_lock < 1e-3, "drift {drift}: {worst_after_lock}");
            assert!(errors.last().unwrap().abs() < 1e-6);
            assert!((controller.drift_estimate() - 1.0 - drift).abs() < 1e-6);
        }
    }

    #[test]
    fn big_updates_stay_stable() {
        let mut controller = RateController::new(0.2, 0.05);
        let errors = simulate(1.001, 300.0, 1.0, &mut controller);
        assert!(errors.last().unwrap().abs() < 1e-6, "{:?}", &errors[250..]);
    }

    #[test]
    fn a_ratio_beyond_reach_holds_the_clamp_without_oscillating() {
        let mut controller = RateController::new(0.2, 0.05);
        let mut error = 0.0;
        let mut ratios = Vec::new();
        for _ in 0..10_000 {
            let steering = controller.update(error, 0.01);
            error += (steering.ratio - 1.08) * 0.01;
            ratios.push(steering);
        }
        // Once at the clamp it never leaves it.
        let first = ratios.iter().position(|s| s.clamped).unwrap();
        assert!(first < 500);
        assert!(ratios[first..].iter().all(|s| s.clamped && s.ratio == 1.05));
        assert_eq!(controller.drift_estimate(), 1.05);
    }

    #[test]
    fn a_dll_places_exact_pairs_exactly_from_the_second_on() {
        // A device 1000 ppm fast against the nominal slope the loop starts from.
        let slope = 1.0 / 1.001;
        let mut dll = Dll::new(0.1);
        for n in 0..300 {
            let x = n as f64 / 60.0;
            dll.update(x, 2.0 + slope * x);
            if n >= 1 {
                assert!((dll.slope() - slope).abs() < 1e-12, "{n}: {}", dll.slope());
                let y = dll.predict(x).unwrap();
                assert!((y - (2.0 + slope * x)).abs() < 1e-12, "{n}: {y}");
            }
            if n == 120 {
                dll.set_tracking(true);
            }
        }
    }

    #[test]
    fn a_dll_learns_a_line_through_jittered_pairs() {
        let mut dll = Dll::new(0.1);
        let slope = 1.0 / 1.001;
        for n in 0..6000 {
            let x = n as f64 * 0.1;
            let jitter = if n % 2 == 0 { 0.002 } else { -0.002 };
            dll.update(x, 5.0 + slope * x + jitter);
        }
        // The slope moves with each jittered pair (±2 ms every 100 ms: tens of ppm), the line
        // it draws stays within a fraction of the jitter.
        assert!((dll.slope() - slope).abs() < 1e-4, "{}", dll.slope());
        let y = dll.predict(600.0).unwrap();
        assert!((y - (5.0 + slope * 600.0)).abs() < 5e-4, "{y}");
        assert!((dll.inverse(y).unwrap() - 600.0).abs() < 1e-9);
    }
}
