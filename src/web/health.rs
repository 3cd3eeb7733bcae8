//! `/healthz`: 200 and a small JSON document when the database answers, 503 when it does not.

use rouille::Response;

use crate::store::Db;

pub fn show(db: &Db) -> Response {
    let (status, database) = match db.ping() {
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
