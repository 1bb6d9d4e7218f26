//! The regression test of KNOWN_DEFECTS `negative-offset-into-compositor` (found by the stress
//! test): the SEGMENT a push source sends with a negative `ts-offset` starts where running time 0
//! falls (src/timing/segment_offset.rs). It fails on the code before that fix: gst-launch aborts
//! for every case but the live `pushvideotestsrc`, which aborted only now and then.

mod common;

use common::*;

const VIDEO: &str = "video/x-raw,format=I420,width=64,height=48,framerate=30/1";

/// KNOWN_DEFECTS `negative-offset-into-compositor`: a negative `ts-offset` on a push source
/// feeding `compositor` aborted the process (`GStreamer-Video:ERROR:
/// gst_video_aggregator_fill_queues: assertion failed: (start_running_time != -1 &&
/// end_running_time != -1)`, as with a plain `gst_pad_set_offset` on `videotestsrc`): the mixer
/// asserts that a buffer inside its segment has a running time. Live and not, an offset within
/// the stream and one beyond its end. Run in gst-launch, as an abort would end this test binary.
#[test]
fn negative_ts_offset_into_compositor_does_not_abort() {
    let sources: [&[&str]; 5] = [
        &[
            "pushvideotestsrc",
            "is-live=false",
            "num-buffers=30",
            "ts-offset=-10000000",
        ],
        &[
            "pushsrcbin",
            "source-description=videotestsrc is-live=false num-buffers=30",
            "ts-offset=-10000000",
        ],
        &[
            "pushvideotestsrc",
            "is-live=true",
            "num-buffers=30",
            "ts-offset=-10000000",
        ],
        &[
            "pushsrcbin",
            "source-description=videotestsrc is-live=true num-buffers=30",
            "ts-offset=-10000000",
        ],
        // Longer than the stream: every frame is before running time 0.
        &[
            "pushvideotestsrc",
            "is-live=false",
            "num-buffers=30",
            "ts-offset=-2000000000",
        ],
    ];
    for source in sources {
        let mut args = source.to_vec();
        args.extend([
            "!",
            VIDEO,
            "!",
            "queue",
            "!",
            "compositor",
            "!",
            "fakesink",
            "sync=true",
        ]);
        let output = gst_launch(&args);
        let text = output_text(&output);
        assert!(
            output.status.success() && !text.contains("assertion failed"),
            "{source:?}: {text}"
        );
    }
}
