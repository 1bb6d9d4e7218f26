//! GStreamer 1.22's system clock cannot interrupt a wait past `G_MAXINT64` ns, shown with
//! GStreamer's elements only (none of this plugin's): `fakesink ts-offset=G_MAXINT64` puts the
//! running time it waits for there, and `set_state(NULL)` never returns (the sink's
//! `gst_clock_id_unschedule` waits for a waiter that spins in `gst_clock_id_wait`).
//!
//! The stress test (tests/stress.rs) met the same wait behind this plugin's elements: a
//! `ts-offset` of `G_MAXINT64` on a push source (stress seed 16745985786473256335) and a
//! latency of `G_MAXINT64` (`extra-latency` of a `pushsrcbin`, seed 16665946974992610951:
//! the sinks wait for running time + latency). The README states the limit; the stress
//! generator writes no such values (tests/stress/plan.rs, `huge-latency-unstoppable` and
//! `set_property`).
//!
//! `cargo run --example clock_wait_past_range [offset]`: prints whether `set_state(NULL)`
//! returned within 10 s (exit status 1 if not). With `offset` = 4611686018427387904 (2^62,
//! about G_MAXINT64 / 2) it returns.

use std::sync::mpsc;
use std::time::Duration;

use gst::prelude::*;

fn main() {
    gst::init().expect("GStreamer initializes");
    let offset: i64 = std::env::args()
        .nth(1)
        .map_or(i64::MAX, |a| a.parse().expect("offset: a number"));
    let description = format!("audiotestsrc ! fakesink name=sink sync=true ts-offset={offset}");
    println!("{description}");
    let pipeline = gst::parse::launch(&description).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    // The sink has its first buffer and waits on the clock for its running time.
    let _ = pipeline.state(gst::ClockTime::from_seconds(5));
    std::thread::sleep(Duration::from_millis(500));
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(pipeline.set_state(gst::State::Null));
    });
    match receiver.recv_timeout(Duration::from_secs(10)) {
        Ok(result) => println!("set_state(NULL) returned {result:?}"),
        Err(_) => {
            println!("HANG: set_state(NULL) has not returned after 10 s");
            std::process::exit(1);
        }
    }
}
