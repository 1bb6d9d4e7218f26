//! pushsource: DirectShow's live-source timing for GStreamer.
//!
//! The README follows; the Rust example in it runs as a doctest.
#![doc = include_str!("../README.md")]
#![allow(clippy::non_send_fields_in_send_ty, unused_doc_comments)]

use gst::glib;
use gst::prelude::*;

pub mod graphbin;
pub mod push_source;
pub mod pushaudiotestsrc;
pub mod pushsrcbin;
pub mod pushtestsrc;
pub mod pushvideotestsrc;
// The resampler is here before the element that uses it (issue 12).
#[allow(dead_code)]
mod ratematch;
pub(crate) mod time;
pub(crate) mod timing;

pub use push_source::{
    PushSource, PushSourceExt, PushSourceFlags, PushSourceImpl, StreamOffsetResult,
};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    PushSourceFlags::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    StreamOffsetResult::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    PushSource::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    pushtestsrc::PushTestSrc::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    pushaudiotestsrc::register(plugin)?;
    pushvideotestsrc::register(plugin)?;
    pushsrcbin::register(plugin)?;
    graphbin::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    pushsource,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "Unknown package origin",
    env!("BUILD_REL_DATE")
);
