//! The relay's web: the page, its websocket, HTTPS, on the ssh port or `--web-listen`.

pub mod assets;
pub mod http;
pub mod origin;
pub mod socket;
pub mod tls;
