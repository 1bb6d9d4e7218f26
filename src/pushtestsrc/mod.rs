//! `GstPushTestSrc`: the abstract base class of the test sources (`pushaudiotestsrc`,
//! `pushvideotestsrc`), a `GstPushSrc` that is a simulated live capture device with the
//! push-source timing of SPEC section 2.
//!
//! The base class implements the `GstBaseSrc`, `GstPushSrc` and `GstElement` virtual methods and
//! the `GstPushSource` interface once (`imp.rs`), on the timing engine (`engine.rs`). A test
//! source implements [`PushTestSrcImpl`]: its [`Config`] (default format, buffer size, QOS
//! units) and [`PushTestSrcImpl::produce`], which fills a buffer with the content of a
//! [`Span`]; its `set_caps` tells the base class the negotiated rate
//! ([`PushTestSrcImplExt::set_rate`]). Its `properties()` ends with [`timing_properties`], and
//! its `set_property`/`property` hand those to [`PushTestSrcImplExt::set_timing_property`] and
//! [`PushTestSrcImplExt::timing_property`] (a property belongs to the class that installs it,
//! and only the test source knows its default latency).
//!
//! The simulated device drifts (`drift`): [`device_time`] is its exact time model (units,
//! pipeline time and device time), the engine stamps and paces each unit by it per the
//! push-source flags and hands the content its time line ([`Span::signal`]), and
//! [`device_clock`] is the clock the source provides with `use-stream-clock`.

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

pub mod device_clock;
pub mod device_time;
mod engine;
mod imp;

use crate::time::Rate;
pub use crate::timing::capture_loss::QosUnits;
pub use device_time::{Drift, Timeline, UnitRate};
pub use engine::{Config, Span};

glib::wrapper! {
    /// The abstract base class of the push test sources.
    pub struct PushTestSrc(ObjectSubclass<imp::PushTestSrc>)
        @extends gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object,
        @implements crate::PushSource;
}

/// A test source's [`PushTestSrcImpl::produce`], called on the base class.
type Produce = fn(&PushTestSrc, &Span) -> Result<gst::Buffer, gst::FlowError>;

/// The class structure: what each test source gives the base class.
#[repr(C)]
pub struct Class {
    parent: gst_base::ffi::GstPushSrcClass,
    config: Option<Config>,
    produce: Option<Produce>,
}

unsafe impl ClassStruct for Class {
    type Type = imp::PushTestSrc;
}

impl std::ops::Deref for Class {
    type Target = glib::Class<gst_base::PushSrc>;

    fn deref(&self) -> &Self::Target {
        // SAFETY: `parent` is the first field of this `#[repr(C)]` class structure.
        unsafe { &*(&self.parent as *const _ as *const Self::Target) }
    }
}

/// What a push test source implements.
pub trait PushTestSrcImpl: PushSrcImpl + ObjectSubclass<Type: IsA<PushTestSrc>> {
    /// The source's defaults and QOS units.
    const CONFIG: Config;

    /// A new buffer holding the content of `span` (the base class stamps it).
    fn produce(&self, span: &Span) -> Result<gst::Buffer, gst::FlowError>;
}

/// What a push test source asks of its base class.
pub trait PushTestSrcImplExt: PushTestSrcImpl {
    /// The rate negotiated in `set_caps`.
    fn set_rate(&self, rate: Rate) {
        let obj = self.obj();
        let base = obj.upcast_ref::<PushTestSrc>();
        base.imp().engine().set_rate(base.upcast_ref(), rate);
    }

    /// The number of units in each buffer (it changes the minimum latency).
    fn set_units_per_buffer(&self, units: u32) {
        let obj = self.obj();
        let base = obj.upcast_ref::<PushTestSrc>();
        base.imp()
            .engine()
            .set_units_per_buffer(base.upcast_ref(), units);
    }

    fn units_per_buffer(&self) -> u32 {
        let obj = self.obj();
        obj.upcast_ref::<PushTestSrc>()
            .imp()
            .engine()
            .timing()
            .units_per_buffer
    }

    /// Handles a write of one of the [`timing_properties`]; `false` when `pspec` is not one.
    fn set_timing_property(&self, value: &glib::Value, pspec: &glib::ParamSpec) -> bool {
        let obj = self.obj();
        let base = obj.upcast_ref::<PushTestSrc>();
        base.imp()
            .engine()
            .set_property(base.upcast_ref(), value, pspec)
    }

    /// Reads one of the [`timing_properties`]; `None` when `pspec` is not one.
    fn timing_property(&self, pspec: &glib::ParamSpec) -> Option<glib::Value> {
        let obj = self.obj();
        obj.upcast_ref::<PushTestSrc>()
            .imp()
            .engine()
            .property(pspec)
    }
}

impl<T: PushTestSrcImpl> PushTestSrcImplExt for T {}

unsafe impl<T: PushTestSrcImpl> IsSubclassable<T> for PushTestSrc {
    fn class_init(class: &mut glib::Class<Self>) {
        Self::parent_class_init::<T>(class);
        let klass = class.as_mut();
        klass.config = Some(T::CONFIG);
        klass.produce = Some(produce::<T>);
    }
}

fn produce<T: PushTestSrcImpl>(
    obj: &PushTestSrc,
    span: &Span,
) -> Result<gst::Buffer, gst::FlowError> {
    // SAFETY: the class of `obj` is T's (this function is only installed in T's class).
    let imp = unsafe { obj.unsafe_cast_ref::<T::Type>() }.imp();
    imp.produce(span)
}

/// The timing properties every push test source installs after its own.
pub fn timing_properties(config: &Config) -> Vec<glib::ParamSpec> {
    engine::properties(config)
}

/// The pad template of a push test source: one `src` pad, always there, producing `caps`.
pub fn src_pad_templates(caps: &gst::Caps) -> Vec<gst::PadTemplate> {
    vec![
        gst::PadTemplate::new(
            "src",
            gst::PadDirection::Src,
            gst::PadPresence::Always,
            caps,
        )
        .expect("a valid src pad template"),
    ]
}
