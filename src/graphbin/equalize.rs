//! Latency equalization (SPEC section 3, latency items 1–5), in three steps that hold no lock
//! while they call out:
//!
//! 1. survey: the push sources, their groups and the sinks inside ([`super::graph`]);
//! 2. plan: [`plan`], a pure function of plain values ([`Facts`] and the settings) that decides
//!    the offset of each source, the latency each sink gets, the WARNINGs to post, the
//!    `graph-latency` message and whether `graph-latency` changed;
//! 3. apply: offsets set, WARNINGs and the message posted, `notify::graph-latency` emitted.
//!
//! Equalizations are serialized by a "run again" loop, not by a lock: a request while one runs
//! (another thread, or a handler of what the one under way posts) marks it to run once more and
//! returns, so a handler may write `sync-using-stream-offset` and the like.

use std::collections::HashMap;

use gst::ClockTime;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::graph::{self, Survey};
use super::imp::{CAT, GraphBin, lock};
use super::rate_matching;
use crate::push_source::{PushSource, PushSourceExt, PushSourceFlags, StreamOffsetResult};

/// The problems an equalization found, so that a WARNING is posted when a problem appears or
/// changes, not at every latency computation.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Findings {
    /// (Lmax, max-graph-latency) when Lmax exceeds it.
    pub exceeds_max: Option<(ClockTime, ClockTime)>,
    /// (source, pad): a stream of a source with an offset leaves the bin.
    pub exits: Vec<(String, String)>,
    /// Sources that cannot tell their latency.
    pub unknown_latency: Vec<String>,
}

impl Findings {
    /// What is in `self` and was not in `previous`.
    fn new_since(&self, previous: &Findings) -> Findings {
        Findings {
            exceeds_max: self
                .exceeds_max
                .filter(|_| previous.exceeds_max != self.exceeds_max),
            exits: self
                .exits
                .iter()
                .filter(|exit| !previous.exits.contains(exit))
                .cloned()
                .collect(),
            unknown_latency: self
                .unknown_latency
                .iter()
                .filter(|name| !previous.unknown_latency.contains(name))
                .cloned()
                .collect(),
        }
    }
}

/// A live push source as the plan sees it.
#[derive(Debug, Clone)]
pub(super) struct SourceFacts {
    pub name: String,
    /// `None`: it cannot tell, and is left out.
    pub latency: Option<ClockTime>,
    pub offset: i64,
    pub max_offset: ClockTime,
    pub group: usize,
    /// The `rate-matching` field of the message.
    pub rate_matching: &'static str,
}

/// A push source flagged `not-live`: listed, nothing more.
#[derive(Debug, Clone)]
pub(super) struct NotLiveFacts {
    pub name: String,
    pub offset: i64,
    pub max_offset: ClockTime,
}

/// Sources reaching common sinks.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupFacts {
    pub latency: ClockTime,
    /// Keeps offset 0 (a member's latency is unknown, or a stream leaves the bin).
    pub pinned: bool,
    /// (index of the source, name of the bin's src pad) where its streams leave the bin.
    pub exits: Vec<(usize, String)>,
    /// Indices of its sinks among every sink inside.
    pub sinks: Vec<usize>,
}

/// What the survey found, as plain values.
#[derive(Debug, Clone, Default)]
pub(super) struct Facts {
    pub live: Vec<SourceFacts>,
    pub not_live: Vec<NotLiveFacts>,
    pub groups: Vec<GroupFacts>,
    /// How many sinks are inside.
    pub sinks: usize,
}

impl Facts {
    fn of(survey: &Survey) -> Self {
        let sink_index: HashMap<&gst::Element, usize> = survey
            .sinks
            .iter()
            .enumerate()
            .map(|(index, sink)| (sink, index))
            .collect();
        Facts {
            live: survey
                .live
                .iter()
                .enumerate()
                .map(|(index, source)| SourceFacts {
                    name: source.name.to_string(),
                    latency: source.latency,
                    offset: source.offset,
                    max_offset: source.max_offset,
                    group: survey.group_of[index],
                    rate_matching: rate_matching::field_of(survey, survey.group_of[index]),
                })
                .collect(),
            not_live: survey
                .not_live
                .iter()
                .map(|source| NotLiveFacts {
                    name: source.name.to_string(),
                    offset: source.offset,
                    max_offset: source.max_offset,
                })
                .collect(),
            groups: survey
                .groups
                .iter()
                .map(|group| GroupFacts {
                    latency: group.latency,
                    pinned: group.is_pinned(),
                    exits: group
                        .exits
                        .iter()
                        .map(|(source, pad)| (*source, pad.name().to_string()))
                        .collect(),
                    sinks: group
                        .sinks
                        .iter()
                        .filter_map(|sink| sink_index.get(sink).copied())
                        .collect(),
                })
                .collect(),
            sinks: survey.sinks.len(),
        }
    }
}

/// The settings an equalization reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct Inputs {
    pub sync: bool,
    pub max_graph_latency: ClockTime,
    /// `graph-latency` before this equalization.
    pub graph_latency: ClockTime,
}

/// What one equalization does, decided before anything is done.
#[derive(Debug)]
pub(super) struct Plan {
    /// (index of a live source, its new offset): only the offsets that change.
    pub offsets: Vec<(usize, i64)>,
    /// Live sources whose offset the bin takes over (with sync, those that told their latency).
    pub take_over: Vec<usize>,
    /// The offset of the group feeding each sink (0 when none is, or without sync).
    pub sink_offsets: Vec<ClockTime>,
    /// Lmax.
    pub graph_latency: ClockTime,
    /// `graph-latency` changed: notify.
    pub notify: bool,
    /// Everything found, to compare the next equalization with.
    pub findings: Findings,
    /// What was not found the time before: the WARNINGs to post.
    pub warnings: Findings,
    pub message: gst::Structure,
}

fn exceeds(offset: i64, max_offset: ClockTime) -> bool {
    StreamOffsetResult::for_offset(offset, max_offset) == StreamOffsetResult::ExceedsMaximum
}

/// SPEC section 3, latency items 2–5, as values.
pub(super) fn plan(facts: &Facts, inputs: Inputs, previous: &Findings) -> Plan {
    let max_latency = facts
        .live
        .iter()
        .filter_map(|source| source.latency)
        .max()
        .unwrap_or(ClockTime::ZERO);
    let group_offsets: Vec<ClockTime> = facts
        .groups
        .iter()
        .map(|group| {
            if group.pinned {
                ClockTime::ZERO
            } else {
                max_latency.saturating_sub(group.latency)
            }
        })
        .collect();

    let mut new_offsets: Vec<i64> = facts.live.iter().map(|source| source.offset).collect();
    let mut offsets = Vec::new();
    let mut take_over = Vec::new();
    let mut sink_offsets = vec![ClockTime::ZERO; facts.sinks];
    if inputs.sync {
        for (index, source) in facts.live.iter().enumerate() {
            if source.latency.is_none() {
                continue;
            }
            take_over.push(index);
            let offset = group_offsets[source.group].nseconds() as i64;
            if source.offset != offset {
                offsets.push((index, offset));
                new_offsets[index] = offset;
            }
        }
        for (group, offset) in facts.groups.iter().zip(&group_offsets) {
            for sink in &group.sinks {
                sink_offsets[*sink] = *offset;
            }
        }
    }

    let findings = Findings {
        exceeds_max: (!inputs.max_graph_latency.is_zero()
            && max_latency > inputs.max_graph_latency)
            .then_some((max_latency, inputs.max_graph_latency)),
        exits: if inputs.sync {
            facts
                .groups
                .iter()
                .flat_map(|group| &group.exits)
                .map(|(source, pad)| (facts.live[*source].name.clone(), pad.clone()))
                .collect()
        } else {
            Vec::new()
        },
        unknown_latency: facts
            .live
            .iter()
            .filter(|source| source.latency.is_none())
            .map(|source| source.name.clone())
            .collect(),
    };
    let warnings = findings.new_since(previous);
    let message = message(facts, &new_offsets, max_latency, inputs.sync);
    Plan {
        offsets,
        take_over,
        sink_offsets,
        graph_latency: max_latency,
        notify: inputs.graph_latency != max_latency,
        findings,
        warnings,
        message,
    }
}

/// SPEC section 3, latency item 5: the `graph-latency` message, with the offsets as planned.
fn message(facts: &Facts, offsets: &[i64], max_latency: ClockTime, sync: bool) -> gst::Structure {
    let mut sources = Vec::new();
    let mut excluded = Vec::new();
    for (source, offset) in facts.live.iter().zip(offsets) {
        let max_offset = source.max_offset;
        match source.latency {
            Some(latency) => sources.push(
                gst::Structure::builder("source")
                    .field("name", &source.name)
                    .field("latency", latency.nseconds())
                    .field("ts-offset", *offset)
                    .field("max-offset", max_offset.nseconds())
                    .field("group", source.group as u32)
                    .field("exceeds-max", exceeds(*offset, max_offset))
                    .field("rate-matching", source.rate_matching)
                    .build(),
            ),
            None => excluded.push(
                gst::Structure::builder("source")
                    .field("name", &source.name)
                    .field("reason", "latency-unknown")
                    .field("ts-offset", *offset)
                    .field("max-offset", max_offset.nseconds())
                    .field("rate-matching", source.rate_matching)
                    .build(),
            ),
        }
    }
    for source in &facts.not_live {
        excluded.push(
            gst::Structure::builder("source")
                .field("name", &source.name)
                .field("reason", "not-live")
                .field("ts-offset", source.offset)
                .field("max-offset", source.max_offset.nseconds())
                .field("rate-matching", rate_matching::field::NOT_LIVE)
                .build(),
        );
    }
    gst::Structure::builder("graph-latency")
        .field("latency", max_latency.nseconds())
        .field("sync-using-stream-offset", sync)
        .field("sources", gst::List::new(sources))
        .field("excluded", gst::List::new(excluded))
        .build()
}

/// Who is equalizing, and what the bin took over. Persistent: lives with the bin.
#[derive(Debug, Default)]
pub(super) struct Equalizer {
    /// An equalization is under way (in some thread).
    running: bool,
    /// Asked for again since the one under way surveyed: it runs once more.
    again: bool,
    /// The pipeline latency is to be handed to the sinks again after the next equalization.
    redistribute: bool,
    /// Sources whose offset the bin took over, with the offset they had before.
    pub taken_over: HashMap<gst::Element, i64>,
    /// Lmax of the last equalization: `graph-latency`.
    pub graph_latency: ClockTime,
}

/// A graph without live push sources as the last equalization found it: its `graph-latency`
/// message, and its push sources with the values the message shows.
#[derive(Debug, Clone)]
pub(super) struct Quiet {
    sync: bool,
    message: gst::Structure,
    not_live: Vec<(gst::Element, i64, ClockTime)>,
}

/// Resets `running` when the equalizing thread leaves, even by a panic.
struct Running<'a>(&'a GraphBin);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        lock(&self.0.equalizer).running = false;
    }
}

impl GraphBin {
    /// SPEC section 3, latency: equalizes now, or (when an equalization is under way) makes
    /// the one under way run once more. `redistribute`: then hand the sinks the pipeline
    /// latency of the last LATENCY event again.
    pub(super) fn equalize(&self, redistribute: bool) {
        {
            let mut equalizer = lock(&self.equalizer);
            equalizer.again = true;
            equalizer.redistribute |= redistribute;
            if equalizer.running {
                return;
            }
            equalizer.running = true;
        }
        let _running = Running(self);
        loop {
            let redistribute = {
                let mut equalizer = lock(&self.equalizer);
                if !std::mem::take(&mut equalizer.again) {
                    return;
                }
                std::mem::take(&mut equalizer.redistribute)
            };
            self.equalize_once();
            if redistribute {
                self.redistribute_latency();
            }
        }
    }

    /// Whether an equalization is under way: a LATENCY event distributed meanwhile is
    /// distributed again after it.
    fn note_distribution_during_equalization(&self) {
        let mut equalizer = lock(&self.equalizer);
        if equalizer.running {
            equalizer.redistribute = true;
        }
    }

    fn equalize_once(&self) {
        let settings = *lock(&self.settings);
        let sync = settings.sync_using_stream_offset;
        if !sync {
            self.restore_offsets();
        }
        // The pipeline computes latency each time it goes to PLAYING, so twice per rate change
        // and seek: a graph without live push sources is not surveyed again for nothing.
        if let Some(quiet) = self.unchanged_quiet_message(sync) {
            if let Some(run) = &mut *lock(&self.run) {
                run.equalized_since_paused = true;
            }
            self.post_graph_latency_message(quiet.message);
            return;
        }
        let bin = self.obj();
        let survey = Survey::of(bin.upcast_ref(), graph::Contents::of(bin.upcast_ref()));
        self.apply_rate_matching(&survey);
        let facts = Facts::of(&survey);
        let graph_latency = lock(&self.equalizer).graph_latency;
        let previous = lock(&self.run)
            .as_ref()
            .map(|run| run.reported.clone())
            .unwrap_or_default();
        let inputs = Inputs {
            sync,
            max_graph_latency: settings.max_graph_latency,
            graph_latency,
        };
        let plan = plan(&facts, inputs, &previous);

        // Commit: plain values under the locks, one at a time.
        {
            let mut equalizer = lock(&self.equalizer);
            for index in &plan.take_over {
                let source = &survey.live[*index];
                equalizer
                    .taken_over
                    .entry(source.element.clone())
                    .or_insert(source.offset);
            }
            equalizer.graph_latency = plan.graph_latency;
        }
        if let Some(run) = &mut *lock(&self.run) {
            run.sink_offsets = survey
                .sinks
                .iter()
                .cloned()
                .zip(plan.sink_offsets.iter().copied())
                .collect();
            run.equalized_since_paused = true;
            run.reported = plan.findings.clone();
            run.quiet = survey.live.is_empty().then(|| Quiet {
                sync,
                message: plan.message.clone(),
                not_live: survey
                    .not_live
                    .iter()
                    .map(|source| (source.element.clone(), source.offset, source.max_offset))
                    .collect(),
            });
        }

        // Apply, with no lock held.
        for (index, offset) in &plan.offsets {
            let source = &survey.live[*index];
            gst::debug!(
                CAT,
                imp = self,
                "{}: ts-offset {offset} ns (Lmax {})",
                source.name,
                plan.graph_latency
            );
            source.push_source().set_stream_offset(*offset);
        }
        for name in &plan.findings.unknown_latency {
            gst::warning!(
                CAT,
                imp = self,
                "{name} cannot tell its latency: left out of the equalization"
            );
        }
        self.post_warnings(&plan.warnings);
        self.post_graph_latency_message(plan.message);
        if plan.notify {
            self.obj().notify("graph-latency");
        }
    }

    /// The message of the last equalization, when it found no live push source, no element
    /// came or went since and its push sources are still not live with the same offsets.
    fn unchanged_quiet_message(&self, sync: bool) -> Option<Quiet> {
        let quiet = lock(&self.run)
            .as_ref()
            .and_then(|run| run.quiet.clone())
            .filter(|quiet| quiet.sync == sync)?;
        let unchanged = quiet.not_live.iter().all(|(element, offset, max_offset)| {
            let source = element
                .dynamic_cast_ref::<PushSource>()
                .expect("found by its interface");
            source
                .push_source_flags()
                .contains(PushSourceFlags::NOT_LIVE)
                && source.stream_offset() == *offset
                && source.max_stream_offset() == *max_offset
        });
        unchanged.then_some(quiet)
    }

    fn post_graph_latency_message(&self, structure: gst::Structure) {
        gst::info!(CAT, imp = self, "{structure}");
        let obj = self.obj();
        let _ = obj.post_message(gst::message::Element::builder(structure).src(&*obj).build());
    }

    fn post_warnings(&self, findings: &Findings) {
        if let Some((latency, max)) = findings.exceeds_max {
            let details = gst::Structure::builder("pushsource/graph-latency-exceeds-max")
                .field("latency", latency.nseconds())
                .field("max-graph-latency", max.nseconds())
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Clock,
                (
                    "Graph latency exceeds max-graph-latency: the sources may not buffer enough \
                     to be equalized"
                ),
                [
                    "graph latency {} ns > max-graph-latency {} ns",
                    latency.nseconds(),
                    max.nseconds()
                ],
                details: details
            );
        }
        for (source, pad) in &findings.exits {
            let details = gst::Structure::builder("pushsource/stream-leaves-bin")
                .field("source", source)
                .field("pad", pad)
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Pad,
                (
                    "The stream of {source} leaves the graph bin through {pad}: its sink outside \
                     cannot be compensated, so its group keeps ts-offset 0"
                ),
                ["source {source}, pad {pad}"],
                details: details
            );
        }
        for source in &findings.unknown_latency {
            let details = gst::Structure::builder("pushsource/latency-unknown")
                .field("source", source)
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Clock,
                (
                    "{source} cannot tell its latency: it is left out of the equalization, and \
                     the sources sharing its sinks keep ts-offset 0"
                ),
                ["get_latency of {source} failed"],
                details: details
            );
        }
    }

    /// Gives back the offsets the sources had before the bin took them over.
    pub(super) fn restore_offsets(&self) {
        let taken_over = std::mem::take(&mut lock(&self.equalizer).taken_over);
        for (element, offset) in taken_over {
            if let Some(source) = element.dynamic_cast_ref::<PushSource>()
                && source.stream_offset() != offset
            {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{}: ts-offset restored to {offset}",
                    element.name()
                );
                source.set_stream_offset(offset);
            }
        }
    }

    /// Hands each sink inside `PL − offset of its group` (`PL` for sinks no equalized source
    /// feeds), so that no stream is compensated twice.
    pub(super) fn distribute_latency(
        &self,
        event: &gst::Event,
        pipeline_latency: ClockTime,
    ) -> bool {
        self.note_distribution_during_equalization();
        let sink_offsets = lock(&self.run)
            .as_ref()
            .map(|run| run.sink_offsets.clone())
            .unwrap_or_default();
        let sink_offsets = if sink_offsets.is_empty() {
            // Not equalized yet: every sink gets PL, as GstBin would give it.
            graph::Contents::of(self.obj().upcast_ref())
                .sinks
                .into_iter()
                .map(|sink| (sink, ClockTime::ZERO))
                .collect()
        } else {
            sink_offsets
        };
        let mut handled = true;
        for (sink, offset) in sink_offsets {
            let latency = pipeline_latency.saturating_sub(offset);
            gst::debug!(CAT, imp = self, "{}: latency {latency}", sink.name());
            handled &= sink.send_event(
                gst::event::Latency::builder(latency)
                    .seqnum(event.seqnum())
                    .build(),
            );
        }
        // As GstBin does: upstream events also go out through the bin's src pads.
        for pad in self.obj().src_pads() {
            handled &= pad.send_event(event.clone());
        }
        handled
    }

    /// The pipeline latency of the last LATENCY event, handed to the sinks again with the
    /// offsets of the last equalization.
    fn redistribute_latency(&self) {
        let pipeline_latency = lock(&self.run)
            .as_ref()
            .and_then(|run| run.pipeline_latency);
        if let Some(pipeline_latency) = pipeline_latency
            && lock(&self.settings).sync_using_stream_offset
        {
            let event = gst::event::Latency::new(pipeline_latency);
            self.distribute_latency(&event, pipeline_latency);
        }
    }

    pub(super) fn sync_changed(&self) {
        if self.obj().current_state() >= gst::State::Paused {
            self.equalize(true);
        } else if !lock(&self.settings).sync_using_stream_offset {
            self.restore_offsets();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, latency: Option<u64>, offset: i64, group: usize) -> SourceFacts {
        SourceFacts {
            name: name.to_string(),
            latency: latency.map(ClockTime::from_mseconds),
            offset,
            max_offset: ClockTime::from_mseconds(500),
            group,
            rate_matching: rate_matching::field::NO_AUDIO_SINK,
        }
    }

    fn group(latency: u64, sinks: Vec<usize>) -> GroupFacts {
        GroupFacts {
            latency: ClockTime::from_mseconds(latency),
            pinned: false,
            exits: Vec::new(),
            sinks,
        }
    }

    /// The canonical graph: 33 ms and 500 ms, each into a sink of its own.
    fn canonical() -> Facts {
        Facts {
            live: vec![
                source("fast", Some(33), 0, 0),
                source("slow", Some(500), 0, 1),
            ],
            not_live: Vec::new(),
            groups: vec![group(33, vec![0]), group(500, vec![1])],
            sinks: 2,
        }
    }

    fn inputs(sync: bool) -> Inputs {
        Inputs {
            sync,
            max_graph_latency: ClockTime::ZERO,
            graph_latency: ClockTime::ZERO,
        }
    }

    #[test]
    fn with_sync_the_fast_group_gets_lmax_minus_its_latency_and_its_sink_as_much_less() {
        gst::init().unwrap();
        let plan = plan(&canonical(), inputs(true), &Findings::default());
        assert_eq!(plan.offsets, [(0, 467_000_000)]);
        assert_eq!(plan.take_over, [0, 1]);
        assert_eq!(
            plan.sink_offsets,
            [ClockTime::from_mseconds(467), ClockTime::ZERO]
        );
        assert_eq!(plan.graph_latency, ClockTime::from_mseconds(500));
        assert!(plan.notify);
        assert_eq!(plan.warnings, Findings::default());
        assert_eq!(
            plan.message.get::<u64>("latency").unwrap(),
            500_000_000,
            "{}",
            plan.message
        );
    }

    #[test]
    fn without_sync_nothing_is_set_and_nothing_taken_over() {
        gst::init().unwrap();
        let plan = plan(&canonical(), inputs(false), &Findings::default());
        assert!(plan.offsets.is_empty() && plan.take_over.is_empty());
        assert_eq!(plan.sink_offsets, [ClockTime::ZERO; 2]);
        assert!(
            !plan
                .message
                .get::<bool>("sync-using-stream-offset")
                .unwrap()
        );
    }

    #[test]
    fn the_same_latency_does_not_notify_and_an_offset_already_set_is_not_set_again() {
        gst::init().unwrap();
        let mut facts = canonical();
        facts.live[0].offset = 467_000_000;
        let inputs = Inputs {
            graph_latency: ClockTime::from_mseconds(500),
            ..inputs(true)
        };
        let plan = plan(&facts, inputs, &Findings::default());
        assert!(plan.offsets.is_empty());
        assert!(!plan.notify);
    }

    #[test]
    fn a_warning_is_planned_when_a_problem_appears_not_while_it_lasts() {
        gst::init().unwrap();
        let mut facts = canonical();
        facts.live.push(source("mute", None, 0, 2));
        facts.groups.push(GroupFacts {
            pinned: true,
            ..group(0, Vec::new())
        });
        let inputs = Inputs {
            max_graph_latency: ClockTime::from_mseconds(100),
            ..inputs(true)
        };
        let first = plan(&facts, inputs, &Findings::default());
        assert_eq!(
            first.warnings.exceeds_max,
            Some((ClockTime::from_mseconds(500), ClockTime::from_mseconds(100)))
        );
        assert_eq!(first.warnings.unknown_latency, ["mute"]);
        assert!(!first.take_over.contains(&2), "left out");
        let again = plan(&facts, inputs, &first.findings);
        assert_eq!(again.warnings, Findings::default());
    }

    #[test]
    fn a_pinned_group_keeps_offset_0_and_its_exit_is_reported() {
        gst::init().unwrap();
        let mut facts = canonical();
        facts.groups[0].pinned = true;
        facts.groups[0].exits.push((0, "src_0".to_string()));
        facts.live[0].offset = 12;
        let plan = plan(&facts, inputs(true), &Findings::default());
        assert_eq!(plan.offsets, [(0, 0)], "an earlier offset is cleared");
        assert_eq!(
            plan.warnings.exits,
            [("fast".to_string(), "src_0".to_string())]
        );
    }
}
