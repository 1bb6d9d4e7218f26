//! What the benchmarks share: running a gst-launch line to EOS with the streaming alone timed,
//! counting what reaches the sink, statistics and settings from the environment.
#![allow(dead_code)]

use gst::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The setting `name` from the environment, `default` when unset.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a valid number")),
        Err(_) => Ok(default),
    }
}

/// The setting `name` from the environment, `default` when unset; an invalid value stops the
/// run.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    env_or(name, default).unwrap_or_else(|e| panic!("{e}"))
}

pub fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

pub fn minimum(times: &[Duration]) -> Duration {
    times.iter().copied().min().expect("at least one run")
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Runs `line` once to EOS and returns the wall time from `set_state(Playing)` to EOS.
pub fn run_once(line: &str) -> Result<Duration, String> {
    let pipeline = gst::parse::launch(line).map_err(|e| format!("{line}: {e}"))?;
    finish(pipeline, line)
}

/// Runs `line` once to EOS, untimed, and counts the buffers and bytes that reach its sink.
pub fn count_delivered(line: &str) -> Result<(u64, u64), String> {
    let pipeline = gst::parse::launch(line).map_err(|e| format!("{line}: {e}"))?;
    let bin = pipeline
        .downcast_ref::<gst::Bin>()
        .ok_or_else(|| format!("{line}: not a bin"))?;
    let sink = bin
        .iterate_sinks()
        .next()
        .ok()
        .flatten()
        .ok_or_else(|| format!("{line}: no sink"))?;
    let pad = sink.static_pad("sink").expect("fakesink has a sink pad");
    let counts = Arc::new(Mutex::new((0u64, 0u64)));
    let probe_counts = counts.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer() {
            let mut counts = probe_counts.lock().unwrap();
            counts.0 += 1;
            counts.1 += buffer.size() as u64;
        }
        gst::PadProbeReturn::Ok
    });
    drop(pad);
    drop(sink);
    finish(pipeline, line)?;
    let counts = *counts.lock().unwrap();
    Ok(counts)
}

/// Prerolls `pipeline`, plays it to EOS and returns the wall time from `set_state(Playing)` to
/// the EOS message; the pipeline is shut down in every case.
fn finish(pipeline: gst::Element, line: &str) -> Result<Duration, String> {
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let result = (|| {
        pipeline
            .set_state(gst::State::Paused)
            .map_err(|_| bus_error(&bus, line, "cannot pause"))?;
        // Preroll outside the timed region, so that every candidate pays for caps negotiation
        // and allocation queries the same way and the timing covers streaming only.
        if let (Err(_), ..) = pipeline.state(gst::ClockTime::NONE) {
            return Err(bus_error(&bus, line, "cannot preroll"));
        }
        let start = Instant::now();
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| bus_error(&bus, line, "cannot play"))?;
        let message = bus.timed_pop_filtered(
            gst::ClockTime::NONE,
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        let elapsed = start.elapsed();
        match message.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Eos(..)) => Ok(elapsed),
            Some(gst::MessageView::Error(err)) => Err(describe(line, err)),
            _ => Err(format!("{line}: bus closed before EOS")),
        }
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}

fn describe(line: &str, err: &gst::message::Error) -> String {
    format!(
        "{line}: error from {}: {} ({:?})",
        err.src().map(|s| s.path_string()).unwrap_or_default(),
        err.error(),
        err.debug()
    )
}

/// The error posted on `bus`, if any, for a failed state change.
fn bus_error(bus: &gst::Bus, line: &str, what: &str) -> String {
    match bus.pop_filtered(&[gst::MessageType::Error]) {
        Some(message) => match message.view() {
            gst::MessageView::Error(err) => describe(line, err),
            _ => unreachable!("filtered on errors"),
        },
        None => format!("{line}: {what}"),
    }
}

/// Runs `pactl ARGS` on the PulseAudio server the benchmark's script started, its output.
pub fn pactl(args: &[&str]) -> String {
    let output = std::process::Command::new("pactl")
        .args(args)
        .output()
        .expect(
            "pactl (scripts/realtime-drift.sh and scripts/network_rendered.sh start the server)",
        );
    assert!(
        output.status.success(),
        "pactl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
