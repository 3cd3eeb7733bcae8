//! Authentication building blocks: secrets and their hashes, passwords, staff sessions, CSRF
//! tokens and throttling. Nothing here renders a page; `web` calls these.

pub mod contact_sessions;
pub mod csrf;
pub mod passwords;
pub mod sessions;
pub mod throttle;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A secret value (session id, token). `Debug` prints `***` so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 32 bytes from the operating system's RNG, URL-safe base64 (43 characters).
    pub fn generate() -> Secret {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random number generator is available");
        Secret(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a value that arrived from outside (a cookie, a URL segment).
    pub fn from_untrusted(s: &str) -> Secret {
        Secret(s.to_string())
    }

    /// The value itself: for a cookie, a URL or an email — never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the value: what the database stores and looks up.
    pub fn hash(&self) -> [u8; 32] {
        sha256(self.0.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// URL-safe base64 without padding.
pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// First run: when no staff account exists, issues a setup token (valid until an admin is
/// created) and returns it for the operator to open as `/setup/{token}`. `None` once staff exist.
pub fn issue_setup_token(db: &crate::store::Db) -> crate::error::Result<Option<Secret>> {
    use crate::store;
    db.write(|tx| {
        if store::staff::count(tx)? > 0 {
            return Ok(None);
        }
        let token = Secret::generate();
        store::tokens::insert(tx, &token.hash(), store::tokens::KIND_SETUP, None, None)?;
        Ok(Some(token))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hidden_from_debug() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(format!("{a:?}"), "Secret(***)");
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
