//! `graphbin` with DirectShow's defaults (SPEC section 3, latency item 4; issue 11, item 1):
//! `max-graph-latency` is 500 ms, and with `sync-using-stream-offset` every push source buffers
//! for the wait its sinks impose, so that the canonical graphs play every buffer without
//! `max-graph-latency` or `max-offset` tuned by hand. On a TestClock, each clock wait released
//! in time order; the gst-launch lines through a real gst-launch too.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;

/// A buffer as a sink rendered it.
#[derive(Debug, Clone, Copy)]
struct Render {
    pts: gst::ClockTime,
    duration: gst::ClockTime,
    discont: bool,
}

/// `graphbin.( description )` in a pipeline on a TestClock.
fn graph_pipeline(description: &str) -> (gst::Pipeline, gst_check::TestClock) {
    init();
    let graph = gst::parse::launch(&format!("graphbin.( name=graph {description} )")).unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    (pipeline, testclock)
}

/// Plays `pipeline` on `testclock`, releasing the earliest clock wait each time every one of
/// the `streams` streaming threads waits on the clock, until each sink named in `sinks` has
/// rendered `buffers` buffers; returns what each rendered and every message posted.
fn play(
    pipeline: &gst::Pipeline,
    testclock: &gst_check::TestClock,
    sinks: &[&str],
    buffers: usize,
) -> (HashMap<String, Vec<Render>>, Vec<gst::Message>) {
    let renders: Arc<Mutex<HashMap<String, Vec<Render>>>> = Arc::default();
    for name in sinks {
        let record = renders.clone();
        let sink = pipeline.by_name(name).unwrap();
        sink.set_property("signal-handoffs", true);
        sink.connect("handoff", false, move |values| {
            let sink = values[0].get::<gst::Element>().unwrap();
            let buffer = values[1].get::<gst::Buffer>().unwrap();
            record
                .lock()
                .unwrap()
                .entry(sink.name().to_string())
                .or_default()
                .push(Render {
                    pts: buffer.pts().unwrap(),
                    duration: buffer.duration().unwrap(),
                    discont: buffer.flags().contains(gst::BufferFlags::DISCONT),
                });
            None
        });
    }
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let done = |renders: &HashMap<String, Vec<Render>>| {
        renders.len() == sinks.len() && renders.values().all(|r| r.len() >= buffers)
    };
    let mut messages = Vec::new();
    while !done(&renders.lock().unwrap()) {
        // Each streaming thread parks on one clock wait (in its source until the capture is
        // due, or in its sink until the render time): waiting for all of them before moving
        // the clock keeps time in order.
        let (found, _) = testclock
            .timed_wait_for_multiple_pending_ids(sinks.len() as u32, HANG_GUARD.as_millis() as u32);
        assert!(found, "every streaming thread waits on the clock");
        messages.extend(drain_messages(&bus));
        let earliest = testclock.wait_for_next_pending_id().time();
        if earliest > testclock.time() {
            testclock.set_time(earliest);
        }
        testclock
            .process_next_clock_id()
            .expect("the earliest wait is due");
    }
    messages.extend(drain_messages(&bus));
    pipeline.set_state(gst::State::Null).unwrap();
    let renders = renders.lock().unwrap().clone();
    (renders, messages)
}

/// Every sink rendered every buffer: each starts where the one before ended, and only the
/// first is DISCONT (the start of the stream); no QOS message said data was lost, no WARNING.
fn assert_every_buffer_played(renders: &HashMap<String, Vec<Render>>, messages: &[gst::Message]) {
    for (sink, renders) in renders {
        let first = &renders[..renders.len().min(4)];
        for pair in renders.windows(2) {
            assert_eq!(
                pair[1].pts,
                pair[0].pts + pair[0].duration,
                "{sink}: no buffer lost: {first:?}…"
            );
            assert!(!pair[1].discont, "{sink}: no DISCONT: {first:?}…");
        }
    }
    let qos = messages_of(messages, gst::MessageType::Qos);
    assert!(qos.is_empty(), "no QOS: {qos:?}");
    let warnings = warnings(messages);
    assert!(warnings.is_empty(), "no WARNING: {warnings:?}");
}

fn graph_latency(messages: &[gst::Message]) -> gst::Structure {
    element_messages(messages, "graph-latency")
        .pop()
        .expect("a graph-latency message")
}

fn source_entry(message: &gst::Structure, name: &str) -> gst::Structure {
    message
        .get::<gst::List>("sources")
        .unwrap()
        .iter()
        .map(|value| value.get::<gst::Structure>().unwrap())
        .find(|source| source.get::<String>("name").unwrap() == name)
        .unwrap_or_else(|| panic!("{name} in {message}"))
}

/// A live audio source of `latency` into a synchronised fakesink with its default 20 ms
/// processing deadline (part of PL).
fn audio_branch(name: &str, latency: gst::ClockTime) -> String {
    format!(
        "pushaudiotestsrc name={name} samplesperbuffer=480 latency={} ! {CAPS_48K_MONO} ! \
         fakesink name={name}_sink sync=true async=false ",
        latency.nseconds()
    )
}

/// Two sources of `fast` and 500 ms latency, sync on, every other setting the default.
fn fast_and_slow(wanted: gst::ClockTime) {
    let (pipeline, testclock) = graph_pipeline(&format!(
        "sync-using-stream-offset=true {}{}",
        audio_branch("fast", wanted),
        audio_branch("slow", ms(500))
    ));
    // 100 buffers of 10 ms: a second of stream, well past the 520 ms the fast one waits.
    let (renders, messages) = play(&pipeline, &testclock, &["fast_sink", "slow_sink"], 100);
    assert_every_buffer_played(&renders, &messages);
    let message = graph_latency(&messages);
    let entry = source_entry(&message, "fast");
    // Its effective latency: never less than one buffer at the rate it assumed when asked.
    let fast = gst::ClockTime::from_nseconds(entry.get::<u64>("latency").unwrap());
    assert!(fast >= wanted, "{entry}");
    assert_eq!(
        entry.get::<i64>("ts-offset").unwrap() as u64,
        (ms(500) - fast).nseconds()
    );
    // PL = 500 ms + the sink's 20 ms processing deadline: the fast source waits PL − its
    // latency, or max-graph-latency if that is more.
    let wait = (ms(520) - fast).max(ms(500));
    assert_eq!(
        entry.get::<u64>("max-offset").unwrap(),
        wait.nseconds(),
        "{entry}"
    );
    assert!(!entry.get::<bool>("exceeds-max").unwrap());
}

#[test]
fn sources_of_33_ms_and_500_ms_play_every_buffer_with_the_defaults() {
    fast_and_slow(ms(33));
}

#[test]
fn sources_of_10_ms_and_500_ms_play_every_buffer_with_the_defaults() {
    fast_and_slow(ms(10));
}

#[test]
fn audio_and_video_play_every_buffer_with_the_defaults() {
    // The README's capture card: audio of 500 ms, video of one frame (33 ms at 30/1).
    let (pipeline, testclock) = graph_pipeline(
        "sync-using-stream-offset=true \
         pushaudiotestsrc latency=500000000 ! audioconvert ! fakesink name=audio sync=true async=false \
         pushvideotestsrc name=video_src ! videoconvert ! fakesink name=video sync=true async=false",
    );
    let (renders, messages) = play(&pipeline, &testclock, &["audio", "video"], 40);
    assert_every_buffer_played(&renders, &messages);
    let video = source_entry(&graph_latency(&messages), "video_src");
    assert_eq!(video.get::<i64>("ts-offset").unwrap(), 466_666_666);
}

#[test]
fn with_sync_off_the_sources_keep_their_own_max_offset() {
    let (pipeline, _clock) = graph_pipeline(&format!(
        "{}{}",
        audio_branch("fast", ms(33)),
        audio_branch("slow", ms(500))
    ));
    pipeline.set_state(gst::State::Playing).unwrap();
    let messages = drain_messages(&pipeline.bus().unwrap());
    for name in ["fast", "slow"] {
        assert_eq!(
            pipeline
                .by_name(name)
                .unwrap()
                .property::<u64>("max-offset"),
            ms(200).nseconds(),
            "{name}: GStreamer's own behaviour, untouched"
        );
    }
    let message = graph_latency(&messages);
    assert_eq!(
        source_entry(&message, "fast")
            .get::<i64>("ts-offset")
            .unwrap(),
        0
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn turning_sync_off_gives_each_source_its_own_max_offset_back() {
    let (pipeline, _clock) = graph_pipeline(&format!(
        "sync-using-stream-offset=true {}{}",
        // 240 samples last less than 10 ms at 44.1 kHz too, so the latency the survey finds is
        // the same before and after the source negotiates 48 kHz.
        audio_branch("fast", ms(10))
            .replace("samplesperbuffer=480", "samplesperbuffer=240")
            .replace("latency=", "max-offset=123000000 latency="),
        audio_branch("slow", ms(500))
    ));
    let graph = pipeline.by_name("graph").unwrap();
    let max_offset = |name: &str| {
        pipeline
            .by_name(name)
            .unwrap()
            .property::<u64>("max-offset")
    };
    pipeline.set_state(gst::State::Paused).unwrap();
    assert_eq!(
        max_offset("fast"),
        ms(500).nseconds(),
        "handed before READY is left"
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    let fast = pipeline.by_name("fast").unwrap().property::<u64>("latency");
    let sized = ms(520).nseconds() - fast;
    assert!(sized > ms(500).nseconds(), "PL 520 ms − about 10 ms");
    assert_eq!(max_offset("fast"), sized, "PL 520 ms − its latency");
    assert_eq!(max_offset("slow"), ms(500).nseconds());

    graph.set_property("sync-using-stream-offset", false);
    assert_eq!(max_offset("fast"), 123_000_000, "its own value back");
    assert_eq!(max_offset("slow"), ms(200).nseconds());
    graph.set_property("sync-using-stream-offset", true);
    assert_eq!(max_offset("fast"), sized, "sized again at once");
    pipeline.set_state(gst::State::Null).unwrap();
    graph.set_property("sync-using-stream-offset", false);
    assert_eq!(max_offset("fast"), 123_000_000, "in NULL too");
}

#[test]
fn a_source_added_while_playing_buffers_for_the_wait_its_sink_imposes() {
    init();
    let graph = gst::parse::launch(&format!(
        "graphbin.( name=graph sync-using-stream-offset=true max-graph-latency=50000000 {} )",
        audio_branch("slow", ms(100))
    ))
    .unwrap()
    .downcast::<gst::Bin>()
    .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();

    let added = gst::parse::bin_from_description(&audio_branch("fast", ms(20)), false).unwrap();
    graph.add(&added).unwrap();
    let fast = pipeline.by_name("fast").unwrap();
    assert_eq!(
        fast.property::<u64>("max-offset"),
        50_000_000,
        "max-graph-latency handed on as it joins"
    );
    added.sync_state_with_parent().unwrap();
    // What gst-launch does with the LATENCY messages, until the new source is equalized.
    let expected = (ms(120) - ms(20)).nseconds();
    while fast.property::<u64>("max-offset") != expected {
        let message = bus
            .timed_pop(gst::ClockTime::from_seconds(HANG_GUARD.as_secs()))
            .expect("a message within the hang guard");
        if let gst::MessageView::Latency(_) = message.view() {
            let _ = pipeline.recalculate_latency();
        }
    }
    added.set_state(gst::State::Null).unwrap();
    graph.remove(&added).unwrap();
    assert_eq!(
        fast.property::<u64>("max-offset"),
        ms(200).nseconds(),
        "a removed source gets its own max-offset back"
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

/// `gst-launch-1.0 -m args`: its output, which must end in EOS, with neither WARNING nor QOS.
fn assert_gst_launch_plays_clean(args: &[&str]) {
    let output = gst_launch(&[&["-m"], args].concat());
    let text = output_text(&output);
    assert!(output.status.success(), "{args:?}\n{text}");
    assert!(text.contains("Got EOS"), "{text}");
    for unwanted in [
        "WARNING",
        "ERROR",
        "(qos)",
        "Impossible to configure latency",
    ] {
        assert!(!text.contains(unwanted), "{unwanted}: {args:?}\n{text}");
    }
}

#[test]
fn gst_launch_plays_the_canonical_graph_clean_with_the_defaults() {
    let line = "graphbin.( sync-using-stream-offset=true \
                pushaudiotestsrc latency=33000000 num-buffers=60 ! fakesink sync=true \
                pushaudiotestsrc latency=500000000 num-buffers=60 ! fakesink sync=true )";
    assert_gst_launch_plays_clean(&line.split_whitespace().collect::<Vec<_>>());
}

#[test]
fn gst_launch_plays_10_ms_and_500_ms_clean_with_the_defaults() {
    let line = "graphbin.( sync-using-stream-offset=true \
                pushaudiotestsrc latency=10000000 samplesperbuffer=441 num-buffers=100 ! \
                fakesink sync=true \
                pushaudiotestsrc latency=500000000 num-buffers=40 ! fakesink sync=true )";
    assert_gst_launch_plays_clean(&line.split_whitespace().collect::<Vec<_>>());
}
