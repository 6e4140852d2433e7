//! cotty ("collaborative tty"): share a terminal over plain ssh through a relay.
//!
//! The crate is split by dependency direction:
//!
//! * [`crate::core`]: the terminal session itself (PTY, the terminal model `core::term`, size
//!   policy, the host session actor). It knows nothing of the network or of drawing.
//! * [`crate::net`]: the wire protocol, the host's uplink to the relay, and the relay server.
//! * [`crate::ui`]: the host's dashboard, and what draws a screen's styled rows for it and for
//!   the relay's ssh guests.
//! * [`crate::host`]: starts a host (session, built-in or remote relay, uplink) and keeps the
//!   state both front ends show; the headless front end (`cotty -F`).
//! * [`crate::control`]: the control socket that scripts a running host (`cotty -S`).
//! * [`crate::config`]: settings from the config file, `COTTY_*` variables and flags.
//! * [`crate::relay_config`]: the relay's settings from its config file and flags.
//! * [`crate::cli`]: the command line.

pub mod cli;
pub mod config;
pub mod control;
pub mod core;
pub mod host;
pub mod net;
pub mod relay_config;
pub mod ui;
