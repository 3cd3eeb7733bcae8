//! Staff sign-in, sessions, CSRF, throttling and first-run setup (issue #2).

use porchlight::domain::Role;

use crate::util::TestApp;

#[test]
fn first_run_setup_creates_the_admin_once() {
    let mut t = TestApp::new();
    let token = porchlight::auth::issue_setup_token(&t.db)
        .unwrap()
        .expect("no staff yet");
    let url = format!("/setup/{}", token.expose());
    t.get(&url)
        .assert_status(200)
        .assert_contains("Create the first admin");
    t.get("/setup/not-the-token").assert_status(404);

    // Mistakes come back with the input kept and the error beside the field.
    let r = t.post(
        &url,
        &[
            ("name", "Ada"),
            ("email", "not-an-email"),
            ("password", "short"),
            ("password_confirm", "x"),
        ],
    );
    r.assert_status(422)
        .assert_contains("value=\"Ada\"")
        .assert_contains("value=\"not-an-email\"");
    r.assert_contains("Enter an email address")
        .assert_contains("at least 8")
        .assert_contains("The two passwords differ");

    let r = t.post(
        &url,
        &[
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", "correct horse"),
            ("password_confirm", "correct horse"),
        ],
    );
    r.assert_status(303);
    // Signed in straight away.
    t.get("/").assert_status(200).assert_contains("Ada");
    // The token is spent; setup is over for everyone.
    t.forget_cookies();
    t.get(&url).assert_status(404);
    assert!(
        porchlight::auth::issue_setup_token(&t.db)
            .unwrap()
            .is_none()
    );
}

#[test]
fn login_gives_the_same_answer_for_unknown_email_and_wrong_password() {
    let mut t = TestApp::new();
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    let unknown = t.login("nobody@example.com", "whatever-password");
    let wrong = t.login("ana@example.com", "wrong-password");
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = "That email and password don&#x27;t match an active staff account.";
    unknown.assert_contains(message);
    wrong
        .assert_contains(message)
        .assert_contains("value=\"ana@example.com\"");
    assert!(!t.cookies.contains_key("pl_staff"));

    let ok = t.login("ANA@example.com", &password);
    ok.assert_status(303);
    let cookie = ok.header("Set-Cookie").unwrap_or("");
    let session = ok
        .headers
        .iter()
        .find(|(k, v)| k == "Set-Cookie" && v.starts_with("pl_staff="))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session} / {cookie}"
    );
    assert!(
        !session.contains("Secure"),
        "plain http base URL: no Secure flag"
    );
    t.get("/").assert_status(200).assert_contains("Inbox");
}

#[test]
fn every_login_gets_a_new_session_id() {
    let mut t = TestApp::new();
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    t.login("ana@example.com", &password).assert_status(303);
    let first = t.cookies["pl_staff"].clone();
    t.login("ana@example.com", &password).assert_status(303);
    assert_ne!(first, t.cookies["pl_staff"]);
}

#[test]
fn secure_cookie_when_base_url_is_https() {
    let mut t = TestApp::with_config(|c| c.base_url = "https://help.example.com".into());
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    let page = t.get("/login");
    let csrf = page
        .headers
        .iter()
        .find(|(k, v)| k == "Set-Cookie" && v.contains("pl_csrf="))
        .expect("CSRF cookie");
    // Under https every cookie is Secure and __Host- prefixed (no sibling subdomain can plant it).
    assert!(
        csrf.1.starts_with("__Host-pl_csrf=") && csrf.1.contains("; Secure"),
        "{}",
        csrf.1
    );
    let token = porchlight::auth::csrf::token_for(&t.cookies["__Host-pl_csrf"]);
    let r = t.post_raw(
        "/login",
        &[
            ("csrf_token", &token),
            ("email", "ana@example.com"),
            ("password", &password),
        ],
    );
    r.assert_status(303);
    let session = r
        .headers
        .iter()
        .find(|(k, v)| k == "Set-Cookie" && v.starts_with("__Host-pl_staff="))
        .expect("session cookie");
    assert!(
        session.1.contains("; Secure") && session.1.contains("HttpOnly"),
        "{}",
        session.1
    );
    t.get("/").assert_status(200).assert_contains("Inbox");
    // A cookie without the prefix is not taken for the real one.
    let value = t.cookies.remove("__Host-pl_staff").unwrap();
    t.cookies.insert("pl_staff".into(), value);
    t.get("/").assert_status(303);
}

#[test]
fn repeated_failures_lock_the_account_and_say_for_how_long() {
    let mut t = TestApp::new();
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    for _ in 0..5 {
        t.login("ana@example.com", "wrong-password")
            .assert_status(401);
    }
    // Even the right password is refused while locked, with a clear message.
    let r = t.login("ana@example.com", &password);
    r.assert_status(429)
        .assert_contains("Too many failed sign-in attempts. Try again in 15 minutes.");
    // Another account from another address is unaffected.
    let other = t.add_staff("bo@example.com", "Bo", Role::Agent);
    t.ip = "10.0.0.7".into();
    t.login("bo@example.com", &other).assert_status(303);
}

#[test]
fn repeated_failures_from_one_ip_lock_that_ip() {
    let mut t = TestApp::with_config(|c| c.login.max_failures_per_ip = 3);
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    for i in 0..3 {
        t.login(&format!("guess{i}@example.com"), "wrong-password")
            .assert_status(401);
    }
    t.login("ana@example.com", &password)
        .assert_status(429)
        .assert_contains("Try again in");
    t.ip = "10.0.0.8".into();
    t.login("ana@example.com", &password).assert_status(303);
}

#[test]
fn logout_ends_the_session_server_side() {
    let mut t = TestApp::new();
    t.sign_in_as("ana@example.com", Role::Agent);
    let stolen = t.cookies["pl_staff"].clone();
    t.post("/logout", &[]).assert_status(303);
    t.get("/").assert_status(303);
    // Replaying the old cookie does not work either.
    t.cookies.insert("pl_staff".into(), stolen);
    assert_eq!(t.get("/").location(), "/login");
}

#[test]
fn idle_and_absolute_expiry_end_sessions() {
    let mut t = TestApp::new();
    t.sign_in_as("ana@example.com", Role::Agent);
    t.get("/").assert_status(200);
    let conn = rusqlite::Connection::open(t.app.config.db_path()).unwrap();
    // Idle for longer than staff_idle_minutes (8 h by default).
    conn.execute(
        "UPDATE staff_sessions SET last_seen_at = last_seen_at - 9 * 3600",
        [],
    )
    .unwrap();
    t.get("/").assert_status(303);

    t.forget_cookies();
    t.sign_in_as("bo@example.com", Role::Agent);
    conn.execute("UPDATE staff_sessions SET expires_at = 1", [])
        .unwrap();
    t.get("/").assert_status(303);
}

#[test]
fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let mut t = TestApp::new();
    let r = t.get("/tickets/new");
    r.assert_status(303);
    assert_eq!(r.location(), "/login?next=%2Ftickets%2Fnew");
    // A POST to a staff route without a session changes nothing and says why.
    t.post("/projects/new", &[("name", "X"), ("key", "XX")])
        .assert_status(403);
    // After signing in, `next` is followed — but only to a path on this site.
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    let r = t.post(
        "/login",
        &[
            ("email", "ana@example.com"),
            ("password", &password),
            ("next", "/tickets/new"),
        ],
    );
    assert_eq!(r.location(), "/tickets/new");
    let r = t.post(
        "/login",
        &[
            ("email", "ana@example.com"),
            ("password", &password),
            ("next", "//evil.example/"),
        ],
    );
    assert_eq!(r.location(), "/");
}

#[test]
fn csrf_missing_or_wrong_token_is_refused_and_changes_nothing() {
    let mut t = TestApp::admin();
    // No token.
    let r = t.post_raw("/projects/new", &[("name", "Acme"), ("key", "ACME")]);
    r.assert_status(403)
        .assert_contains("This form has expired");
    // A wrong token.
    let r = t.post_raw(
        "/projects/new",
        &[("csrf_token", "forged"), ("name", "Acme"), ("key", "ACME")],
    );
    r.assert_status(403);
    // Another browser's token.
    let other = porchlight::auth::csrf::token_for("another-browser-secret");
    t.post_raw(
        "/projects/new",
        &[("csrf_token", &other), ("name", "Acme"), ("key", "ACME")],
    )
    .assert_status(403);
    t.get("/projects").assert_lacks("ACME");
    // The right token from a foreign Origin.
    let token = porchlight::auth::csrf::token_for(&t.cookies["pl_csrf"]);
    let body = crate::util::form_body(&[("csrf_token", &token), ("name", "Acme"), ("key", "ACME")]);
    let headers = vec![
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
        ("Origin".to_string(), "https://evil.example".to_string()),
    ];
    t.request("POST", "/projects/new", headers, body.into_bytes())
        .assert_status(403);
    t.get("/projects").assert_lacks("ACME");
    // The login form is protected too (no login CSRF).
    t.forget_cookies();
    t.post_raw(
        "/login",
        &[
            ("email", "admin@example.com"),
            ("password", "pw-admin@example.com"),
        ],
    )
    .assert_status(403);
    // And with everything right, it works.
    let mut t2 = TestApp::admin();
    t2.post("/projects/new", &[("name", "Acme"), ("key", "ACME")])
        .assert_status(303);
}

#[test]
fn csrf_token_is_in_every_form_and_rotates_at_sign_in() {
    let mut t = TestApp::new();
    let login_page = t.get("/login");
    let before = crate::util::csrf_from(&login_page.body);
    let password = t.add_staff("ana@example.com", "Ana", Role::Agent);
    t.login("ana@example.com", &password).assert_status(303);
    let inbox = t.get("/tickets/new");
    let after = crate::util::csrf_from(&inbox.body);
    assert_ne!(
        before, after,
        "a token seen before sign-in must not work after it"
    );
}

#[test]
fn deactivating_staff_ends_their_sessions() {
    let mut admin = TestApp::admin();
    let password = admin.add_staff("bo@example.com", "Bo", Role::Agent);
    let admin_cookies = admin.cookies.clone();
    admin.forget_cookies();
    admin.login("bo@example.com", &password).assert_status(303);
    let bo_cookies = admin.cookies.clone();
    admin.get("/").assert_status(200);

    admin.cookies = admin_cookies;
    let bo = porchlight::store::staff::get_by_email(&admin.db, "bo@example.com")
        .unwrap()
        .unwrap();
    admin
        .post(
            &format!("/staff/{}/deactivate", bo.id),
            &[("confirm", "yes")],
        )
        .assert_status(303);

    admin.cookies = bo_cookies;
    assert_eq!(admin.get("/").status, 303, "deactivated: signed out");
    admin.login("bo@example.com", &password).assert_status(401);
}
