//! Portal Users (admins, seed 002): a portal's contacts with their module levels and ticket
//! visibility — filter, search, page; change one row (a small form per row, no JavaScript);
//! change many at once ("Don't change" per field, optionally only where a contact has no value of
//! their own); enable or disable many; and the portal's defaults.

use minijinja::Value;
use rouille::Response;

use crate::domain::{ContactId, ContactStatus, CustomerId, Level, PortalId, TicketVisibility};
use crate::error::Result;
use crate::policy::Admin;
use crate::store::contacts::{Contact, ContactFilter, OverrideChange};
use crate::store::{self, customers, portals::Portal};
use crate::view;
use crate::web::staff::url_with;
use crate::web::{Ctx, listing, respond};

pub const PAGE_SIZE: usize = 50;

fn load(ctx: &Ctx<'_>, id: i64) -> Result<Option<Portal>> {
    store::portals::get(ctx.db, PortalId(id))
}

/// The list's filters, from the query string (or the bulk form's copy of them).
fn filter(portal: &Portal, get: impl Fn(&str) -> Option<String>) -> ContactFilter {
    ContactFilter {
        q: get("q"),
        status: get("status").and_then(|s| ContactStatus::parse(&s)),
        customer: get("customer").and_then(|c| c.parse().ok()).map(CustomerId),
        pending_invitation: false,
        portal: Some(portal.id),
    }
}

fn level_options(default: Level) -> Vec<Value> {
    let mut options = vec![view! { key => "", label => format!("Default ({})", default.label()) }];
    options.extend(
        Level::ALL
            .iter()
            .map(|l| view! { key => l.key(), label => l.label() }),
    );
    options
}

fn visibility_options(default: TicketVisibility) -> Vec<Value> {
    let mut options = vec![view! { key => "", label => format!("Default ({})", default.label()) }];
    options.extend(
        TicketVisibility::ALL
            .iter()
            .map(|v| view! { key => v.key(), label => v.label() }),
    );
    options
}

fn row(c: &Contact) -> Value {
    view! {
        id => c.id.0,
        name => c.name,
        email => c.email,
        customer_name => c.customer_name,
        status => c.status.label(),
        tickets => c.tickets_level.map(|l| l.key()).unwrap_or(""),
        projects => c.projects_level.map(|l| l.key()).unwrap_or(""),
        pages => c.pages_level.map(|l| l.key()).unwrap_or(""),
        visibility => c.ticket_visibility.map(|v| v.key()).unwrap_or(""),
    }
}

pub fn list(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let f = filter(&portal, |k| ctx.query(k));
    let seek = listing::seek(ctx.query("at").as_deref());
    let page = listing::fetch(seek, |seek| {
        store::contacts::list(ctx.db, &f, seek, PAGE_SIZE)
    })?;
    let base = format!("/portals/{}/users", portal.id);
    let params = |at: &str| {
        url_with(
            &base,
            &[
                ("q", f.q.clone().unwrap_or_default()),
                (
                    "status",
                    f.status.map(|s| s.key().to_string()).unwrap_or_default(),
                ),
                (
                    "customer",
                    f.customer.map(|c| c.0.to_string()).unwrap_or_default(),
                ),
                ("at", at.to_string()),
            ],
        )
    };
    let pagination = listing::links(&page, params);
    let matching = store::contacts::list(ctx.db, &f, Default::default(), 100_000)?
        .rows
        .len();
    let here = ctx.req.raw_url().to_string();
    respond::page(
        ctx,
        "staff/portal_users.html",
        view! {
            nav => "portals",
            portal => view! {
                id => portal.id.0,
                name => portal.name,
                tickets => portal.tickets_level.key(),
                projects => portal.projects_level.key(),
                pages => portal.pages_level.key(),
                visibility => portal.ticket_visibility.key(),
            },
            users => page.rows.iter().map(row).collect::<Vec<_>>(),
            pagination,
            matching,
            here,
            tickets_options => level_options(portal.tickets_level),
            projects_options => level_options(portal.projects_level),
            pages_options => level_options(portal.pages_level),
            visibility_options => visibility_options(portal.ticket_visibility),
            levels => Level::options(),
            visibilities => TicketVisibility::options(),
            statuses => ContactStatus::options(),
            customers => customers::choices(ctx.db)?,
            query => view! {
                q => f.q,
                status => f.status.map(|s| s.key()).unwrap_or(""),
                customer => f.customer.map(|c| c.0.to_string()).unwrap_or_default(),
            },
        },
    )
}

/// Where to go back to: the list as it was (a path on this site only).
fn back(ctx: &Ctx<'_>, portal: &Portal) -> String {
    let fallback = format!("/portals/{}/users", portal.id);
    let to = ctx.form.get("back");
    crate::web::staff::safe_next(to)
        .filter(|t| t.starts_with(&fallback))
        .unwrap_or(&fallback)
        .to_string()
}

/// A field of a change form: "" back to the default, a key its value; `None` when not one.
fn parse_level(raw: &str) -> Option<Option<Level>> {
    match raw {
        "" => Some(None),
        key => Level::parse(key).map(Some),
    }
}

fn parse_visibility(raw: &str) -> Option<Option<TicketVisibility>> {
    match raw {
        "" => Some(None),
        key => TicketVisibility::parse(key).map(Some),
    }
}

/// One row's form: the four fields as chosen (each one replaces the contact's own value).
pub fn update_one(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64, contact: i64) -> Result<Response> {
    let Some(portal) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let f = ContactFilter {
        portal: Some(portal.id),
        ..Default::default()
    };
    let Some(c) = store::contacts::get(ctx.db, ContactId(contact))? else {
        return Ok(respond::not_found(ctx));
    };
    // Only a contact of this portal is changed from its page.
    let of_portal = store::contacts::list(ctx.db, &f, Default::default(), 100_000)?
        .rows
        .iter()
        .any(|x| x.id == c.id);
    if !of_portal {
        return Ok(respond::not_found(ctx));
    }
    let form = &ctx.form;
    let (Some(tickets), Some(projects), Some(pages), Some(visibility)) = (
        parse_level(form.get("tickets")),
        parse_level(form.get("projects")),
        parse_level(form.get("pages")),
        parse_visibility(form.get("visibility")),
    ) else {
        return Ok(respond::bad_request(
            ctx,
            "Choose each level from its list.",
        ));
    };
    let change = OverrideChange {
        tickets: Some(tickets),
        projects: Some(projects),
        pages: Some(pages),
        visibility: Some(visibility),
    };
    let changed = ctx
        .db
        .write(|tx| store::contacts::change_overrides(tx, &[c.id], &change, false))?;
    let message = if changed > 0 {
        format!("{}'s permissions are saved.", c.name)
    } else {
        format!("{}'s permissions were already so.", c.name)
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &back(ctx, &portal),
        &message,
    ))
}

/// A bulk field: "keep" (don't change), "" (back to the default) or a value.
fn bulk_level(raw: &str) -> Option<Option<Option<Level>>> {
    match raw {
        "keep" => Some(None),
        other => parse_level(other).map(Some),
    }
}

fn bulk_visibility(raw: &str) -> Option<Option<Option<TicketVisibility>>> {
    match raw {
        "keep" => Some(None),
        other => parse_visibility(other).map(Some),
    }
}

/// Set permissions, enable or disable the selected contacts — or, with "all", every contact
/// the list's filters match, across its pages. Says how many changed.
pub fn bulk(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let form = &ctx.form;
    let f = filter(&portal, |k| {
        Some(form.get(k).trim().to_string()).filter(|v| !v.is_empty())
    });
    // Only contacts of this portal, whatever ids the form carries.
    let of_portal: Vec<ContactId> = store::contacts::list(ctx.db, &f, Default::default(), 100_000)?
        .rows
        .iter()
        .map(|c| c.id)
        .collect();
    let ids: Vec<ContactId> = if form.checked("all") {
        of_portal
    } else {
        form.all("ids")
            .iter()
            .filter_map(|raw| raw.parse::<i64>().ok())
            .map(ContactId)
            .filter(|id| of_portal.contains(id))
            .collect()
    };
    let back = back(ctx, &portal);
    if ids.is_empty() {
        return Ok(respond::redirect_with_flash(
            ctx,
            &back,
            "Select at least one user first (or every user the list shows).",
        ));
    }
    let message = match form.get("action") {
        "enable" | "disable" => {
            let enable = form.get("action") == "enable";
            let n = ctx
                .db
                .write(|tx| store::contacts::set_enabled_many(tx, &ids, enable))?;
            format!(
                "{n} user{} {}.",
                if n == 1 { "" } else { "s" },
                if enable {
                    "enabled"
                } else {
                    "disabled (signed out everywhere)"
                }
            )
        }
        _ => {
            let (Some(tickets), Some(projects), Some(pages), Some(visibility)) = (
                bulk_level(form.get("set_tickets")),
                bulk_level(form.get("set_projects")),
                bulk_level(form.get("set_pages")),
                bulk_visibility(form.get("set_visibility")),
            ) else {
                return Ok(respond::bad_request(
                    ctx,
                    "Choose each field from its list.",
                ));
            };
            let change = OverrideChange {
                tickets,
                projects,
                pages,
                visibility,
            };
            let only_empty = form.checked("only_empty");
            let n = ctx
                .db
                .write(|tx| store::contacts::change_overrides(tx, &ids, &change, only_empty))?;
            format!(
                "Permissions changed for {n} of the {} selected user{}.",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" }
            )
        }
    };
    Ok(respond::redirect_with_flash(ctx, &back, &message))
}

/// The portal's defaults: the levels and visibility of everyone without their own.
pub fn update_defaults(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let form = &ctx.form;
    let (Some(tickets), Some(projects), Some(pages), Some(visibility)) = (
        Level::parse(form.get("tickets")),
        Level::parse(form.get("projects")),
        Level::parse(form.get("pages")),
        TicketVisibility::parse(form.get("visibility")),
    ) else {
        return Ok(respond::bad_request(
            ctx,
            "Choose each default from its list.",
        ));
    };
    ctx.db.write(|tx| {
        store::portals::set_defaults(tx, portal.id, [tickets, projects, pages], visibility)
    })?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/portals/{}/users", portal.id),
        "Default permissions saved. Users without their own settings have them now.",
    ))
}
