//! CSRF protection: every state-changing form carries a `csrf_token` derived from a secret the
//! browser holds in an HttpOnly cookie (`pl_csrf`, replaced at every sign-in), and the `Origin`
//! header, when sent, must be this site.
//!
//! Why derived rather than stored: the token is SHA-256 of the cookie secret, so the server
//! keeps no token table, a page's HTML never contains the cookie secret itself, and another
//! site can compute neither.

use crate::auth::{b64, constant_time_eq, sha256};

/// The form field every POST must carry.
pub const FIELD: &str = "csrf_token";

/// The token for forms shown to the holder of `anchor`.
pub fn token_for(anchor: &str) -> String {
    b64(&sha256(format!("porchlight-csrf\0{anchor}").as_bytes()))
}

/// Whether `submitted` is the token for `anchor`.
pub fn token_matches(anchor: &str, submitted: &str) -> bool {
    constant_time_eq(token_for(anchor).as_bytes(), submitted.as_bytes())
}

/// Whether the request's `Origin` is acceptable: absent (older clients; the token still
/// applies), the public base URL's origin, or the origin of the `Host` the request came to.
///
/// `null_expected` is for pages served with `Referrer-Policy: no-referrer` (share links, setup):
/// browsers then send `Origin: null` even for same-origin forms, so there `null` carries no
/// information and the token alone decides. Elsewhere `null` (sandboxed frames, odd redirects)
/// is refused.
pub fn origin_allowed(
    origin: Option<&str>,
    host: Option<&str>,
    base_url: &str,
    null_expected: bool,
) -> bool {
    let Some(origin) = origin else { return true };
    if origin == "null" {
        return null_expected;
    }
    if origin.eq_ignore_ascii_case(base_url) {
        return true;
    }
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(origin);
    matches!(host, Some(h) if h.eq_ignore_ascii_case(origin_host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_their_anchor() {
        let t = token_for("anchor-a");
        assert!(token_matches("anchor-a", &t));
        assert!(!token_matches("anchor-b", &t));
        assert!(!token_matches("anchor-a", ""));
        assert!(!t.contains("anchor-a"));
    }

    #[test]
    fn origins() {
        let base = "https://help.example.com";
        assert!(origin_allowed(None, None, base, false));
        assert!(origin_allowed(
            Some("https://help.example.com"),
            None,
            base,
            false
        ));
        assert!(origin_allowed(
            Some("http://127.0.0.1:8080"),
            Some("127.0.0.1:8080"),
            base,
            false
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("help.example.com"),
            base,
            false
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("help.example.com"),
            base,
            true
        ));
        assert!(!origin_allowed(
            Some("null"),
            Some("help.example.com"),
            base,
            false
        ));
        assert!(origin_allowed(
            Some("null"),
            Some("help.example.com"),
            base,
            true
        ));
    }
}
