//! Searching tickets through the FTS5 index `ticket_search` (trigram tokenizer: any substring of
//! three or more characters, case-insensitive — what the LIKE search before it matched).
//!
//! User input is never FTS syntax: the whole query becomes one quoted phrase, quotes doubled,
//! so `*`, `-`, `NEAR`, `AND`, brackets and unbalanced quotes are just text.
//!
//! How a search runs depends on how many tickets match, which the index tells cheaply (it stops
//! counting at [`FEW`]):
//! - **Few** matches (the usual case: people search for something specific): the matching ids
//!   come from the index, are joined with the list's other filters, ranked — title hits before
//!   description-only hits, newest first within each — and counted exactly.
//! - **Many** matches, or a query under three characters (the trigram index cannot look those
//!   up): the list is walked newest first through its usual index, each row tested with LIKE;
//!   with that many matches a page fills after a short walk. The count is then only known to be
//!   "more than [`FEW`]".
//!
//! Either way a page costs about the same wherever it is in the list.

use rusqlite::types::Value;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, like_contains};

/// Up to this many matches a search is answered from the index, ranked and counted exactly.
pub const FEW: i64 = 5_000;

/// Which text a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Staff: subject, public title and description.
    Staff,
    /// Share-link visitors: only the title they see (public title, else subject).
    Board,
}

/// How a search runs (see the module comment).
#[derive(Debug, Clone)]
pub enum Plan {
    /// Through the index: FTS queries for title hits and for all hits (staff), or for public
    /// titles and subjects (the board, which takes a subject only where there is no public title).
    Indexed {
        scope: Scope,
        titles: String,
        all: String,
    },
    /// By walking the list: a LIKE pattern.
    Walk { pattern: String },
}

impl Plan {
    /// SQL (and its values) for the matching ids with their rank, as a CTE body `hits(id,
    /// rank)`; `None` for a walk.
    pub(crate) fn hits_cte(&self, args: &mut Vec<Value>) -> Option<String> {
        let Plan::Indexed { scope, titles, all } = self else {
            return None;
        };
        args.push(Value::Text(titles.clone()));
        let t = args.len();
        args.push(Value::Text(all.clone()));
        let a = args.len();
        if *scope == Scope::Board {
            // `titles` matches public titles, `all` subjects: a subject counts only when the
            // ticket has no public title (then it is what visitors see).
            return Some(format!(
                "hits(id, rank) AS (
                     SELECT rowid, 0 FROM ticket_search WHERE ticket_search MATCH ?{t}
                     UNION
                     SELECT s.rowid, 0 FROM ticket_search s JOIN tickets x ON x.id = s.rowid
                     WHERE s.ticket_search MATCH ?{a} AND x.public_title IS NULL)"
            ));
        }
        Some(format!(
            "hits(id, rank) AS (SELECT rowid, MIN(tier) FROM (
                 SELECT rowid, 0 AS tier FROM ticket_search WHERE ticket_search MATCH ?{t}
                 UNION ALL
                 SELECT rowid, 1 AS tier FROM ticket_search WHERE ticket_search MATCH ?{a}
             ) GROUP BY rowid)"
        ))
    }

    /// The LIKE condition of a walk over `columns` (SQL expressions), with its pattern pushed.
    pub(crate) fn walk_condition(&self, columns: &[&str], args: &mut Vec<Value>) -> Option<String> {
        let Plan::Walk { pattern } = self else {
            return None;
        };
        args.push(Value::Text(pattern.clone()));
        let p = args.len();
        let tests: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} LIKE ?{p} ESCAPE '\\'"))
            .collect();
        Some(format!("({})", tests.join(" OR ")))
    }

    /// Whether the counts of this search are exact.
    pub fn counted(&self) -> bool {
        matches!(self, Plan::Indexed { .. })
    }
}

/// `text` as one FTS5 phrase: double quotes doubled, wrapped in quotes.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Decides how to run a search for `query` (already trimmed, non-empty).
pub fn plan(r: &impl Reader, query: &str, scope: Scope) -> Result<Plan> {
    let walk = || Plan::Walk {
        pattern: like_contains(query),
    };
    if query.chars().count() < 3 {
        return Ok(walk());
    }
    let phrase = phrase(query);
    let (titles, all, estimate) = match scope {
        Scope::Staff => (
            format!("{{subject public_title}} : {phrase}"),
            format!("{{subject public_title body}} : {phrase}"),
            format!("{{subject public_title body}} : {phrase}"),
        ),
        Scope::Board => (
            format!("{{public_title}} : {phrase}"),
            format!("{{subject}} : {phrase}"),
            format!("{{subject public_title}} : {phrase}"),
        ),
    };
    let matches: i64 = r
        .conn()
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM ticket_search WHERE ticket_search MATCH ?1 LIMIT ?2)",
        )
        .and_then(|mut s| s.query_row(rusqlite::params![estimate, FEW + 1], |row| row.get(0)))
        .context(|| "counting search matches".to_string())?;
    Ok(if matches > FEW {
        walk()
    } else {
        Plan::Indexed { scope, titles, all }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_is_one_phrase() {
        assert_eq!(phrase("checkout"), "\"checkout\"");
        assert_eq!(
            phrase("say \"hi\" NEAR(x) -y *"),
            "\"say \"\"hi\"\" NEAR(x) -y *\""
        );
    }
}
