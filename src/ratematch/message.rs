//! What `ratematch` tells the application: the `rate-matching` element message and the text of
//! the WARNING for a ratio beyond reach.

use super::matcher::Status;
use super::mode::Reference;

pub const MESSAGE_NAME: &str = "rate-matching";

/// The `rate-matching` message's structure: `mode` (the reference in use), `drift` (ppm),
/// `offset` (ns), `locked`.
pub fn rate_matching(reference: Reference, status: Status) -> gst::Structure {
    gst::Structure::builder(MESSAGE_NAME)
        .field("mode", reference.name())
        .field("drift", status.drift_ppm)
        .field("offset", status.offset_ns)
        .field("locked", status.locked)
        .build()
}

/// The WARNING's text: the ratio needed and the one held.
pub fn beyond_reach(needed: f64, clamp: f64) -> String {
    format!(
        "Rates differ by more than ratematch can follow: the stream needs a ratio of {needed:.6} \
         ({:+.0} ppm), the loop holds {clamp:.6} ({:+.0} ppm)",
        (needed - 1.0) * 1e6,
        (clamp - 1.0) * 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_has_its_four_fields() {
        gst::init().unwrap();
        let structure = rate_matching(
            Reference::Timestamps,
            Status {
                drift_ppm: 999.5,
                offset_ns: -20,
                locked: true,
            },
        );
        assert_eq!(structure.name(), "rate-matching");
        assert_eq!(structure.get::<&str>("mode").unwrap(), "timestamps");
        assert_eq!(structure.get::<f64>("drift").unwrap(), 999.5);
        assert_eq!(structure.get::<i64>("offset").unwrap(), -20);
        assert!(structure.get::<bool>("locked").unwrap());
    }

    #[test]
    fn the_warning_names_both_ratios() {
        let text = beyond_reach(1.08, 1.05);
        assert!(text.contains("1.080000 (+80000 ppm)"), "{text}");
        assert!(text.contains("1.050000 (+50000 ppm)"), "{text}");
    }
}
