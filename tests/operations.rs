//! Operations (issue #19): `/metrics` (Prometheus text) on the main listener behind a token or
//! on an address of its own, and JSON logs. Restore is tested with the other commands
//! (`cli.rs`), the restic drill in the browser harness (it needs the `restic` program).

use std::time::Duration;

use porchlight::domain::Role;

use crate::util::{Server, TestApp, http_agent, http_get};

const TOKEN: &str = "scrape-me-0123456789";

fn scrape(t: &mut TestApp, authorization: Option<&str>) -> crate::util::Resp {
    let headers = authorization
        .map(|a| vec![("Authorization".to_string(), a.to_string())])
        .unwrap_or_default();
    t.request("GET", "/metrics", headers, Vec::new())
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_are_off_by_default() {
    let mut t = TestApp::new();
    t.get("/metrics").assert_status(404);
    scrape(&mut t, Some(&format!("Bearer {TOKEN}"))).assert_status(404);
}

#[test]
fn metrics_on_the_main_listener_want_the_token_and_count_what_happens() {
    let mut t = TestApp::with_config(|c| {
        c.metrics.enabled = true;
        c.metrics.token = porchlight::config::Secret(TOKEN.into());
        c.login.max_failures_per_account = 2;
    });
    // Without the token, or with a wrong one: refused, and nothing is shown.
    for auth in [None, Some("Bearer wrong-token-0123456789"), Some(TOKEN)] {
        let r = scrape(&mut t, auth);
        r.assert_status(401).assert_lacks("porchlight_");
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    }
    // Some traffic: a page, a 404, sign-in failures until the account is locked (429).
    t.get("/login").assert_status(200);
    t.get("/no-such-page");
    t.add_staff("ada@example.com", "Ada", Role::Admin);
    for _ in 0..3 {
        t.post(
            "/login",
            &[("email", "ada@example.com"), ("password", "not it")],
        );
    }
    let r = scrape(&mut t, Some(&format!("Bearer {TOKEN}")));
    r.assert_status(200);
    assert!(
        r.header("Content-Type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{:?}",
        r.header("Content-Type")
    );
    let text = &r.body;
    assert!(
        sample(
            text,
            "porchlight_http_requests_total{family=\"staff\",status=\"200\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            text,
            "porchlight_http_requests_total{family=\"staff\",status=\"429\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            text,
            "porchlight_throttled_requests_total{reason=\"rate_limit\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            text,
            "porchlight_http_request_duration_seconds_count{family=\"staff\"}"
        )
        .is_some_and(|n| n >= 3.0),
        "{text}"
    );
    assert!(sample(text, "porchlight_database_bytes").is_some_and(|n| n > 0.0));
    assert!(sample(text, "porchlight_wal_bytes").is_some());
    assert!(sample(text, "porchlight_uptime_seconds").is_some());
    assert_eq!(
        sample(text, "porchlight_outbox_messages{state=\"failed\"}"),
        Some(0.0)
    );
    assert!(text.contains("porchlight_build_info{version="), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

#[test]
fn metrics_need_a_token_or_an_address_of_their_own() {
    let toml = "[metrics]\nenabled = true\n";
    let e = porchlight::config::Config::parse(toml, None, std::iter::empty())
        .expect_err("refused")
        .to_string();
    assert!(e.contains("metrics.token"), "{e}");
    let short = "[metrics]\nenabled = true\ntoken = \"short\"\n";
    assert!(porchlight::config::Config::parse(short, None, std::iter::empty()).is_err());
    let both =
        format!("[metrics]\nenabled = true\nlisten = \"127.0.0.1:9464\"\ntoken = \"{TOKEN}\"\n");
    let e = porchlight::config::Config::parse(&both, None, std::iter::empty())
        .expect_err("a token that would not be asked")
        .to_string();
    assert!(e.contains("one or the other"), "{e}");
    let own = "[metrics]\nenabled = true\nlisten = \"127.0.0.1:9464\"\n";
    porchlight::config::Config::parse(own, None, std::iter::empty())
        .expect("an address of its own");
    // The token is never printed back.
    let with_token = format!("[metrics]\nenabled = true\ntoken = \"{TOKEN}\"\n");
    let c = porchlight::config::Config::parse(&with_token, None, std::iter::empty()).unwrap();
    assert!(!c.to_masked_toml().contains(TOKEN));
}

/// With `metrics.listen`, `/metrics` is served there (no token: a private address) and not on
/// the public listener; with `log_format = "json"` every log line is one JSON object.
#[test]
fn metrics_on_their_own_address_and_json_logs() {
    let server = Server::start(&[
        ("PORCHLIGHT_METRICS_ENABLED", "true"),
        ("PORCHLIGHT_METRICS_LISTEN", "127.0.0.1:0"),
        ("PORCHLIGHT_LOG_FORMAT", "json"),
        ("PORCHLIGHT_LOG_LEVEL", "info"),
    ]);
    let line = server
        .line_with("Metrics (Prometheus) on http://")
        .expect("the metrics address is printed");
    let url = line.split(" on ").nth(1).unwrap().trim().to_string();
    let agent = http_agent();
    let (status, _) = http_get(&agent, &server.url("/login"));
    assert_eq!(status, 200);
    let (status, _) = http_get(&agent, &server.url("/metrics"));
    assert_eq!(status, 404, "metrics leaked onto the public listener");
    let (status, body) = http_get(&agent, &url);
    assert_eq!(status, 200);
    assert!(
        body.contains("porchlight_http_requests_total{family=\"staff\",status=\"200\"} 1"),
        "{body}"
    );
    let (status, _) = http_get(&agent, &url.replace("/metrics", "/login"));
    assert_eq!(status, 404);
    // Logs: the access line for /login is there, as JSON with the usual fields.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let logs: Vec<serde_json::Value> = server
            .printed()
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if let Some(access) = logs.iter().find(|v| {
            v["target"] == "access"
                && v["msg"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("GET /login 200")
        }) {
            assert_eq!(access["level"], "INFO");
            assert!(access["ts"].as_str().unwrap().ends_with('Z'));
            assert!(
                logs.iter()
                    .all(|v| v["ts"].is_string() && v["msg"].is_string())
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", server.printed());
        std::thread::sleep(Duration::from_millis(100));
    }
}
