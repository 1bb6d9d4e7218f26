//! A broadcast across processes or hosts: one sender, any number of receivers, rendering in step
//! on a shared network clock (`GstNetTimeProvider` at the sender, `GstNetClientClock` at the
//! receivers, and one base time or RTCP sender reports). `scripts/network_broadcast.sh` starts a
//! sender and two receivers on this host; the README explains real hosts.
//!
//! ```text
//! network_broadcast sender --clients HOST:PORT[,HOST:PORT…] [--rtcp-clients HOST:PORT[,…]]
//!                          [--clock-port PORT | --no-clock] [--seconds N] [--wave NICK]
//!                          [--report-interval MS]
//!     prints "clock-port P" and "base-time NS", then sends until N seconds have passed (or
//!     forever); with --rtcp-clients it sends through rtpbin and sends RTCP sender reports there;
//!     (at least every MS ms, default 100); --wave: pushaudiotestsrc's wave (default sine; white-noise for scripts/network_rendered.sh)
//! network_broadcast receiver --port PORT [--clock HOST:PORT (--base-time NS | --rtcp-port PORT)]
//!                            [--latency MS] [--seconds N] [--log FILE]
//!                            [--pulse DEVICE --channel left|right [--slave-method METHOD]]
//!     --rtcp-port: receive the sender reports there (rtpbin ntp-sync) instead of taking the
//!     sender's base time
//!     renders the broadcast; --log writes one "rtp-time rendered-ns due-ns" line per rendered
//!     buffer (host monotonic time when rendered, and when it was due on the pipeline clock);
//!     --pulse: render into that PulseAudio sink, the mono stream into one channel of two
//!     (pulsesink's slave-method, default skew, or graphbin: inside a graphbin; /NAME=VALUE
//!     after it sets more of pulsesink's properties), instead of a logging fakesink
//! ```

mod cli;
mod session;

fn main() {
    gst::init().expect("GStreamer");
    gstpushsource::plugin_register_static().expect("the pushsource plugin");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(error) = cli::run(&args) {
        eprintln!("network_broadcast: {error}");
        std::process::exit(1);
    }
}
