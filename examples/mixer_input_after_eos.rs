//! A source added to a mixer that has already finished (EOS) blocks its streaming thread for
//! ever, and an EOS then sent to the pipeline never returns, with GStreamer 1.22's elements only
//! (none of this plugin's): `videotestsrc ! queue ! compositor ! fakesink` in PLAYING, EOS sent
//! and the EOS message seen (the compositor's task is paused after its EOS), then `videotestsrc
//! ! capsfilter ! queue` added and linked to a new compositor pad (requested, states synced as
//! tests/stress/run.rs adds a source), then EOS sent to the pipeline again: the new source's
//! ALLOCATION query waits in the aggregator for a task that will not run, holding the source's
//! stream lock, and `gst_base_src_send_event(EOS)` waits for that lock.
//!
//! The stress test met it with `graphbin` in place of the bin and `pushvideotestsrc` as the
//! added source (seed 9026113953068316840); its generator no longer adds a source to a mixer
//! once an EOS was sent (tests/stress/plan.rs, `KNOWN_DEFECTS` `source-added-after-eos`).
//!
//! `cargo run --example mixer_input_after_eos [no-eos]`: with `no-eos` the first EOS is left
//! out (the same source added to a running compositor): then the second EOS returns. Prints
//! whether the last EOS returned within 10 s; exit status 1 if not.

use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use gst::prelude::*;

const CAPS: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

fn main() {
    gst::init().expect("GStreamer initializes");
    let first_eos = std::env::args().nth(1).is_none_or(|a| a != "no-eos");
    let description = format!(
        "videotestsrc is-live=false num-buffers=300 ! {CAPS} ! queue ! compositor name=m0 ! \
         queue ! fakesink sync=true"
    );
    println!("{description}");
    let pipeline = gst::parse::launch(&description)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(10));
    let bus = pipeline.bus().unwrap();
    if first_eos {
        println!("EOS sent");
        pipeline.send_event(gst::event::Eos::new());
        let eos = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(10),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        );
        println!("EOS message: {}", eos.is_some());
    }
    let source = gst::ElementFactory::make("videotestsrc")
        .property("num-buffers", 300)
        .build()
        .unwrap();
    let capsfilter = gst::ElementFactory::make("capsfilter")
        .property("caps", gst::Caps::from_str(CAPS).unwrap())
        .build()
        .unwrap();
    let queue = gst::ElementFactory::make("queue").build().unwrap();
    pipeline.add_many([&source, &capsfilter, &queue]).unwrap();
    gst::Element::link_many([&source, &capsfilter, &queue]).unwrap();
    let mixer = pipeline.by_name("m0").unwrap();
    let pad = mixer.request_pad_simple("sink_%u").unwrap();
    queue.static_pad("src").unwrap().link(&pad).unwrap();
    for element in [&queue, &capsfilter, &source] {
        let _ = element.sync_state_with_parent();
    }
    std::thread::sleep(Duration::from_millis(200));
    println!("source added; EOS sent");
    let (sender, receiver) = mpsc::channel();
    let eos_sender = pipeline.clone();
    std::thread::spawn(move || {
        let _ = sender.send(eos_sender.send_event(gst::event::Eos::new()));
    });
    match receiver.recv_timeout(Duration::from_secs(10)) {
        Ok(handled) => {
            println!("the EOS returned ({handled})");
            pipeline.set_state(gst::State::Null).unwrap();
        }
        Err(_) => {
            // The pipeline cannot be shut down: its EOS holds a source's locks.
            println!("the EOS has not returned after 10 s");
            std::process::exit(1);
        }
    }
}
