//! The worker pool: N threads, each owning one SQLite connection, running `web::handle` for
//! requests queued by the connection tasks.

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
        let mut threads = Vec::with_capacity(size);
        for i in 0..size {
            let db = app.store.connect()?;
            let app = Arc::clone(&app);
            let receiver = Arc::clone(&receiver);
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
                        let response = crate::web::handle(&app, &db, &job.request, job.upload);
                        let _ = job.reply.send(prepare(response));
                    }
                })
                .map_err(|e| Error::Io("starting a worker thread".into(), e))?;
            threads.push(thread);
        }
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
