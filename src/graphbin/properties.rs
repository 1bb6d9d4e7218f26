//! `graphbin`'s properties, its `set-rate` signal and its metadata, with their defaults; what a
//! property write sets off.

use std::sync::LazyLock;

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::imp::{CAT, GraphBin, lock};
use super::rate::Request;
use crate::time;

const DEFAULT_SYNC_USING_STREAM_OFFSET: bool = false;
/// DirectShow's default maximum graph latency (0 would mean no cap).
const DEFAULT_MAX_GRAPH_LATENCY: ClockTime = ClockTime::from_mseconds(500);
const DEFAULT_PRESERVE_PITCH: bool = false;

#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub sync_using_stream_offset: bool,
    pub max_graph_latency: ClockTime,
    pub preserve_pitch: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sync_using_stream_offset: DEFAULT_SYNC_USING_STREAM_OFFSET,
            max_graph_latency: DEFAULT_MAX_GRAPH_LATENCY,
            preserve_pitch: DEFAULT_PRESERVE_PITCH,
        }
    }
}

impl GraphBin {
    pub(super) fn property_specs() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecBoolean::builder("sync-using-stream-offset")
                    .nick("Sync using stream offset")
                    .blurb(
                        "Equalize the latencies of the live push sources inside with stream \
                         offsets (IAMGraphStreams::SyncUsingStreamOffset): each group of sources \
                         gets ts-offset = Lmax - its latency and its sinks PL - that offset; off, \
                         the sources get their own offsets back",
                    )
                    .default_value(DEFAULT_SYNC_USING_STREAM_OFFSET)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("max-graph-latency")
                    .nick("Maximum graph latency")
                    .blurb(
                        "Largest latency (ns) the graph equalizes to, and the least max-offset \
                         of each push source with sync (IAMGraphStreams::SetMaxGraphLatency); \
                         0: no cap",
                    )
                    .maximum(time::MAX_DURATION_NS)
                    .default_value(DEFAULT_MAX_GRAPH_LATENCY.nseconds())
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("graph-latency")
                    .nick("Graph latency")
                    .blurb(
                        "The latency of the slowest live push source inside (Lmax, ns) at the \
                         last equalization",
                    )
                    .maximum(u64::MAX)
                    .read_only()
                    .build(),
                glib::ParamSpecDouble::builder("rate")
                    .nick("Rate")
                    .blurb(
                        "Playback rate of the graph (IMediaSeeking::SetRate): 1.0 normal, 2.0 \
                         twice the speed, negative rates play in reverse. A write flushes every \
                         stream and seeks it to the current position at the new rate; set before \
                         PAUSED, it applies once the graph has prerolled. 0, infinities and any \
                         rate but 1.0 on a live graph are refused with a WARNING",
                    )
                    // Infinities pass GLib's range check so that the bin refuses them itself,
                    // with the WARNING a refused rate gets.
                    .minimum(f64::NEG_INFINITY)
                    .maximum(f64::INFINITY)
                    .default_value(super::rate::DEFAULT_RATE)
                    .mutable_playing()
                    // The bin notifies when the rate changes, not when a write is refused.
                    .explicit_notify()
                    .build(),
                glib::ParamSpecBoolean::builder("preserve-pitch")
                    .nick("Preserve pitch")
                    .blurb(
                        "Keep the pitch of the audio at rates other than 1.0: the bin puts \
                         scaletempo in front of each audio sink inside when it goes to PAUSED. \
                         Off, audio sinks change speed and pitch together, as DirectShow's audio \
                         renderer does",
                    )
                    .default_value(DEFAULT_PRESERVE_PITCH)
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    pub(super) fn signal_specs() -> &'static [glib::subclass::Signal] {
        static SIGNALS: LazyLock<Vec<glib::subclass::Signal>> = LazyLock::new(|| {
            vec![
                glib::subclass::Signal::builder("set-rate")
                    .param_types([f64::static_type()])
                    .return_type::<bool>()
                    .action()
                    .class_handler(|args| {
                        let bin = args[0].get::<super::GraphBin>().expect("signal emitter");
                        let rate = args[1].get::<f64>().expect("signal argument");
                        Some(
                            bin.imp()
                                .change_rate(rate, super::rate::Request::Signal)
                                .to_value(),
                        )
                    })
                    .build(),
            ]
        });
        SIGNALS.as_ref()
    }

    pub(super) fn element_metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Filter graph manager bin",
                "Generic/Bin",
                "A bin that manages the live push sources inside as DirectShow's Filter Graph \
                 Manager does: it equalizes their latencies with stream offsets (each group of \
                 sources reaching a common sink gets Lmax - its latency, its sinks the pipeline \
                 latency minus that offset), hands max-graph-latency on as max-offset, sets the \
                 audio sinks' rate matching from the push-source flags and reports every \
                 equalization in a graph-latency message. It changes the playback rate of the \
                 whole graph (rate, set-rate, seeks with a new rate) as IMediaSeeking::SetRate \
                 does: a flushing seek of every stream to the current position at the new rate, \
                 the old rate restored when an element refuses. Meant to be a child of a \
                 pipeline",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    pub(super) fn write_property(&self, value: &glib::Value, pspec: &glib::ParamSpec) {
        match pspec.name() {
            "sync-using-stream-offset" => {
                let sync = value.get().expect("type checked upstream");
                let previous =
                    std::mem::replace(&mut lock(&self.settings).sync_using_stream_offset, sync);
                gst::debug!(CAT, imp = self, "sync-using-stream-offset {sync}");
                if previous != sync {
                    self.sync_changed();
                }
            }
            "max-graph-latency" => {
                let max = ClockTime::from_nseconds(value.get().expect("type checked upstream"));
                let sync = {
                    let mut settings = lock(&self.settings);
                    settings.max_graph_latency = max;
                    settings.sync_using_stream_offset
                };
                gst::debug!(CAT, imp = self, "max-graph-latency {max}");
                // Without sync the sources are left as they are; with it, the equalization sizes
                // them again (before PAUSED, the value is handed on at READY to PAUSED).
                if sync && self.obj().current_state() >= gst::State::Paused {
                    self.equalize(true);
                }
            }
            "rate" => {
                let rate = value.get().expect("type checked upstream");
                self.change_rate(rate, Request::Property);
            }
            "preserve-pitch" => {
                let preserve = value.get().expect("type checked upstream");
                lock(&self.settings).preserve_pitch = preserve;
                gst::debug!(CAT, imp = self, "preserve-pitch {preserve}");
                self.preserve_pitch_changed();
            }
            name => unreachable!("unknown property {name}"),
        }
    }

    pub(super) fn read_property(&self, pspec: &glib::ParamSpec) -> glib::Value {
        match pspec.name() {
            "sync-using-stream-offset" => lock(&self.settings).sync_using_stream_offset.to_value(),
            "max-graph-latency" => lock(&self.settings).max_graph_latency.nseconds().to_value(),
            "graph-latency" => lock(&self.equalizer).graph_latency.nseconds().to_value(),
            "rate" => lock(&self.rates).current().to_value(),
            "preserve-pitch" => lock(&self.settings).preserve_pitch.to_value(),
            name => unreachable!("unknown property {name}"),
        }
    }
}
