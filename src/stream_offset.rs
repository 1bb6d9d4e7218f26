//! The stream offset (`ts-offset`, IAMPushSource::SetStreamOffset) as every push source applies
//! it: to the running time of its output, through the SEGMENT events it sends (the mechanism of
//! `gst_pad_set_offset`, with saturating arithmetic), and the WARNING of SPEC section 2 rule 4.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;

use crate::push_source::StreamOffsetResult;
use crate::time;

pub const DEFAULT_TS_OFFSET: i64 = 0;
/// SPEC section 2: the default maximum stream offset.
pub const DEFAULT_MAX_OFFSET: ClockTime = ClockTime::from_mseconds(200);

/// The `ts-offset` property every push source has.
pub fn ts_offset_param_spec() -> glib::ParamSpec {
    glib::ParamSpecInt64::builder("ts-offset")
        .nick("Stream offset")
        .blurb(
            "Stream offset in ns added to the running time of all output \
             (IAMPushSource::SetStreamOffset); effective from the next buffer",
        )
        .default_value(DEFAULT_TS_OFFSET)
        .mutable_playing()
        .build()
}

/// Name of the structure in the `details` of the offset WARNING.
pub const OFFSET_WARNING_DETAILS: &str = "pushsource/offset-exceeds-max";

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
        self.output
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        let shifted = time::offset_segment(&segment, offset);
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

/// The WARNING of SPEC section 2 rule 4. In NULL a bus may be missing or still flushing
/// (gst-launch sets properties then), so an offset set in NULL is reported at NULL→READY.
#[derive(Debug, Default)]
pub struct OffsetWarning {
    pending: AtomicBool,
}

impl OffsetWarning {
    /// Reports that `offset` exceeds `max_offset`, now or, in NULL, at the change to READY.
    pub fn warn(&self, element: &impl IsA<gst::Element>, offset: i64, max_offset: ClockTime) {
        if element.current_state() == gst::State::Null {
            self.pending.store(true, Ordering::Relaxed);
            return;
        }
        post_offset_warning(element, offset, max_offset);
    }

    /// A new `ts-offset`: what the interface's setter returns (S_OK or S_FALSE), with the
    /// WARNING when it exceeds `max_offset`.
    pub fn offset_set(
        &self,
        element: &impl IsA<gst::Element>,
        offset: i64,
        max_offset: ClockTime,
    ) -> StreamOffsetResult {
        let result = StreamOffsetResult::for_offset(offset, max_offset);
        if result == StreamOffsetResult::ExceedsMaximum {
            self.warn(element, offset, max_offset);
        }
        result
    }

    /// A new `max-offset`: warns when `offset` exceeds it but did not exceed the one `before`.
    pub fn max_offset_changed(
        &self,
        element: &impl IsA<gst::Element>,
        offset: i64,
        before: ClockTime,
        after: ClockTime,
    ) {
        let exceeds =
            |max| StreamOffsetResult::for_offset(offset, max) == StreamOffsetResult::ExceedsMaximum;
        if exceeds(after) && !exceeds(before) {
            self.warn(element, offset, after);
        }
    }

    /// To call at NULL→READY with the current values: posts a warning deferred in NULL if the
    /// offset still exceeds the maximum.
    pub fn post_pending(&self, element: &impl IsA<gst::Element>, offset: i64, max: ClockTime) {
        if self.pending.swap(false, Ordering::Relaxed)
            && StreamOffsetResult::for_offset(offset, max) == StreamOffsetResult::ExceedsMaximum
        {
            post_offset_warning(element, offset, max);
        }
    }
}

fn post_offset_warning(element: &impl IsA<gst::Element>, offset: i64, max_offset: ClockTime) {
    let details = gst::Structure::builder(OFFSET_WARNING_DETAILS)
        .field("ts-offset", offset)
        .field("max-offset", max_offset.nseconds())
        .build();
    gst::element_warning!(
        element,
        gst::CoreError::Clock,
        (
            "Stream offset exceeds the maximum preferred offset: data may be lost unless \
             something downstream buffers it"
        ),
        ["ts-offset {offset} ns > max-offset {} ns", max_offset.nseconds()],
        details: details
    );
}
