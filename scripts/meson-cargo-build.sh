#!/usr/bin/env bash
# Helper for meson.build: build the plugin with cargo and copy the resulting
# shared library to the path meson expects.
#
# Usage: meson-cargo-build.sh <cargo> <source-dir> <build-dir> <output>
set -euo pipefail

if (($# != 4)); then
    echo "usage: $0 <cargo> <source-dir> <build-dir> <output>" >&2
    exit 2
fi

cargo=$1
source_dir=$2
build_dir=$3
output=$4

export CARGO_TARGET_DIR="$build_dir/cargo-target"
"$cargo" build --release --locked --manifest-path "$source_dir/Cargo.toml"
cp -f "$CARGO_TARGET_DIR/release/libgstpushsource.so" "$output"
