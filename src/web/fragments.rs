//! Rendered list rows, and whole list views, cached per worker thread.
//!
//! **Views** ([`view`]): a list page's data (rows, counts, menus) under the exact request, kept
//! while the database is unchanged — keyed by the reader's `data_version`, which moves with every
//! commit, so any write anywhere invalidates every view at once and nothing stale is ever shown.
//! Between writes, a view costs one pragma instead of its queries. Rendered fragments that
//! depend on data alone (a ticket's thread: [`html`]) are kept the same way.
//!
//! **Rows** ([`rows`]):
//!
//! Why: templates were about a quarter of the inbox's CPU, most of it the 50 rows, which rarely
//! change between views. Each row is still rendered by minijinja from an `.html` template — so
//! auto-escaped like every page — but only when its data changed: the cache key is a hash of
//! everything the row shows (and the template's name), so an edited ticket, a renamed project or
//! a new status label is simply a new key. Each worker keeps its own cache (no lock between
//! workers), cleared when it reaches [`CAPACITY`] rows, so memory stays bounded.
//!
//! The key is SipHash under a random key chosen per thread (a keyed PRF, never shown): text from
//! visitors cannot be chosen to collide with another row and show its HTML, as it could under
//! `DefaultHasher`'s fixed key. (A second, independent hash cost about 3% of the inbox's CPU.)

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::rc::Rc;

use minijinja::Value;

use crate::error::Result;
use crate::render::Templates;
use crate::store::DataVersion;

/// Rows one worker keeps (~0.5 KB each).
const CAPACITY: usize = 2_000;

/// Views one worker keeps (with the least recently used making room, 8 keep the busy ones
/// while bounding memory: a list view is about 30 KB, a ticket thread at most 64 KB).
const VIEWS: usize = 8;

/// The views one worker keeps, as of one data version.
#[derive(Default)]
struct Views {
    at: Option<DataVersion>,
    /// Each view with when it was last used (a reading of `clock`).
    views: HashMap<String, (u64, Value)>,
    clock: u64,
}

thread_local! {
    static VIEW_CACHE: RefCell<Views> = RefCell::new(Views::default());
    static CACHE: RefCell<HashMap<u64, Rc<str>>> = RefCell::new(HashMap::new());
    /// A randomly keyed hasher.
    static KEY: RandomState = RandomState::new();
}

/// The view for `key` — everything that decides the view's content (who asks, the whole query)
/// — built by `build` unless this worker has it for the database as it is now (`version`:
/// `Db::data_version`). Errors are not kept.
pub fn view(
    key: String,
    version: DataVersion,
    build: impl FnOnce() -> Result<Value>,
) -> Result<Value> {
    let hit = kept(&key, version);
    if let Some(view) = hit {
        return Ok(view);
    }
    let view = build()?;
    keep(key, version, view.clone());
    Ok(view)
}

/// Kept HTML fragments larger than this are built on every view instead (a very long ticket
/// thread), so the views a worker keeps stay small.
const HTML_KEPT_MAX: usize = 64 * 1024;

/// A rendered fragment (`build` returns HTML its template auto-escaped) for `key`, kept like a
/// [`view`] until the database changes — unless larger than [`HTML_KEPT_MAX`].
pub fn html(
    key: String,
    version: DataVersion,
    build: impl FnOnce() -> Result<String>,
) -> Result<Value> {
    let hit = kept(&key, version);
    if let Some(html) = hit {
        return Ok(html);
    }
    let html = build()?;
    let kept = html.len() <= HTML_KEPT_MAX;
    let html = Value::from_safe_string(html);
    if kept {
        keep(key, version, html.clone());
    }
    Ok(html)
}

/// The view this worker keeps for `key` as of `version`, if any (marked as just used).
fn kept(key: &str, version: DataVersion) -> Option<Value> {
    VIEW_CACHE.with(|c| {
        let Views { at, views, clock } = &mut *c.borrow_mut();
        if *at != Some(version) {
            return None;
        }
        *clock += 1;
        views.get_mut(key).map(|(used, view)| {
            *used = *clock;
            view.clone()
        })
    })
}

/// Keeps `value` for `key` in this worker's views as of `version`; when [`VIEWS`] are kept, the
/// one used longest ago makes room (many portal readers must not push out the inbox).
fn keep(key: String, version: DataVersion, value: Value) {
    VIEW_CACHE.with(|c| {
        let Views { at, views, clock } = &mut *c.borrow_mut();
        if *at != Some(version) {
            views.clear();
            *at = Some(version);
        }
        if views.len() >= VIEWS
            && !views.contains_key(&key)
            && let Some(oldest) = views
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            views.remove(&oldest);
        }
        *clock += 1;
        views.insert(key, (*clock, value));
    });
}

/// The cache key of `row` rendered with `template`.
fn key<T: Hash>(template: &str, row: &T) -> u64 {
    KEY.with(|state| state.hash_one((template, row)))
}

/// The rows rendered with `template` (which receives each row as `r`), concatenated; `Value` is
/// a safe string (its parts were auto-escaped by their template).
pub fn rows<T: Hash>(
    templates: &Templates,
    template: &str,
    rows: &[T],
    view: impl Fn(&T) -> Value,
) -> Result<Value> {
    // Rows are 0.5–1 KB (the inbox's one-line rows near 1 KB): room for all, no regrowth.
    let mut out = String::with_capacity(rows.len() * 1024);
    for row in rows {
        let key = key(template, row);
        let cached = CACHE.with(|c| c.borrow().get(&key).cloned());
        let html = match cached {
            Some(html) => html,
            None => {
                let html: Rc<str> = templates
                    .render(template, minijinja::context! { r => view(row) })?
                    .into();
                CACHE.with(|c| {
                    let mut cache = c.borrow_mut();
                    if cache.len() >= CAPACITY {
                        cache.clear();
                    }
                    cache.insert(key, Rc::clone(&html));
                });
                html
            }
        };
        out.push_str(&html);
    }
    Ok(Value::from_safe_string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full worker makes room by dropping the view used longest ago, never one just used; a
    /// write (a new data version) drops them all.
    #[test]
    fn views_make_room_for_the_least_recently_used_and_go_with_a_write() {
        let now = DataVersion::for_tests(1);
        let build = |name: &str| {
            let name = name.to_string();
            move || Ok(Value::from(name))
        };
        view("inbox".into(), now, build("inbox")).unwrap();
        for i in 0..VIEWS - 1 {
            view(format!("portal {i}"), now, build("portal")).unwrap();
        }
        assert!(kept("inbox", now).is_some(), "used again: now the newest");
        view("one more".into(), now, build("one more")).unwrap();
        assert!(kept("inbox", now).is_some());
        assert!(kept("portal 0", now).is_none(), "used longest ago");
        assert!(kept("portal 1", now).is_some());
        let later = DataVersion::for_tests(2);
        assert!(kept("inbox", later).is_none());
        let rebuilt = view("inbox".into(), later, build("rebuilt")).unwrap();
        assert_eq!(rebuilt.as_str(), Some("rebuilt"));
        assert!(kept("portal 1", later).is_none());
    }

    /// Fragments too large to keep are built on every view.
    #[test]
    fn large_fragments_are_not_kept() {
        let now = DataVersion::for_tests(7);
        html("small".into(), now, || Ok("<p>x</p>".into())).unwrap();
        html("large".into(), now, || Ok("x".repeat(HTML_KEPT_MAX + 1))).unwrap();
        assert!(kept("small", now).is_some());
        assert!(kept("large", now).is_none());
    }
}
