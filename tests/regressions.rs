//! Regression tests for the source-side defects of issue 10 (numbers as there), each found by
//! random use and each failing (a GLib CRITICAL, a hang caught by the guard, or lost data) on
//! the code before its fix.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::*;
use gst::prelude::*;

const SECOND: gst::ClockTime = gst::ClockTime::SECOND;

/// Sets `pipeline` to PAUSED and waits until it has prerolled.
fn preroll(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Paused).unwrap();
    let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(result, Ok(gst::StateChangeSuccess::Success));
    assert_eq!(state, gst::State::Paused);
}

fn flushing_seek(pipeline: &gst::Pipeline, rate: f64, start: gst::ClockTime) {
    assert!(pipeline.send_event(gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        start,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    )));
    let (result, _, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(result, Ok(gst::StateChangeSuccess::Success));
}

/// Runs `action` on another thread and fails if it has not returned within `guard`.
fn returns_within(guard: Duration, what: &str, action: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        action();
        let _ = done.send(());
    });
    finished
        .recv_timeout(guard)
        .unwrap_or_else(|_| panic!("{what} did not return within {guard:?}"));
}

/// Defect 1: `ts-offset` = −30 s against a reverse segment of 23 s made the SEGMENT's offset
/// pass its stop: a CRITICAL `gst_segment_to_running_time_full: assertion 'stop >= offset'` in
/// the sink for every buffer.
#[test]
fn negative_ts_offset_beyond_a_reverse_segment_keeps_the_segment_valid() {
    let pipeline = pipeline(
        "pushaudiotestsrc name=src is-live=false num-buffers=1000 ! fakesink name=sink sync=false",
    );
    let recorder = Recorder::at_sink(&pipeline);
    preroll(&pipeline);
    let src = pipeline.by_name("src").unwrap();
    src.set_property("ts-offset", -30 * SECOND.nseconds() as i64);
    flushing_seek(&pipeline, -1.0, gst::ClockTime::ZERO);
    run_pipeline_to_eos(pipeline.upcast_ref());
    let segments: Vec<_> = recorder
        .take()
        .into_iter()
        .filter_map(|item| match item {
            Item::Segment(segment) => Some(segment),
            _ => None,
        })
        .collect();
    let reverse = segments
        .iter()
        .find(|s| s.rate() < 0.0)
        .expect("a reverse segment");
    assert!(reverse.offset() <= reverse.stop(), "{reverse:?}");
}

/// Defect 2: `latency` = G_MAXINT64, the top of its range, made a live source wait past the end
/// of the system clock's range, a wait `unlock` could not interrupt: `set_state(NULL)` never
/// returned.
#[test]
fn the_largest_latency_leaves_a_live_source_stoppable() {
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc name=src latency={} ! {CAPS_48K_MONO} ! fakesink",
        i64::MAX
    ));
    let src = pipeline.by_name("src").unwrap();
    let _ = pipeline.set_state(gst::State::Playing);
    // The source is in PLAYING with its format negotiated: its streaming thread is about to
    // wait, or waiting, for its first buffer. (If the stop below came before the wait, the test
    // would pass without testing anything; the pause only makes that unlikely.)
    let _ = src.state(gst::ClockTime::from_seconds(10));
    while src.static_pad("src").unwrap().current_caps().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    returns_within(Duration::from_secs(20), "set_state(NULL)", move || {
        pipeline.set_state(gst::State::Null).unwrap();
    });
}

/// Defect 6: a live source waited for its first buffer's capture on the clock of the audio sink
/// downstream, which only runs once that sink has data: the pipeline never reached PLAYING (1
/// run in 5 with gst-launch, where the sink's clock is picked when the sink is negotiated in
/// time; every run here, where that clock is the pipeline's).
#[test]
fn a_live_source_reaches_playing_on_the_clock_of_its_audio_sink() {
    let pipeline = pipeline(
        "pushaudiotestsrc num-buffers=5 samplesperbuffer=4800 ! audioconvert ! \
         alsasink name=sink device=null",
    );
    let sink = pipeline.by_name("sink").unwrap();
    let _ = pipeline.set_state(gst::State::Paused);
    // The live source negotiates in PAUSED; the sink then has a clock to provide.
    let clock = loop {
        if let Some(clock) = sink.provide_clock() {
            break clock;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    pipeline.use_clock(Some(&clock));
    run_pipeline_to_eos(pipeline.upcast_ref());
}

/// Defect 6 after a pause (stress seeds 18422102333498090624, 8324174352104960528): the audio
/// sink's clock stands still until its ring buffer is full, so a live source pacing on it pushes
/// one buffer and then waits; in PAUSED the sink gives up its preroll, and back in PLAYING it
/// needs a buffer that the source only pushed once that clock ran: PLAYING was never reached
/// again. GstBaseSrc lets a live source's first buffer after each PLAYING through at once
/// (`audiotestsrc is-live=true` here reaches PLAYING again); so does the push source now.
#[test]
fn a_live_source_reaches_playing_again_on_the_clock_of_its_audio_sink() {
    let pipeline = pipeline(
        "pushaudiotestsrc samplesperbuffer=1024 ! \
         audio/x-raw,format=S16LE,rate=44100,channels=1 ! audioconvert ! \
         alsasink name=sink device=null sync=false",
    );
    let sink = pipeline.by_name("sink").unwrap();
    let _ = pipeline.set_state(gst::State::Paused);
    let clock = loop {
        if let Some(clock) = sink.provide_clock() {
            break clock;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    pipeline.use_clock(Some(&clock));
    // A hang guard only: each state is reached at once, or never.
    let bound = gst::ClockTime::from_seconds(10);
    let reach = |state: gst::State| {
        pipeline.set_state(state).unwrap();
        let (_, reached, pending) = pipeline.state(bound);
        assert_eq!(
            (reached, pending),
            (state, gst::State::VoidPending),
            "{state:?} reached"
        );
    };
    reach(gst::State::Playing);
    // The sink has rendered its preroll buffer: in PAUSED it then needs a new one.
    while rendered(&sink) == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    reach(gst::State::Paused);
    reach(gst::State::Playing);
    returns_within(Duration::from_secs(20), "set_state(NULL)", move || {
        pipeline.set_state(gst::State::Null).unwrap();
    });
}

/// Defect 6 in another branch (stress seed 17480868468735468361): the audio sink's clock stands
/// still until its ring buffer is full, and a live push source in a branch of its own waited
/// on it for its first frame: its sink never prerolled, PLAYING was never reached.
/// `videotestsrc is-live=true` there reaches PLAYING (GstBaseSrc lets its first buffer through).
#[test]
fn a_live_source_reaches_playing_on_the_clock_of_an_audio_sink_elsewhere() {
    let pipeline = pipeline(
        "pushvideotestsrc ! video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! \
         fakesink sync=true \
         audiotestsrc is-live=true samplesperbuffer=1024 ! \
         audio/x-raw,format=S16LE,rate=44100,channels=1 ! audioconvert ! \
         alsasink name=sink device=null sync=false",
    );
    let sink = pipeline.by_name("sink").unwrap();
    let _ = pipeline.set_state(gst::State::Paused);
    let clock = loop {
        if let Some(clock) = sink.provide_clock() {
            break clock;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    pipeline.use_clock(Some(&clock));
    pipeline.set_state(gst::State::Playing).unwrap();
    // A hang guard only: PLAYING is reached at once, or never.
    let (_, reached, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
    assert_eq!(
        (reached, pending),
        (gst::State::Playing, gst::State::VoidPending)
    );
    returns_within(Duration::from_secs(20), "set_state(NULL)", move || {
        pipeline.set_state(gst::State::Null).unwrap();
    });
}

/// The buffers `sink` (a GstBaseSink) has rendered.
fn rendered(sink: &gst::Element) -> u64 {
    sink.property::<gst::Structure>("stats")
        .get::<u64>("rendered")
        .unwrap()
}

/// Defect 6 as found: the pipeline of the issue, run a few times to the end.
#[test]
fn the_pipeline_of_defect_6_reaches_the_end_every_time() {
    for _ in 0..5 {
        let pipeline = pipeline(
            "videotestsrc num-buffers=10 ! fakesink sync=true \
             pushaudiotestsrc num-buffers=5 samplesperbuffer=4800 ! audioconvert ! \
             alsasink device=null",
        );
        run_pipeline_to_eos(pipeline.upcast_ref());
    }
}

/// Defect 7: a reverse seek from past the end of a non-live source left a segment with
/// start > stop, and the next seek failed with a CRITICAL `gst_segment_do_seek: assertion
/// 'start <= stop'`.
#[test]
fn reverse_seeks_from_past_the_end_twice() {
    let pipeline = pipeline(
        "pushvideotestsrc is-live=false num-buffers=100 ! \
         video/x-raw,format=GRAY8,width=16,height=16,framerate=100/1 ! fakesink sync=false",
    );
    preroll(&pipeline);
    flushing_seek(&pipeline, -1.0, 5 * SECOND);
    flushing_seek(&pipeline, -1.0, 5 * SECOND);
    run_pipeline_to_eos(pipeline.upcast_ref());
}

/// Defect 8: a live `pushvideotestsrc` with `max-offset=0` lost every frame to any wake-up
/// jitter at all: its capture buffer counted a frame lost once any part of it was overwritten.
#[test]
fn no_slack_video_loses_nothing_to_wakeup_jitter() {
    let pipeline = pipeline(
        "pushvideotestsrc max-offset=0 ! \
         video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1 ! fakesink name=sink sync=false",
    );
    let testclock = gst_check::TestClock::new();
    pipeline.use_clock(Some(&testclock));
    let recorder = Recorder::at_sink(&pipeline);
    pipeline.set_state(gst::State::Playing).unwrap();
    for _ in 0..10 {
        release_next_wait_late(&testclock, ms(3));
    }
    // The source waits for frame 10: frames 0–9 went through.
    await_pending_wait(&testclock);
    let messages = drain_messages(&pipeline.bus().unwrap());
    pipeline.set_state(gst::State::Null).unwrap();
    let pts: Vec<_> = recorder
        .take()
        .into_iter()
        .filter_map(|item| match item {
            Item::Buffer { pts, .. } => Some(pts),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = (0..10u64)
        .map(|k| gst::ClockTime::from_nseconds(k * 1_000_000_000 / 30))
        .collect();
    assert_eq!(pts, expected, "every frame, in order");
    assert!(messages_of(&messages, gst::MessageType::Qos).is_empty());
}

/// `cargo bench --bench graphbin` at N = 256 could livelock: every source thread, starved on two
/// cores, posted a capture-loss QOS message, found on its next look at the clock (the post took
/// long: 257 threads in GStreamer's bus queue, each waiting for the writers before it) that it
/// had lost more, and posted again, never pushing a buffer. Losses found one after the other are
/// now posted as one QOS message per buffer pushed, with the dropped total still exact and
/// cumulative. Here each QOS post "takes" 100 ms of the TestClock (a bus sync handler advances
/// it, ten buffers' worth, five times): before the fix the five messages came from one `create`
/// with no buffer pushed between them (every run: the clock is the harness's TestClock).
#[test]
fn a_source_falling_behind_while_it_reports_a_loss_posts_once_per_buffer() {
    const SLOW_POSTS: usize = 5;
    let (mut harness, bus) = source_harness(&[
        ("latency", ms(10).nseconds().to_value()),
        ("max-offset", 0u64.to_value()),
    ]);
    let testclock = harness.testclock().unwrap();
    let pushed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, u64)>::new()));
    let seen = pushed.clone();
    harness
        .element()
        .unwrap()
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data {
                seen.lock()
                    .unwrap()
                    .push((buffer.offset(), buffer.offset_end()));
            }
            gst::PadProbeReturn::Ok
        });
    // For each QOS message: the buffers pushed before it, and its dropped total.
    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(usize, u64)>::new()));
    let (recorded, counted) = (posts.clone(), pushed.clone());
    let slow_clock = testclock.clone();
    let (posted, post_seen) = mpsc::channel();
    let posted = std::sync::Mutex::new(posted);
    bus.set_sync_handler(move |_, message| {
        if let gst::MessageView::Qos(qos) = message.view() {
            let gst::GenericFormattedValue::Default(Some(dropped)) = qos.stats().1 else {
                panic!("audio losses are counted in samples: {:?}", qos.stats());
            };
            let mut recorded = recorded.lock().unwrap();
            recorded.push((counted.lock().unwrap().len(), *dropped));
            if recorded.len() <= SLOW_POSTS {
                slow_clock.set_time(slow_clock.time() + ms(100));
            }
            let _ = posted.lock().unwrap().send(());
        }
        gst::BusSyncReply::Pass
    });
    harness.play();
    crank_and_pull(&mut harness);
    // Blocked until 1 s: the next look at the clock finds a loss.
    await_pending_wait(&testclock);
    testclock.set_time(gst::ClockTime::SECOND);
    harness
        .crank_single_clock_wait()
        .expect("a pending clock wait");
    // Caught up again once the posts stop taking time: the source waits on the clock.
    for _ in 0..=SLOW_POSTS {
        post_seen
            .recv_timeout(HANG_GUARD)
            .expect("the QOS messages are posted");
    }
    await_pending_wait(&testclock);
    let posts = posts.lock().unwrap().clone();
    let pushed = pushed.lock().unwrap().clone();
    harness
        .element()
        .unwrap()
        .set_state(gst::State::Null)
        .unwrap();

    let pushed_before: Vec<usize> = posts.iter().map(|(pushed, _)| *pushed).collect();
    assert!(
        pushed_before.windows(2).all(|pair| pair[0] < pair[1]),
        "a buffer pushed between any two QOS messages: {pushed_before:?}"
    );
    // Exact and cumulative: each message's total is every sample skipped before the buffer
    // pushed right after it.
    for (before, dropped) in &posts {
        let skipped: u64 = pushed[..=*before]
            .windows(2)
            .map(|pair| pair[1].0 - pair[0].1)
            .sum();
        assert_eq!(
            *dropped, skipped,
            "dropped total at buffer {before}: {posts:?}"
        );
    }
    assert!(posts.last().unwrap().1 > 0);
}
