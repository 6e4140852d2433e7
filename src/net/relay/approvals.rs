//! `approve-web`: how a web page joins a session that admits only listed keys, without the
//! browser ever holding a key.
//!
//! The page's socket asks for a challenge: a short random code, good once and for
//! [`CODE_TTL`]. The page shows `ssh -p PORT TOKEN@HOST approve-web CODE`; a guest that logs
//! in with a listed key and runs it hands its key's identity (name, fingerprint, cotty-ro) to
//! the waiting socket, which then joins as that key. The table is a lookup table of handles
//! (code → the waiting socket's sender): its lock is held for one map operation, never
//! across an `.await`.

use crate::net::relay::guestkeys::KeyIdentity;
use crate::net::relay::registry::new_token;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long a code is good for.
pub const CODE_TTL: Duration = Duration::from_secs(300);
/// Characters in a code: 12 of base62 is 71 bits, and a code is good once and briefly.
pub const CODE_LEN: usize = 12;
/// Pages that may wait for approval at once, relay-wide; more are told to try later.
pub const MAX_PENDING: usize = 1024;
/// The exec command a guest runs to approve a page.
pub const COMMAND: &str = "approve-web";

/// A page waiting for approval.
#[derive(Debug)]
struct Pending {
    /// The token the page asked for: only a guest of that same link may approve it.
    token: String,
    /// Where the identity goes.
    tx: oneshot::Sender<KeyIdentity>,
    /// When the code stops working.
    expires: Instant,
}

/// Why a code did not approve anything, in words for the guest who ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveError {
    /// No such code, it was used, or it expired.
    Unknown,
    /// The code belongs to another link than the one the guest logged in with.
    OtherLink,
    /// The page that showed the code has gone.
    PageGone,
}

impl ApproveError {
    /// What the guest is told.
    pub fn text(self) -> &'static str {
        match self {
            ApproveError::Unknown => {
                "no page is waiting with that code: it was mistyped, used already or expired \
                 (codes last 5 minutes); reload the page for a new one"
            }
            ApproveError::OtherLink => {
                "that code is for another link; run the command exactly as the page shows it"
            }
            ApproveError::PageGone => "the page that showed that code has closed; reload it",
        }
    }
}

/// Codes of the pages waiting for approval.
#[derive(Debug, Default)]
pub struct Approvals {
    /// The table; see the module's note on the lock.
    pending: Mutex<HashMap<String, Pending>>,
}

impl Approvals {
    /// A fresh code for a page of `token`, and where its approval will come. `None` when
    /// too many pages wait already or the OS has no randomness to give.
    pub fn open(&self, token: &str) -> Option<(String, oneshot::Receiver<KeyIdentity>)> {
        let code: String = new_token().ok()?.chars().take(CODE_LEN).collect();
        let (tx, rx) = oneshot::channel();
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, p| p.expires > now && !p.tx.is_closed());
        if map.len() >= MAX_PENDING || map.contains_key(&code) {
            return None;
        }
        map.insert(
            code.clone(),
            Pending {
                token: token.to_string(),
                tx,
                expires: now + CODE_TTL,
            },
        );
        Some((code, rx))
    }

    /// Hands `id` to the page waiting with `code`, if it asked for `token`. A code works
    /// once: it is gone after this, whatever the outcome, except for another link's code.
    pub fn approve(&self, code: &str, token: &str, id: KeyIdentity) -> Result<(), ApproveError> {
        let pending = {
            let mut map = self.lock();
            match map.get(code) {
                None => return Err(ApproveError::Unknown),
                Some(p) if p.token != token => return Err(ApproveError::OtherLink),
                Some(_) => map.remove(code),
            }
        };
        match pending {
            Some(p) if p.expires <= Instant::now() => Err(ApproveError::Unknown),
            Some(p) => p.tx.send(id).map_err(|_| ApproveError::PageGone),
            None => Err(ApproveError::Unknown),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The code of an exec command `approve-web CODE`, if that is what `cmd` is.
pub fn parse_command(cmd: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(cmd).ok()?;
    let mut words = text.split_whitespace();
    let (verb, code) = (words.next()?, words.next()?);
    (verb == COMMAND && words.next().is_none()).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> KeyIdentity {
        KeyIdentity {
            name: "alice".into(),
            fingerprint: "SHA256:x".into(),
            read_only: false,
            proved_from: None,
        }
    }

    #[tokio::test]
    async fn a_code_approves_its_page_once() {
        let a = Approvals::default();
        let (code, rx) = a.open("TOKEN").expect("a code");
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(
            a.approve(&code, "ro-OTHER", alice()),
            Err(ApproveError::OtherLink)
        );
        assert_eq!(a.approve(&code, "TOKEN", alice()), Ok(()));
        assert_eq!(rx.await.expect("approved"), alice());
        assert_eq!(
            a.approve(&code, "TOKEN", alice()),
            Err(ApproveError::Unknown),
            "single use"
        );
        assert_eq!(
            a.approve("nope", "TOKEN", alice()),
            Err(ApproveError::Unknown)
        );
    }

    #[tokio::test]
    async fn a_closed_page_or_an_old_code_approves_nothing() {
        let a = Approvals::default();
        let (code, rx) = a.open("TOKEN").expect("a code");
        drop(rx);
        assert_eq!(
            a.approve(&code, "TOKEN", alice()),
            Err(ApproveError::PageGone)
        );
        tokio::time::pause();
        let (code, _rx) = a.open("TOKEN").expect("a code");
        tokio::time::advance(CODE_TTL + Duration::from_secs(1)).await;
        assert_eq!(
            a.approve(&code, "TOKEN", alice()),
            Err(ApproveError::Unknown)
        );
    }

    #[test]
    fn only_the_exact_command_is_taken() {
        assert_eq!(parse_command(b"approve-web Ab12"), Some("Ab12"));
        assert_eq!(parse_command(b"  approve-web   Ab12 \n"), Some("Ab12"));
        assert_eq!(parse_command(b"approve-web"), None);
        assert_eq!(parse_command(b"approve-web a b"), None);
        assert_eq!(parse_command(b"ls"), None);
    }
}
