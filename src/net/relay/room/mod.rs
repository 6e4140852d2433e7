//! One actor per shared session on the relay: the screen mirror, the guests and their access,
//! and the host's connection, which may come and go while the room stays.

mod actor;
mod host;
mod links;
mod types;
mod waiting;

pub use actor::{RELAY_RESTARTING, Room, RoomSetup};
pub use types::{Attached, GuestCtl, JoinRequest, Joined, RoomCmd, RoomView};
pub use waiting::{DENIED, NO_ANSWER, WAITING};

#[cfg(test)]
mod tests;
