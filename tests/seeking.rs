//! SPEC section 2, rule 7: non-live test sources seek in TIME at any rate but 0, reverse too;
//! live sources refuse rates other than 1.0.

mod common;

use common::*;
use gst::prelude::*;

const BUFFER: gst::ClockTime = gst::ClockTime::from_mseconds(10);

/// A non-live `pushaudiotestsrc` of 100 buffers of 10 ms into fakesink, prerolled (PAUSED):
/// fakesink holds buffer 0 and the source waits to push buffer 1.
fn prerolled(extra: &str) -> (gst::Pipeline, Recorder) {
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc name=src is-live=false samplesperbuffer=480 num-buffers=100 {extra} ! \
         {CAPS_48K_MONO} ! fakesink name=sink sync=false"
    ));
    let recorder = Recorder::at_sink(&pipeline);
    pipeline.set_state(gst::State::Paused).unwrap();
    assert_eq!(
        pipeline.state(gst::ClockTime::from_seconds(60)).0,
        Ok(gst::StateChangeSuccess::Success)
    );
    (pipeline, recorder)
}

fn seek(
    pipeline: &gst::Pipeline,
    rate: f64,
    start: gst::ClockTime,
    stop: Option<gst::ClockTime>,
) -> bool {
    let stop_type = if stop.is_some() {
        gst::SeekType::Set
    } else {
        gst::SeekType::None
    };
    let done = pipeline.seek(
        rate,
        gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
        gst::SeekType::Set,
        start,
        stop_type,
        stop,
    );
    if done.is_ok() {
        pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    }
    done.is_ok()
}

/// Plays to EOS and returns the last segment recorded (if any since the last `take`) and the
/// buffers recorded after it.
fn play_to_eos(
    pipeline: &gst::Pipeline,
    recorder: &Recorder,
) -> (Option<gst::FormattedSegment<gst::ClockTime>>, Vec<Item>) {
    run_pipeline_to_eos(pipeline.upcast_ref());
    let items = recorder.take();
    let last_segment = items.iter().rposition(|i| matches!(i, Item::Segment(_)));
    let segment = last_segment.map(|at| match &items[at] {
        Item::Segment(segment) => segment.clone(),
        _ => unreachable!(),
    });
    let after = &items[last_segment.map_or(0, |at| at + 1)..];
    assert_eq!(after.last(), Some(&Item::Eos));
    (
        segment,
        after
            .iter()
            .filter(|i| matches!(i, Item::Buffer { .. }))
            .cloned()
            .collect(),
    )
}

fn pts_of(items: &[Item]) -> Vec<u64> {
    items
        .iter()
        .map(|i| match i {
            Item::Buffer { pts, .. } => pts.mseconds(),
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn forward_seek_at_rate_2_sends_segment_with_rate_and_discont() {
    let (pipeline, recorder) = prerolled("");
    recorder.take();
    assert!(seek(
        &pipeline,
        2.0,
        gst::ClockTime::from_mseconds(300),
        None
    ));

    let items = recorder.take();
    let flush_start = items
        .iter()
        .position(|i| *i == Item::FlushStart)
        .expect("FLUSH_START");
    let flush_stop = items
        .iter()
        .position(|i| *i == Item::FlushStop)
        .expect("FLUSH_STOP");
    let Some((segment_at, Item::Segment(segment))) = items
        .iter()
        .enumerate()
        .find(|(_, i)| matches!(i, Item::Segment(_)))
    else {
        panic!("no SEGMENT after the seek: {items:?}");
    };
    assert!(flush_start < flush_stop && flush_stop < segment_at);
    assert_eq!(segment.rate(), 2.0);
    assert_eq!(segment.start(), Some(gst::ClockTime::from_mseconds(300)));
    let Item::Buffer { pts, discont, .. } = items[segment_at + 1] else {
        panic!("{items:?}")
    };
    assert_eq!(
        pts,
        gst::ClockTime::from_mseconds(300),
        "first buffer at the seek position"
    );
    assert!(discont, "first buffer after the seek is DISCONT");

    let (_, buffers) = play_to_eos(&pipeline, &recorder);
    // Stamps stay media time: 10 ms apart in PTS, the sink scales by 1/rate.
    assert_eq!(
        pts_of(&buffers),
        (31..100).map(|k| k * 10).collect::<Vec<_>>()
    );
}

#[test]
fn reverse_playback_from_the_end() {
    let (pipeline, recorder) = prerolled("");
    assert!(seek(&pipeline, -1.0, gst::ClockTime::ZERO, None));
    let (segment, buffers) = play_to_eos(&pipeline, &recorder);
    let segment = segment.unwrap();
    assert_eq!(segment.rate(), -1.0);
    assert_eq!(
        segment.stop(),
        Some(gst::ClockTime::SECOND),
        "num-buffers gives the duration"
    );
    assert_eq!(
        pts_of(&buffers),
        (0..100).rev().map(|k| k * 10).collect::<Vec<_>>()
    );
    // In reverse playback every buffer is a discontinuity (GstBaseSrc's convention).
    assert!(
        buffers.iter().all(
            |b| matches!(b, Item::Buffer { discont: true, duration, .. } if *duration == BUFFER)
        )
    );
}

#[test]
fn reverse_playback_at_rate_minus_2_from_a_stop_inside_a_buffer() {
    let (pipeline, recorder) = prerolled("");
    assert!(seek(
        &pipeline,
        -2.0,
        gst::ClockTime::from_mseconds(100),
        Some(gst::ClockTime::from_mseconds(505))
    ));
    let (segment, buffers) = play_to_eos(&pipeline, &recorder);
    assert_eq!(segment.unwrap().rate(), -2.0);
    let Item::Buffer {
        pts,
        duration,
        offset,
        ..
    } = buffers[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (pts, duration, offset),
        (gst::ClockTime::from_mseconds(495), BUFFER, 495 * 48)
    );
    let Item::Buffer { pts, duration, .. } = *buffers.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(
        (pts, duration),
        (
            gst::ClockTime::from_mseconds(100),
            gst::ClockTime::from_mseconds(5)
        )
    );
    assert_eq!(buffers.len(), 41);
}

#[test]
fn segment_stop_ends_forward_playback_exactly() {
    let (pipeline, recorder) = prerolled("");
    assert!(seek(
        &pipeline,
        0.5,
        gst::ClockTime::from_mseconds(20),
        Some(gst::ClockTime::from_mseconds(45))
    ));
    let (segment, buffers) = play_to_eos(&pipeline, &recorder);
    assert_eq!(segment.unwrap().rate(), 0.5);
    assert_eq!(pts_of(&buffers), vec![20, 30, 40]);
    assert!(
        matches!(buffers[2], Item::Buffer { duration, .. } if duration == gst::ClockTime::from_mseconds(5))
    );
}

#[test]
fn reverse_without_stop_or_num_buffers_is_refused() {
    let pipeline = pipeline(&format!(
        "pushaudiotestsrc is-live=false samplesperbuffer=480 ! {CAPS_48K_MONO} ! fakesink sync=false"
    ));
    pipeline.set_state(gst::State::Paused).unwrap();
    pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
    assert!(
        !seek(&pipeline, -1.0, gst::ClockTime::ZERO, None),
        "no end to play back from"
    );
    assert!(seek(
        &pipeline,
        -1.0,
        gst::ClockTime::ZERO,
        Some(gst::ClockTime::SECOND)
    ));
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn duration_is_known_from_num_buffers() {
    let (pipeline, _recorder) = prerolled("");
    assert_eq!(
        pipeline.query_duration::<gst::ClockTime>(),
        Some(gst::ClockTime::SECOND)
    );
    pipeline.set_state(gst::State::Null).unwrap();
}

#[test]
fn live_source_refuses_rates_other_than_1() {
    let (mut harness, _bus) = source_harness(&[]);
    harness.play();
    crank_and_pull(&mut harness);
    assert!(!harness.push_upstream_event(rate_seek(2.0)));
    assert!(!harness.push_upstream_event(rate_seek(-1.0)));
    assert!(
        harness.push_upstream_event(rate_seek(1.0)),
        "rate 1.0 is a no-op for a live source"
    );
    let element = harness.element().unwrap();
    assert!(!element.send_event(rate_seek(0.5)));
    assert!(element.send_event(rate_seek(1.0)));
    // Still streaming, contiguous.
    let buffer = crank_and_pull(&mut harness);
    assert_eq!(buffer.pts(), Some(BUFFER));
}

#[test]
fn samples_are_identical_forward_and_after_a_seek() {
    // The same 10 ms of sine, played from the start and reached by a seek.
    let collect = |seek_to: Option<gst::ClockTime>| {
        let pipeline = pipeline(&format!(
            "pushaudiotestsrc is-live=false samplesperbuffer=480 num-buffers=10 ! {CAPS_48K_MONO} ! \
             appsink name=sink sync=false"
        ));
        let sink = pipeline
            .by_name("sink")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        pipeline.set_state(gst::State::Paused).unwrap();
        pipeline.state(gst::ClockTime::from_seconds(60)).0.unwrap();
        if let Some(position) = seek_to {
            assert!(seek(&pipeline, 1.0, position, None));
        }
        pipeline.set_state(gst::State::Playing).unwrap();
        let mut data = Vec::new();
        while let Ok(sample) = sink.pull_sample() {
            let buffer = sample.buffer().unwrap();
            data.push((
                buffer.pts().unwrap(),
                buffer.map_readable().unwrap().to_vec(),
            ));
        }
        pipeline.set_state(gst::State::Null).unwrap();
        data
    };
    let forward = collect(None);
    let sought = collect(Some(gst::ClockTime::from_mseconds(50)));
    assert_eq!(sought.first().unwrap().0, gst::ClockTime::from_mseconds(50));
    assert_eq!(&forward[5..], &sought[..]);
}

#[test]
fn first_segment_after_a_seek_is_the_new_one_with_the_offset() {
    // ts-offset changed before a flushing seek: the segment re-sent for the offset must not be
    // the one from before the seek.
    let (pipeline, recorder) = prerolled("");
    pipeline
        .by_name("src")
        .unwrap()
        .set_property("ts-offset", 5_000_000_000i64);
    recorder.take();
    assert!(seek(
        &pipeline,
        1.0,
        gst::ClockTime::from_mseconds(300),
        None
    ));
    let items = recorder.take();
    let flush_stop = items
        .iter()
        .position(|i| *i == Item::FlushStop)
        .expect("FLUSH_STOP");
    let segments: Vec<_> = items[flush_stop..]
        .iter()
        .filter_map(|i| match i {
            Item::Segment(segment) => Some(segment.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(segments.len(), 1, "one segment after the flush: {items:?}");
    assert_eq!(
        segments[0].start(),
        Some(gst::ClockTime::from_mseconds(300))
    );
    assert_eq!(segments[0].base(), Some(gst::ClockTime::from_seconds(5)));
    pipeline.set_state(gst::State::Null).unwrap();
}
