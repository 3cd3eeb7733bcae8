//! Test helpers: an in-process app with a cookie-keeping client, and the real binary started on
//! a loopback port with a temporary data directory.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porchlight::app::App;
use porchlight::config::Config;
use porchlight::store::Db;
use rouille::Request;

/// A response as the tests read it.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy for binary responses; see `bytes`).
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> &str {
        self.header("Location")
            .unwrap_or_else(|| panic!("no Location header (status {})", self.status))
    }

    /// A 303 to `path` (post/redirect/get).
    #[track_caller]
    pub fn assert_redirect(&self, path: &str) -> &Self {
        self.assert_status(303);
        assert_eq!(self.location(), path);
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) -> &Self {
        assert!(
            self.body.contains(needle),
            "expected {needle:?} in:\n{}",
            self.body
        );
        self
    }

    /// The target of the link whose text is `text` (as a path, HTML entities undone).
    #[track_caller]
    pub fn link(&self, text: &str) -> String {
        self.try_link(text)
            .unwrap_or_else(|| panic!("no link {text:?} in:\n{}", self.body))
    }

    /// Like [`Resp::link`], `None` when there is no such link.
    pub fn try_link(&self, text: &str) -> Option<String> {
        let end = self.body.find(&format!(">{text}</a>"))?;
        let start = self.body[..end].rfind("href=\"")? + 6;
        let href = self.body[start..end].split('"').next()?;
        Some(
            href.replace("&amp;", "&")
                .replace("&#x2f;", "/")
                .replace("&#x3d;", "="),
        )
    }

    #[track_caller]
    pub fn assert_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.body.contains(needle),
            "did not expect {needle:?} in:\n{}",
            self.body
        );
        self
    }
}

/// Porchlight in-process, with a temp data directory, a real SQLite file and a cookie jar.
pub struct TestApp {
    pub app: App,
    pub db: Db,
    pub cookies: HashMap<String, String>,
    pub ip: String,
    pub dir: tempfile::TempDir,
}

/// A config for tests: fast bcrypt, a temp data dir, and no log lines — a passing run prints
/// nothing that looks like a failure (#12). Set `PORCHLIGHT_TEST_LOG=warn` (or another level)
/// to see the in-process apps' log while debugging.
pub fn test_config(dir: &Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        bcrypt_cost: 4,
        log_level: std::env::var("PORCHLIGHT_TEST_LOG").unwrap_or_else(|_| "off".into()),
        ..Config::default()
    }
}

impl TestApp {
    pub fn new() -> TestApp {
        Self::with_config(|_| {})
    }

    pub fn with_config(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        porchlight::logging::init(&config.log_level, &config.log_format);
        let app = App::new(config).expect("app starts");
        let db = app.store.connect().expect("db connection");
        TestApp {
            app,
            db,
            cookies: HashMap::new(),
            ip: "127.0.0.1".into(),
            dir,
        }
    }

    /// A second browser on the same app: same data, its own cookies.
    pub fn forget_cookies(&mut self) {
        self.cookies.clear();
    }

    /// Builds a request as this browser would send it (its cookies, from its address).
    pub fn build_request(
        &self,
        method: &str,
        path: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Request {
        let mut headers = headers;
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push(("Cookie".into(), cookie));
        }
        headers.push(("Host".into(), "127.0.0.1:8080".into()));
        let addr: SocketAddr = format!("{}:40000", self.ip).parse().expect("ip");
        Request::fake_http_from(addr, method, path, headers, body)
    }

    /// A url-encoded POST of `fields` with this browser's CSRF token, not yet sent.
    pub fn build_post(&mut self, path: &str, fields: &[(&str, &str)]) -> Request {
        if !self.cookies.contains_key("pl_csrf") {
            self.get("/login");
        }
        let token = porchlight::auth::csrf::token_for(&self.cookies["pl_csrf"]);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        let headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        self.build_request("POST", path, headers, form_body(&all).into_bytes())
    }

    /// Answers `req` on this app's connection, without touching this browser's cookies.
    pub fn answer(&self, req: &Request) -> Resp {
        answer(&self.app, &self.db, req)
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Resp {
        let req = self.build_request(method, path, headers, body);
        let resp = self.answer(&req);
        for (k, v) in &resp.headers {
            if k.eq_ignore_ascii_case("Set-Cookie") {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    let expired = v.contains("Max-Age=0");
                    if expired || value.is_empty() {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_string(), value.to_string());
                    }
                }
            }
        }
        resp
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, Vec::new(), Vec::new())
    }

    /// POSTs a form as a browser would: with the CSRF token of this browser's forms (fetching
    /// a page first when the browser has no CSRF cookie yet).
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        if !self.cookies.contains_key("pl_csrf") {
            self.get("/login");
        }
        let token = porchlight::auth::csrf::token_for(&self.cookies["pl_csrf"]);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all)
    }

    /// POSTs exactly these fields (no CSRF token added).
    pub fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_body(fields);
        let headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        self.request("POST", path, headers, body.into_bytes())
    }

    /// POSTs a multipart form (with this browser's CSRF token unless `with_token` is false):
    /// text `fields` and `files` as (field, filename, bytes).
    pub fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
        with_token: bool,
    ) -> Resp {
        if !self.cookies.contains_key("pl_csrf") {
            self.get("/login");
        }
        let boundary = "porchlightTestBoundary7MA4YWxk";
        let mut body = Vec::new();
        let token = porchlight::auth::csrf::token_for(&self.cookies["pl_csrf"]);
        let mut all: Vec<(&str, &str)> = Vec::new();
        if with_token {
            all.push(("csrf_token", &token));
        }
        all.extend_from_slice(fields);
        for (name, value) in all {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        for (name, filename, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let headers = vec![(
            "Content-Type".to_string(),
            format!("multipart/form-data; boundary={boundary}"),
        )];
        self.request("POST", path, headers, body)
    }

    /// Creates a staff account directly and returns its password.
    pub fn add_staff(&self, email: &str, name: &str, role: porchlight::domain::Role) -> String {
        let password = format!("pw-{email}");
        let input = porchlight::accounts::NewStaffInput {
            name,
            email,
            password: &password,
            role,
        };
        porchlight::accounts::create_staff(&self.db, 4, &input)
            .expect("db")
            .expect("valid staff");
        password
    }

    /// Creates an account of `role` and signs this client in as it.
    pub fn sign_in_as(&mut self, email: &str, role: porchlight::domain::Role) {
        let password = self.add_staff(email, &format!("Name of {email}"), role);
        self.login(email, &password).assert_status(303);
    }

    pub fn login(&mut self, email: &str, password: &str) -> Resp {
        self.post("/login", &[("email", email), ("password", password)])
    }

    pub fn admin() -> TestApp {
        let mut t = TestApp::new();
        t.sign_in_as("admin@example.com", porchlight::domain::Role::Admin);
        t
    }

    pub fn create_project(&mut self, key: &str, name: &str) {
        self.post(
            "/projects/new",
            &[("name", name), ("key", key), ("description", "")],
        )
        .assert_status(303);
    }

    /// Creates a ticket through the form and returns its reference.
    pub fn create_ticket(&mut self, project: &str, subject: &str, body: &str) -> String {
        let r = self.post(
            "/tickets/new",
            &[
                ("project", project),
                ("subject", subject),
                ("body", body),
                ("priority", "normal"),
                ("assignee", ""),
            ],
        );
        r.assert_status(303);
        r.location().trim_start_matches("/tickets/").to_string()
    }

    /// Staff change ticket `reference`'s status from `from` to `to`, the other fields of the
    /// form as shown (normal priority, nobody assigned, no date).
    pub fn set_status(&mut self, reference: &str, from: &str, to: &str) {
        self.post(
            &format!("/tickets/{reference}/update"),
            &[
                ("status", to),
                ("orig_status", from),
                ("priority", "normal"),
                ("orig_priority", "normal"),
                ("assignee", ""),
                ("orig_assignee", ""),
                ("expected_by", ""),
                ("orig_expected_by", ""),
            ],
        )
        .assert_status(303);
    }

    /// Signs the contact `email` (already created) in to portal `slug` (id `portal`) by accepting
    /// an invitation the test issues itself, with the password "correct horse battery"; this
    /// browser's cookies become the contact's. Returns the contact's id.
    pub fn accept_invitation(
        &mut self,
        slug: &str,
        portal: &str,
        email: &str,
        name: &str,
    ) -> porchlight::domain::ContactId {
        let id = porchlight::store::contacts::get_by_email(&self.db, email)
            .unwrap()
            .expect("the contact exists")
            .id;
        // A link we know: any invitation already sent is replaced (as "Resend" does).
        let token = porchlight::auth::Secret::generate();
        self.db
            .write(|tx| {
                porchlight::store::contacts::delete_tokens(tx, id, Some("invite"))?;
                porchlight::store::tokens::insert_for_portal(
                    tx,
                    &token.hash(),
                    "invite",
                    id.0,
                    portal.parse().unwrap(),
                    tx.now() + 3600,
                )
            })
            .unwrap();
        self.cookies.clear();
        self.post(
            &format!("/portal/{slug}/invite/{}", token.expose()),
            &[
                ("name", name),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .assert_status(303);
        id
    }

    /// Turns project `key`'s shareable link on (as the signed-in admin); returns its path.
    pub fn turn_share_link_on(&mut self, key: &str) -> String {
        self.post(&format!("/projects/{key}/share/enable"), &[])
            .assert_status(303);
        let token = porchlight::store::projects::get_by_key(&self.db, key)
            .unwrap()
            .unwrap()
            .share
            .token
            .expect("the link has a token");
        format!("/s/{token}")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.app.config.data_dir.clone()
    }
}

/// Answers `req` with `app` on the connection `db` (a thread's own, in concurrency tests).
pub fn answer(app: &App, db: &Db, req: &Request) -> Resp {
    let response = porchlight::web::handle(app, db, req, None);
    let status = response.status_code;
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (mut reader, _) = response.data.into_reader_and_size();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut bytes).expect("body");
    let body = String::from_utf8_lossy(&bytes).into_owned();
    Resp {
        status,
        headers,
        body,
        bytes,
    }
}

/// A ticket staff write directly through the store (fast seeding): `subject` and `body` in
/// `project`, normal priority, nobody assigned, shown on the board.
pub fn plain_ticket<'a>(
    project: porchlight::domain::ProjectId,
    subject: &'a str,
    body: &'a str,
) -> porchlight::store::tickets::NewTicket<'a> {
    porchlight::store::tickets::NewTicket {
        project_id: project,
        subject,
        body,
        priority: porchlight::domain::Priority::Normal,
        assignee_id: None,
        source: porchlight::domain::Source::Staff,
        requester_name: None,
        requester_email: None,
        created_by: None,
        shared: true,
        receipt_hash: None,
        portal: None,
    }
}

/// The path of the first link in `text` (an email) whose URL contains `needle`, if any.
pub fn link_path(text: &str, needle: &str) -> Option<String> {
    let at = text.find(needle)?;
    let start = text[..at].rfind("http")?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let path = url.split_once("://")?.1;
    Some(format!("/{}", path.split_once('/')?.1))
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Extracts the value of the first `name="csrf_token"` hidden input from a page.
pub fn csrf_from(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("page has a CSRF field")
        + 25;
    html[at..]
        .split('"')
        .next()
        .expect("closing quote")
        .to_string()
}

/// The real `porchlight` binary, started on a free loopback port with a temp data directory.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub base: String,
    pub output: Arc<Mutex<Vec<String>>>,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_porchlight")
}

impl Server {
    /// `porchlight serve` with extra environment variables.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let dir_arg = dir.to_str().unwrap().to_string();
        let mut s = Self::spawn(
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", &dir_arg],
            env,
            dir,
        );
        s._tmp = Some(tmp);
        s
    }

    /// Runs the binary with `args` and waits for its "listening on" line.
    pub fn spawn(args: &[&str], env: &[(&str, &str)], dir: PathBuf) -> Server {
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .env("PORCHLIGHT_BCRYPT_COST", "4")
            .env("PORCHLIGHT_LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start porchlight");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let found = output.lock().unwrap().iter().find_map(|l| {
                l.split("listening on http://")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_string)
            });
            if let Some(addr) = found {
                break addr.parse::<SocketAddr>().expect("address");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "porchlight exited with {status}: {:?}",
                    output.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "porchlight did not start: {:?}",
                output.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
            output,
            dir,
            _tmp: None,
        }
    }

    /// Everything the process printed so far.
    pub fn printed(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// The first printed line containing `needle`, waiting up to 10 s for it to appear.
    pub fn line_with(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self
                .output
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return Some(line.clone());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a signal to the process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A ureq agent that keeps cookies, does not follow redirects and does not treat 4xx/5xx as errors.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// GET with `agent`; returns status and body.
pub fn http_get(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut r = agent.get(url).call().expect("GET");
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().expect("body"))
}

/// POST a form with `agent`; returns status, Location and body.
pub fn http_post(agent: &ureq::Agent, url: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let mut r = agent
        .post(url)
        .header("Origin", origin_of(url))
        .send_form(fields.iter().copied())
        .expect("POST");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        status,
        location,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn origin_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    format!("http://{}", rest.split('/').next().unwrap_or(""))
}

/// Adds a staff account to a running server's database through the CLI.
pub fn add_staff_cli(server: &Server, email: &str, role: &str, password: &str) {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args([
            "staff",
            "add",
            "--email",
            email,
            "--name",
            "Browser Admin",
            "--role",
            role,
            "--data-dir",
        ])
        .arg(&server.dir)
        .env("PORCHLIGHT_BCRYPT_COST", "4")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}
