#!/usr/bin/env bash
# Run every check of gst-plugin-pushsource: formatting, clippy, the cargo test
# suite, and the meson build/test/devenv/install integration (with the interface from
# Python through the GIR/typelib).
# This is the single entry point used by CI (.ci/run) and the README.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pushsource-test.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# Use a private plugin registry so a stale user registry cannot interfere.
export GST_REGISTRY="$tmp/gst-registry.bin"

step() { printf '\n==> %s\n' "$*"; }

step "scripts/deps.sh"
bash "$repo/scripts/deps.sh"

# CARGO_TARGET_DIR, if the caller set one, is left untouched and honoured by
# every cargo command below.
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
    echo "Using CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
fi

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --locked --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "G_DEBUG=fatal_warnings cargo test --locked"
G_DEBUG=fatal_warnings cargo test --locked

step "cargo run --locked --example demo (Quick start demo)"
cargo run --locked --example demo

build="$tmp/meson-build"

step "meson setup $build"
meson setup "$build" "$repo"

step "meson compile -C $build"
meson compile -C "$build"

# Not the cargo-test suite: it has just been run above. python-interface calls the interface
# from the system python3 through the typelib of this build (tests/python/push_source.py).
step "meson test -C $build --print-errorlogs gst-inspect python-interface"
meson test -C "$build" --print-errorlogs gst-inspect python-interface

step "meson devenv -C $build gst-inspect-1.0 pushaudiotestsrc"
if ! inspect_out=$(meson devenv -C "$build" gst-inspect-1.0 pushaudiotestsrc 2>&1); then
    printf '%s\n' "$inspect_out"
    echo "error: gst-inspect-1.0 pushaudiotestsrc failed inside meson devenv" >&2
    exit 1
fi
printf '%s\n' "$inspect_out" | head -n 20
if ! grep -q 'pushaudiotestsrc' <<<"$inspect_out"; then
    echo "error: pushaudiotestsrc not listed by gst-inspect-1.0 in meson devenv" >&2
    exit 1
fi

step "DESTDIR=$tmp/destdir meson install -C $build"
DESTDIR="$tmp/destdir" meson install -C "$build"
installed=$(find "$tmp/destdir" -name libgstpushsource.so -print -quit)
if [[ -z "$installed" ]]; then
    echo "error: libgstpushsource.so was not installed under $tmp/destdir" >&2
    exit 1
fi
echo "Installed: ${installed#"$tmp/destdir"}"
# The interface's library with its header, pkg-config file and introspection data.
installed_files=()
for name in libgstpushsource-1.0.so.0 pushsource.h gstreamer-pushsource-1.0.pc \
    GstPushSource-1.0.gir GstPushSource-1.0.typelib; do
    file=$(find "$tmp/destdir" -name "$name" -print -quit)
    if [[ -z "$file" ]]; then
        echo "error: $name was not installed under $tmp/destdir" >&2
        exit 1
    fi
    echo "Installed: ${file#"$tmp/destdir"}"
    installed_files+=("$file")
done

# The installed files work together: the installed plugin loads the installed library, and
# Python finds the interface through the installed typelib.
step "the Python test against the installed plugin, library and typelib"
installed_plugin_dir=$(dirname "$installed")
GST_PLUGIN_PATH="$installed_plugin_dir" PUSHSOURCE_PLUGIN_DIR="$installed_plugin_dir" \
    LD_LIBRARY_PATH=$(dirname "${installed_files[0]}") \
    GI_TYPELIB_PATH=$(dirname "${installed_files[4]}") \
    G_DEBUG=fatal_warnings /usr/bin/python3 "$repo/tests/python/push_source.py"

printf '\nAll checks passed.\n'
