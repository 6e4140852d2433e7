//! The messages into and out of a room, and the view that guests draw.

use crate::core::term::ScreenState;
use crate::core::types::{Access, GuestId, GuestInfo, Size, Via};
use crate::net::proto::{HostMsg, RelayMsg};
use crate::net::relay::links::Gate;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// What guests draw: the room's rows and its state.
#[derive(Debug, Clone)]
pub struct RoomView {
    /// The focused pane's screen; guests keep the one they drew last, so it is shared.
    pub screen: Arc<ScreenState>,
    /// Guests attached.
    pub guests: usize,
    /// Whether the host locked every guest's input.
    pub locked: bool,
    /// A message for every guest's status line.
    pub notice: Option<String>,
    /// The host's connection is gone or silent: guests keep the last screen and are told
    /// the host is reconnecting.
    pub host_away: bool,
    /// The change since the last view is small (an echo, not a screenful), so guests may
    /// draw it at once even while typing fast.
    pub small: bool,
}

/// What a guest is told besides new views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestCtl {
    /// The host changed this guest's access.
    Access(Access),
    /// A passing line for this guest's status line alone, such as why its keys were dropped.
    Notice(String),
    /// The host threw this guest out.
    Kicked(String),
    /// The session is over.
    Ended(String),
}

/// A guest asking to join.
#[derive(Debug)]
pub struct JoinRequest {
    /// How it connected.
    pub via: Via,
    /// The comment of the key it offered, if any.
    pub name: Option<String>,
    /// The fingerprint of the key it offered, if any.
    pub fingerprint: Option<String>,
    /// Its address.
    pub addr: Option<String>,
    /// What its token grants.
    pub access: Access,
    /// Its pane area.
    pub size: Size,
    /// Told when the guest must wait for the host's answer (`--approve`), so it can say so;
    /// dropped unused when it gets in (or is refused) at once.
    pub asked: Option<oneshot::Sender<()>>,
    /// The gate of the link it came by: checked again, and a one-time link used up, as it
    /// joins.
    pub gate: Arc<Gate>,
}

/// The room's answer to a join.
#[derive(Debug)]
pub struct Joined {
    /// The guest's id.
    pub id: GuestId,
    /// The room's latest view.
    pub view: watch::Receiver<Arc<RoomView>>,
    /// Messages for this guest alone.
    pub ctl: mpsc::Receiver<GuestCtl>,
    /// What the guest's status line calls the session.
    pub label: String,
    /// What the guest may do: its link's access, or less when the host admitted it so.
    pub access: Access,
}

/// The room's answer to a host that attaches (at the start, or on a resume).
#[derive(Debug)]
pub struct Attached {
    /// Tags this host connection's messages, so those of a connection it replaced are ignored.
    pub epoch: u64,
    /// The guests attached now, for the host to take up.
    pub guests: Vec<GuestInfo>,
}

/// Commands into a room.
#[derive(Debug)]
pub enum RoomCmd {
    /// A host connection takes over the room; an earlier one, if still there, is dropped.
    Attach(mpsc::Sender<RelayMsg>, oneshot::Sender<Attached>),
    /// A message from the host connection of `epoch`.
    Host(u64, HostMsg),
    /// The host connection of `epoch` ended, and why.
    HostGone(u64, String),
    /// A guest wants in; refused with a reason to show it.
    Join(JoinRequest, oneshot::Sender<Result<Joined, String>>),
    /// A guest left.
    Leave(GuestId),
    /// A guest typed.
    Input(GuestId, Vec<u8>),
    /// A guest's pane area changed.
    Resize(GuestId, Size),
    /// Another session took this one's names (a named session registered again with the same
    /// API key): the host is refused for good with the reason, and the room ends, telling its
    /// guests to join again by name.
    Superseded(String),
}
