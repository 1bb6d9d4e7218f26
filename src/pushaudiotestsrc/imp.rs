use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use super::wave::{Generator, SampleFormat, Wave};
use crate::pushtestsrc::{self, Config, PushTestSrcImpl, PushTestSrcImplExt, QosUnits, Span};
use crate::time::Rate;
use crate::timing::lock;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "pushaudiotestsrc",
        gst::DebugColorFlags::empty(),
        Some("Audio test source with push-source timing"),
    )
});

const DEFAULT_SAMPLES_PER_BUFFER: u32 = 1024;
const DEFAULT_FREQ: f64 = 440.0;
const MAX_FREQ: f64 = 96_000.0;
const DEFAULT_VOLUME: f64 = 0.8;
const DEFAULT_WAVE: Wave = Wave::Sine;
/// The rate `fixate` picks when downstream leaves it open, as audiotestsrc does.
const DEFAULT_RATE: u32 = 44_100;
const MIN_RATE: i32 = 8_000;
const MAX_RATE: i32 = 192_000;
const MAX_CHANNELS: i32 = 8;
/// 2^20 samples (about 22 s at 48 kHz, 32 MiB at 8 channels of F32): a buffer that can always
/// be allocated, where G_MAXINT would make the allocation abort the process.
const MAX_SAMPLES_PER_BUFFER: i32 = 1 << 20;

const TIMING: Config = Config {
    default_rate: Rate::per_second(DEFAULT_RATE),
    default_units_per_buffer: DEFAULT_SAMPLES_PER_BUFFER,
    default_is_live: true,
    qos_units: QosUnits::Default,
};

/// The signal settings; the timing ones are the base class's.
#[derive(Debug, Clone, Copy)]
struct Settings {
    freq: f64,
    volume: f64,
    wave: Wave,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            freq: DEFAULT_FREQ,
            volume: DEFAULT_VOLUME,
            wave: DEFAULT_WAVE,
        }
    }
}

#[derive(Default)]
pub struct PushAudioTestSrc {
    settings: Mutex<Settings>,
    /// Made at each negotiation.
    generator: Mutex<Option<Generator>>,
}

impl PushAudioTestSrc {
    /// Fills a new buffer with the samples of `span`.
    fn fill(&self, span: &Span) -> Result<gst::Buffer, gst::FlowError> {
        let settings = *lock(&self.settings);
        let mut generator = lock(&self.generator);
        let generator = generator.as_mut().ok_or(gst::FlowError::NotNegotiated)?;
        generator.wave = settings.wave;
        generator.freq = settings.freq;
        generator.volume = settings.volume;
        let size = span.units as usize * generator.bytes_per_frame();
        let mut buffer = gst::Buffer::with_size(size).map_err(|_| gst::FlowError::Error)?;
        {
            let buffer = buffer.get_mut().expect("new buffer is writable");
            let mut map = buffer.map_writable().map_err(|_| gst::FlowError::Error)?;
            generator.fill(&span.signal, span.first, map.as_mut_slice());
        }
        Ok(buffer)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PushAudioTestSrc {
    const NAME: &'static str = "GstPushAudioTestSrc";
    type Type = super::PushAudioTestSrc;
    type ParentType = pushtestsrc::PushTestSrc;
}

impl ObjectImpl for PushAudioTestSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let mut properties = vec![
                glib::ParamSpecInt::builder("samplesperbuffer")
                    .nick("Samples per buffer")
                    .blurb("Number of samples in each outgoing buffer")
                    .minimum(1)
                    .maximum(MAX_SAMPLES_PER_BUFFER)
                    .default_value(DEFAULT_SAMPLES_PER_BUFFER as i32)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("wave", DEFAULT_WAVE)
                    .nick("Waveform")
                    .blurb("Oscillator waveform")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("freq")
                    .nick("Frequency")
                    .blurb(
                        "Frequency of the test signal in Hz (sine, square, saw, triangle, ticks)",
                    )
                    .minimum(0.0)
                    .maximum(MAX_FREQ)
                    .default_value(DEFAULT_FREQ)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("volume")
                    .nick("Volume")
                    .blurb("Volume of the test signal (1.0 is full scale)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_VOLUME)
                    .mutable_playing()
                    .build(),
            ];
            properties.extend(pushtestsrc::timing_properties(&TIMING));
            properties
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        if self.set_timing_property(value, pspec) {
            return;
        }
        match pspec.name() {
            "samplesperbuffer" => {
                let samples = value.get::<i32>().expect("type checked upstream") as u32;
                self.set_units_per_buffer(samples);
            }
            "wave" => lock(&self.settings).wave = value.get().expect("type checked upstream"),
            "freq" => lock(&self.settings).freq = value.get().expect("type checked upstream"),
            "volume" => lock(&self.settings).volume = value.get().expect("type checked upstream"),
            name => unreachable!("unknown property {name}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        if let Some(value) = self.timing_property(pspec) {
            return value;
        }
        let settings = *lock(&self.settings);
        match pspec.name() {
            "samplesperbuffer" => (self.units_per_buffer() as i32).to_value(),
            "wave" => settings.wave.to_value(),
            "freq" => settings.freq.to_value(),
            "volume" => settings.volume.to_value(),
            name => unreachable!("unknown property {name}"),
        }
    }
}

impl GstObjectImpl for PushAudioTestSrc {}

impl ElementImpl for PushAudioTestSrc {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Push audio test source",
                "Source/Audio",
                "Audio test signals (sine, square, noise, ticks…) from a simulated live capture \
                 device with DirectShow push-source timing: latency, stream offset, maximum \
                 stream offset and a capture buffer that loses data when blocked",
                "pushsource developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static PAD_TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst_audio::AudioCapsBuilder::new_interleaved()
                .format_list([gst_audio::AudioFormat::S16le, gst_audio::AudioFormat::F32le])
                .rate_range(MIN_RATE..=MAX_RATE)
                .channels_range(1..=MAX_CHANNELS)
                .build();
            pushtestsrc::src_pad_templates(&caps)
        });
        PAD_TEMPLATES.as_ref()
    }
}

impl BaseSrcImpl for PushAudioTestSrc {
    fn fixate(&self, mut caps: gst::Caps) -> gst::Caps {
        caps.truncate();
        {
            let caps = caps.make_mut();
            let s = caps.structure_mut(0).expect("caps are not empty");
            s.fixate_field_nearest_int("rate", DEFAULT_RATE as i32);
            s.fixate_field_nearest_int("channels", 1);
            s.fixate_field_str("format", gst_audio::AudioFormat::S16le.to_str());
            let channels = s.get::<i32>("channels").unwrap_or(1);
            if channels > 2 && !s.has_field("channel-mask") {
                let mask = gst_audio::AudioChannelPosition::fallback_mask(channels as u32);
                s.set("channel-mask", gst::Bitmask::new(mask));
            }
        }
        self.parent_fixate(caps)
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_audio::AudioInfo::from_caps(caps)
            .map_err(|_| gst::loggable_error!(CAT, "cannot parse caps {caps}"))?;
        let format = match info.format() {
            gst_audio::AudioFormat::S16le => SampleFormat::S16le,
            gst_audio::AudioFormat::F32le => SampleFormat::F32le,
            other => return Err(gst::loggable_error!(CAT, "unsupported format {other:?}")),
        };
        let settings = *lock(&self.settings);
        let rate = info.rate();
        gst::debug!(CAT, imp = self, "configured for {caps}");
        *lock(&self.generator) = Some(Generator::new(
            settings.wave,
            settings.freq,
            settings.volume,
            info.channels() as usize,
            format,
        ));
        self.set_rate(Rate::per_second(rate));
        Ok(())
    }
}

impl PushSrcImpl for PushAudioTestSrc {}

impl PushTestSrcImpl for PushAudioTestSrc {
    const CONFIG: Config = TIMING;

    fn produce(&self, span: &Span) -> Result<gst::Buffer, gst::FlowError> {
        self.fill(span)
    }
}
