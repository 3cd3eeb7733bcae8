//! Time: Unix seconds everywhere inside, formatted only at the edges.

use time::OffsetDateTime;
use time::macros::format_description;

thread_local! {
    /// Seconds added to this thread's clock (tests travel in time; see [`travel`]).
    static OFFSET: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Seconds since the Unix epoch, UTC (plus this thread's [`travel`] offset, 0 outside tests).
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp() + OFFSET.with(|o| o.get())
}

/// Moves this thread's clock `secs` forward (or back): the injectable clock tests use to see a
/// link expire. It affects only the calling thread (an in-process test's requests and writes
/// run on it), never the server's worker threads.
pub fn travel(secs: i64) {
    OFFSET.with(|o| o.set(o.get() + secs));
}

/// "2026-11-23 14:05 UTC" — for timelines and lists.
///
/// Hand-rolled rather than `time`'s generic formatter: the inbox formats 50 of these per view
/// and the generic path was a measurable share of the page's CPU.
pub fn format_datetime(ts: i64) -> String {
    let mut out = format_date(ts);
    if !out.is_empty() {
        let secs = ts.rem_euclid(86_400);
        out.push(' ');
        push_digits(&mut out, (secs / 3600) as u32, 2);
        out.push(':');
        push_digits(&mut out, (secs % 3600 / 60) as u32, 2);
        out.push_str(" UTC");
    }
    out
}

/// "2026-11-23T14:05:00Z" — for `<time datetime>` (browsers show it in the reader's zone).
pub fn iso(ts: i64) -> String {
    let date = format_date(ts);
    if date.is_empty() {
        return String::new();
    }
    let secs = ts.rem_euclid(86_400);
    let mut out = date;
    out.push('T');
    push_digits(&mut out, (secs / 3600) as u32, 2);
    out.push(':');
    push_digits(&mut out, (secs % 3600 / 60) as u32, 2);
    out.push(':');
    push_digits(&mut out, (secs % 60) as u32, 2);
    out.push('Z');
    out
}

/// "2026-11-23" — for dates without a time (hand-rolled for the same reason).
pub fn format_date(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    if !(0..=9999).contains(&y) {
        return String::new();
    }
    let mut out = String::with_capacity(20);
    push_digits(&mut out, y as u32, 4);
    out.push('-');
    push_digits(&mut out, m, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out
}

/// Appends `v` zero-padded to `width` digits.
fn push_digits(out: &mut String, v: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (v / 10u32.pow(i) % 10) as u8));
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses a calendar date as typed in a date field ("2026-12-01"); `None` when it is not one.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_rolled_format_agrees_with_time() {
        for ts in [
            0,
            59,
            86_399,
            951_782_400,
            1_700_000_000,
            1_795_000_123,
            4_102_444_800,
            -86_400,
            253_402_300_799,
        ] {
            let t = OffsetDateTime::from_unix_timestamp(ts).unwrap();
            let expected = t
                .format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute] UTC"
                ))
                .unwrap();
            assert_eq!(format_datetime(ts), expected, "{ts}");
            assert_eq!(format_date(ts), expected[..10], "{ts}");
        }
    }

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_795_000_123), "2026-11-18T11:08:43Z");
        assert_eq!(format_date(86_400 * 365), "1971-01-01");
        assert!(parse_date("2026-02-30").is_none());
        assert_eq!(
            parse_date(" 2026-12-01 ").unwrap().to_string(),
            "2026-12-01"
        );
    }
}
