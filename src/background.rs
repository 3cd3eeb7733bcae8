//! Background work on plain threads: mail delivery from the outbox (and, every second, search
//! indexing of outside edits and the bound on visitors' throttle counts), and periodic clean-up
//! of dead sessions and old throttle events. Each thread stops promptly when asked (finishing the
//! message it is delivering), so shutdown never waits out a sleep.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::app::App;
use crate::store;

/// A stop signal threads can sleep on.
#[derive(Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    /// Sleeps up to `d`; returns true when stop was requested (before or during the sleep).
    pub fn sleep(&self, d: Duration) -> bool {
        let (lock, cvar) = &*self.0;
        let stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = cvar
            .wait_timeout_while(stopped, d, |s| !*s)
            .unwrap_or_else(|e| e.into_inner());
        *stopped
    }

    /// Whether stop was requested.
    pub fn requested(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn request(&self) {
        let (lock, cvar) = &*self.0;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cvar.notify_all();
    }
}

/// The running background threads.
pub struct Background {
    stop: Stop,
    threads: Vec<JoinHandle<()>>,
}

/// How often clean-up runs.
const CLEANUP_EVERY: Duration = Duration::from_secs(600);

impl Background {
    pub fn start(app: Arc<App>) -> Background {
        let stop = Stop::default();
        let mut threads = Vec::new();
        let cleanup_stop = stop.clone();
        let cleanup_app = Arc::clone(&app);
        threads.push(
            std::thread::Builder::new()
                .name("porchlight-cleanup".into())
                .spawn(move || cleanup_loop(&cleanup_app, &cleanup_stop))
                .expect("spawning the clean-up thread"),
        );
        let outbox_stop = stop.clone();
        threads.push(
            std::thread::Builder::new()
                .name("porchlight-outbox".into())
                .spawn(move || outbox_loop(&app, &outbox_stop))
                .expect("spawning the outbox thread"),
        );
        Background { stop, threads }
    }

    /// Asks every thread to stop and waits for them.
    pub fn stop(self) {
        self.stop.request();
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// How often the outbox is checked for due messages.
const OUTBOX_EVERY: Duration = Duration::from_secs(1);

fn outbox_loop(app: &App, stop: &Stop) {
    let db = match app.store.connect() {
        Ok(db) => db,
        Err(e) => {
            log::error!("outbox thread: {e}");
            return;
        }
    };
    loop {
        // Tickets changed from outside Porchlight are searchable, and searched right, within a
        // second (`Db::index_leftovers`).
        if let Err(e) = db.index_leftovers() {
            log::error!("search indexes: {e}");
        }
        // Visitors' throttle counts in memory stay bounded however many addresses send.
        let expired = crate::clock::now() - store::throttle::VISITOR_WINDOW_SECS * 31 / 30;
        let keep = store::throttle::VISITOR_BUCKETS_KEPT;
        match db.write(|tx| store::throttle::bound_in_memory(tx, expired, keep)) {
            Ok((_, 0)) => {}
            Ok((_, n)) => {
                log::info!("moved {n} visitors' throttle counts to the database (memory full)")
            }
            Err(e) => log::error!("throttle counts: {e}"),
        }
        // A long batch (a slow server, many due) stops between messages when asked to.
        match crate::mail::deliver_due_until(&app.mailer, &db, || stop.requested()) {
            Ok(0) => {}
            Ok(n) => log::info!("delivered {n} email(s)"),
            Err(e) => log::error!("outbox: {e}"),
        }
        if stop.sleep(OUTBOX_EVERY) {
            log::debug!("outbox thread stopped");
            return;
        }
    }
}

fn cleanup_loop(app: &App, stop: &Stop) {
    let db = match app.store.connect() {
        Ok(db) => db,
        Err(e) => {
            log::error!("clean-up thread: {e}");
            return;
        }
    };
    loop {
        let now = crate::clock::now();
        let idle_cutoff = now - app.config.staff_idle().as_secs() as i64;
        let result = db.write(|tx| {
            let sessions = store::sessions::delete_dead(tx, idle_cutoff)?
                + store::contacts::delete_dead_sessions(
                    tx,
                    now - app.config.contact_idle().as_secs() as i64,
                )?;
            // Nothing counts buckets that started before the longest throttle window (at least a
            // day) and one bucket more.
            let longest = (app.config.login.lockout_minutes as i64 * 60).max(86_400);
            let events = store::throttle::prune(tx, now - longest - longest / 30)?;
            // The Mail page shows three months of sent and failed mail.
            store::outbox::prune_finished(tx, now - 90 * 86_400)?;
            Ok((sessions, events))
        });
        match result {
            Ok((0, 0)) => {}
            Ok((s, e)) => {
                log::debug!("clean-up: removed {s} dead sessions, {e} old throttle events")
            }
            Err(e) => log::error!("clean-up: {e}"),
        }
        if stop.sleep(CLEANUP_EVERY) {
            return;
        }
    }
}
