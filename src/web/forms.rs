//! Form bodies and validation errors.
//!
//! Bodies are url-encoded (most forms) or `multipart/form-data` (forms with a file). Multipart
//! is read with rouille's parser, which rests on the unmaintained `multipart` crate: its input is
//! bounded before it gets here (the connection layer's upload limit) and every field is read
//! with a cap of its own.
//!
//! A form that fails validation is shown again with every field as typed and each error beside
//! its field: handlers collect errors in [`Errors`] and pass both to the template.

use std::collections::BTreeMap;
use std::io::Read;

use rouille::Request;

pub use crate::validation::Errors;

/// Reads at most `limit` bytes; more is `TooLarge`.
fn read_capped(source: &mut impl Read, limit: usize) -> Result<Vec<u8>, FormError> {
    let mut bytes = Vec::new();
    source
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| FormError::Malformed)?;
    if bytes.len() > limit {
        return Err(FormError::TooLarge);
    }
    Ok(bytes)
}

/// A parsed form body: its text fields.
#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<(String, String)>,
}

/// A file sent with a multipart form.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form field's name.
    pub field: String,
    /// The bytes, at most the upload limit.
    pub bytes: Vec<u8>,
}

/// Longest text field accepted in a multipart form.
const MULTIPART_TEXT_LIMIT: usize = 64 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    TooLarge,
    Malformed,
}

impl Form {
    /// Reads and parses the request body: url-encoded up to `form_limit` bytes, or multipart
    /// with files up to `upload_limit` bytes each.
    pub fn parse(
        req: &Request,
        form_limit: usize,
        upload_limit: usize,
    ) -> Result<(Form, Vec<Upload>), FormError> {
        let content_type = req
            .header("Content-Type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            return Self::parse_multipart(req, upload_limit);
        }
        let Some(mut body) = req.data() else {
            return Ok((Form::default(), Vec::new()));
        };
        let bytes = read_capped(&mut body, form_limit)?;
        if !content_type.is_empty()
            && !content_type.starts_with("application/x-www-form-urlencoded")
        {
            return Err(FormError::Malformed);
        }
        Ok((Form::from_urlencoded(&bytes), Vec::new()))
    }

    fn parse_multipart(
        req: &Request,
        upload_limit: usize,
    ) -> Result<(Form, Vec<Upload>), FormError> {
        let mut parts = rouille::input::multipart::get_multipart_input(req)
            .map_err(|_| FormError::Malformed)?;
        let (mut fields, mut uploads) = (Vec::new(), Vec::new());
        while let Some(mut part) = parts.next() {
            let name = part.headers.name.to_string();
            if part.headers.filename.is_some() {
                let bytes = read_capped(&mut part.data, upload_limit)?;
                uploads.push(Upload { field: name, bytes });
            } else {
                let bytes = read_capped(&mut part.data, MULTIPART_TEXT_LIMIT)?;
                fields.push((
                    name,
                    String::from_utf8(bytes).map_err(|_| FormError::Malformed)?,
                ));
            }
        }
        Ok((Form { fields }, uploads))
    }

    pub fn from_urlencoded(bytes: &[u8]) -> Form {
        Form {
            fields: form_urlencoded::parse(bytes).into_owned().collect(),
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
}
