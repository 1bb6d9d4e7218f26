//! The interface from C: `gst-libs/gst/pushsource/pushsource.h` (libgstpushsource-1.0) lets a C
//! element implement it and C code call it on the Rust elements. Builds `tests/c/c_push_source.c`
//! with its own copy of the library's source, and runs it with the plugin (which carries
//! another copy) registering the types after it and before it.

mod common;

use std::process::Command;

#[test]
fn c_implements_and_calls_the_push_source_interface() {
    let exe = build_c_program();
    let first = run_c_program(&exe, &[]);
    let plugin_first = run_c_program(&exe, &["plugin-first"]);
    let _ = std::fs::remove_file(&exe);
    for output in [first, plugin_first] {
        assert!(output.contains("C push source checks passed"), "{output}");
    }
}

fn build_c_program() -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "gstreamer-1.0"])
        .output()
        .expect("pkg-config runs");
    assert!(flags.status.success(), "pkg-config finds gstreamer-1.0");
    let flags = String::from_utf8(flags.stdout).unwrap();
    let exe = std::env::temp_dir().join(format!("c_push_source-{}", std::process::id()));
    let compile = Command::new("cc")
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Wno-unused-parameter",
            "-Werror",
        ])
        .arg(format!("-I{root}/gst-libs"))
        .arg(format!("{root}/tests/c/c_push_source.c"))
        .arg(format!("{root}/gst-libs/gst/pushsource/pushsource.c"))
        .arg("-o")
        .arg(&exe)
        .args(flags.split_whitespace())
        .output()
        .expect("a C compiler (cc)");
    assert!(
        compile.status.success(),
        "{}",
        String::from_utf8_lossy(&compile.stderr)
    );
    exe
}

/// What the program printed; it must succeed, GLib criticals included (a second registration
/// of the same type name would be one).
fn run_c_program(exe: &std::path::Path, args: &[&str]) -> String {
    let run = Command::new(exe)
        .args(args)
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("G_DEBUG", "fatal_warnings")
        .output()
        .unwrap();
    let output =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{args:?}: {output}");
    output
}
