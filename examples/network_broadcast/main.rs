//! A broadcast across processes or hosts: one sender, any number of receivers, rendering in step
//! on a shared network clock (`GstNetTimeProvider` at the sender, `GstNetClientClock` at the
//! receivers, one base time). `scripts/network_broadcast.sh` starts a sender and two receivers
//! on this host; the README explains real hosts.
//!
//! ```text
//! network_broadcast sender --clients HOST:PORT[,HOST:PORT…] [--clock-port PORT | --no-clock] [--seconds N]
//!     prints "clock-port P" and "base-time NS", then sends until N seconds have passed (or forever)
//! network_broadcast receiver --port PORT [--clock HOST:PORT --base-time NS] [--latency MS]
//!                            [--seconds N] [--log FILE]
//!     renders the broadcast; --log writes one "rtp-time rendered-ns due-ns" line per rendered
//!     buffer (host monotonic time when rendered, and when it was due on the pipeline clock)
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
