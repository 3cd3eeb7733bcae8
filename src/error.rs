//! The crate's one error type and `Result` alias.
//!
//! Layers add context where they meet (`store` says which query, `config` names the key) and
//! the web layer maps an `Error` to a plain page with a request id — the details go to the log,
//! never to the visitor.

use std::fmt;

/// Everything that can go wrong inside Porchlight.
#[derive(Debug)]
pub enum Error {
    /// The configuration file or an environment override is invalid; the message names the key.
    Config(String),
    /// A SQLite call failed, with no more context than the call itself.
    Db(rusqlite::Error),
    /// A store operation failed: what it was doing ("loading ticket ACME-12") and why.
    Store(String, rusqlite::Error),
    /// A file or socket operation failed; the string says what we were doing.
    Io(String, std::io::Error),
    /// A template failed to render (a bug in a template, not user input).
    Template(minijinja::Error),
    /// Anything else worth a sentence: the operator or the log reads it as is.
    Other(String),
}

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(msg) => write!(f, "configuration error: {msg}"),
            Error::Db(e) => write!(f, "database error: {e}"),
            Error::Store(what, e) => write!(f, "store: {what}: {e}"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
            Error::Template(e) => write!(f, "template error: {e:#}"),
            Error::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Db(e) | Error::Store(_, e) => Some(e),
            Error::Io(_, e) => Some(e),
            Error::Template(e) => Some(e),
            Error::Config(_) | Error::Other(_) => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Db(e)
    }
}

impl Error {
    /// The SQLite error underneath, if this is one.
    pub fn sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            Error::Db(e) | Error::Store(_, e) => Some(e),
            _ => None,
        }
    }
}

impl From<minijinja::Error> for Error {
    fn from(e: minijinja::Error) -> Self {
        Error::Template(e)
    }
}

/// Adds "what we were doing" to an `io::Error`: `fs::read(p).io_context(|| format!("reading {p}"))?`.
pub trait IoContext<T> {
    fn io_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Io(what().into(), e))
    }
}
