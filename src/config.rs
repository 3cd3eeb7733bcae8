//! Instance configuration: `porchlight.toml` + `PORCHLIGHT_*` environment overrides → a
//! validated [`Config`].
//!
//! Every key has an embedded default, so Porchlight runs with no file at all. An unknown key, an
//! unknown `PORCHLIGHT_*` variable or a bad value is an error that names the key: a typo in a
//! config file must never be silently ignored. `config.example.toml` documents every key; a unit
//! test keeps it and the defaults here in step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// The commented example configuration, embedded so `porchlight init` can write it out.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

/// The prefix of every environment override: `PORCHLIGHT_LISTEN`, `PORCHLIGHT_SERVER_WORKERS`…
pub const ENV_PREFIX: &str = "PORCHLIGHT_";

/// Environment variables with the prefix that are not config keys (the CLI reads them).
const ENV_NOT_KEYS: &[&str] = &["PORCHLIGHT_CONFIG"];

/// The most files one message may carry, whatever the config says (the multipart parser's own
/// cap on file parts is a little above it).
const MAX_FILES_PER_MESSAGE: u64 = 30;

/// The validated settings of one instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: String,
    /// Public URL visitors use: scheme, host and optional port (Porchlight serves from the root
    /// path). Empty means "http://" + listen.
    pub base_url: String,
    /// Where the SQLite file, attachments (`files/`) and file-transport mail (`mail/`) live.
    pub data_dir: PathBuf,
    /// off, error, warn, info, debug or trace.
    pub log_level: String,
    /// "text" (one readable line per event) or "json" (one object per line, the same fields:
    /// ts, level, target, msg) for log shippers.
    pub log_format: String,
    /// bcrypt work factor for new password hashes (4–31).
    pub bcrypt_cost: u32,
    /// Largest request body accepted, in MiB (uploads included).
    pub upload_limit_mb: u64,
    /// SQLite `synchronous`: "full" (an acknowledged write survives power loss) or "normal".
    pub sqlite_synchronous: String,
    /// SQLite's page cache per connection, in MiB (one connection per worker, plus the writer).
    pub sqlite_cache_mb: u64,
    pub session: SessionConfig,
    pub login: LoginConfig,
    pub server: ServerConfig,
    pub share: ShareConfig,
    pub attachments: AttachmentsConfig,
    pub mail: MailConfig,
    pub metrics: MetricsConfig,
}

/// `/metrics` in the Prometheus text format, for a monitoring system to scrape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics`. Off by default.
    pub enabled: bool,
    /// A listen address of its own for `/metrics` only (e.g. "127.0.0.1:9464", reachable by the
    /// scraper, not the public); empty: `/metrics` on the main listener, behind `token`.
    pub listen: String,
    /// On the main listener, scrapers must send `Authorization: Bearer <token>` (16+
    /// characters); or put it in `token_file`, or `PORCHLIGHT_METRICS_TOKEN`.
    pub token: Secret,
    /// A file whose first line is the token.
    pub token_file: String,
}

impl MetricsConfig {
    /// The bearer token: `token`, else the first line of `token_file` (empty: none).
    pub fn token(&self) -> Result<String> {
        secret_or_file(&self.token, &self.token_file, "metrics.token_file")
    }
}

/// Files attached to tickets and replies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// Largest file, in MiB (refused as it streams, beside its field, the rest of the form kept).
    pub max_file_mb: u64,
    /// Files one message (a new ticket, a reply, a note) may carry.
    pub max_files: u32,
    /// All the files of one ticket together, in MiB.
    pub max_ticket_mb: u64,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        AttachmentsConfig {
            max_file_mb: 10,
            max_files: 5,
            max_ticket_mb: 100,
        }
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// A staff session unused for this long ends.
    pub staff_idle_minutes: u64,
    /// A staff session ends this long after sign-in, however busy.
    pub staff_absolute_hours: u64,
    /// A portal contact's session unused for this long ends.
    pub contact_idle_minutes: u64,
    /// A portal contact's session ends this long after sign-in.
    pub contact_absolute_hours: u64,
}

/// Sign-in throttling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// Failed sign-ins for one email within `lockout_minutes` before it is locked.
    pub max_failures_per_account: u32,
    /// Failed sign-ins from one IP address within `lockout_minutes` before it is locked.
    pub max_failures_per_ip: u32,
    /// The window failures are counted in, and how long a lock lasts.
    pub lockout_minutes: u64,
}

/// The connection layer (see `server`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Threads running request handlers, each with its own SQLite connection; 0 = automatic.
    pub workers: usize,
    /// Open connections at most; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// A connection that sends no complete request head for this long is closed. This bounds
    /// idle keep-alive connections and clients that trickle their headers.
    pub idle_timeout_secs: u64,
    /// The longest a client may take to send a request body.
    pub body_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish.
    pub shutdown_grace_secs: u64,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` is believed: requests
    /// from them are attributed to the client address the proxy appended.
    pub trusted_proxies: Vec<String>,
    /// Request bodies held in memory at once, across all clients, in MiB; beyond it, a request
    /// that sends more gets 503 with Retry-After at once (files of uploads go to disk instead).
    pub body_memory_mb: u64,
}

/// The shareable no-account link.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShareConfig {
    /// Submissions one IP address may make through one link per hour.
    pub submissions_per_hour: u32,
}

/// Outgoing email. Without `smtp_host` every message is written to `data_dir/mail/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The From address of every message Porchlight sends. Empty (the default): the agency's
    /// name (Settings) at `noreply@` the host of `base_url`.
    pub from: String,
    /// Where replies to Porchlight's messages go; empty: to `from`.
    pub reply_to: String,
    /// The SMTP server (relay or provider); empty: write messages to `data_dir/mail/`.
    pub smtp_host: String,
    /// Its port; 0: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub smtp_port: u16,
    /// Sign in to the SMTP server with this name (empty: no authentication).
    pub smtp_username: String,
    /// … and this password (or put it in `smtp_password_file`, or `PORCHLIGHT_MAIL_SMTP_PASSWORD`).
    pub smtp_password: Secret,
    /// A file whose first line is the SMTP password (e.g. a systemd or Docker secret).
    pub smtp_password_file: String,
    /// `starttls` (upgrade a plain connection, required), `tls` (TLS from the start), or `none`
    /// (plain text: only for a relay on the same machine or network).
    pub tls: String,
    /// A PEM file of extra certificate authorities to trust for the SMTP server (a relay with a
    /// private CA); empty: the usual public authorities.
    pub smtp_ca_file: String,
    /// How long to wait for the SMTP server before giving up on one attempt.
    pub timeout_secs: u64,
    /// Attempts per message before it is marked failed (retried with back-off: 1 minute,
    /// doubling, at most 6 hours apart).
    pub max_attempts: u32,
}

/// A secret set in the config, else the first line of the file `file` names (`key` names that
/// setting in the error); empty when neither is set.
fn secret_or_file(secret: &Secret, file: &str, key: &str) -> Result<String> {
    if !secret.0.is_empty() || file.is_empty() {
        return Ok(secret.0.clone());
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::Config(format!("{key}: cannot read {file}: {e}")))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// A configured secret (a password): serialised as itself, but `Debug` prints `***`, so it
/// cannot reach a log through `{:?}` of the config.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    None,
    StartTls,
    Tls,
}

impl MailConfig {
    pub fn tls_mode(&self) -> MailTls {
        match self.tls.as_str() {
            "none" => MailTls::None,
            "tls" => MailTls::Tls,
            _ => MailTls::StartTls,
        }
    }

    /// The port to connect to: `smtp_port`, or the usual one for the TLS mode.
    pub fn port(&self) -> u16 {
        match (self.smtp_port, self.tls_mode()) {
            (0, MailTls::StartTls) => 587,
            (0, MailTls::Tls) => 465,
            (0, MailTls::None) => 25,
            (port, _) => port,
        }
    }

    /// The SMTP password: `smtp_password`, else the first line of `smtp_password_file`.
    pub fn password(&self) -> Result<String> {
        secret_or_file(
            &self.smtp_password,
            &self.smtp_password_file,
            "mail.smtp_password_file",
        )
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            base_url: String::new(),
            data_dir: PathBuf::from("./data"),
            log_level: "info".into(),
            log_format: "text".into(),
            bcrypt_cost: 12,
            upload_limit_mb: 60,
            sqlite_synchronous: "full".into(),
            sqlite_cache_mb: 2,
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            server: ServerConfig::default(),
            share: ShareConfig::default(),
            attachments: AttachmentsConfig::default(),
            mail: MailConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            staff_idle_minutes: 8 * 60,
            staff_absolute_hours: 7 * 24,
            contact_idle_minutes: 7 * 24 * 60,
            contact_absolute_hours: 30 * 24,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            lockout_minutes: 15,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: 0,
            max_connections: 10_000,
            idle_timeout_secs: 30,
            body_timeout_secs: 30,
            shutdown_grace_secs: 10,
            trusted_proxies: Vec::new(),
            body_memory_mb: 64,
        }
    }
}

impl Default for ShareConfig {
    fn default() -> Self {
        ShareConfig {
            submissions_per_hour: 10,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: String::new(),
            reply_to: String::new(),
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_password_file: String::new(),
            tls: "starttls".into(),
            smtp_ca_file: String::new(),
            timeout_secs: 15,
            max_attempts: 12,
        }
    }
}

impl Config {
    /// Loads `path` (or the embedded defaults when `None`), applies `PORCHLIGHT_*` variables
    /// from `env`, and validates the result.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .io_context(|| format!("reading config file {}", path.display()))?;
                Config::parse(&text, Some(path), env)
            }
            None => Config::parse("", None, env),
        }
    }

    /// Parses `text` (read from `path`, which error messages name), applies `PORCHLIGHT_*`
    /// variables from `env`, and validates the result.
    pub fn parse(
        text: &str,
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let config = toml::from_str::<Config>(text).map_err(|e| {
            let origin = path.map_or("configuration".into(), |p| p.display().to_string());
            Error::Config(format!("{origin}: {}", e.to_string().trim_end()))
        })?;
        let (config, from_env) = config.with_env(env)?;
        config.validate().map_err(|(key, why)| {
            // Say where the bad value came from: the variable that set it, or the file.
            let source = from_env
                .iter()
                .find(|(_, k)| *k == key)
                .map(|(var, _)| format!("{var} ({key})"))
                .or_else(|| path.map(|p| format!("{}: {key}", p.display())))
                .unwrap_or_else(|| key.to_string());
            Error::Config(format!("{source}: {why}"))
        })?;
        Ok(config)
    }

    /// Applies environment overrides. The variable name is the key path upper-cased with `_`
    /// for both separators: `server.idle_timeout_secs` ← `PORCHLIGHT_SERVER_IDLE_TIMEOUT_SECS`.
    /// Also returns which variable set which key (`PORCHLIGHT_LISTEN`, `listen`).
    fn with_env(
        self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<(String, String)>)> {
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && !ENV_NOT_KEYS.contains(&k.as_str()))
            .collect();
        if overrides.is_empty() {
            return Ok((self, Vec::new()));
        }
        overrides.sort();
        let mut table = toml::Table::try_from(&self)
            .map_err(|e| Error::Other(format!("serialising the configuration: {e}")))?;
        let mut from_env = Vec::new();
        for (var, raw) in overrides {
            let path = key_path_for_env(&table, &var[ENV_PREFIX.len()..])
                .ok_or_else(|| Error::Config(format!("{var}: not a configuration key")))?;
            set_from_env(&mut table, &path, &var, &raw)?;
            from_env.push((var, path.join(".")));
        }
        let config =
            Config::deserialize(table).map_err(|e| Error::Config(format!("environment: {e}")))?;
        Ok((config, from_env))
    }

    /// `Err((key, why))` for the first bad value.
    fn validate(&self) -> std::result::Result<(), (&'static str, String)> {
        let bad = |key: &'static str, why: &str| Err((key, why.to_string()));
        if let Err(why) = resolve_listen(&self.listen) {
            return bad("listen", &why);
        }
        if !self.base_url.is_empty() {
            let rest = self
                .base_url
                .strip_prefix("https://")
                .or_else(|| self.base_url.strip_prefix("http://"));
            match rest {
                Some(host)
                    if !host.is_empty()
                        && !host.trim_end_matches('/').contains(['/', '?', '#', ' ']) => {}
                _ => {
                    return bad(
                        "base_url",
                        "must be http:// or https:// followed by a host and optional port, no path",
                    );
                }
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            return bad("data_dir", "must not be empty");
        }
        if !matches!(
            self.log_level.as_str(),
            "off" | "error" | "warn" | "info" | "debug" | "trace"
        ) {
            return bad(
                "log_level",
                "must be one of off, error, warn, info, debug, trace",
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad("log_format", "must be text or json");
        }
        let metrics = &self.metrics;
        if metrics.enabled {
            if !metrics.listen.is_empty() {
                if let Err(why) = resolve_listen(&metrics.listen) {
                    return bad("metrics.listen", &why);
                }
                if !metrics.token.0.is_empty() || !metrics.token_file.is_empty() {
                    return bad(
                        "metrics.token",
                        "a token is asked only on the main listener; with metrics.listen set, /metrics has an address of its own and no token (keep that address private), so set one or the other",
                    );
                }
            } else {
                let token = match metrics.token() {
                    Ok(token) => token,
                    Err(e) => return bad("metrics.token_file", &e.to_string()),
                };
                if token.chars().count() < 16 {
                    return bad(
                        "metrics.token",
                        "set a token of 16 or more characters (or metrics.token_file), or a metrics.listen address of its own",
                    );
                }
            }
        }
        if !(4..=31).contains(&self.bcrypt_cost) {
            return bad("bcrypt_cost", "must be between 4 and 31");
        }
        if !(1..=4096).contains(&self.upload_limit_mb) {
            return bad("upload_limit_mb", "must be between 1 and 4096");
        }
        // A message with as many files of the largest size as allowed must fit in one body, or
        // it would be refused whole (the form lost) instead of file by file, beside the field.
        let message_mb = u64::from(self.attachments.max_files) * self.attachments.max_file_mb;
        if self.upload_limit_mb < message_mb {
            return bad(
                "upload_limit_mb",
                &format!(
                    "must be at least attachments.max_files x attachments.max_file_mb ({message_mb}), so the largest message allowed fits in one request"
                ),
            );
        }
        if !(1..=1024).contains(&self.sqlite_cache_mb) {
            return bad("sqlite_cache_mb", "must be between 1 and 1024");
        }
        if !matches!(self.sqlite_synchronous.as_str(), "full" | "normal") {
            return bad("sqlite_synchronous", "must be \"full\" or \"normal\"");
        }
        // (key, value, largest sensible value): zero is never allowed; the caps keep arithmetic
        // on these values (seconds, counts) far from overflow.
        let ranges = [
            (
                "session.staff_idle_minutes",
                self.session.staff_idle_minutes,
                525_600,
            ),
            (
                "session.staff_absolute_hours",
                self.session.staff_absolute_hours,
                8_760,
            ),
            (
                "attachments.max_file_mb",
                self.attachments.max_file_mb,
                4_096,
            ),
            (
                "attachments.max_files",
                self.attachments.max_files.into(),
                MAX_FILES_PER_MESSAGE,
            ),
            (
                "attachments.max_ticket_mb",
                self.attachments.max_ticket_mb,
                1_048_576,
            ),
            (
                "session.contact_idle_minutes",
                self.session.contact_idle_minutes,
                525_600,
            ),
            (
                "session.contact_absolute_hours",
                self.session.contact_absolute_hours,
                8_760,
            ),
            (
                "login.max_failures_per_account",
                self.login.max_failures_per_account.into(),
                10_000,
            ),
            (
                "login.max_failures_per_ip",
                self.login.max_failures_per_ip.into(),
                1_000_000,
            ),
            ("login.lockout_minutes", self.login.lockout_minutes, 10_080),
            (
                "server.max_connections",
                self.server.max_connections as u64,
                1_000_000,
            ),
            (
                "server.idle_timeout_secs",
                self.server.idle_timeout_secs,
                86_400,
            ),
            (
                "server.body_timeout_secs",
                self.server.body_timeout_secs,
                86_400,
            ),
            (
                "share.submissions_per_hour",
                self.share.submissions_per_hour.into(),
                u32::MAX.into(),
            ),
        ];
        for (key, value, max) in ranges {
            if value == 0 || value > max {
                return bad(key, &format!("must be between 1 and {max}"));
            }
        }
        if self.server.shutdown_grace_secs > 3_600 {
            return bad("server.shutdown_grace_secs", "must be between 0 and 3600");
        }
        for proxy in &self.server.trusted_proxies {
            if crate::net::Cidr::parse(proxy).is_none() {
                return bad(
                    "server.trusted_proxies",
                    &format!(
                        "{proxy:?} is not an address or network like 127.0.0.1 or 172.16.0.0/12"
                    ),
                );
            }
        }
        if !(1..=4096).contains(&self.server.body_memory_mb) {
            return bad("server.body_memory_mb", "must be between 1 and 4096");
        }
        if self.server.workers > 1024 {
            return bad("server.workers", "must be between 0 (automatic) and 1024");
        }
        let mail = &self.mail;
        if !mail.from.is_empty() && mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "mail.from",
                "must be an email address, e.g. \"Acme Support <support@acme.example>\", or empty for the agency's name at noreply@ the base_url's host",
            );
        }
        if !mail.reply_to.is_empty() && mail.reply_to.parse::<lettre::message::Mailbox>().is_err() {
            return bad(
                "mail.reply_to",
                "must be an email address, or empty for replies to go to mail.from",
            );
        }
        if !matches!(mail.tls.as_str(), "none" | "starttls" | "tls") {
            return bad(
                "mail.tls",
                "must be \"starttls\" (the default), \"tls\" or \"none\"",
            );
        }
        if mail.smtp_host.contains(['/', ' ', ':']) {
            return bad(
                "mail.smtp_host",
                "must be a host name or address, without scheme or port (set mail.smtp_port)",
            );
        }
        if !mail.smtp_password.0.is_empty() && !mail.smtp_password_file.is_empty() {
            return bad(
                "mail.smtp_password_file",
                "set either mail.smtp_password or mail.smtp_password_file, not both",
            );
        }
        if !mail.smtp_password_file.is_empty()
            && std::fs::metadata(&mail.smtp_password_file).is_err()
        {
            return bad(
                "mail.smtp_password_file",
                &format!("cannot read {}", mail.smtp_password_file),
            );
        }
        if !mail.smtp_ca_file.is_empty() && std::fs::metadata(&mail.smtp_ca_file).is_err() {
            return bad(
                "mail.smtp_ca_file",
                &format!("cannot read {}", mail.smtp_ca_file),
            );
        }
        if !(1..=300).contains(&mail.timeout_secs) {
            return bad("mail.timeout_secs", "must be between 1 and 300");
        }
        if !(1..=100).contains(&mail.max_attempts) {
            return bad("mail.max_attempts", "must be between 1 and 100");
        }
        Ok(())
    }

    /// The public base URL without a trailing slash (derived from `listen` when unset).
    pub fn base_url(&self) -> String {
        if self.base_url.is_empty() {
            let listen = self
                .listen
                .replace("0.0.0.0", "127.0.0.1")
                .replace("[::]", "[::1]");
            format!("http://{listen}")
        } else {
            self.base_url.trim_end_matches('/').to_string()
        }
    }

    /// The address mail comes from when `mail.from` is empty: `noreply@` the host of the public
    /// URL (`localhost` when that host is an IP address, which an address cannot carry plainly).
    pub fn default_sender_address(&self) -> String {
        let base = self.base_url();
        let host = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        let host = if host.starts_with('[') {
            ""
        } else {
            host.rsplit_once(':').map_or(host, |(h, _)| h)
        };
        // A fully qualified name's trailing dot is not part of a mail domain.
        let host = host.strip_suffix('.').unwrap_or(host);
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let usable = !host.is_empty()
            && host.parse::<std::net::IpAddr>().is_err()
            && host.split('.').all(label_ok);
        format!(
            "noreply@{}",
            if usable {
                host.to_ascii_lowercase()
            } else {
                "localhost".into()
            }
        )
    }

    /// Whether cookies must carry `Secure`.
    pub fn is_https(&self) -> bool {
        self.base_url().starts_with("https://")
    }

    /// The address to listen on: `listen` itself, or what its host name resolves to first.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        resolve_listen(&self.listen).map_err(|why| Error::Config(format!("listen: {why}")))
    }

    /// The address `/metrics` has to itself (`metrics.listen`), when metrics are on and it is set.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>> {
        if !self.metrics.enabled || self.metrics.listen.is_empty() {
            return Ok(None);
        }
        resolve_listen(&self.metrics.listen)
            .map(Some)
            .map_err(|why| Error::Config(format!("metrics.listen: {why}")))
    }

    /// Path of the SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("porchlight.sqlite3")
    }

    /// The largest single file, in bytes (never more than a whole body).
    pub fn file_limit_bytes(&self) -> usize {
        ((self.attachments.max_file_mb * 1024 * 1024) as usize).min(self.upload_limit_bytes())
    }

    pub fn upload_limit_bytes(&self) -> usize {
        (self.upload_limit_mb * 1024 * 1024) as usize
    }

    pub fn staff_idle(&self) -> Duration {
        Duration::from_secs(self.session.staff_idle_minutes * 60)
    }

    pub fn contact_idle(&self) -> Duration {
        Duration::from_secs(self.session.contact_idle_minutes * 60)
    }

    pub fn contact_absolute(&self) -> Duration {
        Duration::from_secs(self.session.contact_absolute_hours * 3600)
    }

    pub fn staff_absolute(&self) -> Duration {
        Duration::from_secs(self.session.staff_absolute_hours * 3600)
    }

    /// Worker threads for request handlers: the configured number, or 4 per core (handlers
    /// spend part of their time waiting on SQLite's fsync), at least 4.
    pub fn workers(&self) -> usize {
        if self.server.workers > 0 {
            return self.server.workers;
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        (cores * 4).clamp(4, 64)
    }

    /// The effective settings as TOML, for `check-config`. Secrets are masked: any key whose
    /// name says password, secret or token prints as "***" when set.
    pub fn to_masked_toml(&self) -> String {
        let mut table = toml::Table::try_from(self).expect("config serialises");
        table.insert("base_url".into(), toml::Value::String(self.base_url()));
        mask_secrets(&mut table);
        toml::to_string(&table).expect("table serialises")
    }
}

/// `127.0.0.1:8080`, `[::1]:8080` or `localhost:8080` → a socket address.
fn resolve_listen(listen: &str) -> std::result::Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    const SHAPE: &str =
        "must be a host and port such as 127.0.0.1:8080, [::]:8080 or localhost:8080";
    if let Ok(addr) = listen.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = listen.rsplit_once(':') else {
        return Err(format!("{SHAPE} (got {listen:?})"));
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(format!("{SHAPE} (got {listen:?})"));
    }
    match listen.to_socket_addrs() {
        // Prefer IPv4 for names like localhost: what people expect to reach at 127.0.0.1.
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .copied()
                .ok_or_else(|| format!("{host:?} resolves to no address"))
        }
        Err(e) => Err(format!("cannot resolve {host:?}: {e}")),
    }
}

fn mask_secrets(table: &mut toml::Table) {
    for (key, value) in table.iter_mut() {
        match value {
            toml::Value::Table(inner) => mask_secrets(inner),
            toml::Value::String(s) if is_secret_key(key) && !s.is_empty() => *s = "***".into(),
            _ => {}
        }
    }
}

/// A key whose value is a secret (a path to one, `…_file`, is not).
fn is_secret_key(key: &str) -> bool {
    ["password", "secret", "token"]
        .iter()
        .any(|w| key.contains(w))
        && !key.ends_with("_file")
}

/// Finds the key path (`["server", "workers"]`) whose env name is `suffix` (`SERVER_WORKERS`).
fn key_path_for_env(table: &toml::Table, suffix: &str) -> Option<Vec<String>> {
    for (key, value) in table {
        let name = key.to_ascii_uppercase();
        match value {
            toml::Value::Table(inner) => {
                let rest = suffix.strip_prefix(&name).and_then(|r| r.strip_prefix('_'));
                if let Some(mut path) = rest.and_then(|rest| key_path_for_env(inner, rest)) {
                    path.insert(0, key.clone());
                    return Some(path);
                }
            }
            _ if name == suffix => return Some(vec![key.clone()]),
            _ => {}
        }
    }
    None
}

/// Replaces the value at `path`, parsing `raw` as the type the key already has.
fn set_from_env(table: &mut toml::Table, path: &[String], var: &str, raw: &str) -> Result<()> {
    let (last, parents) = path.split_last().expect("non-empty key path");
    let mut current = table;
    for p in parents {
        current = current
            .get_mut(p)
            .and_then(|v| v.as_table_mut())
            .expect("path found above");
    }
    let slot = current.get_mut(last).expect("path found above");
    let key = path.join(".");
    *slot = match slot {
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().map_err(|_| {
            Error::Config(format!(
                "{var} ({key}): expected a whole number, got {raw:?}"
            ))
        })?),
        // A list from the environment: comma-separated ("127.0.0.1,::1").
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect(),
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(Error::Config(format!(
                    "{var} ({key}): expected true or false, got {raw:?}"
                )));
            }
        }),
        _ => toml::Value::String(raw.to_string()),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// #18/#19: mail's default sender is a valid address whatever the public URL looks like.
    #[test]
    fn the_default_sender_is_always_an_address() {
        let sender = |base: &str| {
            let c = Config {
                base_url: base.into(),
                ..Config::default()
            };
            let address = c.default_sender_address();
            assert!(
                address.parse::<lettre::Address>().is_ok(),
                "{base}: {address}"
            );
            address
        };
        assert_eq!(
            sender("https://Help.Brightside.example/"),
            "noreply@help.brightside.example"
        );
        assert_eq!(
            sender("https://support.acme.example."),
            "noreply@support.acme.example"
        );
        for odd in [
            "http://a..b",
            "http://-x.example",
            "http://10.0.0.1:8080",
            "http://[::1]:8080",
            "",
        ] {
            assert_eq!(sender(odd), "noreply@localhost", "{odd}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Review of #16: a reply with every file allowed was refused whole (the text lost).
    #[test]
    fn the_largest_message_allowed_fits_in_one_body() {
        let err = Config::parse(
            "upload_limit_mb = 20\n[attachments]\nmax_files = 5\nmax_file_mb = 10\n",
            None,
            Vec::<(String, String)>::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("upload_limit_mb") && err.contains("50"),
            "{err}"
        );
        assert!(Config::parse("", None, Vec::<(String, String)>::new()).is_ok());
    }

    #[test]
    fn example_file_parses_to_the_defaults() {
        let from_example: Config = toml::from_str(EXAMPLE).expect("config.example.toml parses");
        assert_eq!(
            toml::to_string(&from_example).unwrap(),
            toml::to_string(&Config::default()).unwrap(),
            "config.example.toml and Config::default() disagree"
        );
    }

    #[test]
    fn example_file_documents_every_key() {
        let table = toml::Table::try_from(Config::default()).unwrap();
        fn keys(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                match v {
                    toml::Value::Table(inner) => keys(&format!("{prefix}{k}."), inner, out),
                    _ => out.push(format!("{prefix}{k}")),
                }
            }
        }
        let mut all = Vec::new();
        keys("", &table, &mut all);
        for key in all {
            let leaf = key.rsplit('.').next().unwrap();
            assert!(
                EXAMPLE.contains(&format!("{leaf} =")),
                "config.example.toml lacks {key}"
            );
        }
    }

    #[test]
    fn env_overrides_top_level_and_nested_keys() {
        let c = Config::load(
            None,
            env(&[
                ("PORCHLIGHT_LISTEN", "0.0.0.0:9000"),
                ("PORCHLIGHT_SERVER_IDLE_TIMEOUT_SECS", "5"),
                (
                    "PORCHLIGHT_SERVER_TRUSTED_PROXIES",
                    "127.0.0.1, 172.16.0.0/12",
                ),
                ("PORCHLIGHT_CONFIG", "ignored.toml"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.server.idle_timeout_secs, 5);
        assert_eq!(
            c.server.trusted_proxies,
            vec!["127.0.0.1".to_string(), "172.16.0.0/12".into()]
        );
        assert_eq!(c.base_url(), "http://127.0.0.1:9000");
    }

    #[test]
    fn unknown_env_variable_is_named() {
        let err = Config::load(None, env(&[("PORCHLIGHT_LISTN", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORCHLIGHT_LISTN"), "{err}");
    }

    #[test]
    fn bad_env_value_names_the_key() {
        let err = Config::load(None, env(&[("PORCHLIGHT_BCRYPT_COST", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bcrypt_cost"), "{err}");
    }

    #[test]
    fn unknown_key_in_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[server]\nidle_timeout = 3\n").unwrap();
        let err = Config::load(Some(&path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("idle_timeout"), "{err}");
    }

    #[test]
    fn invalid_value_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "listen = \"nowhere\"\n").unwrap();
        let err = Config::load(Some(&path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        std::fs::write(&path, "sqlite_synchronous = \"off\"\n").unwrap();
        let err = Config::load(Some(&path), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sqlite_synchronous"), "{err}");
    }

    #[test]
    fn huge_values_are_refused_by_name() {
        let err = Config::load(
            None,
            env(&[("PORCHLIGHT_LOGIN_LOCKOUT_MINUTES", "99999999999999999")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("login.lockout_minutes"), "{err}");
        let err = Config::load(
            None,
            env(&[("PORCHLIGHT_SERVER_TRUSTED_PROXIES", "not-an-ip")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("server.trusted_proxies"), "{err}");
    }

    #[test]
    fn secrets_are_masked() {
        let mut t: toml::Table =
            toml::from_str("[mail]\nsmtp_password = \"hunter2\"\nfrom = \"a@b\"").unwrap();
        mask_secrets(&mut t);
        let s = toml::to_string(&t).unwrap();
        assert!(
            !s.contains("hunter2") && s.contains("***") && s.contains("a@b"),
            "{s}"
        );
    }
}
