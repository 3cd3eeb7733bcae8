//! Signed-in portals (seeds 001–003) at `/portal/{slug}/…`: a customer's contacts sign in (with
//! their own cookie, `pl_contact`, never a staff session), follow and open tickets, and manage
//! their profile; `/portal/` is the hub of the portals a contact can reach.
//!
//! This tier resolves the portal from the slug first (an unknown or disabled portal is a 404; a
//! slug the portal had before redirects to its current address), then answers the public
//! routes (sign-in, magic links, invitations, signup, password reset), and only then resolves
//! the contact session into a [`policy::PortalContact`] — a contact who may not use this portal
//! gets the same 404 as a portal that does not exist. Handlers below take that value, and every
//! ticket they read goes through its scope (`store::portal_tickets`).

pub mod access;
pub mod pages;
pub mod people;
pub mod view_as;

use minijinja::Value;
use rouille::{Response, router};

use crate::auth::contact_sessions;
use crate::error::Result;
use crate::policy::{self, Actor, PortalContact};
use crate::store::contacts::Contact;
use crate::store::portals::Portal;
use crate::store::{self, settings::Branding};
use crate::view;
use crate::web::{Ctx, respond};

/// The portal tier (every URL under `/portal`).
pub fn route(ctx: &mut Ctx<'_>) -> Result<Response> {
    let url = ctx.req.url();
    let rest = url.strip_prefix("/portal").unwrap_or_default();
    if rest.is_empty() || rest == "/" {
        let contact = signed_in_contact(ctx)?;
        return pages::hub(ctx, contact.as_ref());
    }
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let (slug, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(portal) = store::portals::get_by_slug(ctx.db, slug)? else {
        if let Some(current) = store::portals::renamed_from(ctx.db, slug)? {
            // The rest of the address as it was sent (still percent-encoded), so the redirect
            // means exactly what the request did.
            let raw = ctx.req.raw_url();
            let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
            let rest: Vec<&str> = path.split('/').skip(3).collect();
            let mut to = format!("/portal/{current}/{}", rest.join("/"));
            if !query.is_empty() {
                to = format!("{to}?{query}");
            }
            if to.chars().any(|c| c.is_control()) {
                return Ok(respond::not_found(ctx));
            }
            let code = if ctx.req.method() == "POST" { 308 } else { 301 };
            return Ok(Response::redirect_301(to).with_status_code(code));
        }
        return Ok(respond::not_found(ctx));
    };
    if !portal.enabled {
        return Ok(respond::not_found(ctx));
    }
    if tail.is_empty() {
        return Ok(respond::redirect(&format!(
            "/portal/{}/dashboard",
            portal.slug
        )));
    }
    if let Some(response) = access::route(ctx, &portal)? {
        return Ok(response);
    }

    // Staff viewing this portal as a customer: that view, read-only, before any contact session.
    if let Some(view) = view_as::for_portal(ctx, &portal)? {
        // The portal must still be open to the customer, and a real contact still theirs.
        let contact = match view_as::contact_of(ctx, &view)? {
            Some(c) if store::portals::serves_customer(ctx.db, portal.id, view.customer_id)? => c,
            _ => return Ok(respond::not_found(ctx)),
        };
        if ctx.req.method() == "POST" {
            return Ok(respond::forbidden_because(
                ctx,
                &format!(
                    "{} is read-only: nothing was changed. Exit viewing to act as yourself.",
                    view_as::label(&view, &contact)
                ),
            ));
        }
        let label = view_as::label(&view, &contact);
        ctx.actor = Actor::ViewAs(Box::new((contact, portal)));
        let ctx = &*ctx;
        let Actor::ViewAs(pair) = &ctx.actor else {
            unreachable!("set above")
        };
        ctx.viewing_as.replace(Some(label));
        let me = policy::viewing_as(&pair.0, &pair.1);
        return route_contact(ctx, me);
    }
    let Some(contact) = signed_in_contact(ctx)? else {
        // A file's address tells a stranger nothing: the same 404 as a file that isn't there.
        if tail.contains("/files/") {
            return Ok(respond::not_found(ctx));
        }
        return Ok(to_login(ctx, &portal));
    };
    let serves = match contact.customer_id {
        Some(customer) => store::portals::serves_customer(ctx.db, portal.id, customer)?,
        None => false,
    };
    if policy::portal_contact(&contact, &portal, serves).is_none() {
        return Ok(respond::not_found(ctx));
    }
    ctx.actor = Actor::Contact(Box::new((contact, portal)));
    let ctx = &*ctx;
    let Actor::Contact(pair) = &ctx.actor else {
        unreachable!("set above")
    };
    let (contact, portal) = (&pair.0, &pair.1);
    let me = policy::portal_contact(contact, portal, serves).expect("checked above");
    route_contact(ctx, me)
}

fn route_contact(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let req = ctx.req;
    // The Tickets module at level Off: hidden, and every ticket route is not there.
    let tail = req.url();
    let in_tickets = tail.split('/').nth(3) == Some("tickets");
    if in_tickets && !me.sees_tickets() {
        return Ok(respond::not_found(ctx));
    }
    router!(req,
        (GET) ["/portal/{_s}/dashboard", _s: String] => { pages::dashboard(ctx, me) },
        (GET) ["/portal/{_s}/tickets", _s: String] => { pages::tickets(ctx, me) },
        (GET) ["/portal/{_s}/tickets/new", _s: String] => { pages::new_ticket(ctx, me) },
        (POST) ["/portal/{_s}/tickets/new", _s: String] => { pages::create_ticket(ctx, me) },
        (GET) ["/portal/{_s}/tickets/{r}", _s: String, r: String] => { pages::ticket(ctx, me, &r) },
        (POST) ["/portal/{_s}/tickets/{r}/reply", _s: String, r: String] => { pages::reply(ctx, me, &r) },
        (GET) ["/portal/{_s}/tickets/{r}/files/{id}/{_n}", _s: String, r: String, id: i64, _n: String] => { pages::file(ctx, me, &r, id) },
        (GET) ["/portal/{_s}/tickets/{r}/close", _s: String, r: String] => { pages::confirm_close(ctx, me, &r) },
        (POST) ["/portal/{_s}/tickets/{r}/close", _s: String, r: String] => { pages::set_closed(ctx, me, &r, true) },
        (POST) ["/portal/{_s}/tickets/{r}/reopen", _s: String, r: String] => { pages::set_closed(ctx, me, &r, false) },
        (GET) ["/portal/{_s}/people", _s: String] => { people::list(ctx, me) },
        (POST) ["/portal/{_s}/people/invite", _s: String] => { people::invite(ctx, me) },
        (POST) ["/portal/{_s}/people/{id}/label", _s: String, id: i64] => { people::set_label(ctx, me, id) },
        (POST) ["/portal/{_s}/people/{id}/disable", _s: String, id: i64] => { people::disable(ctx, me, id) },
        (GET) ["/portal/{_s}/profile", _s: String] => { pages::profile(ctx, me) },
        (POST) ["/portal/{_s}/profile", _s: String] => { pages::update_profile(ctx, me) },
        (POST) ["/portal/{_s}/profile/password", _s: String] => { pages::change_password(ctx, me) },
        (POST) ["/portal/{_s}/profile/picture", _s: String] => { pages::update_picture(ctx, me) },
        (GET) ["/portal/{_s}/profile/picture", _s: String] => { pages::picture(ctx, me) },
        (POST) ["/portal/{_s}/profile/notifications", _s: String] => { pages::update_notifications(ctx, me) },
        (POST) ["/portal/{_s}/profile/sign-out-everywhere", _s: String] => { pages::sign_out_everywhere(ctx, me) },
        _ => Ok(respond::not_found(ctx))
    )
}

/// The contact behind the request's contact cookie, if any (active, live session).
fn signed_in_contact(ctx: &Ctx<'_>) -> Result<Option<Contact>> {
    match ctx.cookie(contact_sessions::CONTACT_COOKIE) {
        Some(value) if !value.is_empty() => {
            contact_sessions::resolve(ctx.db, &ctx.app.config, &value)
        }
        _ => Ok(None),
    }
}

/// Not signed in: GET goes to the portal's sign-in page (and back afterwards); a POST is refused
/// with nothing saved.
fn to_login(ctx: &Ctx<'_>, portal: &Portal) -> Response {
    if ctx.req.method() == "GET" {
        let back: String = form_urlencoded::byte_serialize(ctx.req.raw_url().as_bytes()).collect();
        respond::redirect(&format!("/portal/{}/login?next={back}", portal.slug))
    } else {
        respond::error_page(
            ctx,
            403,
            "Signed out",
            "Your session has ended, so nothing was saved. Sign in again, then repeat what you were doing.",
        )
    }
}

/// `/portal/{slug}`: where a portal's pages live.
pub fn base(portal: &Portal) -> String {
    format!("/portal/{}", portal.slug)
}

/// A contact's new password and its confirmation (fields `password` and `password_confirm`):
/// the password rules first, then that the two match; the errors go beside the fields.
pub fn check_new_password(ctx: &Ctx<'_>, errors: &mut crate::validation::Errors) {
    let password = ctx.form.get("password");
    if let Err(why) = crate::auth::passwords::check_new(password) {
        errors.add("password", why);
    } else if ctx.form.get("password_confirm") != password {
        errors.add(
            "password_confirm",
            "The two passwords differ. Type the same one twice.",
        );
    }
}

/// The branding a portal's pages and emails use: the workspace's, with the portal's own.
pub fn branding(ctx: &Ctx<'_>, portal: &Portal) -> Result<Branding> {
    Ok(store::settings::branding(ctx.db)?.for_portal(portal))
}

/// Renders a portal page: adds the portal, its branding, and — when signed in — the contact
/// and the portals they can switch to.
pub fn render(
    ctx: &Ctx<'_>,
    portal: &Portal,
    me: Option<PortalContact<'_>>,
    status: u16,
    template: &str,
    page_ctx: Value,
) -> Result<Response> {
    let switcher = match me {
        Some(me) => {
            let contact = me.contact();
            let reachable =
                store::portals::reachable(ctx.db, contact.portal_id, contact.customer_id)?;
            reachable
                .iter()
                .map(|p| view! { name => p.name, url => format!("{}/dashboard", base(p)), current => p.id == portal.id })
                .collect::<Vec<_>>()
        }
        None => Vec::new(),
    };
    let full = minijinja::context! {
        portal => view! {
            name => portal.name,
            base => base(portal),
            welcome => portal.welcome,
            response_time => portal.response_time,
            takes_signups => portal.takes_signups(),
        },
        branding => crate::render::to_value(&branding(ctx, portal)?),
        viewing_as => ctx.viewing_as.borrow().clone(),
        contact => me.map(|m| view! {
            name => m.contact().name,
            email => m.contact().email,
            has_picture => m.contact().avatar.is_some(),
            sees_tickets => m.sees_tickets(),
            manages_people => m.manages_people().is_some(),
        }),
        switcher => (switcher.len() > 1).then_some(switcher),
        ..page_ctx
    };
    respond::page_with_status(ctx, status, template, full)
}
