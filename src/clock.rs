//! Time: Unix seconds everywhere inside, formatted only at the edges.

use time::OffsetDateTime;
use time::macros::format_description;

/// Seconds since the Unix epoch, UTC.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// "2026-11-23 14:05 UTC" — for timelines and lists.
pub fn format_datetime(ts: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => t
            .format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// "2026-11-23" — for dates without a time.
pub fn format_date(ts: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => t.format(format_description!("[year]-[month]-[day]")).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Parses a calendar date as typed in a date field ("2026-12-01"); `None` when it is not one.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_date(86_400 * 365), "1971-01-01");
        assert!(parse_date("2026-02-30").is_none());
        assert_eq!(parse_date(" 2026-12-01 ").unwrap().to_string(), "2026-12-01");
    }
}
