//! The staff workspace: projects, tickets, replies and notes, the inbox, staff admin, error
//! pages and headers (issue #2).

use porchlight::domain::Role;

use crate::util::TestApp;

#[test]
fn migrations_are_pinned() {
    // A forgotten or reordered migration fails here first.
    assert_eq!(porchlight::store::migrate::MIGRATIONS.len(), 9);
    let t = TestApp::new();
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 9);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn projects_create_validate_edit_archive() {
    let mut t = TestApp::admin();
    t.get("/projects")
        .assert_status(200)
        .assert_contains("No projects yet");

    // Bad input comes back with the text intact and the errors beside the fields.
    let r = t.post(
        "/projects/new",
        &[
            ("name", ""),
            ("key", "acme corp"),
            ("description", "Keep me"),
        ],
    );
    r.assert_status(422)
        .assert_contains("Name is required")
        .assert_contains("capital letters");
    r.assert_contains("value=\"acme corp\"")
        .assert_contains(">Keep me</textarea>");

    t.create_project("ACME", "Acme website");
    t.get("/projects/ACME")
        .assert_status(200)
        .assert_contains("Acme website");
    let r = t.post("/projects/new", &[("name", "Other"), ("key", "ACME")]);
    r.assert_status(422)
        .assert_contains("Another project already uses this key");

    t.post(
        "/projects/ACME/edit",
        &[("name", "Acme relaunch"), ("description", "**New** scope")],
    )
    .assert_status(303);
    t.get("/projects/ACME")
        .assert_contains("Acme relaunch")
        .assert_contains("<strong>New</strong>");
    t.post(
        "/projects/ACME/edit",
        &[("name", " "), ("description", "x")],
    )
    .assert_status(422)
    .assert_contains("Name is required");

    t.post("/projects/ACME/archive", &[]).assert_status(303);
    t.get("/projects").assert_contains("Archived");
    t.get("/tickets/new").assert_lacks("ACME ·");
    t.post("/projects/ACME/unarchive", &[]).assert_status(303);
    t.get("/tickets/new")
        .assert_contains("ACME · Acme relaunch");
    t.get("/projects/NOPE")
        .assert_status(404)
        .assert_contains("Page not found");
}

#[test]
fn tickets_are_created_numbered_and_validated() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    assert_eq!(t.create_ticket("ACME", "First", "one"), "ACME-1");
    assert_eq!(t.create_ticket("ACME", "Second", "two"), "ACME-2");

    let long = "x".repeat(201);
    let r = t.post(
        "/tickets/new",
        &[
            ("project", ""),
            ("subject", &long),
            ("body", "my text"),
            ("priority", "nope"),
        ],
    );
    r.assert_status(422)
        .assert_contains("Choose a project")
        .assert_contains("Subject is too long");
    r.assert_contains("Choose a priority")
        .assert_contains(">my text</textarea>");
    t.get("/tickets/ACME-99").assert_status(404);
    t.get("/tickets/garbage").assert_status(404);
}

#[test]
fn user_text_is_escaped_and_markdown_sanitised() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket(
        "ACME",
        "<script>alert('subject')</script>",
        "**ok** <script>alert('body')</script> <img src=x onerror=alert(1)>",
    );
    let page = t.get(&format!("/tickets/{r}"));
    page.assert_lacks("<script>alert")
        .assert_lacks("onerror")
        .assert_contains("&lt;script&gt;alert(");
    page.assert_contains("<strong>ok</strong>");
    t.get("/")
        .assert_lacks("<script>alert")
        .assert_contains("&lt;script&gt;");
}

#[test]
fn public_replies_and_internal_notes_are_unmistakable() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Broken form", "It breaks");
    let reply = t.post(&format!("/tickets/{r}/reply"), &[("reply", "We are on it")]);
    reply.assert_status(303);
    assert_eq!(reply.location(), format!("/tickets/{r}#reply"));
    // #12/#13: the flash said "Reply sent to the client." although nothing was sent; it says
    // what happened (a staff-opened ticket has nobody outside to email).
    t.get(&format!("/tickets/{r}"))
        .assert_contains(
            "Public reply saved. No email was sent: this ticket has no client requester.",
        )
        .assert_lacks("sent to the client");
    t.post(
        &format!("/tickets/{r}/note"),
        &[("note", "Root cause: cache")],
    )
    .assert_status(303);

    let page = t.get(&format!("/tickets/{r}"));
    page.assert_contains("Internal note added. The client can&#x27;t see it.");
    let note_at = page.body.find("Root cause: cache").unwrap();
    let reply_at = page.body.find("We are on it").unwrap();
    let label = "Internal note — never shown to the client";
    let label_at = page
        .body
        .rfind(&format!("<span class=\"tag tag-internal\">{label}</span>"))
        .expect("note labelled");
    assert!(
        label_at < note_at && label_at > reply_at,
        "the label belongs to the note"
    );
    page.assert_contains("class=\"entry internal\"")
        .assert_contains("class=\"entry public\"");
    // Two separate forms with different actions and buttons.
    page.assert_contains(&format!("action=\"/tickets/{r}/reply\""))
        .assert_contains("Post public reply");
    page.assert_contains(&format!("action=\"/tickets/{r}/note\""))
        .assert_contains("Save internal note");

    // Empty text is refused next to the right form, keeping the other form's text.
    let r2 = t.post(&format!("/tickets/{r}/note"), &[("note", "   ")]);
    r2.assert_status(422)
        .assert_contains("A note can&#x27;t be empty");
}

#[test]
fn status_priority_assignee_and_expected_date_changes_are_on_the_timeline() {
    let mut t = TestApp::admin();
    t.add_staff("bo@example.com", "Bo Agent", Role::Agent);
    let bo = porchlight::store::staff::get_by_email(&t.db, "bo@example.com")
        .unwrap()
        .unwrap();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Slow page", "");
    let path = format!("/tickets/{r}/update");
    let bo_id = bo.id.to_string();
    t.post(
        &path,
        &[
            ("status", "pending"),
            ("priority", "urgent"),
            ("assignee", &bo_id),
            ("expected_by", "2026-12-24"),
        ],
    )
    .assert_status(303);
    let page = t.get(&format!("/tickets/{r}"));
    page.assert_contains("changed the status from Open to <strong>Pending</strong>");
    page.assert_contains("changed the priority from Normal to <strong>Urgent</strong>");
    page.assert_contains("assigned it to <strong>Bo Agent</strong>");
    page.assert_contains("set the expected-by date to <strong>2026-12-24</strong>");

    let bad = t.post(
        &path,
        &[
            ("status", "resolved"),
            ("priority", "urgent"),
            ("assignee", "99999"),
            ("expected_by", "24/12/2026"),
        ],
    );
    bad.assert_status(422)
        .assert_contains("Enter a date as YYYY-MM-DD")
        .assert_contains("Choose an active staff member");
    bad.assert_contains("value=\"24&#x2f;12&#x2f;2026\"");
    // Nothing was half-written: the status is still Pending.
    t.get("/?status=resolved").assert_lacks(&r);
    t.post(
        &path,
        &[
            ("status", "pending"),
            ("priority", "urgent"),
            ("assignee", &bo_id),
            ("expected_by", "2026-12-24"),
        ],
    )
    .assert_status(303);
    t.get(&format!("/tickets/{r}"))
        .assert_contains("Nothing changed.");
}

#[test]
fn inbox_filters_counts_search_and_pages() {
    let mut t = TestApp::admin();
    t.add_staff("bo@example.com", "Bo Agent", Role::Agent);
    let bo = porchlight::store::staff::get_by_email(&t.db, "bo@example.com")
        .unwrap()
        .unwrap()
        .id
        .to_string();
    t.get("/").assert_contains("No projects yet");
    t.create_project("ACME", "Acme");
    t.create_project("GLOBEX", "Globex");
    t.get("/").assert_contains("No tickets yet");
    for i in 1..=55 {
        t.create_ticket("ACME", &format!("Acme issue {i}"), "");
    }
    let g = t.create_ticket("GLOBEX", "Globex checkout bug", "");
    t.post(
        &format!("/tickets/{g}/update"),
        &[
            ("status", "resolved"),
            ("priority", "high"),
            ("assignee", &bo),
            ("expected_by", ""),
        ],
    )
    .assert_status(303);

    let page1 = t.get("/");
    page1
        .assert_contains("56 tickets")
        .assert_contains("Globex checkout bug");
    page1
        .assert_contains("Open <span class=\"count\">55</span>")
        .assert_contains("Resolved <span class=\"count\">1</span>");
    let page2 = t.get(&page1.link("Older →"));
    page2
        .assert_contains("56 tickets")
        .assert_contains("Acme issue 1<")
        .assert_lacks("Globex checkout bug");
    assert!(page2.try_link("Older →").is_none(), "the last page");
    t.get(&page2.link("← Newer"))
        .assert_contains("Globex checkout bug");

    t.get("/?project=GLOBEX")
        .assert_contains("Globex checkout bug")
        .assert_lacks("Acme issue");
    t.get("/?status=resolved")
        .assert_contains("Globex checkout bug")
        .assert_contains("1 ticket<");
    t.get("/?priority=high")
        .assert_contains("Globex checkout bug")
        .assert_lacks("Acme issue 7");
    t.get(&format!("/?assignee={bo}"))
        .assert_contains("Globex checkout bug")
        .assert_lacks("Acme issue 7");
    t.get("/?assignee=none")
        .assert_contains("Acme issue 7")
        .assert_lacks("Globex checkout bug");
    t.get("/?q=CHECKOUT")
        .assert_contains("Globex checkout bug")
        .assert_lacks("Acme issue");
    t.get("/?q=100%25")
        .assert_contains("No tickets match these filters");
    // The most recently updated ticket comes first.
    let first_row = page1.body.find("<tbody>").unwrap();
    let globex_at = page1.body[first_row..].find("Globex checkout bug").unwrap();
    let acme_at = page1.body[first_row..].find("Acme issue").unwrap();
    assert!(globex_at < acme_at);
}

#[test]
fn staff_admin_is_for_admins_only() {
    let mut agent = TestApp::new();
    agent.sign_in_as("agent@example.com", Role::Agent);
    for path in ["/staff", "/staff/new", "/staff/1"] {
        agent
            .get(path)
            .assert_status(403)
            .assert_contains("Not allowed");
    }
    agent
        .post(
            "/staff/new",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("password", "long enough"),
                ("role", "admin"),
            ],
        )
        .assert_status(403);
    agent
        .post("/staff/1", &[("role", "admin")])
        .assert_status(403);
    agent
        .post("/staff/1/deactivate", &[("confirm", "yes")])
        .assert_status(403);
    assert!(
        porchlight::store::staff::get_by_email(&agent.db, "eve@example.com")
            .unwrap()
            .is_none()
    );
    agent.get("/").assert_lacks("href=\"/staff\"");
}

#[test]
fn admins_add_staff_change_roles_and_keep_an_admin() {
    let mut t = TestApp::admin();
    t.get("/").assert_contains("href=\"/staff\"");
    let r = t.post(
        "/staff/new",
        &[
            ("name", "Bo"),
            ("email", "bo@"),
            ("password", "short"),
            ("role", "agent"),
        ],
    );
    r.assert_status(422)
        .assert_contains("value=\"bo@\"")
        .assert_contains("Enter an email address")
        .assert_contains("at least 8");
    r.assert_lacks("value=\"short\"");
    t.post(
        "/staff/new",
        &[
            ("name", "Bo"),
            ("email", "bo@example.com"),
            ("password", "long enough"),
            ("role", "agent"),
        ],
    )
    .assert_status(303);
    t.post(
        "/staff/new",
        &[
            ("name", "Bo 2"),
            ("email", "BO@example.com"),
            ("password", "long enough"),
            ("role", "agent"),
        ],
    )
    .assert_status(422)
    .assert_contains("already exists");
    t.get("/staff").assert_contains("bo@example.com");

    let me = porchlight::store::staff::get_by_email(&t.db, "admin@example.com")
        .unwrap()
        .unwrap();
    // The only admin can neither be demoted nor deactivated (nor deactivate themself).
    t.post(&format!("/staff/{}", me.id), &[("role", "agent")])
        .assert_status(422)
        .assert_contains("only active admin");
    t.post(
        &format!("/staff/{}/deactivate", me.id),
        &[("confirm", "yes")],
    )
    .assert_status(422);

    let bo = porchlight::store::staff::get_by_email(&t.db, "bo@example.com")
        .unwrap()
        .unwrap();
    // Deactivation needs the confirmation tick.
    t.post(&format!("/staff/{}/deactivate", bo.id), &[])
        .assert_status(422)
        .assert_contains("to confirm");
    t.post(&format!("/staff/{}", bo.id), &[("role", "admin")])
        .assert_status(303);
    t.post(&format!("/staff/{}", me.id), &[("role", "agent")])
        .assert_status(303);
    // Now an agent: the staff pages are closed to me.
    t.get("/staff").assert_status(403);
}

#[test]
fn every_response_carries_the_security_headers() {
    let mut t = TestApp::admin();
    for path in ["/", "/login", "/healthz", "/nope", "/projects"] {
        let r = t.get(path);
        let csp = r
            .header("Content-Security-Policy")
            .unwrap_or_else(|| panic!("CSP on {path}"));
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(
            r.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("Referrer-Policy").is_some(), "{path}");
    }
    let setup = t.get("/setup/whatever");
    assert_eq!(setup.header("Referrer-Policy"), Some("no-referrer"));
}

#[test]
fn healthz_reports_version_and_database() {
    let mut t = TestApp::new();
    let r = t.get("/healthz");
    r.assert_status(200);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["database"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

/// Review of #12: damage found while serving a page (a read, not a write) must fail the health
/// check too.
#[test]
fn damage_found_while_serving_fails_the_health_check() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    for i in 0..30 {
        t.create_ticket("ACME", &format!("Ticket {i}"), &"text ".repeat(200));
    }
    t.get("/healthz").assert_status(200);
    let path = t.app.config.db_path();
    let root: i64 = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        conn.query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'tickets'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let start = (root as usize - 1) * page;
    bytes[start..start + page].fill(0x5A);
    std::fs::write(&path, &bytes).unwrap();
    // A connection with nothing cached reads the damaged page while serving the inbox.
    let fresh = t.app.store.connect().unwrap();
    let req = t.build_request("GET", "/", Vec::new(), Vec::new());
    crate::util::answer(&t.app, &fresh, &req).assert_status(500);
    let r = t.get("/healthz");
    r.assert_status(503);
}

/// #12: `/healthz` answered "ok" from a `SELECT 1` while the database could not serve a page.
/// It reads real tables each time.
#[test]
fn healthz_fails_when_the_database_cannot_serve() {
    let mut t = TestApp::new();
    t.get("/healthz").assert_status(200);
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute_batch("ALTER TABLE tickets RENAME TO tickets_gone")
        .unwrap();
    let r = t.get("/healthz");
    r.assert_status(503);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["database"], "unavailable");
}

#[test]
fn a_failure_shows_a_request_id_and_no_details() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    conn.execute_batch("ALTER TABLE tickets RENAME TO tickets_gone")
        .unwrap();
    let r = t.get("/");
    r.assert_status(500)
        .assert_contains("Something went wrong")
        .assert_contains("Request id:");
    r.assert_lacks("tickets").assert_lacks("no such table");
}

#[test]
fn static_assets_are_versioned_and_cached() {
    let mut t = TestApp::admin();
    let page = t.get("/");
    let at = page.body.find("/assets/").unwrap();
    let href = page.body[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let css = t.get(&href);
    css.assert_status(200).assert_contains("--brand");
    assert!(css.header("Content-Type").unwrap().starts_with("text/css"));
    assert!(css.header("Cache-Control").unwrap().contains("immutable"));
    t.get("/assets/x/nope.css").assert_status(404);
}

#[test]
fn two_people_editing_one_ticket_do_not_undo_each_other() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Shared ticket", "");
    let path = format!("/tickets/{r}/update");
    // Both open the page while the ticket is Open / Normal; A changes the status, then B (with
    // the same, now stale, form) changes the priority.
    let orig = [
        ("orig_status", "open"),
        ("orig_priority", "normal"),
        ("orig_assignee", ""),
        ("orig_expected_by", ""),
    ];
    let mut a: Vec<(&str, &str)> = vec![
        ("status", "resolved"),
        ("priority", "normal"),
        ("assignee", ""),
        ("expected_by", ""),
    ];
    a.extend(orig);
    t.post(&path, &a).assert_status(303);
    let mut b: Vec<(&str, &str)> = vec![
        ("status", "open"),
        ("priority", "urgent"),
        ("assignee", ""),
        ("expected_by", ""),
    ];
    b.extend(orig);
    t.post(&path, &b).assert_status(303);
    let page = t.get(&format!("/tickets/{r}"));
    page.assert_contains("changed the status from Open to <strong>Resolved</strong>");
    page.assert_contains("changed the priority from Normal to <strong>Urgent</strong>");
    page.assert_lacks("from Resolved to");
    t.get("/?status=resolved").assert_contains("Shared ticket");
}

#[test]
fn a_deactivated_assignee_survives_an_unrelated_change() {
    let mut t = TestApp::admin();
    t.add_staff("bo@example.com", "Bo Leaving", Role::Agent);
    let bo = porchlight::store::staff::get_by_email(&t.db, "bo@example.com")
        .unwrap()
        .unwrap()
        .id
        .to_string();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Assigned ticket", "");
    let path = format!("/tickets/{r}/update");
    t.post(
        &path,
        &[
            ("status", "open"),
            ("priority", "normal"),
            ("assignee", &bo),
            ("expected_by", ""),
        ],
    )
    .assert_status(303);
    t.post(&format!("/staff/{bo}/deactivate"), &[("confirm", "yes")])
        .assert_status(303);
    // The page still offers (and selects) the deactivated assignee…
    let page = t.get(&format!("/tickets/{r}"));
    page.assert_contains(&format!(
        "<option value=\"{bo}\" selected>Bo Leaving (deactivated)</option>"
    ));
    // …so submitting the form as shown, with only the status changed, keeps them.
    let orig = [
        ("orig_status", "open"),
        ("orig_priority", "normal"),
        ("orig_assignee", bo.as_str()),
        ("orig_expected_by", ""),
    ];
    let mut form: Vec<(&str, &str)> = vec![
        ("status", "pending"),
        ("priority", "normal"),
        ("assignee", &bo),
        ("expected_by", ""),
    ];
    form.extend(orig);
    t.post(&path, &form).assert_status(303);
    let page = t.get(&format!("/tickets/{r}"));
    page.assert_contains("to <strong>Pending</strong>")
        .assert_lacks("unassigned");
}

#[test]
fn a_refused_form_shows_what_was_typed() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Ticket", "");
    // The form's token no longer matches (e.g. signed in again in another tab).
    let page = t.post_raw(
        &format!("/tickets/{r}/reply"),
        &[
            ("csrf_token", "stale"),
            ("reply", "A long careful answer to the client"),
        ],
    );
    page.assert_status(403)
        .assert_contains("What you typed")
        .assert_contains(">A long careful answer to the client</textarea>");
    // The session ended: nothing saved, the text is still offered back.
    let token = porchlight::auth::csrf::token_for(&t.cookies["pl_csrf"]);
    t.cookies.remove("pl_staff");
    let page = t.post_raw(
        &format!("/tickets/{r}/note"),
        &[("csrf_token", &token), ("note", "Notes from the call")],
    );
    page.assert_status(403)
        .assert_contains("nothing was saved")
        .assert_contains(">Notes from the call</textarea>");
}

#[test]
fn backup_completes_while_the_database_is_written_and_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let project = porchlight::store::projects::get_by_key(&t.db, "ACME")
        .unwrap()
        .unwrap()
        .id;
    let store = t.app.store.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let db = store.connect().unwrap();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let subject = format!("written during the backup {n}");
                let new = crate::util::plain_ticket(project, &subject, "x");
                db.write(|tx| porchlight::store::tickets::insert(tx, &new))
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = t.data_dir().join("copy.sqlite3");
    t.db.backup_to(&out)
        .expect("the backup finishes while writes go on");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the copy holds password hashes: owner only");
    let conn = rusqlite::Connection::open(&out).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// #12: `--tickets 2000` made 2001, titles ended in "(#N)" that did not match the reference, and
/// one client's people were the requesters on another client's tickets.
#[test]
fn the_demo_makes_what_it_says() {
    let t = TestApp::new();
    let guide = porchlight::demo::ensure(&t.app, &t.db, 40).unwrap();
    assert!(guide.receipt.is_some());
    let inbox = porchlight::store::tickets::list(
        &t.db,
        &porchlight::store::tickets::TicketFilter::default(),
        porchlight::store::paging::Seek::First,
        1000,
    )
    .unwrap()
    .rows;
    let in_project = |key: &str| {
        inbox
            .iter()
            .filter(|row| row.reference.starts_with(&format!("{key}-")))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        in_project("ACME").len(),
        40,
        "exactly the tickets asked for"
    );
    for row in &inbox {
        assert!(!row.subject.contains("(#"), "{}", row.subject);
    }
    // #15/#16: a portal with contacts, and a portal ticket with files (one internal).
    let portal = porchlight::store::portals::get_by_slug(&t.db, "clients")
        .unwrap()
        .unwrap();
    assert!(portal.enabled && portal.default_project_id.is_some());
    for email in [
        "wile@acme.example",
        "beep@acme.example",
        "hank@globex.example",
    ] {
        let c = porchlight::store::contacts::get_by_email(&t.db, email)
            .unwrap()
            .unwrap();
        assert_eq!(
            c.status,
            porchlight::domain::ContactStatus::Active,
            "{email}"
        );
    }
    let with_files = porchlight::store::tickets::get_by_ref(&t.db, "ACME", 3)
        .unwrap()
        .unwrap();
    assert!(with_files.contact_id.is_some());
    let files = porchlight::store::attachments::for_ticket(&t.db, with_files.id, true).unwrap();
    assert_eq!(files.len(), 3);
    assert!(files.iter().any(|f| f.inline_image) && files.iter().any(|f| f.internal));
    for f in &files {
        assert!(
            t.data_dir().join("files").join(&f.sha256).exists(),
            "{}",
            f.name
        );
    }
    for (key, domain) in [
        ("ACME", "@acme.example"),
        ("GLOBEX", "@globex.example"),
        ("INIT", "@initech.example"),
    ] {
        for row in in_project(key) {
            if let Some(email) = &row.requester_email {
                assert!(
                    email.ends_with(domain),
                    "{} requested by {email}",
                    row.reference
                );
            }
        }
    }
}

/// #18 (first step): a browser's request for the icon gets the icon, not the staff sign-in.
#[test]
fn the_favicon_is_an_icon_for_everyone() {
    let mut t = TestApp::new();
    let r = t.get("/favicon.ico");
    assert_eq!(r.status, 301);
    let to = r.location().to_string();
    assert!(
        to.starts_with("/assets/") && to.ends_with("/favicon.svg"),
        "{to}"
    );
    let icon = t.get(&to);
    icon.assert_status(200);
    assert_eq!(icon.header("Content-Type"), Some("image/svg+xml"));
    t.get("/login").assert_contains("favicon.svg");
}

/// #18 (first step): the projects list's numbers are what their links show.
#[test]
fn project_counts_mean_one_thing_everywhere() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    for n in 0..3 {
        t.create_ticket("ACME", &format!("Ticket {n}"), "x");
    }
    t.post(
        "/tickets/ACME-1/update",
        &[
            ("status", "resolved"),
            ("priority", "normal"),
            ("assignee", ""),
            ("expected_by", ""),
        ],
    );
    let list = t.get("/projects");
    list.assert_contains("Unresolved")
        .assert_contains("<a href=\"/projects/ACME\">2</a>")
        .assert_contains("<a href=\"/?project=ACME\">3</a>");
    // The inbox the total links to counts the same 3 under "All".
    t.get("/?project=ACME")
        .assert_contains("All <span class=\"count\">3</span>");
}

/// #18 (first step): one composer, two tabs that work without JavaScript.
#[test]
fn the_composer_shows_the_reply_or_the_note() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    let r = t.create_ticket("ACME", "Composer", "x");
    let hidden = |body: &str, id: &str| {
        let tag = body
            .split(&format!("<form id=\"{id}\""))
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap()
            .to_string();
        tag.contains(" hidden")
    };
    let page = t.get(&format!("/tickets/{r}"));
    assert!(!hidden(&page.body, "reply") && hidden(&page.body, "note"));
    // Times carry their instant for the browser to show in the reader's zone.
    page.assert_contains("<time datetime=\"20")
        .assert_contains("Z\">");
    let page = t.get(&format!("/tickets/{r}?compose=note"));
    assert!(hidden(&page.body, "reply") && !hidden(&page.body, "note"));
    // A refused note comes back on its own tab, with its text.
    let page = t.post(
        &format!("/tickets/{r}/note"),
        &[("note", &"x".repeat(60_000))],
    );
    page.assert_status(422);
    assert!(hidden(&page.body, "reply") && !hidden(&page.body, "note"));
    // After saving a note, the page opens on the note tab again.
    let saved = t.post(&format!("/tickets/{r}/note"), &[("note", "ok")]);
    assert!(
        saved.location().contains("compose=note"),
        "{}",
        saved.location()
    );
}

/// #18 (first step): a form that comes back lists its problems at the top, each a link to its
/// field (the summary takes the focus in a browser).
#[test]
fn a_refused_form_summarises_its_problems() {
    let mut t = TestApp::admin();
    let r = t.post(
        "/projects/new",
        &[("name", ""), ("key", "bad key"), ("description", "")],
    );
    r.assert_status(422)
        .assert_contains("class=\"error-summary\"")
        .assert_contains("There are 2 problems")
        .assert_contains("<a href=\"#f-name\">")
        .assert_contains("<a href=\"#f-key\">");
}

/// #18 (first step): a list that fits on one page shows its count, not links that go nowhere.
#[test]
fn a_single_page_has_no_dead_page_links() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.create_ticket("ACME", "Only one", "x");
    t.get("/")
        .assert_contains("1 ticket<")
        .assert_lacks("← Newer")
        .assert_lacks("Older →");
}
