//! The room's extra links: making them for the host, switching them, and telling the host
//! their state (made, used up, switched) and again after it reconnects.
//!
//! Extra links live in the room, so they survive the host's uplink dropping and coming back
//! to the same relay. A relay that restarts has lost them: its new room reports none, and
//! the host forgets its list (see [`crate::host::links`]).

use super::actor::Room;
use crate::core::types::Access;
use crate::net::proto::{ExtraLink, NewLink, RelayMsg};
use crate::net::relay::links::{Gate, MAX_EXTRA_LINKS, RoomLink};
use crate::net::relay::registry::{Entry, RO_PREFIX, new_token};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tracing::{info, warn};

impl Room {
    /// Makes an extra link for the host and answers with it, or with why not.
    pub(super) fn new_link(&mut self, req: NewLink) {
        if self.extra.len() >= MAX_EXTRA_LINKS {
            let reason = format!(
                "this session has made {MAX_EXTRA_LINKS} extra links, the most a relay keeps; \
                 switch off the ones you do not need"
            );
            return self.send_host(RelayMsg::LinkRefused {
                req: req.req,
                reason,
            });
        }
        let Some(me) = self.me.upgrade() else { return };
        let now = Instant::now();
        // Without its own --ttl an extra link ends with the session's links (--link-ttl).
        let expires = match req.ttl_secs {
            Some(s) => Some(now + Duration::from_secs(s)),
            None => self.gates.rw.expires(),
        };
        let gate = Gate::new(expires, req.once);
        let made = new_token().map_err(|e| e.to_string()).and_then(|t| {
            let token = match req.access {
                Access::ReadWrite => t,
                Access::ReadOnly => format!("{RO_PREFIX}{t}"),
            };
            let entry = Entry {
                room: me,
                access: req.access,
                gate: gate.clone(),
                main: false,
                // The session's guest keys guard its extra links as its main ones.
                keys: self.keys.subscribe(),
            };
            self.shared
                .registry
                .add_link(&token, entry)
                .map(|()| token)
                .map_err(|e| format!("{e:?}"))
        });
        let token = match made {
            Ok(token) => token,
            Err(e) => {
                warn!("session {}: no extra link: {e}", self.label);
                let reason = format!("the relay could not make a link ({e}); try again");
                return self.send_host(RelayMsg::LinkRefused {
                    req: req.req,
                    reason,
                });
            }
        };
        let n = self.extra.last().map_or(1, |l| l.n + 1);
        info!(
            "session {}: extra link {n}, {}{}",
            self.label,
            req.access.label(),
            if req.once { ", one guest" } else { "" }
        );
        let link = RoomLink {
            n,
            token,
            access: req.access,
            gate,
        };
        let msg = self.link_msg(&link, Some(req.req), now);
        self.extra.push(link);
        self.send_host(RelayMsg::LinkAdded(msg));
    }

    /// Switches extra link `n` on or off, and tells the host its state.
    pub(super) fn set_extra_link(&mut self, n: u32, enabled: bool) {
        let Some(link) = self.extra.iter().find(|l| l.n == n) else {
            return;
        };
        link.gate.set_enabled(enabled);
        let msg = self.link_msg(link, None, Instant::now());
        self.send_host(RelayMsg::LinkAdded(msg));
    }

    /// Tells the host that the one-time link behind `gate` has let its guest in.
    pub(super) fn report_used(&mut self, gate: &Arc<Gate>) {
        let now = Instant::now();
        let msg = self
            .extra
            .iter()
            .find(|l| Arc::ptr_eq(&l.gate, gate))
            .map(|l| self.link_msg(l, None, now));
        if let Some(msg) = msg {
            self.send_host(RelayMsg::LinkAdded(msg));
        }
    }

    /// Tells a host that has just attached every extra link this room has.
    pub(super) fn report_links(&mut self) {
        let now = Instant::now();
        let msgs: Vec<ExtraLink> = self
            .extra
            .iter()
            .map(|l| self.link_msg(l, None, now))
            .collect();
        for msg in msgs {
            self.send_host(RelayMsg::LinkAdded(msg));
        }
    }

    /// An extra link as the host is told it.
    fn link_msg(&self, link: &RoomLink, req: Option<u64>, now: Instant) -> ExtraLink {
        ExtraLink {
            req,
            n: link.n,
            access: link.access,
            ssh: self.shared.ssh_link(&link.token),
            web: Some(self.shared.web_link(&link.token)),
            once: link.gate.once(),
            // Rounded up, so a link the host shows as running has not expired yet.
            expires_in: link
                .gate
                .expires_in(now)
                .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0)),
            enabled: link.gate.enabled(),
            used: link.gate.used(),
        }
    }
}
