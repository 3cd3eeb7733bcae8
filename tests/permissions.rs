//! Module permissions, ticket visibility and portal user management (issue #17).

use std::collections::HashMap;

use porchlight::domain::{ContactId, Role};

use crate::util::TestApp;

/// Admin signed in; project ACME; organisation Org1 with customers A and B, customer C alone;
/// portal "p" open to all three; contacts A1, A2 (customer A), B1 (customer B), C1 (customer C),
/// each signed in in a jar of their own, each with one ticket.
struct World {
    t: TestApp,
    portal: String,
    jars: HashMap<&'static str, HashMap<String, String>>,
    refs: HashMap<&'static str, String>,
    ids: HashMap<&'static str, ContactId>,
}

impl World {
    fn new() -> World {
        let mut t = TestApp::admin();
        t.create_project("ACME", "Acme");
        let project = porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap()
            .id
            .0
            .to_string();
        t.post("/customers/organizations", &[("name", "Org1")])
            .assert_status(303);
        let org = porchlight::store::customers::organizations(&t.db).unwrap()[0]
            .id
            .0
            .to_string();
        let mut customer = |name: &str, org: &str| -> String {
            let r = t.post(
                "/customers/new",
                &[("name", name), ("organization", org), ("domains", "")],
            );
            r.location().trim_start_matches("/customers/").to_string()
        };
        let (a, b, c) = (customer("A", &org), customer("B", &org), customer("C", ""));
        let r = t.post(
            "/portals/new",
            &[
                ("name", "P"),
                ("slug", "pt"),
                ("enabled", "1"),
                ("allow_invites", "1"),
                ("default_project", &project),
                ("customers", &a),
                ("customers", &b),
                ("customers", &c),
            ],
        );
        let portal = r.location().trim_start_matches("/portals/").to_string();
        let staff = t.cookies.clone();
        let mut jars = HashMap::new();
        let mut refs = HashMap::new();
        let mut ids = HashMap::new();
        for (who, customer) in [("A1", &a), ("A2", &a), ("B1", &b), ("C1", &c)] {
            t.cookies = staff.clone();
            let email = format!("{}@example.com", who.to_lowercase());
            t.post(
                "/contacts/new",
                &[
                    ("name", who),
                    ("email", &email),
                    ("customer", customer),
                    ("role", "member"),
                    ("label", ""),
                ],
            )
            .assert_status(303);
            let id = t.accept_invitation("pt", &portal, &email, who);
            let r = t.post(
                "/portal/pt/tickets/new",
                &[
                    ("subject", &format!("{who}-TICKET")),
                    ("priority", "normal"),
                    ("description", "x"),
                ],
            );
            r.assert_status(303);
            refs.insert(who, r.location().rsplit('/').next().unwrap().to_string());
            jars.insert(who, std::mem::take(&mut t.cookies));
            ids.insert(who, id);
        }
        t.cookies = staff;
        World {
            t,
            portal,
            jars,
            refs,
            ids,
        }
    }

    fn as_<T>(&mut self, who: &'static str, f: impl FnOnce(&mut TestApp) -> T) -> T {
        let staff = std::mem::replace(&mut self.t.cookies, self.jars[who].clone());
        let out = f(&mut self.t);
        self.jars
            .insert(who, std::mem::replace(&mut self.t.cookies, staff));
        out
    }

    fn set(&mut self, who: &'static str, tickets: &str, visibility: &str) {
        let id = self.ids[who].0;
        self.t
            .post(
                &format!("/portals/{}/users/{id}", self.portal),
                &[
                    ("tickets", tickets),
                    ("projects", ""),
                    ("pages", ""),
                    ("visibility", visibility),
                ],
            )
            .assert_status(303);
    }

    /// Which of the four tickets `who` sees in their list.
    fn sees(&mut self, who: &'static str) -> Vec<&'static str> {
        let body = self.as_(who, |t| t.get("/portal/pt/tickets").body);
        ["A1", "A2", "B1", "C1"]
            .into_iter()
            .filter(|w| body.contains(&format!("{w}-TICKET")))
            .collect()
    }
}

/// Portal lists are kept per worker between writes (`web::fragments::view`, keyed by the
/// reader's scope): people with different scopes never get each other's kept list, and a staff
/// change shows on the contact's next view.
#[test]
fn kept_portal_lists_are_per_scope_and_never_stale() {
    let mut w = World::new();
    // No write between these views: each must be the viewer's own list.
    for _ in 0..2 {
        assert_eq!(w.sees("A1"), ["A1"]);
        assert_eq!(w.sees("A2"), ["A2"]);
        assert_eq!(w.sees("B1"), ["B1"]);
    }
    // A status staff set shows on the contact's next view.
    let a1 = w.refs["A1"].clone();
    w.as_("A1", |t| {
        t.get("/portal/pt/tickets").assert_lacks("status-resolved");
    });
    w.t.set_status(&a1, "open", "resolved");
    w.as_("A1", |t| {
        t.get("/portal/pt/tickets")
            .assert_contains("status-resolved");
    });
    // So does a wider visibility, for that contact only.
    w.set("A1", "", "customer");
    assert_eq!(w.sees("A1"), ["A1", "A2"]);
    assert_eq!(w.sees("A2"), ["A2"]);
}

#[test]
fn visibility_own_customer_and_organisation_are_each_what_they_say() {
    let mut w = World::new();
    assert_eq!(w.sees("A1"), ["A1"], "own tickets only, by default");
    w.set("A1", "", "customer");
    assert_eq!(w.sees("A1"), ["A1", "A2"]);
    w.set("A1", "", "organization");
    assert_eq!(w.sees("A1"), ["A1", "A2", "B1"]);
    // C1's organisation-wide view is just their own customer (C belongs to none).
    w.set("C1", "", "organization");
    assert_eq!(w.sees("C1"), ["C1"]);
    // The ticket pages follow the list: B1's ticket opens for A1 now, C1's never.
    let (b1, c1) = (w.refs["B1"].clone(), w.refs["C1"].clone());
    w.as_("A1", |t| {
        t.get(&format!("/portal/pt/tickets/{b1}"))
            .assert_status(200);
        t.get(&format!("/portal/pt/tickets/{c1}"))
            .assert_status(404);
    });
    // Back to the default: own again.
    w.set("A1", "", "");
    assert_eq!(w.sees("A1"), ["A1"]);
    // The portal's default moves everyone without their own setting.
    let portal = w.portal.clone();
    w.t.post(
        &format!("/portals/{portal}/defaults"),
        &[
            ("tickets", "create"),
            ("projects", "view"),
            ("pages", "view"),
            ("visibility", "customer"),
        ],
    )
    .assert_status(303);
    assert_eq!(w.sees("A2"), ["A1", "A2"]);
}

#[test]
fn the_tickets_level_gates_every_ticket_route() {
    let mut w = World::new();
    let mine = w.refs["A1"].clone();
    // View Only: the list and the ticket, but no creating, replying or closing.
    w.set("A1", "view", "");
    w.as_("A1", |t| {
        t.get("/portal/pt/dashboard")
            .assert_status(200)
            .assert_lacks("Create a ticket");
        let page = t.get(&format!("/portal/pt/tickets/{mine}"));
        page.assert_status(200)
            .assert_lacks("Send reply")
            .assert_lacks("Close ticket");
        t.get("/portal/pt/tickets/new").assert_status(403);
        t.post(
            "/portal/pt/tickets/new",
            &[
                ("subject", "x"),
                ("priority", "normal"),
                ("description", "x"),
            ],
        )
        .assert_status(403);
        t.post(
            &format!("/portal/pt/tickets/{mine}/reply"),
            &[("reply", "x")],
        )
        .assert_status(403);
        t.post(&format!("/portal/pt/tickets/{mine}/close"), &[])
            .assert_status(403);
    });
    // View & Comment: replying, still no creating or closing.
    w.set("A1", "comment", "");
    w.as_("A1", |t| {
        t.post(
            &format!("/portal/pt/tickets/{mine}/reply"),
            &[("reply", "A comment")],
        )
        .assert_status(303);
        t.post(&format!("/portal/pt/tickets/{mine}/close"), &[])
            .assert_status(403);
        t.get("/portal/pt/tickets/new").assert_status(403);
    });
    // Off: the module is gone — navigation, dashboard card, every route 404.
    w.set("A1", "off", "");
    w.as_("A1", |t| {
        let dash = t.get("/portal/pt/dashboard");
        dash.assert_status(200)
            .assert_lacks("/portal&#x2f;pt&#x2f;tickets")
            .assert_lacks("Support tickets");
        for path in [
            "/portal/pt/tickets".to_string(),
            format!("/portal/pt/tickets/{mine}"),
            "/portal/pt/tickets/new".to_string(),
        ] {
            t.get(&path).assert_status(404);
        }
        t.post(
            &format!("/portal/pt/tickets/{mine}/reply"),
            &[("reply", "x")],
        )
        .assert_status(404);
    });
}

#[test]
fn bulk_changes_respect_only_empty_fields_and_select_all() {
    let mut w = World::new();
    let portal = w.portal.clone();
    // A2 has an override of their own.
    w.set("A2", "view", "");
    let (a1, a2, b1) = (
        w.ids["A1"].0.to_string(),
        w.ids["A2"].0.to_string(),
        w.ids["B1"].0.to_string(),
    );
    let r = w.t.post(
        &format!("/portals/{portal}/users/bulk"),
        &[
            ("ids", a1.as_str()),
            ("ids", a2.as_str()),
            ("action", "set"),
            ("set_tickets", "comment"),
            ("set_projects", "keep"),
            ("set_pages", "keep"),
            ("set_visibility", "keep"),
            ("only_empty", "1"),
        ],
    );
    r.assert_status(303);
    let page = w.t.get(r.location());
    page.assert_contains("Permissions changed for 1 of the 2 selected users.");
    let get = |w: &World, who: &str| {
        porchlight::store::contacts::get(&w.t.db, w.ids[who])
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        get(&w, "A1").tickets_level,
        Some(porchlight::domain::Level::Comment)
    );
    assert_eq!(
        get(&w, "A2").tickets_level,
        Some(porchlight::domain::Level::View),
        "an override was overwritten"
    );
    assert_eq!(
        get(&w, "B1").tickets_level,
        None,
        "an unselected user changed"
    );
    // "Select all" across the list (filtered by customer B here): only B1.
    let b = get(&w, "B1").customer_id.unwrap().0.to_string();
    w.t.post(
        &format!("/portals/{portal}/users/bulk"),
        &[
            ("all", "1"),
            ("customer", b.as_str()),
            ("action", "disable"),
        ],
    )
    .assert_status(303);
    assert_eq!(
        get(&w, "B1").status,
        porchlight::domain::ContactStatus::Disabled
    );
    assert_eq!(
        get(&w, "A1").status,
        porchlight::domain::ContactStatus::Active
    );
    w.as_("B1", |t| {
        t.get("/portal/pt/dashboard").assert_status(303);
    });
    // The page lists, filters and searches.
    w.t.get(&format!("/portals/{portal}/users?q=a2"))
        .assert_status(200)
        .assert_contains("a2@example.com")
        .assert_lacks("a1@example.com");
    let _ = b1;
}

#[test]
fn agents_cannot_reach_portal_user_management() {
    let mut w = World::new();
    let portal = w.portal.clone();
    let password = w.t.add_staff("agent@example.com", "Agent", Role::Agent);
    w.t.cookies.clear();
    w.t.login("agent@example.com", &password).assert_status(303);
    w.t.get(&format!("/portals/{portal}/users"))
        .assert_status(403);
    let a1 = w.ids["A1"].0;
    w.t.post(
        &format!("/portals/{portal}/users/{a1}"),
        &[
            ("tickets", "full"),
            ("projects", ""),
            ("pages", ""),
            ("visibility", "organization"),
        ],
    )
    .assert_status(403);
    w.t.post(
        &format!("/portals/{portal}/users/bulk"),
        &[("all", "1"), ("action", "disable")],
    )
    .assert_status(403);
    w.t.post(
        &format!("/portals/{portal}/defaults"),
        &[
            ("tickets", "full"),
            ("projects", "full"),
            ("pages", "full"),
            ("visibility", "organization"),
        ],
    )
    .assert_status(403);
    let a1c = porchlight::store::contacts::get(&w.t.db, w.ids["A1"])
        .unwrap()
        .unwrap();
    assert_eq!((a1c.tickets_level, a1c.ticket_visibility), (None, None));
}

#[test]
fn staff_view_as_a_customer_read_only_for_15_minutes_and_audited() {
    let mut w = World::new();
    let a = porchlight::store::contacts::get(&w.t.db, w.ids["A1"])
        .unwrap()
        .unwrap()
        .customer_id
        .unwrap()
        .0;
    let portal = w.portal.clone();
    // As the manager of A: all of A's tickets, none of B's; the banner on every page.
    w.t.post(
        &format!("/customers/{a}/view-as"),
        &[("portal", &portal), ("contact", "")],
    )
    .assert_status(303);
    let list = w.t.get("/portal/pt/tickets");
    list.assert_status(200)
        .assert_contains("Viewing as A — manager")
        .assert_contains("A1-TICKET")
        .assert_contains("A2-TICKET")
        .assert_lacks("B1-TICKET");
    // Read-only: a write is refused with the reason, nothing changes.
    let a1 = w.refs["A1"].clone();
    w.t.post(
        &format!("/portal/pt/tickets/{a1}/reply"),
        &[("reply", "FROM-VIEW-AS")],
    )
    .assert_status(403)
    .assert_contains("read-only");
    w.t.get(&format!("/tickets/{a1}"))
        .assert_lacks("FROM-VIEW-AS");
    // The contact's own session is untouched.
    w.as_("A1", |t| {
        t.get("/portal/pt/dashboard")
            .assert_status(200)
            .assert_lacks("Viewing as");
    });
    // As one contact: their view exactly (own tickets only).
    let a2 = w.ids["A2"].0.to_string();
    w.t.post(
        &format!("/customers/{a}/view-as"),
        &[("portal", &portal), ("contact", &a2)],
    )
    .assert_status(303);
    w.t.get("/portal/pt/tickets")
        .assert_contains("Viewing as A — A2")
        .assert_contains("A2-TICKET")
        .assert_lacks("A1-TICKET");
    // After 15 minutes the view is gone (the staff browser has no contact session: sign-in).
    porchlight::clock::travel(15 * 60 + 1);
    let expired = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let r = w.t.get("/portal/pt/tickets");
        assert_eq!(r.status, 303, "a view-as session outlived 15 minutes");
    }));
    porchlight::clock::travel(-(15 * 60 + 1));
    expired.unwrap();
    // Exit ends it; start and end are in the audit log admins read.
    w.t.post("/view-as/exit", &[]).assert_status(303);
    assert_eq!(w.t.get("/portal/pt/tickets").status, 303);
    w.t.get("/settings/audit")
        .assert_contains("view-as started")
        .assert_contains("view-as ended")
        .assert_contains("A as manager in portal P");
    // Signing out ends a view started from that sign-in (the browser keeps nothing of it).
    w.t.post(
        &format!("/customers/{a}/view-as"),
        &[("portal", &portal), ("contact", "")],
    )
    .assert_status(303);
    let staff_jar = w.t.cookies.clone();
    w.t.post("/logout", &[]).assert_status(303);
    let mut leftover = staff_jar.clone();
    leftover.remove("pl_staff");
    w.t.cookies = leftover;
    assert_eq!(
        w.t.get("/portal/pt/tickets").status,
        303,
        "view-as outlived sign-out"
    );
    w.t.cookies = staff_jar;
    w.t.cookies.remove("pl_viewas");
    w.t.login("admin@example.com", "pw-admin@example.com")
        .assert_status(303);
    // Agents may view as too (any active staff), but not read the audit log.
    let password = w.t.add_staff("agent@example.com", "Agent", Role::Agent);
    w.t.cookies.clear();
    w.t.login("agent@example.com", &password).assert_status(303);
    w.t.get("/settings/audit").assert_status(403);
    // Nobody without a staff session can start one.
    w.t.cookies.clear();
    w.t.get("/login");
    w.t.post(
        &format!("/customers/{a}/view-as"),
        &[("portal", &portal), ("contact", "")],
    )
    .assert_status(403);
}

#[test]
fn a_manager_manages_their_own_customers_people_only() {
    let mut w = World::new();
    let a = porchlight::store::contacts::get(&w.t.db, w.ids["A1"])
        .unwrap()
        .unwrap()
        .customer_id
        .unwrap()
        .0
        .to_string();
    // Make A2 a manager of A.
    let a2 = w.ids["A2"].0;
    w.t.post(
        &format!("/contacts/{a2}"),
        &[
            ("name", "A2"),
            ("customer", &a),
            ("role", "manager"),
            ("label", ""),
        ],
    )
    .assert_status(303);
    let (a1, b1) = (w.ids["A1"].0, w.ids["B1"].0);
    w.as_("A2", |t| {
        let page = t.get("/portal/pt/people");
        page.assert_status(200)
            .assert_contains("a1@example.com")
            .assert_lacks("b1@example.com");
        t.post(
            &format!("/portal/pt/people/{a1}/label"),
            &[("label", "billing")],
        )
        .assert_status(303);
        t.post(&format!("/portal/pt/people/{a1}/disable"), &[])
            .assert_status(303);
        // Another customer's contact, and themselves: not theirs to touch.
        t.post(&format!("/portal/pt/people/{b1}/disable"), &[])
            .assert_status(404);
        t.post(&format!("/portal/pt/people/{a2}/disable"), &[])
            .assert_status(404);
        t.post(
            "/portal/pt/people/invite",
            &[
                ("name", "New Colleague"),
                ("email", "new@a.example"),
                ("label", "tech"),
            ],
        )
        .assert_status(303);
    });
    let get = |w: &World, id: porchlight::domain::ContactId| {
        porchlight::store::contacts::get(&w.t.db, id)
            .unwrap()
            .unwrap()
    };
    assert_eq!(get(&w, w.ids["A1"]).label, "billing");
    assert_eq!(
        get(&w, w.ids["A1"]).status,
        porchlight::domain::ContactStatus::Disabled
    );
    assert_eq!(
        get(&w, w.ids["B1"]).status,
        porchlight::domain::ContactStatus::Active
    );
    let invited = porchlight::store::contacts::get_by_email(&w.t.db, "new@a.example")
        .unwrap()
        .unwrap();
    assert_eq!(invited.customer_id.map(|c| c.0.to_string()), Some(a));
    assert_eq!(invited.status, porchlight::domain::ContactStatus::Invited);
    // A1 is signed out at once; a member has no people page.
    w.as_("A1", |t| {
        t.get("/portal/pt/dashboard").assert_status(303);
    });
    w.as_("B1", |t| {
        t.get("/portal/pt/people").assert_status(404);
    });
}
