//! `graphbin` reentrancy: applications react to what the bin posts and notifies (the
//! `notify::graph-latency` and `notify::rate` handlers, a bus sync handler for the
//! `graph-latency` and `rate-changed` messages and for WARNINGs) by writing properties, calling
//! `set-rate`, changing the state or querying the position, in the thread the handler runs in
//! (the application's, a GStreamer thread-pool thread, a streaming thread) or in a second thread
//! the handler waits for. None of it may deadlock: each test runs under a hang guard that fails
//! it instead of hanging. Also the regression tests of the deadlocks of issue 10.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;

/// Waits until `pipeline` has no state change under way and is in `state`.
fn await_state(pipeline: &gst::Pipeline, state: gst::State) {
    loop {
        let (result, current, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
        assert!(result.is_ok(), "{current:?} -> {pending:?}: {result:?}");
        if pending == gst::State::VoidPending {
            assert_eq!(current, state);
            return;
        }
        std::thread::yield_now();
    }
}

/// `description` (one graphbin) in a pipeline.
fn in_pipeline(description: &str) -> gst::Pipeline {
    init();
    let bin = gst::parse::launch(description).unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&bin).unwrap();
    pipeline
}

fn bin_of(pipeline: &gst::Pipeline) -> gst::Element {
    pipeline.by_name("graph").expect("a graphbin named graph")
}

/// Two live sources of 33 ms and 100 ms, each into a synchronised fakesink.
const LIVE_GRAPH: &str = "graphbin.( name=graph \
    pushaudiotestsrc name=fast latency=33000000 ! fakesink sync=true async=false \
    pushaudiotestsrc name=slow latency=100000000 ! fakesink sync=true async=false )";

/// A non-live source into a synchronised fakesink: its rate can change.
const SEEKABLE_GRAPH: &str = "graphbin.( name=graph \
    pushvideotestsrc name=fast is-live=false ! fakesink name=sink sync=true )";

#[test]
fn a_notify_graph_latency_handler_that_writes_sync_using_stream_offset_does_not_deadlock() {
    let pipeline = in_pipeline(LIVE_GRAPH);
    let bin = bin_of(&pipeline);
    let notified = Arc::new(AtomicUsize::new(0));
    let count = notified.clone();
    bin.connect_notify(Some("graph-latency"), move |bin, _| {
        count.fetch_add(1, Ordering::SeqCst);
        bin.set_property("sync-using-stream-offset", true);
    });
    let playing = pipeline.clone();
    guarded("set_state(PLAYING)", move || {
        playing.set_state(gst::State::Playing).unwrap();
        await_state(&playing, gst::State::Playing);
    });
    assert!(notified.load(Ordering::SeqCst) >= 1);
    assert!(bin.property::<bool>("sync-using-stream-offset"));
    assert_eq!(bin.property::<u64>("graph-latency"), 100_000_000);
    let fast = pipeline.by_name("fast").unwrap();
    assert_eq!(
        fast.property::<i64>("ts-offset"),
        67_000_000,
        "the write from the handler equalized"
    );
    guarded("set_state(NULL)", move || {
        pipeline.set_state(gst::State::Null).unwrap();
    });
}

/// Issue 10, defect 3: a rate set before PAUSED on a graph without a live source, in a pipeline
/// whose live source outside makes it go to PLAYING at once (NO_PREROLL): the bin applied the
/// rate from a thread-pool thread holding its state lock while the pipeline, holding its own,
/// went to PLAYING through the bin (about 1 run in 5 hung).
#[test]
fn a_rate_set_before_paused_beside_a_live_source_outside_does_not_deadlock() {
    init();
    for run in 0..30 {
        let pipeline = pipeline(
            "graphbin.( name=graph rate=2.0 pushvideotestsrc is-live=false num-buffers=60 ! \
             fakesink sync=true ) \
             pushvideotestsrc is-live=true num-buffers=60 ! fakesink sync=true",
        );
        let bin = bin_of(&pipeline);
        let bus = pipeline.bus().unwrap();
        let changed = guarded(&format!("run {run}: PLAYING"), move || {
            pipeline.set_state(gst::State::Playing).unwrap();
            await_state(&pipeline, gst::State::Playing);
            let changed = await_element_message(&bus, "rate-changed");
            pipeline.set_state(gst::State::Null).unwrap();
            changed
        });
        assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0, "run {run}");
        assert_eq!(bin.property::<f64>("rate"), 2.0, "run {run}");
    }
}

/// What a handler does.
#[derive(Clone, Copy, Debug)]
enum Reaction {
    WriteSync,
    WriteMaxGraphLatency,
    WriteRate,
    WriteChildTsOffset,
    SetRate,
    ChangeState,
    QueryPosition,
}

const REACTIONS: [Reaction; 7] = [
    Reaction::WriteSync,
    Reaction::WriteMaxGraphLatency,
    Reaction::WriteRate,
    Reaction::WriteChildTsOffset,
    Reaction::SetRate,
    Reaction::ChangeState,
    Reaction::QueryPosition,
];

fn react(pipeline: &gst::Pipeline, reaction: Reaction) {
    let bin = bin_of(pipeline);
    match reaction {
        Reaction::WriteSync => bin.set_property(
            "sync-using-stream-offset",
            !bin.property::<bool>("sync-using-stream-offset"),
        ),
        Reaction::WriteMaxGraphLatency => bin.set_property("max-graph-latency", 50_000_000u64),
        Reaction::WriteRate => bin.set_property("rate", 0.5f64),
        Reaction::WriteChildTsOffset => pipeline
            .by_name("fast")
            .unwrap()
            .set_property("ts-offset", 1_000_000i64),
        Reaction::SetRate => {
            bin.emit_by_name::<bool>("set-rate", &[&0.5f64]);
        }
        Reaction::ChangeState => {
            let _ = pipeline.set_state(gst::State::Paused);
        }
        Reaction::QueryPosition => {
            let _ = pipeline.query_position::<gst::ClockTime>();
        }
    }
}

/// Where a handler reacts: in the thread it runs in, or in a second thread it waits for (a
/// while: a state lock GStreamer holds in the handler's thread may keep the second one waiting
/// until the handler returns).
#[derive(Clone, Copy, Debug)]
enum Thread {
    Handler,
    Second,
}

/// A handler's reaction, once: the first time it runs.
#[derive(Clone)]
struct Reactor {
    pipeline: glib_weak::Weak,
    reaction: Reaction,
    thread: Thread,
    reacted: Arc<AtomicUsize>,
    second_threads: Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>,
}

mod glib_weak {
    pub type Weak = gst::glib::WeakRef<gst::Pipeline>;
}

impl Reactor {
    fn new(pipeline: &gst::Pipeline, reaction: Reaction, thread: Thread) -> Self {
        Self {
            pipeline: pipeline.downgrade(),
            reaction,
            thread,
            reacted: Arc::new(AtomicUsize::new(0)),
            second_threads: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn run(&self) {
        if self.reacted.fetch_add(1, Ordering::SeqCst) != 0 {
            return;
        }
        let Some(pipeline) = self.pipeline.upgrade() else {
            return;
        };
        match self.thread {
            Thread::Handler => react(&pipeline, self.reaction),
            Thread::Second => {
                let (done, finished) = std::sync::mpsc::channel();
                let reaction = self.reaction;
                let second = std::thread::spawn(move || {
                    react(&pipeline, reaction);
                    let _ = done.send(());
                });
                let _ = finished.recv_timeout(std::time::Duration::from_millis(500));
                self.second_threads.lock().unwrap().push(second);
            }
        }
    }

    /// Waits for the second threads; whether the handler ran.
    fn finish(&self) -> bool {
        for second in std::mem::take(&mut *self.second_threads.lock().unwrap()) {
            second.join().unwrap();
        }
        self.reacted.load(Ordering::SeqCst) > 0
    }
}

/// Waits until `pipeline` has no state change under way, whatever its state.
fn await_settled(pipeline: &gst::Pipeline) {
    loop {
        let (_, _, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
        if pending == gst::State::VoidPending {
            return;
        }
        std::thread::yield_now();
    }
}

/// What sets a handler off.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    NotifyGraphLatency,
    NotifyRate,
    BusGraphLatency,
    BusRateChanged,
    BusWarning,
}

fn element_message_named(message: &gst::Message, name: &str) -> bool {
    match message.view() {
        gst::MessageView::Element(element) => element.structure().is_some_and(|s| s.name() == name),
        _ => false,
    }
}

/// One scenario: the graph for `trigger`, a handler reacting with `reaction` in `thread`,
/// driven to set the trigger off; all of it under the hang guard.
fn scenario(trigger: Trigger, reaction: Reaction, thread: Thread) {
    let what = format!("{trigger:?} -> {reaction:?} in the {thread:?} thread");
    let reacted = guarded(&what.clone(), move || {
        let live = matches!(
            trigger,
            Trigger::NotifyGraphLatency | Trigger::BusGraphLatency | Trigger::BusWarning
        );
        let pipeline = in_pipeline(if live { LIVE_GRAPH } else { SEEKABLE_GRAPH });
        let bin = bin_of(&pipeline);
        let reactor = Reactor::new(&pipeline, reaction, thread);
        let bus = pipeline.bus().unwrap();
        let on_message = reactor.clone();
        match trigger {
            Trigger::NotifyGraphLatency => {
                let reactor = reactor.clone();
                bin.connect_notify(Some("graph-latency"), move |_, _| reactor.run());
            }
            Trigger::NotifyRate => {
                let reactor = reactor.clone();
                bin.connect_notify(Some("rate"), move |_, _| reactor.run());
            }
            Trigger::BusGraphLatency | Trigger::BusRateChanged | Trigger::BusWarning => {
                bus.set_sync_handler(move |_, message| {
                    let hit = match trigger {
                        Trigger::BusGraphLatency => element_message_named(message, "graph-latency"),
                        Trigger::BusRateChanged => element_message_named(message, "rate-changed"),
                        _ => message.type_() == gst::MessageType::Warning,
                    };
                    if hit {
                        on_message.run();
                    }
                    gst::BusSyncReply::Pass
                });
            }
        }
        let target = if live {
            gst::State::Playing
        } else {
            gst::State::Paused
        };
        pipeline.set_state(target).unwrap();
        await_settled(&pipeline);
        match trigger {
            Trigger::NotifyRate | Trigger::BusRateChanged => {
                bin.emit_by_name::<bool>("set-rate", &[&2.0f64]);
            }
            // A live graph refuses the rate with a WARNING.
            Trigger::BusWarning => bin.set_property("rate", 2.0f64),
            Trigger::NotifyGraphLatency | Trigger::BusGraphLatency => {}
        }
        await_settled(&pipeline);
        let reacted = reactor.finish();
        let _ = pipeline.position();
        bus.unset_sync_handler();
        pipeline.set_state(gst::State::Null).unwrap();
        reacted
    });
    assert!(reacted, "{what}: the handler ran");
}

trait Position {
    fn position(&self) -> Option<gst::ClockTime>;
}

impl Position for gst::Pipeline {
    fn position(&self) -> Option<gst::ClockTime> {
        self.query_position::<gst::ClockTime>()
    }
}

fn every_reaction_to(trigger: Trigger) {
    init();
    for reaction in REACTIONS {
        for thread in [Thread::Handler, Thread::Second] {
            scenario(trigger, reaction, thread);
        }
    }
}

#[test]
fn handlers_of_notify_graph_latency_may_do_anything() {
    every_reaction_to(Trigger::NotifyGraphLatency);
}

#[test]
fn handlers_of_notify_rate_may_do_anything() {
    every_reaction_to(Trigger::NotifyRate);
}

#[test]
fn bus_sync_handlers_of_graph_latency_may_do_anything() {
    every_reaction_to(Trigger::BusGraphLatency);
}

#[test]
fn bus_sync_handlers_of_rate_changed_may_do_anything() {
    every_reaction_to(Trigger::BusRateChanged);
}

#[test]
fn bus_sync_handlers_of_warnings_may_do_anything() {
    every_reaction_to(Trigger::BusWarning);
}

/// From a streaming thread (a probe on the first buffer of a live source): what a streaming
/// thread may do (no flushing seek or state change, which GStreamer forbids there).
#[test]
fn a_streaming_thread_may_write_properties_and_query_the_position() {
    init();
    for reaction in [
        Reaction::WriteSync,
        Reaction::WriteMaxGraphLatency,
        Reaction::WriteChildTsOffset,
        Reaction::QueryPosition,
    ] {
        let reacted = guarded(
            &format!("{reaction:?} from a streaming thread"),
            move || {
                let pipeline = in_pipeline(LIVE_GRAPH);
                let reactor = Reactor::new(&pipeline, reaction, Thread::Handler);
                let probe = reactor.clone();
                let pad = pipeline.by_name("slow").unwrap().static_pad("src").unwrap();
                let (first, buffered) = std::sync::mpsc::channel();
                let first = Mutex::new(first);
                pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                    probe.run();
                    let _ = first.lock().unwrap().send(());
                    gst::PadProbeReturn::Remove
                });
                pipeline.set_state(gst::State::Playing).unwrap();
                buffered
                    .recv_timeout(HANG_GUARD)
                    .expect("a buffer from the slow source");
                await_settled(&pipeline);
                let reacted = reactor.finish();
                pipeline.set_state(gst::State::Null).unwrap();
                reacted
            },
        );
        assert!(reacted, "{reaction:?}");
    }
}
