//! A manager's people (seed 003's helpdesk admin): the contacts of their own customer — invite
//! one, change a label, disable or enable — never another customer's, never deleting anyone,
//! never themselves. Everyone else gets a 404 here.

use rouille::Response;

use crate::domain::{ContactId, ContactRole, ContactStatus, CustomerId, plausible_email};
use crate::error::Result;
use crate::policy::PortalContact;
use crate::store::contacts::{ContactFilter, NewContact};
use crate::store::{self};
use crate::view;
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

use super::{base, render};

const NAME_MAX: usize = 100;
const LABEL_MAX: usize = 60;

fn people_url(me: PortalContact<'_>) -> String {
    format!("{}/people", base(me.portal()))
}

/// The customer whose people `me` manages.
fn managed(me: PortalContact<'_>) -> Option<CustomerId> {
    me.manages_people()
}

fn render_people(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    customer: CustomerId,
    status: u16,
    values: minijinja::Value,
    errors: Errors,
) -> Result<Response> {
    let filter = ContactFilter {
        customer: Some(customer),
        ..Default::default()
    };
    let people = store::contacts::list(ctx.db, &filter, Default::default(), 500)?
        .rows
        .into_iter()
        .map(|c| {
            view! {
                id => c.id.0,
                name => c.name,
                email => c.email,
                label => c.label,
                status => c.status.key(),
                status_label => c.status.label(),
                role => c.role.label(),
                me => c.id == me.contact().id,
            }
        })
        .collect::<Vec<_>>();
    render(
        ctx,
        me.portal(),
        Some(me),
        status,
        "portal/people.html",
        view! {
            nav => "people",
            people,
            may_invite => me.portal().allow_invites,
            customer_name => me.contact().customer_name,
            values,
            errors,
        },
    )
}

pub fn list(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let Some(customer) = managed(me) else {
        return Ok(respond::not_found(ctx));
    };
    render_people(ctx, me, customer, 200, view! {}, Errors::default())
}

pub fn invite(ctx: &Ctx<'_>, me: PortalContact<'_>) -> Result<Response> {
    let Some(customer) = managed(me) else {
        return Ok(respond::not_found(ctx));
    };
    let values = crate::render::to_value(&ctx.form.values());
    let mut errors = Errors::default();
    if !me.portal().allow_invites {
        errors.add("_form", "Invitations are switched off in this portal.");
        return render_people(ctx, me, customer, 403, values, errors);
    }
    let name = ctx.form.line("name");
    let email = ctx.form.line("email").to_lowercase();
    let label = ctx.form.line("label");
    errors.require("name", &name, "Name", NAME_MAX);
    errors.max_len("label", &label, "Label", LABEL_MAX);
    if !plausible_email(&email) {
        errors.add("email", "Enter an email address such as ana@example.com.");
    } else if store::contacts::get_by_email(ctx.db, &email)?.is_some() {
        // Says no more than that the address cannot be invited from here.
        errors.add(
            "email",
            "This address cannot be invited from here. Ask your contact at the agency.",
        );
    }
    if !errors.is_empty() {
        return render_people(ctx, me, customer, 422, values, errors);
    }
    let new = NewContact {
        email: &email,
        name: &name,
        customer_id: Some(customer),
        portal_id: Some(me.portal().id),
        role: ContactRole::Member,
        label: &label,
        status: ContactStatus::Invited,
    };
    let id = ctx.db.write(|tx| store::contacts::insert(tx, &new))?;
    let contact = store::contacts::get(ctx.db, id)?.expect("just added");
    super::access::invite(ctx, me.portal(), &contact)?;
    Ok(respond::redirect_with_flash(
        ctx,
        &people_url(me),
        &format!("{name} is invited: they have an email with a link to set up their account."),
    ))
}

/// One of the manager's customer's contacts (not the manager), or `None` for anyone else.
fn colleague(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    id: i64,
) -> Result<Option<crate::store::contacts::Contact>> {
    let Some(customer) = managed(me) else {
        return Ok(None);
    };
    Ok(store::contacts::get(ctx.db, ContactId(id))?
        .filter(|c| c.customer_id == Some(customer) && c.id != me.contact().id))
}

pub fn set_label(ctx: &Ctx<'_>, me: PortalContact<'_>, id: i64) -> Result<Response> {
    let Some(c) = colleague(ctx, me, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let label = ctx.form.line("label");
    if label.chars().count() > LABEL_MAX {
        return Ok(respond::redirect_with_flash(
            ctx,
            &people_url(me),
            &format!(
                "A label has at most {LABEL_MAX} characters; {}'s is unchanged.",
                c.name
            ),
        ));
    }
    let u = store::contacts::ContactUpdate {
        name: &c.name,
        customer_id: c.customer_id,
        role: c.role,
        label: &label,
    };
    ctx.db.write(|tx| store::contacts::update(tx, c.id, &u))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &people_url(me),
        &format!("{}'s label is saved.", c.name),
    ))
}

pub fn set_enabled(
    ctx: &Ctx<'_>,
    me: PortalContact<'_>,
    id: i64,
    enabled: bool,
) -> Result<Response> {
    let Some(c) = colleague(ctx, me, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let n = ctx
        .db
        .write(|tx| store::contacts::set_enabled_many(tx, &[c.id], enabled))?;
    let message = match (enabled, n) {
        (_, 0) => format!("{} was already so.", c.name),
        (true, _) => format!("{} can sign in again.", c.name),
        (false, _) => format!("{} is disabled and signed out everywhere.", c.name),
    };
    Ok(respond::redirect_with_flash(ctx, &people_url(me), &message))
}
