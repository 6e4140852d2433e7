//! The host's end of the relay connection.
//!
//! `supervisor` owns connecting, reconnecting and backoff, and reports the state as typed
//! events; `ssh` dials a remote relay; `link` speaks the protocol over one connection;
//! `kept` is what the host keeps between connections to resume its session.

pub mod kept;
pub mod link;
pub mod ssh;
pub mod supervisor;

pub use ssh::{KeyCheck, SshUplink, connect_ssh};
pub use supervisor::{Dialer, Uplink};

use crate::net::proto::{ExtraLink, Links};
use std::path::PathBuf;
use std::time::Duration;

/// Messages the session may queue for the relay before output is replaced by a snapshot.
pub const UPLINK_QUEUE: usize = 32;

/// Where and how to reach a relay.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    /// `HOST:PORT`.
    pub addr: String,
    /// The relay key's fingerprint, if pinned on the command line.
    pub fingerprint: Option<String>,
    /// The known-relays file for trust on first use.
    pub known_relays: PathBuf,
    /// The private key offered when the relay refuses a host without one (its
    /// `--host-keys`); created if missing. `None` offers no key.
    pub identity: Option<PathBuf>,
}

/// The relay connection's state, as front ends draw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// The first connection is being made.
    Connecting,
    /// The relay accepted the session; the links work.
    Up,
    /// The connection is gone and the supervisor tries again.
    Reconnecting {
        /// Failed tries since the link was last up, from 1.
        attempt: u32,
        /// The pause before the next try.
        next_in: Duration,
        /// Why the last connection ended or failed.
        why: String,
    },
    /// The relay refused for a reason no retry can change; the shell keeps running.
    Refused(String),
}

impl LinkState {
    /// The short name `#{relay_state}` expands to.
    pub fn name(&self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Up => "up",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::Refused(_) => "refused",
        }
    }
}

/// What the uplink tells the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UplinkEvent {
    /// The relay accepted the session: the links, and whether they are the earlier ones.
    Connected {
        /// The links to hand out.
        links: Links,
        /// Whether the earlier session was taken up again (the links did not change).
        resumed: bool,
    },
    /// The connection's state changed (other than to up, which `Connected` says).
    State(LinkState),
    /// A line for the log.
    Log(String),
    /// An extra link the relay made, or its state now.
    ExtraLink(ExtraLink),
    /// The relay could not make an extra link.
    LinkRefused {
        /// The host's number for the request.
        req: u64,
        /// Why, for a person.
        reason: String,
    },
}

/// An error that no retry can change (a relay key that does not match, a host key the relay
/// does not allow): the supervisor stops trying and says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}
