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
    use crate::core::layout::SizePolicy;
    use crate::core::pty::CommandSpec;
    use crate::core::session::{SessionCmd, SessionConfig, spawn};
    use crate::core::types::{Size, Via};
    use std::time::Duration;
    use tokio::sync::mpsc;

    fn waiter(id: GuestId, fingerprint: &str, access: Access) -> GuestInfo {
        GuestInfo {
            id,
            via: Via::Ssh,
            name: format!("guest {id}"),
            fingerprint: Some(fingerprint.into()),
            addr: None,
            access,
            size: Size::new(80, 24),
        }
    }

    /// The next message for the relay other than the screen's and the links' switches, which
    /// a new uplink gets first.
    async fn next_control(rx: &mut mpsc::Receiver<Outbound>) -> Outbound {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a message within 5 s")
                .expect("queue open");
            if !matches!(
                msg,
                Outbound::Rows(_)
                    | Outbound::Layout { .. }
                    | Outbound::SetLink { .. }
                    | Outbound::Lock(false)
            ) {
                return msg;
            }
        }
    }

    #[tokio::test]
    async fn a_key_admitted_once_is_let_in_again_without_asking_with_the_same_access() {
        let cfg = SessionConfig {
            cmd: CommandSpec {
                argv: vec!["sh".into(), "-c".into(), "exec sleep 30".into()],
                env: vec![],
            },
            policy: SizePolicy::Smallest,
            respawn: false,
            host_size: None,
        };
        let (ntx, mut notices) = mpsc::channel(64);
        let (h, _task) = spawn(cfg, ntx).expect("spawn");
        let (out, mut rx) = mpsc::channel(64);
        let guests = Vec::new();
        h.send(SessionCmd::UplinkUp { out, guests })
            .await
            .expect("up");
        h.send(SessionCmd::GuestWaiting(waiter(
            1,
            "SHA256:a",
            Access::ReadWrite,
        )))
        .await
        .expect("send");
        h.send(SessionCmd::Admit {
            guest: 1,
            access: Access::ReadOnly,
        })
        .await
        .expect("send");
        let admitted = Outbound::Admit {
            guest: 1,
            access: Access::ReadOnly,
        };
        assert_eq!(next_control(&mut rx).await, admitted);
        // The same key again: admitted at once, read-only as the host chose.
        h.send(SessionCmd::GuestWaiting(waiter(
            2,
            "SHA256:a",
            Access::ReadWrite,
        )))
        .await
        .expect("send");
        let again = Outbound::Admit {
            guest: 2,
            access: Access::ReadOnly,
        };
        assert_eq!(next_control(&mut rx).await, again);
        // Another key waits for the host, who turns it away.
        h.send(SessionCmd::GuestWaiting(waiter(
            3,
            "SHA256:b",
            Access::ReadWrite,
        )))
        .await
        .expect("send");
        h.send(SessionCmd::Deny { guest: 3 }).await.expect("send");
        assert_eq!(next_control(&mut rx).await, Outbound::Deny { guest: 3 });
        let mut seen = Vec::new();
        while let Ok(Some(n)) =
            tokio::time::timeout(Duration::from_millis(200), notices.recv()).await
        {
            seen.push(n);
        }
        let asked: Vec<GuestId> = seen
            .iter()
            .filter_map(|n| match n {
                Notice::GuestWaiting(g) => Some(g.id),
                _ => None,
            })
            .collect();
        assert_eq!(asked, [1, 3], "the host was asked about new keys only");
        assert!(seen.contains(&Notice::WaitOver(
            waiter(2, "SHA256:a", Access::ReadWrite),
            WaitOutcome::Readmitted(Access::ReadOnly)
        )));
    }

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
