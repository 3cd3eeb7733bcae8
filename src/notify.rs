//! Who is emailed about what, and the messages themselves.
//!
//! - The **requester** of a ticket that came through the shareable link, when they gave an email
//!   address and have not unsubscribed (`policy::requester_gets_email`): their receipt link
//!   when they submit, then each public reply and each change of status or expected-by date.
//!   Never internal notes, assignees or staff addresses. Every message carries a receipt link of
//!   its own (a fresh token, stored hashed) and a one-click unsubscribe for that ticket.
//! - **Staff**: a new ticket from a link goes to the project's default assignee, else to staff
//!   who asked for new-ticket emails; a client's reply goes to the ticket's assignee when they
//!   asked for those, else (unassigned) to the new-ticket list.
//!
//! Messages are rendered here, before the write that causes them (nothing slow under the writer
//! lock), and [`Notices::queue`] puts them in the outbox inside that write — so a message exists
//! if and only if what it tells about happened. Links come from `base_url`, never the request.

use minijinja::Value;

use crate::app::App;
use crate::auth::Secret;
use crate::domain::{Status, TicketId};
use crate::error::Result;
use crate::mail::{self, Email};
use crate::policy;
use crate::store::contacts::Contact;
use crate::store::portals::Portal;
use crate::store::projects::Project;
use crate::store::staff::Staff;
use crate::store::tickets::Ticket;
use crate::store::{self, Db, Tx};
use crate::view;

/// Messages rendered and waiting for the write that causes them.
#[derive(Default)]
pub struct Notices(Vec<Pending>);

struct Pending {
    email: Email,
    /// The fresh receipt and unsubscribe links this message carries, to store with it.
    links: Option<(TicketId, Vec<u8>, Vec<u8>)>,
}

impl Notices {
    /// Adds a message that carries no ticket links.
    pub fn add(&mut self, email: Email) {
        self.push(email, None);
    }

    /// Queues every message (and stores the links they carry) in the caller's write.
    pub fn queue(&self, tx: &Tx<'_>, app: &App) -> Result<()> {
        for pending in &self.0 {
            if let Some((ticket, receipt, unsubscribe)) = &pending.links {
                store::share::add_receipt_token(tx, *ticket, receipt)?;
                store::share::add_unsubscribe_token(tx, *ticket, unsubscribe)?;
            }
            mail::queue(tx, &app.mailer, &pending.email)?;
        }
        Ok(())
    }

    /// The addresses the messages go to.
    pub fn recipients(&self) -> Vec<&str> {
        self.0.iter().map(|p| p.email.to.as_str()).collect()
    }

    fn push(&mut self, email: Email, links: Option<(TicketId, Vec<u8>, Vec<u8>)>) {
        self.0.push(Pending { email, links });
    }

    fn extend(&mut self, other: Notices) {
        self.0.extend(other.0);
    }
}

/// A receipt link and an unsubscribe link — two tokens: the unsubscribe one goes into a mail
/// header that providers store and fetch, so it must open nothing but the unsubscribe page.
struct RequesterLinks {
    /// `None` when the project's link is no longer live: the page would be a 404.
    receipt_url: Option<String>,
    unsubscribe_url: String,
    receipt_key: Vec<u8>,
    unsubscribe_key: Vec<u8>,
}

fn requester_links(app: &App, project: &Project) -> RequesterLinks {
    let receipt = Secret::generate_timed();
    let unsubscribe = Secret::generate_timed();
    let base = app.config.base_url();
    let receipt_url = policy::share_visitor(project).map(|visitor| {
        let link = visitor.project().share.token.as_deref().unwrap_or_default();
        format!("{base}/s/{link}/t/{}", receipt.expose())
    });
    RequesterLinks {
        receipt_url,
        unsubscribe_url: unsubscribe_url(app, &unsubscribe),
        receipt_key: receipt.key(),
        unsubscribe_key: unsubscribe.key(),
    }
}

/// The one-click unsubscribe URL for an unsubscribe token.
pub fn unsubscribe_url(app: &App, token: &Secret) -> String {
    format!("{}/unsubscribe/{}", app.config.base_url(), token.expose())
}

/// The two secrets a submission's requester holds: the receipt page's, and the one that only
/// stops email about the ticket (it goes into a mail header, so it must open nothing).
pub struct SubmissionTokens {
    pub receipt: Secret,
    pub unsubscribe: Secret,
}

impl SubmissionTokens {
    pub fn generate() -> SubmissionTokens {
        SubmissionTokens {
            receipt: Secret::generate_timed(),
            unsubscribe: Secret::generate_timed(),
        }
    }
}

/// The receipt email to a visitor who just submitted, for the ticket the submission will most
/// likely become (`reference`), with the submission's `tokens` (the caller stores them, and sets
/// the email's `ticket_id`, once the ticket exists).
pub fn receipt(
    app: &App,
    project: &Project,
    branding: &store::settings::Branding,
    to: &str,
    ticket: (&str, &str),
    tokens: &SubmissionTokens,
) -> Result<Email> {
    let (reference, title) = ticket;
    let base = app.config.base_url();
    let link = project.share.token.as_deref().unwrap_or_default();
    let receipt_url = format!("{base}/s/{link}/t/{}", tokens.receipt.expose());
    let message_ctx = view! {
        branding,
        project_name => project.name,
        reference,
        title,
        receipt_url,
    };
    let mut email = mail::render(&app.templates, "share_receipt", to, message_ctx)?;
    email.unsubscribe_url = Some(unsubscribe_url(app, &tokens.unsubscribe));
    Ok(email)
}

/// What became of a public reply, as the flash message tells staff.
pub enum ReplyDelivery {
    /// Emailed to this address.
    Emailed(String),
    /// A portal contact's ticket: they see it in the portal, but get no email (they turned
    /// such emails off, or can no longer sign in there).
    PortalOnly,
    /// The requester has a receipt page but no email (or unsubscribed).
    ReceiptOnly,
    /// Nobody outside can see it yet (a ticket staff opened themselves).
    NoRequester,
}

/// Message `kind` to `ticket`'s requester — with the ticket's facts, a fresh receipt link and the
/// matching unsubscribe link added to `extra` — or `None` when they get no email.
fn to_requester(
    app: &App,
    db: &Db,
    ticket: &Ticket,
    kind: &str,
    extra: Value,
) -> Result<Option<(Notices, String)>> {
    let Some(to) = policy::requester_gets_email(ticket) else {
        return Ok(None);
    };
    let Some(project) = store::projects::get(db, ticket.project_id)? else {
        return Ok(None);
    };
    let links = requester_links(app, &project);
    let message_ctx = minijinja::context! {
        branding => crate::render::to_value(&branding(db, &project)?),
        project_name => project.name,
        reference => ticket.reference.as_str(),
        title => ticket.subject.as_str(),
        receipt_url => links.receipt_url,
        ..extra
    };
    let mut email = mail::render(&app.templates, kind, to, message_ctx)?;
    email.unsubscribe_url = Some(links.unsubscribe_url);
    email.ticket_id = Some(ticket.id.0);
    let mut notices = Notices::default();
    notices.push(
        email,
        Some((ticket.id, links.receipt_key, links.unsubscribe_key)),
    );
    Ok(Some((notices, to.to_string())))
}

/// Message `kind` about `ticket` to the portal contact who opened it — only while they may see it
/// there (active, the portal on and theirs to use, the ticket in their scope) and `wants` it —
/// with a link to the ticket's portal page. `None` when no email goes.
fn to_contact(
    app: &App,
    db: &Db,
    ticket: &Ticket,
    kind: &str,
    extra: Value,
    wants: impl Fn(&Contact) -> bool,
) -> Result<Option<(Notices, String)>> {
    let (Some(contact_id), Some(portal_id)) = (ticket.contact_id, ticket.portal_id) else {
        return Ok(None);
    };
    let Some(contact) = store::contacts::get(db, contact_id)?.filter(|c| wants(c)) else {
        return Ok(None);
    };
    let Some(portal) = store::portals::get(db, portal_id)? else {
        return Ok(None);
    };
    let serves = match contact.customer_id {
        Some(customer) => store::portals::serves_customer(db, portal.id, customer)?,
        None => false,
    };
    let Some(reader) =
        policy::portal_contact(&contact, &portal, serves).filter(|r| r.sees_tickets())
    else {
        return Ok(None);
    };
    let scope = reader.ticket_scope();
    if store::portal_tickets::find(db, scope, &ticket.project_key, ticket.number)?.is_none() {
        return Ok(None);
    }
    let base = format!("{}/portal/{}", app.config.base_url(), portal.slug);
    let message_ctx = minijinja::context! {
        branding => crate::render::to_value(&store::settings::branding(db)?.for_portal(&portal)),
        portal_name => portal.name,
        name => contact.name,
        reference => ticket.reference.as_str(),
        title => ticket.subject.as_str(),
        ticket_url => format!("{base}/tickets/{}", ticket.reference),
        profile_url => format!("{base}/profile"),
        ..extra
    };
    let mut email = mail::render(&app.templates, kind, &contact.email, message_ctx)?;
    email.ticket_id = Some(ticket.id.0);
    let mut notices = Notices::default();
    notices.push(email, None);
    Ok(Some((notices, contact.email)))
}

/// "We have your ticket" to a contact who just opened one in `portal` (rendered before the
/// write, for the reference it will most likely get), when they want status emails.
pub fn portal_received(
    app: &App,
    db: &Db,
    portal: &Portal,
    contact: &Contact,
    reference: &str,
    title: &str,
) -> Result<Option<Email>> {
    if !contact.notify_status {
        return Ok(None);
    }
    let base = format!("{}/portal/{}", app.config.base_url(), portal.slug);
    let message_ctx = view! {
        branding => store::settings::branding(db)?.for_portal(portal),
        portal_name => portal.name,
        name => contact.name,
        reference,
        title,
        response_time => portal.response_time,
        ticket_url => format!("{base}/tickets/{reference}"),
        profile_url => format!("{base}/profile"),
    };
    Ok(Some(mail::render(
        &app.templates,
        "portal_received",
        &contact.email,
        message_ctx,
    )?))
}

/// A message about a contact's access to `portal` (`portal_magic`, `portal_invite`,
/// `portal_reset`, `portal_signup`, `portal_account_exists`), carrying the one link `url`.
pub fn portal_access(
    app: &App,
    db: &Db,
    portal: &Portal,
    kind: &str,
    to: &str,
    name: &str,
    url: &str,
) -> Result<Email> {
    let message_ctx = view! {
        branding => store::settings::branding(db)?.for_portal(portal),
        portal_name => portal.name,
        name,
        url,
        login_url => format!("{}/portal/{}/login", app.config.base_url(), portal.slug),
    };
    mail::render(&app.templates, kind, to, message_ctx)
}

/// A public reply staff wrote on `ticket`: to its requester, when they get email.
pub fn public_reply(
    app: &App,
    db: &Db,
    ticket: &Ticket,
    reply: &str,
) -> Result<(Notices, ReplyDelivery)> {
    if ticket.contact_id.is_some() {
        let sent = to_contact(app, db, ticket, "portal_reply", view! { reply }, |c| {
            c.notify_replies
        })?;
        return Ok(match sent {
            Some((notices, to)) => (notices, ReplyDelivery::Emailed(to)),
            None => (Notices::default(), ReplyDelivery::PortalOnly),
        });
    }
    match to_requester(app, db, ticket, "share_reply", view! { reply })? {
        Some((notices, to)) => Ok((notices, ReplyDelivery::Emailed(to))),
        None if ticket.has_receipt => Ok((Notices::default(), ReplyDelivery::ReceiptOnly)),
        None => Ok((Notices::default(), ReplyDelivery::NoRequester)),
    }
}

/// A change of status and/or expected-by date staff are about to make on `ticket` (`None`: that
/// field does not change): to its requester, when they get email.
pub fn ticket_changed(
    app: &App,
    db: &Db,
    ticket: &Ticket,
    status: Option<Status>,
    expected_by: Option<Option<String>>,
) -> Result<Notices> {
    let status = status.filter(|s| *s != ticket.status);
    let expected_by = expected_by.filter(|e| *e != ticket.expected_by);
    if status.is_none() && expected_by.is_none() {
        return Ok(Notices::default());
    }
    let extra = view! {
        status => status.map(|s| s.label()),
        expected_by_changed => expected_by.is_some(),
        expected_by => expected_by.flatten(),
    };
    if ticket.contact_id.is_some() {
        return Ok(
            to_contact(app, db, ticket, "portal_update", extra, |c| c.notify_status)?
                .map(|(notices, _)| notices)
                .unwrap_or_default(),
        );
    }
    Ok(to_requester(app, db, ticket, "share_update", extra)?
        .map(|(notices, _)| notices)
        .unwrap_or_default())
}

/// A new ticket from `project`'s link: to its default assignee, else to staff who asked.
pub fn new_ticket_for_staff(
    app: &App,
    db: &Db,
    project: &Project,
    reference: &str,
    title: &str,
    description: &str,
) -> Result<Notices> {
    let assignee = match project.default_assignee_id {
        Some(id) => store::staff::get(db, id)?.filter(|s| s.active),
        None => None,
    };
    let recipients = match assignee {
        Some(staff) => vec![staff],
        None => store::staff::list_notified_of_new_tickets(db)?,
    };
    let ticket_url = format!("{}/tickets/{reference}", app.config.base_url());
    staff_notices(app, &recipients, "staff_new_ticket", |staff| {
        view! {
            project_name => project.name,
            reference,
            title,
            description,
            ticket_url,
            assigned_to_you => project.default_assignee_id == Some(staff.id),
        }
    })
}

/// A client's reply on `ticket` (through their receipt page): to its assignee when they asked
/// for such emails; an unassigned ticket's to the staff who asked for new-ticket emails.
pub fn client_reply_for_staff(app: &App, db: &Db, ticket: &Ticket, reply: &str) -> Result<Notices> {
    let recipients = match ticket.assignee_id {
        Some(id) => store::staff::get(db, id)?
            .filter(|s| s.active && s.notify_assigned_replies)
            .into_iter()
            .collect(),
        None => store::staff::list_notified_of_new_tickets(db)?,
    };
    let ticket_url = format!("{}/tickets/{}", app.config.base_url(), ticket.reference);
    staff_notices(app, &recipients, "staff_client_reply", |_| {
        view! {
            project_name => ticket.project_name,
            reference => ticket.reference,
            title => ticket.subject,
            requester => ticket.requester_name.clone().unwrap_or_else(|| "The client".into()),
            reply,
            ticket_url,
        }
    })
}

fn staff_notices(
    app: &App,
    recipients: &[Staff],
    kind: &str,
    ctx: impl Fn(&Staff) -> Value,
) -> Result<Notices> {
    let mut notices = Notices::default();
    for staff in recipients {
        notices.push(
            mail::render(&app.templates, kind, &staff.email, ctx(staff))?,
            None,
        );
    }
    Ok(notices)
}

/// The branding a requester sees: the workspace's, with the link's own colour and logo.
fn branding(db: &Db, project: &Project) -> Result<store::settings::Branding> {
    Ok(store::settings::branding(db)?.for_link(&project.share))
}

/// Several notices as one.
pub fn all(parts: impl IntoIterator<Item = Notices>) -> Notices {
    let mut notices = Notices::default();
    for part in parts {
        notices.extend(part);
    }
    notices
}
