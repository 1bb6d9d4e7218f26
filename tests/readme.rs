//! The README's examples run, and its property table matches the element.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The `gst-launch-1.0` lines of the README's `sh` code blocks.
fn launch_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && l.starts_with("gst-launch-1.0 ") => lines.push(l.to_string()),
            _ => {}
        }
    }
    lines
}

#[test]
fn every_gst_launch_example_runs() {
    let lines = launch_lines(&readme());
    assert!(lines.len() >= 5, "the README shows gst-launch examples");
    let plugin_dir = plugin_dir();
    for line in lines {
        let output = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .env("GST_PLUGIN_PATH", &plugin_dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{line}\n{text}");
        assert!(text.contains("Got EOS"), "{line} runs to the end\n{text}");
        assert!(
            !text.contains("ERROR") && !text.contains("CRITICAL"),
            "{line}\n{text}"
        );
        let exceeds = line.contains("ts-offset=300000000");
        assert_eq!(
            text.contains("exceeds the maximum preferred offset"),
            exceeds,
            "{line}\n{text}"
        );
    }
}

#[test]
fn gst_inspect_lists_the_plugin_and_documents_the_element() {
    let run = |args: &[&str]| {
        let output = Command::new("gst-inspect-1.0")
            .args(args)
            .env("GST_PLUGIN_PATH", plugin_dir())
            .output()
            .unwrap();
        assert!(output.status.success(), "gst-inspect-1.0 {args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let plugin = run(&["pushsource"]);
    assert!(
        plugin.contains("pushaudiotestsrc: Push audio test source"),
        "{plugin}"
    );
    let element = run(&["pushaudiotestsrc"]);
    for expected in [
        "Long-name                Push audio test source",
        "Klass                    Source/Audio",
        "GstPushSource",
        "Flags \"GstPushSourceFlags\"",
        "(0x00000001): internal-rm",
        "(0x00020000): use-clock-chain",
        "Range: 0 - 9223372036854775807 Default: 200000000",
    ] {
        assert!(
            element.contains(expected),
            "gst-inspect shows {expected:?}\n{element}"
        );
    }
}

/// The elements whose README section has a property table.
const DOCUMENTED_ELEMENTS: &[&str] = &["pushaudiotestsrc", "pushvideotestsrc", "pushsrcbin"];

/// Properties of GstBaseSrc and GstBin that the README leaves to GStreamer's documentation.
const INHERITED: &[&str] = &[
    "name",
    "parent",
    "blocksize",
    "do-timestamp",
    "typefind",
    "async-handling",
    "message-forward",
];

/// The rows of the property table in the README section headed `### \`element\``.
fn property_table_of(readme: &str, element: &str) -> Vec<Vec<String>> {
    let heading = format!("### `{element}`");
    readme
        .lines()
        .skip_while(|l| *l != heading)
        .skip_while(|l| !l.starts_with("| property |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// How the README writes a property's default value.
fn shown_default(value: &glib::Value) -> String {
    if let Ok(flags) = value.get::<gstpushsource::PushSourceFlags>() {
        flags.bits().to_string()
    } else if let Ok(double) = value.get::<f64>() {
        double.to_string()
    } else if let Some(enum_value) = glib::EnumValue::from_value(value) {
        enum_value.1.nick().to_string()
    } else if matches!(value.get::<Option<glib::Object>>(), Ok(None))
        || matches!(value.get::<Option<String>>(), Ok(None))
    {
        "none".to_string()
    } else {
        value.serialize().unwrap().to_string()
    }
}

#[test]
fn every_element_section_documents_its_properties_with_their_defaults() {
    init();
    let readme = readme();
    for element_name in DOCUMENTED_ELEMENTS {
        let table = property_table_of(&readme, element_name);
        let element = gst::ElementFactory::make(element_name).build().unwrap();
        let mut own: Vec<String> = element
            .list_properties()
            .iter()
            .map(|p| p.name().to_string())
            .filter(|n| !INHERITED.contains(&n.as_str()))
            .collect();
        own.sort();
        let mut documented: Vec<String> = table.iter().map(|row| row[1].clone()).collect();
        documented.sort();
        assert_eq!(
            documented, own,
            "{element_name}: the table documents its own properties"
        );
        for row in &table {
            let (name, default) = (&row[1], &row[3]);
            let shown = shown_default(&element.property_value(name));
            assert!(
                default.split([' ', '(']).any(|word| word == shown),
                "{element_name} {name}: README says {default}, element has {shown}"
            );
        }
    }
}

/// `gst-inspect-1.0 element` succeeds and shows every line of `expected`.
fn assert_gst_inspect_shows(element: &str, expected: &[&str]) {
    let output = Command::new("gst-inspect-1.0")
        .arg(element)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .output()
        .unwrap();
    assert!(output.status.success(), "gst-inspect-1.0 {element}");
    let text = String::from_utf8(output.stdout).unwrap();
    for expected in expected {
        assert!(
            text.contains(expected),
            "gst-inspect {element} shows {expected:?}\n{text}"
        );
    }
}

#[test]
fn gst_inspect_documents_pushvideotestsrc() {
    assert_gst_inspect_shows(
        "pushvideotestsrc",
        &[
            "Long-name                Push video test source",
            "Klass                    Source/Video",
            "GstPushSource",
            "format: { (string)I420",
            "width: [ 16, 4096 ]",
            "height: [ 16, 2160 ]",
            "Range: 0 - 9223372036854775807 Default: 33333334",
            "Range: 0 - 9223372036854775807 Default: 200000000",
        ],
    );
}

#[test]
fn gst_inspect_documents_pushsrcbin() {
    assert_gst_inspect_shows(
        "pushsrcbin",
        &[
            "Long-name                Push source bin",
            "Klass                    Generic/Bin/Source",
            "GstPushSource",
            "SRC template: 'src'",
            "Availability: Always",
            "extra-latency       : Latency in ns added to what the wrapped source reports",
            "source-description  : The source as a gst-launch description",
            "Flags \"GstPushSourceFlags\" Default: 0x00000000",
        ],
    );
}
