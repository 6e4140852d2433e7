//! What the session actor does with each event: guests, input checks, sizes, uplink order.

use super::{GuestRow, Notice, Outbound, Session, SessionCmd};
use crate::core::keys::{InputModes, encode_key, encode_mouse, encode_paste};
use crate::core::pacer;
use crate::core::pty::PtyEvent;
use crate::core::types::{Access, LinkRef, Size};
use crate::core::types::{GuestId, GuestInfo};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::sync::mpsc::OwnedPermit;

/// The longest pause between respawns of a program that keeps exiting at once.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A program that ran this long resets the respawn pause.
const STABLE_RUN: Duration = Duration::from_secs(10);
/// Output up to this many bytes since the last row update is a small change (an echo, a
/// prompt), which the pacer lets through at once even while typing fast.
const SMALL_UPDATE: usize = 256;

impl Session {
    /// Handles PTY output and exits. Returns a reason when the session must end.
    pub(super) fn on_pty(&mut self, ev: PtyEvent) -> Option<String> {
        match ev {
            PtyEvent::Output { generation, bytes } => {
                if generation == self.pane.generation() {
                    self.pane.process(&bytes);
                    self.owed_bytes = self.owed_bytes.saturating_add(bytes.len());
                    self.screen_changed();
                }
                None
            }
            PtyEvent::Exited { generation, code } => {
                if generation != self.pane.generation() {
                    return None;
                }
                self.pane.mark_exited();
                self.notify(Notice::ProgramExited(code));
                if !self.cfg.respawn {
                    return Some(match code {
                        Some(c) => format!("the program exited with status {c}"),
                        None => "the program was killed".to_string(),
                    });
                }
                if self.started.elapsed() >= STABLE_RUN {
                    self.backoff = Duration::from_millis(100);
                } else {
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
                self.respawn_at = Some(Instant::now() + self.backoff);
                None
            }
        }
    }

    /// Starts the program again on a clean screen and resynchronises the relay.
    pub(super) fn respawn(&mut self) {
        match self.pane.respawn() {
            Ok(()) => {
                self.started = Instant::now();
                self.owed_bytes = usize::MAX;
                self.screen_changed();
                self.notify(Notice::Respawned);
            }
            Err(e) => {
                self.notify(Notice::Warning(format!("{e}; trying again")));
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.respawn_at = Some(Instant::now() + self.backoff);
            }
        }
    }

    pub(super) fn on_cmd(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::GuestJoined(info) => {
                self.activity.insert(info.id, (Instant::now(), None));
                self.guests.insert(info.id, info.clone());
                self.notify(Notice::GuestJoined(info));
                self.apply_size();
            }
            SessionCmd::GuestLeft(id) => {
                if let Some(info) = self.guests.remove(&id) {
                    self.activity.remove(&id);
                    self.held_sizes.remove(&id);
                    self.notify(Notice::GuestLeft(info));
                    self.apply_size();
                }
            }
            SessionCmd::GuestInput { guest, pane, bytes } => {
                // The relay checked already; the host checks again, as it is authoritative.
                let allowed = self
                    .guests
                    .get(&guest)
                    .is_some_and(|g| g.access.may_type(self.locked));
                if allowed && pane == self.pane.id() {
                    if let Some((_, last)) = self.activity.get_mut(&guest) {
                        *last = Some(Instant::now());
                    }
                    self.write_input(bytes);
                }
            }
            SessionCmd::GuestResize { guest, size } => {
                let locked = self.locked;
                if let Some(g) = self.guests.get_mut(&guest) {
                    if g.access.may_resize(locked) {
                        g.size = size;
                        self.held_sizes.remove(&guest);
                        self.apply_size();
                    } else {
                        self.held_sizes.insert(guest, size);
                    }
                }
            }
            SessionCmd::HostInput(bytes) => self.write_input(bytes),
            SessionCmd::HostKey(key) => {
                let modes = InputModes::from(self.pane.screen().modes());
                self.write_input(encode_key(key, &modes));
            }
            SessionCmd::HostPaste(text) => {
                let modes = InputModes::from(self.pane.screen().modes());
                self.write_input(encode_paste(&text, &modes));
            }
            SessionCmd::HostMouse(ev) => {
                let modes = InputModes::from(self.pane.screen().modes());
                if let Some(bytes) = encode_mouse(ev, &modes) {
                    self.write_input(bytes);
                }
            }
            SessionCmd::HostFocus(gained) => {
                if self.pane.screen().modes().focus_events {
                    let report: &[u8] = if gained { b"\x1b[I" } else { b"\x1b[O" };
                    self.write_input(report.to_vec());
                }
            }
            SessionCmd::HostResize(size) => {
                self.cfg.host_size = size;
                self.apply_size();
            }
            SessionCmd::SetAccess { guest, access } => {
                if let Some(g) = self.guests.get_mut(&guest)
                    && g.access != access
                {
                    g.access = access;
                    let info = g.clone();
                    self.queue(Outbound::SetAccess { guest, access });
                    self.notify(Notice::AccessChanged(info));
                    self.apply_size();
                }
            }
            SessionCmd::Kick { guest, reason } => {
                if self.guests.contains_key(&guest) {
                    self.queue(Outbound::Kick { guest, reason });
                }
            }
            SessionCmd::Lock(on) => {
                if self.locked != on {
                    self.locked = on;
                    self.queue(Outbound::Lock(on));
                    self.notify(Notice::Locked(on));
                    // Sizes held while locked apply now; a lock itself keeps the size.
                    self.apply_size();
                }
            }
            SessionCmd::SwitchLink {
                link: LinkRef::Main(access),
                enabled,
            } => {
                self.links_off[access.index()] = !enabled;
                self.queue(Outbound::SetLink { access, enabled });
            }
            // Extra links live on the relay, which reports them to the front end: the session
            // only passes the switch up, in order with the rest.
            SessionCmd::SwitchLink {
                link: LinkRef::Extra(n),
                enabled,
            } => self.queue(Outbound::SetExtraLink { n, enabled }),
            SessionCmd::SetGuestKeys(lines) => {
                self.guest_keys = Some(lines.clone());
                self.queue(Outbound::GuestKeys(lines));
            }
            SessionCmd::Visit(visitor) => {
                (visitor.0)(self.pane.screen());
            }
            SessionCmd::Guests(reply) => {
                let mut rows: Vec<GuestRow> = self
                    .guests
                    .values()
                    .map(|info| {
                        let (joined, last_input) = self
                            .activity
                            .get(&info.id)
                            .copied()
                            .unwrap_or((Instant::now(), None));
                        GuestRow {
                            info: info.clone(),
                            joined,
                            last_input,
                        }
                    })
                    .collect();
                rows.sort_by_key(|r| r.info.id);
                let _ = reply.send(rows);
            }
            SessionCmd::UplinkUp { out, guests } => self.uplink_up(out, guests),
            SessionCmd::Screen(reply) => {
                let _ = reply.send(self.pane.screen().export(None));
            }
            SessionCmd::End(_) => {}
            SessionCmd::GuestWaiting(info) => self.guest_waiting(info),
            SessionCmd::WaitOver(guest, why) => self.wait_over(guest, why),
            SessionCmd::Admit { guest, access } => self.admit(guest, access),
            SessionCmd::Deny { guest } => self.deny(guest),
            // Extra links live on the relay, which reports them to the front end: the session
            // only passes the requests up, in order with the rest.
            SessionCmd::NewLink(req) => self.queue(Outbound::NewLink(req)),
        }
    }

    /// Takes a new relay connection: the relay's guests replace ours, and the whole state goes
    /// up again, since the relay may have lost it (a restart) or missed changes (while away).
    fn uplink_up(&mut self, out: mpsc::Sender<Outbound>, guests: Vec<GuestInfo>) {
        self.out = Some(out);
        self.pending.clear();
        self.forget_waiting();
        let relay: HashMap<GuestId, GuestInfo> = guests.into_iter().map(|g| (g.id, g)).collect();
        let gone: Vec<GuestId> = self
            .guests
            .keys()
            .filter(|id| !relay.contains_key(id))
            .copied()
            .collect();
        for id in gone {
            if let Some(info) = self.guests.remove(&id) {
                self.activity.remove(&id);
                self.held_sizes.remove(&id);
                self.notify(Notice::GuestLeft(info));
            }
        }
        let mut ids: Vec<GuestId> = relay.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(theirs) = relay.get(&id).cloned() else {
                continue;
            };
            match self.guests.get_mut(&id) {
                // The host is authoritative for access; the relay learns what it missed.
                Some(ours) => {
                    ours.size = theirs.size;
                    if ours.access != theirs.access {
                        let access = ours.access;
                        self.pending
                            .push_back(Outbound::SetAccess { guest: id, access });
                    }
                }
                None => {
                    self.activity.insert(id, (Instant::now(), None));
                    self.guests.insert(id, theirs.clone());
                    self.notify(Notice::GuestJoined(theirs));
                }
            }
        }
        // The lock goes up either way: a resumed room keeps the old one, and input unlocked
        // while the relay was away must be unlocked there too.
        self.pending.push_back(Outbound::Lock(self.locked));
        if let Some(lines) = &self.guest_keys {
            self.pending.push_back(Outbound::GuestKeys(lines.clone()));
        }
        // Both switches go up, on or off: a room that kept the host's place (a resume) still
        // has the old state, and a link switched on while the relay was away must come on.
        for access in [Access::ReadWrite, Access::ReadOnly] {
            self.pending.push_back(Outbound::SetLink {
                access,
                enabled: !self.links_off[access.index()],
            });
        }
        // The layout and every row go up after the control messages: the relay's copy starts
        // from the current screen.
        self.sent = None;
        let layout = self.layout();
        self.pending.push_back(layout);
        self.owed_bytes = usize::MAX;
        self.screen_changed();
        self.apply_size();
    }

    /// Tells guests the session is over and waits briefly for the message to go up.
    pub(super) async fn end(&mut self, reason: String) {
        if let Some(out) = self.out.take() {
            for msg in self.pending.drain(..) {
                if out.send(msg).await.is_err() {
                    break;
                }
            }
            let end = Outbound::End {
                reason: reason.clone(),
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), out.send(end)).await;
        }
        self.notify(Notice::Ended(reason));
    }

    /// Marks the screen changed: front ends draw, and rows are owed to the uplink.
    pub(super) fn screen_changed(&mut self) {
        self.changed.send_modify(|n| *n += 1);
        self.rows_owed = true;
    }

    /// What the next row update costs the pacer: little after a few bytes of output (an
    /// echo), a whole frame otherwise.
    fn rows_cost(&self) -> f64 {
        if self.owed_bytes <= SMALL_UPDATE {
            pacer::SMALL
        } else {
            pacer::FULL
        }
    }

    /// When the owed rows may go up: `None` when none are owed.
    pub(super) fn rows_due_at(&mut self) -> Option<Instant> {
        if !self.rows_owed || self.out.is_none() {
            return None;
        }
        let now = tokio::time::Instant::now();
        let cost = self.rows_cost();
        Some(self.pacer.ready_at(now, cost).into_std())
    }

    /// Sends one waiting control message, or else the rows that changed, using a reserved
    /// slot.
    pub(super) fn flush_one(&mut self, permit: OwnedPermit<Outbound>) {
        if let Some(msg) = self.pending.pop_front() {
            permit.send(msg);
            return;
        }
        if self.rows_owed {
            let screen = self.pane.screen().export(self.sent.as_ref());
            let update = screen.update_from(self.pane.id(), self.sent.as_ref());
            let cost = self.rows_cost();
            self.pacer.take(tokio::time::Instant::now(), cost);
            self.rows_owed = false;
            self.owed_bytes = 0;
            self.sent = Some(screen);
            permit.send(Outbound::Rows(update));
        }
    }

    fn layout(&self) -> Outbound {
        Outbound::Layout {
            panes: vec![(self.pane.id(), self.pane.size())],
            focus: self.pane.id(),
        }
    }

    /// The uplink's queue closed: nothing is owed to it any more.
    pub(super) fn uplink_lost(&mut self) {
        self.out = None;
        self.pending.clear();
        self.rows_owed = false;
        self.sent = None;
    }

    /// Queues a control message behind any others, keeping their order.
    pub(super) fn queue(&mut self, msg: Outbound) {
        if self.out.is_some() {
            self.pending.push_back(msg);
        }
    }

    fn write_input(&mut self, bytes: Vec<u8>) {
        if let Err(e) = self.pane.write(bytes) {
            self.notify(Notice::Warning(e.to_string()));
        }
    }

    /// Recomputes the shared size from the host and the read-write guests, and applies it.
    fn apply_size(&mut self) {
        let locked = self.locked;
        for (id, g) in self.guests.iter_mut() {
            if g.access.may_resize(locked)
                && let Some(size) = self.held_sizes.remove(id)
            {
                g.size = size;
            }
        }
        let guests = self
            .guests
            .values()
            .filter(|g| g.access == Access::ReadWrite)
            .map(|g| g.size);
        let size: Size = self.cfg.policy.compute(self.cfg.host_size, guests);
        match self.pane.resize(size) {
            Ok(true) => {
                self.owed_bytes = usize::MAX;
                self.screen_changed();
                let layout = self.layout();
                self.queue(layout);
                self.notify(Notice::Resized(size));
            }
            Ok(false) => {}
            Err(e) => self.notify(Notice::Warning(e.to_string())),
        }
    }

    pub(super) fn notify(&self, notice: Notice) {
        // The front end keeps up with a human's pace of events; if it does not, the log
        // line is dropped rather than stalling the terminal.
        let _ = self.notices.try_send(notice);
    }
}

#[cfg(test)]
mod tests;
