//! `graphbin` rate changes (SPEC section 3 "Rates", seed 002 IMediaSeeking::SetRate):
//! conformance cases 12–17 on whole pipelines with a TestClock.

mod common;

use std::sync::Mutex;
use std::sync::mpsc;

use common::*;
use gst::glib;
use gst::prelude::*;

const FRAME: gst::ClockTime = gst::ClockTime::from_mseconds(40);

/// 40 ms video frames.
const VIDEO: &str = "pushvideotestsrc name=src is-live=false ! \
                     video/x-raw,format=I420,width=64,height=48,framerate=25/1";
/// 40 ms audio buffers.
const AUDIO: &str = "pushaudiotestsrc name=src is-live=false samplesperbuffer=1920 ! \
                     audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";

/// A buffer as the sink rendered it.
#[derive(Debug, Clone)]
struct Render {
    pts: gst::ClockTime,
    /// Clock time of the handoff minus the sink's base time: the running time it was rendered at.
    rendered: gst::ClockTime,
    rate: f64,
}

/// `graphbin.( name=graph properties source ! fakesink name=sink )` in a pipeline on a
/// TestClock, with what reaches the sink recorded.
struct Graph {
    pipeline: gst::Pipeline,
    graph: gst::Element,
    testclock: gst_check::TestClock,
    recorder: Recorder,
    renders: mpsc::Receiver<Render>,
    bus: gst::Bus,
}

impl Graph {
    fn new(properties: &str, source: &str) -> Self {
        Self::with_sink(
            properties,
            source,
            "fakesink name=sink sync=true signal-handoffs=true",
        )
    }

    fn with_sink(properties: &str, source: &str, sink: &str) -> Self {
        init();
        let graph = gst::parse::launch(&format!(
            "graphbin.( name=graph {properties} {source} ! {sink} )"
        ))
        .unwrap();
        let pipeline = gst::Pipeline::new();
        pipeline.add(&graph).unwrap();
        let testclock = gst_check::TestClock::new();
        pipeline.use_clock(Some(&testclock));
        let (sender, renders) = mpsc::channel();
        let sender = Mutex::new(sender);
        let clock = testclock.clone();
        let sink = pipeline.by_name("sink").unwrap();
        if sink.find_property("signal-handoffs").is_some() {
            sink.connect("handoff", false, move |values| {
                let sink = values[0].get::<gst::Element>().unwrap();
                let buffer = values[1].get::<gst::Buffer>().unwrap();
                let pad = values[2].get::<gst::Pad>().unwrap();
                let segment = pad.sticky_event::<gst::event::Segment>(0).unwrap();
                let render = Render {
                    pts: buffer.pts().unwrap(),
                    rendered: clock.time() - sink.base_time().unwrap(),
                    rate: segment.segment().rate(),
                };
                let _ = sender.lock().unwrap().send(render);
                None
            });
        }
        let recorder = Recorder::at_sink(&pipeline);
        let bus = pipeline.bus().unwrap();
        Self {
            pipeline,
            graph,
            testclock,
            recorder,
            renders,
            bus,
        }
    }

    /// PAUSED, prerolled at `position` (a flushing, accurate seek at rate 1.0).
    fn paused_at(source: &str, position: gst::ClockTime) -> Self {
        let graph = Self::new("", source);
        graph.set_state(gst::State::Paused);
        assert!(
            graph
                .pipeline
                .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE, position)
                .is_ok()
        );
        graph.await_state(gst::State::Paused);
        graph
    }

    fn set_rate(&self, rate: f64) -> bool {
        self.graph.emit_by_name::<bool>("set-rate", &[&rate])
    }

    fn rate(&self) -> f64 {
        self.graph.property("rate")
    }

    fn set_state(&self, state: gst::State) {
        self.pipeline.set_state(state).unwrap();
        self.await_state(state);
    }

    fn await_state(&self, state: gst::State) {
        await_state(&self.pipeline, state);
    }

    /// Renders `buffers` buffers, each at its clock time.
    fn render(&self, buffers: usize) -> Vec<Render> {
        (0..buffers)
            .map(|_| {
                release_next_wait(&self.testclock);
                self.renders
                    .recv_timeout(HANG_GUARD)
                    .expect("a rendered buffer")
            })
            .collect()
    }

    /// Waits until the sink waits for its next buffer's time: nothing moves until the clock does.
    fn settle(&self) {
        await_pending_wait(&self.testclock);
    }

    fn position(&self) -> gst::ClockTime {
        self.pipeline.query_position::<gst::ClockTime>().unwrap()
    }

    fn await_message(&self, name: &str) -> gst::Structure {
        await_element_message(&self.bus, name)
    }

    fn element_messages(&self, name: &str) -> Vec<gst::Structure> {
        drain_messages(&self.bus)
            .iter()
            .filter_map(|message| match message.view() {
                gst::MessageView::Element(element) => element
                    .structure()
                    .filter(|s| s.name() == name)
                    .map(|s| s.to_owned()),
                _ => None,
            })
            .collect()
    }
}

/// Waits until `pipeline` is in `state` with nothing pending. `get_state` returns as soon as no
/// asynchronous change is under way, which includes the moment a pipeline that got its preroll
/// back after a flushing seek is still on its way back to PLAYING.
fn await_state(pipeline: &gst::Pipeline, state: gst::State) {
    let started = std::time::Instant::now();
    loop {
        let (result, current, pending) =
            pipeline.state(gst::ClockTime::from_seconds(HANG_GUARD.as_secs()));
        assert_eq!(result, Ok(gst::StateChangeSuccess::Success));
        if pending == gst::State::VoidPending {
            assert_eq!(current, state);
            return;
        }
        assert!(started.elapsed() < HANG_GUARD, "{current:?} -> {pending:?}");
        std::thread::yield_now();
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn segments(items: &[Item]) -> Vec<gst::FormattedSegment<gst::ClockTime>> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Segment(segment) => Some(segment.clone()),
            _ => None,
        })
        .collect()
}

fn rate_refusals(messages: &[gst::Message]) -> Vec<gst::Structure> {
    warnings(messages)
        .iter()
        .filter_map(|message| match message.view() {
            gst::MessageView::Warning(warning) => warning
                .details()
                .filter(|s| s.name() == "pushsource/rate-refused")
                .map(|s| s.to_owned()),
            _ => None,
        })
        .collect()
}

/// A flushing, accurate seek that plays on from `start` at `rate`, the stop left as it is.
fn seek_from(rate: f64, start: gst::ClockTime) -> gst::Event {
    gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
        gst::SeekType::Set,
        start,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    )
}

/// The details of the next WARNING on `bus` that has details.
fn await_detailed_warning(bus: &gst::Bus) -> gst::Structure {
    loop {
        let message = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(HANG_GUARD.as_secs()),
                &[gst::MessageType::Warning],
            )
            .expect("a WARNING");
        let gst::MessageView::Warning(warning) = message.view() else {
            unreachable!()
        };
        if let Some(details) = warning.details() {
            return details.to_owned();
        }
    }
}

/// Buffers follow each other without a gap or an overlap, in the direction of `rate`.
fn assert_contiguous(renders: &[Render], rate: f64) {
    for pair in renders.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let expected = if rate > 0.0 {
            earlier.pts + FRAME
        } else {
            earlier.pts.checked_sub(FRAME).unwrap()
        };
        assert_eq!(
            later.pts, expected,
            "contiguous at rate {rate}: {renders:?}"
        );
    }
}

/// Buffers of `FRAME` rendered `FRAME / |rate|` apart, the first at running time 0.
fn assert_rendered_at_rate(renders: &[Render], rate: f64) {
    let spacing = gst::ClockTime::from_nseconds((FRAME.nseconds() as f64 / rate.abs()) as u64);
    for (k, render) in renders.iter().enumerate() {
        assert_eq!(render.rate, rate);
        assert_eq!(
            render.rendered,
            spacing * k as u64,
            "buffer {k} at rate {rate} rendered {spacing} after the one before: {renders:?}"
        );
    }
    assert_contiguous(renders, rate);
}

/// Playing, with the 10 first buffers rendered and the sink waiting for the 11th.
fn playing(source: &str) -> Graph {
    let graph = Graph::new("", source);
    graph.set_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(10), 1.0);
    graph.settle();
    graph
}

#[test]
fn case_12_zero_nan_and_infinities_are_refused_without_a_flush() {
    let graph = playing(VIDEO);
    let position = graph.position();
    graph.recorder.take();
    let not_rates = [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for rate in not_rates {
        assert!(!graph.set_rate(rate), "set-rate({rate}) returns FALSE");
        assert_eq!(graph.rate(), 1.0);
    }
    // Issue 11, item 6: the signal answers FALSE and says why on the bus, as a write does.
    let refusals = rate_refusals(&drain_messages(&graph.bus));
    assert_eq!(
        refusals.len(),
        not_rates.len(),
        "one WARNING per refusal through the signal"
    );
    for (refusal, rate) in refusals.iter().zip(not_rates) {
        let refused = refusal.get::<f64>("rate").unwrap();
        assert!(refused.to_bits() == rate.to_bits(), "{refused} is {rate}");
        assert_eq!(refusal.get::<&str>("reason").unwrap(), "not-a-rate");
        assert_eq!(refusal.get::<f64>("current-rate").unwrap(), 1.0);
    }

    // NaN is within no range: GLib itself refuses to write it to a gdouble property (with a
    // GLib warning, fatal here), so it never reaches the bin.
    let written = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY];
    for rate in written {
        graph.graph.set_property("rate", rate);
        assert_eq!(graph.rate(), 1.0, "a write of {rate} keeps the old rate");
    }
    let messages = drain_messages(&graph.bus);
    let refusals = rate_refusals(&messages);
    assert_eq!(
        refusals.len(),
        written.len(),
        "one WARNING per refused write"
    );
    for (refusal, rate) in refusals.iter().zip(written) {
        let refused = refusal.get::<f64>("rate").unwrap();
        assert!(refused.to_bits() == rate.to_bits(), "{refused} is {rate}");
        assert_eq!(refusal.get::<&str>("reason").unwrap(), "not-a-rate");
        assert_eq!(refusal.get::<f64>("current-rate").unwrap(), 1.0);
    }
    assert!(graph.element_messages("rate-changed").is_empty());
    assert_eq!(graph.position(), position, "nothing moved");

    graph.await_state(gst::State::Playing);
    let renders = graph.render(3);
    assert_eq!(renders[0].pts, FRAME * 10, "playback goes on where it was");
    assert_contiguous(&renders, 1.0);
    let items = graph.recorder.take();
    assert!(
        items
            .iter()
            .all(|item| matches!(item, Item::Buffer { discont: false, .. })),
        "no flush, no segment, no discontinuity: {items:?}"
    );
}

#[test]
fn case_13_rate_2_while_playing_flushes_and_plays_on_from_the_position_at_twice_the_speed() {
    let graph = playing(VIDEO);
    let position = graph.position();
    assert_eq!(position, FRAME * 9, "the clock stands at buffer 9's time");
    graph.recorder.take();

    assert!(graph.set_rate(2.0));
    assert_eq!(graph.rate(), 2.0);
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0);
    assert_eq!(changed.get::<u64>("position").unwrap(), position.nseconds());

    graph.await_state(gst::State::Playing);
    let renders = graph.render(5);
    assert_rendered_at_rate(&renders, 2.0);
    assert_eq!(renders[0].pts, position);

    let items = graph.recorder.take();
    let Item::Segment(segment) = &items[2] else {
        panic!("flush start, flush stop, segment: {items:?}")
    };
    assert_eq!(&items[..2], &[Item::FlushStart, Item::FlushStop]);
    assert_eq!(segment.rate(), 2.0, "the next segment has the new rate");
    assert_eq!(
        segment.start(),
        Some(position),
        "and starts at the position"
    );
    assert_eq!(segment.time(), Some(position));
    assert!(
        matches!(items[3], Item::Buffer { pts, discont: true, .. } if pts == position),
        "then a DISCONT buffer at the position: {items:?}"
    );
    assert_eq!(segments(&items).len(), 1);
    graph.await_state(gst::State::Playing);
}

/// Reverse playback from the position: the segment stops there and buffers come backwards.
fn assert_reverse_playback(source: &str) {
    let graph = playing(source);
    let position = graph.position();
    graph.recorder.take();

    assert!(graph.set_rate(-1.0));
    assert_eq!(graph.rate(), -1.0);
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), -1.0);
    assert_eq!(changed.get::<u64>("position").unwrap(), position.nseconds());
    graph.await_state(gst::State::Playing);

    let renders = graph.render(5);
    assert_eq!(
        renders[0].pts,
        position - FRAME,
        "the buffer ending at the position"
    );
    assert_rendered_at_rate(&renders, -1.0);
    let items = graph.recorder.take();
    let segments = segments(&items);
    assert_eq!(segments.len(), 1, "{items:?}");
    assert_eq!(segments[0].rate(), -1.0);
    assert_eq!(
        segments[0].stop(),
        Some(position),
        "the position becomes the stop"
    );
    assert_eq!(segments[0].start(), Some(gst::ClockTime::ZERO));
}

#[test]
fn case_14_rate_minus_1_plays_pushvideotestsrc_in_reverse() {
    assert_reverse_playback(VIDEO);
}

#[test]
fn case_14_rate_minus_1_plays_pushaudiotestsrc_in_reverse() {
    assert_reverse_playback(AUDIO);
}

mod no_reverse {
    use super::*;
    use gst::subclass::prelude::*;
    use gst_base::prelude::*;
    use gst_base::subclass::prelude::*;

    /// A passthrough filter without reverse playback: it refuses seeks with a negative rate.
    #[derive(Default)]
    pub struct NoReverse;

    #[glib::object_subclass]
    impl ObjectSubclass for NoReverse {
        const NAME: &'static str = "TestRateNoReverse";
        type Type = super::NoReverseFilter;
        type ParentType = gst_base::BaseTransform;
    }

    impl ObjectImpl for NoReverse {
        fn constructed(&self) {
            self.parent_constructed();
            self.obj().set_passthrough(true);
        }
    }

    impl GstObjectImpl for NoReverse {}

    impl ElementImpl for NoReverse {
        fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
            static METADATA: std::sync::LazyLock<gst::subclass::ElementMetadata> =
                std::sync::LazyLock::new(|| {
                    gst::subclass::ElementMetadata::new(
                        "No reverse",
                        "Filter",
                        "Passes everything on but seeks with a negative rate",
                        "pushsource tests",
                    )
                });
            Some(&*METADATA)
        }

        fn pad_templates() -> &'static [gst::PadTemplate] {
            static TEMPLATES: std::sync::LazyLock<Vec<gst::PadTemplate>> =
                std::sync::LazyLock::new(|| {
                    let caps = gst::Caps::new_any();
                    vec![
                        gst::PadTemplate::new(
                            "sink",
                            gst::PadDirection::Sink,
                            gst::PadPresence::Always,
                            &caps,
                        )
                        .unwrap(),
                        gst::PadTemplate::new(
                            "src",
                            gst::PadDirection::Src,
                            gst::PadPresence::Always,
                            &caps,
                        )
                        .unwrap(),
                    ]
                });
            TEMPLATES.as_ref()
        }
    }

    impl BaseTransformImpl for NoReverse {
        const MODE: gst_base::subclass::BaseTransformMode =
            gst_base::subclass::BaseTransformMode::AlwaysInPlace;
        const PASSTHROUGH_ON_SAME_CAPS: bool = false;
        const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

        fn src_event(&self, event: gst::Event) -> bool {
            if let gst::EventView::Seek(seek) = event.view()
                && seek.get().0 < 0.0
            {
                return false;
            }
            self.parent_src_event(event)
        }
    }
}

glib::wrapper! {
    pub struct NoReverseFilter(ObjectSubclass<no_reverse::NoReverse>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

fn register_no_reverse() {
    init();
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| {
        gst::Element::register(
            None,
            "testnoreverse",
            gst::Rank::NONE,
            NoReverseFilter::static_type(),
        )
        .unwrap();
    });
}

#[test]
fn case_14_a_filter_refusing_reverse_leads_to_the_old_rate_restored_at_the_same_position() {
    register_no_reverse();
    let graph = Graph::new("", &format!("{VIDEO} ! testnoreverse"));
    graph.set_state(gst::State::Playing);
    graph.render(10);
    graph.settle();
    let position = graph.position();
    graph.recorder.take();

    assert!(!graph.set_rate(-1.0), "set-rate(-1.0) returns FALSE");
    assert_eq!(graph.rate(), 1.0, "rate keeps the old value");
    graph.await_state(gst::State::Playing);
    let renders = graph.render(3);
    assert_rendered_at_rate(&renders, 1.0);
    assert_eq!(
        renders[0].pts, position,
        "playing on from the same position"
    );
    let items = graph.recorder.take();
    let segments = segments(&items);
    assert!(
        segments.iter().all(|segment| segment.rate() == 1.0),
        "{items:?}"
    );
    let restored = segments.last().expect("the restoring seek's segment");
    assert_eq!(restored.start(), Some(position));
    assert!(graph.element_messages("rate-changed").is_empty());

    graph.graph.set_property("rate", -1.0);
    assert_eq!(graph.rate(), 1.0);
    let refusals = rate_refusals(&drain_messages(&graph.bus));
    assert_eq!(refusals.len(), 1, "a refused write posts a WARNING");
    assert_eq!(refusals[0].get::<&str>("reason").unwrap(), "seek-refused");
}

#[test]
fn case_14_when_one_stream_refuses_every_stream_returns_to_the_old_rate_at_the_same_position() {
    register_no_reverse();
    init();
    let graph = gst::parse::launch(&format!(
        "graphbin.( name=graph {VIDEO} ! testnoreverse ! fakesink name=sink \
         pushaudiotestsrc is-live=false samplesperbuffer=1920 ! fakesink name=audio_sink )"
    ))
    .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    pipeline.use_clock(Some(&gst_check::TestClock::new()));
    let video = Recorder::at_sink(&pipeline);
    let audio = Recorder::at(&pipeline, "audio_sink");
    pipeline.set_state(gst::State::Paused).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    let position = gst::ClockTime::from_seconds(2);
    assert!(
        pipeline
            .seek_simple(gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE, position)
            .is_ok()
    );
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    assert_eq!(pipeline.query_position::<gst::ClockTime>(), Some(position));
    video.take();
    audio.take();

    assert!(!graph.emit_by_name::<bool>("set-rate", &[&-1.0f64]));
    assert_eq!(graph.property::<f64>("rate"), 1.0);
    let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(
        (result, state),
        (Ok(gst::StateChangeSuccess::Success), gst::State::Paused)
    );

    // The audio stream took the new rate and was flushed; its segment at -1.0 may have been
    // replaced by the restoring seek's before a buffer took it out.
    let audio_items = audio.take();
    assert!(audio_items.contains(&Item::FlushStart), "{audio_items:?}");
    let audio_segments = segments(&audio_items);
    let (restored, reverse) = audio_segments.split_last().expect("the restored segment");
    assert!(
        reverse
            .iter()
            .all(|s| s.rate() == -1.0 && s.stop() == Some(position))
    );
    assert_eq!(restored.rate(), 1.0, "back to the old rate");
    assert_eq!(restored.start(), Some(position), "at the same position");
    let video_segments = segments(&video.take());
    assert_eq!(
        video_segments.last().map(|s| (s.rate(), s.start())),
        Some((1.0, Some(position)))
    );
    assert!(video_segments.iter().all(|s| s.rate() == 1.0));
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn case_15_a_live_graph_refuses_rates_but_1() {
    let graph = Graph::new(
        "",
        "pushaudiotestsrc name=live samplesperbuffer=480 ! audioconvert",
    );
    assert!(!graph.set_rate(2.0), "refused before PAUSED too");
    assert_eq!(graph.rate(), 1.0);
    graph.pipeline.set_state(gst::State::Paused).unwrap();
    assert_eq!(
        graph
            .pipeline
            .state(gst::ClockTime::from_seconds(60))
            .0
            .unwrap(),
        gst::StateChangeSuccess::NoPreroll
    );
    for rate in [2.0, 0.5, -1.0] {
        assert!(!graph.set_rate(rate), "set-rate({rate}) on a live graph");
        assert_eq!(graph.rate(), 1.0);
    }
    assert!(graph.set_rate(1.0), "1.0 is the rate it plays at");
    assert!(
        !graph.pipeline.send_event(rate_seek(2.0)),
        "a seek with a new rate sent to the pipeline is refused too"
    );
    // Issue 11, item 6: every refusal says why on the bus, whatever asked: the signal before
    // PAUSED and three times after, and the seek.
    let refusals = rate_refusals(&drain_messages(&graph.bus));
    assert_eq!(refusals.len(), 5, "{refusals:?}");
    assert!(
        refusals
            .iter()
            .all(|refusal| refusal.get::<&str>("reason").unwrap() == "live"),
        "{refusals:?}"
    );

    graph.graph.set_property("rate", 2.0);
    assert_eq!(graph.rate(), 1.0);
    let messages = drain_messages(&graph.bus);
    let refusals = rate_refusals(&messages);
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].get::<&str>("reason").unwrap(), "live");
    let warnings = warnings(&messages);
    let gst::MessageView::Warning(warning) = warnings[0].view() else {
        unreachable!()
    };
    assert!(
        warning.error().message().contains("live is live"),
        "the WARNING names the live source: {}",
        warning.error()
    );
    assert!(
        graph
            .recorder
            .take()
            .iter()
            .all(|item| !matches!(item, Item::FlushStart | Item::FlushStop))
    );
}

#[test]
fn case_16_position_at_rate_2_from_5_s_after_4_s_of_running_time_is_13_s() {
    let graph = Graph::paused_at(VIDEO, gst::ClockTime::from_seconds(5));
    assert!(graph.set_rate(2.0));
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<u64>("position").unwrap(), 5_000_000_000);
    graph.await_state(gst::State::Paused);

    graph.set_state(gst::State::Playing);
    let base_time = graph.pipeline.base_time().unwrap();
    // 4 s of running time at 20 ms a frame.
    let renders = graph.render(200);
    assert_rendered_at_rate(&renders, 2.0);
    graph.settle();
    graph
        .testclock
        .set_time(base_time + gst::ClockTime::from_seconds(4));
    let position = graph.position();
    let expected = gst::ClockTime::from_seconds(13);
    assert!(
        position.nseconds().abs_diff(expected.nseconds()) <= FRAME.nseconds(),
        "position {position}, expected {expected} within one buffer"
    );
}

#[test]
fn case_17_rate_set_before_paused_applies_once_prerolled() {
    let graph = Graph::new("rate=2.0", VIDEO);
    assert_eq!(graph.rate(), 2.0, "stored before PAUSED");
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0);
    assert_eq!(changed.get::<u64>("position").unwrap(), 0);
    graph.await_state(gst::State::Playing);
    let renders = graph.render(10);
    assert_eq!(renders[0].pts, gst::ClockTime::ZERO);
    assert_rendered_at_rate(&renders, 2.0);
    assert_eq!(graph.rate(), 2.0);

    // Stopped and played again, the graph plays at the rate it had.
    graph.set_state(gst::State::Ready);
    assert_eq!(graph.rate(), 2.0);
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    graph.await_message("rate-changed");
    graph.await_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(3), 2.0);
}

#[test]
fn case_17_gst_launch_bin_syntax_plays_at_twice_the_speed() {
    let output = gst_launch(&[
        "-m",
        "-v",
        "graphbin.(",
        "rate=2.0",
        "pushvideotestsrc",
        "is-live=false",
        "num-buffers=5",
        "!",
        "fakesink",
        "sync=true",
        "silent=false",
        ")",
    ]);
    let text = output_text(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("rate-changed, rate=(double)2, position=(guint64)0;"),
        "{text}"
    );
    // The graph's preroll is held back until the rate is applied: the segment at rate 2.0
    // reaches the sink before gst-launch goes to PLAYING, so that every buffer is rendered at
    // twice the speed.
    let lines: Vec<&str> = text.lines().collect();
    let last_segment = lines
        .iter()
        .rposition(|line| line.contains("last-message = event") && line.contains("type: segment"))
        .unwrap_or_else(|| panic!("fakesink prints its segments: {text}"));
    assert!(lines[last_segment].contains("rate=(double)2,"), "{text}");
    let playing = lines
        .iter()
        .position(|line| line.starts_with("Setting pipeline to PLAYING"))
        .unwrap();
    assert!(last_segment < playing, "{text}");
    assert!(
        !lines[..playing]
            .iter()
            .any(|line| line.contains("last-message = chain")),
        "nothing rendered before PLAYING: {text}"
    );
    assert!(text.contains("Got EOS"), "{text}");
}

#[test]
fn a_rate_set_before_paused_that_cannot_apply_posts_a_warning() {
    init();
    let pipeline = gst::parse::launch(
        "graphbin.( name=graph rate=2.0 appsrc name=src format=time \
         caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! \
         fakesink name=sink )",
    )
    .unwrap();
    let top = gst::Pipeline::new();
    top.add(&pipeline).unwrap();
    let appsrc = top
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    let mut buffer = gst::Buffer::with_size(960).unwrap();
    buffer.get_mut().unwrap().set_pts(gst::ClockTime::ZERO);
    appsrc.push_buffer(buffer).unwrap();
    let bus = top.bus().unwrap();
    top.set_state(gst::State::Paused).unwrap();
    top.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    let refusal = await_detailed_warning(&bus);
    assert_eq!(refusal.name(), "pushsource/rate-refused");
    assert_eq!(refusal.get::<&str>("reason").unwrap(), "not-seekable");
    assert_eq!(pipeline.property::<f64>("rate"), 1.0);
    assert!(
        pipeline.emit_by_name::<bool>("set-rate", &[&1.0f64]),
        "1.0 is a no-op"
    );
    assert!(!pipeline.emit_by_name::<bool>("set-rate", &[&2.0f64]));
    top.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_seek_with_a_new_rate_sent_to_the_pipeline_goes_through_the_graph() {
    let graph = playing(VIDEO);
    let start = gst::ClockTime::from_seconds(1);
    graph.recorder.take();
    assert!(graph.pipeline.send_event(seek_from(0.5, start)));
    assert_eq!(graph.rate(), 0.5);
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 0.5);
    assert_eq!(changed.get::<u64>("position").unwrap(), start.nseconds());
    graph.await_state(gst::State::Playing);
    let renders = graph.render(3);
    assert_eq!(renders[0].pts, start);
    assert_rendered_at_rate(&renders, 0.5);

    // A seek at the rate the graph plays at is an ordinary seek.
    graph.settle();
    assert!(
        graph
            .pipeline
            .seek_simple(gst::SeekFlags::FLUSH, gst::ClockTime::from_seconds(3))
            .is_ok()
    );
    assert_eq!(graph.rate(), 1.0, "seek_simple asks for rate 1.0");
}

#[test]
fn a_hundred_rate_changes_while_playing() {
    let graph = Graph::paused_at(VIDEO, gst::ClockTime::from_seconds(10));
    graph.set_state(gst::State::Playing);
    graph.render(2);
    graph.settle();
    graph.recorder.take();

    let rates = [2.0, 0.5, -1.0, 1.0, -2.0, 1.5];
    let requested: Vec<f64> = (0..100).map(|i| rates[i % rates.len()]).collect();
    for (i, rate) in requested.iter().enumerate() {
        assert!(graph.set_rate(*rate), "change {i} to {rate}");
        assert_eq!(graph.rate(), *rate);
        // Some changes follow the one before at once, while the graph is still prerolling.
        let renders = graph.render(i % 3);
        assert!(renders.iter().all(|render| render.rate == *rate));
        assert_contiguous(&renders, *rate);
    }
    graph.await_state(gst::State::Playing);
    let last = *requested.last().unwrap();
    let renders = graph.render(4);
    assert_contiguous(&renders, last);
    let changed = graph.element_messages("rate-changed");
    assert_eq!(
        changed.len(),
        requested.len(),
        "one rate-changed per change"
    );
    for (message, rate) in changed.iter().zip(&requested) {
        assert_eq!(message.get::<f64>("rate").unwrap(), *rate);
    }

    // Segments in the order of the changes (one that no buffer followed may have been
    // replaced by the next before it went out), buffers contiguous within each.
    let items = graph.recorder.take();
    let mut pending = requested.iter();
    // The rate of the current segment and the stamp of its last buffer.
    let mut current: Option<(f64, Option<gst::ClockTime>)> = None;
    for item in &items {
        match item {
            Item::Segment(segment) => {
                assert!(
                    pending.any(|rate| *rate == segment.rate()),
                    "segment at rate {} in the order of the changes",
                    segment.rate()
                );
                current = Some((segment.rate(), None));
            }
            Item::Buffer { pts, discont, .. } => {
                let (rate, previous) = current.expect("a segment before each buffer");
                match previous {
                    Some(previous) => {
                        let expected = if rate > 0.0 {
                            previous + FRAME
                        } else {
                            previous - FRAME
                        };
                        assert_eq!(*pts, expected, "contiguous within the segment at {rate}");
                        // GstBaseSrc marks every buffer of reverse playback DISCONT.
                        assert!(!discont || rate < 0.0);
                    }
                    None => assert!(discont, "the first buffer of a segment is DISCONT"),
                }
                current = Some((rate, Some(*pts)));
            }
            Item::FlushStart | Item::FlushStop => {}
            Item::Eos => panic!("no EOS"),
        }
    }
    assert_eq!(current.unwrap().0, last);
}

#[test]
fn a_graph_whose_stream_leaves_through_a_ghost_pad_changes_rate_too() {
    init();
    let pipeline = gst::parse::launch(&format!(
        "graphbin.( name=graph {VIDEO} ! queue ) ! fakesink name=sink sync=true"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    pipeline.use_clock(Some(&gst_check::TestClock::new()));
    let recorder = Recorder::at_sink(&pipeline);
    pipeline.set_state(gst::State::Paused).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    let graph = pipeline.by_name("graph").unwrap();
    // Without a sink inside, the bin reads the position of the pipeline holding it.
    let position = pipeline.query_position::<gst::ClockTime>().unwrap();
    recorder.take();

    assert!(graph.emit_by_name::<bool>("set-rate", &[&2.0f64]));
    let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(
        (result, state),
        (Ok(gst::StateChangeSuccess::Success), gst::State::Paused)
    );
    let items = recorder.take();
    assert_eq!(
        &items[..2],
        &[Item::FlushStart, Item::FlushStop],
        "{items:?}"
    );
    let segments = segments(&items);
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].rate(), 2.0);
    assert_eq!(segments[0].start(), Some(position));
    assert_eq!(graph.property::<f64>("rate"), 2.0);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn an_application_may_change_the_rate_again_as_the_rate_changed_message_is_posted() {
    let graph = Graph::new("", VIDEO);
    graph.set_state(gst::State::Paused);
    let bin = graph.graph.clone();
    graph.bus.set_sync_handler(move |_, message| {
        if let gst::MessageView::Element(element) = message.view()
            && let Some(structure) = element.structure()
            && structure.name() == "rate-changed"
            && structure.get::<f64>("rate") == Ok(2.0)
        {
            assert!(bin.emit_by_name::<bool>("set-rate", &[&0.5f64]));
        }
        gst::BusSyncReply::Pass
    });
    assert!(graph.set_rate(2.0));
    assert_eq!(
        graph.rate(),
        0.5,
        "the change made from the message came after"
    );
    graph.bus.unset_sync_handler();
    let rates: Vec<f64> = graph
        .element_messages("rate-changed")
        .iter()
        .map(|message| message.get::<f64>("rate").unwrap())
        .collect();
    // The sync handler ran before the first message was queued.
    assert_eq!(rates, [0.5, 2.0]);
    graph.await_state(gst::State::Paused);
}

#[test]
fn a_rate_set_before_paused_and_refused_once_prerolled_leaves_the_graph_prerolled_at_1() {
    register_no_reverse();
    let graph = Graph::new("rate=-1.0", &format!("{VIDEO} ! testnoreverse"));
    graph.pipeline.set_state(gst::State::Paused).unwrap();
    graph.await_state(gst::State::Paused);
    let refusal = await_detailed_warning(&graph.bus);
    assert_eq!(refusal.name(), "pushsource/rate-refused");
    assert_eq!(refusal.get::<&str>("reason").unwrap(), "seek-refused");
    assert_eq!(graph.rate(), 1.0);
    let segments = segments(&graph.recorder.take());
    assert_eq!(segments.last().map(|s| s.rate()), Some(1.0));
    graph.set_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(3), 1.0);
}

#[test]
fn a_seek_with_a_new_rate_reaches_a_graph_whose_streams_leave_it() {
    register_no_reverse();
    let pipeline = gst::parse::launch(&format!(
        "graphbin.( name=graph {VIDEO} ! testnoreverse ! queue ) ! fakesink name=sink sync=true"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    pipeline.use_clock(Some(&gst_check::TestClock::new()));
    let recorder = Recorder::at_sink(&pipeline);
    pipeline.set_state(gst::State::Paused).unwrap();
    await_state(&pipeline, gst::State::Paused);
    let graph = pipeline.by_name("graph").unwrap();
    let bus = pipeline.bus().unwrap();
    drain_messages(&bus);
    recorder.take();

    // The pipeline sends the seek to its sink, outside the bin; it comes in through the bin's
    // ghost pad.
    let start = gst::ClockTime::from_seconds(1);
    assert!(pipeline.send_event(seek_from(2.0, start)));
    assert_eq!(graph.property::<f64>("rate"), 2.0);
    await_state(&pipeline, gst::State::Paused);
    let changed: Vec<(f64, u64)> = element_messages(&drain_messages(&bus), "rate-changed")
        .iter()
        .map(|s| (s.get("rate").unwrap(), s.get("position").unwrap()))
        .collect();
    assert_eq!(changed, [(2.0, start.nseconds())]);
    let segments = segments(&recorder.take());
    assert_eq!(segments.len(), 1, "one seek went through: {segments:?}");
    assert_eq!(
        (segments[0].rate(), segments[0].start()),
        (2.0, Some(start))
    );

    // Refused inside: the seek fails, and the old rate is restored at the same position.
    assert!(
        pipeline
            .seek(
                -1.0,
                gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                gst::SeekType::Set,
                gst::ClockTime::ZERO,
                gst::SeekType::Set,
                start
            )
            .is_err()
    );
    assert_eq!(graph.property::<f64>("rate"), 2.0);
    await_state(&pipeline, gst::State::Paused);
    let last = segments_after(&recorder.take());
    assert_eq!((last.rate(), last.start()), (2.0, Some(start)));
    pipeline.set_state(gst::State::Null).unwrap();
}

fn segments_after(items: &[Item]) -> gst::FormattedSegment<gst::ClockTime> {
    segments(items).pop().expect("a segment")
}

#[test]
fn rate_changes_in_a_row_through_the_pipelines_seeks() {
    // A seek comes with the pipeline's state lock held: the bin must not wait for the
    // pipeline's state (it would wait for itself, until it gives up and logs so).
    init();
    let gave_up = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    gst::log::set_threshold_for_name("graphbin", gst::DebugLevel::Warning);
    let counter = gave_up.clone();
    let log = gst::log::add_log_function(move |category, _, _, _, _, _, message| {
        if category.name() == "graphbin"
            && message
                .get()
                .is_some_and(|text| text.contains("changing the rate anyway"))
        {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let graph = playing(VIDEO);
    let rates = [2.0, 0.5, 1.0, 1.5];
    let mut position = graph.position();
    for (i, rate) in rates.iter().cycle().take(30).enumerate() {
        // Right after a flushing seek the sink cannot tell a position until the new segment
        // reaches it: the application seeks from where it seeked last.
        position = graph.pipeline.query_position().unwrap_or(position);
        assert!(
            graph.pipeline.send_event(seek_from(*rate, position)),
            "change {i} to {rate}"
        );
        assert_eq!(graph.rate(), *rate);
        let renders = graph.render(i % 2);
        assert!(renders.iter().all(|render| render.rate == *rate));
    }
    graph.await_state(gst::State::Playing);
    assert_contiguous(&graph.render(3), 1.5);
    assert_eq!(graph.element_messages("rate-changed").len(), 30);
    gst::log::remove_log_function(log);
    assert_eq!(gave_up.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn set_rate_and_a_pipeline_seek_at_the_same_time_do_not_deadlock() {
    let graph = Graph::new("", VIDEO);
    graph.set_state(gst::State::Paused);
    let (done, finished) = mpsc::channel();
    let bin = graph.graph.clone();
    let signals = done.clone();
    let setter = std::thread::spawn(move || {
        for i in 0..50 {
            let rate = if i % 2 == 0 { 2.0f64 } else { 0.5 };
            assert!(bin.emit_by_name::<bool>("set-rate", &[&rate]));
        }
        signals.send("set-rate").unwrap();
    });
    let pipeline = graph.pipeline.clone();
    let seeker = std::thread::spawn(move || {
        for i in 0..50 {
            let rate = if i % 2 == 0 { 3.0 } else { 1.5 };
            let _ = pipeline.seek(
                rate,
                gst::SeekFlags::FLUSH,
                gst::SeekType::Set,
                gst::ClockTime::from_seconds(1),
                gst::SeekType::None,
                gst::ClockTime::NONE,
            );
        }
        done.send("seek").unwrap();
    });
    for _ in 0..2 {
        finished
            .recv_timeout(HANG_GUARD)
            .expect("both threads finish: no deadlock");
    }
    setter.join().unwrap();
    seeker.join().unwrap();
    graph.await_state(gst::State::Paused);
    assert!(
        [0.5, 1.5].contains(&graph.rate()),
        "the last change of one of them"
    );
}

/// Seeks sent to the bin itself hold only the bin's state lock: one sent while the pipeline
/// is still on its way back to PLAYING from the one before races GStreamer's own state
/// handling, which can leave the graph PAUSED under a PLAYING pipeline; the bin then catches
/// up (without that, 7 runs in 20 of this test froze).
#[test]
fn rate_changes_in_a_row_through_seeks_sent_to_the_bin() {
    let graph = playing(VIDEO);
    let rates = [2.0, 0.5, 1.0, 1.5];
    let mut position = graph.position();
    for (i, rate) in rates.iter().cycle().take(60).enumerate() {
        position = graph.pipeline.query_position().unwrap_or(position);
        assert!(
            graph.graph.send_event(seek_from(*rate, position)),
            "change {i} to {rate}"
        );
        assert_eq!(graph.rate(), *rate);
        let renders = graph.render(i % 3);
        assert!(renders.iter().all(|render| render.rate == *rate));
    }
    graph.await_state(gst::State::Playing);
    assert_contiguous(&graph.render(3), 1.5);
}

/// `graphbin.( … ! queue ) ! fakesink`, twice: a graph whose two streams leave it.
fn two_exits() -> (gst::Pipeline, gst::Element, Recorder, Recorder) {
    init();
    let pipeline = gst::parse::launch(&format!(
        "graphbin.( name=graph {VIDEO} ! queue name=q1 \
         pushaudiotestsrc is-live=false samplesperbuffer=1920 ! queue name=q2 ) \
         q1. ! fakesink name=sink sync=true q2. ! fakesink name=audio_sink sync=true"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    pipeline.use_clock(Some(&gst_check::TestClock::new()));
    let video = Recorder::at_sink(&pipeline);
    let audio = Recorder::at(&pipeline, "audio_sink");
    pipeline.set_state(gst::State::Paused).unwrap();
    await_state(&pipeline, gst::State::Paused);
    let graph = pipeline.by_name("graph").unwrap();
    (pipeline, graph, video, audio)
}

fn flushes(items: &[Item]) -> usize {
    items
        .iter()
        .filter(|item| **item == Item::FlushStart)
        .count()
}

#[test]
fn a_pipeline_seek_reaching_the_graph_through_two_exits_seeks_each_stream_once() {
    let (pipeline, graph, video, audio) = two_exits();
    video.take();
    audio.take();
    assert!(pipeline.send_event(seek_from(2.0, gst::ClockTime::from_seconds(1))));
    await_state(&pipeline, gst::State::Paused);
    assert_eq!(graph.property::<f64>("rate"), 2.0);
    for (name, recorder) in [("video", &video), ("audio", &audio)] {
        let items = recorder.take();
        assert_eq!(flushes(&items), 1, "{name}: {items:?}");
        assert_eq!(segments(&items).last().map(|s| s.rate()), Some(2.0));
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn right_after_a_seek_a_rate_change_resumes_where_that_seek_went() {
    let (pipeline, graph, video, _audio) = two_exits();
    assert!(graph.emit_by_name::<bool>("set-rate", &[&2.0f64]));
    await_state(&pipeline, gst::State::Paused);
    // An ordinary seek (at the current rate), then a rate change before the sinks can tell
    // the position again.
    let target = gst::ClockTime::from_seconds(5);
    assert!(pipeline.send_event(seek_from(2.0, target)));
    video.take();
    assert!(graph.emit_by_name::<bool>("set-rate", &[&0.5f64]));
    await_state(&pipeline, gst::State::Paused);
    let last = segments_after(&video.take());
    assert_eq!((last.rate(), last.start()), (0.5, Some(target)));
    pipeline.set_state(gst::State::Null).unwrap();
}

/// Issue 10, defect 4: a rate set while the graph is on its way to PAUSED (the preroll under
/// way) was stored and never applied: `rate` read 2.0, the graph played at 1.0.
#[test]
fn a_rate_set_while_the_graph_prerolls_applies_once_prerolled() {
    let graph = Graph::new("", VIDEO);
    // The preroll waits until the rate is set.
    let src_pad = graph
        .pipeline
        .by_name("src")
        .unwrap()
        .static_pad("src")
        .unwrap();
    let probe = src_pad
        .add_probe(
            gst::PadProbeType::BLOCK | gst::PadProbeType::BUFFER,
            |_, _| gst::PadProbeReturn::Ok,
        )
        .unwrap();
    assert_eq!(
        graph.pipeline.set_state(gst::State::Paused),
        Ok(gst::StateChangeSuccess::Async)
    );
    assert!(graph.set_rate(2.0));
    assert_eq!(graph.rate(), 2.0);
    src_pad.remove_probe(probe);
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0);
    graph.set_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(3), 2.0);
}

/// Issue 10, defect 5: a non-flushing seek with a new rate to a PAUSED graph never returned
/// (the prerolled sink holds the streaming thread the seek waited for); the procedure flushes
/// whatever the flags.
#[test]
fn a_non_flushing_seek_with_a_new_rate_to_a_paused_graph_flushes() {
    // Left behind when the seek deadlocks: stopping it would hang too.
    let graph = std::mem::ManuallyDrop::new(Graph::new("", VIDEO));
    graph.set_state(gst::State::Paused);
    graph.recorder.take();
    let pipeline = graph.pipeline.clone();
    let sent = guarded("a non-flushing seek at rate 2.0", move || {
        pipeline.send_event(gst::event::Seek::new(
            2.0,
            gst::SeekFlags::empty(),
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::None,
            gst::ClockTime::NONE,
        ))
    });
    assert!(sent);
    assert_eq!(graph.rate(), 2.0);
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0);
    graph.await_state(gst::State::Paused);
    let items = graph.recorder.take();
    assert_eq!(
        &items[..2],
        &[Item::FlushStart, Item::FlushStop],
        "{items:?}"
    );
    assert_eq!(segments(&items).last().map(|s| s.rate()), Some(2.0));
    graph.set_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(3), 2.0);
    drop(std::mem::ManuallyDrop::into_inner(graph));
}

// Issue 11: the rough edges of rates from gst-launch.

/// `gst-launch-1.0 -m` with `line` split at spaces: its output.
fn launch_text(line: &str) -> (std::process::Output, String) {
    let output = gst_launch(&line.split_whitespace().collect::<Vec<_>>());
    let text = output_text(&output);
    (output, text)
}

/// Item 6: a seek event refused says why on the bus too.
#[test]
fn a_seek_event_refused_posts_the_warning_with_its_reason() {
    register_no_reverse();
    let graph = Graph::new("", &format!("{VIDEO} ! testnoreverse"));
    graph.set_state(gst::State::Playing);
    graph.render(5);
    graph.settle();
    drain_messages(&graph.bus);
    assert!(!graph.pipeline.send_event(rate_seek(-1.0)), "refused");
    let refusals = rate_refusals(&drain_messages(&graph.bus));
    assert_eq!(refusals.len(), 1, "one WARNING for the seek and its copies");
    assert_eq!(refusals[0].get::<f64>("rate").unwrap(), -1.0);
    assert_eq!(refusals[0].get::<&str>("reason").unwrap(), "seek-refused");
    assert_eq!(refusals[0].get::<f64>("current-rate").unwrap(), 1.0);
}

/// Item 3: gst-launch sets `rate` while the bin has no bus yet; the WARNING is kept until the
/// bin is in the pipeline.
#[test]
fn a_rate_refused_before_the_bin_has_a_bus_is_posted_once_it_has_one() {
    init();
    let graph = gst::parse::launch(
        "graphbin.( name=graph rate=2.0 pushaudiotestsrc name=live ! fakesink )",
    )
    .unwrap();
    assert!(graph.bus().is_none(), "a lone bin has no bus");
    assert_eq!(graph.property::<f64>("rate"), 1.0, "refused: live");
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    let refusals = rate_refusals(&drain_messages(&bus));
    assert_eq!(refusals.len(), 1, "posted at NULL to READY, once");
    assert_eq!(refusals[0].get::<&str>("reason").unwrap(), "live");
    assert_eq!(refusals[0].get::<f64>("rate").unwrap(), 2.0);
    pipeline.set_state(gst::State::Playing).unwrap();
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(rate_refusals(&drain_messages(&bus)).is_empty(), "not again");
}

#[test]
fn gst_launch_shows_why_a_rate_was_refused() {
    let (output, text) = launch_text(
        "-m graphbin.( rate=2.0 pushaudiotestsrc num-buffers=10 ! fakesink sync=true )",
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("WARNING"), "{text}");
    assert!(text.contains("pushsource/rate-refused"), "{text}");
    assert!(
        text.contains("is live: a live source cannot change its rate"),
        "{text}"
    );
}

/// Item 4: before PAUSED a pushsrcbin has not built its source: the rate is judged at the
/// preroll, on what the source is.
#[test]
fn a_rate_set_before_paused_on_a_source_bin_not_live_plays_at_that_rate() {
    let graph = Graph::new(
        "rate=2.0",
        "pushsrcbin source-description=\"videotestsrc is-live=false\" ! \
         video/x-raw,format=I420,width=64,height=48,framerate=25/1",
    );
    assert_eq!(graph.rate(), 2.0, "stored, not refused");
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), 2.0);
    graph.await_state(gst::State::Playing);
    assert_rendered_at_rate(&graph.render(10), 2.0);
    assert!(rate_refusals(&drain_messages(&graph.bus)).is_empty());
}

#[test]
fn a_rate_set_before_paused_on_a_live_source_bin_is_refused_at_the_preroll() {
    let graph = Graph::new(
        "rate=2.0",
        "pushsrcbin name=live source-description=\"audiotestsrc is-live=true\"",
    );
    assert_eq!(graph.rate(), 2.0, "stored: the source is not known yet");
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    let refusal = loop {
        let details = await_detailed_warning(&graph.bus);
        if details.name() == "pushsource/rate-refused" {
            break details;
        }
    };
    assert_eq!(refusal.get::<&str>("reason").unwrap(), "live");
    assert_eq!(graph.rate(), 1.0);
}

#[test]
fn gst_launch_plays_a_source_bin_not_live_at_the_rate_set() {
    let (output, text) = launch_text(
        "-m graphbin.( rate=2.0 pushsrcbin \
         source-description=\"audiotestsrc is-live=false num-buffers=50\" ! fakesink sync=true )",
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("rate-changed, rate=(double)2"), "{text}");
    assert!(!text.contains("rate-refused"), "{text}");
}

/// Item 5: a reverse rate set before the graph starts plays it backwards from its end.
#[test]
fn a_reverse_rate_set_before_paused_plays_from_the_end() {
    let graph = Graph::new(
        "rate=-1.0",
        &VIDEO.replace("is-live=false", "is-live=false num-buffers=50"),
    );
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    let changed = graph.await_message("rate-changed");
    assert_eq!(changed.get::<f64>("rate").unwrap(), -1.0);
    assert_eq!(
        changed.get::<u64>("position").unwrap(),
        (FRAME * 50).nseconds(),
        "from the end: 50 frames of 40 ms"
    );
    graph.await_state(gst::State::Playing);
    let renders = graph.render(10);
    assert_eq!(renders[0].pts, FRAME * 49, "the last frame first");
    assert_rendered_at_rate(&renders, -1.0);
    assert!(warnings(&drain_messages(&graph.bus)).is_empty());
}

#[test]
fn a_reverse_rate_set_before_paused_without_a_duration_says_so() {
    let graph = Graph::new("rate=-1.0", VIDEO);
    graph.pipeline.set_state(gst::State::Playing).unwrap();
    let notice = await_detailed_warning(&graph.bus);
    assert_eq!(notice.name(), "pushsource/reverse-from-position");
    assert_eq!(notice.get::<f64>("rate").unwrap(), -1.0);
    assert_eq!(notice.get::<u64>("position").unwrap(), 0);
}

#[test]
fn gst_launch_plays_a_reverse_rate_from_the_end() {
    let (output, text) = launch_text(
        "-m -v graphbin.( rate=-1.0 pushvideotestsrc is-live=false num-buffers=10 ! \
         fakesink sync=true silent=false )",
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("rate-changed, rate=(double)-1, position=(guint64)333333333;"),
        "{text}"
    );
    // Frame 9 is the preroll buffer (fakesink says "preroll"), then every other frame,
    // backwards, down to frame 0.
    let rendered: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("last-message = chain"))
        .map(|line| {
            line.split("pts: ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(rendered.len(), 9, "every frame, backwards\n{text}");
    assert_eq!(rendered[0], "0:00:00.266666666", "{text}");
    assert_eq!(rendered[8], "0:00:00.000000000", "{text}");
    assert!(!text.contains("WARNING"), "{text}");
}
