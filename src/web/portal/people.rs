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
    // A manager's invitations are emails from the agency: at most 20 an hour.
    let scope = format!("portal-people-invite:{}", me.contact().id);
    let limit = crate::auth::throttle::Limit {
        max: 20,
        window_secs: 3600,
        kept: crate::auth::throttle::Kept::OnDisk,
    };
    let allowed = ctx
        .db
        .write(|tx| crate::auth::throttle::check_and_record(tx, &scope, limit))?;
    if let Err(wait) = allowed {
        errors.add(
            "_form",
            format!(
                "You have sent many invitations in the last hour. Try again in {}.",
                crate::auth::throttle::minutes_text(wait)
            ),
        );
        return render_people(ctx, me, customer, 429, values, errors);
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
    let (Some(customer), Some(c)) = (managed(me), colleague(ctx, me, id)?) else {
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
    // Checked and written in one statement: a contact moved meanwhile is left alone.
    let done = ctx
        .db
        .write(|tx| store::contacts::set_label_within(tx, c.id, customer, &label))?;
    if !done {
        return Ok(respond::not_found(ctx));
    }
    Ok(respond::redirect_with_flash(
        ctx,
        &people_url(me),
        &format!("{}'s label is saved.", c.name),
    ))
}

/// Disables a colleague (signed out everywhere at once). Enabling again is the agency's call:
/// a manager cannot undo an offboarding the agency did.
pub fn disable(ctx: &Ctx<'_>, me: PortalContact<'_>, id: i64) -> Result<Response> {
    let (Some(customer), Some(c)) = (managed(me), colleague(ctx, me, id)?) else {
        return Ok(respond::not_found(ctx));
    };
    let done = ctx
        .db
        .write(|tx| store::contacts::disable_within(tx, c.id, customer))?;
    let message = if done {
        format!(
            "{} is disabled and signed out everywhere. To enable them again, ask your contact at the agency.",
            c.name
        )
    } else {
        format!("{} was already disabled.", c.name)
    };
    Ok(respond::redirect_with_flash(ctx, &people_url(me), &message))
}
