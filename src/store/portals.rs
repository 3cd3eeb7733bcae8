//! Portals: address (slug, with old slugs redirecting), branding, registration modes, the
//! customers who may use each, and where its new tickets go.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::{CustomerId, Level, PortalId, ProjectId, TicketVisibility};
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Portal {
    pub id: PortalId,
    pub slug: String,
    pub name: String,
    pub enabled: bool,
    /// `#rrggbb`, or `None` for the workspace's colour.
    pub accent_color: Option<String>,
    /// `{sha256}.{ext}` under data/files, or `None` for the workspace's logo.
    pub logo: Option<String>,
    pub welcome: String,
    pub response_time: String,
    pub allow_invites: bool,
    pub customer_signup: bool,
    pub open_registration: bool,
    pub default_project_id: Option<ProjectId>,
    pub created_at: i64,
    /// The module levels and ticket visibility of contacts without their own (seed 002).
    pub tickets_level: Level,
    pub projects_level: Level,
    pub pages_level: Level,
    pub ticket_visibility: TicketVisibility,
}

impl Portal {
    /// Whether anyone may sign up here by themselves.
    pub fn takes_signups(&self) -> bool {
        self.customer_signup || self.open_registration
    }
}

const COLUMNS: &str =
    "p.id, p.slug, p.name, p.enabled, p.accent_color, p.logo, p.welcome, p.response_time,
    p.allow_invites, p.customer_signup, p.open_registration, p.default_project_id, p.created_at,
    p.tickets_level, p.projects_level, p.pages_level, p.ticket_visibility";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Portal> {
    Ok(Portal {
        id: PortalId(row.get(0)?),
        slug: row.get(1)?,
        name: row.get(2)?,
        enabled: row.get(3)?,
        accent_color: row.get(4)?,
        logo: row.get(5)?,
        welcome: row.get(6)?,
        response_time: row.get(7)?,
        allow_invites: row.get(8)?,
        customer_signup: row.get(9)?,
        open_registration: row.get(10)?,
        default_project_id: row.get::<_, Option<i64>>(11)?.map(ProjectId),
        created_at: row.get(12)?,
        tickets_level: Level::parse(row.get_ref(13)?.as_str()?).unwrap_or(Level::Off),
        projects_level: Level::parse(row.get_ref(14)?.as_str()?).unwrap_or(Level::Off),
        pages_level: Level::parse(row.get_ref(15)?.as_str()?).unwrap_or(Level::Off),
        ticket_visibility: TicketVisibility::parse(row.get_ref(16)?.as_str()?)
            .unwrap_or(TicketVisibility::Own),
    })
}

pub fn list(r: &impl Reader) -> Result<Vec<Portal>> {
    let sql = format!("SELECT {COLUMNS} FROM portals p ORDER BY p.name");
    let run = || -> rusqlite::Result<Vec<Portal>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([], from_row)?
            .collect()
    };
    run().context(|| "listing portals".to_string())
}

pub fn get(r: &impl Reader, id: PortalId) -> Result<Option<Portal>> {
    let sql = format!("SELECT {COLUMNS} FROM portals p WHERE p.id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], from_row).optional())
        .context(|| format!("loading portal {id}"))
}

pub fn get_by_slug(r: &impl Reader, slug: &str) -> Result<Option<Portal>> {
    let sql = format!("SELECT {COLUMNS} FROM portals p WHERE p.slug = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([slug], from_row).optional())
        .context(|| "loading a portal by its address".to_string())
}

/// The current slug of the (enabled) portal that used to be at `slug`.
pub fn renamed_from(r: &impl Reader, slug: &str) -> Result<Option<String>> {
    r.conn()
        .prepare_cached(
            "SELECT p.slug FROM portal_old_slugs o JOIN portals p ON p.id = o.portal_id
             WHERE o.slug = ?1 AND p.enabled = 1",
        )
        .and_then(|mut s| s.query_row([slug], |row| row.get(0)).optional())
        .context(|| "looking up an old portal address".to_string())
}

/// Whether another portal (not `except`) is at `slug` now.
pub fn slug_taken(r: &impl Reader, slug: &str, except: Option<PortalId>) -> Result<bool> {
    r.conn()
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM portals WHERE slug = ?1 AND id IS NOT ?2)")
        .and_then(|mut s| s.query_row(params![slug, except.map(|e| e.0)], |row| row.get(0)))
        .context(|| "checking a portal address".to_string())
}

/// Everything staff set on a portal.
pub struct PortalFields<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub enabled: bool,
    pub accent_color: Option<&'a str>,
    pub welcome: &'a str,
    pub response_time: &'a str,
    pub allow_invites: bool,
    pub customer_signup: bool,
    pub open_registration: bool,
    pub default_project_id: Option<ProjectId>,
}

pub fn insert(tx: &Tx<'_>, f: &PortalFields<'_>) -> Result<PortalId> {
    tx.conn
        .execute("DELETE FROM portal_old_slugs WHERE slug = ?1", [f.slug])
        .context(|| "freeing a portal address".to_string())?;
    tx.conn
        .execute(
            "INSERT INTO portals (slug, name, enabled, accent_color, welcome, response_time, allow_invites,
                                  customer_signup, open_registration, default_project_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                f.slug,
                f.name,
                f.enabled,
                f.accent_color,
                f.welcome,
                f.response_time,
                f.allow_invites,
                f.customer_signup,
                f.open_registration,
                f.default_project_id.map(|p| p.0),
                tx.now
            ],
        )
        .context(|| "adding a portal".to_string())?;
    Ok(PortalId(tx.conn.last_insert_rowid()))
}

/// Saves a portal's settings. A changed slug keeps the old one redirecting here (unless another
/// portal takes it later).
pub fn update(tx: &Tx<'_>, id: PortalId, f: &PortalFields<'_>) -> Result<()> {
    let old: String = tx
        .conn
        .query_row("SELECT slug FROM portals WHERE id = ?1", [id.0], |row| {
            row.get(0)
        })
        .context(|| format!("loading portal {id}"))?;
    if old != f.slug {
        tx.conn
            .execute("DELETE FROM portal_old_slugs WHERE slug = ?1", [f.slug])
            .and_then(|_| {
                tx.conn.execute(
                    "INSERT OR REPLACE INTO portal_old_slugs (slug, portal_id) VALUES (?1, ?2)",
                    params![old, id.0],
                )
            })
            .context(|| format!("keeping the old address of portal {id}"))?;
    }
    tx.conn
        .execute(
            "UPDATE portals SET slug = ?2, name = ?3, enabled = ?4, accent_color = ?5, welcome = ?6,
                    response_time = ?7, allow_invites = ?8, customer_signup = ?9, open_registration = ?10,
                    default_project_id = ?11, updated_at = ?12
             WHERE id = ?1",
            params![
                id.0,
                f.slug,
                f.name,
                f.enabled,
                f.accent_color,
                f.welcome,
                f.response_time,
                f.allow_invites,
                f.customer_signup,
                f.open_registration,
                f.default_project_id.map(|p| p.0),
                tx.now
            ],
        )
        .context(|| format!("saving portal {id}"))?;
    Ok(())
}

pub fn set_logo(tx: &Tx<'_>, id: PortalId, logo: Option<&str>) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE portals SET logo = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, logo, tx.now],
        )
        .context(|| format!("setting the logo of portal {id}"))?;
    Ok(())
}

/// The customers whose contacts may use `portal`.
pub fn customers(r: &impl Reader, portal: PortalId) -> Result<Vec<CustomerId>> {
    let run = || -> rusqlite::Result<Vec<CustomerId>> {
        r.conn()
            .prepare_cached("SELECT customer_id FROM portal_customers WHERE portal_id = ?1")?
            .query_map([portal.0], |row| Ok(CustomerId(row.get(0)?)))?
            .collect()
    };
    run().context(|| format!("listing the customers of portal {portal}"))
}

pub fn set_customers(tx: &Tx<'_>, portal: PortalId, customers: &[CustomerId]) -> Result<()> {
    tx.conn
        .execute(
            "DELETE FROM portal_customers WHERE portal_id = ?1",
            [portal.0],
        )
        .context(|| format!("replacing the customers of portal {portal}"))?;
    for c in customers {
        tx.conn
            .execute(
                "INSERT OR IGNORE INTO portal_customers (portal_id, customer_id) VALUES (?1, ?2)",
                params![portal.0, c.0],
            )
            .context(|| format!("adding a customer to portal {portal}"))?;
    }
    Ok(())
}

/// Whether `customer`'s contacts may use `portal`.
pub fn serves_customer(r: &impl Reader, portal: PortalId, customer: CustomerId) -> Result<bool> {
    r.conn()
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM portal_customers WHERE portal_id = ?1 AND customer_id = ?2)",
        )
        .and_then(|mut s| s.query_row(params![portal.0, customer.0], |row| row.get(0)))
        .context(|| "checking a portal's customers".to_string())
}

/// The enabled portals a contact can reach: those their customer may use, or — for a contact of
/// no customer — the one they joined through (the rule of `policy::portal_contact`).
pub fn reachable(
    r: &impl Reader,
    home: Option<PortalId>,
    customer: Option<CustomerId>,
) -> Result<Vec<Portal>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM portals p
         WHERE p.enabled = 1 AND ((?2 IS NULL AND p.id IS ?1) OR EXISTS (SELECT 1 FROM portal_customers pc
               WHERE pc.portal_id = p.id AND pc.customer_id = ?2))
         ORDER BY p.name"
    );
    let run = || -> rusqlite::Result<Vec<Portal>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map(params![home.map(|h| h.0), customer.map(|c| c.0)], from_row)?
            .collect()
    };
    run().context(|| "listing the portals a contact can reach".to_string())
}

/// How many contacts joined through `portal` (for the portal list).
pub fn contact_count(r: &impl Reader, portal: PortalId) -> Result<i64> {
    r.conn()
        .prepare_cached("SELECT COUNT(*) FROM contacts WHERE portal_id = ?1")
        .and_then(|mut s| s.query_row([portal.0], |row| row.get(0)))
        .context(|| format!("counting the contacts of portal {portal}"))
}

/// A portal's default module levels and ticket visibility.
pub fn set_defaults(
    tx: &Tx<'_>,
    id: PortalId,
    levels: [Level; 3],
    visibility: TicketVisibility,
) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE portals SET tickets_level = ?2, projects_level = ?3, pages_level = ?4,
                    ticket_visibility = ?5, updated_at = ?6 WHERE id = ?1",
            params![
                id.0,
                levels[0].key(),
                levels[1].key(),
                levels[2].key(),
                visibility.key(),
                tx.now
            ],
        )
        .context(|| format!("saving the default permissions of portal {id}"))?;
    Ok(())
}
