//! Who may do what. Every rule lives here; handlers ask, they never re-derive a rule.
//!
//! Permissions are values: an admin-only handler takes an [`Admin`], which only [`admin`] can
//! make, so code that skipped the check does not compile.

use crate::domain::Role;
use crate::store::staff::Staff;

/// Proof that the signed-in staff member is an active admin.
#[derive(Clone, Copy)]
pub struct Admin<'a>(&'a Staff);

impl<'a> Admin<'a> {
    pub fn staff(&self) -> &'a Staff {
        self.0
    }
}

/// `Some(Admin)` when `who` is an active admin.
pub fn admin(who: &Staff) -> Option<Admin<'_>> {
    (who.active && who.role == Role::Admin).then_some(Admin(who))
}

/// Whether `who` may manage staff accounts (add, change role, deactivate).
pub fn may_manage_staff(who: &Staff) -> bool {
    admin(who).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StaffId;

    fn staff(role: Role, active: bool) -> Staff {
        Staff {
            id: StaffId(1),
            email: "a@example.com".into(),
            name: "A".into(),
            password_hash: String::new(),
            role,
            active,
            created_at: 0,
        }
    }

    #[test]
    fn only_active_admins_are_admins() {
        assert!(admin(&staff(Role::Admin, true)).is_some());
        assert!(admin(&staff(Role::Agent, true)).is_none());
        assert!(admin(&staff(Role::Admin, false)).is_none());
        assert!(may_manage_staff(&staff(Role::Admin, true)));
        assert!(!may_manage_staff(&staff(Role::Agent, true)));
    }
}
