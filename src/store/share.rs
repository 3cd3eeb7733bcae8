//! What share-link visitors may read — a separate query path that never touches the staff
//! queries, and whose rows carry only what the board may show: reference, (public) title,
//! status, dates. No description, comment, requester or assignee column is ever selected here,
//! except the submitter's own ticket on their receipt page.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::Serialize;

use crate::domain::{ProjectId, Status, TicketId};
use crate::error::Result;
use crate::store::paging::{self, Key, Page, Seek, keyset};
use crate::store::{Conn, Context, Reader, Tx, search};

/// One line of a project's public board (`Hash`: see `web::fragments`).
#[derive(Debug, Clone, Serialize, Hash)]
pub struct BoardRow {
    pub reference: String,
    /// The public title when staff set one, else the subject.
    pub title: String,
    pub status: Status,
    pub expected_by: Option<String>,
    pub created_at: i64,
    /// The last change a visitor could see (not internal notes or assignments).
    pub updated_at: i64,
}

/// Board filters: status and a search over the titles visitors see (`search::Scope::Board`).
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    pub status: Option<Status>,
    pub search: Option<search::Plan>,
}

/// The submitter's own ticket, for their receipt page.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    #[serde(skip)]
    pub id: TicketId,
    pub reference: String,
    pub subject: String,
    pub body: String,
    pub status: Status,
    pub expected_by: Option<String>,
    pub created_at: i64,
    /// The name the submitter gave, for their own replies.
    pub requester_name: Option<String>,
    /// Whether replies and changes are emailed to the submitter (they gave an address and did
    /// not unsubscribe).
    pub emailed: bool,
}

// The title visitors see. Searching it (and never the subject behind a public title) keeps a
// hidden subject from being probed through the search box (see `store::search`).
const TITLE: &str = "COALESCE(t.public_title, t.subject)";

/// The board's conditions; a walk's LIKE test too when `with_walk` (for counting: a page walks
/// with the test as a column, see `board_walked`).
fn where_clause(
    project: ProjectId,
    filter: &BoardFilter,
    with_status: bool,
    with_walk: bool,
    args: &mut Vec<Value>,
) -> String {
    args.push(Value::Integer(project.0));
    let mut sql = format!("t.project_id = ?{} AND t.shared = 1", args.len());
    if let (true, Some(status)) = (with_status, filter.status) {
        args.push(Value::Text(status.key().into()));
        sql.push_str(&format!(" AND t.status = ?{}", args.len()));
    }
    if let Some(walk) = filter
        .search
        .as_ref()
        .filter(|_| with_walk)
        .and_then(|plan| plan.walk_condition(&[TITLE], args))
    {
        sql.push_str(&format!(" AND {walk}"));
    }
    sql
}

/// One page of the board, most recent visible activity first.
pub fn board(
    r: &impl Reader,
    project: ProjectId,
    filter: &BoardFilter,
    seek: Seek,
    limit: usize,
) -> Result<Page<BoardRow>> {
    if let Some(plan @ search::Plan::Walk { .. }) = &filter.search {
        return board_walked(r, project, filter, plan, seek, limit);
    }
    let mut args = Vec::new();
    let hits = filter.search.as_ref().and_then(|p| p.hits_cte(&mut args));
    let clause = where_clause(project, filter, true, true, &mut args);
    let (position, order) = keyset(None, "t.public_updated_at", "t.id", seek, &mut args);
    args.push(Value::Integer(limit as i64 + 1));
    // With few search hits the page is made from them (CROSS JOIN: hits first), never by
    // walking the board and asking about every ticket.
    let (with, from) = match &hits {
        Some(cte) => (
            format!("WITH {cte}"),
            "hits h CROSS JOIN tickets t ON t.id = h.id".to_string(),
        ),
        None => (String::new(), "tickets t".to_string()),
    };
    let sql = format!(
        "{with} SELECT {BOARD_COLUMNS}
         FROM {from} JOIN projects p ON p.id = t.project_id
         WHERE {clause} AND {position} ORDER BY {order} LIMIT ?{}",
        args.len()
    );
    let run = || -> rusqlite::Result<Vec<(BoardRow, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), board_row)?
            .collect()
    };
    let fetched = run().context(|| format!("listing the shared board of project {project}"))?;
    Ok(Page::from_fetched(fetched, limit, seek))
}

/// The columns of a board row, then the ticket's id.
const BOARD_COLUMNS: &str = "p.key || '-' || t.number, COALESCE(t.public_title, t.subject), \
     t.status, t.expected_by, t.created_at, t.public_updated_at, t.id";

fn board_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(BoardRow, Key)> {
    let board_row = BoardRow {
        reference: row.get(0)?,
        title: row.get(1)?,
        status: Status::parse(row.get_ref(2)?.as_str()?).unwrap_or(Status::Open),
        expected_by: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    };
    let key = Key {
        rank: 0,
        sort: board_row.updated_at,
        id: row.get(6)?,
    };
    Ok((board_row, key))
}

/// A page of a board search with many matches: the board walked in its order, at most
/// `paging::WALK_BUDGET` tickets looked at (see `store::paging`).
fn board_walked(
    r: &impl Reader,
    project: ProjectId,
    filter: &BoardFilter,
    plan: &search::Plan,
    seek: Seek,
    limit: usize,
) -> Result<Page<BoardRow>> {
    let mut args = Vec::new();
    let clause = where_clause(project, filter, true, false, &mut args);
    let hit = plan
        .walk_condition(&[TITLE], &mut args)
        .expect("a walk has a condition");
    let (position, order) = keyset(None, "t.public_updated_at", "t.id", seek, &mut args);
    args.push(Value::Integer(paging::WALK_BUDGET + 1));
    let sql = format!(
        "SELECT t.id, t.public_updated_at, {hit} FROM tickets t WHERE {clause} AND {position}
         ORDER BY {order} LIMIT ?{}",
        args.len()
    );
    let walked = paging::walk(r.conn(), &sql, args, limit)
        .context(|| format!("searching the shared board of project {project}"))?;
    if walked.hits.is_empty() {
        return Ok(Page::from_walk(Vec::new(), limit, seek, &walked));
    }
    // The rows of the hits (still on this board), in walk order with the walk's keys.
    let marks = vec!["?"; walked.hits.len()].join(", ");
    let sql = format!(
        "SELECT {BOARD_COLUMNS} FROM tickets t JOIN projects p ON p.id = t.project_id
         WHERE t.id IN ({marks}) AND +t.project_id = ? AND +t.shared = 1"
    );
    // (The unary `+` keeps SQLite from reading the rows through the board's index — all of a
    // big board — instead of looking the few ids up: measured 70 ms against 0.1 ms at 1M.)
    let mut args: Vec<Value> = walked.hits.iter().map(|k| Value::Integer(k.id)).collect();
    args.push(Value::Integer(project.0));
    let run = || -> rusqlite::Result<Vec<(BoardRow, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), board_row)?
            .collect()
    };
    let mut found: std::collections::HashMap<i64, BoardRow> = run()
        .context(|| format!("loading the shared board of project {project}"))?
        .into_iter()
        .map(|(row, key)| (key.id, row))
        .collect();
    let fetched = walked
        .hits
        .iter()
        .filter_map(|k| found.remove(&k.id).map(|row| (row, *k)))
        .collect();
    Ok(Page::from_walk(fetched, limit, seek, &walked))
}

/// Shared tickets per status under the search filter, in `Status::ALL` order; `None` when a
/// search matches too many to count. Without a search they come from the trigger-maintained
/// `board_counts`.
pub fn board_counts(
    r: &impl Reader,
    project: ProjectId,
    filter: &BoardFilter,
) -> Result<Option<Vec<(Status, i64)>>> {
    let mut args = Vec::new();
    let sql = match &filter.search {
        None => {
            args.push(Value::Integer(project.0));
            "SELECT status, n FROM board_counts WHERE project_id = ?1".to_string()
        }
        // Counted only when the index answers (few matches on this board).
        Some(plan) => match plan.hits_cte(&mut args) {
            Some(cte) => {
                let clause = where_clause(project, filter, false, true, &mut args);
                format!(
                    "WITH {cte} SELECT t.status, COUNT(*) FROM hits h CROSS JOIN tickets t
                     ON t.id = h.id WHERE {clause} GROUP BY t.status"
                )
            }
            None => return Ok(None),
        },
    };
    let run = || -> rusqlite::Result<Vec<(Status, i64)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                Ok((
                    Status::parse(row.get_ref(0)?.as_str()?).unwrap_or(Status::Open),
                    row.get::<_, i64>(1)?,
                ))
            })?
            .collect()
    };
    let found = run().context(|| {
        format!("counting the shared board's tickets by status in project {project}")
    })?;
    Ok(Some(
        Status::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    found.iter().filter(|(f, _)| f == s).map(|(_, n)| n).sum(),
                )
            })
            .collect(),
    ))
}

/// A public reply as the submitter reads it on their receipt page: text, time and whose side it
/// came from — never a staff member's name.
#[derive(Debug, Clone, Serialize)]
pub struct PublicReply {
    /// The comment's id (its files hang off it).
    pub id: i64,
    pub body: String,
    pub created_at: i64,
    /// Written by the submitter (through the receipt page), not by staff.
    pub from_requester: bool,
}

/// The public replies on the ticket behind a receipt, oldest first — scoped like the receipt
/// itself (project and receipt hash), so no other ticket's replies can come back from here.
pub fn receipt_replies(
    r: &impl Reader,
    project: ProjectId,
    receipt_hash: &[u8],
) -> Result<Vec<PublicReply>> {
    r.conn()
        .prepare_cached(
            "SELECT c.body, c.created_at, c.author_staff_id IS NULL, c.id
             FROM comments c JOIN tickets t ON t.id = c.ticket_id
             JOIN ticket_tokens k ON k.ticket_id = t.id
             WHERE t.project_id = ?1 AND k.hash = ?2 AND k.kind = 'receipt' AND c.visibility = 'public'
             ORDER BY c.created_at, c.id",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![project.0, receipt_hash], |row| {
                Ok(PublicReply {
                    body: row.get(0)?,
                    created_at: row.get(1)?,
                    from_requester: row.get(2)?,
                    id: row.get(3)?,
                })
            })?
            .collect()
        })
        .context(|| format!("loading the replies on a receipt in project {project}"))
}

/// The ticket whose receipt token keys as `receipt_hash` (`Secret::key`) — only within `project`, so a
/// receipt never opens through another project's link.
pub fn receipt(
    r: &impl Reader,
    project: ProjectId,
    receipt_hash: &[u8],
) -> Result<Option<Receipt>> {
    let run = || -> rusqlite::Result<Option<Receipt>> {
        r.conn()
            .prepare_cached(
                "SELECT t.id, p.key || '-' || t.number, t.subject, t.body, t.status, t.expected_by, t.created_at,
                        t.requester_name, t.requester_email IS NOT NULL AND t.requester_notify
                 FROM tickets t JOIN projects p ON p.id = t.project_id
                 JOIN ticket_tokens k ON k.ticket_id = t.id
                 WHERE t.project_id = ?1 AND k.hash = ?2 AND k.kind = 'receipt'",
            )?
            .query_row(params![project.0, receipt_hash], |row| {
                Ok(Receipt {
                    id: TicketId(row.get(0)?),
                    reference: row.get(1)?,
                    subject: row.get(2)?,
                    body: row.get(3)?,
                    status: Status::parse(row.get_ref(4)?.as_str()?).unwrap_or(Status::Open),
                    expected_by: row.get(5)?,
                    created_at: row.get(6)?,
                    requester_name: row.get(7)?,
                    emailed: row.get(8)?,
                })
            })
            .optional()
    };
    // The receipt token (and its hash) is a secret: the context names only the project.
    run().context(|| format!("loading a submitter's receipt in project {project}"))
}

/// Adds a receipt link to a ticket: one per email sent to its submitter, each kept valid.
pub fn add_receipt_token(tx: &Tx<'_>, ticket: TicketId, hash: &[u8]) -> Result<()> {
    add_token(tx, ticket, hash, "receipt")
}

/// Adds an unsubscribe link to a ticket (it opens nothing but the unsubscribe page).
pub fn add_unsubscribe_token(tx: &Tx<'_>, ticket: TicketId, hash: &[u8]) -> Result<()> {
    add_token(tx, ticket, hash, "unsubscribe")
}

fn add_token(tx: &Tx<'_>, ticket: TicketId, hash: &[u8], kind: &str) -> Result<()> {
    tx.conn
        .prepare_cached(
            "INSERT INTO ticket_tokens (hash, ticket_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![hash, ticket.0, kind, tx.now]))
        .context(|| format!("adding a {kind} link to ticket id {ticket}"))?;
    Ok(())
}

/// What an unsubscribe link shows: the ticket behind a receipt token, in any project and
/// whether or not its link is still live (unsubscribing must keep working).
#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub reference: String,
    pub project_id: ProjectId,
    /// Whether email about the ticket is still on.
    pub notify: bool,
}

pub fn subscription(r: &impl Reader, token_hash: &[u8]) -> Result<Option<Subscription>> {
    r.conn()
        .prepare_cached(
            "SELECT p.key || '-' || t.number, t.project_id, t.requester_notify
             FROM ticket_tokens k JOIN tickets t ON t.id = k.ticket_id JOIN projects p ON p.id = t.project_id
             WHERE k.hash = ?1 AND k.kind = 'unsubscribe'",
        )
        .and_then(|mut s| {
            s.query_row([token_hash], |row| {
                Ok(Subscription {
                    reference: row.get(0)?,
                    project_id: ProjectId(row.get(1)?),
                    notify: row.get(2)?,
                })
            })
            .optional()
        })
        .context(|| "loading the ticket behind an unsubscribe link".to_string())
}

/// Stops email to the submitter about the ticket behind an unsubscribe token — what is still
/// queued for them about it included. `false` when the token is unknown.
pub fn unsubscribe(tx: &Tx<'_>, token_hash: &[u8]) -> Result<bool> {
    let run = || -> rusqlite::Result<bool> {
        let ticket: Option<i64> = tx
            .conn
            .query_row(
                "SELECT ticket_id FROM ticket_tokens WHERE hash = ?1 AND kind = 'unsubscribe'",
                [token_hash],
                |r| r.get(0),
            )
            .optional()?;
        let Some(ticket) = ticket else {
            return Ok(false);
        };
        tx.conn.execute(
            "UPDATE tickets SET requester_notify = 0 WHERE id = ?1",
            [ticket],
        )?;
        tx.conn.execute(
            "UPDATE outbox SET failed_at = ?2, cancelled = 1, last_error = ?3
             WHERE ticket_id = ?1 AND sent_at IS NULL AND failed_at IS NULL",
            params![ticket, tx.now, super::outbox::UNSUBSCRIBED],
        )?;
        Ok(true)
    };
    run().context(|| "unsubscribing a submitter".to_string())
}
