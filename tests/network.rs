//! Network broadcasts as push sources (issue 13): `pushsrcbin` around an RTP receive chain, on
//! loopback with real RTP, each test on ports of its own (receivers bind port 0 and say which
//! port they got), so the tests run in parallel.
//!
//! These run on the system clock: the sender sends in real time over a real socket, `udpsrc`
//! stamps each packet with the pipeline clock's time of arrival, and `rtpjitterbuffer` schedules
//! its timers on that clock; under a TestClock every arrival would carry the same frozen time
//! and the jitterbuffer would wait for clock advances nobody makes. What the timing decides
//! (offsets, latencies, the running time a buffer is due at) is checked exactly; only the
//! moment a sink's thread wakes up is measured, within 1 ms.

mod common;
#[path = "../examples/network_broadcast/session.rs"]
mod session;

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gst::ClockTime;
use gst::prelude::*;
use gstpushsource::PushSourceFlags;
use session::{Render, Timing};

const MAX_DURATION_NS: u64 = i64::MAX as u64;

/// Waits (within the hang guard, which no result depends on) until `done` holds.
fn await_condition(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < HANG_GUARD, "{what} within the hang guard");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn await_renders(receiver: &session::Receiver, count: usize) -> Vec<Render> {
    await_condition(&format!("{count} buffers rendered"), || {
        receiver.renders.lock().unwrap().len() >= count
    });
    receiver.renders.lock().unwrap().clone()
}

fn flags(element: &gst::Element) -> PushSourceFlags {
    element.property("push-source-flags")
}

/// Errors posted on `pipeline`'s bus so far.
fn errors(pipeline: &gst::Pipeline) -> Vec<String> {
    let bus = pipeline.bus().unwrap();
    std::iter::from_fn(|| bus.pop())
        .filter_map(|message| match message.view() {
            gst::MessageView::Error(error) => {
                Some(format!("{} ({:?})", error.error(), error.debug()))
            }
            _ => None,
        })
        .collect()
}

fn receiver(latency_ms: u32) -> session::Receiver {
    init();
    session::start_receiver(0, latency_ms, &Timing::OwnClock).expect("a receiver")
}

fn sender_to(port: u16) -> session::Sender {
    session::start_sender(&format!("127.0.0.1:{port}"), None).expect("a sender")
}

fn latency_answer(pad: &gst::Pad) -> (bool, ClockTime, Option<ClockTime>) {
    let mut query = gst::query::Latency::new();
    assert!(
        pad.query(&mut query),
        "a LATENCY answer from {}",
        pad.name()
    );
    query.result()
}

fn assert_receiver_answers_the_chains_latency(latency_ms: u32) {
    let receiver = receiver(latency_ms);
    let _sender = sender_to(receiver.port);
    await_renders(&receiver, 10);
    let expected = ms(u64::from(latency_ms));

    let chain = receiver.source.property::<gst::Element>("source");
    let (chain_live, chain_min, _) = latency_answer(&chain.static_pad("src").unwrap());
    assert!(chain_live);
    assert_eq!(chain_min, expected, "the chain's own answer");
    let (live, min, _) = latency_answer(&receiver.source.static_pad("src").unwrap());
    assert!(live);
    assert_eq!(min, chain_min, "pushsrcbin answers what the chain adds");
    assert_eq!(
        receiver.source.property::<u64>("latency"),
        expected.nseconds()
    );
    let deadline = ClockTime::from_nseconds(receiver.sink.property::<u64>("processing-deadline"));
    let mut query = gst::query::Latency::new();
    assert!(receiver.pipeline.query(&mut query));
    assert_eq!(
        query.result().1,
        expected + deadline,
        "the pipeline latency"
    );

    assert!(receiver.source.property::<bool>("network"));
    // mode=slave: the jitterbuffer's stamps are on this host's clock.
    assert_eq!(flags(&receiver.source), PushSourceFlags::empty());
    // rtpjitterbuffer keeps every packet until it is pushed (drop-on-latency=false).
    assert_eq!(
        receiver.source.property::<u64>("max-offset"),
        MAX_DURATION_NS
    );
    assert_eq!(errors(&receiver.pipeline), Vec::<String>::new());
}

#[test]
fn a_wrapped_rtp_receiver_answers_the_jitterbuffers_50_ms() {
    assert_receiver_answers_the_chains_latency(50);
}

#[test]
fn a_wrapped_rtp_receiver_answers_the_jitterbuffers_200_ms() {
    assert_receiver_answers_the_chains_latency(200);
}

/// A `pushsrcbin` around `description`, in READY (the chain is built, no data flows).
fn wrapped_in_ready(description: &str) -> gst::Element {
    init();
    let bin = gst::ElementFactory::make("pushsrcbin")
        .property("source-description", description)
        .build()
        .unwrap();
    bin.set_state(gst::State::Ready).unwrap();
    bin
}

fn jitterbuffer_chain(properties: &str) -> String {
    format!(
        "udpsrc port=0 caps=\"{}\" ! rtpjitterbuffer {properties} ! rtpL16depay",
        session::RTP_CAPS
    )
}

#[test]
fn the_flags_say_whether_the_stamps_are_on_a_shared_clock() {
    for (properties, expected) in [
        // Only mode=none carries the sender's RTP clock through.
        ("latency=80 mode=none", PushSourceFlags::PRIVATE_CLOCK),
        // slave (the default) and buffer map RTP time onto this host's clock (skew estimate).
        ("latency=80", PushSourceFlags::empty()),
        ("latency=80 mode=slave", PushSourceFlags::empty()),
        ("latency=80 mode=buffer", PushSourceFlags::empty()),
        (
            "latency=80 mode=none rfc7273-sync=true",
            PushSourceFlags::empty(),
        ),
        ("latency=80 mode=synced", PushSourceFlags::empty()),
        ("latency=80 rfc7273-sync=true", PushSourceFlags::empty()),
    ] {
        let bin = wrapped_in_ready(&jitterbuffer_chain(properties));
        assert_eq!(flags(&bin), expected, "{properties}");
        assert!(bin.property::<bool>("network"));
        assert_eq!(
            bin.property::<u64>("latency"),
            ms(80).nseconds(),
            "{properties}"
        );
        bin.set_state(gst::State::Null).unwrap();
    }

    // The flags a user writes are the user's: pushsrcbin does not add private-clock to them.
    let bin = wrapped_in_ready(&jitterbuffer_chain("latency=80 mode=none"));
    bin.set_property("push-source-flags", PushSourceFlags::empty());
    assert_eq!(flags(&bin), PushSourceFlags::empty());
    bin.set_state(gst::State::Null).unwrap();

    // A local source is no network source and keeps its flags.
    let local = wrapped_in_ready("audiotestsrc is-live=true");
    assert!(!local.property::<bool>("network"));
    assert_eq!(flags(&local), PushSourceFlags::empty());
    local.set_state(gst::State::Null).unwrap();
}

#[test]
fn max_offset_follows_what_the_jitterbuffer_can_hold() {
    let bounded = wrapped_in_ready(&jitterbuffer_chain("latency=120 drop-on-latency=true"));
    assert_eq!(bounded.property::<u64>("max-offset"), ms(120).nseconds());
    let (_, min, max) = latency_answer(&bounded.static_pad("src").unwrap());
    assert_eq!((min, max), (ms(120), Some(ms(240))));
    bounded.set_property("max-offset", ms(30).nseconds());
    assert_eq!(
        bounded.property::<u64>("max-offset"),
        ms(30).nseconds(),
        "a set value wins"
    );
    bounded.set_state(gst::State::Null).unwrap();

    let unbounded = wrapped_in_ready(&jitterbuffer_chain("latency=120"));
    assert_eq!(unbounded.property::<u64>("max-offset"), MAX_DURATION_NS);
    unbounded.set_state(gst::State::Null).unwrap();
}

#[test]
fn an_rtpbin_chain_answers_its_configured_latency_before_its_first_packet() {
    // rtpbin makes its stream pads with the first packet; until then the chain itself answers
    // "not live, 0", which says nothing about what it will add.
    let bin = wrapped_in_ready(&format!(
        "udpsrc port=0 caps=\"{}\" ! rtpbin.recv_rtp_sink_0 rtpbin name=rtpbin latency=90 \
         ! rtpL16depay",
        session::RTP_CAPS
    ));
    assert!(bin.property::<bool>("network"));
    // buffer-mode slave (the default): stamps on this host's clock.
    assert_eq!(flags(&bin), PushSourceFlags::empty());
    let (live, min, _) = latency_answer(&bin.static_pad("src").unwrap());
    assert!(live);
    assert_eq!(min, ms(90));
    assert_eq!(bin.property::<u64>("latency"), ms(90).nseconds());
    bin.set_state(gst::State::Null).unwrap();
}

/// What a sink rendered: (PTS, running time, the sink's latency, the running time on the clock
/// when its thread rendered it).
type Rendered = Arc<Mutex<Vec<(ClockTime, ClockTime, ClockTime, ClockTime)>>>;

fn record_renders(sink: &gst::Element) -> Rendered {
    use gst_base::prelude::*;
    let rendered: Rendered = Arc::default();
    let writer = rendered.clone();
    sink.connect("handoff", false, move |values| {
        let sink = values[0].get::<gst::Element>().ok()?;
        let now = sink.clock()?.time().checked_sub(sink.base_time()?)?;
        let buffer = values[1].get::<gst::Buffer>().ok()?;
        let pts = buffer.pts()?;
        let segment = sink
            .static_pad("sink")?
            .sticky_event::<gst::event::Segment>(0)?
            .segment()
            .downcast_ref::<ClockTime>()?
            .clone();
        let running_time = segment.to_running_time(pts)?;
        let latency = sink.downcast_ref::<gst_base::BaseSink>()?.latency();
        writer
            .lock()
            .unwrap()
            .push((pts, running_time, latency, now));
        None
    });
    rendered
}

/// Sets the pipeline to NULL however the test ends (a failed assertion too).
struct NullOnDrop(gst::Pipeline);

impl Drop for NullOnDrop {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

fn fakesink(name: &str) -> gst::Element {
    gst::ElementFactory::make("fakesink")
        .name(name)
        .property("sync", true)
        .property("signal-handoffs", true)
        .build()
        .unwrap()
}

fn source_entry(message: &gst::Structure, name: &str) -> gst::Structure {
    message
        .get::<gst::List>("sources")
        .unwrap()
        .iter()
        .map(|value| value.get::<gst::Structure>().unwrap())
        .find(|source| source.get::<String>("name").unwrap() == name)
        .unwrap_or_else(|| panic!("{name} in {message}"))
}

#[test]
fn graphbin_equalizes_a_local_and_a_network_source() {
    init();
    let pipeline = gst::Pipeline::new();
    let _stop = NullOnDrop(pipeline.clone());
    let graph = gst::ElementFactory::make("graphbin")
        .property("sync-using-stream-offset", true)
        .build()
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    let local = gst::ElementFactory::make("pushaudiotestsrc")
        .name("local")
        .property("is-live", true)
        .property("samplesperbuffer", 480i32)
        .property("latency", ms(33).nseconds())
        .build()
        .unwrap();
    let local_sink = fakesink("local-sink");
    let network = gst::ElementFactory::make("pushsrcbin")
        .name("network")
        .property(
            "source-description",
            session::receive_chain(0, 200, "slave"),
        )
        .build()
        .unwrap();
    let convert = gst::ElementFactory::make("audioconvert").build().unwrap();
    let network_sink = fakesink("network-sink");
    graph
        .add_many([&local, &local_sink, &network, &convert, &network_sink])
        .unwrap();
    local.link(&local_sink).unwrap();
    gst::Element::link_many([&network, &convert, &network_sink]).unwrap();
    pipeline.add(&graph).unwrap();
    let local_rendered = record_renders(&local_sink);
    let network_rendered = record_renders(&network_sink);

    pipeline.set_state(gst::State::Ready).unwrap();
    let chain = network
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap();
    let port = u16::try_from(chain.by_name("udp").unwrap().property::<i32>("port")).unwrap();
    let _sender = sender_to(port);
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();

    let message = loop {
        let message = await_element_message(&bus, "graph-latency");
        if message.get::<u64>("latency").unwrap() == ms(200).nseconds() {
            break message;
        }
    };
    let local_entry = source_entry(&message, "local");
    let network_entry = source_entry(&message, "network");
    assert_eq!(
        local_entry.get::<u64>("latency").unwrap(),
        ms(33).nseconds()
    );
    assert_eq!(
        network_entry.get::<u64>("latency").unwrap(),
        ms(200).nseconds()
    );
    assert_eq!(
        local_entry.get::<i64>("ts-offset").unwrap(),
        ms(167).nseconds() as i64
    );
    assert_eq!(network_entry.get::<i64>("ts-offset").unwrap(), 0);
    assert_eq!(local_entry.get::<String>("kind").unwrap(), "local");
    assert_eq!(network_entry.get::<String>("kind").unwrap(), "network");

    // 50 buffers (0.5 s) of each after the equalization.
    let count = |rendered: &Rendered| rendered.lock().unwrap().len();
    let (local_before, network_before) = (count(&local_rendered), count(&network_rendered));
    await_condition("50 buffers of each stream rendered", || {
        count(&local_rendered) >= local_before + 50
            && count(&network_rendered) >= network_before + 50
    });
    // The pipeline latency PL is Lmax and the sinks' processing deadline (GstBaseSink's 20 ms):
    // the network sink (offset 0) waits PL, the local one PL − 167 ms.
    let sink_latency = |sink: &gst::Element| {
        use gst_base::prelude::*;
        sink.downcast_ref::<gst_base::BaseSink>().unwrap().latency()
    };
    let deadline = ClockTime::from_nseconds(local_sink.property::<u64>("processing-deadline"));
    let pipeline_latency = sink_latency(&network_sink);
    assert_eq!(pipeline_latency, ms(200) + deadline);
    assert_eq!(sink_latency(&local_sink), pipeline_latency - ms(167));
    pipeline.set_state(gst::State::Null).unwrap();

    // Every stream is due at capture + the pipeline latency: the local source's capture time is
    // its PTS, the network source's the time of arrival the jitterbuffer stamped.
    let mut lateness = Vec::new();
    for (rendered, before) in [
        (&local_rendered, local_before),
        (&network_rendered, network_before),
    ] {
        let rendered = rendered.lock().unwrap();
        for &(pts, running_time, latency, now) in &rendered[before + 5..] {
            let due = running_time + latency;
            assert_eq!(
                due,
                pts + pipeline_latency,
                "due at capture + {pipeline_latency} (running time {running_time}, latency \
                 {latency})"
            );
            lateness.push(now.nseconds().abs_diff(due.nseconds()));
        }
    }
    lateness.sort_unstable();
    let median = lateness[lateness.len() / 2];
    assert!(
        median <= ms(1).nseconds(),
        "rendered within 1 ms of when due (median {median} ns, largest {} ns)",
        lateness.last().unwrap()
    );
}

/// RTP packets of 10 ms (480 samples of L16 mono at 48 kHz): sequence number `first_seq + n`,
/// RTP time `first_time + 480 n`, SSRC `ssrc`.
fn rtp_packets(count: u16, ssrc: u32, first_seq: u16, first_time: u32) -> Vec<Vec<u8>> {
    (0..count)
        .map(|n| {
            let mut packet = vec![0x80, 96];
            packet.extend_from_slice(&first_seq.wrapping_add(n).to_be_bytes());
            packet.extend_from_slice(&first_time.wrapping_add(480 * u32::from(n)).to_be_bytes());
            packet.extend_from_slice(&ssrc.to_be_bytes());
            packet.extend(std::iter::repeat_n(0u8, 960));
            packet
        })
        .collect()
}

/// Sends `packets` to `port` at the pace of the stream (10 ms apart), in the given order.
fn send_paced(port: u16, packets: &[Vec<u8>]) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    for (index, packet) in packets.iter().enumerate() {
        let due = start + Duration::from_millis(10 * index as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        socket.send_to(packet, ("127.0.0.1", port)).unwrap();
    }
}

#[test]
fn a_sender_that_stops_and_restarts_with_a_new_ssrc_and_new_timestamps_goes_on_playing() {
    let receiver = receiver(50);
    send_paced(receiver.port, &rtp_packets(50, 0x1111_1111, 100, 1_000));
    await_renders(&receiver, 50);
    // The sender is away for half a second (the pause paces the simulated sender; no result
    // depends on it), then restarts: new SSRC, sequence numbers and RTP times from elsewhere.
    std::thread::sleep(Duration::from_millis(500));
    send_paced(
        receiver.port,
        &rtp_packets(50, 0x2222_2222, 40_000, 3_000_000_000),
    );
    let renders = await_renders(&receiver, 100);
    assert_eq!(renders.len(), 100, "nothing lost: loopback loses nothing");
    let second: Vec<u32> = renders[50..].iter().map(|render| render.rtp_time).collect();
    let expected: Vec<u32> = (0..50).map(|n| 3_000_000_000 + 480 * n).collect();
    assert_eq!(
        second, expected,
        "the restarted stream, every packet, in order"
    );
    // Nothing was lost, and nothing is reported lost: the jump is a new stream, not a gap.
    let bus = receiver.pipeline.bus().unwrap();
    let messages: Vec<gst::Message> = std::iter::from_fn(|| bus.pop()).collect();
    assert!(
        messages.iter().all(|message| {
            message.type_() != gst::MessageType::Qos && message.type_() != gst::MessageType::Error
        }),
        "{messages:?}"
    );
    assert_eq!(receiver.pipeline.current_state(), gst::State::Playing);
}

#[test]
fn lost_and_reordered_packets_lose_nothing_more() {
    let receiver = receiver(100);
    let packets = rtp_packets(100, 0x3333_3333, 7, 90_000);
    // The network loses every tenth packet and swaps neighbours now and then, though not the
    // first two: rtpjitterbuffer starts the stream at the first packet it receives, and an
    // earlier one arriving after it is not played (GStreamer's behaviour, not the bin's).
    let mut order: Vec<usize> = (0..100).filter(|n| n % 10 != 5).collect();
    for pair in order.chunks_mut(7).skip(1) {
        if pair.len() >= 2 {
            pair.swap(0, 1);
        }
    }
    let sent: Vec<Vec<u8>> = order.iter().map(|&n| packets[n].clone()).collect();
    send_paced(receiver.port, &sent);
    let renders = await_renders(&receiver, 90);
    // The jitterbuffer gives up on a lost packet after its latency: wait for the last one.
    await_condition("the last loss counted", || {
        let stats = receiver.jitterbuffer.property::<gst::Structure>("stats");
        stats.get::<u64>("num-lost").unwrap_or(0) >= 10
    });
    let received: Vec<u32> = renders.iter().map(|render| render.rtp_time).collect();
    let expected: Vec<u32> = (0..100u32)
        .filter(|n| n % 10 != 5)
        .map(|n| 90_000 + 480 * n)
        .collect();
    assert_eq!(
        received, expected,
        "every packet the network delivered, in order"
    );
    let stats = receiver.jitterbuffer.property::<gst::Structure>("stats");
    assert_eq!(stats.get::<u64>("num-lost").unwrap(), 10, "{stats}");

    // pushsrcbin reports each loss as it reports its capture buffer's: one QOS message, with
    // what was lost and the jitterbuffer's count of packets lost so far.
    let bus = receiver.pipeline.bus().unwrap();
    let mut losses = Vec::new();
    let mut errors = Vec::new();
    await_condition("a QOS message for each lost packet", || {
        while let Some(message) = bus.pop() {
            match message.view() {
                gst::MessageView::Qos(qos)
                    if message.src() == Some(receiver.source.upcast_ref()) =>
                {
                    let (_, dropped) = qos.stats();
                    let (_, _, _, _, duration) = qos.get();
                    losses.push((dropped, duration));
                }
                gst::MessageView::Error(error) => errors.push(error.error().to_string()),
                _ => {}
            }
        }
        losses.len() >= 10
    });
    let dropped: Vec<gst::GenericFormattedValue> = losses.iter().map(|loss| loss.0).collect();
    let expected: Vec<gst::GenericFormattedValue> = (1..=10u64)
        .map(|lost| gst::format::Buffers::from_u64(lost).into())
        .collect();
    assert_eq!(dropped, expected);
    // The jitterbuffer estimates the duration of a lost packet from the arrivals around it.
    for (_, duration) in &losses {
        assert!(
            duration.is_some_and(|duration| duration > ClockTime::ZERO && duration < ms(20)),
            "about one packet lost: {duration:?}"
        );
    }
    assert_eq!(errors, Vec::<String>::new());
}

/// The RTP sequence number of a packet (bytes 2–3 of its header).
fn seqnum_of(buffer: &gst::BufferRef) -> Option<u16> {
    let map = buffer.map_readable().ok()?;
    (map.len() >= 4).then(|| u16::from_be_bytes([map[2], map[3]]))
}

/// Records the sequence number of every RTP packet that passes `pad`, in the order it passes.
fn record_seqnums(pad: &gst::Pad) -> Arc<Mutex<Vec<u16>>> {
    let seen: Arc<Mutex<Vec<u16>>> = Arc::default();
    let writer = seen.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(seqnum) = info.buffer().and_then(|buffer| seqnum_of(buffer)) {
            writer.lock().unwrap().push(seqnum);
        }
        gst::PadProbeReturn::Ok
    });
    seen
}

/// The first sequence number the sender uses: far from the 16-bit wrap, so that the tests
/// compare sequence numbers as plain integers.
const FIRST_SEQNUM: u16 = 1_000;

/// A sender whose packets cross GStreamer's `netsim` (the network) on their way to the
/// receiver; what entered the network and what left it, by sequence number.
struct NetsimSender {
    pipeline: gst::Pipeline,
    netsim: gst::Element,
    entered: Arc<Mutex<Vec<u16>>>,
    delivered: Arc<Mutex<Vec<u16>>>,
}

impl Drop for NetsimSender {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn netsim_sender_to(port: u16) -> NetsimSender {
    assert!(
        gst::ElementFactory::find("netsim").is_some(),
        "netsim is missing: install gstreamer1.0-plugins-bad (scripts/deps.sh does)"
    );
    // netsim starts as a perfect network (nothing dropped, delayed or duplicated); the test
    // turns the impairments on once the receiver has started the stream.
    let description = format!(
        "pushaudiotestsrc is-live=true samplesperbuffer=480 \
         ! audio/x-raw,rate=48000,channels=1 ! audioconvert \
         ! rtpL16pay pt=96 seqnum-offset={FIRST_SEQNUM} \
         ! netsim name=network drop-probability=0 delay-probability=0 duplicate-probability=0 \
         ! udpsink host=127.0.0.1 port={port} sync=false"
    );
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let netsim = pipeline.by_name("network").unwrap();
    let entered = record_seqnums(&netsim.static_pad("sink").unwrap());
    let delivered = record_seqnums(&netsim.static_pad("src").unwrap());
    pipeline.set_state(gst::State::Playing).unwrap();
    NetsimSender {
        pipeline,
        netsim,
        entered,
        delivered,
    }
}

/// What netsim did to the packets of a window of the stream, and what the receiver made of it.
#[derive(Debug)]
struct ThroughNetsim {
    /// Sequence numbers that entered the network, in order.
    sent: Vec<u16>,
    /// What left it, in the order it left (duplicates included).
    delivered: Vec<u16>,
    /// What the receiver's jitterbuffer pushed, in order.
    received: Vec<u16>,
    /// The jitterbuffer's `stats` at the end.
    stats: gst::Structure,
    /// The `dropped` count of each QOS message `pushsrcbin` posted.
    qos_dropped: Vec<u64>,
    errors: Vec<String>,
}

impl ThroughNetsim {
    /// Sent but never delivered: what the network lost.
    fn lost_in_the_network(&self) -> Vec<u16> {
        let delivered: std::collections::BTreeSet<u16> = self.delivered.iter().copied().collect();
        self.sent
            .iter()
            .copied()
            .filter(|seqnum| !delivered.contains(seqnum))
            .collect()
    }

    /// Every packet the network delivered, once each, in sending order.
    fn delivered_in_order(&self) -> Vec<u16> {
        let delivered: std::collections::BTreeSet<u16> = self.delivered.iter().copied().collect();
        delivered.into_iter().collect()
    }

    /// Packets that left the network after one sent later than them.
    fn overtaken(&self) -> usize {
        let mut latest = None;
        let mut count = 0;
        for &seqnum in &self.delivered {
            match latest {
                Some(latest) if seqnum < latest => count += 1,
                _ => latest = Some(seqnum),
            }
        }
        count
    }

    fn duplicated(&self) -> usize {
        self.delivered.len() - self.delivered_in_order().len()
    }

    fn counted(&self, field: &str) -> u64 {
        self.stats.get::<u64>(field).unwrap_or(0)
    }
}

/// The packets `receiver` gets of a stream that crosses netsim with `impairments` (netsim
/// properties) for `impaired_packets` packets. The stream
/// starts and ends on a perfect network: the receiver starts at the first packet it receives
/// (an earlier one arriving after it is not played), and cannot know of a packet lost after
/// the last one it received. The window compared is from the first packet the receiver
/// received to the first packet sent after the impairments were turned off.
fn through_netsim(
    receiver: session::Receiver,
    impairments: &[(&str, &dyn ToValue)],
    impaired_packets: usize,
) -> ThroughNetsim {
    // What the depayloader receives: what the jitterbuffer pushed, in order.
    let chain = receiver
        .source
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap();
    let depayloader = chain.by_name("depay").unwrap();
    let received = record_seqnums(&depayloader.static_pad("sink").unwrap());
    let sender = netsim_sender_to(receiver.port);
    await_condition("the stream started at the receiver", || {
        received.lock().unwrap().len() >= 10
    });

    let impaired_from = sender.entered.lock().unwrap().len();
    for (name, value) in impairments {
        sender
            .netsim
            .set_property_from_value(name, &value.to_value());
    }
    await_condition("the impaired packets sent", || {
        sender.entered.lock().unwrap().len() >= impaired_from + impaired_packets
    });
    sender.netsim.set_property("drop-probability", 0.0f32);
    sender.netsim.set_property("delay-probability", 0.0f32);
    sender.netsim.set_property("duplicate-probability", 0.0f32);
    // Every packet that enters the network after this one was sent on a perfect network (the
    // properties were written before its probe ran); those before may still be on their way.
    let clean_from = *sender.entered.lock().unwrap().last().unwrap() + 1;
    // The jitterbuffer pushes in order, once it has every earlier packet or gave up on it: a
    // clean packet pushed means every loss before it has been counted and reported.
    await_condition("a packet sent on the perfect network received", || {
        received
            .lock()
            .unwrap()
            .last()
            .is_some_and(|&seqnum| seqnum >= clean_from)
    });
    assert_eq!(
        sender.netsim.property::<u32>("drop-packets"),
        0,
        "netsim dropped every packet it was told to"
    );

    let received = received.lock().unwrap().clone();
    let first = received[0];
    let window = |seqnums: &[u16]| -> Vec<u16> {
        seqnums
            .iter()
            .copied()
            .filter(|seqnum| (first..clean_from).contains(seqnum))
            .collect()
    };
    let bus = receiver.pipeline.bus().unwrap();
    let mut qos_dropped = Vec::new();
    let mut error_messages = errors(&sender.pipeline);
    for message in std::iter::from_fn(|| bus.pop()) {
        match message.view() {
            gst::MessageView::Qos(qos) if message.src() == Some(receiver.source.upcast_ref()) => {
                match qos.stats().1 {
                    gst::GenericFormattedValue::Buffers(Some(dropped)) => {
                        qos_dropped.push(*dropped)
                    }
                    other => panic!("a QOS message counting buffers, not {other:?}"),
                }
            }
            gst::MessageView::Error(error) => error_messages.push(error.error().to_string()),
            _ => {}
        }
    }
    ThroughNetsim {
        sent: window(&sender.entered.lock().unwrap()),
        delivered: window(&sender.delivered.lock().unwrap()),
        received: window(&received),
        stats: jitterbuffer_inside(&receiver.jitterbuffer)
            .unwrap_or_else(|| receiver.jitterbuffer.clone())
            .property::<gst::Structure>("stats"),
        qos_dropped,
        errors: error_messages,
    }
}

/// 150 packets (1.5 s) of each impairment: enough for netsim's random choices to do what is
/// asked at least once (for a probability of 0.1, all 150 spared: 0.9^150 ≈ 1.4·10⁻⁷).
const IMPAIRED_PACKETS: usize = 150;

/// The jitterbuffer's latency: far above netsim's largest delay (45 ms), so that every packet
/// the network delivers is in time, however loaded the machine.
const NETSIM_LATENCY_MS: u32 = 400;

/// Asserts the outcome all impairments share: nothing lost beyond what the network lost, every
/// packet pushed once and in order, each loss counted and reported in a QOS message.
fn assert_nothing_lost_beyond_the_network(outcome: &ThroughNetsim) {
    assert_eq!(outcome.errors, Vec::<String>::new());
    assert_eq!(
        outcome.received,
        outcome.delivered_in_order(),
        "every packet the network delivered, once, in order ({outcome:?})"
    );
    let lost = outcome.lost_in_the_network().len() as u64;
    assert_eq!(
        outcome.counted("num-lost"),
        lost,
        "the jitterbuffer counts what the network lost ({outcome:?})"
    );
    // One QOS message per loss the jitterbuffer announces (it may announce a run of losses at
    // once), each with the jitterbuffer's count of packets lost so far: it never goes back, it
    // counts at least the losses announced (a loss is counted when the jitterbuffer gives up on
    // the packet, which may be a little before its announcement is pushed), and the last
    // message counts every loss.
    assert_eq!(outcome.qos_dropped.last().copied().unwrap_or(0), lost);
    assert!(outcome.qos_dropped.len() as u64 <= lost);
    assert!(
        outcome
            .qos_dropped
            .windows(2)
            .all(|pair| pair[0] <= pair[1])
            && (1..)
                .zip(&outcome.qos_dropped)
                .all(|(announced, &counted)| counted >= announced),
        "{:?}",
        outcome.qos_dropped
    );
}

#[test]
fn packets_netsim_drops_are_reported_lost_and_nothing_more_is_lost() {
    init();
    // Random drops, and a burst of three in a row (netsim's `drop-packets`: certain).
    let outcome = through_netsim(
        receiver(NETSIM_LATENCY_MS),
        &[("drop-probability", &0.1f32), ("drop-packets", &3u32)],
        IMPAIRED_PACKETS,
    );
    assert!(
        outcome.lost_in_the_network().len() >= 3,
        "the network lost packets ({outcome:?})"
    );
    assert_nothing_lost_beyond_the_network(&outcome);
    assert!(!outcome.qos_dropped.is_empty());
}

#[test]
fn packets_netsim_delays_past_later_ones_are_put_back_in_order() {
    init();
    // A third of the packets 15 to 45 ms late: later packets (10 ms apart) overtake them. Some
    // arrive twice. Nothing is lost.
    let outcome = through_netsim(
        receiver(NETSIM_LATENCY_MS),
        &[
            ("delay-probability", &0.3f32),
            ("min-delay", &15i32),
            ("max-delay", &45i32),
            ("duplicate-probability", &0.1f32),
        ],
        IMPAIRED_PACKETS,
    );
    assert!(
        outcome.overtaken() > 0,
        "the network reordered ({outcome:?})"
    );
    assert!(
        outcome.duplicated() > 0,
        "the network duplicated ({outcome:?})"
    );
    assert_eq!(outcome.lost_in_the_network(), Vec::<u16>::new());
    assert_nothing_lost_beyond_the_network(&outcome);
    assert_eq!(
        outcome.received, outcome.sent,
        "every packet sent, in order"
    );
    // Reordering and duplicates are no loss: nothing is reported.
    assert_eq!(outcome.qos_dropped, Vec::<u64>::new());
    // The second copy is dropped as a duplicate (or as late, once the first has been pushed).
    assert_eq!(
        outcome.counted("num-duplicates") + outcome.counted("num-late"),
        outcome.duplicated() as u64,
        "{outcome:?}"
    );
}

#[test]
fn a_netsim_network_that_drops_delays_and_duplicates_loses_nothing_more() {
    init();
    let outcome = through_netsim(
        receiver(NETSIM_LATENCY_MS),
        &[
            ("drop-probability", &0.1f32),
            ("drop-packets", &3u32),
            ("delay-probability", &0.3f32),
            ("min-delay", &15i32),
            ("max-delay", &45i32),
            ("duplicate-probability", &0.1f32),
        ],
        IMPAIRED_PACKETS,
    );
    assert!(outcome.lost_in_the_network().len() >= 3, "{outcome:?}");
    assert!(outcome.overtaken() > 0, "{outcome:?}");
    assert_nothing_lost_beyond_the_network(&outcome);
}

#[test]
fn an_unreachable_network_clock_is_a_clear_error_not_a_hang() {
    init();
    // A socket that is bound but never answers: nothing serves a clock there.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let timing = Timing::NetworkClock {
        host: "127.0.0.1".to_string(),
        port,
        base_time: ClockTime::ZERO,
        sync_timeout: Duration::from_millis(300),
    };
    let result = guarded("an unreachable clock", move || {
        session::start_receiver(0, 200, &timing).map(|_| ())
    });
    let error = result.expect_err("no receiver without its clock");
    assert!(
        error.contains(&format!(
            "network clock at 127.0.0.1:{port} did not answer within 300 ms"
        )),
        "{error}"
    );
}

#[test]
fn two_receivers_on_a_network_clock_render_in_step() {
    init();
    let sender = session::start_sender("", Some(0)).expect("a sender");
    let timing = Timing::NetworkClock {
        host: "127.0.0.1".to_string(),
        port: sender.clock_port,
        base_time: sender.base_time,
        sync_timeout: Duration::from_secs(10),
    };
    let receivers: Vec<session::Receiver> = (0..2)
        .map(|_| session::start_receiver(0, 200, &timing).expect("a receiver"))
        .collect();
    for receiver in &receivers {
        assert_eq!(
            flags(&receiver.source),
            PushSourceFlags::empty(),
            "a shared clock"
        );
        sender.add_client("127.0.0.1", receiver.port);
    }
    let a = await_renders(&receivers[0], 100);
    let b = await_renders(&receivers[1], 100);
    // When each buffer is due, on the shared clock, at A minus at B.
    let due_at_b: std::collections::HashMap<u32, ClockTime> = b
        .iter()
        .filter_map(|render| Some((render.rtp_time, render.due?)))
        .collect();
    let differences: Vec<i128> = a
        .iter()
        .filter_map(|render| {
            let at_b = due_at_b.get(&render.rtp_time)?;
            Some(i128::from(render.due?.nseconds()) - i128::from(at_b.nseconds()))
        })
        .collect();
    assert!(differences.len() >= 90, "the same buffers rendered by both");
    // Both follow the sender's RTP clock on the shared clock: the difference never moves (to
    // the rounding of one RTP tick to ns).
    let (low, high) = (
        differences.iter().min().unwrap(),
        differences.iter().max().unwrap(),
    );
    assert!(
        high - low <= 1_000,
        "a constant difference ({low}..{high} ns)"
    );
    // What it is: `synced` anchors each receiver at the arrival of its first packet, so the
    // receiving threads' wake-ups set it (BENCHMARKS.md has the figures over 60 s); the bound
    // leaves room for a loaded machine. On one host every clock reads the same monotonic
    // clock, so this shows the machinery at work (clock synchronised, one base time, stamps on
    // the shared clock), not what it saves across hosts.
    assert!(
        *low > -5_000_000 && *high < 5_000_000,
        "due within 5 ms of each other on the shared clock ({low}..{high} ns)"
    );
    for receiver in &receivers {
        assert_eq!(errors(&receiver.pipeline), Vec::<String>::new());
    }
}

/// A receiver whose chain is an `rtpbin` (its own jitterbuffers), on its own clock.
fn rtpbin_receiver(latency_ms: u32) -> session::Receiver {
    init();
    let description = format!(
        "udpsrc name=udp port=0 {} caps=\"{}\" ! rtpbin.recv_rtp_sink_0 \
         rtpbin name=rtpbin latency={latency_ms} ! rtpL16depay name=depay",
        session::RECEIVE_SOCKET,
        session::RTP_CAPS
    );
    let pipeline = gst::Pipeline::new();
    let source = gst::ElementFactory::make("pushsrcbin")
        .property("source-description", description)
        .build()
        .unwrap();
    let convert = gst::ElementFactory::make("audioconvert").build().unwrap();
    let sink = fakesink("render");
    pipeline.add_many([&source, &convert, &sink]).unwrap();
    gst::Element::link_many([&source, &convert, &sink]).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    let chain = source
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap();
    let port = u16::try_from(chain.by_name("udp").unwrap().property::<i32>("port")).unwrap();
    let rtpbin = chain.by_name("rtpbin").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    session::Receiver {
        pipeline,
        source,
        jitterbuffer: rtpbin,
        sink,
        port,
        rtcp_port: 0,
        renders: Arc::default(),
    }
}

#[test]
fn packets_netsim_drops_before_an_rtpbin_are_reported_lost_too() {
    // The jitterbuffers rtpbin makes are watched as it makes them.
    let outcome = through_netsim(
        rtpbin_receiver(NETSIM_LATENCY_MS),
        &[("drop-probability", &0.1f32), ("drop-packets", &3u32)],
        IMPAIRED_PACKETS,
    );
    assert!(
        outcome.lost_in_the_network().len() >= 3,
        "the network lost packets ({outcome:?})"
    );
    assert_nothing_lost_beyond_the_network(&outcome);
    assert!(!outcome.qos_dropped.is_empty());
}

#[test]
fn a_jitterbuffer_an_rtpbin_drops_is_not_kept_alive_by_the_loss_watch() {
    // rtpbin makes a jitterbuffer per SSRC and drops it when the stream ends (a timeout, a BYE,
    // or `clear-ssrc`); a long session with many senders must not keep them all.
    let receiver = rtpbin_receiver(50);
    const SSRC: u32 = 0x3333_3333;
    send_paced(receiver.port, &rtp_packets(20, SSRC, 7, 0));
    await_condition("the jitterbuffer pushed the stream", || {
        jitterbuffer_inside(&receiver.jitterbuffer).is_some_and(|jitterbuffer| {
            jitterbuffer
                .property::<gst::Structure>("stats")
                .get::<u64>("num-pushed")
                .is_ok_and(|pushed| pushed >= 20)
        })
    });
    let src_pad = {
        let jitterbuffer = jitterbuffer_inside(&receiver.jitterbuffer).expect("a jitterbuffer");
        jitterbuffer.static_pad("src").unwrap().downgrade()
    };
    receiver
        .jitterbuffer
        .emit_by_name::<()>("clear-ssrc", &[&0u32, &SSRC]);
    assert_eq!(
        jitterbuffer_inside(&receiver.jitterbuffer).map(|j| j.name()),
        None,
        "rtpbin dropped the stream's jitterbuffer"
    );
    // Messages waiting on the bus hold their sources: the jitterbuffer, its pads.
    let bus = receiver.pipeline.bus().unwrap();
    while bus.pop().is_some() {}
    assert!(
        src_pad.upgrade().is_none(),
        "the dropped jitterbuffer's pad was freed"
    );
    receiver.pipeline.set_state(gst::State::Null).unwrap();
}

/// The `rtpjitterbuffer` an `rtpbin` made for its stream, once the stream is there.
fn jitterbuffer_inside(rtpbin: &gst::Element) -> Option<gst::Element> {
    rtpbin
        .downcast_ref::<gst::Bin>()?
        .iterate_recurse()
        .into_iter()
        .flatten()
        .find(|element| {
            element
                .factory()
                .is_some_and(|factory| factory.name() == "rtpjitterbuffer")
        })
}

/// A sender with RTCP sender reports on its network clock, and two receivers (pushsrcbin around
/// `rtpbin`, 200 ms) on that clock, each sent the stream and the reports.
fn reporting_sender_and_two_receivers() -> (session::Sender, Vec<session::Receiver>) {
    let sender =
        session::start_sender_reporting("", Some(""), Some(0)).expect("a reporting sender");
    let timing = Timing::SenderReports {
        host: "127.0.0.1".to_string(),
        port: sender.clock_port,
        rtcp_port: 0,
        sync_timeout: Duration::from_secs(10),
    };
    let receivers: Vec<session::Receiver> = (0..2)
        .map(|_| session::start_receiver(0, 200, &timing).expect("a receiver"))
        .collect();
    for receiver in &receivers {
        sender.add_client("127.0.0.1", receiver.port);
        sender.add_rtcp_client("127.0.0.1", receiver.rtcp_port);
    }
    (sender, receivers)
}

#[test]
fn two_receivers_on_rtcp_sender_reports_have_each_buffer_due_at_one_time() {
    init();
    let (_sender, receivers) = reporting_sender_and_two_receivers();
    for receiver in &receivers {
        // pushsrcbin recognizes the rtpbin: a network source, on the shared clock (`synced`),
        // adding the latency rtpbin is configured with.
        assert!(receiver.source.property::<bool>("network"));
        assert_eq!(flags(&receiver.source), PushSourceFlags::empty());
        assert_eq!(
            receiver.source.property::<u64>("latency"),
            ms(200).nseconds()
        );
        assert_ne!(receiver.rtcp_port, 0);
    }
    // rtpbin applies a sender report by offsetting its jitterbuffer's stamps (`ts-offset`):
    // from then on a buffer's stamp is its capture time on the shared clock.
    await_condition("a sender report applied at each receiver", || {
        receivers.iter().all(|receiver| {
            jitterbuffer_inside(&receiver.jitterbuffer)
                .is_some_and(|jitterbuffer| jitterbuffer.property::<i64>("ts-offset") != 0)
        })
    });
    for receiver in &receivers {
        receiver.renders.lock().unwrap().clear();
    }
    let a = await_renders(&receivers[0], 100);
    let b = await_renders(&receivers[1], 100);
    // The first ones may have left the jitterbuffer before the offset (no queue between it and
    // the sink holds more than a buffer or two).
    let spread = session::spread(&a[10..], &b, |render| render.due);
    assert!(spread.len() >= 80, "the same buffers rendered by both");
    // Each receiver has the same sender reports and the same clock: each buffer is due at the
    // same time of the shared clock, to the rounding of an RTP tick (21 µs) in a report that
    // one receiver has applied a moment before the other. No anchor at the first packet's
    // arrival (`synced` alone: up to the wake-up delay of a receiving thread).
    assert!(
        spread.iter().all(|&ns| ns <= 50_000),
        "due within 50 µs of each other on the shared clock: {spread:?}"
    );
    for receiver in &receivers {
        assert_eq!(errors(&receiver.pipeline), Vec::<String>::new());
    }
}

/// From the first buffer on, not only after the first report: the sender reports often enough
/// (and its session knows its bandwidth, so that the interval does not start long) that the
/// first report reaches a receiver before its jitterbuffer lets the first packet go, and a
/// receiver's base time lies one latency back, so that no packet captured before it started
/// has its stamp clipped to 0. Before, the first report came up to 0.5 s after the first
/// packet (the stream then moved by about 30 ms), and the first packets of each receiver were
/// due at its own base time (the receivers' spread was the difference of their start times).
#[test]
fn two_receivers_on_rtcp_sender_reports_have_every_buffer_due_at_one_time_from_the_first() {
    init();
    let (_sender, receivers) = reporting_sender_and_two_receivers();
    let a = await_renders(&receivers[0], 100);
    let b = await_renders(&receivers[1], 100);
    let spread = session::spread(&a, &b, |render| render.due);
    assert!(spread.len() >= 90, "the same buffers rendered by both");
    assert!(
        spread.iter().all(|&ns| ns <= 50_000),
        "every buffer due within 50 µs at both receivers, the first ones too: {spread:?}"
    );
    for receiver in &receivers {
        assert_eq!(errors(&receiver.pipeline), Vec::<String>::new());
    }
}

/// The README's one-liner for an RTP receiver (its port made free for the test) receives a
/// broadcast and reports what the chain adds.
#[test]
fn the_readmes_one_liner_receives_a_broadcast() {
    init();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let one_liner = readme
        .lines()
        .find(|line| line.starts_with("pushsrcbin source-description=\"udpsrc port=5004"))
        .expect("the one-liner in the README");
    // A port of its own (see `session::RECEIVE_SOCKET`).
    let description = one_liner.replace("port=5004", "port=0 reuse=false");
    let pipeline = gst::parse::launch(&format!(
        "{description} name=net ! audioconvert ! fakesink name=sink sync=true signal-handoffs=true"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let _stop = NullOnDrop(pipeline.clone());
    let source = pipeline.by_name("net").unwrap();
    let rendered = record_renders(&pipeline.by_name("sink").unwrap());
    pipeline.set_state(gst::State::Ready).unwrap();
    let chain = source
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap();
    let udp = chain
        .iterate_recurse()
        .into_iter()
        .flatten()
        .find(|element| {
            element
                .factory()
                .is_some_and(|factory| factory.name() == "udpsrc")
        })
        .unwrap();
    let port = u16::try_from(udp.property::<i32>("port")).unwrap();
    let _sender = sender_to(port);
    pipeline.set_state(gst::State::Playing).unwrap();
    await_condition("20 buffers rendered", || {
        rendered.lock().unwrap().len() >= 20
    });
    assert_eq!(source.property::<u64>("latency"), ms(200).nseconds());
    assert_eq!(flags(&source), PushSourceFlags::empty(), "mode=slave");
    assert!(source.property::<bool>("network"));
    assert_eq!(errors(&pipeline), Vec::<String>::new());
}

/// The first `rate-matching` message on `bus` from an element whose factory is `ratematch`.
fn first_rate_matching_report(bus: &gst::Bus) -> (gst::Element, gst::Structure) {
    loop {
        let message = bus
            .timed_pop(ClockTime::from_seconds(HANG_GUARD.as_secs()))
            .expect("a rate-matching message within the hang guard");
        match message.view() {
            gst::MessageView::Element(element)
                if element
                    .structure()
                    .is_some_and(|s| s.name() == "rate-matching") =>
            {
                let source = message
                    .src()
                    .unwrap()
                    .downcast_ref::<gst::Element>()
                    .unwrap();
                return (source.clone(), element.structure().unwrap().to_owned());
            }
            gst::MessageView::Error(error) => {
                panic!("error: {} ({:?})", error.error(), error.debug())
            }
            _ => {}
        }
    }
}

fn mode_nick(ratematch: &gst::Element) -> String {
    let value = ratematch.property_value("mode");
    gst::glib::EnumValue::from_value(&value)
        .unwrap()
        .1
        .nick()
        .to_string()
}

/// `ratematch mode=auto` behind a wrapped RTP receiver (a sender on loopback) decides from
/// `pushsrcbin`'s flags: with `mode=none`, `private-clock`, so `timestamps`; the same receiver
/// with its flags written empty gives `graph-clock`, so it is the bin's flags that decided; with
/// `mode=slave`, no flag, so `graph-clock`.
#[test]
fn ratematch_auto_finds_the_wrapped_rtp_receiver_upstream() {
    for (mode, flags, expected) in [
        ("none", None, "timestamps"),
        ("none", Some(PushSourceFlags::empty()), "graph-clock"),
        ("slave", None, "graph-clock"),
    ] {
        init();
        let pipeline = gst::Pipeline::new();
        let _stop = NullOnDrop(pipeline.clone());
        let network = gst::ElementFactory::make("pushsrcbin")
            .name("net")
            .property("source-description", session::receive_chain(0, 50, mode))
            .build()
            .unwrap();
        if let Some(flags) = flags {
            network.set_property("push-source-flags", flags);
        }
        let convert = gst::ElementFactory::make("audioconvert").build().unwrap();
        let matcher = gst::ElementFactory::make("ratematch").build().unwrap();
        let queue = gst::ElementFactory::make("queue").build().unwrap();
        let sink = fakesink("render");
        let chain = [&network, &convert, &matcher, &queue, &sink];
        pipeline.add_many(chain).unwrap();
        gst::Element::link_many(chain).unwrap();
        pipeline.set_state(gst::State::Ready).unwrap();
        let udp = network
            .property::<gst::Element>("source")
            .downcast::<gst::Bin>()
            .unwrap()
            .by_name("udp")
            .unwrap();
        let _sender = sender_to(u16::try_from(udp.property::<i32>("port")).unwrap());
        let bus = pipeline.bus().unwrap();
        pipeline.set_state(gst::State::Playing).unwrap();
        let (source, report) = first_rate_matching_report(&bus);
        assert_eq!(source, matcher);
        assert_eq!(
            report.get::<String>("mode").unwrap(),
            expected,
            "mode={mode}, flags {flags:?}"
        );
        assert_eq!(mode_nick(&matcher), "auto");
    }
}

/// In `graphbin`, a wrapped RTP receiver in front of an audio sink (`alsasink device=null`, a
/// real `GstAudioBaseSink` without hardware; it does not pace, so only the decision is
/// asserted here): with `mode=none` (the sender's clock) the `graph-latency` message names it a
/// network source matched by `timestamps`, and the `ratematch` graphbin puts in front of the
/// sink runs in that mode.
#[test]
fn graphbin_matches_a_network_source_by_its_timestamps() {
    init();
    let graph = gst::parse::launch(&format!(
        "graphbin.( name=graph pushsrcbin name=net source-description=\"{}\" ! audioconvert \
         ! alsasink name=sink device=null sync=false )",
        session::receive_chain(0, 50, "none").replace('"', "\\\"")
    ))
    .unwrap();
    let pipeline = gst::Pipeline::new();
    let _stop = NullOnDrop(pipeline.clone());
    pipeline.add(&graph).unwrap();
    pipeline.set_state(gst::State::Ready).unwrap();
    let network = pipeline.by_name("net").unwrap();
    let udp = network
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap()
        .by_name("udp")
        .unwrap();
    let _sender = sender_to(u16::try_from(udp.property::<i32>("port")).unwrap());
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();

    let message = await_element_message(&bus, "graph-latency");
    let entry = source_entry(&message, "net");
    assert_eq!(entry.get::<String>("kind").unwrap(), "network", "{message}");
    assert_eq!(
        entry.get::<String>("rate-matching").unwrap(),
        "timestamps",
        "{message}"
    );
    let (matcher, report) = first_rate_matching_report(&bus);
    let sink = pipeline.by_name("sink").unwrap();
    let feeder = sink.static_pad("sink").unwrap().peer().unwrap();
    assert_eq!(
        feeder.parent_element().as_ref(),
        Some(&matcher),
        "graphbin's ratematch feeds the sink"
    );
    assert_eq!(mode_nick(&matcher), "timestamps");
    assert_eq!(report.get::<String>("mode").unwrap(), "timestamps");
}

/// The drifting sender's sine: 20 Hz, so one period (50 ms) is far more than any arrival jitter
/// and a decoded phase names its capture time unambiguously between neighbouring buffers.
const SINE_HZ: f64 = 20.0;
const SINE_PERIOD_NS: f64 = 1e9 / SINE_HZ;
const RATE: f64 = 48_000.0;
/// Seconds of output the loop has to lock (README: "locks within about 5 s").
const LOCK_SECONDS: f64 = 5.0;
/// Seconds of output looked at after the lock.
const LOCKED_SECONDS: f64 = 7.0;
/// How far the rate the jitterbuffer's stamps convey over the locked seconds may be from the
/// device's. Its skew estimate fills a 2 s window, then follows the window's minimum by 1/125
/// a packet (τ = 1.25 s at 100 packets/s): its rate error on a 1000 ppm ramp decays as
/// `1000·e^(−t/τ)` ppm, which averaged from 3 s to 10 s after the fill is
/// `1000·τ/7 s·(e^(−3/τ) − e^(−10/τ))` ≈ 16 ppm (measured 2–16 ppm).
const STAMPED_DRIFT_TOLERANCE_PPM: f64 = 25.0;
/// How far ratematch's drift may be from the device's: its rate line starts from a least-squares
/// fit through the stamps from the first one (up to 10 s), when the skew estimate was still
/// settling, and its ratio carries the loop's phase correction (measured 3–31 ppm). At this
/// bound the delay would move by 0.35 ms over the locked 7 s, within the 1 ms asserted.
const DRIFT_TOLERANCE_PPM: f64 = 50.0;

/// The phase (radians, at its first sample) of the 20 Hz sine in `samples`, spaced `spacing`
/// seconds of the signal's time apart: the least-squares fit of `a·sin + b·cos`.
fn sine_phase(samples: &[f64], spacing: f64) -> f64 {
    let points = samples
        .iter()
        .enumerate()
        .map(|(n, &x)| (n as f64 * spacing, x));
    let (a, b) = fit_sine(points, SINE_HZ);
    b.atan2(a)
}

/// The mono samples of `buffer` (S16LE or F32LE, as the caps on the pad say).
fn samples_of(buffer: &gst::BufferRef, pad: &gst::Pad) -> Vec<f64> {
    let caps = pad.current_caps().expect("caps before data");
    let info = gst_audio::AudioInfo::from_caps(&caps).unwrap();
    assert_eq!(info.channels(), 1);
    let map = buffer.map_readable().unwrap();
    match info.format() {
        gst_audio::AudioFormat::S16le => map
            .chunks_exact(2)
            .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        gst_audio::AudioFormat::F32le => map
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        other => panic!("unexpected format {other:?}"),
    }
}

/// `value` moved by whole sine periods to lie within half a period of `near`.
fn nearest_period(value: f64, near: f64) -> f64 {
    value + ((near - value) / SINE_PERIOD_NS).round() * SINE_PERIOD_NS
}

/// One buffer seen on a pad: its running time (the stamp's, or the clock's at arrival), its
/// frames, the phase of its first sample, DISCONT.
#[derive(Debug, Clone, Copy)]
struct Seen {
    time: u64,
    duration: u64,
    frames: u64,
    phase: f64,
    discont: bool,
}

type SeenLog = Arc<Mutex<Vec<Seen>>>;

/// Records each buffer through `pad`, timed by `when` (running time in ns), its phase decoded
/// with samples `spacing` seconds of signal time apart.
fn record_seen(
    pad: &gst::Pad,
    spacing: f64,
    when: impl Fn(&gst::Pad, &gst::BufferRef) -> Option<u64> + Send + Sync + 'static,
) -> SeenLog {
    let log = SeenLog::default();
    let writer = log.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        if let Some(buffer) = info.buffer()
            && let Some(time) = when(pad, buffer)
        {
            let samples = samples_of(buffer, pad);
            writer.lock().unwrap().push(Seen {
                time,
                duration: buffer.duration().map_or(0, gst::ClockTime::nseconds),
                frames: samples.len() as u64,
                phase: sine_phase(&samples, spacing),
                discont: buffer.flags().contains(gst::BufferFlags::DISCONT),
            });
        }
        gst::PadProbeReturn::Ok
    });
    log
}

/// The running time of the stamp of `buffer` on `pad` (its sticky segment's).
fn stamp_running_time(pad: &gst::Pad, buffer: &gst::BufferRef) -> Option<u64> {
    let segment = pad.sticky_event::<gst::event::Segment>(0)?;
    let segment = segment.segment().downcast_ref::<ClockTime>()?.clone();
    Some(segment.to_running_time(buffer.pts()?)?.nseconds())
}

/// A sender whose capture device drifts by `ppm`: `pushaudiotestsrc` (no flags: its stamps are
/// capture times on the system clock, its sample count runs `1 + ppm·10⁻⁶` times as fast),
/// a 20 Hz sine, RTP L16 at 48 kHz to `port`, sent at the capture times (`sync=true`), so the
/// RTP clock on the wire is the device's. What it captured is recorded at the payloader.
fn drifting_sender(port: u16, ppm: i64) -> (session::Sender, SeenLog) {
    let pipeline = gst::parse::launch(&format!(
        "pushaudiotestsrc name=capture is-live=true samplesperbuffer=480 drift={ppm} wave=sine \
         freq={SINE_HZ} volume=0.5 ! audio/x-raw,format=S16LE,rate=48000,channels=1 \
         ! audioconvert ! rtpL16pay pt=96 ! udpsink host=127.0.0.1 port={port} sync=true"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let capture = pipeline.by_name("capture").unwrap();
    let spacing = 1.0 / (RATE * (1.0 + ppm as f64 * 1e-6));
    let captured = record_seen(
        &capture.static_pad("src").unwrap(),
        spacing,
        stamp_running_time,
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    let base_time = pipeline.base_time().unwrap_or(ClockTime::ZERO);
    let sender = session::Sender {
        pipeline,
        provider: None,
        clock_port: 0,
        base_time,
    };
    (sender, captured)
}

/// Least-squares line `y = α + β·x` through `points`.
fn line_through(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x / n, sy + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(sxy, sxx), &(x, y)| {
        (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
    });
    let beta = sxy / sxx;
    (my - beta * mx, beta)
}

/// A sender whose device clock drifts by `ppm`, received over RTP on loopback by `pushsrcbin`
/// around `udpsrc ! rtpjitterbuffer mode=slave ! rtpL16depay` (no flag: the jitterbuffer maps
/// RTP time onto this host's running time with its skew estimate), matched by an explicit
/// `ratematch` in mode `auto` into a synchronised `fakesink` on the system clock. `auto` must
/// find `pushsrcbin` upstream and decide `graph-clock`.
///
/// Measured apart from what `ratematch` reports: the sine's phase names the sender's capture
/// time of every buffer (one clock in one process: the system clock). Where a frame belongs is
/// now its stamp's running time (README, mode `graph-clock`), so the output buffer rendered at
/// running time `t` (its stamp; the sink renders it at `t` + latency) must carry what was
/// captured at `t − d` with `d` constant after the lock: the network and jitterbuffer delay.
/// The device's drift is the slope of capture time over frames.
fn drift_of_the_sender_is_matched(ppm: i64) {
    const JITTERBUFFER_MS: u32 = 100;
    let what = format!("sender drift {ppm:+} ppm");
    init();
    let pipeline = gst::Pipeline::new();
    let _stop = NullOnDrop(pipeline.clone());
    let network = gst::ElementFactory::make("pushsrcbin")
        .name("net")
        .property(
            "source-description",
            session::receive_chain(0, JITTERBUFFER_MS, "slave"),
        )
        .build()
        .unwrap();
    let convert = gst::ElementFactory::make("audioconvert").build().unwrap();
    let float = gst::ElementFactory::make("capsfilter")
        .property(
            "caps",
            gst::Caps::builder("audio/x-raw")
                .field("format", "F32LE")
                .build(),
        )
        .build()
        .unwrap();
    let matcher = gst::ElementFactory::make("ratematch").build().unwrap();
    let queue = gst::ElementFactory::make("queue").build().unwrap();
    let sink = fakesink("render");
    let chain = [&network, &convert, &float, &matcher, &queue, &sink];
    pipeline.add_many(chain).unwrap();
    gst::Element::link_many(chain).unwrap();
    let arrived = record_seen(
        &matcher.static_pad("sink").unwrap(),
        1.0 / (RATE * (1.0 + ppm as f64 * 1e-6)),
        stamp_running_time,
    );
    let rendered = record_seen(
        &matcher.static_pad("src").unwrap(),
        1.0 / RATE,
        stamp_running_time,
    );

    pipeline.set_state(gst::State::Ready).unwrap();
    let chain = network
        .property::<gst::Element>("source")
        .downcast::<gst::Bin>()
        .unwrap();
    let port = u16::try_from(chain.by_name("udp").unwrap().property::<i32>("port")).unwrap();
    assert_eq!(flags(&network), PushSourceFlags::empty(), "{what}");
    pipeline.set_state(gst::State::Playing).unwrap();
    let (sender, captured) = drifting_sender(port, ppm);

    let output_seconds = |log: &SeenLog| {
        let log = log.lock().unwrap();
        match (log.first(), log.last()) {
            (Some(first), Some(last)) => (last.time - first.time) as f64 / 1e9,
            _ => 0.0,
        }
    };
    await_condition(&format!("{what}: 12 s rendered"), || {
        output_seconds(&rendered) >= LOCK_SECONDS + LOCKED_SECONDS
    });
    let drift_property = matcher.property::<f64>("drift");
    let receiver_base = pipeline.base_time().unwrap().nseconds();
    let sender_base = sender.base_time.nseconds();
    // Read before NULL, which flushes the bus.
    let bus = pipeline.bus().unwrap();
    let messages: Vec<gst::Message> = std::iter::from_fn(|| bus.pop()).collect();
    pipeline.set_state(gst::State::Null).unwrap();
    drop(sender);

    let problems: Vec<String> = messages
        .iter()
        .filter_map(|message| match message.view() {
            gst::MessageView::Error(error) => Some(error.error().to_string()),
            gst::MessageView::Warning(warning) => Some(warning.error().to_string()),
            _ => None,
        })
        .collect();
    let reports = element_messages(&messages, "rate-matching");
    // auto found pushsrcbin upstream and matched against the pipeline clock.
    assert!(
        reports
            .iter()
            .all(|report| report.get::<String>("mode").unwrap() == "graph-clock"),
        "{what}: {reports:?}"
    );
    // One report when the loop starts, then one a second of output.
    let after_lock = &reports[1 + LOCK_SECONDS as usize..];
    let reported_offsets: Vec<i64> = after_lock
        .iter()
        .map(|report| report.get::<i64>("offset").unwrap())
        .collect();
    let reported_drift = after_lock.last().unwrap().get::<f64>("drift").unwrap();

    // The sender's capture: its first buffer's phase ties the sine to its capture time (the
    // stamp's running time plus the sender's base time, on the system clock), to a period.
    let captured = captured.lock().unwrap().clone();
    let first_capture = captured.first().expect("the sender captured");
    let capture_of = |phase: f64| {
        let cycles = ((phase - first_capture.phase) / std::f64::consts::TAU).rem_euclid(1.0);
        (sender_base + first_capture.time) as f64 + cycles * SINE_PERIOD_NS
    };

    // What reached ratematch: each buffer's first frame's capture time, counted on from the
    // previous one at the device's rate (the phase says where within the period), and where
    // it belongs (its stamp, on this host's clock).
    let arrived = arrived.lock().unwrap().clone();
    let device_period_ns = 1e9 / (RATE * (1.0 + ppm as f64 * 1e-6));
    let belong_of = |seen: &Seen| (receiver_base + seen.time) as f64;
    let mut inputs: Vec<(f64, f64, u64)> = Vec::new(); // (capture, belongs, frame index)
    let mut frame_index = 0;
    for seen in &arrived {
        let capture = match inputs.last() {
            Some(&(previous, _, previous_index)) => nearest_period(
                capture_of(seen.phase),
                previous + (frame_index - previous_index) as f64 * device_period_ns,
            ),
            // The sender stamps and sends at once on loopback, and slave mode stamps near the
            // arrival: the first capture lies within half a period before its stamp.
            None => nearest_period(
                capture_of(seen.phase),
                belong_of(seen) - SINE_PERIOD_NS / 2.0,
            ),
        };
        inputs.push((capture, belong_of(seen), frame_index));
        frame_index += seen.frames;
    }
    let input_disconts = arrived.iter().skip(1).filter(|seen| seen.discont).count();

    // The device's drift, from the content alone: capture time over frame index.
    let (_, ns_per_frame) = line_through(
        &inputs
            .iter()
            .map(|&(capture, _, index)| (index as f64, capture - inputs[0].0))
            .collect::<Vec<_>>(),
    );
    let decoded_drift = (1e9 / ns_per_frame / RATE - 1.0) * 1e6;
    // The delay the jitterbuffer's stamps say, after the lock: stamp − capture.
    let locked_from = arrived[0].time + (LOCK_SECONDS * 1e9) as u64;
    let mut stamp_delays: Vec<f64> = arrived
        .iter()
        .zip(&inputs)
        .filter(|(seen, _)| seen.time >= locked_from)
        .map(|(_, &(capture, belongs, _))| belongs - capture)
        .collect();
    // The rate the stamps say the frames come at, over the locked seconds: what ratematch can
    // learn (the device's, as far as the skew estimate follows the arrivals).
    let (_, capture_per_stamp) = line_through(
        &arrived
            .iter()
            .zip(&inputs)
            .filter(|(seen, _)| seen.time >= locked_from)
            .map(|(_, &(capture, belongs, _))| (belongs - inputs[0].1, capture - inputs[0].0))
            .collect::<Vec<_>>(),
    );
    let stamped_drift = ((1.0 + decoded_drift * 1e-6) * capture_per_stamp - 1.0) * 1e6;
    stamp_delays.sort_by(f64::total_cmp);
    let median_delay = stamp_delays[stamp_delays.len() / 2];

    // What ratematch put out: each output buffer's delay, the running time it is rendered at
    // (less the latency: its stamp) less the capture time of what it carries.
    let rendered = rendered.lock().unwrap().clone();
    let delays: Vec<f64> = rendered
        .iter()
        .filter(|seen| seen.time >= rendered[0].time + (LOCK_SECONDS * 1e9) as u64)
        .map(|seen| {
            let at = (receiver_base + seen.time) as f64;
            at - nearest_period(capture_of(seen.phase), at - median_delay)
        })
        .collect();
    let (low, high) = delays
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &d| (l.min(d), h.max(d)));
    eprintln!(
        "{what}: {} outputs after the lock, delay {:.1}..{:.1} µs (spread {:.1} µs; \
         ratematch reports offsets {:?} ns); jitterbuffer stamps − capture {:.1}..{:.1} µs; \
         drift decoded {decoded_drift:.3} ppm, in the stamps {stamped_drift:.3} ppm, \
         ratematch {drift_property:.3} ppm \
         (last report {reported_drift:.3})",
        delays.len(),
        low / 1e3,
        high / 1e3,
        (high - low) / 1e3,
        reported_offsets,
        stamp_delays[0] / 1e3,
        stamp_delays.last().unwrap() / 1e3,
    );
    assert!(after_lock.len() >= LOCKED_SECONDS as usize - 1, "{what}");
    assert!(
        after_lock
            .iter()
            .all(|report| report.get::<bool>("locked").unwrap()),
        "{what}: locked within {LOCK_SECONDS} s and after: {reports:?}"
    );
    for pair in rendered.windows(2) {
        assert_eq!(
            pair[0].time + pair[0].duration,
            pair[1].time,
            "{what}: contiguous output"
        );
        assert!(!pair[1].discont, "{what}: DISCONT at {}", pair[1].time);
    }
    assert_eq!(input_disconts, 0, "{what}: the receive chain sent DISCONT");
    assert!(delays.len() as f64 >= LOCKED_SECONDS * 90.0, "{what}");
    assert_eq!(problems, Vec::<String>::new(), "{what}");
    assert!(
        high - low <= 1e6,
        "{what}: the rendered audio keeps its delay within 1 ms ({low:.0}..{high:.0} ns)"
    );
    assert!(
        low > 0.0 && high < f64::from(JITTERBUFFER_MS) * 1e6,
        "{what}: the delay is the network's and the jitterbuffer's ({low:.0}..{high:.0} ns)"
    );
    assert!(
        reported_offsets
            .iter()
            .all(|offset| offset.abs() <= 1_000_000),
        "{what}: {reported_offsets:?}"
    );
    assert!(
        (decoded_drift - ppm as f64).abs() < 1.0,
        "{what}: the sender's device drifts as set ({decoded_drift} ppm)"
    );
    assert!(
        (stamped_drift - decoded_drift).abs() < STAMPED_DRIFT_TOLERANCE_PPM,
        "{what}: the stamps convey {stamped_drift} ppm, the device drifts {decoded_drift} ppm"
    );
    assert!(
        (drift_property - decoded_drift).abs() < DRIFT_TOLERANCE_PPM,
        "{what}: ratematch measured {drift_property} ppm, the device drifts {decoded_drift} ppm"
    );
}

#[test]
fn a_sender_drifting_1000_ppm_fast_is_matched_without_jumps() {
    drift_of_the_sender_is_matched(1000);
}

#[test]
fn a_sender_drifting_1000_ppm_slow_is_matched_without_jumps() {
    drift_of_the_sender_is_matched(-1000);
}
