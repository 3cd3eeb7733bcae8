//! Form bodies and validation errors.
//!
//! A form that fails validation is shown again with every field as typed and each error beside
//! its field: handlers collect errors in [`Errors`] and pass both to the template.

use std::collections::BTreeMap;
use std::io::Read;

use rouille::Request;

pub use crate::validation::Errors;

/// A parsed `application/x-www-form-urlencoded` body.
#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<(String, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FormError {
    TooLarge,
    Malformed,
}

impl Form {
    /// Reads and parses the request body, refusing bodies over `limit` bytes.
    pub fn parse(req: &Request, limit: usize) -> Result<Form, FormError> {
        let content_type = req.header("Content-Type").unwrap_or("");
        let Some(mut body) = req.data() else {
            return Ok(Form::default());
        };
        let mut bytes = Vec::new();
        body.by_ref()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| FormError::Malformed)?;
        if bytes.len() > limit {
            return Err(FormError::TooLarge);
        }
        if !content_type.is_empty()
            && !content_type.starts_with("application/x-www-form-urlencoded")
        {
            return Err(FormError::Malformed);
        }
        Ok(Form::from_urlencoded(&bytes))
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
