//! Workspace settings (admins): the agency's name and accent colour, shown to clients on
//! share-link pages.

use rouille::Response;

use crate::error::Result;
use crate::policy::Admin;
use crate::store::{self, settings::Branding};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

pub fn edit(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let branding = store::settings::branding(ctx.db)?;
    let values =
        view! { agency_name => branding.agency_name, accent_color => branding.accent_color };
    respond::page(
        ctx,
        "staff/settings.html",
        view! { nav => "settings", values, errors => Errors::default() },
    )
}

/// A colour as `#rrggbb` (lower-case), or `None`.
pub fn parse_hex_color(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix('#').unwrap_or(raw.trim());
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

pub fn update(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let mut errors = Errors::default();
    let name = ctx.form.trimmed("agency_name");
    errors.require("agency_name", name, "Agency name", 100);
    let color = parse_hex_color(ctx.form.get("accent_color"));
    if color.is_none() {
        errors.add("accent_color", "Use a colour like #b45309.");
    }
    let (Some(color), true) = (color, errors.is_empty()) else {
        let page_ctx = view! { nav => "settings", values => ctx.form.values(), errors };
        return respond::page_with_status(ctx, 422, "staff/settings.html", page_ctx);
    };
    let branding = Branding {
        agency_name: name.to_string(),
        accent_color: color,
    };
    ctx.db
        .write(|tx| store::settings::set_branding(tx, &branding))?;
    Ok(respond::redirect_with_flash(
        ctx,
        "/settings",
        "Settings saved.",
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_hex_color;

    #[test]
    fn colours() {
        assert_eq!(parse_hex_color("#B45309").as_deref(), Some("#b45309"));
        assert_eq!(parse_hex_color("b45309").as_deref(), Some("#b45309"));
        assert_eq!(parse_hex_color("#b4530"), None);
        assert_eq!(parse_hex_color("red"), None);
        assert_eq!(parse_hex_color("#b45309;}body{"), None);
    }
}
