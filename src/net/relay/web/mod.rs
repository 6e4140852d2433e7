//! The relay's web view: the page and its websocket guest, HTTPS, on the ssh port or
//! `--web-listen`.

pub mod assets;
pub mod frame;
pub mod http;
pub mod input;
pub mod origin;
pub mod socket;
pub mod ticket;
pub mod tls;
