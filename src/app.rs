//! The application: configuration, database, templates — and [`App::handle`], the one entry
//! point from a request to a response, shared by the real server and the in-process tests.
//!
//! `handle` adds what every response needs: a request id, security headers, the access-log
//! line (with secrets in paths redacted), and a plain 500 page carrying only the request id when
//! a handler fails or panics.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rouille::{Request, Response};

use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::render::Templates;
use crate::store::{Db, Store, Synchronous};
use crate::web;

/// Everything a request handler can reach.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub templates: Templates,
    pub assets: web::assets::StaticFiles,
    request_counter: AtomicU64,
    request_id_prefix: String,
}

impl App {
    /// Creates the data directory, opens (and migrates) the database, loads the templates.
    pub fn new(config: Config) -> Result<App> {
        for dir in [
            config.data_dir.clone(),
            config.data_dir.join("files"),
            config.data_dir.join("mail"),
        ] {
            std::fs::create_dir_all(&dir).io_context(|| format!("creating {}", dir.display()))?;
        }
        let sync = Synchronous::parse(&config.sqlite_synchronous).expect("validated in config");
        let store = Store::open(&config.db_path(), sync)?;
        let assets = web::assets::StaticFiles::load();
        let templates = Templates::load(assets.urls())?;
        let mut prefix = [0u8; 3];
        getrandom::fill(&mut prefix)
            .map_err(|e| Error::Other(format!("OS random number generator: {e}")))?;
        Ok(App {
            config,
            store,
            templates,
            assets,
            request_counter: AtomicU64::new(0),
            request_id_prefix: prefix.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Answers one request using `db`, the calling thread's own connection.
    pub fn handle(&self, db: &Db, req: &Request) -> Response {
        let started = Instant::now();
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{}-{n:06x}", self.request_id_prefix);

        let outcome =
            std::panic::catch_unwind(AssertUnwindSafe(|| web::route(self, db, req, &request_id)));
        let mut response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                log::error!(
                    "request {request_id}: {} {}: {e}",
                    req.method(),
                    web::redact_path(&req.url())
                );
                web::respond::server_error(self, &request_id)
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                log::error!(
                    "request {request_id}: {} {}: panic: {what}",
                    req.method(),
                    web::redact_path(&req.url())
                );
                web::respond::server_error(self, &request_id)
            }
        };
        web::respond::add_security_headers(&mut response, req);
        log::info!(
            target: "porchlight::access",
            "{} {} {} {:.1}ms",
            req.method(),
            web::redact_path(&req.url()),
            response.status_code,
            started.elapsed().as_secs_f64() * 1000.0
        );
        response
    }
}
