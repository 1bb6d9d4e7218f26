//! Quick start demo: a live `pushaudiotestsrc` with 100 ms of device latency and a 50 ms stream
//! offset, rendered by a synchronised sink on the real system clock. For every buffer it prints
//! the capture time, the render time GStreamer's model predicts (capture + ts-offset + pipeline
//! latency) and the render time measured at the sink.
//!
//! `cargo run --release --example demo`

use std::sync::{Arc, Mutex};

use gst::prelude::*;

const LATENCY_MS: u64 = 100;
const OFFSET_MS: i64 = 50;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    gst::init()?;
    gstpushsource::plugin_register_static()?;

    let description = format!(
        "pushaudiotestsrc name=src latency={} ts-offset={} num-buffers=12 ! \
         audio/x-raw,rate=48000,channels=2 ! fakesink name=sink sync=true signal-handoffs=true",
        LATENCY_MS * 1_000_000,
        OFFSET_MS * 1_000_000
    );
    println!("gst-launch-1.0 {description}\n");
    let pipeline = gst::parse::launch(&description)?
        .downcast::<gst::Pipeline>()
        .unwrap();
    let sink = pipeline.by_name("sink").unwrap();

    let rows = Arc::new(Mutex::new(Vec::new()));
    let rows_in_handoff = rows.clone();
    let pipeline_weak = pipeline.downgrade();
    sink.connect("handoff", false, move |values| {
        let pipeline = pipeline_weak.upgrade()?;
        let buffer = values[1].get::<gst::Buffer>().unwrap();
        let rendered = pipeline.current_running_time();
        rows_in_handoff
            .lock()
            .unwrap()
            .push((buffer.pts(), rendered));
        None
    });

    pipeline.set_state(gst::State::Playing)?;
    let bus = pipeline.bus().unwrap();
    for message in bus.iter_timed(gst::ClockTime::NONE) {
        match message.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(error) => {
                pipeline.set_state(gst::State::Null)?;
                return Err(format!("{} ({:?})", error.error(), error.debug()).into());
            }
            gst::MessageView::Warning(warning) => println!("WARNING: {}", warning.error()),
            _ => {}
        }
    }
    // The latency the pipeline configured: the source's plus the sink's processing deadline.
    let mut query = gst::query::Latency::new();
    let pipeline_latency = if pipeline.query(&mut query) {
        query.result().1
    } else {
        gst::ClockTime::ZERO
    };
    pipeline.set_state(gst::State::Null)?;

    println!("pipeline latency (PL) = {pipeline_latency}, ts-offset = {OFFSET_MS} ms\n");
    println!(
        "{:>14} {:>26} {:>14} {:>10}",
        "capture (PTS)", "predicted: capture+off+PL", "measured", "late by"
    );
    for (pts, rendered) in rows.lock().unwrap().iter() {
        let (Some(pts), Some(rendered)) = (pts, rendered) else {
            continue;
        };
        let predicted = *pts + gst::ClockTime::from_mseconds(OFFSET_MS as u64) + pipeline_latency;
        let late_us = (rendered.nseconds() as i64 - predicted.nseconds() as i64) / 1000;
        println!(
            "{:>11.3} ms {:>23.3} ms {:>11.3} ms {:>7} µs",
            pts.nseconds() as f64 / 1e6,
            predicted.nseconds() as f64 / 1e6,
            rendered.nseconds() as f64 / 1e6,
            late_us
        );
    }
    println!(
        "\nPL is the source's {LATENCY_MS} ms of device latency plus fakesink's processing \
         deadline. Every buffer is rendered at capture + ts-offset + PL (\"late by\" is the \
         scheduling jitter of this machine): the stream offset moves the running time of \
         everything the source outputs, as IAMPushSource::SetStreamOffset does."
    );
    Ok(())
}
