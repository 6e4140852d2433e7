//! A guest's join, answered at once or, in an `--approve` session, once the host answers:
//! meanwhile the guest is told it waits, and may leave.
//!
//! The room decides and keeps the time ([`crate::net::relay::room`]'s waiting guests); this
//! side only says "waiting for the host to let you in…" when the room asks the host, and
//! notices a guest that gives up (its connection closes, C-b d or C-c over ssh). Dropping
//! the answer's receiver is how the room learns that the guest left.

use crate::core::term::ScreenState;
use crate::core::types::Size;
use crate::net::relay::guest::{GuestEvent, Transport};
use crate::net::relay::room::{Joined, WAITING};
use tokio::sync::oneshot;

/// What a guest that gives up waiting is left with.
pub const STOPPED_WAITING: &str = "you stopped waiting";

/// How a join ended.
#[derive(Debug)]
pub enum Answer {
    /// The guest is in.
    Joined(Joined),
    /// It is not, and why, for a person.
    Refused(String),
    /// It left (or its connection broke) before the answer came.
    Left,
}

/// Waits for the room's answer to a join; `asked` fires when the guest must wait for the
/// host, and the guest is told so.
pub async fn answer<T: Transport>(
    transport: &mut T,
    mut reply: oneshot::Receiver<Result<Joined, String>>,
    mut asked: oneshot::Receiver<()>,
) -> Answer {
    let mut waits = false;
    let mut asked_done = false;
    // Input before the first frame is read against a blank screen: only its leaving counts.
    let blank = ScreenState::blank(Size::DEFAULT);
    let mut events = Vec::new();
    loop {
        tokio::select! {
            biased;
            r = &mut reply => {
                return match r {
                    Ok(Ok(joined)) => Answer::Joined(joined),
                    Ok(Err(why)) => Answer::Refused(why),
                    Err(_) => Answer::Refused("the session has ended".into()),
                };
            }
            a = &mut asked, if !asked_done => {
                asked_done = true;
                if a.is_ok() {
                    waits = true;
                    if transport.waiting(WAITING).await.is_err() {
                        return Answer::Left;
                    }
                }
            }
            incoming = transport.recv(), if waits => {
                let Some(incoming) = incoming else { return Answer::Left };
                transport.interpret(incoming, &blank, &mut events);
                for event in events.drain(..) {
                    if gives_up(&event) {
                        return Answer::Left;
                    }
                }
            }
        }
    }
}

/// Whether an event of a waiting guest means it gives up: its connection closed, C-b d, or
/// C-c (a person at an ssh prompt that seems stuck presses it).
fn gives_up(event: &GuestEvent) -> bool {
    match event {
        GuestEvent::Detach | GuestEvent::Closed => true,
        GuestEvent::Input(bytes) => bytes.contains(&0x03),
        GuestEvent::Resize(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_guest_gives_up_with_c_c_or_by_leaving_but_not_by_typing() {
        assert!(gives_up(&GuestEvent::Closed));
        assert!(gives_up(&GuestEvent::Detach));
        assert!(gives_up(&GuestEvent::Input(b"ab\x03".to_vec())));
        assert!(!gives_up(&GuestEvent::Input(b"ls\r".to_vec())));
        assert!(!gives_up(&GuestEvent::Resize(Size::new(80, 24))));
    }
}
