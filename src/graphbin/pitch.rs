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
//! Every change is undone when it cannot be completed, so that a sink is either fed as before or
//! through its keeper: never half linked.

use std::sync::LazyLock;

use gst::prelude::*;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "graphbin-pitch",
        gst::DebugColorFlags::empty(),
        Some("graphbin preserve-pitch: scaletempo in front of the audio sinks"),
    )
});

const AUDIOCONVERT: &str = "audioconvert";
const SCALETEMPO: &str = "scaletempo";

/// What fed an audio sink's pad before its keeper went in between.
#[derive(Debug)]
enum Feed {
    /// The src pad linked to the sink's pad.
    Peer(gst::Pad),
    /// The sink ghost pad of the sink's bin, whose target was the sink's pad: the stream comes
    /// from outside that bin, and the ghost pad is retargeted rather than its internal pad
    /// relinked.
    Ghost(gst::GhostPad),
}

/// An audio sink's pad that is fed, and where it sits.
struct Fed {
    container: gst::Bin,
    sink_pad: gst::Pad,
    feed: Feed,
}

/// `audioconvert ! scaletempo` in front of one audio sink's pad.
#[derive(Debug)]
struct Keeper {
    container: gst::Bin,
    sink_pad: gst::Pad,
    feed: Feed,
    convert: gst::Element,
    scaletempo: gst::Element,
}

/// The `scaletempo` elements the bin put in front of its audio sinks.
#[derive(Debug, Default)]
pub struct PitchKeepers {
    keepers: Vec<Keeper>,
}

impl PitchKeepers {
    /// Puts a keeper in front of every fed audio sink inside `bin` that has none yet. `Err`
    /// (with nothing changed) when an audio sink needs one and `audioconvert` or `scaletempo` is
    /// missing; a sink whose keeper cannot be linked keeps its own link, with a logged warning.
    pub fn insert(bin: &gst::Bin) -> Result<Self, String> {
        let mut sinks = Vec::new();
        collect_audio_sinks(bin, &mut sinks);
        let fed: Vec<Fed> = sinks.iter().flat_map(fed_pads_of).collect();
        if fed.is_empty() {
            return Ok(Self::default());
        }
        let factories = Factories::find()?;
        let keepers = fed
            .into_iter()
            .filter_map(|fed| match Keeper::insert(fed, &factories) {
                Ok(keeper) => Some(keeper),
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

    /// Takes over `other`'s keepers too (the bin inserting again before it removed).
    pub fn merge(&mut self, other: Self) {
        self.keepers.extend(other.keepers);
    }
}

struct Factories {
    convert: gst::ElementFactory,
    scaletempo: gst::ElementFactory,
}

impl Factories {
    fn find() -> Result<Self, String> {
        let find = |name: &str, plugin: &str| {
            gst::ElementFactory::find(name)
                .ok_or_else(|| format!("the {name} element is missing ({plugin})"))
        };
        Ok(Self {
            convert: find(AUDIOCONVERT, "gst-plugins-base, audioconvert")?,
            scaletempo: find(SCALETEMPO, "gst-plugins-good, audiofx")?,
        })
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

/// The sink pads of `sink` that are fed and have no `scaletempo` in front yet.
fn fed_pads_of(sink: &gst::Element) -> Vec<Fed> {
    let Some(container) = sink.parent().and_downcast::<gst::Bin>() else {
        return Vec::new();
    };
    sink.sink_pads()
        .into_iter()
        .filter_map(|sink_pad| {
            let Some(peer) = sink_pad.peer() else {
                gst::debug!(CAT, obj = sink_pad, "not linked (yet): left as it is");
                return None;
            };
            let feed = match ghost_of_internal_pad(&peer) {
                Some(ghost) => Feed::Ghost(ghost),
                None if is_scaletempo(&peer) => {
                    gst::debug!(CAT, obj = sink_pad, "already fed by a scaletempo");
                    return None;
                }
                None => Feed::Peer(peer),
            };
            Some(Fed {
                container: container.clone(),
                sink_pad,
                feed,
            })
        })
        .collect()
}

/// The ghost pad whose internal pad `pad` is, if it is one.
fn ghost_of_internal_pad(pad: &gst::Pad) -> Option<gst::GhostPad> {
    if pad.is::<gst::GhostPad>() {
        // A src ghost pad of a sibling bin: an ordinary peer.
        return None;
    }
    pad.downcast_ref::<gst::ProxyPad>()?
        .internal()
        .and_downcast::<gst::GhostPad>()
}

fn is_scaletempo(pad: &gst::Pad) -> bool {
    pad.parent_element()
        .and_then(|element| element.factory())
        .is_some_and(|factory| factory.name() == SCALETEMPO)
}

/// "element:pad", for messages.
fn pad_name(pad: &gst::Pad) -> String {
    match pad.parent() {
        Some(parent) => format!("{}:{}", parent.name(), pad.name()),
        None => pad.name().to_string(),
    }
}

impl Keeper {
    /// Creates the keeper of `fed` and links it in, or undoes what it did and says why not.
    fn insert(fed: Fed, factories: &Factories) -> Result<Self, String> {
        let Fed {
            container,
            sink_pad,
            feed,
        } = fed;
        let sink_name = match sink_pad.parent_element() {
            Some(sink) if sink_pad.name() == "sink" => sink.name().to_string(),
            _ => pad_name(&sink_pad).replace(':', "-"),
        };
        let make = |factory: &gst::ElementFactory| {
            let wanted = format!("{sink_name}-{}", factory.name());
            // A name already taken in the bin would make adding fail: GStreamer picks one then.
            let name = container.child_by_name(&wanted).is_none().then_some(wanted);
            factory
                .create_with_name(name.as_deref())
                .map_err(|error| format!("{}: {error}", pad_name(&sink_pad)))
        };
        let keeper = Self {
            convert: make(&factories.convert)?,
            scaletempo: make(&factories.scaletempo)?,
            container,
            sink_pad,
            feed,
        };
        match keeper.link_in() {
            Ok(()) => {
                gst::debug!(
                    CAT,
                    obj = keeper.sink_pad,
                    "fed through {} ! {}",
                    keeper.convert.name(),
                    keeper.scaletempo.name()
                );
                Ok(keeper)
            }
            Err(error) => {
                let error = format!("{}: {error}", pad_name(&keeper.sink_pad));
                keeper.remove();
                Err(error)
            }
        }
    }

    fn link_in(&self) -> Result<(), String> {
        for element in [&self.convert, &self.scaletempo] {
            self.container
                .add(element)
                .map_err(|error| format!("cannot add {}: {error}", element.name()))?;
        }
        self.convert.link(&self.scaletempo).map_err(|error| {
            format!(
                "cannot link {} to {}: {error}",
                self.convert.name(),
                self.scaletempo.name()
            )
        })?;
        let convert_sink = static_pad(&self.convert, "sink")?;
        match &self.feed {
            Feed::Peer(peer) => {
                peer.unlink(&self.sink_pad)
                    .map_err(|error| format!("cannot unlink {}: {error}", pad_name(peer)))?;
                peer.link(&convert_sink).map_err(|error| {
                    format!(
                        "cannot link {} to {}: {error:?}",
                        pad_name(peer),
                        pad_name(&convert_sink)
                    )
                })?;
            }
            Feed::Ghost(ghost) => {
                ghost.set_target(Some(&convert_sink)).map_err(|error| {
                    format!(
                        "cannot retarget {} to {}: {error}",
                        pad_name(ghost.upcast_ref()),
                        pad_name(&convert_sink)
                    )
                })?;
            }
        }
        let scaletempo_src = static_pad(&self.scaletempo, "src")?;
        scaletempo_src.link(&self.sink_pad).map_err(|error| {
            format!(
                "cannot link {} to the sink: {error:?}",
                pad_name(&scaletempo_src)
            )
        })?;
        // Left in NULL: the bin inserts before its own READY to PAUSED, which brings every
        // child along (syncing with the parent now would take its pending PAUSED ahead of the
        // neighbours).
        Ok(())
    }

    /// Takes the keeper out, from whatever part of it is in, and gives the sink its feed back:
    /// also the undo of a `link_in` that stopped half way. A feed that the application has
    /// relinked meanwhile is left as it is.
    fn remove(self) {
        let pads = static_pad(&self.convert, "sink")
            .and_then(|convert_sink| Ok((convert_sink, static_pad(&self.scaletempo, "src")?)));
        let Ok((convert_sink, scaletempo_src)) = pads else {
            // Elements without their always pads: never linked, nothing to restore.
            self.discard();
            return;
        };
        if scaletempo_src.peer().as_ref() == Some(&self.sink_pad) {
            let _ = scaletempo_src.unlink(&self.sink_pad);
        }
        let restored = match &self.feed {
            Feed::Peer(peer) => {
                if peer.peer().as_ref() == Some(&convert_sink) {
                    let _ = peer.unlink(&convert_sink);
                }
                if peer.peer().is_none() && self.sink_pad.peer().is_none() {
                    // Linked before: the caps were checked then.
                    peer.link_full(&self.sink_pad, gst::PadLinkCheck::HIERARCHY)
                        .map(|_| ())
                        .map_err(|error| format!("{error:?}"))
                } else {
                    Ok(())
                }
            }
            Feed::Ghost(ghost) => {
                let target = ghost.target();
                if (target.is_none() || target.as_ref() == Some(&convert_sink))
                    && self.sink_pad.peer().is_none()
                {
                    ghost
                        .set_target(Some(&self.sink_pad))
                        .map_err(|error| error.to_string())
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = restored {
            gst::warning!(
                CAT,
                obj = self.sink_pad,
                "cannot get its feed back: {error}"
            );
        }
        self.discard();
    }

    /// Stops the keeper's elements and takes them out of the bin.
    fn discard(self) {
        for element in [&self.convert, &self.scaletempo] {
            let _ = element.set_state(gst::State::Null);
            if element.parent().as_ref() == Some(self.container.upcast_ref()) {
                let _ = self.container.remove(element);
            }
        }
        gst::debug!(CAT, obj = self.sink_pad, "keeper removed");
    }
}

fn static_pad(element: &gst::Element, name: &str) -> Result<gst::Pad, String> {
    element
        .static_pad(name)
        .ok_or_else(|| format!("{} has no {name} pad", element.name()))
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
