#!/usr/bin/env bash
# A private PulseAudio daemon for the real-time runs: `source scripts/pulse.sh` then
# `pulse_start` / `pulse_stop`. It runs as root too (no session bus, no autospawn, its own
# runtime directory in PULSE_RUNTIME_PATH) and loads only the native protocol: the runs load
# their own `module-null-sink`s, which the server paces in real time without sound hardware.

pulse_start() {
    export PULSE_RUNTIME_PATH="${PULSE_RUNTIME_PATH:-$(mktemp -d /tmp/pushsource-pulse.XXXXXX)}"
    mkdir -p "$PULSE_RUNTIME_PATH"
    # Without a client.conf, libpulse would try to autospawn a daemon of its own.
    export PULSE_CLIENTCONFIG="$PULSE_RUNTIME_PATH/client.conf"
    printf 'autospawn = no\n' >"$PULSE_CLIENTCONFIG"
    export PULSE_SERVER="unix:$PULSE_RUNTIME_PATH/native"
    pulseaudio -n --daemonize=yes --exit-idle-time=-1 --disallow-exit=no --use-pid-file=yes \
        --load="module-native-protocol-unix auth-anonymous=1 socket=$PULSE_RUNTIME_PATH/native" \
        --log-target="file:$PULSE_RUNTIME_PATH/log" 2>/dev/null || true
    for _ in $(seq 50); do
        pactl info >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "pulse.sh: the PulseAudio daemon did not start; its log:" >&2
    cat "$PULSE_RUNTIME_PATH/log" >&2 || true
    return 1
}

pulse_stop() {
    pactl exit >/dev/null 2>&1 || true
}
