//! A small stderr logger: `2026-11-23T14:05:06Z INFO  access GET / 200 1.2ms`, or with
//! `log_format = "json"` the same fields as one object a line for log shippers:
//! `{"ts":"2026-11-23T14:05:06Z","level":"INFO","target":"access","msg":"GET / 200 1.2ms"}`.
//! Systemd and container runtimes collect stderr; nothing more is needed.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLogger {
    level: LevelFilter,
    json: bool,
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Dependencies log at debug/trace with their own targets; keep ours readable.
        if record.level() > Level::Info && !record.target().starts_with("porchlight") {
            return;
        }
        let now = time::OffsetDateTime::now_utc();
        let ts = now
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let target = record
            .target()
            .strip_prefix("porchlight::")
            .unwrap_or(record.target());
        // A log line that cannot be written (the reader of stderr went away) is dropped: losing
        // the log must never take a request down with it.
        let mut err = std::io::stderr().lock();
        if self.json {
            let line = serde_json::json!({
                "ts": ts,
                "level": record.level().as_str(),
                "target": target,
                "msg": record.args().to_string(),
            });
            let _ = writeln!(err, "{line}");
        } else {
            let _ = writeln!(err, "{ts} {:<5} {target} {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger once; later calls (tests start many apps) are ignored. `format` is
/// "text" or "json".
pub fn init(level: &str, format: &str) {
    let level = level.parse().unwrap_or(LevelFilter::Info);
    let json = format == "json";
    if log::set_boxed_logger(Box::new(StderrLogger { level, json })).is_ok() {
        log::set_max_level(level);
    }
}
