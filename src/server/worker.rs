//! The worker pool: N threads, each owning one SQLite connection, running `web::handle` for
//! requests queued by the connection tasks.
//!
//! A request that wrote does not hold its worker while the write is made durable: the worker
//! hands the finished response to one syncing thread and takes the next request. That thread
//! waits until the request's commit is on disk (`Store::durable`: one fsync for every
//! response waiting), and only then releases the response. A client is never told of a write
//! that a power cut could still undo; if the sync fails, the client gets an error instead.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::app::App;
use crate::error::{Error, Result};

/// A request waiting for a worker, and where to send its response.
pub struct Job {
    pub request: rouille::Request,
    /// A multipart body already parsed while it streamed (its files removed after the job).
    pub upload: Option<crate::body::Multipart>,
    pub reply: tokio::sync::oneshot::Sender<Prepared>,
}

/// A response with its body read out, ready for hyper.
pub struct Prepared {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub type Sender = tokio::sync::mpsc::Sender<Job>;

pub struct Pool {
    sender: Option<Sender>,
    threads: Vec<JoinHandle<()>>,
}

/// A response held until the commit its request wrote is on disk.
struct Held {
    commit: u64,
    reply: tokio::sync::oneshot::Sender<Prepared>,
    prepared: Prepared,
}

/// Headers the transport sets itself; a handler's value for them is dropped (as rouille does).
const TRANSPORT_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "trailer",
    "upgrade",
];

impl Pool {
    /// Starts `size` workers, each with its own database connection.
    pub fn start(app: Arc<App>, size: usize) -> Result<Pool> {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Job>(size * 64);
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::with_capacity(size + 1);
        let (hold, held) = std::sync::mpsc::channel::<Held>();
        let store = app.store.clone();
        let syncer = std::thread::Builder::new()
            .name("porchlight-sync".into())
            .spawn(move || release_when_durable(&store, &held))
            .map_err(|e| Error::Io("starting the sync thread".into(), e))?;
        for i in 0..size {
            let db = app.store.connect()?;
            let app = Arc::clone(&app);
            let receiver = Arc::clone(&receiver);
            let hold = hold.clone();
            let thread = std::thread::Builder::new()
                .name(format!("porchlight-worker-{i}"))
                .spawn(move || {
                    loop {
                        // One idle worker waits on the channel; the others wait on the mutex.
                        let job = receiver
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .blocking_recv();
                        let Some(job) = job else { break };
                        if job.reply.is_closed() {
                            // The client is gone (disconnected, or shut down with the server):
                            // don't run work nobody will see — nor repeat it if they retry.
                            continue;
                        }
                        let (response, commit) = crate::store::defer_durability(|| {
                            crate::web::handle(&app, &db, &job.request, job.upload)
                        });
                        let prepared = prepare(response);
                        let Some(commit) = commit else {
                            let _ = job.reply.send(prepared);
                            continue;
                        };
                        let held = Held {
                            commit,
                            reply: job.reply,
                            prepared,
                        };
                        if let Err(std::sync::mpsc::SendError(held)) = hold.send(held) {
                            // The sync thread is gone (it never is but for a panic): wait here.
                            release(app.store.durable(held.commit), vec![held]);
                        }
                    }
                })
                .map_err(|e| Error::Io("starting a worker thread".into(), e))?;
            threads.push(thread);
        }
        // Joined last: it ends once every worker (holding its channel) has.
        threads.push(syncer);
        Ok(Pool {
            sender: Some(sender),
            threads,
        })
    }

    pub fn sender(&self) -> Sender {
        self.sender.clone().expect("pool is running")
    }

    /// Closes the queue and waits up to `deadline` for the workers to finish what they are
    /// doing; `false` when some are still busy then.
    pub fn join_within(mut self, deadline: std::time::Duration) -> bool {
        self.sender = None;
        let threads: Vec<_> = self.threads.drain(..).collect();
        let (done, finished) = std::sync::mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("porchlight-join".into())
            .spawn(move || {
                for t in threads {
                    let _ = t.join();
                }
                let _ = done.send(());
            });
        finished.recv_timeout(deadline).is_ok()
    }
}

/// The sync thread: takes every response waiting, makes the newest of their commits durable
/// (covering the older ones: the WAL is written in order) and releases them all; responses that
/// arrive during that fsync wait for the next one.
fn release_when_durable(store: &crate::store::Store, held: &std::sync::mpsc::Receiver<Held>) {
    while let Ok(first) = held.recv() {
        let mut batch = vec![first];
        batch.extend(held.try_iter());
        let newest = batch.iter().map(|h| h.commit).max().unwrap_or(0);
        release(store.durable(newest), batch);
    }
}

/// Sends each held response, or, when its write could not be made durable, an error in its
/// place: the client must not be told the write was saved.
fn release(durable: Result<()>, batch: Vec<Held>) {
    for held in batch {
        let prepared = match &durable {
            Ok(()) => held.prepared,
            Err(_) => Prepared {
                status: 500,
                headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
                body: b"The server could not save this change to disk. Please try again later.\n"
                    .to_vec(),
            },
        };
        let _ = held.reply.send(prepared);
    }
}

fn prepare(response: rouille::Response) -> Prepared {
    let status = response.status_code;
    let headers = response
        .headers
        .into_iter()
        .filter(|(k, _)| !TRANSPORT_HEADERS.iter().any(|t| k.eq_ignore_ascii_case(t)))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (mut reader, size) = response.data.into_reader_and_size();
    let mut body = Vec::with_capacity(size.unwrap_or(0));
    if let Err(e) = reader.read_to_end(&mut body) {
        log::error!("reading a response body: {e}");
        return Prepared {
            status: 500,
            headers: Vec::new(),
            body: b"Internal error\n".to_vec(),
        };
    }
    Prepared {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(commit: u64) -> (Held, tokio::sync::oneshot::Receiver<Prepared>) {
        let (reply, response) = tokio::sync::oneshot::channel();
        let prepared = Prepared {
            status: 303,
            headers: vec![("Location".into(), "/tickets/ACME-7".into())],
            body: Vec::new(),
        };
        (
            Held {
                commit,
                reply,
                prepared,
            },
            response,
        )
    }

    /// The sync thread releases a response that wrote only once its commit is on disk.
    #[test]
    fn the_sync_thread_releases_a_response_once_its_commit_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.sqlite3"),
            crate::store::Synchronous::Full,
        )
        .unwrap();
        let db = store.connect().unwrap();
        let (_, commit) = crate::store::defer_durability(|| db.write(|_| Ok(())).unwrap());
        let commit = commit.expect("the request wrote");
        assert!(store.synced_through() < commit);

        let (hold, held_responses) = std::sync::mpsc::channel();
        let (h, mut response) = held(commit);
        hold.send(h).unwrap();
        drop(hold);
        release_when_durable(&store, &held_responses);
        let sent = response.try_recv().expect("released");
        assert_eq!(sent.status, 303);
        assert!(store.synced_through() >= commit, "released once on disk");
    }

    /// Held responses go out as the handler made them once their writes are on disk; when the
    /// sync failed, every one of them becomes an error: nobody is told a change was saved.
    #[test]
    fn held_responses_go_out_only_when_durable() {
        let (a, mut a_response) = held(3);
        let (b, mut b_response) = held(4);
        release(Ok(()), vec![a, b]);
        for response in [&mut a_response, &mut b_response] {
            let sent = response.try_recv().expect("released");
            assert_eq!(sent.status, 303);
            assert_eq!(sent.headers[0].1, "/tickets/ACME-7");
        }

        let (c, mut c_response) = held(5);
        release(
            Err(Error::Other("syncing a write to disk: EIO".into())),
            vec![c],
        );
        let sent = c_response.try_recv().expect("released");
        assert_eq!(sent.status, 500);
        assert!(String::from_utf8_lossy(&sent.body).contains("could not save this change"));
        assert!(sent.headers.iter().all(|(k, _)| k != "Location"));
    }
}
