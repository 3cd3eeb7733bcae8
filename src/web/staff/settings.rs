//! Workspace settings (admins): the agency's name, accent colour and logo, shown to clients on
//! share-link pages.

use rouille::Response;

use crate::error::Result;
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
    // The preview starts in the saved colour (what clients see now); app.js follows the field.
    let page_ctx = view! {
        nav => "settings", values, errors, logo => current.logo,
        saved_color => current.accent_color.trim_start_matches('#'),
        agency_initial => current.agency_name.chars().next().map(|c| c.to_uppercase().to_string()),
    };
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
    let new_logo = uploaded_logo(ctx, "logo", &mut errors)?;
    let (Some(color), true) = (color, errors.is_empty()) else {
        if new_logo.is_some() {
            errors.add("logo", CHOOSE_AGAIN);
        }
        return render(
            ctx,
            422,
            crate::render::to_value(&ctx.form.values()),
            errors,
            &current,
        );
    };
    // Held until the settings that name the logo have committed (see `files::storing`).
    let _storing = crate::files::storing();
    let logo = match new_logo {
        Some(checked) => Some(store_logo(ctx, &checked)?),
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

/// Said beside a file input whose (valid) file was not kept because another field was wrong.
pub(super) const CHOOSE_AGAIN: &str =
    "Choose the file again: browsers don't keep a chosen file after an error.";

/// A logo image that passed its checks (see `forms::uploaded_image`).
pub(super) use crate::web::forms::CheckedImage as CheckedLogo;

/// The logo sent in the form's `field`: a PNG, JPEG or WebP (by its bytes) of at most 512 KB,
/// its metadata stripped. `None` when no file was chosen (keep the current one) or when it was
/// refused — the reason is then in `errors`. When another field is wrong, callers add
/// [`CHOOSE_AGAIN`].
pub(super) fn uploaded_logo(
    ctx: &Ctx<'_>,
    field: &str,
    errors: &mut Errors,
) -> Result<Option<CheckedLogo>> {
    crate::web::forms::uploaded_image(ctx, field, LOGO_MAX_BYTES, errors)
}

/// Stores a checked logo under `data/files/`; returns its name, `{sha256}.{ext}`.
pub(super) fn store_logo(ctx: &Ctx<'_>, logo: &CheckedLogo) -> Result<String> {
    let hash = files::store(&ctx.app.config.data_dir, &logo.bytes)?;
    Ok(format!("{hash}.{}", logo.ext))
}

/// The audit log: who viewed the portal as which customer, and when (admins).
pub fn audit(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let entries = store::view_as::audit_log(ctx.db, 500)?;
    respond::page(
        ctx,
        "staff/audit.html",
        view! { nav => "settings", entries },
    )
}
