//! Throttling: at most `max` counted events per scope within a sliding window. Used for failed
//! sign-ins (per account and per IP) and share-link submissions (per IP and link).

use crate::error::Result;
use crate::store::{self, Reader, Tx};

/// A window is counted in this many buckets: a check reads at most one more row than this.
const BUCKETS_PER_WINDOW: i64 = 30;

/// A limit: `max` events per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

impl Limit {
    fn bucket_secs(&self) -> i64 {
        (self.window_secs / BUCKETS_PER_WINDOW).max(1)
    }
}

/// One counted event, to take back with [`take_back`].
#[derive(Debug, Clone, Copy)]
pub struct Event {
    bucket: i64,
}

/// `Some(seconds)` until `scope` may act again when it has used up `limit`, else `None`.
///
/// Events are counted in buckets of a thirtieth of the window; a bucket counts in full until its
/// latest event leaves the window. So the limit is never exceeded in any window, and lifts
/// exactly on time after a burst (at most one bucket late when events were spread out). Reads at
/// most 31 rows, however high the limit.
pub fn blocked_for(r: &impl Reader, scope: &str, limit: Limit, now: i64) -> Result<Option<i64>> {
    let since = now - limit.window_secs;
    let buckets = store::throttle::buckets(r, scope, since - limit.bucket_secs(), since)?;
    let mut remaining: i64 = buckets.iter().map(|b| b.n).sum();
    if remaining < i64::from(limit.max) {
        return Ok(None);
    }
    // Blocked until enough of the oldest buckets have left the window.
    for bucket in &buckets {
        remaining -= bucket.n;
        if remaining < i64::from(limit.max) {
            return Ok(Some((bucket.last_at + limit.window_secs - now).max(1)));
        }
    }
    Ok(Some(limit.window_secs))
}

/// Counts one event against `scope` at the transaction's time.
pub fn record(tx: &Tx<'_>, scope: &str, limit: Limit) -> Result<Event> {
    let size = limit.bucket_secs();
    let bucket = tx.now() - tx.now().rem_euclid(size);
    store::throttle::increment(tx, scope, bucket)?;
    Ok(Event { bucket })
}

/// Checks `limit` and, when not reached, counts one event — in the caller's write, so that
/// simultaneous attempts cannot all slip under the limit. `Err(wait)` when blocked.
pub fn check_and_record(
    tx: &Tx<'_>,
    scope: &str,
    limit: Limit,
) -> Result<std::result::Result<Event, i64>> {
    if let Some(wait) = blocked_for(tx, scope, limit, tx.now())? {
        return Ok(Err(wait));
    }
    Ok(Ok(record(tx, scope, limit)?))
}

/// Takes back an event (an attempt that turned out fine).
pub fn take_back(tx: &Tx<'_>, scope: &str, event: Event) -> Result<()> {
    store::throttle::decrement(tx, scope, event.bucket)
}

/// Forgets every event of `scope`.
pub fn clear(tx: &Tx<'_>, scope: &str) -> Result<()> {
    store::throttle::clear(tx, scope)
}

/// The part of a client address throttles count by: the whole IPv4 address, but an IPv6 /64 —
/// one subscriber usually holds a whole /64 and could otherwise rotate through it.
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().expect("checked").to_string(),
        v4 => v4.to_string(),
    }
}

/// "5 minutes", rounded up, for "try again in …" messages.
pub fn minutes_text(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    if minutes == 1 {
        "1 minute".into()
    } else {
        format!("{minutes} minutes")
    }
}

/// One sign-in attempt's failure counters, per client address and per account: counted (as a
/// failure) before the slow password check, so that concurrent guesses cannot all slip under
/// the limits, and taken back by [`SignInAttempt::succeeded`].
pub struct SignInAttempt {
    ip_scope: String,
    email_scope: String,
    ip_event: Event,
}

impl SignInAttempt {
    /// Checks both limits and counts the attempt, in one write. `kind` names the counters
    /// ("login" for staff, "portal-login" for contacts). `Err(wait)`: locked for that many
    /// seconds.
    pub fn start(
        db: &crate::store::Db,
        config: &crate::config::Config,
        kind: &str,
        ip: std::net::IpAddr,
        email: &str,
    ) -> Result<std::result::Result<SignInAttempt, i64>> {
        let window = config.login.lockout_minutes as i64 * 60;
        let ip_scope = format!("{kind}-ip:{}", client_key(ip));
        let email_scope = format!("{kind}-email:{email}");
        let by_ip = Limit {
            max: config.login.max_failures_per_ip,
            window_secs: window,
        };
        let by_email = Limit {
            max: config.login.max_failures_per_account,
            window_secs: window,
        };
        db.write(|tx| {
            let ip_wait = blocked_for(tx, &ip_scope, by_ip, tx.now())?;
            if let Some(wait) = ip_wait.max(blocked_for(tx, &email_scope, by_email, tx.now())?) {
                return Ok(Err(wait));
            }
            let ip_event = record(tx, &ip_scope, by_ip)?;
            record(tx, &email_scope, by_email)?;
            Ok(Ok(SignInAttempt {
                ip_scope,
                email_scope,
                ip_event,
            }))
        })
    }

    /// The attempt succeeded: its count goes back for the address, and the account's failures
    /// are forgotten.
    pub fn succeeded(self, db: &crate::store::Db) -> Result<()> {
        db.write(|tx| {
            take_back(tx, &self.ip_scope, self.ip_event)?;
            clear(tx, &self.email_scope)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys() {
        assert_eq!(client_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
        assert_eq!(
            client_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key("2001:db8:1:2:bbbb::7".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9"
        );
    }

    /// The limit holds exactly, says how long to wait, lifts when the window has passed, and an
    /// event taken back no longer counts.
    #[test]
    fn limits_hold_and_lift_on_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.sqlite3"),
            crate::store::Synchronous::Normal,
        )
        .unwrap();
        let db = store.connect().unwrap();
        let limit = Limit {
            max: 3,
            window_secs: 3600,
        };
        let (events, at) = db
            .write(|tx| {
                let mut events = Vec::new();
                for _ in 0..3 {
                    match check_and_record(tx, "s", limit)? {
                        Ok(e) => events.push(e),
                        Err(wait) => panic!("blocked after {} events ({wait}s)", events.len()),
                    }
                }
                Ok((events, tx.now()))
            })
            .unwrap();
        let wait = db
            .write(|tx| check_and_record(tx, "s", limit))
            .unwrap()
            .expect_err("the fourth is refused");
        assert!((3599..=3600).contains(&wait), "{wait}");
        assert_eq!(blocked_for(&db, "s", limit, at + 3599).unwrap(), Some(1));
        assert_eq!(blocked_for(&db, "s", limit, at + 3600).unwrap(), None);
        assert_eq!(blocked_for(&db, "other", limit, at).unwrap(), None);
        db.write(|tx| take_back(tx, "s", events[0])).unwrap();
        assert_eq!(blocked_for(&db, "s", limit, at).unwrap(), None);
        db.write(|tx| clear(tx, "s")).unwrap();
        db.write(|tx| {
            assert!(check_and_record(tx, "s", limit)?.is_ok());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes_text(1), "1 minute");
        assert_eq!(minutes_text(61), "2 minutes");
        assert_eq!(minutes_text(900), "15 minutes");
    }
}
