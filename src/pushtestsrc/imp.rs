//! The GObject/GStreamer glue of the base class: every virtual method goes to the engine.

use std::sync::LazyLock;

use gst::ClockTime;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::base_src::CreateSuccess;
use gst_base::subclass::prelude::*;

use super::engine::{Engine, Seek};
use crate::push_source::{PushSource, PushSourceFlags, PushSourceImpl, StreamOffsetResult};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pushtestsrc",
        gst::DebugColorFlags::empty(),
        Some("Base class of the push test sources"),
    )
});

pub struct PushTestSrc {
    engine: Engine,
}

impl PushTestSrc {
    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    fn base_src(&self) -> gst_base::BaseSrc {
        self.obj().clone().upcast()
    }

    /// A flushing seek to a live source: FLUSH_START and FLUSH_STOP (with the seek's seqnum)
    /// through GstBaseSrc's own flush handling, which unblocks, stops and restarts the streaming
    /// task as for a seek, the capture restarted in between. The position stays.
    fn flush_live(&self, seqnum: gst::Seqnum) {
        let start = gst::event::FlushStart::builder().seqnum(seqnum).build();
        let started = self.parent_send_event(start);
        self.engine.restart_capture(&self.base_src());
        let stop = gst::event::FlushStop::builder(true).seqnum(seqnum).build();
        let stopped = self.parent_send_event(stop);
        gst::debug!(
            CAT,
            imp = self,
            "live flush: start {started}, stop {stopped}"
        );
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PushTestSrc {
    const NAME: &'static str = "GstPushTestSrc";
    const ABSTRACT: bool = true;
    type Type = super::PushTestSrc;
    type ParentType = gst_base::PushSrc;
    type Class = super::Class;
    type Interfaces = (PushSource,);

    fn with_class(klass: &Self::Class) -> Self {
        let config = klass
            .config
            .expect("a push test source sets its config in class_init");
        Self {
            engine: Engine::new(config, *CAT),
        }
    }
}

impl ObjectImpl for PushTestSrc {
    fn constructed(&self) {
        self.parent_constructed();
        self.engine
            .constructed(&*self.obj(), |element| element.imp().engine());
    }
}

impl GstObjectImpl for PushTestSrc {}

impl ElementImpl for PushTestSrc {
    /// The device clock, with `use-stream-clock` (SPEC 3a).
    fn provide_clock(&self) -> Option<gst::Clock> {
        self.engine.provided_clock()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        self.engine.change_state(&self.base_src(), transition);
        self.parent_change_state(transition)
    }

    fn send_event(&self, event: gst::Event) -> bool {
        match self.engine.admit_seek(&self.base_src(), &event) {
            Seek::Answer(handled) => handled,
            Seek::Perform(event) => self.parent_send_event(event),
            Seek::FlushLive { seqnum, accepted } => {
                self.flush_live(seqnum);
                accepted
            }
        }
    }
}

impl BaseSrcImpl for PushTestSrc {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        self.engine.start();
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.engine.stop();
        Ok(())
    }

    fn is_seekable(&self) -> bool {
        self.engine.is_seekable()
    }

    fn query(&self, query: &mut gst::QueryRef) -> bool {
        match self.engine.query(&self.base_src(), query) {
            Some(handled) => handled,
            None => BaseSrcImplExt::parent_query(self, query),
        }
    }

    fn event(&self, event: &gst::Event) -> bool {
        match self.engine.admit_seek(&self.base_src(), event) {
            Seek::Answer(handled) => handled,
            Seek::Perform(event) => self.parent_event(&event),
            Seek::FlushLive { seqnum, accepted } => {
                self.flush_live(seqnum);
                accepted
            }
        }
    }

    /// A clear ERROR when downstream accepts none of the source's formats.
    fn negotiate(&self) -> Result<(), gst::LoggableError> {
        self.engine.check_downstream_caps(&self.base_src())?;
        self.parent_negotiate()
    }

    fn do_seek(&self, segment: &mut gst::Segment) -> bool {
        self.engine.do_seek(&self.base_src(), segment)
    }

    fn unlock(&self) -> Result<(), gst::ErrorMessage> {
        self.engine.unlock();
        Ok(())
    }

    fn unlock_stop(&self) -> Result<(), gst::ErrorMessage> {
        self.engine.unlock_stop();
        Ok(())
    }
}

impl PushSrcImpl for PushTestSrc {
    fn create(
        &self,
        _buffer: Option<&mut gst::BufferRef>,
    ) -> Result<CreateSuccess, gst::FlowError> {
        let obj = self.obj();
        let produce = obj
            .class()
            .as_ref()
            .produce
            .expect("a push test source sets produce in class_init");
        self.engine
            .create(obj.upcast_ref(), |span| produce(&obj, span))
            .map(CreateSuccess::NewBuffer)
    }
}

impl PushSourceImpl for PushTestSrc {
    fn latency(&self) -> Option<ClockTime> {
        Some(self.engine.effective_latency())
    }

    fn stream_offset(&self) -> i64 {
        self.engine.timing().ts_offset
    }

    fn set_stream_offset(&self, offset: i64) -> StreamOffsetResult {
        let result = self.engine.apply_ts_offset(&self.base_src(), offset);
        self.obj().notify("ts-offset");
        result
    }

    fn max_stream_offset(&self) -> ClockTime {
        self.engine.timing().max_offset
    }

    fn set_max_stream_offset(&self, max_offset: ClockTime) {
        self.engine.apply_max_offset(&self.base_src(), max_offset);
        self.obj().notify("max-offset");
    }

    fn push_source_flags(&self) -> PushSourceFlags {
        self.engine.timing().flags
    }

    fn set_push_source_flags(&self, flags: PushSourceFlags) {
        self.engine.set_flags(&self.base_src(), flags);
        self.obj().notify("push-source-flags");
        self.obj().notify("is-live");
    }
}
