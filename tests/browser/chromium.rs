//! Headless Chromium driven through chromedriver (fantoccini), for the browser tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::util::Server;

/// A headless Chromium session. Dropping it (also on panic) closes the browser and driver.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

pub fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return Some(p.to_path_buf());
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.exists() {
                    return Some(full);
                }
            }
        }
    }
    None
}

/// Chromium and chromedriver, when both are installed.
pub fn installed() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program(&[
        "/usr/bin/chromium",
        "chromium",
        "chromium-browser",
        "google-chrome",
    ])?;
    let driver = find_program(&["/usr/bin/chromedriver", "chromedriver"])?;
    Some((chromium, driver))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (the harness checked they are installed).
    pub fn start() -> Browser {
        Browser::start_with(false)
    }

    /// Like `start`, with the page's `prefers-color-scheme` dark when `dark` is set.
    pub fn start_with(dark: bool) -> Browser {
        let (chromium, driver_bin) = installed().expect(
            "Chromium and chromedriver are installed (apt-get install chromium chromium-driver)",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut browser = Browser {
            rt,
            client: None,
            driver,
            _profile: profile,
        };
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        if dark {
            // Headless Chromium answers `prefers-color-scheme: dark` with this switch.
            args.push("--force-dark-mode".into());
        }
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args }
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let attempt = browser.rt.block_on(async {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await
            });
            match attempt {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("could not start Chromium through chromedriver: {e}"),
            }
        };
        browser.client = Some(client);
        browser
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("browser running")
    }

    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.c().goto(url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Waits (up to 15 s) for an element to exist and returns its text. After a click, wait
    /// for something that exists only on the next page — never for "navigation".
    pub fn wait_for(&self, css: &str) -> String {
        self.rt.block_on(async {
            let el = self
                .c()
                .wait()
                .at_most(Duration::from_secs(15))
                .for_element(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("waiting for {css}: {e}"));
            el.text().await.unwrap_or_default()
        })
    }

    /// Waits (up to 15 s) until the first element matching `css` contains `needle`: the way to
    /// wait for the page that follows a click when the old page had a similar element.
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.rt.block_on(async {
                match self.c().find(Locator::Css(css)).await {
                    Ok(el) => el.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                }
            });
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {needle:?} in {css}; last saw {text:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `value` of a form field.
    pub fn value(&self, css: &str) -> String {
        self.rt.block_on(async {
            let el = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("find {css}: {e}"));
            el.prop("value").await.ok().flatten().unwrap_or_default()
        })
    }

    pub fn fill(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let el = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("find {css}: {e}"));
            el.clear().await.ok();
            el.send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        });
    }

    pub fn select(&self, css: &str, value: &str) {
        self.rt.block_on(async {
            let el = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("find {css}: {e}"));
            el.select_by_value(value)
                .await
                .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
        });
    }

    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            let el = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("find {css}: {e}"));
            el.click()
                .await
                .unwrap_or_else(|e| panic!("click {css}: {e}"));
        });
    }

    pub fn source(&self) -> String {
        self.rt.block_on(self.c().source()).expect("page source")
    }

    pub fn current_url(&self) -> String {
        self.rt
            .block_on(self.c().current_url())
            .expect("url")
            .to_string()
    }

    /// Signs in through the form and waits for the inbox.
    pub fn sign_in(&self, server: &Server, email: &str, password: &str) {
        self.goto(&server.url("/login"));
        self.wait_for("form[action='/login']");
        self.fill("#f-email", email);
        self.fill("#f-password", password);
        self.click("button[type=submit]");
        self.wait_for("nav.tabs");
    }

    /// Fetches `url` from inside the page (same cookies) and returns (status,
    /// Content-Disposition, body as text).
    pub fn fetch(&self, url: &str) -> (i64, String, String) {
        let v = self
            .rt
            .block_on(self.c().execute(
                "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send();
                 return [x.status, x.getResponseHeader('Content-Disposition') || '', x.responseText];",
                vec![serde_json::json!(url)],
            ))
            .expect("run a script");
        (
            v[0].as_i64().unwrap_or(0),
            v[1].as_str().unwrap_or_default().to_string(),
            v[2].as_str().unwrap_or_default().to_string(),
        )
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> String {
        self.rt.block_on(async {
            let el = self
                .c()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("find {css}: {e}"));
            el.attr(name).await.ok().flatten().unwrap_or_default()
        })
    }

    /// Sets the window's size (390 wide is a phone).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.c().set_window_size(width, height))
            .expect("resize the window");
    }

    /// How many CSS pixels the page is wider than the window (0: no sideways scrolling).
    pub fn overflow_x(&self) -> i64 {
        let v = self
            .rt
            .block_on(self.c().execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            ))
            .expect("run a script");
        v.as_i64().unwrap_or(0)
    }

    /// The accessibility violations axe-core finds on the current page (all its default rules:
    /// WCAG 2 A and AA, and best practices), one line each: rule, impact, how many elements and
    /// the first element's selector. The vendored axe-core is injected once per page.
    pub fn axe(&self) -> Vec<String> {
        const AXE: &str = include_str!("vendor/axe-core/axe.min.js");
        let c = self.c();
        self.rt.block_on(async {
            let loaded = c
                .execute("return typeof window.axe !== 'undefined';", vec![])
                .await
                .expect("run a script");
            if loaded != serde_json::json!(true) {
                c.execute(&format!("{AXE}\n;return true;"), vec![])
                    .await
                    .expect("inject axe-core");
            }
            let found = c
                .execute_async(
                    "var done = arguments[arguments.length - 1];
                     axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
                       done(r.violations.map(function (v) {
                         var n = v.nodes[0] || {};
                         return v.id + ' (' + v.impact + ', ' + v.nodes.length + 'x): ' + v.help
                           + ' at ' + JSON.stringify(n.target) + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ');
                       }));
                     }, function (e) { done(['axe failed: ' + e]); });",
                    vec![],
                )
                .await
                .expect("run axe-core");
            found
                .as_array()
                .map(|v| {
                    v.iter()
                        .map(|s| s.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The outermost elements that stick out past the window's right edge (tag.class and
    /// their right edge), to say what makes a page scroll sideways.
    pub fn wide_elements(&self) -> String {
        let v = self
            .rt
            .block_on(self.c().execute(
                "var w = document.documentElement.clientWidth, out = [];
                 document.querySelectorAll('body *').forEach(function (el) {
                   var r = el.getBoundingClientRect();
                   if (r.right <= w + 1 || r.width === 0) return;
                   var p = el.parentElement, pr = p.getBoundingClientRect();
                   if (p !== document.body && pr.right > w + 1) return;
                   out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
                     + ' (right edge ' + Math.round(r.right) + 'px)');
                 });
                 return out.slice(0, 4).join(', ');",
                vec![],
            ))
            .expect("run a script");
        v.as_str().unwrap_or_default().to_string()
    }

    /// Runs `js` (a function body; `return` gives the result) in the page.
    pub fn script(&self, js: &str) -> serde_json::Value {
        self.rt
            .block_on(self.c().execute(js, vec![]))
            .expect("run a script")
    }

    /// The page's full height in CSS pixels.
    pub fn page_height(&self) -> u32 {
        let v = self
            .rt
            .block_on(
                self.c()
                    .execute("return document.documentElement.scrollHeight;", vec![]),
            )
            .expect("run a script");
        v.as_u64().unwrap_or(900) as u32
    }

    /// Saves a screenshot of the window to `dir/{name}.png`.
    pub fn screenshot_to(&self, dir: &Path, name: &str) {
        let png = self.rt.block_on(self.c().screenshot()).expect("screenshot");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Saves a screenshot to `$TEST_SCREENSHOTS/{name}.png` when that variable is set.
    pub fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("TEST_SCREENSHOTS") {
            let png = self.rt.block_on(self.c().screenshot()).expect("screenshot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
