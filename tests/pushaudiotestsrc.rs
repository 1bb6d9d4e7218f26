//! Behaviour of `pushaudiotestsrc` beyond the shared conformance suite (tests/conformance.rs):
//! SPEC section 2 rules 2 and 6 as the test source models them, clock waits, wake-up jitter and
//! renegotiation, with the TestClock.

mod common;

use common::*;
use gst::prelude::*;
use gst_base::prelude::*;
use gstpushsource::{PushSource, PushSourceExt, PushSourceFlags};

/// One 480-sample buffer at 48 kHz.
const BUFFER: gst::ClockTime = gst::ClockTime::from_mseconds(10);

fn latency_query(element: &gst::Element) -> (bool, gst::ClockTime, Option<gst::ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(element.static_pad("src").unwrap().query(&mut query));
    query.result()
}

#[test]
fn live_buffer_is_pushed_at_capture_plus_latency() {
    let (mut harness, _bus) = source_harness(&[("latency", ms(100).nseconds().to_value())]);
    harness.play();
    let testclock = harness.testclock().unwrap();
    for k in 0..5u64 {
        let id = next_pending_wait(&testclock);
        assert_eq!(
            id.time(),
            BUFFER * k + ms(100),
            "buffer {k} waits for capture + latency"
        );
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(
            buffer.pts(),
            Some(BUFFER * k),
            "PTS is the capture running time"
        );
        assert_eq!(buffer.duration(), Some(BUFFER));
        assert_eq!(buffer.offset(), 480 * k);
        assert_eq!(buffer.offset_end(), 480 * (k + 1));
    }
}

#[test]
fn latency_below_one_buffer_is_one_buffer() {
    let (mut harness, _bus) = source_harness(&[("latency", ms(1).nseconds().to_value())]);
    harness.play();
    let testclock = harness.testclock().unwrap();
    assert_eq!(
        next_pending_wait(&testclock).time(),
        BUFFER,
        "not before the last sample is captured"
    );
    crank_and_pull(&mut harness);
    let element = harness.element().unwrap();
    assert_eq!(element.property::<u64>("latency"), BUFFER.nseconds());
    assert_eq!(latency_query(&element).1, BUFFER);
}

#[test]
fn latency_change_while_playing_posts_latency_and_takes_effect() {
    let (mut harness, bus) = source_harness(&[]);
    harness.play();
    crank_and_pull(&mut harness);
    drain_messages(&bus);
    let element = harness.element().unwrap();
    element.set_property("latency", ms(50).nseconds());
    let messages = drain_messages(&bus);
    assert_eq!(
        messages
            .iter()
            .filter(|m| matches!(m.view(), gst::MessageView::Latency(_)))
            .count(),
        1
    );
    assert_eq!(latency_query(&element).1, ms(50));
    let id = next_pending_wait(&harness.testclock().unwrap());
    assert_eq!(
        id.time(),
        BUFFER + ms(50),
        "the next buffer (captured at 10 ms) waits for the new latency"
    );
    // Setting the same value again changes nothing and posts nothing.
    element.set_property("latency", ms(50).nseconds());
    assert!(drain_messages(&bus).is_empty());
}

#[test]
fn offsets_apply_to_segments_sent_after_they_change_only() {
    // The segment that reaches downstream before the first buffer already carries the offset.
    let (mut harness, _bus) = source_harness(&[("ts-offset", 7i64.to_value())]);
    harness.play();
    crank_and_pull(&mut harness);
    assert_eq!(
        current_segment(&harness).base(),
        Some(gst::ClockTime::from_nseconds(7))
    );
    // The source pad keeps the original segment: a re-sent sticky segment gets the offset again.
    let element = harness.element().unwrap();
    let original = element
        .static_pad("src")
        .unwrap()
        .sticky_event::<gst::event::Segment>(0)
        .unwrap();
    let original = original
        .segment()
        .downcast_ref::<gst::ClockTime>()
        .unwrap()
        .clone();
    assert_eq!(original.base(), Some(gst::ClockTime::ZERO));
}

/// `pushaudiotestsrc ! [queue !] fakesink sync=false` on a TestClock, with fakesink's pad blocked
#[test]
fn not_live_and_is_live_are_one_fact() {
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .build()
        .unwrap();
    let base_src = element.dynamic_cast_ref::<gst_base::BaseSrc>().unwrap();
    element.set_property("is-live", false);
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::NOT_LIVE
    );
    assert!(!base_src.is_live());
    element.set_property("push-source-flags", PushSourceFlags::INTERNAL_RM);
    assert!(element.property::<bool>("is-live"));
    assert!(base_src.is_live());
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    source.set_push_source_flags(PushSourceFlags::NOT_LIVE | PushSourceFlags::PRIVATE_CLOCK);
    assert!(!element.property::<bool>("is-live"));
    assert!(!base_src.is_live());
    let (live, _, _) = latency_query(&element);
    assert!(!live, "a not-live source answers live=false");
}

#[test]
fn unlock_interrupts_a_clock_wait_at_once() {
    let (mut harness, _bus) = source_harness(&[("latency", 3_600_000_000_000u64.to_value())]);
    harness.play();
    // The source now waits for an hour of TestClock time that never passes.
    let id = next_pending_wait(&harness.testclock().unwrap());
    assert_eq!(id.time(), gst::ClockTime::from_seconds(3600));
    let element = harness.element().unwrap();
    assert_eq!(
        element.set_state(gst::State::Ready),
        Ok(gst::StateChangeSuccess::Success)
    );
    // And it streams again after restarting.
    harness.play();
    crank_and_pull(&mut harness);
}

/// Renders a live source into `fakesink sync=true` on a TestClock, releasing every clock wait
/// in turn, and returns `(pts, running time at render)` for each buffer.
#[test]
fn flush_interrupts_a_clock_wait_at_once() {
    let (mut harness, _bus) = source_harness(&[("latency", 3_600_000_000_000u64.to_value())]);
    harness.play();
    let testclock = harness.testclock().unwrap();
    next_pending_wait(&testclock);
    assert!(harness.push_upstream_event(gst::event::FlushStart::new()));
    assert_eq!(testclock.peek_id_count(), 0, "the wait was unscheduled");
    assert!(harness.push_upstream_event(gst::event::FlushStop::new(true)));
    // GstBaseSrc restarts a live source's streaming at the next change to PLAYING.
    let element = harness.element().unwrap();
    element.set_state(gst::State::Paused).unwrap();
    harness.play();
    let buffer = crank_and_pull(&mut harness);
    assert_eq!(
        buffer.pts(),
        Some(gst::ClockTime::ZERO),
        "the interrupted buffer, not lost"
    );
}

/// Live source of 10 ms buffers into fakesink on a TestClock whose waits end `lateness` late.
fn with_wakeup_jitter(
    properties: &str,
    lateness: gst::ClockTime,
    buffers: usize,
) -> (Vec<Item>, Vec<gst::Message>) {
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc samplesperbuffer=480 {properties} ! {CAPS_48K_MONO} ! fakesink name=sink sync=false"
    ));
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    let recorder = Recorder::at_sink(&pipeline);
    pipeline.set_state(gst::State::Playing).unwrap();
    for _ in 0..buffers {
        release_next_wait_late(&testclock, lateness);
        recorder.next_buffer();
    }
    await_pending_wait(&testclock);
    let messages = drain_messages(&pipeline.bus().unwrap());
    pipeline.set_state(gst::State::Null).unwrap();
    let items = recorder
        .take()
        .into_iter()
        .filter(|i| matches!(i, Item::Buffer { .. }))
        .collect();
    (items, messages)
}

#[test]
fn no_slack_loses_nothing_to_wakeup_jitter() {
    // max-offset 0: the capture buffer holds exactly the latency; waking 3 ms late every time
    // overwrites part of the oldest buffer, never all of it.
    let (buffers, messages) = with_wakeup_jitter("max-offset=0", ms(3), 20);
    assert_eq!(buffers.len(), 20);
    for (k, item) in buffers.iter().enumerate() {
        let Item::Buffer { pts, discont, .. } = *item else {
            unreachable!()
        };
        assert_eq!(pts, BUFFER * k as u64, "every buffer, in order");
        assert_eq!(discont, k == 0);
    }
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}

#[test]
fn no_slack_loses_whole_buffers_once_they_are_overwritten() {
    // Waking 25 ms late with a 10 ms capture buffer: buffers due are overwritten whole.
    let (buffers, messages) = with_wakeup_jitter("max-offset=0", ms(25), 3);
    let Item::Buffer { pts, discont, .. } = buffers[1] else {
        unreachable!()
    };
    assert!(pts > BUFFER, "a buffer was lost: {buffers:?}");
    assert!(discont);
    assert!(!messages_of(&messages, gst::MessageType::Qos).is_empty());
}

#[test]
fn liveness_only_changes_in_null_or_ready() {
    let (mut harness, bus) = source_harness(&[]);
    harness.play();
    crank_and_pull(&mut harness);
    drain_messages(&bus);
    let element = harness.element().unwrap();
    element.set_property("is-live", false);
    assert!(element.property::<bool>("is-live"), "refused while playing");
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    source.set_push_source_flags(PushSourceFlags::NOT_LIVE | PushSourceFlags::INTERNAL_RM);
    assert_eq!(
        source.push_source_flags(),
        PushSourceFlags::INTERNAL_RM,
        "the other flags apply, not-live does not"
    );
    assert_eq!(
        warnings(&drain_messages(&bus)).len(),
        2,
        "each refusal is reported"
    );
    crank_and_pull(&mut harness);
    element.set_state(gst::State::Ready).unwrap();
    element.set_property("is-live", false);
    assert!(!element.property::<bool>("is-live"), "accepted in READY");
}

#[test]
fn rate_renegotiation_keeps_the_capture_timeline() {
    let (mut harness, _bus) = source_harness(&[]);
    harness.play();
    for _ in 0..3 {
        crank_and_pull(&mut harness);
    }
    // 8 kHz from now on: 480 samples last 60 ms. A buffer already waiting on the clock may still
    // come at 48 kHz; the timeline runs on without a gap either way.
    harness.set_sink_caps_str("audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1");
    let mut expected_pts = BUFFER * 3;
    let buffer = loop {
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(buffer.pts(), Some(expected_pts), "continuous, no gap");
        expected_pts += buffer.duration().unwrap();
        if buffer.duration() == Some(ms(60)) {
            break buffer;
        }
        assert_eq!(
            expected_pts,
            BUFFER * 4,
            "at most one buffer at the old rate"
        );
    };
    assert_eq!(
        buffer.offset(),
        buffer.pts().unwrap().nseconds() * 8_000 / 1_000_000_000,
        "on the new sample grid"
    );
    assert!(buffer.flags().contains(gst::BufferFlags::DISCONT));
    assert_eq!(crank_and_pull(&mut harness).pts(), Some(expected_pts));
}
