//! What `pushsrcbin` learns about a wrapped network receive chain by looking at its elements:
//! whether it receives from the network at all, and, for an RTP receiver (`rtpjitterbuffer` or
//! `rtpbin` inside), how its stamps relate to the receiver's clock, how much the chain can hold
//! and the latency it is configured to add. The inspection reads properties only; the decisions
//! are plain functions of what it read (unit-tested without a pipeline).
//!
//! How the stamps relate to the clock (SPEC 3a's flags):
//! - `mode`/`buffer-mode` `none`: the stamps are the sender's RTP timestamps counted from the
//!   first packet, times on the sender's clock: `private-clock`, the renderer slaves to them.
//! - `slave` (the default) and `buffer`: the jitterbuffer maps RTP time onto this host's running
//!   time with its skew estimate (it follows the arrivals), so its stamps are (smoothed) times on
//!   the receiver's pipeline clock: no flag, the renderer matches them against that clock.
//! - `rfc7273-sync=true` (RFC 7273 clock signalling) or `synced` (sender and receiver on one
//!   clock, e.g. a `GstNetClientClock` or a PTP clock with a common base time): the stamps are
//!   times on the shared clock, which is the graph's: no flag.
//!
//! A chain passes every stream through all its jitterbuffers: one that carries the sender's
//! clock makes the chain's stamps the sender's.

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;

/// `RTPJitterBufferMode` (rtpjitterbuffer `mode`, rtpbin `buffer-mode`), by nick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitterBufferMode {
    None,
    Slave,
    Buffer,
    Synced,
    /// A value this code does not know (a newer GStreamer): treated as the sender's clock, the
    /// report that makes a renderer follow the stamps whatever clock they are on.
    Other,
}

impl JitterBufferMode {
    fn from_nick(nick: &str) -> Self {
        match nick {
            "none" => Self::None,
            "slave" => Self::Slave,
            "buffer" => Self::Buffer,
            "synced" => Self::Synced,
            _ => Self::Other,
        }
    }
}

/// The settings of one jitterbuffer (an `rtpjitterbuffer`, or an `rtpbin` for all of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterBuffer {
    pub latency: ClockTime,
    pub mode: JitterBufferMode,
    pub rfc7273_sync: bool,
    pub drop_on_latency: bool,
}

impl JitterBuffer {
    fn clock_relation(&self) -> ClockRelation {
        if self.rfc7273_sync {
            return ClockRelation::Shared;
        }
        match self.mode {
            JitterBufferMode::Synced => ClockRelation::Shared,
            JitterBufferMode::Slave | JitterBufferMode::Buffer => ClockRelation::Receiver,
            JitterBufferMode::None | JitterBufferMode::Other => ClockRelation::Sender,
        }
    }
}

/// How the stamps of the chain's output relate to the receiver's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockRelation {
    /// The stamps follow the sender's clock: `private-clock`.
    Sender,
    /// The stamps are the jitterbuffer's skew-corrected times on the receiver's clock: no flag.
    Receiver,
    /// The stamps are times on a clock both ends share: no flag.
    Shared,
}

/// How much data the chain can hold beyond its latency (`max-offset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffering {
    /// Not a network chain, or nothing known: what the chain's LATENCY `max` says.
    Reported,
    /// At most this much (a jitterbuffer with `drop-on-latency` keeps no more than its latency).
    Bounded(ClockTime),
    /// The jitterbuffer keeps every packet until it is pushed (`drop-on-latency=false`).
    Unbounded,
}

/// What the inspection of a wrapped chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// An element of class Source/Network (udpsrc, tcpclientsrc, rtspsrc, …) or an RTP
    /// receiver is inside.
    pub network: bool,
    /// The jitterbuffers of an RTP receiver, in the order found.
    pub jitterbuffers: Vec<JitterBuffer>,
}

impl Chain {
    pub fn is_rtp_receiver(&self) -> bool {
        !self.jitterbuffers.is_empty()
    }

    /// `None` for a chain that is no RTP receiver (the flags are the user's).
    pub fn clock_relation(&self) -> Option<ClockRelation> {
        if !self.is_rtp_receiver() {
            return None;
        }
        let relations = self.jitterbuffers.iter().map(JitterBuffer::clock_relation);
        // The sender's clock wins over the receiver's, which wins over a shared one.
        Some(
            relations
                .max_by_key(|relation| match relation {
                    ClockRelation::Shared => 0,
                    ClockRelation::Receiver => 1,
                    ClockRelation::Sender => 2,
                })
                .unwrap_or(ClockRelation::Sender),
        )
    }

    /// A stream goes through every jitterbuffer on its way: the smallest bounded one decides.
    pub fn buffering(&self) -> Buffering {
        if !self.is_rtp_receiver() {
            return Buffering::Reported;
        }
        let bounded = self
            .jitterbuffers
            .iter()
            .filter(|jb| jb.drop_on_latency)
            .map(|jb| jb.latency)
            .min();
        match bounded {
            Some(capacity) => Buffering::Bounded(capacity),
            None => Buffering::Unbounded,
        }
    }

    /// The latency the jitterbuffers are configured to add: the least the chain adds once a
    /// stream flows (an `rtpbin` answers nothing useful before its first packet made its pads).
    pub fn configured_latency(&self) -> Option<ClockTime> {
        self.jitterbuffers.iter().map(|jb| jb.latency).max()
    }
}

const JITTERBUFFER: &str = "rtpjitterbuffer";
const RTPBIN: &str = "rtpbin";

fn factory_name(element: &gst::Element) -> Option<glib::GString> {
    element.factory().map(|factory| factory.name())
}

fn is_network_source(element: &gst::Element) -> bool {
    element.factory().is_some_and(|factory| {
        let klass = factory.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or("");
        klass.contains("Source") && klass.contains("Network")
    })
}

fn bool_property(element: &gst::Element, name: &str) -> bool {
    element.find_property(name).is_some_and(|pspec| {
        pspec.value_type() == bool::static_type()
            && pspec.flags().contains(glib::ParamFlags::READABLE)
            && element.property::<bool>(name)
    })
}

fn mode_property(element: &gst::Element, name: &str) -> JitterBufferMode {
    let Some(pspec) = element.find_property(name) else {
        return JitterBufferMode::Other;
    };
    if !pspec.value_type().is_a(glib::Type::ENUM) {
        return JitterBufferMode::Other;
    }
    let value = element.property_value(name);
    glib::EnumValue::from_value(&value)
        .map(|(_, enum_value)| JitterBufferMode::from_nick(enum_value.nick()))
        .unwrap_or(JitterBufferMode::Other)
}

/// `latency` in ms (a guint on both rtpjitterbuffer and rtpbin).
fn latency_property(element: &gst::Element) -> ClockTime {
    match element.find_property("latency") {
        Some(pspec) if pspec.value_type() == u32::static_type() => {
            ClockTime::from_mseconds(u64::from(element.property::<u32>("latency")))
        }
        _ => ClockTime::ZERO,
    }
}

fn jitterbuffer_of(element: &gst::Element, mode_name: &str) -> JitterBuffer {
    JitterBuffer {
        latency: latency_property(element),
        mode: mode_property(element, mode_name),
        rfc7273_sync: bool_property(element, "rfc7273-sync"),
        drop_on_latency: bool_property(element, "drop-on-latency"),
    }
}

/// Looks at `element` and, for a bin, at what is inside (an `rtpbin` is taken as a whole: the
/// jitterbuffers it makes follow its own properties).
pub fn inspect(element: &gst::Element) -> Chain {
    let mut chain = Chain::default();
    visit(element, &mut chain);
    chain.network |= chain.is_rtp_receiver();
    chain
}

fn visit(element: &gst::Element, chain: &mut Chain) {
    chain.network |= is_network_source(element);
    match factory_name(element).as_deref() {
        Some(JITTERBUFFER) => chain.jitterbuffers.push(jitterbuffer_of(element, "mode")),
        Some(RTPBIN) => chain
            .jitterbuffers
            .push(jitterbuffer_of(element, "buffer-mode")),
        _ => {
            if let Some(bin) = element.downcast_ref::<gst::Bin>() {
                for child in bin.children() {
                    visit(&child, chain);
                }
            }
        }
    }
}

/// The `rtpjitterbuffer`s inside (not those an `rtpbin` makes for itself).
pub fn jitterbuffers(element: &gst::Element) -> Vec<gst::Element> {
    let mut found = Vec::new();
    collect_by_factory(element, JITTERBUFFER, &mut found);
    found
}

/// The `rtpbin`s inside: their stream pads appear with the first packet, when the latency the
/// chain answers becomes what it really adds.
pub fn rtpbins(element: &gst::Element) -> Vec<gst::Element> {
    let mut found = Vec::new();
    collect_by_factory(element, RTPBIN, &mut found);
    found
}

/// The elements of factory `name`, looking into bins but not into the ones found.
fn collect_by_factory(element: &gst::Element, name: &str, found: &mut Vec<gst::Element>) {
    match factory_name(element).as_deref() {
        Some(factory) if factory == name => found.push(element.clone()),
        Some(RTPBIN) => {}
        _ => {
            if let Some(bin) = element.downcast_ref::<gst::Bin>() {
                for child in bin.children() {
                    collect_by_factory(&child, name, found);
                }
            }
        }
    }
}

/// A packet `rtpjitterbuffer` gave up on (its `GstRTPPacketLost` event, sent with `do-lost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketLost {
    pub seqnum: u32,
    /// Where the lost data was due (PTS) and how much of it.
    pub timestamp: ClockTime,
    pub duration: ClockTime,
}

impl PacketLost {
    /// `None` for any other event, and for a retry (`retry` > 0 announces a retransmission
    /// request, not a loss).
    pub fn of(event: &gst::EventRef) -> Option<Self> {
        if event.type_() != gst::EventType::CustomDownstream {
            return None;
        }
        let structure = event.structure()?;
        if structure.name() != "GstRTPPacketLost" || structure.get::<u32>("retry").unwrap_or(0) > 0
        {
            return None;
        }
        // The jitterbuffer leaves `duration` (and may leave `timestamp`) at
        // GST_CLOCK_TIME_NONE, which no ClockTime holds: a loss without a time is not reported,
        // one without a duration counts as lasting 0.
        let time = |name: &str| {
            structure
                .get::<u64>(name)
                .ok()
                .and_then(|ns| ClockTime::try_from(gst::ffi::GstClockTime::from(ns)).ok())
        };
        Some(Self {
            seqnum: structure.get("seqnum").ok()?,
            timestamp: time("timestamp")?,
            duration: time("duration").unwrap_or(ClockTime::ZERO),
        })
    }
}

/// What a jitterbuffer counted so far: (packets pushed, packets lost).
pub fn jitterbuffer_counts(jitterbuffer: &gst::Element) -> (u64, u64) {
    let stats = jitterbuffer.property::<gst::Structure>("stats");
    (
        stats.get::<u64>("num-pushed").unwrap_or(0),
        stats.get::<u64>("num-lost").unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost_event(timestamp: u64, duration: u64) -> gst::Event {
        gst::event::CustomDownstream::new(
            gst::Structure::builder("GstRTPPacketLost")
                .field("seqnum", 7u32)
                .field("timestamp", timestamp)
                .field("duration", duration)
                .field("retry", 0u32)
                .build(),
        )
    }

    #[test]
    fn a_loss_without_a_duration_or_time_does_not_panic() {
        gst::init().unwrap();
        let none = u64::MAX;
        let lost = PacketLost::of(&lost_event(1_000, none)).expect("a loss");
        assert_eq!(lost.duration, ClockTime::ZERO);
        assert_eq!(lost.timestamp, ClockTime::from_nseconds(1_000));
        assert!(PacketLost::of(&lost_event(none, 20_000_000)).is_none());
    }

    fn jb(latency_ms: u64, mode: JitterBufferMode, rfc7273: bool, drop: bool) -> JitterBuffer {
        JitterBuffer {
            latency: ClockTime::from_mseconds(latency_ms),
            mode,
            rfc7273_sync: rfc7273,
            drop_on_latency: drop,
        }
    }

    fn chain(jitterbuffers: Vec<JitterBuffer>) -> Chain {
        Chain {
            network: true,
            jitterbuffers,
        }
    }

    #[test]
    fn only_a_jitterbuffer_without_skew_mapping_carries_the_senders_clock() {
        use JitterBufferMode::*;
        assert_eq!(Chain::default().clock_relation(), Option::None);
        for (mode, expected) in [
            (None, ClockRelation::Sender),
            (Other, ClockRelation::Sender),
            (Slave, ClockRelation::Receiver),
            (Buffer, ClockRelation::Receiver),
            (Synced, ClockRelation::Shared),
        ] {
            assert_eq!(
                chain(vec![jb(200, mode, false, false)]).clock_relation(),
                Some(expected),
                "{mode:?}"
            );
        }
        // RFC 7273 stamps are on the signalled clock whatever the mode.
        for mode in [None, Slave, Buffer, Synced, Other] {
            assert_eq!(
                chain(vec![jb(200, mode, true, false)]).clock_relation(),
                Some(ClockRelation::Shared),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn the_jitterbuffer_furthest_from_a_shared_clock_decides_for_the_chain() {
        use JitterBufferMode::*;
        let relation = |modes: &[JitterBufferMode]| {
            chain(
                modes
                    .iter()
                    .map(|&mode| jb(50, mode, false, false))
                    .collect(),
            )
            .clock_relation()
        };
        assert_eq!(relation(&[Synced, Slave]), Some(ClockRelation::Receiver));
        assert_eq!(relation(&[Slave, Synced]), Some(ClockRelation::Receiver));
        assert_eq!(relation(&[Synced, None]), Some(ClockRelation::Sender));
        assert_eq!(
            relation(&[Slave, None, Buffer]),
            Some(ClockRelation::Sender)
        );
        assert_eq!(relation(&[Synced, Synced]), Some(ClockRelation::Shared));
    }

    #[test]
    fn buffering_is_bounded_by_the_smallest_dropping_jitterbuffer() {
        use JitterBufferMode::Slave;
        assert_eq!(Chain::default().buffering(), Buffering::Reported);
        assert_eq!(
            chain(vec![jb(200, Slave, false, false)]).buffering(),
            Buffering::Unbounded
        );
        assert_eq!(
            chain(vec![
                jb(200, Slave, false, true),
                jb(50, Slave, false, true)
            ])
            .buffering(),
            Buffering::Bounded(ClockTime::from_mseconds(50))
        );
        assert_eq!(
            chain(vec![
                jb(200, Slave, false, false),
                jb(80, Slave, false, true)
            ])
            .buffering(),
            Buffering::Bounded(ClockTime::from_mseconds(80))
        );
    }

    #[test]
    fn the_configured_latency_is_the_largest_jitterbuffer_latency() {
        use JitterBufferMode::Slave;
        assert_eq!(Chain::default().configured_latency(), None);
        assert_eq!(
            chain(vec![
                jb(50, Slave, false, false),
                jb(200, Slave, false, false)
            ])
            .configured_latency(),
            Some(ClockTime::from_mseconds(200))
        );
    }

    #[test]
    fn a_packet_lost_event_is_read_and_a_retry_is_not_a_loss() {
        gst::init().unwrap();
        let lost = |retry: u32| {
            gst::event::CustomDownstream::new(
                gst::Structure::builder("GstRTPPacketLost")
                    .field("seqnum", 12u32)
                    .field("timestamp", 40_000_000u64)
                    .field("duration", 10_000_000u64)
                    .field("retry", retry)
                    .build(),
            )
        };
        assert_eq!(
            PacketLost::of(&lost(0)),
            Some(PacketLost {
                seqnum: 12,
                timestamp: ClockTime::from_mseconds(40),
                duration: ClockTime::from_mseconds(10),
            })
        );
        assert_eq!(PacketLost::of(&lost(1)), None);
        assert_eq!(PacketLost::of(&gst::event::Eos::new()), None);
    }

    #[test]
    fn inspection_finds_the_jitterbuffer_and_the_network_source_of_a_chain() {
        gst::init().unwrap();
        let chain = gst::parse::bin_from_description(
            "udpsrc port=0 ! rtpjitterbuffer latency=50 mode=synced drop-on-latency=true \
             ! fakesink",
            false,
        )
        .unwrap();
        let found = inspect(chain.upcast_ref());
        assert!(found.network);
        assert_eq!(
            found.jitterbuffers,
            vec![jb(50, JitterBufferMode::Synced, false, true)]
        );
        let local = gst::ElementFactory::make("audiotestsrc").build().unwrap();
        assert_eq!(inspect(&local), Chain::default());
        let udp = gst::ElementFactory::make("udpsrc").build().unwrap();
        let found = inspect(&udp);
        assert!(found.network && !found.is_rtp_receiver());
    }
}
