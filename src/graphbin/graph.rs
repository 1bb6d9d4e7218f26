//! The survey behind every equalization: the push sources inside a bin, the sinks their streams
//! reach, and the groups they form (sources that reach a common sink must share one offset).
//!
//! The walk follows links downstream from each source, through filters, tees, mixers and the
//! ghost pads of nested bins, and visits every pad once: a stream that meets a pad another source
//! already walked joins that source's group (union-find) instead of walking on. The cost is
//! O(sources + links).

use std::collections::HashMap;

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;

use crate::push_source::{PushSource, PushSourceExt, PushSourceFlags};

/// One push source found inside the bin.
pub struct Source {
    pub element: gst::Element,
    pub name: glib::GString,
    pub flags: PushSourceFlags,
    /// `None` when the source cannot tell (it is then left out of the equalization).
    pub latency: Option<ClockTime>,
    /// Its stream offset, kept up to date by the bin when it sets one.
    pub offset: i64,
    pub max_offset: ClockTime,
    /// The `kind` field of the `graph-latency` message: one of [`kind`].
    pub kind: &'static str,
}

/// What a push source is, for the `kind` field of the `graph-latency` message.
pub mod kind {
    /// A network receiver: a `pushsrcbin` whose `network` is true (udpsrc, an RTP receive
    /// chain, …), or a push source of class Source/Network from another plugin.
    pub const NETWORK: &str = "network";
    /// Anything else (a capture device, a test source).
    pub const LOCAL: &str = "local";

    use gst::glib;
    use gst::prelude::*;

    /// What the class of an element tells about its kind: the same for every element of one
    /// type (the property lookup and the factory's metadata cost more than the rest of a
    /// source's survey).
    #[derive(Clone, Copy)]
    pub struct OfClass {
        /// It has a readable boolean `network` property.
        network_property: bool,
        /// Its factory's class says Network.
        klass_network: bool,
    }

    impl OfClass {
        fn of(element: &gst::Element) -> Self {
            let network_property = element.find_property("network").is_some_and(|pspec| {
                pspec.value_type() == bool::static_type()
                    && pspec.flags().contains(glib::ParamFlags::READABLE)
            });
            let klass_network = element.factory().is_some_and(|factory| {
                factory
                    .metadata(gst::ELEMENT_METADATA_KLASS)
                    .is_some_and(|klass| klass.contains("Network"))
            });
            Self {
                network_property,
                klass_network,
            }
        }
    }

    /// The classes met in one survey: a graph holds few types, so a list does.
    #[derive(Default)]
    pub struct Classes(Vec<(glib::Type, OfClass)>);

    impl Classes {
        pub fn kind_of(&mut self, element: &gst::Element) -> &'static str {
            let type_ = element.type_();
            let class = match self.0.iter().find(|(known, _)| *known == type_) {
                Some((_, class)) => *class,
                None => {
                    let class = OfClass::of(element);
                    self.0.push((type_, class));
                    class
                }
            };
            let says_network = class.network_property && element.property::<bool>("network");
            if says_network || class.klass_network {
                NETWORK
            } else {
                LOCAL
            }
        }
    }
}

impl Source {
    pub fn push_source(&self) -> &PushSource {
        self.element
            .dynamic_cast_ref::<PushSource>()
            .expect("found by its interface")
    }
}

/// Sources whose streams reach a common sink.
#[derive(Default)]
pub struct Group {
    /// The largest latency of its members, `ZERO` when none could tell.
    pub latency: ClockTime,
    /// A member could not tell its latency.
    pub has_unknown_latency: bool,
    /// Where its streams leave the bin: (index of the source, the bin's src ghost pad).
    pub exits: Vec<(usize, gst::Pad)>,
    /// The sink elements its streams reach inside the bin.
    pub sinks: Vec<gst::Element>,
    /// The push-source flags of its members, together: what its rate matching is decided by.
    pub flags: PushSourceFlags,
}

impl Group {
    pub fn audio_sinks(&self) -> impl Iterator<Item = &gst::Element> {
        self.sinks
            .iter()
            .filter(|sink| sink.is::<gst_audio::AudioBaseSink>())
    }

    /// Its offset cannot be compensated at every sink it reaches, or could misalign a member
    /// whose latency is unknown: such a group keeps offset 0 and GStreamer's own sink-side
    /// compensation.
    pub fn is_pinned(&self) -> bool {
        self.has_unknown_latency || !self.exits.is_empty()
    }
}

pub struct Survey {
    /// Live sources (not flagged `not-live`), in the order they were added.
    pub live: Vec<Source>,
    /// Sources flagged `not-live`: no part in equalization or rate matching.
    pub not_live: Vec<Source>,
    /// Group index of each live source.
    pub group_of: Vec<usize>,
    pub groups: Vec<Group>,
    /// Every sink inside, whether a push source feeds it or not.
    pub sinks: Vec<gst::Element>,
}

impl Survey {
    /// The survey of `bin`, whose `contents` the caller has already listed.
    pub fn of(bin: &gst::Bin, contents: Contents) -> Self {
        let (mut live, mut not_live) = (Vec::with_capacity(contents.sources.len()), Vec::new());
        let mut classes = kind::Classes::default();
        for element in contents.sources {
            let Some(source) = element.dynamic_cast_ref::<PushSource>() else {
                continue;
            };
            let flags = source.push_source_flags();
            let is_live = !flags.contains(PushSourceFlags::NOT_LIVE);
            let source = Source {
                name: element.name(),
                offset: source.stream_offset(),
                max_offset: source.max_stream_offset(),
                flags,
                latency: if is_live {
                    source.source_latency()
                } else {
                    None
                },
                kind: classes.kind_of(&element),
                element,
            };
            if is_live {
                live.push(source);
            } else {
                not_live.push(source);
            }
        }

        let mut walk = Walk::new(bin.upcast_ref(), live.len(), contents.sinks.len());
        for (index, source) in live.iter().enumerate() {
            walk.follow_source(index, &source.element);
        }

        let mut group_of_root: Vec<Option<usize>> = vec![None; live.len()];
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of = Vec::with_capacity(live.len());
        for (index, source) in live.iter().enumerate() {
            let root = walk.find(index);
            let group = *group_of_root[root].get_or_insert_with(|| {
                groups.push(Group::default());
                groups.len() - 1
            });
            group_of.push(group);
            let group = &mut groups[group];
            match source.latency {
                Some(latency) => group.latency = group.latency.max(latency),
                None => group.has_unknown_latency = true,
            }
            group.flags |= source.flags;
        }
        for (sink, owner) in std::mem::take(&mut walk.sinks) {
            groups[group_of[owner]].sinks.push(sink);
        }
        for (source, pad) in std::mem::take(&mut walk.exits) {
            groups[group_of[source]].exits.push((source, pad));
        }

        Self {
            live,
            not_live,
            group_of,
            groups,
            sinks: contents.sinks,
        }
    }
}

/// Collects everything an iterator yields, starting over when the bin changes under it.
pub fn collect<T>(mut iter: gst::Iterator<T>) -> Vec<T>
where
    for<'a> T: glib::value::FromValue<'a> + StaticType + 'static,
{
    let mut items = Vec::new();
    loop {
        match iter.next() {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return items,
            Err(gst::IteratorError::Resync) => {
                items.clear();
                iter.resync();
            }
            Err(gst::IteratorError::Error) => return items,
        }
    }
}

/// The push sources and the sinks inside a bin, however deeply nested, in the order they were
/// added. Bins flagged as sinks are only containers: the sinks inside them are listed instead.
///
/// One walk over the children lists, without the GValue traffic of `gst_bin_iterate_recurse()`
/// and `gst_bin_iterate_all_by_interface()`: it runs at every latency computation.
#[derive(Default)]
pub struct Contents {
    pub sources: Vec<gst::Element>,
    pub sinks: Vec<gst::Element>,
}

impl Contents {
    pub fn of(bin: &gst::Bin) -> Self {
        let mut contents = Self::default();
        contents.add_children_of(bin);
        contents
    }

    fn add_children_of(&mut self, bin: &gst::Bin) {
        // A bin lists its newest child first.
        for element in bin.children().into_iter().rev() {
            if element.is::<PushSource>() {
                // A push source that is a bin (pushsrcbin) speaks for what it wraps: a push
                // source inside it must not get an offset of its own on top of the bin's.
                self.sources.push(element);
            } else if let Some(inner) = element.downcast_ref::<gst::Bin>() {
                self.add_children_of(inner);
            } else if element.element_flags().contains(gst::ElementFlags::SINK) {
                self.sinks.push(element.clone());
            }
        }
    }
}

struct Walk<'a> {
    bin: &'a gst::Object,
    /// Union-find over the live sources; a root is the first source of its group.
    parent: Vec<usize>,
    /// Every pad already followed downstream, with the source that got there first.
    visited: HashMap<gst::Pad, usize>,
    sink_owner: HashMap<gst::Element, usize>,
    sinks: Vec<(gst::Element, usize)>,
    exits: Vec<(usize, gst::Pad)>,
}

impl<'a> Walk<'a> {
    /// Sized for a branch per source (its src pad, one more pad on the way) and every sink, so
    /// that the tables are not grown pad by pad: it runs at every latency computation.
    fn new(bin: &'a gst::Object, sources: usize, sinks: usize) -> Self {
        Self {
            bin,
            parent: (0..sources).collect(),
            visited: HashMap::with_capacity(2 * sources),
            sink_owner: HashMap::with_capacity(sinks),
            sinks: Vec::with_capacity(sinks),
            exits: Vec::new(),
        }
    }

    fn find(&mut self, mut index: usize) -> usize {
        while self.parent[index] != index {
            self.parent[index] = self.parent[self.parent[index]];
            index = self.parent[index];
        }
        index
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        // The smaller index stays the root, so groups are numbered in source order.
        let (root, child) = if a < b { (a, b) } else { (b, a) };
        self.parent[child] = root;
    }

    /// Follows the streams of source `index` downstream from its src pads.
    fn follow_source(&mut self, index: usize, element: &gst::Element) {
        let mut pending = element.src_pads();
        while let Some(pad) = pending.pop() {
            if let Some(&owner) = self.visited.get(&pad) {
                self.union(index, owner);
                continue;
            }
            self.visited.insert(pad.clone(), index);
            if let Some(peer) = pad.peer() {
                self.enter(index, &peer, &mut pending);
            }
        }
    }

    /// Enters the element (or bin) behind `pad`, a pad that receives data.
    fn enter(&mut self, index: usize, pad: &gst::Pad, pending: &mut Vec<gst::Pad>) {
        if let Some(ghost) = pad.downcast_ref::<gst::GhostPad>() {
            // A nested bin's sink ghost pad: the stream goes on inside that bin.
            if let Some(inside) = ghost.internal() {
                pending.push(inside.upcast());
            }
            return;
        }
        if let Some(proxy) = pad.downcast_ref::<gst::ProxyPad>() {
            // The inner side of a src ghost pad: the stream leaves a bin.
            let Some(ghost) = proxy.internal() else {
                return;
            };
            if ghost.parent().as_ref() == Some(self.bin) {
                self.exits.push((index, ghost.upcast()));
            } else {
                pending.push(ghost.upcast());
            }
            return;
        }
        let Some(element) = pad.parent_element() else {
            return;
        };
        if element.element_flags().contains(gst::ElementFlags::SINK) {
            match self.sink_owner.get(&element) {
                Some(&owner) => self.union(index, owner),
                None => {
                    self.sink_owner.insert(element.clone(), index);
                    self.sinks.push((element, index));
                }
            }
            return;
        }
        let linked = collect(pad.iterate_internal_links());
        if linked.is_empty() {
            pending.extend(element.src_pads());
        } else {
            pending.extend(linked);
        }
    }
}
