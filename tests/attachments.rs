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
        .assert_contains("At most 5 files");
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

/// The files of a portal ticket: the contact attaches a screenshot, staff answer with a PDF (and
/// a note with a file of its own); who may fetch what, by every kind of stranger.
#[test]
fn portal_and_receipt_files_reach_exactly_who_may_see_their_message() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let project = porchlight::store::projects::get_by_key(&t.db, "ACME")
        .unwrap()
        .unwrap()
        .id
        .0
        .to_string();
    let customer = |t: &mut TestApp, name: &str| -> String {
        let r = t.post(
            "/customers/new",
            &[("name", name), ("organization", ""), ("domains", "")],
        );
        r.location().trim_start_matches("/customers/").to_string()
    };
    let (acme, beta) = (customer(&mut t, "Acme"), customer(&mut t, "Beta"));
    let r = t.post(
        "/portals/new",
        &[
            ("name", "Support"),
            ("slug", "support"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("default_project", &project),
            ("customers", &acme),
            ("customers", &beta),
        ],
    );
    r.assert_status(303);
    let portal = r.location().trim_start_matches("/portals/").to_string();
    let staff = std::mem::take(&mut t.cookies);
    // Two contacts, accepted through their invitation links (mail goes to files here).
    let mut browsers = Vec::new();
    for (email, customer) in [("ana@acme.example", &acme), ("zed@beta.example", &beta)] {
        t.cookies = staff.clone();
        t.post(
            "/contacts/new",
            &[
                ("name", email),
                ("email", email),
                ("customer", customer),
                ("role", "member"),
                ("label", ""),
                ("invite", "1"),
                ("portal", &portal),
            ],
        )
        .assert_status(303);
        t.accept_invitation("support", &portal, email, email);
        browsers.push(std::mem::take(&mut t.cookies));
    }
    let (ana, zed) = (browsers[0].clone(), browsers[1].clone());
    t.cookies = ana.clone();
    let shot = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let r = t.post_multipart(
        "/portal/support/tickets/new",
        &[
            ("subject", "Screenshot attached"),
            ("priority", "normal"),
            ("description", "See the picture."),
        ],
        &[("files", "screen.gif", shot)],
        true,
    );
    r.assert_status(303);
    let reference = r.location().rsplit('/').next().unwrap().to_string();
    // Staff see the thumbnail, answer with a PDF, and add a note with a file of its own.
    t.cookies = staff.clone();
    let page = t.get(&format!("/tickets/{reference}"));
    page.assert_contains("class=\"thumb\"")
        .assert_contains("screen.gif");
    t.post_multipart(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "Here is the report.")],
        &[("reply_files", "report.pdf", b"%PDF-1.4 report")],
        true,
    )
    .assert_status(303);
    t.post_multipart(
        &format!("/tickets/{reference}/note"),
        &[("note", "Internal.")],
        &[("note_files", "secret.txt", b"INTERNAL-FILE-MARKER")],
        true,
    )
    .assert_status(303);
    let staff_page = t.get(&format!("/tickets/{reference}"));
    let internal_id = {
        let href = href_with(&staff_page.body, ">secret.txt<");
        href.split("/files/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string()
    };
    // The contact downloads the PDF; the note's file is not there for them.
    t.cookies = ana.clone();
    let page = t.get(&format!("/portal/support/tickets/{reference}"));
    page.assert_contains("report.pdf")
        .assert_contains("screen.gif")
        .assert_lacks("secret.txt");
    let pdf = href_with(&page.body, ">report.pdf<");
    let r = t.get(&pdf);
    r.assert_status(200);
    assert_eq!(r.bytes, b"%PDF-1.4 report");
    assert!(
        r.header("Content-Disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let internal = format!("/portal/support/tickets/{reference}/files/{internal_id}/secret.txt");
    let missing = t
        .get(&format!(
            "/portal/support/tickets/{reference}/files/99999/x"
        ))
        .body
        .clone();
    let r = t.get(&internal);
    r.assert_status(404);
    assert_eq!(r.body, missing);
    // Another customer's contact, and nobody at all: the same 404 for the file.
    t.cookies = zed;
    let r = t.get(&pdf);
    r.assert_status(404);
    assert_eq!(r.body, missing);
    t.cookies.clear();
    let r = t.get(&pdf);
    r.assert_status(404);
    assert_eq!(r.body, missing);
    let r = t.get(&format!(
        "/tickets/{reference}/files/{internal_id}/secret.txt"
    ));
    r.assert_status(404);
}

#[test]
fn a_share_visitor_gets_only_their_own_receipts_public_files() {
    let (mut t, _) = with_ticket();
    let link = t.turn_share_link_on("ACME");
    let staff = std::mem::take(&mut t.cookies);
    let mut receipts = Vec::new();
    for title in ["Visitor A", "Visitor B"] {
        t.cookies.clear();
        t.get(&link);
        let r = t.post(
            &link,
            &[
                ("title", title),
                ("description", "x"),
                ("name", ""),
                ("email", ""),
            ],
        );
        r.assert_status(303);
        receipts.push(r.location().to_string());
    }
    t.cookies = staff;
    let a = porchlight::store::tickets::list(&t.db, &Default::default(), Default::default(), 10)
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.subject == "Visitor A")
        .unwrap()
        .reference;
    t.post_multipart(
        &format!("/tickets/{a}/reply"),
        &[("reply", "Fixed, see log")],
        &[("reply_files", "log.txt", b"LOG")],
        true,
    )
    .assert_status(303);
    t.post_multipart(
        &format!("/tickets/{a}/note"),
        &[("note", "internal")],
        &[("note_files", "inside.txt", b"INSIDE")],
        true,
    )
    .assert_status(303);
    t.cookies.clear();
    let page = t.get(&receipts[0]);
    page.assert_contains("log.txt").assert_lacks("inside.txt");
    let file = href_with(&page.body, ">log.txt<");
    assert_eq!(t.get(&file).bytes, b"LOG");
    let id = file
        .split("/files/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let missing = t
        .get(&format!("{}/files/99999/x", receipts[1]))
        .body
        .clone();
    let other = t.get(&format!("{}/files/{id}/log.txt", receipts[1]));
    other.assert_status(404);
    assert_eq!(other.body, missing);
    let note_file = (id.parse::<i64>().unwrap() + 1).to_string();
    t.get(&format!("{}/files/{note_file}/inside.txt", receipts[0]))
        .assert_status(404);
}

#[test]
fn share_visitors_attach_screenshots_only_when_the_project_allows() {
    let (mut t, _) = with_ticket();
    let link = t.turn_share_link_on("ACME");
    let settings = |t: &mut TestApp, attach: bool| {
        let mut fields = vec![
            ("share_submissions", "on"),
            ("share_auto_publish", "now"),
            ("share_welcome", ""),
            ("share_response_time", ""),
        ];
        if attach {
            fields.push(("share_attachments", "on"));
        }
        t.post("/projects/ACME/share", &fields).assert_status(303);
    };
    let staff = std::mem::take(&mut t.cookies);
    // Off by default: no file input, and a file sent anyway is not kept.
    t.get(&link).assert_lacks("type=\"file\"");
    let r = t.post_multipart(
        &link,
        &[
            ("title", "No files"),
            ("description", "x"),
            ("name", ""),
            ("email", ""),
        ],
        &[("files", "shot.png", &png())],
        true,
    );
    r.assert_status(303);
    assert!(
        std::fs::read_dir(t.data_dir().join("files"))
            .unwrap()
            .next()
            .is_none()
    );
    t.cookies = staff.clone();
    settings(&mut t, true);
    t.cookies.clear();
    t.get(&link).assert_contains("type=\"file\"");
    // Images only: a PDF is refused beside the field, the text kept.
    t.post_multipart(
        &link,
        &[
            ("title", "Kept title"),
            ("description", "x"),
            ("name", ""),
            ("email", ""),
        ],
        &[("files", "doc.pdf", b"%PDF-1.4")],
        true,
    )
    .assert_status(422)
    .assert_contains("Only screenshots and photos")
    .assert_contains("Kept title");
    let r = t.post_multipart(
        &link,
        &[
            ("title", "With a screenshot"),
            ("description", "x"),
            ("name", ""),
            ("email", ""),
        ],
        &[("files", "shot.png", &png())],
        true,
    );
    r.assert_status(303);
    let receipt = t.get(r.location());
    receipt.assert_contains("shot.png");
    let file = href_with(&receipt.body, ">shot.png<");
    let got = t.get(&file);
    got.assert_status(200);
    assert_eq!(got.header("Content-Type"), Some("image/png"));
}

/// Review of #16: refused (throttled) submissions stored their files anyway, so an anonymous
/// visitor could fill the disk. Now nothing is stored for a refused message.
#[test]
fn throttled_messages_leave_no_files_behind() {
    let mut t = TestApp::with_config(|c| c.share.submissions_per_hour = 2);
    t.sign_in_as("admin@example.com", porchlight::domain::Role::Admin);
    t.create_project("ACME", "Acme");
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    t.post(
        "/projects/ACME/share",
        &[
            ("share_submissions", "on"),
            ("share_auto_publish", "now"),
            ("share_welcome", ""),
            ("share_response_time", ""),
            ("share_attachments", "on"),
        ],
    )
    .assert_status(303);
    let token = porchlight::store::projects::get_by_key(&t.db, "ACME")
        .unwrap()
        .unwrap()
        .share
        .token
        .unwrap();
    let link = format!("/s/{token}");
    t.cookies.clear();
    t.get(&link);
    let mut statuses = Vec::new();
    for n in 0..5u8 {
        // A different image each time (a different stored file): a private chunk before IEND.
        let image = {
            let mut p = png()[..png().len() - 12].to_vec();
            p.extend_from_slice(&[0, 0, 0, 1, b'p', b'r', b'V', b't', n, 0, 0, 0, 0]);
            p.extend_from_slice(&png()[png().len() - 12..]);
            p
        };
        let r = t.post_multipart(
            &link,
            &[
                ("title", "Spam"),
                ("description", "x"),
                ("name", ""),
                ("email", ""),
            ],
            &[("files", "s.png", &image)],
            true,
        );
        statuses.push(r.status);
    }
    assert_eq!(statuses, [303, 303, 429, 429, 429]);
    let stored = std::fs::read_dir(t.data_dir().join("files"))
        .unwrap()
        .count();
    assert_eq!(stored, 2, "files of refused messages were kept");
}
