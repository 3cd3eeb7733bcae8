//! Form bodies and validation errors.
//!
//! Bodies are url-encoded (most forms) or `multipart/form-data` (forms with a file). The
//! connection layer reads both as they stream (`crate::body`): multipart is parsed there, its
//! files written to temporary files, and a body cut off or malformed never reaches a handler.
//!
//! Every value is cleaned once, here: control characters other than tab and line breaks are
//! dropped (a NUL byte must never reach a title), and [`Form::line`] gives a single-line field
//! with its line breaks and tabs turned into spaces.
//!
//! A form that fails validation is shown again with every field as typed and each error beside
//! its field: handlers collect errors in [`Errors`] and pass both to the template.

use std::collections::BTreeMap;
use std::io::Read;

use rouille::Request;

use crate::app::App;
use crate::body::{self, BodyError, Multipart, Upload};
pub use crate::validation::Errors;

/// A parsed form body: its text fields.
#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    /// The request's form: from `upload` when the connection layer already parsed a multipart
    /// body, else read from the request (url-encoded up to `web::FORM_LIMIT`; multipart made
    /// in-process is parsed here by the same rules).
    pub fn parse(
        app: &App,
        req: &Request,
        upload: Option<Multipart>,
    ) -> Result<(Form, Vec<Upload>), BodyError> {
        let limits = body::Limits {
            form: crate::web::FORM_LIMIT,
            upload: app.config.upload_limit_bytes(),
            file: app.config.file_limit_bytes(),
        };
        let content_type = req.header("Content-Type").unwrap_or("");
        let multipart = match (upload, body::multipart_boundary(content_type)) {
            (Some(parsed), _) => parsed,
            (None, Some(boundary)) => {
                let bytes = read_capped(req, limits.upload)?;
                let tmp = body::tmp_dir(&app.config.data_dir);
                body::read_multipart_blocking(bytes, &boundary?, &limits, &tmp)?
            }
            (None, None) => {
                let bytes = read_capped(req, limits.form)?;
                let lowered = content_type.to_ascii_lowercase();
                if !bytes.is_empty()
                    && !lowered.is_empty()
                    && !lowered.starts_with("application/x-www-form-urlencoded")
                {
                    return Err(BodyError::Malformed(format!(
                        "unexpected content type {content_type:?}"
                    )));
                }
                return Ok((Form::from_urlencoded(&bytes), Vec::new()));
            }
        };
        let fields = multipart
            .fields
            .into_iter()
            .map(|(k, v)| (k, clean(&v)))
            .collect();
        Ok((Form { fields }, multipart.uploads))
    }

    pub fn from_urlencoded(bytes: &[u8]) -> Form {
        Form {
            fields: form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), clean(&v)))
                .collect(),
        }
    }

    /// The first value of `name`, or "" — a missing field and an empty one mean the same.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Whether the form has a field `name` at all (even an empty one).
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// The value of `name` with surrounding whitespace removed.
    pub fn trimmed(&self, name: &str) -> &str {
        self.get(name).trim()
    }

    /// A single-line field (a title, a name, an email): trimmed, with any line break or tab
    /// turned into a space.
    pub fn line(&self, name: &str) -> String {
        let value = self.trimmed(name);
        if value.contains(['\n', '\r', '\t']) {
            value.replace(['\n', '\r', '\t'], " ")
        } else {
            value.to_string()
        }
    }

    /// Every value of `name` (checkbox groups, multiple selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(k, v)| k == name && !v.is_empty() && v != "0" && v != "off")
    }

    /// The fields as a name → value map, to refill a form (the CSRF token and passwords are left
    /// out: a page never echoes a password back).
    pub fn values(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter(|(k, _)| k != crate::auth::csrf::FIELD && !k.contains("password"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// An uploaded image that passed its checks: its bytes (metadata stripped) and extension.
pub struct CheckedImage {
    pub bytes: Vec<u8>,
    pub ext: &'static str,
}

/// The image sent in the form's `field`: a PNG, JPEG or WebP judged by its bytes (never its
/// name or claimed type), at most `max_bytes`, with EXIF/XMP and other metadata removed
/// (`files::strip_metadata`). `None` when no file was chosen or when it was refused — the reason
/// is then in `errors`, beside the field.
pub fn uploaded_image(
    ctx: &crate::web::Ctx<'_>,
    field: &str,
    max_bytes: usize,
    errors: &mut Errors,
) -> crate::error::Result<Option<CheckedImage>> {
    use crate::error::IoContext;
    let Some(upload) = ctx.uploads.iter().find(|u| u.field == field && u.size > 0) else {
        return Ok(None);
    };
    if upload.too_large || upload.size > max_bytes as u64 {
        errors.add(
            field,
            format!(
                "This image is {} KB; use one up to {} KB.",
                upload.size.div_ceil(1024),
                max_bytes / 1024
            ),
        );
        return Ok(None);
    }
    let bytes = upload
        .bytes()
        .io_context(|| format!("reading the uploaded image {}", upload.path().display()))?;
    let (Some((ext, _)), Some(clean)) = (
        crate::files::image_kind(&bytes),
        crate::files::strip_metadata(&bytes),
    ) else {
        errors.add(field, "Upload a PNG, JPEG or WebP image.");
        return Ok(None);
    };
    Ok(Some(CheckedImage { bytes: clean, ext }))
}

/// Reads the request's body, refusing more than `limit` bytes.
fn read_capped(req: &Request, limit: usize) -> Result<Vec<u8>, BodyError> {
    let Some(data) = req.data() else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    data.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BodyError::Malformed(e.to_string()))?;
    if bytes.len() > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes)
}

/// Drops control characters but tab, line feed and carriage return.
fn clean(value: &str) -> String {
    if value.chars().any(unwanted) {
        value.chars().filter(|c| !unwanted(*c)).collect()
    } else {
        value.to_string()
    }
}

fn unwanted(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reads_fields() {
        let f = Form::from_urlencoded(b"a=1&b=+x+&a=2&password=p&csrf_token=t&c=on");
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.trimmed("b"), "x");
        assert_eq!(f.get("missing"), "");
        assert!(f.checked("c") && !f.checked("a2"));
        let v = f.values();
        assert!(
            !v.contains_key("password") && !v.contains_key("csrf_token") && v.contains_key("a")
        );
    }

    /// #12: a NUL byte was stored in a title.
    #[test]
    fn control_characters_are_dropped_and_lines_are_single() {
        let f = Form::from_urlencoded(b"t=Hello%00%07+world%0D%0Anext&b=line1%0Aline2%09x%1B");
        assert_eq!(f.get("t"), "Hello world\r\nnext");
        assert_eq!(f.line("t"), "Hello world  next");
        assert_eq!(f.get("b"), "line1\nline2\tx");
    }
}
