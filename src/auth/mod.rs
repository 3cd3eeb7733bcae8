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

    /// Like [`Secret::generate`], led by the time it was made: 8 bytes of microseconds, so 54
    /// characters. Rows keyed by [`Secret::key`] of such tokens go into their table in time
    /// order, beside the last one, instead of at a random place: the ticket links (receipt,
    /// unsubscribe) every share-link submission stores. A random key put one more page of a
    /// large table into nearly every write's commit (about a sixth of submissions' throughput).
    /// The link then tells when it was made, which the page it opens says anyway.
    pub fn generate_timed() -> Secret {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let random = Secret::generate();
        Secret(URL_SAFE_NO_PAD.encode(micros.to_be_bytes()) + random.expose())
    }

    /// What the database stores and looks up for a token: for one made by
    /// [`Secret::generate_timed`], its 8 time bytes and then its SHA-256; for any other value its
    /// SHA-256 alone, as stored before timed tokens — links sent earlier keep working. The hash
    /// covers the whole value, time included, so changing the time finds nothing.
    pub fn key(&self) -> Vec<u8> {
        let hash = self.hash();
        // Bytes, not characters: a value from outside may hold anything.
        let time = (self.0.len() == TIMED_LEN)
            .then(|| {
                URL_SAFE_NO_PAD
                    .decode(&self.0.as_bytes()[..TIME_CHARS])
                    .ok()
            })
            .flatten()
            .filter(|t| t.len() == 8);
        match time {
            Some(mut key) => {
                key.extend_from_slice(&hash);
                key
            }
            None => hash.to_vec(),
        }
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

/// Characters of a timed token's time (8 bytes), and of the whole token (`generate_timed`).
const TIME_CHARS: usize = 11;
const TIMED_LEN: usize = TIME_CHARS + 43;

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

    /// Timed tokens key in the order they were made, keep 32 random bytes, and a changed time
    /// or a plain token gives a different key; plain tokens key by their hash as before.
    #[test]
    fn timed_tokens_key_in_time_order() {
        let tokens: Vec<Secret> = (0..50)
            .map(|_| {
                std::thread::sleep(std::time::Duration::from_micros(3));
                Secret::generate_timed()
            })
            .collect();
        for t in &tokens {
            assert_eq!(t.expose().len(), 54);
            assert_eq!(t.key().len(), 40);
            assert_eq!(t.key()[8..], t.hash());
        }
        assert!(tokens.windows(2).all(|w| w[0].key() < w[1].key()));
        assert_ne!(tokens[0].expose()[11..], tokens[1].expose()[11..]);
        let plain = Secret::generate();
        assert_eq!(plain.key(), plain.hash().to_vec());
        // Another time in front of the same random part: another key, found nowhere.
        let t = tokens[0].expose();
        let moved = Secret::from_untrusted(&format!("{}{}", &tokens[1].expose()[..11], &t[11..]));
        assert_ne!(moved.key(), tokens[0].key());
        assert_ne!(moved.key()[8..], tokens[0].key()[8..]);
        assert_eq!(Secret::from_untrusted("not base64 at all!").key().len(), 32);
        // 54 bytes with a character across the time's end: no panic, just a key found nowhere.
        let odd = format!("{}é{}", "a".repeat(10), "a".repeat(42));
        assert_eq!(odd.len(), 54);
        assert_eq!(Secret::from_untrusted(&odd).key().len(), 32);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
