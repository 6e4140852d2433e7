//! What the host's front ends say and do about guests that ask to join (`--approve`): the log
//! lines, the line `cotty -F` prints with the commands that answer, and the control
//! requests `admit ID [--ro]` and `deny ID`.

use crate::control::Reply;
use crate::core::session::WaitOutcome;
use crate::core::types::{GuestId, GuestInfo};
use crate::host::state::{Effect, HostState};
use std::path::Path;

impl HostState {
    /// Answers `admit`/`deny` for the waiting guest `who` (its id, or `#id`): the effect to
    /// carry out, or an error that says where the ids are.
    pub fn answer_asking(
        &self,
        who: &str,
        effect: impl FnOnce(GuestId) -> Effect,
    ) -> (Reply, Option<Effect>) {
        let id = who.trim().trim_start_matches('#').parse::<GuestId>().ok();
        match self.asking.iter().find(|g| Some(g.id) == id) {
            Some(g) => (Reply::ok(""), Some(effect(g.id))),
            None if self.asking.is_empty() => (
                Reply::err(format!(
                    "no guest {who:?} is waiting: nobody is waiting to be let in now"
                )),
                None,
            ),
            None => {
                let ids: Vec<String> = self.asking.iter().map(|g| g.id.to_string()).collect();
                let err = format!(
                    "no guest {who:?} is waiting; the waiting guests are {}",
                    ids.join(", ")
                );
                (Reply::err(err), None)
            }
        }
    }
}

/// What else a person deciding whether to let a guest in wants to know of it: its key,
/// address, how it came, and what its link grants.
pub fn describe(g: &GuestInfo) -> String {
    let mut s = String::new();
    if let Some(fp) = &g.fingerprint {
        s.push_str(&format!("key {fp}, "));
    }
    s.push_str(&format!(
        "from {} via {}, {} link",
        g.addr.as_deref().unwrap_or("an unknown address"),
        g.via.label(),
        g.access.label()
    ));
    s
}

/// A waiting guest's line in `list-guests`, after the guests inside, in their form.
pub fn waiting_line(g: &GuestInfo) -> String {
    format!(
        "{}: {} is waiting to be let in ({})",
        g.id,
        g.name,
        describe(g)
    )
}

/// The line `cotty -F` prints for a waiting guest, with the commands that answer it.
pub fn headless_line(g: &GuestInfo, socket: &Path) -> String {
    let path = socket.display().to_string();
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c);
    let s = if path.chars().all(safe) {
        path
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    };
    let id = g.id;
    format!(
        "{} is waiting to be let in ({}); answer with: cotty -S {s} admit {id} [--ro] | \
         cotty -S {s} deny {id}",
        g.who(),
        describe(g)
    )
}

/// The log line for the end of a guest's wait; none when the relay connection was replaced,
/// since the relay asks again at once.
pub fn wait_over_line(g: &GuestInfo, outcome: &WaitOutcome) -> Option<String> {
    let who = g.who();
    Some(match outcome {
        WaitOutcome::Admitted(access) => format!("{who} let in, {}", access.label()),
        WaitOutcome::Readmitted(access) => format!(
            "{who} let in again without asking, {}: key {} was admitted before",
            access.label(),
            g.fingerprint.as_deref().unwrap_or("?")
        ),
        WaitOutcome::Denied => format!("{who} turned away"),
        WaitOutcome::Withdrawn(why) => format!("{who} {why}"),
        WaitOutcome::Reset => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::{Access, Size, Via};

    fn waiter(id: GuestId) -> GuestInfo {
        GuestInfo {
            id,
            via: Via::Ssh,
            name: "alice@laptop".into(),
            fingerprint: Some("SHA256:abc".into()),
            addr: Some("127.0.0.1:5555".into()),
            access: Access::ReadWrite,
            size: Size::new(80, 24),
        }
    }

    #[test]
    fn the_headless_line_says_who_and_how_to_answer() {
        let line = headless_line(&waiter(3), Path::new("/tmp/s"));
        assert_eq!(
            line,
            "guest 3 (alice@laptop) is waiting to be let in (key SHA256:abc, from \
             127.0.0.1:5555 via ssh, read-write link); answer with: cotty -S /tmp/s admit 3 \
             [--ro] | cotty -S /tmp/s deny 3"
        );
        let quoted = headless_line(&waiter(3), Path::new("/tmp/my s"));
        assert!(quoted.contains("cotty -S '/tmp/my s' deny 3"), "{quoted}");
    }

    #[test]
    fn list_guests_shows_the_waiting_guests_after_those_inside() {
        let mut s = HostState::new("me@box");
        s.asking.push(waiter(3));
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        assert!(s.answer(crate::control::Request::ListGuests, tx).is_none());
        let reply = rx.try_recv().expect("answered at once");
        assert_eq!(
            reply.text,
            "3: alice@laptop is waiting to be let in (key SHA256:abc, from 127.0.0.1:5555 via \
             ssh, read-write link)"
        );
    }

    #[test]
    fn only_a_waiting_guest_can_be_answered() {
        let mut s = HostState::new("me@box");
        let (reply, effect) = s.answer_asking("3", Effect::Deny);
        assert!(
            !reply.ok && reply.text.contains("nobody is waiting"),
            "{reply:?}"
        );
        assert!(effect.is_none());
        s.asking.push(waiter(3));
        s.asking.push(waiter(5));
        let (reply, effect) = s.answer_asking("4", Effect::Deny);
        assert!(reply.text.contains("are 3, 5"), "{reply:?}");
        assert!(effect.is_none());
        assert!(matches!(
            s.answer_asking("#5", Effect::Deny).1,
            Some(Effect::Deny(5))
        ));
    }
}
