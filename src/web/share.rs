//! The shareable no-account link (seed 000): `/s/{token}` shows a project's board of shared
//! tickets (reference, title, status, dates — nothing else) and the feedback form;
//! `/s/{token}/t/{receipt}` is the submitter's own receipt page.
//!
//! Every query here goes through `store::share`, the read path built for visitors. An unknown,
//! disabled or replaced token and a receipt of another project all get the same 404 page.
//! These pages carry `Referrer-Policy: no-referrer`, `noindex` and `no-store`
//! (`respond::add_security_headers`), and the access log redacts both tokens.

use std::sync::Arc;

use minijinja::Value;
use minijinja::value::Object;
use rouille::{Response, router};

use crate::auth::Secret;
use crate::auth::throttle::{self, Limit};
use crate::clock;
use crate::domain::{Priority, Source, Status, Visibility, plausible_email};
use crate::error::Result;
use crate::policy::{self, Actor, ShareVisitor};
use crate::store::share::{BoardFilter, BoardRow};
use crate::store::tickets::NewTicket;
use crate::store::timeline::Actor as Author;
use crate::store::{self, projects::Project};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};
use crate::web::{fragments, listing};
use crate::{mail, notify};

/// Board rows per page.
pub const PAGE_SIZE: usize = 20;
pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 20_000;
const NAME_MAX: usize = 100;
/// The honeypot field: hidden from people, filled in by naive bots.
const HONEYPOT: &str = "website";

/// The shareable link's router tier: resolves the token in the URL to its project once (every
/// kind of dead link — unknown, off, replaced, project archived — gets the same 404), makes the
/// request's actor that project's [`ShareVisitor`], and only then dispatches.
pub fn route(ctx: &mut Ctx<'_>) -> Result<Response> {
    let url = ctx.req.url();
    let mut segments = url.strip_prefix("/s/").unwrap_or_default().split('/');
    let token = segments.next().unwrap_or_default();
    // Before the project is read: the board kept under this version must not be older than it.
    ctx.data_version()?;
    let Some(project) = project_for(ctx, token)? else {
        return Ok(respond::not_found(ctx));
    };
    ctx.actor = Actor::ShareVisitor(project);
    let ctx = &*ctx;
    let Actor::ShareVisitor(project) = &ctx.actor else {
        unreachable!("set above")
    };
    let Some(visitor) = policy::share_visitor(project) else {
        return Ok(respond::not_found(ctx));
    };
    let req = ctx.req;
    router!(req,
        (GET) ["/s/{_t}", _t: String] => { show(ctx, visitor) },
        (POST) ["/s/{_t}", _t: String] => { submit(ctx, visitor) },
        (GET) ["/s/{_t}/t/{r}", _t: String, r: String] => { receipt(ctx, visitor, &r) },
        (POST) ["/s/{_t}/t/{r}", _t: String, r: String] => { reply(ctx, visitor, &r) },
        (GET) ["/s/{_t}/t/{r}/files/{id}/{_n}", _t: String, r: String, id: i64, _n: String] => { receipt_file(ctx, visitor, &r, id) },
        _ => Ok(respond::not_found(ctx))
    )
}

/// The project whose live link is `token`, or `None` for every kind of dead link alike.
fn project_for(ctx: &Ctx<'_>, token: &str) -> Result<Option<Project>> {
    // Tokens are URL-safe base64 of 32 bytes; anything else cannot match, so skip the query.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    store::projects::get_by_share_token(ctx.db, token)
}

fn show(ctx: &Ctx<'_>, visitor: ShareVisitor<'_>) -> Result<Response> {
    render_board(ctx, visitor, 200, view! {}, Errors::default())
}

/// A board row as a lazy template object (the board renders up to 50 per view).
#[derive(Debug)]
struct RowView(BoardRow);

impl Object for RowView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let r = &self.0;
        Some(match key {
            "reference" => Value::from(r.reference.as_str()),
            "title" => Value::from(r.title.as_str()),
            "status" => Value::from(r.status.key()),
            "status_label" => Value::from(r.status.label()),
            "expected_by" => r
                .expected_by
                .as_deref()
                .map_or(Value::from(()), Value::from),
            "created" => Value::from(clock::format_date(r.created_at)),
            "updated" => Value::from(clock::format_date(r.updated_at)),
            "updated_iso" => Value::from(clock::iso(r.updated_at)),
            _ => return None,
        })
    }
}

/// The page: header, welcome, the form (refilled with `values` and `errors` after a refusal),
/// and the board under the filters in the query string.
fn render_board(
    ctx: &Ctx<'_>,
    visitor: ShareVisitor<'_>,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    // The board is the same for every visitor of this link under the same query.
    let params = ["status", "q", "at"].map(|k| ctx.query(k));
    let key = format!("board|{}|{params:?}", visitor.project().id);
    let board = fragments::view(key, ctx.data_version()?, || board_view(ctx, visitor))?;
    let page_ctx = minijinja::context! {
        values,
        errors => crate::render::to_value(&errors),
        ..board
    };
    respond::page_with_status(ctx, status, "share/board.html", page_ctx)
}

/// The board's data under the request's filters (see `fragments::view`).
fn board_view(ctx: &Ctx<'_>, visitor: ShareVisitor<'_>) -> Result<Value> {
    let project = visitor.project();
    let base = format!("/s/{}", project.share.token.as_deref().unwrap_or_default());
    let status_filter = ctx.query("status").and_then(|s| Status::parse(&s));
    let q: String = ctx
        .query("q")
        .map(|q| q.chars().filter(|c| !c.is_control()).take(200).collect())
        .unwrap_or_default();
    let search = match q.as_str() {
        "" => None,
        q => store::search::plan_board(ctx.db, project.id, q)?,
    };
    let search_error = (!q.is_empty() && search.is_none()).then(|| {
        format!(
            "Type at least {} characters to search.",
            store::search::BOARD_MIN_CHARS
        )
    });
    let filter = BoardFilter {
        status: status_filter,
        search,
    };

    let counts = store::share::board_counts(ctx.db, project.id, &filter)?;
    let total = listing::total(counts.as_deref(), status_filter);
    let seek = listing::seek(ctx.query("at").as_deref());
    let page = listing::fetch(seek, |seek| {
        store::share::board(ctx.db, project.id, &filter, seek, PAGE_SIZE)
    })?;

    let status_key = status_filter.map(|s| s.key()).unwrap_or("");
    let link = |status: &str, at: &str| listing::list_url(&base, status, &q, at);
    let pagination = listing::links(&page, |at| link(status_key, at));
    let rows = if page.rows.is_empty() {
        Value::from(false)
    } else {
        fragments::rows(
            &ctx.app.templates,
            "share/board_row.html",
            &page.rows,
            |row| Value::from_object(RowView(row.clone())),
        )?
    };
    let tabs = listing::status_tabs(counts.as_deref(), status_filter, |status| link(status, ""));
    let branding = store::settings::branding(ctx.db)?.for_link(&project.share);
    Ok(view! {
        base,
        branding,
        project => view! {
            name => project.name,
            welcome => project.share.welcome,
            response_time => project.share.response_time,
            may_submit => visitor.may_submit(),
            may_attach => visitor.may_attach_images(),
        },
        rows,
        tabs,
        total,
        // Searches with more matches than `store::search::FEW` are not counted.
        uncounted => "Many matches, newest first",
        query => view! { status => status_key, q },
        search_error,
        pagination,
    })
}

fn submit(ctx: &Ctx<'_>, visitor: ShareVisitor<'_>) -> Result<Response> {
    let project = visitor.project();
    let token = project.share.token.as_deref().unwrap_or_default();
    let form = &ctx.form;
    let values = crate::render::to_value(&form.values());
    if !visitor.may_submit() {
        let mut errors = Errors::default();
        errors.add("_form", "This link no longer accepts new feedback.");
        return render_board(ctx, visitor, 403, values, errors);
    }
    if !form.get(HONEYPOT).is_empty() {
        // A bot filled in the hidden field: look successful, keep nothing.
        log::info!("share link: dropped a submission that filled the honeypot");
        return Ok(respond::redirect(&format!("/s/{token}")));
    }

    let title = form.line("title");
    let description = form.get("description");
    let (name, email) = (form.line("name"), form.line("email"));
    let mut errors = Errors::default();
    errors.require("title", &title, "Title", TITLE_MAX);
    errors.require("description", description, "Description", DESCRIPTION_MAX);
    errors.max_len("name", &name, "Name", NAME_MAX);
    if !email.is_empty() && !plausible_email(&email) {
        errors.add(
            "email",
            "Enter an email address such as ana@example.com, or leave it empty.",
        );
    }
    // Screenshots, when the project lets visitors attach them (files are ignored otherwise).
    let checked = if visitor.may_attach_images() {
        crate::web::attachments::check_images(ctx, "files", 0, &mut errors)?
    } else {
        Vec::new()
    };
    if !errors.is_empty() {
        if !checked.is_empty() {
            errors.add("files", crate::web::attachments::CHOOSE_AGAIN);
        }
        return render_board(ctx, visitor, 422, values, errors);
    }

    let scope = submission_scope(ctx, project);
    let limit = submission_limit(ctx);
    let tokens = notify::SubmissionTokens::generate();
    let (receipt, unsubscribe) = (&tokens.receipt, &tokens.unsubscribe);
    // New tickets go to the project's default assignee, while that person is active.
    let assignee = match project.default_assignee_id {
        Some(id) => store::staff::get(ctx.db, id)?.filter(|s| s.active),
        None => None,
    };
    let new = NewTicket {
        project_id: project.id,
        subject: &title,
        body: description,
        priority: Priority::Normal,
        assignee_id: assignee.map(|s| s.id),
        source: Source::Share,
        requester_name: Some(name.as_str()).filter(|n| !n.is_empty()),
        requester_email: Some(email.as_str()).filter(|e| !e.is_empty()),
        created_by: None,
        shared: visitor.submission_shown_at_once(),
        receipt_hash: Some(&receipt.key()),
        portal: None,
    };
    // The emails (the visitor's receipt, staff's new-ticket notice) are rendered before the
    // write (nothing slow under the writer lock), for the number the ticket will most likely
    // get; only if another submission takes that number first are they rendered again inside.
    let branding = store::settings::branding(ctx.db)?.for_link(&project.share);
    let render_notices = |number: i64| -> Result<(Option<mail::Email>, notify::Notices)> {
        let reference = format!("{}-{number}", project.key);
        let receipt_email = if email.is_empty() {
            None
        } else {
            let email = notify::receipt(
                ctx.app,
                project,
                &branding,
                &email,
                (&reference, &title),
                &tokens,
            )?;
            Some(email)
        };
        let staff = notify::new_ticket_for_staff(
            ctx.app,
            ctx.db,
            project,
            &reference,
            &title,
            description,
        )?;
        Ok((receipt_email, staff))
    };
    let expected = store::projects::next_number(ctx.db, project.id)?;
    let mut notices = render_notices(expected)?;
    // Over the limit already: refused before any file is stored. (Without files the write
    // below refuses as early; the check reads through the writer, see `submission_limit`.)
    if !checked.is_empty()
        && let Some(wait) = throttle::blocked_before_write(ctx.db, &scope, limit)?
    {
        errors.add("_form", too_many(wait));
        return render_board(ctx, visitor, 429, values, errors);
    }
    let storing = crate::files::storing();
    let files = crate::web::attachments::store(ctx, checked)?;
    let outcome = ctx.db.write(|tx| {
        // Checked and counted in the same write: simultaneous submissions cannot all slip
        // under the limit.
        if let Err(wait) = throttle::check_and_record(tx, &scope, limit)? {
            return Ok(Err(wait));
        }
        let (id, number) = store::tickets::insert(tx, &new)?;
        for file in &files {
            store::attachments::insert(
                tx,
                id,
                None,
                false,
                store::attachments::Uploader::Visitor,
                file,
            )?;
        }
        if number != expected {
            notices = render_notices(number)?;
        }
        if let Some(message) = &mut notices.0 {
            store::share::add_unsubscribe_token(tx, id, &unsubscribe.key())?;
            message.ticket_id = Some(id.0);
            mail::queue(tx, &ctx.app.mailer, message)?;
        }
        notices.1.queue(tx, ctx.app)?;
        Ok(Ok(()))
    })?;
    drop(storing);
    if let Err(wait) = outcome {
        crate::web::attachments::discard(ctx, &files)?;
        errors.add("_form", too_many(wait));
        return render_board(ctx, visitor, 429, values, errors);
    }
    // Only say "emailed" when email really leaves this server.
    let thanks = if email.is_empty() || ctx.app.mailer.writes_files() {
        "Thank you — we have your feedback."
    } else {
        "Thank you — we have your feedback. We're emailing you the link to this page."
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/s/{token}/t/{}", receipt.expose()),
        thanks,
    ))
}

fn receipt(ctx: &Ctx<'_>, visitor: ShareVisitor<'_>, receipt: &str) -> Result<Response> {
    let receipt_key = Secret::from_untrusted(receipt).key();
    let Some(ticket) = store::share::receipt(ctx.db, visitor.project().id, &receipt_key)? else {
        return Ok(respond::not_found(ctx));
    };
    render_receipt(
        ctx,
        visitor,
        &ticket,
        &receipt_key,
        200,
        view! {},
        Errors::default(),
    )
}

/// The receipt page; `values`/`errors` refill the reply box after a refusal.
fn render_receipt(
    ctx: &Ctx<'_>,
    visitor: ShareVisitor<'_>,
    ticket: &store::share::Receipt,
    receipt_key: &[u8],
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let project = visitor.project();
    let token = project.share.token.as_deref().unwrap_or_default();
    let replies = store::share::receipt_replies(ctx.db, project.id, receipt_key)?
        .into_iter()
        .map(|c| {
            view! {
                id => c.id,
                body => c.body,
                at => c.created_at,
                from_requester => c.from_requester,
            }
        })
        .collect::<Vec<_>>();
    let branding = store::settings::branding(ctx.db)?.for_link(&project.share);
    let here = ctx.req.url();
    let receipt_path = here.split("/files/").next().unwrap_or(&here).to_string();
    let files = crate::web::attachments::views(
        &store::attachments::for_ticket(ctx.db, ticket.id, false)?,
        |a| {
            format!(
                "{receipt_path}/files/{}/{}",
                a.id,
                crate::web::attachments::url_name(&a.name)
            )
        },
    );
    let page_ctx = view! {
        base => format!("/s/{token}"),
        files,
        branding,
        project => view! { name => project.name, response_time => project.share.response_time },
        ticket,
        submitted_at => ticket.created_at,
        replies,
        may_reply => visitor.may_submit(),
        // "We email you…" only when email really leaves this server.
        emailed => ticket.emailed && !ctx.app.mailer.writes_files(),
        here => ctx.req.url(),
        values,
        errors,
    };
    respond::page_with_status(ctx, status, "share/receipt.html", page_ctx)
}

/// The submitter answers on their receipt page: stored as the requester's reply (public), a
/// ticket *Awaiting Reply* goes back to *Open*, and staff are told. Same limits and throttle as
/// a submission.
fn reply(ctx: &Ctx<'_>, visitor: ShareVisitor<'_>, receipt: &str) -> Result<Response> {
    let project = visitor.project();
    let receipt_key = Secret::from_untrusted(receipt).key();
    let Some(receipt_row) = store::share::receipt(ctx.db, project.id, &receipt_key)? else {
        return Ok(respond::not_found(ctx));
    };
    let values = crate::render::to_value(&ctx.form.values());
    let mut errors = Errors::default();
    if !visitor.may_submit() {
        errors.add("_form", "This link no longer accepts messages.");
        return render_receipt(
            ctx,
            visitor,
            &receipt_row,
            &receipt_key,
            403,
            values,
            errors,
        );
    }
    let page = format!("{}#reply", ctx.req.url());
    if !ctx.form.get(HONEYPOT).is_empty() {
        log::info!("share link: dropped a reply that filled the honeypot");
        return Ok(respond::redirect(&page));
    }
    let text = ctx.form.get("reply");
    errors.require("reply", text, "Your reply", DESCRIPTION_MAX);
    if !errors.is_empty() {
        return render_receipt(
            ctx,
            visitor,
            &receipt_row,
            &receipt_key,
            422,
            values,
            errors,
        );
    }
    let Some(ticket) = store::tickets::get(ctx.db, receipt_row.id)? else {
        return Ok(respond::not_found(ctx));
    };
    let scope = submission_scope(ctx, project);
    let limit = submission_limit(ctx);
    let notices = notify::client_reply_for_staff(ctx.app, ctx.db, &ticket, text)?;
    let author = ticket
        .requester_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Requester".into());
    let actor = Author {
        staff_id: None,
        name: &author,
    };
    let outcome = ctx.db.write(|tx| {
        if let Err(wait) = throttle::check_and_record(tx, &scope, limit)? {
            return Ok(Err(wait));
        }
        store::timeline::insert_comment(tx, ticket.id, &actor, text, Visibility::Public)?;
        store::tickets::touch(tx, ticket.id, true)?;
        store::tickets::reopen_on_client_reply(tx, ticket.id, &actor)?;
        notices.queue(tx, ctx.app)?;
        Ok(Ok(()))
    })?;
    if let Err(wait) = outcome {
        errors.add("_form", too_many(wait));
        return render_receipt(
            ctx,
            visitor,
            &receipt_row,
            &receipt_key,
            429,
            values,
            errors,
        );
    }
    Ok(respond::redirect_with_flash(
        ctx,
        &page,
        "Thank you — your reply was sent to the team.",
    ))
}

/// The throttle scope of share-link messages: per project and client address.
fn submission_scope(ctx: &Ctx<'_>, project: &Project) -> String {
    format!(
        "share:{}:{}",
        project.id,
        throttle::client_key(ctx.req.remote_addr().ip())
    )
}

/// Counted in memory (`store::throttle` says why): every new visitor address would otherwise be
/// a row written at a random place in the database.
fn submission_limit(ctx: &Ctx<'_>) -> Limit {
    Limit {
        max: ctx.app.config.share.submissions_per_hour,
        window_secs: crate::store::throttle::VISITOR_WINDOW_SECS,
        kept: throttle::Kept::InMemory,
    }
}

fn too_many(wait: i64) -> String {
    format!(
        "You have sent a lot through this link in the last hour. Please try again in {} — your text is still here.",
        throttle::minutes_text(wait)
    )
}

/// A public file of the visitor's own ticket (their receipt), and nothing else.
fn receipt_file(
    ctx: &Ctx<'_>,
    visitor: ShareVisitor<'_>,
    receipt: &str,
    id: i64,
) -> Result<Response> {
    let receipt_key = Secret::from_untrusted(receipt).key();
    let Some(ticket) = store::share::receipt(ctx.db, visitor.project().id, &receipt_key)? else {
        return Ok(respond::not_found(ctx));
    };
    match store::attachments::get(ctx.db, ticket.id, id, false)? {
        Some(a) => crate::web::attachments::serve(ctx, &a),
        None => Ok(respond::not_found(ctx)),
    }
}
