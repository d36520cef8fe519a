//! Product photos: what a producer uploads is decoded and encoded again on the server, so no
//! metadata of the upload (EXIF, GPS position, comments, colour profiles) survives; it is
//! resized to fit [`MAX_SIDE`] pixels. Only PNG and JPEG are read; pictures larger than
//! [`MAX_PIXELS`] are refused before they are decoded.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Rgb, RgbImage};

/// The longest side of a stored photo.
pub const MAX_SIDE: u32 = 800;
/// The largest upload decoded (width × height), against decompression bombs.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The JPEG quality of stored photos.
const QUALITY: u8 = 82;

/// The uploaded bytes (PNG or JPEG) as a clean JPEG, or `None` when they are no picture this
/// accepts.
pub fn normalise(bytes: &[u8]) -> Option<Vec<u8>> {
    let format = image::guess_format(bytes).ok()?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return None;
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let (w, h) = reader.into_dimensions().ok()?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w == 0 || h == 0 {
        return None;
    }
    let img = ImageReader::with_format(Cursor::new(bytes), format)
        .decode()
        .ok()?;
    let img = if w > MAX_SIDE || h > MAX_SIDE {
        img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    encode(&DynamicImage::ImageRgb8(img.to_rgb8()))
}

fn encode(img: &DynamicImage) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
    img.write_with_encoder(enc).ok()?;
    Some(out)
}

/// A simple picture drawn here for the demo data: a background of the category's colour with
/// a pattern and a shape that vary with `seed` (no picture is downloaded).
pub fn draw_demo(seed: u64, category: &str) -> Option<Vec<u8>> {
    let (w, h) = (480u32, 360u32);
    let base: [u8; 3] = match category {
        "food" => [232, 176, 92],
        "clothing" => [120, 150, 210],
        "masks_gowns" => [150, 205, 200],
        "handicraft" => [196, 120, 90],
        "beauty" => [226, 160, 190],
        "home" => [170, 190, 130],
        _ => [190, 190, 190],
    };
    let mut rng = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = || {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) as u32
    };
    let stripe = 12 + next() % 30;
    let (cx, cy) = (120 + next() % 240, 100 + next() % 160);
    let radius = 50 + next() % 70;
    let accent = [
        (next() % 200) as u8 + 30,
        (next() % 200) as u8 + 30,
        (next() % 200) as u8 + 30,
    ];
    let square = next() % 2 == 0;
    let img = RgbImage::from_fn(w, h, |x, y| {
        let dx = x as i64 - i64::from(cx);
        let dy = y as i64 - i64::from(cy);
        let r = i64::from(radius);
        let inside = if square {
            dx.abs() < r && dy.abs() < r
        } else {
            dx * dx + dy * dy < r * r
        };
        if inside {
            Rgb(accent)
        } else if ((x + y) / stripe) % 2 == 0 {
            Rgb(base)
        } else {
            Rgb([
                base[0].saturating_sub(25),
                base[1].saturating_sub(25),
                base[2].saturating_sub(25),
            ])
        }
    });
    encode(&DynamicImage::ImageRgb8(img))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_picture_is_a_jpeg_and_is_read_back_without_metadata() {
        let jpeg = draw_demo(7, "food").unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        // A JPEG with an EXIF segment carrying a "GPS" marker: the stored copy has none.
        let mut tagged = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10];
        tagged.extend_from_slice(b"Exif\0\0GPSGPSGP");
        tagged.extend_from_slice(&jpeg[2..]);
        let clean = normalise(&tagged).unwrap();
        assert!(!clean.windows(4).any(|w| w == b"Exif"));
        assert!(!clean.windows(3).any(|w| w == b"GPS"));
    }

    #[test]
    fn large_pictures_are_resized_and_non_pictures_refused() {
        let big = RgbImage::from_pixel(1600, 400, Rgb([10, 20, 30]));
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(big)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let out = normalise(&png).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (800, 200));
        assert!(normalise(b"GIF89a....").is_none());
        assert!(normalise(b"not a picture").is_none());
    }

    /// CRC-32 of PNG chunks (for a hand-made header below).
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        // A small PNG whose header declares 100,000 × 100,000 pixels (10^10: 30 GB decoded).
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, Rgb([1, 2, 3])))
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        assert_eq!(&png[12..16], b"IHDR");
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let started = std::time::Instant::now();
        assert!(normalise(&png).is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Just past the limit of pixels is refused too; the picture's bytes are not a picture.
        png[16..20].copy_from_slice(&8_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&5_001u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(normalise(&png).is_none());
        assert!(normalise(&png[..40]).is_none());
    }
}
