#!/usr/bin/env bash
# Quick start: install dependencies, build the plugin in release mode and run
# a short demo with pushaudiotestsrc.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

bash "$repo/scripts/deps.sh"

echo "==> cargo build --release --locked"
cargo build --release --locked

export GST_PLUGIN_PATH="${CARGO_TARGET_DIR:-$repo/target}/release"

# NOTE: a later issue replaces this demo with a graphbin-based one; keep the
# demo self-contained in this function so it can be swapped out.
run_demo() {
    echo "==> gst-inspect-1.0 pushaudiotestsrc | head -20"
    # Capture first so `head` closing the pipe cannot fail the script.
    local inspect_out
    inspect_out=$(gst-inspect-1.0 pushaudiotestsrc)
    printf '%s\n' "$inspect_out" | head -n 20

    echo
    echo "==> gst-launch-1.0 -m pushaudiotestsrc ... ! audioconvert ! fakesink sync=true"
    echo "(a WARNING that the offset exceeds max-offset is expected here)"
    gst-launch-1.0 -m pushaudiotestsrc \
        latency=100000000 ts-offset=50000000 max-offset=20000000 num-buffers=50 \
        ! audioconvert ! fakesink sync=true
}

run_demo
