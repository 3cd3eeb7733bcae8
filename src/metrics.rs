//! `/metrics` in the Prometheus text format (the `prometheus-client` crate encodes it), off
//! unless `[metrics] enabled`. Served on a listen address of its own (`metrics.listen`, for a
//! scraper on a private network) or on the main listener behind a bearer token.
//!
//! What is counted where: requests, their latency and the rate-limit refusals (429) where every
//! handler's answer passes (`web::handle`); the connection layer's own "busy" refusals (503,
//! a body budget used up) where it makes them. Gauges that describe state — the outbox, the
//! database and WAL sizes, uptime — are read at scrape time, so they cost nothing between
//! scrapes. With metrics off, nothing is recorded at all.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::config::Config;
use crate::error::Result;
use crate::store::{self, Db};

/// Which part of the product a request was for: bounded, so a label never grows with URLs.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum RouteFamily {
    staff,
    share,
    portal,
    assets,
    health,
    metrics,
}

impl RouteFamily {
    pub fn of(path: &str) -> RouteFamily {
        if path.starts_with("/s/") || path.starts_with("/unsubscribe/") {
            RouteFamily::share
        } else if path.starts_with("/portal/") || path.starts_with("/view-as/") {
            RouteFamily::portal
        } else if path.starts_with("/assets/")
            || path.starts_with("/brand/")
            || path == "/favicon.ico"
        {
            RouteFamily::assets
        } else if path == "/healthz" {
            RouteFamily::health
        } else if path == "/metrics" {
            RouteFamily::metrics
        } else {
            RouteFamily::staff
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    family: RouteFamily,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FamilyLabel {
    family: RouteFamily,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

/// The registry and the metrics recorded as requests pass.
pub struct Metrics {
    enabled: bool,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<FamilyLabel, Histogram, fn() -> Histogram>,
    throttled: Family<ReasonLabel, Counter>,
    outbox: Family<StateLabel, Gauge>,
    database_bytes: Gauge,
    wal_bytes: Gauge,
    uptime: Gauge<f64, AtomicU64>,
    started: Instant,
}

impl Metrics {
    pub fn new(config: &Config) -> Metrics {
        let mut registry = Registry::with_prefix("porchlight");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route family and status code",
            requests.clone(),
        );
        let latency: Family<FamilyLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (handler and rendering), by route family",
            latency.clone(),
        );
        let throttled = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "throttled_requests",
            "Requests refused to protect the service: rate_limit (429, a limit on sign-ins, submissions or links) or busy (503, body budgets used up)",
            throttled.clone(),
        );
        let outbox = Family::<StateLabel, Gauge>::default();
        registry.register(
            "outbox_messages",
            "Email in the outbox: queued (waiting or retrying) and failed (given up)",
            outbox.clone(),
        );
        let database_bytes = Gauge::default();
        registry.register(
            "database_bytes",
            "Size of the SQLite database file",
            database_bytes.clone(),
        );
        let wal_bytes = Gauge::default();
        registry.register(
            "wal_bytes",
            "Size of the SQLite write-ahead log",
            wal_bytes.clone(),
        );
        let uptime = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "uptime_seconds",
            "Seconds since this process started serving",
            uptime.clone(),
        );
        registry.register(
            "build",
            "The running version",
            Info::new(vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
        );
        Metrics {
            enabled: config.metrics.enabled,
            registry,
            requests,
            latency,
            throttled,
            outbox,
            database_bytes,
            wal_bytes,
            uptime,
            started: Instant::now(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// One answered request.
    pub fn request(&self, path: &str, status: u16, took: Duration) {
        if !self.enabled {
            return;
        }
        let family = RouteFamily::of(path);
        self.requests
            .get_or_create(&RequestLabels { family, status })
            .inc();
        self.latency
            .get_or_create(&FamilyLabel { family })
            .observe(took.as_secs_f64());
        if status == 429 {
            self.throttled
                .get_or_create(&ReasonLabel {
                    reason: "rate_limit",
                })
                .inc();
        }
    }

    /// A request the connection layer refused because a body budget was used up.
    pub fn busy(&self) {
        if self.enabled {
            self.throttled
                .get_or_create(&ReasonLabel { reason: "busy" })
                .inc();
        }
    }

    /// The text exposition, with the state gauges read now.
    pub fn render(&self, config: &Config, db: &Db) -> Result<String> {
        let (queued, _sent, failed) = store::outbox::counts(db)?;
        self.outbox
            .get_or_create(&StateLabel { state: "queued" })
            .set(queued);
        self.outbox
            .get_or_create(&StateLabel { state: "failed" })
            .set(failed);
        let size = |path: std::path::PathBuf| {
            std::fs::metadata(path).map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX))
        };
        let db_path = config.db_path();
        self.database_bytes.set(size(db_path.clone()));
        let mut wal = db_path.into_os_string();
        wal.push("-wal");
        self.wal_bytes.set(size(wal.into()));
        self.uptime.set(self.started.elapsed().as_secs_f64());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| crate::error::Error::Other(format!("encoding metrics: {e}")))?;
        Ok(out)
    }
}

/// The content type of the text exposition (OpenMetrics, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether `header` (the `Authorization` value) carries `token`, compared in constant time.
pub fn authorized(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    if a.len() != b.len() || token.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_families_are_bounded() {
        assert_eq!(RouteFamily::of("/s/abc"), RouteFamily::share);
        assert_eq!(RouteFamily::of("/portal/x/tickets"), RouteFamily::portal);
        assert_eq!(RouteFamily::of("/assets/h/app.css"), RouteFamily::assets);
        assert_eq!(RouteFamily::of("/tickets/ACME-1"), RouteFamily::staff);
        assert_eq!(RouteFamily::of("/metrics"), RouteFamily::metrics);
    }

    #[test]
    fn the_token_must_match_exactly() {
        let token = "0123456789abcdef";
        assert!(authorized(Some("Bearer 0123456789abcdef"), token));
        assert!(!authorized(Some("Bearer 0123456789abcdeX"), token));
        assert!(!authorized(Some("Bearer 0123456789abcde"), token));
        assert!(!authorized(Some("0123456789abcdef"), token));
        assert!(!authorized(None, token));
        assert!(!authorized(Some("Bearer "), ""));
    }
}
