//! What the ticket lists (the staff inbox, the share board) have in common: status tabs with
//! counts, the total under the status filter, and pages.

use minijinja::Value;
use serde::Serialize;

use crate::domain::Status;
use crate::view;

/// One status tab ("Open 12"), linking to the list filtered by that status.
#[derive(Debug, Serialize)]
pub struct StatusTab {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub url: String,
    pub active: bool,
}

/// "All" followed by a tab per status; `url(key)` builds a tab's link ("" for all).
pub fn status_tabs(
    counts: &[(Status, i64)],
    active: Option<Status>,
    url: impl Fn(&str) -> String,
) -> Vec<StatusTab> {
    let all = counts.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![StatusTab {
        key: "",
        label: "All",
        count: all,
        url: url(""),
        active: active.is_none(),
    }];
    tabs.extend(counts.iter().map(|(s, n)| StatusTab {
        key: s.key(),
        label: s.label(),
        count: *n,
        url: url(s.key()),
        active: active == Some(*s),
    }));
    tabs
}

/// How many items the list holds under the status filter.
pub fn total(counts: &[(Status, i64)], status: Option<Status>) -> i64 {
    counts
        .iter()
        .filter(|(s, _)| status.is_none_or(|f| f == *s))
        .map(|(_, n)| n)
        .sum()
}

/// The page shown: the requested one, kept within 1..=pages.
pub struct Paging {
    pub page: usize,
    pub pages: usize,
    pub size: usize,
}

impl Paging {
    pub fn new(total: i64, requested: Option<usize>, size: usize) -> Paging {
        let pages = (total.max(0) as usize).div_ceil(size).max(1);
        Paging {
            page: requested.unwrap_or(1).clamp(1, pages),
            pages,
            size,
        }
    }

    pub fn offset(&self) -> usize {
        (self.page - 1) * self.size
    }

    /// `{page, pages, prev, next}` for the `pagination` macro; `url(n)` links to page n.
    pub fn view(&self, url: impl Fn(usize) -> String) -> Value {
        view! {
            page => self.page,
            pages => self.pages,
            prev => (self.page > 1).then(|| url(self.page - 1)),
            next => (self.page < self.pages).then(|| url(self.page + 1)),
        }
    }
}

/// The `page` query parameter for page `n` ("" for the first: the shortest URL).
pub fn page_param(n: usize) -> String {
    if n > 1 { n.to_string() } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_stays_in_range() {
        let p = Paging::new(120, Some(9), 50);
        assert_eq!((p.page, p.pages, p.offset()), (3, 3, 100));
        let p = Paging::new(0, None, 50);
        assert_eq!((p.page, p.pages, p.offset()), (1, 1, 0));
        let p = Paging::new(50, Some(0), 50);
        assert_eq!((p.page, p.pages), (1, 1));
    }

    #[test]
    fn totals_and_tabs() {
        let counts = [(Status::Open, 3), (Status::Closed, 2)];
        assert_eq!(total(&counts, None), 5);
        assert_eq!(total(&counts, Some(Status::Closed)), 2);
        let tabs = status_tabs(&counts, Some(Status::Open), |k| format!("?status={k}"));
        assert_eq!(tabs.len(), 3);
        assert!(tabs[1].active && !tabs[0].active);
        assert_eq!(tabs[0].count, 5);
    }
}
