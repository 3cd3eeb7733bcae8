//! The application's shared state: configuration, database, templates, static files and the
//! mailer — everything a request handler or a background thread can reach.
//!
//! Requests enter through `web::handle`; this module knows nothing of HTTP.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::mail::Mailer;
use crate::render::{StaticFiles, Templates};
use crate::store::{Store, Synchronous};

/// Everything a request handler can reach.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub templates: Templates,
    pub assets: StaticFiles,
    pub mailer: Mailer,
    pub metrics: crate::metrics::Metrics,
    /// The bearer token `/metrics` wants on the main listener (read once: it may be a file).
    pub metrics_token: String,
    request_counter: AtomicU64,
    request_id_prefix: String,
}

impl App {
    /// Prepares the data directory, opens (and checks and migrates) the database, loads the
    /// templates.
    pub fn new(config: Config) -> Result<App> {
        crate::datadir::prepare(&config.data_dir)?;
        App::new_prepared(config)
    }

    /// [`App::new`] for a data directory already prepared — by `serve`, which must take the
    /// directory's lock (`datadir::Lock`) before anything here touches it.
    pub fn new_prepared(config: Config) -> Result<App> {
        let tmp = crate::body::tmp_dir(&config.data_dir);
        // Uploads a crash interrupted: nothing refers to them.
        match crate::body::sweep_tmp(&tmp) {
            Ok(0) => {}
            Ok(n) => log::info!("removed {n} unfinished upload(s) from {}", tmp.display()),
            Err(e) => log::warn!("cleaning {}: {e}", tmp.display()),
        }
        let sync = Synchronous::parse(&config.sqlite_synchronous).expect("validated in config");
        let store = Store::open(&config.db_path(), sync)?
            .with_cache_kib(config.sqlite_cache_mb as i64 * 1024)?;
        let assets = StaticFiles::load();
        let templates = Templates::load(assets.urls())?;
        let mailer = Mailer::new(&config)?;
        let metrics = crate::metrics::Metrics::new(&config);
        let metrics_token = config.metrics.token()?;
        let mut prefix = [0u8; 3];
        getrandom::fill(&mut prefix)
            .map_err(|e| Error::Other(format!("OS random number generator: {e}")))?;
        Ok(App {
            config,
            store,
            templates,
            assets,
            mailer,
            metrics,
            metrics_token,
            request_counter: AtomicU64::new(0),
            request_id_prefix: prefix.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// A new request id, unique within this process and unlikely to repeat across restarts.
    pub fn next_request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:06x}", self.request_id_prefix)
    }
}
