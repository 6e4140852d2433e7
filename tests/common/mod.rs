//! Shared helpers for the integration tests: a stock `ssh` guest driver, bounded waits and a
//! fault-injecting TCP proxy.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod env;
pub mod guest;
pub mod mirror;
pub mod proc;
pub mod proxy;
pub mod tmux;
pub mod wait;
