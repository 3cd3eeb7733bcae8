//! Staff sessions: a random id in an HttpOnly cookie, its SHA-256 in the database, idle and
//! absolute expiry, and a fresh id at every sign-in (no session fixation).

use crate::auth::Secret;
use crate::clock;
use crate::config::Config;
use crate::domain::StaffId;
use crate::error::Result;
use crate::store::staff::Staff;
use crate::store::{self, Db};

/// The staff session cookie. Portal contacts get a cookie of their own.
pub const STAFF_COOKIE: &str = "pl_staff";

/// Activity is written back at most this often, so browsing is not a write per page.
const TOUCH_EVERY_SECS: i64 = 60;

/// Starts a session for `staff`; the returned secret goes into the cookie only.
pub fn start(db: &Db, config: &Config, staff: StaffId) -> Result<Secret> {
    let id = Secret::generate();
    let expires_at = clock::now() + config.staff_absolute().as_secs() as i64;
    db.write(|tx| store::sessions::insert(tx, &id.hash(), staff, expires_at))?;
    Ok(id)
}

/// The active staff member behind a session cookie value, or `None` when the session is
/// unknown, expired, idle too long, or its account was deactivated.
pub fn resolve(db: &Db, config: &Config, cookie_value: &str) -> Result<Option<Staff>> {
    let id = Secret::from_untrusted(cookie_value);
    let now = clock::now();
    let idle_cutoff = now - config.staff_idle().as_secs() as i64;
    let Some(live) = store::sessions::get_live(db, &id.hash(), now, idle_cutoff)? else {
        return Ok(None);
    };
    if now - live.last_seen_at >= TOUCH_EVERY_SECS {
        db.write(|tx| store::sessions::touch(tx, &id.hash()))?;
    }
    Ok(Some(live.staff))
}

/// Ends the session behind a cookie value (sign-out).
pub fn end(db: &Db, cookie_value: &str) -> Result<()> {
    let id = Secret::from_untrusted(cookie_value);
    db.write(|tx| store::sessions::delete(tx, &id.hash()))
}

/// A cookie's name on the wire. Under https it gets the `__Host-` prefix: browsers then accept
/// it only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub fn cookie_name(config: &Config, name: &str) -> String {
    if config.is_https() {
        format!("__Host-{name}")
    } else {
        name.to_string()
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure on https. `max_age` of
/// `Some(0)` deletes the cookie; `None` makes it last for the browser session.
pub fn cookie(config: &Config, name: &str, value: &str, max_age: Option<u64>) -> String {
    let name = cookie_name(config, name);
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if config.is_https() {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}
