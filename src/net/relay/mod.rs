//! The relay: an ssh server that hosts dial out to and guests join with a plain `ssh`, and on
//! the same port the web page that browser guests join with.

pub mod apikeys;
pub mod approvals;
pub mod conn;
pub mod guest;
pub mod guest_input;
pub mod guest_wait;
pub mod guestkeys;
pub mod hostkeys;
pub mod hostlink;
pub mod limits;
pub mod links;
pub mod names;
pub use crate::core::pacer;
pub mod perip;
pub mod quickack;
pub mod registry;
pub mod resume;
pub mod room;
pub mod server;
pub mod sniff;
pub mod ssh;
pub mod ssh_guest;
pub mod web;

pub use server::{Relay, RelayConfig};
