//! cotty ("collaborative tty"): share a terminal over plain ssh through a relay.
//!
//! The crate is split by dependency direction:
//!
//! * [`crate::core`]: the terminal session itself (PTY, vt100 pane, size policy, the host
//!   session actor). It knows nothing of the network or of drawing.
//! * [`crate::net`]: the wire protocol, the host's uplink to the relay, and the relay server.
//! * [`crate::ui`]: widgets that draw a vt100 screen into a ratatui buffer, used by the relay
//!   to render what an ssh guest sees.
//! * [`crate::host`]: wires a session to an uplink for the headless host (`cotty -F`).
//! * [`crate::cli`]: the command line.

pub mod cli;
pub mod config;
pub mod control;
pub mod core;
pub mod host;
pub mod net;
pub mod ui;
