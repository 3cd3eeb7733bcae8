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
//! A failure before step 4 leaves the data directory as it was (staging names are removed); a
//! failure after it says where the previous data is.

use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, IoContext, Result};

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

/// Checks `from` and puts it in place in `config.data_dir`.
pub fn restore(config: &Config, from: &Path) -> Result<Restored> {
    let checked = check(from)?;
    let dir = &config.data_dir;
    crate::datadir::prepare(dir)?;
    let _lock = crate::datadir::Lock::acquire(dir)?;
    // Staging names left by an earlier, interrupted restore are not data: start clean.
    remove_staged(dir);
    let staged = stage(from, dir, &checked.files);
    if let Err(e) = staged {
        remove_staged(dir);
        return Err(e);
    }
    let aside = move_aside(config)?;
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
    drop(conn);
    let files = crate::store::attachments::files_named_in(&db)?;
    for hash in &files {
        let path = from.join(FILES).join(hash);
        match sha256_of(&path) {
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
    })
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Copies the backup's database and files into the data directory under staging names.
fn stage(from: &Path, dir: &Path, files: &[String]) -> Result<()> {
    let staged_files = dir.join(STAGED_FILES);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staged_files)
        .io_context(|| format!("creating {}", staged_files.display()))?;
    for hash in files {
        copy_synced(&from.join(FILES).join(hash), &staged_files.join(hash))?;
    }
    sync_dir(&staged_files)?;
    copy_synced(&from.join(DB), &dir.join(STAGED_DB))?;
    sync_dir(dir)
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
    if !db.exists() && !has_files {
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
    for name in [
        DB.to_string(),
        format!("{DB}-wal"),
        format!("{DB}-shm"),
        FILES.to_string(),
    ] {
        let path = dir.join(&name);
        if path.exists() {
            rename(&path, &aside.join(&name))?;
        }
    }
    sync_dir(&aside)?;
    sync_dir(dir)?;
    Ok(Some(aside))
}

fn copy_synced(from: &Path, to: &Path) -> Result<u64> {
    let n = std::fs::copy(from, to)
        .io_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .io_context(|| format!("syncing {}", to.display()))?;
    Ok(n)
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)
        .io_context(|| format!("moving {} to {}", from.display(), to.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .io_context(|| format!("syncing {}", dir.display()))
}
