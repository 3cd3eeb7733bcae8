//! Templates, static files and Markdown: the minijinja environment built from the embedded
//! `assets/templates` with the filters every page uses, and the embedded `assets/static` files.
//!
//! Auto-escaping is on for every `*.html` template. The only `safe` strings are produced here:
//! Markdown rendered by pulldown-cmark and then cleaned by ammonia.

use std::collections::HashMap;

use minijinja::{Environment, Value};
use pulldown_cmark::{Options, Parser, html};
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::auth::{b64, sha256};
use crate::clock;
use crate::domain::{Priority, Source, Status};
use crate::error::{Error, Result};

/// Builds a template context like `minijinja::context!`, converting every value through serde
/// (`view! { ticket, errors => Errors::default() }`).
#[macro_export]
macro_rules! view {
    (@value $key:ident) => { $key };
    (@value $key:ident => $value:expr) => { $value };
    ($($key:ident $(=> $value:expr)?),* $(,)?) => {
        ::minijinja::context! { $($key => $crate::render::to_value(&$crate::view!(@value $key $(=> $value)?))),* }
    };
}

/// Any serialisable value as a template value.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Everything under `assets/`: templates and static files, compiled into the binary.
#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// One embedded static file and its content hash.
pub struct StaticFile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub hash: String,
}

/// Every file under `assets/static/`, with its content hash (the versioned URL's first part).
pub struct StaticFiles {
    files: HashMap<String, StaticFile>,
}

impl StaticFiles {
    pub fn load() -> StaticFiles {
        let mut files = HashMap::new();
        for path in Assets::iter() {
            if let Some(name) = path.strip_prefix("static/") {
                let bytes = Assets::get(&path)
                    .expect("listed asset exists")
                    .data
                    .into_owned();
                let hash = b64(&sha256(&bytes))[..12].replace(['-', '_'], "x");
                files.insert(
                    name.to_string(),
                    StaticFile {
                        content_type: content_type(name),
                        hash,
                        bytes,
                    },
                );
            }
        }
        StaticFiles { files }
    }

    /// The file called `name` (`app.css`), if there is one.
    pub fn get(&self, name: &str) -> Option<&StaticFile> {
        self.files.get(name)
    }

    /// `app.css` → `/assets/Ab12Cd34Ef56/app.css`, for templates.
    pub fn urls(&self) -> HashMap<String, String> {
        self.files
            .iter()
            .map(|(name, f)| (name.clone(), format!("/assets/{}/{name}", f.hash)))
            .collect()
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The template environment plus the cache-busting URLs of static files.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads every template and registers filters. `asset_urls` maps `app.css` to its
    /// versioned URL.
    pub fn load(asset_urls: HashMap<String, String>) -> Result<Templates> {
        let mut env = Environment::new();
        // Block tags leave no blank lines behind: smaller pages, less to escape and send.
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?;
        env.set_syntax(syntax);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for path in Assets::iter() {
            if let Some(name) = path.strip_prefix("templates/") {
                let file = Assets::get(&path).expect("listed asset exists");
                let source = String::from_utf8(file.data.into_owned())
                    .map_err(|_| Error::Other(format!("template {name} is not UTF-8")))?;
                env.add_template_owned(name.to_string(), source)?;
            }
        }
        env.add_filter("datetime", |ts: i64| clock::format_datetime(ts));
        // `<time datetime="…Z">… UTC</time>`: app.js shows it in the reader's time zone; without
        // JavaScript it says UTC. (Only digits and punctuation: nothing to escape.)
        env.add_filter("time", |ts: i64| {
            Value::from_safe_string(format!(
                "<time datetime=\"{}\">{}</time>",
                clock::iso(ts),
                clock::format_datetime(ts)
            ))
        });
        env.add_filter("date", |ts: i64| clock::format_date(ts));
        // The date, which app.js rewrites as "today", "3 days ago" (lists for clients).
        env.add_filter("relative", |ts: i64| {
            Value::from_safe_string(format!(
                "<time datetime=\"{}\" data-relative>{}</time>",
                clock::iso(ts),
                clock::format_date(ts)
            ))
        });
        // Stored keys ("awaiting_reply") to what people read ("Awaiting Reply").
        env.add_filter("status_label", |key: &str| {
            Status::parse(key).map_or(key.to_string(), |s| s.label().into())
        });
        env.add_filter("priority_label", |key: &str| {
            Priority::parse(key).map_or(key.to_string(), |p| p.label().into())
        });
        env.add_filter("source_label", |key: &str| {
            Source::parse(key).map_or(key.to_string(), |s| s.label().into())
        });
        env.add_filter("markdown", |text: &str| {
            Value::from_safe_string(markdown(text))
        });
        // Our own URL (no user input): safe to emit unescaped.
        env.add_function(
            "asset",
            move |name: &str| -> std::result::Result<Value, minijinja::Error> {
                asset_urls
                    .get(name)
                    .map(|url| Value::from_safe_string(url.clone()))
                    .ok_or_else(|| {
                        minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("unknown asset {name}"),
                        )
                    })
            },
        );
        Ok(Templates { env })
    }

    /// Renders `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

/// Markdown → sanitised HTML. Raw HTML in the input is cleaned, not trusted; links get
/// `rel="noopener noreferrer"`.
pub fn markdown(text: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut unsafe_html = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(text, options));
    ammonia::clean(&unsafe_html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_sanitised() {
        let out = markdown(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(out.contains("<strong>bold</strong>"), "{out}");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("onerror"), "{out}");
    }
}
