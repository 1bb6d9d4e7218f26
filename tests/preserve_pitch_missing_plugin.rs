//! `preserve-pitch` without `scaletempo`: a WARNING, and the graph left as it is.
//!
//! A test binary of its own: the test takes `scaletempo` out of this process's registry, which
//! the tests in `preserve_pitch.rs`, running in parallel threads, need.

mod common;

use common::*;
use gst::prelude::*;

#[test]
fn without_scaletempo_the_bin_warns_and_changes_nothing() {
    init();
    let registry = gst::Registry::get();
    let scaletempo = registry
        .lookup_feature("scaletempo")
        .expect("scaletempo installed (gst-plugins-good)");
    registry.remove_feature(&scaletempo);
    assert!(gst::ElementFactory::find("scaletempo").is_none());

    let graph = gst::parse::launch(&format!(
        "graphbin.( name=graph preserve-pitch=true \
           pushaudiotestsrc is-live=false samplesperbuffer=480 num-buffers=10 ! \
           capsfilter name=caps caps=\"{CAPS_48K_MONO}\" ! alsasink name=sink device=null sync=false )"
    ))
    .unwrap();
    let pipeline = gst::Pipeline::new();
    pipeline.add(&graph).unwrap();
    let children_before = pipeline.iterate_recurse().into_iter().count();

    pipeline.set_state(gst::State::Paused).unwrap();
    let (result, _, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert_eq!(
        result,
        Ok(gst::StateChangeSuccess::Success),
        "it prerolls all the same"
    );
    let sink_pad = pipeline
        .by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap();
    assert_eq!(
        sink_pad.peer().and_then(|peer| peer.parent_element()),
        pipeline.by_name("caps")
    );
    assert_eq!(
        pipeline.iterate_recurse().into_iter().count(),
        children_before,
        "no audioconvert either"
    );

    let warnings = warnings(&drain_messages(&pipeline.bus().unwrap()));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let gst::MessageView::Warning(warning) = warnings[0].view() else {
        unreachable!()
    };
    assert!(warning.error().matches(gst::CoreError::MissingPlugin));
    let text = warning.error().message().to_string();
    assert!(text.starts_with("preserve-pitch: "), "{text}");
    assert!(text.contains("scaletempo"), "{text}");
    assert_eq!(warnings[0].src(), Some(graph.upcast_ref()));

    pipeline.set_state(gst::State::Null).unwrap();
    registry.add_feature(&scaletempo).unwrap();
}
