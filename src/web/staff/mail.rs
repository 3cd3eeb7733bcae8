//! `/settings/mail` (admins): the outbox — queued, sent and failed messages with their attempts,
//! last error and next try — and "Retry now" for a failed or waiting one. Where email goes is
//! said at the top, so a server that only writes files is never mistaken for one that sends.

use rouille::Response;

use crate::clock;
use crate::error::Result;
use crate::policy::Admin;
use crate::store::{self, outbox::State};
use crate::view;
use crate::web::staff::url_with;
use crate::web::{Ctx, respond};

/// Messages per page.
const PAGE_SIZE: usize = 50;

pub fn list(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let state = ctx.query("state").and_then(|s| State::parse(&s));
    let before = ctx.query("before").and_then(|b| b.parse::<i64>().ok());
    let mut rows = store::outbox::list(ctx.db, state, before, PAGE_SIZE + 1)?;
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    let state_key = match state {
        None => "",
        Some(State::Queued) => "queued",
        Some(State::Sent) => "sent",
        Some(State::Failed) => "failed",
    };
    let older = more.then(|| rows.last().map(|r| r.id)).flatten().map(|id| {
        url_with(
            "/settings/mail",
            &[("state", state_key.into()), ("before", id.to_string())],
        )
    });
    let (queued, sent, failed) = store::outbox::counts(ctx.db)?;
    let tabs = [
        ("", "All", queued + sent + failed),
        ("queued", "Queued", queued),
        ("sent", "Sent", sent),
        ("failed", "Failed", failed),
    ]
    .iter()
    .map(|(key, label, count)| {
        view! {
            label,
            count,
            url => url_with("/settings/mail", &[("state", key.to_string())]),
            active => *key == state_key,
        }
    })
    .collect::<Vec<_>>();
    let messages = rows
        .into_iter()
        .map(|m| {
            view! {
                id => m.id,
                to => m.to_addr,
                subject => m.subject,
                state => m.state,
                attempts => m.attempts,
                may_retry => m.sent_at.is_none() && !m.cancelled,
                last_error => m.last_error,
                created => clock::format_datetime(m.created_at),
                sent => m.sent_at.map(clock::format_datetime),
                next_try => m.next_attempt_at.map(clock::format_datetime),
            }
        })
        .collect::<Vec<_>>();
    let page_ctx = view! {
        nav => "settings",
        destination => ctx.app.mailer.destination(),
        writes_files => ctx.app.mailer.writes_files(),
        tabs,
        messages,
        older,
        first_page => before.is_none(),
        state => state_key,
    };
    respond::page(ctx, "staff/mail.html", page_ctx)
}

pub fn retry(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    if store::outbox::get(ctx.db, id)?.is_none() {
        return Ok(respond::not_found(ctx));
    }
    let queued = ctx.db.write(|tx| store::outbox::retry(tx, id))?;
    let message = if queued {
        "The message is queued again and will be tried within a few seconds."
    } else {
        "That message was already sent, or its recipient unsubscribed."
    };
    Ok(respond::redirect_with_flash(ctx, "/settings/mail", message))
}
