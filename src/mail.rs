//! Email: a message is rendered from templates (before any write), queued in the outbox inside
//! the caller's transaction, and delivered by the outbox thread — over SMTP (lettre with rustls)
//! when `[mail] smtp_host` is set, else as an `.eml` file in `data_dir/mail/`. A request never
//! waits on a mail server, and nothing is sent under the writer lock.
//!
//! Delivery is at least once: a message is marked sent only after the server accepted it, so a
//! crash in between sends it again — with the same `Message-ID`, fixed when it was queued, so
//! the recipient's mail program sees one message. Failures are retried with exponential
//! back-off and jitter (about 1 minute, doubling, at most 6 hours apart) until
//! `mail.max_attempts`, then the message is marked failed for an admin to retry.
//!
//! Each message kind has two templates under `assets/templates/email/`: `{kind}.txt`, whose first
//! line is `Subject: …`, and `{kind}.html`. Links in them are built from `base_url`, never from
//! the request.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};
use minijinja::Value;

use crate::clock;
use crate::config::{Config, MailTls};
use crate::error::{Error, IoContext, Result};
use crate::render::Templates;
use crate::store::outbox::Next;
use crate::store::{self, Db, Tx};

/// Messages delivered per pass of the outbox thread.
const BATCH: usize = 50;

/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 6 * 3600;

/// A rendered message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// For notifications: where a one-click unsubscribe (RFC 8058) is posted.
    pub unsubscribe_url: Option<String>,
    /// For a requester's notifications: the ticket (unsubscribing cancels what is queued).
    pub ticket_id: Option<i64>,
}

/// Renders message `kind` for `to`.
pub fn render(templates: &Templates, kind: &str, to: &str, ctx: Value) -> Result<Email> {
    let text = templates.render(&format!("email/{kind}.txt"), ctx.clone())?;
    let html = templates.render(&format!("email/{kind}.html"), ctx)?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or_else(|| Error::Other(format!("email/{kind}.txt must start with a Subject: line")))?;
    Ok(Email {
        to: to.to_string(),
        subject: one_line(subject, 200),
        text: body.trim_start().to_string(),
        html,
        unsubscribe_url: None,
        ticket_id: None,
    })
}

/// No header injection: a header value is one line, whatever a user typed into a title.
fn one_line(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// Queues `email` in the caller's write transaction: sent if and only if the write commits.
pub fn queue(tx: &Tx<'_>, mailer: &Mailer, email: &Email) -> Result<()> {
    let message_id = mailer.new_message_id();
    store::outbox::insert(
        tx,
        &store::outbox::NewMessage {
            to_addr: &email.to,
            subject: &email.subject,
            body_text: &email.text,
            body_html: &email.html,
            message_id: &message_id,
            unsubscribe_url: email.unsubscribe_url.as_deref(),
            ticket_id: email.ticket_id,
        },
    )?;
    Ok(())
}

/// How messages leave: to an SMTP server, or into files.
enum Transport {
    Smtp {
        transport: Box<SmtpTransport>,
        /// `host:port (starttls)`, for the log and `mail test`.
        describe: String,
    },
    Files(PathBuf),
}

/// Everything delivery needs, built once from `[mail]`.
pub struct Mailer {
    /// `mail.from` when set; otherwise each batch sends as the agency's name at `fallback`.
    from: Option<Mailbox>,
    fallback: lettre::Address,
    reply_to: Option<Mailbox>,
    /// The domain of `from`, for Message-IDs.
    domain: String,
    max_attempts: i64,
    transport: Transport,
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Mailer> {
        let mail = &config.mail;
        let bad = |key: &str, e: &dyn std::fmt::Display| Error::Config(format!("mail.{key}: {e}"));
        let from: Option<Mailbox> = match mail.from.as_str() {
            "" => None,
            raw => Some(raw.parse().map_err(|e| bad("from", &e))?),
        };
        // A host lettre will not take (config allows more than a mail domain) falls back to
        // localhost rather than stopping the server.
        let fallback: lettre::Address = config
            .default_sender_address()
            .parse()
            .or_else(|_| "noreply@localhost".parse())
            .map_err(|e| bad("from", &e))?;
        let reply_to = match mail.reply_to.as_str() {
            "" => None,
            raw => Some(raw.parse().map_err(|e| bad("reply_to", &e))?),
        };
        let domain = from
            .as_ref()
            .map_or(fallback.domain(), |f| f.email.domain())
            .to_string();
        let transport = if mail.smtp_host.is_empty() {
            Transport::Files(config.data_dir.join("mail"))
        } else {
            let host = mail.smtp_host.as_str();
            let tls_parameters = || -> Result<TlsParameters> {
                let mut builder = TlsParameters::builder(host.to_string());
                if !mail.smtp_ca_file.is_empty() {
                    let pem =
                        std::fs::read(&mail.smtp_ca_file).map_err(|e| bad("smtp_ca_file", &e))?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| bad("smtp_ca_file", &e))?;
                    builder = builder.add_root_certificate(cert);
                }
                builder.build_rustls().map_err(|e| bad("tls", &e))
            };
            let tls = match mail.tls_mode() {
                MailTls::None => Tls::None,
                MailTls::StartTls => Tls::Required(tls_parameters()?),
                MailTls::Tls => Tls::Wrapper(tls_parameters()?),
            };
            let mut builder = SmtpTransport::builder_dangerous(host)
                .port(mail.port())
                .tls(tls)
                .timeout(Some(Duration::from_secs(mail.timeout_secs)));
            if !mail.smtp_username.is_empty() {
                builder = builder
                    .credentials(Credentials::new(
                        mail.smtp_username.clone(),
                        mail.password()?,
                    ))
                    .authentication(vec![Mechanism::Plain, Mechanism::Login]);
            }
            Transport::Smtp {
                transport: Box::new(builder.build()),
                describe: format!("{host}:{} ({})", mail.port(), mail.tls),
            }
        };
        Ok(Mailer {
            from,
            fallback,
            reply_to,
            domain,
            max_attempts: i64::from(mail.max_attempts),
            transport,
        })
    }

    /// Where messages go, for the log: "smtp.example.com:587 (starttls)" or a directory.
    pub fn destination(&self) -> String {
        match &self.transport {
            Transport::Smtp { describe, .. } => format!("SMTP server {describe}"),
            Transport::Files(dir) => format!(
                "files in {} (no [mail] smtp_host is set, so no email leaves this machine)",
                dir.display()
            ),
        }
    }

    /// Whether messages are written to files rather than sent.
    pub fn writes_files(&self) -> bool {
        matches!(self.transport, Transport::Files(_))
    }

    /// The directory of the file transport, if that is the one in use.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match &self.transport {
            Transport::Files(dir) => Some(dir),
            Transport::Smtp { .. } => None,
        }
    }

    fn new_message_id(&self) -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random number generator is available");
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("<{id}@{}>", self.domain)
    }

    /// Who mail is from: `mail.from`, or `sender_name` (the agency's) at the fallback address.
    fn sender(&self, sender_name: &str) -> Mailbox {
        self.from.clone().unwrap_or_else(|| {
            let name = one_line(sender_name, 100);
            Mailbox::new((!name.is_empty()).then_some(name), self.fallback.clone())
        })
    }

    /// Builds the message as it goes on the wire.
    fn build(
        &self,
        m: &store::outbox::Message,
        sender_name: &str,
    ) -> std::result::Result<lettre::Message, String> {
        let to: Mailbox = m
            .to_addr
            .parse()
            .map_err(|e| format!("recipient {}: {e}", m.to_addr))?;
        let date = std::time::UNIX_EPOCH + Duration::from_secs(m.created_at.max(0) as u64);
        let mut builder = lettre::Message::builder()
            .from(self.sender(sender_name))
            .to(to)
            .subject(one_line(&m.subject, 200))
            .message_id(Some(m.message_id.clone()))
            .date(date)
            .raw_header(raw_header("Auto-Submitted", "auto-generated"));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(url) = &m.unsubscribe_url {
            builder = builder
                .raw_header(raw_header(
                    "List-Unsubscribe",
                    &format!("<{}>", one_line(url, 500)),
                ))
                .raw_header(raw_header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click",
                ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                m.body_text.clone(),
                m.body_html.clone(),
            ))
            .map_err(|e| format!("building the message: {e}"))
    }

    /// Sends one message now; `Ok` carries what the server said.
    fn send(
        &self,
        m: &store::outbox::Message,
        sender_name: &str,
    ) -> std::result::Result<String, SendError> {
        let message = self.build(m, sender_name).map_err(SendError::Message)?;
        match &self.transport {
            Transport::Smtp { transport, .. } => transport
                .send(&message)
                .map(|r| format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")))
                .map_err(SendError::Smtp),
            Transport::Files(dir) => {
                let path = dir.join(format!("{}-{}.eml", m.created_at, m.id));
                write_file(&path, &message.formatted())
                    .map(|_| format!("written to {}", path.display()))
                    .map_err(|e| SendError::Io(e.to_string()))
            }
        }
    }

    /// Sends a test message to `to` at once (outside the outbox) and says what happened.
    pub fn send_test(
        &self,
        templates: &Templates,
        to: &str,
        sender_name: &str,
    ) -> std::result::Result<String, String> {
        let ctx = minijinja::context! { destination => self.destination() };
        let email = render(templates, "mail_test", to, ctx).map_err(|e| e.to_string())?;
        let message = store::outbox::Message {
            id: 0,
            to_addr: email.to,
            subject: email.subject,
            body_text: email.text,
            body_html: email.html,
            message_id: self.new_message_id(),
            unsubscribe_url: None,
            created_at: clock::now(),
            attempts: 0,
        };
        self.send(&message, sender_name).map_err(|e| e.explain())
    }
}

fn raw_header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

/// Why a message could not be sent.
enum SendError {
    /// The message itself is wrong (a recipient that isn't an address); retrying won't help.
    Message(String),
    /// Writing the message to the mail directory failed (a full disk): worth retrying.
    Io(String),
    Smtp(lettre::transport::smtp::Error),
}

impl SendError {
    /// A sentence for the log, the Mail page and `mail test`.
    fn explain(&self) -> String {
        match self {
            SendError::Message(why) => why.clone(),
            SendError::Io(why) => format!("could not write the message: {why}"),
            SendError::Smtp(e) => {
                let text = e.to_string().to_ascii_lowercase();
                let kind = if e.is_timeout()
                    || text.contains("timed out")
                    || text.contains("temporarily unavailable")
                {
                    "timed out waiting for the SMTP server"
                } else if e.is_tls()
                    || text.contains("certificate")
                    || text.contains("tls")
                    || text.contains("handshake")
                {
                    "TLS failed (certificate or protocol)"
                } else if is_auth_failure(e) {
                    "authentication failed"
                } else if e.is_permanent() {
                    "refused by the SMTP server"
                } else if e.is_transient() {
                    "temporarily refused by the SMTP server"
                } else {
                    "could not talk to the SMTP server"
                };
                let mut detail = e.to_string();
                if let Some(source) = std::error::Error::source(e).map(|s| s.to_string())
                    && !detail.contains(&source)
                {
                    detail = format!("{detail}: {source}");
                }
                format!("{kind}: {detail}")
            }
        }
    }
}

/// A refusal of Porchlight's credentials (not of the message): fixed in the settings, so mail
/// keeps being retried rather than given up.
fn is_auth_failure(e: &lettre::transport::smtp::Error) -> bool {
    let code = e.status().map(|c| c.to_string());
    matches!(code.as_deref(), Some("535" | "534" | "530" | "538"))
}

/// Whether another attempt could succeed: not when the message is wrong or the server refused
/// it for good (5xx: no such mailbox, policy), except when it refused our credentials.
fn worth_retrying(e: &SendError) -> bool {
    match e {
        SendError::Message(_) => false,
        SendError::Io(_) => true,
        SendError::Smtp(e) => !e.is_permanent() || is_auth_failure(e),
    }
}

/// How long to wait before attempt `attempts + 1`: about a minute, doubling, at most six hours,
/// each spread by ±20% so that messages failed together don't all come back at once.
fn backoff(attempts: i64) -> i64 {
    let base = (60i64 << attempts.clamp(0, 12)).min(MAX_BACKOFF_SECS);
    let mut jitter = [0u8; 2];
    let _ = getrandom::fill(&mut jitter);
    let spread = i64::from(u16::from_le_bytes(jitter)) * base * 2 / 5 / i64::from(u16::MAX);
    base - base / 5 + spread
}

/// Delivers the messages that are due; returns how many were delivered. Failures are recorded
/// and retried later; after `max_attempts`, or a permanent refusal, a message is marked failed.
pub fn deliver_due(mailer: &Mailer, db: &Db) -> Result<usize> {
    deliver_due_until(mailer, db, || false)
}

/// [`deliver_due`], stopping between messages once `stop()` says so (shutting down).
pub fn deliver_due_until(mailer: &Mailer, db: &Db, stop: impl Fn() -> bool) -> Result<usize> {
    let due = store::outbox::due(db, clock::now(), BATCH)?;
    if due.is_empty() {
        return Ok(0);
    }
    // What this read saw may include a commit whose fsync is still under way: a message is
    // sent only once the write that queued it is on disk.
    db.sync_committed()?;
    let sender_name = store::settings::branding(db)?.agency_name;
    let mut delivered = 0;
    for message in due {
        if stop() {
            break;
        }
        // Sent outside any write: the writer lock is never held while a mail server answers.
        match mailer.send(&message, &sender_name) {
            Ok(answer) => {
                db.write(|tx| store::outbox::mark_sent(tx, message.id))?;
                log::info!("mail {} delivered: {answer}", message.id);
                delivered += 1;
            }
            Err(e) => {
                let why = e.explain();
                let attempt = message.attempts + 1;
                let next = if !worth_retrying(&e) {
                    Next::Refused
                } else if attempt < mailer.max_attempts {
                    Next::RetryAt(clock::now() + backoff(message.attempts))
                } else {
                    Next::GiveUp
                };
                match next {
                    Next::RetryAt(_) => log::warn!(
                        "mail {} not delivered (attempt {attempt}): {why}",
                        message.id
                    ),
                    _ => log::error!(
                        "mail {} given up after {attempt} attempt(s): {why}",
                        message.id
                    ),
                }
                db.write(|tx| store::outbox::mark_failed(tx, message.id, &why, next))?;
            }
        }
    }
    Ok(delivered)
}

/// Writes via a temporary name and a rename, so a reader never sees half a message.
fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("eml.tmp");
    std::fs::write(&tmp, bytes).io_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).io_context(|| format!("renaming {}", tmp.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempts in 0..20 {
            let base = (60i64 << attempts.min(12)).min(MAX_BACKOFF_SECS);
            let wait = backoff(attempts);
            assert!(
                wait >= base * 4 / 5 && wait <= base * 6 / 5,
                "{attempts}: {wait}"
            );
        }
        assert!(backoff(0) <= 72);
        assert!(backoff(30) <= MAX_BACKOFF_SECS * 6 / 5);
    }

    #[test]
    fn header_values_are_one_line() {
        assert_eq!(
            one_line("Title\r\nBcc: evil@example.com", 200),
            "Title  Bcc: evil@example.com"
        );
    }
}
