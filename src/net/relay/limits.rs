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
    /// How long a guest of an `--approve` session waits for the host's answer before it is
    /// told "the host did not answer" and let go, so a host away from its desk leaves no
    /// guests hanging.
    pub approve_timeout: Duration,
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
            approve_timeout: Duration::from_secs(120),
        }
    }
}

/// File descriptors kept back from connections: the listener, stdio, the runtime's own,
/// key and log files, and room to accept and refuse a connection cleanly when full.
const FD_RESERVE: u64 = 128;

/// File descriptors one connection may hold: its socket, and a second handle on it while it
/// logs in, so the login grace can cut it off (see `conn.rs`).
const FDS_PER_CONNECTION: u64 = 2;

/// The open-file limit (the soft `RLIMIT_NOFILE`), or `None` when it is unlimited or cannot
/// be read.
pub fn open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives on this stack.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    // rlim_t is u64 on Linux but not on every target.
    #[allow(clippy::unnecessary_cast)]
    let soft = lim.rlim_cur as u64;
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(soft)
}

/// How many connections fit in `open_files` descriptors, once the reserve is kept back.
pub fn connections_for_open_files(open_files: u64) -> usize {
    let n = open_files.saturating_sub(FD_RESERVE) / FDS_PER_CONNECTION;
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
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

    #[test]
    fn connections_leave_a_reserve_of_descriptors() {
        assert_eq!(connections_for_open_files(32768), 16320);
        assert_eq!(connections_for_open_files(1024), 448);
        assert_eq!(connections_for_open_files(256), 64);
        // Even a tiny limit lets one connection in rather than none.
        assert_eq!(connections_for_open_files(10), 1);
    }

    #[test]
    fn the_open_file_limit_can_be_read() {
        // Test runners always have some limit; "unlimited" is the only other answer.
        if let Some(n) = open_file_limit() {
            assert!(n >= 3, "{n}");
        }
    }
}
