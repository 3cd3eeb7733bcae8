//! Issue #18's lasting check: every staff and client page of a demo workspace, at a phone's and
//! a desktop's width, in light and in dark: no page-level sideways scroll, and axe-core (vendored,
//! all its default rules) reports no violation. A screenshot of each is written to the folder
//! this test prints, so a reviewer can look at them.

use std::path::{Path, PathBuf};

use crate::chromium::Browser;
use crate::util::Server;

const WIDTHS: [(u32, &str); 2] = [(1280, "desktop"), (390, "phone")];

/// Where the screenshots go: `$TEST_SCREENSHOTS` or the target folder's `tmp/pages`.
fn screenshot_dir() -> PathBuf {
    std::env::var_os("TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages"))
}

/// Checks the page the browser shows at both widths; problems are added to `faults`.
fn check(b: &Browser, dir: &Path, scheme: &str, name: &str, faults: &mut Vec<String>) {
    for (width, label) in WIDTHS {
        b.resize(width, 900);
        let wide = b.overflow_x();
        if wide > 0 {
            faults.push(format!(
                "{name} ({label}, {scheme}): the page scrolls sideways by {wide}px: {}",
                b.wide_elements()
            ));
        }
        // Clients read times in their own zone (app.js), never as UTC.
        if (name.starts_with("share-") || name.starts_with("portal-"))
            && b.script("return document.body.innerText.includes('UTC');")
                == serde_json::json!(true)
        {
            faults.push(format!("{name} ({label}, {scheme}): shows a time in UTC"));
        }
        for v in b.axe() {
            faults.push(format!("{name} ({label}, {scheme}): {v}"));
        }
        let height = b.page_height().clamp(600, 6000);
        b.resize(width, height);
        b.screenshot_to(dir, &format!("{scheme}-{label}-{name}"));
    }
    b.resize(1280, 900);
}

/// The demo's printed share-link path for `project` (e.g. "/s/abc…").
fn share_path(server: &Server, project: &str) -> String {
    let line = server
        .line_with(&format!("  {project}: "))
        .unwrap_or_else(|| panic!("the demo printed no link for {project}"));
    let at = line.find("/s/").expect("a share path");
    line[at..].split_whitespace().next().unwrap().to_string()
}

/// The links after `marker` in the demo's mail folder, oldest mail first.
fn links_in_mail(server: &Server, marker: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(server.dir.join("mail")) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.metadata().and_then(|m| m.modified()).ok());
    let mut links = Vec::new();
    for e in entries {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let text = text.replace("=\r\n", "").replace("=\n", "");
        if text.contains(marker) {
            links.push(
                crate::util::link_path(&text, marker)
                    .unwrap_or_else(|| panic!("no link around {marker} in:\n{text}")),
            );
        }
    }
    links
}

/// Waits (up to 15 s) for a mail with a link after `marker` beyond the `before` already there.
fn new_link_in_mail(server: &Server, marker: &str, before: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let links = links_in_mail(server, marker);
        if links.len() > before {
            return links.last().unwrap().clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new mail with {marker}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Walks every page in one colour scheme; returns the faults found.
fn walk(server: &Server, dark: bool, dir: &Path) -> Vec<String> {
    let scheme = if dark { "dark" } else { "light" };
    let b = Browser::start_with(dark);
    let mut faults = Vec::new();
    let mut page = |b: &Browser, name: &str| check(b, dir, scheme, name, &mut faults);
    let acme = share_path(server, "Acme website redesign");

    // Signed out.
    b.goto(&server.url("/login"));
    b.wait_for("form[action='/login']");
    page(&b, "staff-login");
    b.fill("#f-email", "admin@demo.example");
    b.fill("#f-password", "not the password");
    b.click("form[action='/login'] button[type=submit]");
    b.wait_for(".alert-error");
    page(&b, "staff-login-error");

    // A visitor on the share link.
    b.goto(&server.url(&acme));
    b.wait_for("main h1");
    page(&b, "share-board");
    b.click("a[rel=next]");
    b.wait_for("main h1");
    page(&b, "share-board-older");
    b.goto(&server.url(&format!("{acme}?q=checkout")));
    b.wait_for("main h1");
    page(&b, "share-board-search");
    b.goto(&server.url(&acme));
    b.click(".share-form button[type=submit]");
    b.wait_for(".error-summary");
    page(&b, "share-board-form-error");
    b.fill("#f-title", "The footer overlaps the cookie banner");
    b.fill("#f-description", "On a phone, the banner hides the links.");
    b.fill("#f-email", &format!("visitor-{scheme}@example.com"));
    let before = links_in_mail(server, "/unsubscribe/").len();
    b.click(".share-form button[type=submit]");
    b.wait_for(".bookmark");
    page(&b, "share-receipt");
    let unsubscribe = new_link_in_mail(server, "/unsubscribe/", before);
    b.goto(&server.url(&unsubscribe));
    b.wait_for("main h1");
    page(&b, "share-unsubscribe");
    b.goto(&server.url("/s/not-a-link"));
    b.wait_for("main h1");
    page(&b, "share-not-found");

    // A client on the portal: the manager sees the most.
    let portal = "/portal/clients";
    b.goto(&server.url(&format!("{portal}/login")));
    b.wait_for("#f-email");
    page(&b, "portal-login");
    b.goto(&server.url(&format!("{portal}/reset")));
    b.wait_for("main h1");
    page(&b, "portal-reset");
    let before = links_in_mail(server, "/reset/").len();
    b.fill("#f-email", "beep@acme.example");
    b.click("main form button[type=submit]");
    b.wait_for("main h1");
    page(&b, "portal-reset-sent");
    let reset = new_link_in_mail(server, "/reset/", before);
    b.goto(&server.url(&reset));
    b.wait_for("#f-password");
    page(&b, "portal-reset-password");
    b.goto(&server.url(&format!("{portal}/signup")));
    b.wait_for("main h1");
    page(&b, "portal-signup");
    let before = links_in_mail(server, "/magic/").len();
    b.goto(&server.url(&format!("{portal}/login")));
    b.fill("#f-magic-email", "hank@globex.example");
    b.click(&format!(
        "form[action='{portal}/magic'] button[type=submit]"
    ));
    b.wait_for("main h1");
    let magic = new_link_in_mail(server, "/magic/", before);
    b.goto(&server.url(&magic));
    b.wait_for("main h1");
    page(&b, "portal-magic");
    b.goto(&server.url(&format!("{portal}/login")));
    b.fill("#f-email", "wile@acme.example");
    b.fill("#f-password", "demo-wile-pass");
    b.click(&format!(
        "form[action='{portal}/login'] button[type=submit]"
    ));
    b.wait_for(".activity");
    page(&b, "portal-dashboard");
    b.goto(&server.url(portal));
    b.wait_for("main h1");
    page(&b, "portal-hub");
    b.goto(&server.url(&format!("{portal}/tickets")));
    b.wait_for("main h1");
    page(&b, "portal-tickets");
    b.goto(&server.url(&format!("{portal}/tickets?status=closed")));
    b.wait_for("main h1");
    page(&b, "portal-tickets-closed");
    b.goto(&server.url(&format!("{portal}/tickets")));
    b.click("main td a, main .ticket-list a");
    b.wait_for("#timeline");
    let ticket = b.current_url();
    page(&b, "portal-ticket");
    b.goto(&format!("{ticket}/close"));
    b.wait_for("main h1");
    page(&b, "portal-ticket-close");
    b.goto(&server.url(&format!("{portal}/tickets/new")));
    b.wait_for("#f-subject");
    page(&b, "portal-ticket-new");
    b.click("main form button[type=submit]");
    b.wait_for(".error-summary");
    page(&b, "portal-ticket-new-error");
    b.goto(&server.url(&format!("{portal}/people")));
    b.wait_for("main h1");
    page(&b, "portal-people");
    b.goto(&server.url(&format!("{portal}/profile")));
    b.wait_for("main h1");
    page(&b, "portal-profile");
    b.goto(&server.url(&format!("{portal}/tickets/NOPE-1")));
    b.wait_for("main h1");
    page(&b, "portal-not-found");

    // Staff: every page an admin reaches.
    b.sign_in(server, "admin@demo.example", "demo-admin-pass");
    page(&b, "staff-inbox");
    b.click("a[rel=next]");
    b.wait_for("main h1");
    page(&b, "staff-inbox-older");
    b.goto(&server.url("/?q=checkout"));
    b.wait_for("main h1");
    page(&b, "staff-inbox-search");
    for (path, name) in [
        ("/tickets/ACME-1", "staff-ticket"),
        ("/tickets/ACME-1?compose=note", "staff-ticket-note"),
        ("/tickets/new", "staff-ticket-new"),
        ("/projects", "staff-projects"),
        ("/projects/new", "staff-project-new"),
        ("/projects/ACME", "staff-project"),
        ("/projects/ACME/edit", "staff-project-edit"),
        ("/projects/ACME/archive", "staff-project-archive"),
        ("/projects/ACME/share/regenerate", "staff-share-regenerate"),
        ("/projects/ACME/share/disable", "staff-share-disable"),
        ("/customers", "staff-customers"),
        ("/customers/new", "staff-customer-new"),
        ("/customers/organizations", "staff-organizations"),
        ("/contacts", "staff-contacts"),
        ("/contacts/new", "staff-contact-new"),
        ("/portals", "staff-portals"),
        ("/portals/new", "staff-portal-new"),
        ("/settings", "staff-settings"),
        ("/settings/mail", "staff-mail"),
        ("/settings/audit", "staff-audit"),
        ("/staff", "staff-people"),
        ("/staff/new", "staff-person-new"),
        ("/account", "staff-account"),
        ("/no-such-page", "staff-not-found"),
    ] {
        b.goto(&server.url(path));
        b.wait_for("main h1");
        page(&b, name);
        if name == "staff-customers" {
            b.click("main td a, main .list a");
            b.wait_for("main h1");
            page(&b, "staff-customer");
        } else if name == "staff-contacts" {
            b.click("main td a, main .list a");
            b.wait_for("main h1");
            page(&b, "staff-contact");
        } else if name == "staff-portals" {
            b.click("main td a");
            b.wait_for("#f-slug");
            let portal_page = b.current_url();
            page(&b, "staff-portal");
            b.goto(&format!("{portal_page}/invite"));
            b.wait_for("main h1");
            page(&b, "staff-portal-invite");
            b.goto(&format!("{portal_page}/users"));
            b.wait_for("main h1");
            page(&b, "staff-portal-users");
        } else if name == "staff-settings" {
            // The preview follows the colour as it is typed, before anything is saved.
            let head = "return getComputedStyle(document.querySelector('.brand-preview .share-head')).backgroundColor;";
            b.fill("#f-accent_color", "#7c3aed");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while b.script(head) != serde_json::json!("rgb(124, 58, 237)") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the preview did not take the typed colour: {}",
                    b.script(head)
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            assert_eq!(b.value("#f-accent_picker"), "#7c3aed");
            page(&b, "staff-settings-preview");
        } else if name == "staff-people" {
            b.click("main td a");
            b.wait_for("main h1");
            page(&b, "staff-person");
        } else if name == "staff-ticket-new" {
            b.click("main form.form button[type=submit]");
            b.wait_for(".error-summary");
            page(&b, "staff-ticket-new-error");
        } else if name == "staff-ticket" {
            b.click("#reply button[type=submit]");
            b.wait_for(".error-summary");
            // The address is the ticket's again: reloading shows it, nothing is posted twice.
            let url = b.current_url();
            assert!(
                url.ends_with("/tickets/ACME-1"),
                "after a refused reply the address is {url}"
            );
            page(&b, "staff-ticket-reply-error");
        }
    }
    // Staff viewing the portal as a customer: the banner on a portal page.
    b.goto(&server.url("/customers"));
    b.click("main td a");
    b.wait_for("#view-as-heading");
    b.click("form[action$='/view-as'] button[type=submit]");
    b.wait_for(".view-as-banner");
    page(&b, "portal-view-as");
    b.click(".view-as-banner button");
    b.wait_for("main h1");
    faults
}

/// Every page, both widths, light and dark: no sideways scroll, no axe-core violation.
pub fn every_page_fits_and_passes_axe() {
    let tmp = tempfile::tempdir().unwrap();
    let dir_arg = tmp.path().to_str().unwrap().to_string();
    let server = Server::spawn(
        &[
            "demo",
            "--data-dir",
            &dir_arg,
            "--listen",
            "127.0.0.1:0",
            "--tickets",
            "60",
        ],
        &[],
        tmp.path().to_path_buf(),
    );
    let dir = screenshot_dir();
    let _ = std::fs::remove_dir_all(&dir);
    let mut faults = walk(&server, false, &dir);
    faults.extend(walk(&server, true, &dir));
    // The first-run page, on a workspace of its own.
    let fresh = Server::start(&[]);
    let setup = fresh.line_with("/setup/").expect("setup link printed");
    let setup = &setup[setup.find("http").expect("a setup URL")..];
    for dark in [false, true] {
        let b = Browser::start_with(dark);
        b.goto(setup.trim());
        b.wait_for("#f-password_confirm");
        let scheme = if dark { "dark" } else { "light" };
        check(&b, &dir, scheme, "staff-setup", &mut faults);
    }
    eprintln!("screenshots of every page: {}", dir.display());
    assert!(
        faults.is_empty(),
        "{} problems (screenshots in {}):\n{}",
        faults.len(),
        dir.display(),
        faults.join("\n")
    );
}
