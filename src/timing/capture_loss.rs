//! The capture buffer of a push source (SPEC section 2 rule 5): it holds `latency + max-offset`
//! of capture; data that has waited longer than that to be pushed is overwritten, oldest first,
//! and lost. A loss is reported with a QOS message (and the next buffer is marked DISCONT by the
//! element).
//!
//! Like a device's ring buffer it works in whole buffers: a buffer is lost only once all of it
//! has been overwritten, so a wake-up that comes a little late costs nothing, even with
//! `max-offset` 0.

use gst::ClockTime;
use gst::prelude::*;

use crate::time;
#[cfg(test)]
use crate::time::Rate;

/// The modelled capture buffer, in running time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureBuffer {
    capacity: ClockTime,
}

impl CaptureBuffer {
    pub fn new(latency: ClockTime, max_offset: ClockTime) -> Self {
        Self {
            capacity: time::saturating_add(latency, max_offset),
        }
    }

    /// Whether data captured until running time `end` has all been overwritten at `now`.
    pub fn has_overwritten(&self, end: ClockTime, now: ClockTime) -> bool {
        time::saturating_add(end, self.capacity) <= now
    }

    /// On a grid of units (samples, frames) at `rate` whose unit 0 was captured at running time
    /// `origin`: how many units from the start have been overwritten whole at `now`. (The test
    /// sources use [`Self::kept_from`] on their own capture time lines.)
    #[cfg(test)]
    pub fn overwritten_units(&self, rate: Rate, origin: ClockTime, now: ClockTime) -> u64 {
        rate.time_to_units_floor(self.kept_from(now).saturating_sub(origin))
    }

    /// The running time from which the capture buffer still holds data at `now`.
    pub fn kept_from(&self, now: ClockTime) -> ClockTime {
        now.saturating_sub(self.capacity)
    }
}

/// The unit in which a QOS message counts processed and dropped data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosUnits {
    /// Units in `GST_FORMAT_DEFAULT` (audio samples), as audio sources count them.
    Default,
    /// `GST_FORMAT_BUFFERS` (video frames, wrapped sources' buffers).
    Buffers,
}

impl QosUnits {
    pub fn count(self, amount: u64) -> gst::GenericFormattedValue {
        match self {
            QosUnits::Default => {
                gst::GenericFormattedValue::Default(Some(gst::format::Default::from_u64(amount)))
            }
            QosUnits::Buffers => {
                gst::GenericFormattedValue::Buffers(Some(gst::format::Buffers::from_u64(amount)))
            }
        }
    }
}

/// A loss to report: decided under the element's lock, posted after it is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LossReport {
    /// PTS of the first data lost.
    pub timestamp: ClockTime,
    pub stream_time: Option<ClockTime>,
    /// Running time of the first data lost, before `ts-offset`.
    pub running_time: ClockTime,
    pub duration: ClockTime,
    /// Running time at which the loss was found.
    pub now: ClockTime,
    pub units: QosUnits,
    /// Totals since the start: data pushed, data lost.
    pub processed: u64,
    pub dropped: u64,
}

impl LossReport {
    /// How late the lost data is: `now` minus its running time, clamped to gint64.
    pub fn jitter(&self) -> i64 {
        (self.now.nseconds() as i128 - self.running_time.nseconds() as i128)
            .clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// This loss and `later`, found after it with nothing pushed in between, as one report:
    /// the first data lost and its lateness from this one, the duration of both, the totals
    /// (cumulative, so exact) from `later`. A source that falls further behind while it
    /// reports (a QOS post can take long when hundreds of threads post at once: GStreamer's bus
    /// queue makes each writer wait for the ones before it) then posts once per buffer it
    /// pushes, not once per loss it finds, and cannot be kept posting for ever.
    pub fn merged_with(self, later: LossReport) -> LossReport {
        LossReport {
            duration: time::saturating_add(self.duration, later.duration),
            now: later.now,
            units: later.units,
            processed: later.processed,
            dropped: later.dropped,
            ..self
        }
    }

    /// The QOS message (`live`), its running time shifted by `ts_offset` as the output is.
    pub fn message(&self, src: &impl IsA<gst::Object>, ts_offset: i64) -> gst::Message {
        gst::message::Qos::builder(true)
            .running_time(time::add_offset(self.running_time, ts_offset).unwrap_or(ClockTime::ZERO))
            .stream_time(self.stream_time)
            .timestamp(self.timestamp)
            .duration(self.duration)
            .values(self.jitter(), 1.0, 1_000_000)
            .stats(
                self.units.count(self.processed),
                self.units.count(self.dropped),
            )
            .src(src)
            .build()
    }
}

/// Losses found one after the other, not posted yet: merged into one report
/// ([`LossReport::merged_with`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UnreportedLoss(Option<LossReport>);

impl UnreportedLoss {
    pub fn add(&mut self, report: LossReport) {
        self.0 = Some(match self.0 {
            Some(earlier) => earlier.merged_with(report),
            None => report,
        });
    }

    /// The report to post now (none when nothing was lost since the last one).
    pub fn take(&mut self) -> Option<LossReport> {
        self.0.take()
    }
}

/// Logs the loss and posts its QOS message. To call with no lock of ours held.
pub fn post_loss(
    element: &impl IsA<gst::Element>,
    cat: gst::DebugCategory,
    report: &LossReport,
    ts_offset: i64,
) {
    let element = element.upcast_ref::<gst::Element>();
    gst::warning!(
        cat,
        obj = element,
        "blocked downstream beyond latency + max-offset: lost {} from {}",
        report.duration,
        report.running_time
    );
    let _ = element.post_message(report.message(element, ts_offset));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> ClockTime {
        ClockTime::from_mseconds(ms)
    }

    #[test]
    fn a_buffer_is_lost_only_once_overwritten_whole() {
        gst::init().unwrap();
        let buffer = CaptureBuffer::new(ms(40), ClockTime::ZERO);
        // A buffer captured until 40 ms is all there until 80 ms, and all overwritten at 80 ms.
        assert!(!buffer.has_overwritten(ms(40), ms(80) - ClockTime::NSECOND));
        assert!(buffer.has_overwritten(ms(40), ms(80)));
        assert!(
            !CaptureBuffer::new(ClockTime::MAX, ClockTime::MAX)
                .has_overwritten(ms(1), ClockTime::MAX - ClockTime::NSECOND)
        );
    }

    #[test]
    fn no_slack_and_a_late_wakeup_overwrite_no_whole_frame() {
        gst::init().unwrap();
        // 30 fps, latency one frame rounded up, max-offset 0: frame 0 due at 33_333_334 ns.
        let rate = Rate::per_second(30);
        let latency = rate.units_to_time_ceil(1);
        let buffer = CaptureBuffer::new(latency, ClockTime::ZERO);
        let due = latency;
        assert_eq!(buffer.overwritten_units(rate, ClockTime::ZERO, due), 0);
        assert_eq!(
            buffer.overwritten_units(rate, ClockTime::ZERO, due + ms(3)),
            0
        );
        assert_eq!(
            buffer.overwritten_units(rate, ClockTime::ZERO, due + ms(30)),
            0
        );
        assert_eq!(
            buffer.overwritten_units(rate, ClockTime::ZERO, due + ms(34)),
            1
        );
        // The grid starts where capture started.
        assert_eq!(buffer.overwritten_units(rate, ms(500), due + ms(34)), 0);
    }

    #[test]
    fn consecutive_losses_merge_into_one_report_with_exact_totals() {
        gst::init().unwrap();
        let first = LossReport {
            timestamp: ms(100),
            stream_time: Some(ms(100)),
            running_time: ms(100),
            duration: ms(40),
            now: ms(200),
            units: QosUnits::Default,
            processed: 10,
            dropped: 4,
        };
        let second = LossReport {
            timestamp: ms(140),
            stream_time: Some(ms(140)),
            running_time: ms(140),
            duration: ms(20),
            now: ms(230),
            units: QosUnits::Default,
            processed: 10,
            dropped: 6,
        };
        let mut unreported = UnreportedLoss::default();
        assert_eq!(unreported.take(), None, "nothing lost, nothing to post");
        unreported.add(first);
        unreported.add(second);
        let merged = unreported.take().expect("one report for both");
        assert_eq!(unreported.take(), None, "taken once");
        // From the first loss: where the lost data starts.
        assert_eq!(
            (merged.timestamp, merged.stream_time, merged.running_time),
            (ms(100), Some(ms(100)), ms(100))
        );
        // Both durations, the latest totals (cumulative: the dropped count stays exact).
        assert_eq!(merged.duration, ms(60));
        assert_eq!((merged.processed, merged.dropped), (10, 6));
        // As late as the first data lost, at the time the last loss was found.
        assert_eq!(merged.jitter(), ms(130).nseconds() as i64);
        // A single loss is reported as it is.
        let mut single = UnreportedLoss::default();
        single.add(first);
        assert_eq!(single.take(), Some(first));
    }

    #[test]
    fn jitter_is_clamped_to_gint64() {
        gst::init().unwrap();
        let report = LossReport {
            timestamp: ClockTime::ZERO,
            stream_time: None,
            running_time: ClockTime::ZERO,
            duration: ms(10),
            now: ClockTime::MAX,
            units: QosUnits::Buffers,
            processed: 1,
            dropped: 2,
        };
        assert_eq!(report.jitter(), i64::MAX);
        let late = LossReport {
            now: ms(30),
            running_time: ms(10),
            ..report
        };
        assert_eq!(late.jitter(), ms(20).nseconds() as i64);
        let message = late.message(&gst::Bin::new(), ms(5).nseconds() as i64);
        let gst::MessageView::Qos(qos) = message.view() else {
            unreachable!()
        };
        assert_eq!(qos.get().1, Some(ms(15)), "running time with ts-offset");
        assert_eq!(qos.values().0, ms(20).nseconds() as i64);
    }
}
