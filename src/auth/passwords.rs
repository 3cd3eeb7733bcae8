//! Password hashing (bcrypt) and the password rules.

use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// bcrypt reads at most 72 bytes; refusing longer ones beats silently ignoring the rest.
pub const MAX_BYTES: usize = 72;

/// Why a new password was refused, in words for the form.
pub fn check_new(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("Use at least {MIN_LEN} characters."));
    }
    if password.len() > MAX_BYTES {
        return Err(format!(
            "Use at most {MAX_BYTES} bytes (bcrypt ignores anything longer)."
        ));
    }
    if password.trim().is_empty() {
        return Err("A password of only spaces is not allowed.".into());
    }
    Ok(())
}

pub fn hash(password: &str, cost: u32) -> crate::error::Result<String> {
    bcrypt::hash(password, cost)
        .map_err(|e| crate::error::Error::Other(format!("hashing a password: {e}")))
}

/// Checks `password` against a stored hash; a malformed hash simply fails.
pub fn verify(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// Spends the same time as `verify` against a real hash, for unknown accounts: the answer to
/// "unknown email" and "wrong password" must not differ, in words or in time.
pub fn verify_dummy(password: &str, cost: u32) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| bcrypt::hash("porchlight-dummy-password", cost).unwrap_or_default());
    let _ = bcrypt::verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check_new("short").is_err());
        assert!(check_new("        ").is_err());
        assert!(check_new(&"x".repeat(73)).is_err());
        assert!(check_new("correct horse").is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse", 4).unwrap();
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("x", "not a hash"));
    }
}
