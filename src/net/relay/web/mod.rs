//! The relay's web view: the page's websocket as a guest, and the frames it draws.

pub mod frame;
pub mod input;
pub mod socket;
