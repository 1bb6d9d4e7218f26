//! Latency equalization (SPEC section 3, latency items 1–5), in three steps that hold no lock
//! while they call out:
//!
//! 1. survey: the push sources, their groups and the sinks inside ([`super::graph`]);
//! 2. plan: [`plan`], a pure function of plain values ([`Facts`] and the settings) that decides
//!    the offset and the capture buffer (`max-offset`) of each source, the latency each sink
//!    gets, the WARNINGs to post, the `graph-latency` message and whether `graph-latency`
//!    changed;
//! 3. apply: capture buffers and offsets set, WARNINGs and the message posted,
//!    `notify::graph-latency` emitted.
//!
//! Equalizations are serialized by a "run again" loop, not by a lock: a request while one runs
//! (another thread, or a handler of what the one under way posts) marks it to run once more and
//! returns, so a handler may write `sync-using-stream-offset` and the like.

use std::collections::HashMap;
use std::sync::LazyLock;

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;

use super::graph::{self, Survey};
use super::imp::{CAT, GraphBin, lock};
use super::rate_matching;
use crate::push_source::{PushSource, PushSourceExt, PushSourceFlags, StreamOffsetResult};

/// The problems an equalization found, so that a WARNING is posted when a problem appears or
/// changes, not at every latency computation.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Findings {
    /// With sync, Lmax above `max-graph-latency`.
    pub exceeds_max: Option<AboveCap>,
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
                .clone()
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

/// Lmax above `max-graph-latency`: the sources above it keep offset 0.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AboveCap {
    /// Lmax.
    pub latency: ClockTime,
    pub max_graph_latency: ClockTime,
    /// The sources whose latency exceeds `max-graph-latency`, in the order they were added.
    pub sources: Vec<String>,
}

/// A push source of the survey: live (index in [`Facts::live`]) or flagged `not-live` (index in
/// [`Facts::not_live`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Member {
    Live(usize),
    NotLive(usize),
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
    /// The `kind` field of the message (`graph::kind`).
    pub kind: &'static str,
}

/// A push source flagged `not-live`: listed, nothing more.
#[derive(Debug, Clone)]
pub(super) struct NotLiveFacts {
    pub name: String,
    pub kind: &'static str,
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
                    kind: source.kind,
                })
                .collect(),
            not_live: survey
                .not_live
                .iter()
                .map(|source| NotLiveFacts {
                    name: source.name.to_string(),
                    kind: source.kind,
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
    /// The largest pipeline latency known in this run (the bin's own latency answer, the
    /// LATENCY event), `ZERO` before either: what a source waits for its sinks is this minus
    /// its latency.
    pub pipeline_latency: ClockTime,
}

/// What one equalization does, decided before anything is done.
#[derive(Debug)]
pub(super) struct Plan {
    /// (index of a live source, its new offset): only the offsets that change.
    pub offsets: Vec<(usize, i64)>,
    /// Live sources whose offset the bin takes over (with sync, those that told their latency).
    pub take_over: Vec<usize>,
    /// (source, its new `max-offset`): only the ones that change.
    pub max_offsets: Vec<(Member, ClockTime)>,
    /// Sources whose `max-offset` the bin takes over (with sync, those it sizes).
    pub take_over_max: Vec<Member>,
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

/// The latency the graph equalizes to: Lmax, capped by `max-graph-latency` unless that is 0
/// (SPEC section 3, latency item 4).
pub(super) fn equalized_latency(max_latency: ClockTime, max_graph_latency: ClockTime) -> ClockTime {
    if max_graph_latency.is_zero() {
        max_latency
    } else {
        max_latency.min(max_graph_latency)
    }
}

/// The `max-offset` a live source of `latency` gets with sync (SPEC section 3, latency item 4):
/// the larger of `max-graph-latency` and the wait its sinks impose, `PL − latency`, so that no
/// data is lost while it waits. PL is at least Lmax, which keeps the capacity at least the
/// source's offset even before PL is known.
pub(super) fn capacity(
    latency: ClockTime,
    max_latency: ClockTime,
    pipeline_latency: ClockTime,
    max_graph_latency: ClockTime,
) -> ClockTime {
    let wait = pipeline_latency.max(max_latency).saturating_sub(latency);
    wait.max(max_graph_latency)
}

/// SPEC section 3, latency items 2–5, as values.
pub(super) fn plan(facts: &Facts, inputs: Inputs, previous: &Findings) -> Plan {
    let max_latency = facts
        .live
        .iter()
        .filter_map(|source| source.latency)
        .max()
        .unwrap_or(ClockTime::ZERO);
    let target = equalized_latency(max_latency, inputs.max_graph_latency);
    let group_offsets: Vec<ClockTime> = facts
        .groups
        .iter()
        .map(|group| {
            if group.pinned {
                ClockTime::ZERO
            } else {
                target.saturating_sub(group.latency)
            }
        })
        .collect();

    let mut new_offsets: Vec<i64> = facts.live.iter().map(|source| source.offset).collect();
    let mut new_max_offsets: Vec<ClockTime> =
        facts.live.iter().map(|source| source.max_offset).collect();
    let mut new_not_live_max: Vec<ClockTime> = facts
        .not_live
        .iter()
        .map(|source| source.max_offset)
        .collect();
    let mut offsets = Vec::new();
    let mut take_over = Vec::new();
    let mut max_offsets = Vec::new();
    let mut take_over_max = Vec::new();
    let mut sink_offsets = vec![ClockTime::ZERO; facts.sinks];
    if inputs.sync {
        let handed = (!inputs.max_graph_latency.is_zero()).then_some(inputs.max_graph_latency);
        for (index, source) in facts.live.iter().enumerate() {
            let max_offset = match source.latency {
                Some(latency) => Some(capacity(
                    latency,
                    max_latency,
                    inputs.pipeline_latency,
                    inputs.max_graph_latency,
                )),
                None => handed,
            };
            if let Some(max_offset) = max_offset {
                take_over_max.push(Member::Live(index));
                if source.max_offset != max_offset {
                    max_offsets.push((Member::Live(index), max_offset));
                    new_max_offsets[index] = max_offset;
                }
            }
            if source.latency.is_none() {
                continue;
            }
            take_over.push(index);
            let offset = i64::try_from(group_offsets[source.group].nseconds()).unwrap_or(i64::MAX);
            if source.offset != offset {
                offsets.push((index, offset));
                new_offsets[index] = offset;
            }
        }
        if let Some(max_offset) = handed {
            for (index, source) in facts.not_live.iter().enumerate() {
                take_over_max.push(Member::NotLive(index));
                if source.max_offset != max_offset {
                    max_offsets.push((Member::NotLive(index), max_offset));
                    new_not_live_max[index] = max_offset;
                }
            }
        }
        for (group, offset) in facts.groups.iter().zip(&group_offsets) {
            for sink in &group.sinks {
                sink_offsets[*sink] = *offset;
            }
        }
    }

    let findings = Findings {
        exceeds_max: (inputs.sync && target < max_latency).then(|| AboveCap {
            latency: max_latency,
            max_graph_latency: inputs.max_graph_latency,
            sources: facts
                .live
                .iter()
                .filter(|source| source.latency.is_some_and(|latency| latency > target))
                .map(|source| source.name.clone())
                .collect(),
        }),
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
        // Without sync nothing is equalized, so nothing is left out: logged only.
        unknown_latency: facts
            .live
            .iter()
            .filter(|source| inputs.sync && source.latency.is_none())
            .map(|source| source.name.clone())
            .collect(),
    };
    let warnings = findings.new_since(previous);
    let message = message(
        facts,
        Planned {
            offsets: &new_offsets,
            max_offsets: &new_max_offsets,
            not_live_max_offsets: &new_not_live_max,
        },
        max_latency,
        inputs.sync,
    );
    Plan {
        offsets,
        take_over,
        max_offsets,
        take_over_max,
        sink_offsets,
        graph_latency: max_latency,
        notify: inputs.graph_latency != max_latency,
        findings,
        warnings,
        message,
    }
}

/// Each source's offset and `max-offset` as planned.
struct Planned<'a> {
    offsets: &'a [i64],
    max_offsets: &'a [ClockTime],
    not_live_max_offsets: &'a [ClockTime],
}

/// The field names of a source in the `graph-latency` message, as quarks. The message is built
/// at every latency computation, about eight fields per source, and a field named by a string
/// costs a lookup in GLib's quark table (under its global lock) each time: a third of the
/// message's cost. GStreamer 1.22 has no other way to name a field without that lookup (the
/// `IdStr` API of gstreamer-rs needs 1.26 for it), hence the deprecated quark setters.
struct SourceFields {
    name: glib::Quark,
    latency: glib::Quark,
    ts_offset: glib::Quark,
    max_offset: glib::Quark,
    group: glib::Quark,
    exceeds_max: glib::Quark,
    rate_matching: glib::Quark,
    kind: glib::Quark,
    reason: glib::Quark,
}

static SOURCE_FIELDS: LazyLock<SourceFields> = LazyLock::new(|| SourceFields {
    name: glib::Quark::from_str("name"),
    latency: glib::Quark::from_str("latency"),
    ts_offset: glib::Quark::from_str("ts-offset"),
    max_offset: glib::Quark::from_str("max-offset"),
    group: glib::Quark::from_str("group"),
    exceeds_max: glib::Quark::from_str("exceeds-max"),
    rate_matching: glib::Quark::from_str("rate-matching"),
    kind: glib::Quark::from_str("kind"),
    reason: glib::Quark::from_str("reason"),
});

/// A `source` structure of the `graph-latency` message; `equalized`: (latency, group,
/// exceeds-max) of a source the graph is equalized with, `reason` of one left out.
#[allow(deprecated)]
fn source_structure(
    name: &str,
    equalized: Result<(ClockTime, usize, bool), &str>,
    offset: i64,
    max_offset: ClockTime,
    rate_matching: &str,
    kind: &str,
) -> gst::Structure {
    let fields = &*SOURCE_FIELDS;
    let mut structure = gst::Structure::new_empty("source");
    structure.set_by_quark(fields.name, name);
    match equalized {
        Ok((latency, group, exceeds_max)) => {
            structure.set_by_quark(fields.latency, latency.nseconds());
            structure.set_by_quark(fields.ts_offset, offset);
            structure.set_by_quark(fields.max_offset, max_offset.nseconds());
            structure.set_by_quark(fields.group, group as u32);
            structure.set_by_quark(fields.exceeds_max, exceeds_max);
        }
        Err(reason) => {
            structure.set_by_quark(fields.reason, reason);
            structure.set_by_quark(fields.ts_offset, offset);
            structure.set_by_quark(fields.max_offset, max_offset.nseconds());
        }
    }
    structure.set_by_quark(fields.rate_matching, rate_matching);
    structure.set_by_quark(fields.kind, kind);
    structure
}

/// SPEC section 3, latency item 5: the `graph-latency` message, with the offsets as planned.
fn message(facts: &Facts, planned: Planned, max_latency: ClockTime, sync: bool) -> gst::Structure {
    let mut sources = Vec::with_capacity(facts.live.len());
    let mut excluded = Vec::new();
    for ((source, offset), max_offset) in facts
        .live
        .iter()
        .zip(planned.offsets)
        .zip(planned.max_offsets)
    {
        let max_offset = *max_offset;
        let equalized = source
            .latency
            .map(|latency| (latency, source.group, exceeds(*offset, max_offset)))
            .ok_or("latency-unknown");
        let structure = source_structure(
            &source.name,
            equalized,
            *offset,
            max_offset,
            source.rate_matching,
            source.kind,
        );
        if source.latency.is_some() {
            sources.push(structure);
        } else {
            excluded.push(structure);
        }
    }
    for (source, max_offset) in facts.not_live.iter().zip(planned.not_live_max_offsets) {
        excluded.push(source_structure(
            &source.name,
            Err("not-live"),
            source.offset,
            *max_offset,
            rate_matching::Decision::NotLive.field(),
            source.kind,
        ));
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
    /// Sources whose `max-offset` the bin took over, with the value they had before.
    pub taken_over_max: HashMap<gst::Element, ClockTime>,
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

impl Survey {
    fn member(&self, member: Member) -> &graph::Source {
        match member {
            Member::Live(index) => &self.live[index],
            Member::NotLive(index) => &self.not_live[index],
        }
    }
}

/// Resets `running` when the equalizing thread leaves by a panic; a normal exit resets it
/// under the same lock that finds nothing asked for again, so that no request falls between.
struct Running<'a> {
    bin: &'a GraphBin,
    done: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.bin.equalizer).running = false;
        }
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
        let mut running = Running {
            bin: self,
            done: false,
        };
        loop {
            let redistribute = {
                let mut equalizer = lock(&self.equalizer);
                if !std::mem::take(&mut equalizer.again) {
                    equalizer.running = false;
                    running.done = true;
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
        let pipeline_latency = lock(&self.run)
            .as_ref()
            .map_or(ClockTime::ZERO, |run| run.sinks_wait)
            .max(expected_pipeline_latency(&survey));
        let inputs = Inputs {
            sync,
            max_graph_latency: settings.max_graph_latency,
            graph_latency,
            pipeline_latency,
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
            for member in &plan.take_over_max {
                let source = survey.member(*member);
                equalizer
                    .taken_over_max
                    .entry(source.element.clone())
                    .or_insert(source.max_offset);
            }
            equalizer.graph_latency = plan.graph_latency;
        }
        let mut outgrown = false;
        if let Some(run) = &mut *lock(&self.run) {
            // A LATENCY event above what this plan read came meanwhile and found the sources
            // sized for more (by the equalization before): this one sizes them again.
            outgrown = run.sinks_wait > pipeline_latency;
            run.sink_offsets = survey
                .sinks
                .iter()
                .cloned()
                .zip(plan.sink_offsets.iter().copied())
                .collect();
            run.equalized_since_paused = true;
            run.sized_for = pipeline_latency;
            run.reported = plan.findings.clone();
            run.quiet = survey.live.is_empty().then(|| Quiet {
                sync,
                message: plan.message.clone(),
                not_live: survey
                    .not_live
                    .iter()
                    .enumerate()
                    .map(|(index, source)| {
                        let max_offset = plan
                            .max_offsets
                            .iter()
                            .find(|(member, _)| *member == Member::NotLive(index))
                            .map_or(source.max_offset, |(_, max_offset)| *max_offset);
                        (source.element.clone(), source.offset, max_offset)
                    })
                    .collect(),
            });
        }
        if outgrown {
            lock(&self.equalizer).again = true;
        }

        // Apply, with no lock held: capture buffers that grow before the offsets, those that
        // shrink after, so that no offset exceeds its source's max-offset on the way.
        let (growing, shrinking): (Vec<_>, Vec<_>) = plan
            .max_offsets
            .iter()
            .partition(|(member, max_offset)| *max_offset >= survey.member(*member).max_offset);
        self.set_max_offsets(&survey, &growing);
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
        self.set_max_offsets(&survey, &shrinking);
        for source in survey.live.iter().filter(|source| source.latency.is_none()) {
            gst::warning!(
                CAT,
                imp = self,
                "{} cannot tell its latency: left out of the equalization",
                source.name
            );
        }
        self.post_warnings(&plan.warnings);
        self.post_graph_latency_message(plan.message);
        if plan.notify {
            self.obj().notify("graph-latency");
        }
    }

    fn set_max_offsets(&self, survey: &Survey, max_offsets: &[&(Member, ClockTime)]) {
        for (member, max_offset) in max_offsets {
            let source = survey.member(*member);
            gst::debug!(CAT, imp = self, "{}: max-offset {max_offset}", source.name);
            source.push_source().set_max_stream_offset(*max_offset);
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
        if let Some(above) = &findings.exceeds_max {
            let (latency, max) = (above.latency.nseconds(), above.max_graph_latency.nseconds());
            let names = above.sources.join(", ");
            let details = gst::Structure::builder("pushsource/graph-latency-exceeds-max")
                .field("latency", latency)
                .field("max-graph-latency", max)
                .field("sources", gst::Array::new(&above.sources))
                .build();
            gst::element_imp_warning!(
                self,
                gst::CoreError::Clock,
                (
                    "{names}: latency above max-graph-latency, left at ts-offset 0; the graph \
                     is equalized to {} ms",
                    max / 1_000_000
                ),
                ["graph latency {latency} ns > max-graph-latency {max} ns: {names}"],
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

    /// Gives back the offsets and `max-offset`s the sources had before the bin took them over.
    pub(super) fn restore_offsets(&self) {
        let (taken_over, taken_over_max) = {
            let mut equalizer = lock(&self.equalizer);
            (
                std::mem::take(&mut equalizer.taken_over),
                std::mem::take(&mut equalizer.taken_over_max),
            )
        };
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
        for (element, max_offset) in taken_over_max {
            if let Some(source) = element.dynamic_cast_ref::<PushSource>()
                && source.max_stream_offset() != max_offset
            {
                gst::debug!(
                    CAT,
                    imp = self,
                    "{}: max-offset restored to {max_offset}",
                    element.name()
                );
                source.set_max_stream_offset(max_offset);
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

    /// The pipeline's latency query, answered with the graph equalized first: the sinks' answers
    /// (and so PL) come from the graph as equalized; the sources' answers do not include their
    /// offsets. With sync, the sources' capture buffers are sized for the wait their sinks
    /// impose, which PL tells (at least this bin's own `min`, the sinks' processing deadline
    /// included): asked first, so that the `max` the pipeline gets, which each source's
    /// `max-offset` bounds, comes from the sources as sized.
    pub(super) fn answer_latency_query(&self, query: &mut gst::QueryRef) -> bool {
        let sync = lock(&self.settings).sync_using_stream_offset;
        self.equalize(false);
        let mut answered = ElementImplExt::parent_query(self, query);
        // A source whose latency changed since it was asked (a test source that has just
        // negotiated its sample rate) can leave the answer short of buffering (max < min): it
        // is sized again with what it says now, twice at most.
        for _ in 0..2 {
            let gst::QueryView::Latency(latency) = query.view() else {
                break;
            };
            let (live, min, max) = latency.result();
            if !(sync && answered && live && max.is_some_and(|max| max < min)) {
                break;
            }
            gst::debug!(CAT, imp = self, "max {max:?} < min {min}: sizing again");
            self.pipeline_latency_seen(min);
            self.equalize(false);
            answered = ElementImplExt::parent_query(self, query);
        }
        answered
    }

    /// A pipeline latency seen (the bin's own latency answer, or the LATENCY event): whether it
    /// is more than the sources were sized for in this run, so that they must buffer more.
    ///
    /// The equalization that answered the pipeline's latency query already sized them for the
    /// latency it expected (the slowest source plus the sinks' processing deadline): the LATENCY
    /// event that follows with that latency calls for no second equalization (which would cost
    /// as much as the first, at every start).
    pub(super) fn pipeline_latency_seen(&self, latency: ClockTime) -> bool {
        match &mut *lock(&self.run) {
            Some(run) if latency > run.sinks_wait => {
                run.sinks_wait = latency;
                latency > run.sized_for
            }
            _ => false,
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

/// The latency the sinks inside will ask for, as the survey sees it: the slowest live source's
/// plus the largest `processing-deadline` of a sink inside. What lies between (a queue with a
/// latency, a sink outside) is caught by the answer itself (`max < min`) or by the LATENCY
/// event, at the cost of sizing once more; asking the sinks each time would cost a second
/// latency query at every computation.
fn expected_pipeline_latency(survey: &Survey) -> ClockTime {
    let slowest = survey
        .live
        .iter()
        .filter_map(|source| source.latency)
        .max()
        .unwrap_or(ClockTime::ZERO);
    let deadline = survey
        .sinks
        .iter()
        .filter_map(|sink| sink.downcast_ref::<gst_base::BaseSink>())
        .map(|sink| sink.processing_deadline())
        .max()
        .unwrap_or(ClockTime::ZERO);
    if survey.live.is_empty() {
        ClockTime::ZERO
    } else {
        crate::time::saturating_add(slowest, deadline)
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
            rate_matching: rate_matching::Decision::NoAudioSink.field(),
            kind: graph::kind::LOCAL,
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
            pipeline_latency: ClockTime::ZERO,
        }
    }

    /// DirectShow's defaults: 500 ms, with the pipeline latency of fakesinks (20 ms of
    /// processing deadline) known.
    fn defaults(pipeline_latency: u64) -> Inputs {
        Inputs {
            max_graph_latency: ClockTime::from_mseconds(500),
            pipeline_latency: ClockTime::from_mseconds(pipeline_latency),
            ..inputs(true)
        }
    }

    fn planned_max_offset(plan: &Plan, member: Member) -> Option<u64> {
        plan.max_offsets
            .iter()
            .find(|(planned, _)| *planned == member)
            .map(|(_, max_offset)| max_offset.mseconds())
    }

    #[test]
    fn with_the_defaults_every_source_buffers_for_the_wait_its_sinks_impose() {
        gst::init().unwrap();
        // 33 ms + 500 ms: the fast source waits 520 − 33 = 487 ms, less than 500.
        let plan = plan(&canonical(), defaults(520), &Findings::default());
        assert_eq!(plan.offsets, [(0, 467_000_000)]);
        assert_eq!(
            planned_max_offset(&plan, Member::Live(0)),
            None,
            "already 500"
        );
        assert_eq!(plan.take_over_max, [Member::Live(0), Member::Live(1)]);
        assert_eq!(plan.warnings, Findings::default());
        // 10 ms + 500 ms: it waits 510 ms, more than max-graph-latency.
        let mut facts = canonical();
        facts.live[0].latency = Some(ClockTime::from_mseconds(10));
        facts.groups[0].latency = ClockTime::from_mseconds(10);
        let plan = super::plan(&facts, defaults(520), &Findings::default());
        assert_eq!(plan.offsets, [(0, 490_000_000)]);
        assert_eq!(planned_max_offset(&plan, Member::Live(0)), Some(510));
        let fast = &entries(&plan.message)[0];
        assert_eq!(fast.get::<u64>("max-offset").unwrap(), 510_000_000);
        assert!(!fast.get::<bool>("exceeds-max").unwrap());
    }

    #[test]
    fn before_the_pipeline_latency_is_known_a_source_buffers_at_least_its_offset() {
        gst::init().unwrap();
        let inputs = inputs(true);
        let plan = plan(&canonical(), inputs, &Findings::default());
        assert_eq!(planned_max_offset(&plan, Member::Live(0)), Some(467));
        assert_eq!(
            planned_max_offset(&plan, Member::Live(1)),
            Some(0),
            "no cap"
        );
    }

    #[test]
    fn without_sync_no_max_offset_is_touched_and_no_cap_warns() {
        gst::init().unwrap();
        let inputs = Inputs {
            sync: false,
            max_graph_latency: ClockTime::from_mseconds(100),
            ..defaults(520)
        };
        let plan = plan(&canonical(), inputs, &Findings::default());
        assert!(plan.max_offsets.is_empty() && plan.take_over_max.is_empty());
        assert_eq!(plan.findings, Findings::default());
    }

    #[test]
    fn above_the_cap_a_source_keeps_offset_0_and_a_warning_names_it() {
        gst::init().unwrap();
        let inputs = Inputs {
            max_graph_latency: ClockTime::from_mseconds(300),
            ..defaults(520)
        };
        let plan = plan(&canonical(), inputs, &Findings::default());
        assert_eq!(plan.offsets, [(0, 267_000_000)], "equalized to 300 ms");
        assert_eq!(
            plan.sink_offsets,
            [ClockTime::from_mseconds(267), ClockTime::ZERO]
        );
        assert_eq!(plan.graph_latency, ClockTime::from_mseconds(500), "Lmax");
        let above = plan.warnings.exceeds_max.clone().expect("a WARNING");
        assert_eq!(above.sources, ["slow"]);
        assert_eq!(above.latency, ClockTime::from_mseconds(500));
        assert_eq!(above.max_graph_latency, ClockTime::from_mseconds(300));
        assert_eq!(planned_max_offset(&plan, Member::Live(0)), Some(487));
        assert_eq!(planned_max_offset(&plan, Member::Live(1)), Some(300));
    }

    #[test]
    fn not_live_sources_and_sources_of_unknown_latency_get_max_graph_latency() {
        gst::init().unwrap();
        let mut facts = canonical();
        facts.live.push(source("mute", None, 0, 2));
        facts.groups.push(GroupFacts {
            pinned: true,
            ..group(0, Vec::new())
        });
        facts.not_live.push(NotLiveFacts {
            name: "file".to_string(),
            kind: graph::kind::LOCAL,
            offset: 0,
            max_offset: ClockTime::from_mseconds(200),
        });
        let plan = plan(&facts, defaults(520), &Findings::default());
        assert_eq!(
            planned_max_offset(&plan, Member::Live(2)),
            None,
            "500 already"
        );
        assert_eq!(planned_max_offset(&plan, Member::NotLive(0)), Some(500));
        assert!(plan.take_over_max.contains(&Member::NotLive(0)));
        assert!(!plan.take_over.contains(&2));
    }

    fn entries(message: &gst::Structure) -> Vec<gst::Structure> {
        message
            .get::<gst::List>("sources")
            .unwrap()
            .iter()
            .map(|value| value.get::<gst::Structure>().unwrap())
            .collect()
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
            Some(AboveCap {
                latency: ClockTime::from_mseconds(500),
                max_graph_latency: ClockTime::from_mseconds(100),
                sources: vec!["slow".to_string()],
            })
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
