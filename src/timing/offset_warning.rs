//! The WARNING of SPEC section 2 rule 4: a `ts-offset` beyond `max-offset` is applied, and the
//! element warns that data may be lost unless something downstream buffers it.

use std::sync::atomic::{AtomicBool, Ordering};

use gst::ClockTime;
use gst::prelude::*;

use crate::push_source::StreamOffsetResult;

/// Name of the structure in the `details` of the offset WARNING.
pub const OFFSET_WARNING_DETAILS: &str = "pushsource/offset-exceeds-max";

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
