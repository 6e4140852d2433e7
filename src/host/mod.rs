//! The host: a session wired to a relay (built in or remote), its state as the front ends
//! show it, and the headless front end (`cotty -F`).

pub mod approval;
pub mod detach;
pub mod embedded;
pub mod forge;
pub mod guestkeys;
pub mod headless;
pub mod lines;
pub mod links;
pub mod start;
pub mod state;
pub mod switch;
pub mod tmux;

pub use headless::run_headless;
pub use start::{Host, HostOptions, RelayChoice, SessionNames};
pub use state::HostState;

#[cfg(test)]
mod state_tests;
