//! The network side: wire protocol, the host's uplink, and the relay server.

pub mod codec;
pub mod heartbeat;
pub mod keyfile;
pub mod known_relays;
pub mod proto;
pub mod relay;
pub mod uplink;
