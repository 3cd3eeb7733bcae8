//! The real binary over real HTTP: the whole staff flow, and the keep-alive stall regression
//! (issue #2).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{Server, csrf_from, http_agent, http_get, http_post};

#[test]
fn setup_login_project_ticket_note_reply_status_over_http() {
    let server = Server::start(&[]);
    let setup = server
        .line_with("/setup/")
        .expect("setup link")
        .trim()
        .to_string();
    let agent = http_agent();

    let (status, page) = http_get(&agent, &setup);
    assert_eq!(status, 200);
    let fields = [("csrf_token", csrf_from(&page))];
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.extend([
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("password", "correct horse"),
        ("password_confirm", "correct horse"),
    ]);
    let (status, location, _) = http_post(&agent, &setup, &form);
    assert_eq!((status, location.as_str()), (303, "/projects/new"));

    // Sign out and back in with the form, as a person would.
    let (_, page) = http_get(&agent, &server.url("/"));
    let (status, _, _) = http_post(
        &agent,
        &server.url("/logout"),
        &[("csrf_token", &csrf_from(&page))],
    );
    assert_eq!(status, 303);
    let (_, page) = http_get(&agent, &server.url("/login"));
    let token = csrf_from(&page);
    let (status, _, body) = http_post(
        &agent,
        &server.url("/login"),
        &[
            ("csrf_token", &token),
            ("email", "ada@example.com"),
            ("password", "wrong password"),
        ],
    );
    assert_eq!(status, 401, "{body}");
    let (status, location, _) = http_post(
        &agent,
        &server.url("/login"),
        &[
            ("csrf_token", &token),
            ("email", "ada@example.com"),
            ("password", "correct horse"),
        ],
    );
    assert_eq!((status, location.as_str()), (303, "/"));

    let (_, page) = http_get(&agent, &server.url("/projects/new"));
    let token = csrf_from(&page);
    let (status, location, _) = http_post(
        &agent,
        &server.url("/projects/new"),
        &[("csrf_token", &token), ("name", "Acme"), ("key", "ACME")],
    );
    assert_eq!((status, location.as_str()), (303, "/projects/ACME"));

    let (status, location, _) = http_post(
        &agent,
        &server.url("/tickets/new"),
        &[
            ("csrf_token", &token),
            ("project", "ACME"),
            ("subject", "Contact form broken"),
            ("body", "Nothing *arrives*"),
            ("priority", "high"),
        ],
    );
    assert_eq!((status, location.as_str()), (303, "/tickets/ACME-1"));

    let ticket = server.url("/tickets/ACME-1");
    let (status, _, _) = http_post(
        &agent,
        &format!("{ticket}/note"),
        &[("csrf_token", &token), ("note", "Mail relay is down")],
    );
    assert_eq!(status, 303);
    let (status, _, _) = http_post(
        &agent,
        &format!("{ticket}/reply"),
        &[("csrf_token", &token), ("reply", "Fixed, please retry")],
    );
    assert_eq!(status, 303);
    let (status, _, _) = http_post(
        &agent,
        &format!("{ticket}/update"),
        &[
            ("csrf_token", &token),
            ("status", "resolved"),
            ("priority", "high"),
            ("assignee", ""),
            ("expected_by", ""),
        ],
    );
    assert_eq!(status, 303);

    let (status, page) = http_get(&agent, &ticket);
    assert_eq!(status, 200);
    assert!(page.contains("<em>arrives</em>"));
    assert!(
        page.contains("Mail relay is down")
            && page.contains("Internal note — never shown to the client")
    );
    assert!(page.contains("Fixed, please retry") && page.contains("Reply · visible to the client"));
    assert!(page.contains("changed the status from Open to <strong>Resolved</strong>"));
    let (_, inbox) = http_get(&agent, &server.url("/?status=resolved"));
    assert!(inbox.contains("ACME-1") && inbox.contains("Contact form broken"));
}

/// Reads one HTTP/1.1 response with a Content-Length body from `stream`.
pub fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read head");
        assert!(
            n == 1,
            "connection closed mid-head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read body");
    (head, body)
}

// #2: Nagle's algorithm + delayed ACK made every keep-alive response over ~1 KB wait ~40 ms.
// Stalled, N requests take at least N × 40 ms; unstalled, a few ms each even in a debug build.
#[test]
fn keep_alive_responses_over_1kb_do_not_stall() {
    let server = Server::start(&[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET /login HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    // Warm up (first request may pay for template compilation and connection setup).
    stream.write_all(request.as_bytes()).unwrap();
    let (_, body) = read_response(&mut stream);
    assert!(
        body.len() > 1024,
        "the page must be over 1 KB to exercise the stall ({} bytes)",
        body.len()
    );
    const N: u32 = 40;
    let started = Instant::now();
    for _ in 0..N {
        stream.write_all(request.as_bytes()).unwrap();
        let (head, _) = read_response(&mut stream);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    let elapsed = started.elapsed();
    let stall_floor = Duration::from_millis(40) * N;
    assert!(
        elapsed < stall_floor / 2,
        "{N} keep-alive requests took {elapsed:?}; stalled they take ≥ {stall_floor:?}"
    );
}
