//! The mail outbox: every email is a row first, delivered later by the outbox thread, retried
//! with back-off when delivery fails. A message is never lost because the mail server was down.

use rusqlite::params;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// A message waiting for delivery.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
}

pub fn insert(
    tx: &Tx<'_>,
    to_addr: &str,
    subject: &str,
    body_text: &str,
    body_html: &str,
) -> Result<i64> {
    tx.conn
        .prepare_cached(
            "INSERT INTO outbox (to_addr, subject, body_text, body_html, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .and_then(|mut s| s.execute(params![to_addr, subject, body_text, body_html, tx.now]))
        .context(|| format!("queueing mail to {to_addr}"))?;
    Ok(tx.conn.last_insert_rowid())
}

/// Unsent messages whose next attempt is due, oldest first.
pub fn due(r: &impl Reader, now: i64, limit: usize) -> Result<Vec<Message>> {
    let run = || -> rusqlite::Result<Vec<Message>> {
        r.conn()
            .prepare_cached(
                "SELECT id, to_addr, subject, body_text, body_html, attempts FROM outbox
                 WHERE sent_at IS NULL AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            )?
            .query_map(params![now, limit as i64], |row| {
                Ok(Message {
                    id: row.get(0)?,
                    to_addr: row.get(1)?,
                    subject: row.get(2)?,
                    body_text: row.get(3)?,
                    body_html: row.get(4)?,
                    attempts: row.get(5)?,
                })
            })?
            .collect()
    };
    run().context(|| "listing the mail due for delivery".to_string())
}

/// Marks a message delivered. Its bodies are cleared: they may hold links with secrets
/// (receipts, later magic links), which need not outlive delivery.
pub fn mark_sent(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, body_text = '', body_html = '', last_error = NULL
             WHERE id = ?1",
            params![id, tx.now],
        )
        .context(|| format!("marking mail {id} sent"))?;
    Ok(())
}

/// Records a failed attempt and when to try again.
pub fn mark_failed(tx: &Tx<'_>, id: i64, error: &str, next_attempt_at: i64) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            params![id, error, next_attempt_at],
        )
        .context(|| format!("recording a failed delivery of mail {id}"))?;
    Ok(())
}

/// Messages not yet delivered (for tests and the health of the queue).
pub fn pending_count(r: &impl Reader) -> Result<i64> {
    r.conn()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
            [],
            |row| row.get(0),
        )
        .context(|| "counting undelivered mail".to_string())
}
