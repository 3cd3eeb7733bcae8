//! Building responses: pages with the shared layout context, redirects with a flash message,
//! the error pages, and the security headers every response carries.

use minijinja::{Value, context};
use rouille::Response;

use crate::app::App;
use crate::auth::sessions::cookie;
use crate::body::BodyError;
use crate::error::Result;
use crate::render::to_value;
use crate::view;
use crate::web::Ctx;

/// How long a client told "busy" (503) should wait before trying again.
pub const RETRY_AFTER_SECS: &str = "5";

/// A one-time message shown on the next page ("Project saved.").
const FLASH_COOKIE: &str = "pl_flash";

/// Renders `template` inside the layout: adds the signed-in user, the CSRF token and any flash
/// message to `page_ctx`.
pub fn page(ctx: &Ctx<'_>, template: &str, page_ctx: Value) -> Result<Response> {
    Ok(Response::html(render_page(ctx, template, page_ctx)?))
}

/// Like [`page`] with a status code other than 200 (a form shown again with errors gets 422).
pub fn page_with_status(
    ctx: &Ctx<'_>,
    status: u16,
    template: &str,
    page_ctx: Value,
) -> Result<Response> {
    Ok(Response::html(render_page(ctx, template, page_ctx)?).with_status_code(status))
}

fn render_page(ctx: &Ctx<'_>, template: &str, page_ctx: Value) -> Result<String> {
    let flash = take_flash(ctx);
    // Staff see a banner while email has been failing for over an hour (clients may be waiting
    // for replies they will not get); admins get the way to the Mail page.
    let mail_trouble = match ctx.staff() {
        Some(_) => crate::store::outbox::failing_since(ctx.db, crate::clock::now() - 3600)?,
        None => false,
    };
    let mail_admin = ctx
        .staff()
        .is_some_and(|staff| crate::policy::admin(staff).is_some());
    // A page answering a POST (a form shown again with its errors) names the page the form
    // lives on (`page_url` block, default this path); app.js puts that address in the history,
    // so reloading shows the page instead of sending the form again.
    let posted = ctx.req.method() == "POST";
    let full = context! {
        me => to_value(&ctx.staff()),
        csrf_token => ctx.csrf_token(),
        posted => posted,
        request_path => posted.then(|| ctx.req.raw_url().to_string()),
        flash => flash,
        mail_trouble => mail_trouble,
        mail_admin => mail_admin,
        ..page_ctx
    };
    ctx.app.templates.render(template, full)
}

fn take_flash(ctx: &Ctx<'_>) -> Option<String> {
    let raw = ctx.cookie(FLASH_COOKIE).filter(|v| !v.is_empty())?;
    ctx.set_cookie(cookie(&ctx.app.config, FLASH_COOKIE, "", Some(0)));
    let text: String = form_urlencoded::parse(format!("m={raw}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .next()?;
    Some(text.chars().take(300).collect())
}

/// 303 See Other to `url` (after a successful POST).
pub fn redirect(url: &str) -> Response {
    Response::redirect_303(url.to_string())
}

/// 303 to `url`, showing `message` once on the page it lands on.
pub fn redirect_with_flash(ctx: &Ctx<'_>, url: &str, message: &str) -> Response {
    let encoded: String = form_urlencoded::byte_serialize(message.as_bytes()).collect();
    ctx.set_cookie(cookie(&ctx.app.config, FLASH_COOKIE, &encoded, None));
    redirect(url)
}

/// Not signed in: GET goes to the sign-in page (and back afterwards); anything else is refused.
pub fn to_login(ctx: &Ctx<'_>) -> Response {
    if ctx.req.method() == "GET" {
        let back: String = form_urlencoded::byte_serialize(ctx.req.raw_url().as_bytes()).collect();
        let url = if ctx.req.raw_url() == "/" {
            "/login".to_string()
        } else {
            format!("/login?next={back}")
        };
        redirect(&url)
    } else {
        error_page(
            ctx,
            403,
            "Signed out",
            "Your session has ended, so nothing was saved. Sign in again, then repeat what you were doing.",
        )
    }
}

pub fn not_found(ctx: &Ctx<'_>) -> Response {
    error_page(
        ctx,
        404,
        "Page not found",
        "There is nothing at this address. Check the link, or start from the home page.",
    )
}

pub fn forbidden(ctx: &Ctx<'_>) -> Response {
    error_page(
        ctx,
        403,
        "Not allowed",
        "Your account does not have permission to do this. Ask an admin if you need it.",
    )
}

/// 403 with the reason this particular action is refused.
pub fn forbidden_because(ctx: &Ctx<'_>, why: &str) -> Response {
    error_page(ctx, 403, "Not allowed", why)
}

pub fn csrf_failed(ctx: &Ctx<'_>) -> Response {
    error_page(
        ctx,
        403,
        "This form has expired",
        "For your security the form could not be accepted (it may be old, or sent from another site). Go back, reload the page and try again. Nothing was changed.",
    )
}

pub fn bad_request(ctx: &Ctx<'_>, message: &str) -> Response {
    error_page(ctx, 400, "Bad request", message)
}

/// A request body that could not be used: too large, malformed or cut off, or not storable.
/// Nothing of it was kept.
pub fn body_refused(ctx: &Ctx<'_>, e: &BodyError) -> Response {
    match e {
        BodyError::TooLarge => error_page(
            ctx,
            413,
            "Too much data",
            "What you sent is larger than this form accepts. Shorten it (or choose a smaller file) and try again. Nothing was saved.",
        ),
        BodyError::Busy => error_page(
            ctx,
            503,
            "Busy",
            "The server is busy receiving other uploads. Wait a few seconds and send the form again. Nothing was saved.",
        )
        .with_additional_header("Retry-After", RETRY_AFTER_SECS),
        BodyError::Malformed(why) => {
            log::info!("request {}: refused body: {why}", ctx.request_id);
            bad_request(
                ctx,
                "The form arrived incomplete or could not be read, so nothing was saved. Send it again.",
            )
        }
        BodyError::Io(why) => {
            log::error!("request {}: {e}: {why}", ctx.request_id);
            error_page(
                ctx,
                500,
                "Something went wrong",
                "Your upload could not be stored on our side, so nothing was saved. Try again later.",
            )
        }
    }
}

pub fn method_not_allowed() -> Response {
    Response::text("Method not allowed\n")
        .with_status_code(405)
        .with_additional_header("Allow", "GET, HEAD, POST")
}

pub fn error_page(ctx: &Ctx<'_>, status: u16, title: &str, message: &str) -> Response {
    // The layout needs what every page has: a signed-in user gets their navigation and a
    // working sign-out button on error pages too.
    let me = ctx.staff();
    let csrf_token = me.map(|_| ctx.csrf_token());
    // Clients (share links, portals, unsubscribe pages) get the agency's branding and no way
    // into the staff workspace; a portal's pages link back to its own start.
    let url = ctx.req.url();
    let client = ["/s/", "/portal/", "/portal", "/unsubscribe/"]
        .iter()
        .any(|p| url.starts_with(p));
    // The same page whoever asks (a stranger's 404 and an insider's must not differ): the
    // workspace's branding, and no link a client could not use.
    let (template, branding, home) = if client {
        let branding = crate::store::settings::branding(ctx.db).unwrap_or_default();
        ("error_client.html", Some(branding), None::<String>)
    } else {
        ("error.html", None, None)
    };
    let page_ctx = view! {
        status, title, message, me, csrf_token, nav => "", kept => kept_text(ctx), branding, home,
    };
    match ctx.app.templates.render(template, page_ctx) {
        Ok(html) => Response::html(html).with_status_code(status),
        Err(e) => {
            log::error!(
                "request {}: rendering the {status} page: {e}",
                ctx.request_id
            );
            Response::text(format!("{title}\n")).with_status_code(status)
        }
    }
}

/// What the user typed into a refused form (an expired form or session), shown on the error
/// page so nothing they wrote is lost. Passwords and tokens never come back.
fn kept_text(ctx: &Ctx<'_>) -> Vec<(String, String)> {
    ctx.form
        .values()
        .into_iter()
        .filter(|(name, value)| {
            !value.trim().is_empty()
                && !name.starts_with("orig_")
                && name != "next"
                && name != "website"
        })
        .collect()
}

/// The 500 page: an apology and the request id to quote, nothing else.
pub fn server_error(app: &App, request_id: &str) -> Response {
    let message = "Something went wrong on our side and has been logged. If it keeps happening, tell your administrator the request id below.";
    let page_ctx = view! { status => 500, title => "Something went wrong", message, request_id, me => None::<()>, nav => "" };
    match app.templates.render("error.html", page_ctx) {
        Ok(html) => Response::html(html).with_status_code(500),
        Err(_) => Response::text(format!("Internal error. Request id: {request_id}\n"))
            .with_status_code(500),
    }
}

/// Headers every response carries, whoever makes it: the connection layer's own answers (400,
/// 408, 413, 431, 503) add them too.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
];

/// Headers on every response: [`SECURITY_HEADERS`], `no-store`, and a referrer policy. Pages
/// whose URL carries a secret (`web::SECRET_ROUTES`) get `no-referrer` and `noindex`.
pub fn add_security_headers(response: &mut Response, req: &rouille::Request) {
    let secret_url = crate::web::has_secret_in_path(&req.url());
    let has =
        |r: &Response, name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut add = |name: &'static str, value: &'static str| {
        if !has(response, name) {
            response.headers.push((name.into(), value.into()));
        }
    };
    for (name, value) in SECURITY_HEADERS {
        add(name, value);
    }
    if secret_url {
        add("Referrer-Policy", "no-referrer");
        add("X-Robots-Tag", "noindex, nofollow");
    } else {
        add("Referrer-Policy", "same-origin");
    }
    // Pages show private data; only the versioned static files may be cached.
    add("Cache-Control", "no-store");
}
