//! Staff sign-in and sign-out.
//!
//! Unknown email, wrong password and deactivated account get the same answer in the same time.
//! Repeated failures lock the account and the IP address for a while, and say for how long.

use crate::view;
use rouille::Response;

use crate::auth::throttle;
use crate::auth::{passwords, sessions};
use crate::domain::StaffId;
use crate::error::Result;
use crate::store;
use crate::web::forms::Errors;
use crate::web::staff::safe_next;
use crate::web::{Ctx, respond};

pub fn show(ctx: &Ctx<'_>) -> Result<Response> {
    let next = ctx.query("next").unwrap_or_default();
    if let Some(cookie) = ctx.cookie(sessions::STAFF_COOKIE)
        && sessions::resolve(ctx.db, &ctx.app.config, &cookie)?.is_some()
    {
        return Ok(respond::redirect(safe_next(&next).unwrap_or("/")));
    }
    respond::page(
        ctx,
        "staff/login.html",
        view! { values => view! { email => "", next }, errors => Errors::default() },
    )
}

pub fn submit(ctx: &Ctx<'_>) -> Result<Response> {
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
    if !errors.is_empty() {
        return respond::page_with_status(ctx, 422, "staff/login.html", view! { values, errors });
    }

    // Checked and counted (as a failure) before the slow password check: concurrent guesses
    // cannot all slip under the limits. A successful sign-in takes its counts back.
    let attempt = match throttle::SignInAttempt::start(
        ctx.db,
        config,
        "login",
        ctx.req.remote_addr().ip(),
        &email,
    )? {
        Ok(attempt) => attempt,
        Err(wait) => {
            errors.add(
                "_form",
                format!(
                    "Too many failed sign-in attempts. Try again in {}.",
                    throttle::minutes_text(wait)
                ),
            );
            return respond::page_with_status(
                ctx,
                429,
                "staff/login.html",
                view! { values, errors },
            );
        }
    };

    let account = store::staff::get_by_email(ctx.db, &email)?;
    let signed_in = match &account {
        Some(staff) => passwords::verify(password, &staff.password_hash) && staff.active,
        None => {
            passwords::verify_dummy(password, config.bcrypt_cost);
            false
        }
    };
    let Some(staff) = account.filter(|_| signed_in) else {
        log::info!("failed staff sign-in from {}", ctx.client_ip());
        errors.add(
            "_form",
            "That email and password don't match an active staff account.",
        );
        return respond::page_with_status(ctx, 401, "staff/login.html", view! { values, errors });
    };

    attempt.succeeded(ctx.db)?;
    sign_in(ctx, staff.id)?;
    log::info!("staff {} signed in", staff.id);
    Ok(respond::redirect(safe_next(next).unwrap_or("/")))
}

/// Starts a fresh session for `staff` and sets its cookie; the CSRF secret is replaced too.
pub(super) fn sign_in(ctx: &Ctx<'_>, staff: StaffId) -> Result<()> {
    let config = &ctx.app.config;
    let session = sessions::start(ctx.db, config, staff)?;
    ctx.set_cookie(sessions::cookie(
        config,
        sessions::STAFF_COOKIE,
        session.expose(),
        Some(config.staff_absolute().as_secs()),
    ));
    ctx.rotate_csrf();
    Ok(())
}

pub fn logout(ctx: &Ctx<'_>) -> Result<Response> {
    if let Some(cookie) = ctx.cookie(sessions::STAFF_COOKIE) {
        sessions::end(ctx.db, &cookie)?;
    }
    ctx.set_cookie(sessions::cookie(
        &ctx.app.config,
        sessions::STAFF_COOKIE,
        "",
        Some(0),
    ));
    // A view-as session started from this sign-in ended with it (see `web::portal::view_as`).
    ctx.set_cookie(sessions::cookie(
        &ctx.app.config,
        crate::web::portal::view_as::COOKIE,
        "",
        Some(0),
    ));
    Ok(respond::redirect_with_flash(
        ctx,
        "/login",
        "You have signed out.",
    ))
}
