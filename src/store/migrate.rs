//! Schema migrations: numbered `.sql` files embedded in the binary, applied in order at start-up,
//! each in its own transaction, tracked with `PRAGMA user_version`.
//!
//! Migrations are append-only: once one has landed it is never edited. Before migrating a
//! database that already holds data, a backup copy is written beside it.

use std::path::Path;

use crate::error::{Error, Result};
use crate::store::{Context, Db};

/// Every migration, in order. `user_version` = how many of these a database has applied.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    (
        "0002_share_links",
        include_str!("migrations/0002_share_links.sql"),
    ),
    (
        "0003_hardening",
        include_str!("migrations/0003_hardening.sql"),
    ),
    ("0004_email", include_str!("migrations/0004_email.sql")),
    (
        "0005_flat_lists",
        include_str!("migrations/0005_flat_lists.sql"),
    ),
    ("0006_portals", include_str!("migrations/0006_portals.sql")),
    (
        "0007_attachments",
        include_str!("migrations/0007_attachments.sql"),
    ),
    (
        "0008_permissions",
        include_str!("migrations/0008_permissions.sql"),
    ),
    (
        "0009_search_per_commit",
        include_str!("migrations/0009_search_per_commit.sql"),
    ),
];

/// Applies the migrations `db` lacks. Refuses a database newer than this binary.
pub fn run(db: &Db, path: &Path) -> Result<()> {
    let conn = &db.conn;
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .context(|| format!("reading the schema version of {}", path.display()))?
        as usize;
    if current > MIGRATIONS.len() {
        return Err(Error::Other(format!(
            "{} has schema version {current}, but this Porchlight knows only {}: use a newer binary",
            path.display(),
            MIGRATIONS.len()
        )));
    }
    if current == MIGRATIONS.len() {
        return Ok(());
    }
    if current > 0 {
        let copy = path.with_extension(format!("sqlite3.before-{}.bak", MIGRATIONS[current].0));
        if !copy.exists() {
            db.backup_to(&copy)?;
            log::info!(
                "backed up the database to {} before migrating",
                copy.display()
            );
        }
    }
    db.writer.with_connection(|conn| {
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
            let version = index + 1;
            let apply = || -> rusqlite::Result<()> {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                // Another process may have applied it since we looked: re-check under the lock.
                let now_at: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if now_at as usize >= version {
                    return conn.execute_batch("COMMIT");
                }
                conn.execute_batch(sql)?;
                conn.execute_batch(&format!("PRAGMA user_version = {version}"))?;
                conn.execute_batch("COMMIT")
            };
            if let Err(e) = apply() {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(Error::Other(format!("migration {name} failed: {e}")));
            }
            log::info!("applied migration {name}");
        }
        Ok(())
    })
}
