//! The russh handler: a thin adapter that turns ssh requests into tasks and room messages.
//!
//! A host logs in as [`HOST_USER`] and opens the [`UPLINK_SUBSYSTEM`]; a guest logs in with
//! its token as the user name and asks for a PTY and a shell. Everything else a guest might
//! ask for (exec, subsystems, forwarding, agent, X11) is refused. With `--host-keys`, a host
//! must log in with a listed public key; without, with "none".
//!
//! A session that lists its guests' keys (`cotty -a`) admits only those: "none",
//! keyboard-interactive and every other key are refused while the client authenticates, so
//! ssh goes on to offer its other keys. Once they are all refused, ssh tries
//! keyboard-interactive last; that request gets the refusal as its instructions, with no
//! prompt, which OpenSSH prints (at its default log level), and is then refused too.

use crate::core::types::{Size, Via};
use crate::net::proto::{HOST_USER, UPLINK_SUBSYSTEM};
use crate::net::relay::approvals;
use crate::net::relay::guest::{self, GuestSetup};
use crate::net::relay::guestkeys::{self, GuestKeys, KeyIdentity, KeyRefused};
use crate::net::relay::hostkeys::fingerprint;
use crate::net::relay::hostlink;
use crate::net::relay::server::Shared;
use crate::net::relay::ssh_guest::SshTransport;
use russh::keys::HashAlg;
use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// One ssh connection's handler. It holds ids and handles only; the work is done by the guest
/// task, the host link and the room.
pub struct SshHandler {
    /// State shared by the relay.
    shared: Arc<Shared>,
    /// The peer's address, for logs and the host's guest list.
    peer: Option<SocketAddr>,
    /// The user name the client authenticated as: a token, or [`HOST_USER`].
    user: String,
    /// The fingerprint of the key the guest proved it holds, if any.
    fingerprint: Option<String>,
    /// The listed key the guest proved it holds, in a session that lists its guests' keys.
    key: Option<KeyIdentity>,
    /// Fingerprints of the unlisted keys a key-only session refused, for the refusal.
    refused: Vec<String>,
    /// Fingerprints of the keys refused because their `from=` does not match the peer.
    elsewhere: Vec<String>,
    /// Session channels opened but not yet given to a task.
    channels: HashMap<ChannelId, Channel<Msg>>,
    /// Terminal sizes from PTY requests, by channel.
    sizes: HashMap<ChannelId, Size>,
    /// Cancelled once a shell or the uplink has started, which ends the login grace.
    login: CancellationToken,
}

impl SshHandler {
    /// A handler for a new connection; it cancels `login` once the client is in.
    pub fn new(shared: Arc<Shared>, peer: Option<SocketAddr>, login: CancellationToken) -> Self {
        SshHandler {
            shared,
            peer,
            user: String::new(),
            fingerprint: None,
            key: None,
            refused: Vec::new(),
            elsewhere: Vec::new(),
            channels: HashMap::new(),
            sizes: HashMap::new(),
            login,
        }
    }

    /// Whether `key` may host: any key without `--host-keys`, else a listed one. A refusal
    /// is logged with the key, so the operator can add it.
    fn may_host(&self, key: &PublicKey) -> bool {
        let Some(keys) = &self.shared.host_keys else {
            return true;
        };
        let why = match keys.check(key, self.peer_ip()) {
            Ok(()) => return true,
            Err(KeyRefused::Unlisted) => "is not in",
            Err(KeyRefused::NotFromHere) => "is listed, but not for this address, in",
        };
        self.shared.door_log.warn(|| {
            format!(
                "host login from {} refused: key {} {why} the --host-keys file {}",
                fmt_peer(self.peer),
                fingerprint(key),
                keys.path().display()
            )
        });
        false
    }

    /// The guest keys of the session `user` (a token) opens, if it lists them. Unknown
    /// tokens get `None`, so they go on as today and are refused after the failure delay.
    fn session_keys(&self, user: &str) -> Option<Arc<GuestKeys>> {
        if user == HOST_USER {
            return None;
        }
        let entry = self.shared.registry.lookup(user)?;
        entry.keys.borrow().clone()
    }

    /// Runs `approve-web CODE`: hands this guest's listed key to the page waiting with
    /// `code`. Returns whether it worked and what to print.
    fn approve_web(&self, code: &str) -> (bool, String) {
        let Some(key) = self.key.clone() else {
            return (
                false,
                "approve-web lets a web page into a session that admits only listed keys; \
                 this session admits anyone with the link, so open the page's link as it is"
                    .into(),
            );
        };
        let name = key.name.clone();
        match self.shared.approvals.approve(code, &self.user, key) {
            Ok(()) => {
                info!(
                    "guest {} approved a web page as {name}",
                    fmt_peer(self.peer)
                );
                (true, format!("the web page joins as {name}"))
            }
            Err(e) => (false, e.text().to_string()),
        }
    }

    /// The peer's address, which a key's `from=` is checked against.
    fn peer_ip(&self) -> Option<IpAddr> {
        self.peer.map(|p| p.ip())
    }

    fn is_host(&self) -> bool {
        self.user == HOST_USER
    }
}

fn guest_methods() -> MethodSet {
    MethodSet::from(&[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..])
}

impl russh::server::Handler for SshHandler {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        if user == HOST_USER {
            if self.shared.host_keys.is_some() {
                return Ok(Auth::Reject {
                    proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
                    partial_success: false,
                });
            }
            self.user = user.to_string();
            return Ok(Auth::Accept);
        }
        // Guests go on with a key (to learn its fingerprint) or keyboard-interactive.
        Ok(Auth::Reject {
            proceed_with_methods: Some(guest_methods()),
            partial_success: false,
        })
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if user == HOST_USER && !self.may_host(offer.public_key) {
            return Ok(Auth::reject());
        }
        if let Some(keys) = self.session_keys(user)
            && let Err(why) = keys.find(offer.public_key, self.peer_ip())
        {
            let fp = fingerprint(offer.public_key);
            let list = match why {
                KeyRefused::Unlisted => &mut self.refused,
                KeyRefused::NotFromHere => &mut self.elsewhere,
            };
            if !list.contains(&fp) && list.len() < 8 {
                list.push(fp);
            }
            return Ok(Auth::Reject {
                proceed_with_methods: Some(guest_methods()),
                partial_success: false,
            });
        }
        Ok(Auth::Accept)
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if user == HOST_USER && !self.may_host(key.public_key) {
            return Ok(Auth::reject());
        }
        if let Some(keys) = self.session_keys(user) {
            let Ok(id) = keys.identify(key.public_key, self.peer_ip()) else {
                return Ok(Auth::reject());
            };
            self.key = Some(id);
        }
        self.user = user.to_string();
        self.fingerprint = Some(key.public_key.fingerprint(HashAlg::Sha256).to_string());
        Ok(Auth::Accept)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        // Hosts prove themselves with a key or not at all, never with this.
        if user == HOST_USER {
            return Ok(Auth::reject());
        }
        // Never a way into a key-only session: the first round only carries the refusal to
        // the user, the second is refused with nothing more to try.
        if self.session_keys(user).is_some() {
            if response.is_some() {
                return Ok(Auth::Reject {
                    proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
                    partial_success: false,
                });
            }
            return Ok(Auth::Partial {
                name: "".into(),
                instructions: format!(
                    "cotty: {}",
                    guestkeys::refusal(&self.refused, &self.elsewhere, self.peer_ip())
                )
                .into(),
                prompts: Vec::new().into(),
            });
        }
        // No questions: the token in the user name is the secret.
        self.user = user.to_string();
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channels.len() >= 4 {
            return Ok(()); // Dropping the reply refuses the channel.
        }
        let id = channel.id();
        reply.accept().await;
        self.channels.insert(id, channel);
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _px_w: u32,
        _px_h: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.is_host() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.sizes.insert(channel, Size::from_ssh(cols, rows));
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(ch) = self.channels.remove(&channel).filter(|_| !self.is_host()) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        self.login.cancel();
        let setup = GuestSetup {
            token: self.user.clone(),
            fingerprint: self.fingerprint.clone(),
            key: self.key.clone(),
            name: None,
            addr: self.peer,
            via: Via::Ssh,
        };
        let term = self.sizes.remove(&channel);
        let shared = self.shared.clone();
        let transport = SshTransport::new(ch, term, shared.limits, shared.theme.clone());
        self.shared
            .tasks
            .spawn(guest::run(transport, setup, shared));
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if !self.is_host() || name != UPLINK_SUBSYSTEM {
            debug!("refused subsystem {name:?} from {:?}", self.peer);
            session.channel_failure(channel)?;
            return Ok(());
        }
        let Some(ch) = self.channels.remove(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        self.login.cancel();
        let shared = self.shared.clone();
        let peer = self.peer;
        self.shared.tasks.spawn(async move {
            if let Err(e) = hostlink::serve(ch.into_stream(), shared, peer).await {
                warn!("host {} disconnected: {e:#}", fmt_peer(peer));
            }
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(code) = approvals::parse_command(data).filter(|_| !self.is_host())
            && let Some(ch) = self.channels.remove(&channel)
        {
            session.channel_success(channel)?;
            self.login.cancel();
            let (ok, text) = self.approve_web(code);
            let text = format!("cotty: {text}\r\n").into_bytes();
            self.shared.tasks.spawn(async move {
                let _ = match ok {
                    true => ch.data_bytes(text).await,
                    false => ch.extended_data_bytes(1, text).await,
                };
                let _ = ch.exit_status(u32::from(!ok)).await;
                let _ = ch.eof().await;
                let _ = ch.close().await;
            });
            return Ok(());
        }
        debug!(
            "refused exec {:?} from {}",
            String::from_utf8_lossy(data),
            fmt_peer(self.peer)
        );
        session.channel_failure(channel)?;
        if let Some(ch) = self.channels.remove(&channel) {
            let msg =
                "cotty: running commands is not allowed; join with plain `ssh TOKEN@host`\r\n";
            let _ = ch.extended_data_bytes(1, msg.as_bytes().to_vec()).await;
            let _ = ch.exit_status(1).await;
            let _ = ch.close().await;
        }
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        self.sizes.remove(&channel);
        Ok(())
    }
}

/// An address for log lines.
pub fn fmt_peer(peer: Option<SocketAddr>) -> String {
    peer.map(|p| p.to_string())
        .unwrap_or_else(|| "(in-process)".into())
}
