//! The host's end of the relay connection: ssh with a pinned relay key, then the protocol.
//!
//! [`run`] speaks the protocol over any byte stream, so an in-process relay and a remote one
//! share this one code path; [`connect_ssh`] provides the stream for a remote relay.

use crate::core::session::{Outbound, SessionCmd, SessionHandle};
use crate::net::codec::{FrameReader, FrameWriter};
use crate::net::known_relays::{self, Verdict};
use crate::net::proto::{
    HOST_USER, Hello, HostMsg, Links, PaneGeometry, RelayMsg, UPLINK_SUBSYSTEM,
};
use anyhow::{Context, Result, anyhow, bail};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tracing::info;

/// Messages the session may queue for the relay before output is replaced by a snapshot.
pub const UPLINK_QUEUE: usize = 32;

/// Where and how to reach a relay.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    /// `HOST:PORT`.
    pub addr: String,
    /// The relay key's fingerprint, if pinned on the command line.
    pub fingerprint: Option<String>,
    /// The known-relays file for trust on first use.
    pub known_relays: PathBuf,
}

/// What the uplink tells the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UplinkEvent {
    /// The relay accepted the session.
    Connected(Links),
    /// A line for the log.
    Log(String),
}

/// The ssh client handler: checks the relay's key against the pin or the known-relays file.
pub struct KeyCheck {
    /// The target.
    target: RelayTarget,
    /// Where to tell the front end about a key stored on first use.
    events: mpsc::Sender<UplinkEvent>,
}

impl russh::client::Handler for KeyCheck {
    type Error = anyhow::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            bail!(
                "the relay {} offered a certificate; cotty pins plain keys",
                self.target.addr
            );
        };
        let got = key.fingerprint(HashAlg::Sha256).to_string();
        let t = &self.target;
        if let Some(want) = &t.fingerprint {
            if *want != got {
                bail!(
                    "relay key mismatch for {}: --relay-fingerprint says {want}, the relay has {got}; \
                     check the fingerprint the relay printed at start",
                    t.addr
                );
            }
            return Ok(true);
        }
        match known_relays::check(&t.known_relays, &t.addr, &got)? {
            Verdict::Known => Ok(true),
            Verdict::New => {
                known_relays::add(&t.known_relays, &t.addr, &got)?;
                let line = format!(
                    "relay {} is new: stored its key {got} in {}",
                    t.addr,
                    t.known_relays.display()
                );
                let _ = self.events.try_send(UplinkEvent::Log(line));
                Ok(true)
            }
            Verdict::Changed { line, expected } => Err(anyhow!(known_relays::changed_message(
                &t.known_relays,
                &t.addr,
                line,
                &expected,
                &got
            ))),
        }
    }
}

/// An open ssh connection to a relay; dropping it closes the connection.
pub struct SshUplink {
    /// Keeps the ssh session alive.
    pub handle: russh::client::Handle<KeyCheck>,
    /// The subsystem channel that carries the protocol.
    pub stream: russh::ChannelStream<russh::client::Msg>,
}

/// Connects to a relay over ssh, checks its key, and opens the uplink subsystem.
pub async fn connect_ssh(
    target: &RelayTarget,
    events: mpsc::Sender<UplinkEvent>,
) -> Result<SshUplink> {
    let config = russh::client::Config {
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(30)),
        ..Default::default()
    };
    let handler = KeyCheck {
        target: target.clone(),
        events,
    };
    let mut handle = russh::client::connect(Arc::new(config), target.addr.as_str(), handler)
        .await
        .with_context(|| format!("failed to connect to the relay {}", target.addr))?;
    let auth = handle
        .authenticate_none(HOST_USER)
        .await
        .context("failed to log in to the relay")?;
    if !auth.success() {
        bail!(
            "the relay {} refused the host login; is it a cotty relay?",
            target.addr
        );
    }
    let channel = handle
        .channel_open_session()
        .await
        .context("failed to open a channel to the relay")?;
    channel
        .request_subsystem(true, UPLINK_SUBSYSTEM)
        .await
        .context("failed to start the uplink on the relay")?;
    Ok(SshUplink {
        handle,
        stream: channel.into_stream(),
    })
}

impl From<Outbound> for HostMsg {
    fn from(o: Outbound) -> HostMsg {
        match o {
            Outbound::Layout { panes, focus } => HostMsg::Layout {
                panes: panes
                    .into_iter()
                    .map(|(id, size)| PaneGeometry { id, size })
                    .collect(),
                focus,
            },
            Outbound::Output { pane, bytes } => HostMsg::Output { pane, bytes },
            Outbound::Snapshot { pane, size, bytes } => HostMsg::Snapshot { pane, size, bytes },
            Outbound::SetAccess { guest, access } => HostMsg::SetAccess { guest, access },
            Outbound::Kick { guest, reason } => HostMsg::Kick { guest, reason },
            Outbound::Lock(on) => HostMsg::Lock(on),
            Outbound::SetLink { access, enabled } => HostMsg::SetLink { access, enabled },
            Outbound::End { reason } => HostMsg::End { reason },
        }
    }
}

/// Speaks the protocol over `stream` until either side ends it.
///
/// Sends the hello, waits for the welcome (reported as [`UplinkEvent::Connected`]), hands the
/// session a queue for its output, and forwards guests' events to the session.
pub async fn run<S>(
    stream: S,
    hello: Hello,
    session: SessionHandle,
    events: mpsc::Sender<UplinkEvent>,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let mut reader = FrameReader::new(r);
    let mut writer = FrameWriter::new(w);
    writer
        .send(&HostMsg::Hello(hello))
        .await
        .context("failed to greet the relay")?;
    let first = reader
        .next::<RelayMsg>()
        .await
        .context("failed to read the relay's answer")?
        .ok_or_else(|| anyhow!("the relay closed the connection before answering"))?;
    let mut rest = first.into_iter();
    match rest.next() {
        Some(RelayMsg::Welcome { links, .. }) => {
            info!("relay accepted the session");
            let _ = events.send(UplinkEvent::Connected(links)).await;
        }
        Some(RelayMsg::Reject { reason }) => bail!("the relay refused the session: {reason}"),
        other => bail!("the relay answered {other:?} instead of Welcome"),
    }

    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(UPLINK_QUEUE);
    session.send(SessionCmd::UplinkUp(out_tx)).await?;
    let writing = async move {
        while let Some(msg) = out_rx.recv().await {
            writer.push(&HostMsg::from(msg)).await?;
            while let Ok(more) = out_rx.try_recv() {
                writer.push(&HostMsg::from(more)).await?;
            }
            writer.flush().await?;
        }
        // The session has ended: its End message is written; close our side.
        let _ = writer.shutdown().await;
        anyhow::Ok(())
    };
    let reading = async {
        for msg in rest {
            forward(&session, msg).await?;
        }
        while let Some(batch) = reader.next::<RelayMsg>().await? {
            for msg in batch {
                forward(&session, msg).await?;
            }
        }
        bail!("the relay closed the connection")
    };
    tokio::pin!(writing, reading);
    tokio::select! {
        r = &mut writing => {
            r.context("uplink to the relay")?;
            // The session ended and its End message is handed to ssh. Wait for the relay to
            // close its side, which it does once it has the message; exiting sooner could
            // drop the message inside the ssh connection.
            let _ = tokio::time::timeout(Duration::from_secs(3), &mut reading).await;
            Ok(())
        }
        r = &mut reading => r.context("uplink to the relay"),
    }
}

/// Passes a relay message on to the session.
async fn forward(session: &SessionHandle, msg: RelayMsg) -> Result<()> {
    let cmd = match msg {
        RelayMsg::GuestJoined(info) => SessionCmd::GuestJoined(info),
        RelayMsg::GuestLeft { guest } => SessionCmd::GuestLeft(guest),
        RelayMsg::Input { guest, pane, bytes } => SessionCmd::GuestInput { guest, pane, bytes },
        RelayMsg::GuestResize { guest, size } => SessionCmd::GuestResize { guest, size },
        RelayMsg::Pong(_) | RelayMsg::Welcome { .. } | RelayMsg::Reject { .. } => return Ok(()),
    };
    session.send(cmd).await
}
