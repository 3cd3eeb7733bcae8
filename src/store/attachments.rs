//! Attachments: which stored file (`files`, by SHA-256) belongs to which ticket message, under
//! what name, and whether it is internal (it came with an internal note).

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::{ContactId, StaffId, TicketId};
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: TicketId,
    /// `None`: the ticket's own description.
    pub comment_id: Option<i64>,
    pub sha256: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub inline_image: bool,
    pub internal: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, ticket_id, comment_id, sha256, name, size, content_type, inline_image, internal, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: row.get(0)?,
        ticket_id: TicketId(row.get(1)?),
        comment_id: row.get(2)?,
        sha256: row.get(3)?,
        name: row.get(4)?,
        size: row.get(5)?,
        content_type: row.get(6)?,
        inline_image: row.get(7)?,
        internal: row.get(8)?,
        created_at: row.get(9)?,
    })
}

/// A file stored and checked, ready to be recorded.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub sha256: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub inline_image: bool,
}

/// Who attached a file.
#[derive(Debug, Clone, Copy)]
pub enum Uploader {
    Staff(StaffId),
    Contact(ContactId),
    Visitor,
}

pub fn insert(
    tx: &Tx<'_>,
    ticket: TicketId,
    comment: Option<i64>,
    internal: bool,
    by: Uploader,
    a: &NewAttachment,
) -> Result<i64> {
    let (staff, contact) = match by {
        Uploader::Staff(s) => (Some(s.0), None),
        Uploader::Contact(c) => (None, Some(c.0)),
        Uploader::Visitor => (None, None),
    };
    tx.conn
        .prepare_cached(
            "INSERT INTO attachments (ticket_id, comment_id, sha256, name, size, content_type, inline_image,
                                      internal, uploaded_by_staff, uploaded_by_contact, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut s| {
            s.execute(params![
                ticket.0,
                comment,
                a.sha256,
                a.name,
                a.size,
                a.content_type,
                a.inline_image,
                internal,
                staff,
                contact,
                tx.now
            ])
        })
        .context(|| format!("attaching a file to ticket id {ticket}"))?;
    Ok(tx.conn.last_insert_rowid())
}

/// Every attachment of a ticket, oldest first; internal ones only when `with_internal`.
pub fn for_ticket(
    r: &impl Reader,
    ticket: TicketId,
    with_internal: bool,
) -> Result<Vec<Attachment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE ticket_id = ?1 AND (?2 OR internal = 0) ORDER BY id"
    );
    let run = || -> rusqlite::Result<Vec<Attachment>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params![ticket.0, with_internal], from_row)?
            .collect()
    };
    run().context(|| format!("listing the attachments of ticket id {ticket}"))
}

/// Attachment `id` of `ticket` — internal ones only when `with_internal`. `None` for every
/// other attachment alike.
pub fn get(
    r: &impl Reader,
    ticket: TicketId,
    id: i64,
    with_internal: bool,
) -> Result<Option<Attachment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments WHERE id = ?1 AND ticket_id = ?2 AND (?3 OR internal = 0)"
    );
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(params![id, ticket.0, with_internal], from_row)
                .optional()
        })
        .context(|| format!("loading attachment {id}"))
}

/// Bytes of a ticket's attachments (its limit) — internal ones only when `with_internal` (a
/// client's limit never depends on, or tells of, what staff attached to notes).
pub fn total_size(r: &impl Reader, ticket: TicketId, with_internal: bool) -> Result<i64> {
    r.conn()
        .prepare_cached(
            "SELECT COALESCE(SUM(size), 0) FROM attachments WHERE ticket_id = ?1 AND (?2 OR internal = 0)",
        )
        .and_then(|mut s| s.query_row(params![ticket.0, with_internal], |row| row.get(0)))
        .context(|| format!("adding up the attachments of ticket id {ticket}"))
}

pub fn delete(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.conn
        .execute("DELETE FROM attachments WHERE id = ?1", [id])
        .context(|| format!("removing attachment {id}"))?;
    Ok(())
}

/// Whether any row still names the stored file `sha256`: an attachment, a logo or a picture.
pub fn file_in_use(r: &impl Reader, sha256: &str) -> Result<bool> {
    let prefix = format!("{sha256}.%");
    r.conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM settings WHERE key = 'logo' AND value LIKE ?2)
                 OR EXISTS (SELECT 1 FROM projects WHERE share_logo LIKE ?2)
                 OR EXISTS (SELECT 1 FROM portals WHERE logo LIKE ?2)
                 OR EXISTS (SELECT 1 FROM contacts WHERE avatar LIKE ?2)",
        )
        .and_then(|mut s| s.query_row(params![sha256, prefix], |row| row.get(0)))
        .context(|| "checking whether a stored file is in use".to_string())
}

/// Every stored file the database at `path` (a backup copy) names: attachments, logos, pictures.
pub fn files_named_in(path: &std::path::Path) -> Result<Vec<String>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .context(|| format!("opening {}", path.display()))?;
    let run = || -> rusqlite::Result<Vec<String>> {
        conn.prepare(
            "SELECT sha256 FROM attachments
             UNION SELECT substr(value, 1, 64) FROM settings WHERE key = 'logo'
             UNION SELECT substr(share_logo, 1, 64) FROM projects WHERE share_logo IS NOT NULL
             UNION SELECT substr(logo, 1, 64) FROM portals WHERE logo IS NOT NULL
             UNION SELECT substr(avatar, 1, 64) FROM contacts WHERE avatar IS NOT NULL",
        )?
        .query_map([], |row| row.get(0))?
        .collect()
    };
    run().context(|| "listing the stored files a backup refers to".to_string())
}
