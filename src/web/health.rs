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
