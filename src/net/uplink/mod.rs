//! The host's end of the relay connection.
//!
//! `ssh` dials a remote relay, `link` speaks the protocol over one connection.

pub mod link;
pub mod ssh;

pub use link::run;
pub use ssh::{KeyCheck, SshUplink, connect_ssh};

use crate::net::proto::Links;
use std::path::PathBuf;

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

/// What the uplink tells the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UplinkEvent {
    /// The relay accepted the session.
    Connected(Links),
    /// A line for the log.
    Log(String),
}
