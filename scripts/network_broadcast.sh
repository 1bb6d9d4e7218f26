#!/usr/bin/env bash
# One broadcast, three processes on this host (loopback): a sender serving its clock
# (GstNetTimeProvider) and two receivers on GstNetClientClocks with the sender's base time,
# rendering in step. Prints the render-time spread between the receivers at the end.
#
#   scripts/network_broadcast.sh [--no-clock | --rtcp] [SECONDS]
#
# --no-clock: each receiver on its own system clock and base time (the comparison).
# --rtcp: the network clock, and RTCP sender reports (rtpbin ntp-sync) instead of the sender's
#         base time: each receiver keeps its own base time.
# REPORT_INTERVAL=MS: the sender's least RTCP interval (--rtcp; default 100 ms).
# Ports: RTP to 127.0.0.1:$PORT_A and :$PORT_B (defaults 5004, 5006), RTCP to the next port of
# each (--rtcp), clock on any free port.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

no_clock=0
rtcp=0
case "${1:-}" in
--no-clock)
    no_clock=1
    shift
    ;;
--rtcp)
    rtcp=1
    shift
    ;;
esac
seconds="${1:-10}"
port_a="${PORT_A:-5004}"
port_b="${PORT_B:-5006}"

cargo build --release --example network_broadcast >&2
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/release/examples/network_broadcast"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

sender_args=(sender --clients "127.0.0.1:$port_a,127.0.0.1:$port_b" --seconds "$((seconds + 3))")
if ((no_clock)); then sender_args+=(--no-clock); fi
if ((rtcp)); then sender_args+=(--rtcp-clients "127.0.0.1:$((port_a + 1)),127.0.0.1:$((port_b + 1))"); fi
if [[ -n "${REPORT_INTERVAL:-}" ]]; then sender_args+=(--report-interval "$REPORT_INTERVAL"); fi
"$bin" "${sender_args[@]}" >"$work/sender" &
pids+=($!)
for _ in $(seq 50); do
    grep -q '^base-time' "$work/sender" 2>/dev/null && break
    sleep 0.1
done
clock_port=$(awk '/^clock-port/ {print $2}' "$work/sender")
base_time=$(awk '/^base-time/ {print $2}' "$work/sender")
if [[ -z "$base_time" ]]; then
    echo "network_broadcast.sh: the sender did not start" >&2
    exit 1
fi

receiver_args=(--seconds "$seconds" --latency 200)
rtcp_a=()
rtcp_b=()
if ((rtcp)); then
    receiver_args+=(--clock "127.0.0.1:$clock_port")
    rtcp_a=(--rtcp-port "$((port_a + 1))")
    rtcp_b=(--rtcp-port "$((port_b + 1))")
elif ((!no_clock)); then
    receiver_args+=(--clock "127.0.0.1:$clock_port" --base-time "$base_time")
fi
"$bin" receiver --port "$port_a" "${rtcp_a[@]}" "${receiver_args[@]}" --log "$work/a" &
pids+=($!)
receiver_a=$!
"$bin" receiver --port "$port_b" "${rtcp_b[@]}" "${receiver_args[@]}" --log "$work/b" &
pids+=($!)
receiver_b=$!
wait "$receiver_a" "$receiver_b"

# Spread per buffer both rendered: column 2 is when it was rendered, 3 when it was due.
for column in 2 3; do
    awk -v c="$column" 'NR == FNR { t[$1] = $c; next } ($1 in t) { d = $c - t[$1]; print (d < 0 ? -d : d) }' \
        "$work/a" "$work/b" | sort -n | awk -v c="$column" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "no buffer rendered by both receivers"; exit 1 }
            printf "%s spread over %d buffers: median %.3f ms, p99 %.3f ms, max %.3f ms\n",
                (c == 2 ? "render" : "due   "), NR, v[int(NR / 2) + 1] / 1e6,
                v[int(NR * 0.99) + 1] / 1e6, v[NR] / 1e6
        }'
done
