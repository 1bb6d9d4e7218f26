#!/usr/bin/env bash
# Quick start: install dependencies, build the plugin in release mode and run
# a short demo of graphbin with two pushaudiotestsrc.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

bash "$repo/scripts/deps.sh"

echo "==> cargo build --release --locked"
cargo build --release --locked

export GST_PLUGIN_PATH="${CARGO_TARGET_DIR:-$repo/target}/release"

# The demo: graphbin equalizing a 33 ms and a 500 ms live source with stream
# offsets, with both streams' render times side by side (examples/demo.rs).
run_demo() {
    echo "==> gst-inspect-1.0 pushsource"
    gst-inspect-1.0 pushsource

    echo
    echo "==> cargo run --release --locked --example demo"
    cargo run --release --locked --example demo
}

run_demo
