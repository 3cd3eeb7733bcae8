//! The multipart path a request body takes (`body::read_multipart_blocking`: the same parser and
//! rules the connection layer streams through): whatever the bytes, it returns a form or an
//! error — no panic, no file left behind, no file over its limit, no text over the form limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porchlight::body::{Limits, read_multipart_blocking};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the boundary's length, so boundaries of every shape are tried.
    let (boundary, body) = match data.split_first() {
        Some((n, rest)) => {
            let n = (*n as usize % 12) + 1;
            let n = n.min(rest.len());
            (String::from_utf8_lossy(&rest[..n]).to_string(), rest[n..].to_vec())
        }
        None => return,
    };
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        form: 4096,
        upload: 64 * 1024,
        file: 16 * 1024,
    };
    if let Ok(form) = read_multipart_blocking(body, &boundary, &limits, dir.path()) {
        let text: usize = form.fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(text <= limits.form, "text beyond the form limit");
        for upload in &form.uploads {
            let kept = std::fs::metadata(upload.path()).map(|m| m.len()).unwrap_or(0);
            assert!(kept <= limits.file as u64, "a file kept beyond its limit");
            if upload.too_large {
                assert_eq!(kept, 0, "a refused file was kept");
            }
        }
        drop(form);
    }
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, 0, "temporary files outlived the request");
});
