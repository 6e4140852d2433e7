//! Session tokens and the table that maps them to rooms.

use crate::core::types::Access;
use crate::net::relay::room::RoomCmd;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Characters of a token: base62, so a token is safe in an ssh user name and a URL.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters in a token: 26 of base62 is 154.8 bits.
pub const TOKEN_LEN: usize = 26;
/// The prefix of read-only tokens, so people can tell the links apart.
pub const RO_PREFIX: &str = "ro-";

/// A fresh token of [`TOKEN_LEN`] base62 characters from the OS CSPRNG.
pub fn new_token() -> String {
    let mut out = String::with_capacity(TOKEN_LEN);
    let mut buf = [0u8; 64];
    while out.len() < TOKEN_LEN {
        getrandom::fill(&mut buf).expect("invariant: the OS random source is available");
        for &b in &buf {
            // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
            if b < 248 && out.len() < TOKEN_LEN {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// Whether a string could be a token at all; anything else is refused before the lookup.
pub fn looks_like_token(s: &str) -> bool {
    let body = s.strip_prefix(RO_PREFIX).unwrap_or(s);
    body.len() == TOKEN_LEN && body.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// What a token opens.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The room's command queue.
    pub room: mpsc::Sender<RoomCmd>,
    /// The access this token grants.
    pub access: Access,
}

/// The tokens of a registered session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The read-write token.
    pub rw: String,
    /// The read-only token, `ro-` and a different random part.
    pub ro: String,
}

/// Token to room. A lookup table of handles: the lock is held only for a map operation and
/// never across an `.await`.
#[derive(Debug, Default)]
pub struct Registry {
    /// The table.
    rooms: Mutex<HashMap<String, Entry>>,
}

impl Registry {
    /// Registers a room under two fresh tokens.
    pub fn register(&self, room: mpsc::Sender<RoomCmd>) -> Tokens {
        let tokens = Tokens {
            rw: new_token(),
            ro: format!("{RO_PREFIX}{}", new_token()),
        };
        let mut map = self.lock();
        map.insert(
            tokens.rw.clone(),
            Entry {
                room: room.clone(),
                access: Access::ReadWrite,
            },
        );
        map.insert(
            tokens.ro.clone(),
            Entry {
                room,
                access: Access::ReadOnly,
            },
        );
        tokens
    }

    /// Finds the room of a token.
    pub fn lookup(&self, token: &str) -> Option<Entry> {
        if !looks_like_token(token) {
            return None;
        }
        self.lock().get(token).cloned()
    }

    /// Forgets a session's tokens.
    pub fn remove(&self, tokens: &Tokens) {
        let mut map = self.lock();
        map.remove(&tokens.rw);
        map.remove(&tokens.ro);
    }

    /// How many sessions are registered.
    pub fn sessions(&self) -> usize {
        self.lock().len() / 2
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave the map half-changed (every operation
        // is a single insert or remove), so a poisoned lock is still safe to use.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_are_long_base62_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let t = new_token();
            assert_eq!(t.len(), TOKEN_LEN);
            assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()), "{t}");
            assert!(seen.insert(t));
        }
        // At least 150 bits of entropy.
        assert!(TOKEN_LEN as f64 * 62f64.log2() >= 150.0);
        // Every character of the alphabet shows up: the mapping is not skewed to a subset.
        let chars: HashSet<char> = seen.iter().flat_map(|t| t.chars()).collect();
        assert_eq!(chars.len(), 62);
    }

    #[test]
    fn read_only_tokens_differ_and_grant_read_only() {
        let reg = Registry::default();
        let (tx, _rx) = mpsc::channel(1);
        let t = reg.register(tx);
        assert!(t.ro.starts_with(RO_PREFIX));
        assert_ne!(&t.ro[RO_PREFIX.len()..], t.rw);
        assert_eq!(reg.lookup(&t.rw).map(|e| e.access), Some(Access::ReadWrite));
        assert_eq!(reg.lookup(&t.ro).map(|e| e.access), Some(Access::ReadOnly));
        assert!(reg.lookup("nope").is_none());
        assert!(reg.lookup(&format!("ro-{}", t.rw)).is_none());
        assert_eq!(reg.sessions(), 1);
        reg.remove(&t);
        assert!(reg.lookup(&t.rw).is_none());
        assert_eq!(reg.sessions(), 0);
    }
}
