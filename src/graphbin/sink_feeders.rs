//! The mechanism behind `preserve-pitch` and rate matching: a chain of elements put in front of
//! a sink's pad while the bin is PAUSED or PLAYING, and taken out again at READY.
//!
//! The chain goes between the sink's pad and what fed it (the src pad linked to it, or the sink
//! ghost pad of the sink's bin, which is then retargeted). Every change is undone when it cannot
//! be completed, so that a sink is either fed as before or through its chain: never half linked.
//! Chains nest: a second chain put in front of the same sink goes between the first and the
//! sink, and is taken out first.

use gst::prelude::*;

/// What fed a sink's pad before a chain went in between.
#[derive(Debug)]
enum Feed {
    /// The src pad linked to the sink's pad.
    Peer(gst::Pad),
    /// The sink ghost pad of the sink's bin, whose target was the sink's pad: the stream comes
    /// from outside that bin, and the ghost pad is retargeted rather than its internal pad
    /// relinked.
    Ghost(gst::GhostPad),
}

/// A sink's pad that is fed, and where it sits.
pub(super) struct Fed {
    container: gst::Bin,
    sink_pad: gst::Pad,
    feed: Feed,
}

/// A chain of elements in front of one sink's pad.
#[derive(Debug)]
pub(super) struct Feeder {
    container: gst::Bin,
    sink_pad: gst::Pad,
    feed: Feed,
    /// In stream order: the first is fed, the last feeds the sink.
    elements: Vec<gst::Element>,
}

/// The sink pads of `sink` that are fed and not yet through a chain ending in an element made
/// by `last_factory`.
pub(super) fn fed_pads_of(
    cat: gst::DebugCategory,
    sink: &gst::Element,
    last_factory: &str,
) -> Vec<Fed> {
    let Some(container) = sink.parent().and_downcast::<gst::Bin>() else {
        return Vec::new();
    };
    sink.sink_pads()
        .into_iter()
        .filter_map(|sink_pad| {
            let Some(peer) = sink_pad.peer() else {
                gst::debug!(cat, obj = sink_pad, "not linked (yet): left as it is");
                return None;
            };
            let feed = match ghost_of_internal_pad(&peer) {
                Some(ghost) => Feed::Ghost(ghost),
                None if made_by(&peer, last_factory) => {
                    gst::debug!(cat, obj = sink_pad, "already fed by a {last_factory}");
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

fn made_by(pad: &gst::Pad, factory: &str) -> bool {
    pad.parent_element()
        .and_then(|element| element.factory())
        .is_some_and(|made_by| made_by.name() == factory)
}

/// "element:pad", for messages.
pub(super) fn pad_name(pad: &gst::Pad) -> String {
    match pad.parent() {
        Some(parent) => format!("{}:{}", parent.name(), pad.name()),
        None => pad.name().to_string(),
    }
}

/// The element factory `name`, or why the chain cannot be made.
pub(super) fn factory(name: &str, plugin: &str) -> Result<gst::ElementFactory, String> {
    gst::ElementFactory::find(name)
        .ok_or_else(|| format!("the {name} element is missing ({plugin})"))
}

impl Feeder {
    /// Creates the chain of `factories` in front of `fed`, each element configured by
    /// `configure`, and links it in; or undoes what it did and says why not.
    pub fn insert(
        fed: Fed,
        factories: &[gst::ElementFactory],
        configure: impl Fn(&gst::Element),
    ) -> Result<Self, String> {
        let Fed {
            container,
            sink_pad,
            feed,
        } = fed;
        let sink_name = match sink_pad.parent_element() {
            Some(sink) if sink_pad.name() == "sink" => sink.name().to_string(),
            _ => pad_name(&sink_pad).replace(':', "-"),
        };
        let mut elements = Vec::with_capacity(factories.len());
        for factory in factories {
            let wanted = format!("{sink_name}-{}", factory.name());
            // A name already taken in the bin would make adding fail: GStreamer picks one then.
            let name = container.child_by_name(&wanted).is_none().then_some(wanted);
            let element = factory
                .create_with_name(name.as_deref())
                .map_err(|error| format!("{}: {error}", pad_name(&sink_pad)))?;
            configure(&element);
            elements.push(element);
        }
        let feeder = Self {
            container,
            sink_pad,
            feed,
            elements,
        };
        match feeder.link_in() {
            Ok(()) => Ok(feeder),
            Err(error) => {
                let error = format!("{}: {error}", pad_name(&feeder.sink_pad));
                feeder.remove();
                Err(error)
            }
        }
    }

    pub fn sink_pad(&self) -> &gst::Pad {
        &self.sink_pad
    }

    fn first_sink(&self) -> Result<gst::Pad, String> {
        static_pad(self.elements.first().ok_or("an empty chain")?, "sink")
    }

    fn last_src(&self) -> Result<gst::Pad, String> {
        static_pad(self.elements.last().ok_or("an empty chain")?, "src")
    }

    fn link_in(&self) -> Result<(), String> {
        for element in &self.elements {
            self.container
                .add(element)
                .map_err(|error| format!("cannot add {}: {error}", element.name()))?;
        }
        for pair in self.elements.windows(2) {
            pair[0].link(&pair[1]).map_err(|error| {
                format!(
                    "cannot link {} to {}: {error}",
                    pair[0].name(),
                    pair[1].name()
                )
            })?;
        }
        let first_sink = self.first_sink()?;
        match &self.feed {
            Feed::Peer(peer) => {
                peer.unlink(&self.sink_pad)
                    .map_err(|error| format!("cannot unlink {}: {error}", pad_name(peer)))?;
                peer.link(&first_sink).map_err(|error| {
                    format!(
                        "cannot link {} to {}: {error:?}",
                        pad_name(peer),
                        pad_name(&first_sink)
                    )
                })?;
            }
            Feed::Ghost(ghost) => {
                ghost.set_target(Some(&first_sink)).map_err(|error| {
                    format!(
                        "cannot retarget {} to {}: {error}",
                        pad_name(ghost.upcast_ref()),
                        pad_name(&first_sink)
                    )
                })?;
            }
        }
        let last_src = self.last_src()?;
        last_src.link(&self.sink_pad).map_err(|error| {
            format!("cannot link {} to the sink: {error:?}", pad_name(&last_src))
        })?;
        // Left in NULL: the bin inserts before its own READY to PAUSED, which brings every
        // child along (syncing with the parent now would take its pending PAUSED ahead of the
        // neighbours).
        Ok(())
    }

    /// Takes the chain out, from whatever part of it is in, and gives the sink its feed back:
    /// also the undo of a `link_in` that stopped half way. A feed that the application has
    /// relinked meanwhile is left as it is.
    pub fn remove(self) {
        let (Ok(first_sink), Ok(last_src)) = (self.first_sink(), self.last_src()) else {
            // Elements without their always pads: never linked, nothing to restore.
            self.discard();
            return;
        };
        if last_src.peer().as_ref() == Some(&self.sink_pad) {
            let _ = last_src.unlink(&self.sink_pad);
        }
        let restored = match &self.feed {
            Feed::Peer(peer) => {
                if peer.peer().as_ref() == Some(&first_sink) {
                    let _ = peer.unlink(&first_sink);
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
                if (target.is_none() || target.as_ref() == Some(&first_sink))
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
                gst::CAT_DEFAULT,
                obj = self.sink_pad,
                "cannot get its feed back: {error}"
            );
        }
        self.discard();
    }

    /// Stops the chain's elements and takes them out of the bin.
    fn discard(self) {
        for element in &self.elements {
            let _ = element.set_state(gst::State::Null);
            if element.parent().as_ref() == Some(self.container.upcast_ref()) {
                let _ = self.container.remove(element);
            }
        }
    }
}

fn static_pad(element: &gst::Element, name: &str) -> Result<gst::Pad, String> {
    element
        .static_pad(name)
        .ok_or_else(|| format!("{} has no {name} pad", element.name()))
}
