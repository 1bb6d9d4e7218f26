//! The push-source interface: GStreamer's spelling of DirectShow's `IAMPushSource` +
//! `IAMLatency`.
//!
//! Every source-like element of this plugin implements it, so that `graphbin` can find them with
//! `gst_bin_iterate_all_by_interface()`. The interface belongs to the C library
//! `libgstpushsource-1.0` (`gst-libs/gst/pushsource/`), as `GstVideoOverlay` belongs to
//! libgstvideo, so that C, Python (through its introspection data) and Rust share one type. This
//! module binds it the way gstreamer-rs binds GStreamer's libraries: [`PushSource`] wraps the C
//! interface, [`PushSourceImpl`] fills in its vtable ([`PushSourceInterface`], whose layout is
//! stable), [`PushSourceExt`] calls its methods.

use gst::glib;
use gst::glib::translate::*;
use gst::prelude::*;
use gst::subclass::prelude::*;

pub mod ffi;

glib::bitflags::bitflags! {
    /// `AM_PUSHSOURCE_FLAGS`, with DirectShow's values (SPEC section 2); the GType is
    /// `GstPushSourceFlags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PushSourceFlags: u32 {
        /// The source does its own rate matching: no renderer may match rates with it.
        const INTERNAL_RM = ffi::GST_PUSH_SOURCE_FLAG_INTERNAL_RM;
        /// Treat the source as not live: no latency equalization, no rate matching.
        const NOT_LIVE = ffi::GST_PUSH_SOURCE_FLAG_NOT_LIVE;
        /// Time stamps come from a clock the rest of the graph cannot see.
        const PRIVATE_CLOCK = ffi::GST_PUSH_SOURCE_FLAG_PRIVATE_CLOCK;
        /// Time stamps come from the stream clock (reserved in DirectShow).
        const USE_STREAM_CLOCK = ffi::GST_PUSH_SOURCE_FLAG_USE_STREAM_CLOCK;
        /// The source uses a clock chain (reserved in DirectShow).
        const USE_CLOCK_CHAIN = ffi::GST_PUSH_SOURCE_FLAG_USE_CLOCK_CHAIN;
    }
}

impl Default for PushSourceFlags {
    fn default() -> Self {
        Self::empty()
    }
}

impl IntoGlib for PushSourceFlags {
    type GlibType = ffi::GstPushSourceFlags;

    fn into_glib(self) -> ffi::GstPushSourceFlags {
        self.bits()
    }
}

impl FromGlib<ffi::GstPushSourceFlags> for PushSourceFlags {
    unsafe fn from_glib(value: ffi::GstPushSourceFlags) -> Self {
        Self::from_bits_truncate(value)
    }
}

impl StaticType for PushSourceFlags {
    fn static_type() -> glib::Type {
        unsafe { from_glib(ffi::gst_push_source_flags_get_type()) }
    }
}

impl glib::HasParamSpec for PushSourceFlags {
    type ParamSpec = glib::ParamSpecFlags;
    type SetValue = Self;
    type BuilderFn = fn(&str) -> glib::ParamSpecFlagsBuilder<'_, Self>;

    fn param_spec_builder() -> Self::BuilderFn {
        Self::ParamSpec::builder
    }
}

impl glib::value::ValueType for PushSourceFlags {
    type Type = Self;
}

unsafe impl<'a> glib::value::FromValue<'a> for PushSourceFlags {
    type Checker = glib::value::GenericValueTypeChecker<Self>;

    unsafe fn from_value(value: &'a glib::Value) -> Self {
        unsafe { from_glib(glib::gobject_ffi::g_value_get_flags(value.to_glib_none().0)) }
    }
}

impl ToValue for PushSourceFlags {
    fn to_value(&self) -> glib::Value {
        let mut value = glib::Value::for_value_type::<Self>();
        unsafe {
            glib::gobject_ffi::g_value_set_flags(value.to_glib_none_mut().0, self.into_glib());
        }
        value
    }

    fn value_type(&self) -> glib::Type {
        Self::static_type()
    }
}

impl From<PushSourceFlags> for glib::Value {
    fn from(flags: PushSourceFlags) -> Self {
        flags.to_value()
    }
}

/// What `set_stream_offset` did: DirectShow's `S_OK` and `S_FALSE`; the GType is
/// `GstPushSourceOffsetResult`.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default)]
#[repr(i32)]
pub enum StreamOffsetResult {
    /// The offset is applied and within the maximum stream offset (`S_OK`).
    #[default]
    Applied = ffi::GST_PUSH_SOURCE_OFFSET_APPLIED,
    /// The offset is applied but exceeds the maximum stream offset: data may be lost unless
    /// something downstream buffers it (`S_FALSE`).
    ExceedsMaximum = ffi::GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM,
}

impl StreamOffsetResult {
    /// The result of applying `offset` to a source whose maximum stream offset is `max_offset`.
    pub fn for_offset(offset: i64, max_offset: gst::ClockTime) -> Self {
        if offset > 0 && offset as u64 > max_offset.nseconds() {
            Self::ExceedsMaximum
        } else {
            Self::Applied
        }
    }
}

impl IntoGlib for StreamOffsetResult {
    type GlibType = ffi::GstPushSourceOffsetResult;

    fn into_glib(self) -> ffi::GstPushSourceOffsetResult {
        self as ffi::GstPushSourceOffsetResult
    }
}

impl FromGlib<ffi::GstPushSourceOffsetResult> for StreamOffsetResult {
    /// Anything but `EXCEEDS_MAXIMUM` is read as applied, as the C library does.
    unsafe fn from_glib(value: ffi::GstPushSourceOffsetResult) -> Self {
        if value == ffi::GST_PUSH_SOURCE_OFFSET_EXCEEDS_MAXIMUM {
            Self::ExceedsMaximum
        } else {
            Self::Applied
        }
    }
}

impl StaticType for StreamOffsetResult {
    fn static_type() -> glib::Type {
        unsafe { from_glib(ffi::gst_push_source_offset_result_get_type()) }
    }
}

impl glib::HasParamSpec for StreamOffsetResult {
    type ParamSpec = glib::ParamSpecEnum;
    type SetValue = Self;
    type BuilderFn = fn(&str, Self) -> glib::ParamSpecEnumBuilder<'_, Self>;

    fn param_spec_builder() -> Self::BuilderFn {
        |name, default_value| Self::ParamSpec::builder_with_default(name, default_value)
    }
}

impl glib::value::ValueType for StreamOffsetResult {
    type Type = Self;
}

unsafe impl<'a> glib::value::FromValue<'a> for StreamOffsetResult {
    type Checker = glib::value::GenericValueTypeChecker<Self>;

    unsafe fn from_value(value: &'a glib::Value) -> Self {
        unsafe { from_glib(glib::gobject_ffi::g_value_get_enum(value.to_glib_none().0)) }
    }
}

impl ToValue for StreamOffsetResult {
    fn to_value(&self) -> glib::Value {
        let mut value = glib::Value::for_value_type::<Self>();
        unsafe {
            glib::gobject_ffi::g_value_set_enum(value.to_glib_none_mut().0, self.into_glib());
        }
        value
    }

    fn value_type(&self) -> glib::Type {
        Self::static_type()
    }
}

impl From<StreamOffsetResult> for glib::Value {
    fn from(result: StreamOffsetResult) -> Self {
        result.to_value()
    }
}

/// The C vtable of the interface (`GstPushSourceInterface`).
pub type PushSourceInterface = ffi::GstPushSourceInterface;

glib::wrapper! {
    /// A live source with DirectShow push-source timing (`GstPushSource`).
    pub struct PushSource(Interface<ffi::GstPushSource, ffi::GstPushSourceInterface>)
        @requires gst::Element, gst::Object;

    match fn {
        type_ => || ffi::gst_push_source_get_type(),
    }
}

unsafe impl Send for PushSource {}
unsafe impl Sync for PushSource {}

/// Implemented by elements that are push sources.
pub trait PushSourceImpl: ElementImpl + ObjectSubclass<Type: IsA<PushSource>> {
    /// `IAMLatency::GetLatency`: how long after capture the source pushes its data, or `None`
    /// when it cannot tell (for example a wrapped source whose LATENCY query fails).
    fn latency(&self) -> Option<gst::ClockTime>;
    /// `IAMPushSource::GetStreamOffset`.
    fn stream_offset(&self) -> i64;
    /// `IAMPushSource::SetStreamOffset`: applies the offset whatever its size.
    fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult;
    /// `IAMPushSource::GetMaxStreamOffset`.
    fn max_stream_offset(&self) -> gst::ClockTime;
    /// `IAMPushSource::SetMaxStreamOffset`.
    fn set_max_stream_offset(&self, max_offset: gst::ClockTime);
    /// `IAMPushSource::GetPushSourceFlags`.
    fn push_source_flags(&self) -> PushSourceFlags;
    /// `IAMPushSource::SetPushSourceFlags`.
    fn set_push_source_flags(&self, flags: PushSourceFlags);
}

unsafe impl<T: PushSourceImpl> IsImplementable<T> for PushSource {
    fn interface_init(iface: &mut glib::Interface<Self>) {
        let iface = iface.as_mut();
        iface.get_latency = Some(get_latency::<T>);
        iface.get_stream_offset = Some(get_stream_offset::<T>);
        iface.set_stream_offset = Some(set_stream_offset::<T>);
        iface.get_max_stream_offset = Some(get_max_stream_offset::<T>);
        iface.set_max_stream_offset = Some(set_max_stream_offset::<T>);
        iface.get_push_source_flags = Some(get_push_source_flags::<T>);
        iface.set_push_source_flags = Some(set_push_source_flags::<T>);
    }
}

unsafe fn imp_of<'a, T: PushSourceImpl>(element: *mut gst::ffi::GstElement) -> &'a T {
    unsafe { (*(element as *mut T::Instance)).imp() }
}

unsafe extern "C" fn get_latency<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
    latency: *mut u64,
) -> glib::ffi::gboolean {
    match unsafe { imp_of::<T>(element) }.latency() {
        Some(value) => {
            if !latency.is_null() {
                unsafe { *latency = value.nseconds() };
            }
            glib::ffi::GTRUE
        }
        None => glib::ffi::GFALSE,
    }
}

unsafe extern "C" fn get_stream_offset<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
) -> i64 {
    unsafe { imp_of::<T>(element) }.stream_offset()
}

unsafe extern "C" fn set_stream_offset<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
    offset: i64,
) -> i32 {
    unsafe { imp_of::<T>(element) }
        .set_stream_offset(offset)
        .into_glib()
}

unsafe extern "C" fn get_max_stream_offset<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
) -> u64 {
    unsafe { imp_of::<T>(element) }
        .max_stream_offset()
        .nseconds()
}

unsafe extern "C" fn set_max_stream_offset<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
    max_offset: u64,
) {
    unsafe { imp_of::<T>(element) }.set_max_stream_offset(clock_time(max_offset))
}

unsafe extern "C" fn get_push_source_flags<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
) -> u32 {
    unsafe { imp_of::<T>(element) }.push_source_flags().bits()
}

unsafe extern "C" fn set_push_source_flags<T: PushSourceImpl>(
    element: *mut gst::ffi::GstElement,
    flags: u32,
) {
    unsafe { imp_of::<T>(element) }
        .set_push_source_flags(PushSourceFlags::from_bits_truncate(flags))
}

/// Calls on any [`PushSource`], whatever its implementation language: the C library's methods.
///
/// An implementation that leaves a function of the vtable unset (possible from C) is not an
/// error here: getters answer as a source without offset would, setters do nothing, and the C
/// library logs it.
pub trait PushSourceExt: IsA<PushSource> + 'static {
    /// The source's latency (`IAMLatency::GetLatency`), `None` when it cannot tell.
    fn source_latency(&self) -> Option<gst::ClockTime> {
        let mut latency = 0u64;
        let ok = unsafe {
            ffi::gst_push_source_get_latency(self.as_ref().to_glib_none().0, &mut latency)
        };
        (ok != glib::ffi::GFALSE).then(|| clock_time(latency))
    }

    /// `IAMPushSource::GetStreamOffset`.
    fn stream_offset(&self) -> i64 {
        unsafe { ffi::gst_push_source_get_stream_offset(self.as_ref().to_glib_none().0) }
    }

    /// Applies `offset` (`IAMPushSource::SetStreamOffset`); the result tells whether it exceeds
    /// the maximum stream offset.
    fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
        unsafe {
            from_glib(ffi::gst_push_source_set_stream_offset(
                self.as_ref().to_glib_none().0,
                offset,
            ))
        }
    }

    /// `IAMPushSource::GetMaxStreamOffset`.
    fn max_stream_offset(&self) -> gst::ClockTime {
        clock_time(unsafe {
            ffi::gst_push_source_get_max_stream_offset(self.as_ref().to_glib_none().0)
        })
    }

    /// `IAMPushSource::SetMaxStreamOffset`.
    fn set_max_stream_offset(&self, max_offset: gst::ClockTime) {
        unsafe {
            ffi::gst_push_source_set_max_stream_offset(
                self.as_ref().to_glib_none().0,
                max_offset.nseconds(),
            )
        }
    }

    /// `IAMPushSource::GetPushSourceFlags`.
    fn push_source_flags(&self) -> PushSourceFlags {
        unsafe {
            from_glib(ffi::gst_push_source_get_push_source_flags(
                self.as_ref().to_glib_none().0,
            ))
        }
    }

    /// `IAMPushSource::SetPushSourceFlags`.
    fn set_push_source_flags(&self, flags: PushSourceFlags) {
        unsafe {
            ffi::gst_push_source_set_push_source_flags(
                self.as_ref().to_glib_none().0,
                flags.into_glib(),
            )
        }
    }
}

impl<O: IsA<PushSource>> PushSourceExt for O {}

/// u64::MAX is GST_CLOCK_TIME_NONE in C: the largest time there is.
fn clock_time(nseconds: u64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds(nseconds.min(gst::ClockTime::MAX.nseconds()))
}
