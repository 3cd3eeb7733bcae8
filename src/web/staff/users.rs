//! Staff accounts (admins only): list, add, change name and role, deactivate and reactivate.
//!
//! Deactivating ends the person's sessions at once. The last active admin can be neither
//! demoted nor deactivated, and nobody deactivates themselves: the workspace always keeps an
//! admin who can sign in.

use minijinja::Value;

use crate::view;
use rouille::Response;

use crate::accounts::{self, NewStaffInput};
use crate::domain::{Role, StaffId};
use crate::error::Result;
use crate::policy::{self, Admin};
use crate::store::{self, staff::Staff};
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

pub fn list(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let staff = store::staff::list(ctx.db)?;
    respond::page(ctx, "staff/users.html", view! { nav => "staff", staff })
}

pub fn new(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let page_ctx = view! { nav => "staff", roles => Role::options(), values => view! { role => "agent" }, errors => Errors::default() };
    respond::page(ctx, "staff/user_new.html", page_ctx)
}

pub fn create(ctx: &Ctx<'_>, _admin: Admin<'_>) -> Result<Response> {
    let role = Role::parse(ctx.form.get("role"));
    let (name, email) = (ctx.form.line("name"), ctx.form.line("email"));
    let input = NewStaffInput {
        name: &name,
        email: &email,
        password: ctx.form.get("password"),
        role: role.unwrap_or(Role::Agent),
    };
    let outcome = if role.is_none() {
        let mut errors = Errors::default();
        accounts::validate(&input, &mut errors);
        errors.add("role", "Choose a role.");
        Err(errors)
    } else {
        accounts::create_staff(ctx.db, ctx.app.config.bcrypt_cost, &input)?
    };
    match outcome {
        Ok(_) => Ok(respond::redirect_with_flash(
            ctx,
            "/staff",
            &format!("{} can now sign in.", input.name),
        )),
        Err(errors) => {
            let page_ctx = view! { nav => "staff", roles => Role::options(), values => ctx.form.values(), errors };
            respond::page_with_status(ctx, 422, "staff/user_new.html", page_ctx)
        }
    }
}

const LAST_ADMIN: &str = "This is the only active admin. Make someone else an admin first.";

/// Changes a role and/or the active flag, unless that would leave no active admin (judged on
/// the account as it is inside the write). Deactivation ends the account's sessions. Returns
/// whether the change was made.
fn change(ctx: &Ctx<'_>, person: &Staff, role: Option<Role>, active: Option<bool>) -> Result<bool> {
    ctx.db.write(|tx| {
        let Some(now) = store::staff::get(tx, person.id)? else {
            return Ok(false);
        };
        let (role, active) = (role.unwrap_or(now.role), active.unwrap_or(now.active));
        if policy::leaves_no_admin(&now, role, active, store::staff::count_active_admins(tx)?) {
            return Ok(false);
        }
        store::staff::update_role(tx, person.id, role)?;
        store::staff::set_active(tx, person.id, active)?;
        if !active {
            store::sessions::delete_for_staff(tx, person.id)?;
        }
        Ok(true)
    })
}

fn load(ctx: &Ctx<'_>, id: i64) -> Result<Option<Staff>> {
    store::staff::get(ctx.db, StaffId(id))
}

fn render_edit(
    ctx: &Ctx<'_>,
    status: u16,
    person: &Staff,
    values: Value,
    errors: Errors,
) -> Result<Response> {
    let page_ctx = view! { nav => "staff", person, roles => Role::options(), values, errors };
    respond::page_with_status(ctx, status, "staff/user_edit.html", page_ctx)
}

pub fn edit(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(person) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let values = view! { role => person.role };
    render_edit(ctx, 200, &person, values, Errors::default())
}

/// Changes a role. Demoting the last active admin is refused.
pub fn update(ctx: &Ctx<'_>, _admin: Admin<'_>, id: i64) -> Result<Response> {
    let Some(person) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    let mut errors = Errors::default();
    let Some(role) = Role::parse(ctx.form.get("role")) else {
        errors.add("role", "Choose a role.");
        return render_edit(
            ctx,
            422,
            &person,
            crate::render::to_value(&ctx.form.values()),
            errors,
        );
    };
    if !change(ctx, &person, Some(role), None)? {
        errors.add("role", LAST_ADMIN);
        return render_edit(
            ctx,
            422,
            &person,
            crate::render::to_value(&ctx.form.values()),
            errors,
        );
    }
    Ok(respond::redirect_with_flash(
        ctx,
        "/staff",
        &format!("{} is now {}.", person.name, role.label().to_lowercase()),
    ))
}

/// Deactivates (ending every session) or reactivates an account.
pub fn set_active(ctx: &Ctx<'_>, admin: Admin<'_>, id: i64, active: bool) -> Result<Response> {
    let Some(person) = load(ctx, id)? else {
        return Ok(respond::not_found(ctx));
    };
    if !active && !ctx.form.checked("confirm") {
        let mut errors = Errors::default();
        errors.add(
            "_form",
            format!("Tick \"Yes, deactivate {}\" to confirm.", person.name),
        );
        return render_edit(ctx, 422, &person, view! { role => person.role }, errors);
    }
    if !active && person.id == admin.staff().id {
        let mut errors = Errors::default();
        errors.add("_form", "You can't deactivate your own account.");
        return render_edit(ctx, 422, &person, view! { role => person.role }, errors);
    }
    if !change(ctx, &person, None, Some(active))? {
        let mut errors = Errors::default();
        errors.add("_form", LAST_ADMIN);
        return render_edit(ctx, 422, &person, view! { role => person.role }, errors);
    }
    let message = if active {
        format!("{} can sign in again.", person.name)
    } else {
        format!("{} was deactivated and signed out everywhere.", person.name)
    };
    Ok(respond::redirect_with_flash(ctx, "/staff", &message))
}
