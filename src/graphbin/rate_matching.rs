//! The rate-matching policy (SPEC section 3a, from the push-source flags): the audio sinks fed by
//! a live source flagged `internal-rm` get `slave-method=none` (the source matches rates
//! itself), and their own value back when that is no longer so, and at PAUSED→READY. Also the
//! `rate-matching` field of each source in the `graph-latency` message.

use std::collections::HashMap;

use gst::glib;
use gst::prelude::*;

use super::graph::Survey;
use super::imp::{CAT, GraphBin, lock};

/// Values of the `rate-matching` field of each source in the `graph-latency` message.
pub(super) mod field {
    /// The source does its own rate matching (`internal-rm`, itself or a source sharing its
    /// sinks): the audio sinks it feeds have `slave-method=none`.
    pub const SOURCE: &str = "source";
    /// The audio sinks it feeds match rates, GStreamer's default (their `slave-method` as set).
    pub const SINK: &str = "sink";
    /// It feeds no audio sink inside the bin: there is no rate to match.
    pub const NO_AUDIO_SINK: &str = "no-audio-sink";
    /// Flagged `not-live`: no part in rate matching.
    pub const NOT_LIVE: &str = "not-live";
}

/// The `rate-matching` field of the sources of group `group`.
pub(super) fn field_of(survey: &Survey, group: usize) -> &'static str {
    let group = &survey.groups[group];
    if group.audio_sinks().next().is_none() {
        field::NO_AUDIO_SINK
    } else if group.internal_rm {
        field::SOURCE
    } else {
        field::SINK
    }
}

/// An audio sink as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioSink<S> {
    pub sink: S,
    /// A source of its group does its own rate matching.
    pub internal_rm: bool,
    /// Its `slave-method` now (`None`: it has none).
    pub current: Option<String>,
}

/// The policy: which sinks get which `slave-method`, given the values the bin set aside
/// (`taken`, a sink's own value while the bin holds it at `none`), which it updates.
pub(super) fn decide<S: Clone + Eq + std::hash::Hash>(
    sinks: &[AudioSink<S>],
    taken: &mut HashMap<S, String>,
) -> Vec<(S, String)> {
    let mut changes = Vec::new();
    for sink in sinks {
        if sink.internal_rm {
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

impl GraphBin {
    /// Applies the policy to the audio sinks `survey` found, outside the run's lock.
    pub(super) fn apply_rate_matching(&self, survey: &Survey) {
        let sinks: Vec<AudioSink<gst::Element>> = survey
            .groups
            .iter()
            .flat_map(|group| {
                group.audio_sinks().map(|sink| AudioSink {
                    sink: sink.clone(),
                    internal_rm: group.internal_rm,
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

    fn sink(name: &'static str, internal_rm: bool, current: &str) -> AudioSink<&'static str> {
        AudioSink {
            sink: name,
            internal_rm,
            current: Some(current.to_string()),
        }
    }

    #[test]
    fn internal_rm_sets_none_once_and_gives_the_sink_its_value_back_after() {
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
}
