//! Stripping metadata from uploaded images (`files::strip_metadata`) runs on untrusted bytes:
//! whatever they are, it returns `None` or an image of the same kind, never panics, and what it
//! returns is stripped again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porchlight::files::{image_kind, strip_metadata};

fuzz_target!(|data: &[u8]| {
    // Steer most inputs to one of the three signatures, so the parsers behind them get the time.
    let mut input = match data.first().map(|b| b % 4) {
        Some(0) => vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
        Some(1) => vec![0xff, 0xd8],
        Some(2) => b"RIFF\0\0\0\0WEBP".to_vec(),
        _ => Vec::new(),
    };
    input.extend_from_slice(data.get(1..).unwrap_or_default());
    if let Some(clean) = strip_metadata(&input) {
        assert_eq!(image_kind(&clean).map(|k| k.0), image_kind(&input).map(|k| k.0));
        assert_eq!(strip_metadata(&clean).as_deref(), Some(&clean[..]), "not idempotent");
    }
});
