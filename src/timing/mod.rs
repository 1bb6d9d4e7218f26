//! The push-source timing of SPEC section 2, written once for every element that has it: the
//! test sources (through their base class, `src/pushtestsrc/`) and `pushsrcbin`.
//!
//! Each file is one responsibility, and each keeps its decisions plain values computed under a
//! lock and unit-tested without a pipeline; the functions that post a message or push an event
//! take no lock of ours:
//!
//! - [`properties`]: the shared properties (`latency`, `ts-offset`, `max-offset`,
//!   `push-source-flags`, `is-live`), their defaults, ranges, blurbs and mutability;
//! - [`latency`]: the LATENCY answer (rule 1) and the LATENCY message when it changes;
//! - [`capture_loss`]: the capture buffer of `latency + max-offset` (rule 5), what it loses, and
//!   the QOS message that reports the loss;
//! - [`segment_offset`]: `ts-offset` applied to the SEGMENT events (rule 3), and sent again when
//!   it changes;
//! - [`offset_warning`]: the WARNING when `ts-offset` exceeds `max-offset` (rule 4).

pub mod capture_loss;
pub mod latency;
pub mod offset_warning;
pub mod properties;
pub mod segment_offset;

use std::sync::{Mutex, MutexGuard};

/// A lock that survives a panic elsewhere: the data behind our locks is plain values, consistent
/// between statements.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
