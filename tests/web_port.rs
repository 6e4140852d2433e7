//! One port for ssh, the web page and its websocket, as `cotty relay` runs it: plain HTTP,
//! HTTPS with a certificate, `--web-listen`, the Origin check and the access log.

mod common;

use common::env::{TestEnv, WAIT};
use common::proc::Proc;
use common::wait::{self_signed, wait_until};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Starts `cotty relay` on 127.0.0.1:0 with `extra` flags; returns it and its port.
fn relay(dir: &Path, extra: &[&str]) -> (Proc, u16) {
    let key = dir.join("relay_key").display().to_string();
    let r = Proc::relay(&key, extra, None);
    let (port, _) = r.relay_address(WAIT);
    (r, port)
}

/// Connects to 127.0.0.1:`port` with a bounded read time.
fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    s
}

/// Sends `GET path` with `Connection: close` and reads the whole answer.
fn get(port: u16, path: &str) -> String {
    let mut s = connect(port);
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .expect("the relay answers and closes");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asserts the headers every web response carries.
fn assert_secured(answer: &str) {
    let head = answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    for want in [
        "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; \
         connect-src 'self'",
        "frame-ancestors 'none'",
        "referrer-policy: no-referrer",
        "x-content-type-options: nosniff",
    ] {
        assert!(head.contains(want), "no {want:?} in:\n{head}");
    }
}

/// Whether the relay answers an ssh client's identification with its own on `port`.
fn answers_ssh(port: u16) -> bool {
    let mut s = connect(port);
    if s.write_all(b"SSH-2.0-probe\r\n").is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.windows(8).any(|w| w == b"SSH-2.0-") {
        match s.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return false,
            Err(e) => panic!("no banner and no close within {WAIT:?}: {e}"),
        }
    }
    true
}

#[test]
fn one_port_serves_ssh_the_page_and_an_access_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &[]);
    assert!(answers_ssh(port), "ssh still answers on the port");

    let page = get(port, "/");
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    assert_secured(&page);
    let head = page.to_ascii_lowercase();
    assert!(head.contains("content-type: text/html"), "{page}");
    assert!(head.contains("cache-control: no-cache"), "{page}");
    assert!(page.contains("/cotty.js"), "the page's body: {page}");

    let js = get(port, "/cotty.js");
    assert!(js.starts_with("HTTP/1.1 200 "), "{js}");
    assert!(
        js.to_ascii_lowercase()
            .contains("content-type: text/javascript")
    );
    assert!(get(port, "/cotty.css").starts_with("HTTP/1.1 200 "));
    assert!(get(port, "/favicon.ico").starts_with("HTTP/1.1 204 "));
    let nope = get(port, "/nope");
    assert!(nope.starts_with("HTTP/1.1 404 "), "{nope}");
    assert_secured(&nope);

    r.wait_log(&["web 127.0.0.1:", "\"GET / HTTP/1.1\" 200"]);
    r.wait_log(&["web 127.0.0.1:", "\"GET /nope HTTP/1.1\" 404"]);
    assert!(answers_ssh(port), "and ssh after the web");
}

/// Opens a websocket to `/ws` on `port`, with `origin` if given; the HTTP status it got.
async fn ws_status(port: u16, origin: Option<&str>) -> u16 {
    let mut req = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .expect("request");
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", o.parse().expect("header value"));
    }
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req)).await {
        Ok(Ok((_, res))) => res.status().as_u16(),
        Ok(Err(tungstenite::Error::Http(res))) => res.status().as_u16(),
        Ok(Err(e)) => panic!("websocket to {port} failed: {e}"),
        Err(_) => panic!("websocket to {port} took more than {WAIT:?}"),
    }
}

#[test]
fn the_websocket_upgrades_from_its_own_origin_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        assert_eq!(ws_status(port, None).await, 101, "no Origin: not a browser");
        let own = format!("http://127.0.0.1:{port}");
        assert_eq!(
            ws_status(port, Some(&own)).await,
            101,
            "the relay's own page"
        );
        assert_eq!(ws_status(port, Some("http://evil.example")).await, 403);
    });
    r.wait_log(&["\"GET /ws HTTP/1.1\" 101"]);
    r.wait_log(&["\"GET /ws HTTP/1.1\" 403"]);
}

#[test]
fn a_public_url_sets_the_origin_the_websocket_must_come_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "https://relay.example.org";
    let (_r, port) = relay(dir.path(), &["--public-url", url, "--trust-proxy"]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        assert_eq!(ws_status(port, Some(url)).await, 101);
        let direct = format!("http://127.0.0.1:{port}");
        assert_eq!(ws_status(port, Some(&direct)).await, 403);
    });
}

#[test]
fn web_listen_serves_the_page_and_not_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &["--web-listen", "127.0.0.1:0"]);
    let line = r.line("cotty relay serving the web on 127.0.0.1:", &[]);
    let web: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in the line");
    assert_ne!(web, port);
    let page = get(web, "/");
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    assert_secured(&page);
    assert!(!answers_ssh(web), "the web port does not speak ssh");
    assert!(
        get(port, "/").starts_with("HTTP/1.1 200 "),
        "nor does the main port stop"
    );
}

#[test]
fn the_hosts_links_point_at_the_page() {
    let env = TestEnv::start(&["sh"]);
    let rw = env.rw();
    let ro = env.ro();
    let base = format!("http://127.0.0.1:{}/", env.port);
    assert_eq!(
        env.links.web.as_deref(),
        Some(format!("{base}#{rw}").as_str())
    );
    assert_eq!(
        env.links.web_ro.as_deref(),
        Some(format!("{base}#{ro}").as_str())
    );
    assert!(ro.starts_with("ro-"), "{ro}");
    assert!(get(env.port, "/").starts_with("HTTP/1.1 200 "));
}

/// Trusts exactly one certificate: the test's self-signed one.
#[derive(Debug)]
struct TrustOne {
    /// The certificate the relay must show.
    cert: CertificateDer<'static>,
    /// Checks the handshake's signatures.
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for TrustOne {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(tokio_rustls::rustls::Error::General(
                "another certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[test]
fn https_and_ssh_share_the_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((cert, key)) = self_signed(dir.path()) else {
        return;
    };
    let (r, port) = relay(dir.path(), &["--tls-cert", &cert, "--tls-key", &key]);
    let pem = std::fs::read(&cert).expect("cert");
    let der = {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(&pem).expect("a certificate")
    };
    let provider = Arc::new(ring::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustOne {
            cert: der,
            provider,
        }))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (alpn, answer) = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .expect("handshake in time")
            .expect("TLS handshake");
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let req = format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
        tls.write_all(req.as_bytes()).await.expect("request sent");
        let mut answer = Vec::new();
        // A close without close_notify is fine: the answer is what counts.
        let _ = tokio::time::timeout(WAIT, tls.read_to_end(&mut answer))
            .await
            .expect("answer in time");
        (alpn, String::from_utf8_lossy(&answer).into_owned())
    });
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]), "HTTP/1.1 only");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert_secured(&answer);
    assert!(answer.contains("/cotty.js"), "{answer}");
    assert!(answers_ssh(port), "ssh on the same port");
    assert!(
        get(port, "/").starts_with("HTTP/1.1 200 "),
        "and plain HTTP too"
    );
    r.wait_log(&["web 127.0.0.1:", "\"GET / HTTP/1.1\" 200"]);
}

#[test]
fn tls_without_a_certificate_is_closed_and_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &[]);
    let mut s = connect(port);
    // The start of a TLS ClientHello record.
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0, 0, 1, 0])
        .expect("written");
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected a close, got {other:?}"),
    }
    r.wait_log(&["began TLS", "--tls-cert"]);
}

#[test]
fn a_request_that_never_finishes_is_closed_after_the_login_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &["--login-grace", "1s"]);
    let started = std::time::Instant::now();
    let mut s = connect(port);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("half a request");
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("an answer to half a request: {:?}", &buf[..n]),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("not closed within {WAIT:?}: {e}"),
    }
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(900),
        "closed after {took:?}, with a login grace of 1s"
    );
    r.wait_log(&[
        "login grace time of 1s passed",
        "before its first HTTP request",
    ]);
}

#[test]
fn web_connections_count_under_the_same_per_address_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port) = relay(dir.path(), &["--max-connections-per-ip", "1"]);
    // A keep-alive connection that has had its answer still holds its place.
    let mut kept = connect(port);
    write!(
        kept,
        "GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .expect("sent");
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).expect("an answer");
    assert!(buf[..n].starts_with(b"HTTP/1.1 204 "), "{:?}", &buf[..n]);
    assert!(
        !answers_ssh(port),
        "a second connection from 127.0.0.1 is refused"
    );
    r.wait_log(&["refused", "1 connections open", "--max-connections-per-ip"]);
    drop(kept);
    wait_until("the place given back", WAIT, || answers_ssh(port))
        .expect("closing the web connection gives its place back");
}
