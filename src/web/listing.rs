//! What the ticket lists (the staff inbox, the share board, and the lists that come later) have
//! in common: status tabs with counts, the total under the status filter, and keyset pages.
//!
//! A page is addressed by an opaque cursor in `?at=` — the key of the row it continues from
//! (`store::paging`), never an offset — so "Older" from the thousandth page costs what it costs
//! from the first, and rows inserted meanwhile neither repeat nor go missing. `?at=oldest` is the
//! last page. Counts come from tables kept by triggers (or a search's own count), never from
//! counting a list on every view; a search with too many hits to count (`store::search::FEW`)
//! says "Many matches" instead of a total. A cursor past the end of the list (its rows were
//! deleted or moved away meanwhile) shows the nearest end rather than an empty page ([`fetch`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minijinja::Value;
use serde::Serialize;

use crate::domain::Status;
use crate::store::paging::{Key, Page, Seek};
use crate::view;

/// One status tab ("Open 12"), linking to the list filtered by that status.
#[derive(Debug, Serialize)]
pub struct StatusTab {
    pub key: &'static str,
    pub label: &'static str,
    /// `None` when a search matched too many to count.
    pub count: Option<i64>,
    pub url: String,
    pub active: bool,
}

/// "All" followed by a tab per status; `url(key)` builds a tab's link ("" for all).
pub fn status_tabs(
    counts: Option<&[(Status, i64)]>,
    active: Option<Status>,
    url: impl Fn(&str) -> String,
) -> Vec<StatusTab> {
    let all = counts.map(|c| c.iter().map(|(_, n)| n).sum());
    let mut tabs = vec![StatusTab {
        key: "",
        label: "All",
        count: all,
        url: url(""),
        active: active.is_none(),
    }];
    tabs.extend(Status::ALL.iter().map(|s| StatusTab {
        key: s.key(),
        label: s.label(),
        count: counts.map(|c| c.iter().filter(|(f, _)| f == s).map(|(_, n)| n).sum()),
        url: url(s.key()),
        active: active == Some(*s),
    }));
    tabs
}

/// How many items the list holds under the status filter (`None`: too many to count).
pub fn total(counts: Option<&[(Status, i64)]>, status: Option<Status>) -> Option<i64> {
    counts.map(|c| {
        c.iter()
            .filter(|(s, _)| status.is_none_or(|f| f == *s))
            .map(|(_, n)| n)
            .sum()
    })
}

/// The address of a client list (share board, portal tickets) at `base` with its status tab,
/// search and cursor; empty ones are left out.
pub fn list_url(base: &str, status: &str, q: &str, at: &str) -> String {
    crate::web::staff::url_with(
        base,
        &[
            ("status", status.to_string()),
            ("q", q.to_string()),
            ("at", at.to_string()),
        ],
    )
}

/// Fetches the page `seek` asks for with `fetch`; when a cursor finds nothing (the rows beyond
/// it are gone) the nearest end of the list instead: the oldest page for "Older", the newest
/// for "Newer".
pub fn fetch<T>(
    seek: Seek,
    fetch: impl Fn(Seek) -> crate::error::Result<Page<T>>,
) -> crate::error::Result<Page<T>> {
    let page = fetch(seek)?;
    // (An empty page of a search walk is news, not a stale cursor: nothing found within its
    // budget yet, or no more matches.)
    let gone = page.rows.is_empty() && !page.walked;
    match seek {
        Seek::Older(_) if gone => fetch(Seek::Last),
        Seek::Newer(_) if gone => fetch(Seek::First),
        _ => Ok(page),
    }
}

/// The page a request asks for: its `at` cursor, or the first page when it has none or one
/// that does not parse (an old or mangled link shows the newest rows rather than an error).
pub fn seek(at: Option<&str>) -> Seek {
    let Some(at) = at else {
        return Seek::First;
    };
    if at == "oldest" {
        return Seek::Last;
    }
    let decoded = URL_SAFE_NO_PAD
        .decode(at)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some(text) = decoded else {
        return Seek::First;
    };
    let mut parts = text.split('.');
    let (Some(dir), Some(rank), Some(sort), Some(id), None) = (
        parts.next(),
        parts.next().and_then(|p| p.parse().ok()),
        parts.next().and_then(|p| p.parse().ok()),
        parts.next().and_then(|p| p.parse().ok()),
        parts.next(),
    ) else {
        return Seek::First;
    };
    let key = Key { rank, sort, id };
    match dir {
        "o" => Seek::Older(key),
        "n" => Seek::Newer(key),
        _ => Seek::First,
    }
}

/// The `at` value of a page (see [`seek`]); "" for the first page.
pub fn cursor(seek: Seek) -> String {
    let encode =
        |dir: &str, k: Key| URL_SAFE_NO_PAD.encode(format!("{dir}.{}.{}.{}", k.rank, k.sort, k.id));
    match seek {
        Seek::First => String::new(),
        Seek::Older(k) => encode("o", k),
        Seek::Newer(k) => encode("n", k),
        Seek::Last => "oldest".into(),
    }
}

/// `{newest, newer, older, oldest}` links for the `pagination` macro; `url(at)` links to a page
/// ("" for the first).
pub fn links<T>(page: &Page<T>, url: impl Fn(&str) -> String) -> Value {
    let newer = page.newer();
    let older = page.older();
    let on_first = page.seek == Seek::First || (newer.is_none() && page.seek != Seek::Last);
    let on_last = page.seek == Seek::Last || older.is_none();
    view! {
        newest => (!on_first).then(|| url("")),
        newer => newer.map(|k| url(&cursor(Seek::Newer(k)))),
        older => older.map(|k| url(&cursor(Seek::Older(k)))),
        oldest => (!on_last).then(|| url(&cursor(Seek::Last))),
        // A search walk stopped at its budget: "Older"/"Newer" searches on.
        cut => page.cut,
        // A search walk's page: empty means no more matches that way.
        walked => page.walked,
        budget => thousands(crate::store::paging::WALK_BUDGET),
    }
}

/// `n` with commas between thousands ("2,000").
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_mean_the_first_page() {
        let key = Key {
            rank: 1,
            sort: 1_700_000_000,
            id: 42,
        };
        for seek in [Seek::First, Seek::Older(key), Seek::Newer(key), Seek::Last] {
            let at = cursor(seek);
            let parsed = if at.is_empty() {
                super::seek(None)
            } else {
                super::seek(Some(&at))
            };
            assert_eq!(parsed, seek);
        }
        assert_eq!(seek(Some("not a cursor")), Seek::First);
        assert_eq!(seek(Some(&URL_SAFE_NO_PAD.encode("o.1.2"))), Seek::First);
        assert!(!cursor(Seek::Older(key)).contains("42"), "opaque");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn totals_and_tabs() {
        let counts = [(Status::Open, 3), (Status::Closed, 2)];
        assert_eq!(total(Some(&counts), None), Some(5));
        assert_eq!(total(Some(&counts), Some(Status::Closed)), Some(2));
        assert_eq!(total(None, None), None);
        let tabs = status_tabs(Some(&counts), Some(Status::Open), |k| {
            format!("?status={k}")
        });
        assert_eq!(tabs.len(), Status::ALL.len() + 1);
        assert!(tabs[1].active && !tabs[0].active);
        assert_eq!(tabs[0].count, Some(5));
    }
}
