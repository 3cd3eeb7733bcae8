//! Throttle counters: how many events (failed sign-ins, share-link submissions) a scope such as
//! `login-ip:203.0.113.9` had in each time bucket. `auth::throttle` sums the buckets of a window.
//!
//! Why buckets rather than one row per event: a check then reads a handful of rows whatever the
//! limit — one row per event made a check walk every event of the window (47,000 rows behind a
//! proxy with a high limit cost 3–5 ms a submission, half the server's CPU under load).
//!
//! Where counts are kept ([`Kept`]): sign-ins, portal requests and contacts' messages in the
//! database (`throttle_counts`), so a restart forgets no lockout. Share-link visitors' counts live
//! in memory, in a `TEMP` table of the writer connection (`visitor_counts`), still written in the
//! same transaction as what they count and rolled back with it. Why: every new visitor address
//! is a new row at a random place in the table and its index — measured as about 9 of the 52
//! pages a busy submission commit wrote to the log (a fifth of submissions' throughput), for a
//! count that matters for an hour. What that costs: a restart forgets visitors' counts. Memory
//! stays bounded: once a second, buckets past the window go, and beyond
//! [`VISITOR_BUCKETS_KEPT`] live buckets the oldest move to the database table, in one write —
//! so a flood of addresses costs disk writes again, but no count is ever forgotten early.
//! Visitors' checks read both tables.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// Where a scope's counts are kept (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// In the database file: survive restarts.
    OnDisk,
    /// In the writer connection's memory: only a write (a [`Tx`]) can read them.
    InMemory,
}

impl Kept {
    /// Where new events are counted.
    fn table(self) -> &'static str {
        self.tables()[0]
    }

    /// Where events may be: in-memory buckets may have moved to the database.
    fn tables(self) -> &'static [&'static str] {
        match self {
            Kept::OnDisk => &["main.throttle_counts"],
            Kept::InMemory => &["temp.visitor_counts", "main.throttle_counts"],
        }
    }
}

/// Most buckets of [`Kept::InMemory`] counts kept in memory (about 100 bytes each).
pub const VISITOR_BUCKETS_KEPT: i64 = 10_000;

/// The longest window of a [`Kept::InMemory`] limit: older buckets are dropped.
pub const VISITOR_WINDOW_SECS: i64 = 3600;

/// Creates the in-memory table on the writer connection (it lasts as long as the connection).
pub(crate) fn create_in_memory(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS visitor_counts (
             scope   TEXT    NOT NULL,
             start   INTEGER NOT NULL,
             n       INTEGER NOT NULL,
             last_at INTEGER NOT NULL,
             PRIMARY KEY (scope, start)
         ) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS temp.visitor_counts_start ON visitor_counts(start);",
    )
    .context(|| "creating the in-memory throttle counts".to_string())
}

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
    kept: Kept,
    scope: &str,
    started_after: i64,
    event_after: i64,
) -> Result<Vec<Bucket>> {
    let sql = match kept {
        Kept::OnDisk => {
            "SELECT n, last_at FROM main.throttle_counts
             WHERE scope = ?1 AND start > ?2 AND last_at > ?3 AND n > 0 ORDER BY start"
        }
        // Live buckets moved to the database when memory was full count too.
        Kept::InMemory => {
            "SELECT n, last_at, start FROM temp.visitor_counts
             WHERE scope = ?1 AND start > ?2 AND last_at > ?3 AND n > 0
             UNION ALL
             SELECT n, last_at, start FROM main.throttle_counts
             WHERE scope = ?1 AND start > ?2 AND last_at > ?3 AND n > 0 ORDER BY 3"
        }
    };
    let run = || -> rusqlite::Result<Vec<Bucket>> {
        r.conn()
            .prepare_cached(sql)?
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
pub fn increment(tx: &Tx<'_>, kept: Kept, scope: &str, start: i64) -> Result<()> {
    tx.conn
        .prepare_cached(&format!(
            "INSERT INTO {} (scope, start, n, last_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (scope, start) DO UPDATE SET n = n + 1, last_at = excluded.last_at",
            kept.table()
        ))
        .and_then(|mut s| s.execute(params![scope, start, tx.now]))
        .context(|| format!("counting a throttle event of {scope}"))?;
    Ok(())
}

/// Takes back one event counted by [`increment`] (an attempt that turned out fine).
pub fn decrement(tx: &Tx<'_>, kept: Kept, scope: &str, start: i64) -> Result<()> {
    for table in kept.tables() {
        tx.conn
            .execute(
                &format!("UPDATE {table} SET n = n - 1 WHERE scope = ?1 AND start = ?2 AND n > 0"),
                params![scope, start],
            )
            .context(|| format!("taking back a throttle event of {scope}"))?;
    }
    Ok(())
}

/// Forgets a scope's events (a successful sign-in clears the account's failures).
pub fn clear(tx: &Tx<'_>, kept: Kept, scope: &str) -> Result<()> {
    for table in kept.tables() {
        tx.conn
            .execute(&format!("DELETE FROM {table} WHERE scope = ?1"), [scope])
            .context(|| format!("clearing throttle counts of {scope}"))?;
    }
    Ok(())
}

/// Drops buckets that started before `before`; nothing older is ever counted.
pub fn prune(tx: &Tx<'_>, before: i64) -> Result<usize> {
    let mut pruned = 0;
    for kept in [Kept::OnDisk, Kept::InMemory] {
        pruned += tx
            .conn
            .execute(
                &format!("DELETE FROM {} WHERE start < ?1", kept.table()),
                [before],
            )
            .context(|| "pruning old throttle counts".to_string())?;
    }
    Ok(pruned)
}

/// Bounds the in-memory buckets: drops those that started before `expired_before` (past every
/// window), then moves the oldest beyond `keep` to the database table. Returns how many were
/// dropped and how many moved.
pub fn bound_in_memory(tx: &Tx<'_>, expired_before: i64, keep: i64) -> Result<(usize, usize)> {
    let run = || -> rusqlite::Result<(usize, usize)> {
        let dropped = tx
            .conn
            .prepare_cached("DELETE FROM temp.visitor_counts WHERE start < ?1")?
            .execute([expired_before])?;
        let over: i64 = tx.conn.query_row(
            "SELECT max(0, count(*) - ?1) FROM temp.visitor_counts",
            [keep],
            |r| r.get(0),
        )?;
        if over == 0 {
            return Ok((dropped, 0));
        }
        // The oldest `over` buckets, ordered by the whole key so both statements pick the same.
        let oldest = "(scope, start) IN (SELECT scope, start FROM temp.visitor_counts
                                        ORDER BY start, scope LIMIT ?1)";
        let moved = tx.conn.execute(
            &format!(
                "INSERT INTO main.throttle_counts (scope, start, n, last_at)
                 SELECT scope, start, n, last_at FROM temp.visitor_counts WHERE {oldest}
                 ON CONFLICT (scope, start) DO UPDATE
                 SET n = n + excluded.n, last_at = max(last_at, excluded.last_at)"
            ),
            [over],
        )?;
        tx.conn.execute(
            &format!("DELETE FROM temp.visitor_counts WHERE {oldest}"),
            [over],
        )?;
        Ok((dropped, moved))
    };
    run().context(|| "bounding the in-memory throttle counts".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, Synchronous};

    /// The background bounds visitors' counts every second: that write, and counting in memory
    /// at all, must not look like a change to readers, or every kept view would be rebuilt.
    #[test]
    fn counting_in_memory_changes_nothing_readers_see() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite3"), Synchronous::Normal).unwrap();
        let db = store.connect().unwrap();
        let reader = store.connect().unwrap();
        let before = reader.data_version().unwrap();
        db.write(|tx| increment(tx, Kept::InMemory, "v", 0))
            .unwrap();
        db.write(|tx| bound_in_memory(tx, -1, 1)).unwrap();
        db.write(|tx| bound_in_memory(tx, -1, 1)).unwrap();
        assert_eq!(reader.data_version().unwrap(), before);
        // A change in the database is seen (the check above can fail).
        db.write(|tx| increment(tx, Kept::OnDisk, "s", 0)).unwrap();
        assert_ne!(reader.data_version().unwrap(), before);
    }

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
        let found = buckets(&db, Kept::OnDisk, "s", now - 3600 - 120, now - 3600).unwrap();
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
