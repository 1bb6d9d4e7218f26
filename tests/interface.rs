//! The push-source interface can be implemented outside this crate, and is found by interface.

mod common;

use common::*;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gstpushsource::{
    PushSource, PushSourceExt, PushSourceFlags, PushSourceImpl, StreamOffsetResult,
};
use std::sync::Mutex;

mod external {
    use super::*;

    #[derive(Default)]
    pub struct ExternalSource {
        pub offset: Mutex<i64>,
        pub max_offset: Mutex<gst::ClockTime>,
        pub flags: Mutex<PushSourceFlags>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ExternalSource {
        const NAME: &'static str = "TestExternalPushSource";
        type Type = super::ExternalSourceElement;
        type ParentType = gst::Element;
        type Interfaces = (PushSource,);
    }

    impl ObjectImpl for ExternalSource {}
    impl GstObjectImpl for ExternalSource {}
    impl ElementImpl for ExternalSource {}

    impl PushSourceImpl for ExternalSource {
        fn latency(&self) -> Option<gst::ClockTime> {
            // A source that cannot tell while its "device" is closed.
            (*self.flags.lock().unwrap() != PushSourceFlags::PRIVATE_CLOCK).then_some(ms(33))
        }
        fn stream_offset(&self) -> i64 {
            *self.offset.lock().unwrap()
        }
        fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
            *self.offset.lock().unwrap() = offset;
            StreamOffsetResult::for_offset(offset, *self.max_offset.lock().unwrap())
        }
        fn max_stream_offset(&self) -> gst::ClockTime {
            *self.max_offset.lock().unwrap()
        }
        fn set_max_stream_offset(&self, max_offset: gst::ClockTime) {
            *self.max_offset.lock().unwrap() = max_offset;
        }
        fn push_source_flags(&self) -> PushSourceFlags {
            *self.flags.lock().unwrap()
        }
        fn set_push_source_flags(&self, flags: PushSourceFlags) {
            *self.flags.lock().unwrap() = flags;
        }
    }
}

glib::wrapper! {
    pub struct ExternalSourceElement(ObjectSubclass<external::ExternalSource>)
        @extends gst::Element, gst::Object, @implements PushSource;
}

#[test]
fn an_element_of_another_crate_implements_the_interface() {
    init();
    let element = glib::Object::new::<ExternalSourceElement>();
    let source = element.upcast_ref::<PushSource>();
    assert_eq!(source.source_latency(), Some(ms(33)));
    source.set_max_stream_offset(ms(100));
    assert_eq!(source.max_stream_offset(), ms(100));
    assert_eq!(
        source.set_stream_offset(ms(150).nseconds() as i64),
        StreamOffsetResult::ExceedsMaximum
    );
    assert_eq!(
        source.set_stream_offset(ms(50).nseconds() as i64),
        StreamOffsetResult::Applied
    );
    assert_eq!(source.stream_offset(), ms(50).nseconds() as i64);
    source.set_push_source_flags(PushSourceFlags::PRIVATE_CLOCK);
    assert_eq!(source.push_source_flags(), PushSourceFlags::PRIVATE_CLOCK);
    assert_eq!(
        source.source_latency(),
        None,
        "a failed latency answer is None"
    );
}

#[test]
fn bins_find_every_push_source_by_interface() {
    init();
    let bin = gst::Bin::new();
    let audio = gst::ElementFactory::make("pushaudiotestsrc")
        .name("audio")
        .build()
        .unwrap();
    let external = glib::Object::builder::<ExternalSourceElement>()
        .property("name", "external")
        .build();
    let nested = gst::Bin::new();
    nested.add(&external).unwrap();
    let plain = gst::ElementFactory::make("fakesrc").build().unwrap();
    bin.add_many([&audio, nested.upcast_ref(), &plain]).unwrap();
    let mut names: Vec<String> = bin
        .iterate_all_by_interface(PushSource::static_type())
        .into_iter()
        .map(|e| e.unwrap().name().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["audio", "external"]);
}

#[test]
fn the_interface_and_its_types_are_registered_by_name() {
    init();
    assert_eq!(
        glib::Type::from_name("GstPushSource"),
        Some(PushSource::static_type())
    );
    assert!(PushSource::static_type().is_a(glib::Type::INTERFACE));
    let results = glib::EnumClass::with_type(StreamOffsetResult::static_type()).unwrap();
    let nicks: Vec<_> = results
        .values()
        .iter()
        .map(|v| (v.value(), v.nick().to_string()))
        .collect();
    assert_eq!(
        nicks,
        [
            (0, "applied".to_string()),
            (1, "exceeds-maximum".to_string())
        ]
    );
}

mod incomplete {
    use super::*;

    /// A push source whose vtable loses functions after registration, as a C implementation
    /// that leaves them NULL would have it.
    #[derive(Default)]
    pub struct IncompleteSource;

    #[glib::object_subclass]
    impl ObjectSubclass for IncompleteSource {
        const NAME: &'static str = "TestIncompletePushSource";
        type Type = super::IncompleteSourceElement;
        type ParentType = gst::Element;
        type Interfaces = (PushSource,);
    }

    impl ObjectImpl for IncompleteSource {}
    impl GstObjectImpl for IncompleteSource {}
    impl ElementImpl for IncompleteSource {}

    impl PushSourceImpl for IncompleteSource {
        fn latency(&self) -> Option<gst::ClockTime> {
            Some(ms(1))
        }
        fn stream_offset(&self) -> i64 {
            1
        }
        fn set_stream_offset(&self, _offset: i64) -> StreamOffsetResult {
            StreamOffsetResult::Applied
        }
        fn max_stream_offset(&self) -> gst::ClockTime {
            ms(1)
        }
        fn set_max_stream_offset(&self, _max_offset: gst::ClockTime) {}
        fn push_source_flags(&self) -> PushSourceFlags {
            PushSourceFlags::all()
        }
        fn set_push_source_flags(&self, _flags: PushSourceFlags) {}
    }
}

glib::wrapper! {
    pub struct IncompleteSourceElement(ObjectSubclass<incomplete::IncompleteSource>)
        @extends gst::Element, gst::Object, @implements PushSource;
}

#[test]
fn callers_cope_with_an_implementation_missing_functions() {
    use gst::glib::translate::IntoGlib;
    init();
    let element = glib::Object::new::<IncompleteSourceElement>();
    unsafe {
        let class =
            glib::gobject_ffi::g_type_class_ref(IncompleteSourceElement::static_type().into_glib());
        let iface =
            glib::gobject_ffi::g_type_interface_peek(class, PushSource::static_type().into_glib())
                as *mut gstpushsource::push_source::PushSourceInterface;
        (*iface).get_latency = None;
        (*iface).get_stream_offset = None;
        (*iface).set_stream_offset = None;
        (*iface).get_push_source_flags = None;
        glib::gobject_ffi::g_type_class_unref(class);
    }
    let source = element.upcast_ref::<PushSource>();
    assert_eq!(
        source.source_latency(),
        None,
        "no latency function: cannot tell"
    );
    assert_eq!(source.stream_offset(), 0);
    assert_eq!(
        source.max_stream_offset(),
        ms(1),
        "the functions left still work"
    );
    assert_eq!(
        source.set_stream_offset(ms(5).nseconds() as i64),
        StreamOffsetResult::Applied,
        "the same answer as the C header's caller"
    );
    assert_eq!(source.push_source_flags(), PushSourceFlags::empty());
}
