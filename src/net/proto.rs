//! Wire messages between host and relay, one typed enum per direction.
//!
//! The framing, compression and limits live in [`crate::net::codec`]; this file only says
//! what can be said. Every message is serialised as a msgpack map, so fields can be added
//! later without breaking older peers that ignore them.

use crate::core::term::RowsUpdate;
pub use crate::core::types::NewLink;
use crate::core::types::{Access, GuestId, GuestInfo, PaneId, Size};
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks. A peer with another version is rejected with a
/// message that says which side to upgrade.
/// Version 4 (issue 12): a relay must act on `authorized_keys`, `approve`, `link_ttl_secs`
/// and the names; an older relay ignored them and would let anyone with the link in, so it
/// must refuse this host instead.
pub const PROTOCOL_VERSION: u32 = 4;

/// The ssh user name a host logs in to the relay with. It cannot be a session token,
/// since tokens are base62 only.
pub const HOST_USER: &str = "_cotty_host";

/// The ssh subsystem that carries the uplink protocol.
pub const UPLINK_SUBSYSTEM: &str = "cotty-uplink";

/// The first message of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the host speaks.
    pub version: u32,
    /// The host's program and version, for the relay's log.
    pub client: String,
    /// A stable name for the read-write link, `USERNAME/NAME` (`-n`); needs `api_key`.
    pub name: Option<String>,
    /// What guests' status lines call the session: the host's USER@HOST, or its name. The
    /// relay keeps printable characters only, and at most 40 of them.
    #[serde(default)]
    pub title: Option<String>,
    /// A stable name for the read-only link, `USERNAME/RO_NAME` (`-r`); needs `api_key`.
    pub ro_name: Option<String>,
    /// The relay's API key (`-k`): it allows named sessions, under the key's user name.
    pub api_key: Option<String>,
    /// Public keys (authorized_keys lines) allowed to join; `None` lets anyone with the link.
    pub authorized_keys: Option<Vec<String>>,
    /// An earlier session to take up again after a reconnect, with its proof.
    pub resume: Option<Resume>,
    /// Whether every new guest waits until the host admits or denies it (`--approve`).
    #[serde(default)]
    pub approve: bool,
    /// How long after the session starts its links admit new guests (`--link-ttl`), in
    /// seconds; `None` for no end. A host sends what is left of it with every hello, so a
    /// session registered again on a restarted relay keeps its deadline; a relay that still
    /// has the room keeps the deadline it set and ignores this.
    #[serde(default)]
    pub link_ttl_secs: Option<u64>,
    /// The extra links of the session being resumed, as the relay last reported them (with
    /// `expires_in` counted down by the host). A relay that still has the room ignores them;
    /// a restarted one makes each again whose [`ExtraLink::proof`] checks, so extra links
    /// outlive a relay restart as the main ones do.
    #[serde(default)]
    pub extra_links: Vec<ExtraLink>,
}

/// What a host presents to take up its session again: on the same relay after a dropped
/// link, or on a restarted relay that has lost its memory and checks the secret instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The session's id, as the relay gave it in [`RelayMsg::Welcome`].
    pub session: String,
    /// The read-write token, so the links stay the same.
    pub rw: String,
    /// The read-only token.
    pub ro: String,
    /// `HMAC-SHA256(relay secret, session, rw, ro)` in hex: only the relay can make it.
    pub secret: String,
}

/// Why a relay refused a host, so the host knows whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RejectKind {
    /// Something may change: the relay is busy or shutting down. Try again later.
    #[default]
    Retry,
    /// The resume was refused; a new session (with new links) may still be registered.
    Resume,
    /// No retry can change it (protocol version, host key not allowed).
    Final,
}

impl Hello {
    /// A hello of this build, with every option unset.
    pub fn new(client: impl Into<String>) -> Self {
        Hello {
            version: PROTOCOL_VERSION,
            client: client.into(),
            name: None,
            title: None,
            ro_name: None,
            api_key: None,
            authorized_keys: None,
            resume: None,
            approve: false,
            link_ttl_secs: None,
            extra_links: Vec::new(),
        }
    }
}

/// What a kicked guest sees; also the reason hosts send with a kick.
pub const KICKED: &str = "you were disconnected by the host";

/// One pane in a [`HostMsg::Layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaneGeometry {
    /// The pane's id.
    pub id: PaneId,
    /// The pane's size.
    pub size: Size,
}

/// The links a relay hands out for a session.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Links {
    /// The read-write ssh command, e.g. `ssh -p 2222 TOKEN@relay`.
    pub ssh: String,
    /// The read-only ssh command.
    pub ssh_ro: String,
    /// The read-write web link, once the relay serves one.
    pub web: Option<String>,
    /// The read-only web link, once the relay serves one.
    pub web_ro: Option<String>,
}

/// Host to relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostMsg {
    /// Opens the conversation; must come first and only once.
    Hello(Box<Hello>),
    /// The panes and their sizes.
    Layout {
        /// Every pane, in display order.
        panes: Vec<PaneGeometry>,
        /// The pane that has the focus.
        focus: PaneId,
    },
    /// The rows of a pane's screen that changed (all of them after a connect, a resume or a
    /// new size), with its cursor, modes and title. The host renders; the relay keeps these.
    Rows(RowsUpdate),
    /// A pane is gone.
    PaneClosed {
        /// The pane.
        pane: PaneId,
    },
    /// Changes what a guest may do.
    SetAccess {
        /// The guest.
        guest: GuestId,
        /// Its new access.
        access: Access,
    },
    /// Disconnects a guest.
    Kick {
        /// The guest.
        guest: GuestId,
        /// Shown to the guest.
        reason: String,
    },
    /// Locks (true) or unlocks every guest's input at once.
    Lock(bool),
    /// Switches a link off (new guests with it are refused) or on again.
    SetLink {
        /// The link's access: the read-write or the read-only link.
        access: Access,
        /// Whether it lets guests in.
        enabled: bool,
    },
    /// A line to show every guest.
    Notice(String),
    /// The host is ending the session; guests see the reason.
    End {
        /// Shown to the guests.
        reason: String,
    },
    /// Keep-alive and round-trip probe; answered by [`RelayMsg::Pong`] with the same value.
    Ping(u64),
    /// Answers [`RelayMsg::Ping`].
    Pong(u64),
    /// The session's guest keys changed (`reload-keys`): authorized_keys lines, as in
    /// [`Hello::authorized_keys`]. Guests already inside stay.
    GuestKeys {
        /// The lines; the relay reads them again and keeps only public keys.
        lines: Vec<String>,
    },
    /// Lets a guest that waits ([`RelayMsg::GuestWaiting`]) in, with `access` or less: a
    /// read-only link stays read-only whatever the host says.
    Admit {
        /// The waiting guest.
        guest: GuestId,
        /// What it may do once in.
        access: Access,
    },
    /// Turns a waiting guest away; it is told the host did not let it in.
    Deny {
        /// The waiting guest.
        guest: GuestId,
    },
    /// Makes an extra link (`cotty -S S new-link`); answered by [`RelayMsg::LinkAdded`] with
    /// the same `req`, or [`RelayMsg::LinkRefused`].
    NewLink(NewLink),
    /// Switches an extra link off (new guests with it are refused) or on again.
    SetExtraLink {
        /// The link's number, as [`ExtraLink::n`].
        n: u32,
        /// Whether it lets guests in.
        enabled: bool,
    },
}

/// An extra link and its state, as the relay reports it: when made, after each change of
/// state (switched, used up), and again to a host that reconnects to the relay that has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraLink {
    /// The [`NewLink::req`] this answers; `None` when it reports a link made earlier.
    pub req: Option<u64>,
    /// Its number in the session, from 1 in the order links were made (`#{link:N}`).
    pub n: u32,
    /// What it grants.
    pub access: Access,
    /// The ssh command guests join with.
    pub ssh: String,
    /// The web link, when the relay serves the web view to this session.
    pub web: Option<String>,
    /// Whether it lets one guest in and then stops working.
    pub once: bool,
    /// Seconds until it stops letting guests in, as of this message; `None` for no end.
    pub expires_in: Option<u64>,
    /// Whether the host left it on.
    pub enabled: bool,
    /// Whether a one-time link has let its guest in.
    pub used: bool,
    /// Its token, for a host to present again to a restarted relay ([`Hello::extra_links`]).
    #[serde(default)]
    pub token: String,
    /// The relay's proof that the token belongs to this session, in hex: with it a restarted
    /// relay with the same key file makes the link again for this session and no other.
    #[serde(default)]
    pub proof: String,
}

/// Relay to host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelayMsg {
    /// The host is registered; these are its links.
    Welcome {
        /// The links to hand to guests.
        links: Links,
        /// What lets the host resume this session after a reconnect; its `secret` is the
        /// resume secret.
        resume: Resume,
        /// Whether an earlier session was taken up again (same links), or a new one made.
        resumed: bool,
        /// The guests attached now: none for a new session, the waiting ones on a resume.
        #[serde(default)]
        guests: Vec<GuestInfo>,
    },
    /// The host is refused; the reason is meant for a person.
    Reject {
        /// Why, and what to do.
        reason: String,
        /// Whether a retry can help.
        #[serde(default)]
        kind: RejectKind,
    },
    /// The relay is going away (restart or shutdown); the host should reconnect.
    Closing {
        /// Shown in the host's log.
        reason: String,
    },
    /// Keep-alive probe from the relay; answered by [`HostMsg::Pong`].
    Ping(u64),
    /// A guest joined.
    GuestJoined(GuestInfo),
    /// A guest left.
    GuestLeft {
        /// The guest.
        guest: GuestId,
    },
    /// A read-write guest typed.
    Input {
        /// The guest.
        guest: GuestId,
        /// The pane it typed into.
        pane: PaneId,
        /// The bytes, as its terminal encoded them.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A guest's usable area changed size.
    GuestResize {
        /// The guest.
        guest: GuestId,
        /// Its new area.
        size: Size,
    },
    /// Answers [`HostMsg::Ping`].
    Pong(u64),
    /// A guest of an `--approve` session waits for the host's [`HostMsg::Admit`] or
    /// [`HostMsg::Deny`]; `access` is what its link grants.
    GuestWaiting(GuestInfo),
    /// A waiting guest stopped waiting without an answer (it left, or the relay's approval
    /// timeout ran out): the host's prompt for it goes away.
    WaitOver {
        /// The guest that waited.
        guest: GuestId,
        /// Why, for the host's log.
        reason: String,
    },
    /// An extra link: made for a [`HostMsg::NewLink`], or its state now.
    LinkAdded(ExtraLink),
    /// A [`HostMsg::NewLink`] could not be done.
    LinkRefused {
        /// The request's number.
        req: u64,
        /// Why, for a person.
        reason: String,
    },
}
