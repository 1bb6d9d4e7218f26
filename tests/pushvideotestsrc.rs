//! `pushvideotestsrc`'s own behaviour: the frame code in every format and size, exact stamps at
//! rational frame rates, latency of one frame, num-buffers, seeking and bad input. SPEC cases 1–6
//! run against it in tests/conformance.rs.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;
use gst_video::prelude::*;
use gstpushsource::{PushSourceExt, PushSourceFlags};
use std::str::FromStr;

const NS_PER_SEC: u128 = 1_000_000_000;

/// The stamp of frame `n` at `num/den` frames per second, as GStreamer rounds it
/// (`gst_util_uint64_scale`: down).
fn frame_time(n: u64, num: u64, den: u64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds((n as u128 * den as u128 * NS_PER_SEC / num as u128) as u64)
}

/// A live (unless told otherwise) harness around `pushvideotestsrc`, negotiated to `caps`, on
/// the harness's TestClock.
fn video_harness(caps: &str, properties: &[(&str, glib::Value)]) -> gst_check::Harness {
    init();
    let element = gst::ElementFactory::make("pushvideotestsrc")
        .build()
        .unwrap();
    for (name, value) in properties {
        element.set_property_from_value(name, value);
    }
    let mut harness = gst_check::Harness::with_element(&element, None, Some("src"));
    harness.set_sink_caps_str(caps);
    harness.use_testclock();
    harness
}

#[derive(Debug, Clone, PartialEq)]
struct Frame {
    number: Option<u32>,
    pts: gst::ClockTime,
    duration: gst::ClockTime,
    offset: u64,
    offset_end: u64,
    discont: bool,
}

fn frame_of(buffer: &gst::BufferRef, caps: &gst::CapsRef) -> Frame {
    Frame {
        number: decode_frame_number(buffer, caps),
        pts: buffer.pts().unwrap(),
        duration: buffer.duration().unwrap(),
        offset: buffer.offset(),
        offset_end: buffer.offset_end(),
        discont: buffer.flags().contains(gst::BufferFlags::DISCONT),
    }
}

/// Runs a non-live `pushvideotestsrc` with `properties` under `caps` into an appsink that holds
/// one buffer at a time, after an optional flushing seek `(rate, start, stop)` made in PAUSED;
/// returns the segment of the first frame and every frame up to EOS.
fn play_non_live(
    properties: &str,
    caps: &str,
    seek: Option<(f64, gst::ClockTime, Option<gst::ClockTime>)>,
) -> (gst::Segment, Vec<Frame>) {
    let pipeline = pipeline(&format!(
        "pushvideotestsrc is-live=false {properties} ! {caps} ! \
         appsink name=sink sync=false max-buffers=1"
    ));
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Paused).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    if let Some((rate, start, stop)) = seek {
        let stop_type = if stop.is_some() {
            gst::SeekType::Set
        } else {
            gst::SeekType::None
        };
        pipeline
            .seek(
                rate,
                gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                gst::SeekType::Set,
                start,
                stop_type,
                stop,
            )
            .expect("the seek is accepted");
        pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    }
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut segment = None;
    let mut frames = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(60)) {
        segment.get_or_insert_with(|| sample.segment().unwrap().clone());
        frames.push(frame_of(sample.buffer().unwrap(), sample.caps().unwrap()));
    }
    assert!(sink.is_eos(), "the stream ends with EOS");
    pipeline.set_state(gst::State::Null).unwrap();
    (segment.expect("at least one frame"), frames)
}

fn numbers(frames: &[Frame]) -> Vec<Option<u32>> {
    frames.iter().map(|f| f.number).collect()
}

fn expected_numbers(range: impl Iterator<Item = u32>) -> Vec<Option<u32>> {
    range.map(Some).collect()
}

#[test]
fn frame_numbers_decode_in_every_format_and_size() {
    let cases = [
        ("I420", 16, 16),
        ("I420", 18, 22),
        ("I420", 1280, 720),
        ("RGBA", 16, 16),
        ("RGBA", 17, 31),
        ("RGBA", 1280, 720),
        ("GRAY8", 16, 16),
        ("GRAY8", 19, 23),
        ("GRAY8", 1280, 720),
        ("YV12", 50, 40),
        ("Y42B", 50, 40),
        ("Y444", 50, 40),
        ("NV12", 50, 40),
        ("NV21", 50, 40),
        ("AYUV", 33, 17),
        ("BGRA", 33, 17),
        ("ARGB", 33, 17),
        ("ABGR", 33, 17),
        ("RGBx", 33, 17),
        ("BGRx", 33, 17),
        ("xRGB", 33, 17),
        ("xBGR", 33, 17),
        ("RGB", 33, 17),
        ("BGR", 33, 17),
    ];
    for (format, width, height) in cases {
        let caps = format!("video/x-raw,format={format},width={width},height={height}");
        let (_, frames) = play_non_live("num-buffers=6", &caps, None);
        assert_eq!(
            numbers(&frames),
            expected_numbers(0..6),
            "{format} {width}x{height}"
        );
        for (k, frame) in frames.iter().enumerate() {
            assert_eq!((frame.offset, frame.offset_end), (k as u64, k as u64 + 1));
        }
    }
}

#[test]
fn frame_numbers_decode_at_the_largest_size() {
    let (_, frames) = play_non_live(
        "num-buffers=3",
        "video/x-raw,format=I420,width=4096,height=2160",
        None,
    );
    assert_eq!(numbers(&frames), expected_numbers(0..3));
}

#[test]
fn the_bars_move_two_pixels_a_frame() {
    init();
    // The code grid covers 48 × 48 pixels (cells of 6): the bars show to its right.
    let caps = gst::Caps::from_str("video/x-raw,format=GRAY8,width=160,height=48").unwrap();
    let mut harness = video_harness(
        &caps.to_string(),
        &[
            ("is-live", false.to_value()),
            ("num-buffers", 2i32.to_value()),
        ],
    );
    harness.play();
    let rows: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let buffer = harness.pull().unwrap();
            let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
            let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(&buffer, &info).unwrap();
            let stride = frame.plane_stride()[0] as usize;
            frame.plane_data(0).unwrap()[40 * stride + 48..40 * stride + 160].to_vec()
        })
        .collect();
    assert_ne!(rows[0], rows[1], "the picture moves");
    assert_eq!(rows[1][..110], rows[0][2..], "by two pixels");
}

#[test]
fn stamps_are_exact_at_30000_1001_without_drift() {
    let caps = "video/x-raw,format=GRAY8,width=16,height=16,framerate=30000/1001";
    let (_, frames) = play_non_live("num-buffers=90", caps, None);
    assert_eq!(frames.len(), 90);
    for (k, frame) in frames.iter().enumerate() {
        let k = k as u64;
        assert_eq!(frame.pts, frame_time(k, 30_000, 1_001), "frame {k}");
        assert_eq!(
            frame.duration,
            frame_time(k + 1, 30_000, 1_001) - frame_time(k, 30_000, 1_001)
        );
    }
    assert_eq!(frames[1].pts.nseconds(), 33_366_666);
    assert_eq!(frames[2].pts.nseconds(), 66_733_333);

    // 30000 frames last exactly 1001 s: a seek there lands on frame 30000, stamped exactly.
    let (_, frames) = play_non_live(
        "num-buffers=30003",
        caps,
        Some((1.0, gst::ClockTime::from_seconds(1001), None)),
    );
    assert_eq!(numbers(&frames), expected_numbers(30_000..30_003));
    assert_eq!(frames[0].pts, gst::ClockTime::from_seconds(1001));
    assert_eq!(frames[1].pts, frame_time(30_001, 30_000, 1_001));
    assert!(frames[0].discont);
}

#[test]
fn stamps_are_exact_at_100_fps() {
    let (_, frames) = play_non_live(
        "num-buffers=50",
        "video/x-raw,format=I420,width=64,height=48,framerate=100/1",
        None,
    );
    for (k, frame) in frames.iter().enumerate() {
        assert_eq!(frame.pts, ms(10 * k as u64));
        assert_eq!(frame.duration, ms(10));
        assert_eq!(frame.number, Some(k as u32));
    }
    assert!(frames[0].discont, "the first buffer starts the stream");
    assert!(frames[1..].iter().all(|f| !f.discont));
}

#[test]
fn live_stamps_at_30000_1001_are_capture_times_pushed_once_captured() {
    let mut harness = video_harness(
        "video/x-raw,format=I420,width=32,height=32,framerate=30000/1001",
        &[],
    );
    harness.play();
    let testclock = harness.testclock().unwrap();
    for k in 0..10u64 {
        assert_eq!(
            next_pending_wait(&testclock).time(),
            frame_time(k + 1, 30_000, 1_001),
            "frame {k} is pushed once fully captured"
        );
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(buffer.pts(), Some(frame_time(k, 30_000, 1_001)));
        let caps = harness.sinkpad().unwrap().current_caps().unwrap();
        assert_eq!(decode_frame_number(&buffer, &caps), Some(k as u32));
    }
    let element = harness.element().unwrap();
    assert_eq!(element.property::<u64>("latency"), 33_366_667);
}

fn latency_query(element: &gst::Element) -> (bool, gst::ClockTime, Option<gst::ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(element.static_pad("src").unwrap().query(&mut query));
    query.result()
}

#[test]
fn latency_defaults_to_one_frame() {
    init();
    let element = gst::ElementFactory::make("pushvideotestsrc")
        .build()
        .unwrap();
    let default = element
        .find_property("latency")
        .unwrap()
        .default_value()
        .get::<u64>()
        .unwrap();
    assert_eq!(default, 33_333_334, "one frame at 30/1, rounded up");
    assert_eq!(element.property::<u64>("latency"), default);

    let mut harness = video_harness(
        "video/x-raw,format=RGBA,width=16,height=16,framerate=25/1",
        &[],
    );
    harness.play();
    let testclock = harness.testclock().unwrap();
    for k in 0..4u64 {
        assert_eq!(next_pending_wait(&testclock).time(), ms(40 * (k + 1)));
        assert_eq!(crank_and_pull(&mut harness).pts(), Some(ms(40 * k)));
    }
    let element = harness.element().unwrap();
    assert_eq!(element.property::<u64>("latency"), ms(40).nseconds());
    assert_eq!(latency_query(&element), (true, ms(40), Some(ms(240))));
    let source = element
        .dynamic_cast_ref::<gstpushsource::PushSource>()
        .unwrap();
    assert_eq!(source.source_latency(), Some(ms(40)));
}

#[test]
fn frames_are_pushed_at_capture_plus_latency() {
    let mut harness = video_harness(
        "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
        &[("latency", ms(100).nseconds().to_value())],
    );
    harness.play();
    let testclock = harness.testclock().unwrap();
    for k in 0..4u64 {
        assert_eq!(next_pending_wait(&testclock).time(), ms(40 * k + 100));
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(
            buffer.pts(),
            Some(ms(40 * k)),
            "stamped with its capture time"
        );
    }
    let element = harness.element().unwrap();
    assert_eq!(latency_query(&element), (true, ms(100), Some(ms(300))));
}

#[test]
fn num_buffers_ends_the_stream_live_and_not() {
    let mut harness = video_harness(
        "video/x-raw,format=I420,width=16,height=16,framerate=100/1",
        &[("num-buffers", 3i32.to_value())],
    );
    harness.play();
    for k in 0..3 {
        assert_eq!(crank_and_pull(&mut harness).offset(), k);
    }
    loop {
        let event = harness.pull_event().expect("events until EOS");
        if event.type_() == gst::EventType::Eos {
            break;
        }
    }
    assert_eq!(harness.buffers_in_queue(), 0);

    let (_, frames) = play_non_live("num-buffers=7", "video/x-raw,width=16,height=16", None);
    assert_eq!(numbers(&frames), expected_numbers(0..7));
}

const CAPS_100: &str = "video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1";

#[test]
fn seek_at_rate_2_carries_the_rate_and_starts_with_discont() {
    let (segment, frames) = play_non_live("num-buffers=20", CAPS_100, Some((2.0, ms(50), None)));
    assert_eq!(segment.rate(), 2.0);
    assert_eq!(numbers(&frames), expected_numbers(5..20));
    assert_eq!(frames[0].pts, ms(50), "stamps stay media time");
    assert!(frames[0].discont);
    assert!(frames[1..].iter().all(|f| !f.discont));
}

#[test]
fn reverse_playback_shows_the_frames_backwards() {
    let (segment, frames) = play_non_live("num-buffers=20", CAPS_100, Some((-1.0, ms(0), None)));
    assert_eq!(segment.rate(), -1.0);
    assert_eq!(numbers(&frames), expected_numbers((0..20).rev()));
    assert_eq!(frames[0].pts, ms(190));
    assert!(frames[0].discont);

    let (_, frames) = play_non_live(
        "num-buffers=20",
        CAPS_100,
        Some((-2.0, ms(30), Some(ms(80)))),
    );
    assert_eq!(numbers(&frames), expected_numbers((3..8).rev()));
}

#[test]
fn seek_far_ahead_shows_high_frame_numbers() {
    let (_, frames) = play_non_live(
        "num-buffers=70002",
        CAPS_100,
        Some((1.0, gst::ClockTime::from_seconds(700), None)),
    );
    assert_eq!(numbers(&frames), expected_numbers(70_000..70_002));
}

#[test]
fn live_source_refuses_rates_other_than_1() {
    let mut harness = video_harness(CAPS_100, &[]);
    harness.play();
    crank_and_pull(&mut harness);
    let element = harness.element().unwrap();
    assert!(!element.send_event(rate_seek(2.0)));
    assert!(!element.send_event(rate_seek(-1.0)));
    assert!(element.send_event(rate_seek(1.0)), "rate 1.0 is a no-op");
    let buffer = crank_and_pull(&mut harness);
    assert_eq!(
        (buffer.pts(), buffer.offset()),
        (Some(ms(10)), 1),
        "the capture goes on"
    );
}

#[test]
fn is_live_and_the_not_live_flag_are_one_fact() {
    init();
    let element = gst::ElementFactory::make("pushvideotestsrc")
        .property("is-live", false)
        .build()
        .unwrap();
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::NOT_LIVE
    );
    element.set_property("push-source-flags", PushSourceFlags::INTERNAL_RM);
    assert!(element.property::<bool>("is-live"));
}

#[test]
fn out_of_range_values_are_refused() {
    for setting in ["latency=-5", "max-offset=-1", "num-buffers=-2"] {
        let output = gst_launch(&[
            "pushvideotestsrc",
            "is-live=false",
            "num-buffers=3",
            setting,
            "!",
            "fakesink",
        ]);
        let text = output_text(&output);
        let property = setting.split('=').next().unwrap();
        assert!(output.status.success(), "{setting}: still runs\n{text}");
        assert!(
            text.contains(&format!("out of range for property '{property}'")),
            "{setting}: the user is told why\n{text}"
        );
    }
}

#[test]
fn caps_it_cannot_produce_fail_at_link_time() {
    for caps in [
        "video/x-raw,format=UYVY",
        "video/x-raw,width=8",
        "video/x-raw,height=4320",
        "video/x-raw,framerate=0/1",
        "audio/x-raw",
    ] {
        let output = gst_launch(&[
            "pushvideotestsrc",
            "num-buffers=3",
            "!",
            caps,
            "!",
            "fakesink",
        ]);
        let text = output_text(&output);
        assert!(!output.status.success(), "{caps}\n{text}");
        assert!(text.contains("can't handle caps"), "{caps}\n{text}");
        assert!(!text.contains("panicked"), "{caps}\n{text}");
    }
}

#[test]
fn caps_it_cannot_produce_fail_negotiation_with_a_clear_error() {
    let (error, debug) =
        negotiation_failure("pushvideotestsrc is-live=false", "video/x-raw,format=UYVY");
    assert!(error.matches(gst::CoreError::Negotiation));
    assert!(
        error
            .to_string()
            .contains("Downstream accepts none of the formats pushvideotestsrc produces"),
        "{error}"
    );
    assert!(debug.contains("I420") && debug.contains("UYVY"), "{debug}");
}
