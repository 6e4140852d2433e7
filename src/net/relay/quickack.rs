//! A connection's socket that acknowledges what it reads at once while the client logs in.
//!
//! OpenSSH keeps Nagle's algorithm on until its session is interactive, so during the key
//! exchange it holds a small packet back until everything it sent before has been
//! acknowledged. Its KEXINIT and its KEX_ECDH_INIT are two writes in a row with nothing from
//! the relay in between: the relay has sent its own KEXINIT already, and answers only the
//! ECDH_INIT. Linux saw the relay answer the client's banner at once, so it takes the link for
//! a ping-pong one and delays the ACK of the client's KEXINIT, hoping to send it with data
//! that never comes: up to 40 ms, which the ECDH_INIT waits out in the client's kernel. An
//! strace of a join showed it: the client wrote its ECDH_INIT at .288170 and the relay's
//! epoll woke for it at .327648, then answered in 1 ms.
//!
//! So until the client is logged in, every read turns quick ACKs on again (`TCP_QUICKACK` is
//! not sticky: Linux falls back to delayed ACKs by itself), which sends a delayed ACK at once.
//! After the login the guest's ssh turns Nagle off and hosts never had it on, so the hot path
//! pays no extra system call.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// An accepted socket for russh that acknowledges reads at once until `login` is cancelled.
pub struct QuickAck {
    /// The accepted connection.
    socket: TcpStream,
    /// Cancelled once the client has a shell or the uplink: from then on reads are plain.
    login: CancellationToken,
}

impl QuickAck {
    /// Wraps `socket`; quick ACKs last until `login` is cancelled.
    pub fn new(socket: TcpStream, login: CancellationToken) -> QuickAck {
        QuickAck { socket, login }
    }
}

impl AsyncRead for QuickAck {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.socket).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && !self.login.is_cancelled()
        {
            ack_now(&self.socket);
        }
        polled
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.socket).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}

/// Leaves delayed-ACK mode, which sends an ACK that is being held back. A failure only costs
/// time, so it is ignored.
#[cfg(target_os = "linux")]
fn ack_now(socket: &TcpStream) {
    let _ = socket2::SockRef::from(socket).set_tcp_quickack(true);
}

/// Other systems have no `TCP_QUICKACK`; their ACKs are left as they are.
#[cfg(not(target_os = "linux"))]
fn ack_now(_socket: &TcpStream) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Whether the socket is out of delayed-ACK (ping-pong) mode, as Linux reports it.
    fn quickack(socket: &TcpStream) -> bool {
        socket2::SockRef::from(socket)
            .tcp_quickack()
            .expect("getsockopt TCP_QUICKACK")
    }

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("address"))
            .await
            .expect("connect");
        let (accepted, _) = listener.accept().await.expect("accept");
        (client, accepted)
    }

    #[tokio::test]
    async fn a_read_during_the_login_leaves_delayed_ack_mode() {
        let (mut client, accepted) = pair().await;
        // Delayed-ACK mode, as after the relay answered the client's banner at once.
        socket2::SockRef::from(&accepted)
            .set_tcp_quickack(false)
            .expect("setsockopt TCP_QUICKACK");
        assert!(!quickack(&accepted));
        let login = CancellationToken::new();
        let mut conn = QuickAck::new(accepted, login.clone());
        client.write_all(b"KEXINIT").await.expect("loopback I/O");
        let mut got = [0u8; 7];
        conn.read_exact(&mut got).await.expect("loopback I/O");
        assert_eq!(&got, b"KEXINIT");
        assert!(
            quickack(&conn.socket),
            "the read should have asked for quick ACKs"
        );
    }

    #[tokio::test]
    async fn after_the_login_reads_and_writes_pass_through() {
        let (mut client, accepted) = pair().await;
        let login = CancellationToken::new();
        login.cancel();
        let mut conn = QuickAck::new(accepted, login);
        client.write_all(b"keys").await.expect("loopback I/O");
        let mut got = [0u8; 4];
        conn.read_exact(&mut got).await.expect("loopback I/O");
        assert_eq!(&got, b"keys");
        conn.write_all(b"frame").await.expect("loopback I/O");
        conn.shutdown().await.expect("loopback I/O");
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.expect("loopback I/O");
        assert_eq!(back, b"frame");
    }
}
