//! First-run setup: `/setup/{token}` (printed by `porchlight serve` while no staff account
//! exists) lets the operator create the first admin. The token works until that admin exists.

use crate::view;
use rouille::Response;

use crate::accounts::{self, NewStaffInput};
use crate::auth::{Secret, passwords};
use crate::clock;
use crate::domain::Role;
use crate::error::Result;
use crate::store::{self, tokens::KIND_SETUP};
use crate::web::forms::Errors;
use crate::web::{Ctx, respond};

/// The setup token is usable only while no staff account exists; otherwise the page is a 404
/// like any unknown URL.
fn usable(ctx: &Ctx<'_>, token: &Secret) -> Result<bool> {
    Ok(store::staff::count(ctx.db)? == 0
        && store::tokens::is_valid(ctx.db, &token.hash(), KIND_SETUP, clock::now())?)
}

pub fn show(ctx: &Ctx<'_>, token: &str) -> Result<Response> {
    if !usable(ctx, &Secret::from_untrusted(token))? {
        return Ok(respond::not_found(ctx));
    }
    respond::page(
        ctx,
        "staff/setup.html",
        view! { values => view! {}, errors => Errors::default() },
    )
}

pub fn submit(ctx: &Ctx<'_>, token: &str) -> Result<Response> {
    let token = Secret::from_untrusted(token);
    if !usable(ctx, &token)? {
        return Ok(respond::not_found(ctx));
    }
    let (name, email) = (ctx.form.line("name"), ctx.form.line("email"));
    let input = NewStaffInput {
        name: &name,
        email: &email,
        password: ctx.form.get("password"),
        role: Role::Admin,
    };
    let mut errors = Errors::default();
    accounts::validate(&input, &mut errors);
    if ctx.form.get("password") != ctx.form.get("password_confirm") {
        errors.add("password_confirm", "The two passwords differ.");
    }
    if !errors.is_empty() {
        let values = ctx.form.values();
        return respond::page_with_status(ctx, 422, "staff/setup.html", view! { values, errors });
    }
    let hash = passwords::hash(input.password, ctx.app.config.bcrypt_cost)?;
    // Re-check inside the write: two tabs submitting at once create one admin, not two.
    let created = ctx.db.write(|tx| {
        if store::staff::count(tx)? > 0
            || store::tokens::take(tx, &token.hash(), KIND_SETUP)?.is_none()
        {
            return Ok(None);
        }
        store::tokens::delete_kind(tx, KIND_SETUP)?;
        // An insert refused for any reason rolls the whole write back: the token stays usable.
        match accounts::insert_staff(tx, &input, &hash)? {
            Ok(id) => Ok(Some(id)),
            Err(errors) => Err(crate::error::Error::Other(format!(
                "creating the first admin: {errors}"
            ))),
        }
    })?;
    let Some(staff_id) = created else {
        return Ok(respond::not_found(ctx));
    };
    log::info!("first admin (staff {staff_id}) created through setup");
    super::login::sign_in(ctx, staff_id)?;
    Ok(respond::redirect_with_flash(
        ctx,
        "/projects/new",
        "Welcome to Porchlight. Start by creating a project.",
    ))
}
