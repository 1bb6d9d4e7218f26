#!/usr/bin/env bash
# Rate matching in real time against a real sound server (issue 12; BENCHMARKS.md): starts a
# private PulseAudio daemon, plays a drifting live source to null sinks three ways side by side
# (graphbin with ratematch, pulsesink slave-method=skew, slave-method=resample) and prints what
# the recordings show. PUSHSOURCE_REALTIME_SECONDS (default 60) and PUSHSOURCE_REALTIME_DRIFTS
# (default 1000,10000 ppm) shorten or change the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/pulse.sh
pulse_start
trap pulse_stop EXIT
cargo bench --locked --bench rate_matching_realtime
