//! The single writer: one SQLite connection behind one mutex, with group commit.
//!
//! Every write transaction in the process runs here, one at a time, each inside a savepoint of a
//! shared `BEGIN IMMEDIATE` transaction. When a writer finishes and others are already queued on
//! the mutex, it leaves the transaction open and waits; the last writer of the group commits for
//! everyone and wakes them, so one fsync covers a group of writes. The last writer yields the
//! CPU once before committing, so that others about to write join its group.
//!
//! Why: a commit's fsync takes ~0.35 ms on this class of disk, so committing each write alone
//! caps a busy server at ~2,500 writes/s whatever the CPU does (measured ~1,800 creates/s).
//!
//! **The fsync happens outside the lock.** Under `synchronous=FULL` the connection itself runs
//! at `NORMAL` (a commit writes its WAL frames but does not wait for the disk), and the WAL file
//! is fsynced after the lock is released, while the next group is already being written. A
//! write is reported done only after an fsync that began after its commit was written, so an
//! acknowledged write survives power loss as before. One fsync covers every commit written
//! before it began (the WAL is appended in order), and one thread at a time runs it for
//! everyone waiting ([`Writer::durable`]).
//!
//! Who waits: outside a web worker, [`Writer::write`] itself returns once durable. A web worker
//! runs its request inside [`defer_durability`]: its writes return once committed, and the
//! worker hands the finished response to the sync thread (`server::worker`), which releases it
//! once the commit is on disk; the worker takes the next request meanwhile. (Measured on 2
//! cores: visitor submissions 4.9k → 5.5–6.2k/s, staff creates 6.0k → 7.8–8.1k/s; with the
//! fsync outside the lock but workers still waiting for it, 5.2–5.5k and 6.5–6.7k.)
//!
//! What changes: another connection may read a commit a fraction of a millisecond before it is
//! on disk. Whatever acts outside the database on what it read (sending mail) first waits for
//! that ([`Writer::sync_committed`]). If an fsync ever fails, no later write is acknowledged
//! (the kernel may have dropped those pages: a later fsync cannot vouch for them) and `/healthz`
//! reports it until Porchlight restarts and SQLite recovers the WAL.
//!
//! Closures run on the caller's own thread, so they may borrow request data; a failing or
//! panicking closure rolls back its own savepoint only, never the rest of the group. (What fails
//! the whole group: its COMMIT, or indexing its tickets for search just before — see
//! `search::index_pending` — which only a damaged database or full disk would make fail.)

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use rusqlite::Connection;

use crate::clock;
use crate::error::{Error, Result};
use crate::store::Tx;

/// Most writes one commit may cover; bounds how long an early member of a group waits.
const MAX_GROUP: usize = 32;

/// The error of every write, and of `/healthz`, once an fsync failed.
pub(crate) fn unsynced() -> Error {
    Error::Other("the disk failed to sync an earlier write: restart Porchlight".into())
}

thread_local! {
    /// Set by a test: the next fsyncs fail, as a failing disk's would.
    static FAIL_SYNC: Cell<bool> = const { Cell::new(false) };

    /// While a web worker runs a request ([`defer_durability`]): `Some(n)`, where `n` is the
    /// newest commit this thread's writes joined (0: none yet). Its writes then return once
    /// committed, and the response waits for commit `n` to be on disk instead.
    static DEFERRED: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's writes returning as soon as they are committed, before they are
/// on disk, so that a web worker goes on to its next request while the fsync runs. Returns
/// what `f` returned and the commit that must be on disk ([`crate::store::Store::durable`])
/// before anyone is told of the result: `None` when `f` wrote nothing.
pub fn defer_durability<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    struct Reset(Option<u64>);
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFERRED.with(|d| d.set(self.0));
        }
    }
    let reset = Reset(DEFERRED.with(|d| d.replace(Some(0))));
    let value = f();
    let commit = DEFERRED.with(|d| d.get()).unwrap_or(0);
    drop(reset);
    (value, (commit > 0).then_some(commit))
}

/// Notes that this thread's response must wait for commit `seq`, if it defers (see
/// [`defer_durability`]); `false` when it does not, and the write must wait itself.
fn defer(seq: u64) -> bool {
    DEFERRED.with(|d| match d.get() {
        Some(newest) => {
            d.set(Some(newest.max(seq)));
            true
        }
        None => false,
    })
}

/// The outcome of one group's `COMMIT`, shared by its members: the commit's number
/// (`Writer::committed`), or `Err` with the reason.
type Outcome = Arc<OnceLock<std::result::Result<u64, String>>>;

pub(crate) struct Writer {
    state: Mutex<State>,
    /// Signalled whenever a group's outcome is settled.
    settled: Condvar,
    /// Threads waiting for `state`: a finished writer defers its commit while this is non-zero.
    queued: AtomicUsize,
    /// Set when a write found the file damaged (reported by `/healthz`).
    corrupt: AtomicBool,
    /// The writer connection's page cache, in KiB.
    cache_kib: std::sync::atomic::AtomicI64,
    /// Commits written so far, numbered from 1; a commit's number is taken under the lock,
    /// after its frames are written to the WAL.
    committed: AtomicU64,
    /// Where commits stand on disk; `None` when the store does not promise durable commits
    /// (`synchronous=NORMAL`: SQLite syncs at checkpoints only).
    sync: Option<Sync>,
}

/// The fsyncs that make commits durable, one at a time.
struct Sync {
    /// The WAL file (`<database>-wal`), open for as long as the writer (SQLite never deletes
    /// or replaces it while a connection is open).
    wal: std::fs::File,
    state: Mutex<SyncState>,
    /// Signalled when an fsync ends.
    done: Condvar,
    /// An fsync failed: nothing written since can be vouched for, and no write is taken.
    failed: AtomicBool,
}

#[derive(Default)]
struct SyncState {
    /// Every commit up to this number is on disk.
    synced: u64,
    /// An fsync is under way (run by one waiting thread for all of them).
    running: bool,
}

struct State {
    conn: Connection,
    /// The open group transaction, if any: its outcome cell and how many writes have run in it.
    group: Option<(Outcome, usize)>,
}

impl Writer {
    /// `wal`: the WAL file this writer fsyncs after each commit, when commits must be durable
    /// (the connection itself then runs at `synchronous=NORMAL`); `None` otherwise.
    pub(crate) fn new(conn: Connection, cache_kib: i64, wal: Option<std::fs::File>) -> Writer {
        Writer {
            state: Mutex::new(State { conn, group: None }),
            settled: Condvar::new(),
            queued: AtomicUsize::new(0),
            corrupt: AtomicBool::new(false),
            cache_kib: std::sync::atomic::AtomicI64::new(cache_kib),
            committed: AtomicU64::new(0),
            sync: wal.map(|wal| Sync {
                wal,
                state: Mutex::new(SyncState::default()),
                done: Condvar::new(),
                failed: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn cache_kib(&self) -> i64 {
        self.cache_kib.load(Ordering::Relaxed)
    }

    pub(crate) fn set_cache_kib(&self, kib: i64) -> Result<()> {
        self.cache_kib.store(kib, Ordering::Relaxed);
        self.with_connection(|conn| Ok(conn.execute_batch(&format!("PRAGMA cache_size = -{kib}"))?))
    }

    pub(crate) fn mark_corrupt(&self) {
        self.corrupt.store(true, Ordering::Relaxed);
    }

    pub(crate) fn corrupt(&self) -> bool {
        self.corrupt.load(Ordering::Relaxed)
    }

    /// Every commit up to this number is on disk (for tests of who waits for it).
    #[cfg(test)]
    pub(crate) fn synced_through(&self) -> u64 {
        self.sync.as_ref().map_or(0, |sync| {
            sync.state.lock().unwrap_or_else(|e| e.into_inner()).synced
        })
    }

    /// Whether an fsync of the WAL failed since start (reported by `/healthz`).
    pub(crate) fn sync_failed(&self) -> bool {
        self.sync
            .as_ref()
            .is_some_and(|sync| sync.failed.load(Ordering::SeqCst))
    }

    /// Returns once every commit readers can see is on disk: for whatever acts outside the
    /// database on what it read (sending mail, removing a stored file), which may be a commit
    /// whose fsync is still under way. The number is read under the lock: SQLite shows a
    /// commit to readers inside `COMMIT`, before the writer numbers it (and an open group is
    /// committed first, so that nobody left it for this thread to commit).
    pub(crate) fn sync_committed(&self) -> Result<()> {
        let seq = {
            let mut state = self.lock();
            self.settle(&mut state);
            self.committed.load(Ordering::SeqCst)
        };
        self.durable(seq)
    }

    /// Returns once commit number `seq` is on disk: at once if an fsync that began after it
    /// was written has ended; otherwise after the fsync under way (which may not cover it) and,
    /// if needed, one more run by this thread for everyone waiting.
    pub(crate) fn durable(&self, seq: u64) -> Result<()> {
        let Some(sync) = &self.sync else {
            return Ok(());
        };
        let lock = || sync.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = lock();
        loop {
            if state.synced >= seq {
                return Ok(());
            }
            if sync.failed.load(Ordering::SeqCst) {
                return Err(unsynced());
            }
            if !state.running {
                break;
            }
            state = sync.done.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.running = true;
        drop(state);
        // Every commit numbered up to `target` was written before this fsync begins.
        let target = self.committed.load(Ordering::SeqCst);
        let synced = if cfg!(test) && FAIL_SYNC.with(|f| f.get()) {
            Err(std::io::Error::other(
                "fsync refused (a test's stand-in for a failing disk)",
            ))
        } else {
            sync.wal.sync_data()
        };
        let mut state = lock();
        state.running = false;
        match &synced {
            Ok(()) => state.synced = state.synced.max(target),
            Err(e) => {
                log::error!(
                    "could not sync the WAL to disk ({e}): no write is acknowledged from now on; restart Porchlight"
                );
                sync.failed.store(true, Ordering::SeqCst);
            }
        }
        sync.done.notify_all();
        drop(state);
        synced.map_err(|e| Error::Other(format!("syncing a write to disk: {e}")))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        // A poisoned lock only means a thread panicked outside a closure; the state is sound.
        let guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Runs `f` on the writer connection with no write transaction open (pending group writes
    /// are committed first): for migrations and checkpoints.
    pub(crate) fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut state = self.lock();
        self.settle(&mut state);
        let value = f(&state.conn);
        // Whatever `f` committed is durable before this returns, as a write's is. (Counted
        // as a commit whether or not `f` changed anything: schema-only changes count no rows,
        // and these calls are rare.)
        let seq = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
        drop(state);
        self.durable(seq)?;
        value
    }

    /// Runs `f` as one write: committed (with whatever group it joins) when it returns `Ok`,
    /// rolled back alone when it returns `Err` or panics.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        if self.sync_failed() {
            return Err(unsynced());
        }
        let mut state = self.lock();
        if state.group.is_none() {
            state.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            state.group = Some((Outcome::default(), 0));
        }
        let savepoint = state
            .conn
            .prepare_cached("SAVEPOINT write")
            .and_then(|mut s| s.execute([]));
        if let Err(e) = savepoint {
            self.abort_group(&mut state, &e.to_string());
            return Err(e.into());
        }
        let tx = Tx {
            conn: &state.conn,
            now: clock::now(),
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(&tx)));
        let kept = matches!(outcome, Ok(Ok(_)));
        let closed = if kept {
            state
                .conn
                .prepare_cached("RELEASE write")
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
        } else {
            state.conn.execute_batch("ROLLBACK TO write; RELEASE write")
        };
        if let Err(e) = closed {
            // The savepoint could not be closed cleanly: nothing in this group can be trusted.
            self.abort_group(&mut state, &e.to_string());
            drop(state); // before re-raising a panic: never poison the writer lock
            return match outcome {
                Ok(_) => Err(e.into()),
                Err(panic) => std::panic::resume_unwind(panic),
            };
        }
        // Every write counts towards the cap, failed ones too: a stream of failing writes must
        // not keep earlier members of the group waiting.
        let (cell, writes) = state.group.as_mut().expect("a group is open");
        *writes += 1;
        let cell = Arc::clone(cell);
        let full = *writes >= MAX_GROUP;
        if full {
            self.settle(&mut state);
        } else if self.queued.load(Ordering::SeqCst) == 0 {
            // Nobody waits to join: before committing, let the CPU go once, so that handlers
            // about to write can join this group. (Measured: groups grow, and submissions and
            // creates went up about a tenth; with nothing else to run it returns at once.)
            drop(state);
            std::thread::yield_now();
            state = self.lock();
            // Whoever finds nobody waiting commits the open group — this one, or one opened
            // meanwhile by writers who left it for us because we were queued then. (Only
            // "our own" group here left a later one open with its writers waiting.)
            if self.queued.load(Ordering::SeqCst) == 0 {
                self.settle(&mut state);
            }
        }
        drop(state);

        let value = match outcome {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => return Err(e),
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // Wait for the group's commit (at once if this thread just made it). A poisoned lock
        // is recovered, and the condition re-checked after every wake-up.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while cell.get().is_none() {
            state = self.settled.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        drop(state);
        match cell.get().expect("settled") {
            Ok(seq) => {
                if !defer(*seq) {
                    self.durable(*seq)?;
                }
                Ok(value)
            }
            Err(why) => Err(Error::Other(format!("committing a write: {why}"))),
        }
    }

    /// Commits the open group (or ends an empty one) and wakes its members. The tickets the group
    /// wrote are indexed for search first, in the same transaction (`search::index_pending`).
    fn settle(&self, state: &mut State) {
        let Some((cell, _)) = state.group.take() else {
            return;
        };
        // Indexing runs for the whole group: should it fail (a damaged index), every write in
        // the group fails with it, as when the COMMIT itself fails.
        let result = crate::store::search::index_pending(&state.conn)
            .map_err(|e| ("indexing the group's tickets for search", e))
            .and_then(|()| {
                state
                    .conn
                    .prepare_cached("COMMIT")
                    .and_then(|mut s| s.execute([]))
                    .map_err(|e| ("COMMIT", e))
            });
        let outcome = match result {
            Ok(_) => Ok(self.committed.fetch_add(1, Ordering::SeqCst) + 1),
            Err((step, e)) => {
                if crate::store::is_corruption(&e) {
                    self.mark_corrupt();
                }
                log::error!("{step} failed, rolling back the group: {e}");
                let _ = state.conn.execute_batch("ROLLBACK");
                Err(e.to_string())
            }
        };
        let _ = cell.set(outcome);
        self.settled.notify_all();
    }

    /// Rolls back the whole open group after an unexpected SQLite failure.
    fn abort_group(&self, state: &mut State, why: &str) {
        if let Some((cell, _)) = state.group.take() {
            log::error!("rolling back a write group: {why}");
            let _ = state.conn.execute_batch("ROLLBACK");
            let _ = cell.set(Err(why.to_string()));
            self.settled.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use crate::error::Error;
    use crate::store::{Conn, Store, Synchronous};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite3"), Synchronous::Full).unwrap();
        store
            .connect()
            .unwrap()
            .write(|tx| {
                Ok(tx
                    .conn()
                    .execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")?)
            })
            .unwrap();
        (dir, store)
    }

    fn count(store: &Store) -> i64 {
        store
            .connect()
            .unwrap()
            .conn()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Writes racing each other and a `with_connection` (which commits the open group) all
    /// return, round after round, with nobody left to write after them: no group is left open
    /// with its writers waiting. (A writer that yielded once committed only "its own" group and
    /// left a later one open; a quiet server then hung that write.)
    #[test]
    fn racing_writes_all_return_with_nobody_writing_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite3"), Synchronous::Normal).unwrap();
        let writers = 3;
        let rounds = 5000;
        let start = std::sync::Arc::new(Barrier::new(writers + 1));
        let (done, finished) = std::sync::mpsc::channel();
        for w in 0..=writers {
            let (store, start, done) = (store.clone(), start.clone(), done.clone());
            std::thread::spawn(move || {
                let db = store.connect().unwrap();
                for _ in 0..rounds {
                    start.wait();
                    let result = if w == writers {
                        store.writer.with_connection(|_| Ok(()))
                    } else {
                        db.write(|_| Ok(()))
                    };
                    done.send(result.is_ok()).unwrap();
                }
            });
        }
        for round in 0..rounds {
            for _ in 0..=writers {
                let ok = finished
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .unwrap_or_else(|_| panic!("round {round}: a write never returned"));
                assert!(ok, "round {round}: a write failed");
            }
        }
    }

    /// Many threads write at once: every `Ok` write is committed and visible to a fresh
    /// connection as soon as it returns; every `Err` or panicking write leaves nothing behind.
    #[test]
    fn concurrent_writes_commit_exactly_the_successful_ones() {
        let (_dir, store) = store();
        let threads = 12;
        let per_thread = 60;
        let barrier = std::sync::Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let db = store.connect().unwrap();
                    let reader = store.connect().unwrap();
                    barrier.wait();
                    let mut committed = 0;
                    for i in 0..per_thread {
                        let v = (t * 1000 + i) as i64;
                        let kind = i % 5;
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                db.write(|tx| {
                                    tx.conn().execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                                    match kind {
                                        3 => Err(Error::Other("refused after writing".into())),
                                        4 if i % 10 == 4 => panic!("closure panics after writing"),
                                        _ => Ok(v),
                                    }
                                })
                            }));
                        let seen: i64 = reader
                            .conn()
                            .query_row("SELECT COUNT(*) FROM t WHERE v = ?1", [v], |r| r.get(0))
                            .unwrap();
                        match outcome {
                            Ok(Ok(got)) => {
                                assert_eq!(got, v);
                                assert_eq!(seen, 1, "an acknowledged write is visible at once");
                                committed += 1;
                            }
                            Ok(Err(_)) | Err(_) => {
                                assert_eq!(seen, 0, "a failed write leaves nothing")
                            }
                        }
                    }
                    committed
                })
            })
            .collect();
        let committed: i64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            committed,
            (threads * per_thread * 3 / 5 + threads * per_thread / 10) as i64
        );
        assert_eq!(count(&store), committed);
    }

    /// #12: a damaged file was served while `/healthz` said "ok". A write that finds the file
    /// damaged marks the store, and the health check reports it from then on.
    #[test]
    fn a_write_that_finds_damage_fails_the_health_check() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        db.health().unwrap();
        let damaged = db.write(|_| -> crate::error::Result<()> {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some("database disk image is malformed".into()),
            )
            .into())
        });
        assert!(damaged.is_err());
        assert!(db.health().is_err());
        assert!(
            store.connect().unwrap().health().is_err(),
            "for every connection"
        );
    }

    /// A panic in a write of its own (seeding) rolls it back and leaves the writer usable.
    #[test]
    fn a_panic_in_a_write_alone_leaves_the_writer_usable() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.write_alone(|tx| -> crate::error::Result<()> {
                tx.conn().execute("INSERT INTO t (v) VALUES (1)", [])?;
                panic!("seeding failed halfway")
            })
        }));
        assert!(panicked.is_err());
        db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (2)", [])?))
            .unwrap();
        assert_eq!(count(&store), 1, "only the later write is there");
    }

    #[test]
    fn a_constraint_error_rolls_back_only_that_write() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (1)", [])?))
            .unwrap();
        let dup = db.write(|tx| {
            tx.conn().execute("INSERT INTO t (v) VALUES (2)", [])?;
            Ok(tx.conn().execute("INSERT INTO t (v) VALUES (1)", [])?)
        });
        assert!(dup.is_err());
        db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (3)", [])?))
            .unwrap();
        let values: Vec<i64> = db
            .conn()
            .prepare("SELECT v FROM t ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(values, vec![1, 3]);
    }

    /// Every commit up to this number is on disk (the writer's own account).
    fn synced(store: &Store) -> u64 {
        store.synced_through()
    }

    /// Whether every commit so far is on disk.
    fn all_synced(store: &Store) -> bool {
        let committed = store
            .writer
            .committed
            .load(std::sync::atomic::Ordering::SeqCst);
        synced(store) == committed
    }

    /// Inserts `v` as a web worker's request would; returns the commit its response waits for.
    fn insert_in_a_request(db: &crate::store::Db, v: i64) -> u64 {
        let (_, commit) = super::defer_durability(|| {
            db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (?1)", [v])?))
                .unwrap()
        });
        commit.expect("the request wrote")
    }

    /// A web worker's writes return once committed — readable at once — and leave the fsync to
    /// whoever releases the response (`Store::durable`); a write outside a worker returns only
    /// once it is on disk. A panic inside a worker's request leaves the thread as it was.
    #[test]
    fn deferred_writes_return_committed_and_leave_the_fsync_to_the_response() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        let reader = store.connect().unwrap();

        let ((), nothing) = super::defer_durability(|| {
            count(&store);
        });
        assert_eq!(
            nothing, None,
            "a request that wrote nothing waits for nothing"
        );

        let (written, commit) = super::defer_durability(|| {
            db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (1)", [])?))
                .unwrap();
            db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (2)", [])?))
                .unwrap()
        });
        assert_eq!(written, 1);
        let commit = commit.expect("the request wrote");
        let seen: i64 = reader
            .conn()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, 2, "both writes are committed when they return");
        assert!(
            synced(&store) < commit,
            "the request's writes were not synced"
        );
        store.durable(commit).unwrap();
        assert!(synced(&store) >= commit);

        let panicked = std::panic::catch_unwind(|| {
            super::defer_durability(|| panic!("a handler panics"));
        });
        assert!(panicked.is_err());
        db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (3)", [])?))
            .unwrap();
        assert!(
            all_synced(&store),
            "outside a request a write returns once its commit is on disk"
        );
    }

    /// When the disk refuses an fsync, the write fails rather than being reported as saved, and
    /// so does every later one, even once fsyncs work again (the kernel may have dropped the
    /// pages); `/healthz` says so. A commit already on disk is still reported saved.
    #[test]
    fn a_failed_fsync_fails_the_write_and_every_later_one() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        let before = insert_in_a_request(&db, 1);
        store.durable(before).unwrap();
        db.health().unwrap();

        super::FAIL_SYNC.with(|f| f.set(true));
        let failed = db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (2)", [])?));
        super::FAIL_SYNC.with(|f| f.set(false));
        let why = failed
            .expect_err("an unsynced write is not acknowledged")
            .to_string();
        assert!(why.contains("syncing a write to disk"), "{why}");

        let later = db.write(|tx| Ok(tx.conn().execute("INSERT INTO t (v) VALUES (3)", [])?));
        let why = later.expect_err("nor is any later one").to_string();
        assert!(why.contains("restart Porchlight"), "{why}");
        assert_eq!(
            count(&store),
            2,
            "a write after the failure is not even tried"
        );
        assert!(
            store.durable(before).is_ok(),
            "what was on disk before still is"
        );
        let health = db.health().expect_err("/healthz reports it").to_string();
        assert!(health.contains("failed to sync"), "{health}");
    }

    /// A database reached through a symlink has its WAL beside the file the link points to;
    /// that is the file synced, and writes are acknowledged.
    #[test]
    fn a_symlinked_database_syncs_its_real_wal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        drop(
            Store::open(
                &dir.path().join("real").join("t.sqlite3"),
                Synchronous::Full,
            )
            .unwrap(),
        );
        let link = dir.path().join("link.sqlite3");
        std::os::unix::fs::symlink(dir.path().join("real").join("t.sqlite3"), &link).unwrap();
        let store = Store::open(&link, Synchronous::Full).unwrap();
        let db = store.connect().unwrap();
        db.write(|tx| Ok(tx.conn().execute_batch("CREATE TABLE t (v INTEGER)")?))
            .unwrap();
        assert!(synced(&store) > 0);
        assert!(dir.path().join("real").join("t.sqlite3-wal").exists());
        assert!(!dir.path().join("link.sqlite3-wal").exists());
    }

    /// `sync_committed` returns once everything readers can see is on disk, a request's
    /// deferred commit included; `with_connection` returns once what it committed is.
    #[test]
    fn syncing_what_readers_see_covers_deferred_commits() {
        let (_dir, store) = store();
        let db = store.connect().unwrap();
        let commit = insert_in_a_request(&db, 1);
        assert!(synced(&store) < commit);
        db.sync_committed().unwrap();
        assert!(synced(&store) >= commit);

        store
            .writer
            .with_connection(|conn| Ok(conn.execute_batch("CREATE TABLE u (v INTEGER)")?))
            .unwrap();
        assert!(
            all_synced(&store),
            "a schema change is on disk when with_connection returns"
        );
    }
}
