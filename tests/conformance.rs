//! SPEC section 4, conformance cases 1–6, for `pushaudiotestsrc`, with the TestClock.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;
use gst_base::prelude::*;
use gstpushsource::{PushSource, PushSourceExt, PushSourceFlags, StreamOffsetResult};

/// One 480-sample buffer at 48 kHz.
const BUFFER: gst::ClockTime = gst::ClockTime::from_mseconds(10);

fn latency_query(element: &gst::Element) -> (bool, gst::ClockTime, Option<gst::ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(element.static_pad("src").unwrap().query(&mut query));
    query.result()
}

#[test]
fn case_1_default_source() {
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .build()
        .unwrap();
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::empty()
    );
    assert_eq!(element.property::<i64>("ts-offset"), 0);
    assert_eq!(element.property::<u64>("max-offset"), ms(200).nseconds());
    assert!(element.property::<bool>("is-live"));

    let (mut harness, _bus) = source_harness(&[]);
    harness.play();
    crank_and_pull(&mut harness);
    let element = harness.element().unwrap();
    let (live, min, max) = latency_query(&element);
    assert!(live);
    assert_eq!(min, BUFFER, "min is one buffer's duration");
    assert_eq!(max, Some(BUFFER + ms(200)), "max is latency + max-offset");
    assert_eq!(element.property::<u64>("latency"), BUFFER.nseconds());

    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(source.source_latency(), Some(BUFFER));
    assert_eq!(source.stream_offset(), 0);
    assert_eq!(source.max_stream_offset(), ms(200));
    assert_eq!(source.push_source_flags(), PushSourceFlags::empty());
}

#[test]
fn case_2_flag_values_and_nicks() {
    init();
    let class = glib::FlagsClass::with_type(PushSourceFlags::static_type()).unwrap();
    let expected = [
        (0x1, "internal-rm"),
        (0x2, "not-live"),
        (0x4, "private-clock"),
        (0x10000, "use-stream-clock"),
        (0x20000, "use-clock-chain"),
    ];
    let values: Vec<(u32, String)> = class
        .values()
        .iter()
        .map(|v| (v.value(), v.nick().to_string()))
        .collect();
    assert_eq!(values, expected.map(|(v, n)| (v, n.to_string())));
    assert_eq!(
        glib::Type::from_name("GstPushSourceFlags"),
        Some(PushSourceFlags::static_type())
    );
    assert_eq!(PushSourceFlags::INTERNAL_RM.bits(), 0x1);
    assert_eq!(PushSourceFlags::USE_CLOCK_CHAIN.bits(), 0x20000);
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
fn case_3_offset_within_max_shifts_running_time_only() {
    let offset = ms(50);
    let (mut harness, bus) =
        source_harness(&[("ts-offset", (offset.nseconds() as i64).to_value())]);
    harness.play();
    for k in 0..4u64 {
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(buffer.pts(), Some(BUFFER * k), "PTS unchanged");
        let segment = current_segment(&harness);
        assert_eq!(
            segment.to_running_time(buffer.pts()),
            Some(BUFFER * k + offset)
        );
    }
    assert!(
        warnings(&drain_messages(&bus)).is_empty(),
        "no warning within max-offset"
    );

    // Effective from the next buffer while playing.
    harness
        .element()
        .unwrap()
        .set_property("ts-offset", 20_000_000i64);
    let buffer = crank_and_pull(&mut harness);
    assert_eq!(buffer.pts(), Some(BUFFER * 4));
    assert_eq!(
        current_segment(&harness).to_running_time(buffer.pts()),
        Some(BUFFER * 4 + ms(20))
    );
    assert!(warnings(&drain_messages(&bus)).is_empty());
}

#[test]
fn case_4_offset_above_max_is_applied_with_one_warning() {
    let (mut harness, bus) = source_harness(&[]);
    let element = harness.element().unwrap();
    element.set_property("ts-offset", ms(300).nseconds() as i64);
    assert_eq!(
        element.property::<i64>("ts-offset"),
        ms(300).nseconds() as i64,
        "accepted"
    );
    harness.play();

    let warnings = warnings(&drain_messages(&bus));
    assert_eq!(warnings.len(), 1, "exactly one WARNING");
    let gst::MessageView::Warning(warning) = warnings[0].view() else {
        unreachable!()
    };
    assert!(
        warning
            .error()
            .to_string()
            .contains("exceeds the maximum preferred offset")
    );
    let details = warning.details().expect("details with both values");
    assert_eq!(
        details.get::<i64>("ts-offset").unwrap(),
        ms(300).nseconds() as i64
    );
    assert_eq!(
        details.get::<u64>("max-offset").unwrap(),
        ms(200).nseconds()
    );
    let debug = warning.debug().unwrap();
    assert!(
        debug.contains("300000000") && debug.contains("200000000"),
        "{debug}"
    );

    let buffer = crank_and_pull(&mut harness);
    assert_eq!(
        current_segment(&harness).to_running_time(buffer.pts()),
        Some(ms(300)),
        "applied"
    );

    // The interface tells S_OK from S_FALSE.
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(
        source.set_stream_offset(ms(250).nseconds() as i64),
        StreamOffsetResult::ExceedsMaximum
    );
    assert_eq!(
        source.set_stream_offset(ms(200).nseconds() as i64),
        StreamOffsetResult::Applied
    );
    assert_eq!(
        source.set_stream_offset(-(ms(900).nseconds() as i64)),
        StreamOffsetResult::Applied
    );
    assert_eq!(count_warnings(&bus), 1, "only the exceeding set warns");

    // Lowering max-offset below the current offset warns too.
    source.set_stream_offset(ms(100).nseconds() as i64);
    source.set_max_stream_offset(ms(50));
    assert_eq!(element.property::<u64>("max-offset"), ms(50).nseconds());
    assert_eq!(count_warnings(&bus), 1);
}

#[test]
fn offset_warning_set_in_null_is_posted_at_ready() {
    // gst-launch sets properties in NULL, where the pipeline's bus still drops messages.
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .build()
        .unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    element.set_property("ts-offset", ms(300).nseconds() as i64);
    assert!(warnings(&drain_messages(&bus)).is_empty());
    element.set_state(gst::State::Ready).unwrap();
    assert_eq!(warnings(&drain_messages(&bus)).len(), 1);
    element.set_state(gst::State::Null).unwrap();
    element.set_state(gst::State::Ready).unwrap();
    assert!(warnings(&drain_messages(&bus)).is_empty(), "posted once");
    element.set_state(gst::State::Null).unwrap();

    // An offset brought back under the maximum before READY is not reported.
    element.set_property("ts-offset", ms(300).nseconds() as i64);
    element.set_property("ts-offset", ms(100).nseconds() as i64);
    element.set_state(gst::State::Ready).unwrap();
    assert!(warnings(&drain_messages(&bus)).is_empty());
    element.set_state(gst::State::Null).unwrap();
}

fn count_warnings(bus: &gst::Bus) -> usize {
    warnings(&drain_messages(bus)).len()
}

#[test]
fn case_5_extreme_offsets_saturate_and_keep_streaming() {
    let (mut harness, _bus) = source_harness(&[]);
    harness.play();
    let offsets = [
        1i64 << 62,
        -(1i64 << 62),
        i64::MAX,
        i64::MIN,
        i64::MAX,
        0,
        i64::MIN + 1,
        1,
    ];
    for (k, offset) in offsets.into_iter().enumerate() {
        harness.element().unwrap().set_property("ts-offset", offset);
        let buffer = crank_and_pull(&mut harness);
        let pts = buffer.pts().unwrap();
        assert_eq!(pts, BUFFER * k as u64, "stamps stay media time, contiguous");
        let running_time = current_segment(&harness).to_running_time(pts);
        let exact = pts.nseconds() as i128 + offset as i128;
        match running_time {
            Some(rt) => assert_eq!(
                rt.nseconds() as i128,
                exact,
                "offset {offset}: exact, not wrapped"
            ),
            None => assert!(
                exact < 0,
                "offset {offset}: only negative running times are clipped"
            ),
        }
    }
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
/// while the clock runs on; returns what fakesink received and the bus messages.
fn blocked_downstream(
    with_queue: bool,
    block_for: gst::ClockTime,
) -> (Vec<Item>, Vec<gst::Message>) {
    let description = format!(
        "pushaudiotestsrc samplesperbuffer=480 max-offset=50000000 ! {CAPS_48K_MONO} ! {} fakesink name=sink sync=false",
        if with_queue {
            "queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 !"
        } else {
            ""
        }
    );
    let pipeline = pipeline(&description);
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    let sinkpad = pipeline
        .by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap();

    let (blocked_tx, blocked_rx) = std::sync::mpsc::channel();
    let blocked_tx = std::sync::Mutex::new(blocked_tx);
    let block = sinkpad
        .add_probe(
            gst::PadProbeType::BLOCK | gst::PadProbeType::BUFFER,
            move |_, _| {
                let _ = blocked_tx.lock().unwrap().send(());
                gst::PadProbeReturn::Ok
            },
        )
        .unwrap();
    let recorder = Recorder::attach(&sinkpad);

    pipeline.set_state(gst::State::Playing).unwrap();
    // Buffer 0 (captured 0–10 ms) is pushed at 10 ms and blocks in fakesink's pad.
    assert_eq!(release_next_wait(&testclock), BUFFER);
    blocked_rx.recv_timeout(HANG_GUARD).unwrap();

    if with_queue {
        // The source keeps running in real time while the queue takes everything.
        while testclock.time() < BUFFER + block_for {
            release_next_wait(&testclock);
        }
    } else {
        testclock.set_time(BUFFER + block_for);
    }
    sinkpad.remove_probe(block);

    // Everything up to the clock's time flows; the source then waits for the next buffer.
    let end = testclock.time();
    loop {
        if let Item::Buffer { pts, .. } = recorder.next_buffer()
            && pts + BUFFER + BUFFER > end
        {
            break;
        }
    }
    let next = next_pending_wait(&testclock);
    assert_eq!(
        next.time(),
        end + BUFFER,
        "the source waits for the buffer after the last one pushed"
    );
    let items = recorder.take();
    let messages = drain_messages(&pipeline.bus().unwrap());
    pipeline.set_state(gst::State::Null).unwrap();
    (
        items
            .into_iter()
            .filter(|i| matches!(i, Item::Buffer { .. }))
            .collect(),
        messages,
    )
}

#[test]
fn case_6_blocked_longer_than_capacity_loses_oldest_data() {
    // Capacity: latency 10 ms + max-offset 50 ms = 60 ms. Blocked from 10 ms to 500 ms.
    let (buffers, messages) = blocked_downstream(false, ms(490));
    let Item::Buffer {
        pts,
        discont,
        offset,
        ..
    } = buffers[0]
    else {
        unreachable!()
    };
    assert_eq!((pts, offset), (gst::ClockTime::ZERO, 0));
    assert!(discont, "first buffer of the stream");

    // At 500 ms everything captured before 440 ms is overwritten: the oldest data is lost and
    // the capture resumes with the buffer that starts at 440 ms.
    let Item::Buffer {
        pts,
        discont,
        offset,
        ..
    } = buffers[1]
    else {
        unreachable!()
    };
    assert_eq!(pts, ms(440));
    assert_eq!(offset, 440 * 48);
    assert!(discont, "the buffer after the loss is DISCONT");
    for (k, item) in buffers[2..].iter().enumerate() {
        let Item::Buffer { pts, discont, .. } = *item else {
            unreachable!()
        };
        assert_eq!(
            pts,
            ms(450) + BUFFER * k as u64,
            "contiguous after the loss"
        );
        assert!(!discont);
    }
    assert_eq!(
        buffers
            .last()
            .map(|b| matches!(b, Item::Buffer { pts, .. } if *pts == ms(490))),
        Some(true)
    );

    let qos: Vec<_> = messages_of(&messages, gst::MessageType::Qos);
    assert_eq!(qos.len(), 1, "one QOS message");
    let gst::MessageView::Qos(qos) = qos[0].view() else {
        unreachable!()
    };
    let (format_processed, dropped) = qos.stats();
    assert_eq!(
        dropped,
        gst::GenericFormattedValue::Default(Some(gst::format::Default::from_u64(430 * 48)))
    );
    assert_eq!(
        format_processed,
        gst::GenericFormattedValue::Default(Some(gst::format::Default::from_u64(480)))
    );
    assert_eq!(
        qos.get().1,
        Some(ms(10)),
        "running time of the first lost sample"
    );
    assert_eq!(qos.get().4, Some(ms(430)), "duration: the time lost");
}

#[test]
fn case_6_with_a_queue_nothing_is_lost() {
    let (buffers, messages) = blocked_downstream(true, ms(490));
    assert_eq!(buffers.len(), 50, "0 ms to 490 ms, every buffer");
    for (k, item) in buffers.iter().enumerate() {
        let Item::Buffer {
            pts,
            discont,
            offset,
            ..
        } = *item
        else {
            unreachable!()
        };
        assert_eq!(pts, BUFFER * k as u64);
        assert_eq!(offset, 480 * k as u64);
        assert_eq!(discont, k == 0);
    }
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}

#[test]
fn blocked_within_capacity_loses_nothing() {
    // Blocked for 50 ms: at 60 ms the oldest unsent data (captured at 10 ms) is 50 ms old,
    // within the 60 ms capacity.
    let (buffers, messages) = blocked_downstream(false, ms(50));
    assert_eq!(buffers.len(), 6);
    assert!(
        buffers
            .iter()
            .skip(1)
            .all(|b| matches!(b, Item::Buffer { discont: false, .. }))
    );
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}

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
fn render_times(properties: &str, buffers: usize) -> Vec<(gst::ClockTime, gst::ClockTime)> {
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc samplesperbuffer=480 {properties} ! {CAPS_48K_MONO} ! \
         fakesink name=sink sync=true processing-deadline=0 signal-handoffs=true"
    ));
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    let rendered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (record, clock) = (rendered.clone(), testclock.clone());
    pipeline
        .by_name("sink")
        .unwrap()
        .connect("handoff", false, move |values| {
            // Source and sink share one streaming thread: the clock still shows the sink's wait.
            let buffer = values[1].get::<gst::Buffer>().unwrap();
            record
                .lock()
                .unwrap()
                .push((buffer.pts().unwrap(), clock.time()));
            None
        });
    pipeline.set_state(gst::State::Playing).unwrap();
    while rendered.lock().unwrap().len() < buffers {
        release_next_wait(&testclock);
    }
    let base_time = pipeline.base_time().unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
    let rendered = rendered.lock().unwrap().clone();
    rendered
        .into_iter()
        .map(|(pts, at)| (pts, at - base_time))
        .collect()
}

#[test]
fn case_3_at_the_sink_rendered_at_capture_plus_offset_plus_latency_exactly() {
    for (latency, offset) in [(ms(30), 0i64), (ms(30), 50_000_000), (ms(500), 123_456_789)] {
        let properties = format!("latency={} ts-offset={offset}", latency.nseconds());
        for (k, (pts, rendered)) in render_times(&properties, 6).into_iter().enumerate() {
            assert_eq!(pts, BUFFER * k as u64, "capture time of buffer {k}");
            assert_eq!(
                rendered,
                pts + gst::ClockTime::from_nseconds(offset as u64) + latency,
                "latency {latency}, ts-offset {offset}: buffer {k} rendered at capture + offset + PL"
            );
        }
    }
}

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
