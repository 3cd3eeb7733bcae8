//! Portal contact sessions: like staff sessions (a random id in an HttpOnly cookie, only its
//! SHA-256 stored, idle and absolute expiry, a fresh id at every sign-in), but with a cookie,
//! a table and expiry of their own — a staff session never signs anyone in to a portal, and a
//! contact session never reaches the staff workspace.

use crate::auth::Secret;
use crate::clock;
use crate::config::Config;
use crate::domain::ContactId;
use crate::error::Result;
use crate::store::contacts::Contact;
use crate::store::{self, Db};

/// The contact session cookie (the staff one is `pl_staff`).
pub const CONTACT_COOKIE: &str = "pl_contact";

/// Activity is written back at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

/// Starts a session for `contact`; the returned secret goes into the cookie only.
pub fn start(db: &Db, config: &Config, contact: ContactId) -> Result<Secret> {
    let id = Secret::generate();
    let expires_at = clock::now() + config.contact_absolute().as_secs() as i64;
    db.write(|tx| store::contacts::insert_session(tx, &id.hash(), contact, expires_at))?;
    Ok(id)
}

/// The active contact behind a cookie value, or `None` (unknown, expired, idle, or the account
/// is no longer active).
pub fn resolve(db: &Db, config: &Config, cookie_value: &str) -> Result<Option<Contact>> {
    let id = Secret::from_untrusted(cookie_value);
    let now = clock::now();
    let idle_cutoff = now - config.contact_idle().as_secs() as i64;
    let Some((contact, last_seen)) =
        store::contacts::session_contact(db, &id.hash(), now, idle_cutoff)?
    else {
        return Ok(None);
    };
    if now - last_seen >= TOUCH_EVERY_SECS {
        db.write(|tx| store::contacts::touch_session(tx, &id.hash()))?;
    }
    Ok(Some(contact))
}

/// Ends the session behind a cookie value.
pub fn end(db: &Db, cookie_value: &str) -> Result<()> {
    let id = Secret::from_untrusted(cookie_value);
    db.write(|tx| store::contacts::delete_session(tx, &id.hash()))
}
