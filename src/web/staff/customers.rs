//! Customers and organisations (every staff member): list, search and page through them, add,
//! edit. A customer lists the email domains whose owners may sign up as its contacts.

use minijinja::Value;
use rouille::Response;

use crate::domain::{CustomerId, OrganizationId, parse_domain};
use crate::error::Result;
use crate::store::customers::{self, CustomerFields};
use crate::store::staff::Staff;
use crate::store::{self, contacts::ContactFilter};
use crate::view;
use crate::web::forms::Errors;
use crate::web::staff::url_with;
use crate::web::{Ctx, listing, respond};

pub const PAGE_SIZE: usize = 50;
const NAME_MAX: usize = 120;

pub fn list(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    let q = ctx.query("q");
    let org = ctx
        .query("organization")
        .and_then(|o| o.parse().ok())
        .map(OrganizationId);
    let seek = listing::seek(ctx.query("at").as_deref());
    let page = listing::fetch(seek, |seek| {
        customers::list(ctx.db, q.as_deref(), org, seek, PAGE_SIZE)
    })?;
    let link = |at: &str| {
        url_with(
            "/customers",
            &[
                ("q", q.clone().unwrap_or_default()),
                (
                    "organization",
                    org.map(|o| o.0.to_string()).unwrap_or_default(),
                ),
                ("at", at.to_string()),
            ],
        )
    };
    let pagination = listing::links(&page, link);
    let organizations = customers::organizations(ctx.db)?;
    respond::page(
        ctx,
        "staff/customers.html",
        view! {
            nav => "customers",
            customers => page.rows,
            pagination,
            organizations,
            query => view! { q, organization => org.map(|o| o.0) },
        },
    )
}

fn organization_options(ctx: &Ctx<'_>) -> Result<Vec<Value>> {
    Ok(customers::organizations(ctx.db)?
        .into_iter()
        .map(|o| view! { key => o.id.0, label => o.name })
        .collect())
}

fn render_form(
    ctx: &Ctx<'_>,
    status: u16,
    customer: Option<&customers::Customer>,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let contacts = match customer {
        Some(c) => {
            let filter = ContactFilter {
                customer: Some(c.id),
                ..Default::default()
            };
            store::contacts::list(ctx.db, &filter, Default::default(), 100)?.rows
        }
        None => Vec::new(),
    };
    let may_manage_contacts = ctx.staff().is_some_and(may_set_domains);
    let view_portals = match customer {
        Some(c) => {
            let mut open = Vec::new();
            for p in store::portals::list(ctx.db)? {
                if p.enabled && store::portals::serves_customer(ctx.db, p.id, c.id)? {
                    open.push(view! { key => p.id.0, label => p.name });
                }
            }
            open
        }
        None => Vec::new(),
    };
    respond::page_with_status(
        ctx,
        status,
        "staff/customer.html",
        view! {
            nav => "customers",
            customer,
            contacts,
            may_manage_contacts,
            may_set_domains => may_manage_contacts,
            view_portals,
            organizations => organization_options(ctx)?,
            values,
            errors,
        },
    )
}

pub fn new(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    render_form(ctx, 200, None, view! {}, Errors::default())
}

/// Whether `me` may change signup domains: they decide who may join a customer by signing
/// up, so they are portal access — admins only (agents see them read-only).
fn may_set_domains(me: &Staff) -> bool {
    crate::policy::may_manage_portal_access(me).is_some()
}

/// Reads the form: name, organisation, domains (one per line or comma-separated). Without
/// `domains_allowed` the domains stay `current`, whatever the form says.
fn read(
    ctx: &Ctx<'_>,
    except: Option<CustomerId>,
    current: (bool, &[String]),
    errors: &mut Errors,
) -> Result<(String, Option<OrganizationId>, Vec<String>)> {
    let (domains_allowed, current) = current;
    let name = ctx.form.line("name");
    errors.require("name", &name, "Name", NAME_MAX);
    if !name.is_empty() && customers::name_taken(ctx.db, &name, except)? {
        errors.add("name", "Another customer has this name.");
    }
    let organization = match ctx.form.get("organization") {
        "" => None,
        raw => {
            let found = match raw.parse::<i64>() {
                Ok(id) => customers::organization(ctx.db, OrganizationId(id))?,
                Err(_) => None,
            };
            if found.is_none() {
                errors.add(
                    "organization",
                    "Choose an organisation from the list, or none.",
                );
            }
            found.map(|o| o.id)
        }
    };
    if !domains_allowed {
        return Ok((name, organization, current.to_vec()));
    }
    let mut domains = Vec::new();
    let mut bad = Vec::new();
    for raw in ctx
        .form
        .get("domains")
        .split([',', '\n', ' ', ';'])
        .filter(|d| !d.trim().is_empty())
    {
        match parse_domain(raw) {
            Some(d) if !domains.contains(&d) => domains.push(d),
            Some(_) => {}
            None => bad.push(raw.trim().to_string()),
        }
    }
    if !bad.is_empty() {
        errors.add(
            "domains",
            format!(
                "Not an email domain: {}. Write domains like acme.com.",
                bad.join(", ")
            ),
        );
    } else if domains.len() > 50 {
        errors.add("domains", "At most 50 domains.");
    } else {
        let taken = customers::domains_taken(ctx.db, &domains, except)?;
        if !taken.is_empty() {
            errors.add(
                "domains",
                format!("Already another customer's: {}.", taken.join(", ")),
            );
        }
    }
    Ok((name, organization, domains))
}

pub fn create(ctx: &Ctx<'_>, me: &Staff) -> Result<Response> {
    let mut errors = Errors::default();
    let (name, organization, domains) = read(ctx, None, (may_set_domains(me), &[]), &mut errors)?;
    if !errors.is_empty() {
        let values = crate::render::to_value(&ctx.form.values());
        return render_form(ctx, 422, None, values, errors);
    }
    let fields = CustomerFields {
        name: &name,
        organization_id: organization,
        domains: &domains,
    };
    let id = ctx.db.write(|tx| customers::insert(tx, &fields))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/customers/{id}"),
        &format!("Customer {name} added."),
    ))
}

pub fn show(ctx: &Ctx<'_>, _me: &Staff, id: i64) -> Result<Response> {
    let Some(customer) = customers::get(ctx.db, CustomerId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    let values = view! {
        name => customer.name,
        organization => customer.organization_id.map(|o| o.0.to_string()).unwrap_or_default(),
        domains => customer.domains.join("\n"),
    };
    render_form(ctx, 200, Some(&customer), values, Errors::default())
}

pub fn update(ctx: &Ctx<'_>, me: &Staff, id: i64) -> Result<Response> {
    let Some(customer) = customers::get(ctx.db, CustomerId(id))? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    let current = (may_set_domains(me), customer.domains.as_slice());
    let (name, organization, domains) = read(ctx, Some(customer.id), current, &mut errors)?;
    if !errors.is_empty() {
        let values = crate::render::to_value(&ctx.form.values());
        return render_form(ctx, 422, Some(&customer), values, errors);
    }
    let fields = CustomerFields {
        name: &name,
        organization_id: organization,
        domains: &domains,
    };
    ctx.db
        .write(|tx| customers::update(tx, customer.id, &fields))?;
    Ok(respond::redirect_with_flash(
        ctx,
        &format!("/customers/{id}"),
        "Customer saved.",
    ))
}

// ---- organisations ------------------------------------------------------------------------

pub fn organizations(ctx: &Ctx<'_>, _me: &Staff) -> Result<Response> {
    render_organizations(ctx, 200, view! {}, Errors::default())
}

fn render_organizations(
    ctx: &Ctx<'_>,
    status: u16,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let organizations = customers::organizations(ctx.db)?;
    respond::page_with_status(
        ctx,
        status,
        "staff/organizations.html",
        view! { nav => "customers", organizations, values, errors },
    )
}

/// Adds an organisation (`id` None) or renames one.
pub fn save_organization(ctx: &Ctx<'_>, _me: &Staff, id: Option<i64>) -> Result<Response> {
    let existing = match id {
        Some(id) => match customers::organization(ctx.db, OrganizationId(id))? {
            Some(o) => Some(o),
            None => return Ok(respond::not_found(ctx)),
        },
        None => None,
    };
    let field = match &existing {
        Some(o) => format!("name_{}", o.id),
        None => "name".to_string(),
    };
    let name = ctx.form.line(&field);
    let mut errors = Errors::default();
    errors.require(&field, &name, "Name", NAME_MAX);
    if errors.is_empty()
        && customers::organization_name_taken(ctx.db, &name, existing.as_ref().map(|o| o.id))?
    {
        errors.add(&field, "Another organisation has this name.");
    }
    if !errors.is_empty() {
        let values = crate::render::to_value(&ctx.form.values());
        return render_organizations(ctx, 422, values, errors);
    }
    let message = match &existing {
        Some(o) => {
            ctx.db
                .write(|tx| customers::rename_organization(tx, o.id, &name))?;
            "Organisation renamed."
        }
        None => {
            ctx.db
                .write(|tx| customers::insert_organization(tx, &name))?;
            "Organisation added."
        }
    };
    Ok(respond::redirect_with_flash(
        ctx,
        "/customers/organizations",
        message,
    ))
}
