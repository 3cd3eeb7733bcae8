//! Workspace settings (admins): the agency's name, accent colour and logo, shown to clients on
//! share-link pages.

use rouille::Response;

use crate::error::{IoContext, Result};
use crate::files;
use crate::policy::Admin;
use crate::store::{self, settings::Branding};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

/// Largest logo accepted.
const LOGO_MAX_BYTES: usize = 512 * 1024;

pub fn edit(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let branding = store::settings::branding(ctx.db)?;
    let values =
        view! { agency_name => branding.agency_name, accent_color => branding.accent_color };
    render(ctx, 200, values, Errors::default(), &branding)
}

fn render(
    ctx: &Ctx<'_>,
    status: u16,
    values: minijinja::Value,
    errors: Errors,
    current: &Branding,
) -> Result<Response> {
    let page_ctx = view! { nav => "settings", values, errors, logo => current.logo };
    respond::page_with_status(ctx, status, "staff/settings.html", page_ctx)
}

pub fn update(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let current = store::settings::branding(ctx.db)?;
    let mut errors = Errors::default();
    let name = ctx.form.line("agency_name");
    errors.require("agency_name", &name, "Agency name", 100);
    let color = crate::domain::parse_hex_color(ctx.form.get("accent_color"));
    if color.is_none() {
        errors.add("accent_color", "Use a colour like #b45309.");
    }
    // A new logo, checked by its bytes; an empty file input means "keep the current one".
    let upload = ctx.uploads.iter().find(|u| u.field == "logo" && u.size > 0);
    let mut new_logo = None;
    if let Some(u) = upload {
        if u.size > LOGO_MAX_BYTES as u64 {
            errors.add(
                "logo",
                format!(
                    "This image is {} KB; use one up to 512 KB.",
                    u.size.div_ceil(1024)
                ),
            );
        } else {
            let bytes = u
                .bytes()
                .io_context(|| format!("reading the uploaded logo {}", u.path().display()))?;
            match files::image_kind(&bytes) {
                Some((ext, _)) => new_logo = Some((bytes, ext)),
                None => errors.add("logo", "Upload a PNG, JPEG or WebP image."),
            }
        }
    }
    let (Some(color), true) = (color, errors.is_empty()) else {
        if upload.is_some() {
            errors.add(
                "logo",
                "Choose the logo file again: browsers don't keep it after an error.",
            );
        }
        return render(
            ctx,
            422,
            crate::render::to_value(&ctx.form.values()),
            errors,
            &current,
        );
    };
    let logo = match new_logo {
        Some((bytes, ext)) => Some(format!(
            "{}.{ext}",
            files::store(&ctx.app.config.data_dir, &bytes)?
        )),
        None if ctx.form.checked("remove_logo") => None,
        None => current.logo.clone(),
    };
    let branding = Branding {
        agency_name: name,
        accent_color: color,
        logo,
    };
    ctx.db
        .write(|tx| store::settings::set_branding(tx, &branding))?;
    Ok(respond::redirect_with_flash(
        ctx,
        "/settings",
        "Settings saved.",
    ))
}
