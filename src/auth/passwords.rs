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
    if is_common(password) {
        return Err(
            "That password is one of the most common ones, and the first any attacker tries. Choose another."
                .into(),
        );
    }
    Ok(())
}

/// Passwords of 8 characters or more that top the public lists of leaked passwords (compared
/// case-insensitively). Short, on purpose: it stops the guesses every attacker tries first.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password!",
    "passw0rd",
    "p@ssw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "87654321",
    "987654321",
    "11111111",
    "00000000",
    "88888888",
    "12341234",
    "11223344",
    "123123123",
    "12344321",
    "qwertyui",
    "qwertyuiop",
    "qwerty123",
    "qwerty12",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "q1w2e3r4",
    "1qaz2wsx",
    "zaq12wsx",
    "qazwsxedc",
    "123qweasd",
    "asdfghjk",
    "asdf1234",
    "1234qwer",
    "zxcvbnm1",
    "azertyui",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "starwars",
    "whatever",
    "trustno1",
    "letmein1",
    "letmein123",
    "welcome1",
    "welcome123",
    "changeme",
    "abc12345",
    "abcd1234",
    "aa123456",
    "admin123",
    "admin1234",
    "administrator",
    "computer",
    "internet",
    "michelle",
    "jennifer",
    "dragon12",
    "master12",
    "shadow12",
    "monkey12",
    "charlie1",
    "freedom1",
    "secret123",
    "loveyou1",
    "qwer1234",
    "porchlight",
];

/// Whether `password` is on the built-in list of the most common passwords.
pub fn is_common(password: &str) -> bool {
    let lowered = password.trim().to_lowercase();
    COMMON.contains(&lowered.as_str())
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
        assert!(check_new("Password1").is_err() && check_new("12345678").is_err());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse", 4).unwrap();
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("x", "not a hash"));
    }
}
