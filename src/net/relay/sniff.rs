//! Telling ssh, HTTP and TLS apart on one port, from the first bytes a client sends.
//!
//! Every client we serve speaks first: OpenSSH and russh send their `SSH-2.0-…` line at once,
//! browsers and curl their request line or TLS ClientHello. So the relay peeks at the first
//! bytes without taking them off the socket, and hands the untouched socket to the server of
//! that protocol. A client that stays silent is taken for an ssh client that waits for the
//! server's banner (as sslh does), but only after [`SILENT_WAIT`]: Chromium's
//! `rel=preconnect` opens sockets that stay silent for seconds before they send a request,
//! and one that got the ssh banner after a shorter wait was reset and replaced by a fresh
//! socket (CRATE_NOTES §10). Bytes that are none of the three also go to ssh, which ends
//! the connection with its own error, as before the web existed.

use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout_at};

/// How long a silent client is waited for before it is taken for an ssh client.
pub const SILENT_WAIT: Duration = Duration::from_millis(2500);

/// How long to wait between peeks while fewer bytes are queued than a decision needs: peek
/// returns at once when any byte is queued, so without a pause the loop would spin.
const PEEK_PAUSE: Duration = Duration::from_millis(5);

/// Bytes enough to tell every protocol apart.
const PEEK_LEN: usize = 4;

/// The first four bytes of the HTTP methods a browser or a proxy may send: `GET`, `HEAD`,
/// `POST`, `PUT`, `OPTIONS`, `DELETE`, `PATCH`, `CONNECT`, and HTTP/2's preface `PRI *`.
const HTTP_STARTS: [&[u8; 4]; 9] = [
    b"GET ", b"HEAD", b"POST", b"PUT ", b"OPTI", b"DELE", b"PATC", b"CONN", b"PRI ",
];

/// The first bytes of an ssh client's identification line.
const SSH_START: &[u8; 4] = b"SSH-";

/// The TLS record type of a handshake, the first byte of every ClientHello.
const TLS_HANDSHAKE: u8 = 0x16;

/// What a client's first bytes say it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// An ssh client, a silent one, or bytes of no known protocol: russh decides.
    Ssh,
    /// A plain HTTP/1 request.
    Http,
    /// A TLS ClientHello, for HTTPS.
    Tls,
}

/// What the bytes seen so far allow to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The protocol is known.
    Known(Protocol),
    /// The bytes are the start of more than one possibility, or of nothing yet: wait for
    /// more.
    NeedMore,
}

/// Classifies the first bytes a client sent; a pure function of them.
pub fn classify(first: &[u8]) -> Verdict {
    let Some(&b0) = first.first() else {
        return Verdict::NeedMore;
    };
    if b0 == TLS_HANDSHAKE {
        return Verdict::Known(Protocol::Tls);
    }
    let n = first.len().min(PEEK_LEN);
    let head = &first[..n];
    if head == &SSH_START[..n] && n == PEEK_LEN {
        return Verdict::Known(Protocol::Ssh);
    }
    if let Some(m) = HTTP_STARTS.iter().find(|m| head == &m[..n]) {
        return if n == PEEK_LEN && head == &m[..] {
            Verdict::Known(Protocol::Http)
        } else {
            Verdict::NeedMore
        };
    }
    if head == &SSH_START[..n] {
        return Verdict::NeedMore;
    }
    Verdict::Known(Protocol::Ssh)
}

/// What sniffing an accepted socket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// The client speaks this (or was silent until the wait ran out: ssh).
    Speaks(Protocol),
    /// The client closed the connection before saying anything that decides.
    Closed,
    /// The login grace ran out first.
    GraceOver,
}

/// Peeks at `socket` until its first bytes decide the protocol, the client has been silent
/// for `silent` (then ssh), or `deadline` (the login grace) passes. Nothing is read off the
/// socket, so whoever serves it next sees every byte.
pub async fn sniff(socket: &TcpStream, silent: Duration, deadline: Instant) -> Sniffed {
    let silent_until = (Instant::now() + silent).min(deadline);
    let mut buf = [0u8; PEEK_LEN];
    loop {
        let n = match timeout_at(silent_until, socket.peek(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Sniffed::Closed,
            Ok(Ok(n)) => n,
            // Silent, or a partial prefix that never went on: let ssh answer, as sslh does.
            Err(_) if silent_until < deadline => return Sniffed::Speaks(Protocol::Ssh),
            Err(_) => return Sniffed::GraceOver,
        };
        match classify(&buf[..n]) {
            Verdict::Known(p) => return Sniffed::Speaks(p),
            Verdict::NeedMore => {
                if Instant::now() + PEEK_PAUSE >= silent_until {
                    return if silent_until < deadline {
                        Sniffed::Speaks(Protocol::Ssh)
                    } else {
                        Sniffed::GraceOver
                    };
                }
                sleep(PEEK_PAUSE).await;
            }
        }
    }
}

/// How long to wait for a silent client before answering as ssh: [`SILENT_WAIT`], but never
/// more than half the login grace, so an ssh client that waits for the banner still has time
/// to log in.
pub fn silent_wait(login_grace: Duration) -> Duration {
    SILENT_WAIT.min(login_grace / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    #[test]
    fn ssh_http_and_tls_are_told_apart() {
        assert_eq!(
            classify(b"SSH-2.0-OpenSSH_9.2p1\r\n"),
            Verdict::Known(Protocol::Ssh)
        );
        for req in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"HEAD / HTTP/1.1",
            b"POST /x",
            b"PUT /x",
            b"OPTIONS * HTTP/1.1",
            b"DELETE /",
            b"PATCH /",
            b"CONNECT h:1",
            b"PRI * HTTP/2.0",
        ] {
            assert_eq!(classify(req), Verdict::Known(Protocol::Http), "{req:?}");
        }
        assert_eq!(classify(&[0x16, 3, 1]), Verdict::Known(Protocol::Tls));
        assert_eq!(classify(&[0x16]), Verdict::Known(Protocol::Tls));
    }

    #[test]
    fn a_prefix_of_something_known_waits_for_more() {
        for part in [
            &b""[..],
            b"S",
            b"SS",
            b"SSH",
            b"G",
            b"GE",
            b"GET",
            b"P",
            b"PU",
            b"DEL",
        ] {
            assert_eq!(classify(part), Verdict::NeedMore, "{part:?}");
        }
    }

    #[test]
    fn anything_else_goes_to_ssh() {
        for junk in [
            &b"\x00\x01\x02\x03"[..],
            b"hello",
            b"GETX",
            b"get /",
            b"X",
            b"SSHX",
        ] {
            assert_eq!(classify(junk), Verdict::Known(Protocol::Ssh), "{junk:?}");
        }
    }

    #[test]
    fn the_silent_wait_leaves_half_the_grace_for_ssh() {
        assert_eq!(silent_wait(Duration::from_secs(20)), SILENT_WAIT);
        assert_eq!(
            silent_wait(Duration::from_secs(1)),
            Duration::from_millis(500)
        );
    }

    /// A connected pair on loopback: the client's end and the accepted end.
    async fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let (c, s) = tokio::join!(TcpStream::connect(addr), l.accept());
        (c.expect("connect"), s.expect("accept").0)
    }

    #[tokio::test]
    async fn a_request_written_in_pieces_is_seen_whole_and_left_on_the_socket() {
        let (mut c, s) = pair().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let sniffing = tokio::spawn(async move {
            let got = sniff(&s, Duration::from_secs(5), deadline).await;
            (got, s)
        });
        c.write_all(b"GE").await.expect("write");
        tokio::time::sleep(Duration::from_millis(30)).await;
        c.write_all(b"T / HTTP/1.1\r\n").await.expect("write");
        let (got, s) = sniffing.await.expect("joins");
        assert_eq!(got, Sniffed::Speaks(Protocol::Http));
        let mut buf = [0u8; 5];
        let n = s.peek(&mut buf).await.expect("peek");
        assert_eq!(&buf[..n], b"GET /", "nothing was taken off the socket");
    }

    #[tokio::test]
    async fn a_silent_client_is_taken_for_ssh_and_a_closed_one_is_seen() {
        let (_c, s) = pair().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let got = sniff(&s, Duration::from_millis(50), deadline).await;
        assert_eq!(got, Sniffed::Speaks(Protocol::Ssh));
        let got = sniff(&s, Duration::from_secs(5), Instant::now()).await;
        assert_eq!(got, Sniffed::GraceOver, "the grace bounds the wait");
        let (c, s) = pair().await;
        drop(c);
        let got = sniff(&s, Duration::from_secs(5), deadline).await;
        assert_eq!(got, Sniffed::Closed);
    }
}
