//! The lines the host prints about its guests and its link: the guest list of `list-guests`
//! and the dashboard, the log's lines for joins, leaves and waits, and the relay's state.

use crate::core::session::{GuestRow, Notice};
use crate::core::types::{Access, GuestInfo};
use crate::host::approval::wait_over_line;
use crate::net::uplink::LinkState;
use std::time::{Duration, Instant};

/// How long ago, in the short form of the guest list: `5s`, `3m`, `2h`.
pub fn fmt_idle(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

/// A guest's idle time: since its last input, or since it joined.
pub fn idle(g: &GuestRow, now: Instant) -> Duration {
    now.saturating_duration_since(g.last_input.unwrap_or(g.joined))
}

/// One line of `list-guests`.
pub fn guest_line(g: &GuestRow, locked: bool, now: Instant) -> String {
    let i = &g.info;
    let access = match i.access {
        Access::ReadWrite if locked => "rw (locked)",
        Access::ReadWrite => "rw",
        Access::ReadOnly => "ro",
    };
    format!(
        "{}: {} via {} from {}, {access}, {}, idle {}",
        i.id,
        i.name,
        i.via.label(),
        i.addr.as_deref().unwrap_or("unknown address"),
        i.size,
        fmt_idle(idle(g, now))
    )
}

/// The log line for a state change of the relay connection; `cotty -F` prints the same lines.
pub fn state_line(state: &LinkState) -> Option<String> {
    Some(match state {
        LinkState::Connecting => "relay: connecting".to_string(),
        LinkState::Up => return None,
        LinkState::Reconnecting {
            attempt,
            next_in,
            why,
        } => format!("relay: {why}; {}", reconnect_text(*attempt, *next_in)),
        LinkState::Refused(why) => {
            format!("the relay refused this host: {why}; the shell keeps running unshared")
        }
    })
}

/// "reconnecting (attempt 3, next in 4 s)", as the status bar and the log say it.
pub fn reconnect_text(attempt: u32, next_in: Duration) -> String {
    let secs = next_in.as_secs_f64();
    if secs < 0.05 {
        format!("reconnecting (attempt {attempt}, now)")
    } else if secs < 10.0 {
        format!("reconnecting (attempt {attempt}, next in {secs:.1} s)")
    } else {
        format!(
            "reconnecting (attempt {attempt}, next in {} s)",
            next_in.as_secs()
        )
    }
}

/// The log line for a notice, if any; `cotty -F` prints the same lines.
pub fn notice_line(n: &Notice) -> Option<String> {
    fn who(g: &GuestInfo) -> String {
        let mut s = format!(
            "{} {} via {} from {}",
            g.who(),
            g.access.label(),
            g.via.label(),
            g.addr.as_deref().unwrap_or("unknown address")
        );
        if let Some(fp) = &g.fingerprint {
            s.push_str(&format!(" key {fp}"));
        }
        s
    }
    Some(match n {
        Notice::GuestJoined(g) => format!("{} joined", who(g)),
        Notice::GuestLeft(g) => format!("{} left", who(g)),
        Notice::AccessChanged(g) => format!("guest {} is now {}", g.id, g.access.label()),
        Notice::Locked(true) => "input locked: every guest is read-only".to_string(),
        Notice::Locked(false) => "input unlocked: guests have their own access again".to_string(),
        Notice::Resized(size) => format!("shared size is now {size}"),
        Notice::ProgramExited(Some(code)) => format!("program exited with status {code}"),
        Notice::ProgramExited(None) => "program was killed".to_string(),
        Notice::Respawned => "program started again".to_string(),
        Notice::Warning(w) => format!("warning: {w}"),
        Notice::Ended(reason) => format!("session ended: {reason}"),
        Notice::GuestWaiting(g) => format!("{} is waiting to be let in", who(g)),
        Notice::WaitOver(g, outcome) => return wait_over_line(g, outcome),
    })
}
