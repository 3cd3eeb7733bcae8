//! Projects: a key for ticket references (`ACME-12`), a name, and per-project settings.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::domain::ProjectId;
use crate::error::Result;
use crate::store::{Reader, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
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
}

const COLUMNS: &str = "p.id, p.key, p.name, p.description, p.archived, p.created_at, p.updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: ProjectId(row.get(0)?),
        key: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        archived: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

pub fn get(r: &impl Reader, id: ProjectId) -> Result<Option<Project>> {
    let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.id = ?1");
    Ok(r.conn()
        .prepare_cached(&sql)?
        .query_row([id.0], from_row)
        .optional()?)
}

pub fn get_by_key(r: &impl Reader, key: &str) -> Result<Option<Project>> {
    let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.key = ?1");
    Ok(r.conn()
        .prepare_cached(&sql)?
        .query_row([key], from_row)
        .optional()?)
}

/// Projects by name; archived ones only when asked for.
pub fn list(r: &impl Reader, include_archived: bool) -> Result<Vec<Project>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM projects p WHERE p.archived = 0 OR ?1 ORDER BY p.archived, p.name COLLATE NOCASE"
    );
    let mut stmt = r.conn().prepare_cached(&sql)?;
    let rows = stmt
        .query_map([include_archived], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every project with its open and total ticket counts, active projects first.
pub fn list_with_counts(r: &impl Reader) -> Result<Vec<ProjectSummary>> {
    let sql = format!(
        "SELECT {COLUMNS},
            (SELECT COALESCE(SUM(n), 0) FROM ticket_counts c WHERE c.project_id = p.id AND c.status NOT IN ('resolved', 'closed')),
            (SELECT COALESCE(SUM(n), 0) FROM ticket_counts c WHERE c.project_id = p.id)
         FROM projects p ORDER BY p.archived, p.name COLLATE NOCASE"
    );
    let mut stmt = r.conn().prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], |row| {
            Ok(ProjectSummary {
                project: from_row(row)?,
                open_tickets: row.get(7)?,
                total_tickets: row.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Inserts a project; a duplicate key is a unique violation.
pub fn insert(tx: &Tx<'_>, new: &NewProject<'_>) -> Result<ProjectId> {
    tx.conn.execute(
        "INSERT INTO projects (key, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![new.key, new.name.trim(), new.description.trim(), tx.now],
    )?;
    Ok(ProjectId(tx.conn.last_insert_rowid()))
}

pub fn update(tx: &Tx<'_>, id: ProjectId, u: &ProjectUpdate<'_>) -> Result<()> {
    tx.conn.execute(
        "UPDATE projects SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
        params![id.0, u.name.trim(), u.description.trim(), tx.now],
    )?;
    Ok(())
}

pub fn set_archived(tx: &Tx<'_>, id: ProjectId, archived: bool) -> Result<()> {
    tx.conn.execute(
        "UPDATE projects SET archived = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.0, archived, tx.now],
    )?;
    Ok(())
}

/// Hands out the next ticket number of a project (inside the ticket's insert transaction).
pub(super) fn take_next_number(tx: &Tx<'_>, id: ProjectId) -> Result<i64> {
    let mut stmt = tx.conn.prepare_cached(
        "UPDATE projects SET next_number = next_number + 1 WHERE id = ?1 RETURNING next_number - 1",
    )?;
    Ok(stmt.query_row([id.0], |row| row.get(0))?)
}
