//! Quick start demo: `graphbin` equalizing two live sources of very different latency (33 ms
//! and 500 ms) with stream offsets, DirectShow's way, on the real system clock.
//!
//! It prints the `graph-latency` message (the offsets the bin gave each source) and, side by
//! side for both streams, the capture time of a buffer, the render time GStreamer's model
//! predicts (capture + pipeline latency) and the render time measured at each sink.
//!
//! `cargo run --release --example demo`

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use gst::prelude::*;

const STREAMS: [(&str, u64); 2] = [("fast", 33), ("slow", 500)];
/// 1440 samples at 48 kHz: 30 ms buffers.
const SAMPLES_PER_BUFFER: u64 = 1440;
const BUFFER_MS: u64 = 30;
const BUFFERS: u64 = 80;
const EVERY: u64 = 8;

/// Per stream, per buffer index: (capture = PTS, running time of the stamp, measured render).
type Rows = BTreeMap<u64, BTreeMap<&'static str, (gst::ClockTime, gst::ClockTime, gst::ClockTime)>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    gst::init()?;
    gstpushsource::plugin_register_static()?;

    let branches: Vec<String> = STREAMS
        .iter()
        .map(|(name, latency_ms)| {
            format!(
                "pushaudiotestsrc name={name} latency={} samplesperbuffer={SAMPLES_PER_BUFFER} \
                 num-buffers={BUFFERS} ! audio/x-raw,rate=48000,channels=1 ! \
                 fakesink name={name}_sink sync=true signal-handoffs=true",
                latency_ms * 1_000_000
            )
        })
        .collect();
    let description = format!(
        "graphbin.( name=graph sync-using-stream-offset=true {} )",
        branches.join("  ")
    );
    println!("gst-launch-1.0 {description}\n");
    // A description of one bin gives that bin: it goes into a pipeline, as gst-launch does.
    let graph = gst::parse::launch(&description)?;
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph)?;

    let rows: Arc<Mutex<Rows>> = Arc::default();
    for (name, _) in STREAMS {
        let rows = rows.clone();
        let pipeline_weak = pipeline.downgrade();
        let sink = pipeline.by_name(&format!("{name}_sink")).unwrap();
        sink.connect("handoff", false, move |values| {
            let pipeline = pipeline_weak.upgrade()?;
            let rendered = pipeline.current_running_time()?;
            let buffer = values[1].get::<gst::Buffer>().ok()?;
            let pad = values[2].get::<gst::Pad>().ok()?;
            let segment = pad.sticky_event::<gst::event::Segment>(0)?;
            let segment = segment.segment().downcast_ref::<gst::ClockTime>()?.clone();
            let pts = buffer.pts()?;
            let stamp = segment.to_running_time(pts)?;
            let index = pts.mseconds() / BUFFER_MS;
            rows.lock()
                .unwrap()
                .entry(index)
                .or_default()
                .insert(name, (pts, stamp, rendered));
            None
        });
    }

    pipeline.set_state(gst::State::Playing)?;
    let bus = pipeline.bus().unwrap();
    let mut equalization = None;
    for message in bus.iter_timed(gst::ClockTime::NONE) {
        match message.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(error) => {
                pipeline.set_state(gst::State::Null)?;
                return Err(format!("{} ({:?})", error.error(), error.debug()).into());
            }
            gst::MessageView::Warning(warning) => println!("WARNING: {}", warning.error()),
            // What every application (and gst-launch) does: a live sink that prerolled, or a
            // source whose latency changed, asks for a new latency computation.
            gst::MessageView::Latency(_) => {
                let _ = pipeline.recalculate_latency();
            }
            gst::MessageView::Element(element) => {
                if let Some(s) = element.structure().filter(|s| s.name() == "graph-latency") {
                    equalization = Some(s.to_owned());
                }
            }
            _ => {}
        }
    }
    let mut query = gst::query::Latency::new();
    let pipeline_latency = if pipeline.query(&mut query) {
        query.result().1
    } else {
        gst::ClockTime::ZERO
    };
    pipeline.set_state(gst::State::Null)?;

    if let Some(s) = &equalization {
        println!(
            "graph-latency: Lmax = {} ms, sync-using-stream-offset = {}",
            s.get::<u64>("latency")? / 1_000_000,
            s.get::<bool>("sync-using-stream-offset")?
        );
        for source in s.get::<gst::List>("sources")?.iter() {
            let source = source.get::<gst::Structure>()?;
            println!(
                "  {:<5} latency {:>3} ms  ts-offset {:>3} ms  max-offset {} ms  group {}  \
                 exceeds-max {}  rate-matching {}",
                source.get::<String>("name")?,
                source.get::<u64>("latency")? / 1_000_000,
                source.get::<i64>("ts-offset")? / 1_000_000,
                source.get::<u64>("max-offset")? / 1_000_000,
                source.get::<u32>("group")?,
                source.get::<bool>("exceeds-max")?,
                source.get::<String>("rate-matching")?,
            );
        }
    }
    println!(
        "\npipeline latency PL = {:.3} ms (Lmax + fakesink's 20 ms processing deadline)\n",
        pipeline_latency.nseconds() as f64 / 1e6
    );
    println!(
        "{:>6} |{:>42} |{:>42}",
        "", "fast (33 ms, ts-offset 467 ms)", "slow (500 ms, ts-offset 0)"
    );
    println!(
        "{:>6} |{:>10}{:>10}{:>12}{:>10} |{:>10}{:>10}{:>12}{:>10}",
        "buffer",
        "capture",
        "stamp",
        "capture+PL",
        "rendered",
        "capture",
        "stamp",
        "capture+PL",
        "rendered"
    );
    let ms = |t: gst::ClockTime| t.nseconds() as f64 / 1e6;
    let mut worst_us = 0i64;
    for (index, streams) in rows.lock().unwrap().iter() {
        let mut line = format!("{index:>6} |");
        for (name, _) in STREAMS {
            match streams.get(name) {
                Some((capture, stamp, rendered)) => {
                    let predicted = *capture + pipeline_latency;
                    let late_us = (rendered.nseconds() as i64 - predicted.nseconds() as i64) / 1000;
                    worst_us = worst_us.max(late_us.abs());
                    line += &format!(
                        "{:>10.3}{:>10.3}{:>12.3}{:>10.3} |",
                        ms(*capture),
                        ms(*stamp),
                        ms(predicted),
                        ms(*rendered),
                    );
                }
                None => line += &format!("{:>42} |", "(not rendered)"),
            }
        }
        if index % EVERY == 0 {
            println!("{}", line.trim_end_matches(" |"));
        }
    }
    println!(
        "(times in ms of running time, every {EVERY}th buffer; the largest gap between a \
         rendered and a predicted time was {worst_us} µs, this machine's scheduling jitter)"
    );
    println!(
        "\nThe fast source's stamps carry its 467 ms stream offset (IAMPushSource::SetStreamOffset) \
         and its sink waits PL - 467 ms; the slow source has offset 0 and its sink waits PL. Both \
         streams are rendered at capture + PL: the equalization GStreamer does at the sinks, done at the sources as \
         DirectShow's Filter Graph Manager does."
    );
    Ok(())
}
