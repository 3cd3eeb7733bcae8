//! Attachments (issue #16): files on replies and notes, stored by content, served only to who
//! may see their message, never rendered when they are not a plain raster image.

use crate::util::TestApp;

/// A tiny valid PNG (1×1 pixel), with an EXIF-like text chunk that must not survive.
fn png() -> Vec<u8> {
    let mut p = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    p.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    p.extend(chunk(b"tEXt", b"GPS 48.85N 2.35E"));
    p.extend(chunk(b"IDAT", &[1, 2, 3]));
    p.extend(chunk(b"IEND", &[]));
    p
}

fn with_ticket() -> (TestApp, String) {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let reference = t.create_ticket("ACME", "Broken checkout", "It fails.");
    (t, reference)
}

/// The first href on the page containing `needle`.
fn href_with(body: &str, needle: &str) -> String {
    let at = body
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle} in:\n{body}"));
    let start = body[..at].rfind("href=\"").unwrap() + 6;
    body[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[test]
fn staff_attach_to_replies_and_notes_and_files_are_served_safely() {
    let (mut t, reference) = with_ticket();
    let html = b"<html><script>alert(1)</script></html>";
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let r = t.post_multipart(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "Here are the files.")],
        &[
            ("reply_files", "shot.png", &png()),
            ("reply_files", "page.jpg", html),
            ("reply_files", "x.svg", svg),
        ],
        true,
    );
    r.assert_status(303);
    let page = t.get(&format!("/tickets/{reference}"));
    page.assert_contains("shot.png")
        .assert_contains("page.jpg")
        .assert_contains("x.svg");
    // The PNG: inline, its text chunk gone.
    let png_url = href_with(&page.body, ">shot.png<");
    let r = t.get(&png_url);
    r.assert_status(200);
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    assert!(
        r.header("Content-Disposition")
            .unwrap()
            .starts_with("inline;")
    );
    assert_eq!(r.header("Content-Security-Policy"), Some("sandbox"));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert!(!r.bytes.windows(3).any(|w| w == b"GPS"), "metadata kept");
    // A .jpg that is really HTML, and SVG: downloads, typed by their bytes.
    for name in ["page.jpg", "x.svg"] {
        let r = t.get(&href_with(&page.body, &format!(">{name}<")));
        r.assert_status(200);
        assert_eq!(
            r.header("Content-Type"),
            Some("application/octet-stream"),
            "{name}"
        );
        assert!(
            r.header("Content-Disposition")
                .unwrap()
                .starts_with("attachment;"),
            "{name}"
        );
    }
    // ETag and Range.
    let svg_url = href_with(&page.body, ">x.svg<");
    let etag = t.get(&svg_url).header("ETag").unwrap().to_string();
    let again = t.request(
        "GET",
        &svg_url,
        vec![("If-None-Match".into(), etag)],
        Vec::new(),
    );
    assert_eq!(again.status, 304);
    let part = t.request(
        "GET",
        &svg_url,
        vec![("Range".into(), "bytes=0-3".into())],
        Vec::new(),
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, b"<svg");
    assert_eq!(
        part.header("Content-Range"),
        Some(format!("bytes 0-3/{}", svg.len()).as_str())
    );
    let bad = t.request(
        "GET",
        &svg_url,
        vec![("Range".into(), "bytes=9999-".into())],
        Vec::new(),
    );
    assert_eq!(bad.status, 416);
}

#[test]
fn bad_files_are_refused_beside_the_field_and_the_text_kept() {
    let (mut t, reference) = with_ticket();
    let url = format!("/tickets/{reference}/note");
    // One byte over the per-file limit (10 MiB by default).
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    t.post_multipart(
        &url,
        &[("note", "Keep this note")],
        &[("note_files", "big.bin", &big)],
        true,
    )
    .assert_status(422)
    .assert_contains("big.bin is larger than 10 MB")
    .assert_contains("Keep this note");
    t.post_multipart(
        &url,
        &[("note", "Keep this note")],
        &[("note_files", "empty.txt", b"")],
        true,
    )
    .assert_status(422)
    .assert_contains("empty.txt is empty");
    let many: Vec<(&str, &str, &[u8])> = (0..11)
        .map(|_| ("note_files", "a.txt", &b"a"[..]))
        .collect();
    t.post_multipart(&url, &[("note", "Keep this note")], &many, true)
        .assert_status(422)
        .assert_contains("At most 10 files");
    // A raw line break in a part header is a broken body: refused, nothing kept.
    t.post_multipart(
        &url,
        &[("note", "x")],
        &[("note_files", "a\r\nb.txt", b"hello")],
        true,
    )
    .assert_status(400);
    // Names as browsers send them: no paths, no direction tricks survive.
    t.post_multipart(
        &url,
        &[("note", "names")],
        &[(
            "note_files",
            "../../etc/pass\u{202e}wd%22x%22.txt",
            b"hello",
        )],
        true,
    )
    .assert_status(303);
    let page = t.get(&format!("/tickets/{reference}"));
    page.assert_contains(">passwd%22x%22.txt<")
        .assert_lacks("\u{202e}")
        .assert_lacks("../");
    // Nothing half-written: the refused notes left no comment behind.
    page.assert_lacks("Keep this note");
}

#[test]
fn a_removed_file_is_gone_and_on_the_timeline() {
    let (mut t, reference) = with_ticket();
    t.post_multipart(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "File")],
        &[("reply_files", "report.pdf", b"%PDF-1.4 fake")],
        true,
    )
    .assert_status(303);
    let page = t.get(&format!("/tickets/{reference}"));
    let url = href_with(&page.body, ">report.pdf<");
    let remove = href_with(&page.body, "Remove<span");
    t.get(&remove)
        .assert_status(200)
        .assert_contains("Yes, remove it");
    t.post(&remove, &[]).assert_status(303);
    t.get(&url).assert_status(404);
    t.get(&format!("/tickets/{reference}"))
        .assert_contains("removed the file <strong>report.pdf</strong>");
    let files: Vec<_> = std::fs::read_dir(t.data_dir().join("files"))
        .unwrap()
        .collect();
    assert!(
        files.is_empty(),
        "the stored file is still there: {files:?}"
    );
}
