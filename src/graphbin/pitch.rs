//! `preserve-pitch`: `audioconvert ! scaletempo` in front of each audio sink inside the bin.
//!
//! `scaletempo` turns a segment of rate r into one of rate 1.0 and applied rate r, stretching the
//! audio in time without changing its pitch, so the sink plays at normal speed what it receives.
//! `audioconvert` comes first because `scaletempo` takes only F32LE, F64LE and S16LE interleaved.
//!
//! Which sinks: elements flagged as sinks that are audio renderers, a `GstAudioBaseSink` or an
//! element whose klass says both "Sink" and "Audio" (`autoaudiosink`, a bin, counts as one sink:
//! what it wraps is its own business). The walk goes through plain bins only: a bin whose klass
//! says "Sink" (`playsink`, `glimagesink`) manages its own insides. `fakesink` and `appsink` fed
//! with audio are left alone: they hand data to the application, not sound to a listener, and the
//! application gets the stream as the graph plays it, rate included.
//!
//! The chains go in and come out with the mechanism of `sink_feeders.rs`.

use std::sync::LazyLock;

use gst::prelude::*;

use super::sink_feeders::{self, Fed, Feeder};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "graphbin-pitch",
        gst::DebugColorFlags::empty(),
        Some("graphbin preserve-pitch: scaletempo in front of the audio sinks"),
    )
});

/// The rates (in magnitude) the pitch keepers take: GStreamer 1.22's `scaletempo` overflows
/// its buffers at rates of 1e7 and more and at 1e-300 (a SIGSEGV, or heap corruption that
/// kills the process later: `cargo run --example scaletempo_extreme_rate 1e9`). A thousand
/// times faster or slower is beyond any use of a pitch kept, and well inside what it survives.
pub const PITCH_KEPT_RATES: std::ops::RangeInclusive<f64> = 0.001..=1000.0;

const AUDIOCONVERT: &str = "audioconvert";
const SCALETEMPO: &str = "scaletempo";

/// The `audioconvert ! scaletempo` chains the bin put in front of its audio sinks.
#[derive(Debug, Default)]
pub struct PitchKeepers {
    keepers: Vec<Feeder>,
}

impl PitchKeepers {
    /// Puts a keeper in front of every fed audio sink inside `bin` that has none yet. `Err`
    /// (with nothing changed) when an audio sink needs one and `audioconvert` or `scaletempo` is
    /// missing; a sink whose keeper cannot be linked keeps its own link, with a logged warning.
    pub fn insert(bin: &gst::Bin) -> Result<Self, String> {
        let mut sinks = Vec::new();
        collect_audio_sinks(bin, &mut sinks);
        let fed: Vec<Fed> = sinks
            .iter()
            .flat_map(|sink| sink_feeders::fed_pads_of(*CAT, sink, SCALETEMPO))
            .collect();
        if fed.is_empty() {
            return Ok(Self::default());
        }
        let factories = [
            sink_feeders::factory(AUDIOCONVERT, "gst-plugins-base, audioconvert")?,
            sink_feeders::factory(SCALETEMPO, "gst-plugins-good, audiofx")?,
        ];
        let keepers = fed
            .into_iter()
            .filter_map(|fed| match Feeder::insert(fed, &factories, |_| ()) {
                Ok(keeper) => {
                    gst::debug!(CAT, obj = keeper.sink_pad(), "fed through a scaletempo");
                    Some(keeper)
                }
                Err(error) => {
                    gst::warning!(CAT, obj = bin, "{error}; its pitch changes with the rate");
                    None
                }
            })
            .collect();
        Ok(Self { keepers })
    }

    /// Takes the keepers out and gives each sink its original feed back.
    pub fn remove(self, bin: &gst::Bin) {
        gst::debug!(CAT, obj = bin, "removing {} keepers", self.keepers.len());
        for keeper in self.keepers {
            keeper.remove();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keepers.is_empty()
    }

    /// Takes over `other`'s keepers too (the bin inserting again before it removed).
    pub fn merge(&mut self, other: Self) {
        self.keepers.extend(other.keepers);
    }
}

/// Whether `element` renders audio: see the module documentation.
fn is_audio_sink(element: &gst::Element) -> bool {
    element.element_flags().contains(gst::ElementFlags::SINK)
        && (element.is::<gst_audio::AudioBaseSink>() || klass_says(element, &["Sink", "Audio"]))
}

/// Whether the element's klass ("Sink/Audio", "Generic/Bin") names every one of `words`.
fn klass_says(element: &gst::Element, words: &[&str]) -> bool {
    let klass = element.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or("");
    words
        .iter()
        .all(|word| klass.split('/').any(|part| part == *word))
}

fn collect_audio_sinks(bin: &gst::Bin, sinks: &mut Vec<gst::Element>) {
    // A bin lists its newest child first.
    for element in bin.children().into_iter().rev() {
        if is_audio_sink(&element) {
            sinks.push(element);
        } else if let Some(inner) = element.downcast_ref::<gst::Bin>()
            && !klass_says(&element, &["Sink"])
        {
            collect_audio_sinks(inner, sinks);
        }
    }
}

impl super::imp::GraphBin {
    /// At READY to PAUSED, with `preserve-pitch`.
    pub(super) fn insert_pitch_keepers(&self) {
        use gst::subclass::prelude::*;
        if !super::imp::lock(&self.settings).preserve_pitch {
            return;
        }
        let bin = self.obj();
        match PitchKeepers::insert(bin.upcast_ref()) {
            // Keepers still in from a READY to PAUSED that failed are kept track of, not lost.
            Ok(keepers) => match &mut *super::imp::lock(&self.pitch_keepers) {
                Some(inserted) => inserted.merge(keepers),
                slot => *slot = Some(keepers),
            },
            Err(error) => gst::element_imp_warning!(
                self,
                gst::CoreError::MissingPlugin,
                ("preserve-pitch: {error}; audio changes pitch with the rate")
            ),
        }
    }

    pub(super) fn remove_pitch_keepers(&self) {
        use gst::subclass::prelude::*;
        let keepers = super::imp::lock(&self.pitch_keepers).take();
        if let Some(keepers) = keepers {
            keepers.remove(self.obj().upcast_ref());
        }
    }

    /// Whether pitch keepers are in place now: rates outside [`PITCH_KEPT_RATES`] are refused.
    pub(super) fn keeps_pitch(&self) -> bool {
        super::imp::lock(&self.pitch_keepers)
            .as_ref()
            .is_some_and(|keepers| !keepers.is_empty())
    }

    pub(super) fn preserve_pitch_changed(&self) {
        use gst::subclass::prelude::*;
        if self.obj().current_state() >= gst::State::Paused {
            gst::info!(
                CAT,
                imp = self,
                "preserve-pitch takes effect at the next READY to PAUSED"
            );
        }
    }
}
