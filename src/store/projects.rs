//! Projects: a key for ticket references (`ACME-12`), a name, and per-project settings.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::ProjectId;
use crate::error::Result;
use crate::store::{Conn, Context, Reader, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Who new tickets from the project's link are assigned to (and emailed to).
    pub default_assignee_id: Option<crate::domain::StaffId>,
    pub share: ShareSettings,
}

/// The project's shareable no-account link (seed 000).
#[derive(Debug, Clone, Serialize)]
pub struct ShareSettings {
    /// `None` until the link is first enabled; replaced by "regenerate".
    pub token: Option<String>,
    pub enabled: bool,
    /// Whether visitors may submit feedback (otherwise the board is read-only).
    pub submissions: bool,
    /// Whether new submissions appear on the board at once (else after staff approve them).
    pub auto_publish: bool,
    /// Whether visitors may attach screenshots (images only) to what they send.
    pub attachments: bool,
    pub welcome: String,
    pub response_time: String,
    /// The link's own accent colour (`#rrggbb`); `None`: the workspace's.
    pub accent_color: Option<String>,
    /// The link's own logo (`{sha256}.{ext}`); `None`: the workspace's.
    pub logo: Option<String>,
}

/// The share settings staff edit in the project's "Shareable link" panel.
pub struct ShareSettingsUpdate<'a> {
    pub submissions: bool,
    pub auto_publish: bool,
    pub attachments: bool,
    pub welcome: &'a str,
    pub response_time: &'a str,
}

/// A project with its ticket counts, for the projects list.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    #[serde(flatten)]
    pub project: Project,
    pub open_tickets: i64,
    pub total_tickets: i64,
}

pub struct NewProject<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub description: &'a str,
}

pub struct ProjectUpdate<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub default_assignee_id: Option<crate::domain::StaffId>,
}

const COLUMNS: &str = "p.id, p.key, p.name, p.description, p.archived, p.created_at, p.updated_at,
    p.share_token, p.share_enabled, p.share_submissions, p.share_auto_publish, p.share_welcome, p.share_response_time,
    p.share_accent_color, p.share_logo, p.default_assignee_id, p.share_attachments";

/// Columns in `COLUMNS` after which callers may select more.
const COLUMN_COUNT: usize = 17;

fn from_row(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: ProjectId(row.get(0)?),
        key: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        archived: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        default_assignee_id: row.get::<_, Option<i64>>(15)?.map(crate::domain::StaffId),
        share: ShareSettings {
            token: row.get(7)?,
            enabled: row.get(8)?,
            submissions: row.get(9)?,
            auto_publish: row.get(10)?,
            attachments: row.get(16)?,
            welcome: row.get(11)?,
            response_time: row.get(12)?,
            accent_color: row.get(13)?,
            logo: row.get(14)?,
        },
    })
}

pub fn get(r: &impl Reader, id: ProjectId) -> Result<Option<Project>> {
    let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.id = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id.0], from_row).optional())
        .context(|| format!("loading project {id}"))
}

pub fn get_by_key(r: &impl Reader, key: &str) -> Result<Option<Project>> {
    let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.key = ?1");
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([key], from_row).optional())
        .context(|| format!("loading project {key}"))
}

/// Projects by name; archived ones only when asked for.
pub fn list(r: &impl Reader, include_archived: bool) -> Result<Vec<Project>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM projects p WHERE p.archived = 0 OR ?1 ORDER BY p.archived, p.name COLLATE NOCASE"
    );
    let run = || -> rusqlite::Result<Vec<Project>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([include_archived], from_row)?
            .collect()
    };
    run().context(|| {
        if include_archived {
            "listing projects, archived included".to_string()
        } else {
            "listing active projects".to_string()
        }
    })
}

/// Every project with its open and total ticket counts, active projects first.
pub fn list_with_counts(r: &impl Reader) -> Result<Vec<ProjectSummary>> {
    let sql = format!(
        "SELECT {COLUMNS},
            (SELECT COALESCE(SUM(n), 0) FROM ticket_tallies c WHERE c.project_id = p.id AND c.status NOT IN ('resolved', 'closed')),
            (SELECT COALESCE(SUM(n), 0) FROM ticket_tallies c WHERE c.project_id = p.id)
         FROM projects p ORDER BY p.archived, p.name COLLATE NOCASE"
    );
    let run = || -> rusqlite::Result<Vec<ProjectSummary>> {
        r.conn()
            .prepare_cached(&sql)?
            .query_map([], |row| {
                Ok(ProjectSummary {
                    project: from_row(row)?,
                    open_tickets: row.get(COLUMN_COUNT)?,
                    total_tickets: row.get(COLUMN_COUNT + 1)?,
                })
            })?
            .collect()
    };
    run().context(|| "listing projects with their ticket counts".to_string())
}

/// Inserts a project; a duplicate key is a unique violation.
pub fn insert(tx: &Tx<'_>, new: &NewProject<'_>) -> Result<ProjectId> {
    tx.conn
        .execute(
            "INSERT INTO projects (key, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![new.key, new.name.trim(), new.description.trim(), tx.now],
        )
        .context(|| format!("inserting project {}", new.key))?;
    Ok(ProjectId(tx.conn.last_insert_rowid()))
}

pub fn update(tx: &Tx<'_>, id: ProjectId, u: &ProjectUpdate<'_>) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET name = ?2, description = ?3, default_assignee_id = ?5, updated_at = ?4
             WHERE id = ?1",
            params![
                id.0,
                u.name.trim(),
                u.description.trim(),
                tx.now,
                u.default_assignee_id.map(|s| s.0)
            ],
        )
        .context(|| format!("updating project {id}"))?;
    Ok(())
}

pub fn set_archived(tx: &Tx<'_>, id: ProjectId, archived: bool) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET archived = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, archived, tx.now],
        )
        .context(|| {
            let what = if archived { "archiving" } else { "unarchiving" };
            format!("{what} project {id}")
        })?;
    Ok(())
}

/// The project whose link is `token`, only while its link is enabled. `None` for unknown,
/// disabled and replaced tokens alike — callers answer all three with the same 404.
pub fn get_by_share_token(r: &impl Reader, token: &str) -> Result<Option<Project>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM projects p WHERE p.share_token = ?1 AND p.share_enabled = 1 AND p.archived = 0"
    );
    // The token is a secret: the context names no token.
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([token], from_row).optional())
        .context(|| "loading the project of a share link".to_string())
}

/// Turns the link on, creating its token the first time (`fresh_token` is used only then).
pub fn enable_share(tx: &Tx<'_>, id: ProjectId, fresh_token: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET share_enabled = 1, share_token = COALESCE(share_token, ?2), updated_at = ?3 WHERE id = ?1",
            params![id.0, fresh_token, tx.now],
        )
        .context(|| format!("enabling the share link of project {id}"))?;
    Ok(())
}

/// Turns the link off; the same URL works again if it is re-enabled.
pub fn disable_share(tx: &Tx<'_>, id: ProjectId) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET share_enabled = 0, updated_at = ?2 WHERE id = ?1",
            params![id.0, tx.now],
        )
        .context(|| format!("disabling the share link of project {id}"))?;
    Ok(())
}

/// Replaces the token: the old URL stops working at once.
pub fn regenerate_share_token(tx: &Tx<'_>, id: ProjectId, fresh_token: &str) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET share_token = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.0, fresh_token, tx.now],
        )
        .context(|| format!("replacing the share token of project {id}"))?;
    Ok(())
}

pub fn update_share_settings(
    tx: &Tx<'_>,
    id: ProjectId,
    u: &ShareSettingsUpdate<'_>,
) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET share_submissions = ?2, share_auto_publish = ?3, share_welcome = ?4,
                    share_response_time = ?5, updated_at = ?6, share_attachments = ?7 WHERE id = ?1",
            params![
                id.0,
                u.submissions,
                u.auto_publish,
                u.welcome.trim(),
                u.response_time.trim(),
                tx.now,
                u.attachments
            ],
        )
        .context(|| format!("updating the share settings of project {id}"))?;
    Ok(())
}

/// Sets (or with `None`, clears) the link's own accent colour and logo.
pub fn update_share_branding(
    tx: &Tx<'_>,
    id: ProjectId,
    accent_color: Option<&str>,
    logo: Option<&str>,
) -> Result<()> {
    tx.conn
        .execute(
            "UPDATE projects SET share_accent_color = ?2, share_logo = ?3, updated_at = ?4 WHERE id = ?1",
            params![id.0, accent_color, logo, tx.now],
        )
        .context(|| format!("updating the link branding of project {id}"))?;
    Ok(())
}

/// The number the project's next ticket will get (unless another takes it first).
pub fn next_number(r: &impl Reader, id: ProjectId) -> Result<i64> {
    r.conn()
        .prepare_cached("SELECT next_number FROM projects WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.0], |row| row.get(0)))
        .context(|| format!("reading the next ticket number of project {id}"))
}

/// Hands out the next ticket number of a project (inside the ticket's insert transaction).
pub(super) fn take_next_number(tx: &Tx<'_>, id: ProjectId) -> Result<i64> {
    tx.conn
        .prepare_cached(
            "UPDATE projects SET next_number = next_number + 1 WHERE id = ?1 RETURNING next_number - 1",
        )
        .and_then(|mut s| s.query_row([id.0], |row| row.get(0)))
        .context(|| format!("taking the next ticket number of project {id}"))
}
