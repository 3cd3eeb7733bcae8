//! The connection layer: accepts TCP connections, speaks HTTP/1.1 with hyper, and hands each
//! request to [`App::handle`] on a fixed pool of worker threads.
//!
//! Why not rouille's own server: rouille 3.6 runs on tiny_http 0.12, and measured here that
//! (a) stalls every keep-alive response over ~1 KB by ~40 ms (Nagle's algorithm meets the
//! client's delayed ACK: 91 req/s, p50 44 ms on an 8.7 KB page), (b) sets no read timeout, so an
//! idle keep-alive connection holds a thread forever, and (c) under a burst of 8 simultaneous
//! keep-alive connections on a fresh server left 3–4 of them unanswered for over 5 s in 3 of 6
//! trials (its task pool queues connections behind threads that each serve one keep-alive
//! connection for life). tiny_http has no newer release.
//!
//! So rouille stays the framework (routing, input parsing, `Response`) and hyper — the most
//! widely used Rust HTTP implementation — does the protocol: keep-alive, pipelining, HEAD,
//! `Expect: 100-continue`, chunked bodies, header limits (431). Connections are tasks on a small
//! tokio runtime, so 1,000 idle connections cost memory, not threads; a connection never waits
//! for another. Handlers stay synchronous: each request is sent to one of N worker threads that
//! own a SQLite connection each, and the response comes back over a oneshot channel.
//!
//! Limits, all from `[server]` in the config: a connection with no complete request head within
//! `idle_timeout_secs` is closed (idle keep-alive and slow-header clients alike); a body must
//! arrive within `body_timeout_secs` (else 408) and fit `upload_limit_mb` (else 413, decided from
//! `Content-Length` before anything is read); headers over 16 KiB get 431; at most
//! `max_connections` are open at once. SIGTERM/SIGINT stop accepting, let requests in flight
//! finish for up to `shutdown_grace_secs`, then return; a second signal exits at once.

mod worker;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::error::{Error, IoContext, Result};
use worker::{Job, Pool};

/// Largest request head (request line + headers) accepted; more gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Settings the connection layer needs, copied out of the config once.
#[derive(Clone)]
struct Limits {
    idle_timeout: Duration,
    body_timeout: Duration,
    body_limit: usize,
    trust_forwarded_for: bool,
}

/// Serves `app` on `listener` until SIGTERM or SIGINT, then drains and returns.
pub fn run(app: Arc<App>, listener: std::net::TcpListener) -> Result<()> {
    raise_fd_limit();
    let config = &app.config;
    let limits = Limits {
        idle_timeout: Duration::from_secs(config.server.idle_timeout_secs),
        body_timeout: Duration::from_secs(config.server.body_timeout_secs),
        body_limit: config.upload_limit_bytes(),
        trust_forwarded_for: config.server.trust_forwarded_for,
    };
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let max_connections = config.server.max_connections;
    let pool = Pool::start(Arc::clone(&app), config.workers())?;

    let io_threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads)
        .thread_name("porchlight-io")
        .enable_all()
        .build()
        .io_context(|| "starting the I/O runtime")?;
    listener
        .set_nonblocking(true)
        .io_context(|| "configuring the listener")?;
    let result = runtime.block_on(accept_loop(
        listener,
        pool.sender(),
        limits,
        max_connections,
        grace,
    ));
    // Stop the runtime first (it may still hold job senders), then let workers finish their jobs.
    runtime.shutdown_timeout(Duration::from_secs(1));
    pool.join();
    result
}

async fn accept_loop(
    listener: std::net::TcpListener,
    jobs: worker::Sender,
    limits: Limits,
    max_connections: usize,
    grace: Duration,
) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listener = TcpListener::from_std(listener).io_context(|| "registering the listener")?;
    let mut sigterm =
        signal(SignalKind::terminate()).io_context(|| "installing the SIGTERM handler")?;
    let mut sigint =
        signal(SignalKind::interrupt()).io_context(|| "installing the SIGINT handler")?;
    let slots = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        // Why: bounds what a client can make us buffer before its head is complete.
        .max_buf_size(2 * MAX_HEADER_BYTES)
        .keep_alive(true);
    let limits = Arc::new(limits);

    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("semaphore is never closed"),
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: log, back off briefly, keep serving existing clients.
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        };
        // Why: with Nagle's algorithm on, a response written in more than one segment waits for
        // the client's delayed ACK (~40 ms) on keep-alive connections. Responses are complete
        // when written, so there is nothing to coalesce: send at once.
        let _ = stream.set_nodelay(true);
        let jobs = jobs.clone();
        let limits = Arc::clone(&limits);
        let service = service_fn(move |req| handle(req, peer, jobs.clone(), Arc::clone(&limits)));
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                log::debug!("connection from {peer}: {e}");
            }
            drop(slot);
        });
    }

    log::info!(
        "shutting down: no new connections; waiting up to {}s for requests in flight",
        grace.as_secs()
    );
    drop(listener);
    tokio::spawn(async move {
        // A second signal means "now".
        tokio::select! {
            _ = sigterm.recv() => {},
            _ = sigint.recv() => {},
        }
        log::warn!("second signal: exiting immediately");
        std::process::exit(130);
    });
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!(
            "requests still running after {}s; closing them",
            grace.as_secs()
        );
    }
    Ok(())
}

/// One request: bound and collect its body, run it on a worker, convert the response.
async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    jobs: worker::Sender,
    limits: Arc<Limits>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_limit as u64) {
        // Decided before reading a byte of the body (no "100 Continue" is sent either).
        return Ok(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large\n",
            true,
        ));
    }
    let client = client_addr(&req, peer, limits.trust_forwarded_for);
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, limits.body_limit).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large\n",
                true,
            ));
        }
        Ok(Err(e)) => {
            log::debug!("reading a request body from {peer}: {e}");
            return Ok(plain(StatusCode::BAD_REQUEST, "Bad request body\n", true));
        }
        Err(_) => {
            return Ok(plain(
                StatusCode::REQUEST_TIMEOUT,
                "Request body too slow\n",
                true,
            ));
        }
    };

    // HEAD runs as GET; hyper leaves the body out of the response.
    let method = if parts.method == hyper::Method::HEAD {
        "GET".to_string()
    } else {
        parts.method.to_string()
    };
    let url = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers = parts
        .headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect();
    let request = rouille::Request::fake_http_from(client, method, url, headers, body.to_vec());

    let (reply, response) = tokio::sync::oneshot::channel();
    if jobs.send(Job { request, reply }).await.is_err() {
        return Ok(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Shutting down\n",
            true,
        ));
    }
    let Ok(prepared) = response.await else {
        return Ok(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error\n",
            true,
        ));
    };
    let mut out = Response::new(Full::new(Bytes::from(prepared.body)));
    *out.status_mut() =
        StatusCode::from_u16(prepared.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in prepared.headers {
        let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::try_from(name),
            HeaderValue::try_from(value),
        ) else {
            continue;
        };
        out.headers_mut().append(name, value);
    }
    Ok(out)
}

/// The client's address: the TCP peer, or — behind a trusted proxy — the last address in
/// `X-Forwarded-For` (the one the proxy itself appended).
fn client_addr<B>(req: &Request<B>, peer: SocketAddr, trust_forwarded_for: bool) -> SocketAddr {
    if trust_forwarded_for {
        // Only the last entry was written by our proxy; anything before it came from the client.
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return SocketAddr::new(ip, peer.port());
        }
    }
    peer
}

fn plain(status: StatusCode, text: &'static str, close: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if close {
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// Lifts the soft open-files limit to the hard limit: every connection is a file descriptor,
/// and the common default soft limit (1024) is far below `max_connections`.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                log::debug!("could not raise the open-files limit");
            }
        }
    }
}

/// Binds the listening socket (separate from `run` so the caller can print the address first).
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr).map_err(|e| Error::Io(format!("listening on {addr}"), e))
}
