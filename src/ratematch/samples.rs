//! The sample formats `ratematch` takes, to and from the resampler's f32.

use gst_audio::AudioFormat;

/// Formats in the pad templates.
pub const FORMATS: [AudioFormat; 3] = [AudioFormat::F32le, AudioFormat::S32le, AudioFormat::S16le];

/// `bytes` of `format` as f32 in [−1, 1]; `None` for a format not in [`FORMATS`].
pub fn to_f32(format: AudioFormat, bytes: &[u8]) -> Option<Vec<f32>> {
    Some(match format {
        AudioFormat::F32le => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        AudioFormat::S32le => bytes
            .chunks_exact(4)
            .map(|b| (i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64 / 2_147_483_648.0) as f32)
            .collect(),
        AudioFormat::S16le => bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32_768.0)
            .collect(),
        _ => return None,
    })
}

/// `samples` in `format`, rounded and clipped for the integer formats.
pub fn from_f32(format: AudioFormat, samples: &[f32]) -> Option<Vec<u8>> {
    Some(match format {
        AudioFormat::F32le => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
        AudioFormat::S32le => samples
            .iter()
            .flat_map(|s| {
                let scaled = (*s as f64 * 2_147_483_648.0).round();
                (scaled.clamp(i32::MIN as f64, i32::MAX as f64) as i32).to_le_bytes()
            })
            .collect(),
        AudioFormat::S16le => samples
            .iter()
            .flat_map(|s| {
                let scaled = (s * 32_768.0).round();
                (scaled.clamp(i16::MIN as f32, i16::MAX as f32) as i16).to_le_bytes()
            })
            .collect(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_and_clips() {
        gst::init().unwrap();
        let samples = [0.0f32, 0.5, -0.25, -1.0];
        for format in FORMATS {
            let bytes = from_f32(format, &samples).unwrap();
            assert_eq!(to_f32(format, &bytes).unwrap(), samples, "{format:?}");
        }
        let clipped = from_f32(AudioFormat::S16le, &[1.5, -1.5]).unwrap();
        assert_eq!(
            to_f32(AudioFormat::S16le, &clipped).unwrap(),
            [32_767.0 / 32_768.0, -1.0]
        );
        assert_eq!(to_f32(AudioFormat::U8, &[0]), None);
    }
}
