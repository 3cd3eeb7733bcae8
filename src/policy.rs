//! Who may do what. Every rule lives here; handlers ask, they never re-derive a rule.
//!
//! Every request has one [`Actor`], resolved by the router tier that owns its route. Permissions
//! are values: an admin-only handler takes an [`Admin`], which only [`admin`] can make, and a
//! share-link handler a [`ShareVisitor`], which only [`share_visitor`] can make — so code that
//! skipped the check does not compile.

use crate::domain::{ContactRole, ContactStatus, CustomerId, Level, Role, TicketVisibility};
use crate::store::contacts::Contact;
use crate::store::portal_tickets::{Scope, Who};
use crate::store::portals::Portal;
use crate::store::projects::Project;
use crate::store::staff::Staff;
use crate::store::tickets::Ticket;

/// Who is making a request. Each kind gets in its own way — staff with their own session
/// cookie (`pl_staff`), share-link visitors by holding a live link — and is resolved once, by the
/// router tier that owns the route, before any handler runs; portal contacts with their own
/// cookie (`pl_contact`). Staff viewing a portal as a customer will join this list.
#[derive(Debug)]
pub enum Actor {
    /// Nobody we know: public pages (sign-in, first-run setup, error pages).
    Anonymous,
    /// A signed-in, active staff member.
    Staff(Staff),
    /// Someone holding a project's live shareable link.
    ShareVisitor(Project),
    /// A signed-in contact, in a portal they may use.
    Contact(Box<(Contact, Portal)>),
    /// A staff member viewing a portal as a customer's contact (or manager): read-only.
    ViewAs(Box<(Contact, Portal)>),
}

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

/// Whether changing `person` to `role_after`/`active_after` would leave the workspace with no
/// active admin (`active_admins` counted now, `person` included). Refused: someone must always
/// be able to manage staff and settings.
pub fn leaves_no_admin(
    person: &Staff,
    role_after: Role,
    active_after: bool,
    active_admins: i64,
) -> bool {
    let is_active_admin = person.active && person.role == Role::Admin;
    let stays_active_admin = active_after && role_after == Role::Admin;
    is_active_admin && !stays_active_admin && active_admins <= 1
}

/// Whether `who` may turn a project's shareable link on or off, regenerate it, or change what
/// visitors may do. Admins only: the link publishes a project's ticket titles to anyone holding
/// it. Every staff member may still see and copy the link, and choose which tickets it shows.
pub fn may_manage_share_link(who: &Staff) -> Option<Admin<'_>> {
    admin(who)
}

/// What archiving `project` means for `who`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archiving {
    /// Allowed as it is: the project has no live shareable link.
    Allowed,
    /// Allowed after a confirmation that says the shareable link goes dark (admins).
    AfterConfirming,
    /// Refused: archiving would take a live shareable link offline, and only admins may turn a
    /// link off (agents).
    Refused,
}

/// Whether `who` may archive `project`. Archiving takes a project's shareable link offline, so
/// while the link is on it is an admin's decision, made knowingly.
pub fn archiving(who: &Staff, project: &Project) -> Archiving {
    match (project.share.enabled, may_manage_share_link(who).is_some()) {
        (false, _) => Archiving::Allowed,
        (true, true) => Archiving::AfterConfirming,
        (true, false) => Archiving::Refused,
    }
}

/// Whether `who` may restore (unarchive) `project`. Restoring puts a link that is switched on
/// back online — publishing it, which only admins may do.
pub fn may_restore(who: &Staff, project: &Project) -> bool {
    !project.share.enabled || may_manage_share_link(who).is_some()
}

/// The address a ticket's requester is emailed at, when they should be: the ticket came through
/// the shareable link (they have a receipt page to follow it on), they gave an address, and they
/// have not unsubscribed. A ticket staff opened themselves emails nobody outside.
pub fn requester_gets_email(ticket: &Ticket) -> Option<&str> {
    ticket
        .requester_email
        .as_deref()
        .filter(|_| ticket.has_receipt && ticket.requester_notify)
}

/// Someone holding a project's shareable link: they may read the project's shared board and,
/// when the project allows it, submit feedback — nothing else, and never another project.
#[derive(Clone, Copy)]
pub struct ShareVisitor<'a>(&'a Project);

/// `Some` when `project`'s link is live (enabled, with a token, project not archived).
pub fn share_visitor(project: &Project) -> Option<ShareVisitor<'_>> {
    (project.share.enabled && project.share.token.is_some() && !project.archived)
        .then_some(ShareVisitor(project))
}

impl<'a> ShareVisitor<'a> {
    pub fn project(&self) -> &'a Project {
        self.0
    }

    /// Whether the visitor may submit feedback through the link.
    pub fn may_submit(&self) -> bool {
        self.0.share.submissions
    }

    /// Whether the visitor may attach screenshots (images only) to what they send.
    pub fn may_attach_images(&self) -> bool {
        self.0.share.submissions && self.0.share.attachments
    }

    /// Whether a new submission goes on the board at once (else it waits for staff approval).
    pub fn submission_shown_at_once(&self) -> bool {
        self.0.share.auto_publish
    }
}

/// Whether `who` may manage portals, contacts and invitations: they decide who outside the
/// agency gets in, so admins only. Customers and organisations are every staff member's work.
pub fn may_manage_portal_access(who: &Staff) -> Option<Admin<'_>> {
    admin(who)
}

/// A contact signed in to a portal they may use: active, the portal enabled, and — for a
/// contact of a customer — a portal that customer may use (`serves_customer`), so taking a
/// customer off a portal (or moving a contact to another customer) takes their access with it at
/// once; a contact of no customer uses the one portal they joined through. Only
/// [`portal_contact`] makes one, so a portal handler cannot run for anyone else.
#[derive(Clone, Copy)]
pub struct PortalContact<'a> {
    contact: &'a Contact,
    portal: &'a Portal,
    /// Staff viewing as this contact: they see what the contact sees, and may change nothing.
    read_only: bool,
}

pub fn portal_contact<'a>(
    contact: &'a Contact,
    portal: &'a Portal,
    serves_customer: bool,
) -> Option<PortalContact<'a>> {
    let reaches = match contact.customer_id {
        Some(_) => serves_customer,
        None => contact.portal_id == Some(portal.id),
    };
    (contact.status == ContactStatus::Active && portal.enabled && reaches).then_some(
        PortalContact {
            contact,
            portal,
            read_only: false,
        },
    )
}

/// What a staff member viewing a portal as `contact` (a real one of the customer, or the
/// customer's manager made up for the purpose) may see: exactly that contact's view — and
/// nothing they may change. Only for an active staff member's live view-as session, whose
/// portal is open to the customer (checked where the session is resolved).
pub fn viewing_as<'a>(contact: &'a Contact, portal: &'a Portal) -> PortalContact<'a> {
    PortalContact {
        contact,
        portal,
        read_only: true,
    }
}

impl<'a> PortalContact<'a> {
    pub fn contact(&self) -> &'a Contact {
        self.contact
    }

    /// The customer whose contacts they manage from the portal (a manager of a customer): invite,
    /// label, disable, enable — never another customer's, never deleting anyone.
    pub fn manages_people(&self) -> Option<CustomerId> {
        self.contact
            .customer_id
            .filter(|_| self.contact.role == ContactRole::Manager)
    }

    /// Staff viewing as the contact: every write is refused.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn portal(&self) -> &'a Portal {
        self.portal
    }

    /// Their level in the Tickets module here: their own, else the portal's default.
    pub fn tickets_level(&self) -> Level {
        self.contact
            .tickets_level
            .unwrap_or(self.portal.tickets_level)
    }

    pub fn projects_level(&self) -> Level {
        self.contact
            .projects_level
            .unwrap_or(self.portal.projects_level)
    }

    pub fn pages_level(&self) -> Level {
        self.contact.pages_level.unwrap_or(self.portal.pages_level)
    }

    /// Which tickets they see: their own, else the portal's default.
    pub fn ticket_visibility(&self) -> TicketVisibility {
        self.contact
            .ticket_visibility
            .unwrap_or(self.portal.ticket_visibility)
    }

    /// Whether the Tickets module is theirs at all (Off: hidden, its routes 404).
    pub fn sees_tickets(&self) -> bool {
        self.tickets_level().at_least(Level::View)
    }

    /// The tickets they see here, by their visibility — widened to their whole customer for a
    /// manager — and never wider than what they belong to (no customer: their own only).
    pub fn ticket_scope(&self) -> Scope {
        let c = self.contact;
        let mut visibility = self.ticket_visibility();
        if c.role == ContactRole::Manager && visibility == TicketVisibility::Own {
            visibility = TicketVisibility::Customer;
        }
        let who = match (visibility, c.customer_id, c.organization_id) {
            (TicketVisibility::Organization, Some(_), Some(org)) => Who::Organization(org),
            (TicketVisibility::Organization | TicketVisibility::Customer, Some(customer), _) => {
                Who::Customer(customer)
            }
            _ => Who::Contact(c.id),
        };
        Scope {
            portal: self.portal.id,
            who,
        }
    }

    /// Whether they may reply on tickets they see (View & Comment and up).
    pub fn may_reply(&self) -> bool {
        self.tickets_level().at_least(Level::Comment)
    }

    /// Whether they may open tickets here (View & Create and up, and the portal has a project
    /// to put them in).
    pub fn may_create_ticket(&self) -> bool {
        self.tickets_level().at_least(Level::Create) && self.portal.default_project_id.is_some()
    }

    /// Whether they may close and reopen tickets they see (View & Create and up, as seed 002).
    pub fn may_close(&self) -> bool {
        self.tickets_level().at_least(Level::Create)
    }
}

/// How someone signing up at a portal gets an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signup {
    /// As a contact of this customer (their email domain is the customer's, and the customer
    /// may use the portal).
    JoinCustomer(CustomerId),
    /// As a contact of no customer (open registration).
    Open,
    /// Not here: no mode lets them in.
    Refused,
}

/// The signup path for an address whose domain belongs to `domain_customer` (when that customer
/// may use `portal`). An address that already has an account never gets here: it is told so by
/// email, never on the page.
pub fn signup(portal: &Portal, domain_customer: Option<CustomerId>) -> Signup {
    match domain_customer {
        Some(customer) if portal.customer_signup => Signup::JoinCustomer(customer),
        _ if portal.open_registration => Signup::Open,
        _ => Signup::Refused,
    }
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
            notify_new_tickets: false,
            notify_assigned_replies: true,
        }
    }

    #[test]
    fn the_last_admin_stays() {
        let admin = staff(Role::Admin, true);
        assert!(leaves_no_admin(&admin, Role::Agent, true, 1));
        assert!(leaves_no_admin(&admin, Role::Admin, false, 1));
        assert!(!leaves_no_admin(&admin, Role::Agent, true, 2));
        assert!(!leaves_no_admin(&admin, Role::Admin, true, 1));
        assert!(!leaves_no_admin(
            &staff(Role::Agent, true),
            Role::Agent,
            false,
            1
        ));
    }

    #[test]
    fn archiving_a_project_with_a_live_link_is_an_admin_decision() {
        let mut project = crate::store::projects::Project {
            id: crate::domain::ProjectId(1),
            key: "ACME".into(),
            name: "Acme".into(),
            description: String::new(),
            archived: false,
            created_at: 0,
            updated_at: 0,
            default_assignee_id: None,
            share: crate::store::projects::ShareSettings {
                token: Some("t".into()),
                enabled: true,
                submissions: true,
                auto_publish: true,
                attachments: false,
                welcome: String::new(),
                response_time: String::new(),
                accent_color: None,
                logo: None,
            },
        };
        let (admin, agent) = (staff(Role::Admin, true), staff(Role::Agent, true));
        assert_eq!(archiving(&admin, &project), Archiving::AfterConfirming);
        assert_eq!(archiving(&agent, &project), Archiving::Refused);
        assert!(may_restore(&admin, &project) && !may_restore(&agent, &project));
        project.share.enabled = false;
        assert_eq!(archiving(&agent, &project), Archiving::Allowed);
        assert_eq!(archiving(&admin, &project), Archiving::Allowed);
        assert!(may_restore(&agent, &project));
    }

    #[test]
    fn only_active_admins_are_admins() {
        assert!(admin(&staff(Role::Admin, true)).is_some());
        assert!(admin(&staff(Role::Agent, true)).is_none());
        assert!(admin(&staff(Role::Admin, false)).is_none());
    }
}
