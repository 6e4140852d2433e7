//! The relay's listeners: host key, limits, one task per connection, and clean shutdown.
//!
//! The main port speaks ssh and HTTP (and HTTPS with a certificate), told apart by the first
//! bytes (see `sniff.rs`); `--web-listen` adds a port for the web only. Both take their
//! connections through the same door: one `--max-connections`, one count per address.

use crate::net::keyfile;
use crate::net::relay::apikeys::{ApiKeys, reload_on_hangup};
use crate::net::relay::approvals::Approvals;
use crate::net::relay::conn::{self, Door, Holds, Servers};
use crate::net::relay::hostkeys::HostKeys;
use crate::net::relay::hostlink;
pub use crate::net::relay::limits::Limits;
use crate::net::relay::perip::{LogGate, PerIp};
use crate::net::relay::registry::Registry;
use crate::net::relay::resume::ResumeKey;
use crate::net::relay::web::http;
use crate::net::relay::web::origin::{PublicUrl, base_url};
use crate::net::relay::web::ticket::Revoked;
use crate::net::relay::web::tls::TlsFiles;
use crate::ui::theme::Theme;
use anyhow::{Context, Result};
use russh::keys::{HashAlg, PrivateKey};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

/// How often the per-address tables forget addresses that have used nothing up.
const TIDY_EVERY: Duration = Duration::from_secs(60);
/// How often freed memory is handed back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// How a relay is set up.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The host name printed in links.
    pub public_host: String,
    /// The port printed in links; the listening port if unset.
    pub public_port: Option<u16>,
    /// The ssh host key; created if missing.
    pub host_key: PathBuf,
    /// The authorized_keys file of the keys that may host (`--host-keys`); anyone may host
    /// when unset.
    pub host_keys: Option<PathBuf>,
    /// What one host, guest or address may take.
    pub limits: Limits,
    /// How the web is served and linked to.
    pub web: WebConfig,
    /// The `--api-keys` file (`KEY USERNAME` a line) that turns named sessions on.
    pub api_keys: Option<PathBuf>,
    /// Refuse sessions that let anyone with the link in (`--require-authorized-keys`).
    pub require_authorized_keys: bool,
}

/// How the relay serves the web; the default serves plain HTTP on the main port only.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// The certificate and key for HTTPS (`--tls-cert`, `--tls-key`); plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// A port for the web only (`--web-listen`), for a proxy in front or a firewall that
    /// keeps the ssh port apart.
    pub listen: Option<SocketAddr>,
    /// Where browsers reach the relay (`--public-url`), when that is not
    /// `http(s)://public_host:public_port`: a reverse proxy's address.
    pub public_url: Option<PublicUrl>,
    /// Whether a reverse proxy's `X-Forwarded-For` names the client (`--trust-proxy`).
    pub trust_proxy: bool,
}

/// What every connection task shares.
pub struct Shared {
    /// Tokens to rooms.
    pub registry: Registry,
    /// The host name in links.
    pub public_host: String,
    /// The port in links.
    pub public_port: u16,
    /// What one host, guest or address may take.
    pub limits: Limits,
    /// Signs and checks resume secrets; derived from the host key file, so it survives a
    /// restart.
    pub resume_key: ResumeKey,
    /// What each source address has open and has used up.
    pub per_ip: PerIp,
    /// The keys that may host; `None` lets anyone host.
    pub host_keys: Option<HostKeys>,
    /// Log lines about refused and timed-out connections, so a flood cannot flood the log.
    pub door_log: LogGate,
    /// How guests' status lines look.
    pub theme: Theme,
    /// Cancelled when the relay shuts down.
    pub shutdown: CancellationToken,
    /// Tracks the tasks to wait for at shutdown.
    pub tasks: TaskTracker,
    /// The base of web links and the origin `/ws` accepts, when set by `--public-url`.
    pub public_url: Option<PublicUrl>,
    /// Serves HTTPS when `--tls-cert`/`--tls-key` are given; links are `https://` then.
    pub tls: Option<TlsAcceptor>,
    /// Whether to take a web client's address from `X-Forwarded-For` (`--trust-proxy`).
    pub trust_proxy: bool,
    /// The API keys that may register named sessions; `None` (no `--api-keys`) refuses names.
    pub api_keys: Option<Arc<ApiKeys>>,
    /// Refuse sessions that set neither guest keys nor approval
    /// (`--require-authorized-keys`).
    pub require_authorized_keys: bool,
    /// Web pages of key-only sessions waiting for `approve-web CODE`.
    pub approvals: Approvals,
    /// Tickets of web pages the host kicked ([`crate::net::relay::web::ticket`]).
    pub revoked_tickets: Revoked,
}

impl Shared {
    /// Shared state for actor tests: no listener, loopback links, the given limits.
    #[cfg(test)]
    pub fn for_tests(limits: Limits) -> Shared {
        Shared {
            registry: Registry::default(),
            public_host: "127.0.0.1".into(),
            public_port: 2222,
            per_ip: PerIp::new(&limits),
            host_keys: None,
            door_log: LogGate::new(),
            limits,
            resume_key: ResumeKey::derive(b"test key"),
            theme: Theme::default_dark(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            public_url: None,
            tls: None,
            trust_proxy: false,
            api_keys: None,
            require_authorized_keys: false,
            approvals: Approvals::default(),
            revoked_tickets: Revoked::default(),
        }
    }

    /// The ssh command that joins with `token`, as scripts expect it.
    pub fn ssh_link(&self, token: &str) -> String {
        if self.public_port == 22 {
            format!("ssh {token}@{}", self.public_host)
        } else {
            format!("ssh -p {} {token}@{}", self.public_port, self.public_host)
        }
    }

    /// The web link that joins with `token`: `--public-url`, else `http(s)://HOST:PORT`, with
    /// the token in the fragment (`…/#TOKEN`), which browsers never send to the server.
    pub fn web_link(&self, token: &str) -> String {
        let base = match &self.public_url {
            Some(url) => url.origin().to_string(),
            None => base_url(&self.public_host, self.public_port, self.tls.is_some()),
        };
        format!("{base}/#{token}")
    }
}

/// A bound relay, ready to run.
pub struct Relay {
    /// The listening socket.
    listener: TcpListener,
    /// The `--web-listen` socket, for the web only.
    web_listener: Option<TcpListener>,
    /// The ssh server's settings and the web's routes.
    servers: Servers,
    /// State shared with connection tasks.
    shared: Arc<Shared>,
    /// The host key's fingerprint.
    fingerprint: String,
    /// SIGHUP, caught by `cotty relay` from the start ([`Relay::catch_hangup`]) so that a
    /// reload signal never kills it; [`Relay::run`] reloads `--api-keys` on it, if given.
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Relay {
    /// Loads or creates the host key and binds the listener.
    pub async fn bind(cfg: RelayConfig) -> Result<Relay> {
        let listener = TcpListener::bind(cfg.listen).await.with_context(|| {
            format!(
                "failed to listen on {}; choose another address with --listen",
                cfg.listen
            )
        })?;
        Relay::with_listener(cfg, listener)
    }

    /// Loads or creates the host key and serves on a listener bound already.
    pub fn with_listener(cfg: RelayConfig, listener: TcpListener) -> Result<Relay> {
        let key = load_or_create_key(&cfg.host_key)?;
        let resume_key = ResumeKey::from_key_file(&cfg.host_key)?;
        let host_keys = cfg.host_keys.as_deref().map(HostKeys::load).transpose()?;
        if host_keys.as_ref().is_some_and(HostKeys::is_empty) {
            warn!("the --host-keys file lists no keys: no host can register");
        }
        let tls = cfg.web.tls.as_ref().map(TlsFiles::acceptor).transpose()?;
        let web_listener = cfg.web.listen.map(bind_web).transpose()?;
        let api_keys = cfg.api_keys.as_deref().map(ApiKeys::load).transpose()?;
        let fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
        let local = listener
            .local_addr()
            .context("failed to read the listening address")?;
        let ssh = russh::server::Config {
            keys: vec![key],
            inactivity_timeout: Some(cfg.limits.idle_timeout),
            auth_rejection_time: Duration::from_millis(300),
            // OpenSSH tries "none" first; rejecting it must not cost a guest any time.
            auth_rejection_time_initial: Some(Duration::ZERO),
            keepalive_interval: Some(Duration::from_secs(30)),
            nodelay: true,
            ..Default::default()
        };
        let shared = Shared {
            registry: Registry::default(),
            public_host: cfg.public_host,
            public_port: cfg.public_port.unwrap_or(local.port()),
            limits: cfg.limits,
            resume_key,
            per_ip: PerIp::new(&cfg.limits),
            host_keys,
            door_log: LogGate::new(),
            theme: Theme::default_dark(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            public_url: cfg.web.public_url,
            tls,
            trust_proxy: cfg.web.trust_proxy,
            api_keys: api_keys.map(Arc::new),
            require_authorized_keys: cfg.require_authorized_keys,
            approvals: Approvals::default(),
            revoked_tickets: Revoked::default(),
        };
        let shared = Arc::new(shared);
        let servers = Servers {
            ssh: Arc::new(ssh),
            web: http::router(shared.clone()),
        };
        Ok(Relay {
            listener,
            web_listener,
            servers,
            shared,
            fingerprint,
            hangup: None,
        })
    }

    /// The address the relay listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("failed to read the listening address")
    }

    /// The address of the `--web-listen` port, if there is one.
    pub fn web_addr(&self) -> Result<Option<SocketAddr>> {
        self.web_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
            .context("failed to read the web listening address")
    }

    /// The host key's SHA256 fingerprint, as `ssh -v` prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A way for hosts in this process to register sessions without a network hop.
    pub fn local(&self) -> LocalRelay {
        LocalRelay {
            shared: self.shared.clone(),
        }
    }

    /// Catches SIGHUP from now on, as `cotty relay` does before it says it listens: the
    /// signal then reloads `--api-keys` (or is logged, without them) and never ends the
    /// relay. A relay inside a host does not, so a host whose terminal hangs up still ends.
    pub fn catch_hangup(&mut self) -> Result<()> {
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("failed to listen for SIGHUP, which reloads --api-keys")?;
        self.hangup = Some(hangup);
        Ok(())
    }

    /// Accepts connections until `shutdown` is cancelled, then closes them all.
    ///
    /// A connection over `--max-connections` or a per-address limit is closed at once, with
    /// a line in the log: before the ssh banner there is no way to tell the client why.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        if let Some(hangup) = self.hangup.take() {
            let keys = self.shared.api_keys.clone();
            let reload = reload_on_hangup(keys, hangup, self.shared.shutdown.clone());
            self.shared.tasks.spawn(reload);
        }
        let max = self.shared.limits.connections;
        let permits = Arc::new(Semaphore::new(max));
        let mut tidy = tokio::time::interval(TIDY_EVERY);
        tidy.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut trim = tokio::time::interval(TRIM_EVERY);
        trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let (socket, peer, door) = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = trim.tick() => {
                    release_memory();
                    continue;
                }
                _ = tidy.tick() => {
                    self.shared.per_ip.tidy();
                    continue;
                }
                r = self.listener.accept() => match r {
                    Ok((s, peer)) => (s, peer, Door::Main),
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
                r = accept_web(self.web_listener.as_ref()) => match r {
                    Ok((s, peer)) => (s, peer, Door::WebOnly),
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                self.shared.door_log.warn(|| {
                    format!(
                        "connection from {peer} refused: {max} connections open (--max-connections)"
                    )
                });
                continue;
            };
            let slot = match self.shared.per_ip.admit(peer.ip()) {
                Ok(slot) => slot,
                Err(why) => {
                    self.shared
                        .door_log
                        .warn(|| format!("connection from {peer} refused: {why}"));
                    continue;
                }
            };
            let _ = socket.set_nodelay(true);
            let holds = Holds { permit, slot };
            let servers = self.servers.clone();
            let task = conn::serve(socket, peer, self.shared.clone(), servers, holds, door);
            self.shared.tasks.spawn(task);
        }
        info!("relay shutting down");
        self.shared.shutdown.cancel();
        self.shared.tasks.close();
        // Guests and hosts have been told; the process exits within 2 s of the signal.
        if tokio::time::timeout(Duration::from_millis(1500), self.shared.tasks.wait())
            .await
            .is_err()
        {
            warn!("some connections did not close within 1.5 s");
        }
        Ok(())
    }
}

/// Binds `--web-listen`. Synchronous, so [`Relay::with_listener`] stays so for the built-in
/// relay.
fn bind_web(addr: SocketAddr) -> Result<TcpListener> {
    let bound = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(TcpListener::from_std);
    bound.with_context(|| {
        format!("failed to listen on {addr} for the web; choose another address with --web-listen")
    })
}

/// Accepts on the `--web-listen` socket; never returns when there is none.
async fn accept_web(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// After a failed accept (out of file descriptors and the like): wait rather than spin.
async fn accept_failed(e: std::io::Error) {
    warn!("failed to accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Hands memory freed since the last call back to the system. glibc keeps what a burst of
/// connections (a flood of garbage or half-open ones) used in its arenas, so without this the
/// relay's RSS would stay at its peak after the connections are gone.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and shrinks glibc's own heap; it takes no pointers and
    // is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Connects hosts in the same process to a relay (the dashboard's built-in relay).
#[derive(Clone)]
pub struct LocalRelay {
    /// The relay's shared state; the host link is served exactly as over ssh.
    shared: Arc<Shared>,
}

/// Bytes in flight in each direction of an in-process host link.
const LOCAL_PIPE: usize = 256 * 1024;

impl LocalRelay {
    /// Opens an in-memory host link: the same framing and protocol as the ssh subsystem.
    pub fn connect(&self) -> tokio::io::DuplexStream {
        let (host_end, relay_end) = tokio::io::duplex(LOCAL_PIPE);
        let shared = self.shared.clone();
        self.shared.tasks.spawn(async move {
            if let Err(e) = hostlink::serve(relay_end, shared, None).await {
                debug!("in-process host link ended: {e:#}");
            }
        });
        host_end
    }
}

/// Reads the relay's host key, or creates an Ed25519 key with mode 0600 if there is none.
pub fn load_or_create_key(path: &Path) -> Result<PrivateKey> {
    keyfile::load_or_create(path, "relay host key", "cotty relay")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_links_put_the_token_in_the_fragment() {
        let mut s = Shared::for_tests(Limits::default());
        assert_eq!(s.web_link("abc"), "http://127.0.0.1:2222/#abc");
        assert_eq!(s.web_link("ro-abc"), "http://127.0.0.1:2222/#ro-abc");
        s.public_port = 80;
        assert_eq!(s.web_link("abc"), "http://127.0.0.1/#abc");
        s.public_url = Some(PublicUrl::parse("https://relay.example.org/").expect("url"));
        assert_eq!(s.web_link("abc"), "https://relay.example.org/#abc");
        assert_eq!(
            s.ssh_link("abc"),
            "ssh -p 80 abc@127.0.0.1",
            "ssh links do not change"
        );
    }
}
