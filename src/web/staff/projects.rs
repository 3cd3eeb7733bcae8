//! Projects: list, create (name + key used in ticket references), show, edit, archive.
//!
//! The key is fixed once a project exists: it is part of every ticket reference (`ACME-12`)
//! already handed to clients.

use std::collections::BTreeMap;

use minijinja::Value;
use rouille::Response;

use crate::view;

use crate::domain::valid_project_key;
use crate::error::Result;
use crate::policy;
use crate::store::paging::Seek;
use crate::store::projects::{NewProject, Project, ProjectUpdate};
use crate::store::staff::Staff;
use crate::store::tickets::TicketFilter;
use crate::store::{self};
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 5_000;

pub fn list(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    let projects = store::projects::list_with_counts(ctx.db)?;
    respond::page(
        ctx,
        "staff/projects.html",
        view! { nav => "projects", projects },
    )
}

pub fn new(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    respond::page(
        ctx,
        "staff/project_form.html",
        view! { nav => "projects", values => view! {}, errors => Errors::default() },
    )
}

fn validate(ctx: &Ctx<'_>, errors: &mut Errors) {
    errors.require("name", &ctx.form.line("name"), "Name", NAME_MAX);
    errors.max_len(
        "description",
        ctx.form.get("description"),
        "Description",
        DESCRIPTION_MAX,
    );
}

pub fn create(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    let key = ctx.form.trimmed("key").to_ascii_uppercase();
    let mut errors = Errors::default();
    validate(ctx, &mut errors);
    if !valid_project_key(&key) {
        errors.add(
            "key",
            "Use 2–10 capital letters or digits, starting with a letter (e.g. ACME).",
        );
    }
    if errors.is_empty() {
        let new = NewProject {
            key: &key,
            name: &ctx.form.line("name"),
            description: ctx.form.get("description"),
        };
        match ctx.db.write(|tx| store::projects::insert(tx, &new)) {
            Ok(_) => {
                let message = format!("Project {key} created.");
                return Ok(respond::redirect_with_flash(
                    ctx,
                    &format!("/projects/{key}"),
                    &message,
                ));
            }
            Err(e) if store::is_unique_violation(&e) => {
                errors.add("key", "Another project already uses this key.")
            }
            Err(e) => return Err(e),
        }
    }
    let page_ctx = view! { nav => "projects", values => ctx.form.values(), errors };
    respond::page_with_status(ctx, 422, "staff/project_form.html", page_ctx)
}

fn load(ctx: &Ctx<'_>, key: &str) -> Result<Option<Project>> {
    store::projects::get_by_key(ctx.db, key)
}

pub fn show(ctx: &Ctx<'_>, me: &Staff, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let values = share_form_values(&project, None);
    render_show(ctx, me, &project, 200, values, Errors::default())
}

/// What the share-link forms on the project page are filled with: the project's settings,
/// overlaid with `form` — what was just typed into the form that failed validation.
pub fn share_form_values(project: &Project, form: Option<&crate::web::forms::Form>) -> Value {
    let share = &project.share;
    let mut values: BTreeMap<String, Value> = BTreeMap::from([
        (
            "share_accent_color".into(),
            Value::from(share.accent_color.clone().unwrap_or_default()),
        ),
        ("share_submissions".into(), Value::from(share.submissions)),
        ("share_attachments".into(), Value::from(share.attachments)),
        (
            "share_auto_publish".into(),
            Value::from(if share.auto_publish { "now" } else { "approve" }),
        ),
        ("share_welcome".into(), Value::from(share.welcome.clone())),
        (
            "share_response_time".into(),
            Value::from(share.response_time.clone()),
        ),
    ]);
    if let Some(form) = form {
        for (key, value) in form.values() {
            values.insert(key, Value::from(value));
        }
        // An unticked checkbox is absent from the form: on the settings form, absent is "off".
        if form.has("share_welcome") {
            values.insert(
                "share_submissions".into(),
                Value::from(form.checked("share_submissions")),
            );
            values.insert(
                "share_attachments".into(),
                Value::from(form.checked("share_attachments")),
            );
        }
    }
    Value::from(values)
}

/// The project page; `values`/`errors` refill the share-link settings form after a refusal.
pub fn render_show(
    ctx: &Ctx<'_>,
    me: &Staff,
    project: &Project,
    status: u16,
    values: minijinja::Value,
    errors: Errors,
) -> Result<Response> {
    let filter = TicketFilter {
        project: Some(project.id),
        ..TicketFilter::default()
    };
    let recent = store::tickets::list(ctx.db, &filter, Seek::First, 10)?.rows;
    let counts: Vec<_> = store::tickets::status_counts(ctx.db, &filter)?
        .unwrap_or_default()
        .into_iter()
        .map(|(s, n)| view! { key => s.key(), label => s.label(), count => n })
        .collect();
    let share_url = project
        .share
        .token
        .as_ref()
        .map(|t| format!("{}/s/{t}", ctx.app.config.base_url()));
    let may_manage_share = policy::may_manage_share_link(me).is_some();
    let archiving = match policy::archiving(me, project) {
        policy::Archiving::Allowed => "allowed",
        policy::Archiving::AfterConfirming => "confirm",
        policy::Archiving::Refused => "refused",
    };
    let may_restore = policy::may_restore(me, project);
    let page_ctx = view! { nav => "projects", project, recent, counts, share_url, may_manage_share, archiving, may_restore, values, errors };
    respond::page_with_status(ctx, status, "staff/project.html", page_ctx)
}

pub fn edit(ctx: &Ctx<'_>, _me: &Staff, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let values = view! {
        name => project.name,
        description => project.description,
        default_assignee => project.default_assignee_id.map(|s| s.to_string()).unwrap_or_default(),
    };
    render_form(ctx, 200, Some(&project), values, Errors::default())
}

/// The new/edit form; `project` is `None` for a new one.
fn render_form(
    ctx: &Ctx<'_>,
    status: u16,
    project: Option<&Project>,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let staff: Vec<_> = store::staff::list_active(ctx.db)?
        .into_iter()
        .map(|s| view! { key => s.id.to_string(), label => s.name })
        .collect();
    let page_ctx = view! { nav => "projects", project, staff, values, errors };
    respond::page_with_status(ctx, status, "staff/project_form.html", page_ctx)
}

pub fn update(ctx: &Ctx<'_>, _me: &Staff, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    validate(ctx, &mut errors);
    let default_assignee =
        super::parse_assignee(ctx, ctx.form.get("default_assignee"), &mut errors)?;
    if !errors.is_empty() {
        let values = crate::render::to_value(&ctx.form.values());
        return render_form(ctx, 422, Some(&project), values, errors);
    }
    let update = ProjectUpdate {
        name: &ctx.form.line("name"),
        description: ctx.form.get("description"),
        default_assignee_id: default_assignee,
    };
    ctx.db
        .write(|tx| store::projects::update(tx, project.id, &update))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/projects/{}", project.key),
        "Project saved.",
    ))
}

/// The confirmation step before archiving a project whose shareable link is on (admins).
pub fn confirm_archive(ctx: &Ctx<'_>, me: &Staff, key: &str) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    match policy::archiving(me, &project) {
        policy::Archiving::Refused => Ok(archive_refused(ctx)),
        _ => respond::page(
            ctx,
            "staff/project_archive.html",
            view! { nav => "projects", project },
        ),
    }
}

fn archive_refused(ctx: &Ctx<'_>) -> Response {
    respond::forbidden_because(
        ctx,
        "Archiving this project would take its shareable link offline, and only an admin can turn a link off. Ask an admin to archive it, or to turn the link off first.",
    )
}

/// Archiving hides a project from the "new ticket" choices; its tickets stay as they are. A
/// project whose shareable link is on is archived only by an admin who confirmed that the link
/// goes dark (`confirm=yes`, sent by the confirmation page), and restored only by an admin (it
/// puts the link back online). Decided on the project as it is inside the write.
pub fn set_archived(ctx: &Ctx<'_>, me: &Staff, key: &str, archived: bool) -> Result<Response> {
    let Some(project) = load(ctx, key)? else {
        return Ok(respond::not_found(ctx));
    };
    enum Outcome {
        Done { link_on: bool },
        Confirm,
        Refused,
    }
    let confirmed = ctx.form.get("confirm") == "yes";
    let outcome = ctx.db.write(|tx| {
        let Some(current) = store::projects::get(tx, project.id)? else {
            return Ok(Outcome::Refused);
        };
        let allowed = if archived {
            match policy::archiving(me, &current) {
                policy::Archiving::Allowed => true,
                policy::Archiving::AfterConfirming if confirmed => true,
                policy::Archiving::AfterConfirming => return Ok(Outcome::Confirm),
                policy::Archiving::Refused => false,
            }
        } else {
            policy::may_restore(me, &current)
        };
        if !allowed {
            return Ok(Outcome::Refused);
        }
        store::projects::set_archived(tx, project.id, archived)?;
        Ok(Outcome::Done {
            link_on: current.share.enabled,
        })
    })?;
    let message = match (outcome, archived) {
        (Outcome::Confirm, _) => {
            return Ok(respond::redirect(&format!(
                "/projects/{}/archive",
                project.key
            )));
        }
        (Outcome::Refused, true) => return Ok(archive_refused(ctx)),
        (Outcome::Refused, false) => {
            return Ok(respond::forbidden_because(
                ctx,
                "Restoring this project would put its shareable link back online, and only an admin can do that. Ask an admin to restore it.",
            ));
        }
        (Outcome::Done { link_on: true }, true) => {
            "Project archived. Its shareable link now shows \"Page not found\"; restoring the project brings it back."
        }
        (Outcome::Done { link_on: true }, false) => {
            "Project restored. Its shareable link works again."
        }
        (Outcome::Done { .. }, true) => "Project archived.",
        (Outcome::Done { .. }, false) => "Project restored.",
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/projects/{}", project.key),
        message,
    ))
}
