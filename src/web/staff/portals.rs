//! Portals (admins): add and configure them — address, switch, branding, registration modes,
//! customers, the project new tickets go to — and invite contacts in bulk.

use minijinja::Value;
use rouille::Response;

use crate::domain::{
    ContactRole, ContactStatus, CustomerId, PortalId, ProjectId, parse_hex_color, plausible_email,
    valid_slug,
};
use crate::error::Result;
use crate::policy::Admin;
use crate::store::contacts::NewContact;
use crate::store::portals::{Portal, PortalFields};
use crate::store::{self, customers};
use crate::view;
use crate::web::forms::Errors;
use crate::web::portal::access;
use crate::web::{Ctx, respond};

const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 2_000;
/// Most rows one bulk invitation takes.
pub const BULK_MAX: usize = 500;

pub fn list(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let base = ctx.app.config.base_url();
    let mut portals = Vec::new();
    for p in store::portals::list(ctx.db)? {
        portals.push(view! {
            id => p.id.0,
            name => p.name,
            url => format!("{base}/portal/{}/", p.slug),
            enabled => p.enabled,
            allow_invites => p.allow_invites,
            customer_signup => p.customer_signup,
            open_registration => p.open_registration,
            contacts => store::portals::contact_count(ctx.db, p.id)?,
        });
    }
    respond::page(
        ctx,
        "staff/portals.html",
        view! { nav => "portals", portals },
    )
}

fn render_form(
    ctx: &Ctx<'_>,
    status: u16,
    portal: Option<&Portal>,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let projects = store::projects::list(ctx.db, false)?
        .into_iter()
        .map(|p| view! { key => p.id.0, label => format!("{} ({})", p.name, p.key) })
        .collect::<Vec<_>>();
    let customers = customers::choices(ctx.db)?;
    let workspace = store::settings::branding(ctx.db)?;
    respond::page_with_status(
        ctx,
        status,
        "staff/portal.html",
        view! {
            nav => "portals",
            portal => portal.map(|p| view! {
                id => p.id.0,
                name => p.name,
                slug => p.slug,
                logo => p.logo,
                url => format!("{}/portal/{}/", ctx.app.config.base_url(), p.slug),
            }),
            base_url => ctx.app.config.base_url(),
            projects,
            customers,
            workspace,
            values,
            errors,
        },
    )
}

pub fn new(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let values =
        view! { allow_invites => true, enabled => true, customer_ids => Vec::<String>::new() };
    render_form(ctx, 200, None, values, Errors::default())
}

/// What the form says, checked.
struct Read {
    slug: String,
    name: String,
    enabled: bool,
    accent: Option<String>,
    welcome: String,
    response_time: String,
    allow_invites: bool,
    customer_signup: bool,
    open_registration: bool,
    project: Option<ProjectId>,
    customers: Vec<CustomerId>,
}

fn read(ctx: &Ctx<'_>, except: Option<PortalId>, errors: &mut Errors) -> Result<Read> {
    let form = &ctx.form;
    let name = form.line("name");
    errors.require("name", &name, "Name", NAME_MAX);
    let slug = form.line("slug").to_lowercase();
    if slug.is_empty() {
        errors.add("slug", "Address is required.");
    } else if !valid_slug(&slug) {
        errors.add(
            "slug",
            "Use 2–40 lowercase letters, digits and single dashes, like acme-support.",
        );
    } else if store::portals::slug_taken(ctx.db, &slug, except)? {
        errors.add("slug", "Another portal has this address.");
    }
    let accent = match form.trimmed("accent_color") {
        "" => None,
        raw => {
            let parsed = parse_hex_color(raw);
            if parsed.is_none() {
                errors.add(
                    "accent_color",
                    "Write a colour as #rrggbb, e.g. #0f766e, or leave it empty.",
                );
            }
            parsed
        }
    };
    let welcome = form.trimmed("welcome").to_string();
    errors.max_len("welcome", &welcome, "Welcome text", TEXT_MAX);
    let response_time = form.line("response_time");
    errors.max_len(
        "response_time",
        &response_time,
        "Response-time promise",
        200,
    );
    let project = match form.get("default_project") {
        "" => None,
        raw => {
            let found = match raw.parse::<i64>() {
                Ok(id) => store::projects::get(ctx.db, ProjectId(id))?.filter(|p| !p.archived),
                Err(_) => None,
            };
            if found.is_none() {
                errors.add("default_project", "Choose an active project, or none.");
            }
            found.map(|p| p.id)
        }
    };
    let known = customers::choices(ctx.db)?;
    let customers = form
        .all("customers")
        .iter()
        .filter_map(|raw| raw.parse::<i64>().ok())
        .filter(|id| known.iter().any(|c| c.key == *id))
        .map(CustomerId)
        .collect();
    Ok(Read {
        slug,
        name,
        enabled: form.checked("enabled"),
        accent,
        welcome,
        response_time,
        allow_invites: form.checked("allow_invites"),
        customer_signup: form.checked("customer_signup"),
        open_registration: form.checked("open_registration"),
        project,
        customers,
    })
}

fn form_values(ctx: &Ctx<'_>) -> Value {
    let mut values: std::collections::BTreeMap<String, Value> = ctx
        .form
        .values()
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    values.insert(
        "customer_ids".into(),
        Value::from(
            ctx.form
                .all("customers")
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        ),
    );
    Value::from(values)
}

fn fields(r: &Read) -> PortalFields<'_> {
    PortalFields {
        slug: &r.slug,
        name: &r.name,
        enabled: r.enabled,
        accent_color: r.accent.as_deref(),
        welcome: &r.welcome,
        response_time: &r.response_time,
        allow_invites: r.allow_invites,
        customer_signup: r.customer_signup,
        open_registration: r.open_registration,
        default_project_id: r.project,
    }
}

pub fn create(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let mut errors = Errors::default();
    let read = read(ctx, None, &mut errors)?;
    let logo = crate::web::staff::settings::uploaded_logo(ctx, "logo", &mut errors)?;
    if !errors.is_empty() {
        if logo.is_some() {
            errors.add("logo", crate::web::staff::settings::CHOOSE_AGAIN);
        }
        return render_form(ctx, 422, None, form_values(ctx), errors);
    }
    let _storing = crate::files::storing();
    let logo = match logo {
        Some(checked) => Some(crate::web::staff::settings::store_logo(ctx, &checked)?),
        None => None,
    };
    let id = ctx.db.write(|tx| {
        let id = store::portals::insert(tx, &fields(&read))?;
        store::portals::set_customers(tx, id, &read.customers)?;
        store::portals::set_logo(tx, id, logo.as_deref())?;
        Ok(id)
    })?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/portals/{id}"),
        &format!("Portal {} added.", read.name),
    ))
}

pub fn edit(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = store::portals::get(ctx.db, PortalId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    let customer_ids: Vec<String> = store::portals::customers(ctx.db, portal.id)?
        .iter()
        .map(|c| c.0.to_string())
        .collect();
    let values = view! {
        name => portal.name,
        slug => portal.slug,
        enabled => portal.enabled,
        accent_color => portal.accent_color.clone().unwrap_or_default(),
        welcome => portal.welcome,
        response_time => portal.response_time,
        allow_invites => portal.allow_invites,
        customer_signup => portal.customer_signup,
        open_registration => portal.open_registration,
        default_project => portal.default_project_id.map(|p| p.0.to_string()).unwrap_or_default(),
        customer_ids,
    };
    render_form(ctx, 200, Some(&portal), values, Errors::default())
}

pub fn update(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = store::portals::get(ctx.db, PortalId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    let read = read(ctx, Some(portal.id), &mut errors)?;
    let logo = crate::web::staff::settings::uploaded_logo(ctx, "logo", &mut errors)?;
    if !errors.is_empty() {
        if logo.is_some() {
            errors.add("logo", crate::web::staff::settings::CHOOSE_AGAIN);
        }
        return render_form(ctx, 422, Some(&portal), form_values(ctx), errors);
    }
    let _storing = crate::files::storing();
    let logo = match logo {
        Some(checked) => Some(crate::web::staff::settings::store_logo(ctx, &checked)?),
        None if ctx.form.checked("remove_logo") => None,
        None => portal.logo.clone(),
    };
    ctx.db.write(|tx| {
        store::portals::update(tx, portal.id, &fields(&read))?;
        store::portals::set_customers(tx, portal.id, &read.customers)?;
        store::portals::set_logo(tx, portal.id, logo.as_deref())
    })?;
    let moved = if read.slug != portal.slug {
        format!(
            " Its address is now /portal/{}/; the old one redirects there.",
            read.slug
        )
    } else {
        String::new()
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/portals/{id}"),
        &format!("Portal saved.{moved}"),
    ))
}

// ---- bulk invitations ---------------------------------------------------------------------

/// One row of a bulk invitation, checked.
pub struct InviteRow {
    pub email: String,
    pub name: String,
    pub customer: Option<CustomerId>,
}

/// Parses pasted lines or CSV (`email[,name[,customer]]`, a header row allowed): every bad row
/// is reported by its line number; rows are returned only when all are good.
pub fn parse_rows(
    ctx: &Ctx<'_>,
    portal: &Portal,
    text: &str,
) -> Result<std::result::Result<Vec<InviteRow>, Vec<String>>> {
    let mut rows: Vec<InviteRow> = Vec::new();
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("Line {line}: not readable as CSV ({e})."));
                continue;
            }
        };
        // The line the row starts on, as an editor numbers it: blank lines before it count
        // (the reader's own position is where it began looking, before those).
        let line = record.position().map_or(0, |p| {
            let from = (p.byte() as usize).min(text.len());
            let skipped = text[from..].len() - text[from..].trim_start_matches(['\r', '\n']).len();
            1 + text[..from + skipped].matches('\n').count()
        });
        let email = record.get(0).unwrap_or("").to_lowercase();
        if email.is_empty() && record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if email == "email" {
            // A header row (a pasted list followed by a CSV file has it in the middle).
            continue;
        }
        if record.len() > 3 {
            problems.push(format!(
                "Line {line}: more than three fields (email, name, customer)."
            ));
            continue;
        }
        if !plausible_email(&email) {
            problems.push(format!("Line {line}: {email:?} is not an email address."));
            continue;
        }
        if rows.iter().any(|r| r.email == email) {
            problems.push(format!("Line {line}: {email} is listed twice."));
            continue;
        }
        if store::contacts::get_by_email(ctx.db, &email)?.is_some() {
            problems.push(format!(
                "Line {line}: {email} has an account already (invite them from their contact page)."
            ));
            continue;
        }
        let name = record
            .get(1)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        if name.chars().count() > NAME_MAX {
            problems.push(format!(
                "Line {line}: the name is longer than {NAME_MAX} characters."
            ));
            continue;
        }
        let customer = match record.get(2).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match customers::find_by_name(ctx.db, c)? {
                Some(id) if !store::portals::serves_customer(ctx.db, portal.id, id)? => {
                    problems.push(format!(
                        "Line {line}: {c} may not use {} (add the customer on the portal's page first).",
                        portal.name
                    ));
                    continue;
                }
                Some(id) => Some(id),
                None => {
                    problems.push(format!("Line {line}: no customer is named {c:?}."));
                    continue;
                }
            },
        };
        rows.push(InviteRow {
            email,
            name,
            customer,
        });
    }
    if rows.len() > BULK_MAX {
        problems.push(format!(
            "At most {BULK_MAX} people at a time; this list has {}.",
            rows.len()
        ));
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(
            "The list is empty: paste one email address per line, or choose a CSV file.".into(),
        );
    }
    Ok(if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    })
}

fn render_bulk(
    ctx: &Ctx<'_>,
    portal: &Portal,
    status: u16,
    values: Value,
    problems: Vec<String>,
) -> Result<Response> {
    respond::page_with_status(
        ctx,
        status,
        "staff/portal_invite.html",
        view! {
            nav => "portals",
            portal => view! { id => portal.id.0, name => portal.name, allow_invites => portal.allow_invites, enabled => portal.enabled },
            values,
            problems,
            max => BULK_MAX,
        },
    )
}

pub fn bulk_form(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = store::portals::get(ctx.db, PortalId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    render_bulk(ctx, &portal, 200, view! {}, Vec::new())
}

pub fn bulk_invite(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(portal) = store::portals::get(ctx.db, PortalId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    let values = crate::render::to_value(&ctx.form.values());
    if !(portal.enabled && portal.allow_invites) {
        return render_bulk(
            ctx,
            &portal,
            409,
            values,
            vec!["Switch the portal on and allow invitations first.".into()],
        );
    }
    let mut text = ctx.form.get("emails").to_string();
    if let Some(upload) = ctx.uploads.iter().find(|u| u.field == "csv" && u.size > 0) {
        let bytes = upload.bytes().map_err(|e| {
            crate::error::Error::Other(format!("reading an uploaded CSV file: {e}"))
        })?;
        match String::from_utf8(bytes) {
            Ok(csv) => {
                if !text.trim().is_empty() {
                    text.push('\n');
                }
                text.push_str(csv.trim_start_matches('\u{feff}'));
            }
            Err(_) => {
                return render_bulk(
                    ctx,
                    &portal,
                    422,
                    values,
                    vec!["The CSV file is not UTF-8 text. Save it as “CSV UTF-8” and choose it again.".into()],
                );
            }
        }
    }
    let rows = match parse_rows(ctx, &portal, &text)? {
        Ok(rows) => rows,
        Err(problems) => return render_bulk(ctx, &portal, 422, values, problems),
    };
    let invited = access::invite_many(ctx, &portal, &rows)?;
    match invited {
        Ok(n) => Ok(respond::redirect_with_flash(
            ctx,
            "/contacts?pending=1",
            &format!(
                "{n} invitation{} sent to {}.",
                if n == 1 { "" } else { "s" },
                portal.name
            ),
        )),
        Err(taken) => render_bulk(
            ctx,
            &portal,
            409,
            values,
            vec![format!(
                "{taken} got an account meanwhile; nothing was imported. Send the list again."
            )],
        ),
    }
}

/// Contacts added by a bulk invitation are members with no label.
pub fn new_contact<'a>(row: &'a InviteRow, portal: PortalId) -> NewContact<'a> {
    NewContact {
        email: &row.email,
        name: &row.name,
        customer_id: row.customer,
        portal_id: Some(portal),
        role: ContactRole::Member,
        label: "",
        status: ContactStatus::Invited,
    }
}
