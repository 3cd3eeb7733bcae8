//! `/healthz`: 200 and a small JSON document when the database answers a real read, 503 when it
//! does not (or a write has found the file damaged since start).

use rouille::Response;

use crate::store::Db;

pub fn show(db: &Db) -> Response {
    let (status, database) = match db.health() {
        Ok(()) => (200, "ok"),
        Err(e) => {
            log::error!("health check: {e}");
            (503, "unavailable")
        }
    };
    let body = serde_json::json!({
        "status": if status == 200 { "ok" } else { "error" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": database,
    });
    Response::from_data("application/json", body.to_string()).with_status_code(status)
}

/// `GET /metrics` on the main listener: the Prometheus text, for a scraper that sends the
/// configured bearer token. Off (or served on its own address instead): not found, like any
/// unknown page.
pub fn metrics(app: &crate::app::App, db: &Db, req: &rouille::Request) -> Response {
    let metrics = &app.config.metrics;
    if !metrics.enabled || !metrics.listen.is_empty() {
        return Response::empty_404();
    }
    if !crate::metrics::authorized(req.header("Authorization"), &app.metrics_token) {
        return Response::text("Send the metrics token: Authorization: Bearer <token>\n")
            .with_status_code(401)
            .with_additional_header("WWW-Authenticate", "Bearer");
    }
    match app.metrics.render(&app.config, db) {
        Ok(text) => Response::from_data(crate::metrics::CONTENT_TYPE, text)
            .with_additional_header("Cache-Control", "no-store"),
        Err(e) => {
            log::error!("metrics: {e}");
            Response::text("metrics unavailable\n").with_status_code(503)
        }
    }
}
