//! Contacts — portal accounts — (admins: they decide who outside the agency gets in): list,
//! search and page through them, add and invite, edit, disable and enable, resend or revoke an
//! invitation. Disabling ends the contact's sessions and voids their links at once.

use minijinja::Value;
use rouille::Response;

use crate::domain::{ContactId, ContactRole, ContactStatus, CustomerId, PortalId, plausible_email};
use crate::error::Result;
use crate::policy::Admin;
use crate::store::contacts::{Contact, ContactFilter, ContactUpdate, NewContact};
use crate::store::{self, customers, portals::Portal};
use crate::view;
use crate::web::forms::Errors;
use crate::web::portal::access;
use crate::web::staff::url_with;
use crate::web::{Ctx, listing, respond};

pub const PAGE_SIZE: usize = 50;
const NAME_MAX: usize = 100;
const LABEL_MAX: usize = 60;

pub fn list(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let filter = ContactFilter {
        q: ctx.query("q"),
        status: ctx.query("status").and_then(|s| ContactStatus::parse(&s)),
        customer: ctx
            .query("customer")
            .and_then(|c| c.parse().ok())
            .map(CustomerId),
        pending_invitation: ctx.query("pending").is_some(),
        portal: None,
    };
    let seek = listing::seek(ctx.query("at").as_deref());
    let page = listing::fetch(seek, |seek| {
        store::contacts::list(ctx.db, &filter, seek, PAGE_SIZE)
    })?;
    let params = |at: &str| {
        url_with(
            "/contacts",
            &[
                ("q", filter.q.clone().unwrap_or_default()),
                (
                    "status",
                    filter
                        .status
                        .map(|s| s.key().to_string())
                        .unwrap_or_default(),
                ),
                (
                    "customer",
                    filter.customer.map(|c| c.0.to_string()).unwrap_or_default(),
                ),
                (
                    "pending",
                    if filter.pending_invitation {
                        "1".into()
                    } else {
                        String::new()
                    },
                ),
                ("at", at.to_string()),
            ],
        )
    };
    let pagination = listing::links(&page, params);
    let now = crate::clock::now();
    let contacts = page.rows.iter().map(|c| row(c, now)).collect::<Vec<_>>();
    respond::page(
        ctx,
        "staff/contacts.html",
        view! {
            nav => "contacts",
            contacts,
            pagination,
            statuses => ContactStatus::options(),
            customers => customers::choices(ctx.db)?,
            query => view! {
                q => filter.q,
                status => filter.status.map(|s| s.key()).unwrap_or(""),
                customer => filter.customer.map(|c| c.0.to_string()).unwrap_or_default(),
                pending => filter.pending_invitation,
            },
        },
    )
}

/// A contact as the list and the edit page show it.
fn row(c: &Contact, now: i64) -> Value {
    let invitation = match (c.status, c.invite_expires_at) {
        (ContactStatus::Invited, Some(at)) if at > now => Some(format!(
            "invitation open until {}",
            crate::clock::format_datetime(at)
        )),
        (ContactStatus::Invited, _) => Some("no open invitation".to_string()),
        _ => None,
    };
    view! {
        id => c.id.0,
        name => c.name,
        email => c.email,
        customer_id => c.customer_id.map(|c| c.0),
        customer_name => c.customer_name,
        role => c.role.label(),
        label => c.label,
        status => c.status.key(),
        status_label => c.status.label(),
        invitation,
        has_picture => c.avatar.is_some(),
        pending => c.status == ContactStatus::Invited && c.invite_expires_at.is_some_and(|at| at > now),
    }
}

/// The portals an admin can invite to: enabled, with invitations allowed.
fn invite_portals(ctx: &Ctx<'_>) -> Result<Vec<Portal>> {
    Ok(store::portals::list(ctx.db)?
        .into_iter()
        .filter(|p| p.enabled && p.allow_invites)
        .collect())
}

fn portal_options(portals: &[Portal]) -> Vec<Value> {
    portals
        .iter()
        .map(|p| view! { key => p.id.0, label => p.name })
        .collect()
}

fn render_form(
    ctx: &Ctx<'_>,
    status: u16,
    contact: Option<&Contact>,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let portals = invite_portals(ctx)?;
    let customers = customers::choices(ctx.db)?;
    respond::page_with_status(
        ctx,
        status,
        "staff/contact.html",
        view! {
            nav => "contacts",
            contact => contact.map(|c| row(c, crate::clock::now())),
            customers,
            roles => ContactRole::options(),
            portals => portal_options(&portals),
            values,
            errors,
        },
    )
}

pub fn new(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let customer = ctx.query("customer").unwrap_or_default();
    let portal = invite_portals(ctx)?
        .first()
        .map(|p| p.id.0.to_string())
        .unwrap_or_default();
    render_form(
        ctx,
        200,
        None,
        view! { customer, role => "member", portal, invite => true },
        Errors::default(),
    )
}

/// Reads the shared fields; the customer must exist.
fn read(
    ctx: &Ctx<'_>,
    errors: &mut Errors,
) -> Result<(String, Option<CustomerId>, ContactRole, String)> {
    let name = ctx.form.line("name");
    errors.require("name", &name, "Name", NAME_MAX);
    let customer = match ctx.form.get("customer") {
        "" => None,
        raw => {
            let found = match raw.parse::<i64>() {
                Ok(id) => customers::get(ctx.db, CustomerId(id))?,
                Err(_) => None,
            };
            if found.is_none() {
                errors.add("customer", "Choose a customer from the list, or none.");
            }
            found.map(|c| c.id)
        }
    };
    let role = ContactRole::parse(ctx.form.get("role")).unwrap_or_else(|| {
        errors.add("role", "Choose a role.");
        ContactRole::Member
    });
    let label = ctx.form.line("label");
    errors.max_len("label", &label, "Label", LABEL_MAX);
    Ok((name, customer, role, label))
}

/// The portal chosen in the form's `portal` field, which must take invitations.
fn chosen_portal(ctx: &Ctx<'_>, errors: &mut Errors) -> Result<Option<Portal>> {
    let portal = match ctx.form.get("portal").parse::<i64>() {
        Ok(id) => invite_portals(ctx)?
            .into_iter()
            .find(|p| p.id == PortalId(id)),
        Err(_) => None,
    };
    if portal.is_none() {
        errors.add(
            "portal",
            "Choose a portal to invite to (it must be switched on and allow invitations).",
        );
    }
    Ok(portal)
}

pub fn create(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let mut errors = Errors::default();
    let (name, customer, role, label) = read(ctx, &mut errors)?;
    let email = ctx.form.line("email").to_lowercase();
    if email.is_empty() {
        errors.add("email", "Email is required.");
    } else if !plausible_email(&email) {
        errors.add("email", "Enter an email address such as ana@example.com.");
    } else if store::contacts::get_by_email(ctx.db, &email)?.is_some() {
        errors.add("email", "A contact with this email address exists already.");
    }
    let invite = ctx.form.checked("invite");
    let portal = if invite {
        chosen_portal(ctx, &mut errors)?
    } else {
        None
    };
    if let (Some(portal), Some(customer)) = (&portal, customer)
        && !store::portals::serves_customer(ctx.db, portal.id, customer)?
    {
        errors.add(
            "portal",
            format!(
                "{} is not open to this customer: add the customer on the portal's page first.",
                portal.name
            ),
        );
    }
    if !errors.is_empty() {
        let values = crate::render::to_value(&ctx.form.values());
        return render_form(ctx, 422, None, values, errors);
    }
    let new = NewContact {
        email: &email,
        name: &name,
        customer_id: customer,
        portal_id: portal.as_ref().map(|p| p.id),
        role,
        label: &label,
        status: ContactStatus::Invited,
    };
    let id = ctx.db.write(|tx| store::contacts::insert(tx, &new))?;
    let contact = store::contacts::get(ctx.db, id)?.expect("just added");
    let message = match &portal {
        Some(portal) => {
            access::invite(ctx, portal, &contact)?;
            format!("{name} added and invited to {}.", portal.name)
        }
        None => format!("{name} added. Invite them when you are ready."),
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/contacts/{id}"),
        &message,
    ))
}

fn load(ctx: &Ctx<'_>, id: i64) -> Result<Option<Contact>> {
    store::contacts::get(ctx.db, ContactId(id))
}

pub fn edit(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let values = view! {
        name => contact.name,
        email => contact.email,
        customer => contact.customer_id.map(|c| c.0.to_string()).unwrap_or_default(),
        role => contact.role.key(),
        label => contact.label,
        portal => contact.portal_id.map(|p| p.0.to_string()).unwrap_or_default(),
    };
    render_form(ctx, 200, Some(&contact), values, Errors::default())
}

pub fn update(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    let (name, customer, role, label) = read(ctx, &mut errors)?;
    if !errors.is_empty() {
        let mut values = ctx.form.values();
        values.insert("email".into(), contact.email.clone());
        return render_form(
            ctx,
            422,
            Some(&contact),
            crate::render::to_value(&values),
            errors,
        );
    }
    let u = ContactUpdate {
        name: &name,
        customer_id: customer,
        role,
        label: &label,
    };
    ctx.db
        .write(|tx| store::contacts::update(tx, contact.id, &u))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/contacts/{id}"),
        "Contact saved.",
    ))
}

/// Sends (or sends again) an invitation to the chosen portal; earlier ones stop working.
pub fn invite(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let here = format!("/contacts/{id}");
    if contact.status != ContactStatus::Invited {
        return Ok(respond::redirect_with_flash(
            ctx,
            &here,
            "Only a contact who has not set up their account yet can be invited.",
        ));
    }
    let mut errors = Errors::default();
    let Some(portal) = chosen_portal(ctx, &mut errors)? else {
        return Ok(respond::redirect_with_flash(
            ctx,
            &here,
            "Choose a portal that is switched on and allows invitations.",
        ));
    };
    match contact.customer_id {
        Some(customer) if !store::portals::serves_customer(ctx.db, portal.id, customer)? => {
            return Ok(respond::redirect_with_flash(
                ctx,
                &here,
                &format!(
                    "{} is not open to {}: add the customer on the portal's page first.",
                    portal.name,
                    contact.customer_name.as_deref().unwrap_or("their customer")
                ),
            ));
        }
        Some(_) => {}
        // A contact of no customer uses the portal they are invited to.
        None => ctx
            .db
            .write(|tx| store::contacts::set_home_portal(tx, contact.id, portal.id))?,
    }
    let contact = load(ctx, id)?.expect("exists");
    access::invite(ctx, &portal, &contact)?;
    Ok(respond::redirect_with_flash(
        ctx,
        &here,
        &format!(
            "Invitation to {} sent to {}. It works for 7 days.",
            portal.name, contact.email
        ),
    ))
}

pub fn revoke(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    ctx.db
        .write(|tx| store::contacts::delete_tokens(tx, contact.id, Some(access::KIND_INVITE)))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/contacts/{id}"),
        "Invitation revoked: its link no longer works.",
    ))
}

/// Disables (sessions end, links stop working) or enables a contact.
pub fn set_enabled(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64, enabled: bool) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let status = match (enabled, contact.has_password()) {
        (false, _) => ContactStatus::Disabled,
        (true, true) => ContactStatus::Active,
        (true, false) => ContactStatus::Invited,
    };
    ctx.db
        .write(|tx| store::contacts::set_status(tx, contact.id, status))?;
    let message = if enabled {
        format!("{} can use the portal again.", contact.name)
    } else {
        format!("{} is disabled and signed out everywhere.", contact.name)
    };
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/contacts/{id}"),
        &message,
    ))
}

/// A contact's profile picture, for staff.
pub fn picture(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(contact) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    Ok(crate::web::portal::pages::serve_picture(
        ctx,
        contact.avatar.as_deref(),
    ))
}
