//! The "Shareable link" panel of a project (admins): enable, disable, settings, regenerate.
//!
//! Regenerating replaces the token, so the old URL stops working at once; it asks for
//! confirmation first. Disabling keeps the token, so re-enabling brings the same URL back.

use rouille::Response;

use crate::auth::Secret;
use crate::error::Result;
use crate::policy::Admin;
use crate::store::projects::{Project, ShareSettingsUpdate};
use crate::store::{self};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

const WELCOME_MAX: usize = 2_000;
const RESPONSE_TIME_MAX: usize = 200;

fn load(ctx: &Ctx<'_>, key: &str) -> Result<Option<Project>> {
    store::projects::get_by_key(ctx.db, key)
}

fn back(ctx: &Ctx<'_>, project: &Project, message: &str) -> Response {
    respond::redirect_with_flash(ctx, &format!("/projects/{}#share", project.key), message)
}

pub fn enable(ctx: &Ctx<'_>, _admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let token = Secret::generate();
    ctx.db
        .write(|tx| store::projects::enable_share(tx, project.id, token.expose()))?;
    log::info!("share link of project {} enabled", project.id);
    Ok(back(
        ctx,
        &project,
        "The shareable link is on. Copy it and send it to your client.",
    ))
}

pub fn disable(ctx: &Ctx<'_>, _admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    ctx.db
        .write(|tx| store::projects::disable_share(tx, project.id))?;
    log::info!("share link of project {} disabled", project.id);
    Ok(back(
        ctx,
        &project,
        "The shareable link is off: it now shows \"Page not found\" to anyone who opens it.",
    ))
}

/// Saves what visitors may do and what they read.
pub fn update(ctx: &Ctx<'_>, admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let form = &ctx.form;
    let mut errors = Errors::default();
    errors.max_len(
        "share_welcome",
        form.get("share_welcome"),
        "Welcome text",
        WELCOME_MAX,
    );
    errors.max_len(
        "share_response_time",
        &form.line("share_response_time"),
        "Response time",
        RESPONSE_TIME_MAX,
    );
    let auto_publish = match form.get("share_auto_publish") {
        "now" => Some(true),
        "approve" => Some(false),
        _ => None,
    };
    if auto_publish.is_none() {
        errors.add(
            "share_auto_publish",
            "Choose when new submissions appear on the board.",
        );
    }
    let (Some(auto_publish), true) = (auto_publish, errors.is_empty()) else {
        let values = super::projects::share_form_values(&project, Some(form));
        return super::projects::render_show(ctx, admin.staff(), &project, 422, values, errors);
    };
    let update = ShareSettingsUpdate {
        submissions: form.checked("share_submissions"),
        auto_publish,
        attachments: form.checked("share_attachments"),
        welcome: form.get("share_welcome"),
        response_time: &form.line("share_response_time"),
    };
    ctx.db
        .write(|tx| store::projects::update_share_settings(tx, project.id, &update))?;
    Ok(back(ctx, &project, "Shareable link settings saved."))
}

/// Sets how the link looks: its own accent colour and logo, or the workspace's.
pub fn update_branding(ctx: &Ctx<'_>, admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    let raw_color = ctx.form.line("share_accent_color");
    let color = if raw_color.is_empty() {
        None
    } else {
        let parsed = crate::domain::parse_hex_color(&raw_color);
        if parsed.is_none() {
            errors.add(
                "share_accent_color",
                "Use a colour like #0f766e, or leave it empty for the workspace colour.",
            );
        }
        parsed
    };
    let new_logo = super::settings::uploaded_logo(ctx, "share_logo", &mut errors)?;
    if !errors.is_empty() {
        if new_logo.is_some() {
            errors.add("share_logo", super::settings::CHOOSE_AGAIN);
        }
        let values = super::projects::share_form_values(&project, Some(&ctx.form));
        return super::projects::render_show(ctx, admin.staff(), &project, 422, values, errors);
    }
    let _storing = crate::files::storing();
    let logo = match new_logo {
        Some(checked) => Some(super::settings::store_logo(ctx, &checked)?),
        None if ctx.form.checked("share_logo_reset") => None,
        None => project.share.logo.clone(),
    };
    ctx.db.write(|tx| {
        store::projects::update_share_branding(tx, project.id, color.as_deref(), logo.as_deref())
    })?;
    Ok(back(ctx, &project, "The link's look was saved."))
}

/// The confirmation step before regenerating.
/// Asks before turning a link off: it takes the board and every receipt offline.
pub fn confirm_disable(ctx: &Ctx<'_>, _admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    respond::page(
        ctx,
        "staff/share_disable.html",
        view! { nav => "projects", project },
    )
}

pub fn confirm_regenerate(ctx: &Ctx<'_>, _admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    respond::page(
        ctx,
        "staff/share_regenerate.html",
        view! { nav => "projects", project },
    )
}

pub fn regenerate(ctx: &Ctx<'_>, _admin: Admin<'_>, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let token = Secret::generate();
    ctx.db
        .write(|tx| store::projects::regenerate_share_token(tx, project.id, token.expose()))?;
    log::info!("share link of project {} regenerated", project.id);
    Ok(back(
        ctx,
        &project,
        "A new link was created. The old link stopped working; send the new one to your client.",
    ))
}
