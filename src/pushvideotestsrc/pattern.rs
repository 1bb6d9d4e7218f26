//! The picture of `pushvideotestsrc`: colour bars that move 2 pixels a frame, and in the top
//! left corner a grid that encodes the frame number, so that a test (or a person looking at a
//! recording) can tell which frame a buffer is.
//!
//! The frame code is 8 × 8 square cells of `cell` pixels, read row by row: cells 0–31 hold the
//! low 32 bits of the frame number, most significant first, and cells 32–63 the same bits
//! inverted, as a check. A set bit is white, a clear one black; the chroma of the code is
//! neutral. `cell` is `min(width, height) / 8` rounded down to an even number and kept within
//! 2..=16, so cells never share a chroma sample with their neighbours (4:2:0, 4:2:2).
//!
//! Speed: everything that does not depend on the frame number is computed once per caps. Each
//! row of a band of bars is prepared once, wider than the frame by one period of the bars, so
//! that a frame is painted by copying each row from that template at the frame's shift — memcpy
//! speed, no per-pixel work — and the code cells by copying one of two prepared runs.

use gst::glib;
use gst_video::VideoFormat;
use gst_video::prelude::*;

/// The formats the painter supports: every 8-bit format GStreamer describes with plain planes
/// and pixel strides.
pub const FORMATS: [VideoFormat; 18] = [
    VideoFormat::I420,
    VideoFormat::Yv12,
    VideoFormat::Y42b,
    VideoFormat::Y444,
    VideoFormat::Nv12,
    VideoFormat::Nv21,
    VideoFormat::Ayuv,
    VideoFormat::Rgba,
    VideoFormat::Bgra,
    VideoFormat::Argb,
    VideoFormat::Abgr,
    VideoFormat::Rgbx,
    VideoFormat::Bgrx,
    VideoFormat::Xrgb,
    VideoFormat::Xbgr,
    VideoFormat::Rgb,
    VideoFormat::Bgr,
    VideoFormat::Gray8,
];

/// Cells in each row and column of the frame code.
pub const CODE_CELLS: u32 = 8;
/// Pixels the bars move each frame (even, so that subsampled chroma moves by whole samples).
const SPEED: u64 = 2;
const BAR_WIDTH: u32 = 8;
/// The bars repeat every `PERIOD` pixels: 8 colours of 8 pixels.
const PERIOD: u32 = BAR_WIDTH * PALETTE.len() as u32;
/// Horizontal bands, each with the bars in another order.
const BANDS: u32 = 4;

/// 75 % colour bars, in RGB.
const PALETTE: [[u8; 3]; 8] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
    [0, 0, 0],
];
const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];

/// The side of a code cell, in pixels, for a frame of `width` × `height`.
pub fn code_cell_size(width: u32, height: u32) -> u32 {
    (width.min(height) / CODE_CELLS).clamp(2, 16) & !1
}

/// The frame code of frame `frame`: one bit per cell, row by row.
pub fn code_bits(frame: u64) -> [bool; 64] {
    let number = frame as u32;
    std::array::from_fn(|cell| {
        let bit = number >> (31 - cell % 32) & 1 == 1;
        if cell < 32 { bit } else { !bit }
    })
}

/// The values of a colour's components in GStreamer's component order of `finfo`
/// (Y, U, V, A for YUV; R, G, B, A for RGB; Y for grey). BT.601, limited range for YUV.
fn components(finfo: &gst_video::VideoFormatInfo, [r, g, b]: [u8; 3]) -> [u8; 4] {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
    if finfo.is_yuv() {
        let u = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
        let v = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
        [y, u, v, 255]
    } else if finfo.is_rgb() {
        [r as u8, g as u8, b as u8, 255]
    } else {
        [y, 255, 255, 255]
    }
}

/// One plane's share of the picture, prepared once per caps.
#[derive(Debug)]
struct Plane {
    index: u32,
    pixel_stride: usize,
    w_sub: u32,
    h_sub: u32,
    /// Bytes of one row of the frame in this plane.
    row_bytes: usize,
    rows: usize,
    /// Per band, one row of bars one period wider than the frame.
    band_templates: Vec<Vec<u8>>,
    /// Band of each row of this plane.
    row_bands: Vec<u8>,
    /// One code cell's share of a row, white and black.
    white_run: Vec<u8>,
    black_run: Vec<u8>,
    /// Rows of this plane the code covers.
    code_rows: usize,
}

impl Plane {
    /// Writes the `(byte offset, value)` parts of one colour at pixel `x` of a row of this plane.
    fn put(row: &mut [u8], x: usize, pixel_stride: usize, parts: &[(usize, u8)]) {
        for &(offset, value) in parts {
            row[x * pixel_stride + offset] = value;
        }
    }
}

/// Paints frames of one negotiated format and size.
#[derive(Debug)]
pub struct Painter {
    planes: Vec<Plane>,
    cell: u32,
}

impl Painter {
    /// A painter for `info`, or why the format is not supported.
    pub fn new(info: &gst_video::VideoInfo) -> Result<Self, String> {
        let finfo = info.format_info();
        if !FORMATS.contains(&info.format()) || finfo.depth().iter().any(|&d| d != 8) {
            return Err(format!("unsupported format {:?}", info.format()));
        }
        let (width, height) = (info.width(), info.height());
        let cell = code_cell_size(width, height);
        let n_components = finfo.n_components() as usize;
        let planes = (0..finfo.n_planes())
            .map(|index| {
                let comps: Vec<usize> = (0..n_components)
                    .filter(|&c| finfo.plane()[c] == index)
                    .collect();
                let first = comps[0];
                let pixel_stride = finfo.pixel_stride()[first] as usize;
                let (w_sub, h_sub) = (finfo.w_sub()[first], finfo.h_sub()[first]);
                let plane_width = finfo.scale_width(first as u8, width) as usize;
                let rows = finfo.scale_height(first as u8, height) as usize;
                let parts_of = |rgb: [u8; 3]| -> Vec<(usize, u8)> {
                    let values = components(&finfo, rgb);
                    comps
                        .iter()
                        .map(|&c| (finfo.poffset()[c] as usize, values[c]))
                        .collect()
                };
                let template_width = plane_width + (PERIOD >> w_sub) as usize;
                let band_templates = (0..BANDS)
                    .map(|band| {
                        // Padding bytes (the x of RGBx) stay 0xff.
                        let mut row = vec![0xff; template_width * pixel_stride];
                        for x in 0..template_width {
                            let luma_x = (x as u32) << w_sub;
                            let bar = (luma_x / BAR_WIDTH + 2 * band) as usize % PALETTE.len();
                            Plane::put(&mut row, x, pixel_stride, &parts_of(PALETTE[bar]));
                        }
                        row
                    })
                    .collect();
                let row_bands = (0..rows)
                    .map(|r| (((r as u32) << h_sub).min(height - 1) * BANDS / height) as u8)
                    .collect();
                let run_width = (cell >> w_sub) as usize;
                let run = |rgb| {
                    let mut run = vec![0xff; run_width * pixel_stride];
                    let parts = parts_of(rgb);
                    for x in 0..run_width {
                        Plane::put(&mut run, x, pixel_stride, &parts);
                    }
                    run
                };
                Plane {
                    index,
                    pixel_stride,
                    w_sub,
                    h_sub,
                    row_bytes: plane_width * pixel_stride,
                    rows,
                    band_templates,
                    row_bands,
                    white_run: run(WHITE),
                    black_run: run(BLACK),
                    code_rows: ((CODE_CELLS * cell) >> h_sub) as usize,
                }
            })
            .collect();
        Ok(Self { planes, cell })
    }

    /// Paints frame number `frame` into `video_frame`.
    pub fn paint(
        &self,
        frame: u64,
        video_frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
    ) -> Result<(), glib::BoolError> {
        let shift = (frame * SPEED % PERIOD as u64) as usize;
        let bits = code_bits(frame);
        for plane in &self.planes {
            let stride = video_frame.plane_stride()[plane.index as usize] as usize;
            let data = video_frame.plane_data_mut(plane.index)?;
            let start = (shift >> plane.w_sub) * plane.pixel_stride;
            for (r, band) in plane.row_bands.iter().enumerate() {
                let template = &plane.band_templates[*band as usize];
                data[r * stride..r * stride + plane.row_bytes]
                    .copy_from_slice(&template[start..start + plane.row_bytes]);
            }
            let run_len = plane.white_run.len();
            for r in 0..plane.code_rows.min(plane.rows) {
                let cell_row = ((r as u32) << plane.h_sub) / self.cell;
                let row = &mut data[r * stride..];
                for column in 0..CODE_CELLS {
                    let run = if bits[(cell_row * CODE_CELLS + column) as usize] {
                        &plane.white_run
                    } else {
                        &plane.black_run
                    };
                    let at = column as usize * run_len;
                    row[at..at + run_len].copy_from_slice(run);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_cells_fit_and_stay_even() {
        assert_eq!(code_cell_size(16, 16), 2);
        assert_eq!(code_cell_size(18, 22), 2);
        assert_eq!(code_cell_size(50, 40), 4);
        assert_eq!(code_cell_size(1280, 720), 16);
        assert_eq!(code_cell_size(4096, 2160), 16);
    }

    #[test]
    fn code_carries_the_number_and_its_complement() {
        let bits = code_bits(0x8000_0001);
        assert!(bits[0] && bits[31] && !bits[1]);
        assert!(!bits[32] && !bits[63] && bits[33]);
    }
}
