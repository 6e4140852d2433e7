//! One actor per shared session on the relay: the screen mirror, the guests and their access.
//!
//! The host's messages update a vt100 mirror, so a late joiner sees the current screen at once.
//! Guests do not get every byte: the room publishes the latest view on a watch channel, paced
//! by a [`Pacer`], and each guest task draws whatever is newest when it is ready to send.

use crate::core::pane::{new_parser, resize_parser};
use crate::core::types::{Access, GuestId, GuestInfo, PaneId, Size, Via};
use crate::net::proto::{HostMsg, RelayMsg};
use crate::net::relay::pacer::{self, Pacer};
use crate::net::relay::server::Limits;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};

/// Output bytes up to which a change counts as small (an echo, a prompt).
const SMALL_UPDATE: usize = 256;
/// Commands handled in one go before the room looks at publishing again.
const DRAIN: usize = 64;
/// Control messages a guest's queue holds.
const GUEST_CTL_QUEUE: usize = 8;

/// What guests draw: a copy of the mirror and the room's state.
#[derive(Debug, Clone)]
pub struct RoomView {
    /// The focused pane's screen; guests keep the one they drew last, so it is shared.
    pub screen: Arc<vt100::Screen>,
    /// Guests attached.
    pub guests: usize,
    /// Whether the host locked every guest's input.
    pub locked: bool,
    /// A message for every guest's status line.
    pub notice: Option<String>,
    /// The change since the last view is small (an echo, not a screenful), so guests may
    /// draw it at once even while typing fast.
    pub small: bool,
}

/// What a guest is told besides new views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestCtl {
    /// The host changed this guest's access.
    Access(Access),
    /// The host threw this guest out.
    Kicked(String),
    /// The session is over.
    Ended(String),
}

/// A guest asking to join.
#[derive(Debug, Clone)]
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
    /// The session's display name.
    pub label: String,
}

/// Commands into a room.
#[derive(Debug)]
pub enum RoomCmd {
    /// A message from the host.
    Host(HostMsg),
    /// The host's connection ended.
    HostGone(String),
    /// A guest wants in; refused with a reason to show it.
    Join(JoinRequest, oneshot::Sender<Result<Joined, String>>),
    /// A guest left.
    Leave(GuestId),
    /// A guest typed.
    Input(GuestId, Vec<u8>),
    /// A guest's pane area changed.
    Resize(GuestId, Size),
}

/// One attached guest, as the room sees it.
struct Guest {
    /// What the host knows of it.
    info: GuestInfo,
    /// Its private messages.
    ctl: mpsc::Sender<GuestCtl>,
}

/// The room's state, owned by its task.
pub struct Room {
    /// Display name for status lines.
    label: String,
    /// The mirror of the focused pane.
    mirror: vt100::Parser,
    /// The focused pane's id.
    focus: PaneId,
    /// Attached guests.
    guests: HashMap<GuestId, Guest>,
    /// The next guest id.
    next_id: GuestId,
    /// Whether input is locked.
    locked: bool,
    /// Links the host switched off, by [`Access::index`].
    links_off: [bool; 2],
    /// The latest notice.
    notice: Option<String>,
    /// Messages to the host's connection.
    host: mpsc::Sender<RelayMsg>,
    /// Where views are published.
    view: watch::Sender<Arc<RoomView>>,
    /// The view is out of date.
    dirty: bool,
    /// Paces publishing: at once after a quiet spell, about 60 a second under load.
    pacer: Pacer,
    /// Output bytes since the last view; a screen's worth counts as a full frame.
    changed_bytes: usize,
    /// Limits on what the host may ask for.
    limits: Limits,
}

impl Room {
    /// A room for a host whose messages are answered on `host`.
    pub fn new(label: String, host: mpsc::Sender<RelayMsg>, limits: Limits) -> Room {
        let mirror = new_parser(Size::DEFAULT, 0, ());
        let view = RoomView {
            screen: Arc::new(mirror.screen().clone()),
            guests: 0,
            locked: false,
            notice: None,
            small: false,
        };
        Room {
            label,
            mirror,
            focus: 1,
            guests: HashMap::new(),
            next_id: 1,
            locked: false,
            links_off: [false; 2],
            notice: None,
            host,
            view: watch::Sender::new(Arc::new(view)),
            dirty: false,
            pacer: Pacer::new(Instant::now()),
            changed_bytes: 0,
            limits,
        }
    }

    /// Runs the room until the host is gone and every command is handled.
    pub async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        loop {
            // Publish as soon as the pacer allows; a timer only when it must wait, since a
            // tokio sleep rounds up to the timer's next millisecond tick.
            let now = Instant::now();
            let at = self.pacer.ready_at(now, self.cost());
            if self.dirty && at <= now {
                self.publish();
                continue;
            }
            tokio::select! {
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { return };
                    // Take what else is waiting too, so a burst becomes one view.
                    let mut next = Some(cmd);
                    let mut budget = DRAIN;
                    while let Some(cmd) = next.take() {
                        if let Some(reason) = self.on_cmd(cmd).await {
                            self.end(&reason);
                            return;
                        }
                        budget -= 1;
                        if budget > 0 {
                            next = rx.try_recv().ok();
                        }
                    }
                }
                _ = sleep_until(at), if self.dirty => self.publish(),
            }
        }
    }

    /// Handles one command; returns a reason when the room must close.
    async fn on_cmd(&mut self, cmd: RoomCmd) -> Option<String> {
        match cmd {
            RoomCmd::HostGone(reason) => return Some(reason),
            RoomCmd::Host(msg) => return self.on_host(msg).await,
            RoomCmd::Join(req, reply) => self.join(req, reply).await,
            RoomCmd::Leave(id) => {
                if self.guests.remove(&id).is_some() {
                    self.dirty = true;
                    let _ = self.host.send(RelayMsg::GuestLeft { guest: id }).await;
                }
            }
            RoomCmd::Input(id, bytes) => {
                let allowed = self
                    .guests
                    .get(&id)
                    .is_some_and(|g| g.info.access.effective(self.locked) == Access::ReadWrite);
                if allowed {
                    let msg = RelayMsg::Input {
                        guest: id,
                        pane: self.focus,
                        bytes,
                    };
                    let _ = self.host.send(msg).await;
                }
            }
            RoomCmd::Resize(id, size) => {
                if let Some(g) = self.guests.get_mut(&id) {
                    g.info.size = size;
                    let _ = self
                        .host
                        .send(RelayMsg::GuestResize { guest: id, size })
                        .await;
                }
            }
        }
        None
    }

    async fn on_host(&mut self, msg: HostMsg) -> Option<String> {
        match msg {
            HostMsg::Output { pane, bytes } => {
                if pane == self.focus {
                    self.mirror.process(&bytes);
                    self.changed_bytes += bytes.len();
                    self.dirty = true;
                }
            }
            HostMsg::Snapshot { pane, size, bytes } => {
                if pane == self.focus {
                    self.changed_bytes += SMALL_UPDATE + 1;
                    self.mirror = new_parser(self.limits.clamp(size), 0, ());
                    self.mirror.process(&bytes);
                    self.dirty = true;
                }
            }
            HostMsg::Layout { panes, focus } => {
                self.focus = focus;
                if let Some(p) = panes.iter().find(|p| p.id == focus) {
                    resize_parser(&mut self.mirror, self.limits.clamp(p.size));
                    self.dirty = true;
                }
            }
            HostMsg::SetAccess { guest, access } => {
                if let Some(g) = self.guests.get_mut(&guest) {
                    g.info.access = access;
                    let _ = g.ctl.try_send(GuestCtl::Access(access));
                }
            }
            HostMsg::Kick { guest, reason } => {
                if let Some(g) = self.guests.remove(&guest) {
                    let _ = g.ctl.try_send(GuestCtl::Kicked(reason));
                    let _ = self.host.send(RelayMsg::GuestLeft { guest }).await;
                    self.dirty = true;
                }
            }
            HostMsg::Lock(on) => {
                self.locked = on;
                self.dirty = true;
            }
            HostMsg::SetLink { access, enabled } => {
                self.links_off[access.index()] = !enabled;
            }
            HostMsg::Notice(text) => {
                self.notice = Some(text);
                self.dirty = true;
            }
            HostMsg::End { reason } => return Some(reason),
            HostMsg::Ping(n) => {
                let _ = self.host.send(RelayMsg::Pong(n)).await;
            }
            HostMsg::PaneClosed { .. } | HostMsg::Hello(_) => {}
        }
        None
    }

    async fn join(&mut self, req: JoinRequest, reply: oneshot::Sender<Result<Joined, String>>) {
        if self.links_off[req.access.index()] {
            let _ = reply.send(Err("this link was switched off by the host".into()));
            return;
        }
        if self.guests.len() >= self.limits.guests_per_session {
            let _ = reply.send(Err("the session is full".into()));
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let info = GuestInfo {
            id,
            via: req.via,
            name: req.name.unwrap_or_else(|| format!("guest {id}")),
            fingerprint: req.fingerprint,
            addr: req.addr,
            access: req.access,
            size: req.size,
        };
        let (ctl_tx, ctl_rx) = mpsc::channel(GUEST_CTL_QUEUE);
        // Publish first, so the newcomer's first frame is the current screen.
        self.guests.insert(
            id,
            Guest {
                info: info.clone(),
                ctl: ctl_tx,
            },
        );
        self.publish();
        let joined = Joined {
            id,
            view: self.view.subscribe(),
            ctl: ctl_rx,
            label: self.label.clone(),
        };
        if reply.send(Ok(joined)).is_err() {
            self.guests.remove(&id);
            return;
        }
        let _ = self.host.send(RelayMsg::GuestJoined(info)).await;
    }

    /// What the next view costs the pacer.
    fn cost(&self) -> f64 {
        if self.changed_bytes <= SMALL_UPDATE {
            pacer::SMALL
        } else {
            pacer::FULL
        }
    }

    /// Makes the current state the latest view.
    fn publish(&mut self) {
        let cost = self.cost();
        self.dirty = false;
        self.changed_bytes = 0;
        self.pacer.take(Instant::now(), cost);
        if self.view.receiver_count() == 0 && self.guests.is_empty() {
            return;
        }
        self.view.send_replace(Arc::new(RoomView {
            screen: Arc::new(self.mirror.screen().clone()),
            guests: self.guests.len(),
            locked: self.locked,
            notice: self.notice.clone(),
            small: cost < pacer::FULL,
        }));
    }

    /// Tells every guest the session is over.
    fn end(&mut self, reason: &str) {
        for (_, g) in self.guests.drain() {
            let _ = g.ctl.try_send(GuestCtl::Ended(reason.to_string()));
        }
    }
}
