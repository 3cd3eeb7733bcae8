//! `porchlight demo`: a workspace to look around in — staff of both roles, a few projects, and
//! tickets with public replies *and* internal notes — plus the guide printed at start.
//!
//! Seeding is skipped when the data directory already has staff, so a demo can be restarted.

use std::path::PathBuf;

use crate::accounts::{self, NewStaffInput};
use crate::app::App;
use crate::auth::passwords;
use crate::domain::{Priority, Role, Source, StaffId, Status, Visibility};
use crate::error::{Error, IoContext, Result};
use crate::store::projects::NewProject;
use crate::store::tickets::NewTicket;
use crate::store::timeline::Actor;
use crate::store::{self, Db};

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

const PROJECTS: &[(&str, &str, &str)] = &[
    (
        "ACME",
        "Acme website redesign",
        "The new marketing site for Acme Corp: design, build and launch.",
    ),
    (
        "GLOBEX",
        "Globex mobile app",
        "iOS and Android app for Globex field staff.",
    ),
    (
        "INIT",
        "Initech intranet",
        "Maintenance and support of the Initech intranet.",
    ),
];

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

const CLIENTS: &[(&str, &str)] = &[
    ("Wile E. Coyote", "wile@acme.example"),
    ("Hank Scorpio", "hank@globex.example"),
    ("Bill Lumbergh", "bill@initech.example"),
    ("Jordan Client", "jordan@client.example"),
];

/// What the demo prints: logins and where to start.
pub struct Guide {
    pub data_dir: PathBuf,
    pub seeded: bool,
    pub tickets: usize,
}

impl Guide {
    pub fn render(&self, base: &str) -> String {
        let mut out = String::new();
        out.push_str("\n=== Porchlight demo ===\n");
        if self.seeded {
            out.push_str(&format!(
                "Created a demo workspace with {} tickets.\n",
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
    if store::staff::count(db)? > 0 {
        return Ok(Guide {
            data_dir,
            seeded: false,
            tickets,
        });
    }
    seed(app, db, tickets)?;
    Ok(Guide {
        data_dir,
        seeded: true,
        tickets,
    })
}

fn seed(app: &App, db: &Db, tickets: usize) -> Result<()> {
    // Hash outside the write transaction: bcrypt is slow on purpose.
    let hashes: Vec<String> = STAFF
        .iter()
        .map(|(_, _, _, pw)| passwords::hash(pw, app.config.bcrypt_cost))
        .collect::<Result<_>>()?;
    let now = crate::clock::now();
    db.write(|tx| {
        let mut staff = Vec::new();
        for ((role, name, email, password), hash) in STAFF.iter().zip(&hashes) {
            let input = NewStaffInput {
                name,
                email,
                password,
                role: *role,
            };
            let id = accounts::insert_staff(tx, &input, hash)?
                .map_err(|e| Error::Other(format!("demo staff: {e}")))?;
            staff.push((id, *name));
        }
        let mut projects = Vec::new();
        for (key, name, description) in PROJECTS {
            projects.push((
                store::projects::insert(
                    tx,
                    &NewProject {
                        key,
                        name,
                        description,
                    },
                )?,
                *key,
            ));
        }
        for i in 0..tickets {
            seed_ticket(tx, i, now, &projects, &staff)?;
        }
        Ok(())
    })
}

/// One ticket, deterministic from `i`: a spread of projects, statuses, priorities, assignees,
/// ages and conversations (every third has a public reply and an internal note).
fn seed_ticket(
    tx: &store::Tx<'_>,
    i: usize,
    now: i64,
    projects: &[(crate::domain::ProjectId, &str)],
    staff: &[(StaffId, &str)],
) -> Result<()> {
    let (project_id, _) = projects[i % projects.len()];
    let subject = format!("{} (#{})", SUBJECTS[i % SUBJECTS.len()], i + 1);
    let client = CLIENTS[i % CLIENTS.len()];
    let from_client = i.is_multiple_of(2);
    let assignee = (i % 4 != 3).then(|| staff[i % staff.len()].0);
    let body = format!(
        "Reported by {}.\n\n**Steps:** open the page, try it, see it fail.\n\n- Browser: Firefox\n- Seen: today",
        client.0
    );
    let new = NewTicket {
        project_id,
        subject: &subject,
        body: &body,
        priority: Priority::ALL[(i * 7) % Priority::ALL.len()],
        assignee_id: assignee,
        source: if from_client {
            Source::Share
        } else {
            Source::Staff
        },
        requester_name: from_client.then_some(client.0),
        requester_email: from_client.then_some(client.1),
        created_by: (!from_client).then(|| staff[0].0),
    };
    let (id, _) = store::tickets::insert(tx, &new)?;
    if i.is_multiple_of(3) {
        let (agent_id, agent_name) = staff[(i + 1) % staff.len()];
        let agent = Actor {
            staff_id: Some(agent_id),
            name: agent_name,
        };
        store::timeline::insert_comment(
            tx,
            id,
            &agent,
            "Thanks for the report — we can reproduce it and are on it.",
            Visibility::Public,
        )?;
        store::timeline::insert_comment(
            tx,
            id,
            &agent,
            "Caused by the caching change last sprint. Don't promise a date before QA signs off.",
            Visibility::Internal,
        )?;
    }
    let status = Status::ALL[(i * 5 + i / 3) % Status::ALL.len()];
    // Spread the tickets over the last 60 days, newest last.
    let age = DEMO_SPAN_SECS * (i % 997) as i64 / 997;
    store::tickets::backdate(tx, id, now - age - 3600, now - age, status)?;
    Ok(())
}
