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
    let rgb = [1, 3, 5].map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0));
    let luminance = relative_luminance(rgb);
    let on_white = 1.05 / (luminance + 0.05);
    let on_black = (luminance + 0.05) / 0.05;
    let ink = if on_white >= on_black {
        "#ffffff"
    } else {
        "#1c1917"
    };
    // Links and other brand-coloured text: the colour, darkened (light pages) or lightened
    // (dark pages) just enough to read at AA (4.5:1) on the page's surfaces.
    // The same tint rings focus and marks public replies (non-text: it needs 3:1, has 4.5:1).
    let light = readable(rgb, [0, 0, 0], [0xf7, 0xf7, 0xf5]);
    let dark = readable(rgb, [0xff, 0xff, 0xff], [0x1f, 0x1d, 0x1b]);
    // Notices and highlighted rows: a pale (light) or deep (dark) wash of the colour, under
    // the page's own ink.
    let (soft_light, soft_dark) = soft(rgb);
    let css = format!(
        ".branded {{ --brand: {hex}; --brand-ink: {ink}; --brand-link: {light}; --brand-soft: {soft_light}; --focus: {light}; --public-line: {light}; }}\n\
         @media (prefers-color-scheme: dark) {{ .branded {{ --brand-link: {dark}; --brand-soft: {soft_dark}; --focus: {dark}; --public-line: {dark}; }} }}\n"
    );
    Response::from_data("text/css; charset=utf-8", css)
        .with_additional_header("Cache-Control", "public, max-age=31536000, immutable")
}

/// WCAG relative luminance of an sRGB colour.
fn relative_luminance(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The colour `t` of the way from `rgb` to `toward`.
fn mix(rgb: [u8; 3], toward: [u8; 3], t: f64) -> [u8; 3] {
    [0, 1, 2]
        .map(|i| (f64::from(rgb[i]) + (f64::from(toward[i]) - f64::from(rgb[i])) * t).round() as u8)
}

fn hex_of(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Notice backgrounds: up to 14% of the colour on white (light pages) and 28% on the dark
/// surface, less where the page's muted text would no longer read at AA on it.
fn soft(rgb: [u8; 3]) -> (String, String) {
    let wash = |surface: [u8; 3], muted: [u8; 3], most: f64| {
        let mut t = most;
        loop {
            let c = mix(surface, rgb, t);
            if contrast(muted, c) >= 4.6 || t <= 0.0 {
                return hex_of(c);
            }
            t -= 0.02;
        }
    };
    (
        wash([0xff, 0xff, 0xff], [0x57, 0x53, 0x4e], 0.14),
        wash([0x1f, 0x1d, 0x1b], [0xb5, 0xb0, 0xab], 0.28),
    )
}

/// `rgb` mixed towards `toward` in small steps until it reads at 4.5:1 on `background`.
fn readable(rgb: [u8; 3], toward: [u8; 3], background: [u8; 3]) -> String {
    let mut step = 0.0;
    loop {
        let mixed = mix(rgb, toward, step);
        if contrast(mixed, background) >= 4.6 || step >= 1.0 {
            return hex_of(mixed);
        }
        step += 0.05;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// #18: a notice's text reads at AA on the brand's wash, light and dark, whatever the colour.
    #[test]
    fn brand_notices_are_readable_on_light_and_dark() {
        let hex = |s: &str| [1, 3, 5].map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap());
        for brand in [
            "#0f766e", "#fde68a", "#b45309", "#000000", "#ffffff", "#7c3aed", "#ff0000",
        ] {
            let (light, dark) = soft(hex(brand));
            let ink_light = [0x1c, 0x19, 0x17];
            let ink_dark = [0xf5, 0xf5, 0xf4];
            assert!(
                contrast(ink_light, hex(&light)) >= 4.5,
                "{brand} light: {light}"
            );
            assert!(
                contrast(ink_dark, hex(&dark)) >= 4.5,
                "{brand} dark: {dark}"
            );
            // Muted text too (help lines inside a notice).
            assert!(
                contrast([0x57, 0x53, 0x4e], hex(&light)) >= 4.5,
                "{brand} muted light"
            );
            assert!(
                contrast([0xb5, 0xb0, 0xab], hex(&dark)) >= 4.5,
                "{brand} muted dark"
            );
        }
    }

    /// #18: brand-coloured links read at AA on light and dark pages, whatever the colour.
    #[test]
    fn brand_links_are_readable_on_light_and_dark() {
        let hex = |s: &str| [1, 3, 5].map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap());
        for brand in [
            "#0f766e", "#fde68a", "#b45309", "#000000", "#ffffff", "#7c3aed",
        ] {
            let light = readable(hex(brand), [0, 0, 0], [0xf7, 0xf7, 0xf5]);
            let dark = readable(hex(brand), [0xff, 0xff, 0xff], [0x1f, 0x1d, 0x1b]);
            assert!(
                contrast(hex(&light), [0xf7, 0xf7, 0xf5]) >= 4.5,
                "{brand} light: {light}"
            );
            assert!(
                contrast(hex(&dark), [0x1f, 0x1d, 0x1b]) >= 4.5,
                "{brand} dark: {dark}"
            );
            assert!(
                contrast(hex(&dark), [0x14, 0x13, 0x12]) >= 4.5,
                "{brand} on the dark page"
            );
        }
        // A colour that reads already is kept as it is.
        assert_eq!(
            readable(hex("#0f766e"), [0, 0, 0], [0xf7, 0xf7, 0xf5]),
            "#0f766e"
        );
    }
}
