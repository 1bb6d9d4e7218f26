//! Bad input is refused the way GStreamer refuses it, never with a panic, a hang or lost state.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;

/// Runs a short non-live pipeline with one bad property; it must still run to the end, with
/// GLib's message naming the property.
fn assert_refused_by_gst_launch(property: &str, value: &str) {
    let setting = format!("{property}={value}");
    let output = gst_launch(&[
        "pushaudiotestsrc",
        "is-live=false",
        "num-buffers=3",
        &setting,
        "!",
        "fakesink",
    ]);
    let text = output_text(&output);
    assert!(
        output.status.success(),
        "{setting}: the pipeline still runs\n{text}"
    );
    assert!(
        text.contains(&format!("out of range for property '{property}'")),
        "{setting}: the user is told why\n{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn out_of_range_values_are_refused_through_gst_launch() {
    assert_refused_by_gst_launch("freq", "-1");
    assert_refused_by_gst_launch("freq", "nan");
    assert_refused_by_gst_launch("samplesperbuffer", "0");
    // A buffer of G_MAXINT samples could not be allocated: the range stops at 2^20.
    assert_refused_by_gst_launch("samplesperbuffer", "2147483647");
    assert_refused_by_gst_launch("volume", "1.5");
    // GLib reads "-5" for a guint64 as 2^64 - 5; the ranges stop at GstClockTimeDiff's maximum.
    assert_refused_by_gst_launch("latency", "-5");
    assert_refused_by_gst_launch("max-offset", "-1");
}

#[test]
fn malformed_values_are_refused_through_gst_launch() {
    for setting in ["wave=bogus", "freq=abc", "push-source-flags=nonsense"] {
        let output = gst_launch(&[
            "pushaudiotestsrc",
            "is-live=false",
            "num-buffers=3",
            setting,
            "!",
            "fakesink",
        ]);
        let text = output_text(&output);
        assert!(!text.contains("panicked"), "{setting}: {text}");
        let property = setting.split('=').next().unwrap();
        assert!(
            text.contains(property),
            "{setting}: the message names the property\n{text}"
        );
    }
}

#[test]
fn property_ranges_are_what_gst_launch_enforces() {
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .build()
        .unwrap();
    let class = element.class();
    let freq = class.find_property("freq").unwrap();
    let freq = freq.downcast_ref::<glib::ParamSpecDouble>().unwrap();
    assert_eq!((freq.minimum(), freq.maximum()), (0.0, 96_000.0));
    let spb = class.find_property("samplesperbuffer").unwrap();
    assert_eq!(
        spb.downcast_ref::<glib::ParamSpecInt>().unwrap().minimum(),
        1
    );
    for name in ["latency", "max-offset"] {
        let pspec = class.find_property(name).unwrap();
        assert_eq!(
            pspec
                .downcast_ref::<glib::ParamSpecUInt64>()
                .unwrap()
                .maximum(),
            i64::MAX as u64
        );
    }
    let ts_offset = class.find_property("ts-offset").unwrap();
    let ts_offset = ts_offset.downcast_ref::<glib::ParamSpecInt64>().unwrap();
    assert_eq!(
        (ts_offset.minimum(), ts_offset.maximum()),
        (i64::MIN, i64::MAX)
    );
    for pspec in class.list_properties() {
        assert!(
            pspec.blurb().is_some_and(|b| !b.is_empty()),
            "{} has a blurb",
            pspec.name()
        );
    }
}

#[test]
fn gint64_extreme_offsets_run_through_gst_launch() {
    for offset in [i64::MAX, i64::MIN, 1 << 62, -(1 << 62)] {
        let setting = format!("ts-offset={offset}");
        let output = gst_launch(&[
            "pushaudiotestsrc",
            &setting,
            "num-buffers=5",
            "!",
            "fakesink",
            "sync=false",
        ]);
        let text = output_text(&output);
        assert!(output.status.success(), "{setting}\n{text}");
        assert!(
            text.contains("Got EOS"),
            "{setting}: streams to the end\n{text}"
        );
        assert_eq!(
            text.contains("exceeds the maximum preferred offset"),
            offset > 200_000_000,
            "{setting}: WARNING only above max-offset\n{text}"
        );
    }
}

#[test]
fn caps_it_cannot_produce_fail_at_link_time_in_gst_launch() {
    let output = gst_launch(&[
        "pushaudiotestsrc",
        "num-buffers=3",
        "!",
        "audio/x-raw,rate=4000",
        "!",
        "fakesink",
    ]);
    assert!(!output.status.success());
    assert!(output_text(&output).contains("can't handle caps audio/x-raw, rate=(int)4000"));
}

#[test]
fn caps_it_cannot_produce_fail_negotiation_with_a_clear_error() {
    let (error, debug) =
        negotiation_failure("pushaudiotestsrc is-live=false", "audio/x-raw,format=U8");
    assert!(error.matches(gst::CoreError::Negotiation), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("Downstream accepts none of the formats")
    );
    assert!(
        debug.contains("S16LE") && debug.contains("U8"),
        "both sides are named: {debug}"
    );
}

#[test]
fn property_changes_in_every_state_never_panic() {
    let (mut harness, _bus) = source_harness(&[]);
    let element = harness.element().unwrap();
    let poke = |element: &gst::Element| {
        element.set_property("samplesperbuffer", 1i32);
        element.set_property("samplesperbuffer", 480i32);
        element.set_property("latency", i64::MAX as u64);
        element.set_property("latency", 0u64);
        element.set_property("max-offset", i64::MAX as u64);
        element.set_property("max-offset", 0u64);
        element.set_property("ts-offset", i64::MIN);
        element.set_property("ts-offset", 0i64);
        element.set_property("freq", 96_000.0f64);
        element.set_property_from_str("wave", "white-noise");
    };
    poke(&element);
    harness.play();
    crank_and_pull(&mut harness);
    poke(&element);
    // Still streaming after every change, with max-offset 0: capacity is just the latency.
    crank_and_pull(&mut harness);
    crank_and_pull(&mut harness);
}
