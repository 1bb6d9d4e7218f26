//! The command line of the broadcast's roles (the example and the benchmark's child processes).

use std::io::Write;
use std::time::{Duration, Instant};

use gst::ClockTime;
use gst::prelude::*;

use super::session::{self, Channel, Output, Timing};

/// How long a receiver waits for the network clock before it gives up with an error.
const CLOCK_SYNC_TIMEOUT: Duration = Duration::from_secs(5);

fn value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .map(String::as_str)
}

fn parsed<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, String> {
    value(args, name)
        .map(|text| {
            text.parse()
                .map_err(|_| format!("{name}: cannot read \"{text}\""))
        })
        .transpose()
}

/// Runs the role `args[0]` (`sender` or `receiver`) with the rest of `args`.
pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = parsed::<f64>(args, "--seconds")?.map(Duration::from_secs_f64);
    match args.first().map(String::as_str) {
        Some("sender") => run_sender(args, seconds),
        Some("receiver") => run_receiver(args, seconds),
        _ => Err("the first argument is the role: sender or receiver".to_string()),
    }
}

fn run_sender(args: &[String], seconds: Option<Duration>) -> Result<(), String> {
    let clients = value(args, "--clients").ok_or("sender: --clients HOST:PORT,… is needed")?;
    let clock_port = if args.iter().any(|arg| arg == "--no-clock") {
        None
    } else {
        Some(parsed::<u16>(args, "--clock-port")?.unwrap_or(0))
    };
    let rtcp_clients = value(args, "--rtcp-clients");
    let wave = value(args, "--wave").unwrap_or("sine");
    let report_interval = parsed::<u64>(args, "--report-interval")?
        .map_or(session::SENDER_REPORT_INTERVAL, ClockTime::from_mseconds);
    let sender =
        session::start_sender_of(clients, rtcp_clients, clock_port, wave, report_interval)?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "clock-port {}", sender.clock_port);
    let _ = writeln!(out, "base-time {}", sender.base_time.nseconds());
    let _ = out.flush();
    watch(&sender.pipeline, seconds)
}

fn run_receiver(args: &[String], seconds: Option<Duration>) -> Result<(), String> {
    let port = parsed::<u16>(args, "--port")?.ok_or("receiver: --port PORT is needed")?;
    let latency = parsed::<u32>(args, "--latency")?.unwrap_or(200);
    let timing = match value(args, "--clock") {
        None => Timing::OwnClock,
        Some(address) => {
            let (host, port) = address
                .rsplit_once(':')
                .ok_or("receiver: --clock HOST:PORT")?;
            let port = port
                .parse()
                .map_err(|_| format!("receiver: --clock: bad port \"{port}\""))?;
            match parsed::<u16>(args, "--rtcp-port")? {
                // The sender reports tie the stream to the clock: no common base time needed.
                Some(rtcp_port) => Timing::SenderReports {
                    host: host.to_string(),
                    port,
                    rtcp_port,
                    sync_timeout: CLOCK_SYNC_TIMEOUT,
                },
                None => {
                    let base_time = parsed::<u64>(args, "--base-time")?
                        .ok_or("receiver: --clock needs --base-time (or --rtcp-port)")?;
                    Timing::NetworkClock {
                        host: host.to_string(),
                        port,
                        base_time: ClockTime::from_nseconds(base_time),
                        sync_timeout: CLOCK_SYNC_TIMEOUT,
                    }
                }
            }
        }
    };
    let output = match value(args, "--pulse") {
        None => Output::FakeSink,
        Some(device) => Output::Pulse {
            device: device.to_string(),
            channel: match value(args, "--channel") {
                Some("left") => Channel::Left,
                Some("right") => Channel::Right,
                _ => return Err("receiver: --pulse needs --channel left|right".to_string()),
            },
            slave_method: value(args, "--slave-method").unwrap_or("skew").to_string(),
        },
    };
    let receiver = session::start_receiver_into(port, latency, &timing, &output)?;
    eprintln!(
        "receiver: port {}, flags {:?}, latency {} ms",
        receiver.port,
        receiver
            .source
            .property_value("push-source-flags")
            .get::<gstpushsource::PushSourceFlags>()
            .unwrap_or_default(),
        receiver.source.property::<u64>("latency") / 1_000_000
    );
    let result = watch(&receiver.pipeline, seconds);
    if let Some(path) = value(args, "--log") {
        let renders = receiver.renders.lock().unwrap().clone();
        let mut text = String::new();
        for render in renders {
            let due = render.due.map_or(0, ClockTime::nseconds);
            text.push_str(&format!(
                "{} {} {due}\n",
                render.rtp_time,
                render.at.nseconds()
            ));
        }
        std::fs::write(path, text).map_err(|error| format!("receiver: {path}: {error}"))?;
    }
    result
}

/// Runs until `seconds` have passed (forever without), an error, or EOS.
fn watch(pipeline: &gst::Pipeline, seconds: Option<Duration>) -> Result<(), String> {
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let start = Instant::now();
    loop {
        let left = seconds.map(|total| total.saturating_sub(start.elapsed()));
        if left == Some(Duration::ZERO) {
            return Ok(());
        }
        let wait = left.map_or(ClockTime::from_seconds(1), |left| {
            ClockTime::from_nseconds(left.as_nanos().min(1_000_000_000) as u64)
        });
        let Some(message) = bus.timed_pop(wait) else {
            continue;
        };
        match message.view() {
            gst::MessageView::Error(error) => {
                return Err(format!("{} ({:?})", error.error(), error.debug()));
            }
            gst::MessageView::Warning(warning) => {
                eprintln!("warning: {} ({:?})", warning.error(), warning.debug());
            }
            gst::MessageView::Eos(_) => return Ok(()),
            _ => {}
        }
    }
}
