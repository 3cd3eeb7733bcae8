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
    let board = b.wait_for(".board-table");
    assert!(
        board.contains("ACME-1")
            && board.contains("The checkout button does nothing")
            && board.contains("Open"),
        "{board}"
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
}
