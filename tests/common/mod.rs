//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use gst::glib;
use gst::prelude::*;

/// Guards against a hang only: no result depends on it.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().unwrap();
        gstpushsource::plugin_register_static().expect("register pushsource");
    });
}

pub fn ms(value: u64) -> gst::ClockTime {
    gst::ClockTime::from_mseconds(value)
}

/// Caps that make one 480-sample buffer last exactly 10 ms.
pub const CAPS_48K_MONO: &str = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1";

/// A harness around a `pushaudiotestsrc` with the given properties, negotiated to
/// [`CAPS_48K_MONO`], using the harness's TestClock, with a bus to read its messages.
pub fn source_harness(properties: &[(&str, glib::Value)]) -> (gst_check::Harness, gst::Bus) {
    init();
    let element = gst::ElementFactory::make("pushaudiotestsrc")
        .property("samplesperbuffer", 480i32)
        .build()
        .unwrap();
    for (name, value) in properties {
        element.set_property_from_value(name, value);
    }
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    let mut harness = gst_check::Harness::with_element(&element, None, Some("src"));
    harness.set_sink_caps_str(CAPS_48K_MONO);
    harness.use_testclock();
    (harness, bus)
}

/// Waits (within the hang guard) until the clock has a pending wait.
pub fn await_pending_wait(testclock: &gst_check::TestClock) {
    let (found, _) =
        testclock.timed_wait_for_multiple_pending_ids(1, HANG_GUARD.as_millis() as u32);
    assert!(found, "a clock wait within the hang guard");
}

/// The next pending wait, waiting for one within the hang guard.
pub fn next_pending_wait(testclock: &gst_check::TestClock) -> gst::ClockId {
    await_pending_wait(testclock);
    testclock.wait_for_next_pending_id()
}

/// Advances the clock to the next pending wait plus `lateness` (a wake-up jitter) and releases
/// it; returns the wait's time.
// `TestClock::process_id` would unref an id it only borrows (gstreamer-check 0.25 with GStreamer
// 1.22), so the id is released through `process_next_clock_id`.
pub fn release_next_wait_late(
    testclock: &gst_check::TestClock,
    lateness: gst::ClockTime,
) -> gst::ClockTime {
    let time = next_pending_wait(testclock).time();
    if time + lateness > testclock.time() {
        testclock.set_time(time + lateness);
    }
    testclock
        .process_next_clock_id()
        .expect("the pending wait is due");
    time
}

pub fn release_next_wait(testclock: &gst_check::TestClock) -> gst::ClockTime {
    release_next_wait_late(testclock, gst::ClockTime::ZERO)
}

/// The next element message named `name` on `bus` (an ERROR on the way fails the test).
pub fn await_element_message(bus: &gst::Bus, name: &str) -> gst::Structure {
    loop {
        let message = bus
            .timed_pop(gst::ClockTime::from_seconds(HANG_GUARD.as_secs()))
            .unwrap_or_else(|| panic!("a {name} message"));
        match message.view() {
            gst::MessageView::Element(element) => {
                if let Some(structure) = element.structure().filter(|s| s.name() == name) {
                    return structure.to_owned();
                }
            }
            gst::MessageView::Error(error) => {
                panic!("error: {} ({:?})", error.error(), error.debug())
            }
            _ => {}
        }
    }
}

/// Lets the live source's next clock wait complete and returns the buffer it pushes.
pub fn crank_and_pull(harness: &mut gst_check::Harness) -> gst::Buffer {
    await_pending_wait(&harness.testclock().unwrap());
    harness
        .crank_single_clock_wait()
        .expect("a pending clock wait");
    harness.pull().expect("a buffer")
}

/// The segment the harness received last (sticky on its sink pad).
pub fn current_segment(harness: &gst_check::Harness) -> gst::FormattedSegment<gst::ClockTime> {
    let event = harness
        .sinkpad()
        .unwrap()
        .sticky_event::<gst::event::Segment>(0)
        .expect("a segment");
    event
        .segment()
        .downcast_ref::<gst::ClockTime>()
        .unwrap()
        .clone()
}

pub fn drain_messages(bus: &gst::Bus) -> Vec<gst::Message> {
    std::iter::from_fn(|| bus.pop()).collect()
}

/// The messages of one type, in order.
pub fn messages_of(messages: &[gst::Message], kind: gst::MessageType) -> Vec<gst::Message> {
    messages
        .iter()
        .filter(|m| m.type_() == kind)
        .cloned()
        .collect()
}

pub fn warnings(messages: &[gst::Message]) -> Vec<gst::Message> {
    messages_of(messages, gst::MessageType::Warning)
}

/// The least-squares sine of `freq` Hz through `points` (time in s, value): `(a, b)` of
/// `a·sin(2π·freq·t) + b·cos(2π·freq·t)`.
pub fn fit_sine(points: impl IntoIterator<Item = (f64, f64)>, freq: f64) -> (f64, f64) {
    let (mut ss, mut sc, mut cc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (time, value) in points {
        let (sin, cos) = (std::f64::consts::TAU * freq * time).sin_cos();
        ss += sin * sin;
        sc += sin * cos;
        cc += cos * cos;
        xs += value * sin;
        xc += value * cos;
    }
    let determinant = ss * cc - sc * sc;
    (
        (xs * cc - xc * sc) / determinant,
        (xc * ss - xs * sc) / determinant,
    )
}

/// Decodes, window by window, how far a sine of `freq` Hz in the content lags the time each
/// frame stands for: a frame standing for `t` should hold `A·sin(2π·freq·t)`; a window's sums
/// are then `N·A/2·(sin, cos)(2π·freq·δ)`, and `δ` is the window's offset in seconds.
pub struct PhaseDecoder {
    freq: f64,
    window: usize,
    /// The windows `worst` must find per second of its span, less `slack`.
    windows_per_second: f64,
    slack: f64,
    in_phase: f64,
    quadrature: f64,
    count: usize,
    start: f64,
    /// (time the window's first frame stands for, offset δ in s)
    pub offsets: Vec<(f64, f64)>,
}

impl PhaseDecoder {
    /// `worst` insists on at least `windows_per_second · span − slack` windows in its span.
    pub fn new(freq: f64, window: usize, windows_per_second: f64, slack: f64) -> Self {
        Self {
            freq,
            window,
            windows_per_second,
            slack,
            in_phase: 0.0,
            quadrature: 0.0,
            count: 0,
            start: 0.0,
            offsets: Vec::new(),
        }
    }

    /// A frame of `value` standing for time `time` (s).
    pub fn push(&mut self, time: f64, value: f64) {
        if self.count == 0 {
            self.start = time;
        }
        let theta = std::f64::consts::TAU * self.freq * time;
        self.in_phase += value * theta.cos();
        self.quadrature += value * theta.sin();
        self.count += 1;
        if self.count == self.window {
            let delta = self.in_phase.atan2(self.quadrature) / (std::f64::consts::TAU * self.freq);
            self.offsets.push((self.start, delta));
            self.cut();
        }
    }

    /// Forgets a partial window (across a restart).
    pub fn cut(&mut self) {
        (self.in_phase, self.quadrature, self.count) = (0.0, 0.0, 0);
    }

    fn deltas_in(&self, from: f64, to: f64) -> Vec<f64> {
        self.offsets
            .iter()
            .filter(|(time, _)| (from..to).contains(time))
            .map(|(_, delta)| *delta)
            .collect()
    }

    /// Largest |δ| of the windows starting in `[from, to)`.
    pub fn worst(&self, from: f64, to: f64) -> f64 {
        let deltas = self.deltas_in(from, to);
        assert!(
            deltas.len() as f64 >= (to - from) * self.windows_per_second - self.slack,
            "windows in [{from}, {to}): {}",
            deltas.len()
        );
        deltas
            .into_iter()
            .fold(0.0, |worst, delta| worst.max(delta.abs()))
    }

    /// Largest jump of δ off its course between consecutive windows starting in `[from, to)`:
    /// the second difference (the course itself moves by the drift until the loop locks).
    pub fn largest_step(&self, from: f64, to: f64) -> f64 {
        self.deltas_in(from, to)
            .windows(3)
            .fold(0.0, |worst, three| {
                worst.max((three[2] - 2.0 * three[1] + three[0]).abs())
            })
    }

    /// δ of the window holding the frame standing for `time`, if it is within `window_seconds`
    /// of that window's start.
    pub fn at(&self, time: f64, window_seconds: f64) -> Option<f64> {
        let index = self.offsets.partition_point(|(start, _)| *start <= time);
        let (start, delta) = *self.offsets.get(index.checked_sub(1)?)?;
        (time - start < window_seconds).then_some(delta)
    }
}

/// The structures of the element messages named `name` among `messages`, in order.
pub fn element_messages(messages: &[gst::Message], name: &str) -> Vec<gst::Structure> {
    messages
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

/// A pipeline from a gst-launch description, with the plugin registered.
pub fn pipeline(description: &str) -> gst::Pipeline {
    init();
    gst::parse::launch(description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap()
}

/// What went through a pad, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    FlushStart,
    FlushStop,
    Segment(gst::FormattedSegment<gst::ClockTime>),
    Buffer {
        pts: gst::ClockTime,
        duration: gst::ClockTime,
        offset: u64,
        discont: bool,
    },
    Eos,
}

/// Records buffers and events that reach `pad`, and signals each one on a channel.
pub struct Recorder {
    pub items: Arc<Mutex<Vec<Item>>>,
    pub receiver: mpsc::Receiver<Item>,
}

impl Recorder {
    pub fn attach(pad: &gst::Pad) -> Self {
        let items = Arc::new(Mutex::new(Vec::new()));
        let (sender, receiver) = mpsc::channel();
        let store = items.clone();
        let sender = Mutex::new(sender);
        pad.add_probe(
            gst::PadProbeType::BUFFER
                | gst::PadProbeType::EVENT_DOWNSTREAM
                | gst::PadProbeType::EVENT_FLUSH,
            move |_pad, info| {
                let item = match &info.data {
                    Some(gst::PadProbeData::Buffer(buffer)) => Some(Item::Buffer {
                        pts: buffer.pts().unwrap(),
                        duration: buffer.duration().unwrap(),
                        offset: buffer.offset(),
                        discont: buffer.flags().contains(gst::BufferFlags::DISCONT),
                    }),
                    Some(gst::PadProbeData::Event(event)) => match event.view() {
                        gst::EventView::FlushStart(_) => Some(Item::FlushStart),
                        gst::EventView::FlushStop(_) => Some(Item::FlushStop),
                        gst::EventView::Eos(_) => Some(Item::Eos),
                        gst::EventView::Segment(segment) => Some(Item::Segment(
                            segment
                                .segment()
                                .downcast_ref::<gst::ClockTime>()
                                .unwrap()
                                .clone(),
                        )),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(item) = item {
                    store.lock().unwrap().push(item.clone());
                    let _ = sender.lock().unwrap().send(item);
                }
                gst::PadProbeReturn::Ok
            },
        );
        Self { items, receiver }
    }

    /// Records at the sink pad of `pipeline`'s element named `sink`.
    pub fn at_sink(pipeline: &gst::Pipeline) -> Self {
        Self::at(pipeline, "sink")
    }

    /// Records at the sink pad of `pipeline`'s element named `name`.
    pub fn at(pipeline: &gst::Pipeline, name: &str) -> Self {
        Self::attach(&pipeline.by_name(name).unwrap().static_pad("sink").unwrap())
    }

    /// Waits for the next item (buffers and events alike).
    pub fn next(&self) -> Item {
        self.receiver
            .recv_timeout(HANG_GUARD)
            .expect("an item within the hang guard")
    }

    pub fn next_buffer(&self) -> Item {
        loop {
            let item = self.next();
            if matches!(item, Item::Buffer { .. }) {
                return item;
            }
        }
    }

    pub fn take(&self) -> Vec<Item> {
        std::mem::take(&mut *self.items.lock().unwrap())
    }
}

/// Directory holding an up-to-date `libgstpushsource.so` for the profile the tests were built
/// with. `cargo test` builds the library as an rlib only, so the cdylib is built here, once.
pub fn plugin_dir() -> PathBuf {
    static BUILT: Once = Once::new();
    // target/<profile>/deps/<test binary>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    BUILT.call_once(|| {
        let target_dir = dir.parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--lib", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building libgstpushsource.so failed");
    });
    assert!(
        dir.join("libgstpushsource.so").exists(),
        "libgstpushsource.so not found in {}",
        dir.display()
    );
    dir
}

/// Runs `gst-launch-1.0` with the plugin from this build, without fatal warnings (the point of
/// some runs is to see GLib's warning about a refused property value).
pub fn gst_launch(args: &[&str]) -> Output {
    Command::new("gst-launch-1.0")
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env_remove("G_DEBUG")
        .output()
        .expect("gst-launch-1.0 runs (package gstreamer1.0-tools)")
}

/// What `gst-inspect-1.0 args` prints with the plugin from this build; it must succeed.
pub fn gst_inspect(args: &[&str]) -> String {
    let output = Command::new("gst-inspect-1.0")
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .expect("gst-inspect-1.0 runs (package gstreamer1.0-tools)");
    assert!(output.status.success(), "gst-inspect-1.0 {args:?}");
    String::from_utf8(output.stdout).unwrap()
}

pub fn run_pipeline_to_eos(pipeline: &gst::Element) {
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let message = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("EOS or error within the hang guard");
    if let gst::MessageView::Error(error) = message.view() {
        panic!("pipeline error: {} ({:?})", error.error(), error.debug());
    }
    pipeline.set_state(gst::State::Null).unwrap();
}

/// Reads the frame number `pushvideotestsrc` paints into a frame of `caps` (any format it
/// produces): 8 × 8 cells in the top left corner, each `min(width, height) / 8` pixels rounded
/// down to even and kept within 2..=16, read row by row; cells 0–31 are the low 32 bits of the
/// frame number (most significant first, white = 1), cells 32–63 the same bits inverted.
/// `None` when the check bits disagree (not a frame code).
pub fn decode_frame_number(buffer: &gst::BufferRef, caps: &gst::CapsRef) -> Option<u32> {
    use gst_video::prelude::*;
    let info = gst_video::VideoInfo::from_caps(caps).expect("video caps");
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).ok()?;
    let finfo = info.format_info();
    // Luma for YUV and grey, green for RGB: black and white differ in both.
    let component = if finfo.is_rgb() { 1 } else { 0 };
    let plane = finfo.plane()[component];
    let offset = finfo.poffset()[component] as usize;
    let pixel_stride = finfo.pixel_stride()[component] as usize;
    let stride = frame.plane_stride()[plane as usize] as usize;
    let data = frame.plane_data(plane).ok()?;
    let cell = (info.width().min(info.height()) / 8).clamp(2, 16) & !1;
    let bits: Vec<bool> = (0..64)
        .map(|index| {
            let (x, y) = ((index % 8) * cell + cell / 2, (index / 8) * cell + cell / 2);
            data[y as usize * stride + x as usize * pixel_stride + offset] > 128
        })
        .collect();
    let (number, check) = bits.split_at(32);
    if number
        .iter()
        .zip(check)
        .any(|(bit, inverted)| bit == inverted)
    {
        return None;
    }
    Some(number.iter().fold(0, |value, &bit| value << 1 | bit as u32))
}

/// Everything a command printed, stderr first.
pub fn output_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout)
}

/// Plays `<source> ! capsfilter ! fakesink` with `caps` set on the filter after linking, so that
/// the link succeeds and negotiation fails; returns the ERROR message's error and debug text.
pub fn negotiation_failure(source: &str, caps: &str) -> (glib::Error, String) {
    let pipeline = pipeline(&format!("{source} ! capsfilter name=filter ! fakesink"));
    let caps = caps.parse::<gst::Caps>().unwrap();
    pipeline
        .by_name("filter")
        .unwrap()
        .set_property("caps", caps);
    pipeline.set_state(gst::State::Playing).unwrap();
    let message = pipeline
        .bus()
        .unwrap()
        .timed_pop_filtered(gst::ClockTime::from_seconds(60), &[gst::MessageType::Error])
        .expect("an ERROR message");
    pipeline.set_state(gst::State::Null).unwrap();
    let gst::MessageView::Error(error) = message.view() else {
        unreachable!()
    };
    (error.error(), error.debug().unwrap_or_default().to_string())
}

/// Waits for the state within a generous bound: (result, current).
pub fn settle(
    pipeline: &gst::Pipeline,
) -> (
    Result<gst::StateChangeSuccess, gst::StateChangeError>,
    gst::State,
) {
    let (result, current, _) = pipeline.state(gst::ClockTime::from_seconds(10));
    (result, current)
}

/// A flushing seek from 0 to the end at `rate`: the rate change a live source refuses unless it
/// is 1.0.
pub fn rate_seek(rate: f64) -> gst::Event {
    gst::event::Seek::new(
        rate,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::ZERO,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    )
}

/// Runs `work` on a thread of its own and fails the test if it does not return within
/// [`HANG_GUARD`] (the thread is left behind: it deadlocked), instead of hanging.
pub fn guarded<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(HANG_GUARD) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: deadlocked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
    }
}
