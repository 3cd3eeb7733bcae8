//! Request bodies as they arrive: url-encoded forms collected in memory, and multipart forms
//! parsed while they stream, their file parts written to temporary files.
//!
//! Memory is accounted in one shared [`Budget`]: a request holds only what it has actually sent
//! and not yet handed on (a form's bytes, a multipart's text fields and part headers, what the
//! parser buffers). When the budget is used up the request is refused at once with
//! [`BodyError::Busy`] (the connection layer answers 503 + `Retry-After`), so nobody ever queues
//! behind a client that sends slowly or not at all. Files go to disk under a budget of their own
//! and are removed when their [`Upload`] is dropped, i.e. when the request ends.
//!
//! Why multer: it is the maintained streaming parser the hyper/axum ecosystem uses, reads a part
//! as it arrives instead of buffering the body, and reports a body cut before its closing
//! boundary as an error — rouille's `multipart` (unmaintained) treated that as the end of the
//! form. Compared with `mpart-async` (smaller user base, same model) it also bounds part headers
//! to 32 and parses them with httparse. Nothing calls rouille's parser any more, but rouille 3.6
//! depends on the `multipart` crate unconditionally, so cargo still builds it (and prints its
//! future-incompatibility note) until rouille drops it.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body;
use tokio::io::AsyncWriteExt;

/// Bytes the parser may pull from the network before handing control back: bounds what it
/// buffers at once, however fast the client sends.
const ROUND_BYTES: usize = 64 * 1024;

/// File parts one multipart body may carry.
pub const MAX_FILES: usize = 32;

/// Why a body was refused.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than its limit (413).
    TooLarge,
    /// Not a well-formed body: bad encoding, cut off before its end, a broken part (400).
    Malformed(String),
    /// The shared memory or disk budget is used up: try again shortly (503).
    Busy,
    /// Writing a temporary file failed (500).
    Io(std::io::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge => f.write_str("request body too large"),
            BodyError::Malformed(why) => write!(f, "malformed request body: {why}"),
            BodyError::Busy => f.write_str("request body budget exhausted"),
            BodyError::Io(e) => write!(f, "storing an upload: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// A number of bytes shared by every request in flight. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Budget(Arc<BudgetInner>);

#[derive(Debug)]
struct BudgetInner {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget(Arc::new(BudgetInner {
            limit,
            used: AtomicUsize::new(0),
        }))
    }

    /// A budget nothing can exhaust (bodies parsed in-process, where the caller bounds them).
    pub fn unlimited() -> Budget {
        Budget::new(usize::MAX)
    }

    /// Bytes currently held by requests.
    pub fn used(&self) -> usize {
        self.0.used.load(Ordering::Relaxed)
    }

    /// A claim on this budget that holds nothing yet; what it takes is returned when dropped.
    pub fn hold(&self) -> Hold {
        Hold {
            budget: self.clone(),
            held: AtomicUsize::new(0),
        }
    }
}

/// What one request holds of a [`Budget`]; everything is given back on drop.
#[derive(Debug)]
pub struct Hold {
    budget: Budget,
    held: AtomicUsize,
}

impl Hold {
    /// Takes `n` more bytes, or refuses when the budget cannot spare them (never waits).
    pub fn take(&self, n: usize) -> Result<(), BodyError> {
        let inner = &self.budget.0;
        inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= inner.limit)
            })
            .map_err(|_| BodyError::Busy)?;
        self.held.fetch_add(n, Ordering::AcqRel);
        Ok(())
    }

    /// Bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Gives back up to `n` bytes (data that left memory, e.g. written to disk).
    pub fn give_back(&self, n: usize) {
        let mut given = 0;
        let _ = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                given = n.min(held);
                Some(held - given)
            });
        self.budget.0.used.fetch_sub(given, Ordering::AcqRel);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let held = *self.held.get_mut();
        self.budget.0.used.fetch_sub(held, Ordering::AcqRel);
    }
}

/// The limits a body is read under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A url-encoded form; also the text fields of a multipart form, together.
    pub form: usize,
    /// A multipart body as a whole.
    pub upload: usize,
    /// Each file in it: a file that grows past this is refused as it streams (its bytes are
    /// read on and dropped, never stored) and arrives marked [`Upload::too_large`], so the
    /// form can come back with the rest of what was typed and the reason beside the field.
    pub file: usize,
}

/// A file sent with a multipart form, in a temporary file that is removed when this is dropped.
#[derive(Debug)]
pub struct Upload {
    /// The form field's name.
    pub field: String,
    /// The name the client gave the file (untrusted: never used as a path).
    pub filename: String,
    /// The type the client claimed (untrusted: judge files by their bytes).
    pub content_type: Option<String>,
    /// Its size in bytes (for a file that was too large: how far it got before it was refused).
    pub size: u64,
    /// Larger than the per-file limit: nothing of it was kept (the temporary file is empty).
    pub too_large: bool,
    file: tempfile::TempPath,
    /// Its share of the disk budget, returned with the file when the request ends.
    _disk: Hold,
}

impl Upload {
    /// Where the bytes are, until this `Upload` is dropped.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Reads the whole file (callers check `size` against their own limit first).
    pub fn bytes(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.file)
    }
}

/// A parsed multipart form: its text fields in order, and its files.
#[derive(Debug, Default)]
pub struct Multipart {
    pub fields: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
}

/// The boundary of a `multipart/form-data` content type; `None` for other types.
pub fn multipart_boundary(content_type: &str) -> Option<Result<String, BodyError>> {
    let is_multipart = content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    is_multipart.then(|| {
        multer::parse_boundary(content_type)
            .map_err(|_| BodyError::Malformed("multipart without a boundary".into()))
    })
}

/// Collects a url-encoded (or any non-multipart) body of at most `limit` bytes, taking each
/// chunk from `hold` as it arrives.
pub async fn read_form<B>(body: B, limit: usize, hold: &Hold) -> Result<Vec<u8>, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut stream = Chunks::new(body, hold, limit);
    let mut out = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_chunk(cx)).await {
        let chunk = chunk?;
        if out.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Parses a multipart body as it streams: text fields are kept, file parts (at most
/// [`MAX_FILES`]) are written to new files under `tmp_dir` (at most `limits.upload` bytes in the
/// whole body). Everything but file bytes — text fields, part headers, boundaries — counts
/// towards `limits.form`, so a body padded with huge headers is refused like a huge form.
/// `disk` bounds the bytes of temporary files across requests, until the request ends. A body
/// that ends before its closing boundary is `Malformed`: nothing of it may be used.
pub async fn read_multipart<B>(
    body: B,
    boundary: &str,
    limits: &Limits,
    hold: &Hold,
    disk: &Budget,
    tmp_dir: &Path,
) -> Result<Multipart, BodyError>
where
    B: Body<Data = Bytes> + Unpin + Send,
    B::Error: std::fmt::Display,
{
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.upload as u64));
    // What may stay in memory: the form's text and part headers, plus what the parser buffers.
    let in_memory = limits.form + 2 * ROUND_BYTES;
    let mut parts = multer::Multipart::with_constraints(
        Chunks::new(body, hold, in_memory),
        boundary,
        constraints,
    );
    let mut form = Multipart::default();
    let mut file_parts = 0;
    while let Some(mut part) = parts.next_field().await.map_err(multer_error)? {
        let field = part.name().unwrap_or_default().to_string();
        match part.file_name().map(str::to_string) {
            Some(filename) => {
                file_parts += 1;
                if file_parts > MAX_FILES {
                    return Err(BodyError::TooLarge);
                }
                let content_type = part.content_type().map(|m| m.to_string());
                let disk_hold = disk.hold();
                // Created at the first byte: an empty file input costs no file.
                let mut file: Option<(tokio::fs::File, tempfile::TempPath)> = None;
                let mut size = 0u64;
                let mut too_large = false;
                while let Some(chunk) = part.chunk().await.map_err(multer_error)? {
                    if chunk.is_empty() {
                        continue;
                    }
                    size += chunk.len() as u64;
                    if size > limits.upload as u64 {
                        return Err(BodyError::TooLarge);
                    }
                    if too_large || size > limits.file as u64 {
                        // Refused: read on to the next part, keep nothing.
                        if !too_large {
                            too_large = true;
                            file = None;
                        }
                        hold.give_back(chunk.len());
                        continue;
                    }
                    disk_hold.take(chunk.len())?;
                    if file.is_none() {
                        file = Some(temp_file(tmp_dir)?);
                    }
                    let (out, _) = file.as_mut().expect("created above");
                    out.write_all(&chunk).await.map_err(BodyError::Io)?;
                    // On disk now: no longer held in memory.
                    hold.give_back(chunk.len());
                }
                let path = match file {
                    Some((mut out, path)) => {
                        out.flush().await.map_err(BodyError::Io)?;
                        path
                    }
                    // A file input left empty arrives as a part with no name and no bytes.
                    None if filename.is_empty() && !too_large => continue,
                    None => empty_temp_file(tmp_dir)?,
                };
                form.uploads.push(Upload {
                    field,
                    filename,
                    content_type,
                    size,
                    too_large,
                    file: path,
                    _disk: disk_hold,
                });
            }
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = part.chunk().await.map_err(multer_error)? {
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value)
                    .map_err(|_| BodyError::Malformed(format!("field {field:?} is not UTF-8")))?;
                form.fields.push((field, value));
            }
        }
    }
    Ok(form)
}

/// Parses a multipart body that is already in memory — for requests made in-process (tests),
/// where no connection layer streamed it. Same rules and errors as [`read_multipart`].
pub fn read_multipart_blocking(
    bytes: Vec<u8>,
    boundary: &str,
    limits: &Limits,
    tmp_dir: &Path,
) -> Result<Multipart, BodyError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BodyError::Io)?;
    let budget = Budget::unlimited();
    let hold = budget.hold();
    // In 64 KiB frames, as a socket delivers them (one huge frame would count as held in memory).
    let body = Frames(Bytes::from(bytes));
    runtime.block_on(read_multipart(
        body, boundary, limits, &hold, &budget, tmp_dir,
    ))
}

/// A body already in memory, handed on in 64 KiB frames.
struct Frames(Bytes);

impl Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.0.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.0.len().min(64 * 1024);
        let chunk = self.0.split_to(n);
        Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
    }
}

/// Where temporary upload files go: `{data_dir}/tmp`.
pub fn tmp_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tmp")
}

/// Removes what a crash left in the temporary directory (run at start, before serving).
pub fn sweep_tmp(tmp_dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// An empty temporary file, for a file part that has a name but no bytes.
fn empty_temp_file(tmp_dir: &Path) -> Result<tempfile::TempPath, BodyError> {
    Ok(tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(tmp_dir)
        .map_err(BodyError::Io)?
        .into_temp_path())
}

fn temp_file(tmp_dir: &Path) -> Result<(tokio::fs::File, tempfile::TempPath), BodyError> {
    let named = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(tmp_dir)
        .map_err(BodyError::Io)?;
    let (file, path) = named.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

fn multer_error(e: multer::Error) -> BodyError {
    match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            BodyError::TooLarge
        }
        multer::Error::StreamReadFailed(inner) => match inner.downcast::<BodyError>() {
            Ok(ours) => *ours,
            Err(other) => BodyError::Malformed(other.to_string()),
        },
        other => BodyError::Malformed(other.to_string()),
    }
}

/// A body as a stream of data chunks, each taken from a [`Hold`] before it is handed on (and
/// refused as too large once the hold would exceed `cap`), yielding control after every
/// [`ROUND_BYTES`] so a reader never drains a fast client whole.
struct Chunks<'h, B> {
    body: B,
    hold: &'h Hold,
    cap: usize,
    round: usize,
}

impl<'h, B> Chunks<'h, B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    fn new(body: B, hold: &'h Hold, cap: usize) -> Self {
        Chunks {
            body,
            hold,
            cap,
            round: 0,
        }
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if self.round >= ROUND_BYTES {
            self.round = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            return match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => {
                        if self.hold.held() + data.len() > self.cap {
                            return Poll::Ready(Some(Err(BodyError::TooLarge)));
                        }
                        if let Err(e) = self.hold.take(data.len()) {
                            return Poll::Ready(Some(Err(e)));
                        }
                        self.round += data.len();
                        Poll::Ready(Some(Ok(data)))
                    }
                    // Trailers carry nothing a form needs.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(e))) => {
                    Poll::Ready(Some(Err(BodyError::Malformed(e.to_string()))))
                }
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl<B> futures_core::Stream for Chunks<'_, B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Item = Result<Bytes, BodyError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            form: 1024,
            upload: 64 * 1024,
            file: 32 * 1024,
        }
    }

    fn body(parts: &[(&str, Option<&str>, &[u8])], close: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, data) in parts {
            out.extend_from_slice(b"--XB\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
            if let Some(f) = filename {
                out.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
            }
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        if close {
            out.extend_from_slice(b"--XB--\r\n");
        }
        out
    }

    #[test]
    fn fields_and_files_are_read_and_files_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = body(
            &[
                ("title", None, b"Hello"),
                ("logo", Some("a.png"), b"\x89PNG data"),
                ("empty", Some(""), b""),
            ],
            true,
        );
        let form = read_multipart_blocking(bytes, "XB", &limits(), dir.path()).unwrap();
        assert_eq!(form.fields, vec![("title".into(), "Hello".into())]);
        assert_eq!(form.uploads.len(), 1, "an empty file input is not a file");
        let upload = &form.uploads[0];
        assert_eq!((upload.field.as_str(), upload.size), ("logo", 9));
        assert_eq!(upload.bytes().unwrap(), b"\x89PNG data");
        let path = upload.path().to_path_buf();
        drop(form);
        assert!(!path.exists(), "the temporary file goes with the request");
    }

    /// #16: a file over the per-file limit is refused as it streams — nothing of it kept — and
    /// the fields after it still arrive, so the form can come back as typed.
    #[test]
    fn a_file_over_its_limit_is_dropped_and_the_form_kept() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![b'x'; 32 * 1024 + 1];
        let bytes = body(
            &[
                ("files", Some("big.bin"), &big),
                ("files", Some("ok.txt"), b"fine"),
                ("reply", None, b"Still here"),
            ],
            true,
        );
        let form = read_multipart_blocking(bytes, "XB", &limits(), dir.path()).unwrap();
        assert_eq!(form.fields, vec![("reply".into(), "Still here".into())]);
        assert_eq!(form.uploads.len(), 2);
        assert!(form.uploads[0].too_large && form.uploads[0].size > 32 * 1024);
        assert!(
            form.uploads[0].bytes().unwrap().is_empty(),
            "nothing of it is kept"
        );
        assert!(!form.uploads[1].too_large);
        assert_eq!(form.uploads[1].bytes().unwrap(), b"fine");
    }

    /// #12: a body cut before its closing boundary used to be taken as a complete form.
    #[test]
    fn a_truncated_body_is_malformed_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = body(
            &[("title", None, b"Hello"), ("f", Some("x"), b"data")],
            false,
        );
        bytes.truncate(bytes.len() - 4);
        let result = read_multipart_blocking(bytes, "XB", &limits(), dir.path());
        assert!(matches!(result, Err(BodyError::Malformed(_))), "{result:?}");
        let cut = body(&[("title", None, b"Hello wor")], false);
        let result =
            read_multipart_blocking(cut[..cut.len() - 2].to_vec(), "XB", &limits(), dir.path());
        assert!(matches!(result, Err(BodyError::Malformed(_))), "{result:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn limits_apply_to_text_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let text = vec![b'a'; 200 * 1024];
        let result = read_multipart_blocking(
            body(&[("t", None, &text)], true),
            "XB",
            &limits(),
            dir.path(),
        );
        assert!(matches!(result, Err(BodyError::TooLarge)), "{result:?}");
        let file = vec![b'a'; 70 * 1024];
        let result = read_multipart_blocking(
            body(&[("f", Some("f"), &file)], true),
            "XB",
            &limits(),
            dir.path(),
        );
        assert!(matches!(result, Err(BodyError::TooLarge)), "{result:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Review of #12: part headers padded to megabytes were held in memory uncounted, and every
    /// empty file part cost a temporary file.
    #[test]
    fn headers_count_towards_the_form_limit_and_files_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut padded = b"--XB\r\nContent-Disposition: form-data; name=\"t\"\r\nX-Pad: ".to_vec();
        padded.extend(vec![b'a'; 300 * 1024]);
        padded.extend_from_slice(b"\r\n\r\nv\r\n--XB--\r\n");
        let result = read_multipart_blocking(padded, "XB", &limits(), dir.path());
        assert!(matches!(result, Err(BodyError::TooLarge)), "{result:?}");

        let many: Vec<(&str, Option<&str>, &[u8])> = (0..=MAX_FILES)
            .map(|_| ("f", Some("a.txt"), &b"x"[..]))
            .collect();
        let result = read_multipart_blocking(body(&many, true), "XB", &limits(), dir.path());
        assert!(matches!(result, Err(BodyError::TooLarge)), "{result:?}");

        let empties: Vec<(&str, Option<&str>, &[u8])> =
            (0..MAX_FILES).map(|_| ("f", Some(""), &b""[..])).collect();
        let form =
            read_multipart_blocking(body(&empties, true), "XB", &limits(), dir.path()).unwrap();
        assert!(form.uploads.is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_budget_refuses_rather_than_waits_and_is_returned() {
        let budget = Budget::new(100);
        let a = budget.hold();
        a.take(60).unwrap();
        let b = budget.hold();
        assert!(matches!(b.take(50), Err(BodyError::Busy)));
        b.take(40).unwrap();
        a.give_back(30);
        assert_eq!(budget.used(), 70);
        drop(a);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn boundaries() {
        assert!(multipart_boundary("application/x-www-form-urlencoded").is_none());
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=abc")
                .unwrap()
                .unwrap(),
            "abc"
        );
        assert!(matches!(
            multipart_boundary("multipart/form-data"),
            Some(Err(BodyError::Malformed(_)))
        ));
    }
}
