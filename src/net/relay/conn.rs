//! One accepted connection: what it speaks (ssh, HTTP or TLS), the login grace, then the
//! session until it ends or the relay shuts down.
//!
//! Both protocols share the door: the same `--max-connections` permit, the same place per
//! source address ([`Holds`]) and the same login grace, which runs from accept through
//! sniffing (see `sniff.rs`) to a logged-in ssh session or a first HTTP request.
//!
//! The login grace runs from TCP accept until the client has a session channel with a shell
//! or the uplink subsystem started, so banner, key exchange and authentication all count.
//! A socket that stays silent, stalls mid-handshake, or logs in without ever opening a
//! channel (`ssh -N`) is disconnected when it runs out. russh runs the session in a task of
//! its own that cannot be aborted from here, so the connection keeps a second handle on its
//! socket while it logs in: shutting that down ends russh's reads and writes for sure.
//! Until then the socket also acknowledges what it reads at once ([`QuickAck`]), so the
//! client's key exchange is not held up by a delayed ACK.

use crate::net::relay::perip::IpSlot;
use crate::net::relay::quickack::QuickAck;
use crate::net::relay::room::RELAY_RESTARTING;
use crate::net::relay::server::Shared;
use crate::net::relay::sniff::{Protocol, Sniffed, silent_wait, sniff};
use crate::net::relay::ssh::SshHandler;
use crate::net::relay::web;
use russh::server::Config;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// How long a session may take to send its goodbye before its socket is cut.
const GOODBYE: Duration = Duration::from_secs(1);

/// What an accepted connection holds until it closes: its place under `--max-connections`
/// and under `--max-connections-per-ip`.
pub struct Holds {
    /// The place among all connections.
    pub permit: OwnedSemaphorePermit,
    /// The place among its address's connections.
    pub slot: IpSlot,
}

/// The servers an accepted connection is handed to, built once per relay.
#[derive(Clone)]
pub struct Servers {
    /// The ssh server's settings.
    pub ssh: Arc<Config>,
    /// The web's routes.
    pub web: axum::Router,
}

/// Which listener a connection came in on: that decides what it may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// The main port: ssh, and the web beside it.
    Main,
    /// `--web-listen`: the web only.
    WebOnly,
}

/// Serves one accepted connection to its end: finds out what it speaks, then hands it over.
pub async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    servers: Servers,
    holds: Holds,
    door: Door,
) {
    let grace = shared.limits.login_grace;
    let deadline = Instant::now() + grace;
    let protocol = match sniff(&socket, silent_wait(grace), deadline).await {
        Sniffed::Speaks(p) => p,
        Sniffed::Closed => {
            debug!("connection from {peer} closed before it said anything");
            return;
        }
        Sniffed::GraceOver => {
            shared
                .door_log
                .info(|| grace_passed(peer, grace, "before it said anything"));
            return;
        }
    };
    match (protocol, door) {
        (Protocol::Ssh, Door::Main) => {
            serve_ssh(socket, peer, shared, servers.ssh, holds, deadline).await;
        }
        (Protocol::Ssh, Door::WebOnly) => {
            debug!("connection from {peer} to --web-listen closed: it spoke neither HTTP nor TLS");
        }
        (Protocol::Http, _) => {
            web::http::serve(socket, peer, false, servers.web, shared, holds, deadline).await;
        }
        (Protocol::Tls, _) => {
            let Some(acceptor) = shared.tls.clone() else {
                shared.door_log.info(|| {
                    format!(
                        "connection from {peer} closed: it began TLS (https://), but the relay \
                         has no certificate; pass --tls-cert and --tls-key to serve HTTPS"
                    )
                });
                return;
            };
            let stream = match timeout_at(deadline, acceptor.accept(socket)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    debug!("TLS handshake with {peer} failed: {e}");
                    return;
                }
                Err(_) => {
                    shared
                        .door_log
                        .info(|| grace_passed(peer, grace, "during its TLS handshake"));
                    return;
                }
            };
            web::http::serve(stream, peer, true, servers.web, shared, holds, deadline).await;
        }
    }
}

/// Serves an ssh connection: log in within the login grace, then the session.
async fn serve_ssh(
    socket: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    cfg: Arc<Config>,
    holds: Holds,
    deadline: Instant,
) {
    let _holds = holds;
    let grace = shared.limits.login_grace;
    let (socket, cutter) = match with_cutter(socket) {
        Ok(pair) => pair,
        Err(e) => {
            shared
                .door_log
                .warn(|| format!("connection from {peer} dropped: {e} (out of file descriptors?)"));
            return;
        }
    };
    let login = CancellationToken::new();
    let handler = SshHandler::new(shared.clone(), Some(peer), login.clone());
    let socket = QuickAck::new(socket, login.clone());
    let session = match timeout_at(deadline, russh::server::run_stream(cfg, socket, handler)).await
    {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => {
            debug!("handshake with {peer} failed: {e:#}");
            return;
        }
        Err(_) => {
            shared
                .door_log
                .info(|| grace_passed(peer, grace, "before its ssh banner"));
            return;
        }
    };
    let handle = session.handle();
    let mut session = std::pin::pin!(session);
    let goodbye = tokio::select! {
        r = &mut session => {
            ended(peer, r);
            return;
        }
        _ = login.cancelled() => None,
        _ = sleep_until(deadline) => {
            shared.door_log.info(|| grace_passed(peer, grace, "without opening a session"));
            Some(format!("login grace time of {} passed", humantime::format_duration(grace)))
        }
        _ = shared.shutdown.cancelled() => Some(RELAY_RESTARTING.to_string()),
    };
    if let Some(msg) = goodbye {
        let disconnect = handle.disconnect(russh::Disconnect::ByApplication, msg, "en".into());
        let _ = timeout(GOODBYE, disconnect).await;
        if timeout(GOODBYE, &mut session).await.is_err() {
            cutter.cut();
            let _ = timeout(GOODBYE, &mut session).await;
        }
        return;
    }
    // Logged in: the second handle is no longer needed, and its descriptor is freed.
    drop(cutter);
    tokio::select! {
        r = &mut session => ended(peer, r),
        _ = shared.shutdown.cancelled() => {
            // Give guest tasks a moment to say goodbye first.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, RELAY_RESTARTING.into(), "en".into())
                .await;
        }
    }
}

/// The log line for a connection closed by the login grace.
pub fn grace_passed(peer: SocketAddr, grace: Duration, when: &str) -> String {
    format!(
        "connection from {peer} closed {when}: login grace time of {} passed (--login-grace)",
        humantime::format_duration(grace)
    )
}

/// Logs how a session ended.
fn ended(peer: SocketAddr, r: Result<(), anyhow::Error>) {
    if let Err(e) = r {
        debug!("connection from {peer} ended: {e:#}");
    }
}

/// A second handle on a connection's socket, to cut it off while russh holds the first.
struct Cutter(std::net::TcpStream);

impl Cutter {
    /// Shuts the socket down both ways: russh's next read sees the end, its writes fail.
    fn cut(&self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

/// Splits off a [`Cutter`] for `socket`.
fn with_cutter(socket: TcpStream) -> std::io::Result<(TcpStream, Cutter)> {
    let socket = socket.into_std()?;
    let dup = socket.try_clone()?;
    Ok((TcpStream::from_std(socket)?, Cutter(dup)))
}
