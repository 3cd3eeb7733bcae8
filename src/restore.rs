//! `porchlight restore --from BACKUP`: puts a backup (the directory `porchlight backup` writes:
//! `porchlight.sqlite3` and `files/`) in place of a data directory's database and stored files.
//!
//! Order, so that no step can lose anything:
//! 1. check the backup completely before touching the data directory: the database's integrity,
//!    a schema this binary knows (not newer), and every stored file it names present with the
//!    content its name (SHA-256) promises;
//! 2. take the data directory's lock, so a server cannot be running on it (nor start meanwhile);
//! 3. copy the backup in beside the live data under staging names, fsynced;
//! 4. move the current database and files into `before-restore-<time>/` inside the data
//!    directory (a checkpoint first, so that folder is itself a backup `restore` accepts) —
//!    never deleted;
//! 5. rename the staged copies into place and fsync the directory.
//!
//! The database is copied through SQLite's backup API from the connection that checked it (so a
//! `-wal` beside the backup counts, as it did for the check), and the staged copy is checked
//! again; stored files are hashed again as staged. A failure before step 4 leaves the data
//! directory as it was (staging names are removed); a failed move in step 4 moves back what it
//! had moved; after that the error says where the previous data is. Should the process die
//! between steps 4 and 5, the staging names stay and `serve` refuses to start until a restore is
//! run again ([`interrupted`]). Run as root, the restored files get the data directory's owner,
//! so the service's user can still write them.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::files::sync_dir;

const DB: &str = "porchlight.sqlite3";
const FILES: &str = "files";
const STAGED_DB: &str = "porchlight.sqlite3.restoring";
const STAGED_FILES: &str = "files.restoring";

/// What a restore did.
pub struct Restored {
    /// The backup's schema version and this binary's.
    pub schema: (i64, i64),
    pub db_bytes: u64,
    pub files: usize,
    /// Where the data that was there before went (none when the directory held no data).
    pub aside: Option<PathBuf>,
}

/// When a restore was cut short between moving the old data aside and putting the new data in
/// place: what to tell whoever starts the server.
pub fn interrupted(dir: &Path) -> Option<String> {
    let staged = [STAGED_DB, STAGED_FILES]
        .iter()
        .any(|name| dir.join(name).exists());
    staged.then(|| {
        format!(
            "{} holds an unfinished restore ({STAGED_DB}): run the same `porchlight restore --from …` again (the data that was there is in a before-restore-… folder beside it)",
            dir.display()
        )
    })
}

/// Checks `from` and puts it in place in `config.data_dir`.
pub fn restore(config: &Config, from: &Path) -> Result<Restored> {
    let checked = check(from)?;
    let dir = &config.data_dir;
    crate::datadir::prepare(dir)?;
    let _lock = crate::datadir::Lock::acquire(dir)?;
    // Staging names left by an earlier, interrupted restore are not data: start clean.
    remove_staged(dir);
    let staged = stage(from, dir, &checked);
    if let Err(e) = staged {
        remove_staged(dir);
        return Err(e);
    }
    let aside = match move_aside(config) {
        Ok(aside) => aside,
        Err(e) => {
            remove_staged(dir);
            return Err(e);
        }
    };
    let place = || -> Result<()> {
        rename(&dir.join(STAGED_FILES), &dir.join(FILES))?;
        rename(&dir.join(STAGED_DB), &dir.join(DB))?;
        sync_dir(dir)
    };
    if let Err(e) = place() {
        return Err(Error::Other(format!(
            "{e}; the data that was there before is in {}",
            aside.as_deref().unwrap_or(dir).display()
        )));
    }
    Ok(Restored {
        schema: (
            checked.schema,
            crate::store::migrate::MIGRATIONS.len() as i64,
        ),
        db_bytes: checked.db_bytes,
        files: checked.files.len(),
        aside,
    })
}

struct Checked {
    schema: i64,
    db_bytes: u64,
    files: Vec<String>,
    /// The connection that checked the database; the copy is made from it.
    conn: rusqlite::Connection,
}

/// Everything about the backup that can be checked without touching the data directory.
fn check(from: &Path) -> Result<Checked> {
    let db = from.join(DB);
    if !db.is_file() {
        return Err(Error::Other(format!(
            "{} is not a Porchlight backup: it has no {DB} (make one with `porchlight backup --out DIR`)",
            from.display()
        )));
    }
    let db_bytes = std::fs::metadata(&db)
        .io_context(|| format!("reading {}", db.display()))?
        .len();
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::Other(format!("cannot open {}: {e}", db.display())))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| Error::Other(format!("{} is not a readable database: {e}", db.display())))?;
    if verdict != "ok" {
        return Err(Error::Other(format!(
            "{} fails SQLite's integrity check ({verdict}); restore an older backup",
            db.display()
        )));
    }
    let schema: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| Error::Other(format!("reading {}: {e}", db.display())))?;
    let known = crate::store::migrate::MIGRATIONS.len() as i64;
    if schema > known {
        return Err(Error::Other(format!(
            "{} was made by a newer Porchlight (schema {schema}; this one knows up to {known}): restore it with that version or a later one",
            db.display()
        )));
    }
    if schema == 0 {
        return Err(Error::Other(format!(
            "{} holds no Porchlight data (schema 0)",
            db.display()
        )));
    }
    let files = crate::store::attachments::files_named_in(&db)?;
    for hash in &files {
        let path = from.join(FILES).join(hash);
        match crate::files::hash_of(&path) {
            Ok(actual) if actual == *hash => {}
            Ok(_) => {
                return Err(Error::Other(format!(
                    "{} does not hold what its name promises (damaged); restore an older backup",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Other(format!(
                    "the backup's database names the stored file {hash}, but {} is missing; restore a complete backup",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::Io(format!("reading {}", path.display()), e)),
        }
    }
    Ok(Checked {
        schema,
        db_bytes,
        files,
        conn,
    })
}

/// Copies the backup's database and files into the data directory under staging names, and
/// checks the copies again (the backup may have changed since it was checked).
fn stage(from: &Path, dir: &Path, checked: &Checked) -> Result<()> {
    let staged_files = dir.join(STAGED_FILES);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staged_files)
        .io_context(|| format!("creating {}", staged_files.display()))?;
    for hash in &checked.files {
        let to = staged_files.join(hash);
        copy_synced(&from.join(FILES).join(hash), &to)?;
        if crate::files::hash_of(&to).io_context(|| format!("reading {}", to.display()))? != *hash {
            return Err(Error::Other(format!(
                "the stored file {hash} changed while it was copied; is the backup still being written? Try again once it is complete"
            )));
        }
    }
    sync_dir(&staged_files)?;
    let staged_db = dir.join(STAGED_DB);
    crate::store::copy_database(
        &checked.conn,
        &staged_db,
        Some(std::time::Duration::from_secs(30)),
    )
    .map_err(|e| {
        Error::Other(format!(
            "copying {}: {e}; is the backup still being written?",
            from.join(DB).display()
        ))
    })?;
    std::fs::File::open(&staged_db)
        .and_then(|f| f.sync_all())
        .io_context(|| format!("syncing {}", staged_db.display()))?;
    owned_like(dir, &[&staged_db, &staged_files])?;
    for hash in &checked.files {
        owned_like(dir, &[&staged_files.join(hash)])?;
    }
    sync_dir(dir)
}

/// Run as root, gives `paths` the owner of `dir` (the data directory the service's user owns);
/// otherwise they are the caller's already.
fn owned_like(dir: &Path, paths: &[&Path]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let owner = std::fs::metadata(dir).io_context(|| format!("reading {}", dir.display()))?;
    if owner.uid() == 0 {
        return Ok(());
    }
    for path in paths {
        std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid()))
            .io_context(|| format!("giving {} the data directory's owner", path.display()))?;
    }
    Ok(())
}

fn remove_staged(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join(STAGED_FILES));
    let _ = std::fs::remove_file(dir.join(STAGED_DB));
}

/// Moves the current database (checkpointed, with any `-wal`/`-shm` left) and stored files into
/// `before-restore-<UTC time>/`; `None` when there was nothing to move.
fn move_aside(config: &Config) -> Result<Option<PathBuf>> {
    let dir = &config.data_dir;
    let db = dir.join(DB);
    let files = dir.join(FILES);
    let has_files = std::fs::read_dir(&files).is_ok_and(|mut d| d.next().is_some());
    let names = [
        DB.to_string(),
        format!("{DB}-wal"),
        format!("{DB}-shm"),
        FILES.to_string(),
    ];
    // A stray -wal or -shm counts too: SQLite would replay it onto the restored database.
    let has_db = names[..3].iter().any(|n| dir.join(n).exists());
    if !has_db && !has_files {
        return Ok(None);
    }
    if db.exists() {
        // Fold the WAL into the file so the folder is a plain backup; a damaged database is
        // moved as it is.
        if let Ok(conn) = rusqlite::Connection::open(&db) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
    let stamp: String = crate::clock::iso(crate::clock::now())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut aside = dir.join(format!("before-restore-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = dir.join(format!("before-restore-{stamp}-{n}"));
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&aside)
        .io_context(|| format!("creating {}", aside.display()))?;
    let mut moved: Vec<&String> = Vec::new();
    for name in &names {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        if let Err(e) = rename(&path, &aside.join(name)) {
            // Put back what was already moved: the directory stays as it was.
            for back in moved.iter().rev() {
                let _ = std::fs::rename(aside.join(back), dir.join(back));
            }
            let _ = std::fs::remove_dir(&aside);
            return Err(Error::Other(format!(
                "{e} (nothing was changed; is {} a mount point? The data directory's database and files/ must be on one file system)",
                path.display()
            )));
        }
        moved.push(name);
    }
    sync_dir(&aside)?;
    sync_dir(dir)?;
    Ok(Some(aside))
}

fn copy_synced(from: &Path, to: &Path) -> Result<u64> {
    crate::files::copy_synced(from, to)
        .io_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .io_context(|| format!("moving {} to {}", from.display(), to.display()))
}
