//! `pushsrcbin`'s own behaviour: wrapping, latency, liveness, the capture-buffer model for
//! buffer lists, and its error cases. SPEC cases 1–6 run in `tests/conformance.rs`.

mod common;

use common::*;
use gst::prelude::*;
use gstpushsource::{PushSource, PushSourceExt, PushSourceFlags};

/// One 480-sample buffer at 48 kHz, one frame at 100 fps.
const BUFFER: gst::ClockTime = gst::ClockTime::from_mseconds(10);

const LIVE_AUDIO: &str = "audiotestsrc is-live=true samplesperbuffer=480";

fn srcbin() -> gst::Element {
    init();
    gst::ElementFactory::make("pushsrcbin").build().unwrap()
}

fn srcbin_with_description(description: &str) -> gst::Element {
    let element = srcbin();
    element.set_property("source-description", description);
    element
}

/// A harness around `element`, negotiated to `caps`, with a bus to read its messages.
fn harness(element: &gst::Element, caps: &str, testclock: bool) -> (gst_check::Harness, gst::Bus) {
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let mut harness = gst_check::Harness::with_element(element, None, Some("src"));
    harness.set_sink_caps_str(caps);
    if testclock {
        harness.use_testclock();
    }
    (harness, bus)
}

fn latency_query(element: &gst::Element) -> (bool, gst::ClockTime, Option<gst::ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(element.static_pad("src").unwrap().query(&mut query));
    query.result()
}

fn texts(messages: &[gst::Message]) -> Vec<String> {
    messages
        .iter()
        .map(|message| match message.view() {
            gst::MessageView::Error(error) => error.error().to_string(),
            gst::MessageView::Warning(warning) => warning.error().to_string(),
            _ => String::new(),
        })
        .collect()
}

#[test]
fn wraps_an_element_given_as_source() {
    let element = srcbin();
    let audiotestsrc = gst::ElementFactory::make("audiotestsrc")
        .property("is-live", true)
        .property("samplesperbuffer", 480i32)
        .build()
        .unwrap();
    element.set_property("source", &audiotestsrc);
    assert_eq!(
        element.property::<Option<gst::Element>>("source"),
        Some(audiotestsrc.clone())
    );
    let (mut harness, bus) = harness(&element, CAPS_48K_MONO, true);
    harness.play();
    for k in 0..3u64 {
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(buffer.pts(), Some(BUFFER * k));
        assert_eq!(buffer.size(), 960, "the wrapped source's data");
    }
    assert_eq!(
        audiotestsrc.parent().as_ref(),
        Some(element.upcast_ref::<gst::Object>()),
        "inside the bin"
    );
    assert_eq!(
        latency_query(&element),
        (true, BUFFER, Some(BUFFER + ms(200)))
    );
    assert!(messages_of(&drain_messages(&bus), gst::MessageType::Error).is_empty());
}

#[test]
fn wraps_a_description_and_reads_back_the_parsed_element() {
    let element = srcbin_with_description(LIVE_AUDIO);
    assert_eq!(
        element
            .property::<Option<String>>("source-description")
            .as_deref(),
        Some(LIVE_AUDIO)
    );
    assert_eq!(
        element.property::<Option<gst::Element>>("source"),
        None,
        "parsed at NULL→READY"
    );
    let (mut harness, _bus) = harness(&element, CAPS_48K_MONO, true);
    harness.play();
    crank_and_pull(&mut harness);
    let source = element.property::<Option<gst::Element>>("source").unwrap();
    assert_eq!(source.factory().unwrap().name(), "audiotestsrc");
    assert_eq!(source.property::<i32>("samplesperbuffer"), 480);

    // The last of source and source-description set is the one used.
    harness
        .element()
        .unwrap()
        .set_state(gst::State::Null)
        .unwrap();
    let videotestsrc = gst::ElementFactory::make("videotestsrc").build().unwrap();
    element.set_property("source", &videotestsrc);
    assert_eq!(
        element.property::<Option<String>>("source-description"),
        None
    );
    element.set_property("source-description", "audiotestsrc");
    assert_eq!(element.property::<Option<gst::Element>>("source"), None);
}

#[test]
fn extra_latency_adds_to_the_wrapped_latency() {
    let element = srcbin_with_description(LIVE_AUDIO);
    element.set_property("extra-latency", ms(25).nseconds());
    let (mut harness, bus) = harness(&element, CAPS_48K_MONO, true);
    harness.play();
    crank_and_pull(&mut harness);
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(latency_query(&element), (true, ms(35), Some(ms(235))));
    assert_eq!(element.property::<u64>("latency"), ms(35).nseconds());
    assert_eq!(source.source_latency(), Some(ms(35)));

    drain_messages(&bus);
    element.set_property("extra-latency", ms(40).nseconds());
    let latency_messages = messages_of(&drain_messages(&bus), gst::MessageType::Latency);
    assert_eq!(
        latency_messages.len(),
        1,
        "a change while playing posts LATENCY"
    );
    assert_eq!(
        latency_messages[0].src(),
        Some(element.upcast_ref::<gst::Object>())
    );
    assert_eq!(latency_query(&element), (true, ms(50), Some(ms(250))));
    assert_eq!(element.property::<u64>("latency"), ms(50).nseconds());
    element.set_property("extra-latency", ms(40).nseconds());
    assert!(
        drain_messages(&bus).is_empty(),
        "the same value changes nothing"
    );
    crank_and_pull(&mut harness);
}

#[test]
fn max_offset_defaults_to_what_the_wrapped_max_allows() {
    // appsrc reports the latency it is given: min 10 ms, max 30 ms, so 20 ms of slack.
    let element = srcbin_with_description(
        "appsrc is-live=true format=time min-latency=10000000 max-latency=30000000",
    );
    element.set_property("extra-latency", ms(5).nseconds());
    assert_eq!(
        element.property::<u64>("max-offset"),
        ms(200).nseconds(),
        "until it answers"
    );
    assert_eq!(
        element.set_state(gst::State::Paused),
        Ok(gst::StateChangeSuccess::NoPreroll)
    );
    assert_eq!(latency_query(&element), (true, ms(15), Some(ms(35))));
    assert_eq!(element.property::<u64>("max-offset"), ms(20).nseconds());
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(source.max_stream_offset(), ms(20));

    // An explicit value wins.
    element.set_property("max-offset", ms(100).nseconds());
    assert_eq!(latency_query(&element), (true, ms(15), Some(ms(115))));
    assert_eq!(element.property::<u64>("max-offset"), ms(100).nseconds());
    element.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_source_that_is_not_live_reports_not_live() {
    let element = srcbin_with_description("audiotestsrc samplesperbuffer=480");
    let (mut harness, bus) = harness(&element, CAPS_48K_MONO, false);
    element.set_state(gst::State::Ready).unwrap();
    // Nobody asked for live: the default flags follow the source without a WARNING.
    assert!(
        warnings(&drain_messages(&bus)).is_empty(),
        "no WARNING for flags nobody wrote"
    );
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::NOT_LIVE
    );
    assert!(!element.property::<bool>("is-live"));
    harness.play();
    for k in 0..3u64 {
        let buffer = harness.pull().unwrap();
        assert_eq!(buffer.pts(), Some(BUFFER * k), "every buffer, none dropped");
    }
    let (live, _, _) = latency_query(&element);
    assert!(!live, "LATENCY says not live");
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(source.push_source_flags(), PushSourceFlags::NOT_LIVE);

    // Clearing not-live cannot make the source live: refused, the other flags apply.
    drain_messages(&bus);
    source.set_push_source_flags(PushSourceFlags::INTERNAL_RM);
    assert_eq!(
        source.push_source_flags(),
        PushSourceFlags::INTERNAL_RM | PushSourceFlags::NOT_LIVE
    );
    let warnings = warnings(&drain_messages(&bus));
    assert_eq!(warnings.len(), 1);
    assert!(texts(&warnings)[0].contains("not-live flag follows the wrapped source"));
}

#[test]
fn not_live_requested_for_a_live_source_is_refused_at_ready() {
    let element = srcbin_with_description(LIVE_AUDIO);
    element.set_property(
        "push-source-flags",
        PushSourceFlags::NOT_LIVE | PushSourceFlags::PRIVATE_CLOCK,
    );
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    element.set_state(gst::State::Ready).unwrap();
    let warnings = warnings(&drain_messages(&bus));
    assert_eq!(warnings.len(), 1, "{:?}", texts(&warnings));
    assert!(texts(&warnings)[0].contains("which is live"));
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::PRIVATE_CLOCK
    );
    assert!(element.property::<bool>("is-live"));
    element.set_state(gst::State::Null).unwrap();
}

#[test]
fn wraps_a_chain_description() {
    let element = srcbin_with_description("videotestsrc is-live=true ! videoconvert");
    let (mut harness, _bus) = harness(
        &element,
        "video/x-raw,format=RGB,width=64,height=48,framerate=100/1",
        true,
    );
    harness.play();
    for k in 0..3u64 {
        let buffer = crank_and_pull(&mut harness);
        assert_eq!(buffer.pts(), Some(BUFFER * k));
        assert_eq!(
            buffer.size(),
            64 * 48 * 3,
            "converted by the chain's last element"
        );
    }
    assert!(
        element
            .property::<Option<gst::Element>>("source")
            .unwrap()
            .is::<gst::Bin>()
    );
    assert_eq!(
        latency_query(&element),
        (true, BUFFER, Some(BUFFER + ms(200)))
    );
}

#[test]
fn wraps_a_source_with_a_sometimes_src_pad() {
    // uridecodebin has no sink pad and adds its src pads once it knows the stream.
    let file = std::env::temp_dir().join(format!("pushsrcbin-{}.wav", std::process::id()));
    let location = file.to_str().unwrap();
    run_pipeline_to_eos(
        pipeline(&format!(
            "audiotestsrc num-buffers=10 samplesperbuffer=480 ! {CAPS_48K_MONO} ! wavenc ! \
             filesink location={location}"
        ))
        .upcast_ref(),
    );
    let uri = gst::glib::filename_to_uri(&file, None).unwrap();
    let pipeline = pipeline(&format!(
        "pushsrcbin source-description=\"uridecodebin uri={uri}\" ! audioconvert ! \
         fakesink name=sink"
    ));
    let recorder = Recorder::at_sink(&pipeline);
    run_pipeline_to_eos(pipeline.upcast_ref());
    let _ = std::fs::remove_file(&file);
    let duration: gst::ClockTime = recorder
        .take()
        .iter()
        .filter_map(|item| match item {
            Item::Buffer { duration, .. } => Some(*duration),
            _ => None,
        })
        .sum();
    assert_eq!(duration, BUFFER * 10, "all of the file");
}

/// Capture buffer 10 ms (appsrc's min-latency) + max-offset 50 ms; appsrc pushes lists at once.
fn appsrc_in_srcbin() -> (gst_check::Harness, gst::Bus, gst_app::AppSrc) {
    let element = srcbin_with_description(&format!(
        "appsrc is-live=true format=time min-latency=10000000 caps={CAPS_48K_MONO}"
    ));
    element.set_property("max-offset", ms(50).nseconds());
    let (mut harness, bus) = harness(&element, CAPS_48K_MONO, true);
    harness.play();
    let appsrc = element
        .property::<Option<gst::Element>>("source")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    (harness, bus, appsrc)
}

fn list_of_buffers(first: gst::ClockTime, count: u64) -> gst::BufferList {
    let mut list = gst::BufferList::new();
    for k in 0..count {
        let mut buffer = gst::Buffer::with_size(960).unwrap();
        {
            let buffer = buffer.get_mut().unwrap();
            buffer.set_pts(first + BUFFER * k);
            buffer.set_duration(BUFFER);
        }
        list.get_mut().unwrap().add(buffer);
    }
    list
}

fn qos_summary(
    message: &gst::Message,
) -> (u64, u64, Option<gst::ClockTime>, Option<gst::ClockTime>) {
    let gst::MessageView::Qos(qos) = message.view() else {
        unreachable!()
    };
    let (processed, dropped) = qos.stats();
    let (
        gst::GenericFormattedValue::Buffers(Some(processed)),
        gst::GenericFormattedValue::Buffers(Some(dropped)),
    ) = (processed, dropped)
    else {
        panic!("QOS in buffers: {processed:?} {dropped:?}");
    };
    let (_, running_time, _, _, duration) = qos.get();
    (*processed, *dropped, running_time, duration)
}

#[test]
fn buffer_lists_lose_the_overwritten_buffers() {
    let (mut harness, bus, appsrc) = appsrc_in_srcbin();
    let testclock = harness.testclock().unwrap();
    testclock.set_time(ms(500));
    // At 500 ms a buffer ending at or before 440 ms has been overwritten.
    appsrc
        .push_buffer_list(list_of_buffers(gst::ClockTime::ZERO, 50))
        .unwrap();
    for k in 0..6u64 {
        let buffer = harness.pull().unwrap();
        assert_eq!(buffer.pts(), Some(ms(440) + BUFFER * k));
        assert_eq!(
            buffer.flags().contains(gst::BufferFlags::DISCONT),
            k == 0,
            "DISCONT after the loss only"
        );
    }
    let qos = messages_of(&drain_messages(&bus), gst::MessageType::Qos);
    assert_eq!(qos.len(), 1);
    assert_eq!(
        qos_summary(&qos[0]),
        (0, 44, Some(gst::ClockTime::ZERO), Some(ms(440)))
    );

    // A list lost whole is reported at EOS.
    testclock.set_time(ms(1000));
    appsrc
        .push_buffer_list(list_of_buffers(ms(500), 40))
        .unwrap();
    appsrc.end_of_stream().unwrap();
    while harness.pull_event().unwrap().type_() != gst::EventType::Eos {}
    assert_eq!(harness.try_pull(), None, "nothing of the lost list");
    let qos = messages_of(&drain_messages(&bus), gst::MessageType::Qos);
    assert_eq!(qos.len(), 1);
    assert_eq!(qos_summary(&qos[0]), (6, 84, Some(ms(500)), Some(ms(400))));
}

/// Sets `element` to READY, expecting that to fail with one ERROR from it; returns its text.
fn error_at_ready(element: &gst::Element) -> String {
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    assert_eq!(
        element.set_state(gst::State::Ready),
        Err(gst::StateChangeError)
    );
    assert_eq!(element.current_state(), gst::State::Null);
    let errors = messages_of(&drain_messages(&bus), gst::MessageType::Error);
    assert_eq!(errors.len(), 1, "one ERROR: {:?}", texts(&errors));
    assert_eq!(errors[0].src(), Some(element.upcast_ref::<gst::Object>()));
    texts(&errors).remove(0)
}

#[test]
fn no_source_is_an_error_at_the_state_change() {
    let element = srcbin();
    assert!(error_at_ready(&element).contains("has no source"));
    // Fixed, it starts.
    element.set_property("source-description", LIVE_AUDIO);
    element.set_state(gst::State::Ready).unwrap();
    element.set_state(gst::State::Null).unwrap();
}

#[test]
fn an_element_that_is_not_a_source_is_an_error() {
    for factory in ["identity", "fakesink"] {
        let element = srcbin();
        let wrapped = gst::ElementFactory::make(factory).build().unwrap();
        element.set_property("source", &wrapped);
        let text = error_at_ready(&element);
        assert!(
            text.contains("is not a source: it has a sink pad"),
            "{factory}: {text}"
        );
        assert!(wrapped.parent().is_none(), "not left inside the bin");
    }
    let text = error_at_ready(&srcbin_with_description("identity"));
    assert!(text.contains("is not a source"), "{text}");
    let text = error_at_ready(&srcbin_with_description("videotestsrc ! fakesink"));
    assert!(text.contains("has no src pad"), "{text}");
}

#[test]
fn a_description_that_does_not_parse_is_an_error() {
    let text = error_at_ready(&srcbin_with_description("( audiotestsrc"));
    assert!(
        text.contains("Cannot use source-description \"( audiotestsrc\""),
        "{text}"
    );
    let text = error_at_ready(&srcbin_with_description(
        "nosuchelementanywhere is-live=true",
    ));
    assert!(text.contains("nosuchelementanywhere"), "{text}");
}

#[test]
fn a_source_inside_another_bin_or_containing_the_bin_is_an_error() {
    init();
    let other = gst::Bin::new();
    let taken = gst::ElementFactory::make("audiotestsrc").build().unwrap();
    other.add(&taken).unwrap();
    let element = srcbin();
    element.set_property("source", &taken);
    assert!(error_at_ready(&element).contains("is already inside"));

    let outer = gst::Bin::new();
    let element = srcbin();
    outer.add(&element).unwrap();
    element.set_property("source", &outer);
    assert!(error_at_ready(&element).contains("contains this pushsrcbin"));
    element.set_property("source", None::<&gst::Element>);
}

#[test]
fn the_source_cannot_change_while_playing() {
    let element = srcbin_with_description(LIVE_AUDIO);
    let (mut harness, bus) = harness(&element, CAPS_48K_MONO, true);
    harness.play();
    crank_and_pull(&mut harness);
    let wrapped = element.property::<Option<gst::Element>>("source");
    drain_messages(&bus);

    element.set_property("source-description", "videotestsrc is-live=true");
    element.set_property(
        "source",
        gst::ElementFactory::make("audiotestsrc").build().unwrap(),
    );
    let warnings = warnings(&drain_messages(&bus));
    assert_eq!(warnings.len(), 2, "each refusal is reported");
    assert!(texts(&warnings)[0].contains("can only change in NULL or READY"));
    assert_eq!(
        element
            .property::<Option<String>>("source-description")
            .as_deref(),
        Some(LIVE_AUDIO)
    );
    assert_eq!(element.property::<Option<gst::Element>>("source"), wrapped);
    let buffer = crank_and_pull(&mut harness);
    assert_eq!(buffer.pts(), Some(BUFFER), "still streaming");
}

#[test]
fn a_source_changed_in_ready_is_used_from_paused() {
    let element = srcbin_with_description("audiotestsrc samplesperbuffer=480");
    let (mut harness, _bus) = harness(&element, CAPS_48K_MONO, true);
    element.set_state(gst::State::Ready).unwrap();
    assert!(!element.property::<bool>("is-live"));
    element.set_property("source-description", LIVE_AUDIO);
    harness.play();
    assert!(element.property::<bool>("is-live"), "the new, live source");
    assert_eq!(
        crank_and_pull(&mut harness).pts(),
        Some(gst::ClockTime::ZERO)
    );
}

#[test]
fn gst_launch_reports_a_bad_description_without_crashing() {
    let output = gst_launch(&[
        "pushsrcbin",
        "source-description=( audiotestsrc",
        "!",
        "fakesink",
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("Cannot use source-description"), "{text}");
    assert!(!text.contains("CRITICAL"), "{text}");
}

#[test]
fn before_a_source_is_known_nothing_is_made_up() {
    let element = srcbin();
    element.set_property("extra-latency", ms(7).nseconds());
    // Reading the latency asks the (absent) source; that answer must not be taken as a fact.
    assert_eq!(element.property::<u64>("latency"), ms(7).nseconds());
    assert_eq!(
        element.property::<PushSourceFlags>("push-source-flags"),
        PushSourceFlags::empty()
    );
    assert!(element.property::<bool>("is-live"));
    assert_eq!(element.property::<u64>("max-offset"), ms(200).nseconds());
    let source = element.dynamic_cast_ref::<PushSource>().unwrap();
    assert_eq!(source.source_latency(), None, "cannot tell yet");
}

#[test]
fn ts_offset_applies_to_a_source_that_is_not_live_too() {
    let element = srcbin_with_description(&format!("appsrc format=time caps={CAPS_48K_MONO}"));
    element.set_property("ts-offset", ms(30).nseconds() as i64);
    let (mut harness, _bus) = harness(&element, CAPS_48K_MONO, false);
    harness.play();
    assert!(!element.property::<bool>("is-live"));
    let appsrc = element
        .property::<Option<gst::Element>>("source")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    let buffers = list_of_buffers(gst::ClockTime::ZERO, 2);
    let mut next_buffer = buffers.iter_owned();
    appsrc.push_buffer(next_buffer.next().unwrap()).unwrap();
    let buffer = harness.pull().unwrap();
    assert_eq!(
        current_segment(&harness).to_running_time(buffer.pts()),
        Some(ms(30))
    );
    element.set_property("ts-offset", -(ms(5).nseconds() as i64));
    appsrc.push_buffer(next_buffer.next().unwrap()).unwrap();
    let buffer = harness.pull().unwrap();
    assert_eq!(buffer.pts(), Some(BUFFER));
    assert_eq!(
        current_segment(&harness).to_running_time(buffer.pts()),
        Some(ms(5)),
        "from the next buffer"
    );
}
