//! Contacts (portal accounts) and their sessions, kept apart from staff and staff sessions.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use crate::domain::{
    ContactId, ContactRole, ContactStatus, CustomerId, Level, OrganizationId, PortalId,
    TicketVisibility,
};
use crate::error::Result;
use crate::store::customers::like_pattern;
use crate::store::paging::{Key, Page, Seek, keyset};
use crate::store::{Conn, Context, Reader, Tx};

/// A contact. The password hash never leaves the store except for verification.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub email: String,
    pub name: String,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    /// The portal they joined through.
    pub portal_id: Option<PortalId>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: ContactRole,
    pub label: String,
    pub status: ContactStatus,
    pub notify_replies: bool,
    pub notify_status: bool,
    pub created_at: i64,
    /// Their profile picture, `{sha256}.{ext}` under data/files.
    pub avatar: Option<String>,
    /// Their own module levels and ticket visibility (`None`: the portal's default).
    pub tickets_level: Option<Level>,
    pub projects_level: Option<Level>,
    pub pages_level: Option<Level>,
    pub ticket_visibility: Option<TicketVisibility>,
    /// Their customer's organisation.
    pub organization_id: Option<OrganizationId>,
    /// When their newest invitation expires (invited contacts with a live invitation).
    pub invite_expires_at: Option<i64>,
}

impl Contact {
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
}

const COLUMNS: &str = "k.id, k.email, k.name, k.customer_id, c.name, k.portal_id, k.password_hash,
    k.role, k.label, k.status, k.notify_replies, k.notify_status, k.created_at,
    (SELECT MAX(x.expires_at) FROM tokens x WHERE x.subject_id = k.id AND x.kind = 'invite'),
    k.avatar, k.tickets_level, k.projects_level, k.pages_level, k.ticket_visibility, c.organization_id";

const FROM: &str = "FROM contacts k LEFT JOIN customers c ON c.id = k.customer_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: ContactId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        customer_id: row.get::<_, Option<i64>>(3)?.map(CustomerId),
        customer_name: row.get(4)?,
        portal_id: row.get::<_, Option<i64>>(5)?.map(PortalId),
        password_hash: row.get(6)?,
        role: ContactRole::parse(row.get_ref(7)?.as_str()?).unwrap_or(ContactRole::Member),
        label: row.get(8)?,
        status: ContactStatus::parse(row.get_ref(9)?.as_str()?).unwrap_or(ContactStatus::Disabled),
        notify_replies: row.get(10)?,
        notify_status: row.get(11)?,
        created_at: row.get(12)?,
        invite_expires_at: row.get(13)?,
        avatar: row.get(14)?,
        tickets_level: level(row, 15)?,
        projects_level: level(row, 16)?,
        pages_level: level(row, 17)?,
        ticket_visibility: row
            .get_ref(18)?
            .as_str_or_null()?
            .and_then(TicketVisibility::parse),
        organization_id: row.get::<_, Option<i64>>(19)?.map(OrganizationId),
    })
}

fn level(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Level>> {
    Ok(row.get_ref(i)?.as_str_or_null()?.and_then(Level::parse))
}

pub fn get(r: &impl Reader, id: ContactId) -> Result<Option<Contact>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE k.id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], from_row).optional())
        .context(|| format!("loading contact {id}"))
}

/// The contact with this email address (any case).
pub fn get_by_email(r: &impl Reader, email: &str) -> Result<Option<Contact>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE k.email = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([email], from_row).optional())
        .context(|| "loading a contact by email".to_string())
}

/// What the staff contact list filters on.
#[derive(Debug, Default, Clone)]
pub struct ContactFilter {
    /// Part of a name or email address.
    pub q: Option<String>,
    pub status: Option<ContactStatus>,
    pub customer: Option<CustomerId>,
    /// Only invited contacts whose invitation is still live (pending invitations).
    pub pending_invitation: bool,
    /// Only contacts who may use this portal (their customer's, or theirs without a customer).
    pub portal: Option<PortalId>,
}

/// A page of contacts, newest first.
pub fn list(r: &impl Reader, f: &ContactFilter, seek: Seek, limit: usize) -> Result<Page<Contact>> {
    let mut args = Vec::new();
    let mut clauses = vec!["1".to_string()];
    if let Some(q) = &f.q {
        args.push(Value::Text(like_pattern(q)));
        let n = args.len();
        clauses.push(format!(
            "(k.name LIKE ?{n} ESCAPE '\\' OR k.email LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(status) = f.status {
        args.push(Value::Text(status.key().into()));
        clauses.push(format!("k.status = ?{}", args.len()));
    }
    if let Some(customer) = f.customer {
        args.push(Value::Integer(customer.0));
        clauses.push(format!("k.customer_id = ?{}", args.len()));
    }
    if f.pending_invitation {
        clauses.push("k.status = 'invited' AND EXISTS (SELECT 1 FROM tokens x WHERE x.subject_id = k.id AND x.kind = 'invite')".into());
    }
    if let Some(portal) = f.portal {
        args.push(Value::Integer(portal.0));
        let n = args.len();
        clauses.push(format!(
            "(k.customer_id IN (SELECT customer_id FROM portal_customers WHERE portal_id = ?{n})
              OR (k.customer_id IS NULL AND k.portal_id = ?{n}))"
        ));
    }
    let (position, order) = keyset(None, "k.created_at", "k.id", seek, &mut args);
    args.push(Value::Integer(limit as i64 + 1));
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE {} AND {position} ORDER BY {order} LIMIT ?{}",
        clauses.join(" AND "),
        args.len()
    );
    let run = || -> rusqlite::Result<Vec<(Contact, Key)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                let c = from_row(row)?;
                let key = Key {
                    rank: 0,
                    sort: c.created_at,
                    id: c.id.0,
                };
                Ok((c, key))
            })?
            .collect()
    };
    let fetched = run().context(|| "listing contacts".to_string())?;
    Ok(Page::from_fetched(fetched, limit, seek))
}

pub struct NewContact<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub customer_id: Option<CustomerId>,
    pub portal_id: Option<PortalId>,
    pub role: ContactRole,
    pub label: &'a str,
    pub status: ContactStatus,
}

pub fn insert(tx: &Tx<'_>, new: &NewContact<'_>) -> Result<ContactId> {
    tx.conn
        .execute(
            "INSERT INTO contacts (email, name, customer_id, portal_id, role, label, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![
                new.email,
                new.name,
                new.customer_id.map(|c| c.0),
                new.portal_id.map(|p| p.0),
                new.role.key(),
                new.label,
                new.status.key(),
                tx.now
            ],
        )
        .context(|| "adding a contact".to_string())?;
    Ok(ContactId(tx.conn.last_insert_rowid()))
}

/// What staff change on a contact.
pub struct ContactUpdate<'a> {
    pub name: &'a str,
    pub customer_id: Option<CustomerId>,
    pub role: ContactRole,
    pub label: &'a str,
}

pub fn update(tx: &Tx<'_>, id: ContactId, u: &ContactUpdate<'_>) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET name = ?2, customer_id = ?3, role = ?4, label = ?5, updated_at = ?6 WHERE id = ?1",
            params![id.0, u.name, u.customer_id.map(|c| c.0), u.role.key(), u.label, tx.now],
        )
        .context(|| format!("updating contact {id}"))?;
    Ok(())
}

/// Sets a contact's status; disabling ends their sessions and voids their links at once.
pub fn set_status(tx: &Tx<'_>, id: ContactId, status: ContactStatus) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, status.key(), tx.now],
        )
        .context(|| format!("changing the status of contact {id}"))?;
    if status == ContactStatus::Disabled {
        delete_sessions(tx, id, None)?;
        delete_tokens(tx, id, None)?;
    }
    Ok(())
}

pub fn set_name(tx: &Tx<'_>, id: ContactId, name: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, name, tx.now],
        )
        .context(|| format!("renaming contact {id}"))?;
    Ok(())
}

/// Sets the password and makes an invited account active (accepting an invitation, a reset).
pub fn set_password(tx: &Tx<'_>, id: ContactId, hash: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET password_hash = ?2,
                    status = CASE status WHEN 'invited' THEN 'active' ELSE status END,
                    updated_at = ?3
             WHERE id = ?1",
            params![id.0, hash, tx.now],
        )
        .context(|| format!("setting the password of contact {id}"))?;
    Ok(())
}

pub fn set_notifications(tx: &Tx<'_>, id: ContactId, replies: bool, status: bool) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET notify_replies = ?2, notify_status = ?3, updated_at = ?4 WHERE id = ?1",
            params![id.0, replies, status, tx.now],
        )
        .context(|| format!("saving the email choices of contact {id}"))?;
    Ok(())
}

/// Removes `contact`'s one-time tokens of `kind` (all kinds when `None`).
pub fn delete_tokens(tx: &Tx<'_>, contact: ContactId, kind: Option<&str>) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM tokens WHERE subject_id = ?1 AND kind IN ('invite', 'magic', 'reset', 'signup')
               AND (?2 IS NULL OR kind = ?2)",
            params![contact.0, kind],
        )
        .context(|| format!("voiding the links of contact {contact}"))
}

/// How many `kind` tokens `contact` was sent since `since` (rate limits).
pub fn tokens_since(r: &impl Reader, contact: ContactId, kind: &str, since: i64) -> Result<i64> {
    r.conn()
        .prepare_cached(
            "SELECT COUNT(*) FROM tokens WHERE subject_id = ?1 AND kind = ?2 AND created_at > ?3",
        )
        .and_then(|mut s| s.query_row(params![contact.0, kind, since], |row| row.get(0)))
        .context(|| "counting a contact's links".to_string())
}

// ---- sessions -----------------------------------------------------------------------------

pub fn insert_session(
    tx: &Tx<'_>,
    id_hash: &[u8],
    contact: ContactId,
    expires_at: i64,
) -> Result<()> {
    tx.conn
        .execute(
            "INSERT INTO contact_sessions (id_hash, contact_id, created_at, last_seen_at, expires_at)
             VALUES (?1, ?2, ?3, ?3, ?4)",
            params![id_hash, contact.0, tx.now, expires_at],
        )
        .context(|| format!("starting a session of contact {contact}"))?;
    Ok(())
}

/// The active contact behind a live session, with when it was last seen.
pub fn session_contact(
    r: &impl Reader,
    id_hash: &[u8],
    now: i64,
    idle_cutoff: i64,
) -> Result<Option<(Contact, i64)>> {
    let sql = format!(
        "SELECT {COLUMNS}, x.last_seen_at FROM contact_sessions x JOIN contacts k ON k.id = x.contact_id
         LEFT JOIN customers c ON c.id = k.customer_id
         WHERE x.id_hash = ?1 AND x.expires_at > ?2 AND x.last_seen_at > ?3 AND k.status = 'active'"
    );
    let run = || -> rusqlite::Result<Option<(Contact, i64)>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_row(params![id_hash, now, idle_cutoff], |row| {
                Ok((from_row(row)?, row.get(20)?))
            })
            .optional()
    };
    run().context(|| "loading a contact session".to_string())
}

pub fn touch_session(tx: &Tx<'_>, id_hash: &[u8]) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contact_sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
            params![id_hash, tx.now],
        )
        .context(|| "recording a contact session's activity".to_string())?;
    Ok(())
}

pub fn delete_session(tx: &Tx<'_>, id_hash: &[u8]) -> Result<()> {
    tx.conn
        .execute("DELETE FROM contact_sessions WHERE id_hash = ?1", [id_hash])
        .context(|| "ending a contact session".to_string())?;
    Ok(())
}

/// Ends every session of `contact` except `keep` (sign out everywhere, a reset, disabling).
pub fn delete_sessions(tx: &Tx<'_>, contact: ContactId, keep: Option<&[u8]>) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM contact_sessions WHERE contact_id = ?1 AND (?2 IS NULL OR id_hash IS NOT ?2)",
            params![contact.0, keep],
        )
        .context(|| format!("ending the sessions of contact {contact}"))
}

/// Removes contact sessions that can no longer be used.
pub fn delete_dead_sessions(tx: &Tx<'_>, idle_cutoff: i64) -> Result<usize> {
    tx.conn
        .execute(
            "DELETE FROM contact_sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
            params![tx.now, idle_cutoff],
        )
        .context(|| "deleting expired contact sessions".to_string())
}

/// Makes `portal` the contact's own portal (they may use it whatever their customer).
pub fn set_home_portal(tx: &Tx<'_>, id: ContactId, portal: PortalId) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET portal_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, portal.0, tx.now],
        )
        .context(|| format!("setting the portal of contact {id}"))?;
    Ok(())
}

/// Sets or removes a contact's profile picture.
pub fn set_avatar(tx: &Tx<'_>, id: ContactId, avatar: Option<&str>) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE contacts SET avatar = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, avatar, tx.now],
        )
        .context(|| format!("setting the picture of contact {id}"))?;
    Ok(())
}

/// A signup waiting for its address to be confirmed.
#[derive(Debug, Clone)]
pub struct PendingSignup {
    pub email: String,
    pub name: String,
    pub customer_id: Option<CustomerId>,
}

/// Stores a pending signup under its link's hash (an earlier one for the same address and
/// portal stops working).
pub fn insert_signup(
    tx: &Tx<'_>,
    hash: &[u8],
    portal: PortalId,
    signup: &PendingSignup,
    expires_at: i64,
) -> Result<()> {
    tx.conn
        .execute(
            "DELETE FROM signups WHERE (email = ?1 AND portal_id = ?2) OR expires_at <= ?3",
            params![signup.email, portal.0, tx.now],
        )
        .and_then(|_| {
            tx.conn.execute(
                "INSERT INTO signups (hash, portal_id, email, name, customer_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    hash,
                    portal.0,
                    signup.email,
                    signup.name,
                    signup.customer_id.map(|c| c.0),
                    tx.now,
                    expires_at
                ],
            )
        })
        .context(|| format!("storing a signup for portal {portal}"))?;
    Ok(())
}

fn signup_from(row: &Row<'_>) -> rusqlite::Result<PendingSignup> {
    Ok(PendingSignup {
        email: row.get(0)?,
        name: row.get(1)?,
        customer_id: row.get::<_, Option<i64>>(2)?.map(CustomerId),
    })
}

/// The live signup behind a link of `portal`, without using it up.
pub fn peek_signup(
    r: &impl Reader,
    hash: &[u8],
    portal: PortalId,
    now: i64,
) -> Result<Option<PendingSignup>> {
    r.conn()
        .prepare_cached(
            "SELECT email, name, customer_id FROM signups WHERE hash = ?1 AND portal_id = ?2 AND expires_at > ?3",
        )
        .and_then(|mut s| s.query_row(params![hash, portal.0, now], signup_from).optional())
        .context(|| "checking a signup link".to_string())
}

/// Uses up the live signup behind a link of `portal`.
pub fn take_signup(tx: &Tx<'_>, hash: &[u8], portal: PortalId) -> Result<Option<PendingSignup>> {
    tx.conn
        .query_row(
            "DELETE FROM signups WHERE hash = ?1 AND portal_id = ?2 AND expires_at > ?3
             RETURNING email, name, customer_id",
            params![hash, portal.0, tx.now],
            signup_from,
        )
        .optional()
        .context(|| "using a signup link".to_string())
}

/// A contact's own levels and visibility; `None` in a field means "the portal's default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub tickets: Option<Level>,
    pub projects: Option<Level>,
    pub pages: Option<Level>,
    pub visibility: Option<TicketVisibility>,
}

/// What a bulk change sets: per field, `None` = don't change, `Some(None)` = back to the
/// portal's default, `Some(Some(v))` = v.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverrideChange {
    pub tickets: Option<Option<Level>>,
    pub projects: Option<Option<Level>>,
    pub pages: Option<Option<Level>>,
    pub visibility: Option<Option<TicketVisibility>>,
}

/// Applies `change` to the contacts `ids`; with `only_empty`, a field a contact already has
/// their own value for is left alone. Returns how many contacts changed.
pub fn change_overrides(
    tx: &Tx<'_>,
    ids: &[ContactId],
    change: &OverrideChange,
    only_empty: bool,
) -> Result<usize> {
    let mut changed = 0;
    for id in ids {
        let mut sets = Vec::new();
        let mut args: Vec<Value> = vec![Value::Integer(id.0)];
        let mut push = |column: &str, value: Option<Option<&'static str>>| {
            if let Some(v) = value {
                args.push(v.map_or(Value::Null, |s| Value::Text(s.into())));
                let n = args.len();
                if only_empty {
                    sets.push(format!("{column} = COALESCE({column}, ?{n})"));
                } else {
                    sets.push(format!("{column} = ?{n}"));
                }
            }
        };
        push("tickets_level", change.tickets.map(|v| v.map(Level::key)));
        push("projects_level", change.projects.map(|v| v.map(Level::key)));
        push("pages_level", change.pages.map(|v| v.map(Level::key)));
        push(
            "ticket_visibility",
            change.visibility.map(|v| v.map(TicketVisibility::key)),
        );
        if sets.is_empty() {
            return Ok(0);
        }
        let before = get(tx, *id)?;
        let sql = format!("UPDATE contacts SET {} WHERE id = ?1", sets.join(", "));
        tx.conn
            .execute(&sql, params_from_iter(args))
            .context(|| format!("changing the permissions of contact {id}"))?;
        let after = get(tx, *id)?;
        let key = |c: &Option<Contact>| {
            c.as_ref().map(|c| {
                (
                    c.tickets_level,
                    c.projects_level,
                    c.pages_level,
                    c.ticket_visibility,
                )
            })
        };
        if key(&before) != key(&after) {
            changed += 1;
        }
    }
    Ok(changed)
}

/// Enables or disables the contacts `ids` (see [`set_status`]); returns how many changed.
pub fn set_enabled_many(tx: &Tx<'_>, ids: &[ContactId], enabled: bool) -> Result<usize> {
    let mut changed = 0;
    for id in ids {
        let Some(c) = get(tx, *id)? else { continue };
        let status = match (enabled, c.has_password()) {
            (false, _) => ContactStatus::Disabled,
            (true, true) => ContactStatus::Active,
            (true, false) => ContactStatus::Invited,
        };
        if c.status != status {
            set_status(tx, c.id, status)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// A manager's change of a colleague's label: only while the contact is still `customer`'s.
pub fn set_label_within(
    tx: &Tx<'_>,
    id: ContactId,
    customer: CustomerId,
    label: &str,
) -> Result<bool> {
    let n = tx
        .conn
        .execute(
            "UPDATE contacts SET label = ?3, updated_at = ?4 WHERE id = ?1 AND customer_id = ?2",
            params![id.0, customer.0, label, tx.now],
        )
        .context(|| format!("labelling contact {id}"))?;
    Ok(n > 0)
}

/// A manager disables a colleague: only while the contact is still `customer`'s (sessions
/// and links end at once, as in [`set_status`]).
pub fn disable_within(tx: &Tx<'_>, id: ContactId, customer: CustomerId) -> Result<bool> {
    let still: bool = tx
        .conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?1 AND customer_id = ?2 AND status != 'disabled')",
            params![id.0, customer.0],
            |row| row.get(0),
        )
        .context(|| format!("checking contact {id}"))?;
    if still {
        set_status(tx, id, ContactStatus::Disabled)?;
    }
    Ok(still)
}
