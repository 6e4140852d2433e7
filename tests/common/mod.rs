//! Shared helpers for the integration tests: a stock `ssh` guest driver, bounded waits, a
//! fault-injecting TCP proxy, and terminal screens compared with tmux's.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod browser;
pub mod env;
pub mod forge_stub;
pub mod guest;
pub mod mirror;
pub mod page_mirror;
pub mod proc;
pub mod proxy;
pub mod sshcmd;
pub mod term;
pub mod tmux;
pub mod tmux_guest;
pub mod wait;
pub mod web;
