//! Rate matching end to end (issue 12, "Must show", first bullet): the real elements in real
//! pipelines, `pushaudiotestsrc drift=D push-source-flags=F ! ratematch ! fakesink sync=true`
//! (`ratematch` in `auto` mode, so the flags decide), on a TestClock, for 10 simulated minutes
//! (6000 buffers of 100 ms of the device's clock, 8 kHz mono: the whole file takes about 10 s
//! in a debug build).
//!
//! What is measured is what a listener would hear: the fake sink renders each buffer when the
//! pipeline clock reaches its running time plus the latency the sink applied, and the handoff
//! records the clock's time then. The source's sine is defined in pipeline time (its phase is
//! the capture time on the pipeline clock), so decoding the phase of what is rendered at `t`
//! says when it was captured; it belongs at `t − latency`. The output must also be contiguous
//! at the nominal rate (a fake sink renders each buffer at its stamp, an audio device plays the
//! frames one after another: with both, each frame is rendered where the decoding assumes).
//! tests/ratematch.rs drives the element alone with a simulated device; tests/drift.rs checks
//! the sources alone; tests/graphbin_rate_matching.rs checks graphbin's policy.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::*;
use gst::prelude::*;
use gst_base::prelude::*;
use gstpushsource::PushSourceFlags;

const RATE: u64 = 8_000;
const FRAMES_PER_BUFFER: u64 = 800;
const CAPS: &str = "audio/x-raw,format=F32LE,layout=interleaved,rate=8000,channels=1";
/// A period of 100 ms: the decoded phase is ambiguous by whole periods only, beyond ±50 ms.
const FREQ: f64 = 10.0;
const VOLUME: f64 = 0.8;
/// 600 s of the device's clock.
const BUFFERS: u64 = 6_000;
const SECONDS: f64 = 600.0;
/// The loop locks within 5 s (README): every output frame is within 1 ms after that.
const LOCK_TIME: f64 = 5.0;
const TOLERANCE: f64 = 0.001;
/// One window is one period of the sine (100 ms).
const WINDOW: usize = 800;
/// A frame lost or repeated moves the decoded offset by a whole frame (125 µs) from one window
/// to the next; the loop only bends its course, by far less than this.
const MAX_STEP: f64 = 0.25 / RATE as f64;

fn ns(time: gst::ClockTime) -> f64 {
    time.nseconds() as f64 / 1e9
}

/// The decoder of the rendered audio: how much later the content rendered at `t` was captured
/// than `t − latency` (10 windows a second; two may be cut at the ends of a span).
impl Default for PhaseDecoder {
    fn default() -> Self {
        PhaseDecoder::new(FREQ, WINDOW, 10.0, 2.0)
    }
}

/// What a fake sink rendered, recorded from its handoff (no assertion in the streaming thread:
/// the test reads it afterwards).
#[derive(Default)]
struct Rendered {
    buffers: u64,
    frames: u64,
    /// Buffer indices flagged DISCONT.
    discont: Vec<u64>,
    /// PTS of output frame 0, for the contiguity check.
    pts0: Option<u64>,
    /// Buffers whose PTS is not `pts0 + frames/R` (index, expected, actual).
    gaps: Vec<(u64, u64, u64)>,
    /// Largest |render − (running time + applied latency)| (ns): how late the sink rendered.
    worst_lateness: u64,
    /// The same from 1 s of running time on.
    worst_lateness_after_1s: u64,
    /// The latencies the sink applied, in order of change, with the running time of the first
    /// buffer rendered with each.
    latencies: Vec<(gst::ClockTime, gst::ClockTime)>,
    audio: PhaseDecoder,
    /// Video: (render time, latency, frame number shown).
    frames_shown: Vec<(f64, f64, Option<u32>)>,
}

impl Rendered {
    fn take(&mut self, sink: &gst::Element, pad: &gst::Pad, buffer: &gst::BufferRef) {
        let clock = sink.clock().expect("a pipeline clock");
        let render = clock.time() - sink.base_time().unwrap();
        let latency = sink.downcast_ref::<gst_base::BaseSink>().unwrap().latency();
        if self.latencies.last().map(|(latency, _)| *latency) != Some(latency) {
            self.latencies.push((latency, render));
        }
        let segment = pad.sticky_event::<gst::event::Segment>(0).unwrap();
        let segment = segment.segment().downcast_ref::<gst::ClockTime>().unwrap();
        let pts = buffer.pts().unwrap();
        let due = segment.to_running_time(pts).unwrap() + latency;
        let lateness = render.nseconds().abs_diff(due.nseconds());
        self.worst_lateness = self.worst_lateness.max(lateness);
        if render >= gst::ClockTime::SECOND {
            self.worst_lateness_after_1s = self.worst_lateness_after_1s.max(lateness);
        }
        if buffer.flags().contains(gst::BufferFlags::DISCONT) {
            self.discont.push(self.buffers);
        }
        let caps = pad.current_caps().unwrap();
        let structure = caps.structure(0).unwrap();
        if structure.name() == "video/x-raw" {
            self.frames_shown
                .push((ns(render), ns(latency), decode_frame_number(buffer, &caps)));
        } else {
            let pts0 = *self.pts0.get_or_insert(pts.nseconds());
            let expected = pts0 + self.frames * 1_000_000_000 / RATE;
            if pts.nseconds() != expected {
                self.gaps.push((self.buffers, expected, pts.nseconds()));
            }
            let map = buffer.map_readable().unwrap();
            let (render, latency) = (ns(render), ns(latency));
            for (i, bytes) in map.as_slice().chunks_exact(4).enumerate() {
                let value = f32::from_le_bytes(bytes.try_into().unwrap()) as f64;
                self.audio
                    .push(render + i as f64 / RATE as f64 - latency, value);
                self.frames += 1;
            }
        }
        self.buffers += 1;
    }
}

/// A `fakesink sync=true` named `name` in `pipeline`, recording what it renders.
fn record_rendering(pipeline: &gst::Pipeline, name: &str) -> Arc<Mutex<Rendered>> {
    let rendered = Arc::new(Mutex::new(Rendered::default()));
    let sink = pipeline.by_name(name).unwrap();
    let record = rendered.clone();
    sink.connect("handoff", false, move |values| {
        let sink = values[0].get::<gst::Element>().unwrap();
        let buffer = values[1].get::<gst::Buffer>().unwrap();
        let pad = values[2].get::<gst::Pad>().unwrap();
        record.lock().unwrap().take(&sink, &pad, &buffer);
        None
    });
    rendered
}

/// What reached `ratematch` from the source.
#[derive(Default)]
struct Captured {
    buffers: u64,
    /// Offset of the next frame, from the source's OFFSET_END.
    next_offset: u64,
    /// Buffers whose OFFSET is not where the last one ended, or flagged DISCONT after the
    /// first.
    breaks: Vec<u64>,
}

fn record_input(pad: &gst::Pad) -> Arc<Mutex<Captured>> {
    let captured = Arc::new(Mutex::new(Captured::default()));
    let record = captured.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer() {
            let mut captured = record.lock().unwrap();
            let discont = buffer.flags().contains(gst::BufferFlags::DISCONT);
            if buffer.offset() != captured.next_offset || (discont && captured.buffers > 0) {
                let index = captured.buffers;
                captured.breaks.push(index);
            }
            captured.next_offset = buffer.offset_end();
            captured.buffers += 1;
        }
        gst::PadProbeReturn::Ok
    });
    captured
}

/// Runs the pipeline's clock: each streaming thread waits on it in turn, `threads` of them at
/// once; the earliest wait is released at exactly its time, until `done` says so. The 10 ms
/// timed wait only paces the loop while a thread works; no result depends on it.
fn drive(testclock: &gst_check::TestClock, threads: u32, mut done: impl FnMut() -> bool) {
    let mut progress = Instant::now();
    while !done() {
        let (pending, _) = testclock.timed_wait_for_multiple_pending_ids(threads, 10);
        if !pending {
            assert!(progress.elapsed() < HANG_GUARD, "no clock wait: hung");
            continue;
        }
        progress = Instant::now();
        let next = testclock.peek_next_pending_id().unwrap().time();
        if next > testclock.time() {
            testclock.set_time(next);
        }
        testclock.process_next_clock_id().expect("the wait is due");
    }
}

/// Pops the bus; `true` at EOS (an ERROR fails the test).
fn eos_on(bus: &gst::Bus, messages: &mut Vec<gst::Message>) -> bool {
    let mut eos = false;
    while let Some(message) = bus.pop() {
        match message.view() {
            gst::MessageView::Eos(_) => eos = true,
            gst::MessageView::Error(error) => {
                panic!("error: {} ({:?})", error.error(), error.debug())
            }
            _ => {}
        }
        messages.push(message);
    }
    eos
}

fn rate_matching_reports(messages: &[gst::Message]) -> Vec<gst::Structure> {
    element_messages(messages, "rate-matching")
}

/// 10 simulated minutes of a drifting source with `flags` through `ratematch` to a synchronised
/// sink.
fn ten_minutes(flags: PushSourceFlags, ppm: i64) {
    let what = format!("{flags:?} {ppm:+} ppm");
    init();
    let description = format!(
        "pushaudiotestsrc name=src drift={ppm} push-source-flags={} wave=sine freq={FREQ} \
         volume={VOLUME} samplesperbuffer={FRAMES_PER_BUFFER} num-buffers={BUFFERS} ! {CAPS} ! \
         ratematch name=matcher ! fakesink name=sink sync=true signal-handoffs=true",
        flags.bits()
    );
    let on_device_clock = flags.contains(PushSourceFlags::USE_STREAM_CLOCK);
    let testclock = gst_check::TestClock::with_start_time(gst::ClockTime::from_seconds(1000));
    if on_device_clock {
        // The device clock derives from the system clock (the one of the moment the source
        // makes it): a TestClock drives it.
        gst::SystemClock::set_default(Some(&testclock));
    }
    let pipeline = pipeline(&description);
    if !on_device_clock {
        pipeline.use_clock(Some(&testclock));
    }
    let rendered = record_rendering(&pipeline, "sink");
    let matcher = pipeline.by_name("matcher").unwrap();
    let captured = record_input(&matcher.static_pad("sink").unwrap());
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    if on_device_clock {
        let source = pipeline.by_name("src").unwrap();
        assert_eq!(pipeline.clock(), source.provide_clock(), "{what}");
    }
    let mut messages = Vec::new();
    drive(&testclock, 1, || eos_on(&bus, &mut messages));
    let (drift, offset) = (
        matcher.property::<f64>("drift"),
        matcher.property::<i64>("offset"),
    );
    pipeline.set_state(gst::State::Null).unwrap();
    if on_device_clock {
        gst::SystemClock::set_default(None::<&gst::Clock>);
    }

    let rendered = rendered.lock().unwrap();
    let captured = captured.lock().unwrap();
    // At the capture side: nothing lost (no QOS, no break in the offsets), all of it consumed.
    assert!(
        messages_of(&messages, gst::MessageType::Qos).is_empty(),
        "{what}: the source lost data"
    );
    assert!(
        warnings(&messages).is_empty(),
        "{what}: {:?}",
        warnings(&messages)
    );
    assert_eq!(captured.buffers, BUFFERS, "{what}");
    assert!(captured.breaks.is_empty(), "{what}: {:?}", captured.breaks);
    // After the matcher: contiguous, no DISCONT but the first, rendered on time.
    assert!(
        rendered.gaps.is_empty(),
        "{what}: {:?}",
        &rendered.gaps[..1]
    );
    assert!(
        rendered.discont.iter().all(|&index| index == 0),
        "{what}: DISCONT at {:?}",
        rendered.discont
    );
    // On the device clock a wait is one on the system clock, converted and rounded up: 1 ns.
    let rounding = if on_device_clock { 1 } else { 0 };
    assert!(
        rendered.worst_lateness <= rounding,
        "{what}: rendered {} ns late",
        rendered.worst_lateness
    );
    assert_eq!(
        rendered.latencies.len(),
        1,
        "{what}: {:?}",
        rendered.latencies
    );

    // Every input frame consumed once: the output lasts as long, in pipeline time, as the
    // capture did (the device's R·k frames per pipeline second, or R on its own clock or when
    // it matches rates itself), give or take the resampler's edges and the offset.
    let source_paced =
        !flags.intersects(PushSourceFlags::INTERNAL_RM | PushSourceFlags::USE_STREAM_CLOCK);
    let k = if source_paced {
        1.0 + ppm as f64 * 1e-6
    } else {
        1.0
    };
    let fed = (BUFFERS * FRAMES_PER_BUFFER) as f64;
    let offset_frames = (offset as f64 * 1e-9 * RATE as f64).abs();
    let expected = fed / k;
    assert!(
        (rendered.frames as f64 - expected).abs() <= 2.0 + offset_frames,
        "{what}: {} frames rendered for {fed} captured ({expected} expected)",
        rendered.frames
    );
    if flags.contains(PushSourceFlags::INTERNAL_RM) {
        assert_eq!(rendered.frames as f64, fed, "{what}: passed through");
    }

    let end = SECONDS / k;
    let worst = rendered.audio.worst(LOCK_TIME, end);
    let first_second = rendered.audio.worst(0.2, 1.0);
    let settled = rendered.audio.worst(60.0, end);
    let step = rendered
        .audio
        .largest_step(f64::NEG_INFINITY, f64::INFINITY);
    let reports = rate_matching_reports(&messages);
    let mode = reports[0].get::<String>("mode").unwrap();
    eprintln!(
        "{what}: mode {mode}, latency {}, |δ| ≤ {:.1} µs after {LOCK_TIME} s, {:.1} µs after 60 s \
         ({:.1} µs in the first second), largest step {:.2} µs, drift {:.3} ppm",
        rendered.latencies[0].0,
        worst * 1e6,
        settled * 1e6,
        first_second * 1e6,
        step * 1e6,
        drift,
    );
    assert!(
        worst < TOLERANCE,
        "{what}: {worst} s off after {LOCK_TIME} s"
    );
    assert!(step < MAX_STEP, "{what}: a frame lost or repeated: {step}");
    let expected_mode = if flags.contains(PushSourceFlags::INTERNAL_RM) {
        "source"
    } else if flags.contains(PushSourceFlags::PRIVATE_CLOCK) {
        "timestamps"
    } else {
        // use-stream-clock with a sink that provides no clock: the pipeline's (the device's).
        "graph-clock"
    };
    assert_eq!(mode, expected_mode, "{what}");
    // What it measured: the device's drift against the pipeline clock, none where the source
    // matches or the pipeline runs on the device's clock.
    let expected_drift = (k - 1.0) * 1e6;
    assert!(
        (drift - expected_drift).abs() < 3.0,
        "{what}: drift {drift}"
    );
}

fn every_drift(flags: PushSourceFlags) {
    for ppm in [1000, -1000] {
        ten_minutes(flags, ppm);
    }
}

#[test]
fn no_flag_renders_on_the_pipeline_clock_within_a_millisecond() {
    every_drift(PushSourceFlags::empty());
}

#[test]
fn private_clock_renders_on_the_pipeline_clock_within_a_millisecond() {
    every_drift(PushSourceFlags::PRIVATE_CLOCK);
}

#[test]
fn internal_rm_passes_through_and_the_source_is_within_a_millisecond() {
    every_drift(PushSourceFlags::INTERNAL_RM);
}

#[test]
fn use_stream_clock_renders_on_the_device_clock_within_a_millisecond() {
    every_drift(PushSourceFlags::USE_STREAM_CLOCK);
}

/// A video frame of `pushvideotestsrc` with `ppm` and no flag: frame `n` is captured at
/// `⌊n·10¹⁵ / (30·(10⁶ + ppm))⌋` ns of pipeline time (tests/drift.rs checks this of the source).
fn video_capture_time(n: u32, ppm: i64) -> f64 {
    let ns = n as u128 * 1_000_000_000_000_000 / (30 * (1_000_000 + ppm) as u128);
    ns as f64 / 1e9
}

/// An audio source at +1000 ppm through `ratematch` and a video source at −1000 ppm straight to
/// its sink, no flag, in one pipeline for 10 simulated minutes: content captured at the same
/// pipeline instant is rendered at the same time, within 1 ms after the loop has locked.
#[test]
fn audio_and_video_of_different_drift_stay_in_sync() {
    const AUDIO_PPM: i64 = 1000;
    const VIDEO_PPM: i64 = -1000;
    const VIDEO_CAPS: &str = "video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1";
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc drift={AUDIO_PPM} wave=sine freq={FREQ} volume={VOLUME} \
         samplesperbuffer={FRAMES_PER_BUFFER} ! {CAPS} ! ratematch name=matcher ! \
         fakesink name=audio sync=true async=false signal-handoffs=true \
         pushvideotestsrc drift={VIDEO_PPM} ! {VIDEO_CAPS} ! \
         fakesink name=video sync=true async=false signal-handoffs=true"
    ));
    let testclock = gst_check::TestClock::with_start_time(gst::ClockTime::from_seconds(1000));
    pipeline.use_clock(Some(&testclock));
    let audio = record_rendering(&pipeline, "audio");
    let video = record_rendering(&pipeline, "video");
    let bus = pipeline.bus().unwrap();
    // The sinks do not wait for a preroll (a thread blocked in preroll waits on no clock, so the
    // order of the clock waits could not be decided): they are PLAYING at once, both streaming
    // threads always on their way to a clock wait. The pipeline's latency, computed then, from
    // the sources' defaults, is recomputed when the caps change it: the first buffers are
    // late, not the later ones.
    pipeline.set_state(gst::State::Playing).unwrap();
    let base_time = pipeline.base_time().unwrap();
    let end = gst::ClockTime::from_seconds(SECONDS as u64);
    let mut messages = Vec::new();
    // Two streaming threads, each always on its way to a clock wait: release the earlier.
    drive(&testclock, 2, || {
        let seen = messages.len();
        assert!(!eos_on(&bus, &mut messages), "endless sources");
        // As applications do (gst-launch too): the latency grows once the caps are known.
        if !messages_of(&messages[seen..], gst::MessageType::Latency).is_empty() {
            pipeline.recalculate_latency().unwrap();
        }
        testclock.time() - base_time >= end
    });
    pipeline.set_state(gst::State::Null).unwrap();
    eos_on(&bus, &mut messages);
    assert!(
        messages_of(&messages, gst::MessageType::Qos).is_empty(),
        "nothing lost"
    );
    assert!(warnings(&messages).is_empty(), "{:?}", warnings(&messages));

    let (audio, video) = (audio.lock().unwrap(), video.lock().unwrap());
    let pipeline_latency = audio.latencies.last().unwrap().0;
    for sink in [&*audio, &*video] {
        assert!(sink.gaps.is_empty() && sink.discont.iter().all(|&index| index == 0));
        assert_eq!(sink.worst_lateness_after_1s, 0, "rendered on time");
        let (latency, since) = *sink.latencies.last().unwrap();
        assert_eq!(latency, pipeline_latency, "one pipeline latency");
        assert!(since < gst::ClockTime::SECOND, "{:?}", sink.latencies);
    }
    let audio_worst = audio.audio.worst(LOCK_TIME, SECONDS - 1.0);
    // Each frame in turn, rendered at its capture time + the latency; paired with the audio
    // window playing at the same time.
    let mut worst_av: f64 = 0.0;
    let mut compared = 0;
    for (index, &(render, latency, number)) in video.frames_shown.iter().enumerate() {
        assert_eq!(
            number,
            Some(index as u32),
            "every frame shown once, in order"
        );
        let due = render - latency;
        let captured = video_capture_time(index as u32, VIDEO_PPM);
        let video_offset = captured - due;
        // Frames before 1 s may be late, as above (the latency is recomputed once the caps are
        // known, after a first frame may have been rendered against the first one).
        assert!(
            captured < 1.0 || video_offset.abs() < 1e-8,
            "frame {index}: {video_offset}"
        );
        if due >= LOCK_TIME
            && let Some(audio_offset) = audio.audio.at(due, WINDOW as f64 / RATE as f64)
        {
            worst_av = worst_av.max((audio_offset - video_offset).abs());
            compared += 1;
        }
    }
    eprintln!(
        "A/V ({AUDIO_PPM:+} / {VIDEO_PPM:+} ppm): {} frames, {compared} compared, |A−V| ≤ {:.1} µs \
         after {LOCK_TIME} s (audio |δ| ≤ {:.1} µs), latency {}",
        video.frames_shown.len(),
        worst_av * 1e6,
        audio_worst * 1e6,
        pipeline_latency
    );
    assert!(
        compared as f64 >= (SECONDS - LOCK_TIME - 1.0) * 30.0,
        "{compared} frames compared"
    );
    assert!(
        worst_av < TOLERANCE,
        "A/V offset {worst_av} s after {LOCK_TIME} s"
    );
}

/// The same through `graphbin`, as far as it can be asserted deterministically: graphbin puts
/// `ratematch` only in front of a `GstAudioBaseSink`, and the only ones here are real devices'
/// (`alsasink device=null` consumes as fast as it is fed, at no clock's pace; `fakeaudiosink`
/// is a bin around a fakesink). So the sink plays unsynchronised and what is checked is the
/// stream graphbin's `ratematch` gives it, the mode graphbin decided and the one the element
/// reports, and what the element measured on the TestClock: a drifting source for 30 simulated
/// seconds, no flag and `private-clock`.
#[test]
fn through_graphbin_the_inserted_ratematch_matches_what_graphbin_decided() {
    const RUN: u64 = 30;
    for (flags, ppm, expected_mode) in [
        ("0", 1000, "graph-clock"),
        ("private-clock", -1000, "timestamps"),
    ] {
        let what = format!("graphbin, {flags} {ppm:+} ppm");
        init();
        let graph = gst::parse::launch(&format!(
            "graphbin.( name=graph pushaudiotestsrc name=src drift={ppm} push-source-flags={flags} \
             wave=sine freq={FREQ} samplesperbuffer={FRAMES_PER_BUFFER} ! {CAPS} ! \
             alsasink name=sink device=null sync=false )"
        ))
        .unwrap();
        let pipeline = gst::Pipeline::new();
        pipeline.add(&graph).unwrap();
        let testclock = gst_check::TestClock::with_start_time(gst::ClockTime::from_seconds(1000));
        pipeline.use_clock(Some(&testclock));
        let source = pipeline.by_name("src").unwrap();
        let sink = pipeline.by_name("sink").unwrap();
        let captured = record_input(&source.static_pad("src").unwrap());
        let played = Recorder::attach(&sink.static_pad("sink").unwrap());
        let bus = pipeline.bus().unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let matcher = sink
            .static_pad("sink")
            .unwrap()
            .peer()
            .and_then(|pad| pad.parent_element())
            .unwrap();
        assert_eq!(
            matcher.factory().unwrap().name(),
            "ratematch",
            "{what}: graphbin put a ratematch in front of the sink"
        );
        let base_time = pipeline.base_time().unwrap();
        let mut messages = Vec::new();
        // One streaming thread: the source's waits are the only ones on the pipeline clock.
        drive(&testclock, 1, || {
            assert!(!eos_on(&bus, &mut messages), "{what}: endless source");
            testclock.time() - base_time >= gst::ClockTime::from_seconds(RUN)
        });
        let drift = matcher.property::<f64>("drift");
        pipeline.set_state(gst::State::Null).unwrap();
        eos_on(&bus, &mut messages);

        assert!(
            messages_of(&messages, gst::MessageType::Qos).is_empty(),
            "{what}: the source lost data"
        );
        assert!(
            warnings(&messages).is_empty(),
            "{what}: {:?}",
            warnings(&messages)
        );
        let captured = captured.lock().unwrap();
        assert!(captured.breaks.is_empty(), "{what}: {:?}", captured.breaks);
        assert!(
            captured.buffers >= RUN * 10 - 2,
            "{what}: {}",
            captured.buffers
        );

        // What the sink got: contiguous at the nominal rate from the first buffer on, which
        // alone may be a DISCONT.
        let buffers: Vec<(gst::ClockTime, gst::ClockTime, bool)> = played
            .take()
            .into_iter()
            .filter_map(|item| match item {
                Item::Buffer {
                    pts,
                    duration,
                    discont,
                    ..
                } => Some((pts, duration, discont)),
                _ => None,
            })
            .collect();
        assert!(
            buffers.len() as u64 >= RUN * 10 - 5,
            "{what}: {}",
            buffers.len()
        );
        for pair in buffers.windows(2) {
            let ((pts, duration, _), (next, _, discont)) = (pair[0], pair[1]);
            assert_eq!(pts + duration, next, "{what}: contiguous");
            assert!(!discont, "{what}: DISCONT at {next}");
        }

        // graphbin's decision, the element's mode, and what it measured.
        let decided = element_messages(&messages, "graph-latency")
            .pop()
            .expect("a graph-latency message");
        let entry = decided
            .get::<gst::List>("sources")
            .unwrap()
            .iter()
            .map(|entry| entry.get::<gst::Structure>().unwrap())
            .find(|entry| entry.get::<String>("name").unwrap() == "src")
            .unwrap();
        assert_eq!(
            entry.get::<String>("rate-matching").unwrap(),
            expected_mode,
            "{what}"
        );
        let reports = rate_matching_reports(&messages);
        assert!(
            reports.len() as u64 >= RUN - 2,
            "{what}: {} reports",
            reports.len()
        );
        assert!(
            reports
                .iter()
                .all(|report| report.get::<String>("mode").unwrap() == expected_mode),
            "{what}"
        );
        assert!(
            reports[6..]
                .iter()
                .all(|report| report.get::<bool>("locked").unwrap()),
            "{what}: locked within 5 s and after"
        );
        let offset = reports.last().unwrap().get::<i64>("offset").unwrap();
        eprintln!("{what}: mode {expected_mode}, drift {drift:.3} ppm, last offset {offset} ns");
        assert!((drift - ppm as f64).abs() < 3.0, "{what}: drift {drift}");
        assert!(offset.abs() < 1_000_000, "{what}: offset {offset}");
    }
}
