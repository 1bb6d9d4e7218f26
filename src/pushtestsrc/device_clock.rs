//! The clock of a simulated capture device, which a push test source provides with
//! `use-stream-clock` (SPEC 3a): it runs `k = 1 + drift·10⁻⁶` times as fast as its reference,
//! the system clock (`gst::SystemClock::obtain()`, which tests replace with a TestClock through
//! `gst::SystemClock::set_default`): `device = epoch + (system − system epoch)·k`.
//!
//! It has no time source of its own: each wait on it is a wait on the reference clock until the
//! reference time at which the device clock reaches the entry's time, and unscheduling an entry
//! unschedules that reference wait, so under a TestClock everything stays deterministic. A drift
//! change re-anchors the epochs where the clocks are (the device time does not jump) and
//! restarts the reference waits under way with the new speed.

use gst::glib;
use gst::subclass::prelude::*;

use super::device_time::Drift;

glib::wrapper! {
    /// A clock running `1 + drift·10⁻⁶` times as fast as the system clock.
    pub struct DeviceClock(ObjectSubclass<imp::DeviceClock>) @extends gst::Clock, gst::Object;
}

impl DeviceClock {
    /// A device clock on the current system clock, now at the system clock's time.
    pub fn new(drift: Drift) -> Self {
        Self::on_reference(&gst::SystemClock::obtain(), drift)
    }

    /// A device clock on `reference`, now at its time.
    pub fn on_reference(reference: &gst::Clock, drift: Drift) -> Self {
        let clock: Self = glib::Object::new();
        clock.imp().start(reference, drift);
        clock
    }

    /// Changes the speed from now on, without a jump in the device time.
    pub fn set_drift(&self, drift: Drift) {
        self.imp().set_drift(drift);
    }

    pub fn drift(&self) -> Drift {
        self.imp().drift()
    }

    /// The reference (system) clock it derives its time from.
    pub fn reference(&self) -> gst::Clock {
        self.imp().reference().clone()
    }
}

mod imp {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use gst::ClockTime;
    use gst::glib;
    use gst::prelude::*;
    use gst::subclass::prelude::*;

    use crate::pushtestsrc::device_time::Drift;
    use crate::time;
    use crate::timing::lock;

    /// Where the two clocks were when the speed last changed.
    #[derive(Debug, Clone, Copy)]
    struct Anchor {
        reference: ClockTime,
        device: ClockTime,
        drift: Drift,
        /// Counts the re-anchorings: a wait computed before one is computed again.
        generation: u64,
    }

    impl Anchor {
        fn device_time(&self, reference: ClockTime) -> ClockTime {
            time::saturating_add(
                self.device,
                self.drift
                    .device_elapsed(reference.saturating_sub(self.reference)),
            )
        }

        /// The reference time at which the device clock reaches `device` (never before).
        fn reference_time(&self, device: ClockTime) -> ClockTime {
            time::saturating_add(
                self.reference,
                self.drift
                    .reference_elapsed_ceil(device.saturating_sub(self.device)),
            )
        }
    }

    /// A reference-clock wait standing for a wait on this clock.
    struct Pending {
        inner: gst::SingleShotClockId,
        /// For an asynchronous wait: the entry, to schedule again after a drift change.
        asynchronous: Option<gst::ClockId>,
    }

    pub struct DeviceClock {
        /// Set once, by the constructor.
        reference: OnceLock<gst::Clock>,
        anchor: Mutex<Anchor>,
        /// Keyed by the address of the entry waited on.
        pending: Mutex<HashMap<usize, Pending>>,
    }

    fn key(id: &gst::ClockId) -> usize {
        id.as_ptr() as usize
    }

    fn unscheduled(id: &gst::ClockId) -> bool {
        id.status().load() == gst::ClockReturn::Unscheduled
    }

    impl DeviceClock {
        pub(super) fn start(&self, reference: &gst::Clock, drift: Drift) {
            let reference = self.reference.get_or_init(|| reference.clone());
            let now = reference.time();
            *lock(&self.anchor) = Anchor {
                reference: now,
                device: now,
                drift,
                generation: 0,
            };
        }

        pub(super) fn reference(&self) -> &gst::Clock {
            self.reference.get_or_init(gst::SystemClock::obtain)
        }

        fn anchor(&self) -> Anchor {
            *lock(&self.anchor)
        }

        pub(super) fn drift(&self) -> Drift {
            self.anchor().drift
        }

        pub(super) fn set_drift(&self, drift: Drift) {
            {
                let now = self.reference().time();
                let mut anchor = lock(&self.anchor);
                *anchor = Anchor {
                    reference: now,
                    device: anchor.device_time(now),
                    drift,
                    generation: anchor.generation + 1,
                };
            }
            // Waits under way end where the old speed put them: restart them with the new one.
            let (synchronous, asynchronous): (Vec<_>, Vec<_>) = {
                let mut pending = lock(&self.pending);
                let restarted: Vec<usize> = pending
                    .iter()
                    .filter(|(_, p)| p.asynchronous.is_some())
                    .map(|(k, _)| *k)
                    .collect();
                let asynchronous = restarted
                    .into_iter()
                    .filter_map(|k| pending.remove(&k))
                    .collect();
                let synchronous = pending.values().map(|p| p.inner.clone()).collect();
                (synchronous, asynchronous)
            };
            for inner in synchronous {
                inner.unschedule();
            }
            for pending in asynchronous {
                pending.inner.unschedule();
                if let Some(id) = pending.asynchronous {
                    let _ = self.schedule_async(&id);
                }
            }
        }

        /// The entry's time on this clock's internal time line, and the reference time it
        /// falls at.
        fn reference_target(&self, id: &gst::ClockId) -> (ClockTime, u64) {
            // The calibration is read under the clock's lock (the `_unlocked` variant would not).
            let (internal, external, num, denom) = self.obj().calibration();
            let internal =
                gst::Clock::unadjust_with_calibration(id.time(), internal, external, num, denom);
            let anchor = self.anchor();
            (anchor.reference_time(internal), anchor.generation)
        }

        fn schedule_async(&self, id: &gst::ClockId) -> Result<gst::ClockSuccess, gst::ClockError> {
            let inner = loop {
                if unscheduled(id) {
                    return Err(gst::ClockError::Unscheduled);
                }
                let (target, generation) = self.reference_target(id);
                let inner = self.reference().new_single_shot_id(target);
                let mut pending = lock(&self.pending);
                if unscheduled(id) {
                    return Err(gst::ClockError::Unscheduled);
                }
                // A drift change between the target and here found no entry to restart: the
                // target is at the old speed, compute it again. (A change after this finds the
                // entry and restarts it.)
                if self.anchor().generation != generation {
                    continue;
                }
                pending.insert(
                    key(id),
                    Pending {
                        inner: inner.clone(),
                        asynchronous: Some(id.clone()),
                    },
                );
                break inner;
            };
            let weak = self.obj().downgrade();
            let entry = id.clone();
            inner.wait_async(move |_, _, fired| {
                let Some(clock) = weak.upgrade() else {
                    return;
                };
                let imp = clock.imp();
                let current = {
                    let mut pending = lock(&imp.pending);
                    let current = pending.get(&key(&entry)).is_some_and(|p| p == fired);
                    if current {
                        pending.remove(&key(&entry));
                    }
                    current
                };
                if !current || unscheduled(&entry) {
                    return;
                }
                imp.wake_id(&entry);
                if entry.type_() == gst::ClockEntryType::Periodic {
                    let _ = imp.schedule_async(&entry);
                }
            })
        }
    }

    impl PartialEq<gst::ClockId> for Pending {
        fn eq(&self, other: &gst::ClockId) -> bool {
            self.inner.as_ptr() == other.as_ptr()
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DeviceClock {
        const NAME: &'static str = "GstPushTestSrcDeviceClock";
        type Type = super::DeviceClock;
        type ParentType = gst::Clock;

        fn new() -> Self {
            Self {
                reference: OnceLock::new(),
                anchor: Mutex::new(Anchor {
                    reference: ClockTime::ZERO,
                    device: ClockTime::ZERO,
                    drift: Drift::NONE,
                    generation: 0,
                }),
                pending: Mutex::default(),
            }
        }
    }

    impl ObjectImpl for DeviceClock {}

    impl GstObjectImpl for DeviceClock {}

    impl ClockImpl for DeviceClock {
        fn resolution(&self) -> ClockTime {
            self.reference().resolution()
        }

        fn internal_time(&self) -> ClockTime {
            self.anchor().device_time(self.reference().time())
        }

        fn wait(&self, id: &gst::ClockId) -> (Result<gst::ClockSuccess, gst::ClockError>, i64) {
            loop {
                if unscheduled(id) {
                    return (Err(gst::ClockError::Unscheduled), 0);
                }
                let (target, generation) = self.reference_target(id);
                let inner = self.reference().new_single_shot_id(target);
                {
                    let mut pending = lock(&self.pending);
                    if unscheduled(id) {
                        return (Err(gst::ClockError::Unscheduled), 0);
                    }
                    if self.anchor().generation != generation {
                        continue;
                    }
                    pending.insert(
                        key(id),
                        Pending {
                            inner: inner.clone(),
                            asynchronous: None,
                        },
                    );
                }
                let (result, jitter) = inner.wait();
                lock(&self.pending).remove(&key(id));
                match result {
                    // A drift change unscheduled the reference wait: wait again at the new speed.
                    Err(gst::ClockError::Unscheduled) if !unscheduled(id) => continue,
                    _ => {
                        let drift = self.drift();
                        let jitter = jitter.signum()
                            * drift
                                .device_elapsed(ClockTime::from_nseconds(jitter.unsigned_abs()))
                                .nseconds()
                                .min(i64::MAX as u64) as i64;
                        return (result, jitter);
                    }
                }
            }
        }

        fn wait_async(&self, id: &gst::ClockId) -> Result<gst::ClockSuccess, gst::ClockError> {
            self.schedule_async(id)
        }

        fn unschedule(&self, id: &gst::ClockId) {
            id.status().store(gst::ClockReturn::Unscheduled);
            let inner = {
                let mut pending = lock(&self.pending);
                match pending.get(&key(id)) {
                    Some(p) if p.asynchronous.is_some() => {
                        pending.remove(&key(id)).map(|p| p.inner)
                    }
                    Some(p) => Some(p.inner.clone()),
                    None => None,
                }
            };
            if let Some(inner) = inner {
                inner.unschedule();
            }
        }
    }
}
