//! `graphbin`'s rate-matching policy (SPEC section 3a, item 4): a `ratematch` configured from
//! the push-source flags in front of each audio sink fed by live push sources, with the sink's
//! own clock slaving off, all undone at READY. The audio sink is `alsasink device=null`, a real
//! `GstAudioBaseSink` that needs no sound hardware.

mod common;

use std::collections::HashMap;

use common::*;
use gst::glib;
use gst::prelude::*;

fn live_source(name: &str, flags: &str) -> String {
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!("push-source-flags={flags}")
    };
    format!("pushaudiotestsrc name={name} samplesperbuffer=480 {flags} ! {CAPS_48K_MONO} ! ")
}

fn audio_sink(name: &str) -> String {
    format!("alsasink name={name} device=null sync=false ")
}

fn graph(properties: &str, contents: &str) -> gst::Pipeline {
    init();
    let graph =
        gst::parse::launch(&format!("graphbin.( name=graph {properties} {contents} )")).unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    pipeline
}

fn element(pipeline: &gst::Pipeline, name: &str) -> gst::Element {
    pipeline.by_name(name).unwrap()
}

fn slave_method(sink: &gst::Element) -> String {
    let value = sink.property_value("slave-method");
    glib::EnumValue::from_value(&value)
        .unwrap()
        .1
        .nick()
        .to_string()
}

/// The element whose src pad feeds `element`'s sink pad.
fn feeder(element: &gst::Element) -> Option<gst::Element> {
    element.static_pad("sink")?.peer()?.parent_element()
}

fn factory_name(element: &gst::Element) -> String {
    element.factory().unwrap().name().to_string()
}

fn mode(ratematch: &gst::Element) -> String {
    let value = ratematch.property_value("mode");
    glib::EnumValue::from_value(&value)
        .unwrap()
        .1
        .nick()
        .to_string()
}

fn rate_matching_fields(messages: &[gst::Message]) -> HashMap<String, String> {
    let message = element_messages(messages, "graph-latency")
        .pop()
        .expect("a graph-latency message");
    let mut fields = HashMap::new();
    for list in ["sources", "excluded"] {
        for entry in message.get::<gst::List>(list).unwrap().iter() {
            let entry = entry.get::<gst::Structure>().unwrap();
            fields.insert(
                entry.get::<String>("name").unwrap(),
                entry.get::<String>("rate-matching").unwrap(),
            );
        }
    }
    fields
}

#[test]
fn each_flag_gets_directshows_decision_and_everything_is_undone_at_ready() {
    let cases = [
        ("plain", "", Some("graph-clock"), "graph-clock"),
        ("private", "private-clock", Some("timestamps"), "timestamps"),
        (
            "stream",
            "use-stream-clock",
            Some("sink-clock"),
            "sink-clock",
        ),
        (
            "chain",
            "use-clock-chain",
            Some("graph-clock"),
            "graph-clock",
        ),
        ("matching", "internal-rm", None, "source"),
    ];
    let contents: String = cases
        .iter()
        .map(|(name, flags, _, _)| live_source(name, flags) + &audio_sink(&format!("{name}_sink")))
        .collect();
    let pipeline = graph("", &contents);
    let sources: HashMap<&str, gst::Element> = cases
        .iter()
        .map(|(name, ..)| {
            (
                *name,
                feeder(&element(&pipeline, &format!("{name}_sink"))).unwrap(),
            )
        })
        .collect();
    let default = slave_method(&element(&pipeline, "plain_sink"));
    assert_ne!(default, "none");

    assert_eq!(
        pipeline.set_state(gst::State::Paused).unwrap(),
        gst::StateChangeSuccess::NoPreroll
    );
    for (name, _, expected_mode, _) in cases {
        let sink = element(&pipeline, &format!("{name}_sink"));
        assert_eq!(slave_method(&sink), "none", "{name}: one rate matcher only");
        let fed_by = feeder(&sink).unwrap();
        match expected_mode {
            Some(expected_mode) => {
                assert_eq!(factory_name(&fed_by), "ratematch", "{name}");
                assert_eq!(mode(&fed_by), expected_mode, "{name}");
                assert_eq!(fed_by.name(), format!("{name}_sink-ratematch"));
                let convert = feeder(&fed_by).unwrap();
                assert_eq!(factory_name(&convert), "audioconvert");
                assert_eq!(feeder(&convert).as_ref(), Some(&sources[name]));
            }
            None => assert_eq!(&fed_by, &sources[name], "{name}: no ratematch"),
        }
    }

    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let fields = await_fields(&bus, cases.len());
    for (name, _, _, field) in cases {
        assert_eq!(fields[name], field, "{name}");
    }

    pipeline.set_state(gst::State::Ready).unwrap();
    for (name, ..) in cases {
        let sink = element(&pipeline, &format!("{name}_sink"));
        assert_eq!(slave_method(&sink), default, "{name}: its own value back");
        assert_eq!(
            feeder(&sink).as_ref(),
            Some(&sources[name]),
            "{name}: relinked"
        );
    }
    assert!(
        pipeline
            .iterate_recurse()
            .into_iter()
            .map(Result::unwrap)
            .all(|element| factory_name(&element) != "ratematch"),
        "every ratematch taken out"
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

/// The fields of the first `graph-latency` message that lists `sources` sources.
fn await_fields(bus: &gst::Bus, sources: usize) -> HashMap<String, String> {
    loop {
        let message = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(10),
                &[gst::MessageType::Element, gst::MessageType::Error],
            )
            .expect("a graph-latency message");
        if let gst::MessageView::Error(error) = message.view() {
            panic!("{} ({:?})", error.error(), error.debug());
        }
        let fields = rate_matching_fields(std::slice::from_ref(&message));
        if fields.len() == sources {
            return fields;
        }
    }
}

#[test]
fn not_live_sources_and_sinks_without_a_live_source_get_no_ratematch() {
    let pipeline = graph(
        "",
        &format!(
            "pushaudiotestsrc name=file is-live=false num-buffers=10 ! {CAPS_48K_MONO} ! {}",
            audio_sink("file_sink")
        ),
    );
    let sink = element(&pipeline, "file_sink");
    let default = slave_method(&sink);
    pipeline.set_state(gst::State::Paused).unwrap();
    assert_eq!(
        factory_name(&feeder(&sink).unwrap()),
        "capsfilter",
        "no ratematch"
    );
    assert_eq!(slave_method(&sink), default);
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn with_preserve_pitch_the_ratematch_sits_between_scaletempo_and_the_sink() {
    let pipeline = graph(
        "preserve-pitch=true",
        &(live_source("src", "") + &audio_sink("sink")),
    );
    let source = element(&pipeline, "src");
    let sink = element(&pipeline, "sink");
    pipeline.set_state(gst::State::Paused).unwrap();
    let chain: Vec<String> = std::iter::successors(feeder(&sink), feeder)
        .map(|element| factory_name(&element))
        .collect();
    assert_eq!(
        chain,
        [
            "ratematch",
            "audioconvert",
            "scaletempo",
            "audioconvert",
            "capsfilter",
            "pushaudiotestsrc"
        ]
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let chain: Vec<String> = std::iter::successors(feeder(&sink), feeder)
        .map(|element| factory_name(&element))
        .collect();
    assert_eq!(chain, ["capsfilter", "pushaudiotestsrc"]);
    assert_eq!(feeder(&feeder(&sink).unwrap()).as_ref(), Some(&source));
}
