//! The ssh transport of a remote relay: the relay's key pinned or trusted on first use, then
//! the uplink subsystem channel that carries the protocol.

use crate::net::known_relays::{self, Verdict};
use crate::net::proto::{HOST_USER, UPLINK_SUBSYSTEM};
use crate::net::uplink::{Fatal, RelayTarget, UplinkEvent};
use anyhow::{Context, Result, bail};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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
                return Err(Fatal(format!(
                    "relay key mismatch for {}: --relay-fingerprint says {want}, the relay has {got}; \
                     check the fingerprint the relay printed at start",
                    t.addr
                ))
                .into());
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
            Verdict::Changed { line, expected } => Err(Fatal(known_relays::changed_message(
                &t.known_relays,
                &t.addr,
                line,
                &expected,
                &got,
            ))
            .into()),
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
