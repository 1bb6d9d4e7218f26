#!/usr/bin/env bash
# Install the build/test dependencies of gst-plugin-pushsource (Debian 12).
# Idempotent: only packages that are missing are installed, and apt-get update
# runs (once) only when something has to be installed.
set -euo pipefail

PACKAGES=(
    libgstreamer1.0-dev
    libgstreamer-plugins-base1.0-dev
    gstreamer1.0-tools
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    # netsim (packet loss, delay, reordering, duplication) for the network tests
    gstreamer1.0-plugins-bad
    gstreamer1.0-alsa
    # The real-time rate-matching run: a sound server with a null sink, and its GStreamer sink
    pulseaudio
    gstreamer1.0-pulseaudio
    meson
    ninja-build
    pkg-config
    gcc
    libc6-dev
    # The interface's library and its introspection data (GstPushSource-1.0.gir/.typelib)
    gobject-introspection
    libgirepository1.0-dev
    # The Python test: the system python3 with PyGObject and GStreamer's overrides
    python3
    python3-gi
    python3-gst-1.0
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        SUDO=(sudo)
    fi
    echo "deps.sh: installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

components=()
if ! cargo fmt --version >/dev/null 2>&1; then
    components+=(rustfmt)
fi
if ! cargo clippy --version >/dev/null 2>&1; then
    components+=(clippy)
fi
if ((${#components[@]} > 0)); then
    echo "deps.sh: adding rustup components: ${components[*]}"
    rustup component add "${components[@]}"
fi
