//! Staff viewing a portal as a customer (seed 003): short, read-only sessions of their own, and
//! the audit log that records them.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::domain::{ContactId, CustomerId, PortalId, StaffId};
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

/// A live view-as session.
#[derive(Debug, Clone)]
pub struct ViewAs {
    pub staff_id: StaffId,
    pub staff_name: String,
    pub portal_id: PortalId,
    pub customer_id: CustomerId,
    pub customer_name: String,
    /// `None`: as the customer's manager.
    pub contact_id: Option<ContactId>,
    pub expires_at: i64,
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    tx: &Tx<'_>,
    hash: &[u8],
    staff_session: &[u8],
    staff: StaffId,
    portal: PortalId,
    customer: CustomerId,
    contact: Option<ContactId>,
    expires_at: i64,
) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO view_as_sessions (id_hash, staff_id, portal_id, customer_id, contact_id, created_at, expires_at,
                                           staff_session_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![hash, staff.0, portal.0, customer.0, contact.map(|c| c.0), tx.now, expires_at, staff_session],
        )
        .context(|| format!("starting a view-as session of staff account {staff}"))?;
    Ok(())
}

/// The live session behind `hash`: not expired, its staff member active, and the staff sign-in
/// it was started from still there (signing out ends it).
pub fn get_live(r: &impl Reader, hash: &[u8], now: i64) -> Result<Option<ViewAs>> {
    r.conn()
        .prepare_cached(
            "SELECT v.staff_id, s.name, v.portal_id, v.customer_id, c.name, v.contact_id, v.expires_at
             FROM view_as_sessions v JOIN staff s ON s.id = v.staff_id JOIN customers c ON c.id = v.customer_id
             WHERE v.id_hash = ?1 AND v.expires_at > ?2 AND s.active = 1
               AND EXISTS (SELECT 1 FROM staff_sessions x WHERE x.id_hash = v.staff_session_hash AND x.expires_at > ?2)",
        )
        .and_then(|mut s| {
            s.query_row(params![hash, now], |row| {
                Ok(ViewAs {
                    staff_id: StaffId(row.get(0)?),
                    staff_name: row.get(1)?,
                    portal_id: PortalId(row.get(2)?),
                    customer_id: CustomerId(row.get(3)?),
                    customer_name: row.get(4)?,
                    contact_id: row.get::<_, Option<i64>>(5)?.map(ContactId),
                    expires_at: row.get(6)?,
                })
            })
            .optional()
        })
        .context(|| "loading a view-as session".to_string())
}

/// Ends a session; returns it (for the audit log) when it was there.
pub fn delete(tx: &Tx<'_>, hash: &[u8]) -> Result<bool> {
    let n = tx
        .conn
        .execute("DELETE FROM view_as_sessions WHERE id_hash = ?1", [hash])
        .context(|| "ending a view-as session".to_string())?;
    Ok(n > 0)
}

/// One audit log entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub staff_name: String,
    pub action: String,
    pub detail: String,
    pub created_at: i64,
}

pub fn audit(
    tx: &Tx<'_>,
    staff: StaffId,
    staff_name: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO audit_log (staff_id, staff_name, action, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![staff.0, staff_name, action, detail, tx.now],
        )
        .context(|| "writing the audit log".to_string())?;
    Ok(())
}

/// The newest `limit` audit entries.
pub fn audit_log(r: &impl Reader, limit: i64) -> Result<Vec<AuditEntry>> {
    let run = || -> rusqlite::Result<Vec<AuditEntry>> {
        r.conn()
            .prepare_cached(
                "SELECT staff_name, action, detail, created_at FROM audit_log ORDER BY created_at DESC, id DESC LIMIT ?1",
            )?
            .query_map([limit], |row| {
                Ok(AuditEntry {
                    staff_name: row.get(0)?,
                    action: row.get(1)?,
                    detail: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })?
            .collect()
    };
    run().context(|| "reading the audit log".to_string())
}

/// Ends every view-as session of `staff` (before a new one starts); returns how many.
pub fn delete_for_staff(tx: &Tx<'_>, staff: StaffId) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM view_as_sessions WHERE staff_id = ?1",
            [staff.0],
        )
        .context(|| format!("ending the view-as sessions of staff account {staff}"))
}
