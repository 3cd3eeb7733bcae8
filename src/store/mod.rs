//! All SQL lives under this module; nothing here knows about HTTP.
//!
//! [`Store`] is the shared handle of one database file. Each worker thread opens its own
//! [`Db`] (one SQLite connection) for reads. Every write goes through [`Db::write`], which takes
//! the store's single in-process writer lock — a mutex around one dedicated writer connection —
//! and runs the transaction on that connection.
//!
//! Why one writer lock: SQLite allows one writer at a time anyway, and writers that wait on
//! `busy_timeout` back off with sleeps, so under 16 concurrent clients the p99 of a simple insert
//! was 2–5 s here. Queueing writers on a mutex instead hands the lock over immediately: p99 ~7 ms
//! at the same throughput.
//!
//! Why a dedicated writer connection: in WAL mode a connection drops its whole page cache when
//! it sees another connection's commit, so writes spread over the workers' connections each
//! started cold and re-read their pages from the OS. The writer connection sees only its own
//! commits and stays warm. Writes queued behind each other share one commit (`writer.rs`).
//!
//! Read functions take `&impl Reader` (a [`Db`] or a [`Tx`]); write functions take `&Tx`, so a
//! write outside the lock does not compile.

pub mod migrate;
pub mod outbox;
pub mod projects;
pub mod sessions;
pub mod settings;
pub mod share;
pub mod staff;
pub mod throttle;
pub mod tickets;
pub mod timeline;
pub mod tokens;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, IoContext, Result};
use writer::Writer;

/// How hard SQLite works to make a commit durable (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is fsynced: an acknowledged write survives power loss.
    Full,
    /// WAL commits are fsynced at checkpoints only: faster; power loss may drop the last commits.
    Normal,
}

impl Synchronous {
    pub fn parse(s: &str) -> Option<Synchronous> {
        match s {
            "full" => Some(Synchronous::Full),
            "normal" => Some(Synchronous::Normal),
            _ => None,
        }
    }
}

/// The shared handle of one database: its path and the writer (lock + connection).
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    synchronous: Synchronous,
    writer: Arc<Writer>,
}

/// One SQLite connection for reads, owned by one thread, plus access to the shared writer.
pub struct Db {
    conn: Connection,
    writer: Arc<Writer>,
}

/// A write transaction in progress (the writer lock is held).
pub struct Tx<'a> {
    conn: &'a Connection,
    now: i64,
}

/// Anything reads can run on: a plain connection or an open write transaction.
pub trait Reader {
    fn conn(&self) -> &Connection;
}

impl Reader for Db {
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

impl Reader for Tx<'_> {
    fn conn(&self) -> &Connection {
        self.conn
    }
}

impl Tx<'_> {
    /// The transaction's timestamp: every row written in one transaction gets the same time.
    pub fn now(&self) -> i64 {
        self.now
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path, synchronous: Synchronous) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).io_context(|| format!("creating {}", dir.display()))?;
        }
        let writer = open_connection(path, synchronous)?;
        // WAL is a property of the file; set it once here rather than on every connection.
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Other(format!(
                "{}: could not switch to WAL (got {mode})",
                path.display()
            )));
        }
        let store = Store {
            path: path.to_path_buf(),
            synchronous,
            writer: Arc::new(Writer::new(writer)),
        };
        migrate::run(&store.connect()?, path)?;
        Ok(store)
    }

    /// Opens a new read connection with Porchlight's pragmas. Call once per thread and keep it.
    pub fn connect(&self) -> Result<Db> {
        Ok(Db {
            conn: open_connection(&self.path, self.synchronous)?,
            writer: Arc::clone(&self.writer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_connection(path: &Path, synchronous: Synchronous) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let sync = match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    {
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {sync}; PRAGMA temp_store = MEMORY;"
        ))?;
        // Why: without the query-planner stability guarantee, SQLite marks a cached statement
        // for re-preparation whenever a newly bound value might change its plan (LIMIT/OFFSET,
        // LIKE patterns, …) — measured as ~5% of the ticket page spent re-parsing SQL. Our
        // queries have one good plan; keep it.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.set_prepared_statement_cache_capacity(64);
    }
    Ok(conn)
}

impl Db {
    /// Runs `f` as one write transaction under the writer lock: durable when this returns `Ok`;
    /// rolled back (alone) when `f` returns `Err` or panics. Never call it from inside `f`.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.writer.write(f)
    }

    /// A cheap liveness probe for `/healthz`: the file is open and answers a query.
    pub fn ping(&self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Copies the live database to `out` with SQLite's online backup API (consistent while
    /// other connections write), then runs `PRAGMA integrity_check` on the copy.
    ///
    /// The file is created readable by its owner only: it holds password hashes.
    pub fn backup_to(&self, out: &Path) -> Result<()> {
        create_private_file(out)?;
        let mut dest = Connection::open(out)?;
        {
            // Why one step (-1): copying in slices restarts whenever another connection writes,
            // so on a busy server a sliced backup never finished. One step copies one
            // consistent WAL snapshot without blocking writers.
            use rusqlite::backup::{Backup, StepResult};
            let backup = Backup::new(&self.conn, &mut dest)?;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    // Busy or locked by another process: wait a moment and try again.
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        let verdict: String = dest.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict != "ok" {
            return Err(Error::Other(format!(
                "integrity check of {} failed: {verdict}",
                out.display()
            )));
        }
        // The copy is a standalone file: leave it in rollback-journal mode so it is one file.
        dest.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        Ok(())
    }

    /// Moves the WAL into the main file (at shutdown, so the file alone is complete).
    pub fn checkpoint(&self) -> Result<()> {
        self.writer.with_connection(|conn| {
            Ok(conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?)
        })
    }
}

/// Creates `path` as an empty file with mode 0600; fails if it exists.
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .io_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// True when `e` is a UNIQUE constraint violation (e.g. a duplicate email or project key).
pub fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Db(rusqlite::Error::SqliteFailure(f, _))
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern and wraps it in `%…%`.
pub fn like_contains(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
