//! Email that really leaves the box (issue #13): SMTP against a real server on loopback
//! (`smtp.rs`), the outbox, notifications to share-link visitors and staff, unsubscribe, the
//! receipt page's reply box, and `porchlight mail test`.

use std::process::Command;
use std::time::Duration;

use porchlight::domain::Role;

use crate::smtp::{Received, Security, SmtpServer};
use crate::util::{Resp, Server, TestApp, binary};

/// An app whose mail goes to `smtp` (plain SMTP on loopback), with an admin signed in and
/// project ACME's link on; returns the link's path.
fn app_mailing_to(smtp: &SmtpServer) -> (TestApp, String) {
    let port = smtp.addr.port();
    let mut t = TestApp::with_config(|c| {
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = port;
        c.mail.tls = "none".into();
        c.mail.from = "Brightside <help@brightside.example>".into();
        c.mail.reply_to = "Support <support@brightside.example>".into();
    });
    t.sign_in_as("admin@example.com", Role::Admin);
    t.create_project("ACME", "Acme website");
    let link = t.turn_share_link_on("ACME");
    (t, link)
}

/// Delivers what is due and returns the messages the server has received since `seen`.
fn deliver(t: &TestApp, smtp: &SmtpServer, seen: usize) -> Vec<Received> {
    porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    let all = smtp.wait_for(seen, Duration::from_secs(5));
    all[seen.min(all.len())..].to_vec()
}

/// Submits through the link as a visitor (no staff cookies); returns the receipt path.
fn submit(t: &mut TestApp, link: &str, fields: &[(&str, &str)]) -> String {
    let staff = std::mem::take(&mut t.cookies);
    t.get(link).assert_status(200);
    let r = t.post(link, fields);
    t.cookies = staff;
    r.assert_status(303);
    r.location().to_string()
}

fn visit(t: &mut TestApp, path: &str) -> Resp {
    let staff = std::mem::take(&mut t.cookies);
    let r = t.get(path);
    t.cookies = staff;
    r
}

/// The path of the first link in `text` that starts with `base` + `prefix`.
fn link_in(text: &str, prefix: &str) -> String {
    let base = "http://127.0.0.1:8080";
    let at = text
        .find(&format!("{base}{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    text[at + base.len()..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap()
        .to_string()
}

fn reference_of(receipt_page: &Resp) -> String {
    let at = receipt_page.body.find("<p class=\"ref\">").unwrap() + 15;
    receipt_page.body[at..]
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// The whole loop by SMTP: receipt, public reply, status change — each with a working receipt
/// link, never an internal note — then one-click unsubscribe stops it.
#[test]
fn a_visitor_who_gave_an_email_follows_the_ticket_by_email() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let (mut t, link) = app_mailing_to(&smtp);
    let receipt = submit(
        &mut t,
        &link,
        &[
            ("title", "Checkout breaks"),
            ("description", "On Safari"),
            ("name", "Vera"),
            ("email", "vera@client.example"),
        ],
    );
    let page = visit(&mut t, &receipt);
    page.assert_contains("We email you when we reply");
    let reference = reference_of(&page);

    let first = deliver(&t, &smtp, 0);
    assert_eq!(first.len(), 1, "{first:?}");
    let mail = &first[0];
    assert_eq!(mail.to, vec!["vera@client.example".to_string()]);
    assert!(mail.header("Subject").unwrap().contains(&reference));
    assert!(
        mail.header("From")
            .unwrap()
            .contains("help@brightside.example")
    );
    assert!(
        mail.header("Reply-To")
            .unwrap()
            .contains("support@brightside.example")
    );
    assert!(mail.header("Message-ID").is_some());
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    let receipt_link = link_in(&mail.text(), "/s/");
    assert_eq!(
        receipt_link, receipt,
        "the emailed link is the receipt page"
    );
    visit(&mut t, &receipt_link).assert_status(200);

    // A public reply is emailed; the staff flash says so.
    let r = t.post(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "Fixed in **today's** release")],
    );
    r.assert_status(303);
    t.get(&format!("/tickets/{reference}"))
        .assert_contains("Reply saved and emailed to vera@client.example.");
    // An internal note is emailed to nobody outside.
    t.post(
        &format!("/tickets/{reference}/note"),
        &[("note", "SECRET-NOTE-MARKER root cause")],
    )
    .assert_status(303);
    let second = deliver(&t, &smtp, 1);
    assert_eq!(second.len(), 1, "{second:?}");
    let reply_mail = &second[0];
    assert!(
        reply_mail.text().contains("Fixed in"),
        "{}",
        reply_mail.text()
    );
    assert!(!reply_mail.data.contains("SECRET-NOTE-MARKER"));
    assert!(
        !reply_mail.data.contains("admin@example.com"),
        "no staff address"
    );
    // Each email carries a receipt link of its own, and it works.
    let own_link = link_in(&reply_mail.text(), "/s/");
    assert_ne!(own_link, receipt);
    visit(&mut t, &own_link)
        .assert_status(200)
        .assert_contains("Fixed in");
    let unsubscribe = reply_mail.header("List-Unsubscribe").unwrap();
    assert_eq!(
        reply_mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );

    // A status change is emailed, with the new status.
    t.set_status(&reference, "open", "resolved");
    let third = deliver(&t, &smtp, 2);
    assert_eq!(third.len(), 1, "{third:?}");
    assert!(third[0].header("Subject").unwrap().contains("Resolved"));

    // The unsubscribe link's secret is its own: it does not open the ticket.
    let path = unsubscribe
        .trim_matches(['<', '>'])
        .trim_start_matches("http://127.0.0.1:8080")
        .to_string();
    let secret = path.trim_start_matches("/unsubscribe/");
    assert!(!receipt.contains(secret) && !own_link.contains(secret));
    visit(&mut t, &format!("{link}/t/{secret}")).assert_status(404);

    // A reply queued but not yet sent when the requester unsubscribes is never sent.
    t.post(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "QUEUED-BEFORE-UNSUBSCRIBE")],
    )
    .assert_status(303);

    // The outbox thread has picked that message up and is sending it ...
    let in_flight = porchlight::store::outbox::due(&t.db, i64::MAX, 10).unwrap();
    assert_eq!(in_flight.len(), 1);

    // One-click unsubscribe: a POST from the mail provider, with no cookie and no form token.
    let staff = std::mem::take(&mut t.cookies);
    let r = t.post_raw(&path, &[("List-Unsubscribe", "One-Click")]);
    r.assert_status(200).assert_contains("No more emails about");
    t.cookies = staff;
    // ... and its attempt fails after the unsubscribe: it is not queued again.
    t.db.write(|tx| {
        porchlight::store::outbox::mark_failed(
            tx,
            in_flight[0].id,
            "timed out",
            porchlight::store::outbox::Next::RetryAt(0),
        )
    })
    .unwrap();
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 0);
    assert!(deliver(&t, &smtp, 3).is_empty(), "queued mail cancelled");
    t.post(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "Anything else?")],
    )
    .assert_status(303);
    t.get(&format!("/tickets/{reference}"))
        .assert_contains("The requester gets no email");
    // The cancelled mail is no sign of trouble, and cannot be sent by retrying it.
    let mail_page = t.get("/settings/mail?state=failed");
    mail_page
        .assert_contains("the requester unsubscribed")
        .assert_lacks("Retry now");
    t.get("/").assert_lacks("Email has been failing");
    assert!(deliver(&t, &smtp, 3).is_empty(), "unsubscribed");
    // The link still works for reading, and an unknown unsubscribe link is a 404.
    visit(&mut t, &own_link).assert_status(200);
    visit(&mut t, &format!("/unsubscribe/{}", "x".repeat(43))).assert_status(404);
}

/// Names and titles cannot add headers or recipients.
#[test]
fn header_injection_in_name_and_title_is_harmless() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let (mut t, link) = app_mailing_to(&smtp);
    submit(
        &mut t,
        &link,
        &[
            ("title", "Hello\r\nBcc: evil@attacker.example\r\nX-Evil: 1"),
            ("description", "x"),
            ("name", "Eve\r\nBcc: evil@attacker.example"),
            ("email", "eve@client.example"),
        ],
    );
    let mail = deliver(&t, &smtp, 0);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["eve@client.example".to_string()]);
    let head = mail[0].data.split("\r\n\r\n").next().unwrap();
    assert!(
        !head.contains("\r\nBcc:") && !head.contains("\r\nX-Evil:"),
        "{head}"
    );
}

/// Staff hear of new tickets (the project's default assignee, else those who asked) and of
/// client replies on their tickets.
#[test]
fn staff_are_told_of_new_tickets_and_client_replies() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let (mut t, link) = app_mailing_to(&smtp);
    // Nobody asked for new-ticket emails yet: a submission tells nobody on the staff.
    submit(&mut t, &link, &[("title", "First"), ("description", "x")]);
    assert!(deliver(&t, &smtp, 0).is_empty());

    // The admin opts in on their account page.
    t.post(
        "/account",
        &[
            ("notify_new_tickets", "on"),
            ("notify_assigned_replies", "on"),
        ],
    )
    .assert_status(303);
    submit(
        &mut t,
        &link,
        &[("title", "Second one"), ("description", "y")],
    );
    let got = deliver(&t, &smtp, 0);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["admin@example.com".to_string()]);
    assert!(got[0].text().contains("Second one"));
    assert!(link_in(&got[0].text(), "/tickets/").starts_with("/tickets/ACME-"));

    // A default assignee gets the project's new tickets (assigned to them) instead.
    t.add_staff("sam@example.com", "Sam", Role::Agent);
    let sam = porchlight::store::staff::get_by_email(&t.db, "sam@example.com")
        .unwrap()
        .unwrap();
    t.post(
        "/projects/ACME/edit",
        &[
            ("name", "Acme website"),
            ("description", ""),
            ("default_assignee", &sam.id.to_string()),
        ],
    )
    .assert_status(303);
    let receipt = submit(
        &mut t,
        &link,
        &[("title", "Third"), ("description", "z"), ("name", "Vera")],
    );
    let got = deliver(&t, &smtp, 1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, vec!["sam@example.com".to_string()]);
    let reference = reference_of(&visit(&mut t, &receipt));
    t.get(&format!("/tickets/{reference}"))
        .assert_contains("Sam");

    // The client answers on the receipt page: Sam (assignee, replies on by default) is told.
    let staff = std::mem::take(&mut t.cookies);
    t.get(&receipt);
    t.post(&receipt, &[("reply", "Here is a screenshot link")])
        .assert_status(303);
    t.cookies = staff;
    let got = deliver(&t, &smtp, 2);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, vec!["sam@example.com".to_string()]);
    assert!(got[0].text().contains("Here is a screenshot link"));
}

/// The receipt page's reply box: stored as the requester's reply, Awaiting Reply goes back to
/// Open, the throttle holds, and another project's link cannot reach the receipt.
#[test]
fn the_receipt_page_takes_a_reply() {
    let mut t = TestApp::with_config(|c| c.share.submissions_per_hour = 3);
    t.sign_in_as("admin@example.com", Role::Admin);
    t.create_project("ACME", "Acme");
    t.create_project("OTHER", "Other");
    t.post("/projects/ACME/share/enable", &[])
        .assert_status(303);
    t.post("/projects/OTHER/share/enable", &[])
        .assert_status(303);
    let token_of = |t: &TestApp, key: &str| {
        porchlight::store::projects::get_by_key(&t.db, key)
            .unwrap()
            .unwrap()
            .share
            .token
            .unwrap()
    };
    let link = format!("/s/{}", token_of(&t, "ACME"));
    let other = format!("/s/{}", token_of(&t, "OTHER"));
    let receipt = submit(
        &mut t,
        &link,
        &[
            ("title", "Question"),
            ("description", "Can you?"),
            ("name", "Vera"),
        ],
    );
    let reference = reference_of(&visit(&mut t, &receipt));
    t.set_status(&reference, "open", "awaiting_reply");

    let staff = std::mem::take(&mut t.cookies);
    let page = t.get(&receipt);
    page.assert_contains("Send reply");
    // Empty: refused beside the field.
    t.post(&receipt, &[("reply", "  ")])
        .assert_status(422)
        .assert_contains("Your reply is required");
    let r = t.post(&receipt, &[("reply", "Yes, *tomorrow* works")]);
    r.assert_status(303);
    assert!(r.location().ends_with("#reply"));
    t.get(&receipt)
        .assert_contains("your reply was sent")
        .assert_contains("<em>tomorrow</em>");
    // Through another project's link: the same 404 as any dead link.
    let foreign = receipt.replacen(&link, &other, 1);
    t.get(&foreign).assert_status(404);
    t.post(&foreign, &[("reply", "sneaky")]).assert_status(404);
    // The throttle counts replies like submissions (1 submission + 1 reply so far, limit 3).
    t.post(&receipt, &[("reply", "third")]).assert_status(303);
    t.post(&receipt, &[("reply", "one too many")])
        .assert_status(429)
        .assert_contains(">one too many</textarea>");
    t.cookies = staff;

    let ticket = t.get(&format!("/tickets/{reference}"));
    ticket
        .assert_contains("Client's reply")
        .assert_contains("Yes, <em>tomorrow</em> works")
        .assert_contains("status-open");
    assert!(
        ticket
            .body
            .contains("from Awaiting Reply to <strong>Open</strong>"),
        "the reopening is on the timeline:\n{}",
        ticket.body
    );
}

/// SMTP down: the submission still succeeds and its email waits; the server comes back, an admin
/// retries (or the back-off does) and it arrives exactly once, with the Message-ID it was given.
#[test]
fn mail_survives_an_smtp_outage_and_is_sent_once() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let addr = smtp.addr;
    let (mut t, link) = app_mailing_to(&smtp);
    smtp.stop();
    submit(
        &mut t,
        &link,
        &[
            ("title", "During the outage"),
            ("description", "x"),
            ("email", "vera@client.example"),
        ],
    );
    porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    let page = t.get("/settings/mail?state=queued");
    page.assert_contains("vera@client.example")
        .assert_contains("could not talk to the SMTP server")
        .assert_contains("Retry now");
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 1);

    let smtp = SmtpServer::start_at(addr, Security::Plain, None);
    let entry = porchlight::store::outbox::list(&t.db, None, None, 1)
        .unwrap()
        .remove(0);
    t.post(&format!("/settings/mail/{}/retry", entry.id), &[])
        .assert_status(303);
    porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    let got = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(smtp.messages().len(), 1, "exactly once");
    t.get("/settings/mail?state=sent")
        .assert_contains("vera@client.example");
    // Agents may not see the Mail page.
    let admin = std::mem::take(&mut t.cookies);
    t.sign_in_as("agent@example.com", Role::Agent);
    t.get("/settings/mail").assert_status(403);
    t.post(&format!("/settings/mail/{}/retry", entry.id), &[])
        .assert_status(403);
    t.cookies = admin;
}

/// Messages that keep failing are given up after `max_attempts`, and admins see a banner.
#[test]
fn failing_mail_is_given_up_and_flagged() {
    let mut t = TestApp::with_config(|c| {
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = 9; // discard: nothing listens
        c.mail.tls = "none".into();
        c.mail.max_attempts = 1;
    });
    t.sign_in_as("admin@example.com", Role::Admin);
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
    submit(
        &mut t,
        &link,
        &[
            ("title", "T"),
            ("description", "x"),
            ("email", "a@client.example"),
        ],
    );
    porchlight::mail::deliver_due(&t.app.mailer, &t.db).unwrap();
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 0);
    t.get("/settings/mail?state=failed")
        .assert_contains("a@client.example")
        .assert_contains("gave up");
    t.get("/")
        .assert_contains("Email has been failing")
        .assert_contains("See the Mail page");
    // Every member of staff is told (clients may be waiting); only admins get the Mail page.
    t.cookies.clear();
    t.sign_in_as("agent@example.com", Role::Agent);
    t.get("/")
        .assert_contains("Email has been failing")
        .assert_contains("Tell an admin")
        .assert_lacks("/settings/mail");
}

/// A mailbox the server says does not exist (550) is given up at once — retrying would only
/// repeat the refusal — while mail to others still goes.
#[test]
fn a_permanent_refusal_is_not_retried() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let (mut t, link) = app_mailing_to(&smtp);
    assert!(t.app.config.mail.max_attempts > 1);
    let fields = |email| {
        [
            ("title", "Broken link"),
            ("description", "x"),
            ("email", email),
        ]
    };
    submit(&mut t, &link, &fields("gone@nowhere.invalid"));
    submit(&mut t, &link, &fields("ana@client.example"));
    let got = deliver(&t, &smtp, 0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, vec!["ana@client.example".to_string()]);
    assert_eq!(porchlight::store::outbox::pending_count(&t.db).unwrap(), 0);
    t.get("/settings/mail?state=failed")
        .assert_contains("gone@nowhere.invalid")
        .assert_contains("refused by the SMTP server");
    // One bad address is not email being down: no banner.
    t.get("/").assert_lacks("Email has been failing");
    // But a server refusing everything (a relay denied, a quota) is: three refusals in an hour.
    submit(&mut t, &link, &fields("also-gone@nowhere.invalid"));
    submit(&mut t, &link, &fields("still-gone@nowhere.invalid"));
    assert!(deliver(&t, &smtp, 1).is_empty());
    t.get("/").assert_contains("Email has been failing");
}

fn mail_test(smtp: &SmtpServer, env: &[(&str, &str)]) -> (bool, String) {
    let port = smtp.addr.port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(binary());
    cmd.args(["mail", "test", "--to", "ops@client.example"])
        .current_dir(dir.path())
        .env_remove("PORCHLIGHT_CONFIG")
        .env("PORCHLIGHT_MAIL_SMTP_HOST", "localhost")
        .env("PORCHLIGHT_MAIL_SMTP_PORT", &port)
        .env("PORCHLIGHT_MAIL_TIMEOUT_SECS", "3");
    if let Some(ca) = &smtp.ca_file {
        cmd.env("PORCHLIGHT_MAIL_SMTP_CA_FILE", ca);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `porchlight mail test` through STARTTLS with a sign-in, through TLS, and the reasons it
/// gives when it fails.
#[test]
fn mail_test_reports_what_the_server_said() {
    let smtp = SmtpServer::start(Security::StartTls, Some(("porchlight", "s3cret")));
    let (ok, out) = mail_test(
        &smtp,
        &[
            ("PORCHLIGHT_MAIL_TLS", "starttls"),
            ("PORCHLIGHT_MAIL_SMTP_USERNAME", "porchlight"),
            ("PORCHLIGHT_MAIL_SMTP_PASSWORD", "s3cret"),
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("Accepted: 250"), "{out}");
    assert!(!out.contains("s3cret"), "the password is never printed");
    let got = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].user.as_deref(), Some("porchlight"));
    assert_eq!(got[0].to, vec!["ops@client.example".to_string()]);

    let (ok, out) = mail_test(
        &smtp,
        &[
            ("PORCHLIGHT_MAIL_SMTP_USERNAME", "porchlight"),
            ("PORCHLIGHT_MAIL_SMTP_PASSWORD", "wrong"),
        ],
    );
    assert!(!ok && out.contains("authentication failed"), "{out}");
    assert!(!out.contains("wrong"), "{out}");

    // The password from a file, as from a systemd credential.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("smtp-password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let (ok, out) = mail_test(
        &smtp,
        &[
            ("PORCHLIGHT_MAIL_SMTP_USERNAME", "porchlight"),
            ("PORCHLIGHT_MAIL_SMTP_PASSWORD_FILE", file.to_str().unwrap()),
        ],
    );
    assert!(ok, "{out}");

    // A certificate the client does not trust: a TLS failure.
    let (ok, out) = mail_test(
        &smtp,
        &[
            ("PORCHLIGHT_MAIL_SMTP_CA_FILE", ""),
            ("PORCHLIGHT_MAIL_SMTP_USERNAME", "porchlight"),
            ("PORCHLIGHT_MAIL_SMTP_PASSWORD", "s3cret"),
        ],
    );
    assert!(!ok && out.contains("TLS"), "{out}");

    let implicit = SmtpServer::start(Security::Tls, None);
    let (ok, out) = mail_test(&implicit, &[("PORCHLIGHT_MAIL_TLS", "tls")]);
    assert!(ok, "{out}");
    assert_eq!(implicit.wait_for(1, Duration::from_secs(5)).len(), 1);

    // STARTTLS required but the server only speaks plain text: refused, nothing sent in clear.
    let plain = SmtpServer::start(Security::Plain, None);
    let (ok, out) = mail_test(&plain, &[]);
    assert!(!ok, "{out}");
    assert!(plain.messages().is_empty());
    let (ok, out) = mail_test(&plain, &[("PORCHLIGHT_MAIL_TLS", "none")]);
    assert!(ok, "{out}");

    // Nobody listening, and a server that never answers.
    let port = plain.addr.port();
    plain.stop();
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = gone.local_addr().unwrap().port();
    let out = Command::new(binary())
        .args(["mail", "test", "--to", "ops@client.example"])
        .env_remove("PORCHLIGHT_CONFIG")
        .env("PORCHLIGHT_MAIL_SMTP_HOST", "127.0.0.1")
        .env("PORCHLIGHT_MAIL_SMTP_PORT", port.to_string())
        .env("PORCHLIGHT_MAIL_TLS", "none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not talk"));
    let out = Command::new(binary())
        .args(["mail", "test", "--to", "ops@client.example"])
        .env_remove("PORCHLIGHT_CONFIG")
        .env("PORCHLIGHT_MAIL_SMTP_HOST", "127.0.0.1")
        .env("PORCHLIGHT_MAIL_SMTP_PORT", silent_port.to_string())
        .env("PORCHLIGHT_MAIL_TLS", "none")
        .env("PORCHLIGHT_MAIL_TIMEOUT_SECS", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timed out"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(gone);
}

/// The real server with SMTP down: submissions succeed, the email waits; the server is killed
/// (-9) and restarted; the SMTP server comes back; an admin retries; it arrives exactly once.
#[test]
fn a_kill_between_queueing_and_sending_loses_nothing() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let smtp_addr = smtp.addr;
    smtp.stop();
    let env = [
        ("PORCHLIGHT_MAIL_SMTP_HOST", "127.0.0.1".to_string()),
        ("PORCHLIGHT_MAIL_SMTP_PORT", smtp_addr.port().to_string()),
        ("PORCHLIGHT_MAIL_TLS", "none".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = Server::start(&env);
    crate::util::add_staff_cli(&server, "ada@example.com", "admin", "correct horse");
    let sign_in = |agent: &ureq::Agent, server: &Server| {
        let (_, page) = crate::util::http_get(agent, &server.url("/login"));
        let token = crate::util::csrf_from(&page);
        crate::util::http_post(
            agent,
            &server.url("/login"),
            &[
                ("csrf_token", &token),
                ("email", "ada@example.com"),
                ("password", "correct horse"),
            ],
        );
    };
    let agent = crate::util::http_agent();
    sign_in(&agent, &server);
    let form_token = |server: &Server, path: &str| {
        crate::util::csrf_from(&crate::util::http_get(&agent, &server.url(path)).1)
    };
    let token = form_token(&server, "/projects/new");
    crate::util::http_post(
        &agent,
        &server.url("/projects/new"),
        &[("csrf_token", &token), ("name", "Acme"), ("key", "ACME")],
    );
    let token = form_token(&server, "/projects/ACME");
    crate::util::http_post(
        &agent,
        &server.url("/projects/ACME/share/enable"),
        &[("csrf_token", &token)],
    );
    let (_, project_page) = crate::util::http_get(&agent, &server.url("/projects/ACME"));
    // The link as the page shows it (HTML-escaped, `/` as `&#x2f;`), made a path again.
    let shown = project_page.replace("&#x2f;", "/");
    let at = shown
        .find("/s/")
        .unwrap_or_else(|| panic!("no share link on:\n{project_page}"));
    let link = shown[at..].split('"').next().unwrap().to_string();
    let visitor = crate::util::http_agent();
    let (_, board) = crate::util::http_get(&visitor, &server.url(&link));
    let (status, _, _) = crate::util::http_post(
        &visitor,
        &server.url(&link),
        &[
            ("csrf_token", &crate::util::csrf_from(&board)),
            ("title", "Sent during an outage"),
            ("description", "x"),
            ("email", "vera@client.example"),
        ],
    );
    assert_eq!(status, 303, "the submission succeeds with SMTP down");
    // Let the outbox try (and fail) once, then kill the server without warning.
    std::thread::sleep(Duration::from_millis(2500));
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let smtp = SmtpServer::start_at(smtp_addr, Security::Plain, None);
    let dir = server.dir.clone();
    let data_dir = dir.to_str().unwrap().to_string();
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data-dir"];
    args.push(&data_dir);
    let server2 = Server::spawn(&args, &env, dir);
    // A new browser: cookies go by host, not port, and the old session is in the same data.
    let agent = crate::util::http_agent();
    sign_in(&agent, &server2);
    let (_, mail_page) = crate::util::http_get(&agent, &server2.url("/settings/mail"));
    let mail_page = mail_page.replace("&#x2f;", "/");
    assert!(mail_page.contains("vera@client.example"), "{mail_page}");
    let at = mail_page.find("/settings/mail/").unwrap();
    let retry = mail_page[at..].split('"').next().unwrap().to_string();
    let token = crate::util::csrf_from(&mail_page);
    crate::util::http_post(&agent, &server2.url(&retry), &[("csrf_token", &token)]);
    let got = smtp.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "delivered after the restart");
    assert!(
        got[0]
            .header("Subject")
            .unwrap()
            .contains("Sent during an outage")
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(smtp.messages().len(), 1, "exactly once");
    drop(server);
}

/// #18: with no `mail.from`, mail comes from the agency's name (Settings) at `noreply@` the
/// public URL's host — never from `porchlight@localhost`.
#[test]
fn mail_comes_from_the_agency_when_no_sender_is_configured() {
    let smtp = SmtpServer::start(Security::Plain, None);
    let port = smtp.addr.port();
    let mut t = TestApp::with_config(|c| {
        c.base_url = "http://help.brightside.example:8080".into();
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = port;
        c.mail.tls = "none".into();
    });
    assert!(t.app.config.mail.from.is_empty(), "the default is empty");
    t.sign_in_as("admin@example.com", Role::Admin);
    t.post(
        "/settings",
        &[
            ("agency_name", "Brightside Studio"),
            ("accent_color", "#0f766e"),
        ],
    )
    .assert_status(303);
    t.create_project("ACME", "Acme website");
    let link = t.turn_share_link_on("ACME");
    submit(
        &mut t,
        &link,
        &[
            ("title", "Hello"),
            ("description", "Is this on?"),
            ("email", "ana@example.com"),
        ],
    );
    let mail = deliver(&t, &smtp, 0);
    let receipt = mail
        .iter()
        .find(|m| m.to == ["ana@example.com"])
        .expect("the receipt email");
    assert_eq!(
        receipt.header("From").as_deref(),
        Some("\"Brightside Studio\" <noreply@help.brightside.example>")
    );
    assert_eq!(receipt.from, "noreply@help.brightside.example");
}
