//! `/account`: a staff member's own page — who they are, and which emails they want.

use rouille::Response;

use crate::error::Result;
use crate::store::{self, staff::Staff};
use crate::view;
use crate::web::{Ctx, respond};

pub fn show(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    let values = view! {
        notify_new_tickets => me.notify_new_tickets,
        notify_assigned_replies => me.notify_assigned_replies,
    };
    let page_ctx = view! {
        nav => "account",
        values,
        mail_files => ctx.app.mailer.writes_files(),
    };
    respond::page(ctx, "staff/account.html", page_ctx)
}

pub fn update(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    let new_tickets = ctx.form.checked("notify_new_tickets");
    let assigned_replies = ctx.form.checked("notify_assigned_replies");
    ctx.db
        .write(|tx| store::staff::set_notifications(tx, me.id, new_tickets, assigned_replies))?;
    Ok(respond::redirect_with_flash(
        ctx,
        "/account",
        "Your email choices were saved.",
    ))
}
