//! The room's task: its state, its loop, and what guests ask of it.
//!
//! The room runs no emulator: the host renders, and the room keeps the latest styled rows it
//! sent, so a late joiner sees the current screen at once. Rows are shared (`Arc`) between the
//! room's copy, the published view and what each guest drew last, so an unchanged row is
//! stored once. Guests do not get every update: the room publishes the latest view on a watch
//! channel, paced by a [`Pacer`], and each guest task draws whatever is newest when it is ready.

use super::types::{GuestCtl, JoinRequest, Joined, RoomCmd, RoomView};
use super::waiting::Waiter;
use crate::core::pacer::{self, Pacer};
use crate::core::term::ScreenState;
use crate::core::types::{Access, GuestId, GuestInfo, PaneId, Size};
use crate::net::proto::{RejectKind, RelayMsg};
use crate::net::relay::guestkeys::GuestKeys;
use crate::net::relay::links::{MainGates, RoomLink};
use crate::net::relay::registry::Tokens;
use crate::net::relay::server::Shared;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep_until};
use tracing::info;

/// Changed rows up to which an update counts as small (an echo, a prompt).
const SMALL_UPDATE: usize = 2;
/// Commands handled in one go before the room looks at publishing again.
const DRAIN: usize = 64;
/// Control messages a guest's queue holds.
const GUEST_CTL_QUEUE: usize = 8;
/// How often the room looks at the host's silence and the resume grace.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// What guests are told when another host took over the session's name.
pub const MOVED: &str = "the session moved to a new host; join again with the same link";
/// What guests are told when the relay itself goes away.
pub const RELAY_RESTARTING: &str = "the relay is restarting; reconnect with the same link";

/// How a room is set up.
pub struct RoomSetup {
    /// The session's id, which proofs of its extra links name.
    pub id: String,
    /// The session's short id, for the relay's log.
    pub label: String,
    /// What guests' status lines call the session ([`crate::net::proto::guest_title`]).
    pub title: String,
    /// The session's tokens, removed from the registry when the room ends.
    pub tokens: Tokens,
    /// The relay's shared state: limits, registry, shutdown.
    pub shared: Arc<Shared>,
    /// The room's own queue, weakly, so it can tell the registry which entries are its own.
    pub me: mpsc::WeakSender<RoomCmd>,
    /// Publishes the session's guest keys to the registry's lookups; `None` in it for a
    /// session anyone with the link may join.
    pub keys: watch::Sender<Option<Arc<GuestKeys>>>,
    /// Whether new guests wait for the host's answer (`--approve`).
    pub approve: bool,
    /// The gates of the two main links, shared with their registry entries.
    pub gates: MainGates,
}

/// One attached guest, as the room sees it.
pub(super) struct Guest {
    /// What the host knows of it.
    pub(super) info: GuestInfo,
    /// Its private messages.
    pub(super) ctl: mpsc::Sender<GuestCtl>,
}

/// The room's state, owned by its task.
pub struct Room {
    /// The session's id, which proofs of its extra links name.
    pub(super) id: String,
    /// The session's short id, for the relay's log.
    pub(super) label: String,
    /// What guests' status lines call the session.
    title: String,
    /// The session's tokens, for the registry at the end.
    tokens: Tokens,
    /// The relay's shared state.
    pub(super) shared: Arc<Shared>,
    /// The room's own queue, to remove only its own registry entries.
    pub(super) me: mpsc::WeakSender<RoomCmd>,
    /// The focused pane's screen, as the host last sent it.
    pub(super) screen: ScreenState,
    /// The focused pane's id.
    pub(super) focus: PaneId,
    /// Attached guests.
    pub(super) guests: HashMap<GuestId, Guest>,
    /// The next guest id.
    next_id: GuestId,
    /// Whether input is locked.
    pub(super) locked: bool,
    /// The main links' gates: switched off by the host, expired after `--link-ttl`.
    pub(super) gates: MainGates,
    /// The extra links the host made, in the order it made them.
    pub(super) extra: Vec<RoomLink>,
    /// The latest notice.
    pub(super) notice: Option<String>,
    /// The host connection's queue; `None` while the host is away.
    pub(super) host: Option<mpsc::Sender<RelayMsg>>,
    /// The current host connection's tag; messages of older ones are ignored.
    pub(super) epoch: u64,
    /// When the host was last heard from.
    pub(super) last_heard: Instant,
    /// The host is attached but has been silent too long; guests are told.
    pub(super) quiet: bool,
    /// When the host went away, for the resume grace.
    pub(super) away_since: Option<Instant>,
    /// Where views are published.
    view: watch::Sender<Arc<RoomView>>,
    /// The view is out of date.
    pub(super) dirty: bool,
    /// Paces publishing: at once after a quiet spell, about 60 a second under load.
    pacer: Pacer,
    /// Rows changed since the last view; more than a couple count as a full frame.
    pub(super) changed_rows: usize,
    /// The session's guest keys, read by the ssh handler while a guest authenticates.
    pub(super) keys: watch::Sender<Option<Arc<GuestKeys>>>,
    /// Whether new guests wait for the host's answer (`--approve`).
    pub(super) approve: bool,
    /// Guests waiting for the host's answer, by id: the oldest first.
    pub(super) waiting: BTreeMap<GuestId, Waiter>,
}

impl Room {
    /// A room with no host yet; the host attaches with [`RoomCmd::Attach`].
    pub fn new(setup: RoomSetup) -> Room {
        let screen = ScreenState::blank(Size::DEFAULT);
        let view = RoomView {
            screen: Arc::new(screen.clone()),
            guests: 0,
            locked: false,
            notice: None,
            host_away: true,
            small: false,
        };
        let now = Instant::now();
        Room {
            id: setup.id,
            label: setup.label,
            title: setup.title,
            tokens: setup.tokens,
            shared: setup.shared,
            me: setup.me,
            screen,
            focus: 1,
            guests: HashMap::new(),
            next_id: 1,
            locked: false,
            gates: setup.gates,
            extra: Vec::new(),
            notice: None,
            host: None,
            epoch: 0,
            last_heard: now,
            quiet: false,
            away_since: Some(now),
            view: watch::Sender::new(Arc::new(view)),
            dirty: false,
            pacer: Pacer::new(now),
            changed_rows: 0,
            keys: setup.keys,
            approve: setup.approve,
            waiting: BTreeMap::new(),
        }
    }

    /// Runs the room until the host ends it, the resume grace runs out, or the relay stops.
    pub async fn run(mut self, mut rx: mpsc::Receiver<RoomCmd>) {
        let shutdown = self.shared.shutdown.clone();
        let mut check = tokio::time::interval(CHECK_EVERY);
        let reason = loop {
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
                    let Some(cmd) = cmd else { break "the session has ended".to_string() };
                    // Take what else is waiting too, so a burst becomes one view.
                    let mut next = Some(cmd);
                    let mut budget = DRAIN;
                    let mut end = None;
                    while let Some(cmd) = next.take() {
                        end = self.on_cmd(cmd);
                        if end.is_some() {
                            break;
                        }
                        budget -= 1;
                        if budget > 0 {
                            next = rx.try_recv().ok();
                        }
                    }
                    if let Some(reason) = end {
                        break reason;
                    }
                }
                _ = sleep_until(at), if self.dirty => self.publish(),
                _ = check.tick() => {
                    self.check_waiting(Instant::now());
                    if let Some(reason) = self.check_host(Instant::now()) {
                        break reason;
                    }
                },
                _ = shutdown.cancelled() => {
                    self.send_host(RelayMsg::Closing { reason: RELAY_RESTARTING.into() });
                    break RELAY_RESTARTING.to_string();
                }
            }
        };
        self.end(&reason);
    }

    /// Handles one command; returns a reason when the room must close.
    fn on_cmd(&mut self, cmd: RoomCmd) -> Option<String> {
        match cmd {
            RoomCmd::Attach(host, reply) => self.attach(host, reply),
            RoomCmd::Host(epoch, msg) => {
                if epoch == self.epoch && self.host.is_some() {
                    self.heard(Instant::now());
                    return self.on_host(msg);
                }
            }
            RoomCmd::HostGone(epoch, why) => self.host_gone(epoch, &why),
            RoomCmd::Join(req, reply) => self.join(req, reply),
            RoomCmd::Leave(id) => {
                if self.guests.remove(&id).is_some() {
                    self.dirty = true;
                    self.send_host(RelayMsg::GuestLeft { guest: id });
                }
            }
            RoomCmd::Input(id, bytes) => {
                let locked = self.locked;
                let g = self.guests.get(&id)?;
                if !g.info.access.may_type(locked) {
                    return None;
                }
                if self.host_away() {
                    // Not queued: keys typed into a screen that is not live would land later,
                    // somewhere the guest did not mean.
                    let paused = "input paused: the host is reconnecting".to_string();
                    let _ = g.ctl.try_send(GuestCtl::Notice(paused));
                    return None;
                }
                let pane = self.focus;
                self.send_host(RelayMsg::Input {
                    guest: id,
                    pane,
                    bytes,
                });
            }
            RoomCmd::Superseded(why) => {
                let kind = RejectKind::Final;
                self.send_host(RelayMsg::Reject { reason: why, kind });
                return Some(MOVED.into());
            }
            RoomCmd::Resize(id, size) => {
                let locked = self.locked;
                if let Some(g) = self.guests.get_mut(&id) {
                    g.info.size = size;
                    if g.info.access.may_resize(locked) {
                        self.send_host(RelayMsg::GuestResize { guest: id, size });
                    }
                }
            }
        }
        None
    }

    fn join(&mut self, req: JoinRequest, reply: oneshot::Sender<Result<Joined, String>>) {
        if let Some(why) = req.gate.refusal(Instant::now()) {
            let _ = reply.send(Err(why.into()));
            return;
        }
        if let Err(why) = self.has_room(req.access) {
            let _ = reply.send(Err(why));
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.approve {
            return self.wait(id, req, reply);
        }
        self.enter(id, req, reply);
    }
    /// Whether a guest of `access` fits, or why not.
    pub(super) fn has_room(&self, access: Access) -> Result<(), String> {
        let limits = &self.shared.limits;
        let cap = match access {
            Access::ReadWrite => limits.rw_guests_per_session,
            Access::ReadOnly => limits.guests_per_session,
        };
        let taken = self
            .guests
            .values()
            .filter(|g| g.info.access == access)
            .count();
        if taken >= cap {
            info!(
                "session {}: {} guest refused, {taken} of {cap} attached",
                self.label,
                access.label()
            );
            return Err(format!(
                "the session is full: {cap} {} guests are attached; try again later",
                access.label()
            ));
        }
        Ok(())
    }
    /// Lets guest `id` in: it gets the current view, and the host hears of it.
    pub(super) fn enter(
        &mut self,
        id: GuestId,
        req: JoinRequest,
        reply: oneshot::Sender<Result<Joined, String>>,
    ) {
        // Here, as the guest gets in (after the host's answer, with --approve), so a one-time
        // link is used up only by a guest that gets in.
        if let Err(why) = req.gate.pass(Instant::now()) {
            let _ = reply.send(Err(why.into()));
            return;
        }
        if req.gate.once() {
            self.report_used(&req.gate);
        }
        let info = guest_info(id, &req);
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
            label: self.title.clone(),
            access: info.access,
        };
        if reply.send(Ok(joined)).is_err() {
            self.guests.remove(&id);
            return;
        }
        self.send_host(RelayMsg::GuestJoined(info));
    }

    /// What the next view costs the pacer.
    fn cost(&self) -> f64 {
        if self.changed_rows <= SMALL_UPDATE {
            pacer::SMALL
        } else {
            pacer::FULL
        }
    }

    /// Makes the current state the latest view.
    pub(super) fn publish(&mut self) {
        let cost = self.cost();
        self.dirty = false;
        self.changed_rows = 0;
        self.pacer.take(Instant::now(), cost);
        if self.view.receiver_count() == 0 && self.guests.is_empty() {
            return;
        }
        self.view.send_replace(Arc::new(RoomView {
            screen: Arc::new(self.screen.clone()),
            guests: self.guests.len(),
            locked: self.locked,
            notice: self.notice.clone(),
            host_away: self.host_away(),
            small: cost < pacer::FULL,
        }));
    }

    /// Tells every guest the session is over and gives its tokens back.
    fn end(&mut self, reason: &str) {
        info!("session {} closed: {reason}", self.label);
        for (_, g) in self.guests.drain() {
            let _ = g.ctl.try_send(GuestCtl::Ended(reason.to_string()));
        }
        self.end_waiting(reason);
        if let Some(me) = self.me.upgrade() {
            self.shared.registry.remove(&self.tokens, &me);
            for link in &self.extra {
                self.shared.registry.remove_link(&link.token, &me);
            }
        }
    }
}
/// What the host is told of guest `id`: its name is "guest N" when its key has no comment.
pub(super) fn guest_info(id: GuestId, req: &JoinRequest) -> GuestInfo {
    GuestInfo {
        id,
        via: req.via,
        name: req.name.clone().unwrap_or_else(|| format!("guest {id}")),
        fingerprint: req.fingerprint.clone(),
        addr: req.addr.clone(),
        access: req.access,
        size: req.size,
    }
}
