//! The web layer: the entry point from a request to a response, the route table, request
//! context, forms, CSRF and rendering.
//!
//! The route table doubles as the permission table, in tiers that each resolve the request's
//! [`Actor`] once, from what that tier owns: public routes first; then the shareable link
//! (`/s/{token}…`), whose tier resolves the token to a [`policy::ShareVisitor`] before any handler
//! runs; everything else needs a live staff session (its own cookie, `pl_staff`; portal contacts
//! will get theirs), and its handlers take the signed-in `Staff` (or a `policy::Admin`) as an
//! argument — a staff route cannot run without one. Every POST passes the CSRF check in
//! [`route`] before any handler sees it.

pub mod assets;
pub mod attachments;
pub mod forms;
pub mod fragments;
pub mod health;
pub mod listing;
pub mod portal;
pub mod respond;
pub mod share;
pub mod staff;
pub mod unsubscribe;

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use rouille::{Request, Response, router};

use crate::app::App;
use crate::auth::{self, Secret, csrf};
use crate::body::Multipart;
use crate::error::Result;
use crate::policy::{self, Actor};
use crate::store::Db;
use crate::store::staff::Staff;
use forms::Form;

/// The cookie holding the browser's CSRF secret (see `auth::csrf`).
pub const CSRF_COOKIE: &str = "pl_csrf";

/// Largest url-encoded form body accepted (files come multipart, up to `upload_limit_mb`).
pub const FORM_LIMIT: usize = 1024 * 1024;

/// Every route whose URL carries a secret (a capability: whoever holds the URL may use it).
/// `{secret}` marks a secret segment, `*` any other. Such pages get `Referrer-Policy:
/// no-referrer`, `no-store` and `noindex`, accept `Origin: null` on their forms (what browsers
/// send under `no-referrer`), and their secrets never reach the log — all from this one list.
/// A pattern also covers every path below it (`/s/{secret}` covers a mistyped `/s/…/x`).
pub const SECRET_ROUTES: &[&str] = &[
    "/s/{secret}/t/{secret}",
    "/s/{secret}",
    "/setup/{secret}",
    "/portal/*/magic/{secret}",
    "/portal/*/invite/{secret}",
    "/portal/*/reset/{secret}",
    "/portal/*/signup/{secret}",
    "/unsubscribe/{secret}",
];

/// The one POST taken without a CSRF token: a one-click unsubscribe (RFC 8058) is posted by the
/// recipient's mail provider, which has no cookie and no form. The URL's secret is the whole
/// authority, and the only thing it can do is stop email about one ticket.
fn csrf_exempt(path: &str) -> bool {
    path.starts_with("/unsubscribe/") && path.matches('/').count() == 2
}

/// `path` with empty segments dropped (`//s/x` → `/s/x`): secrets are found however the path
/// is written.
fn canonical(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

/// The entry in [`SECRET_ROUTES`] that `path` (canonical) falls under, if any.
fn secret_route(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    SECRET_ROUTES.iter().copied().find(|pattern| {
        let pattern: Vec<&str> = pattern.split('/').collect();
        pattern.len() <= segments.len()
            && pattern.iter().zip(&segments).all(|(p, s)| match *p {
                "*" | "{secret}" => !s.is_empty(),
                literal => literal == *s,
            })
    })
}

/// Whether a path carries a secret (see [`SECRET_ROUTES`]).
pub fn has_secret_in_path(url: &str) -> bool {
    secret_route(&canonical(url.split(['?', '#']).next().unwrap_or(""))).is_some()
}

/// The path for logs: no query string, and every secret segment (see [`SECRET_ROUTES`])
/// replaced by `***`.
pub fn redact_path(url: &str) -> String {
    let path = canonical(url.split(['?', '#']).next().unwrap_or(""));
    let Some(pattern) = secret_route(&path) else {
        return path;
    };
    let mut pattern = pattern.split('/');
    path.split('/')
        .map(|segment| match pattern.next() {
            Some("{secret}") => "***",
            _ => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Per-request context: what every handler can use.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub db: &'a Db,
    pub req: &'a Request,
    pub request_id: &'a str,
    /// Who is asking, as resolved by the router tier that owns the route.
    pub actor: Actor,
    /// The parsed body of a POST (CSRF-checked); empty for other methods.
    pub form: Form,
    /// Files sent with a multipart POST (removed from disk when the request ends).
    pub uploads: Vec<crate::body::Upload>,
    /// `Set-Cookie` values to add to the response.
    cookies: RefCell<Vec<String>>,
    /// The browser's CSRF secret, created on first need.
    csrf_anchor: RefCell<Option<String>>,
    /// The database's version as first read in this request (see [`Ctx::data_version`]).
    data_version: std::cell::Cell<Option<crate::store::DataVersion>>,
    /// The view-as banner's words, when staff view a portal as a customer.
    pub viewing_as: RefCell<Option<String>>,
}

impl Ctx<'_> {
    /// The database's version (`Db::data_version`) as of the first time this request asked.
    /// A router tier asks before it reads what a kept view (`fragments::view`) will depend on,
    /// so a view is never kept under a version newer than its data.
    pub fn data_version(&self) -> Result<crate::store::DataVersion> {
        if let Some(version) = self.data_version.get() {
            return Ok(version);
        }
        let version = self.db.data_version()?;
        self.data_version.set(Some(version));
        Ok(version)
    }

    /// The signed-in staff member, on staff routes (for the layout's navigation).
    pub fn staff(&self) -> Option<&Staff> {
        match &self.actor {
            Actor::Staff(staff) => Some(staff),
            _ => None,
        }
    }

    /// A request cookie's value, by its plain name (the `__Host-` prefix is added under https).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let name = auth::sessions::cookie_name(&self.app.config, name);
        rouille::input::cookies(self.req)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    /// Queues a `Set-Cookie` header for the response.
    pub fn set_cookie(&self, value: String) {
        self.cookies.borrow_mut().push(value);
    }

    /// The token forms on this page must carry. Sets the CSRF cookie when the browser has none.
    pub fn csrf_token(&self) -> String {
        let mut anchor = self.csrf_anchor.borrow_mut();
        if anchor.is_none() {
            let fresh = Secret::generate();
            self.set_cookie(auth::sessions::cookie(
                &self.app.config,
                CSRF_COOKIE,
                fresh.expose(),
                None,
            ));
            *anchor = Some(fresh.expose().to_string());
        }
        csrf::token_for(anchor.as_deref().expect("set above"))
    }

    /// Replaces the CSRF secret (at sign-in, so a token seen before sign-in is useless after).
    pub fn rotate_csrf(&self) {
        *self.csrf_anchor.borrow_mut() = None;
        let _ = self.csrf_token();
    }

    /// The client's IP address as text (from the connection, or `X-Forwarded-For` when the
    /// connection layer was told to trust it).
    pub fn client_ip(&self) -> String {
        self.req.remote_addr().ip().to_string()
    }

    /// A query-string parameter, trimmed; `None` when absent or blank.
    pub fn query(&self, name: &str) -> Option<String> {
        self.req
            .get_param(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn finish(&self, mut response: Response) -> Response {
        for c in self.cookies.borrow_mut().drain(..) {
            response.headers.push(("Set-Cookie".into(), c.into()));
        }
        response
    }
}

/// Answers one request using `db`, the calling thread's own connection. `upload` is a
/// multipart body the connection layer already parsed while it streamed (the request's own
/// body is then empty); in-process callers pass `None` and the body is parsed here.
///
/// Adds what every response needs: a request id, security headers, the access-log line (with
/// secrets in paths redacted), and a plain 500 page carrying only the request id when a handler
/// fails or panics.
pub fn handle(app: &App, db: &Db, req: &Request, upload: Option<Multipart>) -> Response {
    let started = Instant::now();
    let request_id = app.next_request_id();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        route(app, db, req, &request_id, upload)
    }));
    let mut response = match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            db.note_error(&e);
            log::error!(
                "request {request_id}: {} {}: {e}",
                req.method(),
                redact_path(&req.url())
            );
            respond::server_error(app, &request_id)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            log::error!(
                "request {request_id}: {} {}: panic: {what}",
                req.method(),
                redact_path(&req.url())
            );
            respond::server_error(app, &request_id)
        }
    };
    respond::add_security_headers(&mut response, req);
    let took = started.elapsed();
    if app.metrics.enabled() {
        app.metrics.request(&req.url(), response.status_code, took);
    }
    log::info!(
        target: "porchlight::access",
        "{} {} {} {:.1}ms",
        req.method(),
        redact_path(&req.url()),
        response.status_code,
        took.as_secs_f64() * 1000.0
    );
    response
}

/// Routes one request. Errors become a 500 page in [`handle`].
fn route(
    app: &App,
    db: &Db,
    req: &Request,
    request_id: &str,
    upload: Option<Multipart>,
) -> Result<Response> {
    let method = req.method();
    let is_get = method == "GET" || method == "HEAD";
    if !is_get && method != "POST" {
        return Ok(respond::method_not_allowed());
    }
    // Static files and health checks need neither a form nor a session.
    if is_get {
        if let Some(rest) = req.url().strip_prefix("/assets/") {
            return Ok(assets::serve(app, req, rest));
        }
        if req.url() == "/healthz" {
            return Ok(health::show(db));
        }
        if req.url() == "/metrics" {
            return Ok(health::metrics(app, db, req));
        }
        // Browsers ask for this on every site: the icon, never a sign-in page.
        if req.url() == "/favicon.ico" {
            return Ok(match app.assets.urls().get("favicon.svg") {
                Some(url) => Response::redirect_301(url.clone()),
                None => Response::empty_404(),
            });
        }
        if let Some(color) = req
            .url()
            .strip_prefix("/brand/")
            .and_then(|r| r.strip_suffix(".css"))
        {
            return Ok(assets::brand_css(color));
        }
    }

    let mut ctx = Ctx {
        app,
        db,
        req,
        request_id,
        actor: Actor::Anonymous,
        form: Form::default(),
        uploads: Vec::new(),
        cookies: RefCell::new(Vec::new()),
        csrf_anchor: RefCell::new(None),
        data_version: std::cell::Cell::new(None),
        viewing_as: RefCell::new(None),
    };
    *ctx.csrf_anchor.borrow_mut() = ctx.cookie(CSRF_COOKIE).filter(|v| !v.is_empty());

    if method == "POST" {
        match Form::parse(app, req, upload) {
            Ok((form, uploads)) => {
                ctx.form = form;
                ctx.uploads = uploads;
            }
            Err(e) => return Ok(respond::body_refused(&ctx, &e)),
        }
        if !csrf_exempt(&req.url()) && !csrf_ok(&ctx) {
            log::warn!(
                "request {request_id}: CSRF check failed for POST {}",
                redact_path(&req.url())
            );
            return Ok(respond::csrf_failed(&ctx));
        }
    }

    let url = req.url();
    let response = if url.starts_with("/s/") {
        // The shareable link: its tier resolves the token; no staff session is consulted.
        share::route(&mut ctx)?
    } else if url == "/portal" || url.starts_with("/portal/") {
        // Portals: their tier resolves the portal, then a contact session (never a staff one).
        portal::route(&mut ctx)?
    } else {
        match route_public(&ctx)? {
            Some(response) => response,
            None => {
                // Everything else needs a signed-in staff member.
                let staff = match ctx.cookie(auth::sessions::STAFF_COOKIE) {
                    Some(value) => auth::sessions::resolve(db, &app.config, &value)?,
                    None => None,
                };
                match staff {
                    Some(staff) => {
                        ctx.actor = Actor::Staff(staff);
                        let Actor::Staff(me) = &ctx.actor else {
                            unreachable!("set above")
                        };
                        route_staff(&ctx, me)?
                    }
                    // A file's address tells a stranger nothing: the same 404 as a missing file.
                    None if url.starts_with("/tickets/") && url.contains("/files/") => {
                        respond::not_found(&ctx)
                    }
                    None => respond::to_login(&ctx),
                }
            }
        }
    };
    Ok(ctx.finish(response))
}

fn csrf_ok(ctx: &Ctx<'_>) -> bool {
    let null_expected = has_secret_in_path(&ctx.req.url());
    let origin_ok = csrf::origin_allowed(
        ctx.req.header("Origin"),
        ctx.req.header("Host"),
        &ctx.app.config.base_url(),
        null_expected,
    );
    let anchor = ctx.csrf_anchor.borrow();
    let token_ok = match anchor.as_deref() {
        Some(anchor) => csrf::token_matches(anchor, ctx.form.get(csrf::FIELD)),
        None => false,
    };
    origin_ok && token_ok
}

/// Routes anyone may reach. `None` means "not a public route".
fn route_public(ctx: &Ctx<'_>) -> Result<Option<Response>> {
    let req = ctx.req;
    router!(req,
        (GET) ["/login"] => { staff::login::show(ctx).map(Some) },
        (POST) ["/login"] => { staff::login::submit(ctx).map(Some) },
        (POST) ["/logout"] => { staff::login::logout(ctx).map(Some) },
        (POST) ["/view-as/exit"] => { portal::view_as::exit(ctx).map(Some) },
        (GET) ["/setup/{token}", token: String] => { staff::setup::show(ctx, &token).map(Some) },
        (GET) ["/brand/logo/{name}", name: String] => { assets::brand_logo(ctx, &name).map(Some) },
        (POST) ["/setup/{token}", token: String] => { staff::setup::submit(ctx, &token).map(Some) },
        (GET) ["/unsubscribe/{token}", token: String] => { unsubscribe::show(ctx, &token).map(Some) },
        (POST) ["/unsubscribe/{token}", token: String] => { unsubscribe::confirm(ctx, &token).map(Some) },
        _ => Ok(None)
    )
}

/// Routes for signed-in staff. Each line says who may use it: `me` is any active staff member;
/// `admin` routes go through `policy::admin`, which only admins pass.
fn route_staff(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    use staff::{
        account, contacts, customers, inbox, mail, portal_users, portals, projects, settings,
        share, tickets, users,
    };
    let req = ctx.req;
    let admin = || policy::admin(me);
    let access = || policy::may_manage_portal_access(me);
    let share_admin = || policy::may_manage_share_link(me);
    router!(req,
        (GET) ["/"] => { inbox::list(ctx, me) },
        (GET) ["/tickets/new"] => { tickets::new(ctx, me) },
        (POST) ["/tickets/new"] => { tickets::create(ctx, me) },
        (GET) ["/tickets/{r}", r: String] => { tickets::show(ctx, me, &r) },
        (POST) ["/tickets/{r}/reply", r: String] => { tickets::add_comment(ctx, me, &r, crate::domain::Visibility::Public) },
        (POST) ["/tickets/{r}/note", r: String] => { tickets::add_comment(ctx, me, &r, crate::domain::Visibility::Internal) },
        (POST) ["/tickets/{r}/update", r: String] => { tickets::update(ctx, me, &r) },
        (POST) ["/tickets/{r}/sharing", r: String] => { tickets::update_sharing(ctx, me, &r) },
        (GET) ["/tickets/{r}/files/{id}/{_n}", r: String, id: i64, _n: String] => { tickets::file(ctx, me, &r, id) },
        (GET) ["/tickets/{r}/delete-file/{id}", r: String, id: i64] => { tickets::confirm_delete_file(ctx, me, &r, id) },
        (POST) ["/tickets/{r}/delete-file/{id}", r: String, id: i64] => { tickets::delete_file(ctx, me, &r, id) },
        (GET) ["/projects"] => { projects::list(ctx, me) },
        (GET) ["/projects/new"] => { projects::new(ctx, me) },
        (POST) ["/projects/new"] => { projects::create(ctx, me) },
        (GET) ["/projects/{key}", key: String] => { projects::show(ctx, me, &key) },
        (GET) ["/projects/{key}/edit", key: String] => { projects::edit(ctx, me, &key) },
        (POST) ["/projects/{key}/edit", key: String] => { projects::update(ctx, me, &key) },
        (GET) ["/projects/{key}/archive", key: String] => { projects::confirm_archive(ctx, me, &key) },
        (POST) ["/projects/{key}/archive", key: String] => { projects::set_archived(ctx, me, &key, true) },
        (POST) ["/projects/{key}/unarchive", key: String] => { projects::set_archived(ctx, me, &key, false) },
        (POST) ["/projects/{key}/share", key: String] => { with_admin(ctx, share_admin(), |c, a| share::update(c, a, &key)) },
        (POST) ["/projects/{key}/share/branding", key: String] => { with_admin(ctx, share_admin(), |c, a| share::update_branding(c, a, &key)) },
        (POST) ["/projects/{key}/share/enable", key: String] => { with_admin(ctx, share_admin(), |c, a| share::enable(c, a, &key)) },
        (GET) ["/projects/{key}/share/disable", key: String] => { with_admin(ctx, share_admin(), |c, a| share::confirm_disable(c, a, &key)) },
        (POST) ["/projects/{key}/share/disable", key: String] => { with_admin(ctx, share_admin(), |c, a| share::disable(c, a, &key)) },
        (GET) ["/projects/{key}/share/regenerate", key: String] => { with_admin(ctx, share_admin(), |c, a| share::confirm_regenerate(c, a, &key)) },
        (POST) ["/projects/{key}/share/regenerate", key: String] => { with_admin(ctx, share_admin(), |c, a| share::regenerate(c, a, &key)) },
        (GET) ["/customers"] => { customers::list(ctx, me) },
        (GET) ["/customers/new"] => { customers::new(ctx, me) },
        (POST) ["/customers/new"] => { customers::create(ctx, me) },
        (GET) ["/customers/organizations"] => { customers::organizations(ctx, me) },
        (POST) ["/customers/organizations"] => { customers::save_organization(ctx, me, None) },
        (POST) ["/customers/organizations/{id}", id: i64] => { customers::save_organization(ctx, me, Some(id)) },
        (GET) ["/customers/{id}", id: i64] => { customers::show(ctx, me, id) },
        (POST) ["/customers/{id}", id: i64] => { customers::update(ctx, me, id) },
        (GET) ["/contacts"] => { with_admin(ctx, access(), contacts::list) },
        (GET) ["/contacts/new"] => { with_admin(ctx, access(), contacts::new) },
        (POST) ["/contacts/new"] => { with_admin(ctx, access(), contacts::create) },
        (GET) ["/contacts/{id}", id: i64] => { with_admin(ctx, access(), |c, a| contacts::edit(c, a, id)) },
        (POST) ["/contacts/{id}", id: i64] => { with_admin(ctx, access(), |c, a| contacts::update(c, a, id)) },
        (GET) ["/contacts/{id}/picture", id: i64] => { with_admin(ctx, access(), |c, a| contacts::picture(c, a, id)) },
        (POST) ["/contacts/{id}/invite", id: i64] => { with_admin(ctx, access(), |c, a| contacts::invite(c, a, id)) },
        (POST) ["/contacts/{id}/revoke", id: i64] => { with_admin(ctx, access(), |c, a| contacts::revoke(c, a, id)) },
        (POST) ["/contacts/{id}/disable", id: i64] => { with_admin(ctx, access(), |c, a| contacts::set_enabled(c, a, id, false)) },
        (POST) ["/contacts/{id}/enable", id: i64] => { with_admin(ctx, access(), |c, a| contacts::set_enabled(c, a, id, true)) },
        (GET) ["/portals"] => { with_admin(ctx, access(), portals::list) },
        (GET) ["/portals/new"] => { with_admin(ctx, access(), portals::new) },
        (POST) ["/portals/new"] => { with_admin(ctx, access(), portals::create) },
        (GET) ["/portals/{id}", id: i64] => { with_admin(ctx, access(), |c, a| portals::edit(c, a, id)) },
        (POST) ["/portals/{id}", id: i64] => { with_admin(ctx, access(), |c, a| portals::update(c, a, id)) },
        (GET) ["/portals/{id}/users", id: i64] => { with_admin(ctx, access(), |c, a| portal_users::list(c, a, id)) },
        (POST) ["/portals/{id}/users/bulk", id: i64] => { with_admin(ctx, access(), |c, a| portal_users::bulk(c, a, id)) },
        (POST) ["/portals/{id}/users/{contact}", id: i64, contact: i64] => { with_admin(ctx, access(), |c, a| portal_users::update_one(c, a, id, contact)) },
        (POST) ["/portals/{id}/defaults", id: i64] => { with_admin(ctx, access(), |c, a| portal_users::update_defaults(c, a, id)) },
        (GET) ["/portals/{id}/invite", id: i64] => { with_admin(ctx, access(), |c, a| portals::bulk_form(c, a, id)) },
        (POST) ["/portals/{id}/invite", id: i64] => { with_admin(ctx, access(), |c, a| portals::bulk_invite(c, a, id)) },
        (POST) ["/customers/{id}/view-as", id: i64] => { portal::view_as::start(ctx, me, id) },
        (GET) ["/settings/audit"] => { with_admin(ctx, admin(), settings::audit) },
        (GET) ["/account"] => { account::show(ctx, me) },
        (POST) ["/account"] => { account::update(ctx, me) },
        (GET) ["/settings/mail"] => { with_admin(ctx, admin(), mail::list) },
        (POST) ["/settings/mail/{id}/retry", id: i64] => { with_admin(ctx, admin(), |c, a| mail::retry(c, a, id)) },
        (GET) ["/settings"] => { with_admin(ctx, admin(), settings::edit) },
        (POST) ["/settings"] => { with_admin(ctx, admin(), settings::update) },
        (GET) ["/staff"] => { with_admin(ctx, admin(), users::list) },
        (GET) ["/staff/new"] => { with_admin(ctx, admin(), users::new) },
        (POST) ["/staff/new"] => { with_admin(ctx, admin(), users::create) },
        (GET) ["/staff/{id}", id: i64] => { with_admin(ctx, admin(), |c, a| users::edit(c, a, id)) },
        (POST) ["/staff/{id}", id: i64] => { with_admin(ctx, admin(), |c, a| users::update(c, a, id)) },
        (POST) ["/staff/{id}/deactivate", id: i64] => { with_admin(ctx, admin(), |c, a| users::set_active(c, a, id, false)) },
        (POST) ["/staff/{id}/reactivate", id: i64] => { with_admin(ctx, admin(), |c, a| users::set_active(c, a, id, true)) },
        _ => Ok(respond::not_found(ctx))
    )
}

/// Runs an admin-only handler when `admin` is granted; otherwise answers 403.
fn with_admin<'a>(
    ctx: &Ctx<'_>,
    admin: Option<policy::Admin<'a>>,
    handler: impl FnOnce(&Ctx<'_>, policy::Admin<'a>) -> Result<Response>,
) -> Result<Response> {
    match admin {
        Some(admin) => handler(ctx, admin),
        None => Ok(respond::forbidden(ctx)),
    }
}

#[cfg(test)]
mod tests {
    use super::{has_secret_in_path, redact_path};

    #[test]
    fn secrets_in_paths_are_redacted() {
        assert_eq!(redact_path("/s/abc/whatever/else"), "/s/***/whatever/else");
        assert_eq!(redact_path("//s//abc"), "/s/***");
        assert_eq!(redact_path("/unsubscribe/tok"), "/unsubscribe/***");
        assert_eq!(
            redact_path("/portal/acme/invite/tok"),
            "/portal/acme/invite/***"
        );
        assert_eq!(
            redact_path("/portal/acme/tickets/A-1"),
            "/portal/acme/tickets/A-1"
        );
        assert_eq!(redact_path("/setup"), "/setup");
        assert!(has_secret_in_path("/s/abc?q=1"));
        assert!(has_secret_in_path("/portal/acme/magic/tok"));
        assert!(!has_secret_in_path("/portal/acme/magic"));
        assert!(!has_secret_in_path("/settings"));
        assert_eq!(
            redact_path("/s/abcDEF123/t/xyz?status=open"),
            "/s/***/t/***"
        );
        assert_eq!(redact_path("/setup/tok"), "/setup/***");
        assert_eq!(
            redact_path("/portal/acme/magic/tok"),
            "/portal/acme/magic/***"
        );
        assert_eq!(redact_path("/tickets/ACME-1?q=secret"), "/tickets/ACME-1");
        assert_eq!(redact_path("/"), "/");
    }
}
