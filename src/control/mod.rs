//! Scripting a running cotty over a Unix socket, tmux style: `cotty -S PATH display -p '#{ssh}'`.

pub mod client;
pub mod format;
pub mod server;

use serde::{Deserialize, Serialize};

/// A request from `cotty -S PATH COMMAND`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Expand `#{…}` variables in a format; print it, or log it on the host.
    Display {
        /// The format.
        format: String,
        /// Print to the caller's stdout (`-p`) rather than the host's log.
        print: bool,
    },
    /// The host's log.
    ShowMessages,
    /// One line per guest.
    ListGuests,
    /// Disconnect a guest by id or name.
    Kick {
        /// The guest's id or name.
        guest: String,
    },
    /// End the session.
    KillSession,
    /// Answer once the links exist.
    WaitReady,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request worked; the client exits 1 when not.
    pub ok: bool,
    /// What to print: to stdout when ok, to stderr when not.
    pub text: String,
}

impl Reply {
    /// A success with text to print.
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            ok: true,
            text: text.into(),
        }
    }

    /// A failure with a message that says what to do.
    pub fn err(text: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            text: text.into(),
        }
    }
}
