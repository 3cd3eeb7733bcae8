//! Lists that stay flat at a million tickets (issue #14): keyset pages, indexed search, counts
//! without counting. These tests pin behaviour and query plans, never timings.

use porchlight::store::tickets::NewTicket;

use crate::util::TestApp;

/// Inserts `n` tickets into project `key` directly (fast), subjects from `subject(i)`, shown on
/// the board.
fn seed(t: &TestApp, key: &str, n: usize, subject: impl Fn(usize) -> String, body: &str) {
    seed_as(t, key, n, subject, body, true)
}

/// [`seed`], shown on the board or not.
fn seed_as(
    t: &TestApp,
    key: &str,
    n: usize,
    subject: impl Fn(usize) -> String,
    body: &str,
    shared: bool,
) {
    let project = porchlight::store::projects::get_by_key(&t.db, key)
        .unwrap()
        .unwrap();
    t.db.write(|tx| {
        for i in 0..n {
            let subject = subject(i);
            let new = NewTicket {
                shared,
                ..crate::util::plain_ticket(project.id, &subject, body)
            };
            porchlight::store::tickets::insert(tx, &new)?;
        }
        Ok(())
    })
    .unwrap();
}

/// Subjects of the tickets on an inbox or board page, in order.
fn subjects(body: &str, marker: &str) -> Vec<String> {
    body.match_indices(marker)
        .map(|(at, _)| {
            body[at..]
                .split(['<', '\n'])
                .next()
                .unwrap()
                .trim()
                .to_string()
        })
        .collect()
}

/// A page's link is pinned to the row it continues from: tickets created (or updated) in
/// between neither repeat on the next page nor push rows off it.
#[test]
fn cursors_hold_across_inserts() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    for i in 1..=60 {
        t.create_ticket("ACME", &format!("Pinned item {i:03}"), "");
    }
    let page1 = t.get("/");
    let first = subjects(&page1.body, "Pinned item");
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "Pinned item 060");
    let older = page1.link("Older →");
    // Meanwhile: new tickets arrive at the top.
    for i in 1..=7 {
        t.create_ticket("ACME", &format!("Pinned item late {i}"), "");
    }
    let page2 = t.get(&older);
    let second = subjects(&page2.body, "Pinned item");
    assert_eq!(second.first().map(String::as_str), Some("Pinned item 010"));
    assert_eq!(second.len(), 10, "{second:?}");
    assert!(second.iter().all(|s| !first.contains(s)), "no repeats");
    // Newer from page 2 goes back to exactly the rows page 1 showed (not the new ones).
    let back = t.get(&page2.link("← Newer"));
    assert_eq!(subjects(&back.body, "Pinned item"), first);
    // The oldest page ends with the first ticket ever made.
    let oldest = t.get(&page1.link("Oldest »"));
    let last = subjects(&oldest.body, "Pinned item");
    assert_eq!(last.last().map(String::as_str), Some("Pinned item 001"));
    // A mangled cursor shows the newest page rather than an error.
    t.get("/?at=%25%25garbage").assert_status(200);
    // A cursor whose older rows have all gone shows the oldest page there is, not nothing.
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute(
        "DELETE FROM tickets WHERE subject BETWEEN 'Pinned item 001' AND 'Pinned item 010'",
        [],
    )
    .unwrap();
    let gone = t.get(&older);
    let shown = subjects(&gone.body, "Pinned item");
    assert_eq!(shown.last().map(String::as_str), Some("Pinned item 011"));
    assert_eq!(shown.len(), 50, "{shown:?}");
}

/// Search takes any text literally: FTS syntax, quotes, brackets, LIKE wildcards.
#[test]
fn search_takes_any_input_as_text() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_ticket("ACME", "Discount 100% off \"today\" (maybe)", "");
    t.create_ticket("ACME", "C++ build fails with -O2", "");
    t.create_ticket("ACME", "Plain ticket", "The word NEAR appears in the body");
    t.create_ticket("ACME", "Ünïcode café menu", "");
    let find = |t: &mut TestApp, q: &str| {
        let url = crate::util::form_body(&[("q", q)]);
        t.get(&format!("/?{url}"))
    };
    for (q, expected) in [
        ("100% off \"today\" (", Some("Discount")),
        ("\"today\"", Some("Discount")),
        ("C++", Some("C++ build")),
        ("-O2", Some("C++ build")),
        ("NEAR", Some("Plain ticket")),
        ("café", Some("Ünïcode")),
        ("%", Some("Discount")),
        ("zz", None),
        ("*", None),
        ("\"", Some("Discount")),
        ("(", Some("Discount")),
        ("AND OR NOT", None),
        ("a\"b)", None),
        ("\\", None),
        ("_", None),
    ] {
        let r = find(&mut t, q);
        r.assert_status(200);
        match expected {
            Some(subject) => {
                r.assert_contains(subject);
            }
            None => {
                r.assert_contains("No tickets match these filters");
            }
        }
    }
    // Case does not matter, and the description is searched for staff.
    find(&mut t, "DISCOUNT").assert_contains("Discount");
    find(&mut t, "appears in").assert_contains("Plain ticket");
}

/// Title hits come before description-only hits.
#[test]
fn search_ranks_title_hits_first() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_ticket("ACME", "Older ticket about invoices", "");
    t.create_ticket("ACME", "Newer ticket", "mentions invoices in the text");
    let r = t.get("/?q=invoices");
    let title_hit = r.body.find("Older ticket about invoices").unwrap();
    let body_hit = r.body.find("Newer ticket").unwrap();
    assert!(title_hit < body_hit, "ranked: title hit first");
    r.assert_contains("2 tickets");
}

/// The board searches only what visitors see: never the subject behind a public title, never a
/// description, never a hidden ticket.
#[test]
fn the_board_never_matches_hidden_text() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    let link = format!(
        "/s/{}",
        porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .share
            .token
            .unwrap()
    );
    let r = t.create_ticket("ACME", "Secret codename Falcon", "zebra details");
    t.post(
        &format!("/tickets/{r}/sharing"),
        &[("shared", "on"), ("public_title", "Speed improvements")],
    )
    .assert_status(303);
    let hidden = t.create_ticket("ACME", "Hidden rhinoceros", "");
    t.post(
        &format!("/tickets/{hidden}/sharing"),
        &[("public_title", "")],
    )
    .assert_status(303);
    let staff = std::mem::take(&mut t.cookies);
    for q in ["Falcon", "zebra", "rhinoceros", "codename"] {
        let url = format!("{link}?{}", crate::util::form_body(&[("q", q)]));
        let board = t.get(&url);
        board.assert_status(200).assert_lacks("Speed improvements");
        board.assert_lacks("Hidden rhinoceros");
    }
    let url = format!(
        "{link}?{}",
        crate::util::form_body(&[("q", "improvements")])
    );
    t.get(&url).assert_contains("Speed improvements");
    t.cookies = staff;
    t.get("/?q=Falcon")
        .assert_contains("Secret codename Falcon");
    t.get("/?q=zebra").assert_contains("Secret codename Falcon");
}

/// A search with very many matches streams them newest first from the index (and one too short
/// for the index walks the list): pages fill, links work, and no total is made up.
#[test]
fn searches_with_many_matches_walk_the_list() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let many = porchlight::store::search::FEW as usize + 60;
    seed(&t, "ACME", many, |i| format!("Common word {i}"), "");
    seed(&t, "ACME", 3, |i| format!("Rare word {i}"), "");
    let r = t.get("/?q=common");
    r.assert_contains("Many matches, newest first");
    assert_eq!(subjects(&r.body, "Common word").len(), 50);
    let next = t.get(&r.link("Older →"));
    let (first, second) = (
        subjects(&r.body, "Common word"),
        subjects(&next.body, "Common word"),
    );
    assert_eq!(second.len(), 50);
    assert!(second.iter().all(|s| !first.contains(s)), "no repeats");
    let rare = t.get("/?q=rare+word");
    rare.assert_contains("3 tickets");
    // Two characters: below what the trigram index can look up; still found.
    let short = t.get("/?q=re");
    short.assert_status(200).assert_contains("Rare word");
}

/// The part of a page between `start` and the next `</nav>`.
fn nav<'a>(body: &'a str, start: &str) -> &'a str {
    let at = body.find(start).unwrap_or_else(|| panic!("no {start}"));
    let end = at + body[at..].find("</nav>").unwrap();
    &body[at..end]
}

/// What a visitor's search shows depends on their board alone: however many tickets elsewhere
/// (other projects, unshared ones) match, the board's counts and results stay the same: a board
/// counts its own matches only. Searches under three characters are refused with a
/// message rather than walking the board.
#[test]
fn a_board_search_tells_nothing_about_other_tickets() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_project("OTHER", "Other");
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    let link = format!(
        "/s/{}",
        porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .share
            .token
            .unwrap()
    );
    seed(&t, "ACME", 3, |i| format!("Needle visible {i}"), "");
    t.cookies.clear();
    let search = |t: &mut TestApp| {
        let board = t.get(&format!("{link}?q=needle"));
        board.assert_status(200);
        assert_eq!(subjects(&board.body, "Needle").len(), 3, "{}", board.body);
        (
            nav(&board.body, "<nav class=\"tabs\"").to_string(),
            nav(&board.body, "<nav class=\"pagination\"").to_string(),
        )
    };
    let before = search(&mut t);
    assert!(before.1.contains("3 tickets"), "{}", before.1);

    // Many matches elsewhere: another project's, and this project's unshared tickets.
    let many = porchlight::store::search::FEW as usize + 1;
    seed(&t, "OTHER", many, |i| format!("Needle other {i}"), "");
    seed_as(
        &t,
        "ACME",
        many,
        |i| format!("Needle hidden {i}"),
        "",
        false,
    );
    assert_eq!(search(&mut t), before, "small board");

    // Text the index folds differently from LIKE (Unicode case) is found the same way too.
    seed(&t, "ACME", 1, |_| "ÜBERWEISUNG fehlgeschlagen".into(), "");
    let umlaut = |t: &mut TestApp| {
        t.get(&format!("{link}?q=%C3%BCberweisung"))
            .body
            .contains("BERWEISUNG fehlgeschlagen")
    };
    assert!(umlaut(&mut t));
    seed(&t, "OTHER", many, |i| format!("überweisung {i}"), "");
    assert!(umlaut(&mut t), "still found with many matches elsewhere");

    // Many matches on the board itself: walked, not counted — the board's own doing.
    let filler = porchlight::store::search::FEW as usize + 1;
    seed(&t, "ACME", filler, |i| format!("Needle filler {i}"), "");
    let board = t.get(&format!("{link}?q=needle"));
    board.assert_contains("Many matches, newest first");
    assert!(!nav(&board.body, "<nav class=\"tabs\"").contains("class=\"count\""));

    // Too short for the index: refused with a message, the board shown unfiltered.
    let short = t.get(&format!("{link}?q=ne"));
    short
        .assert_status(200)
        .assert_contains("Type at least 3 characters to search.")
        .assert_contains("Needle filler");
}

fn plan(t: &TestApp, sql: &str) -> String {
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    // Parameters stay unbound (NULL): the plans here do not depend on them.
    let rows: Vec<String> = stmt
        .raw_query()
        .mapped(|r| r.get::<_, String>(3))
        .map(|r| r.unwrap())
        .collect();
    rows.join(" | ")
}

/// Pages, counts and search go through indexes: no query the lists run scans the tickets.
#[test]
fn list_queries_use_their_indexes() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_ticket("ACME", "Something", "");
    for sql in [
        "SELECT t.id FROM tickets t WHERE 1 AND (t.updated_at, t.id) < (5, 5) ORDER BY t.updated_at DESC, t.id DESC LIMIT 51",
        "SELECT t.id FROM tickets t WHERE t.status = 'open' AND (t.updated_at, t.id) > (5, 5) ORDER BY t.updated_at ASC, t.id ASC LIMIT 51",
        "SELECT t.id FROM tickets t WHERE t.project_id = 1 AND t.shared = 1 AND (t.public_updated_at, t.id) < (5, 5) ORDER BY t.public_updated_at DESC, t.id DESC LIMIT 51",
    ] {
        let p = plan(&t, sql);
        assert!(
            p.contains("USING INDEX") || p.contains("USING COVERING INDEX"),
            "{sql}: {p}"
        );
        assert!(!p.contains("USE TEMP B-TREE"), "{sql}: {p}");
    }
    let counts = plan(&t, porchlight::store::tickets::STATUS_TALLIES);
    assert!(!counts.contains("tickets "), "{counts}");
    assert!(!counts.contains("TEMP B-TREE"), "{counts}");
    let search = plan(
        &t,
        "SELECT rowid FROM ticket_titles WHERE ticket_titles MATCH '\"some\"' LIMIT 10",
    );
    assert!(search.contains("VIRTUAL TABLE INDEX"), "{search}");
}

/// How many tickets the title index holds, and how many tickets there are.
fn indexed_and_total(path: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        count("SELECT COUNT(*) FROM ticket_titles"),
        count("SELECT COUNT(*) FROM tickets"),
    )
}

/// A bulk load that fails halfway (here: panics) still leaves every ticket it wrote searchable.
#[test]
fn a_failed_bulk_load_still_indexes_what_it_wrote() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.db.bulk_load(|_| -> porchlight::error::Result<()> {
            seed(&t, "ACME", 20, |i| format!("Bulk marmalade {i}"), "");
            panic!("the load failed halfway");
        })
    }));
    assert!(outcome.is_err());
    let (indexed, total) = indexed_and_total(&t.app.config.db_path());
    assert_eq!((indexed, total), (20, 20));
    t.get("/?q=marmalade").assert_contains("20 tickets");
    // And the triggers index the next ticket as usual.
    t.create_ticket("ACME", "Ordinary marmalade", "");
    t.get("/?q=marmalade").assert_contains("21 tickets");
}

/// `demo` killed (-9) in the middle of seeding: the next start indexes what it had written, so
/// search finds every ticket.
#[test]
fn a_demo_killed_while_seeding_leaves_search_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(crate::util::binary())
        .args(["demo", "--tickets", "400000", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("PORCHLIGHT_CONFIG")
        .env("PORCHLIGHT_BCRYPT_COST", "4")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("porchlight.sqlite3");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // Wait until some chunks are committed, then kill without warning.
    loop {
        let written =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get::<_, i64>(0))
                })
                .unwrap_or(0);
        if written >= 10_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo never seeded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (indexed, total) = indexed_and_total(&db);
    assert!(indexed < total, "the kill came before the index pass");
    porchlight::store::Store::open(&db, porchlight::store::Synchronous::Full).unwrap();
    let (indexed, total) = indexed_and_total(&db);
    assert_eq!(indexed, total);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let backlog: i64 = conn
        .query_row("SELECT COUNT(*) FROM search_backlog", [], |r| r.get(0))
        .unwrap();
    assert_eq!(backlog, 0);
}

/// Lists are kept per worker between writes (`web::fragments::view`), and any write — through
/// the app or by another connection to the file — shows at once; "assigned to me" is per person.
#[test]
fn kept_lists_never_show_stale_data() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_ticket("ACME", "Kept ticket", "");
    t.get("/").assert_contains("Kept ticket");
    t.get("/").assert_contains("Acme");
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute(
        "UPDATE projects SET name = 'Renamed outside' WHERE key = 'ACME'",
        [],
    )
    .unwrap();
    t.get("/").assert_contains("Renamed outside");
    t.create_ticket("ACME", "Second kept ticket", "");
    t.get("/").assert_contains("Second kept ticket");

    // The board, the same: a new public title shows on the next view.
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    let link = format!(
        "/s/{}",
        porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .share
            .token
            .unwrap()
    );
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link).assert_contains("Kept ticket");
    t.cookies = staff;
    t.post(
        "/tickets/ACME-1/sharing",
        &[("shared", "on"), ("public_title", "Public kept title")],
    )
    .assert_status(303);
    let admin_cookies = std::mem::take(&mut t.cookies);
    t.get(&link)
        .assert_contains("Public kept title")
        .assert_lacks(">Kept ticket<");

    // "Assigned to me" is not shared between people.
    t.cookies = admin_cookies;
    let admin: i64 = conn
        .query_row(
            "SELECT id FROM staff WHERE email = 'admin@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    t.post(
        "/tickets/ACME-2/update",
        &[
            ("status", "open"),
            ("orig_status", "open"),
            ("priority", "normal"),
            ("orig_priority", "normal"),
            ("assignee", &admin.to_string()),
            ("orig_assignee", ""),
            ("expected_by", ""),
            ("orig_expected_by", ""),
        ],
    )
    .assert_status(303);
    let admin_cookies = std::mem::take(&mut t.cookies);
    t.sign_in_as("ana@example.com", porchlight::domain::Role::Agent);
    let ana_cookies = std::mem::take(&mut t.cookies);
    // No write between these views: the second must not be the first's kept view.
    for _ in 0..2 {
        t.cookies = admin_cookies.clone();
        t.get("/?assignee=me").assert_contains("Second kept ticket");
        t.cookies = ana_cookies.clone();
        t.get("/?assignee=me").assert_lacks("Second kept ticket");
    }
}

/// A change made outside Porchlight (the sqlite3 shell) is indexed by the pass the background
/// thread runs every second (`Db::index_leftovers`): a board search stops finding the subject
/// behind a public title set that way.
#[test]
fn changes_made_outside_are_indexed_by_the_leftovers_pass() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let link = t.turn_share_link_on("ACME");
    seed(&t, "ACME", 1, |_| "Secret walrus project".into(), "");
    t.cookies.clear();
    let board = |t: &mut TestApp, q: &str| t.get(&format!("{link}?q={q}")).body;
    assert!(board(&mut t, "walrus").contains("Secret walrus project"));
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute(
        "UPDATE tickets SET public_title = 'Faster checkout' WHERE subject = 'Secret walrus project'",
        [],
    )
    .unwrap();
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM search_pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 1, "noted by the triggers, not yet indexed");
    t.db.index_leftovers().unwrap();
    assert!(!board(&mut t, "walrus").contains("Faster checkout"));
    assert!(board(&mut t, "checkout").contains("Faster checkout"));
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM search_pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
}

/// A ticket's thread (description and timeline) is kept per worker between writes
/// (`web::staff::tickets::thread`): a new note, a change made by another connection and another
/// ticket's page each show what is there now.
#[test]
fn kept_ticket_threads_never_show_stale_data() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let first = t.create_ticket("ACME", "First thread", "Original description");
    let second = t.create_ticket("ACME", "Second thread", "Other description");
    for _ in 0..2 {
        t.get(&format!("/tickets/{first}"))
            .assert_contains("Original description");
        t.get(&format!("/tickets/{second}"))
            .assert_contains("Other description")
            .assert_lacks("Original description");
    }
    t.post(
        &format!("/tickets/{first}/note"),
        &[("note", "Kept-thread note")],
    )
    .assert_status(303);
    t.get(&format!("/tickets/{first}"))
        .assert_contains("Kept-thread note");
    t.get(&format!("/tickets/{second}"))
        .assert_lacks("Kept-thread note");
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute(
        "UPDATE comments SET body = 'Edited outside' WHERE body = 'Kept-thread note'",
        [],
    )
    .unwrap();
    t.get(&format!("/tickets/{first}"))
        .assert_contains("Edited outside")
        .assert_lacks("Kept-thread note");
}

/// A staff search whose many matches are all far back looks through a bounded number of tickets
/// per page: the first page says it found none so far, and "Older" keeps searching — no match
/// is skipped or shown twice.
#[test]
fn a_search_walk_is_bounded_per_page_and_continues() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let matches = porchlight::store::search::FEW as usize + 20;
    seed(&t, "ACME", matches, |i| format!("Ancient match {i:04}"), "");
    let newer = porchlight::store::paging::WALK_BUDGET as usize + 100;
    seed(&t, "ACME", newer, |i| format!("Recent filler {i}"), "");
    let first = t.get("/?q=ancient+match");
    first
        .assert_status(200)
        .assert_contains("No matches among the tickets searched so far.")
        .assert_contains("keeps searching");
    // Follow "Older" until the walk is done; every match shows once, newest first.
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(first.link("Older →"));
    let mut pages = 0;
    while let Some(url) = next {
        pages += 1;
        assert!(pages < 100, "the walk does not end");
        let page = t.get(&url);
        page.assert_status(200);
        seen.extend(subjects(&page.body, "Ancient match"));
        next = page
            .body
            .contains("rel=\"next\"")
            .then(|| page.link("Older →"));
    }
    assert_eq!(seen.len(), matches, "every match once");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, no repeats");
}

/// A walk that reaches the end of the list says there are no more matches, with the way back;
/// it never starts over from the other end.
#[test]
fn a_finished_walk_says_so_and_never_cycles() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let filler = porchlight::store::paging::WALK_BUDGET as usize + 90;
    seed(&t, "ACME", filler, |i| format!("Filler {i}"), "");
    seed(&t, "ACME", 10, |i| format!("Match zq {i}"), "");
    // Two characters: always a walk.
    let first = t.get("/?q=zq");
    assert_eq!(subjects(&first.body, "Match zq").len(), 10);
    first.assert_contains("keeps searching");
    let end = t.get(&first.link("Older →"));
    end.assert_status(200)
        .assert_contains("No more matches this way.")
        .assert_lacks("Match zq")
        .assert_lacks("rel=\"next\"");
    // The way back leads to the matches again, and nowhere else.
    let back = t.get(&end.link("← Newer"));
    assert_eq!(subjects(&back.body, "Match zq").len(), 10);
}
