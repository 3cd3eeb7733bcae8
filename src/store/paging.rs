//! Keyset paging for every list: a page starts at a row's key — its rank (search relevance
//! tier, 0 elsewhere), its sort value (a time) and its id — never at an offset, so the thousandth
//! page costs what the first does. Lists run in one order: rank ascending, then newest first.
//!
//! A search with too many matches to rank (`store::search`) **walks** its list instead, testing
//! each row, and looks at no more than [`WALK_BUDGET`] rows for a page: where matches are rare
//! among the rows it reaches, the page comes back short (even empty) and marked `cut`, and its
//! "Older" link continues the walk from the last row it looked at. So a page's cost stays
//! bounded however far back the matches are. (On a share board, whether a search walks depends
//! on that board's tickets only, so a cut page tells a visitor nothing about other tickets.)

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

/// The most rows a search walk looks at for one page.
pub const WALK_BUDGET: i64 = 2_000;

/// A row's place in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Relevance tier of a search hit (0 = best); 0 in lists that are not ranked.
    pub rank: i64,
    /// The time the list is sorted by (newest first).
    pub sort: i64,
    pub id: i64,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seek {
    /// The newest rows.
    #[default]
    First,
    /// The rows after this one in the list's order (older).
    Older(Key),
    /// The rows before this one (newer); the page is still shown newest first.
    Newer(Key),
    /// The oldest rows.
    Last,
}

/// One page of a list, newest first, with what is needed to link to its neighbours.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// The keys of the first and last rows shown.
    pub first: Option<Key>,
    pub last: Option<Key>,
    /// There are rows beyond this page in the direction it was fetched.
    pub more: bool,
    /// A search walk stopped at its budget: there may be matches beyond, and the link in the
    /// direction it was fetched continues from the last row it looked at.
    pub cut: bool,
    /// Made by a search walk (an empty page is then the end of the matches, not a stale cursor).
    pub walked: bool,
    pub seek: Seek,
}

/// What a search walk found for one page.
pub(crate) struct Walked {
    /// The hits' keys, in walk order (at most `limit + 1`).
    pub hits: Vec<Key>,
    /// The first and the last row looked at, in walk order.
    pub examined: Option<(Key, Key)>,
    /// Stopped by [`WALK_BUDGET`] before `limit + 1` hits.
    pub cut: bool,
}

/// Runs a walk: `sql` yields `(id, sort, hit)` in the page's order, at most one row more than
/// [`WALK_BUDGET`] (its LIMIT: that row only tells that the list goes on); reading stops at the
/// `limit + 1`-th hit.
pub(crate) fn walk(
    conn: &Connection,
    sql: &str,
    args: Vec<Value>,
    limit: usize,
) -> rusqlite::Result<Walked> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut hits, mut examined, mut seen) = (Vec::new(), None::<(Key, Key)>, 0i64);
    let mut beyond = false;
    while let Some(row) = rows.next()? {
        if seen == WALK_BUDGET {
            beyond = true;
            break;
        }
        let key = Key {
            rank: 0,
            sort: row.get(1)?,
            id: row.get(0)?,
        };
        seen += 1;
        examined = Some((examined.map_or(key, |(first, _)| first), key));
        // (NULL when a tested column is: no hit.)
        if row.get::<_, Option<bool>>(2)?.unwrap_or(false) {
            hits.push(key);
            if hits.len() > limit {
                break;
            }
        }
    }
    Ok(Walked {
        cut: hits.len() <= limit && beyond,
        hits,
        examined,
    })
}

impl<T> Page<T> {
    /// A page from rows fetched in the direction of `seek` (`limit + 1` of them at most, the
    /// extra one only telling that there is more), each with its key.
    pub fn from_fetched(mut fetched: Vec<(T, Key)>, limit: usize, seek: Seek) -> Page<T> {
        let more = fetched.len() > limit;
        fetched.truncate(limit);
        if matches!(seek, Seek::Newer(_) | Seek::Last) {
            fetched.reverse();
        }
        let first = fetched.first().map(|(_, k)| *k);
        let last = fetched.last().map(|(_, k)| *k);
        Page {
            rows: fetched.into_iter().map(|(row, _)| row).collect(),
            first,
            last,
            more,
            cut: false,
            walked: false,
            seek,
        }
    }

    /// A page from a walk: `fetched` are the rows of `walked.hits` that still exist, in walk
    /// order, with their keys from the walk. When the walk was cut, the page's far end is the
    /// last row it looked at; an empty page's near end is the first.
    pub(crate) fn from_walk(
        mut fetched: Vec<(T, Key)>,
        limit: usize,
        seek: Seek,
        walked: &Walked,
    ) -> Page<T> {
        let more = walked.hits.len() > limit || walked.cut;
        fetched.truncate(limit);
        // Where the page starts: its first hit, else the first row looked at, else (nothing left
        // that way) the cursor it came from — so there is always a way back.
        let from = match seek {
            Seek::Older(k) | Seek::Newer(k) => Some(k),
            Seek::First | Seek::Last => None,
        };
        let start = fetched
            .first()
            .map(|(_, k)| *k)
            .or(walked.examined.map(|e| e.0))
            .or(from);
        let end = match walked.cut {
            true => walked.examined.map(|e| e.1),
            false => fetched
                .last()
                .map(|(_, k)| *k)
                .or(walked.examined.map(|e| e.1)),
        };
        let up = matches!(seek, Seek::Newer(_) | Seek::Last);
        if up {
            fetched.reverse();
        }
        let (first, last) = if up { (end, start) } else { (start, end) };
        Page {
            rows: fetched.into_iter().map(|(row, _)| row).collect(),
            first,
            last,
            more,
            cut: walked.cut,
            walked: true,
            seek,
        }
    }

    /// Where the next older page starts, if there is one.
    pub fn older(&self) -> Option<Key> {
        match self.seek {
            Seek::First | Seek::Older(_) if !self.more => None,
            Seek::Last => None,
            _ => self.last,
        }
    }

    /// Where the next newer page starts, if there is one.
    pub fn newer(&self) -> Option<Key> {
        match self.seek {
            Seek::First => None,
            Seek::Newer(_) | Seek::Last if !self.more => None,
            _ => self.first,
        }
    }
}

/// The SQL that pages a list: `rank` is the rank expression (`None`: not ranked), `sort` and
/// `id` the columns; the condition (to AND into the WHERE) and the ORDER BY for `seek`, with
/// their values pushed onto `args`.
pub(crate) fn keyset(
    rank: Option<&str>,
    sort: &str,
    id: &str,
    seek: Seek,
    args: &mut Vec<Value>,
) -> (String, String) {
    let down = match rank {
        Some(rank) => format!("{rank} ASC, {sort} DESC, {id} DESC"),
        None => format!("{sort} DESC, {id} DESC"),
    };
    let up = match rank {
        Some(rank) => format!("{rank} DESC, {sort} ASC, {id} ASC"),
        None => format!("{sort} ASC, {id} ASC"),
    };
    let mut bind = |key: Key, older: bool| {
        let (cmp, rank_cmp) = if older { ("<", ">") } else { (">", "<") };
        args.push(Value::Integer(key.sort));
        let s = args.len();
        args.push(Value::Integer(key.id));
        let i = args.len();
        match rank {
            None => format!("({sort}, {id}) {cmp} (?{s}, ?{i})"),
            Some(rank) => {
                args.push(Value::Integer(key.rank));
                let r = args.len();
                format!(
                    "({rank} {rank_cmp} ?{r} OR ({rank} = ?{r} AND ({sort}, {id}) {cmp} (?{s}, ?{i})))"
                )
            }
        }
    };
    match seek {
        Seek::First => ("1".into(), down),
        Seek::Older(key) => (bind(key, true), down),
        Seek::Newer(key) => (bind(key, false), up),
        Seek::Last => ("1".into(), up),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64) -> Key {
        Key {
            rank: 0,
            sort: 100 - id,
            id,
        }
    }

    #[test]
    fn pages_know_their_neighbours() {
        let rows = |ids: &[i64]| ids.iter().map(|i| (*i, key(*i))).collect::<Vec<_>>();
        let first = Page::from_fetched(rows(&[1, 2, 3]), 2, Seek::First);
        assert_eq!(first.rows, vec![1, 2]);
        assert_eq!((first.newer(), first.older()), (None, Some(key(2))));
        let middle = Page::from_fetched(rows(&[3, 4, 5]), 2, Seek::Older(key(2)));
        assert_eq!(
            (middle.newer(), middle.older()),
            (Some(key(3)), Some(key(4)))
        );
        let end = Page::from_fetched(rows(&[5]), 2, Seek::Older(key(4)));
        assert_eq!((end.newer(), end.older()), (Some(key(5)), None));
        // Fetched upwards (newest last), shown newest first.
        let back = Page::from_fetched(rows(&[4, 3, 2]), 2, Seek::Newer(key(5)));
        assert_eq!(back.rows, vec![3, 4]);
        assert_eq!((back.newer(), back.older()), (Some(key(3)), Some(key(4))));
        let last = Page::from_fetched(rows(&[9, 8]), 2, Seek::Last);
        assert_eq!(last.rows, vec![8, 9]);
        assert_eq!((last.newer(), last.older()), (None, None));
    }
}
