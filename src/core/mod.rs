//! The terminal session: PTY, terminal model (`term`), pane, size policy and the host session actor.

pub mod addrmatch;
pub mod authkeys;
pub mod keys;
pub mod layout;
pub mod pacer;
pub mod pane;
pub mod pty;
pub mod session;
pub mod term;
pub mod types;
