//! The relay's listener: host key, limits, one task per connection, and clean shutdown.

use crate::net::relay::hostlink;
pub use crate::net::relay::limits::Limits;
use crate::net::relay::registry::Registry;
use crate::net::relay::resume::ResumeKey;
use crate::net::relay::ssh::SshHandler;
use crate::ui::theme::Theme;
use anyhow::{Context, Result};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

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
    /// Limits.
    pub limits: Limits,
}

/// What every connection task shares.
pub struct Shared {
    /// Tokens to rooms.
    pub registry: Registry,
    /// The host name in links.
    pub public_host: String,
    /// The port in links.
    pub public_port: u16,
    /// Limits.
    pub limits: Limits,
    /// Signs and checks resume secrets; derived from the host key file, so it survives a
    /// restart.
    pub resume_key: ResumeKey,
    /// How guests' status lines look.
    pub theme: Theme,
    /// Cancelled when the relay shuts down.
    pub shutdown: CancellationToken,
    /// Tracks the tasks to wait for at shutdown.
    pub tasks: TaskTracker,
}

impl Shared {
    /// Shared state for actor tests: no listener, loopback links, the given limits.
    #[cfg(test)]
    pub fn for_tests(limits: Limits) -> Shared {
        Shared {
            registry: Registry::default(),
            public_host: "127.0.0.1".into(),
            public_port: 2222,
            limits,
            resume_key: ResumeKey::derive(b"test key"),
            theme: Theme::default_dark(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
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
}

/// A bound relay, ready to run.
pub struct Relay {
    /// The listening socket.
    listener: TcpListener,
    /// The ssh server's settings.
    ssh: Arc<russh::server::Config>,
    /// State shared with connection tasks.
    shared: Arc<Shared>,
    /// The host key's fingerprint.
    fingerprint: String,
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
            theme: Theme::default_dark(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        Ok(Relay {
            listener,
            ssh: Arc::new(ssh),
            shared: Arc::new(shared),
            fingerprint,
        })
    }

    /// The address the relay listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("failed to read the listening address")
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

    /// Accepts connections until `shutdown` is cancelled, then closes them all.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let permits = Arc::new(Semaphore::new(self.shared.limits.connections));
        loop {
            let (socket, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = self.listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        warn!("failed to accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                warn!(
                    "connection from {peer} refused: {} connections open",
                    self.shared.limits.connections
                );
                continue;
            };
            let _ = socket.set_nodelay(true);
            let shared = self.shared.clone();
            let cfg = self.ssh.clone();
            self.shared.tasks.spawn(async move {
                let handler = SshHandler::new(shared.clone(), Some(peer));
                match russh::server::run_stream(cfg, socket, handler).await {
                    Ok(session) => {
                        let handle = session.handle();
                        tokio::select! {
                            r = session => if let Err(e) = r {
                                debug!("connection from {peer} ended: {e:#}");
                            },
                            _ = shared.shutdown.cancelled() => {
                                // Give guest tasks a moment to say goodbye first.
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                let _ = handle
                                    .disconnect(russh::Disconnect::ByApplication, crate::net::relay::room::RELAY_RESTARTING.into(), "en".into())
                                    .await;
                            }
                        }
                    }
                    Err(e) => debug!("handshake with {peer} failed: {e:#}"),
                }
                drop(permit);
            });
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
    if path.exists() {
        return russh::keys::load_secret_key(path, None).with_context(|| {
            format!(
                "failed to read the relay host key {}; fix the file or remove it to create a new key",
                path.display()
            )
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create the directory {}", dir.display()))?;
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no OS random source: {e}"))?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.write_openssh_file(path, russh::keys::ssh_key::LineEnding::LF)
        .with_context(|| format!("failed to write the relay host key {}", path.display()))?;
    info!("created relay host key {}", path.display());
    Ok(key)
}
