#!/usr/bin/env bash
# What a listener hears of one broadcast at two receivers (issue 13; BENCHMARKS.md, "Network
# broadcast"): starts a private PulseAudio daemon, and for each variant and pulsesink slave
# method a sender (white noise) and two receiver processes rendering into the left and the
# right channel of one null sink; the sink's monitor is recorded and the delay between the
# channels measured in 10 ms blocks (benches/network.rs, benches/network/heard.rs).
#
#   scripts/network_rendered.sh [SECONDS]
#
# NETWORK_BENCH_VARIANTS: rtcp,clock,own (default rtcp,clock); SLAVE_METHODS: pulsesink's
# slave-method values (default skew,none); NETWORK_BENCH_TRACE=1 prints the delay once a second
# and at every change; NETWORK_BENCH_KEEP=DIR keeps the recordings (raw F32 per channel).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pulse.sh
pulse_start
trap pulse_stop EXIT
NETWORK_BENCH_SECONDS="${1:-60}" NETWORK_BENCH_PULSE="${SLAVE_METHODS:-skew,none}" \
    cargo bench --locked --bench network
