//! The C declarations of `gst-libs/gst/pushsource/pushsource.h`, by hand (one header, seven
//! functions): what gstreamer-rs's `*-sys` crates are for GStreamer's own libraries.

#![allow(non_camel_case_types)]

use gst::ffi::{GstClockTime, GstElement};
use gst::glib::ffi::{GType, gboolean};
use gst::glib::gobject_ffi::GTypeInterface;
use std::ffi::{c_int, c_uint};

pub type GstPushSourceFlags = c_uint;
pub const GST_PUSH_SOURCE_FLAG_INTERNAL_RM: GstPushSourceFlags = 0x1;
pub const GST_PUSH_SOURCE_FLAG_NOT_LIVE: GstPushSourceFlags = 0x2;
pub const GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK: GstPushSourceFlags = 0x4;
pub const GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK: GstPushSourceFlags = 0x10000;
pub const GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN: GstPushSourceFlags = 0x20000;

pub type GstPushSourceOffsetResult = c_int;
pub const GST_PUSH_SOURCE_OFFSET_APPLIED: GstPushSourceOffsetResult = 0;
pub const GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM: GstPushSourceOffsetResult = 1;

/// The opaque instance: any element that implements the interface.
#[repr(C)]
pub struct GstPushSource {
    _data: [u8; 0],
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

impl std::fmt::Debug for GstPushSource {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct(&format!("GstPushSource @ {self:p}"))
            .finish()
    }
}

/// `GstPushSourceInterface`: the vtable, whose layout is stable. The functions take the element
/// and plain integers, as C implementations have them.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct GstPushSourceInterface {
    pub parent: GTypeInterface,
    /// Writes the source's latency in ns; returns `FALSE` when the source cannot tell.
    pub get_latency: Option<unsafe extern "C" fn(*mut GstElement, *mut GstClockTime) -> gboolean>,
    pub get_stream_offset: Option<unsafe extern "C" fn(*mut GstElement) -> i64>,
    /// Returns a `GstPushSourceOffsetResult`.
    pub set_stream_offset: Option<unsafe extern "C" fn(*mut GstElement, i64) -> c_int>,
    pub get_max_stream_offset: Option<unsafe extern "C" fn(*mut GstElement) -> GstClockTime>,
    pub set_max_stream_offset: Option<unsafe extern "C" fn(*mut GstElement, GstClockTime)>,
    pub get_push_source_flags: Option<unsafe extern "C" fn(*mut GstElement) -> c_uint>,
    pub set_push_source_flags: Option<unsafe extern "C" fn(*mut GstElement, c_uint)>,
}

impl std::fmt::Debug for GstPushSourceInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct(&format!("GstPushSourceInterface @ {self:p}"))
            .field("get_latency", &self.get_latency)
            .field("get_stream_offset", &self.get_stream_offset)
            .field("set_stream_offset", &self.set_stream_offset)
            .field("get_max_stream_offset", &self.get_max_stream_offset)
            .field("set_max_stream_offset", &self.set_max_stream_offset)
            .field("get_push_source_flags", &self.get_push_source_flags)
            .field("set_push_source_flags", &self.set_push_source_flags)
            .finish()
    }
}

// Linked by build.rs: compiled into the plugin by cargo, or libgstpushsource-1.0.so in a meson
// build.
unsafe extern "C" {
    pub fn gst_push_source_get_type() -> GType;
    pub fn gst_push_source_flags_get_type() -> GType;
    pub fn gst_push_source_offset_result_get_type() -> GType;

    pub fn gst_push_source_get_latency(
        source: *mut GstPushSource,
        latency: *mut GstClockTime,
    ) -> gboolean;
    pub fn gst_push_source_get_stream_offset(source: *mut GstPushSource) -> i64;
    pub fn gst_push_source_set_stream_offset(
        source: *mut GstPushSource,
        offset: i64,
    ) -> GstPushSourceOffsetResult;
    pub fn gst_push_source_get_max_stream_offset(source: *mut GstPushSource) -> GstClockTime;
    pub fn gst_push_source_set_max_stream_offset(
        source: *mut GstPushSource,
        max_offset: GstClockTime,
    );
    pub fn gst_push_source_get_push_source_flags(source: *mut GstPushSource) -> GstPushSourceFlags;
    pub fn gst_push_source_set_push_source_flags(
        source: *mut GstPushSource,
        flags: GstPushSourceFlags,
    );
}
