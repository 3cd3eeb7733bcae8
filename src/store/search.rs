//! Searching tickets through the FTS5 index `ticket_search` (trigram tokenizer: any substring of
//! three or more characters, case-insensitive — what the LIKE search before it matched).
//!
//! User input is never FTS syntax: the whole query becomes one quoted phrase, quotes doubled,
//! so `*`, `-`, `NEAR`, `AND`, brackets and unbalanced quotes are just text.
//!
//! Titles (`ticket_titles`) and descriptions (`ticket_bodies`) are indexed apart, so a title
//! search never reads through descriptions. How a search runs depends on how many tickets match,
//! which the index counts, stopping at [`FEW`]:
//! - **Few** (at most [`FEW`]; the usual case — people search for something specific): the
//!   matching ids come from the index, are joined with the list's other filters, ranked (title
//!   hits before description-only hits, newest first within each) and counted exactly.
//! - **Many**, or a query under three characters (a trigram index cannot look those up): the
//!   list is walked newest first through its usual index, each row tested with LIKE; with that
//!   many matches a page fills after a short walk. There is no total then (it would mean
//!   reading every match). Measured at 1,000,000 tickets, streaming the matches from the index
//!   instead took 5–10 times as long as this walk.
//!
//! Either way a page costs about the same wherever it is in the list.

use rusqlite::types::Value;

use crate::error::Result;
use crate::store::{Conn, Context, Reader, like_contains};

/// Up to this many possible matches a search is answered from the index, ranked and counted.
pub const FEW: i64 = 1_000;

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
    /// Few matches: the FTS query on titles, and (staff) on descriptions. The board's takes a
    /// subject only where there is no public title.
    Indexed { scope: Scope, phrase: String },
    /// Many matches, or a short query: a LIKE pattern tested on each row of the list.
    Walk { pattern: String },
}

impl Plan {
    /// SQL (and its values) for the matching ids with their rank, as a CTE body `hits(id,
    /// rank)`; `None` unless few match.
    pub(crate) fn hits_cte(&self, args: &mut Vec<Value>) -> Option<String> {
        let Plan::Indexed { scope, phrase } = self else {
            return None;
        };
        Some(match scope {
            Scope::Staff => {
                args.push(Value::Text(phrase.clone()));
                let p = args.len();
                format!(
                    "hits(id, rank) AS MATERIALIZED (SELECT rowid, MIN(tier) FROM (
                         SELECT rowid, 0 AS tier FROM ticket_titles WHERE ticket_titles MATCH ?{p}
                         UNION ALL
                         SELECT rowid, 1 AS tier FROM ticket_bodies WHERE ticket_bodies MATCH ?{p}
                     ) GROUP BY rowid)"
                )
            }
            Scope::Board => {
                // A public title where there is one, else the subject: what visitors see.
                // CROSS JOIN keeps the index first (left to itself the planner walked every
                // ticket and asked the index about each).
                args.push(Value::Text(format!("{{public_title}} : {phrase}")));
                let t = args.len();
                args.push(Value::Text(format!("{{subject}} : {phrase}")));
                let s = args.len();
                format!(
                    "hits(id, rank) AS MATERIALIZED (
                         SELECT rowid, 0 FROM ticket_titles WHERE ticket_titles MATCH ?{t}
                         UNION
                         SELECT f.rowid, 0 FROM ticket_titles f CROSS JOIN tickets x ON x.id = f.rowid
                         WHERE f.ticket_titles MATCH ?{s} AND x.public_title IS NULL)"
                )
            }
        })
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

    /// Whether this search is counted (and ranked): few matches.
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
    // Count matches, up to the point where walking the list is better.
    let count = |table: &str| -> Result<i64> {
        r.conn()
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ?1 LIMIT ?2)"
            ))
            .and_then(|mut s| s.query_row(rusqlite::params![phrase, FEW + 1], |row| row.get(0)))
            .context(|| "counting search matches".to_string())
    };
    let mut matches = count("ticket_titles")?;
    if scope == Scope::Staff && matches <= FEW {
        matches += count("ticket_bodies")?;
    }
    Ok(if matches > FEW {
        walk()
    } else {
        Plan::Indexed { scope, phrase }
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
