//! Framing, compression and decode limits of the uplink protocol; the code is in `frame.rs`.

mod frame;

pub use frame::*;
