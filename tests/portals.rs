//! Signed-in portals (issue #15): invitations, sign-in with a password or a magic link,
//! signup, reset, contact sessions apart from staff sessions, the contact's tickets, isolation
//! between contacts, customers and portals, and answers that never tell whether an account
//! exists. Email goes through a real SMTP server on loopback.

use std::collections::HashMap;
use std::time::Duration;

use porchlight::domain::Role;

use crate::smtp::{Received, Security, SmtpServer};
use crate::util::{Resp, TestApp};

/// The workspace: admin signed in (`t.cookies`), project ACME, customers Acme (acme.example)
/// and Beta (beta.example), portal `acme` (Acme's, invitations, tickets go to ACME) and portal
/// `beta` (Beta's).
struct World {
    t: TestApp,
    smtp: SmtpServer,
    seen: usize,
    staff: HashMap<String, String>,
    acme: i64,
    beta: i64,
    acme_portal: i64,
}

impl World {
    fn new() -> World {
        let smtp = SmtpServer::start(Security::Plain, None);
        let port = smtp.addr.port();
        let mut t = TestApp::with_config(|c| {
            c.mail.smtp_host = "127.0.0.1".into();
            c.mail.smtp_port = port;
            c.mail.tls = "none".into();
            c.mail.from = "Brightside <help@brightside.example>".into();
        });
        t.sign_in_as("admin@example.com", Role::Admin);
        t.create_project("ACME", "Acme website");
        let acme = add_customer(&mut t, "Acme Co", "acme.example");
        let beta = add_customer(&mut t, "Beta Ltd", "beta.example");
        let project = porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .id
            .0
            .to_string();
        let acme_portal = add_portal(&mut t, "Acme support", "acme", &project, &[acme], &[]);
        add_portal(&mut t, "Beta support", "beta", &project, &[beta], &[]);
        let staff = t.cookies.clone();
        World {
            t,
            smtp,
            seen: 0,
            staff,
            acme,
            beta,
            acme_portal,
        }
    }

    /// Delivers what is due and returns the new messages.
    fn mail(&mut self) -> Vec<Received> {
        porchlight::mail::deliver_due(&self.t.app.mailer, &self.t.db).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let all = self.smtp.messages();
        let new = all[self.seen.min(all.len())..].to_vec();
        self.seen = all.len();
        new
    }

    /// The one new message to `to`.
    fn mail_to(&mut self, to: &str) -> Received {
        let new = self.mail();
        let mine: Vec<_> = new
            .into_iter()
            .filter(|m| m.to.iter().any(|r| r == to))
            .collect();
        assert_eq!(mine.len(), 1, "expected one message to {to}, got {mine:?}");
        mine.into_iter().next().unwrap()
    }

    /// Acts as a fresh browser (or the one in `jar`) and returns its cookies afterwards.
    fn as_browser<T>(
        &mut self,
        jar: &mut HashMap<String, String>,
        f: impl FnOnce(&mut TestApp) -> T,
    ) -> T {
        let staff = std::mem::replace(&mut self.t.cookies, std::mem::take(jar));
        let out = f(&mut self.t);
        *jar = std::mem::replace(&mut self.t.cookies, staff);
        out
    }

    /// Adds a contact through the staff pages, invites them to `portal`, and accepts the
    /// invitation in a new browser with `password`; returns that browser's cookies.
    fn contact(
        &mut self,
        email: &str,
        name: &str,
        customer: Option<i64>,
        role: &str,
        portal: i64,
    ) -> HashMap<String, String> {
        let customer = customer.map(|c| c.to_string()).unwrap_or_default();
        let portal = portal.to_string();
        self.t
            .post(
                "/contacts/new",
                &[
                    ("name", name),
                    ("email", email),
                    ("customer", &customer),
                    ("role", role),
                    ("label", "primary"),
                    ("invite", "1"),
                    ("portal", &portal),
                ],
            )
            .assert_status(303);
        let invite = self.mail_to(email);
        let link = link_in(&invite.text(), "/invite/");
        let mut jar = HashMap::new();
        self.as_browser(&mut jar, |t| {
            t.get(&link)
                .assert_status(200)
                .assert_contains("Choose a password");
            let r = t.post(
                &link,
                &[
                    ("name", name),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse battery"),
                ],
            );
            r.assert_status(303);
            assert!(r.location().ends_with("/dashboard"), "{}", r.location());
        });
        jar
    }
}

fn add_customer(t: &mut TestApp, name: &str, domain: &str) -> i64 {
    let r = t.post(
        "/customers/new",
        &[("name", name), ("organization", ""), ("domains", domain)],
    );
    r.assert_status(303);
    r.location()
        .trim_start_matches("/customers/")
        .parse()
        .unwrap()
}

fn add_portal(
    t: &mut TestApp,
    name: &str,
    slug: &str,
    project: &str,
    customers: &[i64],
    extra: &[(&str, &str)],
) -> i64 {
    let ids: Vec<String> = customers.iter().map(|c| c.to_string()).collect();
    let mut fields = vec![
        ("name", name),
        ("slug", slug),
        ("enabled", "1"),
        ("allow_invites", "1"),
        ("default_project", project),
        ("welcome", "Welcome to support."),
        ("response_time", "We answer within a day."),
    ];
    for id in &ids {
        fields.push(("customers", id));
    }
    fields.extend_from_slice(extra);
    let r = t.post("/portals/new", &fields);
    r.assert_status(303);
    r.location()
        .trim_start_matches("/portals/")
        .parse()
        .unwrap()
}

/// The path of the first link in `text` containing `needle`.
fn link_in(text: &str, needle: &str) -> String {
    crate::util::link_path(text, needle).unwrap_or_else(|| panic!("no {needle} link in:\n{text}"))
}

/// A page's text without what differs between any two requests (CSRF tokens).
fn stable(r: &Resp) -> String {
    stable_text(&r.body)
}

fn stable_text(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("name=\"csrf_token\" value=\"") {
        out.push_str(&rest[..i]);
        rest = &rest[i + 25..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

fn reference_from(r: &Resp) -> String {
    r.location().rsplit('/').next().unwrap().to_string()
}

#[test]
fn an_invited_contact_signs_up_opens_a_ticket_and_follows_the_reply() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    // The invitation survives a mail scanner's GET, then works once.
    w.t.post(
        "/contacts/new",
        &[
            ("name", "Ana Acme"),
            ("email", "ana@acme.example"),
            ("customer", &acme.to_string()),
            ("role", "member"),
            ("label", "primary"),
            ("invite", "1"),
            ("portal", &portal.to_string()),
        ],
    )
    .assert_status(303);
    let invite = w.mail_to("ana@acme.example");
    assert!(
        invite.text().contains("invites you to Acme support"),
        "{}",
        invite.text()
    );
    let link = link_in(&invite.text(), "/invite/");
    let mut ana = HashMap::new();
    let reference = w.as_browser(&mut ana, |t| {
        t.get(&link).assert_status(200);
        t.get(&link)
            .assert_status(200)
            .assert_contains("ana@acme.example");
        // A mistake keeps the name and says what is wrong beside the field.
        t.post(
            &link,
            &[
                ("name", "Ana A."),
                ("password", "correct horse battery"),
                ("password_confirm", "other"),
            ],
        )
        .assert_status(422)
        .assert_contains("The two passwords differ")
        .assert_contains("value=\"Ana A.\"");
        t.post(
            &link,
            &[
                ("name", "Ana A."),
                ("password", "password1"),
                ("password_confirm", "password1"),
            ],
        )
        .assert_status(422)
        .assert_contains("most common");
        t.post(
            &link,
            &[
                ("name", "Ana A."),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .assert_status(303);
        assert!(t.cookies.contains_key("pl_contact") && !t.cookies.contains_key("pl_staff"));
        t.get("/portal/acme/dashboard")
            .assert_status(200)
            .assert_contains("Hello Ana")
            .assert_contains("Welcome to Acme support");
        // Empty fields come back with the error beside them; the description is kept.
        t.post(
            "/portal/acme/tickets/new",
            &[
                ("subject", " "),
                ("priority", "high"),
                ("description", "Keep me"),
            ],
        )
        .assert_status(422)
        .assert_contains("Subject is required")
        .assert_contains("Keep me");
        let r = t.post(
            "/portal/acme/tickets/new",
            &[
                ("subject", "Checkout button dead"),
                ("priority", "high"),
                ("description", "Nothing happens on **iPhone**."),
            ],
        );
        r.assert_status(303);
        let reference = reference_from(&r);
        t.get(&format!("/portal/acme/tickets/{reference}"))
            .assert_status(200)
            .assert_contains("Checkout button dead")
            .assert_contains("<strong>iPhone</strong>")
            .assert_contains("High");
        t.get("/portal/acme/dashboard").assert_contains(&reference);
        t.get("/portal/acme/tickets")
            .assert_contains("Checkout button dead");
        reference
    });
    // The invitation is used up.
    let mut other = HashMap::new();
    w.as_browser(&mut other, |t| {
        t.get(&link)
            .assert_status(410)
            .assert_contains("no longer works");
    });
    let received = w.mail();
    assert!(
        received
            .iter()
            .any(|m| m.to == ["ana@acme.example"] && m.text().contains("We have your ticket")),
        "{received:?}"
    );

    // Staff see who asked, for which customer; they write an internal note and a public reply.
    w.t.get(&format!("/tickets/{reference}"))
        .assert_contains("Acme Co")
        .assert_contains("Ana A.");
    w.t.post(
        &format!("/tickets/{reference}/note"),
        &[("note", "INTERNAL-MARKER-7 do not tell")],
    )
    .assert_status(303);
    w.t.post(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "Fixed in the next release.")],
    )
    .assert_status(303);
    w.t.post(
        &format!("/tickets/{reference}/update"),
        &[
            ("status", "resolved"),
            ("priority", "high"),
            ("assignee", ""),
            ("expected_by", "2030-01-31"),
        ],
    );
    let mails = w.mail();
    let to_ana: Vec<_> = mails
        .iter()
        .filter(|m| m.to == ["ana@acme.example"])
        .collect();
    assert!(
        to_ana
            .iter()
            .any(|m| m.text().contains("Fixed in the next release.")),
        "{mails:?}"
    );
    for m in &mails {
        assert!(
            !m.text().contains("INTERNAL-MARKER-7"),
            "an internal note was emailed: {m:?}"
        );
        if m.to == ["ana@acme.example"] {
            assert!(
                !m.text().contains("admin@example.com"),
                "a staff address was emailed to a client"
            );
            assert!(
                m.text().contains("/portal/acme/tickets/"),
                "no portal link: {m:?}"
            );
        }
    }
    w.as_browser(&mut ana, |t| {
        let page = t.get(&format!("/portal/acme/tickets/{reference}"));
        page.assert_status(200)
            .assert_contains("Fixed in the next release.")
            .assert_contains("Resolved")
            .assert_contains("2030-01-31")
            .assert_lacks("INTERNAL-MARKER-7")
            .assert_lacks("admin@example.com");
        // Close (confirm step), then reopen.
        t.get(&format!("/portal/acme/tickets/{reference}/close"))
            .assert_contains("Yes, close");
        t.post(&format!("/portal/acme/tickets/{reference}/close"), &[])
            .assert_status(303);
        t.get(&format!("/portal/acme/tickets/{reference}"))
            .assert_contains("Reopen ticket");
        t.post(&format!("/portal/acme/tickets/{reference}/reopen"), &[])
            .assert_status(303);
        t.get(&format!("/portal/acme/tickets/{reference}"))
            .assert_contains("Close ticket");
        // A reply reaches the team.
        t.post(
            &format!("/portal/acme/tickets/{reference}/reply"),
            &[("reply", "Thanks, works now!")],
        )
        .assert_status(303);
    });
    w.t.get(&format!("/tickets/{reference}"))
        .assert_contains("Thanks, works now!");
    // The contact turns reply emails off: the next reply is in the portal only.
    w.as_browser(&mut ana, |t| {
        t.post(
            "/portal/acme/profile/notifications",
            &[("notify_status", "1")],
        )
        .assert_status(303);
    });
    w.mail();
    let r = w.t.post(
        &format!("/tickets/{reference}/reply"),
        &[("reply", "One more thing.")],
    );
    assert!(r.status == 303);
    assert!(
        w.mail().iter().all(|m| m.to != ["ana@acme.example"]),
        "emailed after opting out"
    );
}

#[test]
fn a_magic_link_works_once_survives_a_scanner_and_expires() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    w.contact("ben@acme.example", "Ben", Some(acme), "member", portal);
    let mut browser = HashMap::new();
    w.as_browser(&mut browser, |t| {
        t.post("/portal/acme/magic", &[("email", "ben@acme.example")])
            .assert_redirect("/portal/acme/sent?what=magic");
        // The page the form ends on: a reload there sends nothing again.
        t.get("/portal/acme/sent?what=magic")
            .assert_status(200)
            .assert_contains("Check your email")
            .assert_contains("for 15 minutes");
    });
    let link = link_in(&w.mail_to("ben@acme.example").text(), "/magic/");
    w.as_browser(&mut browser, |t| {
        // What a scanner does: fetch the link, twice. Nothing is used up.
        t.get(&link)
            .assert_status(200)
            .assert_contains("Sign in to Acme support");
        t.get(&link).assert_status(200);
        assert!(!t.cookies.contains_key("pl_contact"));
        let r = t.post(&link, &[]);
        r.assert_status(303);
        assert!(t.cookies.contains_key("pl_contact"));
        t.get("/portal/acme/dashboard").assert_status(200);
        // Used once: never again.
        t.post(&link, &[]).assert_status(410);
        t.get(&link).assert_status(410);
        // In another portal it is not valid at all.
        t.get(&link.replace("/portal/acme/", "/portal/beta/"))
            .assert_status(410);
    });
    // A fresh link expires after 15 minutes (the clock of this thread moves on).
    let mut late = HashMap::new();
    w.as_browser(&mut late, |t| {
        t.post("/portal/acme/magic", &[("email", "ben@acme.example")])
            .assert_redirect("/portal/acme/sent?what=magic");
    });
    let link = link_in(&w.mail_to("ben@acme.example").text(), "/magic/");
    porchlight::clock::travel(16 * 60);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        w.as_browser(&mut late, |t| {
            t.get(&link).assert_status(410);
            t.post(&link, &[]).assert_status(410);
            assert!(!t.cookies.contains_key("pl_contact"));
        });
    }));
    porchlight::clock::travel(-16 * 60);
    outcome.unwrap();
}

#[test]
fn a_reset_sets_a_password_and_ends_other_sessions() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    let mut first = w.contact("cai@acme.example", "Cai", Some(acme), "member", portal);
    let mut second = HashMap::new();
    w.as_browser(&mut second, |t| {
        t.post("/portal/acme/reset", &[("email", "cai@acme.example")])
            .assert_redirect("/portal/acme/sent?what=reset");
    });
    let link = link_in(&w.mail_to("cai@acme.example").text(), "/reset/");
    w.as_browser(&mut second, |t| {
        t.get(&link)
            .assert_status(200)
            .assert_contains("Choose a new password");
        t.post(
            &link,
            &[
                ("password", "a brand new secret"),
                ("password_confirm", "a brand new secret"),
            ],
        )
        .assert_status(303);
        t.get("/portal/acme/dashboard").assert_status(200);
        t.post(
            &link,
            &[
                ("password", "another one here"),
                ("password_confirm", "another one here"),
            ],
        )
        .assert_status(410);
    });
    w.as_browser(&mut first, |t| {
        let r = t.get("/portal/acme/dashboard");
        r.assert_status(303);
        assert!(r.location().starts_with("/portal/acme/login"));
    });
    let mut third = HashMap::new();
    w.as_browser(&mut third, |t| {
        t.post(
            "/portal/acme/login",
            &[
                ("email", "cai@acme.example"),
                ("password", "correct horse battery"),
            ],
        )
        .assert_status(401);
        t.post(
            "/portal/acme/login",
            &[
                ("email", "CAI@acme.example"),
                ("password", "a brand new secret"),
            ],
        )
        .assert_status(303);
    });
}

#[test]
fn signup_by_customer_domain_joins_the_customer_and_open_registration_joins_none() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    let project = porchlight::store::projects::get_by_key(&w.t.db, "ACME")
        .unwrap()
        .unwrap()
        .id
        .0
        .to_string();
    // Customer signup only.
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("customer_signup", "1"),
            ("default_project", &project),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    let mut b = HashMap::new();
    let (known, stranger) = w.as_browser(&mut b, |t| {
        t.get("/portal/acme/signup").assert_status(200);
        let known = t.post(
            "/portal/acme/signup",
            &[("name", "Dee"), ("email", "dee@acme.example")],
        );
        known.assert_redirect("/portal/acme/sent?what=signup");
        let stranger = t.post(
            "/portal/acme/signup",
            &[("name", "Eve"), ("email", "eve@elsewhere.example")],
        );
        stranger.assert_redirect("/portal/acme/sent?what=signup");
        (stable(&known), stable(&stranger))
    });
    assert_eq!(known, stranger, "signup tells which addresses it takes");
    let mails = w.mail();
    assert!(mails.iter().all(|m| m.to != ["eve@elsewhere.example"]));
    let link = link_in(
        &mails
            .iter()
            .find(|m| m.to == ["dee@acme.example"])
            .unwrap()
            .text(),
        "/signup/",
    );
    w.as_browser(&mut b, |t| {
        t.post(
            &link,
            &[
                ("name", "Dee"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .assert_status(303);
        t.get("/portal/acme/profile").assert_contains("Acme Co");
    });
    let dee = porchlight::store::contacts::get_by_email(&w.t.db, "dee@acme.example")
        .unwrap()
        .unwrap();
    assert_eq!(dee.customer_id.map(|c| c.0), Some(acme));
    // Open registration: anyone, with no customer.
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("open_registration", "1"),
            ("default_project", &project),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    let mut e = HashMap::new();
    w.as_browser(&mut e, |t| {
        t.post(
            "/portal/acme/signup",
            &[("name", "Eve"), ("email", "eve@elsewhere.example")],
        )
        .assert_redirect("/portal/acme/sent?what=signup");
    });
    let link = link_in(&w.mail_to("eve@elsewhere.example").text(), "/signup/");
    w.as_browser(&mut e, |t| {
        t.post(
            &link,
            &[
                ("name", "Eve"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .assert_status(303);
        t.get("/portal/acme/dashboard").assert_status(200);
    });
    let eve = porchlight::store::contacts::get_by_email(&w.t.db, "eve@elsewhere.example")
        .unwrap()
        .unwrap();
    assert_eq!(eve.customer_id, None);
    // Someone signing up with an address that has an account is told so by email only.
    let mut f = HashMap::new();
    w.as_browser(&mut f, |t| {
        t.post(
            "/portal/acme/signup",
            &[("name", "Not Eve"), ("email", "eve@elsewhere.example")],
        )
        .assert_redirect("/portal/acme/sent?what=signup");
    });
    assert!(
        w.mail_to("eve@elsewhere.example")
            .text()
            .contains("already have an account")
    );
}

#[test]
fn contacts_see_only_what_their_scope_allows_by_every_route() {
    let mut w = World::new();
    let (acme, beta, portal) = (w.acme, w.beta, w.acme_portal);
    let beta_portal = porchlight::store::portals::get_by_slug(&w.t.db, "beta")
        .unwrap()
        .unwrap()
        .id
        .0;
    let mut ana = w.contact("ana@acme.example", "Ana", Some(acme), "member", portal);
    let mut bob = w.contact("bob@acme.example", "Bob", Some(acme), "member", portal);
    let mut meg = w.contact("meg@acme.example", "Meg", Some(acme), "manager", portal);
    let mut zed = w.contact("zed@beta.example", "Zed", Some(beta), "member", beta_portal);
    let create = |t: &mut TestApp, slug: &str, subject: &str| {
        let r = t.post(
            &format!("/portal/{slug}/tickets/new"),
            &[
                ("subject", subject),
                ("priority", "normal"),
                ("description", "x"),
            ],
        );
        r.assert_status(303);
        reference_from(&r)
    };
    let anas = w.as_browser(&mut ana, |t| create(t, "acme", "ANA-SECRET-TICKET"));
    let bobs = w.as_browser(&mut bob, |t| create(t, "acme", "BOB-SECRET-TICKET"));
    let zeds = w.as_browser(&mut zed, |t| create(t, "beta", "ZED-SECRET-TICKET"));
    let missing = w.as_browser(&mut ana, |t| {
        t.get("/portal/acme/tickets/ACME-999").body.clone()
    });
    // A member sees their own tickets only; every route answers a colleague's with the same 404.
    w.as_browser(&mut ana, |t| {
        t.get("/portal/acme/tickets")
            .assert_contains("ANA-SECRET-TICKET")
            .assert_lacks("BOB-SECRET-TICKET");
        for path in [
            format!("/portal/acme/tickets/{bobs}"),
            format!("/portal/acme/tickets/{bobs}/close"),
        ] {
            let r = t.get(&path);
            r.assert_status(404);
            assert_eq!(
                stable(&r),
                stable_text(&missing),
                "{path} differs from a missing ticket"
            );
        }
        for path in ["reply", "close", "reopen"] {
            t.post(
                &format!("/portal/acme/tickets/{bobs}/{path}"),
                &[("reply", "sneaky")],
            )
            .assert_status(404);
        }
        t.get("/portal/acme/tickets?q=SECRET")
            .assert_lacks("BOB-SECRET-TICKET");
        // Another customer's portal is not theirs.
        t.get("/portal/beta/dashboard").assert_status(404);
        t.get(&format!("/portal/beta/tickets/{zeds}"))
            .assert_status(404);
    });
    w.t.get(&format!("/tickets/{bobs}")).assert_lacks("sneaky");
    // A manager sees the whole customer's tickets, not another customer's.
    w.as_browser(&mut meg, |t| {
        t.get("/portal/acme/tickets")
            .assert_contains("ANA-SECRET-TICKET")
            .assert_contains("BOB-SECRET-TICKET")
            .assert_lacks("ZED-SECRET-TICKET");
        t.get(&format!("/portal/acme/tickets/{anas}"))
            .assert_status(200);
        t.get("/portal/acme/dashboard")
            .assert_contains("Everyone at Acme Co");
    });
    w.as_browser(&mut zed, |t| {
        t.get(&format!("/portal/acme/tickets/{anas}"))
            .assert_status(404);
        t.get("/portal/beta/tickets")
            .assert_contains("ZED-SECRET-TICKET")
            .assert_lacks("ANA-SECRET-TICKET");
    });
    // Once Beta may use the acme portal, Zed can — and still sees none of Acme's tickets.
    let project = porchlight::store::projects::get_by_key(&w.t.db, "ACME")
        .unwrap()
        .unwrap()
        .id
        .0
        .to_string();
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("default_project", &project),
            ("customers", &acme.to_string()),
            ("customers", &beta.to_string()),
        ],
    )
    .assert_status(303);
    w.as_browser(&mut zed, |t| {
        t.get("/portal/acme/dashboard").assert_status(200);
        t.get("/portal/acme/tickets")
            .assert_lacks("ANA-SECRET-TICKET")
            .assert_lacks("ZED-SECRET-TICKET");
        t.get("/portal/")
            .assert_contains("Acme support")
            .assert_contains("Beta support");
    });
    // Taking Acme off the acme portal takes its contacts' access with it, at once.
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("default_project", &project),
            ("customers", &beta.to_string()),
        ],
    )
    .assert_status(303);
    w.as_browser(&mut meg, |t| {
        t.get("/portal/acme/dashboard").assert_status(404);
        t.get(&format!("/portal/acme/tickets/{anas}"))
            .assert_status(404);
    });
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("default_project", &project),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    // Disabling ends the contact's sessions at once.
    let bob_id = porchlight::store::contacts::get_by_email(&w.t.db, "bob@acme.example")
        .unwrap()
        .unwrap()
        .id;
    w.t.post(&format!("/contacts/{bob_id}/disable"), &[])
        .assert_status(303);
    w.as_browser(&mut bob, |t| {
        t.get("/portal/acme/dashboard").assert_status(303);
        t.post(
            "/portal/acme/login",
            &[
                ("email", "bob@acme.example"),
                ("password", "correct horse battery"),
            ],
        )
        .assert_status(401);
    });
}

#[test]
fn portal_sign_in_and_link_requests_are_throttled() {
    let mut w = World::new();
    let (acme, portal) = (w.acme, w.acme_portal);
    w.contact("dee@acme.example", "Dee", Some(acme), "member", portal);
    w.mail();
    let login = |t: &mut TestApp, password: &str| {
        t.post(
            "/portal/acme/login",
            &[("email", "dee@acme.example"), ("password", password)],
        )
    };
    let mut b = HashMap::new();
    w.as_browser(&mut b, |t| {
        // A successful sign-in forgets the failures before it.
        for _ in 0..4 {
            login(t, "wrong password").assert_status(401);
        }
        login(t, "correct horse battery").assert_status(303);
        for _ in 0..5 {
            login(t, "wrong password").assert_status(401);
        }
        // Five in a row lock the account, even with the right password, and say for how long.
        login(t, "correct horse battery")
            .assert_status(429)
            .assert_contains(
                "Too many failed sign-in attempts. Try again in 15 minutes, or ask for a sign-in link.",
            );
        // From another network too: the lock is on the account.
        t.ip = "10.0.0.9".into();
        login(t, "correct horse battery").assert_status(429);
    });
    // Staff sign-in keeps its own counters.
    w.t.ip = "10.0.0.9".into();
    w.t.login("dee@acme.example", "wrong password")
        .assert_status(401);

    // Link requests: a sixth in an hour for one address is answered the same but sends nothing.
    let mut c = HashMap::new();
    w.as_browser(&mut c, |t| {
        t.ip = "10.0.0.10".into();
        for path in ["magic", "reset", "magic", "reset", "magic"] {
            t.post(
                &format!("/portal/acme/{path}"),
                &[("email", "dee@acme.example")],
            )
            .assert_status(303);
        }
    });
    assert_eq!(w.mail().len(), 5);
    w.as_browser(&mut c, |t| {
        t.post("/portal/acme/reset", &[("email", "dee@acme.example")])
            .assert_redirect("/portal/acme/sent?what=reset");
    });
    assert!(w.mail().is_empty());
    // Thirty in an hour from one network: refused with the form kept.
    w.as_browser(&mut c, |t| {
        for i in 6..30 {
            t.post(
                "/portal/acme/magic",
                &[("email", &format!("someone{i}@acme.example"))],
            )
            .assert_redirect("/portal/acme/sent?what=magic");
        }
        t.post("/portal/acme/magic", &[("email", "late@acme.example")])
            .assert_status(429)
            .assert_contains("Too many requests from your network. Try again in")
            .assert_contains("value=\"late@acme.example\"");
        t.post("/portal/acme/reset", &[("email", "late@acme.example")])
            .assert_status(429)
            .assert_contains("Forgot your password?")
            .assert_contains("value=\"late@acme.example\"");
    });
}

#[test]
fn no_form_tells_whether_an_account_exists() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    w.contact("kim@acme.example", "Kim", Some(acme), "member", portal);
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("open_registration", "1"),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    let mut b = HashMap::new();
    w.as_browser(&mut b, |t| {
        for (path, field_sets) in [
            (
                "/portal/acme/login",
                vec![
                    vec![
                        ("email", "kim@acme.example"),
                        ("password", "wrong password"),
                    ],
                    vec![
                        ("email", "nobody@acme.example"),
                        ("password", "wrong password"),
                    ],
                ],
            ),
            (
                "/portal/acme/magic",
                vec![
                    vec![("email", "kim@acme.example")],
                    vec![("email", "nobody@acme.example")],
                ],
            ),
            (
                "/portal/acme/reset",
                vec![
                    vec![("email", "kim@acme.example")],
                    vec![("email", "nobody@acme.example")],
                ],
            ),
            (
                "/portal/acme/signup",
                vec![
                    vec![("name", "K"), ("email", "kim@acme.example")],
                    vec![("name", "K"), ("email", "nobody2@acme.example")],
                ],
            ),
        ] {
            let known = t.post(path, &field_sets[0]);
            let unknown = t.post(path, &field_sets[1]);
            assert_eq!(known.status, unknown.status, "{path}");
            assert_eq!(
                stable(&known)
                    .replace("kim@acme.example", "X")
                    .replace("nobody2@acme.example", "X")
                    .replace("nobody@acme.example", "X"),
                stable(&unknown)
                    .replace("kim@acme.example", "X")
                    .replace("nobody2@acme.example", "X")
                    .replace("nobody@acme.example", "X"),
                "{path} answers differently for a known address"
            );
        }
    });
}

#[test]
fn staff_and_contact_sessions_never_stand_in_for_each_other() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    let mut ana = w.contact("ana@acme.example", "Ana", Some(acme), "member", portal);
    // The staff browser is not signed in to the portal.
    let r = w.t.get("/portal/acme/dashboard");
    r.assert_status(303);
    assert!(r.location().starts_with("/portal/acme/login"));
    // The contact's browser is not signed in to the workspace.
    w.as_browser(&mut ana, |t| {
        let r = t.get("/");
        r.assert_status(303);
        assert!(r.location().starts_with("/login"));
        t.get("/customers").assert_status(303);
        t.post("/customers/new", &[("name", "Evil")])
            .assert_status(403);
    });
    // Signing out of the portal ends only the contact session.
    w.as_browser(&mut ana, |t| {
        t.post("/portal/acme/logout", &[]).assert_status(303);
        t.get("/portal/acme/dashboard").assert_status(303);
    });
    w.t.get("/").assert_status(200);
    let _ = &w.staff;
}

#[test]
fn agents_cannot_manage_portal_access() {
    let mut w = World::new();
    let portal = w.acme_portal;
    let password = w.t.add_staff("agent@example.com", "Agent", Role::Agent);
    let mut agent = HashMap::new();
    w.as_browser(&mut agent, |t| {
        t.login("agent@example.com", &password).assert_status(303);
        for path in [
            "/contacts",
            "/contacts/new",
            "/portals",
            "/portals/new",
            &format!("/portals/{portal}"),
            &format!("/portals/{portal}/invite"),
        ] {
            t.get(path).assert_status(403);
        }
        for path in [
            "/contacts/new",
            "/portals/new",
            &format!("/portals/{portal}"),
            &format!("/portals/{portal}/invite"),
            "/contacts/1/disable",
            "/contacts/1/invite",
        ] {
            t.post(
                path,
                &[
                    ("name", "x"),
                    ("email", "x@acme.example"),
                    ("emails", "x@acme.example"),
                ],
            )
            .assert_status(403);
        }
        // Customers are every staff member's work.
        t.get("/customers").assert_status(200);
    });
    assert!(
        porchlight::store::contacts::get_by_email(&w.t.db, "x@acme.example")
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_bulk_invitation_reports_bad_rows_by_line_and_imports_nothing() {
    let mut w = World::new();
    let portal = w.acme_portal;
    let bad = "email,name,customer\nok@acme.example,Ok Person,Acme Co\nnot-an-email\nx@acme.example,X,No Such Customer\n";
    w.t.post(&format!("/portals/{portal}/invite"), &[("emails", bad)])
        .assert_status(422)
        .assert_contains("Line 3")
        .assert_contains("Line 4")
        .assert_contains("No Such Customer")
        .assert_contains("Nothing was imported")
        .assert_contains("ok@acme.example,Ok Person");
    assert!(
        porchlight::store::contacts::get_by_email(&w.t.db, "ok@acme.example")
            .unwrap()
            .is_none()
    );
    assert!(w.mail().is_empty());
    let csv = b"email,name,customer\r\nok@acme.example,Ok Person,Acme Co\r\ntwo@acme.example,,\r\n";
    let r = w.t.post_multipart(
        &format!("/portals/{portal}/invite"),
        &[("emails", "three@beta.example, Three")],
        &[("csv", "people.csv", csv)],
        true,
    );
    r.assert_status(303);
    let mails = w.mail();
    assert_eq!(mails.len(), 3, "{mails:?}");
    let ok = porchlight::store::contacts::get_by_email(&w.t.db, "ok@acme.example")
        .unwrap()
        .unwrap();
    assert_eq!(ok.customer_name.as_deref(), Some("Acme Co"));
    w.t.get("/contacts?pending=1")
        .assert_contains("two@acme.example")
        .assert_contains("invitation open until");
    // Revoking stops the link.
    let link = link_in(
        &mails
            .iter()
            .find(|m| m.to == ["two@acme.example"])
            .unwrap()
            .text(),
        "/invite/",
    );
    let two = porchlight::store::contacts::get_by_email(&w.t.db, "two@acme.example")
        .unwrap()
        .unwrap()
        .id;
    w.t.post(&format!("/contacts/{two}/revoke"), &[])
        .assert_status(303);
    let mut b = HashMap::new();
    w.as_browser(&mut b, |t| {
        t.get(&link).assert_status(410);
    });
}

#[test]
fn a_renamed_portal_keeps_its_old_address_working() {
    let mut w = World::new();
    let portal = w.acme_portal;
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme-help"),
            ("enabled", "1"),
            ("allow_invites", "1"),
        ],
    )
    .assert_status(303);
    let r = w.t.get("/portal/acme/login?next=x");
    assert_eq!(r.status, 301);
    assert_eq!(r.location(), "/portal/acme-help/login?next=x");
    w.t.get("/portal/acme-help/login")
        .assert_status(200)
        .assert_contains("Sign in to Acme support");
    // Bad slugs are refused beside the field, the rest kept.
    w.t.post(
        "/portals/new",
        &[("name", "Kept name"), ("slug", "Bad Slug!")],
    )
    .assert_status(422)
    .assert_contains("lowercase letters")
    .assert_contains("Kept name");
    w.t.post("/portals/new", &[("name", "Dup"), ("slug", "beta")])
        .assert_status(422)
        .assert_contains("Another portal has this address");
    // A switched-off portal is not there.
    w.t.post(
        &format!("/portals/{portal}"),
        &[("name", "Acme support"), ("slug", "acme-help")],
    )
    .assert_status(303);
    w.t.get("/portal/acme-help/login").assert_status(404);
}

#[test]
fn a_profile_picture_is_checked_stripped_and_shown_only_to_its_owner_and_staff() {
    let mut w = World::new();
    let acme = w.acme;
    let portal = w.acme_portal;
    let mut ana = w.contact("ana@acme.example", "Ana", Some(acme), "member", portal);
    let mut bob = w.contact("bob@acme.example", "Bob", Some(acme), "manager", portal);
    // A JPEG whose EXIF segment carries a position.
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 4, b'J', b'F'];
    jpeg.extend_from_slice(&[
        0xff, 0xe1, 0, 12, b'E', b'x', b'i', b'f', b'G', b'P', b'S', b'4', b'8', b'N',
    ]);
    jpeg.extend_from_slice(&[0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9]);
    w.as_browser(&mut ana, |t| {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        t.post_multipart(
            "/portal/acme/profile/picture",
            &[],
            &[("picture", "me.png", svg)],
            true,
        )
        .assert_status(422)
        .assert_contains("Upload a PNG, JPEG or WebP image.");
        let big = vec![0u8; 2 * 1024 * 1024 + 512 * 1024];
        t.post_multipart(
            "/portal/acme/profile/picture",
            &[],
            &[("picture", "big.jpg", &big)],
            true,
        )
        .assert_status(422)
        .assert_contains("up to 2048 KB");
        t.post_multipart(
            "/portal/acme/profile/picture",
            &[],
            &[("picture", "me.jpg", &jpeg)],
            true,
        )
        .assert_status(303);
        let r = t.get("/portal/acme/profile/picture");
        r.assert_status(200);
        assert_eq!(r.header("Content-Type"), Some("image/jpeg"));
        assert!(
            !r.bytes.windows(3).any(|w| w == b"GPS"),
            "the EXIF data was kept"
        );
        assert!(r.bytes.ends_with(&[1, 2, 3, 0xff, 0xd9]));
    });
    // Another contact (even a manager of the same customer) gets their own picture, not hers.
    w.as_browser(&mut bob, |t| {
        t.get("/portal/acme/profile/picture").assert_status(404);
    });
    let ana_id = porchlight::store::contacts::get_by_email(&w.t.db, "ana@acme.example")
        .unwrap()
        .unwrap()
        .id;
    w.t.get(&format!("/contacts/{ana_id}/picture"))
        .assert_status(200);
    let mut nobody = HashMap::new();
    w.as_browser(&mut nobody, |t| {
        t.get("/portal/acme/profile/picture").assert_status(303);
        t.get(&format!("/contacts/{ana_id}/picture"))
            .assert_status(303);
    });
}

#[test]
fn signing_up_cannot_touch_an_invitation_staff_sent() {
    let mut w = World::new();
    let (acme, portal) = (w.acme, w.acme_portal);
    let project = porchlight::store::projects::get_by_key(&w.t.db, "ACME")
        .unwrap()
        .unwrap()
        .id
        .0
        .to_string();
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("customer_signup", "1"),
            ("open_registration", "1"),
            ("default_project", &project),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    w.t.post(
        "/contacts/new",
        &[
            ("name", "Ivy"),
            ("email", "ivy@acme.example"),
            ("customer", &acme.to_string()),
            ("role", "manager"),
            ("label", ""),
            ("invite", "1"),
            ("portal", &portal.to_string()),
        ],
    )
    .assert_status(303);
    let invitation = link_in(&w.mail_to("ivy@acme.example").text(), "/invite/");
    // A stranger signs up with Ivy's address: nothing is sent, her invitation still works.
    let mut stranger = HashMap::new();
    w.as_browser(&mut stranger, |t| {
        t.post(
            "/portal/acme/signup",
            &[("name", "Mallory"), ("email", "ivy@acme.example")],
        )
        .assert_redirect("/portal/acme/sent?what=signup");
    });
    assert!(
        w.mail().is_empty(),
        "a signup for an invited address sent mail"
    );
    let mut ivy = HashMap::new();
    w.as_browser(&mut ivy, |t| {
        t.get(&invitation)
            .assert_status(200)
            .assert_lacks("Mallory");
    });
    // After staff revoke it, signing up does not bring it back.
    let id = porchlight::store::contacts::get_by_email(&w.t.db, "ivy@acme.example")
        .unwrap()
        .unwrap()
        .id;
    w.t.post(&format!("/contacts/{id}/revoke"), &[])
        .assert_status(303);
    w.as_browser(&mut stranger, |t| {
        t.post(
            "/portal/acme/signup",
            &[("name", "Ivy"), ("email", "ivy@acme.example")],
        )
        .assert_redirect("/portal/acme/sent?what=signup");
    });
    assert!(w.mail().is_empty());
    // An unconfirmed signup holds no address: staff can still add it, and the link then says so.
    w.as_browser(&mut stranger, |t| {
        t.post(
            "/portal/acme/signup",
            &[("name", "Zorblax"), ("email", "new@acme.example")],
        )
        .assert_redirect("/portal/acme/sent?what=signup");
    });
    let signup = w.mail_to("new@acme.example");
    assert!(
        !signup.text().contains("Zorblax"),
        "an unconfirmed address was greeted by the typed name"
    );
    let link = link_in(&signup.text(), "/signup/");
    assert!(
        porchlight::store::contacts::get_by_email(&w.t.db, "new@acme.example")
            .unwrap()
            .is_none()
    );
    w.t.post(
        "/contacts/new",
        &[
            ("name", "New"),
            ("email", "new@acme.example"),
            ("customer", &acme.to_string()),
            ("role", "member"),
            ("label", ""),
        ],
    )
    .assert_status(303);
    w.as_browser(&mut stranger, |t| {
        t.post(
            &link,
            &[
                ("name", "Zorblax"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .assert_status(409)
        .assert_contains("has an account already");
        assert!(!t.cookies.contains_key("pl_contact"));
    });
}

#[test]
fn agents_see_signup_domains_but_cannot_change_them() {
    let mut w = World::new();
    let acme = w.acme;
    let password = w.t.add_staff("agent@example.com", "Agent", Role::Agent);
    let mut agent = HashMap::new();
    w.as_browser(&mut agent, |t| {
        t.login("agent@example.com", &password).assert_status(303);
        t.get(&format!("/customers/{acme}"))
            .assert_contains("acme.example")
            .assert_lacks("name=\"domains\"");
        t.post(
            &format!("/customers/{acme}"),
            &[
                ("name", "Acme Co"),
                ("organization", ""),
                ("domains", "gmail.com"),
            ],
        )
        .assert_status(303);
    });
    let customer = porchlight::store::customers::get(&w.t.db, porchlight::domain::CustomerId(acme))
        .unwrap()
        .unwrap();
    assert_eq!(customer.domains, ["acme.example"]);
}

#[test]
fn sign_in_stays_inside_its_portal_and_odd_addresses_are_refused() {
    let mut w = World::new();
    let (acme, portal) = (w.acme, w.acme_portal);
    let mut ana = w.contact("ana@acme.example", "Ana", Some(acme), "member", portal);
    w.as_browser(&mut ana, |t| {
        t.post("/portal/acme/logout", &[]).assert_status(303);
        for next in [
            "/portal/acme/../../evil",
            "/portal/acme/%2e%2e/x",
            "//evil.example",
            "/portal/beta/dashboard",
            "https://evil.example/",
        ] {
            let r = t.post(
                "/portal/acme/login",
                &[
                    ("email", "ana@acme.example"),
                    ("password", "correct horse battery"),
                    ("next", next),
                ],
            );
            r.assert_status(303);
            assert_eq!(
                r.location(),
                "/portal/acme/dashboard",
                "followed next={next}"
            );
            t.post("/portal/acme/logout", &[]).assert_status(303);
        }
    });
    // A renamed portal redirects exactly what was asked, and a switched-off one says nothing.
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme-help"),
            ("enabled", "1"),
            ("allow_invites", "1"),
        ],
    )
    .assert_status(303);
    let r =
        w.t.get("/portal/acme/tickets/ACME-1%3Fx%0d%0aSet-Cookie:%20a=b?q=1");
    assert_eq!(r.status, 301);
    assert_eq!(
        r.location(),
        "/portal/acme-help/tickets/ACME-1%3Fx%0d%0aSet-Cookie:%20a=b?q=1"
    );
    w.t.post(
        &format!("/portals/{portal}"),
        &[("name", "Acme support"), ("slug", "acme-help")],
    )
    .assert_status(303);
    w.t.get("/portal/acme/login")
        .assert_status(404)
        .assert_lacks("acme-help");
    // Bulk rows are numbered as an editor numbers lines, blank ones included.
    w.t.post(
        &format!("/portals/{portal}"),
        &[
            ("name", "Acme support"),
            ("slug", "acme-help"),
            ("enabled", "1"),
            ("allow_invites", "1"),
            ("customers", &acme.to_string()),
        ],
    )
    .assert_status(303);
    w.t.post(
        &format!("/portals/{portal}/invite"),
        &[(
            "emails",
            "a@acme.example\n\n\nnot-an-email\nb@beta.example,B,Beta Ltd",
        )],
    )
    .assert_status(422)
    .assert_contains("Line 4:")
    .assert_contains("Line 5: Beta Ltd may not use");
}

/// Every page a signed-in contact can reach by following links from their dashboard.
fn crawl(t: &mut TestApp, start: &str) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut queue = vec![start.to_string()];
    let mut pages = Vec::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) || seen.len() > 300 {
            continue;
        }
        let r = t.get(&path);
        let body = r.body.clone();
        for piece in body.split("href=\"").skip(1) {
            let href = piece
                .split('"')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&")
                .replace("&#x2f;", "/")
                .replace("&#x3d;", "=");
            if href.starts_with("/portal/") && !seen.contains(&href) {
                queue.push(href);
            }
        }
        pages.push((path, body));
    }
    pages
}

#[test]
fn leak_crawl_nothing_internal_or_of_others_reaches_a_contact() {
    let mut w = World::new();
    let (acme, beta, portal) = (w.acme, w.beta, w.acme_portal);
    let beta_portal = porchlight::store::portals::get_by_slug(&w.t.db, "beta")
        .unwrap()
        .unwrap()
        .id
        .0;
    w.t.add_staff("staff-marker@example.com", "STAFF-NAME-MARKER", Role::Agent);
    let agent = porchlight::store::staff::get_by_email(&w.t.db, "staff-marker@example.com")
        .unwrap()
        .unwrap()
        .id
        .0
        .to_string();
    let mut ana = w.contact("ana@acme.example", "Ana", Some(acme), "member", portal);
    let mut bob = w.contact(
        "bob-marker@acme.example",
        "BOB-NAME-MARKER",
        Some(acme),
        "member",
        portal,
    );
    let mut zed = w.contact(
        "zed-marker@beta.example",
        "ZED-NAME-MARKER",
        Some(beta),
        "member",
        beta_portal,
    );
    let open = |t: &mut TestApp, slug: &str, subject: &str, body: &str| {
        let r = t.post(
            &format!("/portal/{slug}/tickets/new"),
            &[
                ("subject", subject),
                ("priority", "normal"),
                ("description", body),
            ],
        );
        r.assert_status(303);
        reference_from(&r)
    };
    let mine = w.as_browser(&mut ana, |t| {
        open(t, "acme", "Ana's own ticket", "Ana's words")
    });
    w.as_browser(&mut bob, |t| {
        open(t, "acme", "BOB-SUBJECT-MARKER", "BOB-BODY-MARKER")
    });
    w.as_browser(&mut zed, |t| {
        open(t, "beta", "ZED-SUBJECT-MARKER", "ZED-BODY-MARKER")
    });
    // Staff work on Ana's ticket: assigned, an internal note, a public reply, status changes.
    w.t.post(
        &format!("/tickets/{mine}/update"),
        &[
            ("status", "pending"),
            ("priority", "urgent"),
            ("assignee", &agent),
            ("expected_by", ""),
        ],
    )
    .assert_status(303);
    w.t.post(
        &format!("/tickets/{mine}/note"),
        &[("note", "INTERNAL-NOTE-MARKER")],
    )
    .assert_status(303);
    w.t.post(
        &format!("/tickets/{mine}/reply"),
        &[("reply", "A public answer")],
    )
    .assert_status(303);
    let markers = [
        "MARKER",
        "staff-marker@example.com",
        "admin@example.com",
        "Name of admin@example.com",
        "Beta Ltd",
    ];
    let pages = w.as_browser(&mut ana, |t| crawl(t, "/portal/acme/dashboard"));
    assert!(pages.len() >= 8, "the crawl saw only {} pages", pages.len());
    assert!(
        pages
            .iter()
            .any(|(_, body)| body.contains("A public answer"))
    );
    for (path, body) in &pages {
        for marker in markers {
            assert!(!body.contains(marker), "{path} shows {marker:?} to Ana");
        }
    }
    for m in w.mail() {
        if m.to == ["ana@acme.example"] {
            for marker in markers {
                assert!(
                    !m.text().contains(marker),
                    "an email to Ana carries {marker:?}: {}",
                    m.text()
                );
            }
        }
    }
}
