//! A signed-in contact's pages: the hub, the dashboard, their tickets and their profile.
//! Every ticket read goes through `me.ticket_scope()`: a ticket outside it is a 404, the same as
//! one that does not exist.

use minijinja::Value;
use rouille::Response;

use crate::auth::throttle::{self, Limit};
use crate::auth::{contact_sessions, passwords};
use crate::domain::{Priority, Source, Status, Visibility, parse_ticket_ref};
use crate::error::Result;
use crate::notify;
use crate::policy::PortalContact;
use crate::store::attachments::Uploader;
use crate::store::contacts::Contact;
use crate::store::tickets::{NewTicket, PortalRequester, Ticket};
use crate::store::timeline::Actor as Author;
use crate::store::{self, portal_tickets};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, attachments, fragments, listing, respond};

/// The form field a contact's files come in.
const FILES: &str = "files";

use super::{base, render};

/// Tickets per page of a contact's list.
pub const PAGE_SIZE: usize = 25;
pub const SUBJECT_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 20_000;
const NAME_MAX: usize = 100;
/// New tickets and replies one contact may send in an hour.
const MESSAGES_PER_HOUR: u32 = 60;

/// `/portal/`: the portals a signed-in contact can reach.
pub fn hub(ctx: &Ctx<'_>, contact: Option<&Contact>) -> Result<Response> {
    let portals = match contact {
        Some(c) => store::portals::reachable(ctx.db, c.portal_id, c.customer_id)?
            .into_iter()
            .map(|p| view! { name => p.name, url => format!("{}/dashboard", base(&p)), welcome => p.welcome })
            .collect(),
        None => Vec::new(),
    };
    let branding = store::settings::branding(ctx.db)?;
    respond::page(
        ctx,
        "portal/hub.html",
        view! {
            branding,
            signed_in => contact.is_some(),
            name => contact.map(|c| c.name.clone()),
            portals,
        },
    )
}

fn open_and_total(counts: &[(Status, i64)]) -> (i64, i64) {
    let total = counts.iter().map(|(_, n)| n).sum();
    let open = counts
        .iter()
        .filter(|(s, _)| !matches!(s, Status::Resolved | Status::Closed))
        .map(|(_, n)| n)
        .sum();
    (open, total)
}

pub fn dashboard(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let scope = me.ticket_scope();
    let (open, total, recent) = if me.sees_tickets() {
        let counts = portal_tickets::counts(ctx.db, scope)?;
        let (open, total) = open_and_total(&counts);
        let recent = portal_tickets::list(ctx.db, scope, None, None, Default::default(), 5)?;
        (open, total, recent.rows)
    } else {
        (0, 0, Vec::new())
    };
    let portal = me.portal();
    render(
        ctx,
        portal,
        Some(me),
        200,
        "portal/dashboard.html",
        view! {
            nav => "dashboard",
            first_name => me.contact().name.split_whitespace().next().unwrap_or_default(),
            open,
            total,
            may_create => me.may_create_ticket(),
            sees_tickets => me.sees_tickets(),
            company_wide => !matches!(scope.who, portal_tickets::Who::Contact(_)),
            customer_name => me.contact().customer_name,
            recent,
        },
    )
}

pub fn tickets(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let scope = me.ticket_scope();
    let portal = me.portal();
    let list_url = format!("{}/tickets", base(portal));
    let status = ctx.query("status").and_then(|s| Status::parse(&s));
    let q: String = ctx
        .query("q")
        .map(|q| q.chars().filter(|c| !c.is_control()).take(200).collect())
        .unwrap_or_default();
    let status_key = status.map(|s| s.key()).unwrap_or("");
    // The list is the same for everyone with this scope under the same query, and kept per
    // worker until the next write, as the inbox and the board are (`fragments::view`).
    let at = ctx.query("at");
    let key = format!("portal-tickets|{scope:?}|{status_key}|{q:?}|{at:?}");
    let list = fragments::view(key, ctx.data_version()?, || {
        let counts = portal_tickets::counts(ctx.db, scope)?;
        let seek = listing::seek(at.as_deref());
        let search = Some(q.as_str()).filter(|q| !q.is_empty());
        let page = listing::fetch(seek, |seek| {
            portal_tickets::list(ctx.db, scope, status, search, seek, PAGE_SIZE)
        })?;
        let link = |status: &str, at: &str| listing::list_url(&list_url, status, &q, at);
        // Counts cover the whole scope; with a search the total is what this page shows.
        let total = if search.is_some() {
            None
        } else {
            listing::total(Some(&counts), status)
        };
        Ok(view! {
            rows => page.rows,
            tabs => listing::status_tabs(Some(&counts), status, |s| link(s, "")),
            total,
            pagination => listing::links(&page, |at| link(status_key, at)),
        })
    })?;
    render(
        ctx,
        portal,
        Some(me),
        200,
        "portal/tickets.html",
        minijinja::context! {
            nav => "tickets",
            uncounted => "Matching tickets",
            query => view! { status => status_key, q },
            may_create => me.may_create_ticket(),
            company_wide => !matches!(scope.who, portal_tickets::Who::Contact(_)),
            list_url,
            ..list
        },
    )
}

fn priority_options() -> Vec<crate::domain::Choice> {
    Priority::options()
}

/// A contact's level does not allow this (the module is theirs, so not a 404).
fn not_allowed(ctx: &Ctx<'_>, what: &str) -> Response {
    respond::forbidden_because(
        ctx,
        &format!(
            "Your account can see tickets here but not {what}. Ask your contact at the agency if you need to."
        ),
    )
}

pub fn new_ticket(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    if !me.may_create_ticket() && me.portal().default_project_id.is_some() {
        return Ok(not_allowed(ctx, "open new ones"));
    }
    render_new(
        ctx,
        me,
        200,
        view! { priority => "normal" },
        Errors::default(),
    )
}

fn render_new(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    render(
        ctx,
        me.portal(),
        Some(me),
        status,
        "portal/ticket_new.html",
        view! {
            nav => "tickets",
            may_create => me.may_create_ticket(),
            priorities => priority_options(),
            values,
            errors,
        },
    )
}

/// The throttle of one contact's messages (new tickets and replies).
fn message_scope(me: PortalContact<'_>) -> String {
    format!("portal-messages:{}", me.contact().id)
}

fn message_limit() -> Limit {
    Limit {
        max: MESSAGES_PER_HOUR,
        window_secs: 3600,
        kept: throttle::Kept::OnDisk,
    }
}

fn too_many(wait: i64) -> String {
    format!(
        "You have sent a lot in the last hour. Please try again in {} — your text is still here.",
        throttle::minutes_text(wait)
    )
}

pub fn create_ticket(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    if !me.may_create_ticket() && me.portal().default_project_id.is_some() {
        return Ok(not_allowed(ctx, "open new ones"));
    }
    let portal = me.portal();
    let contact = me.contact();
    let values = crate::render::to_value(&ctx.form.values());
    let mut errors = Errors::default();
    let project = match portal.default_project_id {
        Some(id) => store::projects::get(ctx.db, id)?.filter(|p| !p.archived),
        None => None,
    };
    let Some(project) = project.filter(|_| me.may_create_ticket()) else {
        errors.add(
            "_form",
            "This portal is not taking new tickets at the moment. Please contact us another way.",
        );
        return render_new(ctx, me, 403, values, errors);
    };
    let subject = ctx.form.line("subject");
    let description = ctx.form.get("description");
    errors.require("subject", &subject, "Subject", SUBJECT_MAX);
    errors.require("description", description, "Description", DESCRIPTION_MAX);
    let priority = Priority::parse(ctx.form.get("priority"));
    if priority.is_none() {
        errors.add("priority", "Choose a priority from the list.");
    }
    let checked = attachments::check(ctx, FILES, 0, &mut errors)?;
    if !errors.is_empty() {
        if !checked.is_empty() {
            errors.add(FILES, attachments::CHOOSE_AGAIN);
        }
        return render_new(ctx, me, 422, values, errors);
    }
    let priority = priority.unwrap_or(Priority::Normal);
    let assignee = match project.default_assignee_id {
        Some(id) => store::staff::get(ctx.db, id)?.filter(|s| s.active),
        None => None,
    };
    let new = NewTicket {
        project_id: project.id,
        subject: &subject,
        body: description,
        priority,
        assignee_id: assignee.map(|s| s.id),
        source: Source::Portal,
        requester_name: Some(contact.name.as_str()),
        requester_email: Some(contact.email.as_str()),
        created_by: None,
        shared: false,
        receipt_hash: None,
        portal: Some(PortalRequester {
            portal: portal.id,
            contact: contact.id,
            customer: contact.customer_id,
        }),
    };
    let render_notices = |number: i64| -> Result<notify::Notices> {
        let reference = format!("{}-{number}", project.key);
        let mut notices = notify::new_ticket_for_staff(
            ctx.app,
            ctx.db,
            &project,
            &reference,
            &subject,
            description,
        )?;
        if let Some(email) =
            notify::portal_received(ctx.app, ctx.db, portal, contact, &reference, &subject)?
        {
            notices.add(email);
        }
        Ok(notices)
    };
    let expected = store::projects::next_number(ctx.db, project.id)?;
    let mut notices = render_notices(expected)?;
    let scope = message_scope(me);
    // Over the limit already: refused before anything is stored.
    if let Some(wait) = throttle::blocked_before_write(ctx.db, &scope, message_limit())? {
        errors.add("_form", too_many(wait));
        return render_new(ctx, me, 429, values, errors);
    }
    // On disk (durably) before the rows that name them commit.
    let storing = crate::files::storing();
    let files = attachments::store(ctx, checked)?;
    let outcome = ctx.db.write(|tx| {
        if let Err(wait) = throttle::check_and_record(tx, &scope, message_limit())? {
            return Ok(Err(wait));
        }
        let (id, number) = store::tickets::insert(tx, &new)?;
        for file in &files {
            store::attachments::insert(tx, id, None, false, Uploader::Contact(contact.id), file)?;
        }
        if number != expected {
            notices = render_notices(number)?;
        }
        notices.queue(tx, ctx.app)?;
        Ok(Ok(number))
    })?;
    drop(storing);
    match outcome {
        Err(wait) => {
            attachments::discard(ctx, &files)?;
            errors.add("_form", too_many(wait));
            render_new(ctx, me, 429, values, errors)
        }
        Ok(number) => Ok(respond::redirect_with_flash(
            ctx,
            &format!("{}/tickets/{}-{number}", base(portal), project.key),
            "Thank you — your ticket is in. We'll reply here.",
        )),
    }
}

/// The ticket `reference` when it is in `me`'s scope.
fn find(ctx: &Ctx<'_>, me: PortalContact<'_>, reference: &str) -> Result<Option<Ticket>> {
    let Some((key, number)) = parse_ticket_ref(reference) else {
        return Ok(None);
    };
    match portal_tickets::find(ctx.db, me.ticket_scope(), key, number)? {
        Some(id) => store::tickets::get(ctx.db, id),
        None => Ok(None),
    }
}

pub fn ticket(ctx: &Ctx<'_>, me: PortalContact<'_>, reference: &str) -> Result<Response> {
    let Some(ticket) = find(ctx, me, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    render_ticket(ctx, me, &ticket, 200, view! {}, Errors::default())
}

fn render_ticket(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    ticket: &Ticket,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let portal = me.portal();
    let agency = store::settings::branding(ctx.db)?.agency_name;
    let timeline = store::timeline::public_entries(ctx.db, ticket.id)?
        .into_iter()
        .map(|e| {
            let status_label = match e.kind.as_str() {
                "status" => e.new_value.clone(),
                _ => None,
            };
            view! {
                kind => e.kind,
                id => e.comment_id,
                from_client => e.from_client,
                who => e.client_name.unwrap_or_else(|| agency.clone()),
                body => e.body,
                new_value => e.new_value,
                status_label,
                at => e.created_at,
            }
        })
        .collect::<Vec<_>>();
    let closed = ticket.status == Status::Closed;
    let url = format!("{}/tickets/{}", base(portal), ticket.reference);
    let files = attachments::views(
        &store::attachments::for_ticket(ctx.db, ticket.id, false)?,
        |a| format!("{url}/files/{}/{}", a.id, attachments::url_name(&a.name)),
    );
    render(
        ctx,
        portal,
        Some(me),
        status,
        "portal/ticket.html",
        view! {
            nav => "tickets",
            ticket => view! {
                reference => ticket.reference,
                subject => ticket.subject,
                body => ticket.body,
                status => ticket.status.key(),
                status_label => ticket.status.label(),
                priority_label => ticket.priority.label(),
                expected_by => ticket.expected_by,
                requester => ticket.requester_name,
                created_at => ticket.created_at,
                url => format!("{}/tickets/{}", base(portal), ticket.reference),
            },
            timeline,
            files,
            closed,
            may_reply => me.may_reply(),
            may_close => me.may_close(),
            values,
            errors,
        },
    )
}

pub fn reply(ctx: &Ctx<'_>, me: PortalContact<'_>, reference: &str) -> Result<Response> {
    let Some(ticket) = find(ctx, me, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    if !me.may_reply() {
        return Ok(not_allowed(ctx, "reply"));
    }
    let values = crate::render::to_value(&ctx.form.values());
    let text = ctx.form.get("reply");
    let mut errors = Errors::default();
    errors.require("reply", text, "Your reply", DESCRIPTION_MAX);
    let attached = store::attachments::total_size(ctx.db, ticket.id, false)?;
    let checked = attachments::check(ctx, FILES, attached, &mut errors)?;
    if !errors.is_empty() {
        if !checked.is_empty() {
            errors.add(FILES, attachments::CHOOSE_AGAIN);
        }
        return render_ticket(ctx, me, &ticket, 422, values, errors);
    }
    let contact = me.contact();
    let notices = notify::client_reply_for_staff(ctx.app, ctx.db, &ticket, text)?;
    let author = Author {
        staff_id: None,
        name: &contact.name,
    };
    let scope = message_scope(me);
    if let Some(wait) = throttle::blocked_before_write(ctx.db, &scope, message_limit())? {
        errors.add("_form", too_many(wait));
        return render_ticket(ctx, me, &ticket, 429, values, errors);
    }
    let storing = crate::files::storing();
    let files = attachments::store(ctx, checked)?;
    let outcome = ctx.db.write(|tx| {
        if let Err(wait) = throttle::check_and_record(tx, &scope, message_limit())? {
            return Ok(Err(wait));
        }
        let id = store::timeline::insert_comment(tx, ticket.id, &author, text, Visibility::Public)?;
        store::timeline::set_comment_contact(tx, id, contact.id)?;
        for file in &files {
            store::attachments::insert(
                tx,
                ticket.id,
                Some(id),
                false,
                Uploader::Contact(contact.id),
                file,
            )?;
        }
        store::tickets::touch(tx, ticket.id, true)?;
        store::tickets::reopen_on_client_reply(tx, ticket.id, &author)?;
        notices.queue(tx, ctx.app)?;
        Ok(Ok(()))
    })?;
    drop(storing);
    if let Err(wait) = outcome {
        attachments::discard(ctx, &files)?;
        errors.add("_form", too_many(wait));
        return render_ticket(ctx, me, &ticket, 429, values, errors);
    }
    Ok(respond::redirect_with_flash(
        ctx,
        &format!(
            "{}/tickets/{}#timeline",
            base(me.portal()),
            ticket.reference
        ),
        "Your reply was sent to the team.",
    ))
}

pub fn confirm_close(ctx: &Ctx<'_>, me: PortalContact<'_>, reference: &str) -> Result<Response> {
    let Some(ticket) = find(ctx, me, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    if !me.may_close() {
        return Ok(not_allowed(ctx, "close or reopen them"));
    }
    if ticket.status == Status::Closed {
        return Ok(respond::redirect(&format!(
            "{}/tickets/{}",
            base(me.portal()),
            ticket.reference
        )));
    }
    render(
        ctx,
        me.portal(),
        Some(me),
        200,
        "portal/ticket_close.html",
        view! {
            nav => "tickets",
            ticket => view! {
                reference => ticket.reference,
                subject => ticket.subject,
                url => format!("{}/tickets/{}", base(me.portal()), ticket.reference),
            },
        },
    )
}

/// Closes (after the confirm page) or reopens a ticket, as the contact.
pub fn set_closed(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    reference: &str,
    close: bool,
) -> Result<Response> {
    let Some(ticket) = find(ctx, me, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    if !me.may_close() {
        return Ok(not_allowed(ctx, "close or reopen them"));
    }
    let url = format!("{}/tickets/{}", base(me.portal()), ticket.reference);
    let to = if close { Status::Closed } else { Status::Open };
    let may = if close {
        ticket.status != Status::Closed
    } else {
        matches!(ticket.status, Status::Closed | Status::Resolved)
    };
    if !may {
        return Ok(respond::redirect(&url));
    }
    let author = Author {
        staff_id: None,
        name: &me.contact().name,
    };
    ctx.db.write(|tx| {
        store::tickets::set_status_by_client(tx, ticket.id, ticket.status, to, &author)
    })?;
    let message = if close {
        "Ticket closed. You can reopen it here if you need to."
    } else {
        "Ticket reopened. The team will pick it up again."
    };
    Ok(respond::redirect_with_flash(ctx, &url, message))
}

// ---- profile ------------------------------------------------------------------------------

pub fn profile(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let contact = me.contact();
    render_profile(
        ctx,
        me,
        200,
        view! {
            name => contact.name,
            notify_replies => contact.notify_replies,
            notify_status => contact.notify_status,
        },
        Errors::default(),
    )
}

fn render_profile(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let contact = me.contact();
    let reachable = store::portals::reachable(ctx.db, contact.portal_id, contact.customer_id)?
        .into_iter()
        .map(|p| view! { name => p.name, url => format!("{}/dashboard", base(&p)) })
        .collect::<Vec<_>>();
    render(
        ctx,
        me.portal(),
        Some(me),
        status,
        "portal/profile.html",
        view! {
            nav => "profile",
            email => contact.email,
            customer_name => contact.customer_name,
            role => contact.role.label(),
            label => contact.label,
            has_password => contact.has_password(),
            has_picture => contact.avatar.is_some(),
            reachable,
            values,
            errors,
        },
    )
}

fn profile_url(me: PortalContact<'_>) -> String {
    format!("{}/profile", base(me.portal()))
}

pub fn update_profile(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let name = ctx.form.line("name");
    let mut errors = Errors::default();
    errors.require("name", &name, "Your name", NAME_MAX);
    if !errors.is_empty() {
        let contact = me.contact();
        let values = view! {
            name,
            notify_replies => contact.notify_replies,
            notify_status => contact.notify_status,
        };
        return render_profile(ctx, me, 422, values, errors);
    }
    ctx.db
        .write(|tx| store::contacts::set_name(tx, me.contact().id, &name))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &profile_url(me),
        "Your name is saved.",
    ))
}

pub fn change_password(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let contact = me.contact();
    let current = ctx.form.get("current_password");
    let password = ctx.form.get("password");
    let mut errors = Errors::default();
    if let Some(hash) = contact.password_hash.as_deref() {
        if current.is_empty() {
            errors.add("current_password", "Enter your current password.");
        } else if !passwords::verify(current, hash) {
            errors.add("current_password", "That is not your current password.");
        }
    }
    super::check_new_password(ctx, &mut errors);
    if !errors.is_empty() {
        let values = view! {
            name => contact.name,
            notify_replies => contact.notify_replies,
            notify_status => contact.notify_status,
        };
        return render_profile(ctx, me, 422, values, errors);
    }
    let hash = passwords::hash(password, ctx.app.config.bcrypt_cost)?;
    let keep = ctx
        .cookie(contact_sessions::CONTACT_COOKIE)
        .map(|c| crate::auth::Secret::from_untrusted(&c).hash());
    ctx.db.write(|tx| {
        store::contacts::set_password(tx, contact.id, &hash)?;
        // Whoever else knew the old password is signed out; this browser stays in.
        store::contacts::delete_sessions(tx, contact.id, keep.as_ref().map(|k| &k[..]))?;
        Ok(())
    })?;
    Ok(respond::redirect_with_flash(
        ctx,
        &profile_url(me),
        "Your password is set. Other sessions of your account have ended.",
    ))
}

pub fn update_notifications(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let (replies, status) = (
        ctx.form.checked("notify_replies"),
        ctx.form.checked("notify_status"),
    );
    ctx.db
        .write(|tx| store::contacts::set_notifications(tx, me.contact().id, replies, status))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &profile_url(me),
        "Your email choices are saved.",
    ))
}

pub fn sign_out_everywhere(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    ctx.db
        .write(|tx| store::contacts::delete_sessions(tx, me.contact().id, None))?;
    ctx.set_cookie(crate::auth::sessions::cookie(
        &ctx.app.config,
        contact_sessions::CONTACT_COOKIE,
        "",
        Some(0),
    ));
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("{}/login", base(me.portal())),
        "You are signed out on every device.",
    ))
}

/// Largest profile picture accepted (no resizing: a bigger one is refused with the reason).
pub const PICTURE_MAX_BYTES: usize = 2 * 1024 * 1024;

/// Sets (or, with `remove`, removes) the contact's picture: PNG, JPEG or WebP by its bytes, at
/// most 2 MB, its metadata (a phone photo's GPS position) stripped before it is stored.
pub fn update_picture(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let contact = me.contact();
    let mut errors = Errors::default();
    let picture =
        crate::web::forms::uploaded_image(ctx, "picture", PICTURE_MAX_BYTES, &mut errors)?;
    if !errors.is_empty() {
        let values = view! {
            name => contact.name,
            notify_replies => contact.notify_replies,
            notify_status => contact.notify_status,
        };
        return render_profile(ctx, me, 422, values, errors);
    }
    let _storing = crate::files::storing();
    let (avatar, message) = match picture {
        Some(image) => {
            let hash = crate::files::store(&ctx.app.config.data_dir, &image.bytes)?;
            (
                Some(format!("{hash}.{}", image.ext)),
                "Your picture is saved.",
            )
        }
        None if ctx.form.checked("remove") => (None, "Your picture is removed."),
        None => {
            errors.add("picture", "Choose an image first.");
            let values = view! {
                name => contact.name,
                notify_replies => contact.notify_replies,
                notify_status => contact.notify_status,
            };
            return render_profile(ctx, me, 422, values, errors);
        }
    };
    ctx.db
        .write(|tx| store::contacts::set_avatar(tx, contact.id, avatar.as_deref()))?;
    Ok(respond::redirect_with_flash(ctx, &profile_url(me), message))
}

/// The signed-in contact's own picture.
pub fn picture(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    Ok(serve_picture(ctx, me.contact().avatar.as_deref()))
}

/// A stored profile picture, typed by its bytes, never cached by shared caches.
pub fn serve_picture(ctx: &Ctx<'_>, avatar: Option<&str>) -> Response {
    let not_found = || Response::text("Not found\n").with_status_code(404);
    let Some(name) = avatar else {
        return not_found();
    };
    let hash = name.split('.').next().unwrap_or_default();
    let bytes = match crate::files::read(&ctx.app.config.data_dir, hash) {
        Ok(Some(bytes)) => bytes,
        _ => return not_found(),
    };
    let Some((_, content_type)) = crate::files::image_kind(&bytes) else {
        return not_found();
    };
    Response::from_data(content_type, bytes)
        .with_additional_header("Cache-Control", "private, max-age=300")
        .with_additional_header("Content-Security-Policy", "sandbox")
}

/// A file of a ticket in `me`'s scope — never an internal one. Everything else is the same 404.
pub fn file(ctx: &Ctx<'_>, me: PortalContact<'_>, reference: &str, id: i64) -> Result<Response> {
    let Some(ticket) = find(ctx, me, reference)? else {
        return Ok(respond::not_found(ctx));
    };
    match store::attachments::get(ctx.db, ticket.id, id, false)? {
        Some(a) => attachments::serve(ctx, &a),
        None => Ok(respond::not_found(ctx)),
    }
}
