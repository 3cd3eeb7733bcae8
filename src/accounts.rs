//! Staff accounts: the rules for names, emails and passwords, and creating or re-keying an
//! account — shared by the first-run setup page, the staff admin pages and the CLI.

use crate::auth::passwords;
use crate::domain::{Role, StaffId, plausible_email};
use crate::error::Result;
use crate::store::{self, Db, Tx};
use crate::validation::Errors;

/// What a new staff account needs.
pub struct NewStaffInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
}

/// Checks name, email and password; errors are keyed `name`, `email`, `password`.
pub fn validate(input: &NewStaffInput<'_>, errors: &mut Errors) {
    errors.require("name", input.name, "Name", 100);
    errors.require("email", input.email, "Email", 254);
    if !input.email.trim().is_empty() && !plausible_email(input.email.trim()) {
        errors.add("email", "Enter an email address such as ana@example.com.");
    }
    if let Err(why) = passwords::check_new(input.password) {
        errors.add("password", why);
    }
}

/// Validates and creates an account. The outer `Result` is for failures of the machine; the
/// inner one for the user's mistakes (a duplicate email among them).
pub fn create_staff(
    db: &Db,
    bcrypt_cost: u32,
    input: &NewStaffInput<'_>,
) -> Result<Result<StaffId, Errors>> {
    let mut errors = Errors::default();
    validate(input, &mut errors);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    // bcrypt is slow on purpose: hash before taking the writer lock.
    let hash = passwords::hash(input.password, bcrypt_cost)?;
    db.write(|tx| insert_staff(tx, input, &hash))
}

/// Inserts inside an open transaction; a taken email becomes a field error.
pub fn insert_staff(
    tx: &Tx<'_>,
    input: &NewStaffInput<'_>,
    password_hash: &str,
) -> Result<Result<StaffId, Errors>> {
    let new = store::staff::NewStaff {
        email: input.email.trim(),
        name: input.name.trim(),
        password_hash,
        role: input.role,
    };
    match store::staff::insert(tx, &new) {
        Ok(id) => Ok(Ok(id)),
        Err(e) if store::is_unique_violation(&e) => {
            let mut errors = Errors::default();
            errors.add("email", "A staff member with this email already exists.");
            Ok(Err(errors))
        }
        Err(e) => Err(e),
    }
}

/// Sets a new password and ends the account's sessions (whoever held them must sign in again).
pub fn reset_password(
    db: &Db,
    bcrypt_cost: u32,
    id: StaffId,
    password: &str,
) -> Result<Result<(), String>> {
    if let Err(why) = passwords::check_new(password) {
        return Ok(Err(why));
    }
    let hash = passwords::hash(password, bcrypt_cost)?;
    db.write(|tx| {
        store::staff::set_password(tx, id, &hash)?;
        store::sessions::delete_for_staff(tx, id)?;
        Ok(Ok(()))
    })
}
