//! The room's extra links: making them for the host, switching them, and telling the host
//! their state (made, used up, switched) and again after it reconnects.
//!
//! Extra links live in the room, so they survive the host's uplink dropping and coming back
//! to the same relay. A relay that restarts has lost them; the host presents them again with
//! its resume, each with the proof this relay gave it, and the new room makes again those
//! whose proof checks ([`Room::restore_links`]).

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
            self.register_link(&token, req.access, &gate)
                .map(|()| token)
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

    /// Makes again the extra links a host kept from before this relay restarted
    /// ([`crate::net::proto::Hello::extra_links`]), with their numbers and state: each whose
    /// proof checks for this session, whose token fits its access and is free. The others are
    /// left out and logged; the host learns which came back from the reports that follow its
    /// welcome.
    pub fn restore_links(&mut self, kept: Vec<ExtraLink>) {
        let now = Instant::now();
        for link in kept.into_iter().take(MAX_EXTRA_LINKS) {
            let ro = link.token.starts_with(RO_PREFIX);
            let why = if !self
                .shared
                .resume_key
                .verify_link(&self.id, &link.token, &link.proof)
            {
                Some("its proof does not check".to_string())
            } else if ro != (link.access == Access::ReadOnly) {
                Some("its token does not fit its access".to_string())
            } else if link.n == 0 || self.extra.iter().any(|l| l.n == link.n) {
                Some("its number is taken".to_string())
            } else {
                let expires = link.expires_in.map(|s| now + Duration::from_secs(s));
                let gate = Gate::restored(expires, link.once, link.used, link.enabled);
                match self.register_link(&link.token, link.access, &gate) {
                    Ok(()) => {
                        self.extra.push(RoomLink {
                            n: link.n,
                            token: link.token,
                            access: link.access,
                            gate,
                        });
                        None
                    }
                    Err(e) => Some(e),
                }
            };
            if let Some(why) = why {
                warn!(
                    "session {}: extra link {} not made again: {why}",
                    self.label, link.n
                );
            }
        }
        self.extra.sort_by_key(|l| l.n);
        if !self.extra.is_empty() {
            info!(
                "session {}: {} extra links made again",
                self.label,
                self.extra.len()
            );
        }
    }

    /// Puts an extra link's token in the registry, guarded like the main links: by its gate
    /// and by the session's guest keys.
    fn register_link(&self, token: &str, access: Access, gate: &Arc<Gate>) -> Result<(), String> {
        let me = self
            .me
            .upgrade()
            .ok_or_else(|| "the session is ending".to_string())?;
        let entry = Entry {
            room: me,
            access,
            gate: gate.clone(),
            main: false,
            // The session's guest keys guard its extra links as its main ones.
            keys: self.keys.subscribe(),
        };
        self.shared
            .registry
            .add_link(token, entry)
            .map_err(|e| format!("{e:?}"))
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
            token: link.token.clone(),
            proof: self.shared.resume_key.sign_link(&self.id, &link.token),
        }
    }
}
