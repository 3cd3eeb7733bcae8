//! Building responses: pages with the shared layout context, redirects with a flash message,
//! the error pages, and the security headers every response carries.

use minijinja::{Value, context};
use rouille::Response;

use crate::app::App;
use crate::auth::sessions::cookie;
use crate::error::Result;
use crate::render::to_value;
use crate::view;
use crate::web::Ctx;

/// A one-time message shown on the next page ("Reply sent to the client.").
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
    let full = context! {
        me => to_value(&ctx.me),
        csrf_token => ctx.csrf_token(),
        flash => flash,
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

pub fn payload_too_large(ctx: &Ctx<'_>) -> Response {
    error_page(
        ctx,
        413,
        "Too much data",
        "What you sent is larger than this form accepts. Shorten it and try again.",
    )
}

pub fn method_not_allowed() -> Response {
    Response::text("Method not allowed\n")
        .with_status_code(405)
        .with_additional_header("Allow", "GET, HEAD, POST")
}

fn error_page(ctx: &Ctx<'_>, status: u16, title: &str, message: &str) -> Response {
    // The layout needs what every page has: a signed-in user gets their navigation and a
    // working sign-out button on error pages too.
    let csrf_token = ctx.me.as_ref().map(|_| ctx.csrf_token());
    let page_ctx = view! { status, title, message, me => ctx.me, csrf_token, nav => "", kept => kept_text(ctx) };
    match ctx.app.templates.render("error.html", page_ctx) {
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

/// Whether a path carries a secret (a share-link, receipt or setup token): such pages are
/// served with `Referrer-Policy: no-referrer`.
pub fn has_secret_in_path(path: &str) -> bool {
    path.starts_with("/s/") || path.starts_with("/setup/")
}

/// Headers on every response. Pages under `/s/` and `/setup/` carry a secret in their URL:
/// they also get `Referrer-Policy: no-referrer`, `noindex` and `no-store`.
pub fn add_security_headers(response: &mut Response, req: &rouille::Request) {
    let secret_url = has_secret_in_path(&req.url());
    let has =
        |r: &Response, name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut add = |name: &'static str, value: &'static str| {
        if !has(response, name) {
            response.headers.push((name.into(), value.into()));
        }
    };
    add(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    add("X-Content-Type-Options", "nosniff");
    add("X-Frame-Options", "DENY");
    add("Cross-Origin-Opener-Policy", "same-origin");
    if secret_url {
        add("Referrer-Policy", "no-referrer");
        add("X-Robots-Tag", "noindex, nofollow");
    } else {
        add("Referrer-Policy", "same-origin");
    }
    // Pages show private data; only the versioned static files may be cached.
    add("Cache-Control", "no-store");
}
