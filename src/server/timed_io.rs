//! A socket wrapper that fails a write which makes no progress for too long, and adds the
//! security headers to the answers hyper writes on its own.
//!
//! Why the time-out: hyper's timeouts cover reading a request head; nothing covers a client that
//! stops reading responses (e.g. pipelines thousands of requests and never reads). Its socket
//! buffer fills, hyper's write waits forever, and the connection holds one of `max_connections`
//! slots. With this wrapper the stalled write errors after the idle timeout and the connection
//! closes.
//!
//! Why the headers: a request head hyper cannot parse (too large: 431, malformed: 400, URI too
//! long: 414) is answered by hyper itself, before any service runs, and hyper offers no hook to
//! add headers. Those answers have one fixed shape — status line, `connection: close`,
//! `content-length: 0`, `date`, nothing else, written as one buffer and last on the connection —
//! which none of ours can have (ours always carry `x-content-type-options`), so this wrapper
//! recognises exactly that shape and writes it with our header lines added.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pub struct TimedIo<T> {
    inner: T,
    stall: Duration,
    /// Armed while a write is pending; cleared whenever a write makes progress.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Header lines to add to hyper's own answers.
    extra_headers: &'static [u8],
    /// One of hyper's answers, rewritten, being written: the bytes, how many are out, and how
    /// many of hyper's bytes they stand for (reported once all are out).
    rewritten: Option<(Vec<u8>, usize, usize)>,
    /// The last write went out only in part: the next buffer continues it (a response body's
    /// rest, never one of hyper's own answers), so it is never rewritten.
    mid_write: bool,
}

impl<T> TimedIo<T> {
    pub fn new(inner: T, stall: Duration, extra_headers: &'static [u8]) -> Self {
        TimedIo {
            inner,
            stall,
            deadline: None,
            extra_headers,
            rewritten: None,
            mid_write: false,
        }
    }

    /// Maps a pending write to an error once the stall deadline has passed.
    fn check<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match poll {
            Poll::Ready(result) => {
                self.deadline = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let stall = self.stall;
                let deadline = self
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.deadline = None;
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "client stopped reading",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Whether `buf` is exactly one answer hyper wrote on its own (see the module comment).
fn is_hyper_answer(buf: &[u8]) -> bool {
    if buf.len() >= 512 || !buf.starts_with(b"HTTP/1.") {
        return false;
    }
    let Ok(text) = std::str::from_utf8(buf) else {
        return false;
    };
    let Some(head) = text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))
    else {
        return false;
    };
    let status_is_error = head
        .get(..3)
        .and_then(|s| s.parse::<u16>().ok())
        .is_some_and(|s| (400..600).contains(&s));
    let mut lines = text.trim_end_matches("\r\n").split("\r\n").skip(1);
    status_is_error
        && text.ends_with("\r\n\r\n")
        && lines.all(|line| {
            line == "connection: close" || line == "content-length: 0" || line.starts_with("date: ")
        })
}

impl<T: AsyncWrite + Unpin> TimedIo<T> {
    /// Writes out the rewritten answer; reports hyper's byte count once all of it is out.
    fn poll_rewritten(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        loop {
            let (bytes, written, stands_for) =
                self.rewritten.as_mut().expect("a rewrite is pending");
            if *written == bytes.len() {
                let n = *stands_for;
                self.rewritten = None;
                return Poll::Ready(Ok(n));
            }
            let poll = Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]);
            match self.check(cx, poll) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    if let Some((_, written, _)) = self.rewritten.as_mut() {
                        *written += n;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn start_rewrite(&mut self, buf: &[u8]) {
        let mut bytes = Vec::with_capacity(buf.len() + self.extra_headers.len());
        bytes.extend_from_slice(&buf[..buf.len() - 2]);
        bytes.extend_from_slice(self.extra_headers);
        bytes.extend_from_slice(b"\r\n");
        self.rewritten = Some((bytes, 0, buf.len()));
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.rewritten.is_none() && !self.mid_write && is_hyper_answer(buf) {
            self.start_rewrite(buf);
        }
        if self.rewritten.is_some() {
            return self.poll_rewritten(cx);
        }
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            self.mid_write = n < buf.len();
        }
        self.check(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.rewritten.is_none() && !self.mid_write {
            let mut filled = bufs.iter().filter(|b| !b.is_empty());
            if let (Some(only), None) = (filled.next(), filled.next())
                && is_hyper_answer(only)
            {
                self.start_rewrite(only);
            }
        }
        if self.rewritten.is_some() {
            return self.poll_rewritten(cx);
        }
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll {
            self.mid_write = n < bufs.iter().map(|b| b.len()).sum::<usize>();
        }
        self.check(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.check(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::is_hyper_answer;

    #[test]
    fn recognises_only_hyper_s_own_answers() {
        assert!(is_hyper_answer(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 10:00:00 GMT\r\n\r\n"
        ));
        assert!(is_hyper_answer(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!is_hyper_answer(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!is_hyper_answer(
            b"HTTP/1.1 413 Payload Too Large\r\nx-content-type-options: nosniff\r\ncontent-length: 0\r\n\r\n"
        ));
        assert!(!is_hyper_answer(
            b"body bytes that happen to be written alone"
        ));
    }
}
