//! Attachments on the web: taking files from a form (limits checked, names cleaned, images
//! stripped of their metadata, stored before the row that names them commits), listing them
//! under their message, and serving them to someone a handler has already found allowed.
//!
//! Serving is where the peers' worst bugs lived, so every file goes out the same way: as a
//! download (`Content-Disposition: attachment`, an RFC 6266 filename) unless its *bytes* make it
//! a PNG, JPEG, GIF or WebP; with `nosniff` (every response), `Content-Security-Policy: sandbox`
//! and a content type from the bytes, never from the name or the uploader. SVG and HTML are
//! always downloads. `ETag` (the SHA-256) and single `Range` requests are supported.

use minijinja::Value;
use rouille::Response;

use crate::error::Result;
use crate::files;
use crate::store::attachments::{Attachment, NewAttachment};
use crate::view;
use crate::web::Ctx;
use crate::web::forms::Errors;

/// Said beside the files field when another field was wrong: browsers drop chosen files.
pub const CHOOSE_AGAIN: &str =
    "Choose the files again: browsers don't keep chosen files when a form comes back.";

/// A file from the form that passed its checks, not stored yet.
pub struct Checked {
    // (`is_image` below.)
    upload: usize,
    name: String,
    size: u64,
    content_type: &'static str,
    inline_image: bool,
}

impl Checked {
    /// Whether it is a PNG, JPEG, GIF or WebP (by its bytes).
    pub fn is_image(&self) -> bool {
        self.inline_image
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Checks the files of a share-link visitor: images only (screenshots), else as [`check`].
pub fn check_images(
    ctx: &Ctx<'_>,
    field: &str,
    ticket_bytes: i64,
    errors: &mut Errors,
) -> Result<Vec<Checked>> {
    let checked = check(ctx, field, ticket_bytes, errors)?;
    let others: Vec<&str> = checked
        .iter()
        .filter(|c| !c.is_image())
        .map(|c| c.name())
        .collect();
    if !others.is_empty() {
        errors.add(
            field,
            format!(
                "Only screenshots and photos (PNG, JPEG, GIF or WebP) can be attached here, not {}. Nothing was attached; the rest of your message is kept.",
                others.join(", ")
            ),
        );
        return Ok(Vec::new());
    }
    Ok(checked)
}

/// A file name as shown and as sent back: the last path segment only, no control or
/// bidirectional-override characters, at most 150 characters; "file" when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let name: String = trimmed.chars().take(150).collect();
    if name.is_empty() { "file".into() } else { name }
}

fn mib(bytes: u64) -> String {
    format!("{} MB", bytes.div_ceil(1024 * 1024))
}

/// "12 KB", "3.4 MB".
pub fn size_text(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes < 1024.0 {
        format!("{bytes} bytes")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{:.0} KB", (bytes / 1024.0).ceil())
    } else {
        format!("{:.1} MB", bytes / 1024.0 / 1024.0)
    }
}

/// Checks the files sent in the form's `field`: how many, each one's size (refused already while
/// it streamed when over the limit), the ticket's total with `ticket_bytes` already attached, and
/// that an image is one. Problems go to `errors` under `field`; nothing is stored here.
pub fn check(
    ctx: &Ctx<'_>,
    field: &str,
    ticket_bytes: i64,
    errors: &mut Errors,
) -> Result<Vec<Checked>> {
    let limits = &ctx.app.config.attachments;
    let files: Vec<(usize, &crate::body::Upload)> = ctx
        .uploads
        .iter()
        .enumerate()
        .filter(|(_, u)| u.field == field && !(u.size == 0 && u.filename.is_empty()))
        .collect();
    if files.len() > limits.max_files as usize {
        errors.add(
            field,
            format!(
                "At most {} files a message; you chose {}.",
                limits.max_files,
                files.len()
            ),
        );
        return Ok(Vec::new());
    }
    let max = ctx.app.config.file_limit_bytes() as u64;
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut total = ticket_bytes.max(0) as u64;
    for (index, upload) in files {
        let name = clean_name(&upload.filename);
        if upload.too_large {
            problems.push(format!(
                "{name} is larger than {} (the limit for a file).",
                mib(max)
            ));
            continue;
        }
        if upload.size == 0 {
            problems.push(format!("{name} is empty."));
            continue;
        }
        let head = read_head(upload.path())?;
        let (content_type, inline_image) = files::kind_of(&head);
        // An image must come apart cleanly (its metadata is stripped when it is stored); its
        // bytes are not kept here — one file in memory at a time.
        let size = if inline_image {
            match strip(upload)? {
                Some(clean) => clean.len() as u64,
                None => {
                    problems.push(format!(
                        "{name} looks like an image but could not be read; save it again or attach it zipped."
                    ));
                    continue;
                }
            }
        } else {
            upload.size
        };
        total += size;
        checked.push(Checked {
            upload: index,
            name,
            size,
            content_type,
            inline_image,
        });
    }
    let ticket_max = limits.max_ticket_mb * 1024 * 1024;
    if problems.is_empty() && total > ticket_max {
        problems.push(format!(
            "A ticket takes at most {} of files, and these would go over it.",
            mib(ticket_max)
        ));
    }
    if !problems.is_empty() {
        errors.add(
            field,
            format!(
                "{} Nothing was attached; the rest of your message is kept.",
                problems.join(" ")
            ),
        );
        return Ok(Vec::new());
    }
    Ok(checked)
}

/// An uploaded image without its metadata (`None`: not a well-formed image).
fn strip(upload: &crate::body::Upload) -> Result<Option<Vec<u8>>> {
    let bytes = upload
        .bytes()
        .map_err(|e| crate::error::Error::Io("reading an uploaded image".into(), e))?;
    Ok(files::strip_metadata(&bytes))
}

fn read_head(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut head = vec![0u8; 16];
    let mut file = std::fs::File::open(path)
        .map_err(|e| crate::error::Error::Io("opening an upload".into(), e))?;
    let n = file
        .read(&mut head)
        .map_err(|e| crate::error::Error::Io("reading an upload".into(), e))?;
    head.truncate(n);
    Ok(head)
}

/// Stores the checked files under `data/files/` — durable before this returns, so the rows the
/// caller writes next never name a missing file — and returns what to record. Call it holding
/// `files::storing()` until those rows have committed.
pub fn store(ctx: &Ctx<'_>, checked: Vec<Checked>) -> Result<Vec<NewAttachment>> {
    let data_dir = &ctx.app.config.data_dir;
    let mut out = Vec::with_capacity(checked.len());
    for c in checked {
        let upload = &ctx.uploads[c.upload];
        let sha256 = if c.inline_image {
            let clean = strip(upload)?.ok_or_else(|| {
                crate::error::Error::Other("an uploaded image changed after its check".into())
            })?;
            files::store(data_dir, &clean)?
        } else {
            files::store_from(data_dir, upload.path())?
        };
        out.push(NewAttachment {
            sha256,
            name: c.name,
            size: c.size as i64,
            content_type: c.content_type.to_string(),
            inline_image: c.inline_image,
        });
    }
    Ok(out)
}

/// Removes stored files whose rows were never written (a write refused after they were
/// stored), unless something else names them.
pub fn discard(ctx: &Ctx<'_>, stored: &[NewAttachment]) -> Result<()> {
    if stored.is_empty() {
        return Ok(());
    }
    // "Nothing names it" must hold on disk, not only in a commit whose fsync is under way
    // (another request's removal of a row naming the same bytes).
    ctx.db.sync_committed()?;
    let _alone = files::removing();
    for file in stored {
        if !crate::store::attachments::file_in_use(ctx.db, &file.sha256)? {
            files::remove(&ctx.app.config.data_dir, &file.sha256)?;
        }
    }
    Ok(())
}

/// Attachments as templates list them; `url(a)` is where each is served.
pub fn views(list: &[Attachment], url: impl Fn(&Attachment) -> String) -> Vec<Value> {
    list.iter()
        .map(|a| {
            view! {
                id => a.id,
                comment_id => a.comment_id,
                name => a.name,
                size => size_text(a.size),
                kind => type_label(&a.content_type),
                image => a.inline_image,
                internal => a.internal,
                url => url(a),
            }
        })
        .collect()
}

/// What a file is, in words ("PNG image", "PDF", "file").
pub fn type_label(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "PNG image",
        "image/jpeg" => "JPEG image",
        "image/gif" => "GIF image",
        "image/webp" => "WebP image",
        "application/pdf" => "PDF",
        _ => "file",
    }
}

/// The URL path segment for a name (so a saved file keeps it), percent-encoded.
pub fn url_name(name: &str) -> String {
    form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `Content-Disposition` for `name` (RFC 6266: an ASCII fallback and the UTF-8 name).
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Sends `a` (the caller checked who may have it).
pub fn serve(ctx: &Ctx<'_>, a: &Attachment) -> Result<Response> {
    use std::io::{Read, Seek, SeekFrom};
    let not_found = || Response::text("Not found\n").with_status_code(404);
    let Some(path) = files::path_of(&ctx.app.config.data_dir, &a.sha256) else {
        return Ok(not_found());
    };
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(not_found()),
        Err(e) => {
            return Err(crate::error::Error::Io(
                format!("opening file {}", a.sha256),
                e,
            ));
        }
    };
    let len = file
        .metadata()
        .map_err(|e| crate::error::Error::Io("reading a file's size".into(), e))?
        .len();
    let etag = format!("\"{}\"", a.sha256);
    let headers = |r: Response| {
        let kind = if a.inline_image {
            "inline"
        } else {
            "attachment"
        };
        r.with_additional_header("Content-Disposition", disposition(kind, &a.name))
            .with_additional_header("Content-Security-Policy", "sandbox")
            .with_additional_header("ETag", etag.clone())
            .with_additional_header("Accept-Ranges", "bytes")
            .with_additional_header("Cache-Control", "private, max-age=3600")
    };
    if ctx
        .req
        .header("If-None-Match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(headers(Response::empty_204().with_status_code(304)));
    }
    let range = ctx.req.header("Range").and_then(|r| parse_range(r, len));
    let (start, end, status) = match (ctx.req.header("Range"), range) {
        (Some(_), Some(Err(()))) => {
            return Ok(headers(
                Response::text("Range not satisfiable\n")
                    .with_status_code(416)
                    .with_additional_header("Content-Range", format!("bytes */{len}")),
            ));
        }
        (_, Some(Ok((s, e)))) => (s, e, 206),
        _ => (0, len.saturating_sub(1), 200),
    };
    let mut body = Vec::new();
    if len > 0 {
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.take(end - start + 1).read_to_end(&mut body))
            .map_err(|e| crate::error::Error::Io(format!("reading file {}", a.sha256), e))?;
    }
    let mut response = headers(Response::from_data(a.content_type.clone(), body));
    if status == 206 {
        response = response
            .with_status_code(206)
            .with_additional_header("Content-Range", format!("bytes {start}-{end}/{len}"));
    }
    Ok(response)
}

/// One `bytes=` range of a `len`-byte file: `Some(Ok((first, last)))`, `Some(Err(()))` when it
/// cannot be satisfied, `None` when the header is not one we serve (then the whole file goes).
fn parse_range(header: &str, len: u64) -> Option<std::result::Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if len == 0 {
        return Some(Err(()));
    }
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n: u64 = b.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(n), len - 1)
        }
        (false, _) => {
            let first: u64 = a.parse().ok()?;
            let last: u64 = if b.is_empty() {
                len - 1
            } else {
                b.parse().ok()?
            };
            if first >= len || last < first {
                return Some(Err(()));
            }
            (first, last.min(len - 1))
        }
        (true, true) => return None,
    };
    Some(Ok(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_direction_tricks() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\ana\\shot.png"), "shot.png");
        assert_eq!(clean_name("evil\u{202e}gnp.exe"), "evilgnp.exe");
        assert_eq!(clean_name("a\r\nb\".txt"), "ab\".txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(""), "file");
    }

    #[test]
    fn dispositions_are_rfc_6266() {
        assert_eq!(
            disposition("attachment", "résumé \"v2\".pdf"),
            "attachment; filename=\"r_sum_ _v2_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.pdf"
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=95-200", 100), Some(Ok((95, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=5-1", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
