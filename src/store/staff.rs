//! Staff accounts.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::{Role, StaffId};
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// A staff account. The password hash never leaves the store except for verification.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub id: StaffId,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub created_at: i64,
    /// Email me about new tickets (from the share link, unassigned).
    pub notify_new_tickets: bool,
    /// Email me when a client replies on a ticket assigned to me.
    pub notify_assigned_replies: bool,
}

/// What `insert` needs.
pub struct NewStaff<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

const COLUMNS: &str = "id, email, name, password_hash, role, active, created_at, notify_new_tickets, notify_assigned_replies";

/// Reads the first nine columns in `COLUMNS` order.
pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Staff> {
    Ok(Staff {
        id: StaffId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        password_hash: row.get(3)?,
        role: Role::parse(&row.get::<_, String>(4)?).unwrap_or(Role::Agent),
        active: row.get(5)?,
        created_at: row.get(6)?,
        notify_new_tickets: row.get(7)?,
        notify_assigned_replies: row.get(8)?,
    })
}

/// How many staff accounts exist, active or not (0 means "first run: offer setup").
pub fn count(r: &impl Reader) -> Result<i64> {
    r.conn()
        .query_row("SELECT COUNT(*) FROM staff", [], |row| row.get(0))
        .context(|| "counting staff accounts".to_string())
}

pub fn count_active_admins(r: &impl Reader) -> Result<i64> {
    r.conn()
        .query_row(
            "SELECT COUNT(*) FROM staff WHERE role = 'admin' AND active = 1",
            [],
            |row| row.get(0),
        )
        .context(|| "counting active admins".to_string())
}

pub fn get(r: &impl Reader, id: StaffId) -> Result<Option<Staff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], from_row).optional())
        .context(|| format!("loading staff account {id}"))
}

/// Looks an account up by email, case-insensitively.
pub fn get_by_email(r: &impl Reader, email: &str) -> Result<Option<Staff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE email = ?1");
    let email = email.trim();
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([email], from_row).optional())
        .context(|| format!("loading the staff account {email}"))
}

/// Every account, active first, then by name.
pub fn list(r: &impl Reader) -> Result<Vec<Staff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff ORDER BY active DESC, name COLLATE NOCASE, id");
    let run = || -> rusqlite::Result<Vec<Staff>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([], from_row)?
            .collect()
    };
    run().context(|| "listing staff accounts".to_string())
}

/// Active accounts only: who tickets can be assigned to.
pub fn list_active(r: &impl Reader) -> Result<Vec<Staff>> {
    Ok(list(r)?.into_iter().filter(|s| s.active).collect())
}

/// Inserts an account; a duplicate email is a unique violation (see `store::is_unique_violation`).
pub fn insert(tx: &Tx<'_>, new: &NewStaff<'_>) -> Result<StaffId> {
    tx.conn
        .execute(
            "INSERT INTO staff (email, name, password_hash, role, active, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
            params![
                new.email.trim(),
                new.name.trim(),
                new.password_hash,
                new.role.key(),
                tx.now
            ],
        )
        .context(|| format!("inserting the staff account {}", new.email.trim()))?;
    Ok(StaffId(tx.conn.last_insert_rowid()))
}

pub fn update_role(tx: &Tx<'_>, id: StaffId, role: Role) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE staff SET role = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, role.key(), tx.now],
        )
        .context(|| format!("changing the role of staff account {id} to {}", role.key()))?;
    Ok(())
}

/// Active staff who asked to be emailed about new tickets.
pub fn list_notified_of_new_tickets(r: &impl Reader) -> Result<Vec<Staff>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM staff WHERE active = 1 AND notify_new_tickets = 1 ORDER BY id"
    );
    let run = || -> rusqlite::Result<Vec<Staff>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([], from_row)?
            .collect()
    };
    run().context(|| "listing staff notified of new tickets".to_string())
}

/// Saves what a staff member wants to be emailed about.
pub fn set_notifications(
    tx: &Tx<'_>,
    id: StaffId,
    new_tickets: bool,
    assigned_replies: bool,
) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE staff SET notify_new_tickets = ?2, notify_assigned_replies = ?3, updated_at = ?4
             WHERE id = ?1",
            params![id.0, new_tickets, assigned_replies, tx.now],
        )
        .context(|| format!("saving the notification choices of staff account {id}"))?;
    Ok(())
}

pub fn set_active(tx: &Tx<'_>, id: StaffId, active: bool) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE staff SET active = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, active, tx.now],
        )
        .context(|| {
            let what = if active {
                "reactivating"
            } else {
                "deactivating"
            };
            format!("{what} staff account {id}")
        })?;
    Ok(())
}

pub fn set_password(tx: &Tx<'_>, id: StaffId, password_hash: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE staff SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, password_hash, tx.now],
        )
        .context(|| format!("setting the password of staff account {id}"))?;
    Ok(())
}
