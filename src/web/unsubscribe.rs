//! `/unsubscribe/{token}`: a share-link visitor stops email about one ticket.
//!
//! The token is one of the ticket's receipt tokens (each email carries its own), so the link
//! keeps working after the project's shareable link was turned off or regenerated. `GET` only
//! asks (link scanners must not unsubscribe anyone); `POST` — from the page's button, or the
//! one-click `List-Unsubscribe-Post` of RFC 8058 that mail providers send without cookies —
//! does it. Unknown tokens get the same 404 as any dead link.

use rouille::Response;

use crate::auth::Secret;
use crate::error::Result;
use crate::store;
use crate::view;
use crate::web::{Ctx, respond};

pub fn show(ctx: &Ctx<'_>, token: &str) -> Result<Response> {
    let token_key = Secret::from_untrusted(token).key();
    let Some(subscription) = store::share::subscription(ctx.db, &token_key)? else {
        return Ok(respond::not_found(ctx));
    };
    render(ctx, &subscription, false)
}

pub fn confirm(ctx: &Ctx<'_>, token: &str) -> Result<Response> {
    let token_key = Secret::from_untrusted(token).key();
    let Some(subscription) = store::share::subscription(ctx.db, &token_key)? else {
        return Ok(respond::not_found(ctx));
    };
    ctx.db
        .write(|tx| store::share::unsubscribe(tx, &token_key))?;
    log::info!("a requester unsubscribed from {}", subscription.reference);
    render(ctx, &subscription, true)
}

fn render(
    ctx: &Ctx<'_>,
    subscription: &store::share::Subscription,
    done: bool,
) -> Result<Response> {
    let Some(project) = store::projects::get(ctx.db, subscription.project_id)? else {
        return Ok(respond::not_found(ctx));
    };
    let branding = store::settings::branding(ctx.db)?.for_link(&project.share);
    let page_ctx = view! {
        branding,
        project => view! { name => project.name },
        reference => subscription.reference,
        unsubscribed => done || !subscription.notify,
        here => ctx.req.url(),
    };
    respond::page(ctx, "share/unsubscribe.html", page_ctx)
}
