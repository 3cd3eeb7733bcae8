//! A real SMTP server on loopback for the email tests: the `mailin` SMTP state machine, plain,
//! STARTTLS or implicit TLS (rustls, with a throwaway certificate authority made by `rcgen`),
//! optionally with AUTH PLAIN/LOGIN. It keeps every message it accepts.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::{AuthMechanism, Handler, Response, SessionBuilder};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How the server secures connections.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Security {
    Plain,
    StartTls,
    Tls,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// Signed in with AUTH as this user.
    pub user: Option<String>,
}

impl Received {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_string());
            }
        }
        value
    }

    /// The message's text with quoted-printable soft line breaks and `=3D` undone — enough to
    /// find links and sentences in either part.
    pub fn text(&self) -> String {
        self.data
            .replace("=\r\n", "")
            .replace("=3D", "=")
            .replace("=20", " ")
    }
}

/// A throwaway certificate authority and a certificate for `localhost` signed by it.
pub struct Certs {
    pub ca_pem: String,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Certs {
    pub fn new() -> Certs {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Porchlight test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.signed_by(&key, &issuer).unwrap();
        Certs {
            ca_pem: ca_cert.pem(),
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![self.cert.clone()], key)
                .unwrap(),
        )
    }
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The CA to trust, written to a file (for `mail.smtp_ca_file`).
    pub ca_file: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct Options {
    security: Security,
    auth: Option<(String, String)>,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl SmtpServer {
    /// Starts a server on a free loopback port.
    pub fn start(security: Security, auth: Option<(&str, &str)>) -> SmtpServer {
        Self::start_at("127.0.0.1:0".parse().unwrap(), security, auth)
    }

    /// Starts a server on `addr` (to bring one back on the port it had).
    pub fn start_at(
        addr: SocketAddr,
        security: Security,
        auth: Option<(&str, &str)>,
    ) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let (tls, ca_file) = if security == Security::Plain {
            (None, None)
        } else {
            let certs = Certs::new();
            let ca_file = dir.path().join("ca.pem");
            std::fs::write(&ca_file, &certs.ca_pem).unwrap();
            (Some(certs.server_config()), Some(ca_file))
        };
        let listener = TcpListener::bind(addr).expect("bind the SMTP port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let options = Options {
            security,
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
            tls,
        };
        let thread = {
            let (received, stop) = (Arc::clone(&received), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, peer)) => {
                            let (received, options) = (Arc::clone(&received), options.clone());
                            std::thread::spawn(move || {
                                let _ = serve(stream, peer.ip(), &options, &received);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        SmtpServer {
            addr,
            received,
            stop,
            thread: Some(thread),
            ca_file,
            _dir: dir,
        }
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to `within` for at least `n` messages; returns all received.
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() > deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops accepting and frees the port.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.shut();
    }
}

/// One message being received, and what the session has accepted so far.
struct Collector {
    received: Arc<Mutex<Vec<Received>>>,
    auth: Option<(String, String)>,
    user: Option<String>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        if self.auth.is_some() && self.user.is_none() {
            return mailin::response::AUTHENTICATION_REQUIRED;
        }
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    /// Mailboxes at `nowhere.invalid` do not exist: refused for good (550), as a real server
    /// refuses an unknown recipient.
    fn rcpt(&mut self, to: &str) -> Response {
        if to.contains("@nowhere.invalid") {
            mailin::response::NO_MAILBOX
        } else {
            mailin::response::OK
        }
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received.lock().unwrap().push(Received {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: String::from_utf8_lossy(&self.data).into_owned(),
            user: self.user.clone(),
        });
        mailin::response::OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check(user, password)
    }
}

impl Collector {
    fn check(&mut self, user: &str, password: &str) -> Response {
        match &self.auth {
            Some((u, p)) if u == user && p == password => {
                self.user = Some(user.to_string());
                mailin::response::AUTH_OK
            }
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

/// A connection, before or after TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn tls(stream: TcpStream, config: &Arc<rustls::ServerConfig>) -> Conn {
    let connection = rustls::ServerConnection::new(Arc::clone(config)).unwrap();
    Conn::Tls(Box::new(rustls::StreamOwned::new(connection, stream)))
}

fn serve(
    stream: TcpStream,
    peer: IpAddr,
    options: &Options,
    received: &Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut builder = SessionBuilder::new("localhost");
    if options.security == Security::StartTls {
        builder.enable_start_tls();
    }
    if options.auth.is_some() {
        builder.enable_auth(AuthMechanism::Plain);
        builder.enable_auth(AuthMechanism::Login);
    }
    let handler = Collector {
        received: Arc::clone(received),
        auth: options.auth.clone(),
        user: None,
        from: String::new(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = builder.build(peer, handler);
    let mut conn = match (&options.security, &options.tls) {
        (Security::Tls, Some(config)) => {
            session.tls_active();
            tls(stream, config)
        }
        _ => Conn::Plain(stream),
    };
    session.greeting().write_to(&mut conn)?;
    conn.flush()?;
    let mut reader = BufReader::new(conn);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::Reply => {
                response.write_to(reader.get_mut())?;
                reader.get_mut().flush()?;
            }
            mailin::Action::Close => {
                response.write_to(reader.get_mut())?;
                reader.get_mut().flush()?;
                return Ok(());
            }
            mailin::Action::NoReply => {}
            mailin::Action::UpgradeTls => {
                response.write_to(reader.get_mut())?;
                reader.get_mut().flush()?;
                let Conn::Plain(stream) = reader.into_inner() else {
                    return Ok(());
                };
                let config = options
                    .tls
                    .as_ref()
                    .expect("STARTTLS is offered only with TLS");
                session.tls_active();
                reader = BufReader::new(tls(stream, config));
            }
        }
    }
}
