//! One-time tokens (first-run setup; later invitations, magic links, password resets), stored
//! as SHA-256 hashes.

use rusqlite::{OptionalExtension, params};

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// The first-run token that lets someone create the first admin.
pub const KIND_SETUP: &str = "setup";

pub fn insert(
    tx: &Tx<'_>,
    hash: &[u8],
    kind: &str,
    subject_id: Option<i64>,
    expires_at: Option<i64>,
) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO tokens (hash, kind, subject_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, kind, subject_id, tx.now, expires_at],
        )
        .context(|| format!("storing a {kind} token"))?;
    Ok(())
}

/// Whether an unexpired token of `kind` with this hash exists.
pub fn is_valid(r: &impl Reader, hash: &[u8], kind: &str, now: i64) -> Result<bool> {
    let found = r
        .conn()
        .prepare_cached("SELECT 1 FROM tokens WHERE hash = ?1 AND kind = ?2 AND (expires_at IS NULL OR expires_at > ?3)")
        .and_then(|mut s| s.query_row(params![hash, kind, now], |_| Ok(())).optional())
        .context(|| format!("checking a {kind} token"))?;
    Ok(found.is_some())
}

/// Consumes a token: deletes it and returns its subject, or `None` when it was not valid.
pub fn take(tx: &Tx<'_>, hash: &[u8], kind: &str) -> Result<Option<Option<i64>>> {
    let subject = tx
        .conn
        .query_row(
            "DELETE FROM tokens WHERE hash = ?1 AND kind = ?2 AND (expires_at IS NULL OR expires_at > ?3)
             RETURNING subject_id",
            params![hash, kind, tx.now],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()
        .context(|| format!("consuming a {kind} token"))?;
    Ok(subject)
}

/// Removes every token of one kind (e.g. all setup tokens once an admin exists).
pub fn delete_kind(tx: &Tx<'_>, kind: &str) -> Result<usize> {
    tx.conn
        .execute("DELETE FROM tokens WHERE kind = ?1", [kind])
        .context(|| format!("deleting the {kind} tokens"))
}

/// Stores a token usable in one portal only (magic links, invitations, resets, signups).
pub fn insert_for_portal(
    tx: &Tx<'_>,
    hash: &[u8],
    kind: &str,
    subject_id: i64,
    portal_id: i64,
    expires_at: i64,
) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO tokens (hash, kind, subject_id, portal_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, kind, subject_id, portal_id, tx.now, expires_at],
        )
        .context(|| format!("storing a {kind} token"))?;
    Ok(())
}

/// The subject of a live `kind` token of `portal_id`, without consuming it (the page a link
/// opens; only its form's POST consumes it, so a mail scanner's GET burns nothing).
pub fn peek_for_portal(
    r: &impl Reader,
    hash: &[u8],
    kind: &str,
    portal_id: i64,
    now: i64,
) -> Result<Option<i64>> {
    r.conn()
        .prepare_cached(
            "SELECT subject_id FROM tokens WHERE hash = ?1 AND kind = ?2 AND portal_id = ?3
               AND expires_at > ?4 AND subject_id IS NOT NULL",
        )
        .and_then(|mut s| {
            s.query_row(params![hash, kind, portal_id, now], |row| row.get(0))
                .optional()
        })
        .context(|| format!("checking a {kind} link"))
}

/// Consumes a live `kind` token of `portal_id`: deletes it and returns its subject.
pub fn take_for_portal(
    tx: &Tx<'_>,
    hash: &[u8],
    kind: &str,
    portal_id: i64,
) -> Result<Option<i64>> {
    tx.conn
        .query_row(
            "DELETE FROM tokens WHERE hash = ?1 AND kind = ?2 AND portal_id = ?3 AND expires_at > ?4
               AND subject_id IS NOT NULL
             RETURNING subject_id",
            params![hash, kind, portal_id, tx.now],
            |row| row.get(0),
        )
        .optional()
        .context(|| format!("using a {kind} link"))
}
