//! Throttle counters: how many events (failed sign-ins, share-link submissions) a scope such as
//! `login-ip:203.0.113.9` had in each time bucket. `auth::throttle` sums the buckets of a window.
//!
//! Why buckets rather than one row per event: a check then reads a handful of rows whatever the
//! limit — one row per event made a check walk every event of the window (47,000 rows behind a
//! proxy with a high limit cost 3–5 ms a submission, half the server's CPU under load).

use rusqlite::params;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// One bucket: how many events it counts and when the last of them happened.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub n: i64,
    pub last_at: i64,
}

/// The buckets of `scope` that started after `started_after` and still hold an event after
/// `event_after`, oldest first.
pub fn buckets(
    r: &impl Reader,
    scope: &str,
    started_after: i64,
    event_after: i64,
) -> Result<Vec<Bucket>> {
    let run = || -> rusqlite::Result<Vec<Bucket>> {
        r.conn()
            .prepare_cached(
                "SELECT n, last_at FROM throttle_counts
                 WHERE scope = ?1 AND start > ?2 AND last_at > ?3 AND n > 0 ORDER BY start",
            )?
            .query_map(params![scope, started_after, event_after], |row| {
                Ok(Bucket {
                    n: row.get(0)?,
                    last_at: row.get(1)?,
                })
            })?
            .collect()
    };
    run().context(|| format!("reading throttle counts of {scope}"))
}

/// Counts one event of `scope`, happening now, in the bucket starting at `start`.
pub fn increment(tx: &Tx<'_>, scope: &str, start: i64) -> Result<()> {
    tx.conn
        .prepare_cached(
            "INSERT INTO throttle_counts (scope, start, n, last_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (scope, start) DO UPDATE SET n = n + 1, last_at = excluded.last_at",
        )
        .and_then(|mut s| s.execute(params![scope, start, tx.now]))
        .context(|| format!("counting a throttle event of {scope}"))?;
    Ok(())
}

/// Takes back one event counted by [`increment`] (an attempt that turned out fine).
pub fn decrement(tx: &Tx<'_>, scope: &str, start: i64) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE throttle_counts SET n = n - 1 WHERE scope = ?1 AND start = ?2 AND n > 0",
            params![scope, start],
        )
        .context(|| format!("taking back a throttle event of {scope}"))?;
    Ok(())
}

/// Forgets a scope's events (a successful sign-in clears the account's failures).
pub fn clear(tx: &Tx<'_>, scope: &str) -> Result<()> {
    tx.conn
        .execute("DELETE FROM throttle_counts WHERE scope = ?1", [scope])
        .context(|| format!("clearing throttle counts of {scope}"))?;
    Ok(())
}

/// Drops buckets that started before `before`; nothing older is ever counted.
pub fn prune(tx: &Tx<'_>, before: i64) -> Result<usize> {
    tx.conn
        .execute("DELETE FROM throttle_counts WHERE start < ?1", [before])
        .context(|| "pruning old throttle counts".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, Synchronous};

    /// #12: a check read every event of its window. It reads the buckets of one window, found
    /// through the primary key, however many events and buckets the scope has.
    #[test]
    fn a_check_reads_one_window_of_buckets_through_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite3"), Synchronous::Normal).unwrap();
        let db = store.connect().unwrap();
        db.write(|tx| {
            // A day of two-minute buckets, 50 events each.
            for start in (0..86_400).step_by(120) {
                tx.conn.execute(
                    "INSERT INTO throttle_counts (scope, start, n, last_at) VALUES ('s', ?1, 50, ?1 + 60)",
                    [start],
                )?;
            }
            Ok(())
        })
        .unwrap();
        let now = 86_400;
        let found = buckets(&db, "s", now - 3600 - 120, now - 3600).unwrap();
        assert!(found.len() <= 31, "{} rows", found.len());
        assert!(found.iter().all(|b| b.last_at > now - 3600));
        let plan: String = db
            .conn()
            .query_row(
                "EXPLAIN QUERY PLAN SELECT n, last_at FROM throttle_counts
                 WHERE scope = 's' AND start > 1 AND last_at > 2 AND n > 0 ORDER BY start",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("PRIMARY KEY"), "{plan}");
    }
}
