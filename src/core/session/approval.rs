//! Guests that wait for the host's answer (`--approve`), as the session keeps them: who
//! waits, the answers going up to the relay, and the keys admitted once, which are let in
//! again without asking for the rest of the session.

use super::{Notice, Outbound, Session, WaitOutcome};
use crate::core::types::{Access, GuestId, GuestInfo};

/// The access a guest gets: what the host gave, but never more than its link grants.
pub fn granted(link: Access, given: Access) -> Access {
    match link {
        Access::ReadOnly => Access::ReadOnly,
        Access::ReadWrite => given,
    }
}

impl Session {
    /// The relay reports a guest that waits. A key the host admitted before in this session
    /// is let in again at once, with the access it had (no more than its link grants).
    pub(super) fn guest_waiting(&mut self, info: GuestInfo) {
        let known = info
            .fingerprint
            .as_ref()
            .and_then(|fp| self.admitted.get(fp))
            .copied();
        if let Some(access) = known {
            let access = granted(info.access, access);
            self.queue(Outbound::Admit {
                guest: info.id,
                access,
            });
            self.notify(Notice::WaitOver(info, WaitOutcome::Readmitted(access)));
            return;
        }
        self.waiting.retain(|w| w.id != info.id);
        self.waiting.push(info.clone());
        self.notify(Notice::GuestWaiting(info));
    }

    /// The relay let a waiting guest go without an answer.
    pub(super) fn wait_over(&mut self, guest: GuestId, why: String) {
        if let Some(info) = self.take_waiting(guest) {
            self.notify(Notice::WaitOver(info, WaitOutcome::Withdrawn(why)));
        }
    }

    /// The host lets a waiting guest in; its key is remembered with the access given.
    pub(super) fn admit(&mut self, guest: GuestId, access: Access) {
        let Some(info) = self.take_waiting(guest) else {
            return;
        };
        let access = granted(info.access, access);
        if let Some(fp) = &info.fingerprint {
            self.admitted.insert(fp.clone(), access);
        }
        self.queue(Outbound::Admit { guest, access });
        self.notify(Notice::WaitOver(info, WaitOutcome::Admitted(access)));
    }

    /// The host turns a waiting guest away.
    pub(super) fn deny(&mut self, guest: GuestId) {
        if let Some(info) = self.take_waiting(guest) {
            self.queue(Outbound::Deny { guest });
            self.notify(Notice::WaitOver(info, WaitOutcome::Denied));
        }
    }

    /// A new relay connection: the relay asks again about the guests still waiting.
    pub(super) fn forget_waiting(&mut self) {
        for info in std::mem::take(&mut self.waiting) {
            self.notify(Notice::WaitOver(info, WaitOutcome::Reset));
        }
    }

    fn take_waiting(&mut self, guest: GuestId) -> Option<GuestInfo> {
        let at = self.waiting.iter().position(|w| w.id == guest)?;
        Some(self.waiting.remove(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_link_stays_read_only_whatever_the_host_gives() {
        assert_eq!(
            granted(Access::ReadOnly, Access::ReadWrite),
            Access::ReadOnly
        );
        assert_eq!(
            granted(Access::ReadWrite, Access::ReadOnly),
            Access::ReadOnly
        );
        assert_eq!(
            granted(Access::ReadWrite, Access::ReadWrite),
            Access::ReadWrite
        );
    }
}
