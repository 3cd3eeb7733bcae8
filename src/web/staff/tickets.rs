//! One ticket: create, show, reply to the client, add an internal note, change fields.
//!
//! Public replies and internal notes are separate forms posting to separate routes
//! (`/reply`, `/note`), styled and labelled differently: confusing the two is the most common
//! portal incident, so the choice is never a small toggle on a shared form.

use minijinja::Value;

use crate::view;
use rouille::Response;
use serde::Serialize;

use crate::clock;
use crate::domain::{Priority, Source, Status, Visibility, parse_ticket_ref};
use crate::error::Result;
use crate::notify;
use crate::store::staff::Staff;
use crate::store::tickets::{NewTicket, Ticket, TicketUpdate};
use crate::store::timeline::{self, Actor, Comment, Event};
use crate::store::{self};
use crate::web::forms::Errors;
use crate::web::{Ctx, attachments, fragments, respond};

/// Longest subject and body accepted.
pub const SUBJECT_MAX: usize = 200;
pub const BODY_MAX: usize = 20_000;

fn load(ctx: &Ctx<'_>, reference: &str) -> Result<Option<Ticket>> {
    match parse_ticket_ref(reference) {
        Some((key, number)) => store::tickets::get_by_ref(ctx.db, key, number),
        None => Ok(None),
    }
}

pub fn new(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    let values =
        view! { project => ctx.query("project").unwrap_or_default(), priority => "normal" };
    render_new(ctx, 200, values, Errors::default())
}

fn render_new(ctx: &Ctx<'_>, status: u16, values: Value, errors: Errors) -> Result<Response> {
    let projects = store::projects::list(ctx.db, false)?;
    let staff = store::staff::list_active(ctx.db)?;
    let page_ctx = view! { nav => "inbox", projects, staff, priorities => Priority::options(), values, errors };
    respond::page_with_status(ctx, status, "staff/ticket_new.html", page_ctx)
}

pub fn create(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    let form = &ctx.form;
    let mut errors = Errors::default();
    let project =
        store::projects::get_by_key(ctx.db, form.trimmed("project"))?.filter(|p| !p.archived);
    if project.is_none() {
        errors.add("project", "Choose a project.");
    }
    let subject = form.line("subject");
    errors.require("subject", &subject, "Subject", SUBJECT_MAX);
    errors.max_len("body", form.get("body"), "Description", BODY_MAX);
    let priority = Priority::parse(form.get("priority"));
    if priority.is_none() {
        errors.add("priority", "Choose a priority.");
    }
    let assignee = super::parse_assignee(ctx, form.get("assignee"), &mut errors)?;
    let (Some(project), Some(priority), true) = (project, priority, errors.is_empty()) else {
        return render_new(ctx, 422, crate::render::to_value(&form.values()), errors);
    };
    let new = NewTicket {
        project_id: project.id,
        subject: &subject,
        body: form.get("body"),
        priority,
        assignee_id: assignee,
        source: Source::Staff,
        requester_name: None,
        requester_email: None,
        created_by: Some(me.id),
        shared: true,
        receipt_hash: None,
        portal: None,
    };
    let (_, number) = ctx.db.write(|tx| store::tickets::insert(tx, &new))?;
    let reference = format!("{}-{number}", project.key);
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/tickets/{reference}"),
        &format!("Ticket {reference} created."),
    ))
}

/// One entry of the timeline: a comment or a field change, in time order.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry {
    Comment(Comment),
    Event(Event),
}

impl Entry {
    fn at(&self) -> i64 {
        match self {
            Entry::Comment(c) => c.created_at,
            Entry::Event(e) => e.created_at,
        }
    }
}

pub fn show(ctx: &Ctx<'_>, me: &Staff, reference: &str) -> Result<Response> {
    match load(ctx, reference)? {
        Some(ticket) => render_ticket(ctx, me, &ticket, 200, view! {}, Errors::default()),
        None => Ok(respond::not_found(ctx)),
    }
}

/// Renders the ticket page; `values`/`errors` refill whichever form failed validation.
fn render_ticket(
    ctx: &Ctx<'_>,
    _me: &Staff,
    ticket: &Ticket,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let errors_mention_note = {
        let json = serde_json::to_string(&errors).unwrap_or_default();
        json.contains("\"note") || ctx.req.url().ends_with("/note")
    };
    let mut staff = store::staff::list_active(ctx.db)?;
    // A deactivated assignee stays selectable, or saving any other field would unassign them.
    if let Some(id) = ticket
        .assignee_id
        .filter(|id| !staff.iter().any(|s| s.id == *id))
        && let Some(inactive) = store::staff::get(ctx.db, id)?
    {
        staff.push(inactive);
    }
    let project = store::projects::get(ctx.db, ticket.project_id)?;
    let share_enabled = project.as_ref().is_some_and(|p| p.share.enabled);
    let page_ctx = view! {
        emails_requester => crate::policy::requester_gets_email(ticket),
        share_enabled,
        nav => "inbox",
        thread => thread(ctx, ticket)?,
        ticket,
        staff,
        // Which composer shows: the note's after a note failed (or when asked for), else the reply.
        compose => if errors_mention_note { "note" } else { ctx.query("compose").filter(|c| c == "note").map_or("reply", |_| "note") },
        statuses => Status::options(),
        priorities => Priority::options(),
        values,
        errors,
    };
    respond::page_with_status(ctx, status, "staff/ticket.html", page_ctx)
}

/// The ticket's description and timeline with their files, rendered: the same for every staff
/// member, so kept per worker until the next write (`fragments::html`) — a reload, or the page
/// after a refused form, costs no queries or Markdown for it.
fn thread(ctx: &Ctx<'_>, ticket: &Ticket) -> Result<Value> {
    let key = format!("ticket-thread|{}", ticket.id.0);
    fragments::html(key, ctx.data_version()?, || {
        let mut entries: Vec<Entry> = timeline::comments(ctx.db, ticket.id)?
            .into_iter()
            .map(Entry::Comment)
            .collect();
        entries.extend(
            timeline::events(ctx.db, ticket.id)?
                .into_iter()
                .map(Entry::Event),
        );
        entries.sort_by_key(|e| e.at()); // stable: comments before events at the same second
        let files = attachments::views(
            &store::attachments::for_ticket(ctx.db, ticket.id, true)?,
            |a| {
                format!(
                    "/tickets/{}/files/{}/{}",
                    ticket.reference,
                    a.id,
                    attachments::url_name(&a.name)
                )
            },
        );
        ctx.app.templates.render(
            "staff/ticket_thread.html",
            view! { ticket, timeline => entries, files },
        )
    })
}

/// Posts a public reply or an internal note, depending on the route it came through.
pub fn add_comment(
    ctx: &Ctx<'_>,
    me: &Staff,
    reference: &str,
    visibility: Visibility,
) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    let field = match visibility {
        Visibility::Public => "reply",
        Visibility::Internal => "note",
    };
    let body = ctx.form.get(field);
    let mut errors = Errors::default();
    let label = match visibility {
        Visibility::Public => "A reply",
        Visibility::Internal => "A note",
    };
    if body.trim().is_empty() {
        errors.add(field, format!("{label} can't be empty."));
    }
    errors.max_len(field, body, label, BODY_MAX);
    let files_field = format!("{field}_files");
    let attached = store::attachments::total_size(ctx.db, ticket.id, true)?;
    let checked = attachments::check(ctx, &files_field, attached, &mut errors)?;
    if !errors.is_empty() {
        if !checked.is_empty() {
            errors.add(&files_field, attachments::CHOOSE_AGAIN);
        }
        return render_ticket(
            ctx,
            me,
            &ticket,
            422,
            crate::render::to_value(&ctx.form.values()),
            errors,
        );
    }
    // A public reply is emailed to the requester when they get email; a note to nobody.
    let (notices, delivery) = match visibility {
        Visibility::Public => notify::public_reply(ctx.app, ctx.db, &ticket, body)?,
        Visibility::Internal => (
            notify::Notices::default(),
            notify::ReplyDelivery::NoRequester,
        ),
    };
    // On disk (durably) before the rows that name them commit.
    let storing = crate::files::storing();
    let files = attachments::store(ctx, checked)?;
    ctx.db.write(|tx| {
        let comment = timeline::insert_comment(
            tx,
            ticket.id,
            &Actor {
                staff_id: Some(me.id),
                name: &me.name,
            },
            body,
            visibility,
        )?;
        for file in &files {
            store::attachments::insert(
                tx,
                ticket.id,
                Some(comment),
                visibility == Visibility::Internal,
                store::attachments::Uploader::Staff(me.id),
                file,
            )?;
        }
        store::tickets::touch(tx, ticket.id, visibility == Visibility::Public)?;
        notices.queue(tx, ctx.app)
    })?;
    drop(storing);
    // Words that match what happened.
    let message = match (visibility, delivery) {
        (Visibility::Internal, _) => "Internal note added. The client can't see it.".to_string(),
        (Visibility::Public, notify::ReplyDelivery::Emailed(to)) => {
            format!("Reply saved and emailed to {to}.")
        }
        (Visibility::Public, notify::ReplyDelivery::ReceiptOnly) => {
            "Reply saved. The requester gets no email (they left no address or turned email off): they see it on their receipt page.".to_string()
        }
        (Visibility::Public, notify::ReplyDelivery::PortalOnly) => {
            "Reply saved. The client sees it in their portal; no email was sent (they turned such emails off, or can't sign in there now).".to_string()
        }
        (Visibility::Public, notify::ReplyDelivery::NoRequester) => {
            "Public reply saved. No email was sent: this ticket has no client requester.".to_string()
        }
    };
    let anchor = match visibility {
        Visibility::Public => "#reply",
        Visibility::Internal => "?compose=note#note",
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/tickets/{}{anchor}", ticket.reference),
        &message,
    ))
}

/// Changes status, priority, assignee and the expected-by date.
///
/// The form carries the values it was shown with (`orig_*`); only fields the user changed are
/// applied, onto the ticket as it is at the moment of writing. Two people editing one ticket at
/// once therefore don't undo each other's changes.
pub fn update(ctx: &Ctx<'_>, me: &Staff, reference: &str) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    let form = &ctx.form;
    // Without the `orig_*` fields (an old form), every field counts as changed.
    let changed = |field: &str| {
        let orig = format!("orig_{field}");
        !form.has(&orig) || form.get(field) != form.get(&orig)
    };
    let mut errors = Errors::default();
    let status = if changed("status") {
        let parsed = Status::parse(form.get("status"));
        if parsed.is_none() {
            errors.add("status", "Choose a status.");
        }
        parsed
    } else {
        None
    };
    let priority = if changed("priority") {
        let parsed = Priority::parse(form.get("priority"));
        if parsed.is_none() {
            errors.add("priority", "Choose a priority.");
        }
        parsed
    } else {
        None
    };
    let assignee = if changed("assignee") {
        Some(super::parse_assignee(
            ctx,
            form.get("assignee"),
            &mut errors,
        )?)
    } else {
        None
    };
    let expected_by = if changed("expected_by") {
        match form.trimmed("expected_by") {
            "" => Some(None),
            raw => match clock::parse_date(raw) {
                Some(date) => Some(Some(date.to_string())),
                None => {
                    errors.add(
                        "expected_by",
                        "Enter a date as YYYY-MM-DD, or leave it empty.",
                    );
                    None
                }
            },
        }
    } else {
        None
    };
    if !errors.is_empty() {
        return render_ticket(
            ctx,
            me,
            &ticket,
            422,
            crate::render::to_value(&form.values()),
            errors,
        );
    }
    let actor = Actor {
        staff_id: Some(me.id),
        name: &me.name,
    };
    // The requester hears of a new status or expected-by date (rendered before the write, sent
    // only if the write really changes one of them).
    let notices = notify::ticket_changed(ctx.app, ctx.db, &ticket, status, expected_by.clone())?;
    let (changed, told) = ctx.db.write(|tx| {
        let Some(current) = store::tickets::get_by_ref(tx, &ticket.project_key, ticket.number)?
        else {
            return Ok((0, false));
        };
        let update = TicketUpdate {
            status: status.unwrap_or(current.status),
            priority: priority.unwrap_or(current.priority),
            assignee_id: assignee.unwrap_or(current.assignee_id),
            expected_by: expected_by
                .clone()
                .unwrap_or_else(|| current.expected_by.clone()),
        };
        let visible = (status.is_some() && update.status != current.status)
            || (expected_by.is_some() && update.expected_by != current.expected_by);
        let changed = store::tickets::update(tx, &current, &update, &actor)?;
        let told = visible && !notices.recipients().is_empty();
        if told {
            notices.queue(tx, ctx.app)?;
        }
        Ok((changed, told))
    })?;
    let message = match (changed, told) {
        (0, _) => "Nothing changed.".to_string(),
        (_, true) => format!(
            "Ticket updated. The requester was emailed about it ({}).",
            notices.recipients().join(", ")
        ),
        (_, false) => "Ticket updated.".to_string(),
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/tickets/{}", ticket.reference),
        &message,
    ))
}

/// Shows or hides the ticket on its project's shared board and sets the title visitors see.
pub fn update_sharing(ctx: &Ctx<'_>, me: &Staff, reference: &str) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    let public_title = ctx.form.line("public_title");
    let mut errors = Errors::default();
    errors.max_len("public_title", &public_title, "Public title", SUBJECT_MAX);
    if !errors.is_empty() {
        return render_ticket(
            ctx,
            me,
            &ticket,
            422,
            crate::render::to_value(&ctx.form.values()),
            errors,
        );
    }
    let shared = ctx.form.checked("shared");
    let public_title = Some(public_title.as_str()).filter(|t| !t.is_empty());
    let actor = Actor {
        staff_id: Some(me.id),
        name: &me.name,
    };
    let changed = ctx
        .db
        .write(|tx| store::tickets::set_sharing(tx, &ticket, shared, public_title, &actor))?;
    let message = match (changed, shared) {
        (0, _) => "Nothing changed.",
        (_, true) => "Saved. The ticket is shown on the shared board.",
        (_, false) => "Saved. The ticket is hidden from the shared board.",
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/tickets/{}#board", ticket.reference),
        message,
    ))
}

/// A file of a ticket (staff see every one, internal ones included).
pub fn file(ctx: &Ctx<'_>, _me: &Staff, reference: &str, id: i64) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    match store::attachments::get(ctx.db, ticket.id, id, true)? {
        Some(a) => attachments::serve(ctx, &a),
        None => Ok(respond::not_found(ctx)),
    }
}

/// Asks before removing a file.
pub fn confirm_delete_file(
    ctx: &Ctx<'_>,
    _me: &Staff,
    reference: &str,
    id: i64,
) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    let Some(a) = store::attachments::get(ctx.db, ticket.id, id, true)? else {
        return Ok(respond::not_found(ctx));
    };
    respond::page(
        ctx,
        "staff/file_delete.html",
        view! {
            nav => "inbox",
            ticket => view! { reference => ticket.reference, subject => ticket.subject },
            file => view! { id => a.id, name => a.name, size => attachments::size_text(a.size), internal => a.internal },
        },
    )
}

/// Removes a file from a ticket (on the timeline); the stored bytes go once nothing names them.
pub fn delete_file(ctx: &Ctx<'_>, me: &Staff, reference: &str, id: i64) -> Result<Response> {
    let Some(ticket) = load(ctx, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    let Some(a) = store::attachments::get(ctx.db, ticket.id, id, true)? else {
        return Ok(respond::not_found(ctx));
    };
    let actor = Actor {
        staff_id: Some(me.id),
        name: &me.name,
    };
    ctx.db.write(|tx| {
        store::attachments::delete(tx, a.id)?;
        timeline::insert_event(tx, ticket.id, &actor, "attachment", Some(&a.name), None)
    })?;
    // After the commit is on disk: a crash in between leaves an unnamed file, which the
    // start-up sweep removes — never a row naming a missing file. Alone: no upload of the same
    // bytes may be between storing them and naming them meanwhile.
    ctx.db.sync_committed()?;
    {
        let _alone = crate::files::removing();
        if !store::attachments::file_in_use(ctx.db, &a.sha256)? {
            crate::files::remove(&ctx.app.config.data_dir, &a.sha256)?;
        }
    }
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/tickets/{}", ticket.reference),
        &format!("{} removed from {}.", a.name, ticket.reference),
    ))
}
