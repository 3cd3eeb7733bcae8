//! Throttling: at most `max` counted events per scope within a sliding window. Used for failed
//! sign-ins (per account and per IP) and share-link submissions (per IP and link). Where the
//! counts are kept — the database, or the writer's memory for share-link visitors — and why:
//! `store::throttle`.

use crate::error::Result;
use crate::store::{self, Db, Reader, Tx};

pub use crate::store::throttle::Kept;

/// A window is counted in this many buckets: a check reads at most one more row than this.
const BUCKETS_PER_WINDOW: i64 = 30;

/// A limit: `max` events per `window_secs`, counted where `kept` says.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
    pub kept: Kept,
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
    kept: Kept,
}

/// `Some(seconds)` until `scope` may act again when it has used up `limit`, else `None`.
///
/// Events are counted in buckets of a thirtieth of the window; a bucket counts in full until its
/// latest event leaves the window. So the limit is never exceeded in any window, and lifts
/// exactly on time after a burst (at most one bucket late when events were spread out). Reads at
/// most 31 rows, however high the limit.
pub fn blocked_for(tx: &Tx<'_>, scope: &str, limit: Limit, now: i64) -> Result<Option<i64>> {
    blocked_in(tx, scope, limit, now)
}

/// [`blocked_for`] now, before a write: to refuse early, before work such as storing uploads.
/// (The write must still [`check_and_record`].) Counts kept in memory are read through the
/// writer, the others on `db`'s own connection.
pub fn blocked_before_write(db: &Db, scope: &str, limit: Limit) -> Result<Option<i64>> {
    match limit.kept {
        Kept::OnDisk => blocked_in(db, scope, limit, crate::clock::now()),
        Kept::InMemory => db.write(|tx| blocked_in(tx, scope, limit, tx.now())),
    }
}

fn blocked_in(r: &impl Reader, scope: &str, limit: Limit, now: i64) -> Result<Option<i64>> {
    let since = now - limit.window_secs;
    let buckets =
        store::throttle::buckets(r, limit.kept, scope, since - limit.bucket_secs(), since)?;
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
    store::throttle::increment(tx, limit.kept, scope, bucket)?;
    Ok(Event {
        bucket,
        kept: limit.kept,
    })
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
    store::throttle::decrement(tx, event.kept, scope, event.bucket)
}

/// Forgets every event of `scope`.
pub fn clear(tx: &Tx<'_>, scope: &str, kept: Kept) -> Result<()> {
    store::throttle::clear(tx, kept, scope)
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
            kept: Kept::OnDisk,
        };
        let by_email = Limit {
            max: config.login.max_failures_per_account,
            window_secs: window,
            kept: Kept::OnDisk,
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
            clear(tx, &self.email_scope, Kept::OnDisk)
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

    fn store() -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        (dir, store)
    }

    fn open(dir: &tempfile::TempDir) -> crate::store::Store {
        crate::store::Store::open(
            &dir.path().join("t.sqlite3"),
            crate::store::Synchronous::Normal,
        )
        .unwrap()
    }

    /// The limit holds exactly, says how long to wait, lifts when the window has passed, and an
    /// event taken back no longer counts — counted in the database or in memory alike.
    #[test]
    fn limits_hold_and_lift_on_time() {
        for kept in [Kept::OnDisk, Kept::InMemory] {
            let (_dir, store) = store();
            let db = store.connect().unwrap();
            let limit = Limit {
                max: 3,
                window_secs: 3600,
                kept,
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
            assert!((3599..=3600).contains(&wait), "{kept:?}: {wait}");
            let blocked =
                |scope: &str, now: i64| db.write(|tx| blocked_for(tx, scope, limit, now)).unwrap();
            assert_eq!(blocked("s", at + 3599), Some(1), "{kept:?}");
            assert_eq!(blocked("s", at + 3600), None, "{kept:?}");
            assert_eq!(blocked("other", at), None, "{kept:?}");
            assert!(blocked_before_write(&db, "s", limit).unwrap().is_some());
            db.write(|tx| take_back(tx, "s", events[0])).unwrap();
            assert_eq!(blocked("s", at), None, "{kept:?}");
            db.write(|tx| clear(tx, "s", kept)).unwrap();
            db.write(|tx| {
                assert!(check_and_record(tx, "s", limit)?.is_ok());
                Ok(())
            })
            .unwrap();
        }
    }

    /// Counts kept in memory are written with the write that counts them and undone with it,
    /// never reach the database file, and are forgotten by a restart.
    #[test]
    fn counts_in_memory_roll_back_with_their_write_and_stay_off_disk() {
        let (dir, store) = store();
        let db = store.connect().unwrap();
        let limit = Limit {
            max: 1,
            window_secs: 3600,
            kept: Kept::InMemory,
        };
        // Counted, then the write fails: the count goes with it.
        let failed: Result<()> = db.write(|tx| {
            assert!(check_and_record(tx, "v", limit)?.is_ok());
            Err(crate::error::Error::Other(
                "the ticket could not be stored".into(),
            ))
        });
        assert!(failed.is_err());
        assert_eq!(blocked_before_write(&db, "v", limit).unwrap(), None);
        db.write(|tx| check_and_record(tx, "v", limit))
            .unwrap()
            .expect("the first event is allowed");
        assert!(blocked_before_write(&db, "v", limit).unwrap().is_some());
        // Nothing in the file: another connection (a backup, the sqlite3 shell) sees no count.
        let outside = rusqlite::Connection::open(dir.path().join("t.sqlite3")).unwrap();
        let on_disk: i64 = outside
            .query_row("SELECT count(*) FROM throttle_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(on_disk, 0);
        drop((db, store));
        let store = open(&dir);
        let db = store.connect().unwrap();
        assert_eq!(blocked_before_write(&db, "v", limit).unwrap(), None);
        drop((db, store));
    }

    /// However many addresses count events, memory keeps at most `keep` live buckets: the
    /// oldest move to the database and still count (forgetting them would let a flood of
    /// addresses lift each other's limits); buckets past the window are dropped.
    #[test]
    fn in_memory_counts_overflow_to_disk_and_still_count() {
        let (dir, store) = store();
        let db = store.connect().unwrap();
        let limit = Limit {
            max: 2,
            window_secs: 3600,
            kept: Kept::InMemory,
        };
        // Thirty addresses, one bucket (two minutes) apart, the oldest 58 minutes ago, and one
        // from two hours ago.
        let now = db
            .write(|tx| {
                let now = tx.now() - tx.now().rem_euclid(120);
                for i in 0..30 {
                    let start = now - (29 - i) * 120;
                    store::throttle::increment(tx, Kept::InMemory, &format!("v{i}"), start)?;
                }
                store::throttle::increment(tx, Kept::InMemory, "old", now - 7200)?;
                Ok(tx.now())
            })
            .unwrap();
        let expired = now - 3600 - 120;
        let bounded = db
            .write(|tx| store::throttle::bound_in_memory(tx, expired, 10))
            .unwrap();
        assert_eq!(bounded, (1, 20));
        let on_disk = |sql: &str| -> i64 {
            rusqlite::Connection::open(dir.path().join("t.sqlite3"))
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(on_disk("SELECT count(*) FROM throttle_counts"), 20);
        assert_eq!(
            on_disk("SELECT count(*) FROM throttle_counts WHERE scope IN ('v0', 'v19')"),
            2
        );
        // Every address still has its event: a second one is allowed, a third refused —
        // whether its first is in memory or moved to disk.
        for i in [0, 19, 20, 29] {
            let scope = format!("v{i}");
            db.write(|tx| check_and_record(tx, &scope, limit))
                .unwrap()
                .expect("the second event is allowed");
            let third = db.write(|tx| check_and_record(tx, &scope, limit)).unwrap();
            assert!(third.is_err(), "{scope}: the third event must be refused");
        }
        // A moved bucket counted again in memory moves onto its row: the counts add up.
        let v0_start = now - now.rem_euclid(120) - 29 * 120;
        db.write(|tx| store::throttle::increment(tx, Kept::InMemory, "v0", v0_start))
            .unwrap();
        db.write(|tx| store::throttle::bound_in_memory(tx, expired, 0))
            .unwrap();
        assert_eq!(
            on_disk("SELECT sum(n) FROM throttle_counts WHERE scope = 'v0'"),
            3
        );
        assert_eq!(
            on_disk(&format!(
                "SELECT n FROM throttle_counts WHERE scope = 'v0' AND start = {v0_start}"
            )),
            2
        );
        assert_eq!(
            db.write(|tx| store::throttle::bound_in_memory(tx, expired, 0))
                .unwrap(),
            (0, 0)
        );
    }

    #[test]
    fn minutes_round_up() {
        assert_eq!(minutes_text(1), "1 minute");
        assert_eq!(minutes_text(61), "2 minutes");
        assert_eq!(minutes_text(900), "15 minutes");
    }
}
