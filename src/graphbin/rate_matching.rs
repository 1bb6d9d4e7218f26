//! The rate-matching policy (SPEC section 3a): DirectShow's audio renderer decided from the
//! push-source flags what to slave to; the bin makes the same decision for each group of
//! sources and puts a `ratematch` configured for it (`audioconvert ! ratematch`) in front of each
//! audio sink the group feeds, with the sink's own clock slaving (`slave-method`) set to `none`
//! so that only one of them matches rates. A group flagged `internal-rm` gets no `ratematch`
//! (the source matches rates itself), but its sinks' slaving is turned off all the same. The
//! chains go in at READY→PAUSED and come out at PAUSED→READY, when the sinks get their own
//! `slave-method` back; sources and sinks that come while PAUSED or PLAYING are matched from
//! the next READY→PAUSED (inserting elements into a running stream is left to the application).
//! The decision is also the `rate-matching` field of each source in the `graph-latency` message.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::graph::{Group, Survey};
use super::imp::{CAT, GraphBin, lock};
use super::sink_feeders::{self, Feeder};
use crate::push_source::PushSourceFlags;

static MATCHERS_CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "graphbin-ratematch",
        gst::DebugColorFlags::empty(),
        Some("graphbin rate matching: ratematch in front of the audio sinks"),
    )
});

const AUDIOCONVERT: &str = "audioconvert";
const RATEMATCH: &str = "ratematch";

/// What a group's audio is matched against: the `rate-matching` field of its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// Stamps are capture times on the pipeline clock: `ratematch` matches against it.
    GraphClock,
    /// `private-clock`: stamps come from the device's clock: `ratematch` follows the stamps.
    Timestamps,
    /// `use-stream-clock`: the graph runs on the source's clock; `ratematch` matches each audio
    /// sink's own clock to it.
    SinkClock,
    /// `internal-rm`: the source matches rates itself; nobody else may.
    Source,
    /// It feeds no audio sink inside the bin: there is no rate to match.
    NoAudioSink,
    /// Flagged `not-live`: no part in rate matching.
    NotLive,
}

impl Decision {
    /// DirectShow's audio renderer's order: `internal-rm` first, then `private-clock`, then
    /// `use-stream-clock`, else the graph clock. `use-clock-chain` is reserved, as there.
    pub fn of(flags: PushSourceFlags, feeds_an_audio_sink: bool) -> Self {
        if flags.contains(PushSourceFlags::NOT_LIVE) {
            Self::NotLive
        } else if !feeds_an_audio_sink {
            Self::NoAudioSink
        } else if flags.contains(PushSourceFlags::INTERNAL_RM) {
            Self::Source
        } else if flags.contains(PushSourceFlags::PRIVATE_CLOCK) {
            Self::Timestamps
        } else if flags.contains(PushSourceFlags::USE_STREAM_CLOCK) {
            Self::SinkClock
        } else {
            Self::GraphClock
        }
    }

    pub fn of_group(group: &Group) -> Self {
        Self::of(group.flags, group.audio_sinks().next().is_some())
    }

    pub fn field(self) -> &'static str {
        match self {
            Self::GraphClock => "graph-clock",
            Self::Timestamps => "timestamps",
            Self::SinkClock => "sink-clock",
            Self::Source => "source",
            Self::NoAudioSink => "no-audio-sink",
            Self::NotLive => "not-live",
        }
    }

    /// The `mode` of the `ratematch` this decision puts in front of an audio sink, if any.
    pub fn ratematch_mode(self) -> Option<&'static str> {
        match self {
            Self::GraphClock | Self::Timestamps | Self::SinkClock => Some(self.field()),
            Self::Source | Self::NoAudioSink | Self::NotLive => None,
        }
    }

    /// Whether the audio sinks it feeds must not slave their clocks themselves.
    fn takes_sink_slaving(self) -> bool {
        self == Self::Source || self.ratematch_mode().is_some()
    }
}

/// The `rate-matching` field of the sources of group `group`.
pub(super) fn field_of(survey: &Survey, group: usize) -> &'static str {
    Decision::of_group(&survey.groups[group]).field()
}

/// An audio sink as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioSink<S> {
    pub sink: S,
    /// Something else matches rates for it (its source, or a `ratematch` in front of it).
    pub matched_elsewhere: bool,
    /// Its `slave-method` now (`None`: it has none).
    pub current: Option<String>,
}

/// Which sinks get which `slave-method`, given the values the bin set aside (`taken`, a sink's
/// own value while the bin holds it at `none`), which it updates.
pub(super) fn decide<S: Clone + Eq + std::hash::Hash>(
    sinks: &[AudioSink<S>],
    taken: &mut HashMap<S, String>,
) -> Vec<(S, String)> {
    let mut changes = Vec::new();
    for sink in sinks {
        if sink.matched_elsewhere {
            if taken.contains_key(&sink.sink) {
                continue;
            }
            if let Some(current) = sink.current.as_ref().filter(|current| *current != "none") {
                taken.insert(sink.sink.clone(), current.clone());
                changes.push((sink.sink.clone(), "none".to_string()));
            }
        } else if let Some(original) = taken.remove(&sink.sink) {
            changes.push((sink.sink.clone(), original));
        }
    }
    changes
}

fn slave_method(sink: &gst::Element) -> Option<String> {
    let value = sink.property_value("slave-method");
    glib::EnumValue::from_value(&value).map(|(_, value)| value.nick().to_string())
}

pub(super) fn set_slave_methods(changes: Vec<(gst::Element, String)>) {
    for (sink, method) in changes {
        gst::debug!(CAT, obj = sink, "slave-method {method}");
        sink.set_property_from_str("slave-method", &method);
    }
}

/// The `audioconvert ! ratematch` chains the bin put in front of its audio sinks.
#[derive(Debug, Default)]
pub struct RateMatchers {
    matchers: Vec<Feeder>,
}

impl RateMatchers {
    /// Puts a `ratematch` configured by its group's decision in front of every fed audio sink
    /// of `survey` that needs one and has none yet. A sink whose chain cannot be made or linked
    /// keeps its own link and its own clock slaving, with a WARNING.
    fn insert(bin: &gst::Bin, survey: &Survey) -> (Self, Vec<String>) {
        let mut matchers = Vec::new();
        let mut problems = Vec::new();
        let needed = survey.groups.iter().any(|group| {
            Decision::of_group(group).ratematch_mode().is_some()
                && group.audio_sinks().next().is_some()
        });
        if !needed {
            return (Self::default(), problems);
        }
        let factories = match (
            sink_feeders::factory(AUDIOCONVERT, "gst-plugins-base, audioconvert"),
            sink_feeders::factory(RATEMATCH, "pushsource"),
        ) {
            (Ok(convert), Ok(ratematch)) => [convert, ratematch],
            (Err(error), _) | (_, Err(error)) => return (Self::default(), vec![error]),
        };
        for group in &survey.groups {
            let Some(mode) = Decision::of_group(group).ratematch_mode() else {
                continue;
            };
            for sink in group.audio_sinks() {
                for fed in sink_feeders::fed_pads_of(*MATCHERS_CAT, sink, RATEMATCH) {
                    let configure = |element: &gst::Element| {
                        if element.factory().is_some_and(|f| f.name() == RATEMATCH) {
                            element.set_property_from_str("mode", mode);
                        }
                    };
                    match Feeder::insert(fed, &factories, configure) {
                        Ok(matcher) => {
                            gst::debug!(
                                MATCHERS_CAT,
                                obj = matcher.sink_pad(),
                                "fed through a ratematch in mode {mode}"
                            );
                            matchers.push(matcher);
                        }
                        Err(error) => problems.push(error),
                    }
                }
            }
        }
        gst::debug!(
            MATCHERS_CAT,
            obj = bin,
            "{} ratematch inserted",
            matchers.len()
        );
        (Self { matchers }, problems)
    }

    /// The sinks with a `ratematch` in front.
    fn sinks(&self) -> impl Iterator<Item = gst::Element> + '_ {
        self.matchers
            .iter()
            .filter_map(|matcher| matcher.sink_pad().parent_element())
    }

    /// Takes the chains out, last inserted first, and gives each sink its feed back.
    pub fn remove(self) {
        for matcher in self.matchers.into_iter().rev() {
            matcher.remove();
        }
    }

    fn merge(&mut self, other: Self) {
        self.matchers.extend(other.matchers);
    }
}

impl GraphBin {
    /// At READY→PAUSED (after the pitch keepers, so that the `ratematch` sits right in front
    /// of the sink and sees the stream at the rate the sink plays it).
    pub(super) fn insert_rate_matchers(&self, survey: &Survey) {
        let bin = self.obj();
        let (inserted, problems) = RateMatchers::insert(bin.upcast_ref(), survey);
        let matched: HashSet<gst::Element> = inserted.sinks().collect();
        match &mut *lock(&self.rate_matchers) {
            // Chains still in from a READY to PAUSED that failed are kept track of, not lost.
            Some(matchers) => matchers.merge(inserted),
            slot => *slot = Some(inserted),
        }
        if let Some(run) = &mut *lock(&self.run) {
            run.matched_sinks.extend(matched);
        }
        for problem in problems {
            gst::element_imp_warning!(
                self,
                gst::CoreError::MissingPlugin,
                ("Rate matching: {problem}; that sink slaves its clock itself")
            );
        }
    }

    pub(super) fn remove_rate_matchers(&self) {
        let matchers = lock(&self.rate_matchers).take();
        if let Some(matchers) = matchers {
            matchers.remove();
        }
    }

    /// Applies the slaving policy to the audio sinks `survey` found, outside the run's lock.
    pub(super) fn apply_rate_matching(&self, survey: &Survey) {
        let matched = match &*lock(&self.run) {
            Some(run) => run.matched_sinks.clone(),
            None => return,
        };
        let sinks: Vec<AudioSink<gst::Element>> = survey
            .groups
            .iter()
            .flat_map(|group| {
                let decision = Decision::of_group(group);
                let matched = &matched;
                group.audio_sinks().map(move |sink| AudioSink {
                    sink: sink.clone(),
                    matched_elsewhere: decision == Decision::Source
                        || (decision.takes_sink_slaving() && matched.contains(sink)),
                    current: slave_method(sink),
                })
            })
            .collect();
        if sinks.is_empty() {
            return;
        }
        let changes = match &mut *lock(&self.run) {
            Some(run) => decide(&sinks, &mut run.slave_methods),
            None => return,
        };
        set_slave_methods(changes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(name: &'static str, elsewhere: bool, current: &str) -> AudioSink<&'static str> {
        AudioSink {
            sink: name,
            matched_elsewhere: elsewhere,
            current: Some(current.to_string()),
        }
    }

    #[test]
    fn a_sink_matched_elsewhere_gets_none_once_and_its_value_back_after() {
        let mut taken = HashMap::new();
        let changes = decide(
            &[sink("a", true, "skew"), sink("b", false, "skew")],
            &mut taken,
        );
        assert_eq!(changes, [("a", "none".to_string())]);
        assert_eq!(
            decide(&[sink("a", true, "none")], &mut taken),
            [],
            "already none"
        );
        assert_eq!(
            decide(&[sink("a", false, "none")], &mut taken),
            [("a", "skew".to_string())]
        );
        assert!(taken.is_empty());
    }

    #[test]
    fn a_sink_already_at_none_is_left_alone() {
        let mut taken = HashMap::new();
        assert_eq!(decide(&[sink("a", true, "none")], &mut taken), []);
        assert_eq!(decide(&[sink("a", false, "none")], &mut taken), []);
    }

    #[test]
    fn the_flags_decide_in_directshows_order() {
        use PushSourceFlags as F;
        let cases = [
            (F::empty(), true, Decision::GraphClock),
            (F::PRIVATE_CLOCK, true, Decision::Timestamps),
            (F::USE_STREAM_CLOCK, true, Decision::SinkClock),
            (F::INTERNAL_RM, true, Decision::Source),
            (F::INTERNAL_RM | F::PRIVATE_CLOCK, true, Decision::Source),
            (
                F::PRIVATE_CLOCK | F::USE_STREAM_CLOCK,
                true,
                Decision::Timestamps,
            ),
            (F::USE_CLOCK_CHAIN, true, Decision::GraphClock),
            (F::NOT_LIVE | F::INTERNAL_RM, true, Decision::NotLive),
            (F::PRIVATE_CLOCK, false, Decision::NoAudioSink),
        ];
        for (flags, audio, decision) in cases {
            assert_eq!(Decision::of(flags, audio), decision, "{flags:?}");
        }
        assert_eq!(Decision::GraphClock.ratematch_mode(), Some("graph-clock"));
        assert_eq!(Decision::Source.ratematch_mode(), None);
        assert_eq!(Decision::NoAudioSink.field(), "no-audio-sink");
    }
}
