//! The README's examples run, and its property and action-signal tables match the elements.

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
        // Issue 11: the graph bin's examples play every buffer with the defaults.
        if line.contains("graphbin") {
            for unwanted in ["WARNING", "(qos)", "Impossible to configure latency"] {
                assert!(!text.contains(unwanted), "{unwanted}: {line}\n{text}");
            }
        }
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
    let plugin = gst_inspect(&["pushsource"]);
    assert!(
        plugin.contains("pushaudiotestsrc: Push audio test source"),
        "{plugin}"
    );
    let element = gst_inspect(&["pushaudiotestsrc"]);
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
const DOCUMENTED_ELEMENTS: &[&str] = &[
    "pushaudiotestsrc",
    "pushvideotestsrc",
    "pushsrcbin",
    "graphbin",
    "ratematch",
];

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

/// The lines of the README section headed `### \`element\``, up to the next section.
fn section_of<'a>(readme: &'a str, element: &str) -> Vec<&'a str> {
    let heading = format!("### `{element}`");
    readme
        .lines()
        .skip_while(|l| *l != heading)
        .enumerate()
        .take_while(|(index, l)| *index == 0 || !(l.starts_with("## ") || l.starts_with("### ")))
        .map(|(_, l)| l)
        .collect()
}

/// The rows of the table whose header starts with `header` in the section of `element`, cells
/// trimmed of spaces and backquotes.
fn table_of(readme: &str, element: &str, header: &str) -> Vec<Vec<String>> {
    section_of(readme, element)
        .into_iter()
        .skip_while(|l| !l.starts_with(header))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

/// The rows of the property table in the README section headed `### \`element\``.
fn property_table_of(readme: &str, element: &str) -> Vec<Vec<String>> {
    table_of(readme, element, "| property |")
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

/// Whether the README's default `word` is the element's `shown` default: the same text, or the
/// same number (the README writes a gdouble's 1 as `1.0`).
fn same_default(word: &str, shown: &str) -> bool {
    word == shown
        || matches!(
            (word.parse::<f64>(), shown.parse::<f64>()),
            (Ok(written), Ok(actual)) if written == actual
        )
}

/// Whether the README's type column (`guint64 ns, read-only`, `enum`, `GstElement`) names the
/// property's value type and says read-only exactly when the property cannot be written.
fn documents_type(column: &str, pspec: &glib::ParamSpec) -> bool {
    let value_type = pspec.value_type();
    let written = column
        .split([' ', ','])
        .next()
        .unwrap_or_default()
        .trim_matches('`');
    let type_matches = match written {
        "string" => value_type == glib::Type::STRING,
        "enum" => value_type.is_a(glib::Type::ENUM),
        name => value_type.name() == name,
    };
    let read_only = !pspec.flags().contains(glib::ParamFlags::WRITABLE);
    type_matches && column.contains("read-only") == read_only
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
            let (name, type_column, default) = (&row[1], &row[2], &row[3]);
            let pspec = element.find_property(name).unwrap();
            assert!(
                documents_type(type_column, &pspec),
                "{element_name} {name}: README says {type_column}, element has {}{}",
                pspec.value_type().name(),
                if pspec.flags().contains(glib::ParamFlags::WRITABLE) {
                    ""
                } else {
                    ", read-only"
                }
            );
            let shown = shown_default(&element.property_value(name));
            assert!(
                default
                    .split([' ', '('])
                    .any(|word| same_default(word, &shown)),
                "{element_name} {name}: README says {default}, element has {shown}"
            );
        }
    }
}

/// The names of the action signals `gst-inspect-1.0 element` lists.
fn inspected_action_signals(element: &str) -> Vec<String> {
    gst_inspect(&[element])
        .lines()
        .skip_while(|l| *l != "Element Actions:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter_map(|l| l.trim_start().strip_prefix('"')?.split('"').next())
        .map(str::to_string)
        .collect()
}

/// A signature as the README writes it, `set-rate(gdouble rate) → gboolean`: the name, the
/// parameter types and the return type.
fn parse_signature(signature: &str) -> Option<(&str, Vec<&str>, &str)> {
    let (name, rest) = signature.split_once('(')?;
    let (params, result) = rest.split_once(')')?;
    let params = params
        .split(',')
        .filter_map(|param| param.split_whitespace().next())
        .collect();
    let result = result.trim().strip_prefix('→')?.trim();
    Some((name.trim(), params, result))
}

#[test]
fn every_element_section_documents_its_action_signals() {
    init();
    let readme = readme();
    for element_name in DOCUMENTED_ELEMENTS {
        let table = table_of(&readme, element_name, "| action signal |");
        let element = gst::ElementFactory::make(element_name).build().unwrap();
        let mut documented = Vec::new();
        for row in &table {
            let signature = &row[1];
            let (name, params, result) = parse_signature(signature)
                .unwrap_or_else(|| panic!("{element_name}: cannot read {signature:?}"));
            let query = glib::subclass::SignalId::lookup(name, element.type_())
                .unwrap_or_else(|| panic!("{element_name} has no signal {name}"))
                .query();
            assert!(
                query.flags().contains(glib::SignalFlags::ACTION),
                "{element_name} {name} is an action signal"
            );
            let actual_params: Vec<&str> = query
                .param_types()
                .iter()
                .map(|param| param.type_().name())
                .collect();
            assert_eq!(
                (actual_params, query.return_type().type_().name()),
                (params, result),
                "{element_name}: README says {signature}"
            );
            documented.push(name.to_string());
        }
        let mut actions = inspected_action_signals(element_name);
        actions.sort();
        documented.sort();
        assert_eq!(
            documented, actions,
            "{element_name}: the README documents its action signals"
        );
    }
}

/// `gst-inspect-1.0 element` succeeds and shows every line of `expected`.
fn assert_gst_inspect_shows(element: &str, expected: &[&str]) {
    let text = gst_inspect(&[element]);
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
