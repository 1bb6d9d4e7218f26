//! Regression tests for the defects the stress test (tests/stress.rs) found beyond issue 10's
//! list (each failed on the code before its fix; the reference tests with GStreamer's own
//! elements pass either way, except where GStreamer 1.22 itself fails, which an example shows). The others are in tests/live_source_seek_through_mixer.rs and
//! tests/negative_offset_into_compositor.rs (which runs gst-launch: that defect aborted the
//! process).

mod common;

use common::*;
use gst::prelude::*;

const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

/// KNOWN_DEFECTS `pushsrcbin-live-rate-seek`: SPEC section 2 rule 7 ("live sources refuse
/// rate seeks other than 1.0", a rule of every source-like element) holds for pushsrcbin too.
/// Today pushsrcbin passes the seek to the wrapped live `videotestsrc`, which accepts it and
/// then stamps buffers 2^64 − 31 ms (wrapped) in the reverse segment, with a CRITICAL
/// `gst_object_sync_values: assertion 'GST_CLOCK_TIME_IS_VALID (timestamp)'` (GStreamer's bug,
/// which the refusal keeps away).
#[test]
fn pushsrcbin_refuses_rate_seeks_for_a_live_source() {
    for rate in [-1.0, 2.0] {
        let pipeline = pipeline(&format!(
            "pushsrcbin name=bin source-description=\"videotestsrc is-live=true\" ! {VIDEO} ! fakesink sync=false"
        ));
        pipeline.set_state(gst::State::Paused).unwrap();
        let _ = settle(&pipeline);
        let bin = pipeline.by_name("bin").unwrap();
        let accepted = bin.static_pad("src").unwrap().send_event(rate_seek(rate));
        pipeline.set_state(gst::State::Null).unwrap();
        assert!(
            !accepted,
            "a live wrapped source: seek at rate {rate} refused"
        );
    }
}

/// The live test sources refuse such seeks: the reference behaviour.
#[test]
fn pushvideotestsrc_refuses_rate_seeks_when_live() {
    let pipeline = pipeline(&format!(
        "pushvideotestsrc is-live=true ! {VIDEO} ! fakesink sync=false"
    ));
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = settle(&pipeline);
    let accepted = pipeline.send_event(rate_seek(-1.0));
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(!accepted);
}

/// A graph holding a live source and a sink that prerolls only after the graph's change to
/// PAUSED returned (NO_PREROLL) lets the pipeline reach PLAYING. GStreamer 1.22's GstBin keeps
/// that sink's late ASYNC_DONE to itself though it passed its ASYNC_START up, and the pipeline,
/// whose change to PLAYING the sink outside (fed by the live source, unprerolled) makes ASYNC,
/// then waits for the graph for ever, no ERROR (stress seed 13011042603068578167; a plain `bin`
/// does it too, examples/bin_late_async_done.rs). The preroll is made late for certain by
/// blocking the non-live source until the change returned.
#[test]
fn a_graph_with_a_live_source_passes_on_a_preroll_after_its_change() {
    let pipeline = pipeline(
        "graphbin.( name=g0 pushaudiotestsrc name=s0 is-live=false num-buffers=85 \
         samplesperbuffer=441 ! fakesink name=k0 sync=true \
         pushaudiotestsrc name=s1 is-live=true samplesperbuffer=441 ! queue name=q1 ) \
         q1. ! queue ! fakesink name=k1 sync=false",
    );
    let source_pad = pipeline.by_name("s0").unwrap().static_pad("src").unwrap();
    let block = source_pad
        .add_probe(gst::PadProbeType::BLOCK_DOWNSTREAM, |_, _| {
            gst::PadProbeReturn::Ok
        })
        .unwrap();
    assert_eq!(
        pipeline.set_state(gst::State::Paused),
        Ok(gst::StateChangeSuccess::NoPreroll)
    );
    source_pad.remove_probe(block);
    let inner_sink = pipeline.by_name("k0").unwrap();
    let (prerolled, _, _) = inner_sink.state(gst::ClockTime::from_seconds(10));
    assert_eq!(
        prerolled,
        Ok(gst::StateChangeSuccess::Success),
        "k0 prerolls"
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    // A hang guard: PLAYING is reached in milliseconds.
    let (result, current, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(
        (result, current, pending),
        (
            Ok(gst::StateChangeSuccess::Success),
            gst::State::Playing,
            gst::State::VoidPending
        ),
        "the pipeline reaches PLAYING"
    );
}

/// A flushing seek at rate 1.0 to a position ahead, sent to a playing pipeline with a live
/// wrapped source, lets the pipeline preroll again and play on. The wrapped `audiotestsrc`
/// takes the position, so its buffers' running times lag the clock by the jump until the
/// pipeline, prerolled again, plays on from a new base time; pushsrcbin judged each of them
/// against the old one and dropped them all as lost capture data, so the sink never prerolled
/// and the pipeline stayed PAUSED for good, no ERROR (stress seed 8261254349191697867, ops
/// 6 and 8).
#[test]
fn pushsrcbin_live_source_prerolls_again_after_a_flushing_seek_ahead() {
    let pipeline = pipeline(
        "pushsrcbin name=s1 source-description=\"audiotestsrc is-live=true samplesperbuffer=4410\" \
         ! audio/x-raw,format=S16LE,rate=44100,channels=1 ! queue ! fakesink name=k1 sync=true",
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    assert_eq!(settle(&pipeline).1, gst::State::Playing);
    let seek = gst::event::Seek::new(
        1.0,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::from_seconds(1),
        gst::SeekType::None,
        gst::ClockTime::NONE,
    );
    assert!(
        pipeline.send_event(seek),
        "the wrapped source takes the seek"
    );
    // A hang guard: the sink prerolls on the next buffer, 100 ms on.
    let (result, current, pending) = pipeline.state(gst::ClockTime::from_seconds(10));
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(
        (result, current, pending),
        (
            Ok(gst::StateChangeSuccess::Success),
            gst::State::Playing,
            gst::State::VoidPending
        ),
        "the pipeline prerolls again and plays on"
    );
}

/// Stress seeds 1143496699606370478 and 8610353387322530134 (HANG at `pipeline.send_event(eos)`,
/// and at a non-flushing seek): a reverse seek whose stop is past the end of a test source's
/// stream (here 1000 s into 1 s) left the segment's stop at 1000 s while the source played
/// from its end, so its first buffer came 999 s of running time late: the synchronising sink
/// waited that long in the streaming thread, and the EOS (or non-flushing seek) that the
/// application sent meanwhile waited for that thread. The segment is now cut to the stream's
/// end: the reverse stream starts at running time 0 and the EOS passes at once. On the code
/// before the fix the EOS blocked every run (the wait is not a race).
#[test]
fn a_reverse_seek_with_a_stop_past_the_end_plays_from_the_end() {
    for source in [
        format!("pushvideotestsrc is-live=false num-buffers=30 ! {VIDEO}"),
        "pushaudiotestsrc is-live=false num-buffers=30 samplesperbuffer=1470 ! audio/x-raw,rate=44100"
            .to_string(),
    ] {
        let pipeline = pipeline(&format!("{source} ! queue ! fakesink name=sink sync=true"));
        let segments = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = segments.clone();
        let (reverse_buffer, reverse_buffer_seen) = std::sync::mpsc::channel();
        pipeline
            .by_name("sink")
            .unwrap()
            .static_pad("sink")
            .unwrap()
            .add_probe(
                gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::BUFFER,
                move |_, info| {
                    let mut seen = seen.lock().unwrap();
                    match &info.data {
                        Some(gst::PadProbeData::Event(event)) => {
                            if let gst::EventView::Segment(segment) = event.view() {
                                seen.push(segment.segment().clone());
                            }
                        }
                        Some(gst::PadProbeData::Buffer(_))
                            if seen.last().is_some_and(|segment| segment.rate() < 0.0) =>
                        {
                            let _ = reverse_buffer.send(());
                        }
                        _ => {}
                    }
                    gst::PadProbeReturn::Ok
                },
            );
        pipeline.set_state(gst::State::Playing).unwrap();
        assert_eq!(settle(&pipeline).1, gst::State::Playing);
        let seek = gst::event::Seek::new(
            -1.0,
            gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
            gst::SeekType::Set,
            gst::ClockTime::ZERO,
            gst::SeekType::Set,
            gst::ClockTime::from_seconds(1000),
        );
        assert!(pipeline.send_event(seek), "{source}: the reverse seek");
        reverse_buffer_seen
            .recv_timeout(HANG_GUARD)
            .expect("a buffer of the reverse segment reaches the sink");
        let eos_sender = pipeline.clone();
        let reached_eos = guarded(&format!("{source}: EOS after the reverse seek"), move || {
            assert!(eos_sender.send_event(gst::event::Eos::new()));
            let bus = eos_sender.bus().unwrap();
            bus.timed_pop_filtered(
                gst::ClockTime::from_seconds(HANG_GUARD.as_secs()),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .is_some_and(|message| message.type_() == gst::MessageType::Eos)
        });
        pipeline.set_state(gst::State::Null).unwrap();
        assert!(reached_eos, "{source}: EOS");
        let reverse = segments
            .lock()
            .unwrap()
            .iter()
            .filter(|segment| segment.rate() < 0.0)
            .map(|segment| segment.stop().value())
            .collect::<Vec<_>>();
        assert_eq!(
            reverse,
            vec![gst::ClockTime::from_seconds(1).nseconds() as i64],
            "{source}: the reverse segment ends at the stream's end (1 s)"
        );
    }
}

/// Stress seeds 13822860960331607482, 619403367593031142, 11779026292925352406 (a state not
/// reached after a flushing seek at rate 1.0): a wrapped live `videotestsrc` took the seek's
/// position, 1000 s ahead, then waited on the clock until it got there, so no sink prerolled
/// again and the pipeline stayed PAUSED with PAUSED pending (`videotestsrc is-live=true !
/// fakesink sync=true` alone does the same). A capture cannot move in time (SPEC section 2
/// rule 7, as the live test sources keep their position): pushsrcbin's seek flushes and keeps
/// the position. On the code before the fix the pipeline stayed PAUSED every run.
#[test]
fn a_live_wrapped_source_keeps_its_position_in_a_flushing_seek() {
    let pipeline = pipeline(&format!(
        "pushsrcbin source-description=\"videotestsrc is-live=true\" ! {VIDEO} ! \
         fakesink name=sink sync=true"
    ));
    let first_after_flush = std::sync::Arc::new(std::sync::Mutex::new((false, None)));
    let seen = first_after_flush.clone();
    pipeline
        .by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(
            gst::PadProbeType::EVENT_FLUSH | gst::PadProbeType::BUFFER,
            move |_, info| {
                let mut seen = seen.lock().unwrap();
                match &info.data {
                    Some(gst::PadProbeData::Event(event))
                        if event.type_() == gst::EventType::FlushStop =>
                    {
                        seen.0 = true;
                    }
                    Some(gst::PadProbeData::Buffer(buffer)) if seen.0 && seen.1.is_none() => {
                        seen.1 = buffer.pts();
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
    pipeline.set_state(gst::State::Playing).unwrap();
    assert_eq!(settle(&pipeline).1, gst::State::Playing);
    let seek = gst::event::Seek::new(
        1.0,
        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
        gst::SeekType::Set,
        gst::ClockTime::from_seconds(1000),
        gst::SeekType::None,
        gst::ClockTime::NONE,
    );
    assert!(
        pipeline.send_event(seek),
        "the seek at rate 1.0 is accepted"
    );
    let reached = settle(&pipeline).1;
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(reached, gst::State::Playing, "the sinks prerolled again");
    let first = first_after_flush.lock().unwrap().1;
    assert!(
        first.is_some_and(|pts| pts < gst::ClockTime::from_seconds(10)),
        "the capture went on from where it was, not from 1000 s: {first:?}"
    );
}
