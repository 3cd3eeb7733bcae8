//! The mail outbox: every email is a row first, queued in the same transaction as the change it
//! tells about, delivered later by the outbox thread and retried with back-off when delivery
//! fails, until it is sent or given up (`failed_at`). A message is never lost because the mail
//! server was down, and keeps its Message-ID across retries.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// A message as it is queued.
pub struct NewMessage<'a> {
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    /// `<…@…>`, fixed for the message's life.
    pub message_id: &'a str,
    /// Where a one-click unsubscribe (RFC 8058) goes, for notifications.
    pub unsubscribe_url: Option<&'a str>,
    /// The ticket a requester's notification is about (unsubscribing cancels it).
    pub ticket_id: Option<i64>,
}

/// A message waiting for delivery.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub unsubscribe_url: Option<String>,
    pub created_at: i64,
    pub attempts: i64,
}

/// Where a message stands, for the Mail page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Sent,
    Failed,
}

impl State {
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "queued" => Some(State::Queued),
            "sent" => Some(State::Sent),
            "failed" => Some(State::Failed),
            _ => None,
        }
    }
}

/// A row of the Mail page: everything but the bodies.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub state: State,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Cancelled by an unsubscribe: never sent, not even on retry.
    pub cancelled: bool,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_attempt_at: Option<i64>,
}

pub fn insert(tx: &Tx<'_>, m: &NewMessage<'_>) -> Result<i64> {
    tx.conn
        .prepare_cached(
            "INSERT INTO outbox (to_addr, subject, body_text, body_html, message_id, unsubscribe_url,
                                 ticket_id, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8, ?7, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                m.to_addr,
                m.subject,
                m.body_text,
                m.body_html,
                m.message_id,
                m.unsubscribe_url,
                tx.now,
                m.ticket_id
            ])
        })
        .context(|| format!("queueing mail to {}", m.to_addr))?;
    Ok(tx.conn.last_insert_rowid())
}

/// Messages whose next attempt is due (not sent, not given up), oldest first.
pub fn due(r: &impl Reader, now: i64, limit: usize) -> Result<Vec<Message>> {
    let run = || -> rusqlite::Result<Vec<Message>> {
        r.conn()
            .prepare_cached(
                "SELECT id, to_addr, subject, body_text, body_html, message_id, unsubscribe_url,
                        created_at, attempts
                 FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT ?2",
            )?
            .query_map(params![now, limit as i64], |row| {
                Ok(Message {
                    id: row.get(0)?,
                    to_addr: row.get(1)?,
                    subject: row.get(2)?,
                    body_text: row.get(3)?,
                    body_html: row.get(4)?,
                    message_id: row.get(5)?,
                    unsubscribe_url: row.get(6)?,
                    created_at: row.get(7)?,
                    attempts: row.get(8)?,
                })
            })?
            .collect()
    };
    run().context(|| "listing the mail due for delivery".to_string())
}

/// Marks a message delivered. Its bodies are cleared: they hold links with secrets (receipts,
/// later magic links), which need not outlive delivery.
pub fn mark_sent(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, body_text = '', body_html = '',
                    unsubscribe_url = NULL, last_error = NULL, failed_at = NULL
             WHERE id = ?1",
            params![id, tx.now],
        )
        .context(|| format!("marking mail {id} sent"))?;
    Ok(())
}

/// What the Mail page says of a message cancelled because its requester unsubscribed.
pub const UNSUBSCRIBED: &str = "the requester unsubscribed";

/// What happens to a message after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Tried again at this time.
    RetryAt(i64),
    /// Given up: delivery kept failing (counts towards the staff banner).
    GiveUp,
    /// Given up for a reason of this message alone (no such mailbox, a malformed address).
    Refused,
}

/// Records a failed attempt and what happens next — unless the message was given up or
/// cancelled meanwhile (an unsubscribe while it was being sent): that stays as it is.
pub fn mark_failed(tx: &Tx<'_>, id: i64, error: &str, next: Next) -> Result<()> {
    let (next_attempt_at, refused) = match next {
        Next::RetryAt(at) => (Some(at), false),
        Next::GiveUp => (None, false),
        Next::Refused => (None, true),
    };
    tx.conn
        .execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                    next_attempt_at = COALESCE(?3, next_attempt_at),
                    failed_at = CASE WHEN ?3 IS NULL THEN ?4 END,
                    first_failed_at = COALESCE(first_failed_at, ?4),
                    refused = ?5
             WHERE id = ?1 AND sent_at IS NULL AND failed_at IS NULL",
            params![id, error, next_attempt_at, tx.now, refused],
        )
        .context(|| format!("recording a failed delivery of mail {id}"))?;
    Ok(())
}

/// Forgets messages sent, or given up, before `before` (a sent one's body was cleared when it
/// went; this drops the rest of the row). Returns how many.
pub fn prune_finished(tx: &Tx<'_>, before: i64) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM outbox WHERE sent_at < ?1 OR failed_at < ?1",
            [before],
        )
        .context(|| "forgetting old sent and failed mail".to_string())
}

/// Queues a failed (or waiting) message again for an attempt now, with a fresh set of attempts.
/// `false` when it was already sent, was cancelled by an unsubscribe, or does not exist.
pub fn retry(tx: &Tx<'_>, id: i64) -> Result<bool> {
    let changed = tx
        .conn
        .execute(
            "UPDATE outbox SET failed_at = NULL, refused = 0, attempts = 0, next_attempt_at = ?2
             WHERE id = ?1 AND sent_at IS NULL AND cancelled = 0",
            params![id, tx.now],
        )
        .context(|| format!("queueing mail {id} again"))?;
    Ok(changed > 0)
}

/// Messages not yet delivered and not given up (for tests and the health of the queue).
pub fn pending_count(r: &impl Reader) -> Result<i64> {
    r.conn()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
            [],
            |row| row.get(0),
        )
        .context(|| "counting undelivered mail".to_string())
}

/// Whether delivery has been failing for a while: some message not yet sent first failed before
/// `since`; or one was given up in the last week (not one the server refused, nor one cancelled
/// by an unsubscribe); or three or more were refused since `since` (a server refusing
/// everything — a relay denied, a quota — rather than one bad address). Reads the unsent messages only (a partial index covers them).
pub fn failing_since(r: &impl Reader, since: i64) -> Result<bool> {
    r.conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL
                                                 AND first_failed_at <= ?1)
                 OR EXISTS (SELECT 1 FROM outbox WHERE failed_at >= ?1 - 7 * 86400
                                                    AND refused = 0 AND cancelled = 0)
                 OR (SELECT COUNT(*) FROM outbox WHERE failed_at >= ?1 AND refused = 1) >= 3",
        )
        .and_then(|mut s| s.query_row([since], |row| row.get(0)))
        .context(|| "checking for failing mail".to_string())
}

fn state_clause(state: Option<State>) -> &'static str {
    match state {
        None => "1",
        Some(State::Queued) => "sent_at IS NULL AND failed_at IS NULL",
        Some(State::Sent) => "sent_at IS NOT NULL",
        Some(State::Failed) => "failed_at IS NOT NULL",
    }
}

fn entry(row: &Row<'_>) -> rusqlite::Result<Entry> {
    let sent_at: Option<i64> = row.get(7)?;
    let failed_at: Option<i64> = row.get(8)?;
    let state = match (sent_at, failed_at) {
        (Some(_), _) => State::Sent,
        (None, Some(_)) => State::Failed,
        (None, None) => State::Queued,
    };
    Ok(Entry {
        id: row.get(0)?,
        to_addr: row.get(1)?,
        subject: row.get(2)?,
        state,
        attempts: row.get(3)?,
        last_error: row.get(4)?,
        cancelled: row.get(9)?,
        created_at: row.get(5)?,
        next_attempt_at: (state == State::Queued).then(|| row.get(6)).transpose()?,
        sent_at,
    })
}

/// One page of messages, newest first, in `state` (all when `None`); `before` is the id to
/// continue below (the "Older" link), so a page costs the same however deep it is.
pub fn list(
    r: &impl Reader,
    state: Option<State>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT id, to_addr, subject, attempts, last_error, created_at, next_attempt_at, sent_at, failed_at,
                    cancelled
         FROM outbox WHERE ({}) AND id < ?1 ORDER BY id DESC LIMIT ?2",
        state_clause(state)
    );
    let run = || -> rusqlite::Result<Vec<Entry>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params![before.unwrap_or(i64::MAX), limit as i64], entry)?
            .collect()
    };
    run().context(|| "listing mail".to_string())
}

/// How many messages are queued, sent and failed.
pub fn counts(r: &impl Reader) -> Result<(i64, i64, i64)> {
    r.conn()
        .query_row(
            "SELECT COUNT(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                    COUNT(*) FILTER (WHERE sent_at IS NOT NULL),
                    COUNT(*) FILTER (WHERE failed_at IS NOT NULL)
             FROM outbox",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .context(|| "counting mail".to_string())
}

/// One message's row for the Mail page.
pub fn get(r: &impl Reader, id: i64) -> Result<Option<Entry>> {
    r.conn()
        .prepare_cached(
            "SELECT id, to_addr, subject, attempts, last_error, created_at, next_attempt_at, sent_at, failed_at,
                    cancelled
             FROM outbox WHERE id = ?1",
        )
        .and_then(|mut s| s.query_row([id], entry).optional())
        .context(|| format!("loading mail {id}"))
}
