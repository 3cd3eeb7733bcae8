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
//!   many matches a page usually fills after a short walk; a staff page looks at no more than
//!   `paging::WALK_BUDGET` rows and then offers to search on (`store::paging`). There is no
//!   total then (it would mean reading every match). Measured at 1,000,000 tickets, streaming the matches from the index
//!   instead took 5–10 times as long as this walk.
//!
//! Either way a page costs about the same wherever it is in the list.
//!
//! **What a visitor sees depends on their board only.** Whether a board's search shows counts
//! must not reveal how many tickets elsewhere (other projects, unshared tickets) match, so in
//! [`plan_board`] the workspace-wide count only picks the cheaper of two ways to the same rows:
//! - a board of at most [`WALK_COUNT_MAX`] tickets always counts its searches (from the index
//!   when few match anywhere, else by walking the board, a few milliseconds at that size);
//! - a bigger board never counts them, and shows the matches newest first, from the index when
//!   few match anywhere, else by walking the board. (Counting such a board's matches exactly
//!   would mean reading every match in the workspace: measured at 1,000,000 tickets, 250 ms.)
//!
//! Visitors' searches need three characters: a shorter one could not use the index and would
//! walk the whole board.

use rusqlite::types::Value;

use crate::domain::ProjectId;
use crate::error::Result;
use crate::store::{Conn, Context, Reader, like_contains};

/// Up to this many possible matches a search is answered from the index, ranked and counted.
pub const FEW: i64 = 1_000;

/// A board with at most this many shared tickets counts its searches (walking it, when the
/// search matches many tickets workspace-wide, costs a few milliseconds at this size); a bigger
/// board never does (see the module comment).
pub const WALK_COUNT_MAX: i64 = 10_000;

/// The shortest search the share board takes (a trigram index needs three characters).
pub const BOARD_MIN_CHARS: usize = 3;

/// Which text a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Staff: subject, public title and description.
    Staff,
    /// Share-link visitors of this project's board: only the shared tickets' titles they see
    /// (public title, else subject).
    Board(ProjectId),
}

/// How a search runs (see the module comment).
#[derive(Debug, Clone)]
pub enum Plan {
    /// Few matches: the FTS query on titles, and (staff) on descriptions. The board's takes a
    /// subject only where there is no public title. `counted` unless it is a big board's.
    Indexed {
        scope: Scope,
        phrase: String,
        counted: bool,
    },
    /// Many matches, or a short query: a LIKE pattern tested on each row of the list;
    /// `counted` when the list is small enough to count that way (a board, see the module
    /// comment).
    Walk { pattern: String, counted: bool },
}

impl Plan {
    /// SQL (and its values) for the matching ids with their rank, as a CTE body `hits(id,
    /// rank)`; `None` unless few match.
    pub(crate) fn hits_cte(&self, args: &mut Vec<Value>) -> Option<String> {
        let Plan::Indexed { scope, phrase, .. } = self else {
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
            Scope::Board(project) => {
                let body = board_hits(*project, phrase, args);
                format!("hits(id, rank) AS MATERIALIZED ({body})")
            }
        })
    }

    /// The LIKE condition of a walk over `columns` (SQL expressions), with its pattern pushed.
    pub(crate) fn walk_condition(&self, columns: &[&str], args: &mut Vec<Value>) -> Option<String> {
        let Plan::Walk { pattern, .. } = self else {
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

    /// Whether this search is counted (see the module comment).
    pub fn counted(&self) -> bool {
        match self {
            Plan::Indexed { counted, .. } | Plan::Walk { counted, .. } => *counted,
        }
    }
}

/// The ids (rank 0) of `project`'s shared tickets whose visible title — the public title where
/// there is one, else the subject — contains `phrase`. The two halves never overlap (one needs a
/// public title, the other none), so UNION ALL streams. CROSS JOIN keeps the index first (left
/// to itself the planner walked every ticket and asked the index about each).
fn board_hits(project: ProjectId, phrase: &str, args: &mut Vec<Value>) -> String {
    args.push(Value::Text(format!("{{public_title}} : {phrase}")));
    let t = args.len();
    args.push(Value::Text(format!("{{subject}} : {phrase}")));
    let s = args.len();
    args.push(Value::Integer(project.0));
    let p = args.len();
    format!(
        "SELECT f.rowid AS id, 0 AS rank FROM ticket_titles f CROSS JOIN tickets x ON x.id = f.rowid
         WHERE f.ticket_titles MATCH ?{t} AND x.project_id = ?{p} AND x.shared = 1
         UNION ALL
         SELECT f.rowid, 0 FROM ticket_titles f CROSS JOIN tickets x ON x.id = f.rowid
         WHERE f.ticket_titles MATCH ?{s} AND x.project_id = ?{p} AND x.shared = 1
           AND x.public_title IS NULL"
    )
}

/// `text` as one FTS5 phrase: double quotes doubled, wrapped in quotes.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// How many rows `sql` (a SELECT taking `args`) yields, stopping after [`FEW`] + 1.
fn count_up_to_few(r: &impl Reader, sql: &str, mut args: Vec<Value>) -> Result<i64> {
    args.push(Value::Integer(FEW + 1));
    let sql = format!("SELECT COUNT(*) FROM ({sql} LIMIT ?{})", args.len());
    r.conn()
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(rusqlite::params_from_iter(args), |row| row.get(0)))
        .context(|| "counting search matches".to_string())
}

/// How many tickets anywhere have `phrase` in `table`, up to [`FEW`] + 1.
fn count_anywhere(r: &impl Reader, table: &str, phrase: &str) -> Result<i64> {
    count_up_to_few(
        r,
        &format!("SELECT 1 FROM {table} WHERE {table} MATCH ?1"),
        vec![Value::Text(phrase.to_string())],
    )
}

/// Decides how staff search for `query` (already trimmed, non-empty) runs.
pub fn plan(r: &impl Reader, query: &str) -> Result<Plan> {
    let walk = || Plan::Walk {
        pattern: like_contains(query),
        counted: false,
    };
    if query.chars().count() < 3 {
        return Ok(walk());
    }
    let phrase = phrase(query);
    let mut matches = count_anywhere(r, "ticket_titles", &phrase)?;
    if matches <= FEW {
        matches += count_anywhere(r, "ticket_bodies", &phrase)?;
    }
    Ok(if matches > FEW {
        walk()
    } else {
        Plan::Indexed {
            scope: Scope::Staff,
            phrase,
            counted: true,
        }
    })
}

/// Decides how a visitor's search for `query` on `project`'s board runs, from that board alone
/// (see the module comment); `shared` is how many tickets the board has. `None` when the query
/// is shorter than [`BOARD_MIN_CHARS`].
pub fn plan_board(
    r: &impl Reader,
    project: ProjectId,
    shared: i64,
    query: &str,
) -> Result<Option<Plan>> {
    if query.chars().count() < BOARD_MIN_CHARS {
        return Ok(None);
    }
    let phrase = phrase(query);
    let counted = shared <= WALK_COUNT_MAX;
    // Few anywhere: few on this board, and the index finds them at once; else walk the board.
    Ok(Some(
        if count_anywhere(r, "ticket_titles", &phrase)? <= FEW {
            Plan::Indexed {
                scope: Scope::Board(project),
                phrase,
                counted,
            }
        } else {
            Plan::Walk {
                pattern: like_contains(query),
                counted,
            }
        },
    ))
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
