//! Render-time spread between two receiver processes of one broadcast (RTP on loopback), three
//! ways side by side: with the network clock (`GstNetTimeProvider` at the sender,
//! `GstNetClientClock` and the sender's base time at the receivers, jitterbuffer `synced`);
//! with the network clock and RTCP sender reports (the sender's `rtpbin` reports its clock's
//! time of capture, each receiver's `rtpbin` with `ntp-sync` maps RTP time to the shared clock
//! with it, `synced`, own base time); without it (each receiver on its own system clock and base
//! time, jitterbuffer `slave`).
//!
//! ```text
//! cargo bench --bench network                      # 60 s per run
//! NETWORK_BENCH_SECONDS=10 cargo bench --bench network
//! ```
//!
//! The sender and the receivers are this program again (`<exe> sender …`, `<exe> receiver …`),
//! so each is a process of its own, as on real hosts. Two figures per run: `rendered`, the
//! host's monotonic time at which each receiver's sink rendered a buffer (what a listener
//! hears, with the rendering thread's wake-up delay), and `due`, the time the sink was told to
//! render it (what the clocks and the jitterbuffer decided); both also without each receiver's
//! first 2 s (`≥2 s`: before issue 13's start-up fix, a receiver of sender reports ran on its
//! first packet's arrival until the first report had come).
//!
//! What a listener hears (`scripts/network_rendered.sh`, which starts a private PulseAudio
//! daemon; `NETWORK_BENCH_PULSE=skew,none,…` selects this mode and pulsesink's slave methods,
//! `graphbin` for a receiver inside `graphbin`): the sender sends white noise, receiver A
//! renders into the left channel of one null sink and B into the right, the sink's monitor is
//! recorded, and the delay between the channels is measured per 10 ms block
//! (`network/heard.rs`). `NETWORK_BENCH_VARIANTS` (`rtcp,clock,own`) picks the variants.

#[path = "../examples/network_broadcast/cli.rs"]
mod cli;
mod common;
#[path = "network/heard.rs"]
mod heard;
#[path = "../examples/network_broadcast/session.rs"]
mod session;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use gst::ClockTime;

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|socket| socket.local_addr())
        .map(|address| address.port())
        .expect("a free UDP port")
}

struct Run {
    rendered: Vec<u64>,
    due: Vec<u64>,
    /// `rendered` and `due` without the first 2 s of each receiver (the time a receiver of
    /// sender reports waits for the first one, and then its jitterbuffer's latency).
    rendered_settled: Vec<u64>,
    due_settled: Vec<u64>,
}

/// Buffers of the first 2 s (10 ms each) of a receiver's log.
const SETTLING_BUFFERS: usize = 200;

fn read_log(path: &Path) -> Vec<session::Render> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(str::parse::<u64>);
            let rtp_time = u32::try_from(fields.next()?.ok()?).ok()?;
            let at = ClockTime::from_nseconds(fields.next()?.ok()?);
            let due = fields.next()?.ok().filter(|due| *due != 0);
            Some(session::Render {
                rtp_time,
                at,
                running_time: None,
                sink_latency: ClockTime::ZERO,
                due: due.map(ClockTime::from_nseconds),
            })
        })
        .collect()
}

/// How the receivers take part in the broadcast's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    NetworkClock,
    SenderReports,
    OwnClocks,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Self::NetworkClock => "network clock",
            Self::SenderReports => "clock + RTCP SR",
            Self::OwnClocks => "own system clocks",
        }
    }
}

/// Where the receivers render: a logging `fakesink` each, or the two channels of one
/// PulseAudio sink (pulsesink's `slave-method`).
#[derive(Debug, Clone)]
enum Render {
    FakeSinks,
    Pulse { sink: String, slave_method: String },
}

fn run(exe: &Path, seconds: u64, variant: Variant, dir: &Path, render: &Render) -> Run {
    let ports = [free_udp_port(), free_udp_port()];
    let rtcp_ports = [free_udp_port(), free_udp_port()];
    let mut sender_args = vec![
        "sender".to_string(),
        "--clients".to_string(),
        format!("127.0.0.1:{},127.0.0.1:{}", ports[0], ports[1]),
        "--seconds".to_string(),
        (seconds + 4).to_string(),
    ];
    if matches!(render, Render::Pulse { .. }) {
        sender_args.extend(["--wave".to_string(), "white-noise".to_string()]);
    }
    match variant {
        Variant::NetworkClock => {}
        Variant::SenderReports => sender_args.extend([
            "--rtcp-clients".to_string(),
            format!("127.0.0.1:{},127.0.0.1:{}", rtcp_ports[0], rtcp_ports[1]),
        ]),
        Variant::OwnClocks => sender_args.push("--no-clock".to_string()),
    }
    let mut sender = Command::new(exe)
        .args(&sender_args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the sender process");
    let mut lines = BufReader::new(sender.stdout.take().unwrap()).lines();
    let mut clock_port = String::new();
    let mut base_time = String::new();
    for line in lines.by_ref().take(2) {
        let line = line.expect("the sender's announcement");
        if let Some(port) = line.strip_prefix("clock-port ") {
            clock_port = port.to_string();
        } else if let Some(time) = line.strip_prefix("base-time ") {
            base_time = time.to_string();
        }
    }
    let logs: Vec<PathBuf> = (0..2)
        .map(|index| dir.join(format!("receiver-{variant:?}-{index}.log")))
        .collect();
    let receivers: Vec<Child> = ports
        .iter()
        .zip(&rtcp_ports)
        .zip(&logs)
        .zip(["left", "right"])
        .map(|(((port, rtcp_port), log), channel)| {
            let mut args = vec![
                "receiver".to_string(),
                "--port".to_string(),
                port.to_string(),
                "--seconds".to_string(),
                seconds.to_string(),
                "--log".to_string(),
                log.display().to_string(),
            ];
            match variant {
                Variant::NetworkClock => args.extend([
                    "--clock".to_string(),
                    format!("127.0.0.1:{clock_port}"),
                    "--base-time".to_string(),
                    base_time.clone(),
                ]),
                Variant::SenderReports => args.extend([
                    "--clock".to_string(),
                    format!("127.0.0.1:{clock_port}"),
                    "--rtcp-port".to_string(),
                    rtcp_port.to_string(),
                ]),
                Variant::OwnClocks => {}
            }
            if let Render::Pulse { sink, slave_method } = render {
                args.extend([
                    "--pulse".to_string(),
                    sink.clone(),
                    "--channel".to_string(),
                    channel.to_string(),
                    "--slave-method".to_string(),
                    slave_method.clone(),
                ]);
            }
            Command::new(exe)
                .args(&args)
                .spawn()
                .expect("a receiver process")
        })
        .collect();
    for mut receiver in receivers {
        let status = receiver.wait().expect("a receiver ends");
        assert!(status.success(), "a receiver failed: {status}");
    }
    let _ = sender.kill();
    let _ = sender.wait();
    let (a, b) = (read_log(&logs[0]), read_log(&logs[1]));
    let (a_settled, b_settled) = (
        a.get(SETTLING_BUFFERS..).unwrap_or_default(),
        b.get(SETTLING_BUFFERS..).unwrap_or_default(),
    );
    Run {
        rendered: session::spread(&a, &b, |render| Some(render.at)),
        due: session::spread(&a, &b, |render| render.due),
        rendered_settled: session::spread(a_settled, b_settled, |render| Some(render.at)),
        due_settled: session::spread(a_settled, b_settled, |render| render.due),
    }
}

fn row(what: &str, values: &[u64]) -> String {
    match session::figures(values) {
        Some((median, p99, max)) => format!(
            "{what:<13} {:>8} {:>10.3} {:>10.3} {:>10.3}",
            values.len(),
            median / 1000.0,
            p99 / 1000.0,
            max / 1000.0
        ),
        None => format!("{what:<13} no buffer rendered by both receivers"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(
        args.first().map(String::as_str),
        Some("sender" | "receiver")
    ) {
        gst::init().expect("GStreamer");
        gstpushsource::plugin_register_static().expect("the pushsource plugin");
        if let Err(error) = cli::run(&args) {
            eprintln!("network bench child: {error}");
            std::process::exit(1);
        }
        return;
    }
    let seconds: u64 = std::env::var("NETWORK_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(60);
    let exe = std::env::current_exe().expect("this program");
    let dir = std::env::temp_dir().join(format!("pushsource-network-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    if let Ok(kept) = std::env::var("NETWORK_BENCH_JUDGE") {
        judge_kept(Path::new(&kept));
        return;
    }
    if let Ok(methods) = std::env::var("NETWORK_BENCH_PULSE") {
        gst::init().expect("GStreamer");
        heard_runs(&exe, seconds, &dir, &methods);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    println!(
        "network: render-time spread between two receiver processes of one broadcast, {seconds} s \
         per run (RTP L16 48 kHz mono, 10 ms packets, jitterbuffer 200 ms, loopback)"
    );
    let runs: Vec<(Variant, Run)> = [
        Variant::NetworkClock,
        Variant::SenderReports,
        Variant::OwnClocks,
    ]
    .into_iter()
    .map(|variant| {
        (
            variant,
            run(&exe, seconds, variant, &dir, &Render::FakeSinks),
        )
    })
    .collect();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{:<32} {:>8} {:>10} {:>10} {:>10}",
        "spread (ms)", "buffers", "median", "p99", "max"
    );
    for (variant, figures) in &runs {
        let name = variant.name();
        println!("{name:<18} {}", row("rendered", &figures.rendered));
        println!("{name:<18} {}", row("due", &figures.due));
        println!(
            "{name:<18} {}",
            row("rendered ≥2 s", &figures.rendered_settled)
        );
        println!("{name:<18} {}", row("due ≥2 s", &figures.due_settled));
    }
}

/// The variants named in `NETWORK_BENCH_VARIANTS` (`clock`, `rtcp`, `own`; default
/// `rtcp,clock`).
fn variants_from_env() -> Vec<Variant> {
    std::env::var("NETWORK_BENCH_VARIANTS")
        .unwrap_or_else(|_| "rtcp,clock".to_string())
        .split(',')
        .map(|name| match name.trim() {
            "clock" => Variant::NetworkClock,
            "rtcp" => Variant::SenderReports,
            "own" => Variant::OwnClocks,
            other => panic!("NETWORK_BENCH_VARIANTS: unknown variant {other:?}"),
        })
        .collect()
}

/// What a listener hears (`heard.rs`): each variant with each of pulsesink's slave methods in
/// `methods` (comma separated), the two receivers into the two channels of one null sink.
fn heard_runs(exe: &Path, seconds: u64, dir: &Path, methods: &str) {
    println!(
        "network, heard: delay between receiver A (left) and B (right) in one PulseAudio null \
         sink, {seconds} s per run, 10 ms blocks of white noise (ms; + when B is later; \
         missed: sound in one channel not found in the other)"
    );
    println!(
        "{:<18} {:<9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8}",
        "variant",
        "slave",
        "found",
        "missed",
        "|median|",
        "|p99|",
        "|max|",
        "min",
        "max",
        "first",
        "last"
    );
    for variant in variants_from_env() {
        for method in methods.split(',').map(str::trim) {
            let recording = heard::Recording::start("pushsource_network");
            let render = Render::Pulse {
                sink: recording.sink_name.clone(),
                slave_method: method.to_string(),
            };
            run(exe, seconds, variant, dir, &render);
            let (left, right) = recording.stop();
            if let Ok(keep) = std::env::var("NETWORK_BENCH_KEEP") {
                keep_recording(Path::new(&keep), variant, method, &left, &right);
            }
            judge(variant.name(), method, &left, &right);
        }
    }
}

/// Prints the figures of one recording (and its trace with `NETWORK_BENCH_TRACE`).
fn judge(name: &str, method: &str, left: &[f32], right: &[f32]) {
    let delays = heard::delays(left, right);
    let found: Vec<f64> = delays
        .iter()
        .filter_map(|block| match block {
            heard::Block::Delay(ns) => Some(*ns),
            _ => None,
        })
        .collect();
    let not_found = delays
        .iter()
        .filter(|block| **block == heard::Block::NotFound)
        .count();
    let magnitudes: Vec<u64> = found.iter().map(|ns| ns.abs().round() as u64).collect();
    let ms = |ns: f64| ns / 1e6;
    match session::figures(&magnitudes) {
        Some((median, p99, max)) => println!(
            "{:<18} {:<9} {:>7} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>9.3} {:>9.3} {:>8.3} {:>8.3}",
            name,
            method,
            found.len(),
            not_found,
            median / 1000.0,
            p99 / 1000.0,
            max / 1000.0,
            ms(found.iter().copied().fold(f64::INFINITY, f64::min)),
            ms(found.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            ms(found[0]),
            ms(found[found.len() - 1]),
        ),
        None => println!(
            "{:<18} {:<9} no block heard in both channels ({} blocks)",
            name,
            method,
            delays.len()
        ),
    }
    if std::env::var("NETWORK_BENCH_TRACE").is_ok() {
        trace(&delays);
    }
}

/// Judges the recordings kept in `dir` (`NETWORK_BENCH_KEEP`) again, without a server.
fn judge_kept(dir: &Path) {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("NETWORK_BENCH_JUDGE: a directory")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    runs.sort();
    for run in runs {
        let read = |name: &str| -> Vec<f32> {
            std::fs::read(run.join(name))
                .unwrap_or_default()
                .chunks_exact(4)
                .map(|bytes| f32::from_le_bytes(bytes.try_into().unwrap()))
                .collect()
        };
        let name = run.file_name().unwrap_or_default().to_string_lossy();
        judge(&name, "", &read("left.f32"), &read("right.f32"));
    }
}

/// The delay once a second, and wherever it changes by more than 0.1 ms or is not found, to
/// see jumps.
fn trace(delays: &[heard::Block]) {
    let mut last = heard::Block::Silence;
    for (index, block) in delays.iter().enumerate() {
        let changed = match (last, block) {
            (heard::Block::Delay(a), heard::Block::Delay(b)) => (a - b).abs() > 100_000.0,
            (a, b) => a != *b,
        };
        if changed || index % 100 == 0 {
            let what = match block {
                heard::Block::Silence => "silence".to_string(),
                heard::Block::NotFound => "not found".to_string(),
                heard::Block::Delay(ns) => format!("{:.3} ms", ns / 1e6),
            };
            println!("  {:>7.2} s  {what}", index as f64 / 100.0);
        }
        last = *block;
    }
}

/// Writes the recording's channels as raw F32 (`left.f32`, `right.f32`) to `dir/VARIANT-METHOD/`.
fn keep_recording(dir: &Path, variant: Variant, method: &str, left: &[f32], right: &[f32]) {
    let dir = dir.join(format!("{variant:?}-{method}"));
    let _ = std::fs::create_dir_all(&dir);
    for (name, samples) in [("left.f32", left), ("right.f32", right)] {
        let bytes: Vec<u8> = samples.iter().flat_map(|x| x.to_le_bytes()).collect();
        let _ = std::fs::write(dir.join(name), bytes);
    }
}
