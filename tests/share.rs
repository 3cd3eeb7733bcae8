//! The shareable no-account link (issue #3, seed 000).

use porchlight::domain::Role;

use crate::util::{Resp, TestApp};

/// An admin with project ACME whose link is on; returns the app and the link's path.
fn shared_project() -> (TestApp, String) {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme website");
    let token = enable_link(&mut t, "ACME");
    (t, format!("/s/{token}"))
}

fn enable_link(t: &mut TestApp, key: &str) -> String {
    t.post(&format!("/projects/{key}/share/enable"), &[])
        .assert_status(303);
    token_of(t, key)
}

fn token_of(t: &TestApp, key: &str) -> String {
    porchlight::store::projects::get_by_key(&t.db, key)
        .unwrap()
        .unwrap()
        .share
        .token
        .expect("token")
}

/// Submits feedback as a visitor (a browser with no staff session); returns the receipt path.
fn submit(
    t: &mut TestApp,
    link: &str,
    title: &str,
    description: &str,
    name: &str,
    email: &str,
) -> String {
    let staff = std::mem::take(&mut t.cookies);
    t.get(link).assert_status(200);
    let r = t.post(
        link,
        &[
            ("title", title),
            ("description", description),
            ("name", name),
            ("email", email),
            ("website", ""),
        ],
    );
    t.cookies = staff;
    r.assert_status(303);
    let receipt = r.location().to_string();
    assert!(receipt.starts_with(&format!("{link}/t/")), "{receipt}");
    receipt
}

/// GET as an anonymous visitor, keeping the staff cookies aside.
fn visit(t: &mut TestApp, path: &str) -> Resp {
    let staff = std::mem::take(&mut t.cookies);
    let r = t.get(path);
    t.cookies = staff;
    r
}

fn ticket_ref(receipt_page: &Resp) -> String {
    let at = receipt_page
        .body
        .find("<p class=\"ref\">")
        .expect("reference on the receipt")
        + 15;
    receipt_page.body[at..]
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_visitor_submits_gets_a_receipt_and_sees_the_ticket_on_the_board() {
    let (mut t, link) = shared_project();
    let page = visit(&mut t, &link);
    page.assert_status(200)
        .assert_contains("Acme website")
        .assert_contains("Send feedback");
    page.assert_contains("name=\"title\"")
        .assert_contains("name=\"description\"")
        .assert_contains("name=\"name\"")
        .assert_contains("name=\"email\"");
    assert_eq!(page.header("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(page.header("X-Robots-Tag"), Some("noindex, nofollow"));
    assert_eq!(page.header("Cache-Control"), Some("no-store"));

    let receipt = submit(
        &mut t,
        &link,
        "Checkout button does nothing",
        "On my **phone**",
        "Ana",
        "",
    );
    let r = visit(&mut t, &receipt);
    r.assert_status(200)
        .assert_contains("Checkout button does nothing")
        .assert_contains("<strong>phone</strong>");
    r.assert_contains("Bookmark this page")
        .assert_contains("Open");
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
    let reference = ticket_ref(&r);
    assert_eq!(reference, "ACME-1");

    let board = visit(&mut t, &link);
    board
        .assert_contains("ACME-1")
        .assert_contains("Checkout button does nothing")
        .assert_contains("status-open");
    // Staff see where it came from and who sent it.
    let inbox = t.get("/");
    inbox.assert_contains("Shared link").assert_contains("Ana");
    t.get("/tickets/ACME-1")
        .assert_contains("Shared link")
        .assert_contains("Ana");
}

#[test]
fn leak_test_visitors_see_titles_and_statuses_only() {
    let (mut t, link) = shared_project();
    t.add_staff("agent@example.com", "ASSIGNEE-NAME-MARKER", Role::Agent);
    let agent = porchlight::store::staff::get_by_email(&t.db, "agent@example.com")
        .unwrap()
        .unwrap()
        .id
        .to_string();

    // Visitor A's ticket, with markers everywhere a leak could come from.
    let receipt_a = submit(
        &mut t,
        &link,
        "Title A",
        "DESCRIPTION-A-MARKER",
        "REQUESTER-NAME-A-MARKER",
        "requester-a-marker@example.com",
    );
    // Visitor B's ticket.
    let receipt_b = submit(
        &mut t,
        &link,
        "Title B",
        "DESCRIPTION-B-MARKER",
        "REQUESTER-NAME-B-MARKER",
        "requester-b-marker@example.com",
    );
    // A staff ticket with a description marker.
    t.create_ticket("ACME", "Staff ticket title", "DESCRIPTION-STAFF-MARKER");
    for (reference, n) in [("ACME-1", "A"), ("ACME-2", "B"), ("ACME-3", "S")] {
        t.post(
            &format!("/tickets/{reference}/note"),
            &[("note", &format!("INTERNAL-NOTE-{n}-MARKER"))],
        )
        .assert_status(303);
        t.post(
            &format!("/tickets/{reference}/reply"),
            &[("reply", &format!("PUBLIC-REPLY-{n}-MARKER"))],
        )
        .assert_status(303);
        t.post(
            &format!("/tickets/{reference}/update"),
            &[
                ("status", "pending"),
                ("priority", "urgent"),
                ("assignee", &agent),
                ("expected_by", "2027-01-15"),
            ],
        )
        .assert_status(303);
    }
    // Enough tickets for a second board page.
    for i in 0..55 {
        t.create_ticket("ACME", &format!("Filler {i}"), "DESCRIPTION-FILLER-MARKER");
    }
    let markers = [
        "DESCRIPTION-A-MARKER",
        "DESCRIPTION-B-MARKER",
        "DESCRIPTION-STAFF-MARKER",
        "DESCRIPTION-FILLER-MARKER",
        "INTERNAL-NOTE-A-MARKER",
        "INTERNAL-NOTE-B-MARKER",
        "INTERNAL-NOTE-S-MARKER",
        "PUBLIC-REPLY-A-MARKER",
        "PUBLIC-REPLY-B-MARKER",
        "PUBLIC-REPLY-S-MARKER",
        "REQUESTER-NAME-A-MARKER",
        "REQUESTER-NAME-B-MARKER",
        "requester-a-marker",
        "requester-b-marker",
        "ASSIGNEE-NAME-MARKER",
        "Name of admin@example.com",
        "Urgent",
    ];
    let mut pages: Vec<(String, Vec<&str>)> = Vec::new();
    let mut board_urls = vec![
        link.clone(),
        format!("{link}?page=2"),
        format!("{link}?q=Title"),
        format!("{link}?q=MARKER"),
    ];
    for status in [
        "open",
        "pending",
        "awaiting_reply",
        "on_hold",
        "resolved",
        "closed",
    ] {
        board_urls.push(format!("{link}?status={status}"));
        board_urls.push(format!("{link}?status={status}&page=2"));
    }
    for url in board_urls {
        pages.push((url, vec![]));
    }
    pages.push((
        receipt_a.clone(),
        vec!["DESCRIPTION-A-MARKER", "PUBLIC-REPLY-A-MARKER"],
    ));
    pages.push((
        receipt_b.clone(),
        vec!["DESCRIPTION-B-MARKER", "PUBLIC-REPLY-B-MARKER"],
    ));

    let mut board_total = String::new();
    for (url, allowed) in &pages {
        let page = visit(&mut t, url);
        page.assert_status(200);
        for marker in markers {
            if allowed.contains(&marker) {
                page.assert_contains(marker);
            } else {
                assert!(!page.body.contains(marker), "{marker} leaked on {url}");
            }
        }
        board_total.push_str(&page.body);
    }
    // The board does show what it should: references, titles, statuses, the expected-by date.
    assert!(
        board_total.contains("ACME-1")
            && board_total.contains("Title A")
            && board_total.contains("Pending")
    );
    assert!(board_total.contains("2027-01-15"));
    // The form after a refused submission does not leak either.
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let refused = t.post(&link, &[("title", ""), ("description", "x")]);
    t.cookies = staff;
    refused.assert_status(422);
    for marker in markers {
        assert!(
            !refused.body.contains(marker),
            "{marker} leaked on the refused form"
        );
    }
}

#[test]
fn dead_links_and_foreign_receipts_get_the_same_404() {
    let (mut t, link) = shared_project();
    t.create_project("GLOBEX", "Globex");
    let globex = format!("/s/{}", enable_link(&mut t, "GLOBEX"));
    let receipt = submit(&mut t, &link, "Mine", "text", "", "");
    let receipt_token = receipt.rsplit('/').next().unwrap().to_string();

    let unknown = visit(&mut t, "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    unknown.assert_status(404);
    let cases = [
        ("a malformed token", "/s/nope".to_string()),
        (
            "a receipt through another project's link",
            format!("{globex}/t/{receipt_token}"),
        ),
        ("an unknown receipt", format!("{link}/t/{}", "B".repeat(43))),
        ("a path below a link", format!("{link}/whatever")),
    ];
    for (what, path) in cases {
        let r = visit(&mut t, &path);
        r.assert_status(404);
        assert_eq!(
            r.body, unknown.body,
            "{what} must look exactly like an unknown link"
        );
    }

    // Disabled: 404 at once, for the board and the receipt alike; re-enabled: the same link works.
    t.post("/projects/ACME/share/disable", &[])
        .assert_status(303);
    for path in [&link, &receipt] {
        let r = visit(&mut t, path);
        r.assert_status(404);
        assert_eq!(r.body, unknown.body);
    }
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    visit(&mut t, &link).assert_status(200);

    // Regenerated: the old link and its receipts are dead at once; the new one works.
    t.get("/projects/ACME/share/regenerate")
        .assert_status(200)
        .assert_contains("stops working at once");
    t.post("/projects/ACME/share/regenerate", &[])
        .assert_status(303);
    for path in [&link, &receipt] {
        let r = visit(&mut t, path);
        r.assert_status(404);
        assert_eq!(r.body, unknown.body);
    }
    let fresh = format!("/s/{}", token_of(&t, "ACME"));
    assert_ne!(fresh, link);
    visit(&mut t, &fresh)
        .assert_status(200)
        .assert_contains("Mine");
    visit(&mut t, &format!("{fresh}/t/{receipt_token}"))
        .assert_status(200)
        .assert_contains("Mine");
}

#[test]
fn hidden_tickets_and_public_titles() {
    let (mut t, link) = shared_project();
    t.create_ticket("ACME", "Secret migration plan for Initech", "");
    t.create_ticket("ACME", "Visible thing", "");
    visit(&mut t, &link).assert_contains("Secret migration plan");
    // Rename what visitors see; the internal subject stays.
    t.post(
        "/tickets/ACME-1/sharing",
        &[("shared", "on"), ("public_title", "Data migration")],
    )
    .assert_status(303);
    let board = visit(&mut t, &link);
    board
        .assert_contains("Data migration")
        .assert_lacks("Secret migration plan");
    // Searching for words of the hidden subject finds nothing.
    visit(&mut t, &format!("{link}?q=Initech"))
        .assert_lacks("ACME-1")
        .assert_contains("No tickets match");
    visit(&mut t, &format!("{link}?q=Data")).assert_contains("ACME-1");
    t.get("/tickets/ACME-1")
        .assert_contains("Secret migration plan")
        .assert_contains("set the public title to");
    // Hide it.
    t.post(
        "/tickets/ACME-1/sharing",
        &[("public_title", "Data migration")],
    )
    .assert_status(303);
    let board = visit(&mut t, &link);
    board
        .assert_lacks("ACME-1")
        .assert_lacks("Data migration")
        .assert_contains("Visible thing");
    board.assert_contains("All <span class=\"count\">1</span>");
    t.get("/tickets/ACME-1")
        .assert_contains("hid it from the shared board");
    // An oversized public title is refused beside the field, keeping the text.
    let long = "x".repeat(201);
    t.post(
        "/tickets/ACME-1/sharing",
        &[("shared", "on"), ("public_title", &long)],
    )
    .assert_status(422)
    .assert_contains("Public title is too long");
}

#[test]
fn approval_mode_keeps_new_submissions_off_the_board_until_shown() {
    let (mut t, link) = shared_project();
    t.post(
        "/projects/ACME/share",
        &[
            ("share_submissions", "on"),
            ("share_auto_publish", "approve"),
            ("share_welcome", "Hello **there**"),
            ("share_response_time", "Within a day"),
        ],
    )
    .assert_status(303);
    let page = visit(&mut t, &link);
    page.assert_contains("Hello <strong>there</strong>")
        .assert_contains("Within a day");
    let receipt = submit(&mut t, &link, "Waiting for approval", "text", "", "");
    visit(&mut t, &link).assert_lacks("Waiting for approval");
    // The submitter still sees their own ticket.
    visit(&mut t, &receipt)
        .assert_status(200)
        .assert_contains("Waiting for approval");
    t.get("/").assert_contains("Not on board");
    t.post(
        "/tickets/ACME-1/sharing",
        &[("shared", "on"), ("public_title", "")],
    )
    .assert_status(303);
    visit(&mut t, &link).assert_contains("Waiting for approval");

    // Submissions off: no form, and a POST is refused.
    t.post(
        "/projects/ACME/share",
        &[
            ("share_auto_publish", "now"),
            ("share_welcome", ""),
            ("share_response_time", ""),
        ],
    )
    .assert_status(303);
    let page = visit(&mut t, &link);
    page.assert_lacks("Send feedback")
        .assert_contains("Waiting for approval");
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    t.post(&link, &[("title", "x"), ("description", "y")])
        .assert_status(403)
        .assert_contains("no longer accepts");
    t.cookies = staff;
}

#[test]
fn refused_submissions_keep_the_text_and_say_why() {
    let (mut t, link) = shared_project();
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let long_title = "t".repeat(201);
    let r = t.post(
        &link,
        &[
            ("title", &long_title),
            ("description", "My long story"),
            ("name", "Ana"),
            ("email", "not-an-email"),
        ],
    );
    r.assert_status(422)
        .assert_contains("Title is too long")
        .assert_contains("Enter an email address");
    r.assert_contains(">My long story</textarea>")
        .assert_contains("value=\"Ana\"")
        .assert_contains("value=\"not-an-email\"");
    let r = t.post(&link, &[("title", "Fine"), ("description", "   ")]);
    r.assert_status(422)
        .assert_contains("Description is required")
        .assert_contains("value=\"Fine\"");
    let huge = "d".repeat(20_001);
    t.post(&link, &[("title", "Fine"), ("description", &huge)])
        .assert_status(422)
        .assert_contains("Description is too long");
    // Escaped like everything else.
    let r = t.post(
        &link,
        &[
            ("title", "<script>alert(1)</script>"),
            ("description", "<img src=x onerror=alert(2)>"),
        ],
    );
    r.assert_status(303);
    let receipt = r.location().to_string();
    let page = t.get(&receipt);
    page.assert_lacks("<script>alert")
        .assert_contains("&lt;script&gt;")
        .assert_lacks("onerror");
    t.get(&link)
        .assert_lacks("<script>alert")
        .assert_contains("&lt;script&gt;alert(1)");
    t.cookies = staff;
    // Nothing was created by the refused attempts.
    assert_eq!(t.get("/").body.matches("class=\"ref\"").count(), 1);
}

#[test]
fn the_throttle_triggers_and_says_so() {
    let mut t = TestApp::with_config(|c| c.share.submissions_per_hour = 3);
    t.sign_in_as("admin@example.com", Role::Admin);
    t.create_project("ACME", "Acme");
    let link = format!("/s/{}", enable_link(&mut t, "ACME"));
    for i in 0..3 {
        submit(&mut t, &link, &format!("Feedback {i}"), "text", "", "");
    }
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let r = t.post(
        &link,
        &[("title", "One too many"), ("description", "Keep this text")],
    );
    r.assert_status(429)
        .assert_contains("Please try again in 60 minutes")
        .assert_contains(">Keep this text</textarea>");
    // Another visitor is not affected.
    t.ip = "10.1.2.3".into();
    t.post(&link, &[("title", "Someone else"), ("description", "x")])
        .assert_status(303);
    t.cookies = staff;
}

#[test]
fn the_honeypot_drops_bots_quietly() {
    let (mut t, link) = shared_project();
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let r = t.post(
        &link,
        &[
            ("title", "Cheap pills"),
            ("description", "spam"),
            ("website", "http://spam.example"),
        ],
    );
    r.assert_status(303);
    assert_eq!(r.location(), link);
    t.cookies = staff;
    visit(&mut t, &link).assert_lacks("Cheap pills");
    t.get("/").assert_lacks("Cheap pills");
}

#[test]
fn a_visitor_who_gives_an_email_gets_the_receipt_link_by_email() {
    let (mut t, link) = shared_project();
    let receipt = submit(
        &mut t,
        &link,
        "Please email me",
        "text",
        "Ana",
        "ana@example.com",
    );
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 1);
    let delivered = porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    assert_eq!(delivered, 1);
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 0);
    let dir = t.data_dir().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: ana@example.com"), "{eml}");
    assert!(
        eml.contains("Subject: We received your feedback: ACME-1 Please email me"),
        "{eml}"
    );
    let url = format!("http://127.0.0.1:8080{receipt}");
    // The link may be wrapped by quoted-printable encoding; compare without soft line breaks.
    assert!(
        eml.replace("=\r\n", "").contains(&url),
        "receipt link missing from:\n{eml}"
    );
    // Without an email address, nothing is queued.
    submit(&mut t, &link, "No email", "text", "", "");
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 0);
}

/// Receipt links are timed tokens (their rows go into the table in time order); receipt and
/// unsubscribe links sent before that — plain tokens, stored by their hash — keep opening their
/// pages; a receipt with another time in front opens nothing.
#[test]
fn receipt_links_sent_before_timed_tokens_keep_working() {
    use porchlight::auth::Secret;
    let (mut t, link) = shared_project();
    let receipt = submit(&mut t, &link, "Old link", "text", "Ana", "");
    let token = receipt.rsplit('/').next().unwrap().to_string();
    assert_eq!(token.len(), 54, "{receipt}");
    let ticket = porchlight::store::tickets::get_by_ref(&t.db, "ACME", 1)
        .unwrap()
        .expect("ticket");
    // As a release before timed tokens stored them.
    let (old_receipt, old_unsubscribe) = (Secret::generate(), Secret::generate());
    t.db.write(|tx| {
        porchlight::store::share::add_receipt_token(tx, ticket.id, &old_receipt.hash())?;
        porchlight::store::share::add_unsubscribe_token(tx, ticket.id, &old_unsubscribe.hash())
    })
    .unwrap();
    visit(&mut t, &format!("{link}/t/{}", old_receipt.expose()))
        .assert_status(200)
        .assert_contains("Old link");
    visit(
        &mut t,
        &format!("/unsubscribe/{}", old_unsubscribe.expose()),
    )
    .assert_status(200)
    .assert_contains("ACME-1");
    visit(&mut t, &receipt)
        .assert_status(200)
        .assert_contains("Old link");
    // The same random part behind another time (a token made a moment later).
    let later = Secret::generate_timed();
    let moved = format!("{}{}", &later.expose()[..11], &token[11..]);
    assert_ne!(moved, token);
    visit(&mut t, &format!("{link}/t/{moved}")).assert_status(404);
}

#[test]
fn the_board_filters_searches_counts_and_pages() {
    let (mut t, link) = shared_project();
    for i in 1..=53 {
        t.create_ticket("ACME", &format!("Board item {i:02}"), "");
    }
    t.create_ticket("ACME", "Unique needle", "");
    t.post(
        "/tickets/ACME-54/update",
        &[
            ("status", "resolved"),
            ("priority", "normal"),
            ("assignee", ""),
            ("expected_by", ""),
        ],
    )
    .assert_status(303);
    let board = visit(&mut t, &link);
    board
        .assert_contains("54 tickets")
        .assert_contains("All <span class=\"count\">54</span>");
    board
        .assert_contains("Open <span class=\"count\">53</span>")
        .assert_contains("Resolved <span class=\"count\">1</span>");
    // Twenty a page, newest visible activity first: the just-resolved ticket leads.
    assert_eq!(board.body.matches("<li class=\"ticket-row\"").count(), 20);
    let first = board.body.find("class=\"ticket-list").unwrap();
    assert!(
        board.body[first..].find("Unique needle").unwrap()
            < board.body[first..].find("Board item").unwrap()
    );
    let older = board.link("Older →");
    assert!(older.starts_with(&format!("{link}?at=")), "{older}");
    visit(&mut t, &older)
        .assert_contains("Board item 34")
        .assert_contains("Board item 15")
        .assert_lacks("Board item 35")
        .assert_lacks("Board item 14");
    visit(&mut t, &board.link("Oldest »")).assert_contains("Board item 01");
    visit(&mut t, &format!("{link}?status=resolved"))
        .assert_contains("Unique needle")
        .assert_contains("1 ticket<")
        .assert_lacks("Board item");
    visit(&mut t, &format!("{link}?q=needle"))
        .assert_contains("Unique needle")
        .assert_contains("All <span class=\"count\">1</span>");
    // An internal note does not move a ticket up the board (nothing internal shows, not even as activity).
    t.post("/tickets/ACME-1/note", &[("note", "internal")])
        .assert_status(303);
    let board = visit(&mut t, &link);
    let first = board.body.find("class=\"ticket-list").unwrap();
    assert!(
        board.body[first..].find("Unique needle").unwrap()
            < board.body[first..]
                .find("Board item 01")
                .unwrap_or(usize::MAX)
    );
}

#[test]
fn only_admins_manage_the_link_but_every_staff_member_chooses_what_it_shows() {
    let (mut admin, link) = shared_project();
    admin.create_ticket("ACME", "Agent may hide this", "");
    let password = admin.add_staff("agent@example.com", "Agent", Role::Agent);
    let mut agent = TestApp {
        cookies: Default::default(),
        ..admin
    };
    agent
        .login("agent@example.com", &password)
        .assert_status(303);
    let project = agent.get("/projects/ACME");
    project
        .assert_contains(link.trim_start_matches("/s/"))
        .assert_contains("Only admins can change")
        .assert_lacks("Turn the link off");
    for path in [
        "/projects/ACME/share/enable",
        "/projects/ACME/share/disable",
        "/projects/ACME/share/regenerate",
    ] {
        agent.post(path, &[]).assert_status(403);
    }
    agent
        .post("/projects/ACME/share", &[("share_auto_publish", "approve")])
        .assert_status(403);
    agent
        .get("/projects/ACME/share/regenerate")
        .assert_status(403);
    agent.get("/settings").assert_status(403);
    agent
        .post(
            "/settings",
            &[("agency_name", "Evil"), ("accent_color", "#000000")],
        )
        .assert_status(403);
    assert_eq!(
        token_of(&agent, "ACME"),
        link.trim_start_matches("/s/"),
        "the link is unchanged"
    );
    // Agents can hide a ticket from the board.
    agent
        .post("/tickets/ACME-1/sharing", &[("public_title", "")])
        .assert_status(303);
    visit(&mut agent, &link).assert_lacks("Agent may hide this");
    // Signed out: nothing.
    agent.forget_cookies();
    agent
        .post("/tickets/ACME-1/sharing", &[("shared", "on")])
        .assert_status(403);
    agent
        .post("/projects/ACME/share/disable", &[])
        .assert_status(403);
}

#[test]
fn branding_settings_show_on_share_pages() {
    let (mut t, link) = shared_project();
    let r = t.post(
        "/settings",
        &[("agency_name", ""), ("accent_color", "teal")],
    );
    r.assert_status(422)
        .assert_contains("Agency name is required")
        .assert_contains("Use a colour like");
    t.post(
        "/settings",
        &[
            ("agency_name", "Brightside Studio"),
            ("accent_color", "#0F766E"),
        ],
    )
    .assert_status(303);
    let page = visit(&mut t, &link);
    page.assert_contains("Brightside Studio")
        .assert_contains("/brand/0f766e.css");
    let css = t.get("/brand/0f766e.css");
    css.assert_status(200)
        .assert_contains("--brand: #0f766e")
        .assert_contains("--brand-ink: #ffffff")
        .assert_contains("--brand-link: #0f766e")
        .assert_contains("prefers-color-scheme: dark");
    t.get("/brand/fde68a.css")
        .assert_contains("--brand-ink: #1c1917");
    t.get("/brand/0F766E.css").assert_status(404);
    t.get("/brand/red;}.css").assert_status(404);
}

/// The real binary: the access log never shows a share-link or receipt token, and the outbox
/// thread delivers the receipt email to `data/mail/` on its own.
#[test]
fn tokens_stay_out_of_the_log_and_the_outbox_thread_delivers() {
    use crate::util::{Server, csrf_from, http_agent, http_get, http_post};
    let server = Server::start(&[("PORCHLIGHT_LOG_LEVEL", "info")]);
    crate::util::add_staff_cli(&server, "ada@example.com", "admin", "correct horse");
    let agent = http_agent();
    let (_, page) = http_get(&agent, &server.url("/login"));
    let token = csrf_from(&page);
    http_post(
        &agent,
        &server.url("/login"),
        &[
            ("csrf_token", &token),
            ("email", "ada@example.com"),
            ("password", "correct horse"),
        ],
    );
    let (_, page) = http_get(&agent, &server.url("/projects/new"));
    let token = csrf_from(&page);
    http_post(
        &agent,
        &server.url("/projects/new"),
        &[("csrf_token", &token), ("name", "Acme"), ("key", "ACME")],
    );
    let (status, _, _) = http_post(
        &agent,
        &server.url("/projects/ACME/share/enable"),
        &[("csrf_token", &token)],
    );
    assert_eq!(status, 303);
    let (_, project) = http_get(&agent, &server.url("/projects/ACME"));
    let needle = "id=\"share-url\" type=\"text\" readonly value=\"";
    let at = project.find(needle).expect("share URL on the project page") + needle.len();
    let share_url = project[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let share_token = share_url.rsplit('/').next().unwrap().to_string();

    let visitor = http_agent();
    let (status, page) = http_get(&visitor, &share_url);
    assert_eq!(status, 200);
    let (status, receipt, _) = http_post(
        &visitor,
        &share_url,
        &[
            ("csrf_token", &csrf_from(&page)),
            ("title", "Mail me"),
            ("description", "please"),
            ("email", "ana@example.com"),
            ("website", ""),
        ],
    );
    assert_eq!(status, 303);
    let (status, _) = http_get(&visitor, &server.url(&receipt));
    assert_eq!(status, 200);
    let receipt_token = receipt.rsplit('/').next().unwrap().to_string();

    // The outbox thread writes the message within a few seconds.
    let mail_dir = server.dir.join("mail");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let eml = loop {
        let found = std::fs::read_dir(&mail_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"));
        if let Some(entry) = found {
            break std::fs::read_to_string(entry.path()).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no email delivered to {}",
            mail_dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        eml.replace("=\r\n", "").contains(&receipt_token),
        "the email carries the receipt link"
    );

    let log = server.printed();
    assert!(
        log.contains("GET /s/***"),
        "access log lines for the share link: {log}"
    );
    assert!(log.contains("/s/***/t/***"));
    for secret in [&share_token, &receipt_token] {
        assert!(
            !log.contains(secret.as_str()),
            "a token reached the log:\n{log}"
        );
    }
}

/// A tiny valid PNG (1×1 pixel).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn the_agency_logo_is_uploaded_checked_and_shown_to_visitors() {
    let (mut t, link) = shared_project();
    let fields = [("agency_name", "Brightside"), ("accent_color", "#0f766e")];
    // Not an image we show inline: refused beside the field, the other fields kept.
    let svg: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let r = t.post_multipart("/settings", &fields, &[("logo", "logo.svg", svg)], true);
    r.assert_status(422)
        .assert_contains("Upload a PNG, JPEG or WebP image.")
        .assert_contains("value=\"Brightside\"");
    let mut big = PNG.to_vec();
    big.resize(600 * 1024, 0);
    t.post_multipart("/settings", &fields, &[("logo", "big.png", &big)], true)
        .assert_status(422)
        .assert_contains("use one up to 512 KB");
    // Without the form's token: refused like any other form.
    t.post_multipart("/settings", &fields, &[("logo", "logo.png", PNG)], false)
        .assert_status(403);

    t.post_multipart("/settings", &fields, &[("logo", "logo.png", PNG)], true)
        .assert_status(303);
    let page = visit(&mut t, &link);
    let needle = "<img class=\"logo\" src=\"";
    let at = page.body.find(needle).expect("logo on the share page") + needle.len();
    let src = page.body[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        src.starts_with("/brand/logo/") && src.ends_with(".png"),
        "{src}"
    );
    let logo = t.request("GET", &src, Vec::new(), Vec::new());
    logo.assert_status(200);
    assert_eq!(logo.header("Content-Type"), Some("image/png"));
    assert_eq!(logo.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(logo.bytes, PNG);
    // Saving other settings with an empty file input keeps the logo.
    t.post_multipart(
        "/settings",
        &[
            ("agency_name", "Brightside Studio"),
            ("accent_color", "#0f766e"),
        ],
        &[("logo", "", b"")],
        true,
    )
    .assert_status(303);
    visit(&mut t, &link)
        .assert_contains(&src)
        .assert_contains("Brightside Studio");
    // Only the current logo is served; a removed one is gone.
    t.get(&format!("/brand/logo/{}.png", "a".repeat(64)))
        .assert_status(404);
    t.post_multipart(
        "/settings",
        &[
            ("agency_name", "Brightside Studio"),
            ("accent_color", "#0f766e"),
            ("remove_logo", "on"),
        ],
        &[],
        true,
    )
    .assert_status(303);
    t.get(&src).assert_status(404);
    visit(&mut t, &link)
        .assert_lacks("<img class=\"logo\"")
        .assert_contains("monogram");
}

#[test]
fn only_admins_change_the_logo() {
    let (admin, _) = shared_project();
    let password = admin.add_staff("agent@example.com", "Agent", Role::Agent);
    let mut agent = TestApp {
        cookies: Default::default(),
        ..admin
    };
    agent
        .login("agent@example.com", &password)
        .assert_status(303);
    agent
        .post_multipart(
            "/settings",
            &[("agency_name", "Evil"), ("accent_color", "#000000")],
            &[("logo", "x.png", PNG)],
            true,
        )
        .assert_status(403);
    assert!(
        porchlight::store::settings::branding(&agent.db)
            .unwrap()
            .logo
            .is_none()
    );
}

/// #12: the limit was checked on a read connection and counted in the write, so 40 submissions
/// at once against a limit of 10 got 10–16 through. Exactly 10 may.
#[test]
fn simultaneous_submissions_cannot_exceed_the_limit() {
    let mut t = TestApp::with_config(|c| c.share.submissions_per_hour = 10);
    t.sign_in_as("admin@example.com", Role::Admin);
    t.create_project("ACME", "Acme");
    let link = format!("/s/{}", enable_link(&mut t, "ACME"));
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let requests: Vec<_> = (0..40)
        .map(|i| {
            let title = format!("Burst {i}");
            t.build_post(&link, &[("title", &title), ("description", "x")])
        })
        .collect();
    let barrier = std::sync::Barrier::new(requests.len());
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .map(|req| {
                let (app, barrier) = (&t.app, &barrier);
                scope.spawn(move || {
                    let db = app.store.connect().unwrap();
                    barrier.wait();
                    crate::util::answer(app, &db, req).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        30,
        "{statuses:?}"
    );
    t.cookies = staff;
    let board = t.get("/?project=ACME");
    assert_eq!(board.body.matches("Burst ").count(), 10);
}

/// #12: a multipart body cut before its closing boundary stored a ticket with the cut-off text.
#[test]
fn a_truncated_submission_is_refused_and_stores_nothing() {
    let (mut t, link) = shared_project();
    let staff = std::mem::take(&mut t.cookies);
    t.get(&link);
    let token = porchlight::auth::csrf::token_for(&t.cookies["pl_csrf"]);
    let mut body = String::new();
    for (name, value) in [
        ("csrf_token", token.as_str()),
        ("title", "Cut short"),
        ("description", "The whole description would go on"),
    ] {
        body.push_str(&format!(
            "--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    let cut = body.len() - 12;
    let headers = vec![(
        "Content-Type".to_string(),
        "multipart/form-data; boundary=B".to_string(),
    )];
    let r = t.request(
        "POST",
        &link,
        headers.clone(),
        body.as_bytes()[..cut].to_vec(),
    );
    r.assert_status(400).assert_contains("nothing was saved");
    assert!(
        r.header("X-Content-Type-Options").is_some(),
        "an error page like any other"
    );
    // The same form, complete, goes through: the refusal was about the cut.
    body.push_str("--B--\r\n");
    t.request("POST", &link, headers, body.into_bytes())
        .assert_status(303);
    t.cookies = staff;
    let inbox = t.get("/?project=ACME");
    assert_eq!(inbox.body.matches("Cut short").count(), 1);
}

/// #12: control characters never reach a title or a name.
#[test]
fn control_characters_are_kept_out_of_single_line_fields() {
    let (mut t, link) = shared_project();
    let receipt = submit(
        &mut t,
        &link,
        "Null\0byte\u{7}title\r\nsecond line",
        "Body\0 text\nkeeps its lines",
        "Ana\u{1b}[31m",
        "",
    );
    let page = visit(&mut t, &receipt);
    page.assert_contains("Nullbytetitle  second line")
        .assert_lacks("\0");
    let ticket = t.get("/?project=ACME");
    ticket.assert_contains("Nullbytetitle  second line");
    let r = ticket_ref(&page);
    t.get(&format!("/tickets/{r}"))
        .assert_contains("Ana[31m")
        .assert_lacks("\u{1b}");
}

/// #12: an agent could take a share link offline by archiving its project, although only
/// admins may turn a link off. Now: agents are refused while the link is on; admins confirm.
#[test]
fn archiving_a_project_with_a_live_link_is_an_admin_decision() {
    let (mut t, link) = shared_project();
    let admin = std::mem::take(&mut t.cookies);
    t.sign_in_as("agent@example.com", Role::Agent);
    t.get("/projects/ACME")
        .assert_status(200)
        .assert_contains("only an admin can archive this project")
        .assert_lacks("action=\"/projects/ACME/archive\"");
    t.post("/projects/ACME/archive", &[("confirm", "yes")])
        .assert_status(403)
        .assert_contains("only an admin can turn a link off");
    t.get("/projects/ACME/archive").assert_status(403);
    visit(&mut t, &link).assert_status(200);

    // An admin is asked first, and told the link goes dark.
    let agent = std::mem::replace(&mut t.cookies, admin);
    let r = t.post("/projects/ACME/archive", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/projects/ACME/archive");
    visit(&mut t, &link).assert_status(200);
    t.get("/projects/ACME/archive")
        .assert_status(200)
        .assert_contains("shareable link goes dark");
    t.post("/projects/ACME/archive", &[("confirm", "yes")])
        .assert_status(303);
    visit(&mut t, &link).assert_status(404);
    // Review of #12: an agent could bring the dark link back online by restoring the project.
    let admin = std::mem::replace(&mut t.cookies, agent);
    t.get("/projects/ACME")
        .assert_contains("only an admin can restore it")
        .assert_lacks("action=\"/projects/ACME/unarchive\"");
    t.post("/projects/ACME/unarchive", &[])
        .assert_status(403)
        .assert_contains("back online");
    visit(&mut t, &link).assert_status(404);
    let agent = std::mem::replace(&mut t.cookies, admin);
    t.post("/projects/ACME/unarchive", &[]).assert_status(303);
    visit(&mut t, &link).assert_status(200);

    // With the link off, an agent archives like any other project.
    t.post("/projects/ACME/share/disable", &[])
        .assert_status(303);
    t.cookies = agent;
    t.post("/projects/ACME/archive", &[]).assert_status(303);
    assert!(
        porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .archived
    );
}

/// #12 groundwork: the workspace's branding is the default a link can override, and logos are
/// served by content hash so that several exist side by side.
#[test]
fn a_link_can_have_its_own_colour_and_logo() {
    let (mut t, acme_link) = shared_project();
    t.create_project("GLOBEX", "Globex");
    let globex_link = format!("/s/{}", enable_link(&mut t, "GLOBEX"));
    let fields = [("agency_name", "Brightside"), ("accent_color", "#b45309")];
    t.post_multipart("/settings", &fields, &[("logo", "ws.png", PNG)], true)
        .assert_status(303);
    let workspace_logo = porchlight::store::settings::branding(&t.db)
        .unwrap()
        .logo
        .unwrap();

    // A bad colour comes back with the error beside the field, nothing saved.
    let r = t.post_multipart(
        "/projects/ACME/share/branding",
        &[("share_accent_color", "teal")],
        &[("share_logo", "acme.png", PNG)],
        true,
    );
    r.assert_status(422)
        .assert_contains("Use a colour like #0f766e")
        .assert_contains("value=\"teal\"")
        .assert_contains("Choose the file again");
    // Another image: the same pixels with one more chunk before IEND (bytes after IEND would
    // be dropped with the metadata).
    let mut own_logo = PNG[..PNG.len() - 12].to_vec();
    own_logo.extend_from_slice(b"\0\0\0\x01prVtX\0\0\0\0");
    own_logo.extend_from_slice(&PNG[PNG.len() - 12..]);
    t.post_multipart(
        "/projects/ACME/share/branding",
        &[("share_accent_color", "#0F766E")],
        &[("share_logo", "acme.png", &own_logo)],
        true,
    )
    .assert_status(303);
    let acme = porchlight::store::projects::get_by_key(&t.db, "ACME")
        .unwrap()
        .unwrap();
    let link_logo = acme.share.logo.clone().unwrap();
    assert_ne!(link_logo, workspace_logo);

    let board = visit(&mut t, &acme_link);
    board
        .assert_contains("/brand/0f766e.css")
        .assert_contains(&format!("/brand/logo/{link_logo}"))
        .assert_lacks(&workspace_logo);
    let other = visit(&mut t, &globex_link);
    other
        .assert_contains("/brand/b45309.css")
        .assert_contains(&format!("/brand/logo/{workspace_logo}"));
    // Both logos are served; a file that is no logo in use is not.
    visit(&mut t, &format!("/brand/logo/{link_logo}")).assert_status(200);
    visit(&mut t, &format!("/brand/logo/{workspace_logo}")).assert_status(200);
    visit(&mut t, &format!("/brand/logo/{}.png", "0".repeat(64))).assert_status(404);

    // Back to the workspace's look.
    t.post_multipart(
        "/projects/ACME/share/branding",
        &[("share_accent_color", ""), ("share_logo_reset", "on")],
        &[],
        true,
    )
    .assert_status(303);
    visit(&mut t, &acme_link)
        .assert_contains("/brand/b45309.css")
        .assert_contains(&format!("/brand/logo/{workspace_logo}"));
    visit(&mut t, &format!("/brand/logo/{link_logo}")).assert_status(404);

    // Agents may not change it.
    let admin = std::mem::take(&mut t.cookies);
    t.sign_in_as("agent@example.com", Role::Agent);
    t.post_multipart(
        "/projects/ACME/share/branding",
        &[("share_accent_color", "#000000")],
        &[],
        true,
    )
    .assert_status(403);
    t.cookies = admin;
    assert_eq!(
        porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .share
            .accent_color,
        None
    );
}

/// #18 (first step): a visitor's 404 is the agency's, with no way into the staff workspace.
#[test]
fn a_dead_link_says_so_in_the_agencys_colours() {
    let mut t = TestApp::admin();
    t.post(
        "/settings",
        &[
            ("agency_name", "Brightside Studio"),
            ("accent_color", "#0f766e"),
        ],
    );
    t.cookies.clear();
    let r = t.get(&format!("/s/{}", "x".repeat(43)));
    r.assert_status(404)
        .assert_contains("Brightside Studio")
        .assert_contains("/brand/0f766e.css")
        .assert_lacks("href=\"/\"")
        .assert_lacks("Go to the home page");
    let r = t.get("/portal/nowhere/dashboard");
    r.assert_status(404)
        .assert_contains("Brightside Studio")
        .assert_lacks("href=\"/\"");
}

/// #18 (first step): turning a link off asks first, as regenerating does.
#[test]
fn turning_a_link_off_asks_first() {
    let mut t = TestApp::admin();
    t.create_project("ACME", "Acme");
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    t.get("/projects/ACME")
        .assert_contains("href=\"/projects/ACME/share/disable\"");
    t.get("/projects/ACME/share/disable")
        .assert_status(200)
        .assert_contains("Yes, turn it off");
    let project = porchlight::store::projects::get_by_key(&t.db, "ACME")
        .unwrap()
        .unwrap();
    assert!(project.share.enabled, "asking changed something");
    // A wrong password brings the form back with the focus on the password.
    t.post("/logout", &[]);
    let r = t.post(
        "/login",
        &[("email", "admin@example.com"), ("password", "wrong one")],
    );
    let field = r
        .body
        .split("id=\"f-password\"")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap()
        .to_string();
    assert!(field.contains("autofocus"), "{field}");
}
