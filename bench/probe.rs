//! Connection-layer probes for `bench/run.sh` (run with `cargo run --release --example probe`).
//!
//! - `burst`: on a freshly started server, N simultaneous keep-alive connections each send one
//!   request; prints how many were answered within 1 s, per trial.
//! - `idle`: opens many idle connections, then checks that a new client is still answered at
//!   once, that the server's memory stays bounded, and that the idle timeout closes them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn usage() -> ! {
    eprintln!(
        "usage: probe burst BIN [TRIALS] [SIZES e.g. 8,32]\n       probe idle BIN [CONNECTIONS] [IDLE_TIMEOUT_SECS]"
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    porchlight::server::raise_fd_limit();
    match args.get(1).map(String::as_str) {
        Some("burst") => {
            let bin = args.get(2).unwrap_or_else(|| usage());
            let trials: usize = args
                .get(3)
                .map_or(20, |s| s.parse().unwrap_or_else(|_| usage()));
            let sizes: Vec<usize> = args
                .get(4)
                .map_or("8,32", String::as_str)
                .split(',')
                .map(|s| s.parse().unwrap_or_else(|_| usage()))
                .collect();
            burst(bin, trials, &sizes);
        }
        Some("idle") => {
            let bin = args.get(2).unwrap_or_else(|| usage());
            let n: usize = args
                .get(3)
                .map_or(1000, |s| s.parse().unwrap_or_else(|_| usage()));
            let timeout: u64 = args
                .get(4)
                .map_or(3, |s| s.parse().unwrap_or_else(|_| usage()));
            idle(bin, n, timeout);
        }
        _ => usage(),
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
    dir: std::path::PathBuf,
}

impl Server {
    fn start(bin: &str, env: &[(&str, String)]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "porchlight-probe-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .env("PORCHLIGHT_LOG_LEVEL", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start porchlight");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server printed its address")
                .expect("stdout");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr, dir }
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

/// Sends one GET on a fresh keep-alive connection; returns how long the full response took,
/// or `None` if it did not come within `limit`. The connection is returned still open.
fn one_request(
    addr: SocketAddr,
    path: &str,
    limit: Duration,
) -> (Option<Duration>, Option<TcpStream>) {
    let started = Instant::now();
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, limit) else {
        return (None, None);
    };
    stream.set_read_timeout(Some(limit)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (None, None);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return (None, Some(stream)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if buf.len() >= head_end + 4 + length {
                let elapsed = started.elapsed();
                return ((elapsed <= limit).then_some(elapsed), Some(stream));
            }
        }
    }
}

fn burst(bin: &str, trials: usize, sizes: &[usize]) {
    let limit = Duration::from_secs(1);
    let mut all_ok = true;
    for trial in 1..=trials {
        let server = Server::start(bin, &[]);
        let mut parts = Vec::new();
        for &n in sizes {
            let barrier = Arc::new(Barrier::new(n));
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let barrier = Arc::clone(&barrier);
                    let addr = server.addr;
                    std::thread::spawn(move || {
                        barrier.wait();
                        one_request(addr, "/login", limit)
                    })
                })
                .collect();
            // Keep every connection open until the whole burst is measured, as browsers do.
            let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let answered: Vec<Duration> = results.iter().filter_map(|(d, _)| *d).collect();
            let slowest = answered.iter().max().copied().unwrap_or_default();
            all_ok &= answered.len() == n;
            parts.push(format!(
                "{n} conns: {}/{n} answered within 1 s (slowest {:.1} ms)",
                answered.len(),
                slowest.as_secs_f64() * 1e3
            ));
        }
        println!("burst trial {trial:>2}: {}", parts.join("; "));
    }
    println!(
        "burst: {}",
        if all_ok {
            "every request answered within 1 s in every trial"
        } else {
            "SOME REQUESTS WERE NOT ANSWERED WITHIN 1 s"
        }
    );
    if !all_ok {
        std::process::exit(1);
    }
}

fn idle(bin: &str, n: usize, idle_timeout: u64) {
    let server = Server::start(
        bin,
        &[(
            "PORCHLIGHT_SERVER_IDLE_TIMEOUT_SECS",
            idle_timeout.to_string(),
        )],
    );
    let (warm, _) = one_request(server.addr, "/healthz", Duration::from_secs(5));
    assert!(warm.is_some(), "server answers");
    let rss_before = server.rss_kb();
    let mut idle: Vec<TcpStream> = Vec::with_capacity(n);
    for _ in 0..n {
        idle.push(TcpStream::connect(server.addr).expect("open an idle connection"));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (fresh, _) = one_request(server.addr, "/login", Duration::from_secs(5));
    let rss_with_idle = server.rss_kb();
    match fresh {
        Some(d) => println!(
            "idle: with {n} idle connections open, a new client was answered in {:.1} ms",
            d.as_secs_f64() * 1e3
        ),
        None => println!(
            "idle: with {n} idle connections open, a new client was NOT answered within 5 s"
        ),
    }
    println!(
        "idle: server RSS {:.1} MB before, {:.1} MB with {n} idle connections (+{:.1} KB each)",
        rss_before as f64 / 1024.0,
        rss_with_idle as f64 / 1024.0,
        (rss_with_idle.saturating_sub(rss_before)) as f64 / n as f64
    );
    std::thread::sleep(Duration::from_secs(idle_timeout + 2));
    let closed = idle
        .iter_mut()
        .filter_map(|s| {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            matches!(s.read(&mut [0u8; 1]), Ok(0)).then_some(())
        })
        .count();
    println!(
        "idle: {closed}/{n} idle connections closed by the server after its {idle_timeout} s idle timeout"
    );
    if fresh.is_none() || closed != n {
        std::process::exit(1);
    }
}
