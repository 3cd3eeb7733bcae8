//! Email: a message is rendered from templates and queued in the outbox inside the caller's
//! transaction; the outbox thread delivers it, retrying with back-off.
//!
//! Delivery today writes each message as an `.eml` file to `data_dir/mail/` (the file transport);
//! SMTP arrives with the `[mail]` settings of a later issue. Either way the caller's request never
//! waits on a mail server.
//!
//! Each message kind has two templates under `assets/templates/email/`: `{kind}.txt`, whose first
//! line is `Subject: …`, and `{kind}.html`.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use minijinja::Value;

use crate::clock;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::render::Templates;
use crate::store::{self, Db, Tx};

/// Messages delivered per pass of the outbox thread.
const BATCH: usize = 50;

/// A rendered message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders message `kind` for `to`.
pub fn render(templates: &Templates, kind: &str, to: &str, ctx: Value) -> Result<Email> {
    let text = templates.render(&format!("email/{kind}.txt"), ctx.clone())?;
    let html = templates.render(&format!("email/{kind}.html"), ctx)?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or_else(|| Error::Other(format!("email/{kind}.txt must start with a Subject: line")))?;
    // No header injection: a subject is one line whatever the user typed into a title.
    let subject: String = subject
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Ok(Email {
        to: to.to_string(),
        subject,
        text: body.trim_start().to_string(),
        html,
    })
}

/// Queues `email` in the caller's write transaction: sent if and only if the write commits.
pub fn queue(tx: &Tx<'_>, email: &Email) -> Result<()> {
    store::outbox::insert(tx, &email.to, &email.subject, &email.text, &email.html)?;
    Ok(())
}

/// What delivery needs from the configuration: the sender and where the file transport writes.
#[derive(Debug, Clone)]
pub struct Mailer {
    from: String,
    dir: PathBuf,
}

impl Mailer {
    pub fn new(config: &Config) -> Mailer {
        Mailer {
            from: config.mail.from.clone(),
            dir: config.data_dir.join("mail"),
        }
    }

    /// Where the file transport writes messages.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// Delivers the messages that are due; returns how many were delivered. Failures are recorded
/// and retried later (1 min, 2, 4, … up to 1 h apart).
pub fn deliver_due(mailer: &Mailer, db: &Db) -> Result<usize> {
    let due = store::outbox::due(db, clock::now(), BATCH)?;
    let mut delivered = 0;
    for message in due {
        match deliver(mailer, &message) {
            Ok(()) => {
                db.write(|tx| store::outbox::mark_sent(tx, message.id))?;
                delivered += 1;
            }
            Err(why) => {
                let delay = (60i64 << message.attempts.clamp(0, 6)).min(3600);
                log::warn!(
                    "mail {} not delivered (attempt {}): {why}",
                    message.id,
                    message.attempts + 1
                );
                db.write(|tx| {
                    store::outbox::mark_failed(tx, message.id, &why, clock::now() + delay)
                })?;
            }
        }
    }
    Ok(delivered)
}

fn deliver(mailer: &Mailer, message: &store::outbox::Message) -> std::result::Result<(), String> {
    let from: Mailbox = mailer.from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to: Mailbox = message
        .to_addr
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    let email = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(&message.subject)
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))
        .map_err(|e| format!("building the message: {e}"))?;
    let path = mailer
        .dir
        .join(format!("{}-{}.eml", clock::now(), message.id));
    write_file(&path, &email.formatted()).map_err(|e| e.to_string())
}

/// Writes via a temporary name and a rename, so a reader never sees half a message.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("eml.tmp");
    std::fs::write(&tmp, bytes).io_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).io_context(|| format!("renaming {}", tmp.display()))
}
