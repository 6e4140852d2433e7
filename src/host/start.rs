//! Starting a host: the session, the relay (built in or dialled over ssh) and the uplink
//! supervisor.

use crate::core::layout::SizePolicy;
use crate::core::pty::CommandSpec;
use crate::core::session::{self, Notice, SessionCmd, SessionConfig, SessionHandle};
use crate::core::types::Size;
use crate::host::embedded::{EmbeddedOptions, EmbeddedRelay};
use crate::host::forge::ForgeKeys;
use crate::host::guestkeys::{GuestKeySource, guest_key_lines};
use crate::net::proto::{Hello, Links};
use crate::net::uplink::{Dialer, LinkState, RelayTarget, Uplink, UplinkEvent};
use anyhow::{Result, anyhow, bail};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Warnings about the key file passed to the log at the start; the file's owner fixes the
/// first few and sees the rest then.
const MAX_WARNINGS: usize = 20;

/// Which relay a host uses.
#[derive(Debug, Clone)]
pub enum RelayChoice {
    /// Dial a relay over ssh.
    Remote(RelayTarget),
    /// Run one in this process.
    Embedded(EmbeddedOptions),
}

/// How a host is set up.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The relay.
    pub relay: RelayChoice,
    /// What to run.
    pub cmd: CommandSpec,
    /// How the shared size is chosen.
    pub policy: SizePolicy,
    /// The host's own terminal area for the pane; none for the headless host.
    pub host_size: Option<Size>,
    /// Start the program again when it exits (headless), or end the session (dashboard).
    pub respawn: bool,
    /// Every new guest waits until the host lets it in (`--approve`).
    pub approve: bool,
    /// Guests' keys fetched from forges (`--github USER`), which alone may then join.
    pub forge_keys: Option<ForgeKeys>,
    /// The API key and names of a named session; unset for random links.
    pub named: SessionNames,
    /// Where the guests' keys come from (`-a`); read at the start and by `reload-keys`.
    pub guest_keys: GuestKeySource,
    /// How long after the start the links let new guests in (`--link-ttl`); no end if unset.
    pub link_ttl: Option<Duration>,
}

/// What a host asks a relay with `--api-keys` for: stable names for its links, under the user
/// name its API key stands for. The relay checks all three; the config checks them first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionNames {
    /// The relay's API key (`-k`, `api_key`).
    pub api_key: Option<String>,
    /// The read-write link's name (`-n`, `name`).
    pub name: Option<String>,
    /// The read-only link's name (`-r`, `ro_name`).
    pub ro_name: Option<String>,
}

/// A running host: its session, the uplink supervisor, and the built-in relay if there is one.
pub struct Host {
    /// Commands into the session.
    pub session: SessionHandle,
    /// What the session reports.
    pub notices: mpsc::Receiver<Notice>,
    /// What the uplink reports: links, state changes and log lines. It never ends by itself
    /// while the session runs: the supervisor reconnects for as long as it takes.
    pub events: mpsc::Receiver<UplinkEvent>,
    /// The uplink supervisor; [`Host::shutdown`] stops it.
    uplink: Uplink,
    /// The session task; it ends when the session does.
    pub session_task: JoinHandle<Result<()>>,
    /// The built-in relay, if this host runs one.
    pub embedded: Option<EmbeddedRelay>,
    /// Where the guests' keys come from, for `reload-keys`.
    guest_keys: GuestKeySource,
    /// The keys fetched from forges at the start; `reload-keys` keeps them beside the file's.
    forge_lines: Vec<String>,
}

impl Host {
    /// Starts the relay if it is built in, the program, and the uplink supervisor.
    pub async fn start(opts: HostOptions) -> Result<Host> {
        let (notice_tx, notices) = mpsc::channel(256);
        let (ev_tx, events) = mpsc::channel(64);
        let cfg = SessionConfig {
            cmd: opts.cmd,
            policy: opts.policy,
            respawn: opts.respawn,
            host_size: opts.host_size,
        };
        // Read before anything starts, so a missing file is said at once.
        let keys = guest_key_lines(&opts.guest_keys)?;
        let mut hello = Hello::new(concat!("cotty ", env!("CARGO_PKG_VERSION")));
        if let Some(keys) = keys {
            for w in keys.warnings.iter().take(MAX_WARNINGS) {
                let _ = ev_tx.try_send(UplinkEvent::Log(w.clone()));
            }
            hello.authorized_keys = Some(keys.lines);
        }
        // Guests' status lines name the session as the host's own status bar does.
        hello.title = Some(crate::host::headless::session_name());
        let forge_lines = opts
            .forge_keys
            .as_ref()
            .map(|k| k.lines.clone())
            .unwrap_or_default();
        if let Some(keys) = &opts.forge_keys {
            keys.add_to(&mut hello);
            for line in &keys.log {
                let _ = ev_tx.try_send(UplinkEvent::Log(line.clone()));
            }
        }
        hello.api_key = opts.named.api_key;
        hello.name = opts.named.name;
        hello.ro_name = opts.named.ro_name;
        hello.approve = opts.approve;
        // Counted from now; the uplink sends what is left of it with each hello.
        hello.link_ttl_secs = opts.link_ttl.map(|d| d.as_secs());
        let (dialer, embedded) = match opts.relay {
            RelayChoice::Remote(target) => (Dialer::Remote(target), None),
            RelayChoice::Embedded(e) => {
                let relay = EmbeddedRelay::start(&e).await?;
                let _ = ev_tx.try_send(UplinkEvent::Log(format!(
                    "built-in relay listening on {}, key {}",
                    relay.addr, relay.fingerprint
                )));
                (Dialer::Local(relay.local.clone()), Some(relay))
            }
        };
        let (session, session_task) = match session::spawn(cfg, notice_tx) {
            Ok(s) => s,
            Err(err) => {
                if let Some(relay) = embedded {
                    relay.stop().await;
                }
                return Err(err);
            }
        };
        let uplink = Uplink::spawn(dialer, hello, session.clone(), ev_tx);
        Ok(Host {
            session,
            notices,
            events,
            uplink,
            session_task,
            embedded,
            guest_keys: opts.guest_keys,
            forge_lines,
        })
    }

    /// Reads the guests' keys again and sends them to the relay; guests already inside
    /// stay. Returns what to tell the user: how many keys, and what was wrong in the file.
    pub async fn reload_keys(&self) -> Result<String> {
        if !self.guest_keys.is_set() && self.forge_lines.is_empty() {
            bail!(
                "this session lists no guest keys, so anyone with the link may join; start \
                 cotty with -a FILE to admit only listed keys"
            );
        }
        // The file is read again; the forge users' keys, fetched at the start, stay.
        let mut keys = guest_key_lines(&self.guest_keys)?.unwrap_or_default();
        keys.lines.extend(self.forge_lines.iter().cloned());
        let mut lines = vec![format!(
            "{} guest keys; guests that join from now on are checked against them",
            keys.lines.len()
        )];
        lines.extend(keys.warnings);
        self.session
            .send(SessionCmd::SetGuestKeys(keys.lines))
            .await
            .map_err(|_| anyhow!("the session has ended"))?;
        Ok(lines.join("\n"))
    }

    /// Waits for the relay's links, passing over the events that come first. Fails if the
    /// relay refuses the host for good, or after `timeout`.
    pub async fn links(&mut self, timeout: Duration) -> Result<Links> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| anyhow!("the relay did not answer within {timeout:?}"))?;
            match ev {
                Some(UplinkEvent::Connected { links, .. }) => return Ok(links),
                Some(UplinkEvent::State(LinkState::Refused(why))) => bail!(why),
                Some(_) => {}
                None => bail!("the uplink ended before the relay answered"),
            }
        }
    }

    /// Ends the session: guests see `reason`, the uplink closes, the built-in relay stops.
    /// Safe to call twice; the second call does nothing.
    pub async fn shutdown(&mut self, reason: &str) {
        let _ = self.session.send(SessionCmd::End(reason.to_string())).await;
        self.uplink.stop(Duration::from_secs(3)).await;
        if let Some(relay) = self.embedded.take() {
            relay.stop().await;
        }
    }
}
