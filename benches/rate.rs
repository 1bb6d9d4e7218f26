//! Cost of a rate change through `graphbin` (issue 5): the time from the request to the first
//! buffer rendered at the new rate, `graphbin`'s `set-rate` against what a user does with a
//! plain bin: a position query on the pipeline and a flushing seek to that position at the new
//! rate (SPEC section 3, rates item 2).
//!
//! One non-live source and a synchronized `fakesink` in each bin, each bin in a pipeline on the
//! system clock. Every round changes the rate (1.0 and 2.0 alternate) after the pipeline has
//! played a few buffers; the time runs from just before the request to the fakesink's `handoff`
//! of the first buffer whose segment carries the new rate. The two pipelines alternate, one
//! PLAYING at a time, in one process.
//!
//! The headline ratio is taken on that time less the first buffer's running time ("less
//! sync"): the synchronized sink waits that long on the clock once PLAYING again, and the wait
//! depends only on where the position falls in the source's buffers (a few µs for audio, up to
//! a frame for video). The request call alone is reported too.
//!
//! `cargo bench --bench rate` (see BENCHMARKS.md). Environment: `PUSHSOURCE_BENCH_ROUNDS`
//! (rate changes per pipeline, default 41), `PUSHSOURCE_BENCH_ONLY=audio` or `=video`.
//!
//! A benchmark, not a test: it panics when a rate change fails (refused, no segment at the new
//! rate, an ERROR on the bus), never because the ratio misses its target.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{median, minimum, ms, setting};
use gst::ClockTime;
use gst::prelude::*;

const DEFAULT_ROUNDS: usize = 41;
/// Buffers rendered at the current rate before each change, so that every change interrupts
/// a pipeline that is streaming, not one still settling from the change before.
const BUFFERS_BEFORE_CHANGE: usize = 3;
/// Only a guard against a hang: a rate change takes about a millisecond here.
const HANG_GUARD: Duration = Duration::from_secs(10);
/// The rates the rounds switch between.
const RATES: [f64; 2] = [1.0, 2.0];
const TARGET_RATIO: f64 = 1.05;

/// A buffer the fakesink rendered, as its `handoff` saw it.
struct Rendered {
    at: Instant,
    rate: f64,
    segment_start: Option<ClockTime>,
    /// The buffer's running time: how long the sink waited on the clock for it after the
    /// pipeline went back to PLAYING.
    running_time: Option<ClockTime>,
}

/// One timed rate change.
#[derive(Clone, Copy)]
struct Measurement {
    /// The rate changed to.
    rate: f64,
    /// From just before the request to the handoff of the first buffer at `rate`.
    total: Duration,
    /// The request call alone: `set-rate`, or the position query and the seek.
    call: Duration,
    /// `total` less the first buffer's running time, the sink's wait on the clock once the
    /// pipeline is PLAYING again (0 for audio, up to a frame for video, whose first frame is
    /// the first whole frame after the position).
    unsynced: Duration,
}

#[derive(Clone, Copy, PartialEq)]
enum Driver {
    /// `set-rate` on the graph bin.
    GraphBin,
    /// A position query and a flushing seek on the pipeline holding a plain bin.
    UserSeek,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::GraphBin => "graphbin set-rate",
            Driver::UserSeek => "bin + seek",
        }
    }
}

struct Candidate {
    driver: Driver,
    description: String,
    pipeline: gst::Pipeline,
    bin: gst::Element,
    rendered: mpsc::Receiver<Rendered>,
    rate: f64,
    measured: Vec<Measurement>,
}

impl Candidate {
    fn new(driver: Driver, branch: &str) -> Candidate {
        let bin = match driver {
            Driver::GraphBin => "graphbin",
            Driver::UserSeek => "bin",
        };
        let description = format!(
            "{bin}.( name=under_test {branch} ! fakesink name=sink sync=true \
             signal-handoffs=true )"
        );
        let element = gst::parse::launch(&description)
            .unwrap_or_else(|e| panic!("{description}: {e}"))
            .downcast::<gst::Bin>()
            .unwrap_or_else(|_| panic!("{description}: not a bin"));
        let sink = element.by_name("sink").expect("the fakesink is named");
        let (sender, rendered) = mpsc::channel();
        sink.connect("handoff", false, move |args| {
            let at = Instant::now();
            let pts = args
                .get(1)
                .and_then(|buffer| buffer.get::<gst::Buffer>().ok())
                .and_then(|buffer| buffer.pts());
            let segment = args
                .get(2)
                .and_then(|pad| pad.get::<gst::Pad>().ok())
                .and_then(|pad| pad.sticky_event::<gst::event::Segment>(0));
            if let Some(segment) = segment {
                let segment = segment.segment();
                let time_segment = segment.downcast_ref::<ClockTime>();
                let _ = sender.send(Rendered {
                    at,
                    rate: segment.rate(),
                    segment_start: time_segment.and_then(|segment| segment.start()),
                    running_time: time_segment
                        .zip(pts)
                        .and_then(|(segment, pts)| segment.to_running_time(pts)),
                });
            }
            None
        });
        let pipeline = gst::Pipeline::new();
        pipeline.add(&element).unwrap();
        Candidate {
            driver,
            description,
            pipeline,
            bin: element.upcast(),
            rendered,
            rate: RATES[0],
            measured: Vec::new(),
        }
    }

    /// Waits for the pipeline to reach `wanted`; returns the messages it posted meanwhile.
    fn wait_for_state(&self, wanted: gst::State, why: &str) -> Vec<gst::Message> {
        let (result, state, pending) = self.pipeline.state(ClockTime::from_seconds(10));
        let messages = self.check_bus();
        if result.is_err() || state != wanted {
            panic!(
                "{}: not {wanted:?} {why} within 10 s: {result:?}, {state:?} (pending \
                 {pending:?})",
                self.description
            );
        }
        messages
    }

    fn set_state(&self, state: gst::State) {
        if self.pipeline.set_state(state).is_err() {
            self.check_bus();
            panic!("{}: cannot go to {state:?}", self.description);
        }
        self.wait_for_state(state, "after set_state");
    }

    /// The messages on the bus; an ERROR stops the benchmark.
    fn check_bus(&self) -> Vec<gst::Message> {
        let bus = self.pipeline.bus().expect("a pipeline has a bus");
        let messages: Vec<gst::Message> = std::iter::from_fn(|| bus.pop()).collect();
        for message in &messages {
            if let gst::MessageView::Error(error) = message.view() {
                panic!(
                    "{}: ERROR from {}: {} ({:?})",
                    self.description,
                    error.src().map(|s| s.path_string()).unwrap_or_default(),
                    error.error(),
                    error.debug()
                );
            }
        }
        messages
    }

    /// The next rendered buffer whose segment has `rate`, skipping those at any other rate.
    fn next_rendered_at(&self, rate: f64, what: &str) -> Rendered {
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rendered.recv_timeout(left) {
                Ok(rendered) if rendered.rate == rate => return rendered,
                Ok(_) => continue,
                Err(_) => {
                    self.check_bus();
                    panic!(
                        "{}: no buffer rendered with a segment at rate {rate} within {:?} \
                         ({what})",
                        self.description, HANG_GUARD
                    );
                }
            }
        }
    }

    /// Asks for `rate` the candidate's way; returns when the request was made, how long the
    /// call took and, for the user's seek, the position it seeked to.
    fn request(&self, rate: f64) -> (Instant, Duration, Option<ClockTime>) {
        match self.driver {
            Driver::GraphBin => {
                let start = Instant::now();
                let changed = self.bin.emit_by_name::<bool>("set-rate", &[&rate]);
                if !changed {
                    self.check_bus();
                    panic!("{}: set-rate({rate}) returned FALSE", self.description);
                }
                (start, start.elapsed(), None)
            }
            Driver::UserSeek => {
                let start = Instant::now();
                let Some(position) = self.pipeline.query_position::<ClockTime>() else {
                    panic!("{}: the position query failed", self.description);
                };
                let seek = self.pipeline.seek(
                    rate,
                    gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                    gst::SeekType::Set,
                    position,
                    gst::SeekType::Set,
                    ClockTime::NONE,
                );
                let call = start.elapsed();
                if let Err(error) = seek {
                    self.check_bus();
                    panic!(
                        "{}: seek to rate {rate} at {position} refused: {error}",
                        self.description
                    );
                }
                (start, call, Some(position))
            }
        }
    }

    /// The position `graphbin` announced in its `rate-changed` message for `rate`.
    fn announced_position(&self, messages: &[gst::Message], rate: f64) -> ClockTime {
        let announced = messages.iter().find_map(|message| match message.view() {
            gst::MessageView::Element(element) => element
                .structure()
                .filter(|s| s.name() == "rate-changed" && s.get::<f64>("rate") == Ok(rate))
                .and_then(|s| s.get::<u64>("position").ok()),
            _ => None,
        });
        match announced {
            Some(position) => ClockTime::from_nseconds(position),
            None => panic!(
                "{}: no rate-changed message for rate {rate}",
                self.description
            ),
        }
    }

    /// One rate change in a playing pipeline: plays a few buffers, changes the rate, waits
    /// for the first buffer rendered at it and for PLAYING again. The pipeline is left
    /// PAUSED, so that the other candidate plays alone.
    fn change_rate_once(&mut self) -> Measurement {
        self.set_state(gst::State::Playing);
        while self.rendered.try_recv().is_ok() {}
        for _ in 0..BUFFERS_BEFORE_CHANGE {
            self.next_rendered_at(self.rate, "before the change");
        }
        let rate = if self.rate == RATES[0] {
            RATES[1]
        } else {
            RATES[0]
        };

        let (start, call, sought) = self.request(rate);
        let first = self.next_rendered_at(rate, "after the change");
        let total = first.at.saturating_duration_since(start);

        let messages = self.wait_for_state(gst::State::Playing, "after the rate change");
        let position = match sought {
            Some(position) => position,
            None => self.announced_position(&messages, rate),
        };
        if first.segment_start != Some(position) {
            panic!(
                "{}: the segment at rate {rate} starts at {:?}, not at the position {position}",
                self.description, first.segment_start
            );
        }
        if self.driver == Driver::GraphBin {
            let reported = self.bin.property::<f64>("rate");
            if reported != rate {
                panic!(
                    "{}: rate reads {reported} after set-rate({rate})",
                    self.description
                );
            }
        }
        self.rate = rate;
        self.set_state(gst::State::Paused);
        let sync_wait = Duration::from_nanos(first.running_time.map_or(0, ClockTime::nseconds));
        Measurement {
            rate,
            total,
            call,
            unsynced: total.saturating_sub(sync_wait),
        }
    }
}

impl Drop for Candidate {
    fn drop(&mut self) {
        // Also when a check panicked, so that GStreamer does not add its own complaint.
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn us(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Median, minimum and maximum of one figure over `measured`, in µs.
fn stats(measured: &[Measurement], figure: fn(&Measurement) -> Duration) -> (f64, f64, f64) {
    let values: Vec<Duration> = measured.iter().map(figure).collect();
    let max = values.iter().copied().max().unwrap_or_default();
    (us(median(&values)), us(minimum(&values)), us(max))
}

fn total(m: &Measurement) -> Duration {
    m.total
}

fn call(m: &Measurement) -> Duration {
    m.call
}

fn unsynced(m: &Measurement) -> Duration {
    m.unsynced
}

fn verdict(ratio: f64) -> &'static str {
    if ratio <= TARGET_RATIO {
        "meets"
    } else {
        "misses"
    }
}

fn compare(branch: &str, rounds: usize) {
    let mut candidates = [
        Candidate::new(Driver::GraphBin, branch),
        Candidate::new(Driver::UserSeek, branch),
    ];
    println!("\nrate change 1.0 <-> 2.0 in: {branch} ! fakesink sync=true, {rounds} rounds");
    for candidate in &candidates {
        println!(
            "  {}: pipeline.( {} )",
            candidate.driver.name(),
            candidate.description
        );
    }
    // Warm-up: negotiation, first allocation and one untimed change each (which also runs
    // every check once).
    for candidate in &mut candidates {
        candidate.set_state(gst::State::Paused);
        candidate.change_rate_once();
    }
    for round in 0..rounds {
        // Alternate which goes first, so that neither always follows the other's pause.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let measurement = candidates[index].change_rate_once();
            candidates[index].measured.push(measurement);
        }
    }
    for candidate in &candidates {
        candidate.set_state(gst::State::Null);
    }

    println!(
        "\n{:<18} {:>9} {:>14} {:>14} {:>14} {:>12} {:>12}",
        "µs", "changes", "total median", "total min", "total max", "call median", "less sync"
    );
    let directions = [
        ("all", None),
        ("to 2.0", Some(RATES[1])),
        ("to 1.0", Some(RATES[0])),
    ];
    for (direction, changed_to) in directions {
        for candidate in &candidates {
            let kept: Vec<Measurement> = candidate
                .measured
                .iter()
                .copied()
                .filter(|m| changed_to.is_none_or(|rate| m.rate == rate))
                .collect();
            if kept.is_empty() {
                continue;
            }
            let (median_total, min_total, max_total) = stats(&kept, total);
            println!(
                "{:<18} {:>9} {:>14.1} {:>14.1} {:>14.1} {:>12.1} {:>12.1}",
                candidate.driver.name(),
                direction,
                median_total,
                min_total,
                max_total,
                stats(&kept, call).0,
                stats(&kept, unsynced).0
            );
        }
    }
    for candidate in &candidates {
        let runs: Vec<String> = candidate
            .measured
            .iter()
            .map(|m| format!("{:.3}", ms(m.total)))
            .collect();
        println!(
            "{:<18} runs ms: {}",
            candidate.driver.name(),
            runs.join(" ")
        );
    }

    let [graph, user] = &candidates;
    let ratio_of = |figure: fn(&Measurement) -> Duration| {
        (
            stats(&graph.measured, figure).0 / stats(&user.measured, figure).0,
            stats(&graph.measured, figure).1 / stats(&user.measured, figure).1,
        )
    };
    // The headline leaves out the sink's wait on the clock for the first buffer: neither bin
    // chooses it (it is where the position falls in the source's buffer), and for video it is
    // up to a whole frame, which would make the medians flip between the two rates' modes.
    let (ratio, ratio_of_minimums) = ratio_of(unsynced);
    let (raw_ratio, _) = ratio_of(total);
    // Both pipelines change in the same direction in a round, one right after the other: a
    // round's ratio sees one machine load.
    let mut round_ratios: Vec<f64> = graph
        .measured
        .iter()
        .zip(&user.measured)
        .map(|(graph, user)| us(graph.unsynced) / us(user.unsynced))
        .collect();
    round_ratios.sort_by(f64::total_cmp);
    let median_round_ratio = round_ratios[round_ratios.len() / 2];
    println!(
        "ratio of medians (graphbin / bin + seek), less the sink's clock wait: {ratio:.3} ({} \
         the target <= {TARGET_RATIO})",
        verdict(ratio)
    );
    println!(
        "  ratio of minimums: {ratio_of_minimums:.3}, median of the rounds' ratios: \
         {median_round_ratio:.3}, ratio of the medians of the total times: {raw_ratio:.3}"
    );
    println!(
        "  graphbin's extra time (medians): {:+.1} µs in all, {:+.1} µs of it in the call",
        stats(&graph.measured, unsynced).0 - stats(&user.measured, unsynced).0,
        stats(&graph.measured, call).0 - stats(&user.measured, call).0
    );
}

fn main() {
    gst::init().unwrap();
    gstpushsource::plugin_register_static().unwrap();
    let rounds: usize = setting("PUSHSOURCE_BENCH_ROUNDS", DEFAULT_ROUNDS);
    if rounds == 0 {
        panic!("PUSHSOURCE_BENCH_ROUNDS=0: at least one round");
    }
    let only = std::env::var("PUSHSOURCE_BENCH_ONLY").unwrap_or_default();
    if !["", "audio", "video"].contains(&only.as_str()) {
        panic!("PUSHSOURCE_BENCH_ONLY={only:?}: audio or video");
    }
    println!(
        "rate: time from the request to the first buffer rendered at the new rate (fakesink \
         handoff), graphbin set-rate vs a position query and a FLUSH|ACCURATE seek on a \
         pipeline holding a plain bin; {BUFFERS_BEFORE_CHANGE} buffers played before each \
         change, one pipeline PLAYING at a time, system clock; {}",
        gst::version_string()
    );
    if only != "video" {
        compare("pushaudiotestsrc is-live=false", rounds);
    }
    if only != "audio" {
        compare("pushvideotestsrc is-live=false", rounds);
    }
}
