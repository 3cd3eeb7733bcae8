//! "View as" (seed 003): a staff member opens a portal as one of a customer's contacts, or as
//! the customer's manager, to see exactly what they see. The session has its own cookie
//! (`pl_viewas`), lasts 15 minutes, is read-only (every POST in the portal is refused with a
//! reason), leaves the contact's own sessions alone, needs an active staff member for its whole
//! life, and its start and end are written to the audit log admins read.

use rouille::Response;

use crate::auth::{Secret, sessions};
use crate::domain::{ContactId, ContactRole, ContactStatus, CustomerId, PortalId};
use crate::error::Result;
use crate::store::contacts::Contact;
use crate::store::portals::Portal;
use crate::store::staff::Staff;
use crate::store::{self, view_as::ViewAs};
use crate::web::{Ctx, respond};

pub const COOKIE: &str = "pl_viewas";
/// How long a view-as session lasts.
pub const TTL_SECS: i64 = 15 * 60;

/// The live view-as session of this browser, when it is for `portal`.
pub fn for_portal(ctx: &Ctx<'_>, portal: &Portal) -> Result<Option<ViewAs>> {
    let Some(value) = ctx.cookie(COOKIE).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let hash = Secret::from_untrusted(&value).hash();
    Ok(
        store::view_as::get_live(ctx.db, &hash, crate::clock::now())?
            .filter(|v| v.portal_id == portal.id),
    )
}

/// The contact a session views as: the real one, or the customer's manager made up for it.
pub fn contact_of(ctx: &Ctx<'_>, view: &ViewAs) -> Result<Option<Contact>> {
    if let Some(id) = view.contact_id {
        return Ok(store::contacts::get(ctx.db, id)?.filter(|c| {
            c.customer_id == Some(view.customer_id) && c.status == ContactStatus::Active
        }));
    }
    let Some(customer) = store::customers::get(ctx.db, view.customer_id)? else {
        return Ok(None);
    };
    Ok(Some(Contact {
        id: ContactId(0),
        email: String::new(),
        name: format!("{} manager", customer.name),
        customer_id: Some(customer.id),
        customer_name: Some(customer.name),
        portal_id: None,
        password_hash: None,
        role: ContactRole::Manager,
        label: String::new(),
        status: ContactStatus::Active,
        notify_replies: false,
        notify_status: false,
        created_at: 0,
        invite_expires_at: None,
        avatar: None,
        tickets_level: None,
        projects_level: None,
        pages_level: None,
        ticket_visibility: None,
        organization_id: customer.organization_id,
    }))
}

/// The banner's words: "Viewing as Acme — manager".
pub fn label(view: &ViewAs, contact: &Contact) -> String {
    match view.contact_id {
        Some(_) => format!("Viewing as {} — {}", view.customer_name, contact.name),
        None => format!("Viewing as {} — manager", view.customer_name),
    }
}

/// Starts viewing `portal` as customer `id`'s manager or one of its contacts (the form's
/// `contact`, "" for the manager). Any active staff member.
pub fn start(ctx: &Ctx<'_>, me: &Staff, customer: i64) -> Result<Response> {
    let Some(customer) = store::customers::get(ctx.db, CustomerId(customer))? else {
        return Ok(respond::not_found(ctx));
    };
    let back = format!("/customers/{}", customer.id);
    let portal = match ctx.form.get("portal").parse::<i64>() {
        Ok(id) => store::portals::get(ctx.db, PortalId(id))?,
        Err(_) => None,
    };
    let portal = match portal {
        Some(p) if p.enabled && store::portals::serves_customer(ctx.db, p.id, customer.id)? => p,
        _ => {
            return Ok(respond::redirect_with_flash(
                ctx,
                &back,
                "Choose a portal that is switched on and open to this customer.",
            ));
        }
    };
    let contact = match ctx.form.get("contact") {
        "" => None,
        raw => {
            let found = match raw.parse::<i64>() {
                Ok(id) => store::contacts::get(ctx.db, ContactId(id))?,
                Err(_) => None,
            };
            match found {
                Some(c)
                    if c.customer_id == Some(customer.id) && c.status == ContactStatus::Active =>
                {
                    Some(c)
                }
                _ => {
                    return Ok(respond::redirect_with_flash(
                        ctx,
                        &back,
                        "Choose one of this customer's active contacts.",
                    ));
                }
            }
        }
    };
    let token = Secret::generate();
    let until = crate::clock::format_datetime(crate::clock::now() + TTL_SECS);
    let detail = match &contact {
        Some(c) => format!(
            "{} as {} ({}) in portal {}, until {until} at most",
            customer.name, c.name, c.email, portal.name
        ),
        None => format!(
            "{} as manager in portal {}, until {until} at most",
            customer.name, portal.name
        ),
    };
    // Tied to the staff sign-in it starts from: signing out ends it.
    let staff_session = ctx
        .cookie(sessions::STAFF_COOKIE)
        .map(|c| Secret::from_untrusted(&c).hash().to_vec())
        .unwrap_or_default();
    ctx.db.write(|tx| {
        // One view at a time: an earlier one ends here, on the record.
        if store::view_as::delete_for_staff(tx, me.id)? > 0 {
            store::view_as::audit(
                tx,
                me.id,
                &me.name,
                "view-as ended",
                "replaced by a new one",
            )?;
        }
        store::view_as::insert(
            tx,
            &token.hash(),
            &staff_session,
            me.id,
            portal.id,
            customer.id,
            contact.as_ref().map(|c| c.id),
            tx.now() + TTL_SECS,
        )?;
        store::view_as::audit(tx, me.id, &me.name, "view-as started", &detail)
    })?;
    log::info!("staff {} started viewing as a customer", me.id);
    ctx.set_cookie(sessions::cookie(
        &ctx.app.config,
        COOKIE,
        token.expose(),
        Some(TTL_SECS as u64),
    ));
    Ok(respond::redirect(&format!(
        "/portal/{}/dashboard",
        portal.slug
    )))
}

/// Ends this browser's view-as session and goes back to the customer. Needs no staff session
/// (after signing out, Exit still clears what is left); the audit names the session's staff.
pub fn exit(ctx: &Ctx<'_>) -> Result<Response> {
    let mut back = "/customers".to_string();
    if let Some(value) = ctx.cookie(COOKIE).filter(|v| !v.is_empty()) {
        let hash = Secret::from_untrusted(&value).hash();
        let live = store::view_as::get_live(ctx.db, &hash, crate::clock::now())?;
        ctx.db.write(|tx| {
            if store::view_as::delete(tx, &hash)?
                && let Some(v) = &live
            {
                store::view_as::audit(
                    tx,
                    v.staff_id,
                    &v.staff_name,
                    "view-as ended",
                    &v.customer_name,
                )?;
            }
            Ok(())
        })?;
        if let Some(v) = live {
            back = format!("/customers/{}", v.customer_id);
        }
    }
    ctx.set_cookie(sessions::cookie(&ctx.app.config, COOKIE, "", Some(0)));
    Ok(respond::redirect_with_flash(
        ctx,
        &back,
        "You stopped viewing as the customer.",
    ))
}
