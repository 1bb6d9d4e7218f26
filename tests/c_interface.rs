//! The interface from C: `include/gst/pushsource/pushsource.h` lets a C element implement it and
//! C code call it on the Rust elements. Builds and runs `tests/c/c_push_source.c`.

mod common;

use std::process::Command;

#[test]
fn c_implements_and_calls_the_push_source_interface() {
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
        .arg(format!("-I{root}/include"))
        .arg(format!("{root}/tests/c/c_push_source.c"))
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

    let run = Command::new(&exe)
        .env("GST_PLUGIN_PATH", common::plugin_dir())
        .env("G_DEBUG", "fatal_warnings")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&exe);
    let output =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{output}");
    assert!(output.contains("C push source checks passed"), "{output}");
}
