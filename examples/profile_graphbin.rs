//! Instruction counts of `graphbin`'s way to PLAYING (BENCHMARKS.md, "Where the time to PLAYING
//! goes"): N branches `pushaudiotestsrc latency=30..100ms ! fakesink sync=true async=false`, as
//! in `benches/graphbin.rs`, inside `graphbin` or a plain `bin`, taken from NULL to PLAYING and
//! back ROUNDS times after one untimed round. Meant to run under callgrind, counting only the
//! way to PLAYING:
//!
//! ```sh
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*to_playing*' \
//!     target/release/examples/profile_graphbin graphbin 16 5
//! ```
//!
//! Arguments: `graphbin` or `bin` (default graphbin), N (default 16), ROUNDS (default 5).

use gst::prelude::*;

fn build(bin: &str, sources: usize) -> gst::Pipeline {
    let properties = if bin == "graphbin" {
        "sync-using-stream-offset=true max-graph-latency=1000000000"
    } else {
        ""
    };
    let branches: String = (0..sources)
        .map(|i| {
            format!(
                "pushaudiotestsrc name=src{i} latency={} ! fakesink sync=true async=false ",
                (30 + (i % 8) as u64 * 10) * 1_000_000
            )
        })
        .collect();
    let element = gst::parse::launch(&format!("{bin}.( {properties} {branches} )"))
        .expect("pipeline description");
    let pipeline = gst::Pipeline::new();
    pipeline.add(&element).unwrap();
    pipeline
}

/// What callgrind counts (`--toggle-collect='*to_playing*'`).
#[inline(never)]
fn to_playing(pipeline: &gst::Pipeline) {
    pipeline.set_state(gst::State::Playing).unwrap();
    let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    assert!(
        result.is_ok() && state == gst::State::Playing,
        "not PLAYING: {result:?} {state:?}"
    );
}

fn main() {
    gst::init().unwrap();
    gstpushsource::plugin_register_static().unwrap();
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).map_or("graphbin", String::as_str);
    let sources: usize = args.get(2).map_or(16, |n| n.parse().expect("N"));
    let rounds: usize = args.get(3).map_or(5, |n| n.parse().expect("ROUNDS"));
    let pipeline = build(bin, sources);
    // Warm-up, not counted.
    pipeline.set_state(gst::State::Playing).unwrap();
    let _ = pipeline.state(gst::ClockTime::from_seconds(60));
    pipeline.set_state(gst::State::Null).unwrap();
    for _ in 0..rounds {
        to_playing(&pipeline);
        pipeline.set_state(gst::State::Null).unwrap();
    }
}
