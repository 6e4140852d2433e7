//! The ssh transport of a remote relay: the relay's key pinned or trusted on first use, the
//! host's login, then the uplink subsystem channel that carries the protocol.
//!
//! A host logs in with "none" first; a relay with `--host-keys` refuses that, and the host
//! then proves it holds its identity key. A refusal of that key is final: no retry changes
//! it, so its message starts with [`HOST_KEY_REFUSED`] for a supervisor to recognise.

use crate::net::keyfile;
use crate::net::known_relays::{self, Verdict};
use crate::net::proto::{HOST_USER, UPLINK_SUBSYSTEM};
use crate::net::uplink::{Fatal, RelayTarget, UplinkEvent};
use anyhow::{Context, Result, bail};
use russh::MethodKind;
use russh::client::AuthResult;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How the error for a host key the relay does not list begins.
pub const HOST_KEY_REFUSED: &str = "the relay refused this host key";

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
    log_in(&mut handle, target).await?;
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

/// Logs in as the host: with "none", or else with the identity key if the relay wants one.
async fn log_in(handle: &mut russh::client::Handle<KeyCheck>, target: &RelayTarget) -> Result<()> {
    let addr = &target.addr;
    let none = handle
        .authenticate_none(HOST_USER)
        .await
        .context("failed to log in to the relay")?;
    let remaining = match none {
        AuthResult::Success => return Ok(()),
        AuthResult::Failure {
            remaining_methods, ..
        } => remaining_methods,
    };
    // These refusals are final: no retry changes them.
    if !remaining.contains(&MethodKind::PublicKey) {
        return Err(Fatal(format!(
            "the relay {addr} refused the host login; is it a cotty relay?"
        ))
        .into());
    }
    let Some(path) = &target.identity else {
        return Err(Fatal(format!(
            "the relay {addr} only lets listed keys host; give this host a key with \
             --identity FILE (config: identity) and add its public key to the relay's \
             --host-keys file"
        ))
        .into());
    };
    let comment = format!(
        "cotty host {}",
        gethostname::gethostname().to_string_lossy()
    );
    let key = keyfile::load_or_create(path, "host identity key", &comment)?;
    let public = key.public_key().clone();
    // Only an RSA key needs the relay's choice of hash; asking waits for the relay's list.
    let hash = if key.algorithm().is_rsa() {
        handle
            .best_supported_rsa_hash()
            .await
            .context("failed to log in to the relay")?
            .flatten()
    } else {
        None
    };
    let signed = handle
        .authenticate_publickey(HOST_USER, PrivateKeyWithHashAlg::new(Arc::new(key), hash))
        .await
        .context("failed to log in to the relay")?;
    if signed.success() {
        return Ok(());
    }
    let line = public
        .to_openssh()
        .context("failed to write out the host's public key")?;
    Err(Fatal(format!(
        "{HOST_KEY_REFUSED} ({}): the relay {addr} only lets listed keys host; add this key \
         to its --host-keys file: {line} (fingerprint {})",
        path.display(),
        public.fingerprint(HashAlg::Sha256)
    ))
    .into())
}
