//! Band-limited resampling at a ratio that may change with every call, for `ratematch`.
//!
//! The back end is GStreamer's own `GstAudioResampler` (libgstaudio) in its variable-rate mode:
//! a Kaiser-windowed sinc whose taps are interpolated between the phases of an oversampled
//! table, so every ratio costs the same and changes take effect on the next output frame. It
//! was chosen over the `rubato` crate by measurement (BENCHMARKS.md, "Resampler for ratematch
//! (issue 12)"): at equal quality it costs less, and its integer phase makes the read position
//! exact.
//!
//! `GstAudioResampler` takes the ratio as two integer rates. The output rate is always
//! [`RATE_DENOMINATOR`] and the input rate `ratio·RATE_DENOMINATOR` rounded, so the ratio's
//! resolution is 2⁻²⁴ (0.06 ppm) and the resampler's phase is a whole multiple of
//! `1/RATE_DENOMINATOR` frames: [`Resampler::read_position`] is kept here in the same integer
//! units and is exact, not an estimate. Two details of libgstaudio make that true and are
//! relied on:
//! - the output rate never changes, so `gst_audio_resampler_update()` rescales the phase by a
//!   whole factor (it reduces the rates by their greatest common divisor, and the reduced
//!   denominator divides `RATE_DENOMINATOR`);
//! - the option `max-phase-error` 0 makes that reduction exact instead of rounding the phase.

use gst::glib;
use gst::glib::translate::{FromGlib, IntoGlib, ToGlibPtrMut};
use gst_audio::ffi;

/// The output rate handed to `GstAudioResampler`; the ratio's resolution is its inverse.
/// `GstAudioResampler` computes `phase × oversample` in a `gint`: 2²⁴ × 32 (the largest
/// oversampling, quality 9 and 10) stays below 2³¹.
const RATE_DENOMINATOR: i64 = 1 << 24;

/// The smallest ratio `process` accepts (input frames per output frame); smaller is clamped.
pub const MIN_RATIO: f64 = 0.9;
/// The largest ratio `process` accepts; larger is clamped. The anti-alias filter is designed
/// once, for a ratio of 1: reading 10 % faster lets the top 10 % of the band alias, which a
/// rate matcher (drift is parts per million, at most a few parts per thousand) never needs.
pub const MAX_RATIO: f64 = 1.1;

/// `GstAudioResampler`'s Kaiser quality (0–10, `audioresample`'s `quality` property): the
/// cheapest that keeps the SNR of a 1 kHz sine resampled at 1.001 at or above 90 dB with
/// cubic interpolation of the filter (BENCHMARKS.md).
pub const QUALITY: u32 = 4;

/// Band-limited resampling of interleaved f32 frames at a ratio that may change with every
/// call.
pub struct Resampler {
    raw: std::ptr::NonNull<ffi::GstAudioResampler>,
    channels: usize,
    quality: u32,
    /// The input rate last handed to `GstAudioResampler` (the output rate is
    /// `RATE_DENOMINATOR`): the position advances by this many units per output frame.
    in_rate: i64,
    /// Whole frames of the read position.
    position_frames: u64,
    /// The read position's fraction, in units of `1/RATE_DENOMINATOR` frames.
    position_units: i64,
}

// SAFETY: a GstAudioResampler has no thread affinity; `&mut self` on every call that touches
// it means one thread at a time.
unsafe impl Send for Resampler {}

impl Resampler {
    /// A resampler for interleaved frames of `channels` samples (at least 1; 0 is taken as 1).
    pub fn new(channels: usize) -> Self {
        Self::with_quality(channels, QUALITY)
    }

    /// As [`Resampler::new`] with another Kaiser quality (0–10; larger is taken as 10), for
    /// the measurements that chose [`QUALITY`].
    pub fn with_quality(channels: usize, quality: u32) -> Self {
        let channels = channels.max(1);
        let quality = quality.min(ffi::GST_AUDIO_RESAMPLER_QUALITY_MAX as u32);
        Self {
            raw: create(channels, quality),
            channels,
            quality,
            in_rate: FILTER_DESIGN_IN_RATE,
            position_frames: 0,
            position_units: 0,
        }
    }

    /// Appends to `output` the frames interpolated at input positions p, p+ratio,
    /// p+2·ratio, … as far as the input fed so far allows (`ratio` = input frames per output
    /// frame, 1.001 consumes 0.1 % more input than it outputs; clamped to
    /// [`MIN_RATIO`]…[`MAX_RATIO`], a NaN is taken as 1, and it is quantized to 2⁻²⁴).
    /// `input` holds whole interleaved frames; a trailing partial frame is ignored.
    pub fn process(&mut self, input: &[f32], ratio: f64, output: &mut Vec<f32>) {
        self.set_ratio(ratio);
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
    /// fractional) the next output frame will be interpolated at.
    /// Slightly negative at the start (see [`read_lag_units`]).
    pub fn read_position(&self) -> f64 {
        let units = self.position_units - read_lag_units(self.quality);
        self.position_frames as f64 + units as f64 / RATE_DENOMINATOR as f64
    }

    /// Input frames the resampler must see beyond a position before it can output it (its
    /// delay): the half of the filter after the position, the frame at it, and one for the
    /// fraction of a frame the table's interpolation reads behind (see [`read_lag_units`]).
    /// Once `read_position() + delay_frames()` frames are fed, that position is output.
    pub fn delay_frames(&self) -> usize {
        // SAFETY: `raw` is a live resampler.
        unsafe { ffi::gst_audio_resampler_get_max_latency(self.raw.as_ptr()) + 2 }
    }

    /// Forgets all input and starts again at the start position (the ratio is kept).
    pub fn reset(&mut self) {
        // gst_audio_resampler_reset() keeps the phase between input frames: a new resampler
        // is the only way back to phase 0.
        let fresh = create(self.channels, self.quality);
        // SAFETY: `raw` came from gst_audio_resampler_new() and is freed once; it is replaced
        // at once.
        unsafe { ffi::gst_audio_resampler_free(self.raw.as_ptr()) };
        self.raw = fresh;
        let in_rate = std::mem::replace(&mut self.in_rate, FILTER_DESIGN_IN_RATE);
        self.update_in_rate(in_rate);
        self.position_frames = 0;
        self.position_units = 0;
    }

    fn set_ratio(&mut self, ratio: f64) {
        self.update_in_rate(ratio_to_in_rate(ratio));
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
                RATE_DENOMINATOR as i32,
                std::ptr::null_mut(),
            )
        };
        debug_assert!(updated != glib::ffi::GFALSE);
        self.in_rate = in_rate;
    }

    fn advance(&mut self, out_frames: u64) {
        let units = self.position_units as u128 + out_frames as u128 * self.in_rate as u128;
        self.position_frames += (units / RATE_DENOMINATOR as u128) as u64;
        self.position_units = (units % RATE_DENOMINATOR as u128) as i64;
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
const FILTER_DESIGN_IN_RATE: i64 = RATE_DENOMINATOR - 1;

/// GstAudioResampler's oversampling of its filter table per quality (its
/// `oversample_qualities`; with the rates this close to each other it keeps them as they are).
const OVERSAMPLE_BY_QUALITY: [i64; 11] = [4, 4, 4, 8, 8, 16, 16, 16, 16, 32, 32];

/// How far (in `1/RATE_DENOMINATOR` frames) GstAudioResampler's interpolated filter reads
/// behind its own phase: one row of its oversampled table. Its cubic interpolation between
/// table rows weights rows `offset−1…offset+2` around the phase's rows `offset…offset+1`,
/// shifting every output by `−1/oversample` frames; measured here (a fit of a 100 Hz sine
/// over qualities 1, 4, 8 and 10 finds exactly that) and checked by the tests.
fn read_lag_units(quality: u32) -> i64 {
    RATE_DENOMINATOR / OVERSAMPLE_BY_QUALITY[quality as usize]
}

/// A new GstAudioResampler at [`FILTER_DESIGN_IN_RATE`].
fn create(channels: usize, quality: u32) -> std::ptr::NonNull<ffi::GstAudioResampler> {
    let options = options(quality, FILTER_DESIGN_IN_RATE);
    // SAFETY: the options are a valid structure that the call copies; the rates and the
    // channel count are positive.
    let raw = unsafe {
        ffi::gst_audio_resampler_new(
            ffi::GST_AUDIO_RESAMPLER_METHOD_KAISER,
            ffi::GST_AUDIO_RESAMPLER_FLAG_VARIABLE_RATE,
            gst_audio::AUDIO_FORMAT_F32.into_glib(),
            i32::try_from(channels).expect("channel count fits a gint"),
            FILTER_DESIGN_IN_RATE as i32,
            RATE_DENOMINATOR as i32,
            options.as_mut_ptr(),
        )
    };
    std::ptr::NonNull::new(raw).expect("gst_audio_resampler_new() with valid arguments")
}

/// The integer input rate that stands for `ratio` against [`RATE_DENOMINATOR`].
fn ratio_to_in_rate(ratio: f64) -> i64 {
    let ratio = if ratio.is_nan() {
        1.0
    } else {
        ratio.clamp(MIN_RATIO, MAX_RATIO)
    };
    let in_rate = (ratio * RATE_DENOMINATOR as f64).round() as i64;
    // Equal rates make GstAudioResampler copy the nearest sample instead of filtering, which
    // drops the phase: a ratio of exactly 1 runs 2⁻²⁴ fast instead.
    if in_rate == RATE_DENOMINATOR {
        in_rate + 1
    } else {
        in_rate
    }
}

/// GstAudioResampler's options for `quality`: interpolated filter table (the only one that
/// stays small at a 2²⁴ output rate), cubic interpolation of its taps, exact phase.
fn options(quality: u32, in_rate: i64) -> gst::Structure {
    let mut options = gst::Structure::new_empty("GstAudioResampler.options");
    // SAFETY: `options` is a valid, writable structure.
    unsafe {
        ffi::gst_audio_resampler_options_set_quality(
            ffi::GST_AUDIO_RESAMPLER_METHOD_KAISER,
            quality,
            in_rate as i32,
            RATE_DENOMINATOR as i32,
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
            ffi::GST_AUDIO_RESAMPLER_FILTER_INTERPOLATION_CUBIC,
        ),
    );
    options.set(
        option_name(ffi::GST_AUDIO_RESAMPLER_OPT_MAX_PHASE_ERROR),
        0.0f64,
    );
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
    // set with g_value_set_enum().
    unsafe {
        let mut v = glib::Value::from_type(glib::Type::from_glib(gtype));
        glib::gobject_ffi::g_value_set_enum(v.to_glib_none_mut().0, value);
        v.into_send_value()
    }
}

#[cfg(test)]
#[path = "resampler_tests.rs"]
mod tests;
