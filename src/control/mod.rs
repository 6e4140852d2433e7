//! Scripting a running cotty over a Unix socket, tmux style: `cotty -S PATH display -p '#{ssh}'`.

pub mod client;
pub mod format;
pub mod server;
pub mod socket;
mod trust;
pub mod wire;

#[cfg(test)]
mod testing;

pub use client::{call, run};
pub use format::expand;
pub use server::{ControlMsg, ControlSocket, bind, default_path};
pub use wire::{Reply, Request};
