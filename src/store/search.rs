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
//! **"Many" is remembered for a minute.** Finding that a search has more than [`FEW`] matches
//! means reading [`FEW`] + 1 of them from the index — about half the cost of such a search page
//! (measured at 1,000,000 tickets). Each worker keeps that finding per query (and board) for
//! [`MANY_KEPT`], so the next page of the same search, or the same search after a write, walks at
//! once. It only chooses how the page is made, never what it shows: a walk finds every match,
//! and if matches dropped to [`FEW`] or fewer meanwhile, the page is at most a minute late in
//! being ranked and counted. A finding of few matches is not kept (it was cheap to make).
//!
//! **What a visitor sees depends on their board only.** The title index has a `board` column:
//! for each shared ticket, a marker of its project followed by the title visitors see (migration
//! 0005). A board search asks for the marker AND the phrase in that column, so how many match,
//! whether the page is counted and how it is made depend on that board's tickets alone — never
//! on how many tickets elsewhere (other projects, unshared ones) match ([`plan_board`]). A
//! board with more than [`FEW`] matches is walked like the inbox, within the same budget.
//!
//! Visitors' searches need three characters: a shorter one could not use the index and would
//! walk the whole board.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use rusqlite::types::Value;

use crate::domain::ProjectId;
use crate::error::Result;
use crate::store::{Conn, Context, Reader, like_contains};

/// Up to this many possible matches a search is answered from the index, ranked and counted.
pub const FEW: i64 = 1_000;

/// The shortest search the share board takes (a trigram index needs three characters).
pub const BOARD_MIN_CHARS: usize = 3;

/// How long a worker remembers that a search matched more than [`FEW`] (module comment).
const MANY_KEPT: Duration = Duration::from_secs(60);

/// Searches one worker remembers as matching many.
const MANY_CAPACITY: usize = 256;

thread_local! {
    /// When each search (board or staff, phrase) was last found to match more than [`FEW`].
    static MANY: RefCell<HashMap<(Option<i64>, String), Instant>> = RefCell::new(HashMap::new());
}

/// Whether `phrase` (on `board`, or staff-wide) matches more than [`FEW`]: as this worker
/// found lately, else as `count` (up to [`FEW`] + 1) finds now — remembered when many.
fn matches_many(
    board: Option<ProjectId>,
    phrase: &str,
    count: impl FnOnce() -> Result<i64>,
) -> Result<bool> {
    if known_many(board, phrase) {
        return Ok(true);
    }
    let many = count()? > FEW;
    if many {
        remember_many(board, phrase);
    }
    Ok(many)
}

/// Whether this worker found `phrase` (on `board`, or staff-wide) to match many, lately.
fn known_many(board: Option<ProjectId>, phrase: &str) -> bool {
    MANY.with(|m| {
        m.borrow()
            .get(&(board.map(|b| b.0), phrase.to_string()))
            .is_some_and(|at| at.elapsed() < MANY_KEPT)
    })
}

/// Remembers that `phrase` (on `board`, or staff-wide) matches many, as of now.
fn remember_many(board: Option<ProjectId>, phrase: &str) {
    MANY.with(|m| {
        let mut many = m.borrow_mut();
        if many.len() >= MANY_CAPACITY {
            many.retain(|_, at| at.elapsed() < MANY_KEPT);
        }
        // Still full: the finding made longest ago makes room (one board's searches never
        // push out every other's).
        if many.len() >= MANY_CAPACITY
            && let Some(oldest) = many
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            many.remove(&oldest);
        }
        many.insert((board.map(|b| b.0), phrase.to_string()), Instant::now());
    })
}

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
    /// Few matches: the FTS query on titles, and (staff) on descriptions; the board's on its
    /// own `board` column. Always counted.
    Indexed { scope: Scope, phrase: String },
    /// Many matches, or a short query: a LIKE pattern tested on each row of the list, never
    /// counted.
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
            Scope::Board(project) => {
                args.push(Value::Text(board_query(*project, phrase)));
                format!(
                    "hits(id, rank) AS MATERIALIZED (
                         SELECT rowid, 0 FROM ticket_titles WHERE ticket_titles MATCH ?{})",
                    args.len()
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

    /// Whether this search is counted: few matches.
    pub fn counted(&self) -> bool {
        matches!(self, Plan::Indexed { .. })
    }
}

/// The FTS query for `phrase` on `project`'s board: its marker and the phrase, both in the
/// `board` column (see the module comment).
fn board_query(project: ProjectId, phrase: &str) -> String {
    format!(
        "{{board}} : \"{}\" AND {{board}} : {phrase}",
        board_marker(project)
    )
}

/// A project's marker in the `board` column, as migration 0005's `tickets.board_doc` writes it:
/// its id's digits as the control characters 16–25, between two `\x01`.
fn board_marker(project: ProjectId) -> String {
    let digits: String = project
        .0
        .to_string()
        .bytes()
        .map(|d| char::from(16 + (d - b'0')))
        .collect();
    format!("\u{1}{digits}\u{1}")
}

/// `text` as one FTS5 phrase: double quotes doubled, wrapped in quotes; control characters
/// dropped (they are what board markers are made of).
fn phrase(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
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
    };
    if query.chars().count() < 3 {
        return Ok(walk());
    }
    let phrase = phrase(query);
    let many = matches_many(None, &phrase, || {
        let titles = count_anywhere(r, "ticket_titles", &phrase)?;
        if titles > FEW {
            return Ok(titles);
        }
        Ok(titles + count_anywhere(r, "ticket_bodies", &phrase)?)
    })?;
    Ok(if many {
        walk()
    } else {
        Plan::Indexed {
            scope: Scope::Staff,
            phrase,
        }
    })
}

/// Decides how a visitor's search for `query` on `project`'s board runs, from that board alone
/// (see the module comment). `None` when the query is shorter than [`BOARD_MIN_CHARS`].
pub fn plan_board(r: &impl Reader, project: ProjectId, query: &str) -> Result<Option<Plan>> {
    if query.chars().count() < BOARD_MIN_CHARS {
        return Ok(None);
    }
    let phrase = phrase(query);
    let many = matches_many(Some(project), &phrase, || {
        count_up_to_few(
            r,
            "SELECT 1 FROM ticket_titles WHERE ticket_titles MATCH ?1",
            vec![Value::Text(board_query(project, &phrase))],
        )
    })?;
    Ok(Some(if !many {
        Plan::Indexed {
            scope: Scope::Board(project),
            phrase,
        }
    } else {
        Plan::Walk {
            pattern: like_contains(query),
        }
    }))
}

/// Whether any ticket waits in `search_pending` to be indexed (one indexed read).
pub(crate) fn pending(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM search_pending)")?
        .query_row([], |r| r.get(0))
}

/// Indexes the tickets written since the last call (`search_pending`, filled by the triggers of
/// migration 0009) from their rows as they stand, and empties the list. The writer runs it in
/// the open transaction just before every `COMMIT` (`store::writer`, `Db::write_alone`), so a
/// committed ticket is always searchable — and FTS5 writes one segment per commit instead of one
/// per write. One indexed read when nothing is pending.
pub(crate) fn index_pending(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    if !pending(conn)? {
        return Ok(());
    }
    for sql in [
        "DELETE FROM ticket_titles
         WHERE rowid IN (SELECT ticket_id FROM search_pending WHERE titles AND NOT fresh)",
        "INSERT INTO ticket_titles (rowid, subject, public_title, board)
         SELECT t.id, t.subject, t.public_title, t.board_doc
         FROM search_pending p JOIN tickets t ON t.id = p.ticket_id WHERE p.titles",
        "DELETE FROM ticket_bodies
         WHERE rowid IN (SELECT ticket_id FROM search_pending WHERE body AND NOT fresh)",
        "INSERT INTO ticket_bodies (rowid, body)
         SELECT t.id, t.body FROM search_pending p JOIN tickets t ON t.id = p.ticket_id WHERE p.body",
        "DELETE FROM search_pending",
    ] {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, Source};
    use crate::store::projects::{self, NewProject};
    use crate::store::tickets::{self, NewTicket};
    use crate::store::{Db, Store};

    /// A fresh database with one project, ACME: its directory, store, a connection and the
    /// project's id.
    fn with_project() -> (tempfile::TempDir, Store, Db, ProjectId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("t.sqlite3"),
            crate::store::Synchronous::Full,
        )
        .unwrap();
        let db = store.connect().unwrap();
        let project = db
            .write(|tx| {
                projects::insert(
                    tx,
                    &NewProject {
                        key: "ACME",
                        name: "Acme",
                        description: "",
                    },
                )
            })
            .unwrap();
        (dir, store, db, project)
    }

    /// A shown staff ticket in `project`.
    fn ticket<'a>(project: ProjectId, subject: &'a str, body: &'a str) -> NewTicket<'a> {
        NewTicket {
            project_id: project,
            subject,
            body,
            priority: Priority::Normal,
            assignee_id: None,
            source: Source::Staff,
            requester_name: None,
            requester_email: None,
            created_by: None,
            shared: true,
            receipt_hash: None,
            portal: None,
        }
    }

    #[test]
    fn board_markers_are_distinct_and_unsearchable() {
        let (one, eleven) = (board_marker(ProjectId(1)), board_marker(ProjectId(11)));
        assert_eq!(one, "\u{1}\u{11}\u{1}");
        assert!(!eleven.contains(&one) && !one.contains(&eleven));
        assert!(
            board_marker(ProjectId(1234567890))
                .chars()
                .all(char::is_control)
        );
    }

    #[test]
    fn user_input_cannot_reach_a_marker() {
        assert_eq!(phrase("a\u{1}\u{11}\u{1}b"), "\"ab\"");
    }

    #[test]
    fn user_input_is_one_phrase() {
        assert_eq!(phrase("checkout"), "\"checkout\"");
        assert_eq!(
            phrase("say \"hi\" NEAR(x) -y *"),
            "\"say \"\"hi\"\" NEAR(x) -y *\""
        );
    }

    /// Search is updated once per commit (migration 0009), yet every acknowledged write is
    /// searchable at once from another connection; an edit replaces the old text; a refused
    /// write leaves nothing in the index; a deleted ticket leaves it; nothing stays pending.
    #[test]
    fn every_committed_change_is_searchable_at_once() {
        use crate::error::Error;

        let (_dir, store, db, project) = with_project();
        let found = |db: &crate::store::Db, table: &str, text: &str| -> i64 {
            db.conn()
                .query_row(
                    &format!("SELECT COUNT(*) FROM {table} WHERE {table} MATCH ?1"),
                    [phrase(text)],
                    |r| r.get(0),
                )
                .unwrap()
        };

        // Threads write at once, so writes share commits; each checks its own ticket from
        // another connection the moment its write returns.
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let (db, reader) = (store.connect().unwrap(), store.connect().unwrap());
                    for i in 0..20 {
                        let subject: &'static str = format!("kiwi{t}x{i:02} title").leak();
                        let body: &'static str = format!("mango{t}x{i:02} body").leak();
                        let refused = i % 4 == 3;
                        let written = db.write(|tx| {
                            tickets::insert(tx, &ticket(project, subject, body))?;
                            if refused {
                                return Err(Error::Other("refused after writing".into()));
                            }
                            Ok(())
                        });
                        assert_eq!(written.is_ok(), !refused);
                        let expected = i64::from(!refused);
                        assert_eq!(found(&reader, "ticket_titles", &subject[..8]), expected);
                        assert_eq!(found(&reader, "ticket_bodies", &body[..9]), expected);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }

        let id = |subject: &str| -> i64 {
            db.conn()
                .query_row(
                    "SELECT id FROM tickets WHERE subject = ?1",
                    [subject],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let (edited, deleted) = (id("kiwi0x00 title"), id("kiwi1x00 title"));
        let edited_then_deleted = id("kiwi2x00 title");
        db.write(|tx| {
            tx.conn().execute(
                "UPDATE tickets SET subject = 'papaya edited', body = 'guava edited' WHERE id = ?1",
                [edited],
            )?;
            tx.conn().execute(
                "UPDATE tickets SET subject = 'quince short-lived' WHERE id = ?1",
                [edited_then_deleted],
            )?;
            tx.conn()
                .execute("DELETE FROM tickets WHERE id = ?1", [edited_then_deleted])?;
            tx.conn()
                .execute("DELETE FROM tickets WHERE id = ?1", [deleted])?;
            // Written and deleted in the same write: never reaches the index.
            let (fresh, _) =
                tickets::insert(tx, &ticket(project, "lychee fleeting", "lychee fleeting"))?;
            tx.conn()
                .execute("DELETE FROM tickets WHERE id = ?1", [fresh.0])?;
            Ok(())
        })
        .unwrap();
        for (table, text, expected) in [
            ("ticket_titles", "kiwi0x00", 0),
            ("ticket_titles", "papaya edited", 1),
            ("ticket_bodies", "mango0x00", 0),
            ("ticket_bodies", "guava edited", 1),
            ("ticket_titles", "kiwi1x00", 0),
            ("ticket_bodies", "mango1x00", 0),
            ("ticket_titles", "lychee", 0),
            ("ticket_bodies", "lychee", 0),
            ("ticket_titles", "kiwi2x01", 1),
            ("ticket_titles", "kiwi2x00", 0),
            ("ticket_titles", "quince", 0),
            ("ticket_bodies", "mango2x00", 0),
        ] {
            assert_eq!(found(&db, table, text), expected, "{table}: {text}");
        }
        let count = |sql: &str| -> i64 { db.conn().query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM search_pending"), 0);
        // 6 threads x 15 kept writes, two of them deleted. (These counts are the indexes'
        // per-row sizes; the phrase checks above are what catch stale or doubled text.)
        assert_eq!(count("SELECT COUNT(*) FROM tickets"), 88);
        assert_eq!(count("SELECT COUNT(*) FROM ticket_titles"), 88);
        db.write(|tx| {
            for table in ["ticket_titles", "ticket_bodies"] {
                tx.conn().execute(
                    &format!("INSERT INTO {table} ({table}) VALUES ('integrity-check')"),
                    [],
                )?;
            }
            Ok(())
        })
        .unwrap();
    }

    /// A search found to match many walks at once for a minute (no count), on that board or
    /// staff-wide only; a finding of few is never kept; memory stays bounded.
    #[test]
    fn many_matches_are_remembered_for_a_minute_per_search() {
        let (_dir, _store, db, project) = with_project();
        db.write(|tx| {
            for i in 0..=FEW {
                tickets::insert(tx, &ticket(project, &format!("zebra crossing {i}"), ""))?;
            }
            Ok(())
        })
        .unwrap();
        MANY.with(|m| m.borrow_mut().clear());
        assert!(!plan(&db, "zebra").unwrap().counted());
        assert!(
            !plan_board(&db, project, "zebra")
                .unwrap()
                .unwrap()
                .counted()
        );
        assert!(known_many(None, &phrase("zebra")));
        assert!(known_many(Some(project), &phrase("zebra")));
        assert!(!known_many(
            Some(ProjectId(project.0 + 1)),
            &phrase("zebra")
        ));

        // Most matches go: still walked while remembered, ranked and counted after.
        db.write(|tx| {
            tx.conn().execute("DELETE FROM tickets WHERE id > 10", [])?;
            Ok(())
        })
        .unwrap();
        assert!(!plan(&db, "zebra").unwrap().counted());
        MANY.with(|m| {
            for at in m.borrow_mut().values_mut() {
                *at = at
                    .checked_sub(MANY_KEPT)
                    .expect("the clock has run for a minute");
            }
        });
        assert!(plan(&db, "zebra").unwrap().counted());
        assert!(
            plan_board(&db, project, "zebra")
                .unwrap()
                .unwrap()
                .counted()
        );
        assert!(!known_many(None, &phrase("zebra")), "few is not kept");

        remember_many(Some(project), &phrase("zebra"));
        for i in 0..MANY_CAPACITY * 2 {
            remember_many(None, &format!("q{i}"));
        }
        assert!(MANY.with(|m| m.borrow().len()) <= MANY_CAPACITY);
        assert!(known_many(None, &format!("q{}", MANY_CAPACITY * 2 - 1)));
        assert!(
            !known_many(Some(project), &phrase("zebra")),
            "the oldest made room"
        );
    }
}
