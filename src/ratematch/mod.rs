pub(crate) mod resampler;
