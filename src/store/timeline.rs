//! A ticket's timeline: comments (public replies and internal notes) and field-change events.

use rusqlite::params;
use serde::Serialize;

use crate::domain::{StaffId, TicketId, Visibility};
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// Who did something: a staff member, or a named outsider (a share-link visitor, later a contact).
pub struct Actor<'a> {
    pub staff_id: Option<StaffId>,
    pub name: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: i64,
    pub author_name: String,
    pub author_is_staff: bool,
    pub body: String,
    pub visibility: Visibility,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub actor_name: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub created_at: i64,
}

pub fn insert_comment(
    tx: &Tx<'_>,
    ticket: TicketId,
    author: &Actor<'_>,
    body: &str,
    visibility: Visibility,
) -> Result<i64> {
    insert_comment_at(tx, ticket, author, body, visibility, tx.now)
}

/// [`insert_comment`] at a given time — for seeding the demo only.
pub fn insert_comment_at(
    tx: &Tx<'_>,
    ticket: TicketId,
    author: &Actor<'_>,
    body: &str,
    visibility: Visibility,
    at: i64,
) -> Result<i64> {
    tx.conn
        .prepare_cached(
            "INSERT INTO comments (ticket_id, author_staff_id, author_name, body, visibility, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| s.execute(params![ticket.0, author.staff_id.map(|s| s.0), author.name, body, visibility.key(), at]))
        .context(|| format!("adding a {} comment to ticket id {ticket}", visibility.key()))?;
    Ok(tx.conn.last_insert_rowid())
}

/// Records which contact wrote comment `id` (a reply from the portal).
pub fn set_comment_contact(tx: &Tx<'_>, id: i64, contact: crate::domain::ContactId) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE comments SET author_contact_id = ?2 WHERE id = ?1",
            params![id, contact.0],
        )
        .context(|| format!("recording the author of comment {id}"))?;
    Ok(())
}

pub fn insert_event(
    tx: &Tx<'_>,
    ticket: TicketId,
    actor: &Actor<'_>,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<()> {
    tx.conn
        .prepare_cached(
            "INSERT INTO ticket_events (ticket_id, actor_staff_id, actor_name, field, old_value, new_value, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| s.execute(params![ticket.0, actor.staff_id.map(|s| s.0), actor.name, field, old, new, tx.now]))
        .context(|| format!("recording a change of {field} on ticket id {ticket}"))?;
    Ok(())
}

/// Every comment of a ticket, oldest first — internal notes included: staff pages only.
pub fn comments(r: &impl Reader, ticket: TicketId) -> Result<Vec<Comment>> {
    let run = || -> rusqlite::Result<Vec<Comment>> {
        r.conn()
        .prepare_cached(
            "SELECT id, author_name, author_staff_id IS NOT NULL, body, visibility, created_at FROM comments
             WHERE ticket_id = ?1 ORDER BY created_at, id",
        )?
        .query_map(params![ticket.0], |row| {
            Ok(Comment {
                id: row.get(0)?,
                author_name: row.get(1)?,
                author_is_staff: row.get(2)?,
                body: row.get(3)?,
                visibility: Visibility::parse(&row.get::<_, String>(4)?)
                    .unwrap_or(Visibility::Internal),
                created_at: row.get(5)?,
            })
        })?
        .collect()
    };
    run().context(|| format!("loading the comments of ticket id {ticket}"))
}

/// Every field change of a ticket, oldest first.
pub fn events(r: &impl Reader, ticket: TicketId) -> Result<Vec<Event>> {
    let run = || -> rusqlite::Result<Vec<Event>> {
        r.conn()
            .prepare_cached(
                "SELECT actor_name, field, old_value, new_value, created_at FROM ticket_events
                 WHERE ticket_id = ?1 ORDER BY created_at, id",
            )?
            .query_map([ticket.0], |row| {
                Ok(Event {
                    actor_name: row.get(0)?,
                    field: row.get(1)?,
                    old_value: row.get(2)?,
                    new_value: row.get(3)?,
                    created_at: row.get(4)?,
                })
            })?
            .collect()
    };
    run().context(|| format!("loading the field changes of ticket id {ticket}"))
}

/// One entry of the timeline a client sees: a public reply, or a change of status or
/// expected-by date. Never an internal note, never who on staff did it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicEntry {
    /// "reply" or the field that changed ("status", "expected_by").
    pub kind: String,
    /// The comment's id, for a reply (its files hang off it).
    pub comment_id: Option<i64>,
    /// Written or done by the client side (a contact or a share-link requester).
    pub from_client: bool,
    /// The client's name, for their entries; `None` for staff (shown as the agency).
    pub client_name: Option<String>,
    pub body: Option<String>,
    pub new_value: Option<String>,
    pub created_at: i64,
}

/// A ticket's public timeline, oldest first (see [`PublicEntry`]).
pub fn public_entries(r: &impl Reader, ticket: TicketId) -> Result<Vec<PublicEntry>> {
    let run = || -> rusqlite::Result<Vec<PublicEntry>> {
        r.conn()
            .prepare_cached(
                "SELECT 'reply', author_staff_id IS NULL, author_name, body, NULL, created_at, id
                   FROM comments WHERE ticket_id = ?1 AND visibility = 'public'
                 UNION ALL
                 SELECT field, actor_staff_id IS NULL, actor_name, NULL, new_value, created_at, id
                   FROM ticket_events WHERE ticket_id = ?1 AND field IN ('status', 'expected_by')
                 ORDER BY 6, 7",
            )?
            .query_map([ticket.0], |row| {
                let from_client: bool = row.get(1)?;
                let kind: String = row.get(0)?;
                Ok(PublicEntry {
                    comment_id: (kind == "reply").then(|| row.get(6)).transpose()?,
                    kind,
                    from_client,
                    client_name: if from_client { row.get(2)? } else { None },
                    body: row.get(3)?,
                    new_value: row.get(4)?,
                    created_at: row.get(5)?,
                })
            })?
            .collect()
    };
    run().context(|| format!("loading the public timeline of ticket id {ticket}"))
}
