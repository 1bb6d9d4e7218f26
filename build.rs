//! Version information for the plugin, and the C library that owns the `GstPushSource`
//! interface (`gst-libs/gst/pushsource/`), which the Rust binding in src/push_source.rs needs.

use std::env;

/// Set by scripts/meson-cargo-build.sh: the folder where meson built libgstpushsource-1.0.so.
const LIBRARY_DIR: &str = "GST_PUSH_SOURCE_LIBRARY_DIR";
const SOURCE: &str = "gst-libs/gst/pushsource/pushsource.c";

/// Printing any rerun-if line turns off cargo's default (rerun when any file of the package
/// changes), which kept the plugin's commit id fresh; these folders keep it fresh for code changes.
const SOURCES: [&str; 5] = ["src", "gst-libs", "build.rs", "Cargo.toml", "Cargo.lock"];

fn main() {
    gst_plugin_version_helper::info();
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    link_push_source_library();
}

/// A meson build installs libgstpushsource-1.0.so next to the plugin's types' users (Python
/// through the typelib, C applications through pkg-config): the plugin links against it, so
/// that one copy of the interface's code serves the whole process. A cargo build (cargo test,
/// the plugin as a plain cdylib) has no such library to rely on, so the same C source is
/// compiled into the plugin.
fn link_push_source_library() {
    println!("cargo:rerun-if-env-changed={LIBRARY_DIR}");

    if let Some(dir) = env::var_os(LIBRARY_DIR) {
        println!("cargo:rustc-link-search=native={}", dir.to_string_lossy());
        println!("cargo:rustc-link-lib=dylib=gstpushsource-1.0");
        return;
    }

    let gstreamer = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("gstreamer-1.0")
        .expect("pkg-config finds gstreamer-1.0 (package libgstreamer1.0-dev)");
    let mut build = cc::Build::new();
    build
        .file(SOURCE)
        .include("gst-libs")
        .includes(&gstreamer.include_paths)
        .std("c99")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true);
    for (name, value) in &gstreamer.defines {
        build.define(name, value.as_deref());
    }
    build.compile("gstpushsource_interface");
}
