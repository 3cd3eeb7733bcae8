//! The stories a person walks through in a browser (issues #2 and #3).

use crate::chromium::Browser;
use crate::util::{Server, add_staff_cli as add_staff};

/// First run in a real browser: the printed setup link creates the admin; then sign out, a
/// wrong password, and signing in lands on the inbox.
pub fn staff_signs_in_and_sees_the_inbox() {
    let browser = Browser::start();
    let server = Server::start(&[]);
    let setup = server
        .line_with("/setup/")
        .expect("setup link printed")
        .trim()
        .to_string();

    browser.goto(&setup);
    browser.wait_for("#f-password_confirm");
    browser.fill("#f-name", "Ada Admin");
    browser.fill("#f-email", "ada@example.com");
    browser.fill("#f-password", "correct horse");
    browser.fill("#f-password_confirm", "correct horse");
    browser.click("button[type=submit]");
    browser.wait_for_text(".flash", "Welcome to Porchlight");
    browser.click("form[action='/logout'] button");
    browser.wait_for("form[action='/login']");
    browser.screenshot("login");

    browser.fill("#f-email", "ada@example.com");
    browser.fill("#f-password", "wrong password");
    browser.click("button[type=submit]");
    let error = browser.wait_for(".alert-error");
    assert!(error.contains("don't match"), "{error}");

    browser.fill("#f-password", "correct horse");
    browser.click("button[type=submit]");
    let tabs = browser.wait_for("nav.tabs");
    assert!(tabs.contains("All"), "{tabs}");
    assert_eq!(browser.wait_for("h1"), "Inbox");
    assert!(browser.source().contains("No projects yet"));
    assert_eq!(browser.current_url(), server.url("/"));
    browser.screenshot("inbox");
}

/// The whole story in a real browser: a visitor submits through the link and lands on the
/// receipt; the ticket is on the board as Open; staff change the status, reply and add an
/// internal note; the visitor's receipt shows the new status and the reply, never the note.
pub fn visitor_submits_and_follows_the_ticket() {
    let b = Browser::start();
    let server = crate::util::Server::start(&[]);
    add_staff(&server, "ada@example.com", "admin", "correct horse");

    // Staff: sign in, create a project, turn its link on.
    b.sign_in(&server, "ada@example.com", "correct horse");
    b.goto(&server.url("/projects/new"));
    b.fill("#f-name", "Acme website");
    b.fill("#f-key", "ACME");
    b.click("form.form button[type=submit]");
    b.wait_for_text(".flash", "Project ACME created");
    b.click("form[action='/projects/ACME/share/enable'] button");
    b.wait_for_text(".flash", "The shareable link is on");
    let share_url = b.value("#share-url");
    assert!(share_url.starts_with(&server.url("/s/")), "{share_url}");
    b.screenshot("share-panel");
    b.click("form[action='/logout'] button");
    b.wait_for("form[action='/login']");

    // Visitor: open the link, submit, land on the receipt.
    b.goto(&share_url);
    b.wait_for("#submit-heading");
    b.fill("#f-title", "The checkout button does nothing");
    b.fill(
        "#f-description",
        "Tapping it on my phone does nothing at all.",
    );
    b.fill("#f-name", "Ana");
    b.click(".share-form button[type=submit]");
    b.wait_for(".bookmark");
    let receipt_url = b.current_url();
    assert!(receipt_url.contains("/t/"), "{receipt_url}");
    let receipt = b.source();
    assert!(receipt.contains("The checkout button does nothing") && receipt.contains("Open"));
    b.screenshot("share-receipt");
    b.click(".crumbs a");
    let board = b.wait_for(".board-list");
    assert!(
        board.contains("ACME-1")
            && board.contains("The checkout button does nothing")
            && board.contains("Open"),
        "{board}"
    );
    // #18: this browser remembers what it sent (localStorage only): listed and marked "Yours".
    let mine = b.wait_for_text("#mine", "ACME-1");
    assert!(mine.contains("The checkout button does nothing"), "{mine}");
    let href = b.attr("#mine a", "href");
    assert!(
        href.contains("/t/") && receipt_url.ends_with(&href),
        "{href}"
    );
    assert!(b.wait_for(".ticket-row.mine").contains("Yours"));
    b.screenshot("share-board-yours");
    // On a shared computer the visitor can make the browser forget it.
    b.click("[data-forget-mine]");
    assert_eq!(
        b.script("return document.getElementById('mine').hidden && !document.querySelector('.ticket-row.mine');"),
        serde_json::json!(true)
    );
    b.goto(&b.current_url());
    b.wait_for(".board-list");
    assert!(
        !b.source().contains("tag-mine"),
        "forgotten, but still marked after a reload"
    );
    b.screenshot("share-board");

    // Staff: status change, public reply, internal note.
    b.sign_in(&server, "ada@example.com", "correct horse");
    b.goto(&server.url("/tickets/ACME-1"));
    b.wait_for("#reply");
    b.select("#f-status", "pending");
    b.click("form[action$='/update'] button[type=submit]");
    b.wait_for_text(".flash", "Ticket updated");
    b.fill(
        "#f-reply",
        "Thanks Ana, we found the cause and a fix ships today.",
    );
    b.click("#reply button[type=submit]");
    b.wait_for_text(".flash", "they see it on their receipt page");
    b.click(".compose-tabs a.tab-note");
    b.wait_for("form#note:not([hidden])");
    b.fill(
        "#f-note",
        "Root cause: the payment script fails on Safari 16.",
    );
    b.click("#note button[type=submit]");
    b.wait_for_text(".flash", "Internal note added");
    b.screenshot("staff-ticket");

    // Visitor: the receipt shows the new status and the reply, not the note.
    b.goto(&receipt_url);
    b.wait_for(".bookmark");
    let receipt = b.source();
    assert!(receipt.contains("Pending"), "status on the receipt");
    assert!(
        receipt.contains("we found the cause and a fix ships today"),
        "public reply on the receipt"
    );
    assert!(
        !receipt.contains("Safari 16"),
        "the internal note leaked to the receipt"
    );
    assert!(!receipt.contains("Ada"), "staff names stay internal");

    // #13: the visitor answers on the receipt page; staff see the client's reply.
    b.fill("#f-reply", "Great, I will test it tonight.");
    b.click("#reply button[type=submit]");
    b.wait_for_text(".flash", "your reply was sent");
    assert!(b.source().contains("Great, I will test it tonight."));
    b.screenshot("share-receipt-reply");
    // (Still signed in as staff in this browser.)
    b.goto(&server.url("/tickets/ACME-1"));
    let reply = b.wait_for(".tag-client");
    assert!(reply.contains("Client"), "{reply}");
    b.goto(&server.url("/settings/mail"));
    b.wait_for("h1");
    assert!(
        b.source().contains("files in"),
        "the Mail page says where mail goes"
    );
    b.screenshot("staff-mail");
    b.goto(&server.url("/account"));
    b.click("input[name=notify_new_tickets]");
    b.click("form[action='/account'] button[type=submit]");
    b.wait_for_text(".flash", "Your email choices were saved");
    b.screenshot("staff-account");
    // #18: on a phone the inbox and the share board are lists, with no sideways scroll.
    b.resize(390, 844);
    for (url, name) in [
        (server.url("/"), "phone-inbox"),
        (share_url.clone(), "phone-share-board"),
    ] {
        b.goto(&url);
        b.wait_for("main h1");
        assert_eq!(b.overflow_x(), 0, "{url} scrolls sideways on a phone");
        b.screenshot(name);
    }
    b.resize(1280, 900);
}

/// Issue #15 in a real browser: staff open a portal with open registration; a client signs up
/// (email confirmation over real SMTP), opens a ticket and sees it on the dashboard; staff reply
/// publicly; the client sees the reply and gets it by email.
pub fn contact_signs_up_and_follows_a_ticket() {
    use crate::smtp::{Security, SmtpServer};
    use std::time::Duration;

    let smtp = SmtpServer::start(Security::Plain, None);
    let port = smtp.addr.port().to_string();
    let b = Browser::start();
    let server = crate::util::Server::start(&[
        ("PORCHLIGHT_MAIL_SMTP_HOST", "127.0.0.1"),
        ("PORCHLIGHT_MAIL_SMTP_PORT", &port),
        ("PORCHLIGHT_MAIL_TLS", "none"),
        (
            "PORCHLIGHT_MAIL_FROM",
            "Brightside <help@brightside.example>",
        ),
    ]);
    add_staff(&server, "ada@example.com", "admin", "correct horse");
    let path_of = |text: &str, needle: &str| -> String {
        crate::util::link_path(text, needle).unwrap_or_else(|| panic!("no {needle} in {text}"))
    };

    // Staff: a project, then a portal anyone may join, whose tickets go to that project.
    b.sign_in(&server, "ada@example.com", "correct horse");
    b.goto(&server.url("/projects/new"));
    b.fill("#f-name", "Acme website");
    b.fill("#f-key", "ACME");
    b.click("form.form button[type=submit]");
    b.wait_for_text(".flash", "Project ACME created");
    b.goto(&server.url("/portals/new"));
    b.wait_for("#f-slug");
    b.fill("#f-name", "Acme support");
    b.fill("#f-slug", "acme");
    b.click("#f-open_registration");
    b.select("#f-default_project", "1");
    b.click("form.form button[type=submit]");
    b.wait_for_text(".flash", "Portal Acme support added");
    b.screenshot("staff-portal");
    b.click("form[action='/logout'] button");
    b.wait_for("form[action='/login']");

    // The client signs up and confirms by email.
    b.goto(&server.url("/portal/acme/signup"));
    b.fill("#f-name", "Ana Client");
    b.fill("#f-email", "ana@client.example");
    b.click("form button[type=submit]");
    b.wait_for_text("h1", "Check your email");
    let mail = smtp.wait_for(1, Duration::from_secs(15));
    let confirm = mail
        .iter()
        .find(|m| m.to == ["ana@client.example"])
        .expect("signup email");
    let link = path_of(&confirm.text(), "/signup/");
    b.goto(&server.url(&link));
    b.wait_for("#f-password_confirm");
    assert_eq!(b.value("#f-name"), "Ana Client");
    b.fill("#f-password", "correct horse battery");
    b.fill("#f-password_confirm", "correct horse battery");
    b.click("form button[type=submit]");
    b.wait_for_text(".flash", "Welcome to Acme support");
    b.screenshot("portal-dashboard-empty");

    // A ticket, then the dashboard lists it.
    b.click(".head-actions a.button");
    b.wait_for("#f-subject");
    b.fill("#f-subject", "Checkout button does nothing");
    b.fill(
        "#f-description",
        "Tapping **Pay** on my phone does nothing.",
    );
    b.select("#f-priority", "high");
    // #16: a screenshot goes with it (a file input takes the file's path).
    let files = tempfile::tempdir().unwrap();
    let shot = files.path().join("screenshot.gif");
    std::fs::write(&shot, b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;").unwrap();
    b.fill("#f-files", shot.to_str().unwrap());
    b.click("form.form button[type=submit]");
    b.wait_for_text(".flash", "your ticket is in");
    assert!(
        b.current_url().ends_with("/portal/acme/tickets/ACME-1"),
        "{}",
        b.current_url()
    );
    b.goto(&server.url("/portal/acme/dashboard"));
    let activity = b.wait_for(".activity");
    assert!(
        activity.contains("Checkout button does nothing"),
        "{activity}"
    );
    b.screenshot("portal-dashboard");

    // Staff reply publicly (their own session, beside the client's).
    b.sign_in(&server, "ada@example.com", "correct horse");
    b.goto(&server.url("/tickets/ACME-1"));
    b.wait_for("#reply");
    assert!(b.source().contains("Ana Client"));
    // The client's screenshot shows as a thumbnail.
    let thumb = b.attr(".description img.thumb", "src");
    assert!(
        thumb.contains("/files/") && thumb.ends_with("screenshot.gif"),
        "{thumb}"
    );
    b.screenshot("staff-ticket-with-files");
    let pdf = files.path().join("fix-report.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 the fix report").unwrap();
    b.fill("#f-reply_files", pdf.to_str().unwrap());
    b.fill("#f-reply", "Found it: a fix ships today.");
    b.click("#reply button[type=submit]");
    b.wait_for_text(".flash", "Reply saved");
    b.click(".compose-tabs a.tab-note");
    b.wait_for("form#note:not([hidden])");
    b.fill("#f-note", "Root cause: Safari payment script.");
    b.click("#note button[type=submit]");
    b.wait_for_text(".flash", "Internal note added");

    // The client sees the reply (never the note) and gets it by email.
    b.goto(&server.url("/portal/acme/tickets/ACME-1"));
    let timeline = b.wait_for("#timeline");
    assert!(
        timeline.contains("Found it: a fix ships today."),
        "{timeline}"
    );
    assert!(
        !b.source().contains("Safari payment script"),
        "an internal note reached the portal"
    );
    // The client downloads staff's PDF: a download, never shown inline.
    let href = b.attr("#timeline a[download]", "href");
    assert!(href.ends_with("fix-report.pdf"), "{href}");
    let (status, disposition, body) = b.fetch(&href);
    assert_eq!(status, 200);
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(body, "%PDF-1.4 the fix report");
    b.screenshot("portal-ticket");
    // On a phone, no portal page scrolls sideways.
    b.resize(390, 844);
    for (path, name) in [
        ("/portal/acme/dashboard", "phone-portal-dashboard"),
        ("/portal/acme/tickets", "phone-portal-tickets"),
        ("/portal/acme/tickets/ACME-1", "phone-portal-ticket"),
        ("/portal/acme/tickets/new", "phone-portal-new"),
        ("/portal/acme/profile", "phone-portal-profile"),
    ] {
        b.goto(&server.url(path));
        b.wait_for("main h1");
        assert_eq!(b.overflow_x(), 0, "{path} scrolls sideways on a phone");
        b.screenshot(name);
    }
    b.resize(1280, 900);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mail = smtp.messages();
        if mail
            .iter()
            .any(|m| m.to == ["ana@client.example"] && m.text().contains("a fix ships today"))
        {
            assert!(
                mail.iter()
                    .all(|m| !m.text().contains("Safari payment script"))
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reply was not emailed: {mail:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // #17: an admin sets the client's Tickets level to View Only from Portal Users; the
    // client's "Create a ticket" button is gone and the create route refuses.
    b.goto(&server.url("/portals"));
    b.click("table a");
    b.wait_for("#f-slug");
    b.click(".head-actions a.button");
    b.wait_for("#defaults-heading");
    let contact = b.attr("input[name=ids]", "value");
    b.select(&format!("#row-{contact}-tickets"), "view");
    b.click(&format!("#row-{contact} button"));
    b.wait_for_text(".flash", "permissions are saved");
    b.screenshot("staff-portal-users");
    b.goto(&server.url("/portal/acme/dashboard"));
    b.wait_for("main h1");
    assert!(
        !b.source().contains("Create a ticket"),
        "the create button is still there"
    );
    b.goto(&server.url("/portal/acme/tickets/new"));
    let refused = b.wait_for("main h1");
    assert_eq!(refused, "Not allowed");
}
