//! The tickets a portal contact may see, read through their scope: every query here takes a
//! [`Scope`] (the portal, and the contact or — for a manager — the customer) in its `WHERE`, so a
//! ticket outside it is simply not found. Counts come from `portal_tallies` (kept by triggers).

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params_from_iter};
use serde::Serialize;

use crate::domain::{ContactId, CustomerId, OrganizationId, PortalId, Priority, Status, TicketId};
use crate::error::Result;
use crate::store::customers::like_pattern;
use crate::store::paging::{Key, Page, Seek, keyset};
use crate::store::{Conn, Context, Reader};

/// Whose tickets a portal reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Their own tickets.
    Contact(ContactId),
    /// All tickets of one customer.
    Customer(CustomerId),
    /// All tickets of the customers of one organisation.
    Organization(OrganizationId),
}

/// The tickets one reader may see in one portal. Made by `policy` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub portal: PortalId,
    pub who: Who,
}

impl Scope {
    /// The condition on `t` (values pushed onto `args`).
    fn clause(&self, args: &mut Vec<Value>) -> String {
        args.push(Value::Integer(self.portal.0));
        let p = args.len();
        match self.who {
            Who::Contact(c) => {
                args.push(Value::Integer(c.0));
                format!("t.portal_id = ?{p} AND t.contact_id = ?{}", args.len())
            }
            Who::Customer(c) => {
                args.push(Value::Integer(c.0));
                format!("t.portal_id = ?{p} AND t.customer_id = ?{}", args.len())
            }
            Who::Organization(o) => {
                args.push(Value::Integer(o.0));
                format!(
                    "t.portal_id = ?{p} AND t.customer_id IN (SELECT id FROM customers WHERE organization_id = ?{})",
                    args.len()
                )
            }
        }
    }
}

/// A ticket as a portal list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PortalTicket {
    pub id: TicketId,
    pub reference: String,
    pub subject: String,
    pub status: Status,
    pub status_label: &'static str,
    pub priority: Priority,
    pub priority_label: &'static str,
    /// Who asked (a manager sees colleagues' tickets).
    pub requester_name: Option<String>,
    pub created: String,
    pub updated: String,
    pub updated_at: i64,
}

fn row_from(row: &Row<'_>) -> rusqlite::Result<PortalTicket> {
    let status = Status::parse(row.get_ref(3)?.as_str()?).unwrap_or(Status::Open);
    let priority = Priority::parse(row.get_ref(4)?.as_str()?).unwrap_or(Priority::Normal);
    let updated_at: i64 = row.get(7)?;
    Ok(PortalTicket {
        id: TicketId(row.get(0)?),
        reference: row.get(1)?,
        subject: row.get(2)?,
        status,
        status_label: status.label(),
        priority,
        priority_label: priority.label(),
        requester_name: row.get(5)?,
        created: crate::clock::format_date(row.get(6)?),
        updated: crate::clock::format_datetime(updated_at),
        updated_at,
    })
}

const COLUMNS: &str = "t.id, p.key || '-' || t.number, t.subject, t.status, t.priority,
    t.requester_name, t.created_at, t.updated_at";

/// A page of the scope's tickets, most recently updated first; `q` matches subjects.
pub fn list(
    r: &impl Reader,
    scope: Scope,
    status: Option<Status>,
    q: Option<&str>,
    seek: Seek,
    limit: usize,
) -> Result<Page<PortalTicket>> {
    let mut args = Vec::new();
    let mut clauses = vec![scope.clause(&mut args)];
    if let Some(status) = status {
        args.push(Value::Text(status.key().into()));
        clauses.push(format!("t.status = ?{}", args.len()));
    }
    if let Some(q) = q {
        args.push(Value::Text(like_pattern(q)));
        clauses.push(format!("t.subject LIKE ?{} ESCAPE '\\'", args.len()));
    }
    let (position, order) = keyset(None, "t.updated_at", "t.id", seek, &mut args);
    args.push(Value::Integer(limit as i64 + 1));
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets t JOIN projects p ON p.id = t.project_id
         WHERE {} AND {position} ORDER BY {order} LIMIT ?{}",
        clauses.join(" AND "),
        args.len()
    );
    let run = || -> rusqlite::Result<Vec<(PortalTicket, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                let t = row_from(row)?;
                let key = Key {
                    rank: 0,
                    sort: t.updated_at,
                    id: t.id.0,
                };
                Ok((t, key))
            })?
            .collect()
    };
    let fetched = run().context(|| "listing a contact's tickets".to_string())?;
    Ok(Page::from_fetched(fetched, limit, seek))
}

/// Tickets per status in the scope, in `Status::ALL` order (from the tallies: no ticket counted).
pub fn counts(r: &impl Reader, scope: Scope) -> Result<Vec<(Status, i64)>> {
    let (condition, id) = match scope.who {
        Who::Contact(c) => ("contact_id = ?2", c.0),
        Who::Customer(c) => ("customer_id = ?2", c.0),
        Who::Organization(o) => (
            "customer_id IN (SELECT id FROM customers WHERE organization_id = ?2)",
            o.0,
        ),
    };
    let sql = format!(
        "SELECT status, SUM(n) FROM portal_tallies WHERE portal_id = ?1 AND {condition} GROUP BY status"
    );
    let run = || -> rusqlite::Result<Vec<(String, i64)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([scope.portal.0, id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    };
    let found = run().context(|| "counting a contact's tickets".to_string())?;
    Ok(Status::ALL
        .iter()
        .map(|s| {
            let n = found
                .iter()
                .filter(|(k, _)| k == s.key())
                .map(|(_, n)| *n)
                .sum();
            (*s, n)
        })
        .collect())
}

/// The id of ticket `KEY-number` when it is in the scope; `None` for every other ticket alike.
pub fn find(r: &impl Reader, scope: Scope, key: &str, number: i64) -> Result<Option<TicketId>> {
    let mut args = Vec::new();
    let clause = scope.clause(&mut args);
    args.push(Value::Text(key.into()));
    let k = args.len();
    args.push(Value::Integer(number));
    let sql = format!(
        "SELECT t.id FROM tickets t JOIN projects p ON p.id = t.project_id
         WHERE {clause} AND p.key = ?{k} AND t.number = ?{}",
        args.len()
    );
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(params_from_iter(args), |row| row.get(0))
                .optional()
        })
        .map(|id| id.map(TicketId))
        .context(|| format!("loading ticket {key}-{number} for a contact"))
}

/// Demo seeding only: makes `limit` of `project`'s tickets (those whose number is `slot` modulo
/// 50, oldest first) portal tickets that `contact` (`name`, `email`) of `customer` opened in
/// `portal`.
#[allow(clippy::too_many_arguments)]
pub fn claim_for_demo(
    tx: &crate::store::Tx<'_>,
    project: crate::domain::ProjectId,
    slot: i64,
    portal: PortalId,
    contact: (ContactId, &str, &str),
    customer: Option<CustomerId>,
    limit: i64,
) -> Result<usize> {
    let (contact, name, email) = contact;
    tx.conn
        .execute(
            "UPDATE tickets SET portal_id = ?3, contact_id = ?4, customer_id = ?5, source = 'portal',
                    requester_name = ?7, requester_email = ?8
             WHERE id IN (SELECT id FROM tickets WHERE project_id = ?1 AND number % 50 = ?2
                          ORDER BY id LIMIT ?6)",
            rusqlite::params![project.0, slot, portal.0, contact.0, customer.map(|c| c.0), limit, name, email],
        )
        .context(|| "giving demo tickets to a contact".to_string())
}
