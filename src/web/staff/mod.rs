//! The staff workspace: sign-in, first-run setup, the inbox, tickets, projects and staff admin.

pub mod account;
pub mod contacts;
pub mod customers;
pub mod inbox;
pub mod login;
pub mod mail;
pub mod portal_users;
pub mod portals;
pub mod projects;
pub mod settings;
pub mod setup;
pub mod share;
pub mod tickets;
pub mod users;

use crate::domain::StaffId;
use crate::error::Result;
use crate::store;
use crate::web::Ctx;
use crate::web::forms::Errors;

/// Reads an assignee select: "" is nobody; otherwise an active staff member's id.
pub(super) fn parse_assignee(
    ctx: &Ctx<'_>,
    raw: &str,
    errors: &mut Errors,
) -> Result<Option<StaffId>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let found = match raw.parse::<i64>() {
        Ok(id) => store::staff::get(ctx.db, StaffId(id))?.filter(|s| s.active),
        Err(_) => None,
    };
    if found.is_none() {
        errors.add("assignee", "Choose an active staff member, or nobody.");
    }
    Ok(found.map(|s| s.id))
}

/// Builds `path?k=v&…` from the non-empty pairs, URL-encoding values.
pub fn url_with(path: &str, params: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// A `next=` target is followed only when it is a plain path on this site (no open redirect).
/// Browsers drop tabs and newlines from URLs and treat `\` like `/`, so `/\t/evil.example`
/// would become `//evil.example`: any such character disqualifies the target.
pub fn safe_next(next: &str) -> Option<&str> {
    let plain = next
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    (plain && next.starts_with('/') && !next.starts_with("//")).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_next() {
        assert_eq!(
            url_with(
                "/",
                &[
                    ("status", "open".into()),
                    ("q", "a b&c".into()),
                    ("page", String::new())
                ]
            ),
            "/?status=open&q=a+b%26c"
        );
        assert_eq!(url_with("/", &[]), "/");
        assert_eq!(safe_next("/tickets/A-1"), Some("/tickets/A-1"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\t/evil.example"), None);
        assert_eq!(safe_next("/\n/evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("/ /evil.example"), None);
    }
}
