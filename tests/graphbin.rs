//! `graphbin`, SPEC section 3 (latency and rate matching) and conformance cases 7–11 and 18,
//! on whole pipelines with a TestClock.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::*;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gstpushsource::{PushSource, PushSourceFlags, PushSourceImpl, StreamOffsetResult};

const FAST: gst::ClockTime = gst::ClockTime::from_mseconds(33);
const SLOW: gst::ClockTime = gst::ClockTime::from_mseconds(500);

/// A live source of `latency` ns into its own synchronised fakesink, inside a graph bin.
fn branch(name: &str, latency: gst::ClockTime, extra: &str) -> String {
    format!(
        "pushaudiotestsrc name={name} samplesperbuffer=480 latency={} {extra} ! {CAPS_48K_MONO} ! \
         fakesink name={name}_sink sync=true async=false processing-deadline=0 signal-handoffs=true ",
        latency.nseconds()
    )
}

/// A pipeline holding what `description` describes: a description of one bin alone
/// (`graphbin.( … )`) gives that bin, which gst-launch would put into a pipeline.
fn pipeline_of(description: &str) -> gst::Pipeline {
    init();
    let element = gst::parse::launch(description).unwrap();
    element
        .clone()
        .downcast::<gst::Pipeline>()
        .unwrap_or_else(|_| {
            let pipeline = gst::Pipeline::new();
            pipeline.add(&element).unwrap();
            pipeline
        })
}

/// A pipeline around `graphbin.( properties branches )`, on a TestClock.
fn graph_pipeline(properties: &str, branches: &str) -> (gst::Pipeline, gst_check::TestClock) {
    let pipeline = pipeline_of(&format!("graphbin.( name=graph {properties} {branches} )"));
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    (pipeline, testclock)
}

fn element(pipeline: &gst::Pipeline, name: &str) -> gst::Element {
    pipeline.by_name(name).unwrap()
}

fn ts_offset(pipeline: &gst::Pipeline, name: &str) -> i64 {
    element(pipeline, name).property("ts-offset")
}

/// The `graph-latency` messages among `messages`, in order.
fn graph_latency_messages(messages: &[gst::Message]) -> Vec<gst::Structure> {
    element_messages(messages, "graph-latency")
}

fn last_graph_latency(bus: &gst::Bus) -> gst::Structure {
    graph_latency_messages(&drain_messages(bus))
        .pop()
        .expect("a graph-latency message")
}

fn entries(message: &gst::Structure, field: &str) -> HashMap<String, gst::Structure> {
    message
        .get::<gst::List>(field)
        .unwrap()
        .iter()
        .map(|value| {
            let entry = value.get::<gst::Structure>().unwrap();
            assert_eq!(entry.name(), "source");
            (entry.get::<String>("name").unwrap(), entry)
        })
        .collect()
}

fn warnings_with_details(messages: &[gst::Message], details: &str) -> Vec<gst::Structure> {
    warnings(messages)
        .iter()
        .filter_map(|message| match message.view() {
            gst::MessageView::Warning(warning) => warning
                .details()
                .filter(|s| s.name() == details)
                .map(|s| s.to_owned()),
            _ => None,
        })
        .collect()
}

/// Plays until the pipeline has computed its latency once (a live pipeline does that inside
/// `set_state`, before any buffer flows), then returns the bus.
fn play(pipeline: &gst::Pipeline) -> gst::Bus {
    pipeline.set_state(gst::State::Playing).unwrap();
    pipeline.bus().unwrap()
}

#[test]
fn case_7_sync_off_changes_no_offset() {
    let (pipeline, _clock) = graph_pipeline(
        "",
        &(branch("fast", FAST, "ts-offset=12345") + &branch("slow", SLOW, "")),
    );
    let graph = element(&pipeline, "graph");
    let changed = Arc::new(Mutex::new(Vec::new()));
    for name in ["fast", "slow"] {
        let changed = changed.clone();
        element(&pipeline, name).connect_notify(Some("ts-offset"), move |source, _| {
            changed.lock().unwrap().push(source.name().to_string())
        });
    }
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    assert_eq!(message.get::<u64>("latency").unwrap(), SLOW.nseconds());
    assert!(!message.get::<bool>("sync-using-stream-offset").unwrap());
    let sources = entries(&message, "sources");
    assert_eq!(sources["fast"].get::<i64>("ts-offset").unwrap(), 12345);
    assert_eq!(sources["slow"].get::<i64>("ts-offset").unwrap(), 0);
    assert_eq!(graph.property::<u64>("graph-latency"), SLOW.nseconds());
    assert_eq!(ts_offset(&pipeline, "fast"), 12345);
    assert_eq!(ts_offset(&pipeline, "slow"), 0);
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        changed.lock().unwrap().is_empty(),
        "no source's ts-offset was set"
    );
}

#[test]
fn case_8_offsets_467_and_0_then_restored_when_sync_is_turned_off() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=500000000",
        &(branch("fast", FAST, "ts-offset=5000000") + &branch("slow", SLOW, "ts-offset=-7")),
    );
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    assert_eq!(message.get::<u64>("latency").unwrap(), SLOW.nseconds());
    assert!(message.get::<bool>("sync-using-stream-offset").unwrap());
    let sources = entries(&message, "sources");
    let fast = &sources["fast"];
    assert_eq!(fast.get::<u64>("latency").unwrap(), FAST.nseconds());
    assert_eq!(fast.get::<i64>("ts-offset").unwrap(), 467_000_000);
    assert_eq!(fast.get::<u64>("max-offset").unwrap(), SLOW.nseconds());
    assert!(!fast.get::<bool>("exceeds-max").unwrap());
    assert_eq!(
        fast.get::<String>("rate-matching").unwrap(),
        "no-audio-sink"
    );
    let slow = &sources["slow"];
    assert_eq!(slow.get::<i64>("ts-offset").unwrap(), 0);
    assert_ne!(
        fast.get::<u32>("group").unwrap(),
        slow.get::<u32>("group").unwrap()
    );
    assert_eq!(ts_offset(&pipeline, "fast"), 467_000_000);
    assert_eq!(ts_offset(&pipeline, "slow"), 0);
    assert!(
        warnings(&drain_messages(&bus)).is_empty(),
        "within max-offset: no warning"
    );

    // Off while playing: the offsets the sources had before, and a message saying so.
    let graph = element(&pipeline, "graph");
    graph.set_property("sync-using-stream-offset", false);
    assert_eq!(ts_offset(&pipeline, "fast"), 5_000_000);
    assert_eq!(ts_offset(&pipeline, "slow"), -7);
    let message = last_graph_latency(&bus);
    assert!(!message.get::<bool>("sync-using-stream-offset").unwrap());

    // On again: equalized again at once, from the restored offsets.
    graph.set_property("sync-using-stream-offset", true);
    assert_eq!(ts_offset(&pipeline, "fast"), 467_000_000);
    assert_eq!(ts_offset(&pipeline, "slow"), 0);
    pipeline.set_state(gst::State::Null).unwrap();
    graph.set_property("sync-using-stream-offset", false);
    assert_eq!(
        ts_offset(&pipeline, "fast"),
        5_000_000,
        "restored in NULL too"
    );
}

#[derive(Debug, Clone, Copy)]
struct Render {
    pts: gst::ClockTime,
    /// Running time of the buffer in the segment the sink received (the offset included).
    running_time: gst::ClockTime,
    /// Clock time at the handoff minus the base time.
    rendered: gst::ClockTime,
}

/// Runs the 33 ms and 500 ms sources into their synchronised sinks on a TestClock, releasing
/// each clock wait in time order, until every sink rendered `buffers` buffers.
fn render_times(sync: bool, buffers: usize) -> (HashMap<String, Vec<Render>>, gst::Pipeline) {
    // Without sync the bin leaves the sources as they are (GStreamer's own behaviour): the fast
    // one needs a capture buffer for the 467 ms its sink holds it, as the README says.
    let fast_capacity = if sync { "" } else { "max-offset=1000000000" };
    let (pipeline, testclock) = graph_pipeline(
        &format!("sync-using-stream-offset={sync} max-graph-latency=1000000000"),
        &(branch("fast", FAST, fast_capacity) + &branch("slow", SLOW, "")),
    );
    let renders: Arc<Mutex<HashMap<String, Vec<Render>>>> = Arc::default();
    for name in ["fast_sink", "slow_sink"] {
        let (record, clock) = (renders.clone(), testclock.clone());
        element(&pipeline, name).connect("handoff", false, move |values| {
            let sink = values[0].get::<gst::Element>().unwrap();
            let buffer = values[1].get::<gst::Buffer>().unwrap();
            let pad = values[2].get::<gst::Pad>().unwrap();
            let segment = pad.sticky_event::<gst::event::Segment>(0).unwrap();
            let segment = segment.segment().downcast_ref::<gst::ClockTime>().unwrap();
            let render = Render {
                pts: buffer.pts().unwrap(),
                running_time: segment.to_running_time(buffer.pts()).unwrap(),
                rendered: clock.time() - sink.base_time().unwrap(),
            };
            record
                .lock()
                .unwrap()
                .entry(sink.name().to_string())
                .or_default()
                .push(render);
            None
        });
    }
    pipeline.set_state(gst::State::Playing).unwrap();
    let done = |renders: &HashMap<String, Vec<Render>>| {
        renders.len() == 2 && renders.values().all(|r| r.len() >= buffers)
    };
    while !done(&renders.lock().unwrap()) {
        // Each streaming thread parks on one clock wait; waiting for both before moving the
        // clock guarantees that a released handoff read the clock before it moved on.
        // (It answers whether exactly that many waits are pending, so `release_next_wait`,
        // which expects one, does not apply.)
        let (found, _) =
            testclock.timed_wait_for_multiple_pending_ids(2, HANG_GUARD.as_millis() as u32);
        assert!(found, "both streaming threads wait on the clock");
        let earliest = testclock.wait_for_next_pending_id().time();
        if earliest > testclock.time() {
            testclock.set_time(earliest);
        }
        testclock
            .process_next_clock_id()
            .expect("the earliest wait is due");
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let renders = renders.lock().unwrap().clone();
    (renders, pipeline)
}

fn assert_rendered_at_capture_plus_pl(sync: bool) {
    let buffers = 8;
    let (renders, pipeline) = render_times(sync, buffers);
    let pipeline_latency = SLOW;
    for (sink, offset) in [("fast_sink", 467_000_000u64), ("slow_sink", 0)] {
        let offset = gst::ClockTime::from_nseconds(if sync { offset } else { 0 });
        let renders = &renders[sink];
        for (k, render) in renders.iter().take(buffers).enumerate() {
            let capture = gst::ClockTime::from_mseconds(10 * k as u64);
            assert_eq!(
                render.pts, capture,
                "{sink}: buffer {k} is the next capture"
            );
            assert_eq!(
                render.running_time,
                capture + offset,
                "{sync}: {sink} buffer {k} carries its offset in its running time"
            );
            assert_eq!(
                render.rendered,
                capture + pipeline_latency,
                "sync-using-stream-offset={sync}: {sink} buffer {k} rendered at capture + PL"
            );
        }
    }
    let expected = if sync { 467_000_000 } else { 0 };
    assert_eq!(ts_offset(&pipeline, "fast"), expected);
}

#[test]
fn case_8_rendered_at_capture_plus_pl_with_sync_on() {
    assert_rendered_at_capture_plus_pl(true);
}

#[test]
fn case_8_rendered_at_capture_plus_pl_with_sync_off() {
    assert_rendered_at_capture_plus_pl(false);
}

#[test]
fn case_9_sources_into_one_mixer_share_one_offset() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=1000000000",
        &format!(
            "audiomixer name=mix ! fakesink name=mix_sink sync=true \
             pushaudiotestsrc name=a samplesperbuffer=480 latency=33000000 ! {CAPS_48K_MONO} ! queue ! mix. \
             pushaudiotestsrc name=b samplesperbuffer=480 latency=100000000 ! {CAPS_48K_MONO} ! mix. \
             {}",
            branch("alone", SLOW, "")
        ),
    );
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    let sources = entries(&message, "sources");
    assert_eq!(
        sources["a"].get::<u32>("group").unwrap(),
        sources["b"].get::<u32>("group").unwrap(),
        "the mixer's sources form one group"
    );
    assert_ne!(
        sources["a"].get::<u32>("group").unwrap(),
        sources["alone"].get::<u32>("group").unwrap()
    );
    // The group's latency is its slowest member's: 500 − 100 for both.
    assert_eq!(ts_offset(&pipeline, "a"), 400_000_000);
    assert_eq!(ts_offset(&pipeline, "b"), 400_000_000);
    assert_eq!(ts_offset(&pipeline, "alone"), 0);
    pipeline.set_state(gst::State::Null).unwrap();
}

mod unknown {
    use super::*;

    /// A push source that cannot tell its latency.
    #[derive(Default)]
    pub struct LatencyUnknown {
        pub offset: Mutex<i64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LatencyUnknown {
        const NAME: &'static str = "TestGraphLatencyUnknownSource";
        type Type = super::LatencyUnknownSource;
        type ParentType = gst::Element;
        type Interfaces = (PushSource,);
    }

    impl ObjectImpl for LatencyUnknown {}
    impl GstObjectImpl for LatencyUnknown {}
    impl ElementImpl for LatencyUnknown {}

    impl PushSourceImpl for LatencyUnknown {
        fn latency(&self) -> Option<gst::ClockTime> {
            None
        }
        fn stream_offset(&self) -> i64 {
            *self.offset.lock().unwrap()
        }
        fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
            *self.offset.lock().unwrap() = offset;
            StreamOffsetResult::Applied
        }
        fn max_stream_offset(&self) -> gst::ClockTime {
            gst::ClockTime::ZERO
        }
        fn set_max_stream_offset(&self, _max_offset: gst::ClockTime) {}
        fn push_source_flags(&self) -> PushSourceFlags {
            PushSourceFlags::empty()
        }
        fn set_push_source_flags(&self, _flags: PushSourceFlags) {}
    }
}

glib::wrapper! {
    pub struct LatencyUnknownSource(ObjectSubclass<unknown::LatencyUnknown>)
        @extends gst::Element, gst::Object, @implements PushSource;
}

#[test]
fn case_10_not_live_and_latency_unknown_sources_are_left_out() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=1000000000",
        &(branch("fast", FAST, "")
            + &branch("slow", SLOW, "")
            + &branch(
                "file",
                gst::ClockTime::from_seconds(2),
                "is-live=false ts-offset=99",
            )),
    );
    let graph = element(&pipeline, "graph").downcast::<gst::Bin>().unwrap();
    let unknown = glib::Object::builder::<LatencyUnknownSource>()
        .property("name", "unknown")
        .build();
    *unknown.imp().offset.lock().unwrap() = 42;
    graph.add(&unknown).unwrap();

    let bus = play(&pipeline);
    let messages = drain_messages(&bus);
    let message = graph_latency_messages(&messages).pop().unwrap();
    assert_eq!(
        message.get::<u64>("latency").unwrap(),
        SLOW.nseconds(),
        "the 2 s of the not-live source do not count"
    );
    let sources = entries(&message, "sources");
    assert_eq!(sources.len(), 2, "{message}");
    assert_eq!(
        sources["fast"].get::<i64>("ts-offset").unwrap(),
        467_000_000
    );
    let excluded = entries(&message, "excluded");
    assert_eq!(
        excluded["file"].get::<String>("reason").unwrap(),
        "not-live"
    );
    assert_eq!(
        excluded["file"].get::<String>("rate-matching").unwrap(),
        "not-live"
    );
    assert_eq!(
        excluded["unknown"].get::<String>("reason").unwrap(),
        "latency-unknown"
    );
    assert_eq!(ts_offset(&pipeline, "file"), 99, "not-live: untouched");
    assert_eq!(
        *unknown.imp().offset.lock().unwrap(),
        42,
        "latency unknown: untouched"
    );
    let reported = warnings_with_details(&messages, "pushsource/latency-unknown");
    assert_eq!(reported.len(), 1, "one clear WARNING");
    assert_eq!(reported[0].get::<String>("source").unwrap(), "unknown");

    // The next computation finds the same problem: no second WARNING.
    assert!(pipeline.query(&mut gst::query::Latency::new()));
    assert!(warnings(&drain_messages(&bus)).is_empty());
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_source_of_unknown_latency_keeps_the_sources_sharing_its_sink_at_offset_0() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=1000000000",
        &format!(
            "audiomixer name=mix ! fakesink name=mix_sink sync=true \
             pushaudiotestsrc name=a samplesperbuffer=480 latency=33000000 ! {CAPS_48K_MONO} ! mix. \
             {}",
            branch("slow", SLOW, "")
        ),
    );
    let graph = element(&pipeline, "graph").downcast::<gst::Bin>().unwrap();
    let unknown = glib::Object::new::<LatencyUnknownSource>();
    let pad = gst::Pad::builder(gst::PadDirection::Src)
        .name("src")
        .build();
    unknown.add_pad(&pad).unwrap();
    graph.add(&unknown).unwrap();
    unknown
        .link(&element(&pipeline, "mix"))
        .expect("linked to the mixer");
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    assert_eq!(
        ts_offset(&pipeline, "a"),
        0,
        "an offset would misalign it against the source of unknown latency: {message}"
    );
    assert_eq!(ts_offset(&pipeline, "slow"), 0);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn case_11_max_graph_latency_reaches_each_source_and_warns_when_exceeded() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=300000000",
        &(branch("fast", FAST, "") + &branch("slow", SLOW, "")),
    );
    pipeline.set_state(gst::State::Paused).unwrap();
    for name in ["fast", "slow"] {
        assert_eq!(
            element(&pipeline, name).property::<u64>("max-offset"),
            300_000_000,
            "{name}'s max-offset before the bin leaves READY"
        );
    }
    let bus = play(&pipeline);
    let messages = drain_messages(&bus);
    let exceeded = warnings_with_details(&messages, "pushsource/graph-latency-exceeds-max");
    assert_eq!(exceeded.len(), 1, "one WARNING");
    assert_eq!(exceeded[0].get::<u64>("latency").unwrap(), SLOW.nseconds());
    assert_eq!(
        exceeded[0].get::<u64>("max-graph-latency").unwrap(),
        300_000_000
    );
    assert_eq!(
        exceeded[0].get::<gst::Array>("sources").unwrap().as_slice()[0]
            .get::<String>()
            .unwrap(),
        "slow",
        "the WARNING names the source above the cap"
    );
    // SPEC section 3, latency item 4 (issue 11): equalized to min(Lmax, max-graph-latency),
    // the source above it at offset 0, and the fast one's capture buffer sized for the wait
    // its sink imposes (PL − 33 ms = 467 ms): nothing exceeds its max-offset any more.
    let message = graph_latency_messages(&messages).pop().unwrap();
    let sources = entries(&message, "sources");
    let fast = &sources["fast"];
    assert_eq!(fast.get::<i64>("ts-offset").unwrap(), 267_000_000, "{fast}");
    assert_eq!(
        fast.get::<u64>("max-offset").unwrap(),
        467_000_000,
        "{fast}"
    );
    assert!(!fast.get::<bool>("exceeds-max").unwrap(), "{fast}");
    assert_eq!(sources["slow"].get::<i64>("ts-offset").unwrap(), 0);

    // Set while playing: handed to the current sources at once.
    element(&pipeline, "graph").set_property("max-graph-latency", 600_000_000u64);
    for name in ["fast", "slow"] {
        assert_eq!(
            element(&pipeline, name).property::<u64>("max-offset"),
            600_000_000
        );
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn case_18_internal_rm_source_sets_the_audio_sinks_slave_method_to_none() {
    let pipeline = pipeline_of(
        "graphbin.( name=graph \
           pushaudiotestsrc name=matching push-source-flags=internal-rm ! alsasink name=rm_sink device=null \
           pushaudiotestsrc name=plain ! alsasink name=plain_sink device=null )",
    );
    let slave_method = |name: &str| {
        let value = element(&pipeline, name).property_value("slave-method");
        glib::EnumValue::from_value(&value)
            .unwrap()
            .1
            .nick()
            .to_string()
    };
    let default = slave_method("plain_sink");
    assert_ne!(default, "none");
    assert_eq!(
        pipeline.set_state(gst::State::Paused).unwrap(),
        gst::StateChangeSuccess::NoPreroll,
        "alsasink device=null opens without sound hardware"
    );
    assert_eq!(slave_method("rm_sink"), "none");
    assert_eq!(
        slave_method("plain_sink"),
        "none",
        "a ratematch in front matches rates (SPEC 3a), not the sink"
    );

    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    let sources = entries(&message, "sources");
    assert_eq!(
        sources["matching"].get::<String>("rate-matching").unwrap(),
        "source"
    );
    assert_eq!(
        sources["plain"].get::<String>("rate-matching").unwrap(),
        "graph-clock"
    );
    pipeline.set_state(gst::State::Null).unwrap();
    for sink in ["rm_sink", "plain_sink"] {
        assert_eq!(slave_method(sink), default, "{sink}: its own value back");
    }
}

#[test]
fn a_stream_leaving_through_a_ghost_pad_warns_and_keeps_offset_0() {
    init();
    let pipeline = gst::Pipeline::new();
    let graph = gst::ElementFactory::make("graphbin")
        .name("graph")
        .property("sync-using-stream-offset", true)
        .property("max-graph-latency", 1_000_000_000u64)
        .build()
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    let inner = gst::parse::bin_from_description(&branch("slow", SLOW, ""), false).unwrap();
    let leaving = gst::ElementFactory::make("pushaudiotestsrc")
        .name("leaving")
        .property("latency", FAST.nseconds())
        .build()
        .unwrap();
    let outside = gst::ElementFactory::make("fakesink")
        .property("sync", true)
        .build()
        .unwrap();
    graph.add_many([inner.upcast_ref(), &leaving]).unwrap();
    let ghost = gst::GhostPad::builder_with_target(&leaving.static_pad("src").unwrap())
        .unwrap()
        .name("out")
        .build();
    graph.add_pad(&ghost).unwrap();
    pipeline.add_many([graph.upcast_ref(), &outside]).unwrap();
    graph.link(&outside).unwrap();
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));

    let bus = play(&pipeline);
    let messages = drain_messages(&bus);
    let leaves = warnings_with_details(&messages, "pushsource/stream-leaves-bin");
    assert_eq!(leaves.len(), 1, "one WARNING");
    assert_eq!(leaves[0].get::<String>("source").unwrap(), "leaving");
    assert_eq!(leaves[0].get::<String>("pad").unwrap(), "out");
    assert_eq!(
        leaving.property::<i64>("ts-offset"),
        0,
        "its sink outside gets the full PL: an offset would desynchronize it"
    );
    assert!(!graph_latency_messages(&messages).is_empty());
    assert!(pipeline.query(&mut gst::query::Latency::new()));
    assert!(
        warnings(&drain_messages(&bus)).is_empty(),
        "not again for the same stream"
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_bin_without_live_sources_reports_latency_0_and_no_source() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true",
        "audiotestsrc is-live=true ! fakesink sync=true",
    );
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    assert_eq!(message.get::<u64>("latency").unwrap(), 0);
    assert!(entries(&message, "sources").is_empty());
    assert!(entries(&message, "excluded").is_empty());
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_graph_without_live_sources_reports_each_computation_as_its_sources_are_then() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true",
        "pushaudiotestsrc name=quiet is-live=false ! fakesink sync=false \
         pushaudiotestsrc name=later is-live=false latency=20000000 ! fakesink sync=true",
    );
    pipeline.set_state(gst::State::Paused).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    let bus = pipeline.bus().unwrap();
    let excluded_offset = |message: &gst::Structure| {
        entries(message, "excluded")["quiet"]
            .get::<i64>("ts-offset")
            .unwrap()
    };
    assert!(pipeline.recalculate_latency().is_ok());
    let first = last_graph_latency(&bus);
    assert_eq!(excluded_offset(&first), 0);

    assert!(pipeline.recalculate_latency().is_ok());
    assert_eq!(
        last_graph_latency(&bus),
        first,
        "one message per computation"
    );

    element(&pipeline, "quiet").set_property("ts-offset", 5_000_000i64);
    assert!(pipeline.recalculate_latency().is_ok());
    assert_eq!(excluded_offset(&last_graph_latency(&bus)), 5_000_000);

    // A source turned live (in READY: liveness changes only there) is equalized at the next
    // computation.
    pipeline.set_state(gst::State::Ready).unwrap();
    element(&pipeline, "later").set_property("is-live", true);
    pipeline.set_state(gst::State::Paused).unwrap();
    drain_messages(&bus);
    assert!(pipeline.recalculate_latency().is_ok());
    let message = last_graph_latency(&bus);
    assert!(
        message.get::<u64>("latency").unwrap() >= 20_000_000,
        "{message}"
    );
    assert!(entries(&message, "sources").contains_key("later"));
    pipeline.set_state(gst::State::Null).unwrap();
}

/// A latency computation (the pipeline's LATENCY query, then the LATENCY event with its answer)
/// equalizes once, also the first of a run: the sources were sized for the latency the bin
/// expected, which the event brings. An event with more (a wait the bin cannot see) sizes them
/// again. (Each computation equalized twice before: 2 messages.)
#[test]
fn a_latency_computation_equalizes_once_unless_its_event_brings_more() {
    let branches = format!("{}{}", branch("fast", FAST, ""), branch("slow", SLOW, ""));
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=0",
        &branches,
    );
    let bus = pipeline.bus().unwrap();
    // Live sources: no data, and so no other computation, before PLAYING.
    assert_eq!(
        pipeline.set_state(gst::State::Paused),
        Ok(gst::StateChangeSuccess::NoPreroll)
    );
    drain_messages(&bus);

    assert!(pipeline.recalculate_latency().is_ok());
    let messages = graph_latency_messages(&drain_messages(&bus));
    assert_eq!(messages.len(), 1, "one equalization per computation");
    let fast = &entries(&messages[0], "sources")["fast"];
    assert_eq!(
        fast.get::<u64>("max-offset").unwrap(),
        (SLOW - FAST).nseconds()
    );

    let more = SLOW + gst::ClockTime::from_mseconds(200);
    assert!(pipeline.send_event(gst::event::Latency::new(more)));
    let messages = graph_latency_messages(&drain_messages(&bus));
    assert_eq!(messages.len(), 1, "sized again for the longer wait");
    let fast = &entries(&messages[0], "sources")["fast"];
    assert_eq!(
        fast.get::<u64>("max-offset").unwrap(),
        (more - FAST).nseconds()
    );
    assert_eq!(
        element(&pipeline, "fast").property::<u64>("max-offset"),
        (more - FAST).nseconds()
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

/// Waits (within the hang guard) for a `graph-latency` message satisfying `accept`,
/// recalculating the latency on LATENCY messages as applications (and gst-launch) do.
fn await_graph_latency(
    pipeline: &gst::Pipeline,
    accept: impl Fn(&gst::Structure) -> bool,
) -> gst::Structure {
    let bus = pipeline.bus().unwrap();
    loop {
        let message = bus
            .timed_pop(gst::ClockTime::from_seconds(HANG_GUARD.as_secs()))
            .expect("a message within the hang guard");
        match message.view() {
            gst::MessageView::Latency(_) => {
                let _ = pipeline.recalculate_latency();
            }
            gst::MessageView::Error(error) => panic!("{}", error.error()),
            gst::MessageView::Element(element) => {
                if let Some(s) = element.structure()
                    && s.name() == "graph-latency"
                    && accept(&s.to_owned())
                {
                    return s.to_owned();
                }
            }
            _ => {}
        }
    }
}

// On the system clock: the pipeline re-prerolls the new sink, which needs real buffers; the
// result asserted does not depend on timing.
#[test]
fn sources_added_and_removed_while_playing_are_equalized_again() {
    let pipeline = pipeline_of(&format!(
        "graphbin.( name=graph sync-using-stream-offset=true max-graph-latency=1000000000 {} )",
        branch("slow", ms(100), "")
    ));
    let graph = element(&pipeline, "graph").downcast::<gst::Bin>().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    await_graph_latency(&pipeline, |s| entries(s, "sources").len() == 1);

    let added = gst::parse::bin_from_description(&branch("fast", ms(20), ""), false).unwrap();
    graph.add(&added).unwrap();
    added.sync_state_with_parent().unwrap();
    let message = await_graph_latency(&pipeline, |s| entries(s, "sources").len() == 2);
    assert_eq!(
        entries(&message, "sources")["fast"]
            .get::<i64>("ts-offset")
            .unwrap(),
        80_000_000
    );
    assert_eq!(ts_offset(&pipeline, "fast"), 80_000_000);
    let fast = element(&pipeline, "fast");
    assert_eq!(
        fast.property::<u64>("max-offset"),
        1_000_000_000,
        "max-graph-latency reaches a source added later"
    );

    added.set_state(gst::State::Null).unwrap();
    graph.remove(&added).unwrap();
    assert_eq!(
        fast.property::<i64>("ts-offset"),
        0,
        "a removed source gets its own offset back"
    );
    let message = await_graph_latency(&pipeline, |s| entries(s, "sources").len() == 1);
    assert_eq!(message.get::<u64>("latency").unwrap(), ms(100).nseconds());
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn gst_launch_bin_syntax_equalizes_and_prints_the_message() {
    let output = gst_launch(&[
        "-m",
        "graphbin.(",
        "sync-using-stream-offset=true",
        "max-graph-latency=500000000",
        "pushaudiotestsrc",
        "name=fast",
        "latency=33000000",
        "num-buffers=10",
        "!",
        "fakesink",
        "sync=true",
        "pushaudiotestsrc",
        "name=slow",
        "latency=500000000",
        "num-buffers=10",
        "!",
        "fakesink",
        "sync=true",
        ")",
    ]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Got EOS"), "{text}");
    let message = text
        .lines()
        .find(|line| line.contains("graph-latency, latency=(guint64)500000000"))
        .unwrap_or_else(|| panic!("a graph-latency message\n{text}"));
    assert!(
        message.contains(r"name\=\(string\)fast\,\ latency\=\(guint64\)33000000\,\ ts-offset\=\(gint64\)467000000"),
        "{message}"
    );
    assert!(
        !text.contains("WARNING") && !text.contains("ERROR"),
        "{text}"
    );
}

#[test]
fn gst_inspect_documents_graphbin() {
    let text = gst_inspect(&["graphbin"]);
    for expected in [
        "Long-name                Filter graph manager bin",
        "Klass                    Generic/Bin",
        "sync-using-stream-offset: Equalize the latencies",
        "Boolean. Default: false",
        "Range: 0 - 9223372036854775807 Default: 500000000",
        "graph-latency       : The latency of the slowest live push source",
    ] {
        assert!(text.contains(expected), "{expected:?}\n{text}");
    }
    for (property, expected) in [
        (
            "rate",
            [
                "rate : Playback rate of the graph (IMediaSeeking::SetRate)",
                "changeable in NULL, READY, PAUSED or PLAYING state",
                "Double. Range: -inf - inf Default: 1",
            ],
        ),
        (
            "preserve-pitch",
            [
                "preserve-pitch : Keep the pitch of the audio at rates other than 1.0",
                "changeable only in NULL or READY state",
                "Boolean. Default: false",
            ],
        ),
    ] {
        let shown = inspected_property(&text, property)
            .unwrap_or_else(|| panic!("gst-inspect shows {property}\n{text}"));
        for expected in expected {
            assert!(shown.contains(expected), "{expected:?}\n{shown}");
        }
    }
    let actions = collapse_whitespace(
        text.split_once("Element Actions:")
            .unwrap_or_else(|| panic!("gst-inspect shows action signals\n{text}"))
            .1,
    );
    assert!(
        actions.starts_with(
            "\"set-rate\" : gboolean user_function (GstElement* object, gdouble arg0);"
        ),
        "{actions}"
    );
}

/// `text` with every run of whitespace made one space: gst-inspect aligns its columns.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What gst-inspect shows for `property`: its line and the indented lines under it, with
/// whitespace collapsed.
fn inspected_property(text: &str, property: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|line| {
        line.trim_start()
            .strip_prefix(property)
            .is_none_or(|rest| !rest.trim_start().starts_with(':'))
    });
    let first = lines.next()?;
    let details = lines.take_while(|line| line.starts_with("   "));
    Some(collapse_whitespace(
        &std::iter::once(first)
            .chain(details)
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

#[test]
fn a_latency_change_while_playing_leads_to_a_new_equalization() {
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true max-graph-latency=1000000000",
        &(branch("fast", FAST, "") + &branch("slow", SLOW, "")),
    );
    let bus = play(&pipeline);
    drain_messages(&bus);
    assert_eq!(ts_offset(&pipeline, "fast"), 467_000_000);

    element(&pipeline, "fast").set_property("latency", ms(100).nseconds());
    let messages = drain_messages(&bus);
    assert!(
        messages
            .iter()
            .any(|m| matches!(m.view(), gst::MessageView::Latency(_))),
        "the source's LATENCY message reaches the application through the bin"
    );
    // What applications (and gst-launch) do with it.
    pipeline.recalculate_latency().unwrap();
    assert_eq!(ts_offset(&pipeline, "fast"), 400_000_000);
    let message = last_graph_latency(&bus);
    assert_eq!(
        entries(&message, "sources")["fast"]
            .get::<u64>("latency")
            .unwrap(),
        ms(100).nseconds()
    );

    // The slowest source gets faster: Lmax changes for everyone.
    element(&pipeline, "slow").set_property("latency", ms(200).nseconds());
    pipeline.recalculate_latency().unwrap();
    assert_eq!(ts_offset(&pipeline, "fast"), 100_000_000);
    assert_eq!(ts_offset(&pipeline, "slow"), 0);
    assert_eq!(
        element(&pipeline, "graph").property::<u64>("graph-latency"),
        ms(200).nseconds()
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_bin_without_sinks_equalizes_by_itself() {
    init();
    let pipeline = gst::Pipeline::new();
    let graph = gst::ElementFactory::make("graphbin")
        .property("sync-using-stream-offset", true)
        .build()
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    let source = gst::ElementFactory::make("pushaudiotestsrc")
        .name("only")
        .property("latency", FAST.nseconds())
        .build()
        .unwrap();
    graph.add(&source).unwrap();
    let ghost = gst::GhostPad::builder_with_target(&source.static_pad("src").unwrap())
        .unwrap()
        .name("out")
        .build();
    graph.add_pad(&ghost).unwrap();
    let sink = gst::ElementFactory::make("fakesink")
        .property("sync", true)
        .property("async", false)
        .build()
        .unwrap();
    pipeline.add_many([graph.upcast_ref(), &sink]).unwrap();
    graph.link(&sink).unwrap();
    pipeline.use_clock(Some(&gst_check::TestClock::new()));

    let bus = play(&pipeline);
    let messages = drain_messages(&bus);
    let message = graph_latency_messages(&messages)
        .pop()
        .expect("equalized when going to PLAYING, though no latency query reached the bin");
    assert_eq!(message.get::<u64>("latency").unwrap(), FAST.nseconds());
    assert_eq!(
        warnings_with_details(&messages, "pushsource/stream-leaves-bin").len(),
        1
    );

    source.set_property("latency", ms(70).nseconds());
    let message = last_graph_latency(&bus);
    assert_eq!(message.get::<u64>("latency").unwrap(), ms(70).nseconds());
    assert_eq!(source.property::<i64>("ts-offset"), 0);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_push_source_wrapped_in_pushsrcbin_is_equalized_through_the_bin_only() {
    // pushsrcbin reports the latency of what it wraps: the push source inside must not get an
    // offset of its own on top of the bin's, or its stream would be shifted twice.
    let wrapped = format!(
        "pushsrcbin name=wrapper source-description=\"pushaudiotestsrc name=inner \
         samplesperbuffer=480 latency={}\" ! {CAPS_48K_MONO} ! fakesink name=wrapper_sink \
         sync=true async=false ",
        FAST.nseconds()
    );
    let (pipeline, _clock) = graph_pipeline(
        "sync-using-stream-offset=true",
        &(wrapped + &branch("slow", SLOW, "")),
    );
    let bus = play(&pipeline);
    let message = last_graph_latency(&bus);
    let sources = entries(&message, "sources");
    assert_eq!(
        sources
            .keys()
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>(),
        ["slow", "wrapper"].into(),
        "the bin, not the source inside it"
    );
    assert_eq!(
        sources["wrapper"].get::<u64>("latency").unwrap(),
        FAST.nseconds()
    );
    let offset = (SLOW - FAST).nseconds() as i64;
    assert_eq!(ts_offset(&pipeline, "wrapper"), offset);
    assert_eq!(ts_offset(&pipeline, "inner"), 0, "no second offset inside");
    pipeline.set_state(gst::State::Null).unwrap();
}
