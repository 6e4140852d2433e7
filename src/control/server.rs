//! The host's end of the control socket: accept, read one request, ask the front end, which
//! owns the state to answer it, reply, close.

pub use super::socket::{ControlSocket, REQUEST_TIMEOUT, bind, default_path};

use super::wire::{self, MAX_REQUEST, WireError};
use super::{Reply, Request};
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

/// How long writing a reply may take; a client that does not read is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The most connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;

/// A request on its way to the front end, which owns the state to answer it.
#[derive(Debug)]
pub struct ControlMsg {
    /// What was asked.
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

impl ControlSocket {
    /// Serves requests until `shutdown`, passing each to the front end over `tx`.
    ///
    /// Each connection gets its own task and one reply; its errors end only that connection.
    /// On shutdown, requests still waiting get an error reply, and the file is removed.
    /// Fails only if the listener cannot be handed to the runtime.
    pub async fn serve(
        mut self,
        tx: mpsc::Sender<ControlMsg>,
        shutdown: CancellationToken,
    ) -> Result<()> {
        let std_listener = self
            .listener
            .take()
            .context("invariant: a ControlSocket is served once")?;
        let listener = UnixListener::from_std(std_listener)
            .context("failed to register the control socket with the runtime")?;
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let tasks = TaskTracker::new();
        loop {
            // Waiting for a permit before accepting keeps the extra clients in the backlog.
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let stream = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = listener.accept() => match r {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        warn!("failed to accept a control connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let tx = tx.clone();
            let shutdown = shutdown.clone();
            let timeout = self.request_timeout;
            tasks.spawn(async move {
                serve_connection(stream, tx, shutdown, timeout).await;
                drop(permit);
            });
        }
        tasks.close();
        if tokio::time::timeout(WRITE_TIMEOUT, tasks.wait())
            .await
            .is_err()
        {
            warn!("some control connections did not close within {WRITE_TIMEOUT:?}");
        }
        Ok(())
    }
}

/// Reads one request, answers it, and closes.
async fn serve_connection(
    mut stream: UnixStream,
    tx: mpsc::Sender<ControlMsg>,
    shutdown: CancellationToken,
    timeout: Duration,
) {
    let reply = tokio::select! {
        // An answer that is ready wins over shutdown: kill-session's own reply is sent just
        // before the front end shuts the socket down.
        biased;
        reply = answer(&mut stream, &tx, timeout) => reply,
        _ = shutdown.cancelled() => Reply::err("cotty is shutting down; the request was not done"),
    };
    match tokio::time::timeout(WRITE_TIMEOUT, wire::write_frame(&mut stream, &reply)).await {
        Ok(Ok(())) => {}
        // The client left or a probe from `bind` closed at once: nothing to tell anyone.
        Ok(Err(e)) => debug!("failed to send a control reply: {e}"),
        Err(_) => debug!("a control client did not read its reply within {WRITE_TIMEOUT:?}"),
    }
}

/// The reply to the request on `stream`: the front end's, or an error saying what went wrong.
async fn answer(
    stream: &mut UnixStream,
    tx: &mpsc::Sender<ControlMsg>,
    timeout: Duration,
) -> Reply {
    let body = match tokio::time::timeout(timeout, wire::read_frame(stream, MAX_REQUEST)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return Reply::err(format!("bad control request: {e}")),
        Err(_) => return Reply::err(format!("no control request within {timeout:?}")),
    };
    let request = match wire::decode_request(&body) {
        Ok(request) => request,
        Err(e @ WireError::Version { .. }) => return Reply::err(e.to_string()),
        Err(e) => return Reply::err(format!("bad control request: {e}")),
    };
    debug!("control request: {request:?}");
    // Waiting is what wait-ready is for; its client bounds it with its own --timeout.
    let unbounded = matches!(request, Request::WaitReady);
    let (reply_tx, reply_rx) = oneshot::channel();
    let exchange = async {
        let msg = ControlMsg {
            request,
            reply: reply_tx,
        };
        if tx.send(msg).await.is_err() {
            return Reply::err("cotty is shutting down; the request was not done");
        }
        reply_rx
            .await
            .unwrap_or_else(|_| Reply::err("cotty dropped the request without answering it"))
    };
    if unbounded {
        return exchange.await;
    }
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Reply::err(format!(
                "cotty did not answer within {timeout:?}; it may be busy, try again"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::{PATIENCE, TestServer};
    use crate::control::wire::{Envelope, PROTOCOL_VERSION};
    use std::path::Path;
    use tokio::io::AsyncWriteExt;

    /// Sends raw bytes, half-closes, and reads the one reply frame.
    async fn raw(path: &Path, bytes: &[u8]) -> Reply {
        let mut s = UnixStream::connect(path).await.unwrap();
        s.write_all(bytes).await.unwrap();
        s.shutdown().await.unwrap();
        let body = tokio::time::timeout(PATIENCE, wire::read_frame(&mut s, wire::MAX_REPLY))
            .await
            .unwrap()
            .unwrap();
        wire::decode_reply(&body).unwrap()
    }

    async fn framed<T: serde::Serialize>(path: &Path, value: &T) -> Reply {
        let mut buf = Vec::new();
        wire::write_frame(&mut buf, value).await.unwrap();
        raw(path, &buf).await
    }

    fn envelope(request: Request) -> Envelope {
        Envelope {
            version: PROTOCOL_VERSION,
            request,
        }
    }

    #[tokio::test]
    async fn garbage_gets_an_error_and_the_next_client_an_answer() {
        let server = TestServer::answering();
        let reply = raw(&server.path, b"hello there, not a frame").await;
        assert!(!reply.ok);
        assert!(
            reply
                .text
                .starts_with("bad control request: the message is"),
            "{reply:?}"
        );
        // A small frame of bytes that are not msgpack.
        let reply = raw(&server.path, b"\0\0\0\x03\xc1\xc1\xc1").await;
        assert!(
            reply
                .text
                .starts_with("bad control request: the message is not valid")
        );
        // A client that leaves half way through a frame.
        let reply = raw(&server.path, b"\0\0\0\x10abc").await;
        assert!(reply.text.starts_with("bad control request: "), "{reply:?}");
        let reply = framed(&server.path, &envelope(Request::ListGuests)).await;
        assert_eq!(reply, Reply::ok("1 alice rw"));
    }

    #[tokio::test]
    async fn oversized_request_is_refused_without_reading_it() {
        let server = TestServer::answering();
        let huge = Request::Display {
            format: "x".repeat(MAX_REQUEST),
            print: true,
        };
        let reply = framed(&server.path, &envelope(huge)).await;
        assert!(!reply.ok);
        assert!(
            reply.text.contains("more than the limit of 65536"),
            "{reply:?}"
        );
    }

    #[tokio::test]
    async fn another_protocol_version_is_told_so() {
        let server = TestServer::answering();
        let old = Envelope {
            version: PROTOCOL_VERSION + 1,
            request: Request::ListGuests,
        };
        let reply = framed(&server.path, &old).await;
        assert!(!reply.ok);
        assert!(reply.text.contains("same cotty binary"), "{reply:?}");
    }

    #[tokio::test]
    async fn a_front_end_that_does_not_answer_times_out() {
        let mut server = TestServer::start(Some(Duration::from_millis(100)));
        let path = server.path.clone();
        let client =
            tokio::spawn(async move { framed(&path, &envelope(Request::ListGuests)).await });
        // Held, not answered, not dropped.
        let _msg = server.next().await;
        let reply = tokio::time::timeout(PATIENCE, client)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reply,
            Reply::err("cotty did not answer within 100ms; it may be busy, try again")
        );
    }

    #[tokio::test]
    async fn a_dropped_request_gets_an_error() {
        let mut server = TestServer::start(None);
        let path = server.path.clone();
        let client =
            tokio::spawn(async move { framed(&path, &envelope(Request::ShowMessages)).await });
        drop(server.next().await);
        let reply = tokio::time::timeout(PATIENCE, client)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reply,
            Reply::err("cotty dropped the request without answering it")
        );
    }

    #[tokio::test]
    async fn shutdown_answers_waiting_requests_ends_serve_and_removes_the_file() {
        let mut server = TestServer::start(None);
        let path = server.path.clone();
        let client =
            tokio::spawn(async move { framed(&path, &envelope(Request::WaitReady)).await });
        let _held = server.next().await;
        server.shutdown.cancel();
        let reply = tokio::time::timeout(PATIENCE, client)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reply,
            Reply::err("cotty is shutting down; the request was not done")
        );
        let task = server.task.take().unwrap();
        tokio::time::timeout(PATIENCE, task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(!server.path.exists(), "the socket file outlived serve");
    }
}
