//! The push-source interface: GStreamer's spelling of DirectShow's `IAMPushSource` +
//! `IAMLatency`.
//!
//! Every source-like element of this plugin implements it, so that `graphbin` can find them with
//! `gst_bin_iterate_all_by_interface()`. Elements of other crates implement it through
//! [`PushSourceImpl`]; C code fills in the [`PushSourceInterface`] vtable, whose layout is stable
//! (`#[repr(C)]`, the GType is named `GstPushSource`).

use gst::glib;
use gst::glib::translate::*;
use gst::prelude::*;
use gst::subclass::prelude::*;

/// `AM_PUSHSOURCE_FLAGS`, with DirectShow's values (SPEC section 2).
#[glib::flags(name = "GstPushSourceFlags")]
pub enum PushSourceFlags {
    #[flags_value(
        name = "The source does its own rate matching: no renderer may match rates with it",
        nick = "internal-rm"
    )]
    INTERNAL_RM = 0x1,
    #[flags_value(
        name = "Treat the source as not live: no latency equalization, no rate matching",
        nick = "not-live"
    )]
    NOT_LIVE = 0x2,
    #[flags_value(
        name = "Time stamps come from a clock the rest of the graph cannot see",
        nick = "private-clock"
    )]
    PRIVATE_CLOCK = 0x4,
    #[flags_value(
        name = "Time stamps come from the stream clock (reserved in DirectShow)",
        nick = "use-stream-clock"
    )]
    USE_STREAM_CLOCK = 0x10000,
    #[flags_value(
        name = "The source uses a clock chain (reserved in DirectShow)",
        nick = "use-clock-chain"
    )]
    USE_CLOCK_CHAIN = 0x20000,
}

impl Default for PushSourceFlags {
    fn default() -> Self {
        Self::empty()
    }
}

/// What `set_stream_offset` did: DirectShow's `S_OK` and `S_FALSE`.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(i32)]
#[enum_type(name = "GstPushSourceOffsetResult")]
pub enum StreamOffsetResult {
    /// The offset is applied and within the maximum stream offset (`S_OK`).
    #[default]
    #[enum_value(name = "Offset applied", nick = "applied")]
    Applied = 0,
    /// The offset is applied but exceeds the maximum stream offset: data may be lost unless
    /// something downstream buffers it (`S_FALSE`).
    #[enum_value(
        name = "Offset applied, but it exceeds the maximum stream offset",
        nick = "exceeds-maximum"
    )]
    ExceedsMaximum = 1,
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

/// The C vtable of the interface (`GstPushSourceInterface`).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct PushSourceInterface {
    parent: glib::gobject_ffi::GTypeInterface,
    /// Writes the source's latency in ns; returns `FALSE` when the source cannot tell.
    pub get_latency:
        Option<unsafe extern "C" fn(*mut gst::ffi::GstElement, *mut u64) -> glib::ffi::gboolean>,
    pub get_stream_offset: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement) -> i64>,
    /// Returns a `GstPushSourceOffsetResult`.
    pub set_stream_offset: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement, i64) -> i32>,
    pub get_max_stream_offset: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement) -> u64>,
    pub set_max_stream_offset: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement, u64)>,
    pub get_push_source_flags: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement) -> u32>,
    pub set_push_source_flags: Option<unsafe extern "C" fn(*mut gst::ffi::GstElement, u32)>,
}

unsafe impl InterfaceStruct for PushSourceInterface {
    type Type = imp::PushSource;
}

mod imp {
    use super::*;

    pub enum PushSource {}

    #[glib::object_interface]
    impl ObjectInterface for PushSource {
        const NAME: &'static str = "GstPushSource";
        type Prerequisites = (gst::Element,);
        type Interface = PushSourceInterface;
    }
}

glib::wrapper! {
    /// A live source with DirectShow push-source timing.
    pub struct PushSource(ObjectInterface<imp::PushSource>) @requires gst::Element, gst::Object;
}

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

/// Calls on any [`PushSource`], whatever its implementation language.
///
/// An implementation that leaves a function of the vtable unset (possible from C) is not an
/// error here: getters answer as a source without offset would, setters do nothing, and both
/// log it.
pub trait PushSourceExt: IsA<PushSource> + 'static {
    /// The source's latency (`IAMLatency::GetLatency`), `None` when it cannot tell.
    fn source_latency(&self) -> Option<gst::ClockTime> {
        let func = vfunc(self, "get_latency", |iface| iface.get_latency)?;
        let mut latency = 0u64;
        let ok = unsafe { func(element_ptr(self), &mut latency) };
        (ok != glib::ffi::GFALSE).then(|| clock_time(latency))
    }

    /// `IAMPushSource::GetStreamOffset`.
    fn stream_offset(&self) -> i64 {
        vfunc(self, "get_stream_offset", |iface| iface.get_stream_offset)
            .map_or(0, |func| unsafe { func(element_ptr(self)) })
    }

    /// Applies `offset` (`IAMPushSource::SetStreamOffset`); the result tells whether it exceeds
    /// the maximum stream offset.
    fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
        let Some(func) = vfunc(self, "set_stream_offset", |iface| iface.set_stream_offset) else {
            // Nothing to exceed: the same answer as the C header's caller.
            return StreamOffsetResult::Applied;
        };
        let result = unsafe { func(element_ptr(self), offset) };
        if result == StreamOffsetResult::ExceedsMaximum.into_glib() {
            StreamOffsetResult::ExceedsMaximum
        } else {
            StreamOffsetResult::Applied
        }
    }

    /// `IAMPushSource::GetMaxStreamOffset`.
    fn max_stream_offset(&self) -> gst::ClockTime {
        vfunc(self, "get_max_stream_offset", |iface| {
            iface.get_max_stream_offset
        })
        .map_or(gst::ClockTime::ZERO, |func| {
            clock_time(unsafe { func(element_ptr(self)) })
        })
    }

    /// `IAMPushSource::SetMaxStreamOffset`.
    fn set_max_stream_offset(&self, max_offset: gst::ClockTime) {
        if let Some(func) = vfunc(self, "set_max_stream_offset", |iface| {
            iface.set_max_stream_offset
        }) {
            unsafe { func(element_ptr(self), max_offset.nseconds()) }
        }
    }

    /// `IAMPushSource::GetPushSourceFlags`.
    fn push_source_flags(&self) -> PushSourceFlags {
        vfunc(self, "get_push_source_flags", |iface| {
            iface.get_push_source_flags
        })
        .map_or(PushSourceFlags::empty(), |func| {
            PushSourceFlags::from_bits_truncate(unsafe { func(element_ptr(self)) })
        })
    }

    /// `IAMPushSource::SetPushSourceFlags`.
    fn set_push_source_flags(&self, flags: PushSourceFlags) {
        if let Some(func) = vfunc(self, "set_push_source_flags", |iface| {
            iface.set_push_source_flags
        }) {
            unsafe { func(element_ptr(self), flags.bits()) }
        }
    }
}

impl<O: IsA<PushSource>> PushSourceExt for O {}

fn element_ptr<O: IsA<PushSource>>(source: &O) -> *mut gst::ffi::GstElement {
    source.as_ptr() as *mut gst::ffi::GstElement
}

/// u64::MAX is GST_CLOCK_TIME_NONE in C: the largest time there is.
fn clock_time(nseconds: u64) -> gst::ClockTime {
    gst::ClockTime::from_nseconds(nseconds.min(gst::ClockTime::MAX.nseconds()))
}

fn vfunc<O: IsA<PushSource>, F>(
    source: &O,
    name: &str,
    pick: impl FnOnce(&PushSourceInterface) -> Option<F>,
) -> Option<F> {
    let iface = source.interface::<PushSource>()?;
    let func = pick(iface.as_ref());
    if func.is_none() {
        gst::warning!(
            gst::CAT_DEFAULT,
            obj = source.upcast_ref::<PushSource>(),
            "GstPushSource implementation without {name}"
        );
    }
    func
}
