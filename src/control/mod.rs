//! Scripting a running cotty over a Unix socket, tmux style: `cotty -S PATH display -p '#{ssh}'`.

pub mod client;
pub mod format;
pub mod server;
pub mod wire;

pub use format::expand;
pub use wire::{Reply, Request};
