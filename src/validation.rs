//! Validation errors by field, shared by web forms and the CLI.

use std::collections::BTreeMap;

/// Validation errors by field name; `_form` holds an error about the form as a whole.
#[derive(Debug, Default, Clone, serde::Serialize)]
#[serde(transparent)]
pub struct Errors(BTreeMap<String, String>);

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Requires a non-blank value of at most `max` characters.
    pub fn require(&mut self, field: &str, value: &str, label: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, format!("{label} is required."));
        } else {
            self.max_len(field, value, label, max);
        }
    }

    /// Limits a value to `max` characters.
    pub fn max_len(&mut self, field: &str, value: &str, label: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.add(
                field,
                format!("{label} is too long: {n} characters, at most {max}."),
            );
        }
    }
}

impl std::fmt::Display for Errors {
    /// "field: message; field: message" — for the CLI.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_first_message() {
        let mut e = Errors::default();
        e.require("title", "  ", "Title", 10);
        e.add("title", "second");
        e.max_len("body", "abcdef", "Body", 3);
        assert!(!e.is_empty());
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.contains("Title is required.") && json.contains("at most 3"),
            "{json}"
        );
    }
}
