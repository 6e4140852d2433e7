//! What lets a guest in through one link: the gate of a token, with its switch, its expiry
//! and, for a one-time link, whether its one guest has come.
//!
//! Every token in the registry points at its gate (the two main links of a session and the
//! extra ones `cotty -S S new-link` makes). The guest's admission reads the gate before it
//! asks the room, so a link that is off, expired or used up is refused like an unknown token:
//! after the failure delay, counted against the guest's address. The room, the one owner of
//! the session's state, switches gates and uses up one-time links as guests join; the flags
//! are atomics only so that admission can read them without a round trip to the room.
//!
//! The expiry is fixed when the gate is made. The main links' gates live as long as the room,
//! so a host that reconnects to the same relay keeps its deadline; a host that registers again
//! on a restarted relay sends what is left of its `--link-ttl` in its hello, so the deadline
//! never moves later.

use crate::core::types::Access;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// What a guest with an expired link is told.
pub const EXPIRED: &str = "this link has expired";
/// What a guest with a link the host switched off is told.
pub const SWITCHED_OFF: &str = "this link was switched off by the host";
/// What a guest with a one-time link that has let its guest in is told.
pub const USED_UP: &str = "this link was for one guest and has been used";
/// The most extra links one session may have made; a host that asks for more is refused.
pub const MAX_EXTRA_LINKS: usize = 64;

/// The state of one link, shared by its registry entry and its room.
#[derive(Debug)]
pub struct Gate {
    /// When the link stops letting new guests in; `None` for never. Fixed at creation.
    expires: Option<Instant>,
    /// Whether the link lets one guest in and then no more.
    once: bool,
    /// Switched off by the host; only the room writes it.
    off: AtomicBool,
    /// A one-time link has let its guest in; set once, by the room, when the guest joins.
    used: AtomicBool,
}

impl Gate {
    /// A gate that is on, expires at `expires` if given, and lets one guest in if `once`.
    pub fn new(expires: Option<Instant>, once: bool) -> Arc<Gate> {
        Arc::new(Gate {
            expires,
            once,
            off: AtomicBool::new(false),
            used: AtomicBool::new(false),
        })
    }

    /// A gate made again on a restarted relay with the state its host kept: switched off or
    /// on, and for a one-time link, whether its guest has come.
    pub fn restored(expires: Option<Instant>, once: bool, used: bool, enabled: bool) -> Arc<Gate> {
        Arc::new(Gate {
            expires,
            once,
            off: AtomicBool::new(!enabled),
            used: AtomicBool::new(once && used),
        })
    }

    /// A gate whose link expires `ttl` from `now`, or never.
    pub fn with_ttl(now: Instant, ttl: Option<Duration>, once: bool) -> Arc<Gate> {
        Gate::new(ttl.map(|t| now + t), once)
    }

    /// Why this link lets no new guest in now, or `None` when it does.
    pub fn refusal(&self, now: Instant) -> Option<&'static str> {
        if self.off.load(Ordering::Acquire) {
            Some(SWITCHED_OFF)
        } else if self.expires.is_some_and(|at| now >= at) {
            Some(EXPIRED)
        } else if self.used.load(Ordering::Acquire) {
            Some(USED_UP)
        } else {
            None
        }
    }

    /// Lets one guest through: for a one-time link, only the first caller gets `Ok`, however
    /// many race for it. Refuses, with the reason, whatever [`Gate::refusal`] refuses.
    pub fn pass(&self, now: Instant) -> Result<(), &'static str> {
        if let Some(why) = self.refusal(now) {
            return Err(why);
        }
        if self.once
            && self
                .used
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return Err(USED_UP);
        }
        Ok(())
    }

    /// Switches the link on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.off.store(!enabled, Ordering::Release);
    }

    /// Whether the host left the link on.
    pub fn enabled(&self) -> bool {
        !self.off.load(Ordering::Acquire)
    }

    /// Whether this is a one-time link.
    pub fn once(&self) -> bool {
        self.once
    }

    /// Whether a one-time link has let its guest in.
    pub fn used(&self) -> bool {
        self.used.load(Ordering::Acquire)
    }

    /// When the link expires, if it does.
    pub fn expires(&self) -> Option<Instant> {
        self.expires
    }

    /// How long until the link expires (zero once it has), or `None` for never.
    pub fn expires_in(&self, now: Instant) -> Option<Duration> {
        self.expires.map(|at| at.saturating_duration_since(now))
    }
}

/// The gates of a session's two main links, by access.
#[derive(Debug, Clone)]
pub struct MainGates {
    /// The read-write link's.
    pub rw: Arc<Gate>,
    /// The read-only link's.
    pub ro: Arc<Gate>,
}

impl MainGates {
    /// Two open gates that expire `ttl` from `now`, or never.
    pub fn new(now: Instant, ttl: Option<Duration>) -> MainGates {
        MainGates {
            rw: Gate::with_ttl(now, ttl, false),
            ro: Gate::with_ttl(now, ttl, false),
        }
    }

    /// The gate of the link with `access`.
    pub fn get(&self, access: Access) -> &Arc<Gate> {
        match access {
            Access::ReadWrite => &self.rw,
            Access::ReadOnly => &self.ro,
        }
    }
}

/// An extra link as its room keeps it.
#[derive(Debug, Clone)]
pub struct RoomLink {
    /// Its number in the session, from 1 in the order they were made (`#{link:N}`).
    pub n: u32,
    /// Its token, to remove from the registry when the room ends.
    pub token: String,
    /// What it grants.
    pub access: Access,
    /// Its state, shared with its registry entry.
    pub gate: Arc<Gate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_refuses_when_off_expired_or_used_and_says_why() {
        let now = Instant::now();
        let gate = Gate::with_ttl(now, Some(Duration::from_secs(10)), false);
        assert_eq!(gate.refusal(now), None);
        assert_eq!(gate.expires_in(now), Some(Duration::from_secs(10)));
        gate.set_enabled(false);
        assert_eq!(gate.refusal(now), Some(SWITCHED_OFF));
        assert!(!gate.enabled());
        gate.set_enabled(true);
        assert_eq!(gate.pass(now), Ok(()));
        assert_eq!(gate.pass(now), Ok(()), "a link that is not once stays open");
        let later = now + Duration::from_secs(10);
        assert_eq!(gate.refusal(later), Some(EXPIRED));
        assert_eq!(gate.pass(later), Err(EXPIRED));
        assert_eq!(gate.expires_in(later), Some(Duration::ZERO));
        assert_eq!(Gate::new(None, false).expires_in(later), None);
    }

    #[test]
    fn a_one_time_link_lets_exactly_one_of_racing_guests_in() {
        let gate = Gate::new(None, true);
        let now = Instant::now();
        let passed: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| gate.pass(now).is_ok())).collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(passed, 1);
        assert!(gate.used());
        assert_eq!(gate.refusal(now), Some(USED_UP));
    }

    #[test]
    fn main_gates_are_by_access_and_share_the_deadline() {
        let now = Instant::now();
        let gates = MainGates::new(now, Some(Duration::from_secs(5)));
        gates.get(Access::ReadOnly).set_enabled(false);
        assert_eq!(gates.get(Access::ReadWrite).refusal(now), None);
        assert_eq!(gates.get(Access::ReadOnly).refusal(now), Some(SWITCHED_OFF));
        let later = now + Duration::from_secs(5);
        assert_eq!(gates.rw.refusal(later), Some(EXPIRED));
    }
}
