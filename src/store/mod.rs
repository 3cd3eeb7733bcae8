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
//! write outside the lock does not compile. The SQLite connection behind either is reachable
//! only from inside this module (the `Reader` trait is sealed): code outside `store` cannot run
//! SQL, however it tries.
//!
//! Errors leave this module with context: `store: loading ticket ACME-12: database is locked`
//! tells a 500's log line what broke (see [`Context`]).

pub mod attachments;
pub mod contacts;
pub mod customers;
pub mod migrate;
pub mod outbox;
pub mod paging;
pub mod portal_tickets;
pub mod portals;
pub mod projects;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod share;
pub mod staff;
pub mod throttle;
pub mod tickets;
pub mod timeline;
pub mod tokens;
pub mod view_as;
mod writer;

pub use writer::defer_durability;

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
    /// SQLite's page cache per connection, in KiB (`PRAGMA cache_size = -N`).
    cache_kib: i64,
    writer: Arc<Writer>,
}

/// The page cache each connection keeps unless told otherwise (SQLite's own default).
const DEFAULT_CACHE_KIB: i64 = 2048;

/// One SQLite connection for reads, owned by one thread, plus access to the shared writer.
pub struct Db {
    conn: Connection,
    writer: Arc<Writer>,
    /// Unique in the process: tells this connection's `data_version` readings from another's.
    serial: u64,
}

/// What a read connection can see, as of one moment: equal values mean nothing changed
/// (`Db::data_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    connection: u64,
    version: i64,
}

#[cfg(test)]
impl DataVersion {
    /// A reading for tests of what keys on it.
    pub(crate) fn for_tests(version: i64) -> DataVersion {
        DataVersion {
            connection: 0,
            version,
        }
    }
}

/// A write transaction in progress (the writer lock is held).
pub struct Tx<'a> {
    conn: &'a Connection,
    now: i64,
}

/// Anything reads can run on: a plain connection or an open write transaction.
pub trait Reader: sealed::Connected {}

impl<T: sealed::Connected> Reader for T {}

mod sealed {
    use rusqlite::Connection;

    /// Proof of being inside `store`: only `store` can make one.
    pub struct Token(pub(super) ());

    /// The connection behind a [`super::Reader`], handed out only for a [`Token`] — so even
    /// generic code outside `store` that holds a `Reader` cannot reach SQL.
    pub trait Connected {
        fn connection(&self, token: Token) -> &Connection;
    }

    impl Connected for super::Db {
        fn connection(&self, _: Token) -> &Connection {
            &self.conn
        }
    }

    impl Connected for super::Tx<'_> {
        fn connection(&self, _: Token) -> &Connection {
            self.conn
        }
    }
}

/// `r.conn()` for the store's own modules (this trait is private to `store`).
trait Conn {
    fn conn(&self) -> &Connection;
}

impl<T: sealed::Connected + ?Sized> Conn for T {
    fn conn(&self) -> &Connection {
        self.connection(sealed::Token(()))
    }
}

/// Adds what a store operation was doing to its error: `.context(|| format!("loading ticket
/// {key}-{number}"))`. The first context added is kept (the innermost, most precise one).
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Store(what(), e))
    }
}

impl<T> Context<T> for Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| match e {
            Error::Db(e) => Error::Store(what(), e),
            other => other,
        })
    }
}

/// Whether SQLite said the file is damaged or not a database at all.
pub fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

impl Tx<'_> {
    /// The transaction's timestamp: every row written in one transaction gets the same time.
    pub fn now(&self) -> i64 {
        self.now
    }
}

/// How long the start-up integrity check may take before it is cut short (a very large
/// database is then served unchecked, and the log says so).
const QUICK_CHECK_BUDGET: Duration = Duration::from_secs(3);

impl Store {
    /// Opens (creating if needed) the database at `path`, checks it and applies pending
    /// migrations. A file that is damaged, not a database or not writable is refused with a
    /// message that names it and says what to do.
    pub fn open(path: &Path, synchronous: Synchronous) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).io_context(|| format!("creating {}", dir.display()))?;
        }
        let named = |e: rusqlite::Error| explain_open_error(path, e);
        // The writer connection commits without waiting for the disk; under `Full` the writer
        // fsyncs the WAL itself, outside its lock, before acknowledging (see `store::writer`).
        let mut writer = open_connection(path, Synchronous::Normal).map_err(|e| match e {
            Error::Db(e) => named(e),
            other => other,
        })?;
        if writer.is_readonly(rusqlite::MAIN_DB).map_err(named)? {
            return Err(Error::Other(format!(
                "{} is read-only: Porchlight must be able to write it (check the file's owner and permissions)",
                path.display()
            )));
        }
        // WAL is a property of the file; set it once here rather than on every connection.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(named)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Other(format!(
                "{}: could not switch to WAL (got {mode})",
                path.display()
            )));
        }
        quick_check(&mut writer, path)?;
        let wal = match synchronous {
            Synchronous::Full => Some(open_wal(&writer, path)?),
            Synchronous::Normal => None,
        };
        let store = Store {
            path: path.to_path_buf(),
            synchronous,
            cache_kib: DEFAULT_CACHE_KIB,
            writer: Arc::new(Writer::new(writer, DEFAULT_CACHE_KIB, wal)),
        };
        migrate::run(&store.connect()?, path)?;
        store.writer.with_connection(throttle::create_in_memory)?;
        store.writer.with_connection(index_backlog)?;
        store.writer.with_connection(index_leftovers)?;
        Ok(store)
    }

    /// Sets the page cache of every connection, the writer's included, to `kib` KiB. With the
    /// number of reader connections (`server.workers`) this bounds what SQLite holds in memory,
    /// however large the database grows.
    pub fn with_cache_kib(mut self, kib: i64) -> Result<Store> {
        self.cache_kib = kib;
        self.writer.set_cache_kib(kib)?;
        Ok(self)
    }

    /// Returns once commit `commit` (from [`defer_durability`]) is on disk; `Err` when the disk
    /// failed to sync it, and the write must not be reported as saved.
    pub fn durable(&self, commit: u64) -> Result<()> {
        self.writer.durable(commit)
    }

    /// Every commit up to this number is on disk (for tests of who waits for it).
    #[cfg(test)]
    pub(crate) fn synced_through(&self) -> u64 {
        self.writer.synced_through()
    }

    /// Opens a new read connection with Porchlight's pragmas. Call once per thread and keep it.
    pub fn connect(&self) -> Result<Db> {
        let conn = open_connection(&self.path, self.synchronous)?;
        conn.execute_batch(&format!("PRAGMA cache_size = -{}", self.cache_kib))?;
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Db {
            conn,
            writer: Arc::clone(&self.writer),
            serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Indexes tickets a write outside the writer left in `search_pending` (a migration that
/// changes tickets, the sqlite3 shell): at start-up and every second ([`Db::index_leftovers`]),
/// so search never silently misses or mis-finds tickets for long. One indexed read when there
/// are none.
fn index_leftovers(conn: &Connection) -> Result<()> {
    let run = || -> rusqlite::Result<()> {
        if !search::pending(conn)? {
            return Ok(());
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        search::index_pending(conn)?;
        conn.execute_batch("COMMIT")
    };
    run().or_else(|e| {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        Err(e).context(|| "indexing tickets left out of search".to_string())
    })
}

/// The search indexes' `automerge` setting (as migration 0005 sets it), put back after a bulk
/// load.
const AUTOMERGE: i64 = 16;

/// Puts the tickets a bulk load left out (`search_backlog`) into the search indexes, in one
/// transaction with clearing the backlog. Nothing to do, and one indexed read, when there is none.
fn index_backlog(conn: &Connection) -> Result<()> {
    let run = || -> rusqlite::Result<bool> {
        let owed = || {
            conn.query_row("SELECT MIN(from_id) FROM search_backlog", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
        };
        if owed()?.is_none() {
            return Ok(false);
        }
        // Read again under the write lock: two processes opening the file must not both do it.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let Some(from) = owed()? else {
            conn.execute_batch("COMMIT")?;
            return Ok(false);
        };
        // Merging as it goes would redo work the single merge at the end does once.
        for (table, columns, values) in [
            (
                "ticket_titles",
                "rowid, subject, public_title, board",
                "id, subject, public_title, board_doc",
            ),
            ("ticket_bodies", "rowid, body", "id, body"),
        ] {
            conn.execute_batch(&format!(
                "INSERT INTO {table} ({table}, rank) VALUES ('automerge', 0)"
            ))?;
            // Rows a killed load had indexed are not there: its pass runs in one transaction.
            conn.execute(
                &format!(
                    "INSERT INTO {table} ({columns}) SELECT {values} FROM tickets
                     WHERE id > ?1 ORDER BY id"
                ),
                [from],
            )?;
            conn.execute_batch(&format!(
                "INSERT INTO {table} ({table}, rank) VALUES ('automerge', {AUTOMERGE});
                 INSERT INTO {table} ({table}) VALUES ('optimize');"
            ))?;
        }
        conn.execute_batch("DELETE FROM search_backlog; COMMIT")?;
        Ok(true)
    };
    match run() {
        Ok(true) => {
            log::info!("search indexes brought up to date after a bulk load");
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(e).context(|| "indexing tickets after a bulk load".to_string())
        }
    }
}

/// Opens the WAL file of the database `conn` has open (at `path`), for the writer's fsyncs.
/// Named as SQLite names it — beside the file the database path resolves to, should it be a
/// symlink — and opened now, so that a file that cannot be opened stops the start.
fn open_wal(conn: &Connection, path: &Path) -> Result<std::fs::File> {
    let db = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| path.to_path_buf());
    let mut wal = db.into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&wal)
        .io_context(|| format!("opening {} to sync writes", wal.display()))
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

/// What SQLite said about opening `path`, in words that name the file and say what to do.
fn explain_open_error(path: &Path, e: rusqlite::Error) -> Error {
    let what = if is_corruption(&e) {
        "is damaged or is not a Porchlight database; restore it from a backup (see \"Backups\" in the README)"
    } else if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ReadOnly)
    {
        "cannot be written (check the owner and permissions of the file and its directory)"
    } else if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen)
    {
        "cannot be opened (check that its directory exists and is writable)"
    } else {
        "could not be opened"
    };
    Error::Other(format!("{} {what}: {e}", path.display()))
}

/// A bounded `PRAGMA quick_check` at start: a damaged database is refused before anything is
/// served. Cut short after [`QUICK_CHECK_BUDGET`] on very large files.
fn quick_check(conn: &mut Connection, path: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    conn.progress_handler(10_000, Some(move || started.elapsed() > QUICK_CHECK_BUDGET))?;
    let verdict = conn.query_row("PRAGMA quick_check(5)", [], |r| r.get::<_, String>(0));
    conn.progress_handler(0, None::<fn() -> bool>)?;
    match verdict {
        Ok(v) if v == "ok" => Ok(()),
        Ok(problems) => Err(Error::Other(format!(
            "{} is damaged ({problems}). Porchlight will not serve it: restore the latest backup (see \"Backups\" in the README), or move the file aside to start empty",
            path.display()
        ))),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            log::warn!(
                "integrity check of {} cut short after {}s (large database); serving it unchecked",
                path.display(),
                QUICK_CHECK_BUDGET.as_secs()
            );
            Ok(())
        }
        Err(e) => Err(explain_open_error(path, e)),
    }
}

impl Db {
    /// Runs `f` as one write transaction under the writer lock: durable when this returns `Ok`
    /// — except in a web worker's request, where it is committed, and the response waits for
    /// the disk (`store::defer_durability`); call [`Db::sync_committed`] before acting outside
    /// the database on it there. Rolled back (alone) when `f` returns `Err` or panics. Never
    /// call it from inside `f`.
    pub fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let result = self.writer.write(f);
        if let Err(e) = &result
            && e.sqlite().is_some_and(is_corruption)
        {
            self.writer.mark_corrupt();
        }
        result
    }

    /// Runs `f` as one write transaction of its own — no savepoint, not grouped with others —
    /// for writes of very many rows (seeding the demo). Why: inside the savepoint every write
    /// gets, SQLite journals each changed page and walks that journal at the end of every
    /// statement, so a transaction of thousands of inserts grew quadratically (a million demo
    /// tickets: two minutes, 60% of it there).
    pub fn write_alone<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.writer.with_connection(|conn| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let tx = Tx {
                conn,
                now: crate::clock::now(),
            };
            // A panic in `f` must not leave the writer connection inside this transaction.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&tx)));
            let committed = match outcome {
                Ok(written) => written.and_then(|value| {
                    search::index_pending(conn)?;
                    conn.execute_batch("COMMIT")?;
                    Ok(value)
                }),
                Err(panic) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    std::panic::resume_unwind(panic);
                }
            };
            if committed.is_err() && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            committed
        })
    }

    /// Runs `f`, which writes very many tickets (seeding the demo), with the writer set up for
    /// it: a large page cache, and the search indexes filled in one pass at the end instead of
    /// row by row (measured at 1,000,000 tickets: 45 s instead of over two minutes).
    ///
    /// The pass is owed durably: a row in `search_backlog`, committed before `f` starts, turns
    /// the index triggers off for tickets above the current last id. However `f` ends — an
    /// error, a panic — the pass runs and clears it; if the process dies first, the next
    /// [`Store::open`] runs it. Search never silently misses tickets.
    pub fn bulk_load<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.writer.with_connection(|conn| {
            conn.execute_batch(
                "PRAGMA cache_size = -65536;
                 INSERT INTO search_backlog (from_id) SELECT COALESCE(MAX(id), 0) FROM tickets;",
            )
            .context(|| "preparing a bulk load".to_string())
        })?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        let finished = self.writer.with_connection(|conn| {
            let indexed = index_backlog(conn);
            let _ =
                conn.execute_batch(&format!("PRAGMA cache_size = -{}", self.writer.cache_kib()));
            indexed
        });
        match outcome {
            Ok(outcome) => {
                finished?;
                outcome
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Indexes tickets changed by a write from outside Porchlight (the sqlite3 shell), which
    /// the writer would otherwise index only at its next commit: one indexed read when there
    /// are none. The background thread runs it every second.
    pub fn index_leftovers(&self) -> Result<()> {
        let pending = search::pending(&self.conn)
            .context(|| "looking for tickets left out of search".to_string())?;
        if pending {
            self.writer.with_connection(index_leftovers)?;
        }
        Ok(())
    }

    /// Returns once every commit readers can see is on disk: call it before acting outside the
    /// database (removing a file, sending mail) on what was written or read, since a read may
    /// see a commit whose fsync is under way.
    pub fn sync_committed(&self) -> Result<()> {
        self.writer.sync_committed()
    }

    /// Records that `e` (from any read or write) found the file damaged: `/healthz` reports it
    /// from then on, for every connection.
    pub fn note_error(&self, e: &Error) {
        if e.sqlite().is_some_and(is_corruption) {
            self.writer.mark_corrupt();
        }
    }

    /// A number that changes whenever the writer commits (`PRAGMA data_version`: commits by
    /// other connections; this read connection never writes). Two equal readings mean nothing
    /// this connection can read changed in between — what `web::fragments::view` keys on.
    pub fn data_version(&self) -> Result<DataVersion> {
        let version = self
            .conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .context(|| "reading the data version".to_string())?;
        Ok(DataVersion {
            connection: self.serial,
            version,
        })
    }

    /// The check behind `/healthz`: a real read of the schema and the newest ticket on this
    /// connection, and no write has found the file damaged since start.
    pub fn health(&self) -> Result<()> {
        if self.writer.corrupt() {
            return Err(Error::Other("a write found the database damaged".into()));
        }
        if self.writer.sync_failed() {
            return Err(writer::unsynced());
        }
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM sqlite_schema), (SELECT MAX(id) FROM tickets), (SELECT MAX(id) FROM staff)",
                [],
                |_| Ok(()),
            )
            .context(|| "health check read".to_string())
    }

    /// Copies the live database to `out` with SQLite's online backup API (consistent while
    /// other connections write), then runs `PRAGMA integrity_check` on the copy
    /// ([`copy_database`]).
    pub fn backup_to(&self, out: &Path) -> Result<()> {
        copy_database(&self.conn, out, None)
    }

    /// Moves the WAL into the main file (at shutdown, so the file alone is complete).
    pub fn checkpoint(&self) -> Result<()> {
        self.writer.with_connection(|conn| {
            Ok(conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?)
        })
    }
}

/// Copies the database `src` reads into the new file `out` with SQLite's online backup API, as
/// one consistent snapshot, then checks the copy (`PRAGMA integrity_check`) and leaves it a
/// standalone rollback-journal file. `out` is created readable by its owner only: it holds
/// password hashes. While the source is locked by another process the copy waits, for at most
/// `patience` when given.
pub fn copy_database(src: &Connection, out: &Path, patience: Option<Duration>) -> Result<()> {
    create_private_file(out)?;
    let mut dest = Connection::open(out)?;
    {
        // Why one step (-1): copying in slices restarts whenever another connection writes,
        // so on a busy server a sliced backup never finished. One step copies one
        // consistent WAL snapshot without blocking writers.
        use rusqlite::backup::{Backup, StepResult};
        let backup = Backup::new(src, &mut dest)?;
        let deadline = patience.map(|p| std::time::Instant::now() + p);
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // Busy or locked by another process: wait a moment and try again.
                _ if deadline.is_some_and(|d| std::time::Instant::now() > d) => {
                    return Err(Error::Other(format!(
                        "the database stayed locked by another process for {} s",
                        patience.unwrap_or_default().as_secs()
                    )));
                }
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
    matches!(e.sqlite(), Some(rusqlite::Error::SqliteFailure(f, _))
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
