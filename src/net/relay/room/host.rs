//! The room's side of its host: attaching and taking over, the host's messages, silence, and
//! the resume grace while the host is away.

use super::actor::Room;
use super::types::{Attached, GuestCtl};
use crate::core::types::{Access, GuestInfo};
use crate::net::proto::{HostMsg, RelayMsg};
use crate::net::relay::guestkeys::GuestKeys;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{info, warn};

/// A host silent for this long is shown to guests as reconnecting; with pings every 2 s and
/// checks every second, guests learn within 5 s of the host's last message.
pub const HOST_QUIET: Duration = Duration::from_secs(4);

impl Room {
    /// A host connection takes the room: a new session's first host, or a resume. An older
    /// connection that is still attached (a link that died without a close) is dropped.
    pub(super) fn attach(
        &mut self,
        host: mpsc::Sender<RelayMsg>,
        reply: oneshot::Sender<Attached>,
    ) {
        if self.host.is_some() {
            info!(
                "session {}: a resumed host replaces the old connection",
                self.label
            );
        }
        self.epoch += 1;
        self.host = Some(host);
        self.away_since = None;
        self.quiet = false;
        self.last_heard = Instant::now();
        self.dirty = true;
        let mut guests: Vec<GuestInfo> = self.guests.values().map(|g| g.info.clone()).collect();
        guests.sort_by_key(|g| g.id);
        let attached = Attached {
            epoch: self.epoch,
            guests,
        };
        if reply.send(attached).is_err() {
            self.host = None;
            self.away_since = Some(Instant::now());
            return;
        }
        // After the welcome, which the connection sends first: a host that comes back is
        // asked again about the guests still waiting.
        self.ask_again();
        // They follow the welcome: the host learns the extra links this relay still has.
        self.report_links();
    }

    /// The host connection of `epoch` ended: the room waits for it to come back.
    pub(super) fn host_gone(&mut self, epoch: u64, why: &str) {
        if epoch != self.epoch || self.host.is_none() {
            return;
        }
        info!(
            "session {}: host away ({why}); kept for {:?}",
            self.label, self.shared.limits.resume_grace
        );
        self.host = None;
        self.away_since = Some(Instant::now());
        self.dirty = true;
    }

    /// Notes that the host was heard from.
    pub(super) fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        if self.quiet {
            self.quiet = false;
            self.dirty = true;
        }
    }

    /// Whether guests should be told the host is reconnecting.
    pub(super) fn host_away(&self) -> bool {
        self.host.is_none() || self.quiet
    }

    /// Marks a silent host as away, and ends the room once the resume grace has passed.
    pub(super) fn check_host(&mut self, now: Instant) -> Option<String> {
        if self.host.is_some() && !self.quiet && now - self.last_heard >= HOST_QUIET {
            self.quiet = true;
            self.dirty = true;
        }
        let grace = self.shared.limits.resume_grace;
        match self.away_since {
            Some(since) if self.host.is_none() && now - since >= grace => Some(format!(
                "the host did not come back within {}; the session is over",
                humantime::format_duration(grace)
            )),
            _ => None,
        }
    }

    /// Sends a message to the host if one is attached. A host whose queue is full has stopped
    /// reading: it is let go, and resumes with its whole state once it reconnects.
    pub(super) fn send_host(&mut self, msg: RelayMsg) {
        let Some(host) = &self.host else { return };
        if let Err(e) = host.try_send(msg) {
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                warn!(
                    "session {}: the host stopped reading; letting it go",
                    self.label
                );
            }
            self.host = None;
            self.away_since = Some(Instant::now());
            self.dirty = true;
        }
    }

    /// Handles a message of the attached host; returns a reason when the room must close.
    /// Takes the host's new guest keys for guests that join from now on.
    pub(super) fn set_keys(&mut self, lines: &[String]) {
        let (keys, dropped) = GuestKeys::from_lines(lines);
        info!(
            "session {}: the host listed {} guest keys ({dropped} lines unreadable or over \
             the limits)",
            self.label,
            keys.len()
        );
        self.keys.send_replace(Some(Arc::new(keys)));
    }

    pub(super) fn on_host(&mut self, msg: HostMsg) -> Option<String> {
        let limits = self.shared.limits;
        match msg {
            HostMsg::Rows(mut update) => {
                if update.pane == self.focus {
                    // A host may not make the relay keep or draw more than its pane cap.
                    update.clamp_to(limits.clamp(update.size));
                    self.changed_rows += update.rows.len();
                    match self.screen.apply(update) {
                        Ok(()) => self.dirty = true,
                        Err(e) => warn!("session {}: rows dropped: {e}", self.label),
                    }
                }
            }
            HostMsg::Layout { focus, .. } => {
                // The rows carry their size; the layout only says which pane guests see.
                self.focus = focus;
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
                    self.send_host(RelayMsg::GuestLeft { guest });
                    self.dirty = true;
                }
            }
            HostMsg::Lock(on) => {
                let was = self.locked;
                self.locked = on;
                self.dirty = true;
                if was && !on {
                    // Sizes reported while locked were kept from the host: send them now.
                    let sizes: Vec<_> = self
                        .guests
                        .values()
                        .filter(|g| g.info.access == Access::ReadWrite)
                        .map(|g| (g.info.id, g.info.size))
                        .collect();
                    for (guest, size) in sizes {
                        self.send_host(RelayMsg::GuestResize { guest, size });
                    }
                }
            }
            HostMsg::SetLink { access, enabled } => self.gates.get(access).set_enabled(enabled),
            HostMsg::NewLink(req) => self.new_link(req),
            HostMsg::SetExtraLink { n, enabled } => self.set_extra_link(n, enabled),
            HostMsg::Notice(text) => {
                self.notice = Some(text);
                self.dirty = true;
            }
            HostMsg::End { reason } => return Some(reason),
            HostMsg::Ping(n) => self.send_host(RelayMsg::Pong(n)),
            HostMsg::GuestKeys { lines } => self.set_keys(&lines),
            HostMsg::Admit { guest, access } => self.admit(guest, access),
            HostMsg::Deny { guest } => self.deny(guest),
            HostMsg::Pong(_) | HostMsg::PaneClosed { .. } | HostMsg::Hello(_) => {}
        }
        None
    }
}
