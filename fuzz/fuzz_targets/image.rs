//! Stripping metadata from uploaded images (`files::strip_metadata`) runs on untrusted bytes:
//! whatever they are, it never panics, and what it returns is an image of the same kind with no
//! metadata left where a reader looks for it (for a JPEG: no APP1/APP3–APP13/COM segment before
//! its first scan, nothing after its end; for a PNG: no text or eXIf chunk). Stripping that
//! result again must not panic either (malformed inputs need not come out byte-identical).
#![no_main]

use libfuzzer_sys::fuzz_target;
use porchlight::files::{image_kind, strip_metadata};

/// A stripped JPEG's segments up to its first scan: none that may carry metadata.
fn jpeg_clean(b: &[u8]) -> bool {
    let mut i = 2;
    while i + 3 < b.len() {
        if b[i] != 0xff {
            return true;
        }
        let m = b[i + 1];
        if m == 0xda || m == 0xd9 {
            return true;
        }
        if m == 0x01 || (0xd0..=0xd7).contains(&m) {
            i += 2;
            continue;
        }
        if m == 0xe1 || (0xe3..=0xed).contains(&m) || m == 0xfe {
            return false;
        }
        i += 2 + u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
    }
    true
}

fn png_clean(b: &[u8]) -> bool {
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        if matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            return false;
        }
        i += 12 + len;
    }
    true
}

fuzz_target!(|data: &[u8]| {
    // Steer most inputs to one of the signatures, so the parsers behind them get the time.
    let mut input = match data.first().map(|b| b % 5) {
        Some(0) => vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
        Some(1) => vec![0xff, 0xd8],
        Some(2) => b"RIFF\0\0\0\0WEBP".to_vec(),
        Some(3) => b"GIF89a".to_vec(),
        _ => Vec::new(),
    };
    input.extend_from_slice(data.get(1..).unwrap_or_default());
    if let Some(clean) = strip_metadata(&input) {
        assert_eq!(image_kind(&clean).map(|k| k.0), image_kind(&input).map(|k| k.0));
        match image_kind(&clean).map(|k| k.0) {
            Some("jpg") => {
                assert!(jpeg_clean(&clean), "metadata left in a JPEG");
                assert!(clean.ends_with(&[0xff, 0xd9]), "bytes after a JPEG's end");
            }
            Some("png") => assert!(png_clean(&clean), "metadata left in a PNG"),
            _ => {}
        }
        let _ = strip_metadata(&clean);
    }
});
