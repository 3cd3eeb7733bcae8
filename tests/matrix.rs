//! The authorization matrix (issue #17): every route the router serves × every kind of caller →
//! what they get. The table below is the specification; the test builds the data, runs every
//! cell, and prints every cell that differs. It also fails when the router gains a route the
//! table lacks.
//!
//! Columns (in this order): anonymous, share-link visitor, member A1, member A2 (same customer),
//! member B1 (other customer, same organisation), member C1 (other organisation), manager of A,
//! a disabled contact (signed in before), a contact with Tickets = Off, a staff agent viewing as
//! A's manager, a staff agent, a staff admin. Outcomes: `A` allowed (anything but the others),
//! `N` 404, `F` 403, `L` a redirect to a sign-in page.

use std::collections::{BTreeSet, HashMap};

use crate::util::TestApp;

const COLUMNS: [&str; 12] = [
    "anonymous",
    "visitor",
    "A1",
    "A2",
    "B1",
    "C1",
    "managerA",
    "disabled",
    "ticketsOff",
    "viewAs",
    "agent",
    "admin",
];

// Profiles the table uses (one letter a column).
/// Anyone: public pages, sign-in forms, capability links.
const ALL: &str = "AAAAAAAAAAAA";
/// Staff pages: staff only (the view-as browser is an agent's).
const STAFF_GET: &str = "LLLLLLLLLAAA";
const STAFF_POST: &str = "FFFFFFFFFAAA";
/// Admin pages.
const ADMIN_GET: &str = "LLLLLLLLLFFA";
const ADMIN_POST: &str = "FFFFFFFFFFFA";
/// A portal page of a signed-in contact of the portal (any module level).
const PORTAL_GET: &str = "LLAAAAALAALL";
/// A page of the portal's Tickets module.
const TICKETS_GET: &str = "LLAAAAALNALL";
/// A1's ticket: A1, and A's manager (and staff viewing as A's manager) only.
const A1_TICKET_GET: &str = "LLANNNALNALL";
/// A write by a signed-in contact (view-as is read-only).
const PORTAL_POST: &str = "FFAAAAAFAFFF";
const TICKETS_POST: &str = "FFAAAAAFNFFF";
const A1_TICKET_POST: &str = "FFANNNAFNFFF";

/// One row: method, the router's pattern, the path to call, the form fields, expectations.
type Row = (
    &'static str,
    &'static str,
    String,
    Vec<(&'static str, String)>,
    &'static str,
);

struct World {
    t: TestApp,
    jars: Vec<HashMap<String, String>>,
    /// Values the rows' paths use.
    v: HashMap<&'static str, String>,
}

fn location(r: &crate::util::Resp) -> String {
    r.header("Location").unwrap_or("").to_string()
}

impl World {
    fn build() -> World {
        let mut t = TestApp::admin();
        let admin = t.cookies.clone();
        let mut v: HashMap<&'static str, String> = HashMap::new();
        t.create_project("ACME", "Acme");
        t.create_project("VICT", "Victim project");
        t.post("/projects/ACME/share/enable", &[])
            .assert_status(303);
        let acme = porchlight::store::projects::get_by_key(&t.db, "ACME")
            .unwrap()
            .unwrap();
        v.insert("share", acme.share.token.clone().unwrap());
        let project = acme.id.0.to_string();
        t.post("/customers/organizations", &[("name", "Org1")])
            .assert_status(303);
        let org = porchlight::store::customers::organizations(&t.db).unwrap()[0]
            .id
            .0
            .to_string();
        let customer = |t: &mut TestApp, name: &str, org: &str| -> String {
            let r = t.post(
                "/customers/new",
                &[("name", name), ("organization", org), ("domains", "")],
            );
            location(&r).trim_start_matches("/customers/").to_string()
        };
        let (a, b, c) = (
            customer(&mut t, "A", &org),
            customer(&mut t, "B", &org),
            customer(&mut t, "C", ""),
        );
        v.insert("customerA", a.clone());
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
        let portal = location(&r).trim_start_matches("/portals/").to_string();
        v.insert("portal", portal.clone());
        // Contacts, each accepted through an invitation, signed in in a jar of their own.
        let contact_jar = |t: &mut TestApp,
                           who: &str,
                           customer: &str,
                           role: &str|
         -> (HashMap<String, String>, String) {
            t.cookies = admin.clone();
            let email = format!("{}@example.com", who.to_lowercase());
            t.post(
                "/contacts/new",
                &[
                    ("name", who),
                    ("email", &email),
                    ("customer", customer),
                    ("role", role),
                    ("label", ""),
                ],
            )
            .assert_status(303);
            let id = t.accept_invitation("pt", &portal, &email, who);
            (std::mem::take(&mut t.cookies), id.0.to_string())
        };
        let (a1, a1_id) = contact_jar(&mut t, "A1", &a, "member");
        let (a2, _) = contact_jar(&mut t, "A2", &a, "member");
        let (b1, _) = contact_jar(&mut t, "B1", &b, "member");
        let (c1, _) = contact_jar(&mut t, "C1", &c, "member");
        let (manager, _) = contact_jar(&mut t, "MA", &a, "manager");
        let (disabled, disabled_id) = contact_jar(&mut t, "DIS", &a, "member");
        let (off, off_id) = contact_jar(&mut t, "OFF", &a, "member");
        let (_, victim_id) = contact_jar(&mut t, "VIC", &a, "member");
        v.insert("A1id", a1_id);
        v.insert("victim", victim_id);
        // A1's ticket, with a file on it; A1's picture.
        t.cookies = a1.clone();
        let r = t.post_multipart(
            "/portal/pt/tickets/new",
            &[
                ("subject", "A1 ticket"),
                ("priority", "normal"),
                ("description", "x"),
            ],
            &[("files", "a1.txt", b"A1 FILE")],
            true,
        );
        r.assert_status(303);
        let a1_ref = location(&r).rsplit('/').next().unwrap().to_string();
        let png: &[u8] = &[
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
            0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49,
            0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0, 0x05, 0, 0x01,
            0xff, 0x89, 0x99, 0x3d, 0x1d, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
            0x82,
        ];
        t.post_multipart(
            "/portal/pt/profile/picture",
            &[],
            &[("picture", "me.png", png)],
            true,
        )
        .assert_status(303);
        let a1 = std::mem::take(&mut t.cookies);
        let ticket = porchlight::store::tickets::get_by_ref(
            &t.db,
            "ACME",
            a1_ref.rsplit('-').next().unwrap().parse().unwrap(),
        )
        .unwrap()
        .unwrap();
        let file = porchlight::store::attachments::for_ticket(&t.db, ticket.id, true).unwrap()[0]
            .id
            .to_string();
        v.insert("ref", a1_ref);
        v.insert("file", file);
        // Tickets = Off for OFF; DIS disabled after signing in.
        t.cookies = admin.clone();
        t.post(
            &format!("/portals/{portal}/users/{off_id}"),
            &[
                ("tickets", "off"),
                ("projects", ""),
                ("pages", ""),
                ("visibility", ""),
            ],
        )
        .assert_status(303);
        t.post(&format!("/contacts/{disabled_id}/disable"), &[])
            .assert_status(303);
        // A share visitor with a receipt.
        t.cookies.clear();
        let link = format!("/s/{}", v["share"]);
        t.get(&link);
        let r = t.post(
            &link,
            &[
                ("title", "Visitor ticket"),
                ("description", "x"),
                ("name", ""),
                ("email", ""),
            ],
        );
        v.insert(
            "receipt",
            location(&r).rsplit('/').next().unwrap().to_string(),
        );
        let visitor = std::mem::take(&mut t.cookies);
        // Staff: an agent; the same agent's browser viewing as A's manager; a victim staff account.
        let password = t.add_staff(
            "agent@example.com",
            "Agent",
            porchlight::domain::Role::Agent,
        );
        t.login("agent@example.com", &password).assert_status(303);
        let agent = std::mem::take(&mut t.cookies);
        t.cookies = agent.clone();
        t.post(
            &format!("/customers/{a}/view-as"),
            &[("portal", &portal), ("contact", "")],
        )
        .assert_status(303);
        let view_as = std::mem::take(&mut t.cookies);
        t.add_staff(
            "victim@example.com",
            "Victim",
            porchlight::domain::Role::Agent,
        );
        let victim_staff = porchlight::store::staff::get_by_email(&t.db, "victim@example.com")
            .unwrap()
            .unwrap()
            .id;
        v.insert("victimStaff", victim_staff.0.to_string());
        let jars = vec![
            HashMap::new(),
            visitor,
            a1,
            a2,
            b1,
            c1,
            manager,
            disabled,
            off,
            view_as,
            agent,
            admin,
        ];
        World { t, jars, v }
    }

    fn rows(&self) -> Vec<Row> {
        let v = |k: &str| self.v[k].clone();
        let (p, r, f, s, rc) = (v("portal"), v("ref"), v("file"), v("share"), v("receipt"));
        let (ca, a1, vic, vs) = (v("customerA"), v("A1id"), v("victim"), v("victimStaff"));
        let bogus = "x".repeat(43);
        let none = Vec::new;
        let field = |k: &'static str, val: &str| vec![(k, val.to_string())];
        vec![
            // Public.
            ("GET", "/login", "/login".into(), none(), ALL),
            (
                "POST",
                "/login",
                "/login".into(),
                vec![
                    ("email", "nobody@example.com".into()),
                    ("password", "wrong password".into()),
                ],
                ALL,
            ),
            (
                "GET",
                "/setup/{token}",
                format!("/setup/{bogus}"),
                none(),
                "NNNNNNNNNNNN",
            ),
            (
                "POST",
                "/setup/{token}",
                format!("/setup/{bogus}"),
                none(),
                "NNNNNNNNNNNN",
            ),
            (
                "GET",
                "/brand/logo/{name}",
                format!("/brand/logo/{}.png", "a".repeat(64)),
                none(),
                "NNNNNNNNNNNN",
            ),
            (
                "GET",
                "/unsubscribe/{token}",
                format!("/unsubscribe/{bogus}"),
                none(),
                "NNNNNNNNNNNN",
            ),
            (
                "POST",
                "/unsubscribe/{token}",
                format!("/unsubscribe/{bogus}"),
                none(),
                "NNNNNNNNNNNN",
            ),
            // The shareable link: a capability, the same for everyone holding it.
            ("GET", "/s/{_t}", format!("/s/{s}"), none(), ALL),
            (
                "POST",
                "/s/{_t}",
                format!("/s/{s}"),
                field("title", ""),
                ALL,
            ),
            (
                "GET",
                "/s/{_t}/t/{r}",
                format!("/s/{s}/t/{rc}"),
                none(),
                ALL,
            ),
            (
                "POST",
                "/s/{_t}/t/{r}",
                format!("/s/{s}/t/{rc}"),
                field("reply", ""),
                ALL,
            ),
            (
                "GET",
                "/s/{_t}/t/{r}/files/{id}/{_n}",
                format!("/s/{s}/t/{rc}/files/{f}/a1.txt"),
                none(),
                "NNNNNNNNNNNN",
            ),
            // Portal: getting in.
            (
                "GET",
                "/portal/{_s}/login",
                "/portal/pt/login".into(),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/login",
                "/portal/pt/login".into(),
                vec![
                    ("email", "nobody@example.com".into()),
                    ("password", "wrong password".into()),
                ],
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/magic",
                "/portal/pt/magic".into(),
                field("email", "nobody@example.com"),
                ALL,
            ),
            (
                "GET",
                "/portal/{_s}/magic/{t}",
                format!("/portal/pt/magic/{bogus}"),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/magic/{t}",
                format!("/portal/pt/magic/{bogus}"),
                none(),
                ALL,
            ),
            (
                "GET",
                "/portal/{_s}/invite/{t}",
                format!("/portal/pt/invite/{bogus}"),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/invite/{t}",
                format!("/portal/pt/invite/{bogus}"),
                none(),
                ALL,
            ),
            (
                "GET",
                "/portal/{_s}/reset",
                "/portal/pt/reset".into(),
                none(),
                ALL,
            ),
            (
                "GET",
                "/portal/{_s}/sent",
                "/portal/pt/sent?what=reset".into(),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/reset",
                "/portal/pt/reset".into(),
                field("email", "nobody@example.com"),
                ALL,
            ),
            (
                "GET",
                "/portal/{_s}/reset/{t}",
                format!("/portal/pt/reset/{bogus}"),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/reset/{t}",
                format!("/portal/pt/reset/{bogus}"),
                none(),
                ALL,
            ),
            // No signup mode on this portal: the signup pages are not there.
            (
                "GET",
                "/portal/{_s}/signup",
                "/portal/pt/signup".into(),
                none(),
                "NNNNNNNNNNNN",
            ),
            (
                "POST",
                "/portal/{_s}/signup",
                "/portal/pt/signup".into(),
                field("email", "nobody@example.com"),
                "NNNNNNNNNNNN",
            ),
            (
                "GET",
                "/portal/{_s}/signup/{t}",
                format!("/portal/pt/signup/{bogus}"),
                none(),
                ALL,
            ),
            (
                "POST",
                "/portal/{_s}/signup/{t}",
                format!("/portal/pt/signup/{bogus}"),
                none(),
                ALL,
            ),
            // Portal: a contact's pages.
            (
                "GET",
                "/portal/{_s}/dashboard",
                "/portal/pt/dashboard".into(),
                none(),
                PORTAL_GET,
            ),
            (
                "GET",
                "/portal/{_s}/tickets",
                "/portal/pt/tickets".into(),
                none(),
                TICKETS_GET,
            ),
            (
                "GET",
                "/portal/{_s}/tickets/new",
                "/portal/pt/tickets/new".into(),
                none(),
                TICKETS_GET,
            ),
            (
                "POST",
                "/portal/{_s}/tickets/new",
                "/portal/pt/tickets/new".into(),
                field("subject", ""),
                TICKETS_POST,
            ),
            (
                "GET",
                "/portal/{_s}/tickets/{r}",
                format!("/portal/pt/tickets/{r}"),
                none(),
                A1_TICKET_GET,
            ),
            (
                "POST",
                "/portal/{_s}/tickets/{r}/reply",
                format!("/portal/pt/tickets/{r}/reply"),
                field("reply", ""),
                A1_TICKET_POST,
            ),
            (
                "GET",
                "/portal/{_s}/tickets/{r}/close",
                format!("/portal/pt/tickets/{r}/close"),
                none(),
                A1_TICKET_GET,
            ),
            (
                "POST",
                "/portal/{_s}/tickets/{r}/reopen",
                format!("/portal/pt/tickets/{r}/reopen"),
                none(),
                A1_TICKET_POST,
            ),
            (
                "POST",
                "/portal/{_s}/tickets/{r}/close",
                format!("/portal/pt/tickets/{r}/close"),
                none(),
                A1_TICKET_POST,
            ),
            // A file: strangers get the same 404 as for a missing one, signed out included.
            (
                "GET",
                "/portal/{_s}/tickets/{r}/files/{id}/{_n}",
                format!("/portal/pt/tickets/{r}/files/{f}/a1.txt"),
                none(),
                "NNANNNANNANN",
            ),
            // A manager's people: the manager (and staff viewing as them) only.
            (
                "GET",
                "/portal/{_s}/people",
                "/portal/pt/people".into(),
                none(),
                "LLNNNNALNALL",
            ),
            (
                "POST",
                "/portal/{_s}/people/invite",
                "/portal/pt/people/invite".into(),
                field("email", "bad"),
                "FFNNNNAFNFFF",
            ),
            (
                "POST",
                "/portal/{_s}/people/{id}/label",
                format!("/portal/pt/people/{vic}/label"),
                field("label", "billing"),
                "FFNNNNAFNFFF",
            ),
            (
                "POST",
                "/portal/{_s}/people/{id}/disable",
                format!("/portal/pt/people/{vic}/disable"),
                none(),
                "FFNNNNAFNFFF",
            ),
            (
                "GET",
                "/portal/{_s}/profile",
                "/portal/pt/profile".into(),
                none(),
                PORTAL_GET,
            ),
            (
                "POST",
                "/portal/{_s}/profile",
                "/portal/pt/profile".into(),
                field("name", ""),
                PORTAL_POST,
            ),
            (
                "POST",
                "/portal/{_s}/profile/password",
                "/portal/pt/profile/password".into(),
                field("password", "short"),
                PORTAL_POST,
            ),
            (
                "POST",
                "/portal/{_s}/profile/notifications",
                "/portal/pt/profile/notifications".into(),
                field("notify_replies", "1"),
                PORTAL_POST,
            ),
            (
                "POST",
                "/portal/{_s}/profile/picture",
                "/portal/pt/profile/picture".into(),
                none(),
                PORTAL_POST,
            ),
            // Only A1 has a picture (their own, nobody else's); the view-as manager has none.
            (
                "GET",
                "/portal/{_s}/profile/picture",
                "/portal/pt/profile/picture".into(),
                none(),
                "LLANNNNLNNLL",
            ),
            (
                "GET",
                "/contacts/{id}/picture",
                format!("/contacts/{a1}/picture"),
                none(),
                ADMIN_GET,
            ),
            // Staff: the workspace.
            ("GET", "/", "/".into(), none(), STAFF_GET),
            ("GET", "/account", "/account".into(), none(), STAFF_GET),
            ("POST", "/account", "/account".into(), none(), STAFF_POST),
            (
                "GET",
                "/tickets/new",
                "/tickets/new".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/tickets/new",
                "/tickets/new".into(),
                field("subject", ""),
                STAFF_POST,
            ),
            (
                "GET",
                "/tickets/{r}",
                format!("/tickets/{r}"),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/tickets/{r}/reply",
                format!("/tickets/{r}/reply"),
                field("reply", ""),
                STAFF_POST,
            ),
            (
                "POST",
                "/tickets/{r}/note",
                format!("/tickets/{r}/note"),
                field("note", ""),
                STAFF_POST,
            ),
            (
                "POST",
                "/tickets/{r}/update",
                format!("/tickets/{r}/update"),
                none(),
                STAFF_POST,
            ),
            (
                "POST",
                "/tickets/{r}/sharing",
                format!("/tickets/{r}/sharing"),
                none(),
                STAFF_POST,
            ),
            (
                "GET",
                "/tickets/{r}/files/{id}/{_n}",
                format!("/tickets/{r}/files/{f}/a1.txt"),
                none(),
                "NNNNNNNNNAAA",
            ),
            (
                "GET",
                "/tickets/{r}/delete-file/{id}",
                format!("/tickets/{r}/delete-file/{f}"),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/tickets/{r}/delete-file/{id}",
                format!("/tickets/{r}/delete-file/99999"),
                none(),
                "FFFFFFFFFNNN",
            ),
            ("GET", "/projects", "/projects".into(), none(), STAFF_GET),
            (
                "GET",
                "/projects/new",
                "/projects/new".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/projects/new",
                "/projects/new".into(),
                field("name", ""),
                STAFF_POST,
            ),
            (
                "GET",
                "/projects/{key}",
                "/projects/VICT".into(),
                none(),
                STAFF_GET,
            ),
            (
                "GET",
                "/projects/{key}/edit",
                "/projects/VICT/edit".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/projects/{key}/edit",
                "/projects/VICT/edit".into(),
                field("name", ""),
                STAFF_POST,
            ),
            (
                "GET",
                "/projects/{key}/archive",
                "/projects/VICT/archive".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/projects/{key}/archive",
                "/projects/VICT/archive".into(),
                none(),
                STAFF_POST,
            ),
            (
                "POST",
                "/projects/{key}/unarchive",
                "/projects/VICT/unarchive".into(),
                none(),
                STAFF_POST,
            ),
            (
                "POST",
                "/projects/{key}/share",
                "/projects/VICT/share".into(),
                none(),
                ADMIN_POST,
            ),
            (
                "POST",
                "/projects/{key}/share/branding",
                "/projects/VICT/share/branding".into(),
                field("share_accent_color", "nope"),
                ADMIN_POST,
            ),
            (
                "POST",
                "/projects/{key}/share/enable",
                "/projects/VICT/share/enable".into(),
                none(),
                ADMIN_POST,
            ),
            (
                "GET",
                "/projects/{key}/share/regenerate",
                "/projects/VICT/share/regenerate".into(),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/projects/{key}/share/regenerate",
                "/projects/VICT/share/regenerate".into(),
                none(),
                ADMIN_POST,
            ),
            (
                "GET",
                "/projects/{key}/share/disable",
                "/projects/VICT/share/disable".into(),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/projects/{key}/share/disable",
                "/projects/VICT/share/disable".into(),
                none(),
                ADMIN_POST,
            ),
            ("GET", "/customers", "/customers".into(), none(), STAFF_GET),
            (
                "GET",
                "/customers/new",
                "/customers/new".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/customers/new",
                "/customers/new".into(),
                field("name", ""),
                STAFF_POST,
            ),
            (
                "GET",
                "/customers/organizations",
                "/customers/organizations".into(),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/customers/organizations",
                "/customers/organizations".into(),
                field("name", ""),
                STAFF_POST,
            ),
            (
                "POST",
                "/customers/organizations/{id}",
                "/customers/organizations/1".into(),
                none(),
                STAFF_POST,
            ),
            (
                "GET",
                "/customers/{id}",
                format!("/customers/{ca}"),
                none(),
                STAFF_GET,
            ),
            (
                "POST",
                "/customers/{id}",
                format!("/customers/{ca}"),
                field("name", ""),
                STAFF_POST,
            ),
            (
                "POST",
                "/customers/{id}/view-as",
                format!("/customers/{ca}/view-as"),
                field("portal", "nope"),
                STAFF_POST,
            ),
            ("GET", "/contacts", "/contacts".into(), none(), ADMIN_GET),
            (
                "GET",
                "/contacts/new",
                "/contacts/new".into(),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/contacts/new",
                "/contacts/new".into(),
                field("name", ""),
                ADMIN_POST,
            ),
            (
                "GET",
                "/contacts/{id}",
                format!("/contacts/{a1}"),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/contacts/{id}",
                format!("/contacts/{vic}"),
                field("name", ""),
                ADMIN_POST,
            ),
            (
                "POST",
                "/contacts/{id}/invite",
                format!("/contacts/{vic}/invite"),
                none(),
                ADMIN_POST,
            ),
            (
                "POST",
                "/contacts/{id}/revoke",
                format!("/contacts/{vic}/revoke"),
                none(),
                ADMIN_POST,
            ),
            (
                "POST",
                "/contacts/{id}/disable",
                format!("/contacts/{vic}/disable"),
                none(),
                ADMIN_POST,
            ),
            (
                "POST",
                "/contacts/{id}/enable",
                format!("/contacts/{vic}/enable"),
                none(),
                ADMIN_POST,
            ),
            ("GET", "/portals", "/portals".into(), none(), ADMIN_GET),
            (
                "GET",
                "/portals/new",
                "/portals/new".into(),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/portals/new",
                "/portals/new".into(),
                field("name", ""),
                ADMIN_POST,
            ),
            (
                "GET",
                "/portals/{id}",
                format!("/portals/{p}"),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/portals/{id}",
                format!("/portals/{p}"),
                field("slug", "BAD SLUG"),
                ADMIN_POST,
            ),
            (
                "GET",
                "/portals/{id}/invite",
                format!("/portals/{p}/invite"),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/portals/{id}/invite",
                format!("/portals/{p}/invite"),
                field("emails", "not-an-email"),
                ADMIN_POST,
            ),
            (
                "GET",
                "/portals/{id}/users",
                format!("/portals/{p}/users"),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/portals/{id}/users/bulk",
                format!("/portals/{p}/users/bulk"),
                vec![
                    ("ids", vic.clone()),
                    ("action", "set".into()),
                    ("set_tickets", "keep".into()),
                    ("set_projects", "keep".into()),
                    ("set_pages", "keep".into()),
                    ("set_visibility", "keep".into()),
                ],
                ADMIN_POST,
            ),
            (
                "POST",
                "/portals/{id}/users/{contact}",
                format!("/portals/{p}/users/{vic}"),
                vec![
                    ("tickets", "".into()),
                    ("projects", "".into()),
                    ("pages", "".into()),
                    ("visibility", "".into()),
                ],
                ADMIN_POST,
            ),
            (
                "POST",
                "/portals/{id}/defaults",
                format!("/portals/{p}/defaults"),
                field("tickets", "nope"),
                ADMIN_POST,
            ),
            ("GET", "/settings", "/settings".into(), none(), ADMIN_GET),
            (
                "POST",
                "/settings",
                "/settings".into(),
                field("accent_color", "nope"),
                ADMIN_POST,
            ),
            (
                "GET",
                "/settings/mail",
                "/settings/mail".into(),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/settings/mail/{id}/retry",
                "/settings/mail/1/retry".into(),
                none(),
                ADMIN_POST,
            ),
            (
                "GET",
                "/settings/audit",
                "/settings/audit".into(),
                none(),
                ADMIN_GET,
            ),
            ("GET", "/staff", "/staff".into(), none(), ADMIN_GET),
            ("GET", "/staff/new", "/staff/new".into(), none(), ADMIN_GET),
            (
                "POST",
                "/staff/new",
                "/staff/new".into(),
                field("name", ""),
                ADMIN_POST,
            ),
            (
                "GET",
                "/staff/{id}",
                format!("/staff/{vs}"),
                none(),
                ADMIN_GET,
            ),
            (
                "POST",
                "/staff/{id}",
                format!("/staff/{vs}"),
                field("name", ""),
                ADMIN_POST,
            ),
            (
                "POST",
                "/staff/{id}/deactivate",
                format!("/staff/{vs}/deactivate"),
                none(),
                ADMIN_POST,
            ),
            (
                "POST",
                "/staff/{id}/reactivate",
                format!("/staff/{vs}/reactivate"),
                none(),
                ADMIN_POST,
            ),
            // Last: the ones that end a session.
            ("POST", "/view-as/exit", "/view-as/exit".into(), none(), ALL),
            (
                "POST",
                "/portal/{_s}/profile/sign-out-everywhere",
                "/portal/pt/profile/sign-out-everywhere".into(),
                none(),
                "FFLLLLLFLFFF",
            ),
            (
                "POST",
                "/portal/{_s}/logout",
                "/portal/pt/logout".into(),
                none(),
                "LLLLLLLLLLLL",
            ),
            ("POST", "/logout", "/logout".into(), none(), "LLLLLLLLLLLL"),
        ]
    }
}

/// What one answer counts as.
fn outcome(r: &crate::util::Resp) -> char {
    match r.status {
        404 => 'N',
        403 => 'F',
        301..=308 => {
            let to = r.header("Location").unwrap_or("");
            let path = to.split('?').next().unwrap_or("");
            if path == "/login" || (path.starts_with("/portal/") && path.ends_with("/login")) {
                'L'
            } else {
                'A'
            }
        }
        _ => 'A',
    }
}

/// Every `(METHOD) ["pattern"` in the web layer's routers.
fn routed() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/web"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices(") [\"") {
                let before = &text[..i];
                let method = if before.ends_with("(GET") {
                    "GET"
                } else if before.ends_with("(POST") {
                    "POST"
                } else {
                    continue;
                };
                let rest = &text[i + 4..];
                let pattern = rest.split('"').next().unwrap();
                out.insert(format!("{method} {pattern}"));
            }
        }
    }
    out
}

#[test]
fn the_authorization_matrix_holds_for_every_route_and_caller() {
    let mut w = World::build();
    let rows = w.rows();
    // Every route the routers serve is in the table, and nothing else.
    let table: BTreeSet<String> = rows.iter().map(|r| format!("{} {}", r.0, r.1)).collect();
    let served = routed();
    let missing: Vec<_> = served.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the matrix: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "matrix rows the router does not serve: {unknown:?}"
    );
    // Every cell.
    let mut differ = Vec::new();
    for (method, pattern, path, fields, expected) in &rows {
        assert_eq!(expected.len(), COLUMNS.len(), "{method} {pattern}");
        for (col, want) in expected.chars().enumerate() {
            w.t.cookies = w.jars[col].clone();
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = if *method == "GET" {
                w.t.get(path)
            } else {
                w.t.post(path, &fields)
            };
            w.jars[col] = std::mem::take(&mut w.t.cookies);
            let got = outcome(&r);
            if got != want {
                differ.push(format!(
                    "{method} {pattern} as {}: expected {want}, got {got} (status {}, location {:?})",
                    COLUMNS[col],
                    r.status,
                    r.header("Location")
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} cell(s) differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
