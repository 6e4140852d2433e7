//! Wire messages between host and relay, one typed enum per direction.
//!
//! The framing, compression and limits live in [`crate::net::codec`]; this file only says
//! what can be said. Every message is serialised as a msgpack map, so fields can be added
//! later without breaking older peers that ignore them.

use crate::core::types::{Access, GuestId, GuestInfo, PaneId, Size};
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks. A peer with another version is rejected with a
/// message that says which side to upgrade.
pub const PROTOCOL_VERSION: u32 = 1;

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
    /// A stable session name for read-write links (named sessions; later).
    pub name: Option<String>,
    /// A stable session name for read-only links (named sessions; later).
    pub ro_name: Option<String>,
    /// The relay API key that allows named sessions (later).
    pub api_key: Option<String>,
    /// Public keys (authorized_keys lines) allowed to join; `None` lets anyone with the link.
    pub authorized_keys: Option<Vec<String>>,
    /// The secret of an earlier session to resume after a reconnect (later).
    pub resume: Option<String>,
}

impl Hello {
    /// A hello of this build, with every option unset.
    pub fn new(client: impl Into<String>) -> Self {
        Hello {
            version: PROTOCOL_VERSION,
            client: client.into(),
            name: None,
            ro_name: None,
            api_key: None,
            authorized_keys: None,
            resume: None,
        }
    }
}

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
    Hello(Hello),
    /// The panes and their sizes; sent before any output at a new size.
    Layout {
        /// Every pane, in display order.
        panes: Vec<PaneGeometry>,
        /// The pane that has the focus.
        focus: PaneId,
    },
    /// Bytes a program wrote, in order.
    Output {
        /// The pane that wrote them.
        pane: PaneId,
        /// The bytes.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// The whole screen of a pane, replacing the relay's mirror (after output was skipped).
    Snapshot {
        /// The pane.
        pane: PaneId,
        /// Its size.
        size: Size,
        /// Escape codes that draw the screen on a blank terminal of that size.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
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
}

/// Relay to host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelayMsg {
    /// The host is registered; these are its links.
    Welcome {
        /// The links to hand to guests.
        links: Links,
        /// A secret that lets the host resume this session after a reconnect.
        resume_secret: String,
    },
    /// The host is refused; the reason is meant for a person.
    Reject {
        /// Why, and what to do.
        reason: String,
    },
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
}
