//! Guests of an `--approve` session that wait for the host's answer.
//!
//! The room owns them: a waiting guest has its id already, the host is sent
//! [`RelayMsg::GuestWaiting`], and the guest's join is answered only once the host admits
//! ([`HostMsg::Admit`](crate::net::proto::HostMsg::Admit)) or denies it, or the relay's
//! approval timeout runs out. A guest that leaves while it waits drops its end of the answer;
//! the room notices on its next check and withdraws the host's prompt. While the host is away
//! guests keep waiting (the timeout still runs), and a host that comes back is asked again.

use super::actor::{Room, guest_info};
use super::types::{JoinRequest, Joined};
use crate::core::types::{Access, GuestId, GuestInfo};
use crate::net::proto::RelayMsg;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::info;

/// What a waiting guest is told until the host answers.
pub const WAITING: &str = "waiting for the host to let you in…";
/// What a guest the host turned away is told.
pub const DENIED: &str = "the host did not let you in";
/// What a guest is told when the approval timeout runs out.
pub const NO_ANSWER: &str = "the host did not answer";

/// A guest waiting for the host's answer.
#[derive(Debug)]
pub struct Waiter {
    /// What the host was shown, kept to ask a host that comes back again.
    info: GuestInfo,
    /// The guest's join, answered once the host does.
    req: JoinRequest,
    /// Where the answer goes; closed when the guest left.
    reply: oneshot::Sender<Result<Joined, String>>,
    /// When the approval timeout runs out.
    until: Instant,
}

impl Room {
    /// Guest `id` of an `--approve` session waits: it is told so, and the host is asked.
    pub(super) fn wait(
        &mut self,
        id: GuestId,
        mut req: JoinRequest,
        reply: oneshot::Sender<Result<Joined, String>>,
    ) {
        // As many may wait as the session may hold (--max-guests): past that, a flood of
        // links would only bury the host's prompt. Those that left no longer count.
        self.check_waiting(Instant::now());
        let cap = self.shared.limits.guests_per_session;
        if self.waiting.len() >= cap {
            info!(
                "session {}: guest {id} refused, {cap} guests wait for the host already",
                self.label
            );
            let _ = reply.send(Err(format!(
                "{cap} guests are waiting for the host already; try again later"
            )));
            return;
        }
        if let Some(asked) = req.asked.take() {
            let _ = asked.send(());
        }
        let info = guest_info(id, &req);
        info!(
            "session {}: guest {id} from {} waits for the host",
            self.label,
            info.addr.as_deref().unwrap_or("an unknown address")
        );
        self.send_host(RelayMsg::GuestWaiting(info.clone()));
        let until = Instant::now() + self.shared.limits.approve_timeout;
        self.waiting.insert(
            id,
            Waiter {
                info,
                req,
                reply,
                until,
            },
        );
    }

    /// The host let guest `guest` in with `access`, or less: a read-only link stays
    /// read-only. An answer for a guest that no longer waits is dropped.
    pub(super) fn admit(&mut self, guest: GuestId, access: Access) {
        let Some(mut w) = self.waiting.remove(&guest) else {
            return;
        };
        if w.req.access == Access::ReadWrite {
            w.req.access = access;
        }
        // The session may have filled up while the guest waited.
        if let Err(why) = self.has_room(w.req.access) {
            let _ = w.reply.send(Err(why.clone()));
            self.send_host(RelayMsg::WaitOver { guest, reason: why });
            return;
        }
        self.enter(guest, w.req, w.reply);
    }

    /// The host turned guest `guest` away.
    pub(super) fn deny(&mut self, guest: GuestId) {
        if let Some(w) = self.waiting.remove(&guest) {
            info!("session {}: the host denied guest {guest}", self.label);
            let _ = w.reply.send(Err(DENIED.into()));
        }
    }

    /// Lets go of guests that left while waiting and of those the host did not answer in
    /// time; the host's prompts for them go away.
    pub(super) fn check_waiting(&mut self, now: Instant) {
        let over: Vec<GuestId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.reply.is_closed() || w.until <= now)
            .map(|(id, _)| *id)
            .collect();
        for guest in over {
            let Some(w) = self.waiting.remove(&guest) else {
                continue;
            };
            let reason = if w.reply.is_closed() {
                "left before the host answered".to_string()
            } else {
                let after = humantime::format_duration(self.shared.limits.approve_timeout);
                info!(
                    "session {}: guest {guest} was not answered within {after}",
                    self.label
                );
                let _ = w.reply.send(Err(NO_ANSWER.into()));
                format!("was not answered within {after} and was let go")
            };
            self.send_host(RelayMsg::WaitOver { guest, reason });
        }
    }

    /// The session is over: guests still waiting are told why.
    pub(super) fn end_waiting(&mut self, reason: &str) {
        for (_, w) in std::mem::take(&mut self.waiting) {
            let _ = w.reply.send(Err(reason.to_string()));
        }
    }

    /// Asks a host that attaches (a resume) about every guest still waiting, oldest first.
    pub(super) fn ask_again(&mut self) {
        let infos: Vec<GuestInfo> = self.waiting.values().map(|w| w.info.clone()).collect();
        for info in infos {
            self.send_host(RelayMsg::GuestWaiting(info));
        }
    }
}
