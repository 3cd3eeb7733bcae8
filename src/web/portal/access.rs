//! Getting into a portal: sign-in with a password or a magic link, invitations, signup and
//! password reset, and signing out.
//!
//! Whether an account exists for an address is never given away: sign-in failures read the
//! same, and the magic-link, signup and reset forms always answer "check your email" — what
//! differs is only what (if anything) the email says. A link in an email opens a page with a
//! button; only that button's POST uses the link, so a mail scanner that fetches links neither
//! burns nor uses it. Links are stored hashed, work once, in their own portal only, and expire
//! (sign-in links after 15 minutes, resets after an hour, invitations after 7 days).

use rouille::{Response, router};

use crate::auth::contact_sessions::{self, CONTACT_COOKIE};
use crate::auth::throttle::{self, Limit};
use crate::auth::{Secret, passwords, sessions};
use crate::domain::{ContactId, ContactRole, ContactStatus, CustomerId, plausible_email};
use crate::error::Result;
use crate::notify;
use crate::policy;
use crate::store::contacts::{Contact, NewContact};
use crate::store::portals::Portal;
use crate::store::{self, Tx, tokens};
use crate::view;
use crate::web::forms::Errors;
use crate::web::staff::safe_next;
use crate::web::{Ctx, respond};

use super::{base, render};

/// A sign-in link works this long.
pub const MAGIC_TTL: i64 = 15 * 60;
/// A password-reset link works this long.
pub const RESET_TTL: i64 = 3600;
/// An invitation from staff works this long.
pub const INVITE_TTL: i64 = 7 * 86_400;
/// A signup's confirmation link works this long.
pub const SIGNUP_TTL: i64 = 86_400;

pub const KIND_MAGIC: &str = "magic";
pub const KIND_INVITE: &str = "invite";
pub const KIND_RESET: &str = "reset";
/// Signup links live in `signups`, not `tokens`; the kind names their URL segment.
pub const KIND_SIGNUP: &str = "signup";

const NAME_MAX: usize = 100;

/// The portal's public routes; `None` when the URL is not one of them.
pub fn route(ctx: &Ctx<'_>, portal: &Portal) -> Result<Option<Response>> {
    let req = ctx.req;
    router!(req,
        (GET) ["/portal/{_s}/login", _s: String] => { login_page(ctx, portal).map(Some) },
        (POST) ["/portal/{_s}/login", _s: String] => { login(ctx, portal).map(Some) },
        (POST) ["/portal/{_s}/logout", _s: String] => { logout(ctx, portal).map(Some) },
        (POST) ["/portal/{_s}/magic", _s: String] => { request_magic(ctx, portal).map(Some) },
        (GET) ["/portal/{_s}/magic/{t}", _s: String, t: String] => { magic_page(ctx, portal, &t).map(Some) },
        (POST) ["/portal/{_s}/magic/{t}", _s: String, t: String] => { use_magic(ctx, portal, &t).map(Some) },
        (GET) ["/portal/{_s}/invite/{t}", _s: String, t: String] => { password_page(ctx, portal, &t, KIND_INVITE).map(Some) },
        (POST) ["/portal/{_s}/invite/{t}", _s: String, t: String] => { set_password(ctx, portal, &t, KIND_INVITE).map(Some) },
        (GET) ["/portal/{_s}/reset", _s: String] => { reset_page(ctx, portal).map(Some) },
        (POST) ["/portal/{_s}/reset", _s: String] => { request_reset(ctx, portal).map(Some) },
        (GET) ["/portal/{_s}/reset/{t}", _s: String, t: String] => { password_page(ctx, portal, &t, KIND_RESET).map(Some) },
        (POST) ["/portal/{_s}/reset/{t}", _s: String, t: String] => { set_password(ctx, portal, &t, KIND_RESET).map(Some) },
        (GET) ["/portal/{_s}/sent", _s: String] => { sent_page(ctx, portal).map(Some) },
        (GET) ["/portal/{_s}/signup", _s: String] => { signup_page(ctx, portal).map(Some) },
        (POST) ["/portal/{_s}/signup", _s: String] => { signup(ctx, portal).map(Some) },
        (GET) ["/portal/{_s}/signup/{t}", _s: String, t: String] => { signup_confirm_page(ctx, portal, &t).map(Some) },
        (POST) ["/portal/{_s}/signup/{t}", _s: String, t: String] => { signup_confirm(ctx, portal, &t).map(Some) },
        _ => Ok(None)
    )
}

/// Whether `contact` may use `portal` now (active, and the portal is theirs or their customer's).
fn may_use(ctx: &Ctx<'_>, contact: &Contact, portal: &Portal) -> Result<bool> {
    let serves = match contact.customer_id {
        Some(customer) => store::portals::serves_customer(ctx.db, portal.id, customer)?,
        None => false,
    };
    Ok(policy::portal_contact(contact, portal, serves).is_some())
}

/// Like [`may_use`] but for an account that is still invited (it may accept its invitation).
fn may_join(ctx: &Ctx<'_>, contact: &Contact, portal: &Portal) -> Result<bool> {
    let mut active = contact.clone();
    if active.status == ContactStatus::Invited {
        active.status = ContactStatus::Active;
    }
    may_use(ctx, &active, portal)
}

/// Starts a contact session (fresh id, own cookie) and replaces the CSRF secret.
fn sign_in(ctx: &Ctx<'_>, contact: &Contact) -> Result<()> {
    let config = &ctx.app.config;
    let session = contact_sessions::start(ctx.db, config, contact.id)?;
    ctx.set_cookie(sessions::cookie(
        config,
        CONTACT_COOKIE,
        session.expose(),
        Some(config.contact_absolute().as_secs()),
    ));
    ctx.rotate_csrf();
    log::info!("contact {} signed in", contact.id);
    Ok(())
}

fn dashboard(portal: &Portal) -> String {
    format!("{}/dashboard", base(portal))
}

// ---- sign-in with a password --------------------------------------------------------------

fn login_page(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    let next = ctx.query("next").unwrap_or_default();
    if let Some(cookie) = ctx.cookie(CONTACT_COOKIE).filter(|c| !c.is_empty())
        && let Some(contact) = contact_sessions::resolve(ctx.db, &ctx.app.config, &cookie)?
        && may_use(ctx, &contact, portal)?
    {
        let to = dashboard(portal);
        return Ok(respond::redirect(local_next(&next, portal).unwrap_or(&to)));
    }
    let values = view! { email => ctx.query("email").unwrap_or_default(), next };
    render(
        ctx,
        portal,
        None,
        200,
        "portal/login.html",
        view! { values, errors => Errors::default() },
    )
}

/// `next` when it is a page of this portal (no `.` or `..` segment, however encoded, can take
/// it elsewhere).
fn local_next<'a>(next: &'a str, portal: &Portal) -> Option<&'a str> {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let dotted = path.to_ascii_lowercase().contains("%2e")
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..");
    safe_next(next).filter(|n| !dotted && n.starts_with(&format!("{}/", base(portal))))
}

fn login(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    let config = &ctx.app.config;
    let email = ctx.form.line("email").to_lowercase();
    let password = ctx.form.get("password");
    let next = ctx.form.get("next");
    let values = view! { email => ctx.form.trimmed("email"), next };
    let mut errors = Errors::default();
    if email.is_empty() {
        errors.add("email", "Enter your email address.");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    let page = |status: u16, errors: Errors| {
        render(
            ctx,
            portal,
            None,
            status,
            "portal/login.html",
            view! { values, errors },
        )
    };
    if !errors.is_empty() {
        return page(422, errors);
    }
    let attempt = throttle::SignInAttempt::start(
        ctx.db,
        config,
        "portal-login",
        ctx.req.remote_addr().ip(),
        &email,
    )?;
    let attempt = match attempt {
        Ok(attempt) => attempt,
        Err(wait) => {
            errors.add(
                "_form",
                format!(
                    "Too many failed sign-in attempts. Try again in {}, or ask for a sign-in link.",
                    throttle::minutes_text(wait)
                ),
            );
            return page(429, errors);
        }
    };
    let account = store::contacts::get_by_email(ctx.db, &email)?;
    let matched = match account.as_ref().and_then(|c| c.password_hash.as_deref()) {
        Some(hash) => passwords::verify(password, hash),
        None => {
            passwords::verify_dummy(password, config.bcrypt_cost);
            false
        }
    };
    let contact = match account.filter(|_| matched) {
        Some(contact) if may_use(ctx, &contact, portal)? => contact,
        _ => {
            log::info!("failed portal sign-in from {}", ctx.client_ip());
            errors.add(
                "_form",
                "That email and password don't match an account of this portal. Forgot your password, or never set one? Ask for a sign-in link below.",
            );
            return page(401, errors);
        }
    };
    attempt.succeeded(ctx.db)?;
    sign_in(ctx, &contact)?;
    let to = dashboard(portal);
    Ok(respond::redirect(local_next(next, portal).unwrap_or(&to)))
}

fn logout(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    if let Some(cookie) = ctx.cookie(CONTACT_COOKIE).filter(|c| !c.is_empty()) {
        contact_sessions::end(ctx.db, &cookie)?;
    }
    ctx.set_cookie(sessions::cookie(
        &ctx.app.config,
        CONTACT_COOKIE,
        "",
        Some(0),
    ));
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("{}/login", base(portal)),
        "You have signed out.",
    ))
}

// ---- forms that send a link ---------------------------------------------------------------

/// How a form that emails a link went, before anything was sent.
enum Gate {
    /// Go on and send (if there is anyone to send to).
    Send,
    /// This address asked too often: answer as usual, send nothing.
    Quiet,
    /// This IP asked too often: say so (it tells nothing about any account).
    TooMany(i64),
}

/// A one-time link and the email carrying it, made before the write that stores them.
struct Outgoing {
    kind: &'static str,
    ttl: i64,
    token: Secret,
    email: crate::mail::Email,
}

/// Makes a `kind` link for `to` in `portal` and renders `email_kind` carrying it. Called for
/// unknown addresses too (and thrown away), so a known address costs no more time.
fn prepare(
    ctx: &Ctx<'_>,
    portal: &Portal,
    (kind, ttl, email_kind): (&'static str, i64, &str),
    to: &str,
    name: &str,
) -> Result<Outgoing> {
    let token = Secret::generate();
    let url = format!(
        "{}{}/{}/{}",
        ctx.app.config.base_url(),
        base(portal),
        link_segment(kind),
        token.expose()
    );
    let email = notify::portal_access(ctx.app, ctx.db, portal, email_kind, to, name, &url)?;
    Ok(Outgoing {
        kind,
        ttl,
        token,
        email,
    })
}

/// Stores `out` for `contact` (voiding their earlier links of that kind) and queues its email.
fn store_link(
    tx: &Tx<'_>,
    ctx: &Ctx<'_>,
    portal: &Portal,
    contact: ContactId,
    out: &Outgoing,
) -> Result<()> {
    store::contacts::delete_tokens(tx, contact, Some(out.kind))?;
    tokens::insert_for_portal(
        tx,
        &out.token.hash(),
        out.kind,
        contact.0,
        portal.id.0,
        tx.now() + out.ttl,
    )?;
    crate::mail::queue(tx, &ctx.app.mailer, &out.email)
}

/// One write for every link-sending form, whatever the address: counts the request against the
/// client's IP (30 an hour) and the address (5 an hour), then — only when both allow — runs
/// `send`. Known and unknown addresses cost the same commit.
fn gated(ctx: &Ctx<'_>, email: &str, send: impl FnOnce(&Tx<'_>) -> Result<()>) -> Result<Gate> {
    let ip_scope = format!(
        "portal-mail-ip:{}",
        throttle::client_key(ctx.req.remote_addr().ip())
    );
    let address_scope = format!("portal-mail-address:{email}");
    ctx.db.write(|tx| {
        let by_ip = Limit {
            max: 30,
            window_secs: 3600,
            kept: throttle::Kept::OnDisk,
        };
        if let Err(wait) = throttle::check_and_record(tx, &ip_scope, by_ip)? {
            return Ok(Gate::TooMany(wait));
        }
        let by_address = Limit {
            max: 5,
            window_secs: 3600,
            kept: throttle::Kept::OnDisk,
        };
        if throttle::check_and_record(tx, &address_scope, by_address)?.is_err() {
            return Ok(Gate::Quiet);
        }
        send(tx)?;
        Ok(Gate::Send)
    })
}

/// Issues a one-time link of `kind` for `contact` and emails it (staff invitations).
fn send_link(
    ctx: &Ctx<'_>,
    portal: &Portal,
    contact: &Contact,
    link: (&'static str, i64, &str),
) -> Result<()> {
    let out = prepare(ctx, portal, link, &contact.email, &contact.name)?;
    ctx.db
        .write(|tx| store_link(tx, ctx, portal, contact.id, &out))
}

/// The URL segment of a link kind.
fn link_segment(kind: &str) -> &'static str {
    match kind {
        KIND_MAGIC => "magic",
        KIND_RESET => "reset",
        KIND_SIGNUP => "signup",
        _ => "invite",
    }
}

/// Where every link-sending form ends, whatever happened: the same redirect for every address,
/// to a page a reload cannot send again.
fn sent(_ctx: &Ctx<'_>, portal: &Portal, what: &str) -> Result<Response> {
    Ok(respond::redirect(&format!(
        "{}/sent?what={what}",
        super::base(portal)
    )))
}

/// `GET /portal/{slug}/sent?what=magic|reset|signup`: "Check your email".
fn sent_page(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    let what = match ctx.query("what").as_deref() {
        Some("magic") => "magic",
        Some("reset") => "reset",
        _ => "signup",
    };
    render(ctx, portal, None, 200, "portal/sent.html", view! { what })
}

fn too_many(
    ctx: &Ctx<'_>,
    portal: &Portal,
    template: &str,
    values: minijinja::Value,
    wait: i64,
) -> Result<Response> {
    let mut errors = Errors::default();
    errors.add(
        "_form",
        format!(
            "Too many requests from your network. Try again in {}.",
            throttle::minutes_text(wait)
        ),
    );
    render(ctx, portal, None, 429, template, view! { values, errors })
}

/// The end of the "email me a link" forms (sign-in link, password reset): the link is stored
/// and sent only for a contact who may use this portal, yet every address costs the same work
/// and ends on the same page. Over the limits, `form` is shown again with `values`.
fn email_link(
    ctx: &Ctx<'_>,
    portal: &Portal,
    email: &str,
    link: (&'static str, i64, &str),
    form: &str,
    values: minijinja::Value,
) -> Result<Response> {
    let contact = match store::contacts::get_by_email(ctx.db, email)? {
        Some(c) if may_use(ctx, &c, portal)? => Some(c),
        _ => None,
    };
    let out = prepare(
        ctx,
        portal,
        link,
        email,
        contact.as_ref().map_or("", |c| c.name.as_str()),
    )?;
    let gate = gated(ctx, email, |tx| match &contact {
        Some(c) => store_link(tx, ctx, portal, c.id, &out),
        None => Ok(()),
    })?;
    if let Gate::TooMany(wait) = gate {
        return too_many(ctx, portal, form, values, wait);
    }
    sent(ctx, portal, link_segment(link.0))
}

/// Reads and checks the `email` field; `Err` is the form shown again with the error.
fn email_field(ctx: &Ctx<'_>, errors: &mut Errors) -> String {
    let email = ctx.form.line("email").to_lowercase();
    if email.is_empty() {
        errors.add("email", "Enter your email address.");
    } else if !plausible_email(&email) {
        errors.add("email", "Enter an email address such as ana@example.com.");
    }
    email
}

// ---- magic links --------------------------------------------------------------------------

fn request_magic(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    let mut errors = Errors::default();
    let email = email_field(ctx, &mut errors);
    let values = view! { email => ctx.form.trimmed("email"), magic => true };
    if !errors.is_empty() {
        // Shown beside the sign-in link field.
        let mut moved = Errors::default();
        moved.add(
            "magic_email",
            "Enter an email address such as ana@example.com.",
        );
        return render(
            ctx,
            portal,
            None,
            422,
            "portal/login.html",
            view! { values, errors => moved },
        );
    }
    email_link(
        ctx,
        portal,
        &email,
        (KIND_MAGIC, MAGIC_TTL, "portal_magic"),
        "portal/login.html",
        values,
    )
}

fn magic_page(ctx: &Ctx<'_>, portal: &Portal, token: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let live =
        tokens::peek_for_portal(ctx.db, &hash, KIND_MAGIC, portal.id.0, crate::clock::now())?;
    render(
        ctx,
        portal,
        None,
        if live.is_some() { 200 } else { 410 },
        "portal/magic.html",
        view! { live => live.is_some(), here => ctx.req.url() },
    )
}

fn use_magic(ctx: &Ctx<'_>, portal: &Portal, token: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let subject = ctx
        .db
        .write(|tx| tokens::take_for_portal(tx, &hash, KIND_MAGIC, portal.id.0))?;
    let contact = match subject {
        Some(id) => store::contacts::get(ctx.db, crate::domain::ContactId(id))?,
        None => None,
    };
    match contact {
        Some(contact) if may_use(ctx, &contact, portal)? => {
            sign_in(ctx, &contact)?;
            Ok(respond::redirect(&dashboard(portal)))
        }
        _ => render(
            ctx,
            portal,
            None,
            410,
            "portal/magic.html",
            view! { live => false, here => ctx.req.url() },
        ),
    }
}

// ---- invitations, signup confirmations and resets: choose a password -----------------------

fn password_page(ctx: &Ctx<'_>, portal: &Portal, token: &str, kind: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let subject = tokens::peek_for_portal(ctx.db, &hash, kind, portal.id.0, crate::clock::now())?;
    let contact = match subject {
        Some(id) => store::contacts::get(ctx.db, crate::domain::ContactId(id))?,
        None => None,
    };
    let contact = match contact {
        Some(c) if may_join(ctx, &c, portal)? => Some(c),
        _ => None,
    };
    let status = if contact.is_some() { 200 } else { 410 };
    let values = view! { name => contact.as_ref().map(|c| c.name.clone()) };
    render(
        ctx,
        portal,
        None,
        status,
        "portal/set_password.html",
        view! {
            live => contact.is_some(),
            invite => kind == KIND_INVITE,
            email => contact.as_ref().map(|c| c.email.clone()),
            here => ctx.req.url(),
            values,
            errors => Errors::default(),
        },
    )
}

fn set_password(ctx: &Ctx<'_>, portal: &Portal, token: &str, kind: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let subject = tokens::peek_for_portal(ctx.db, &hash, kind, portal.id.0, crate::clock::now())?;
    let contact = match subject {
        Some(id) => store::contacts::get(ctx.db, crate::domain::ContactId(id))?,
        None => None,
    };
    let Some(contact) = contact.filter(|c| c.status != ContactStatus::Disabled) else {
        return password_page(ctx, portal, token, kind);
    };
    if !may_join(ctx, &contact, portal)? {
        return password_page(ctx, portal, token, kind);
    }
    let invite = kind == KIND_INVITE;
    let name = ctx.form.line("name");
    let password = ctx.form.get("password");
    let mut errors = Errors::default();
    if invite {
        errors.require("name", &name, "Your name", NAME_MAX);
    }
    super::check_new_password(ctx, &mut errors);
    if !errors.is_empty() {
        return render(
            ctx,
            portal,
            None,
            422,
            "portal/set_password.html",
            view! {
                live => true,
                invite,
                email => contact.email,
                here => ctx.req.url(),
                values => view! { name },
                errors,
            },
        );
    }
    let password_hash = passwords::hash(password, ctx.app.config.bcrypt_cost)?;
    let used = ctx.db.write(|tx| {
        // Taken in the write that uses it: two tabs posting at once cannot both succeed.
        if tokens::take_for_portal(tx, &hash, kind, portal.id.0)?.is_none() {
            return Ok(false);
        }
        store::contacts::set_password(tx, contact.id, &password_hash)?;
        if invite {
            store::contacts::set_name(tx, contact.id, &name)?;
            store::contacts::delete_tokens(tx, contact.id, Some(KIND_INVITE))?;
        } else {
            // A reset ends every other session (whoever else might be signed in).
            store::contacts::delete_sessions(tx, contact.id, None)?;
            store::contacts::delete_tokens(tx, contact.id, Some(KIND_RESET))?;
        }
        Ok(true)
    })?;
    if !used {
        return password_page(ctx, portal, token, kind);
    }
    let fresh = store::contacts::get(ctx.db, contact.id)?.unwrap_or(contact);
    sign_in(ctx, &fresh)?;
    let message = if invite {
        format!("Welcome to {}! Your account is ready.", portal.name)
    } else {
        "Your password is changed, and every other session of your account has ended.".to_string()
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &dashboard(portal),
        &message,
    ))
}

// ---- password reset request ---------------------------------------------------------------

fn reset_page(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    render(
        ctx,
        portal,
        None,
        200,
        "portal/reset_request.html",
        view! { values => view! { email => ctx.query("email").unwrap_or_default() }, errors => Errors::default() },
    )
}

fn request_reset(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    let mut errors = Errors::default();
    let email = email_field(ctx, &mut errors);
    let values = view! { email => ctx.form.trimmed("email") };
    if !errors.is_empty() {
        return render(
            ctx,
            portal,
            None,
            422,
            "portal/reset_request.html",
            view! { values, errors },
        );
    }
    email_link(
        ctx,
        portal,
        &email,
        (KIND_RESET, RESET_TTL, "portal_reset"),
        "portal/reset_request.html",
        values,
    )
}

// ---- signup -------------------------------------------------------------------------------

fn signup_page(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    if !portal.takes_signups() {
        return Ok(respond::not_found(ctx));
    }
    render(
        ctx,
        portal,
        None,
        200,
        "portal/signup.html",
        view! { values => view! {}, errors => Errors::default() },
    )
}

/// Signing up: name and email only. Whatever the address, the page says "check your email":
/// a new address gets a link to choose a password (the account is active only then); an address
/// with an account gets a note saying so (with the sign-in and reset links); an address no mode
/// lets in gets nothing.
fn signup(ctx: &Ctx<'_>, portal: &Portal) -> Result<Response> {
    if !portal.takes_signups() {
        return Ok(respond::not_found(ctx));
    }
    let name = ctx.form.line("name");
    let mut errors = Errors::default();
    errors.require("name", &name, "Your name", NAME_MAX);
    let email = email_field(ctx, &mut errors);
    let values = crate::render::to_value(&ctx.form.values());
    if !errors.is_empty() {
        return render(
            ctx,
            portal,
            None,
            422,
            "portal/signup.html",
            view! { values, errors },
        );
    }
    // What this address gets, decided before the write; the write is the same for all.
    enum Action {
        Nothing,
        /// An email saying they have an account (with the sign-in and reset links), by name.
        AccountExists(String),
        /// A pending signup (of this customer) and the link that confirms it.
        Pending(Option<CustomerId>),
    }
    let action = match store::contacts::get_by_email(ctx.db, &email)? {
        Some(c) if c.status == ContactStatus::Active && may_use(ctx, &c, portal)? => {
            Action::AccountExists(c.name)
        }
        // Invited by staff (their invitation is theirs to use), disabled, or another portal's:
        // nothing is sent, and nothing about the account changes.
        Some(_) => Action::Nothing,
        None => match policy::signup(portal, signup_customer(ctx, portal, &email)?) {
            policy::Signup::JoinCustomer(customer) => Action::Pending(Some(customer)),
            policy::Signup::Open => Action::Pending(None),
            policy::Signup::Refused => Action::Nothing,
        },
    };
    // The address is not confirmed yet: the email greets nobody by the name typed here.
    let out = match &action {
        Action::AccountExists(name) => {
            let url = format!("{}{}/reset", ctx.app.config.base_url(), base(portal));
            let email = notify::portal_access(
                ctx.app,
                ctx.db,
                portal,
                "portal_account_exists",
                &email,
                name,
                &url,
            )?;
            Outgoing {
                kind: KIND_SIGNUP,
                ttl: 0,
                token: Secret::generate(),
                email,
            }
        }
        _ => prepare(
            ctx,
            portal,
            (KIND_SIGNUP, SIGNUP_TTL, "portal_signup"),
            &email,
            "",
        )?,
    };
    let gate = gated(ctx, &email, |tx| match &action {
        Action::Nothing => Ok(()),
        Action::AccountExists(_) => crate::mail::queue(tx, &ctx.app.mailer, &out.email),
        Action::Pending(customer) => {
            let pending = store::contacts::PendingSignup {
                email: email.clone(),
                name: name.clone(),
                customer_id: *customer,
            };
            store::contacts::insert_signup(
                tx,
                &out.token.hash(),
                portal.id,
                &pending,
                tx.now() + SIGNUP_TTL,
            )?;
            crate::mail::queue(tx, &ctx.app.mailer, &out.email)
        }
    })?;
    if let Gate::TooMany(wait) = gate {
        return too_many(ctx, portal, "portal/signup.html", values, wait);
    }
    sent(ctx, portal, "signup")
}

/// The customer an address would join here by signing up: the one whose email domains include
/// its domain, when that customer may use this portal.
fn signup_customer(ctx: &Ctx<'_>, portal: &Portal, email: &str) -> Result<Option<CustomerId>> {
    Ok(match store::customers::for_email_domain(ctx.db, email)? {
        Some(customer) if store::portals::serves_customer(ctx.db, portal.id, customer)? => {
            Some(customer)
        }
        _ => None,
    })
}

/// The page a signup's confirmation link opens: choose a password to finish.
fn signup_confirm_page(ctx: &Ctx<'_>, portal: &Portal, token: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let pending = store::contacts::peek_signup(ctx.db, &hash, portal.id, crate::clock::now())?;
    render_signup_confirm(
        ctx,
        portal,
        pending.as_ref(),
        None,
        view! {},
        Errors::default(),
    )
}

fn render_signup_confirm(
    ctx: &Ctx<'_>,
    portal: &Portal,
    pending: Option<&store::contacts::PendingSignup>,
    status: Option<u16>,
    values: minijinja::Value,
    errors: Errors,
) -> Result<Response> {
    let status = status.unwrap_or(if pending.is_some() { 200 } else { 410 });
    let values = match pending {
        Some(p) if values.get_attr("name").map_or(true, |v| v.is_undefined()) => {
            view! { name => p.name }
        }
        _ => values,
    };
    render(
        ctx,
        portal,
        None,
        status,
        "portal/set_password.html",
        view! {
            live => pending.is_some(),
            invite => true,
            email => pending.map(|p| p.email.clone()),
            here => ctx.req.url(),
            values,
            errors,
        },
    )
}

/// Finishes a signup: the contact is made (active, with this password) only now — unless the
/// address got an account meanwhile, or the portal no longer takes this signup.
fn signup_confirm(ctx: &Ctx<'_>, portal: &Portal, token: &str) -> Result<Response> {
    let hash = Secret::from_untrusted(token).hash();
    let Some(pending) =
        store::contacts::peek_signup(ctx.db, &hash, portal.id, crate::clock::now())?
    else {
        return signup_confirm_page(ctx, portal, token);
    };
    let name = ctx.form.line("name");
    let password = ctx.form.get("password");
    let mut errors = Errors::default();
    errors.require("name", &name, "Your name", NAME_MAX);
    super::check_new_password(ctx, &mut errors);
    // The portal's modes and customers may have changed since the email went out.
    let still = match pending.customer_id {
        Some(customer) => {
            portal.customer_signup && store::portals::serves_customer(ctx.db, portal.id, customer)?
        }
        None => portal.open_registration,
    };
    if !still {
        errors.add(
            "_form",
            "This portal no longer takes this signup. Ask your contact for an invitation.",
        );
    }
    if !errors.is_empty() {
        let values = view! { name };
        return render_signup_confirm(ctx, portal, Some(&pending), Some(422), values, errors);
    }
    let password_hash = passwords::hash(password, ctx.app.config.bcrypt_cost)?;
    let made = ctx.db.write(|tx| {
        let Some(pending) = store::contacts::take_signup(tx, &hash, portal.id)? else {
            return Ok(None);
        };
        if store::contacts::get_by_email(tx, &pending.email)?.is_some() {
            return Ok(Some(Err(())));
        }
        let new = NewContact {
            email: &pending.email,
            name: &name,
            customer_id: pending.customer_id,
            portal_id: Some(portal.id),
            role: ContactRole::Member,
            label: "",
            status: ContactStatus::Invited,
        };
        let id = store::contacts::insert(tx, &new)?;
        store::contacts::set_password(tx, id, &password_hash)?;
        Ok(Some(Ok(id)))
    })?;
    match made {
        None => signup_confirm_page(ctx, portal, token),
        Some(Err(())) => {
            let mut errors = Errors::default();
            errors.add(
                "_form",
                "This address has an account already. Sign in, or ask for a new password.",
            );
            render_signup_confirm(ctx, portal, None, Some(409), view! {}, errors)
        }
        Some(Ok(id)) => {
            log::info!("portal {}: signup of contact {id} confirmed", portal.id);
            let contact = store::contacts::get(ctx.db, id)?.expect("just made");
            sign_in(ctx, &contact)?;
            Ok(respond::redirect_with_flash(
                ctx,
                &dashboard(portal),
                &format!("Welcome to {}! Your account is ready.", portal.name),
            ))
        }
    }
}

/// Invites `contact` to `portal` (staff): a fresh 7-day link, earlier invitations voided.
pub fn invite(ctx: &Ctx<'_>, portal: &Portal, contact: &Contact) -> Result<()> {
    send_link(
        ctx,
        portal,
        contact,
        (KIND_INVITE, INVITE_TTL, "portal_invite"),
    )
}

/// Adds and invites every row of a bulk invitation to `portal`, all or nothing: the messages are
/// rendered first, then one write adds every contact, stores every link and queues every email.
/// `Err(email)` when an address got an account meanwhile (nothing was added).
pub fn invite_many(
    ctx: &Ctx<'_>,
    portal: &Portal,
    rows: &[crate::web::staff::portals::InviteRow],
) -> Result<std::result::Result<usize, String>> {
    let mut prepared = Vec::with_capacity(rows.len());
    for row in rows {
        let token = Secret::generate();
        let url = format!(
            "{}{}/invite/{}",
            ctx.app.config.base_url(),
            base(portal),
            token.expose()
        );
        let email = notify::portal_access(
            ctx.app,
            ctx.db,
            portal,
            "portal_invite",
            &row.email,
            &row.name,
            &url,
        )?;
        prepared.push((row, token, email));
    }
    ctx.db.write(|tx| {
        // Checked under the write lock before anything is added: all or nothing.
        for (row, _, _) in &prepared {
            if store::contacts::get_by_email(tx, &row.email)?.is_some() {
                return Ok(Err(row.email.clone()));
            }
        }
        for (row, token, email) in &prepared {
            let new = crate::web::staff::portals::new_contact(row, portal.id);
            let id = store::contacts::insert(tx, &new)?;
            tokens::insert_for_portal(
                tx,
                &token.hash(),
                KIND_INVITE,
                id.0,
                portal.id.0,
                tx.now() + INVITE_TTL,
            )?;
            crate::mail::queue(tx, &ctx.app.mailer, email)?;
        }
        Ok(Ok(prepared.len()))
    })
}
