//! A flushing seek that one branch of a pipeline accepts resets the running time of the whole
//! pipeline (GStreamer 1.22's `reset-time`), also of a branch that saw no seek: a live source
//! there stamps with the running time at capture, so its stamps start again from 0 in the same
//! segment, and its sink renders them in order, one running time after the other. With
//! GStreamer's elements only: `audiotestsrc ! fakesink` next to `videotestsrc is-live=true !
//! fakesink`, PLAYING, a flushing seek sent to the first sink alone (as if the live branch had
//! refused it, as a live `pushsrcbin` does at a rate other than 1.0, SPEC section 2 rule 7),
//! then PAUSED and PLAYING again: the live `videotestsrc` stamps from the running time at
//! PLAYING, which now starts again from 0.
//!
//! The stress test's stamp check therefore compares a sink's stamps only within one running
//! time: a running time that went back between two buffers starts the comparison again
//! (tests/stress/run.rs, seeds 7227476234108146129, 14264522031909911876, 2167396583324345879).
//!
//! `cargo run --example running_time_reset`: prints the live sink's stamps around the seek and
//! whether one went back with no SEGMENT in between; exit status 1 if none did.

use std::sync::{Arc, Mutex};

use gst::prelude::*;

fn main() {
    gst::init().expect("GStreamer initializes");
    let pipeline = gst::parse::launch(
        "audiotestsrc name=s0 ! fakesink name=k0 sync=true \
         videotestsrc name=s1 is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! \
         fakesink name=k1 sync=true",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let went_back = Arc::new(Mutex::new(None::<(gst::ClockTime, gst::ClockTime)>));
    let last = Arc::new(Mutex::new(None::<gst::ClockTime>));
    let live_sink_pad = pipeline.by_name("k1").unwrap().static_pad("sink").unwrap();
    {
        let went_back = went_back.clone();
        live_sink_pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
            move |_, info| {
                match &info.data {
                    Some(gst::PadProbeData::Event(event))
                        if event.type_() == gst::EventType::Segment =>
                    {
                        *last.lock().unwrap() = None;
                    }
                    Some(gst::PadProbeData::Buffer(buffer)) => {
                        if let Some(pts) = buffer.pts() {
                            let mut last = last.lock().unwrap();
                            if let Some(before) = *last
                                && pts < before
                            {
                                went_back.lock().unwrap().get_or_insert((before, pts));
                            }
                            *last = Some(pts);
                        }
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
    }
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let seek = gst::event::Seek::new(
        1.0,
        gst::SeekFlags::FLUSH,
        gst::SeekType::Set,
        gst::ClockTime::ZERO,
        gst::SeekType::None,
        gst::ClockTime::NONE,
    );
    let accepted = pipeline.by_name("k0").unwrap().send_event(seek);
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    std::thread::sleep(std::time::Duration::from_millis(300));
    pipeline.set_state(gst::State::Paused).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    std::thread::sleep(std::time::Duration::from_millis(300));
    pipeline.set_state(gst::State::Null).unwrap();
    println!("flushing seek on the non-live branch accepted: {accepted}");
    match *went_back.lock().unwrap() {
        Some((before, after)) => {
            println!("live branch, same segment: PTS {after} after {before} (running time reset)")
        }
        None => {
            println!("live branch: stamps never went back");
            std::process::exit(1);
        }
    }
}
