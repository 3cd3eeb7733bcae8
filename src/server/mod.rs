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
//! Measured with this layer (`bench/run.sh`, 2 cores, wrk on the same machine): 20 of 20 trials
//! of 8 and then 32 simultaneous keep-alive connections on a fresh server answered every request
//! within 1 s (slowest ~16 ms); 1,000 idle connections cost ~12 KB each and a new client is still
//! answered in ~1 ms; a 14.5 KB stylesheet is served at 24,000–33,000 req/s over keep-alive
//! (p99 ~2 ms), and an 8.7 KB-class page with database work and templates at 4,000–6,000.
//!
//! So rouille stays the framework (routing, input parsing, `Response`) and hyper — the most
//! widely used Rust HTTP implementation — does the protocol: keep-alive, pipelining, HEAD,
//! `Expect: 100-continue`, chunked bodies, header limits (431). Connections are tasks on a small
//! tokio runtime, so 1,000 idle connections cost memory, not threads; a connection never waits
//! for another. Handlers stay synchronous: each request is sent to one of N worker threads that
//! own a SQLite connection each, and the response comes back over a oneshot channel.
//!
//! Limits, from `[server]` in the config: a connection with no complete request head within
//! `idle_timeout_secs` is closed (idle keep-alive and slow-header clients alike), and so is one
//! whose client stops reading our responses for as long (`timed_io`); a body must arrive within
//! `body_timeout_secs` (else 408) and fit its limit — 1 MiB for forms, `upload_limit_mb` for
//! multipart uploads (else 413, decided from `Content-Length` before anything is read); headers
//! over 16 KiB get 431; at most `max_connections` are open at once. SIGTERM/SIGINT stop
//! accepting, let requests in flight finish for up to `shutdown_grace_secs`, then return; a
//! second signal exits at once.
//!
//! Bodies (`crate::body`): a request holds memory only for what it has actually sent — never
//! its declared length — from one budget shared by all; multipart file parts stream to
//! temporary files under the data dir (a budget of their own), so memory holds only small forms
//! and part headers. When a budget is used up the request gets 503 + `Retry-After` at once:
//! nobody queues behind a client that sends slowly or not at all. A multipart body that is
//! malformed or cut off before its closing boundary gets 400 and reaches no handler.
//!
//! Every answer this layer makes itself carries the security headers, and so do the few that
//! hyper writes on its own (unparsable heads): `timed_io` adds them on the way out.

mod timed_io;
mod worker;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::body::{self, BodyError};
use crate::error::{Error, IoContext, Result};
use crate::net::Cidr;
use worker::{Job, Pool};

/// Largest request head (request line + headers) accepted; more gets 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Connections the metrics listener keeps open at once (a scraper needs one).
const METRICS_CONNECTIONS: usize = 8;

/// How long workers may take to finish after the connections are gone, before giving up.
const WORKER_STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Settings the connection layer needs, copied out of the config once.
struct Limits {
    idle_timeout: Duration,
    body_timeout: Duration,
    /// Form and upload sizes.
    body: body::Limits,
    /// Request body bytes held in memory at once, across all connections.
    memory: body::Budget,
    /// Bytes of uploads being received into temporary files, across all connections.
    disk: body::Budget,
    /// Where uploads are received.
    tmp_dir: std::path::PathBuf,
    trusted_proxies: Vec<Cidr>,
    /// For counting the refusals this layer makes (`Metrics::busy`).
    app: Arc<App>,
}

/// Serves `app` on `listener` until SIGTERM or SIGINT, then drains and returns.
pub fn run(app: Arc<App>, listener: std::net::TcpListener) -> Result<()> {
    raise_fd_limit();
    let config = &app.config;
    let upload_limit = config.upload_limit_bytes();
    let limits = Limits {
        idle_timeout: Duration::from_secs(config.server.idle_timeout_secs),
        body_timeout: Duration::from_secs(config.server.body_timeout_secs),
        body: body::Limits {
            form: crate::web::FORM_LIMIT.min(upload_limit),
            upload: upload_limit,
            file: config.file_limit_bytes(),
        },
        // Why this disk size: 32 uploads of the largest kind (at least 1 GiB) being received at
        // once before anyone is told to come back.
        memory: body::Budget::new((config.server.body_memory_mb as usize) << 20),
        disk: body::Budget::new((32 * upload_limit).max(1 << 30)),
        tmp_dir: body::tmp_dir(&config.data_dir),
        trusted_proxies: config
            .server
            .trusted_proxies
            .iter()
            .filter_map(|p| Cidr::parse(p))
            .collect(),
        app: Arc::clone(&app),
    };
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let max_connections = config.server.max_connections;
    let pool = Pool::start(Arc::clone(&app), config.workers())?;
    exit_on_second_signal();

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
    // Dropping the runtime drops what is left of the connections; queued jobs whose client is
    // gone are then skipped by the workers.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if !pool.join_within(WORKER_STOP_DEADLINE) {
        return Err(Error::Other(format!(
            "request handlers still running {}s after the connections closed; exiting without a final checkpoint",
            WORKER_STOP_DEADLINE.as_secs()
        )));
    }
    result
}

/// Serves `GET /metrics` (and nothing else) on `listener`, an address of its own for a scraper
/// on a private network, on a thread and small runtime of its own for the process's lifetime.
/// At most `METRICS_CONNECTIONS` connections, and one scrape at a time reads the database (on a
/// blocking thread, with a connection of its own): whoever reaches the port cannot take threads
/// or file descriptors from the main server.
pub fn serve_metrics(app: Arc<App>, listener: std::net::TcpListener) -> Result<()> {
    listener
        .set_nonblocking(true)
        .io_context(|| "configuring the metrics listener")?;
    std::thread::Builder::new()
        .name("porchlight-metrics".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    log::error!("metrics listener: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    log::error!("metrics listener: could not register the socket");
                    return;
                };
                let slots = Arc::new(Semaphore::new(METRICS_CONNECTIONS));
                let scrape = Arc::new(Semaphore::new(1));
                loop {
                    let slot = Arc::clone(&slots)
                        .acquire_owned()
                        .await
                        .expect("semaphore is never closed");
                    let Ok((stream, peer)) = listener.accept().await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let app = Arc::clone(&app);
                    let scrape = Arc::clone(&scrape);
                    let service = service_fn(move |req: Request<Incoming>| {
                        let app = Arc::clone(&app);
                        let scrape = Arc::clone(&scrape);
                        async move {
                            let _one = scrape.acquire_owned().await.expect("never closed");
                            Ok::<_, Infallible>(
                                metrics_answer(app, req.method(), req.uri().path()).await,
                            )
                        }
                    });
                    tokio::spawn(async move {
                        let _slot = slot;
                        let conn = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(Duration::from_secs(10))
                            .serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = conn.await {
                            log::debug!("metrics connection from {peer}: {e}");
                        }
                    });
                }
            });
        })
        .io_context(|| "starting the metrics thread")?;
    Ok(())
}

async fn metrics_answer(
    app: Arc<App>,
    method: &hyper::Method,
    path: &str,
) -> Response<Full<Bytes>> {
    if path != "/metrics" || (method != hyper::Method::GET && method != hyper::Method::HEAD) {
        return plain(
            StatusCode::NOT_FOUND,
            "Not found: only /metrics is served here\n",
            false,
        );
    }
    let rendered = tokio::task::spawn_blocking(move || {
        let db = app.store.connect()?;
        app.metrics.render(&app.config, &db)
    })
    .await
    .unwrap_or_else(|e| Err(Error::Other(format!("the scrape's thread failed: {e}"))));
    match rendered {
        Ok(text) => {
            let mut r = Response::new(Full::new(Bytes::from(text)));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
            );
            r
        }
        Err(e) => {
            log::error!("metrics: {e}");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics unavailable\n",
                false,
            )
        }
    }
}

/// Counts SIGTERM/SIGINT on a thread and runtime of its own (so it outlives the server's
/// runtime): the first is the server's cue to drain; the second exits at once, whatever is
/// still running.
fn exit_on_second_signal() {
    let spawned = std::thread::Builder::new()
        .name("porchlight-signals".into())
        .spawn(|| {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                for _ in 0..2 {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                log::warn!("second signal: exiting immediately");
                std::process::exit(130);
            });
        });
    if let Err(e) = spawned {
        log::warn!("could not watch for a second signal: {e}");
    }
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
        let io = timed_io::TimedIo::new(stream, limits.idle_timeout, own_answer_header_lines());
        let limits = Arc::clone(&limits);
        let service = service_fn(move |req| handle(req, peer, jobs.clone(), Arc::clone(&limits)));
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
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

/// One request: read its body as it streams, run it on a worker, convert the response.
async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    jobs: worker::Sender,
    limits: Arc<Limits>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = match body::multipart_boundary(content_type).transpose() {
        Ok(boundary) => boundary,
        Err(_) => return Ok(refused(&BodyError::Malformed(String::new()))),
    };
    let limit = if boundary.is_some() {
        limits.body.upload
    } else {
        limits.body.form
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Decided before reading a byte of the body (no "100 Continue" is sent either).
        return Ok(refused(&BodyError::TooLarge));
    }
    let client = client_addr(&req, peer, &limits.trusted_proxies);
    let (parts, incoming) = req.into_parts();
    let has_body = declared.is_some_and(|n| n > 0) || parts.headers.contains_key(TRANSFER_ENCODING);

    // Read the body as it arrives. The hold keeps what the request has in memory counted until
    // the response exists; uploads' temporary files go when `upload` is dropped.
    let hold = limits.memory.hold();
    let read = async {
        match (&boundary, has_body) {
            (Some(boundary), _) => body::read_multipart(
                incoming,
                boundary,
                &limits.body,
                &hold,
                &limits.disk,
                &limits.tmp_dir,
            )
            .await
            .map(|form| (Vec::new(), Some(form))),
            (None, true) => body::read_form(incoming, limit, &hold)
                .await
                .map(|bytes| (bytes, None)),
            (None, false) => Ok((Vec::new(), None)),
        }
    };
    let (bytes, upload) = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => {
            if matches!(e, BodyError::Busy) {
                limits.app.metrics.busy();
            }
            if let BodyError::Io(why) = &e {
                log::error!("receiving an upload from {peer}: {why}");
            } else {
                log::debug!("refused a request body from {peer}: {e}");
            }
            return Ok(refused(&e));
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
    let request = rouille::Request::fake_http_from(client, method, url, headers, bytes);

    let (reply, response) = tokio::sync::oneshot::channel();
    let job = Job {
        request,
        upload,
        reply,
    };
    if jobs.send(job).await.is_err() {
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
    drop(hold);
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

/// The plain answer to a body this layer refused; the connection is closed after it, since the
/// rest of the body was not read.
fn refused(e: &BodyError) -> Response<Full<Bytes>> {
    match e {
        BodyError::TooLarge => plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large\n",
            true,
        ),
        BodyError::Malformed(_) => plain(StatusCode::BAD_REQUEST, "Bad request body\n", true),
        BodyError::Busy => {
            let mut r = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy: too many requests are sending data right now. Try again in a few seconds.\n",
                true,
            );
            r.headers_mut().insert(
                "retry-after",
                HeaderValue::from_static(crate::web::respond::RETRY_AFTER_SECS),
            );
            r
        }
        BodyError::Io(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not store the upload\n",
            true,
        ),
    }
}

/// The client's address: the TCP peer, or — when the peer is a trusted reverse proxy — the last
/// address in `X-Forwarded-For` (the one that proxy appended; anything before it came from the
/// client and could be made up).
fn client_addr<B>(req: &Request<B>, peer: SocketAddr, trusted_proxies: &[Cidr]) -> SocketAddr {
    if trusted_proxies.iter().any(|c| c.contains(peer.ip())) {
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

/// The headers on answers this layer (or hyper) makes without a handler: the security headers
/// every response carries, and — the URL may hold a secret — no referrer and no caching.
fn own_answer_headers() -> impl Iterator<Item = (&'static str, &'static str)> {
    crate::web::respond::SECURITY_HEADERS
        .iter()
        .copied()
        .chain([
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ])
}

/// [`own_answer_headers`] as header lines, for `timed_io` to add to hyper's own answers.
fn own_answer_header_lines() -> &'static [u8] {
    static LINES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        own_answer_headers()
            .flat_map(|(name, value)| format!("{name}: {value}\r\n").into_bytes())
            .collect()
    })
}

/// A short text answer made by this layer, with the headers every response carries.
fn plain(status: StatusCode, text: &'static str, close: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    for (name, value) in own_answer_headers() {
        if let Ok(name) = hyper::header::HeaderName::from_bytes(name.as_bytes()) {
            r.headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
    }
    if close {
        r.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// Lifts the soft open-files limit to the hard limit: every connection is a file descriptor,
/// and the common default soft limit (1024) is far below `max_connections`.
pub fn raise_fd_limit() {
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
