//! Band-limited resampling at a ratio that may change with every call, for `ratematch`.
//!
//! The back end is GStreamer's own `GstAudioResampler` (libgstaudio) in its variable-rate mode:
//! a Kaiser-windowed sinc whose taps are interpolated between the rows of an oversampled
//! table, so every ratio costs the same and a change takes effect on the next output frame. It
//! was chosen over the `rubato` crate by measurement (BENCHMARKS.md, "Resampler for ratematch
//! (issue 12)").
//!
//! `GstAudioResampler` takes the ratio as two integer rates. The output rate here is a fixed
//! power of two `D` (2²⁴ at the default settings) and the input rate `ratio·D` rounded, so the
//! ratio's resolution is `1/D` (0.06 ppm) and the resampler's phase is a whole multiple of
//! `1/D` frames: [`Resampler::read_position`] is kept in the same integer units and is exact,
//! not an estimate. Three details of libgstaudio make that true and are relied on (the tests
//! check the result):
//! - the output rate never changes, so `gst_audio_resampler_update()` rescales the phase by a
//!   whole factor (it reduces both rates by their greatest common divisor, and the reduced
//!   output rate divides `D`);
//! - the option `max-phase-error` 0 makes that reduction exact instead of rounding the phase;
//! - its interpolated table is read a fixed fraction of a frame behind the phase
//!   ([`read_lag_units`]).

use gst::glib;
use gst::glib::translate::{FromGlib, IntoGlib, ToGlibPtrMut};
use gst_audio::ffi;

/// The smallest ratio `process` accepts (input frames per output frame); smaller is clamped.
pub const MIN_RATIO: f64 = 0.9;
/// The largest ratio `process` accepts; larger is clamped. The anti-alias filter is designed
/// once, for a ratio of 1: reading 10 % faster lets the top 10 % of the band alias, which a
/// rate matcher (drift is parts per million, at most a few parts per thousand) never needs.
pub const MAX_RATIO: f64 = 1.1;

/// How GstAudioResampler interpolates its filter between the rows of its oversampled table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableInterpolation {
    /// Two rows (two dot products per output sample), 11 times as many rows.
    Linear,
    /// Four rows (four dot products per output sample). Measured by the benchmark, not used by
    /// the element.
    #[allow(dead_code)]
    Cubic,
}

/// A Kaiser filter other than the quality's preset (GstAudioResampler's options of the same
/// names; the number of taps follows from both).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KaiserFilter {
    /// Stopband attenuation, dB.
    pub stop_attenuation: f64,
    /// Transition bandwidth, as a fraction of the sample rate.
    pub transition_bandwidth: f64,
}

/// The settings of the back end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// GstAudioResampler's Kaiser quality (0–10, as `audioresample`'s `quality` property): its
    /// filter, unless `filter` says otherwise, and its table's oversampling.
    pub quality: u32,
    pub interpolation: TableInterpolation,
    pub filter: Option<KaiserFilter>,
}

impl Settings {
    /// Settings measured to keep the SNR of a sine resampled at 1.001 at or above 90 dB at
    /// 1 kHz and at 10 kHz, at less CPU than `audioresample` at its default quality
    /// (BENCHMARKS.md): a 40-tap Kaiser filter (90 dB stopband, transition band 0.147 of the
    /// rate: passband to 19 kHz at 48 kHz) instead of quality 4's 64 taps (85 dB, 0.087), with
    /// quality 4's table interpolated linearly (two dot products per output sample, not four).
    pub const DEFAULT: Settings = Settings {
        quality: 4,
        interpolation: TableInterpolation::Linear,
        filter: Some(KaiserFilter {
            stop_attenuation: 90.0,
            transition_bandwidth: 0.147,
        }),
    };

    /// GstAudioResampler's oversampling of its table (its `oversample_qualities`, times 11 for
    /// linear interpolation; with the two rates this close it keeps them as they are).
    fn oversample(self) -> i64 {
        const BY_QUALITY: [i64; 11] = [4, 4, 4, 8, 8, 16, 16, 16, 16, 32, 32];
        let rows = BY_QUALITY[self.quality as usize];
        match self.interpolation {
            TableInterpolation::Linear => rows * 11,
            TableInterpolation::Cubic => rows,
        }
    }

    /// The output rate `D` handed to GstAudioResampler: the ratio's resolution is `1/D`.
    /// GstAudioResampler computes `phase × oversample` in a `gint`, with `phase < D`: the
    /// largest power of two up to 2²⁴ that keeps that below 2³¹.
    fn denominator(self) -> i64 {
        let mut denominator = 1 << 24;
        while denominator * self.oversample() > i32::MAX as i64 {
            denominator /= 2;
        }
        denominator
    }
}

/// Band-limited resampling of interleaved f32 frames at a ratio that may change with every
/// call.
pub struct Resampler {
    raw: std::ptr::NonNull<ffi::GstAudioResampler>,
    channels: usize,
    settings: Settings,
    /// The output rate handed to GstAudioResampler, `settings.denominator()`.
    denominator: i64,
    /// The input rate last handed to GstAudioResampler: the position advances by this many
    /// `1/denominator` units per output frame.
    in_rate: i64,
    /// Whole frames of GstAudioResampler's phase since the start.
    phase_frames: u64,
    /// The phase's fraction, in units of `1/denominator` frames.
    phase_units: i64,
}

// SAFETY: a GstAudioResampler has no thread affinity; `&mut self` on every call that touches
// it means one thread at a time.
unsafe impl Send for Resampler {}

impl Resampler {
    /// A resampler for interleaved frames of `channels` samples (at least 1; 0 is taken as 1).
    pub fn new(channels: usize) -> Self {
        Self::with_settings(channels, Settings::DEFAULT)
    }

    /// As [`Resampler::new`] with other settings (a quality above 10 is taken as 10), for the
    /// measurements that chose [`Settings::DEFAULT`].
    pub fn with_settings(channels: usize, settings: Settings) -> Self {
        let channels = channels.max(1);
        let settings = Settings {
            quality: settings
                .quality
                .min(ffi::GST_AUDIO_RESAMPLER_QUALITY_MAX as u32),
            ..settings
        };
        Self {
            raw: create(channels, settings),
            channels,
            settings,
            denominator: settings.denominator(),
            in_rate: design_in_rate(settings),
            phase_frames: 0,
            phase_units: 0,
        }
    }

    /// Appends to `output` the frames interpolated at input positions p, p+ratio,
    /// p+2·ratio, … as far as the input fed so far allows (`ratio` = input frames per output
    /// frame, 1.001 consumes 0.1 % more input than it outputs; clamped to
    /// [`MIN_RATIO`]…[`MAX_RATIO`], a NaN is taken as 1, and it is quantized to 2⁻²⁴ at the
    /// default settings). `input` holds whole interleaved frames; a trailing partial frame is
    /// ignored.
    pub fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        self.update_in_rate(self.ratio_to_in_rate(ratio));
        let in_frames = input.len() / self.channels;
        // SAFETY: `raw` is a live resampler.
        let out_frames =
            unsafe { ffi::gst_audio_resampler_get_out_frames(self.raw.as_ptr(), in_frames) };
        let start = output.len();
        output.resize(start + out_frames * self.channels, 0.0);
        let mut in_ptr = input.as_ptr() as glib::ffi::gpointer;
        let mut out_ptr = output[start..].as_mut_ptr() as glib::ffi::gpointer;
        // SAFETY: interleaved buffers are passed as one pointer each; `input` holds
        // `in_frames` frames and `output[start..]` exactly `out_frames`, the count
        // `get_out_frames()` promised for this input; the resampler only reads the input.
        unsafe {
            ffi::gst_audio_resampler_resample(
                self.raw.as_ptr(),
                &mut in_ptr,
                in_frames,
                &mut out_ptr,
                out_frames,
            );
        }
        self.advance(out_frames as u64);
    }

    /// The input position (in frames since the first frame fed after `new`/`reset`,
    /// fractional) the next output frame will be interpolated at. Slightly negative at the
    /// start with cubic table interpolation (see [`read_lag_units`]).
    pub fn read_position(&self) -> f64 {
        let units = self.phase_units - read_lag_units(self.settings, self.denominator);
        self.phase_frames as f64 + units as f64 / self.denominator as f64
    }

    /// Input frames the resampler must see beyond a position before it can output it (its
    /// delay): the half of the filter after the position, the frame at it, and one for the
    /// fraction of a frame the table may be read behind (see [`read_lag_units`]).
    /// Once `read_position() + delay_frames()` frames are fed, that position is output.
    pub fn delay_frames(&self) -> usize {
        // SAFETY: `raw` is a live resampler.
        unsafe { ffi::gst_audio_resampler_get_max_latency(self.raw.as_ptr()) + 2 }
    }

    /// Forgets all input and starts again at the start position (the ratio is kept). Part of
    /// the shared API; the element starts a new resampler instead.
    #[allow(dead_code)]
    pub fn reset(&mut self) {
        // gst_audio_resampler_reset() keeps the phase between input frames: a new resampler
        // is the only way back to phase 0.
        let fresh = create(self.channels, self.settings);
        // SAFETY: `raw` came from gst_audio_resampler_new() and is freed once; it is replaced
        // at once.
        unsafe { ffi::gst_audio_resampler_free(self.raw.as_ptr()) };
        self.raw = fresh;
        let in_rate = std::mem::replace(&mut self.in_rate, design_in_rate(self.settings));
        self.update_in_rate(in_rate);
        self.phase_frames = 0;
        self.phase_units = 0;
    }

    /// The integer input rate that stands for `ratio` against `denominator`.
    fn ratio_to_in_rate(&self, ratio: f64) -> i64 {
        let ratio = if ratio.is_nan() {
            1.0
        } else {
            ratio.clamp(MIN_RATIO, MAX_RATIO)
        };
        let in_rate = (ratio * self.denominator as f64).round() as i64;
        // Equal rates make GstAudioResampler copy the nearest sample instead of filtering,
        // which drops the phase: a ratio of exactly 1 runs one unit fast instead.
        if in_rate == self.denominator {
            in_rate + 1
        } else {
            in_rate
        }
    }

    fn update_in_rate(&mut self, in_rate: i64) {
        if in_rate == self.in_rate {
            return;
        }
        // SAFETY: `raw` is a live resampler; NULL options keep the filter as it is.
        let updated = unsafe {
            ffi::gst_audio_resampler_update(
                self.raw.as_ptr(),
                in_rate as i32,
                self.denominator as i32,
                std::ptr::null_mut(),
            )
        };
        debug_assert!(updated != glib::ffi::GFALSE);
        self.in_rate = in_rate;
    }

    fn advance(&mut self, out_frames: u64) {
        let units = self.phase_units as u128 + out_frames as u128 * self.in_rate as u128;
        let denominator = self.denominator as u128;
        self.phase_frames += (units / denominator) as u64;
        self.phase_units = (units % denominator) as i64;
    }
}

impl Drop for Resampler {
    fn drop(&mut self) {
        // SAFETY: `raw` came from gst_audio_resampler_new() and is freed once.
        unsafe { ffi::gst_audio_resampler_free(self.raw.as_ptr()) };
    }
}

/// The input rate the filter is designed at: just below the output rate, so that
/// GstAudioResampler designs its plain (upsampling) filter, the same whatever the ratio when
/// it is created.
fn design_in_rate(settings: Settings) -> i64 {
    settings.denominator() - 1
}

/// How far (in `1/denominator` frames) GstAudioResampler's interpolated table is read behind
/// its own phase. With cubic interpolation it is one row of the oversampled table: the four
/// rows it weights sit one row off the phase's two, shifting every output by `−1/oversample`
/// frames (`audioresample` shows the same at its default settings). Measured by fitting the
/// phase of a 100 Hz sine over qualities 1, 4, 8 and 10 (exactly one row each time), and
/// checked by the tests; linear interpolation reads at the phase.
fn read_lag_units(settings: Settings, denominator: i64) -> i64 {
    match settings.interpolation {
        TableInterpolation::Cubic => denominator / settings.oversample(),
        TableInterpolation::Linear => 0,
    }
}

/// A new GstAudioResampler at [`design_in_rate`].
fn create(channels: usize, settings: Settings) -> std::ptr::NonNull<ffi::GstAudioResampler> {
    let options = options(settings);
    // SAFETY: the options are a valid structure that the call copies; the rates and the
    // channel count are positive.
    let raw = unsafe {
        ffi::gst_audio_resampler_new(
            ffi::GST_AUDIO_RESAMPLER_METHOD_KAISER,
            ffi::GST_AUDIO_RESAMPLER_FLAG_VARIABLE_RATE,
            gst_audio::AUDIO_FORMAT_F32.into_glib(),
            i32::try_from(channels).expect("channel count fits a gint"),
            design_in_rate(settings) as i32,
            settings.denominator() as i32,
            options.as_mut_ptr(),
        )
    };
    std::ptr::NonNull::new(raw).expect("gst_audio_resampler_new() with valid arguments")
}

/// GstAudioResampler's options for `settings`: Kaiser filter of that quality, interpolated
/// table (the only one that stays small at output rates this large), exact phase.
fn options(settings: Settings) -> gst::Structure {
    let mut options = gst::Structure::new_empty("GstAudioResampler.options");
    // SAFETY: `options` is a valid, writable structure.
    unsafe {
        ffi::gst_audio_resampler_options_set_quality(
            ffi::GST_AUDIO_RESAMPLER_METHOD_KAISER,
            settings.quality,
            design_in_rate(settings) as i32,
            settings.denominator() as i32,
            options.as_mut_ptr(),
        );
    }
    options.set_value(
        option_name(ffi::GST_AUDIO_RESAMPLER_OPT_FILTER_MODE),
        enum_value(
            // SAFETY: a plain GType getter.
            unsafe { ffi::gst_audio_resampler_filter_mode_get_type() },
            ffi::GST_AUDIO_RESAMPLER_FILTER_MODE_INTERPOLATED,
        ),
    );
    options.set_value(
        option_name(ffi::GST_AUDIO_RESAMPLER_OPT_FILTER_INTERPOLATION),
        enum_value(
            // SAFETY: a plain GType getter.
            unsafe { ffi::gst_audio_resampler_filter_interpolation_get_type() },
            match settings.interpolation {
                TableInterpolation::Linear => ffi::GST_AUDIO_RESAMPLER_FILTER_INTERPOLATION_LINEAR,
                TableInterpolation::Cubic => ffi::GST_AUDIO_RESAMPLER_FILTER_INTERPOLATION_CUBIC,
            },
        ),
    );
    options.set(
        option_name(ffi::GST_AUDIO_RESAMPLER_OPT_MAX_PHASE_ERROR),
        0.0f64,
    );
    if let Some(filter) = settings.filter {
        options.set(
            option_name(ffi::GST_AUDIO_RESAMPLER_OPT_STOP_ATTENUATION),
            filter.stop_attenuation,
        );
        options.set(
            option_name(ffi::GST_AUDIO_RESAMPLER_OPT_TRANSITION_BANDWIDTH),
            filter.transition_bandwidth,
        );
    }
    options
}

/// An option name from the sys crate's NUL-terminated constant.
fn option_name(name: &'static [u8]) -> &'static str {
    std::ffi::CStr::from_bytes_with_nul(name)
        .ok()
        .and_then(|name| name.to_str().ok())
        .expect("the sys crate's option names are NUL-terminated UTF-8")
}

/// A GValue of the enum type `gtype` holding `value`: GstAudioResampler reads its enum options
/// with `gst_structure_get_enum()`, which checks the type.
fn enum_value(gtype: glib::ffi::GType, value: i32) -> glib::SendValue {
    // SAFETY: `gtype` is a registered enum type, so the value can be initialized to it and
    // set with g_value_set_enum(); an enum value holds no pointer and may cross threads.
    unsafe {
        let mut v = glib::Value::from_type(glib::Type::from_glib(gtype));
        glib::gobject_ffi::g_value_set_enum(v.to_glib_none_mut().0, value);
        v.into_send_value()
    }
}

#[cfg(test)]
#[path = "resampler_tests.rs"]
mod tests;
