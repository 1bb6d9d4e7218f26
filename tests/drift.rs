//! `drift` on the test sources (issue 12 items 1 and 2, README "Device clock drift"): 10 simulated minutes per drift and flag on a TestClock, the stamps and push
//! times of the SPEC 3a table to the ns, the sine sampled at the device's instants, the video
//! frame numbers, the device clock provided with `use-stream-clock`, the limits, and changes of
//! drift and flags while PLAYING.
//!
//! Expected values are computed here from the model with exact integer arithmetic: with a drift
//! of `ppm`, unit `n` of a capture starting at 0 is captured at `⌊n·10¹⁵ / (R·(10⁶ + ppm))⌋` ns.

mod common;

use std::f64::consts::TAU;

use common::*;
use gst::glib;
use gst::prelude::*;
use gstpushsource::PushSourceFlags;

const RATE: u64 = 48_000;
const SAMPLES_PER_BUFFER: u64 = 4_800;
const CAPS_F32: &str = "audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=1";
const FREQ: f64 = 440.0;
const VOLUME: f64 = 0.8;
const TEN_MINUTES: u64 = 600;

/// The rate in units per pipeline second as the exact fraction `(num, den)`.
fn speed(rate: u64, ppm: i64) -> (u128, u128) {
    (rate as u128 * (1_000_000 + ppm) as u128, 1_000_000)
}

/// Time of `n` units at `num/den` units per second, in ns, rounded down.
fn time_of(n: u64, (num, den): (u128, u128)) -> gst::ClockTime {
    gst::ClockTime::from_nseconds((n as u128 * den * 1_000_000_000 / num) as u64)
}

/// The sine's value at `n` units on a line of `num/den` units per second from time 0, from the
/// exact fractional number of cycles `freq·n·den/num`.
fn sine_at(n: u64, (num, den): (u128, u128)) -> f64 {
    let cycles_num = FREQ as u128 * n as u128 * den;
    let fraction = (cycles_num % num) as f64 / num as f64;
    VOLUME * (TAU * fraction).sin()
}

fn f32_samples(buffer: &gst::BufferRef) -> Vec<f32> {
    let map = buffer.map_readable().unwrap();
    map.as_slice()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn audio_harness(ppm: f64, flags: PushSourceFlags) -> (gst_check::Harness, gst::Bus) {
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .property("samplesperbuffer", SAMPLES_PER_BUFFER as i32)
        .property("drift", ppm)
        .property("push-source-flags", flags)
        .build()
        .unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let mut harness = gst_check::Harness::with_element(&element, None, Some("src"));
    harness.set_sink_caps_str(CAPS_F32);
    harness.use_testclock();
    (harness, bus)
}

/// Releases the source's next clock wait, which must be at `push_at`, and returns its buffer.
fn pull_at(harness: &mut gst_check::Harness, push_at: gst::ClockTime, what: &str) -> gst::Buffer {
    let testclock = harness.testclock().unwrap();
    assert_eq!(
        next_pending_wait(&testclock).time(),
        push_at,
        "{what}: push time"
    );
    harness.crank_single_clock_wait().expect("a pending wait");
    harness.pull().expect("a buffer")
}

/// Checks the sine in `buffer` (units from `first`) against the signal on the line `speed`
/// (every 61st sample and the last: a mismatch anywhere in the phase shows in all of them).
fn assert_sine(buffer: &gst::BufferRef, first: u64, speed: (u128, u128), what: &str) {
    let samples = f32_samples(buffer);
    for i in (0..samples.len()).step_by(61).chain([samples.len() - 1]) {
        let n = first + i as u64;
        let expected = sine_at(n, speed);
        assert!(
            (samples[i] as f64 - expected).abs() < 1e-6,
            "{what}: sample {n} is {} where the signal is {expected}",
            samples[i]
        );
    }
}

/// 10 simulated minutes of `pushaudiotestsrc` with `ppm` and `flags`: each buffer is pushed when
/// its last sample is captured (`c(end)` on the pipeline clock), stamped per the table, holds
/// the signal at its samples' times, and the pipeline second 600 starts exactly at sample
/// `600·R·k` (or `600·R` with `internal-rm`).
fn ten_minutes_of_audio(ppm: i64, flags: PushSourceFlags) {
    let what = format!("drift {ppm}, {flags:?}");
    let (mut harness, _bus) = audio_harness(ppm as f64, flags);
    harness.play();
    let source_matches = flags.contains(PushSourceFlags::INTERNAL_RM);
    // Units per second of pipeline time: the capture pace and the signal's grid.
    let capture = if source_matches {
        speed(RATE, 0)
    } else {
        speed(RATE, ppm)
    };
    let stamps = if flags.contains(PushSourceFlags::PRIVATE_CLOCK) && !source_matches {
        speed(RATE, 0)
    } else {
        capture
    };
    let end = gst::ClockTime::from_seconds(TEN_MINUTES);
    let mut first = 0;
    while time_of(first, capture) < end {
        let last = first + SAMPLES_PER_BUFFER;
        let buffer = pull_at(&mut harness, time_of(last, capture), &what);
        assert_eq!(
            buffer.pts(),
            Some(time_of(first, stamps)),
            "{what}: pts of {first}"
        );
        assert_eq!(
            buffer.duration(),
            Some(time_of(last, stamps) - time_of(first, stamps)),
            "{what}: duration at {first}"
        );
        assert_eq!((buffer.offset(), buffer.offset_end()), (first, last));
        if first > 0 {
            assert!(
                !buffer.flags().contains(gst::BufferFlags::DISCONT),
                "{what}"
            );
        }
        assert_sine(&buffer, first, capture, &what);
        first = last;
    }
    let expected_units = (TEN_MINUTES as u128 * capture.0 / capture.1) as u64;
    assert_eq!(
        first, expected_units,
        "{what}: R·k units per pipeline second"
    );
    assert_eq!(
        time_of(first, capture),
        end,
        "{what}: exactly on the second"
    );
}

#[test]
fn no_flag_captures_r_times_k_stamped_on_the_pipeline_clock() {
    for ppm in [1000, -1000] {
        ten_minutes_of_audio(ppm, PushSourceFlags::empty());
    }
}

#[test]
fn private_clock_captures_r_times_k_stamped_on_the_device_clock() {
    for ppm in [1000, -1000] {
        ten_minutes_of_audio(ppm, PushSourceFlags::PRIVATE_CLOCK);
    }
}

#[test]
fn internal_rm_delivers_r_per_pipeline_second_of_the_nominal_signal() {
    for ppm in [1000, -1000] {
        ten_minutes_of_audio(ppm, PushSourceFlags::INTERNAL_RM);
    }
}

#[test]
fn drift_zero_is_the_nominal_grid_under_every_flag() {
    for flags in [
        PushSourceFlags::empty(),
        PushSourceFlags::PRIVATE_CLOCK,
        PushSourceFlags::INTERNAL_RM,
        PushSourceFlags::USE_STREAM_CLOCK,
        PushSourceFlags::USE_CLOCK_CHAIN,
    ] {
        let what = format!("drift 0, {flags:?}");
        let (mut harness, _bus) = audio_harness(0.0, flags);
        harness.play();
        for k in 0..20 {
            let first = k * SAMPLES_PER_BUFFER;
            let buffer = pull_at(&mut harness, ms(100) * (k + 1), &what);
            assert_eq!(buffer.pts(), Some(ms(100) * k), "{what}");
            assert_eq!(buffer.duration(), Some(ms(100)), "{what}");
            assert_sine(&buffer, first, speed(RATE, 0), &what);
        }
    }
}

fn video_harness(ppm: f64, flags: PushSourceFlags) -> gst_check::Harness {
    init();
    let element = gst::ElementFactory::make("pushvideotestsrc")
        .property("drift", ppm)
        .property("push-source-flags", flags)
        .build()
        .unwrap();
    let mut harness = gst_check::Harness::with_element(&element, None, Some("src"));
    harness.set_sink_caps_str("video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1");
    harness.use_testclock();
    harness
}

/// 10 simulated minutes of `pushvideotestsrc` at 30 fps: frame `n` shows number `n`, is pushed
/// once captured at `c(n+1)`, stamped per the table.
fn ten_minutes_of_video(ppm: i64, flags: PushSourceFlags) {
    let what = format!("video, drift {ppm}, {flags:?}");
    let mut harness = video_harness(ppm as f64, flags);
    harness.play();
    let caps =
        gst::Caps::from_str_like("video/x-raw,format=GRAY8,width=16,height=16,framerate=30/1");
    let source_matches = flags.contains(PushSourceFlags::INTERNAL_RM);
    let capture = if source_matches {
        speed(30, 0)
    } else {
        speed(30, ppm)
    };
    let stamps = if flags.contains(PushSourceFlags::PRIVATE_CLOCK) && !source_matches {
        speed(30, 0)
    } else {
        capture
    };
    let end = gst::ClockTime::from_seconds(TEN_MINUTES);
    let mut n = 0;
    while time_of(n, capture) < end {
        let buffer = pull_at(&mut harness, time_of(n + 1, capture), &what);
        assert_eq!(buffer.pts(), Some(time_of(n, stamps)), "{what}: frame {n}");
        assert_eq!(
            buffer.duration(),
            Some(time_of(n + 1, stamps) - time_of(n, stamps)),
            "{what}: frame {n}"
        );
        assert_eq!(buffer.offset(), n);
        if n % 97 == 0 {
            assert_eq!(
                decode_frame_number(&buffer, &caps),
                Some(n as u32),
                "{what}: frame {n} shows its number"
            );
        }
        n += 1;
    }
    assert_eq!(
        n as u128,
        TEN_MINUTES as u128 * capture.0 / capture.1,
        "{what}: frames per pipeline second"
    );
}

trait CapsFromStr {
    fn from_str_like(caps: &str) -> gst::Caps;
}

impl CapsFromStr for gst::Caps {
    fn from_str_like(caps: &str) -> gst::Caps {
        caps.parse().unwrap()
    }
}

#[test]
fn video_frames_and_capture_times_under_drift() {
    for ppm in [1000, -1000] {
        for flags in [
            PushSourceFlags::empty(),
            PushSourceFlags::PRIVATE_CLOCK,
            PushSourceFlags::INTERNAL_RM,
        ] {
            ten_minutes_of_video(ppm, flags);
        }
    }
}

#[test]
fn drift_is_a_ranged_double_on_both_sources() {
    init();
    for factory in ["pushaudiotestsrc", "pushvideotestsrc"] {
        let element = gst::ElementFactory::make(factory).build().unwrap();
        let pspec = element.find_property("drift").expect("a drift property");
        let double = pspec.downcast_ref::<glib::ParamSpecDouble>().unwrap();
        assert_eq!(
            (double.minimum(), double.maximum(), double.default_value()),
            (-100_000.0, 100_000.0, 0.0),
            "{factory}"
        );
        assert!(pspec.flags().contains(gst::PARAM_FLAG_MUTABLE_PLAYING));
        for limit in [100_000.0, -100_000.0] {
            element.set_property("drift", limit);
            assert_eq!(element.property::<f64>("drift"), limit, "{factory}");
        }
    }
    // Beyond the range the ParamSpec refuses the value (GObject warns and keeps the old one).
    let output = gst_launch(&[
        "pushaudiotestsrc",
        "is-live=false",
        "num-buffers=1",
        "drift=200000",
        "!",
        "fakesink",
    ]);
    let text = output_text(&output);
    assert!(output.status.success(), "still runs\n{text}");
    assert!(
        text.contains("out of range for property 'drift'"),
        "the user is told why\n{text}"
    );
}

/// Drift at its limits: the device runs at 0.9 and 1.1 times the pipeline clock's speed, and
/// the reported latency (one buffer in pipeline time) follows.
#[test]
fn drift_at_its_limits() {
    for ppm in [100_000, -100_000] {
        let what = format!("drift {ppm}");
        let (mut harness, _bus) = audio_harness(ppm as f64, PushSourceFlags::empty());
        harness.play();
        let capture = speed(RATE, ppm);
        for k in 0..50 {
            let first = k * SAMPLES_PER_BUFFER;
            let last = first + SAMPLES_PER_BUFFER;
            let buffer = pull_at(&mut harness, time_of(last, capture), &what);
            assert_eq!(buffer.pts(), Some(time_of(first, capture)), "{what}");
            assert_sine(&buffer, first, capture, &what);
        }
        let element = harness.element().unwrap();
        let buffer_ns =
            (SAMPLES_PER_BUFFER as u128 * 1_000_000_000 * capture.1).div_ceil(capture.0);
        assert_eq!(
            element.property::<u64>("latency") as u128,
            buffer_ns,
            "{what}"
        );
    }
}

/// A drift change while PLAYING takes effect from the next buffer's first sample: the capture
/// times and the signal go on from where they were (no jump, no DISCONT), at the new pace.
#[test]
fn drift_changes_while_playing_without_a_jump() {
    let (mut harness, bus) = audio_harness(0.0, PushSourceFlags::empty());
    harness.play();
    let element = harness.element().unwrap();
    let nominal = speed(RATE, 0);
    for k in 0..10 {
        pull_at(
            &mut harness,
            time_of((k + 1) * SAMPLES_PER_BUFFER, nominal),
            "before",
        );
    }
    drain_messages(&bus);
    // From sample 48 000 (1 s) on, 48 048 per second.
    element.set_property("drift", 1000.0);
    assert_eq!(element.property::<f64>("drift"), 1000.0);
    let switch = 10 * SAMPLES_PER_BUFFER;
    let fast = speed(RATE, 1000);
    let after = |n: u64| gst::ClockTime::SECOND + time_of(n - switch, fast);
    for k in 10..40 {
        let first = k * SAMPLES_PER_BUFFER;
        let last = first + SAMPLES_PER_BUFFER;
        let buffer = pull_at(&mut harness, after(last), "after");
        assert_eq!(buffer.pts(), Some(after(first)), "buffer {k}");
        assert!(!buffer.flags().contains(gst::BufferFlags::DISCONT));
        // The signal at 1 s + (n − 48 000)/48 048 s: its phase at 1 s is 440 whole cycles, so it
        // is the drifting line's sine from sample 48 000 on.
        let samples = f32_samples(&buffer);
        for (i, value) in samples.iter().enumerate().step_by(97) {
            let n = first + i as u64;
            let expected = sine_at(n - switch, fast);
            assert!((*value as f64 - expected).abs() < 1e-6, "sample {n}");
        }
    }
    let latency_messages = messages_of(&drain_messages(&bus), gst::MessageType::Latency);
    assert_eq!(
        latency_messages.len(),
        1,
        "a buffer's duration in pipeline time changed: LATENCY"
    );
}

/// Flags that change what the stamps are (`private-clock`, `internal-rm`, `use-stream-clock`)
/// take effect at the next buffer while PLAYING; it is a DISCONT when its stamp jumps (between the
/// device clock and the pipeline clock), and none when the stamps go on (a pace change).
#[test]
fn flags_change_the_stamps_from_the_next_buffer() {
    let (mut harness, bus) = audio_harness(1000.0, PushSourceFlags::empty());
    harness.play();
    let element = harness.element().unwrap();
    let fast = speed(RATE, 1000);
    let nominal = speed(RATE, 0);
    let per_buffer = SAMPLES_PER_BUFFER;
    for k in 0..10 {
        pull_at(&mut harness, time_of((k + 1) * per_buffer, fast), "no flag");
    }
    // private-clock: the same capture times, stamps on the device clock: a jump from the capture
    // time of sample 48 000 (999 000 999 ns) to its device time (1 s).
    element.set_property("push-source-flags", PushSourceFlags::PRIVATE_CLOCK);
    let buffer = pull_at(
        &mut harness,
        time_of(11 * per_buffer, fast),
        "private-clock",
    );
    assert_eq!(buffer.pts(), Some(gst::ClockTime::SECOND));
    assert!(buffer.flags().contains(gst::BufferFlags::DISCONT));
    let buffer = pull_at(
        &mut harness,
        time_of(12 * per_buffer, fast),
        "private-clock",
    );
    assert_eq!(buffer.pts(), Some(time_of(11 * per_buffer, nominal)));
    assert!(!buffer.flags().contains(gst::BufferFlags::DISCONT));
    // internal-rm: from sample 57 600 on, R per pipeline second from its capture time, stamps
    // on the pipeline clock again: a jump back.
    element.set_property("push-source-flags", PushSourceFlags::INTERNAL_RM);
    let switch_time = time_of(12 * per_buffer, fast);
    let buffer = pull_at(&mut harness, switch_time + ms(100), "internal-rm");
    assert_eq!(buffer.pts(), Some(switch_time));
    assert!(buffer.flags().contains(gst::BufferFlags::DISCONT));
    // Back to no flag: the stamps go on at R·k from where they are, no DISCONT.
    element.set_property("push-source-flags", PushSourceFlags::empty());
    let back = switch_time + ms(100);
    let buffer = pull_at(
        &mut harness,
        back + time_of(per_buffer, fast),
        "no flag again",
    );
    assert_eq!(buffer.pts(), Some(back));
    assert!(!buffer.flags().contains(gst::BufferFlags::DISCONT));
    assert!(
        warnings(&drain_messages(&bus)).is_empty(),
        "no flag change is refused while playing"
    );
}

/// `use-stream-clock` in a pipeline: the pipeline selects the source's device clock, which runs
/// k times as fast as the system clock (a TestClock here); the source captures R per second of
/// it, stamped on it; stopping the pipeline while the source waits on it returns at once.
#[test]
fn use_stream_clock_runs_the_pipeline_on_the_device_clock() {
    init();
    let start = gst::ClockTime::from_seconds(1000);
    let system = gst_check::TestClock::with_start_time(start);
    // The only test here that uses the system clock: the harnesses run on their own TestClocks.
    gst::SystemClock::set_default(Some(&system));
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc name=src drift=1000 push-source-flags=use-stream-clock \
         samplesperbuffer={SAMPLES_PER_BUFFER} ! {CAPS_F32} ! appsink name=sink sync=false"
    ));
    let source = pipeline.by_name("src").unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let clock = pipeline.clock().expect("a pipeline clock");
    assert_eq!(
        Some(&clock),
        source.provide_clock().as_ref(),
        "the source's clock"
    );
    assert_ne!(clock, system.clone().upcast::<gst::Clock>());
    let base_time = pipeline.base_time().unwrap();
    assert_eq!(
        base_time, start,
        "the device clock starts at the system clock's time"
    );

    let nominal = speed(RATE, 0);
    for k in 0..30u64 {
        let first = k * SAMPLES_PER_BUFFER;
        let last = first + SAMPLES_PER_BUFFER;
        // Sample `last` is captured at device time base + last/R, reached on the system clock
        // after (last/R)/k (rounded up).
        let device_due = time_of(last, nominal);
        let system_due = start
            + gst::ClockTime::from_nseconds(
                (device_due.nseconds() as u128 * 1000).div_ceil(1001) as u64
            );
        let id = next_pending_wait(&system);
        assert_eq!(
            id.time(),
            system_due,
            "buffer {k} waits on the device clock"
        );
        system.set_time(system_due);
        system.process_next_clock_id().expect("the wait is due");
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(HANG_GUARD.as_secs()))
            .expect("a buffer");
        let buffer = sample.buffer().unwrap();
        assert_eq!(buffer.pts(), Some(time_of(first, nominal)), "buffer {k}");
        assert_sine(buffer, first, nominal, "use-stream-clock");
        // The device clock ran 1.001 times the system clock's elapsed time.
        let elapsed = system_due - start;
        assert_eq!(
            clock.time(),
            start
                + gst::ClockTime::from_nseconds((elapsed.nseconds() as u128 * 1001 / 1000) as u64)
        );
    }
    // The source now waits on the device clock: stopping returns at once (the system-clock wait
    // standing for it is unscheduled with it).
    await_pending_wait(&system);
    let stopping = pipeline.clone();
    let result = guarded("stopping while waiting on the device clock", move || {
        stopping.set_state(gst::State::Null)
    });
    assert!(result.is_ok());
    gst::SystemClock::set_default(None::<&gst::Clock>);
}

/// The device clock on its own: a wait unscheduled from another thread returns at once, an
/// asynchronous wait fires when the system clock reaches the converted time, and a drift change
/// keeps the device time continuous.
#[test]
fn the_device_clock_waits_and_unschedules_through_the_system_clock() {
    init();
    let system = gst_check::TestClock::new();
    let clock = gstpushsource::pushtestsrc::device_clock::DeviceClock::on_reference(
        system.upcast_ref(),
        gstpushsource::pushtestsrc::Drift::from_ppm(-100_000.0),
    );
    let clock: gst::Clock = clock.upcast();
    assert_eq!(clock.time(), gst::ClockTime::ZERO);
    system.set_time(ms(1000));
    assert_eq!(clock.time(), ms(900));

    // Synchronous, unscheduled while waiting.
    let id = clock.new_single_shot_id(ms(1800));
    let waiting = id.clone();
    let waiter = std::thread::spawn(move || waiting.wait().0);
    let inner = next_pending_wait(&system);
    assert_eq!(inner.time(), ms(2000), "device 1.8 s is system 2 s at 0.9");
    id.unschedule();
    assert_eq!(
        guarded("an unscheduled wait", move || waiter.join().unwrap()),
        Err(gst::ClockError::Unscheduled)
    );

    // Asynchronous, fired by the system clock.
    let (sender, receiver) = std::sync::mpsc::channel();
    let id = clock.new_single_shot_id(ms(1350));
    id.wait_async(move |_, time, _| {
        let _ = sender.send(time);
    })
    .unwrap();
    let inner = next_pending_wait(&system);
    assert_eq!(inner.time(), ms(1500));
    system.set_time(ms(1500));
    system.process_next_clock_id().unwrap();
    assert_eq!(receiver.recv_timeout(HANG_GUARD).unwrap(), Some(ms(1350)));

    // A drift change: no jump, the new speed from now on.
    clock
        .downcast_ref::<gstpushsource::pushtestsrc::device_clock::DeviceClock>()
        .unwrap()
        .set_drift(gstpushsource::pushtestsrc::Drift::from_ppm(100_000.0));
    assert_eq!(clock.time(), ms(1350));
    system.set_time(ms(2500));
    assert_eq!(clock.time(), ms(2450));
}

/// `use-stream-clock` set or cleared on a running source: it says so as GStreamer's clock
/// providers do (the element flag, CLOCK_PROVIDE, CLOCK_LOST naming the clock), so that the
/// pipeline selects a clock again at its next PAUSED to PLAYING.
#[test]
fn use_stream_clock_while_playing_provides_and_loses_the_clock() {
    let (mut harness, bus) = audio_harness(1000.0, PushSourceFlags::empty());
    harness.play();
    pull_at(
        &mut harness,
        time_of(SAMPLES_PER_BUFFER, speed(RATE, 1000)),
        "before",
    );
    let element = harness.element().unwrap();
    assert!(element.provide_clock().is_none());
    assert!(
        !element
            .element_flags()
            .contains(gst::ElementFlags::PROVIDE_CLOCK)
    );
    drain_messages(&bus);

    element.set_property("push-source-flags", PushSourceFlags::USE_STREAM_CLOCK);
    let clock = element.provide_clock().expect("the device clock");
    assert!(
        element
            .element_flags()
            .contains(gst::ElementFlags::PROVIDE_CLOCK)
    );
    let provided: Vec<_> = drain_messages(&bus)
        .into_iter()
        .filter_map(|m| match m.view() {
            gst::MessageView::ClockProvide(p) => Some((p.clock(), p.is_ready())),
            _ => None,
        })
        .collect();
    assert_eq!(provided, [(Some(clock.clone()), true)]);

    element.set_property("push-source-flags", PushSourceFlags::empty());
    assert!(element.provide_clock().is_none());
    assert!(
        !element
            .element_flags()
            .contains(gst::ElementFlags::PROVIDE_CLOCK)
    );
    let lost: Vec<_> = drain_messages(&bus)
        .into_iter()
        .filter_map(|m| match m.view() {
            gst::MessageView::ClockLost(l) => Some(l.clock()),
            _ => None,
        })
        .collect();
    assert_eq!(lost, [Some(clock)]);
}
