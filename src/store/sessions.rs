//! Staff sessions, keyed by the SHA-256 of the session id (the id itself is only in the cookie).

use rusqlite::{OptionalExtension, params};

use crate::domain::StaffId;
use crate::error::Result;
use crate::store::staff::{self, Staff};
use crate::store::{Conn, Context, Reader, Tx};

/// A live session and its (active) staff member.
pub struct SessionStaff {
    pub last_seen_at: i64,
    pub staff: Staff,
}

pub fn insert(tx: &Tx<'_>, id_hash: &[u8], staff: StaffId, expires_at: i64) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO staff_sessions (id_hash, staff_id, created_at, last_seen_at, expires_at)
             VALUES (?1, ?2, ?3, ?3, ?4)",
            params![id_hash, staff.0, tx.now, expires_at],
        )
        .context(|| format!("starting a session of staff account {staff}"))?;
    Ok(())
}

/// The session with this hash if it has neither expired (absolute) nor idled out since
/// `idle_cutoff`, and its staff member is active. `None` covers unknown, expired and
/// deactivated alike.
pub fn get_live(
    r: &impl Reader,
    id_hash: &[u8],
    now: i64,
    idle_cutoff: i64,
) -> Result<Option<SessionStaff>> {
    let run = || -> rusqlite::Result<Option<SessionStaff>> {
        r.conn()
            .prepare_cached(
                "SELECT s.id, s.email, s.name, s.password_hash, s.role, s.active, s.created_at,
                        s.notify_new_tickets, s.notify_assigned_replies, x.last_seen_at
                 FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
                 WHERE x.id_hash = ?1 AND x.expires_at > ?2 AND x.last_seen_at > ?3 AND s.active = 1",
            )?
            .query_row(params![id_hash, now, idle_cutoff], |row| {
                Ok(SessionStaff {
                    staff: staff::from_row(row)?,
                    last_seen_at: row.get(9)?,
                })
            })
            .optional()
    };
    // Session ids and their hashes are secrets: no context here names the session.
    run().context(|| "loading a session".to_string())
}

/// Records activity, which keeps the session from idling out.
pub fn touch(tx: &Tx<'_>, id_hash: &[u8]) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE staff_sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
            params![id_hash, tx.now],
        )
        .context(|| "recording a session's activity".to_string())?;
    Ok(())
}

pub fn delete(tx: &Tx<'_>, id_hash: &[u8]) -> Result<()> {
    tx.conn
        .execute("DELETE FROM staff_sessions WHERE id_hash = ?1", [id_hash])
        .context(|| "ending a session".to_string())?;
    Ok(())
}

/// Ends every session of one staff member (deactivation, password reset).
pub fn delete_for_staff(tx: &Tx<'_>, staff: StaffId) -> Result<usize> {
    tx.conn
        .execute("DELETE FROM staff_sessions WHERE staff_id = ?1", [staff.0])
        .context(|| format!("ending the sessions of staff account {staff}"))
}

/// Removes sessions that can no longer be used.
pub fn delete_dead(tx: &Tx<'_>, idle_cutoff: i64) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM staff_sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
            params![tx.now, idle_cutoff],
        )
        .context(|| "deleting expired and idle sessions".to_string())
}
