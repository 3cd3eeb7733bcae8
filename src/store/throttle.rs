//! Counted events for throttling (failed sign-ins, share-link submissions), per scope key
//! such as `login-ip:203.0.113.9` or `login-email:ana@example.com`.

use rusqlite::{OptionalExtension, params};

use crate::error::Result;
use crate::store::{Reader, Tx};

/// When the `n`-th most recent event of `scope` after `since` happened, if there were that
/// many. Reads at most `n` index entries however many events there are.
pub fn nth_newest_since(r: &impl Reader, scope: &str, since: i64, n: u32) -> Result<Option<i64>> {
    let mut stmt = r.conn().prepare_cached(
        "SELECT at FROM throttle_events WHERE scope = ?1 AND at > ?2 ORDER BY at DESC LIMIT 1 OFFSET ?3",
    )?;
    Ok(stmt
        .query_row(params![scope, since, i64::from(n.max(1)) - 1], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Records an event; returns its id (to take it back with `delete`).
pub fn record(tx: &Tx<'_>, scope: &str) -> Result<i64> {
    tx.conn
        .prepare_cached("INSERT INTO throttle_events (scope, at) VALUES (?1, ?2)")?
        .execute(params![scope, tx.now])?;
    Ok(tx.conn.last_insert_rowid())
}

/// Takes one event back (an attempt that turned out fine).
pub fn delete(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.conn
        .execute("DELETE FROM throttle_events WHERE id = ?1", [id])?;
    Ok(())
}

/// Forgets a scope's events (a successful sign-in clears the account's failures).
pub fn clear(tx: &Tx<'_>, scope: &str) -> Result<()> {
    tx.conn
        .execute("DELETE FROM throttle_events WHERE scope = ?1", [scope])?;
    Ok(())
}

/// Drops events older than `before`; nothing older is ever counted.
pub fn prune(tx: &Tx<'_>, before: i64) -> Result<usize> {
    Ok(tx
        .conn
        .execute("DELETE FROM throttle_events WHERE at <= ?1", [before])?)
}
