//! `graphbin`'s `preserve-pitch` (SPEC section 3, rates item 6): `audioconvert ! scaletempo` in
//! front of each audio sink inside the bin from READY to PAUSED, taken out at PAUSED to READY.
//!
//! The audio sink is `alsasink device=null`, a real `GstAudioBaseSink` that needs no sound
//! hardware (ALSA's null device takes samples as fast as they come) and prerolls. Its `sync` is
//! off: no result depends on a clock, only on what reaches its pad, so the runs to EOS are
//! deterministic without a TestClock.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;

/// A non-live source of `buffers` × 10 ms at 48 kHz mono S16LE, ending in a capsfilter named
/// `<name>_caps`.
fn source(name: &str, buffers: u32) -> String {
    format!(
        "pushaudiotestsrc name={name} is-live=false samplesperbuffer=480 num-buffers={buffers} ! \
         capsfilter name={name}_caps caps=\"{CAPS_48K_MONO}\" "
    )
}

fn audio_sink(name: &str) -> String {
    format!("alsasink name={name} device=null sync=false ")
}

/// A pipeline around `graphbin.( name=graph properties contents )`.
fn graph_pipeline(properties: &str, contents: &str) -> gst::Pipeline {
    let graph = gst::parse::launch(&format!("graphbin.( name=graph {properties} {contents} )"))
        .unwrap()
        .downcast::<gst::Bin>()
        .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    pipeline
}

fn element(pipeline: &gst::Pipeline, name: &str) -> gst::Element {
    pipeline.by_name(name).unwrap()
}

/// Goes to PAUSED and waits (within the hang guard) until the pipeline has prerolled.
fn preroll(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Paused).unwrap();
    let (result, current, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(result, Ok(gst::StateChangeSuccess::Success));
    assert_eq!(current, gst::State::Paused);
}

/// The elements inside `bin`, however deeply nested, made by the factory `factory`.
fn made_by(bin: &gst::Bin, factory: &str) -> Vec<gst::Element> {
    bin.iterate_recurse()
        .into_iter()
        .map(Result::unwrap)
        .filter(|element| element.factory().is_some_and(|f| f.name() == factory))
        .collect()
}

fn scaletempos(pipeline: &gst::Pipeline) -> Vec<gst::Element> {
    made_by(pipeline.upcast_ref(), "scaletempo")
}

/// The element whose src pad feeds `element`'s sink pad `pad` (through ghost pads: the element
/// holding the pad at the end).
fn feeder_of_pad(element: &gst::Element, pad: &str) -> Option<gst::Element> {
    let mut peer = element.static_pad(pad)?.peer()?;
    loop {
        // The internal pad of a sink ghost pad: the stream comes from outside that bin.
        if let Some(ghost) = peer
            .downcast_ref::<gst::ProxyPad>()
            .and_then(|proxy| proxy.internal())
            .and_downcast::<gst::GhostPad>()
            .filter(|ghost| ghost.direction() == gst::PadDirection::Sink)
        {
            peer = ghost.peer()?;
            continue;
        }
        // A src ghost pad: the stream comes from its target inside its bin.
        if let Some(ghost) = peer.downcast_ref::<gst::GhostPad>() {
            peer = ghost.target()?;
            continue;
        }
        return peer.parent_element();
    }
}

fn feeder(element: &gst::Element) -> Option<gst::Element> {
    feeder_of_pad(element, "sink")
}

fn factory_name(element: &gst::Element) -> String {
    element.factory().unwrap().name().to_string()
}

/// `sink` is fed by `audioconvert ! scaletempo` named after it, fed by `original`.
fn assert_kept(pipeline: &gst::Pipeline, sink: &str, original: &gst::Element) {
    let sink = element(pipeline, sink);
    let scaletempo = feeder(&sink).expect("the sink is fed");
    assert_eq!(factory_name(&scaletempo), "scaletempo");
    assert_eq!(scaletempo.name(), format!("{}-scaletempo", sink.name()));
    let convert = feeder(&scaletempo).expect("scaletempo is fed");
    assert_eq!(factory_name(&convert), "audioconvert");
    assert_eq!(convert.name(), format!("{}-audioconvert", sink.name()));
    assert_eq!(feeder(&convert).as_ref(), Some(original));
    assert_eq!(
        scaletempo.parent(),
        sink.parent(),
        "the keeper sits in the sink's bin"
    );
}

/// Each child of every bin inside, by name, with its bin: the structure to compare.
fn layout(pipeline: &gst::Pipeline) -> Vec<(String, String)> {
    let mut layout: Vec<(String, String)> = pipeline
        .iterate_recurse()
        .into_iter()
        .map(Result::unwrap)
        .map(|element| {
            (
                element.parent().unwrap().name().into(),
                element.name().into(),
            )
        })
        .collect();
    layout.sort();
    layout
}

/// For every element inside, the element feeding each of its sink pads.
fn links(pipeline: &gst::Pipeline) -> Vec<(String, String, Option<String>)> {
    let mut links: Vec<_> = pipeline
        .iterate_recurse()
        .into_iter()
        .map(Result::unwrap)
        .filter(|element| !element.is::<gst::Bin>())
        .flat_map(|element| {
            element
                .sink_pads()
                .into_iter()
                .map(|pad| {
                    (
                        element.name().to_string(),
                        pad.name().to_string(),
                        feeder_of_pad(&element, &pad.name()).map(|e| e.name().to_string()),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    links.sort();
    links
}

#[test]
fn off_by_default_no_scaletempo_is_inserted() {
    init();
    let pipeline = graph_pipeline("", &(source("src", 10) + "! " + &audio_sink("sink")));
    assert!(!element(&pipeline, "graph").property::<bool>("preserve-pitch"));
    let before = links(&pipeline);

    preroll(&pipeline);
    assert!(scaletempos(&pipeline).is_empty());
    assert!(made_by(pipeline.upcast_ref(), "audioconvert").is_empty());
    assert_eq!(links(&pipeline), before);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn each_audio_sink_gets_its_own_scaletempo_and_a_fakesink_is_left_alone() {
    init();
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &format!(
            "{} ! {} {} ! {} {} ! fakesink name=data",
            source("a", 10),
            audio_sink("sink_a"),
            source("b", 10),
            audio_sink("sink_b"),
            source("c", 10),
        ),
    );
    preroll(&pipeline);

    assert_eq!(scaletempos(&pipeline).len(), 2);
    for (sink, source) in [("sink_a", "a"), ("sink_b", "b")] {
        assert_kept(
            &pipeline,
            sink,
            &element(&pipeline, &format!("{source}_caps")),
        );
    }
    let data_feeder = feeder(&element(&pipeline, "data")).unwrap();
    assert_eq!(factory_name(&data_feeder), "capsfilter");
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn ready_takes_them_out_and_paused_puts_them_back_without_stacking() {
    init();
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &format!(
            "{} ! {} {} ! {}",
            source("a", 10),
            audio_sink("sink_a"),
            source("b", 10),
            audio_sink("sink_b"),
        ),
    );
    let (before_layout, before_links) = (layout(&pipeline), links(&pipeline));

    for round in 0..2 {
        preroll(&pipeline);
        assert_eq!(scaletempos(&pipeline).len(), 2, "round {round}");
        assert_eq!(
            made_by(pipeline.upcast_ref(), "audioconvert").len(),
            2,
            "round {round}"
        );
        assert_eq!(layout(&pipeline).len(), before_layout.len() + 4);

        pipeline.set_state(gst::State::Ready).unwrap();
        assert_eq!(layout(&pipeline), before_layout, "round {round}");
        assert_eq!(links(&pipeline), before_links, "round {round}");
    }

    preroll(&pipeline);
    let inserted: Vec<_> = scaletempos(&pipeline);
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(layout(&pipeline), before_layout);
    assert_eq!(links(&pipeline), before_links);
    for scaletempo in inserted {
        assert_eq!(scaletempo.current_state(), gst::State::Null);
        assert!(scaletempo.parent().is_none());
    }
}

#[test]
fn a_sink_already_fed_by_scaletempo_gets_no_second_one() {
    init();
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &format!(
            "{} ! audioconvert ! scaletempo name=own ! {}",
            source("src", 10),
            audio_sink("sink")
        ),
    );
    preroll(&pipeline);
    assert_eq!(scaletempos(&pipeline), vec![element(&pipeline, "own")]);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_sink_fed_through_a_ghost_pad_gets_the_ghost_pad_retargeted() {
    init();
    let pipeline = graph_pipeline("preserve-pitch=true", &source("src", 10));
    // `inner` holds only the sink, fed through its sink ghost pad from outside.
    let graph = element(&pipeline, "graph").downcast::<gst::Bin>().unwrap();
    let inner = gst::parse::bin_from_description(&audio_sink("sink"), true).unwrap();
    inner.set_property("name", "inner");
    graph.add(&inner).unwrap();
    let capsfilter = element(&pipeline, "src_caps");
    capsfilter.link(&inner).unwrap();
    let ghost = inner
        .static_pad("sink")
        .unwrap()
        .downcast::<gst::GhostPad>()
        .unwrap();
    let sink_pad = element(&pipeline, "sink").static_pad("sink").unwrap();
    assert_eq!(ghost.target().as_ref(), Some(&sink_pad));

    preroll(&pipeline);
    assert_kept(&pipeline, "sink", &capsfilter);
    let convert = element(&pipeline, "sink-audioconvert");
    assert_eq!(
        ghost.target(),
        convert.static_pad("sink"),
        "the ghost pad targets the audioconvert"
    );
    assert_eq!(convert.parent().as_ref(), Some(inner.upcast_ref()));

    pipeline.set_state(gst::State::Ready).unwrap();
    assert_eq!(ghost.target().as_ref(), Some(&sink_pad), "target restored");
    assert_eq!(ghost.peer(), capsfilter.static_pad("src"));
    assert!(scaletempos(&pipeline).is_empty());
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_link_that_fails_leaves_the_sink_linked_as_before() {
    init();
    // Caps set after linking: the capsfilter can give nothing but AC-3, which audioconvert does
    // not take, so linking it to the keeper fails.
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &format!(
            "{} ! capsfilter name=filter ! {} {} ! {}",
            source("a", 10),
            audio_sink("sink_a"),
            source("b", 10),
            audio_sink("sink_b")
        ),
    );
    let filter = element(&pipeline, "filter");
    filter.set_property("caps", gst::Caps::builder("audio/x-ac3").build());
    let before = links(&pipeline);

    // Negotiation then fails in the streaming thread; the structure is settled within set_state.
    let _ = pipeline.set_state(gst::State::Paused);
    assert_eq!(feeder(&element(&pipeline, "sink_a")), Some(filter));
    assert_eq!(
        scaletempos(&pipeline)
            .iter()
            .map(|e| e.name().to_string())
            .collect::<Vec<_>>(),
        ["sink_b-scaletempo"],
        "the other sink keeps its pitch all the same"
    );
    let audioconverts = made_by(pipeline.upcast_ref(), "audioconvert");
    assert_eq!(audioconverts.len(), 1, "sink_a's was taken out again");

    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(links(&pipeline), before);
}

#[test]
fn an_unlinked_audio_sink_is_skipped() {
    init();
    let pipeline = graph_pipeline("preserve-pitch=true", &audio_sink("sink"));
    let bus = pipeline.bus().unwrap();
    // It never prerolls: nothing feeds it.
    assert_eq!(
        pipeline.set_state(gst::State::Paused).unwrap(),
        gst::StateChangeSuccess::Async
    );
    assert!(scaletempos(&pipeline).is_empty());
    assert!(warnings(&drain_messages(&bus)).is_empty());
    pipeline.set_state(gst::State::Null).unwrap();
}

/// What reached a pad after its last segment.
#[derive(Debug, Default)]
struct Seen {
    segment: Option<gst::Segment>,
    samples: usize,
}

/// Counts the S16LE mono samples reaching `pad` since the last segment.
fn count_at(pad: &gst::Pad) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let store = seen.clone();
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_pad, info| {
            let mut seen = store.lock().unwrap();
            match &info.data {
                Some(gst::PadProbeData::Buffer(buffer)) => seen.samples += buffer.size() / 2,
                Some(gst::PadProbeData::Event(event)) => {
                    if let gst::EventView::Segment(segment) = event.view() {
                        *seen = Seen {
                            segment: Some(segment.segment().clone()),
                            samples: 0,
                        };
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
    seen
}

/// Plays 1 s of audio at rate 2.0, set once prerolled; returns what left the source and what
/// reached the audio sink after the rate change.
fn play_at_twice_the_speed(preserve_pitch: bool) -> (Seen, Seen) {
    init();
    let pipeline = graph_pipeline(
        &format!("preserve-pitch={preserve_pitch}"),
        &(source("src", 100) + "! " + &audio_sink("sink")),
    );
    let produced = count_at(&element(&pipeline, "src").static_pad("src").unwrap());
    let received = count_at(&element(&pipeline, "sink").static_pad("sink").unwrap());
    preroll(&pipeline);
    assert!(
        element(&pipeline, "graph").emit_by_name::<bool>("set-rate", &[&2.0f64]),
        "a non-live graph changes its rate"
    );
    run_pipeline_to_eos(pipeline.upcast_ref());
    let produced = std::mem::take(&mut *produced.lock().unwrap());
    let received = std::mem::take(&mut *received.lock().unwrap());
    (produced, received)
}

fn rates(seen: &Seen) -> (f64, f64) {
    let segment = seen.segment.as_ref().expect("a segment");
    (segment.rate(), segment.applied_rate())
}

#[test]
fn with_preserve_pitch_the_sink_plays_stretched_audio_at_rate_1() {
    let (produced, received) = play_at_twice_the_speed(true);
    assert_eq!(rates(&produced), (2.0, 1.0), "the source plays at 2.0");
    assert_eq!(
        rates(&received),
        (1.0, 2.0),
        "scaletempo applied the rate: the sink plays at 1.0"
    );
    assert_eq!(
        produced.samples, 48_000,
        "the whole second again, from position 0 where it prerolled"
    );
    let ratio = received.samples as f64 / produced.samples as f64;
    assert!(
        (ratio - 0.5).abs() < 0.05,
        "about half as many samples for the same media: {} of {}",
        received.samples,
        produced.samples
    );
}

#[test]
fn without_preserve_pitch_the_sink_gets_every_sample_and_the_rate() {
    let (produced, received) = play_at_twice_the_speed(false);
    assert_eq!(rates(&received), (2.0, 1.0), "the sink resamples: pitch up");
    assert_eq!(received.samples, produced.samples);
}

/// A bin presenting itself as an audio sink ("Sink/Audio"), as `autoaudiosink` does, around
/// `alsasink device=null`.
mod audio_sink_bin {
    use gst::glib;
    use gst::prelude::*;
    use gst::subclass::prelude::*;
    use std::sync::LazyLock;

    glib::wrapper! {
        pub struct AudioSinkBin(ObjectSubclass<imp::AudioSinkBin>)
            @extends gst::Bin, gst::Element, gst::Object;
    }

    impl AudioSinkBin {
        pub fn new(name: &str) -> Self {
            glib::Object::builder().property("name", name).build()
        }
    }

    mod imp {
        use super::*;

        #[derive(Default)]
        pub struct AudioSinkBin;

        #[glib::object_subclass]
        impl ObjectSubclass for AudioSinkBin {
            const NAME: &'static str = "TestAudioSinkBin";
            type Type = super::AudioSinkBin;
            type ParentType = gst::Bin;
        }

        impl ObjectImpl for AudioSinkBin {
            fn constructed(&self) {
                self.parent_constructed();
                let obj = self.obj();
                let sink = gst::ElementFactory::make("alsasink")
                    .name(format!("{}-inner", obj.name()))
                    .property("device", "null")
                    .property("sync", false)
                    .build()
                    .unwrap();
                obj.add(&sink).unwrap();
                let ghost = gst::GhostPad::with_target(&sink.static_pad("sink").unwrap()).unwrap();
                obj.add_pad(&ghost).unwrap();
            }
        }

        impl GstObjectImpl for AudioSinkBin {}

        impl ElementImpl for AudioSinkBin {
            fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
                static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
                    gst::subclass::ElementMetadata::new(
                        "Test audio sink bin",
                        "Sink/Audio",
                        "An audio sink made of a bin",
                        "pushsource developers",
                    )
                });
                Some(&*METADATA)
            }
        }

        impl BinImpl for AudioSinkBin {}
    }
}

#[test]
fn an_audio_sink_that_is_a_bin_counts_as_one_sink() {
    init();
    let pipeline = graph_pipeline("preserve-pitch=true", &source("src", 10));
    let graph = element(&pipeline, "graph").downcast::<gst::Bin>().unwrap();
    let sink_bin = audio_sink_bin::AudioSinkBin::new("sink");
    graph.add(&sink_bin).unwrap();
    let capsfilter = element(&pipeline, "src_caps");
    capsfilter.link(&sink_bin).unwrap();

    preroll(&pipeline);
    assert_kept(&pipeline, "sink", &capsfilter);
    assert_eq!(scaletempos(&pipeline).len(), 1, "none inside the sink bin");
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn a_failed_preroll_does_not_leave_them_behind() {
    init();
    // filesrc fails its READY to PAUSED: the bin goes back down without a PAUSED to READY.
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &format!(
            "filesrc location=/nonexistent/preserve-pitch ! {}",
            audio_sink("sink")
        ),
    );
    let (before_layout, before_links) = (layout(&pipeline), links(&pipeline));

    assert!(pipeline.set_state(gst::State::Paused).is_err());
    assert_eq!(pipeline.current_state(), gst::State::Ready);
    assert_eq!(scaletempos(&pipeline).len(), 1);
    // Again from READY (the sink, already PAUSED, makes GStreamer answer ASYNC this time): the
    // bin inserts again, and the sink already has its keeper.
    let _ = pipeline.set_state(gst::State::Paused);
    assert_eq!(scaletempos(&pipeline).len(), 1, "not stacked");
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(layout(&pipeline), before_layout);
    assert_eq!(links(&pipeline), before_links);
}

/// GStreamer 1.22's `scaletempo` crashes the process at rates of 1e7 and more (`cargo run
/// --example scaletempo_extreme_rate 1e9`): with pitch keepers in, a rate beyond 1/1000 … 1000
/// in magnitude is refused with its reason, the graph plays on at its rate; without them (no
/// audio renderer, or `preserve-pitch` off) the same rate is not refused for that reason.
#[test]
fn rates_scaletempo_cannot_stretch_are_refused_while_keeping_pitch() {
    init();
    let pipeline = graph_pipeline(
        "preserve-pitch=true",
        &(source("src", 1000) + "! " + &audio_sink("sink")),
    );
    let bus = pipeline.bus().unwrap();
    preroll(&pipeline);
    let graph = element(&pipeline, "graph");
    for rate in [1e9, -1e7, 1e-300, 1000.5, -0.0009] {
        assert!(
            !graph.emit_by_name::<bool>("set-rate", &[&rate]),
            "rate {rate} with scaletempo in"
        );
        assert_eq!(graph.property::<f64>("rate"), 1.0);
        let refusal = loop {
            let message = bus
                .timed_pop_filtered(
                    gst::ClockTime::from_seconds(HANG_GUARD.as_secs()),
                    &[gst::MessageType::Warning],
                )
                .expect("a WARNING for the refused rate");
            let gst::MessageView::Warning(warning) = message.view() else {
                unreachable!()
            };
            if let Some(details) = warning.details() {
                break details.to_owned();
            }
        };
        assert_eq!(refusal.name(), "pushsource/rate-refused");
        assert_eq!(refusal.get::<&str>("reason").unwrap(), "pitch-range");
        assert_eq!(refusal.get::<f64>("rate").unwrap(), rate);
    }
    assert!(
        graph.emit_by_name::<bool>("set-rate", &[&1000.0f64]),
        "1000 is within reach"
    );
    assert_eq!(graph.property::<f64>("rate"), 1000.0);
    pipeline.set_state(gst::State::Null).unwrap();

    // Without keepers nothing is refused for their sake.
    let pipeline = graph_pipeline(
        "preserve-pitch=false",
        &(source("src", 1000) + "! " + &audio_sink("sink")),
    );
    preroll(&pipeline);
    let graph = element(&pipeline, "graph");
    assert!(graph.emit_by_name::<bool>("set-rate", &[&2000.0f64]));
    assert_eq!(graph.property::<f64>("rate"), 2000.0);
    pipeline.set_state(gst::State::Null).unwrap();
}
