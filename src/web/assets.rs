//! Serving what is not a page: the embedded static files at `/assets/{hash}/{name}` (loaded by
//! `render::StaticFiles`), the brand colour stylesheet and the agency's logos.
//!
//! The hash is of the file's content, so a URL names one version forever and browsers may cache
//! it for a year; a new build changes the URL.

use rouille::{Request, Response};

use crate::app::App;

/// Serves `{hash}/{name}`. A stale hash still gets the current file, but only briefly cached.
pub fn serve(app: &App, _req: &Request, rest: &str) -> Response {
    let Some((hash, name)) = rest.split_once('/') else {
        return Response::text("Not found\n").with_status_code(404);
    };
    match app.assets.get(name) {
        Some(file) => {
            let cache = if file.hash == hash {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=60"
            };
            Response::from_data(file.content_type, file.bytes.clone())
                .with_additional_header("Cache-Control", cache)
        }
        None => Response::text("Not found\n").with_status_code(404),
    }
}

/// `/brand/{rrggbb}.css`: the agency's accent colour for branded (share-link, later portal)
/// pages, with a text colour that keeps AA contrast on it. A stylesheet rather than an inline
/// `style` attribute because the CSP forbids inline styles; the URL names the colour, so it is
/// cached for good.
pub fn brand_css(color: &str) -> Response {
    let Some(hex) = crate::domain::parse_hex_color(color).filter(|h| h[1..] == *color) else {
        return Response::text("Not found\n").with_status_code(404);
    };
    let channel = |i: usize| {
        let c = u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let on_white = 1.05 / (luminance + 0.05);
    let on_black = (luminance + 0.05) / 0.05;
    let ink = if on_white >= on_black {
        "#ffffff"
    } else {
        "#1c1917"
    };
    let css = format!(".branded {{ --brand: {hex}; --brand-ink: {ink}; }}\n");
    Response::from_data("text/css; charset=utf-8", css)
        .with_additional_header("Cache-Control", "public, max-age=31536000, immutable")
}

/// `/brand/logo/{sha256}.{ext}`: a logo in use — the workspace's or a shareable link's, by
/// content hash, so several can exist. Old and unrelated files under `data/files/` are never
/// served from here. The type comes from the stored bytes, and `nosniff` (on every response)
/// keeps browsers to it.
pub fn brand_logo(ctx: &crate::web::Ctx<'_>, name: &str) -> crate::error::Result<Response> {
    let not_found = || Response::text("Not found\n").with_status_code(404);
    if !crate::store::settings::logo_in_use(ctx.db, name)? {
        return Ok(not_found());
    }
    let hash = name.split('.').next().unwrap_or_default();
    let Some(bytes) = crate::files::read(&ctx.app.config.data_dir, hash)? else {
        return Ok(not_found());
    };
    let Some((_, content_type)) = crate::files::image_kind(&bytes) else {
        return Ok(not_found());
    };
    Ok(Response::from_data(content_type, bytes)
        .with_additional_header("Cache-Control", "public, max-age=31536000, immutable"))
}
