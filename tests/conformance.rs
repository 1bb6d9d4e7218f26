//! SPEC section 4, conformance cases 1–6, run against every push source in the `subjects`
//! list below, with the TestClock. A new source element gets the whole suite by being added to the list:
//! one [`Subject`] saying how to make it produce 10 ms buffers.
//!
//! Behaviour particular to one element is tested in that element's own file.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;
use gstpushsource::{PushSource, PushSourceExt, PushSourceFlags, StreamOffsetResult};

/// Every subject's buffers last exactly this long.
const BUFFER: gst::ClockTime = gst::ClockTime::from_mseconds(10);

const DEFAULT_MAX_OFFSET: gst::ClockTime = gst::ClockTime::from_mseconds(200);

/// One module per subject, with one test per case, so that a failure names both.
macro_rules! conformance_suite {
    ($($name:ident => $subject:expr,)+) => {
        $(
            mod $name {
                use super::*;

                fn subject() -> Subject {
                    $subject
                }

                #[test]
                fn case_1_default_source() {
                    super::case_1_default_source(&subject());
                }

                #[test]
                fn case_2_flags_property_has_the_directshow_values() {
                    super::case_2_flags_property_has_the_directshow_values(&subject());
                }

                #[test]
                fn case_3_offset_within_max_shifts_running_time_only() {
                    super::case_3_offset_within_max_shifts_running_time_only(&subject());
                }

                #[test]
                fn case_3_rendered_at_capture_plus_offset_plus_latency_exactly() {
                    super::case_3_rendered_at_capture_plus_offset_plus_latency_exactly(
                        &subject(),
                    );
                }

                #[test]
                fn case_4_offset_above_max_is_applied_with_one_warning() {
                    super::case_4_offset_above_max_is_applied_with_one_warning(&subject());
                }

                #[test]
                fn case_4_offset_warning_set_in_null_is_posted_at_ready() {
                    super::case_4_offset_warning_set_in_null_is_posted_at_ready(&subject());
                }

                #[test]
                fn case_5_extreme_offsets_saturate_and_keep_streaming() {
                    super::case_5_extreme_offsets_saturate_and_keep_streaming(&subject());
                }

                #[test]
                fn case_6_blocked_longer_than_capacity_loses_oldest_data() {
                    super::case_6_blocked_longer_than_capacity_loses_oldest_data(&subject());
                }

                #[test]
                fn case_6_blocked_within_capacity_loses_nothing() {
                    super::case_6_blocked_within_capacity_loses_nothing(&subject());
                }

                #[test]
                fn case_6_with_a_queue_nothing_is_lost() {
                    super::case_6_with_a_queue_nothing_is_lost(&subject());
                }
            }
        )+
    };
}

// The subjects: one line each adds an element to the whole suite.
conformance_suite! {
    pushaudiotestsrc => Subject {
        launch: "pushaudiotestsrc samplesperbuffer=480",
        caps: CAPS_48K_MONO,
        push_delay: BUFFER,
        latency_setting: LatencySetting::Total,
        qos_units: QosUnits::Default(480),
    },
    pushvideotestsrc => Subject {
        launch: "pushvideotestsrc",
        caps: "video/x-raw,format=I420,width=64,height=48,framerate=100/1",
        push_delay: BUFFER,
        latency_setting: LatencySetting::Total,
        qos_units: QosUnits::Buffers,
    },
    pushsrcbin_audiotestsrc => Subject {
        launch: "pushsrcbin source-description=\"audiotestsrc is-live=true samplesperbuffer=480\"",
        caps: CAPS_48K_MONO,
        // audiotestsrc syncs on a buffer's start, as videotestsrc does.
        push_delay: gst::ClockTime::ZERO,
        latency_setting: LatencySetting::Extra,
        qos_units: QosUnits::Buffers,
    },
    pushsrcbin_videotestsrc => Subject {
        launch: "pushsrcbin source-description=\"videotestsrc is-live=true\"",
        caps: "video/x-raw,format=I420,width=64,height=48,framerate=100/1",
        push_delay: gst::ClockTime::ZERO,
        latency_setting: LatencySetting::Extra,
        qos_units: QosUnits::Buffers,
    },
}

/// A push source under test.
pub struct Subject {
    /// The element as a gst-launch fragment; properties are appended to it.
    pub launch: &'static str,
    /// Caps under which every buffer lasts [`BUFFER`].
    pub caps: &'static str,
    /// How long after its capture a buffer is pushed, with the default settings.
    pub push_delay: gst::ClockTime,
    pub latency_setting: LatencySetting,
    /// What one lost buffer counts for in a QOS message.
    pub qos_units: QosUnits,
}

/// How a subject is given a latency larger than its default of one buffer.
pub enum LatencySetting {
    /// `latency` sets the total (the test sources).
    Total,
    /// `extra-latency` adds to the wrapped source's one buffer (pushsrcbin).
    Extra,
}

pub enum QosUnits {
    /// `GST_FORMAT_DEFAULT` with this many units (samples, say) per buffer.
    Default(u64),
    /// `GST_FORMAT_BUFFERS`.
    Buffers,
}

impl Subject {
    fn element(&self) -> gst::Element {
        init();
        gst::parse::launch(self.launch).unwrap()
    }

    /// A harness around the subject with `properties` set, negotiated to its caps, on the
    /// harness's TestClock, with a bus to read its messages.
    fn harness(&self, properties: &[(&str, glib::Value)]) -> (gst_check::Harness, gst::Bus) {
        let element = self.element();
        for (name, value) in properties {
            element.set_property_from_value(name, value);
        }
        let bus = gst::Bus::new();
        element.set_bus(Some(&bus));
        let mut harness = gst_check::Harness::with_element(&element, None, Some("src"));
        harness.set_sink_caps_str(self.caps);
        harness.use_testclock();
        (harness, bus)
    }

    /// `<subject> <properties> ! <caps> ! <downstream>` on a new TestClock.
    fn pipeline(
        &self,
        properties: &str,
        downstream: &str,
    ) -> (gst::Pipeline, gst_check::TestClock) {
        let pipeline = pipeline(&format!(
            "{} {properties} ! {} ! {downstream}",
            self.launch, self.caps
        ));
        let testclock = gst_check::TestClock::new();
        pipeline.use_clock(Some(&testclock));
        (pipeline, testclock)
    }

    /// The properties that make the subject report `latency` (at least one buffer).
    fn latency_properties(&self, latency: gst::ClockTime) -> String {
        match self.latency_setting {
            LatencySetting::Total => format!("latency={}", latency.nseconds()),
            LatencySetting::Extra => format!("extra-latency={}", (latency - BUFFER).nseconds()),
        }
    }

    fn qos_amount(&self, buffers: u64) -> gst::GenericFormattedValue {
        match self.qos_units {
            QosUnits::Default(per_buffer) => gst::GenericFormattedValue::Default(Some(
                gst::format::Default::from_u64(per_buffer * buffers),
            )),
            QosUnits::Buffers => {
                gst::GenericFormattedValue::Buffers(Some(gst::format::Buffers::from_u64(buffers)))
            }
        }
    }

    /// The capture time of the last buffer pushed by the time the clock reads `time`.
    fn last_pushed_by(&self, time: gst::ClockTime) -> gst::ClockTime {
        BUFFER * ((time - self.push_delay).nseconds() / BUFFER.nseconds())
    }
}

fn latency_query(element: &gst::Element) -> (bool, gst::ClockTime, Option<gst::ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(element.static_pad("src").unwrap().query(&mut query));
    query.result()
}

fn count_warnings(bus: &gst::Bus) -> usize {
    warnings(&drain_messages(bus)).len()
}

fn case_1_default_source(subject: &Subject) {
    let element = subject.element();
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::empty()
    );
    assert_eq!(element.property::<i64>("ts-offset"), 0);
    assert_eq!(
        element.property::<u64>("max-offset"),
        DEFAULT_MAX_OFFSET.nseconds()
    );

    let (mut harness, _bus) = subject.harness(&[]);
    harness.play();
    crank_and_pull(&mut harness);
    let element = harness.element().unwrap();
    let (live, min, max) = latency_query(&element);
    assert!(live);
    assert_eq!(min, BUFFER, "min is one buffer's duration");
    assert_eq!(
        max,
        Some(BUFFER + DEFAULT_MAX_OFFSET),
        "max is latency + max-offset"
    );
    assert_eq!(element.property::<u64>("latency"), BUFFER.nseconds());
    assert_eq!(
        element.property::<u64>("max-offset"),
        DEFAULT_MAX_OFFSET.nseconds()
    );

    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(source.source_latency(), Some(BUFFER));
    assert_eq!(source.stream_offset(), 0);
    assert_eq!(source.max_stream_offset(), DEFAULT_MAX_OFFSET);
    assert_eq!(source.push_source_flags(), PushSourceFlags::empty());
}

fn case_2_flags_property_has_the_directshow_values(subject: &Subject) {
    let element = subject.element();
    let pspec = element.find_property("push-source-flags").unwrap();
    assert_eq!(pspec.value_type(), PushSourceFlags::static_type());
    assert_eq!(
        glib::Type::from_name("GstPushSourceFlags"),
        Some(PushSourceFlags::static_type())
    );
    let class = glib::FlagsClass::with_type(PushSourceFlags::static_type()).unwrap();
    let values: Vec<(u32, &str)> = class
        .values()
        .iter()
        .map(|v| (v.value(), v.nick()))
        .collect();
    assert_eq!(
        values,
        [
            (0x1, "internal-rm"),
            (0x2, "not-live"),
            (0x4, "private-clock"),
            (0x10000, "use-stream-clock"),
            (0x20000, "use-clock-chain"),
        ]
    );
    assert_eq!(PushSourceFlags::INTERNAL_RM.bits(), 0x1);
    assert_eq!(PushSourceFlags::USE_CLOCK_CHAIN.bits(), 0x20000);
    // Flags other than not-live are stored and reported as they are.
    let kept = PushSourceFlags::INTERNAL_RM
        | PushSourceFlags::PRIVATE_CLOCK
        | PushSourceFlags::USE_STREAM_CLOCK
        | PushSourceFlags::USE_CLOCK_CHAIN;
    element.set_property("push-source-flags", kept);
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        kept
    );
}

fn case_3_offset_within_max_shifts_running_time_only(subject: &Subject) {
    let offset = ms(50);
    let (mut harness, bus) =
        subject.harness(&[("ts-offset", (offset.nseconds() as i64).to_value())]);
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

/// Renders the subject into `fakesink sync=true` on a TestClock, releasing every clock wait in
/// turn, and returns `(pts, running time at render)` for each buffer.
fn render_times(
    subject: &Subject,
    properties: &str,
    buffers: usize,
) -> Vec<(gst::ClockTime, gst::ClockTime)> {
    let (pipeline, testclock) = subject.pipeline(
        properties,
        "fakesink name=sink sync=true processing-deadline=0 signal-handoffs=true",
    );
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

fn case_3_rendered_at_capture_plus_offset_plus_latency_exactly(subject: &Subject) {
    for (latency, offset) in [(ms(30), 0i64), (ms(30), 50_000_000), (ms(500), 123_456_789)] {
        let properties = format!("{} ts-offset={offset}", subject.latency_properties(latency));
        for (k, (pts, rendered)) in render_times(subject, &properties, 6)
            .into_iter()
            .enumerate()
        {
            assert_eq!(pts, BUFFER * k as u64, "capture time of buffer {k}");
            assert_eq!(
                rendered,
                pts + gst::ClockTime::from_nseconds(offset as u64) + latency,
                "latency {latency}, ts-offset {offset}: buffer {k} rendered at capture + offset + PL"
            );
        }
    }
}

fn case_4_offset_above_max_is_applied_with_one_warning(subject: &Subject) {
    let (mut harness, bus) = subject.harness(&[]);
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
    assert_eq!(warnings[0].src(), Some(element.upcast_ref::<gst::Object>()));
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
    assert_eq!(details.name(), "pushsource/offset-exceeds-max");
    assert_eq!(
        details.get::<i64>("ts-offset").unwrap(),
        ms(300).nseconds() as i64
    );
    assert_eq!(
        details.get::<u64>("max-offset").unwrap(),
        DEFAULT_MAX_OFFSET.nseconds()
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

fn case_4_offset_warning_set_in_null_is_posted_at_ready(subject: &Subject) {
    // gst-launch sets properties in NULL, where the pipeline's bus still drops messages.
    let element = subject.element();
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

fn case_5_extreme_offsets_saturate_and_keep_streaming(subject: &Subject) {
    let (mut harness, _bus) = subject.harness(&[]);
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

/// `<subject> max-offset=50ms ! [queue !] fakesink sync=false` on a TestClock, with fakesink's
/// pad blocked from the first buffer until the clock reaches `until`; returns the buffers
/// fakesink received and the bus messages.
fn blocked_downstream(
    subject: &Subject,
    with_queue: bool,
    until: gst::ClockTime,
) -> (Vec<Item>, Vec<gst::Message>) {
    let (pipeline, testclock) = subject.pipeline(
        "max-offset=50000000",
        &format!(
            "{} fakesink name=sink sync=false",
            if with_queue {
                "queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 !"
            } else {
                ""
            }
        ),
    );
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
    assert_eq!(
        release_next_wait(&testclock),
        subject.push_delay,
        "buffer 0 is pushed"
    );
    blocked_rx.recv_timeout(HANG_GUARD).unwrap();
    if with_queue {
        // The source keeps running in real time while the queue takes everything.
        while testclock.time() < until {
            release_next_wait(&testclock);
        }
    } else {
        testclock.set_time(until);
    }
    sinkpad.remove_probe(block);

    // Everything due by `until` flows; then the source waits for a later buffer.
    while next_pending_wait(&testclock).time() <= until {
        release_next_wait(&testclock);
    }
    let last = subject.last_pushed_by(until);
    while !matches!(recorder.next_buffer(), Item::Buffer { pts, .. } if pts == last) {}
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

/// `(pts, discont)` of each buffer.
fn stamps(buffers: &[Item]) -> Vec<(gst::ClockTime, bool)> {
    buffers
        .iter()
        .map(|item| match *item {
            Item::Buffer { pts, discont, .. } => (pts, discont),
            _ => unreachable!(),
        })
        .collect()
}

/// Contiguous buffers from `first` to `last`, DISCONT on the first only when `discont`.
fn contiguous(
    first: gst::ClockTime,
    last: gst::ClockTime,
    discont: bool,
) -> Vec<(gst::ClockTime, bool)> {
    (first.nseconds()..=last.nseconds())
        .step_by(BUFFER.nseconds() as usize)
        .map(|ns| {
            (
                gst::ClockTime::from_nseconds(ns),
                discont && ns == first.nseconds(),
            )
        })
        .collect()
}

fn case_6_blocked_longer_than_capacity_loses_oldest_data(subject: &Subject) {
    // Capacity: latency 10 ms + max-offset 50 ms = 60 ms. Blocked from the first push to 500 ms:
    // then everything captured before 440 ms is overwritten (a buffer is lost once all of it is),
    // and the capture resumes with the buffer that starts at 440 ms.
    let until = ms(500);
    let (buffers, messages) = blocked_downstream(subject, false, until);
    let mut expected = vec![(gst::ClockTime::ZERO, true)];
    expected.extend(contiguous(ms(440), subject.last_pushed_by(until), true));
    assert_eq!(stamps(&buffers), expected);

    let qos = messages_of(&messages, gst::MessageType::Qos);
    assert_eq!(qos.len(), 1, "one QOS message");
    let gst::MessageView::Qos(qos) = qos[0].view() else {
        unreachable!()
    };
    let (processed, dropped) = qos.stats();
    assert_eq!(dropped, subject.qos_amount(43), "43 buffers lost");
    assert_eq!(processed, subject.qos_amount(1), "1 buffer pushed before");
    let (live, running_time, _, _, duration) = qos.get();
    assert!(live);
    assert_eq!(
        running_time,
        Some(ms(10)),
        "running time of the first lost data"
    );
    assert_eq!(duration, Some(ms(430)), "duration: the time lost");
}

fn case_6_blocked_within_capacity_loses_nothing(subject: &Subject) {
    // Blocked until 60 ms: the oldest unsent data (captured at 10 ms) is 50 ms old, within the
    // 60 ms capacity.
    let until = ms(60);
    let (buffers, messages) = blocked_downstream(subject, false, until);
    assert_eq!(
        stamps(&buffers),
        contiguous(gst::ClockTime::ZERO, subject.last_pushed_by(until), true)
    );
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}

fn case_6_with_a_queue_nothing_is_lost(subject: &Subject) {
    let until = ms(500);
    let (buffers, messages) = blocked_downstream(subject, true, until);
    assert_eq!(
        stamps(&buffers),
        contiguous(gst::ClockTime::ZERO, subject.last_pushed_by(until), true)
    );
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}
