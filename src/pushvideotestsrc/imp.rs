use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use super::pattern::{FORMATS, Painter};
use crate::pushtestsrc::{self, Config, PushTestSrcImpl, PushTestSrcImplExt, QosUnits, Span};
use crate::time::Rate;
use crate::timing::lock;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pushvideotestsrc",
        gst::DebugColorFlags::empty(),
        Some("Video test source with push-source timing"),
    )
});

/// What `fixate` picks when downstream leaves it open, as videotestsrc does.
const DEFAULT_WIDTH: i32 = 320;
const DEFAULT_HEIGHT: i32 = 240;
const DEFAULT_FRAMERATE: gst::Fraction = gst::Fraction::from_integer(30);
const MIN_SIZE: i32 = 16;
const MAX_WIDTH: i32 = 4096;
const MAX_HEIGHT: i32 = 2160;

/// One frame a buffer; the QOS message counts lost frames in buffers.
const TIMING: Config = Config {
    default_rate: Rate::per_second(30),
    default_units_per_buffer: 1,
    default_is_live: true,
    qos_units: QosUnits::Buffers,
};

/// What set_caps prepared for the negotiated format.
struct Negotiated {
    info: gst_video::VideoInfo,
    painter: Painter,
}

#[derive(Default)]
pub struct PushVideoTestSrc {
    negotiated: Mutex<Option<Negotiated>>,
}

impl PushVideoTestSrc {
    /// Paints frame `span.first` into a buffer of the pool (a new buffer without one).
    fn fill(&self, span: &Span) -> Result<gst::Buffer, gst::FlowError> {
        let negotiated = lock(&self.negotiated);
        let negotiated = negotiated.as_ref().ok_or(gst::FlowError::NotNegotiated)?;
        let mut buffer = match self.obj().buffer_pool() {
            Some(pool) => pool.acquire_buffer(None)?,
            None => {
                gst::Buffer::with_size(negotiated.info.size()).map_err(|_| gst::FlowError::Error)?
            }
        };
        let buffer_ref = buffer.make_mut();
        let mut frame =
            gst_video::VideoFrameRef::from_buffer_ref_writable(buffer_ref, &negotiated.info)
                .map_err(|_| {
                    gst::error!(CAT, imp = self, "cannot map a buffer as a video frame");
                    gst::FlowError::Error
                })?;
        negotiated
            .painter
            .paint(span.first, &mut frame)
            .map_err(|error| {
                gst::error!(
                    CAT,
                    imp = self,
                    "cannot paint frame {}: {error}",
                    span.first
                );
                gst::FlowError::Error
            })?;
        drop(frame);
        Ok(buffer)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PushVideoTestSrc {
    const NAME: &'static str = "GstPushVideoTestSrc";
    type Type = super::PushVideoTestSrc;
    type ParentType = pushtestsrc::PushTestSrc;
}

impl ObjectImpl for PushVideoTestSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> =
            LazyLock::new(|| pushtestsrc::timing_properties(&TIMING));
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        if !self.set_timing_property(value, pspec) {
            unreachable!("unknown property {}", pspec.name());
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        self.timing_property(pspec)
            .unwrap_or_else(|| unreachable!("unknown property {}", pspec.name()))
    }
}

impl GstObjectImpl for PushVideoTestSrc {}

impl ElementImpl for PushVideoTestSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Push video test source",
                "Source/Video",
                "Raw video test frames (moving colour bars, each frame showing its number as a \
                 grid of black and white cells) from a simulated live capture device with \
                 DirectShow push-source timing: latency, stream offset, maximum stream offset \
                 and a capture buffer that loses frames when blocked",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_video::VideoCapsBuilder::new()
                .format_list(FORMATS)
                .width_range(MIN_SIZE..=MAX_WIDTH)
                .height_range(MIN_SIZE..=MAX_HEIGHT)
                .framerate_range(gst::Fraction::new(1, i32::MAX)..=gst::Fraction::new(i32::MAX, 1))
                .build();
            pushtestsrc::src_pad_templates(&caps)
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseSrcImpl for PushVideoTestSrc {
    fn fixate(&self, mut caps: gst::Caps) -> gst::Caps {
        caps.truncate();
        {
            let caps = caps.make_mut();
            let s = caps.structure_mut(0).expect("caps are not empty");
            s.fixate_field_nearest_int("width", DEFAULT_WIDTH);
            s.fixate_field_nearest_int("height", DEFAULT_HEIGHT);
            s.fixate_field_nearest_fraction("framerate", DEFAULT_FRAMERATE);
            if s.has_field("pixel-aspect-ratio") {
                s.fixate_field_nearest_fraction("pixel-aspect-ratio", gst::Fraction::new(1, 1));
            }
        }
        self.parent_fixate(caps)
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(caps)
            .map_err(|_| gst::loggable_error!(CAT, "cannot parse caps {caps}"))?;
        let fps = info.fps();
        let rate = u32::try_from(fps.numer())
            .ok()
            .zip(u32::try_from(fps.denom()).ok())
            .and_then(|(num, den)| Rate::new(num, den))
            .ok_or_else(|| gst::loggable_error!(CAT, "framerate {fps} is not a positive rate"))?;
        let painter = Painter::new(&info).map_err(|error| gst::loggable_error!(CAT, "{error}"))?;
        gst::debug!(CAT, imp = self, "configured for {caps}");
        *lock(&self.negotiated) = Some(Negotiated { info, painter });
        self.set_rate(rate);
        Ok(())
    }

    /// A video buffer pool (downstream's if it offers one) of buffers of the negotiated size, so
    /// that frames are neither allocated nor zeroed each time.
    fn decide_allocation(
        &self,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        let (caps, _need_pool) = query.get_owned();
        let caps =
            caps.ok_or_else(|| gst::loggable_error!(CAT, "allocation query without caps"))?;
        let info = gst_video::VideoInfo::from_caps(&caps)
            .map_err(|_| gst::loggable_error!(CAT, "cannot parse caps {caps}"))?;
        let frame_size = u32::try_from(info.size())
            .map_err(|_| gst::loggable_error!(CAT, "frame size {} too large", info.size()))?;
        let proposed = query.allocation_pools().next();
        let (pool, size, min, max, update) = match proposed {
            Some((Some(pool), size, min, max)) => (pool, size.max(frame_size), min, max, true),
            Some((None, size, min, max)) => (
                gst_video::VideoBufferPool::new().upcast(),
                size.max(frame_size),
                min,
                max,
                true,
            ),
            None => (
                gst_video::VideoBufferPool::new().upcast(),
                frame_size,
                0,
                0,
                false,
            ),
        };
        let mut config = pool.config();
        config.set_params(Some(&caps), size, min, max);
        if query
            .find_allocation_meta::<gst_video::VideoMeta>()
            .is_some()
        {
            config.add_option(gst_video::BUFFER_POOL_OPTION_VIDEO_META);
        }
        pool.set_config(config)
            .map_err(|_| gst::loggable_error!(CAT, "the buffer pool refused its configuration"))?;
        if update {
            query.set_nth_allocation_pool(0, Some(&pool), size, min, max);
        } else {
            query.add_allocation_pool(Some(&pool), size, min, max);
        }
        Ok(())
    }
}

impl PushSrcImpl for PushVideoTestSrc {}

impl PushTestSrcImpl for PushVideoTestSrc {
    const CONFIG: Config = TIMING;

    fn produce(&self, span: &Span) -> Result<gst::Buffer, gst::FlowError> {
        self.fill(span)
    }
}
