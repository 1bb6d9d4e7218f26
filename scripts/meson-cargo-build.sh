#!/usr/bin/env bash
# Helper for meson.build: build the plugin with cargo and copy the resulting
# shared library to the path meson expects. The plugin links against the
# interface's library meson built in <library-dir> (build.rs reads
# GST_PUSH_SOURCE_LIBRARY_DIR) instead of compiling its own copy.
#
# Usage: meson-cargo-build.sh <cargo> <source-dir> <build-dir> <output> <library-dir>
set -euo pipefail

if (($# != 5)); then
    echo "usage: $0 <cargo> <source-dir> <build-dir> <output> <library-dir>" >&2
    exit 2
fi

cargo=$1
source_dir=$2
build_dir=$3
output=$4

export CARGO_TARGET_DIR="$build_dir/cargo-target"
export GST_PUSH_SOURCE_LIBRARY_DIR=$5
"$cargo" build --release --locked --manifest-path "$source_dir/Cargo.toml"
cp -f "$CARGO_TARGET_DIR/release/libgstpushsource.so" "$output"
