//! The relay inside `cotty`: bound on 0.0.0.0:2222 or the next free port, reached in-process.

use crate::net::relay::limits::{connections_for_open_files, open_file_limit};
use crate::net::relay::server::{Limits, LocalRelay, WebConfig};
use crate::net::relay::{Relay, RelayConfig};
use anyhow::{Context, Result, bail};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Where the built-in relay listens when nothing is configured.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:2222";
/// How many ports after the default are tried when it is taken.
const PORT_TRIES: u16 = 100;

/// How the built-in relay is set up.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// An address given by the user; `None` tries 0.0.0.0:2222 and the ports after it.
    pub listen: Option<SocketAddr>,
    /// The host name in links; `None` takes the first non-loopback address.
    pub public_host: Option<String>,
    /// The relay's ssh host key, created if missing, so guests' known_hosts stay valid.
    pub host_key: PathBuf,
}

/// A running built-in relay.
pub struct EmbeddedRelay {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The host name in its links.
    pub public_host: String,
    /// Its host key's fingerprint.
    pub fingerprint: String,
    /// Opens in-process host links.
    pub local: LocalRelay,
    /// Stops it.
    stop: CancellationToken,
    /// Its accept loop; ends once every connection is closed.
    task: JoinHandle<Result<()>>,
}

impl EmbeddedRelay {
    /// Binds and starts the relay.
    pub async fn start(opts: &EmbeddedOptions) -> Result<EmbeddedRelay> {
        let listener = bind(opts.listen).await?;
        let addr = listener
            .local_addr()
            .context("failed to read the built-in relay's address")?;
        let public_host = match &opts.public_host {
            Some(h) => h.clone(),
            None => public_host_for(addr.ip()),
        };
        let cfg = RelayConfig {
            listen: addr,
            public_host: public_host.clone(),
            public_port: None,
            host_key: opts.host_key.clone(),
            host_keys: None,
            // As for `cotty relay`: refuse cleanly before the process runs out of descriptors.
            limits: Limits {
                connections: open_file_limit()
                    .map(connections_for_open_files)
                    .unwrap_or(Limits::default().connections),
                ..Limits::default()
            },
            // The web on the same port, plain HTTP, linked by the same host name.
            web: WebConfig::default(),
            api_keys: None,
            require_authorized_keys: false,
        };
        let relay = Relay::with_listener(cfg, listener)?;
        let fingerprint = relay.fingerprint().to_string();
        let local = relay.local();
        let stop = CancellationToken::new();
        let task = tokio::spawn(relay.run(stop.clone()));
        Ok(EmbeddedRelay {
            addr,
            public_host,
            fingerprint,
            local,
            stop,
            task,
        })
    }

    /// Closes every connection and waits (at most about 4 s) for the relay to finish.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(4), self.task).await;
    }
}

/// Binds the given address, or the default port and, if it is taken, the ones after it.
async fn bind(listen: Option<SocketAddr>) -> Result<TcpListener> {
    if let Some(addr) = listen {
        return TcpListener::bind(addr).await.with_context(|| {
            format!(
                "failed to listen on {addr} (listen / --listen); choose another address, \
                 or 127.0.0.1:0 for any free port"
            )
        });
    }
    let first: SocketAddr = DEFAULT_LISTEN
        .parse()
        .expect("invariant: the default address parses");
    bind_first_free(first, PORT_TRIES).await
}

/// Binds `first`, or the first free port of the `tries` ports from it.
async fn bind_first_free(first: SocketAddr, tries: u16) -> Result<TcpListener> {
    let mut last_err = None;
    for i in 0..tries {
        let Some(port) = first.port().checked_add(i) else {
            break;
        };
        let addr = SocketAddr::new(first.ip(), port);
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = Some(e),
            Err(e) => {
                return Err(e).with_context(|| format!("failed to listen on {addr}"));
            }
        }
    }
    match last_err {
        Some(e) => bail!(
            "ports {}-{} are all taken ({e}); pass --listen ADDR",
            first.port(),
            first.port().saturating_add(tries - 1)
        ),
        None => bail!("failed to listen on {first}; pass --listen ADDR"),
    }
}

/// The host name for links: the listening address if it is a specific one, else the first
/// non-loopback address of this machine (IPv4 first), else its hostname.
pub fn public_host_for(listen: IpAddr) -> String {
    if !listen.is_unspecified() {
        return listen.to_string();
    }
    let addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|list| {
            list.into_iter()
                .filter(|i| !i.is_loopback())
                .map(|i| i.ip())
                .collect()
        })
        .unwrap_or_default();
    let pick = addrs.iter().find(|ip| ip.is_ipv4()).or_else(|| {
        addrs
            .iter()
            .find(|ip| matches!(ip, IpAddr::V6(v6) if !v6.is_unicast_link_local()))
    });
    match pick {
        Some(IpAddr::V6(v6)) => format!("[{v6}]"),
        Some(ip) => ip.to_string(),
        None => gethostname::gethostname()
            .into_string()
            .unwrap_or_else(|_| "localhost".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_listen_address_is_the_public_host() {
        assert_eq!(public_host_for("127.0.0.1".parse().unwrap()), "127.0.0.1");
    }

    #[test]
    fn the_unspecified_address_picks_a_non_loopback_one() {
        let host = public_host_for("0.0.0.0".parse().unwrap());
        assert!(!host.is_empty());
        assert_ne!(host, "127.0.0.1");
        assert_ne!(host, "0.0.0.0");
    }

    #[tokio::test]
    async fn a_taken_default_port_moves_to_the_next_and_a_given_one_is_an_error() {
        let held = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = held.local_addr().unwrap();
        // A port the user asked for is not silently replaced.
        let err = format!("{:#}", bind(Some(addr)).await.expect_err("taken"));
        assert!(
            err.contains("--listen") && err.contains(&addr.to_string()),
            "{err}"
        );
        // The default port moves on to a free one after it.
        let got = bind_first_free(addr, 20)
            .await
            .expect("a free port after it");
        let port = got.local_addr().unwrap().port();
        assert!(port > addr.port() && port < addr.port() + 20, "{port}");
        // With every port taken, the error says what to do.
        let err = format!(
            "{:#}",
            bind_first_free(addr, 1).await.expect_err("all taken")
        );
        assert!(err.contains("--listen"), "{err}");
    }
}
