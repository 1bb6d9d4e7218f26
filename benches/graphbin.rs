//! Cost of `graphbin`: time for a pipeline of N live push sources and N sinks to reach PLAYING
//! with its latency computed (and, in a graph bin, equalized), graphbin against a plain bin, and
//! the time of one latency computation alone, to show the equalization is linear in N.
//!
//! Two settings of the sinks: `async=false`, where a live pipeline reaches PLAYING as soon as
//! its state change and latency computation are done (the bin's own cost, undiluted), and the
//! default `async=true`, where PLAYING also waits for the first buffers (what a user sees).
//!
//! `cargo bench --bench graphbin` (see BENCHMARKS.md). Environment: `PUSHSOURCE_BENCH_SOURCES`
//! (comma-separated N, default `1,16,256`), `PUSHSOURCE_BENCH_ROUNDS` (default 31, async=false),
//! `PUSHSOURCE_BENCH_ASYNC_ROUNDS` (default 5, async=true), `PUSHSOURCE_BENCH_QUERIES` (latency
//! queries per measurement, default 50).

use std::time::{Duration, Instant};

mod common;

use common::{median, ms, setting};
use gst::prelude::*;

/// N branches of different latency (30–100 ms), so that the graph bin has offsets to set.
fn branches(sources: usize, sink_async: bool) -> String {
    (0..sources)
        .map(|i| {
            format!(
                "pushaudiotestsrc name=src{i} latency={} ! \
                 fakesink sync=true async={sink_async} ",
                (30 + (i % 8) as u64 * 10) * 1_000_000
            )
        })
        .collect()
}

fn build(bin: &str, sources: usize, sink_async: bool) -> gst::Pipeline {
    let properties = if bin == "graphbin" {
        "sync-using-stream-offset=true max-graph-latency=1000000000"
    } else {
        ""
    };
    let description = format!(
        "{bin}.( name=under_test {properties} {} )",
        branches(sources, sink_async)
    );
    let element = gst::parse::launch(&description).expect("pipeline description");
    let pipeline = gst::Pipeline::new();
    pipeline.add(&element).unwrap();
    pipeline
}

fn drain(pipeline: &gst::Pipeline) -> Vec<gst::Message> {
    let bus = pipeline.bus().unwrap();
    let messages: Vec<gst::Message> = std::iter::from_fn(|| bus.pop()).collect();
    for message in &messages {
        if let gst::MessageView::Error(error) = message.view() {
            panic!("pipeline error: {} ({:?})", error.error(), error.debug());
        }
    }
    messages
}

/// NULL → PLAYING: with `async=false` sinks a live pipeline computes (and the graph bin
/// equalizes) its latency inside `set_state`; with `async=true` it does so again once every sink
/// has its first buffer, and only then is it PLAYING.
fn time_to_playing(pipeline: &gst::Pipeline) -> Duration {
    let start = Instant::now();
    pipeline.set_state(gst::State::Playing).unwrap();
    let (result, state, _) = pipeline.state(gst::ClockTime::from_seconds(60));
    let elapsed = start.elapsed();
    if result.is_err() || state != gst::State::Playing {
        let errors: Vec<String> = drain(pipeline).iter().map(|m| format!("{m:?}")).collect();
        panic!(
            "{} not PLAYING after {:?}: {result:?} {state:?} {} messages",
            pipeline.children()[0].type_().name(),
            start.elapsed(),
            errors.len()
        );
    }
    elapsed
}

/// One latency computation of the running pipeline, as `gst_bin_recalculate_latency` does it.
fn time_latency_query(pipeline: &gst::Pipeline, queries: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..queries {
        let mut query = gst::query::Latency::new();
        assert!(pipeline.query(&mut query));
    }
    start.elapsed() / queries as u32
}

fn check_equalized(pipeline: &gst::Pipeline, sources: usize) {
    let message = drain(pipeline)
        .into_iter()
        .filter_map(|m| match m.view() {
            gst::MessageView::Element(e) => e
                .structure()
                .filter(|s| s.name() == "graph-latency")
                .map(|s| s.to_owned()),
            _ => None,
        })
        .next_back()
        .expect("a graph-latency message");
    let listed = message.get::<gst::List>("sources").unwrap();
    assert_eq!(listed.len(), sources, "every source equalized");
    assert_eq!(
        message.get::<u64>("latency").unwrap(),
        if sources > 7 {
            100_000_000
        } else {
            (30 + (sources as u64 - 1) * 10) * 1_000_000
        }
    );
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Measured {
    sources: usize,
    graph: Duration,
    plain: Duration,
    graph_query: Duration,
    plain_query: Duration,
}

impl Measured {
    fn ratio(&self) -> f64 {
        ms(self.graph) / ms(self.plain)
    }

    /// The equalization's own cost: the graph bin's latency computation minus the plain bin's.
    fn per_source_us(&self) -> f64 {
        (us(self.graph_query) - us(self.plain_query)) / self.sources as f64
    }
}

fn measure(sources: usize, sink_async: bool, rounds: usize, queries: usize) -> Measured {
    let graph = build("graphbin", sources, sink_async);
    let plain = build("bin", sources, sink_async);
    // Warm-up, and proof that the graph bin equalized every source.
    for pipeline in [&graph, &plain] {
        time_to_playing(pipeline);
    }
    check_equalized(&graph, sources);
    for pipeline in [&graph, &plain] {
        pipeline.set_state(gst::State::Null).unwrap();
        drain(pipeline);
    }

    let (mut graph_times, mut plain_times) = (Vec::new(), Vec::new());
    let (mut graph_queries, mut plain_queries) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut order = [
            (&graph, &mut graph_times, &mut graph_queries),
            (&plain, &mut plain_times, &mut plain_queries),
        ];
        // Alternate which bin goes first, so that neither always inherits the other's
        // teardown.
        if round % 2 == 1 {
            order.reverse();
        }
        for (pipeline, times, query_times) in order {
            times.push(time_to_playing(pipeline));
            query_times.push(time_latency_query(pipeline, queries));
            pipeline.set_state(gst::State::Null).unwrap();
            drain(pipeline);
        }
    }
    Measured {
        sources,
        graph: median(&graph_times),
        plain: median(&plain_times),
        graph_query: median(&graph_queries),
        plain_query: median(&plain_queries),
    }
}

fn main() {
    gst::init().unwrap();
    gstpushsource::plugin_register_static().unwrap();
    let sizes: Vec<usize> = std::env::var("PUSHSOURCE_BENCH_SOURCES")
        .unwrap_or_else(|_| "1,16,256".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let rounds: usize = setting("PUSHSOURCE_BENCH_ROUNDS", 31);
    let async_rounds: usize = setting("PUSHSOURCE_BENCH_ASYNC_ROUNDS", 5);
    let queries: usize = setting("PUSHSOURCE_BENCH_QUERIES", 50);
    println!(
        "graphbin: N x (pushaudiotestsrc latency=30..100ms ! fakesink sync=true async=…) inside \
         graphbin sync-using-stream-offset=true max-graph-latency=1s vs inside bin, in a \
         pipeline; medians, rounds alternate; {queries} latency queries per measurement; {}",
        gst::version_string()
    );
    for (sink_async, rounds) in [(false, rounds), (true, async_rounds)] {
        println!(
            "\nsinks async={sink_async} ({rounds} rounds): NULL -> PLAYING{}",
            if sink_async {
                ", including the wait for the first buffers (up to 100 ms)"
            } else {
                ": state change and latency computation only"
            }
        );
        println!(
            "{:>5} {:>14} {:>14} {:>7} {:>14} {:>14} {:>16}",
            "N",
            "graphbin ms",
            "bin ms",
            "ratio",
            "graph query µs",
            "bin query µs",
            "equalize µs/src"
        );
        let mut summary = Vec::new();
        for &sources in &sizes {
            let m = measure(sources, sink_async, rounds, queries);
            println!(
                "{sources:>5} {:>14.3} {:>14.3} {:>7.3} {:>14.1} {:>14.1} {:>16.2}",
                ms(m.graph),
                ms(m.plain),
                m.ratio(),
                us(m.graph_query),
                us(m.plain_query),
                m.per_source_us(),
            );
            summary.push(m);
        }
        for m in &summary {
            println!(
                "  N = {:>3}: time to PLAYING, graphbin / bin = {:.3} ({} the target <= 1.10)",
                m.sources,
                m.ratio(),
                if m.ratio() <= 1.10 { "meets" } else { "misses" }
            );
        }
        if let (Some(first), Some(last)) = (summary.get(1), summary.last())
            && last.sources > first.sources
        {
            println!(
                "  equalization per source: {:.2} µs at N = {}, {:.2} µs at N = {}",
                first.per_source_us(),
                first.sources,
                last.per_source_us(),
                last.sources
            );
        }
    }
}
