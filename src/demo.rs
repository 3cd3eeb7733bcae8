//! `porchlight demo`: a workspace to look around in — staff of both roles, a few projects,
//! tickets with public replies *and* internal notes, shareable links with a board and a receipt —
//! plus the guide printed at start.
//!
//! `--tickets N` puts N tickets in the busy ACME project (the benchmark uses 10,000) and a
//! handful in the others. Seeding is skipped when the data directory already has staff, so a
//! demo can be restarted.

use std::path::PathBuf;

use crate::accounts::{self, NewStaffInput};
use crate::app::App;
use crate::auth::{Secret, passwords};
use crate::domain::{
    ContactRole, ContactStatus, Priority, ProjectId, Role, Source, StaffId, Status, Visibility,
};
use crate::error::{Error, IoContext, Result};
use crate::store::projects::{NewProject, ShareSettingsUpdate};
use crate::store::settings::Branding;
use crate::store::tickets::NewTicket;
use crate::store::timeline::Actor;
use crate::store::{self, Db, Tx};

/// The demo's staff: (role, name, email, password). Printed in the guide — demo only.
const STAFF: &[(Role, &str, &str, &str)] = &[
    (
        Role::Admin,
        "Ada Admin",
        "admin@demo.example",
        "demo-admin-pass",
    ),
    (
        Role::Agent,
        "Sam Agent",
        "agent@demo.example",
        "demo-agent-pass",
    ),
    (
        Role::Agent,
        "Riley Support",
        "riley@demo.example",
        "demo-riley-pass",
    ),
];

/// (key, name, description, share link: None = off, Some(shown at once?)). Each project is one
/// client's: its requesters come from that client's `CLIENTS` entry of the same index.
const PROJECTS: &[(&str, &str, &str, Option<bool>)] = &[
    (
        "ACME",
        "Acme website redesign",
        "The new marketing site for Acme Corp: design, build and launch.",
        Some(true),
    ),
    (
        "GLOBEX",
        "Globex mobile app",
        "iOS and Android app for Globex field staff.",
        Some(false),
    ),
    (
        "INIT",
        "Initech intranet",
        "Maintenance and support of the Initech intranet.",
        None,
    ),
];

/// Tickets in each project but ACME.
const SMALL_PROJECT_TICKETS: usize = 15;

const SUBJECTS: &[&str] = &[
    "Contact form does not send",
    "Logo looks blurry on retina screens",
    "Add a newsletter signup to the footer",
    "Checkout button hidden on small phones",
    "Typo on the About page",
    "Login page is slow in the morning",
    "Export to CSV misses the last row",
    "Dark mode colours are hard to read",
    "Please update the team photos",
    "Search returns no results for accented names",
    "Push notifications arrive twice",
    "Invoice PDF shows the wrong VAT number",
];

/// Demo tickets are spread over this many seconds before now.
const DEMO_SPAN_SECS: i64 = 60 * 86_400;

/// Where in the product a report is about: varies the titles without numbering them.
const PLACES: &[&str] = &[
    "",
    " on the pricing page",
    " in Safari",
    " after the last release",
    " for some customers",
    " on Android",
    " in the admin area",
];

/// The people at each client who report things, by project (same order as `PROJECTS`).
const CLIENTS: &[&[(&str, &str)]] = &[
    &[
        ("Wile E. Coyote", "wile@acme.example"),
        ("Road Runner", "beep@acme.example"),
    ],
    &[
        ("Hank Scorpio", "hank@globex.example"),
        ("Frank Grimes", "frank@globex.example"),
    ],
    &[
        ("Bill Lumbergh", "bill@initech.example"),
        ("Milton Waddams", "milton@initech.example"),
    ],
];

/// The demo portal's contacts: (customer index in `PORTAL_CUSTOMERS`, role, name, email,
/// password, tickets of theirs among ACME's). Printed in the guide — demo only.
const CONTACTS: &[(usize, ContactRole, &str, &str, &str, i64)] = &[
    (
        0,
        ContactRole::Manager,
        "Wile E. Coyote",
        "wile@acme.example",
        "demo-wile-pass",
        200,
    ),
    (
        0,
        ContactRole::Member,
        "Road Runner",
        "beep@acme.example",
        "demo-beep-pass",
        200,
    ),
    (
        1,
        ContactRole::Member,
        "Hank Scorpio",
        "hank@globex.example",
        "demo-hank-pass",
        0,
    ),
];

/// The demo portal's customers: (name, signup domain).
const PORTAL_CUSTOMERS: &[(&str, &str)] =
    &[("Acme Corp", "acme.example"), ("Globex", "globex.example")];

/// The demo portal's address.
pub const PORTAL_SLUG: &str = "clients";

/// What the demo prints: logins and where to start.
pub struct Guide {
    pub data_dir: PathBuf,
    pub seeded: bool,
    pub tickets: usize,
    /// (project name, path of its share link, whether submissions show at once).
    pub share_links: Vec<(String, String, bool)>,
    /// A visitor's receipt page (only known when the demo was just created: stored hashed).
    pub receipt: Option<String>,
    /// Where email goes (`Mailer::destination`).
    pub mail: String,
}

impl Guide {
    pub fn render(&self, base: &str) -> String {
        let mut out = String::from("\n=== Porchlight demo ===\n");
        if self.seeded {
            out.push_str(&format!(
                "Created a demo workspace: {} tickets in ACME, more in the other projects.\n",
                self.tickets
            ));
        } else {
            out.push_str("Using the demo workspace already in this data directory.\n");
        }
        out.push_str(&format!("\nStaff sign-in: {base}/login\n"));
        for (role, name, email, password) in STAFF {
            out.push_str(&format!(
                "  {:<6} {name:<14} {email:<22} password: {password}\n",
                role.key()
            ));
        }
        out.push_str(&format!("\nInbox:    {base}/\nProjects: {base}/projects\n"));
        out.push_str("\nShareable links (no account needed; open them in a private window):\n");
        for (name, path, at_once) in &self.share_links {
            let note = if *at_once {
                "new feedback shows at once"
            } else {
                "new feedback waits for staff approval"
            };
            out.push_str(&format!("  {name}: {base}{path}  ({note})\n"));
        }
        if let Some(receipt) = &self.receipt {
            out.push_str(&format!("  A visitor's receipt page: {base}{receipt}\n"));
        }
        out.push_str(&format!(
            "\nClient portal (customers Acme Corp and Globex; sign in as a client in a private window):\n  {base}/portal/{PORTAL_SLUG}/login\n"
        ));
        for (customer, role, name, email, password, _) in CONTACTS {
            out.push_str(&format!(
                "  {:<7} {name:<15} {email:<20} password: {password}  ({})\n",
                role.key(),
                PORTAL_CUSTOMERS[*customer].0
            ));
        }
        out.push_str(&format!(
            "\nEmail: a visitor who leaves an address gets their receipt link, your public replies\n\
             and status changes; staff choose theirs on their account page. It goes to\n  {}\n\
             To send it for real, start the demo with PORCHLIGHT_MAIL_SMTP_HOST (and the other\n\
             [mail] settings, see the README's \"Email\" section) set.\n",
            self.mail
        ));
        out.push_str(&format!(
            "\nData directory: {} (delete it when you are done)\n",
            self.data_dir.display()
        ));
        out
    }
}

/// A new, empty directory under the system temp dir.
pub fn fresh_data_dir() -> Result<PathBuf> {
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix)
        .map_err(|e| Error::Other(format!("OS random number generator: {e}")))?;
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("porchlight-demo-{name}"));
    std::fs::create_dir_all(&dir).io_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Seeds the demo workspace unless staff exist already.
pub fn ensure(app: &App, db: &Db, tickets: usize) -> Result<Guide> {
    let data_dir = app.config.data_dir.clone();
    let seeded = store::staff::count(db)? == 0;
    let receipt = if seeded {
        seed(app, db, tickets)?
    } else {
        None
    };
    let share_links = store::projects::list(db, false)?
        .into_iter()
        .filter(|p| p.share.enabled)
        .filter_map(|p| {
            Some((
                p.name,
                format!("/s/{}", p.share.token?),
                p.share.auto_publish,
            ))
        })
        .collect();
    Ok(Guide {
        data_dir,
        seeded,
        tickets,
        share_links,
        receipt,
        mail: app.mailer.destination(),
    })
}

/// Seeds everything; returns the path of one visitor's receipt page (ACME's first ticket, when
/// it has any).
fn seed(app: &App, db: &Db, tickets: usize) -> Result<Option<String>> {
    // Hash outside the write transaction: bcrypt is slow on purpose.
    let hashes: Vec<String> = STAFF
        .iter()
        .map(|(_, _, _, pw)| passwords::hash(pw, app.config.bcrypt_cost))
        .collect::<Result<_>>()?;
    let now = crate::clock::now();
    let receipt = Secret::generate_timed();
    let (staff, projects) = db.write(|tx| {
        store::settings::set_branding(
            tx,
            &Branding { agency_name: "Brightside Studio".into(), accent_color: "#0f766e".into(), logo: None },
        )?;
        let mut staff = Vec::new();
        for ((role, name, email, password), hash) in STAFF.iter().zip(&hashes) {
            let input = NewStaffInput { name, email, password, role: *role };
            let id = accounts::insert_staff(tx, &input, hash)?.map_err(|e| Error::Other(format!("demo staff: {e}")))?;
            staff.push((id, *name));
        }
        let mut projects = Vec::new();
        for (key, name, description, share) in PROJECTS {
            let id = store::projects::insert(tx, &NewProject { key, name, description })?;
            if let Some(at_once) = share {
                store::projects::enable_share(tx, id, Secret::generate().expose())?;
                let settings = ShareSettingsUpdate {
                    submissions: true,
                    auto_publish: *at_once,
                    attachments: *at_once,
                    welcome: "Hi! Tell us what's broken or what you'd like changed. **Every message is read by a person.**",
                    response_time: "We reply within one working day (Mon–Fri).",
                };
                store::projects::update_share_settings(tx, id, &settings)?;
            }
            projects.push(id);
        }
        Ok((staff, projects))
    })?;
    // Tickets in chunks: a million of them are one long load, not one huge transaction.
    db.bulk_load(|db| {
        for (index, project) in projects.iter().enumerate() {
            let count = if index == 0 {
                tickets
            } else {
                SMALL_PROJECT_TICKETS
            };
            let mut start = 0;
            while start < count {
                let end = (start + SEED_CHUNK).min(count);
                db.write_alone(|tx| {
                    // In ACME, the first ticket is one a visitor sent through the link, with a
                    // reply: its receipt page is printed. `--tickets N` makes exactly N there.
                    for i in start..end {
                        let receipt_hash = (index == 0 && i == 0).then(|| receipt.key());
                        let seeded = Seeded {
                            i,
                            count,
                            now,
                            project: *project,
                            clients: CLIENTS[index],
                            staff: &staff,
                        };
                        seed_ticket(tx, &seeded, receipt_hash.as_ref().map(|h| &h[..]))?;
                    }
                    Ok(())
                })?;
                start = end;
            }
        }
        Ok(())
    })?;
    seed_portal(app, db, projects[0])?;
    seed_attachments(app, db, projects[0])?;
    let acme = store::projects::get_by_key(db, PROJECTS[0].0)?
        .and_then(|p| p.share.token)
        .unwrap_or_default();
    Ok((tickets > 0).then(|| format!("/s/{acme}/t/{}", receipt.expose())))
}

/// The client portal: two customers, a manager and two members, some of ACME's tickets theirs.
fn seed_portal(app: &App, db: &Db, project: ProjectId) -> Result<()> {
    let hashes: Vec<String> = CONTACTS
        .iter()
        .map(|c| passwords::hash(c.4, app.config.bcrypt_cost))
        .collect::<Result<_>>()?;
    db.write(|tx| {
        let mut customers = Vec::new();
        for (name, domain) in PORTAL_CUSTOMERS {
            let fields = store::customers::CustomerFields {
                name,
                organization_id: None,
                domains: &[domain.to_string()],
            };
            customers.push(store::customers::insert(tx, &fields)?);
        }
        let portal = store::portals::insert(
            tx,
            &store::portals::PortalFields {
                slug: PORTAL_SLUG,
                name: "Brightside client portal",
                enabled: true,
                accent_color: None,
                welcome: "Open a ticket, follow it, and reply — all in one place.",
                response_time: "We reply within one working day (Mon–Fri).",
                allow_invites: true,
                customer_signup: true,
                open_registration: false,
                default_project_id: Some(project),
            },
        )?;
        store::portals::set_customers(tx, portal, &customers)?;
        for (slot, ((customer, role, name, email, _, tickets), hash)) in
            CONTACTS.iter().zip(&hashes).enumerate()
        {
            let new = store::contacts::NewContact {
                email,
                name,
                customer_id: Some(customers[*customer]),
                portal_id: Some(portal),
                role: *role,
                label: if *role == ContactRole::Manager {
                    "primary"
                } else {
                    ""
                },
                status: ContactStatus::Active,
            };
            let id = store::contacts::insert(tx, &new)?;
            store::contacts::set_password(tx, id, hash)?;
            // (Slots from 2: ACME-1 stays the share-link visitor's ticket.)
            store::portal_tickets::claim_for_demo(
                tx,
                project,
                slot as i64 + 2,
                portal,
                (id, name, email),
                Some(customers[*customer]),
                *tickets,
            )?;
        }
        Ok(())
    })
}

/// Files on one portal ticket (the member's first, ACME-{n} with n = 3): a screenshot with the
/// description, a PDF with staff's public reply, a log with an internal note.
fn seed_attachments(app: &App, db: &Db, project: ProjectId) -> Result<()> {
    use store::attachments::{NewAttachment, Uploader};
    let Some(project) = store::projects::get(db, project)? else {
        return Ok(());
    };
    let Some(ticket) = store::tickets::get_by_ref(db, &project.key, 3)? else {
        return Ok(());
    };
    let data_dir = &app.config.data_dir;
    let file = |name: &str, bytes: &[u8]| -> Result<NewAttachment> {
        let (content_type, inline_image) = crate::files::kind_of(bytes);
        Ok(NewAttachment {
            sha256: crate::files::store(data_dir, bytes)?,
            name: name.into(),
            size: bytes.len() as i64,
            content_type: content_type.into(),
            inline_image,
        })
    };
    let screenshot = file("checkout-on-iphone.png", &sample_png(240, 160))?;
    let pdf = file(
        "release-notes.pdf",
        b"%PDF-1.4\n% Porchlight demo file: release notes for the checkout fix.\n%%EOF\n",
    )?;
    let log = file(
        "payment-gateway.log",
        b"12:04:11 POST /pay 502 upstream timeout (Safari 16)\n",
    )?;
    let staff = store::staff::list(db)?;
    let agent = staff.first().map(|s| (s.id, s.name.clone()));
    db.write(|tx| {
        let by_contact = ticket
            .contact_id
            .map(Uploader::Contact)
            .unwrap_or(Uploader::Visitor);
        store::attachments::insert(tx, ticket.id, None, false, by_contact, &screenshot)?;
        if let Some((id, name)) = &agent {
            let actor = Actor {
                staff_id: Some(*id),
                name,
            };
            let reply = store::timeline::insert_comment(
                tx,
                ticket.id,
                &actor,
                "Thanks for the screenshot! The fix is in the attached release notes.",
                Visibility::Public,
            )?;
            store::attachments::insert(
                tx,
                ticket.id,
                Some(reply),
                false,
                Uploader::Staff(*id),
                &pdf,
            )?;
            let note = store::timeline::insert_comment(
                tx,
                ticket.id,
                &actor,
                "Gateway log from the incident — internal.",
                Visibility::Internal,
            )?;
            store::attachments::insert(
                tx,
                ticket.id,
                Some(note),
                true,
                Uploader::Staff(*id),
                &log,
            )?;
        }
        Ok(())
    })
}

/// A small PNG (a soft diagonal gradient), made here so the demo needs no image files.
fn sample_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // no filter
        for x in 0..width {
            let t = (x + y) * 255 / (width + height);
            raw.extend_from_slice(&[15 + (t / 3) as u8, 118 + (t / 4) as u8, 110 + (t / 2) as u8]);
        }
    }
    // zlib with stored (uncompressed) deflate blocks.
    let mut z = vec![0x78, 0x01];
    for (i, block) in raw.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= raw.len();
        z.push(u8::from(last));
        z.extend_from_slice(&(block.len() as u16).to_le_bytes());
        z.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Tickets written per transaction while seeding.
const SEED_CHUNK: usize = 5_000;

/// Which ticket to seed: the `i`-th of `count` in `project`.
struct Seeded<'a> {
    i: usize,
    count: usize,
    now: i64,
    project: ProjectId,
    clients: &'a [(&'a str, &'a str)],
    staff: &'a [(StaffId, &'a str)],
}

/// One ticket, deterministic from `i`: a spread of statuses, priorities, assignees and
/// conversations (every fifth has a public reply and an internal note), numbered in the order
/// they came in over the demo's two months — so the lists' indexes fill in order.
fn seed_ticket(tx: &Tx<'_>, seeded: &Seeded<'_>, receipt_hash: Option<&[u8]>) -> Result<()> {
    let (i, staff) = (seeded.i, seeded.staff);
    let subject = format!(
        "{}{}",
        SUBJECTS[i % SUBJECTS.len()],
        PLACES[(i / SUBJECTS.len()) % PLACES.len()]
    );
    let client = seeded.clients[i % seeded.clients.len()];
    let from_client = receipt_hash.is_some() || i.is_multiple_of(2);
    let body = format!(
        "Reported by {}.\n\n**Steps:** open the page, try it, see it fail. Seen in Firefox today.",
        client.0
    );
    let new = NewTicket {
        project_id: seeded.project,
        subject: &subject,
        body: &body,
        priority: Priority::ALL[(i * 7) % Priority::ALL.len()],
        assignee_id: (i % 4 != 3).then(|| staff[i % staff.len()].0),
        source: if from_client {
            Source::Share
        } else {
            Source::Staff
        },
        requester_name: from_client.then_some(client.0),
        requester_email: from_client.then_some(client.1),
        created_by: (!from_client).then(|| staff[0].0),
        shared: !i.is_multiple_of(11),
        receipt_hash,
        portal: None,
    };
    let status = Status::ALL[(i * 5 + i / 3) % Status::ALL.len()];
    let created =
        seeded.now - DEMO_SPAN_SECS + DEMO_SPAN_SECS * i as i64 / seeded.count.max(1) as i64;
    let updated = (created + (i % 7) as i64 * 3600).min(seeded.now);
    let (id, _) = store::tickets::insert_as_of(tx, &new, status, created, updated)?;
    if i.is_multiple_of(5) {
        let (agent_id, agent_name) = staff[(i + 1) % staff.len()];
        let agent = Actor {
            staff_id: Some(agent_id),
            name: agent_name,
        };
        let reply = "Thanks for the report — we can reproduce it and are on it.";
        let at = (created + updated) / 2;
        store::timeline::insert_comment_at(tx, id, &agent, reply, Visibility::Public, at)?;
        let note =
            "Caused by the caching change last sprint. Don't promise a date before QA signs off.";
        store::timeline::insert_comment_at(tx, id, &agent, note, Visibility::Internal, at + 60)?;
    }
    Ok(())
}
