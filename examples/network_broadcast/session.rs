//! One broadcast over RTP: a sender and receivers, each a pipeline of its own (in its own process
//! on its own host, or several in one process for the tests). Shared by the example
//! (`examples/network_broadcast/main.rs`), the benchmark (`benches/network.rs`) and the tests
//! (`tests/network.rs`), which include this file by path.
//!
//! - The sender captures with `pushaudiotestsrc` (live, 10 ms buffers, 48 kHz mono), sends RTP
//!   L16 to every receiver (`multiudpsink`) and, with a network clock, serves its pipeline clock
//!   with a `GstNetTimeProvider` and fixes its base time.
//! - A receiver is a `pushsrcbin` around `udpsrc ! rtpjitterbuffer ! rtpL16depay` rendering into
//!   a synchronising sink. With the network clock it runs on a `GstNetClientClock` slaved to the
//!   sender's clock, with the sender's base time and the jitterbuffer in `synced` mode: its
//!   stamps are times on the shared clock (pushsrcbin reports no `private-clock`). Without it,
//!   it runs on its own system clock and base time with the jitterbuffer in `slave` mode: the
//!   jitterbuffer maps the sender's RTP time onto this clock (pushsrcbin reports no flag either).
//! - With RTCP sender reports (GStreamer's own way to tie RTP time to a clock), the sender sends
//!   through an `rtpbin` whose reports carry its pipeline clock's time of capture
//!   (`ntp-time-source=clock-time`, `rtcp-sync-send-time=false`), and each receiver wraps
//!   an `rtpbin` with `ntp-sync=true`, `ntp-time-source=clock-time` and `buffer-mode=synced` on
//!   the shared clock: `rtpbin` offsets each stream so that a buffer's stamp is its capture time
//!   on the shared clock, whatever the receiver's base time and wherever its first packet
//!   arrived (`synced` alone anchors each receiver at the arrival of its first packet).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gst::ClockTime;
use gst::prelude::*;
use gst_base::prelude::*;

/// What the sender sends: RTP L16, 48 kHz mono, payload type 96.
pub const RTP_CAPS: &str =
    "application/x-rtp,media=audio,clock-rate=48000,encoding-name=L16,channels=1,payload=96";

/// One render of one buffer at a receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Render {
    /// The RTP timestamp of the packet the buffer came from: the same buffer at every receiver.
    pub rtp_time: u32,
    /// When the sink rendered it, on this host's monotonic clock (`gst::get_timestamp`):
    /// comparable between processes on one host only.
    pub at: ClockTime,
    /// Its running time at the sink, and the sink's latency (the render is due at their sum).
    pub running_time: Option<ClockTime>,
    pub sink_latency: ClockTime,
    /// When the render was due on the pipeline's clock (base time + running time + latency):
    /// what the timing decided, without the wake-up delay of the rendering thread. On one host
    /// the system clock and a network clock slaved to a sender there both read the monotonic
    /// clock, so this too compares between processes.
    pub due: Option<ClockTime>,
}

/// Sets a pipeline to NULL when a start fails half-way (GStreamer wants every element in NULL
/// before its last reference goes).
struct StopOnFailure(Option<gst::Pipeline>);

impl StopOnFailure {
    fn succeeded(mut self) {
        self.0 = None;
    }
}

impl Drop for StopOnFailure {
    fn drop(&mut self) {
        if let Some(pipeline) = self.0.take() {
            let _ = pipeline.set_state(gst::State::Null);
        }
    }
}

/// A running sender.
pub struct Sender {
    pub pipeline: gst::Pipeline,
    /// Serves the sender's clock (`None`: no network clock).
    pub provider: Option<gst_net::NetTimeProvider>,
    /// The port of the time provider (0 without one).
    pub clock_port: u16,
    /// The base time every pipeline of the broadcast uses on the shared clock.
    pub base_time: ClockTime,
}

/// How often the sender's `rtpbin` sends a sender report at the least (RTP's default is 5 s).
/// A receiver's stamps are on the sender's clock from its first report on, and its
/// jitterbuffer pushes its first packet `latency` after that packet arrived: `rtpsession`
/// randomizes each interval to 0.41–1.23 times this one (RFC 3550's [0.5, 1.5] / 1.21828), so
/// at 100 ms (with the session's bandwidth known, see below) a report comes at most 123 ms
/// after a receiver starts, before a jitterbuffer of 200 ms lets its first packet go, and no
/// receiver plays on its arrival anchor. (At 500 ms a receiver played on its anchor first in
/// 4 of 6 starts measured, and its stream moved by about 30 ms at the report.) One report of
/// about 100 bytes every 100 ms is 1 % of the stream's bandwidth, within RTCP's 5 %.
pub const SENDER_REPORT_INTERVAL: ClockTime = ClockTime::from_mseconds(100);

/// The stream's bandwidth in bit/s: 48 kHz × 16 bits of payload, and 100 packets a second of
/// 40 bytes of RTP, UDP and IPv4 headers.
const SESSION_BANDWIDTH: f64 = 48_000.0 * 16.0 + 100.0 * 40.0 * 8.0;

/// Starts a sender to `clients` ("host:port,host:port", may be empty); with `clock_port` (0: any
/// free port) it serves its clock to the receivers.
pub fn start_sender(clients: &str, clock_port: Option<u16>) -> Result<Sender, String> {
    start_sender_reporting(clients, None, clock_port)
}

/// Starts a sender as [`start_sender`] does; with `rtcp_clients` ("host:port,…", may be empty) it
/// sends through an `rtpbin` and sends RTCP sender reports there, whose NTP time is its
/// pipeline clock's time when the reported RTP time was captured.
pub fn start_sender_reporting(
    clients: &str,
    rtcp_clients: Option<&str>,
    clock_port: Option<u16>,
) -> Result<Sender, String> {
    start_sender_of(
        clients,
        rtcp_clients,
        clock_port,
        "sine",
        SENDER_REPORT_INTERVAL,
    )
}

/// Starts a sender as [`start_sender_reporting`] does, capturing `wave` (a nick of
/// `pushaudiotestsrc`'s `wave`: `white-noise` has no period, so that the delay between two
/// recordings of it is found whatever its size), reporting every `report_interval` at the least.
pub fn start_sender_of(
    clients: &str,
    rtcp_clients: Option<&str>,
    clock_port: Option<u16>,
    wave: &str,
    report_interval: ClockTime,
) -> Result<Sender, String> {
    let capture = format!(
        "pushaudiotestsrc name=capture is-live=true samplesperbuffer=480 wave={wave} \
         ! audio/x-raw,rate=48000,channels=1 ! audioconvert ! rtpL16pay name=pay pt=96"
    );
    let description = match rtcp_clients {
        None => format!("{capture} ! multiudpsink name=send clients=\"{clients}\" sync=true"),
        Some(rtcp_clients) => format!(
            "rtpbin name=rtpbin ntp-time-source=clock-time rtcp-sync-send-time=false \
             {capture} ! rtpbin.send_rtp_sink_0 \
             rtpbin.send_rtp_src_0 ! multiudpsink name=send clients=\"{clients}\" sync=true \
             rtpbin.send_rtcp_src_0 ! multiudpsink name=send-rtcp clients=\"{rtcp_clients}\" \
             sync=false async=false"
        ),
    };
    let pipeline = gst::parse::launch(&description)
        .map_err(|error| format!("sender: {error}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "sender: not a pipeline".to_string())?;
    let guard = StopOnFailure(Some(pipeline.clone()));
    if let Some(rtpbin) = pipeline.by_name("rtpbin") {
        let session = rtpbin
            .emit_by_name::<Option<gst::Element>>("get-session", &[&0u32])
            .ok_or("sender: rtpbin made no RTP session")?;
        session.set_property("rtcp-min-interval", report_interval.nseconds());
        // The session's bandwidth, which RTCP's share and so the report interval derive from:
        // left to be estimated (0), it starts from the sender's measured bitrate, which
        // ramps up over the first seconds, and the reports come every 300 ms, not 100, then.
        session.set_property("bandwidth", SESSION_BANDWIDTH);
    }
    let clock = gst::SystemClock::obtain();
    pipeline.use_clock(Some(&clock));
    let (provider, clock_port) = match clock_port {
        Some(port) => {
            let provider =
                gst_net::NetTimeProvider::new(&clock, None, i32::from(port)).map_err(|error| {
                    format!("sender: cannot serve the clock on port {port}: {error}")
                })?;
            let port = provider.property::<i32>("port");
            (Some(provider), u16::try_from(port).unwrap_or(0))
        }
        None => (None, 0),
    };
    // The base time is fixed, not taken at PLAYING, so that the receivers can use it too.
    let base_time = clock.time();
    pipeline.set_start_time(ClockTime::NONE);
    pipeline.set_base_time(base_time);
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|error| format!("sender: cannot start: {error}"))?;
    guard.succeeded();
    Ok(Sender {
        pipeline,
        provider,
        clock_port,
        base_time,
    })
}

impl Sender {
    /// Sends to `host:port` too, from the next packet on.
    pub fn add_client(&self, host: &str, port: u16) {
        if let Some(send) = self.pipeline.by_name("send") {
            send.emit_by_name::<()>("add", &[&host, &i32::from(port)]);
        }
    }

    /// Sends the RTCP sender reports to `host:port` too (a sender started with RTCP).
    pub fn add_rtcp_client(&self, host: &str, port: u16) {
        if let Some(send) = self.pipeline.by_name("send-rtcp") {
            send.emit_by_name::<()>("add", &[&host, &i32::from(port)]);
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// How a receiver takes part in the broadcast's timing.
#[derive(Debug, Clone)]
pub enum Timing {
    /// Its own system clock and base time; the jitterbuffer slaves to the sender (`slave`).
    OwnClock,
    /// The sender's clock through a `GstNetClientClock`, the sender's base time, `synced`.
    NetworkClock {
        host: String,
        port: u16,
        base_time: ClockTime,
        /// How long to wait for the clock to synchronise before giving up.
        sync_timeout: Duration,
    },
    /// The sender's clock through a `GstNetClientClock`, its own base time, and the sender's
    /// RTCP sender reports (received on `rtcp_port`, 0: any free port) mapping RTP time to that
    /// clock: an `rtpbin` with `ntp-sync`, `synced`.
    SenderReports {
        host: String,
        port: u16,
        rtcp_port: u16,
        sync_timeout: Duration,
    },
}

/// A running receiver.
pub struct Receiver {
    pub pipeline: gst::Pipeline,
    /// The `pushsrcbin` around the receive chain.
    pub source: gst::Element,
    /// The chain's `rtpjitterbuffer`, or its `rtpbin` (which makes its own).
    pub jitterbuffer: gst::Element,
    pub sink: gst::Element,
    /// The UDP port it listens on.
    pub port: u16,
    /// The UDP port it receives RTCP on (0: none).
    pub rtcp_port: u16,
    pub renders: Arc<Mutex<Vec<Render>>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The `GstNetClientClock` of the sender at `host:port`, once synchronised; a clear error when
/// it does not answer within `timeout` (nothing listens, a firewall drops UDP).
pub fn network_clock(host: &str, port: u16, timeout: Duration) -> Result<gst::Clock, String> {
    let clock = gst_net::NetClientClock::new(None, host, i32::from(port), ClockTime::ZERO);
    let timeout_ns = ClockTime::from_nseconds(timeout.as_nanos().try_into().unwrap_or(u64::MAX));
    if clock.wait_for_sync(Some(timeout_ns)).is_err() {
        return Err(format!(
            "the network clock at {host}:{port} did not answer within {} ms: is the sender's \
             time provider running, and does UDP reach it?",
            timeout.as_millis()
        ));
    }
    Ok(clock.upcast())
}

/// The receivers' sockets do not share their port (`udpsrc`'s default, `reuse=true`, lets Linux
/// hand a port asked for as 0 to every socket that allows reuse: two receivers, or a receiver
/// and a sender's socket, on one port, one getting both streams and the other none); a port
/// already taken is then an error that says so.
pub const RECEIVE_SOCKET: &str = "reuse=false";

/// The receive chain `pushsrcbin` wraps: the documented one-liner.
pub fn receive_chain(port: u16, latency_ms: u32, mode: &str) -> String {
    format!(
        "udpsrc name=udp port={port} {RECEIVE_SOCKET} caps=\"{RTP_CAPS}\" \
         ! rtpjitterbuffer name=jb latency={latency_ms} mode={mode} ! rtpL16depay name=depay"
    )
}

/// The receive chain with RTCP: RTP on `port`, RTCP on `rtcp_port`, into an `rtpbin` that
/// sets each stream's offset from the sender reports, whose times are on the shared clock.
/// `min-ts-offset` 100 µs: each report gives the offset again to the rounding of an RTP tick
/// (±21 µs), and rtpbin would apply each change, which an audio sink plays as a one-sample
/// jump several times a second; a change of the shared clock's error beyond 100 µs is still
/// followed.
pub fn receive_chain_with_sender_reports(port: u16, rtcp_port: u16, latency_ms: u32) -> String {
    format!(
        "udpsrc name=udp port={port} {RECEIVE_SOCKET} caps=\"{RTP_CAPS}\" \
         ! rtpbin.recv_rtp_sink_0 \
         udpsrc name=udp-rtcp port={rtcp_port} {RECEIVE_SOCKET} caps=application/x-rtcp \
         ! rtpbin.recv_rtcp_sink_0 \
         rtpbin name=rtpbin latency={latency_ms} buffer-mode=synced ntp-sync=true min-ts-offset=100000 \
         ntp-time-source=clock-time ! rtpL16depay name=depay"
    )
}

/// Where a receiver renders.
#[derive(Debug, Clone)]
pub enum Output {
    /// `fakesink sync=true`, each render logged (`Receiver::renders`).
    FakeSink,
    /// A PulseAudio sink, into one channel of two (the other silent): two receivers into the
    /// two channels of one sink are rendered at one instant, which a recording of the sink's
    /// monitor shows. `slave_method` is `pulsesink`'s (`skew`, `resample`, `none`), or
    /// [`GRAPHBIN`], optionally followed by more of the sink's properties, each as
    /// `/NAME=VALUE` (`skew/drift-tolerance=1000`).
    Pulse {
        device: String,
        channel: Channel,
        slave_method: String,
    },
}

/// The `slave_method` of [`Output::Pulse`] that puts the receiver in a `graphbin` instead
/// (which puts a `ratematch` in front of the sink and turns the sink's own slaving off).
pub const GRAPHBIN: &str = "graphbin";

/// One channel of a stereo sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Left,
    Right,
}

/// Starts a receiver on `port` (0: any free port) with a jitterbuffer of `latency_ms`.
pub fn start_receiver(port: u16, latency_ms: u32, timing: &Timing) -> Result<Receiver, String> {
    start_receiver_into(port, latency_ms, timing, &Output::FakeSink)
}

/// The elements between `pushsrcbin` and the sink, and the sink, for `output`.
fn output_elements(output: &Output) -> Result<Vec<gst::Element>, String> {
    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|error| format!("receiver: {error}"))
    };
    match output {
        Output::FakeSink => {
            let sink = gst::ElementFactory::make("fakesink")
                .name("render")
                .property("sync", true)
                .property("signal-handoffs", true)
                .build()
                .map_err(|error| format!("receiver: {error}"))?;
            Ok(vec![make("audioconvert")?, sink])
        }
        Output::Pulse {
            device,
            channel,
            slave_method,
        } => {
            // The mono stream into one channel: rows are the output channels (left, right).
            let (left, right) = match channel {
                Channel::Left => (1.0f32, 0.0f32),
                Channel::Right => (0.0, 1.0),
            };
            let convert = make("audioconvert")?;
            convert.set_property(
                "mix-matrix",
                gst::Array::new([gst::Array::new([left]), gst::Array::new([right])]),
            );
            let stereo = gst::ElementFactory::make("capsfilter")
                .property(
                    "caps",
                    gst::Caps::builder("audio/x-raw")
                        .field("channels", 2i32)
                        .field("channel-mask", gst::Bitmask::new(0x3))
                        .build(),
                )
                .build()
                .map_err(|error| format!("receiver: {error}"))?;
            let mut settings = slave_method.split('/');
            let method = settings.next().unwrap_or_default();
            let sink = gst::ElementFactory::make("pulsesink")
                .name("render")
                .property("device", device)
                .build()
                .map_err(|error| format!("receiver: {error}"))?;
            // `graphbin` sets the sink's slaving itself (it puts a `ratematch` in front).
            if method != GRAPHBIN {
                set_from_str(&sink, "slave-method", method)?;
            }
            for setting in settings {
                let (name, value) = setting
                    .split_once('=')
                    .ok_or_else(|| format!("receiver: \"{setting}\" is not NAME=VALUE"))?;
                set_from_str(&sink, name, value)?;
            }
            Ok(vec![convert, stereo, sink])
        }
    }
}

/// Sets `element`'s property `name` from its text; an unknown property or an unreadable value
/// is an error that says so.
fn set_from_str(element: &gst::Element, name: &str, value: &str) -> Result<(), String> {
    let pspec = element
        .find_property(name)
        .ok_or_else(|| format!("receiver: {} has no property {name}", element.name()))?;
    let value = gst::glib::Value::deserialize_with_pspec(value, &pspec)
        .map_err(|_| format!("receiver: {name}: cannot read \"{value}\""))?;
    element.set_property_from_value(name, &value);
    Ok(())
}

/// Starts a receiver as [`start_receiver`] does, rendering into `output`.
pub fn start_receiver_into(
    port: u16,
    latency_ms: u32,
    timing: &Timing,
    output: &Output,
) -> Result<Receiver, String> {
    // The clock, and the base time when it is the sender's.
    let clock = match timing {
        Timing::OwnClock => None,
        Timing::NetworkClock {
            host,
            port,
            base_time,
            sync_timeout,
        } => Some((network_clock(host, *port, *sync_timeout)?, Some(*base_time))),
        Timing::SenderReports {
            host,
            port,
            sync_timeout,
            ..
        } => Some((network_clock(host, *port, *sync_timeout)?, None)),
    };
    let description = match timing {
        Timing::OwnClock => receive_chain(port, latency_ms, "slave"),
        Timing::NetworkClock { .. } => receive_chain(port, latency_ms, "synced"),
        Timing::SenderReports { rtcp_port, .. } => {
            receive_chain_with_sender_reports(port, *rtcp_port, latency_ms)
        }
    };
    let pipeline = gst::Pipeline::new();
    let guard = StopOnFailure(Some(pipeline.clone()));
    let source = gst::ElementFactory::make("pushsrcbin")
        .name("net")
        .property("source-description", description)
        .build()
        .map_err(|error| format!("receiver: {error}"))?;
    let mut elements = vec![source.clone()];
    elements.extend(output_elements(output)?);
    let sink = elements.last().cloned().expect("an output has a sink");
    let in_graphbin = matches!(output, Output::Pulse { slave_method, .. } if slave_method.split('/').next() == Some(GRAPHBIN));
    let bin: gst::Bin = if in_graphbin {
        let graph = gst::ElementFactory::make("graphbin")
            .build()
            .map_err(|error| format!("receiver: {error}"))?;
        pipeline
            .add(&graph)
            .map_err(|error| format!("receiver: {error}"))?;
        graph
            .downcast::<gst::Bin>()
            .map_err(|_| "receiver: graphbin is not a bin".to_string())?
    } else {
        pipeline.clone().upcast()
    };
    bin.add_many(&elements)
        .and_then(|()| gst::Element::link_many(&elements))
        .map_err(|error| format!("receiver: {error}"))?;
    pipeline
        .set_state(gst::State::Ready)
        .map_err(|error| format!("receiver: cannot listen on port {port}: {error}"))?;
    let chain = source
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .map_err(|_| "receiver: the chain is not a bin".to_string())?;
    let udp = chain.by_name("udp").ok_or("receiver: no udpsrc")?;
    let jitterbuffer = chain
        .by_name("jb")
        .or_else(|| chain.by_name("rtpbin"))
        .ok_or("receiver: no rtpjitterbuffer")?;
    let depayloader = chain.by_name("depay").ok_or("receiver: no depayloader")?;
    let port = u16::try_from(udp.property::<i32>("port")).unwrap_or(0);
    let rtcp_port = chain.by_name("udp-rtcp").map_or(0, |udp| {
        u16::try_from(udp.property::<i32>("port")).unwrap_or(0)
    });

    let renders = Arc::new(Mutex::new(Vec::new()));
    if matches!(output, Output::FakeSink) {
        watch_renders(&depayloader, &sink, &renders);
    }

    if let Some((clock, base_time)) = clock {
        pipeline.use_clock(Some(&clock));
        // With sender reports a buffer's running time is its capture time on the shared clock
        // minus the base time, and the jitterbuffer clips a negative one to 0: the packets
        // captured before this receiver started (the first ones it receives, captured tens of
        // ms before they arrive) would all be due at once, and a sink that aligns audio keeps
        // that error. A base time one latency back makes every packet that can still be
        // played in time (due at capture + latency, after now) start at a positive time.
        let base_time = base_time.or_else(|| {
            matches!(timing, Timing::SenderReports { .. }).then(|| {
                clock
                    .time()
                    .saturating_sub(ClockTime::from_mseconds(latency_ms.into()))
            })
        });
        if let Some(base_time) = base_time {
            pipeline.set_start_time(ClockTime::NONE);
            pipeline.set_base_time(base_time);
        }
    }
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|error| format!("receiver: cannot start: {error}"))?;
    guard.succeeded();
    Ok(Receiver {
        pipeline,
        source,
        jitterbuffer,
        sink,
        port,
        rtcp_port,
        renders,
    })
}

/// Records each render with the RTP timestamp of its packet: the stamps of the packets the
/// depayloader receives from the jitterbuffer map to RTP timestamps (read from the packet
/// header; the depayloader keeps the stamp), the sink looks its buffer's stamp up.
fn watch_renders(
    depayloader: &gst::Element,
    sink: &gst::Element,
    renders: &Arc<Mutex<Vec<Render>>>,
) {
    let rtp_times: Arc<Mutex<HashMap<ClockTime, u32>>> = Arc::default();
    let pad = depayloader
        .static_pad("sink")
        .expect("a depayloader has a sink pad");
    let writer = rtp_times.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer()
            && let Some(pts) = buffer.pts()
            && let Ok(map) = buffer.map_readable()
            && map.len() >= 8
        {
            let rtp_time = u32::from_be_bytes([map[4], map[5], map[6], map[7]]);
            writer.lock().unwrap().insert(pts, rtp_time);
        }
        gst::PadProbeReturn::Ok
    });
    let renders = renders.clone();
    sink.connect("handoff", false, move |values| {
        let at = ClockTime::from_nseconds(gst::get_timestamp().nseconds());
        let sink = values[0].get::<gst::Element>().ok()?;
        let buffer = values[1].get::<gst::Buffer>().ok()?;
        let pts = buffer.pts()?;
        let rtp_time = rtp_times.lock().unwrap().remove(&pts)?;
        let base_sink = sink.downcast_ref::<gst_base::BaseSink>()?;
        let running_time = sink.static_pad("sink").and_then(|pad| {
            pad.sticky_event::<gst::event::Segment>(0)
                .and_then(|event| {
                    event
                        .segment()
                        .downcast_ref::<ClockTime>()
                        .and_then(|segment| segment.to_running_time(pts))
                })
        });
        let sink_latency = base_sink.latency();
        let due = running_time
            .zip(sink.base_time())
            .map(|(running_time, base_time)| base_time + running_time + sink_latency);
        renders.lock().unwrap().push(Render {
            rtp_time,
            at,
            running_time,
            sink_latency,
            due,
        });
        None
    });
}

/// Spread between two receivers of one broadcast: for every buffer both rendered,
/// `|time(a) − time(b)|` in ns, in RTP order.
pub fn spread(a: &[Render], b: &[Render], time: impl Fn(&Render) -> Option<ClockTime>) -> Vec<u64> {
    let of_b: HashMap<u32, ClockTime> = b
        .iter()
        .filter_map(|render| Some((render.rtp_time, time(render)?)))
        .collect();
    a.iter()
        .filter_map(|render| {
            let other = of_b.get(&render.rtp_time)?;
            Some(time(render)?.nseconds().abs_diff(other.nseconds()))
        })
        .collect()
}

/// Figures of a set of values in ns: (median, 99th percentile, max), in µs.
pub fn figures(values: &[u64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let at = |quantile: f64| {
        let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
        sorted[index] as f64 / 1000.0
    };
    Some((at(0.5), at(0.99), *sorted.last().unwrap() as f64 / 1000.0))
}
