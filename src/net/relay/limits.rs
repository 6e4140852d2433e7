//! The relay's limits: what one host, guest or address may take, with their defaults.
//!
//! Every limit is a flag of `cotty relay` and a key of its config file. Going over one gives
//! whoever hit it a message that says what happened and a line in the relay's log.

use crate::core::types::Size;
use std::time::Duration;

/// Limits that keep one host, guest or address from taking the relay down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections, hosts and guests together, so the relay refuses cleanly before the
    /// process runs out of file descriptors.
    pub connections: usize,
    /// Open connections from one source address, so one machine cannot take every slot.
    pub connections_per_ip: usize,
    /// New connections per minute from one source address, against connection floods.
    pub new_connections_per_minute: u32,
    /// Failed token lookups per minute from one source address, against guessing links.
    pub failed_lookups_per_minute: u32,
    /// Time from TCP accept to an open session channel, banner included, so silent or
    /// half-open sockets cannot pile up.
    pub login_grace: Duration,
    /// Sessions one source address may host at once.
    pub sessions_per_ip: usize,
    /// Read-only guests in one session.
    pub guests_per_session: usize,
    /// Read-write guests in one session: their own slots, so watchers cannot lock them out.
    pub rw_guests_per_session: usize,
    /// The largest pane a host may announce and a guest terminal the relay draws for, so a
    /// huge size cannot make the relay allocate or render huge screens.
    pub max_pane: Size,
    /// How long a host has to say hello once its channel is open.
    pub hello_timeout: Duration,
    /// An ssh connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// How long a room whose host is gone is kept for the host to resume it.
    pub resume_grace: Duration,
    /// A guest that takes no frame for this long is dropped, so its buffers are freed.
    pub guest_stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 50_000,
            connections_per_ip: 32,
            new_connections_per_minute: 120,
            failed_lookups_per_minute: 20,
            login_grace: Duration::from_secs(20),
            sessions_per_ip: 16,
            guests_per_session: 64,
            rw_guests_per_session: 16,
            max_pane: Size::new(500, 250),
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(3600),
            resume_grace: Duration::from_secs(600),
            guest_stall_timeout: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// Keeps a host-announced or guest-reported size within [`Limits::max_pane`].
    pub fn clamp(&self, size: Size) -> Size {
        Size::new(
            size.cols.min(self.max_pane.cols),
            size.rows.min(self.max_pane.rows),
        )
        .at_least_one()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_clamped_to_the_pane_cap() {
        let l = Limits::default();
        assert_eq!(l.clamp(Size::new(1000, 1000)), Size::new(500, 250));
        assert_eq!(l.clamp(Size::new(80, 24)), Size::new(80, 24));
        assert_eq!(l.clamp(Size::new(0, 0)), Size::new(1, 1));
    }
}
