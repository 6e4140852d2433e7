//! Session tokens and the table that maps them to rooms.

use crate::core::types::Access;
use crate::net::relay::guestkeys::{self, KeysWatch};
use crate::net::relay::links::{Gate, MainGates};
use crate::net::relay::names::Names;
use crate::net::relay::perip::{IpCounts, IpSlot};
use crate::net::relay::room::RoomCmd;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Characters of a token: base62, so a token is safe in an ssh user name and a URL.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters in a token: 26 of base62 is 154.8 bits.
pub const TOKEN_LEN: usize = 26;
/// The prefix of read-only tokens, so people can tell the links apart.
pub const RO_PREFIX: &str = "ro-";

/// A fresh token of [`TOKEN_LEN`] base62 characters from the OS CSPRNG. Fails only if the OS
/// has no random source to give, which must not take the relay down.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(TOKEN_LEN);
    let mut buf = [0u8; 64];
    while out.len() < TOKEN_LEN {
        getrandom::fill(&mut buf)?;
        for &b in &buf {
            // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
            if b < 248 && out.len() < TOKEN_LEN {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
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
    /// The session's guest keys as its room publishes them: read while a guest
    /// authenticates, before it can be sent to the room.
    pub keys: KeysWatch,
    /// Whether the link lets a new guest in now, and why not ([`crate::net::relay::links`]).
    pub gate: Arc<Gate>,
    /// Whether this is one of the session's two main links, not an extra one.
    pub main: bool,
}

/// The tokens of a registered session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The read-write token.
    pub rw: String,
    /// The read-only token, `ro-` and a different random part.
    pub ro: String,
}

impl Tokens {
    /// Two fresh tokens.
    pub fn new() -> Result<Tokens, getrandom::Error> {
        Ok(Tokens {
            rw: new_token()?,
            ro: format!("{RO_PREFIX}{}", new_token()?),
        })
    }
}

/// Why tokens could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterError {
    /// A token is not of the token form (a resume that was tampered with).
    Malformed,
    /// A token is taken by a live session.
    InUse,
}

/// Token to room, and hosted sessions per address. The table is a lookup table of handles:
/// its lock is held only for a map operation and never across an `.await`.
#[derive(Debug, Default)]
pub struct Registry {
    /// The table.
    rooms: Mutex<HashMap<String, Entry>>,
    /// Sessions hosted from each address now, for the per-address limit.
    hosts: IpCounts,
    /// Named sessions' names, each standing for one of the tokens above.
    names: Names,
}

impl Registry {
    /// Registers a room that sets no guest keys under `tokens`, behind `gates`, unless a
    /// token is taken or malformed.
    pub fn register(
        &self,
        tokens: &Tokens,
        room: mpsc::Sender<RoomCmd>,
        gates: &MainGates,
    ) -> Result<(), RegisterError> {
        self.register_keyed(tokens, room, gates, guestkeys::open_session())
    }

    /// Registers a room under `tokens` with its gates and guest keys, unless a token is
    /// taken or malformed.
    pub fn register_keyed(
        &self,
        tokens: &Tokens,
        room: mpsc::Sender<RoomCmd>,
        gates: &MainGates,
        keys: KeysWatch,
    ) -> Result<(), RegisterError> {
        let ro_ok = tokens
            .ro
            .strip_prefix(RO_PREFIX)
            .is_some_and(|body| !body.starts_with(RO_PREFIX) && looks_like_token(body));
        if !looks_like_token(&tokens.rw) || tokens.rw.starts_with(RO_PREFIX) || !ro_ok {
            return Err(RegisterError::Malformed);
        }
        let mut map = self.lock();
        if map.contains_key(&tokens.rw) || map.contains_key(&tokens.ro) {
            return Err(RegisterError::InUse);
        }
        map.insert(
            tokens.rw.clone(),
            Entry {
                room: room.clone(),
                access: Access::ReadWrite,
                keys: keys.clone(),
                gate: gates.rw.clone(),
                main: true,
            },
        );
        map.insert(
            tokens.ro.clone(),
            Entry {
                room,
                access: Access::ReadOnly,
                keys,
                gate: gates.ro.clone(),
                main: true,
            },
        );
        Ok(())
    }

    /// Registers an extra link's fresh token (from [`new_token`]) for a room.
    pub fn add_link(&self, token: &str, entry: Entry) -> Result<(), RegisterError> {
        if !looks_like_token(token) {
            return Err(RegisterError::Malformed);
        }
        let mut map = self.lock();
        if map.contains_key(token) {
            return Err(RegisterError::InUse);
        }
        map.insert(token.to_string(), entry);
        Ok(())
    }

    /// Forgets an extra link's token, if it still belongs to `room`.
    pub fn remove_link(&self, token: &str, room: &mpsc::Sender<RoomCmd>) {
        let mut map = self.lock();
        if map.get(token).is_some_and(|e| e.room.same_channel(room)) {
            map.remove(token);
        }
    }

    /// Finds the room of a token, or of a name (`USERNAME/NAME`) through its token.
    pub fn lookup(&self, token: &str) -> Option<Entry> {
        if looks_like_token(token) {
            return self.lock().get(token).cloned();
        }
        let token = self.names.token(token)?;
        self.lock().get(&token).cloned()
    }

    /// The names of named sessions.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Forgets a session's tokens, if they still belong to `room`.
    pub fn remove(&self, tokens: &Tokens, room: &mpsc::Sender<RoomCmd>) {
        let mut map = self.lock();
        let mut gone = Vec::new();
        for t in [&tokens.rw, &tokens.ro] {
            if map.get(t).is_some_and(|e| e.room.same_channel(room)) {
                map.remove(t);
                gone.push(t.as_str());
            }
        }
        drop(map);
        self.names.forget(&gone);
    }

    /// Counts a hosted session against `ip`, unless `ip` hosts `max` already.
    pub fn host_slot(&self, ip: IpAddr, max: usize) -> Option<IpSlot> {
        self.hosts.take(ip, max).ok()
    }

    /// How many sessions are registered.
    pub fn sessions(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.main && e.access == Access::ReadWrite)
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        lock(&self.rooms)
    }
}

/// Locks a table. A panic while holding it cannot leave a map half-changed (every operation
/// is a single insert, update or remove), so a poisoned lock is still safe to use.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn gates() -> MainGates {
        MainGates::new(tokio::time::Instant::now(), None)
    }

    #[test]
    fn tokens_are_long_base62_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let t = new_token().expect("random");
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
        let t = Tokens::new().expect("random");
        reg.register(&t, tx.clone(), &gates()).expect("registers");
        assert!(t.ro.starts_with(RO_PREFIX));
        assert_ne!(&t.ro[RO_PREFIX.len()..], t.rw);
        assert_eq!(reg.lookup(&t.rw).map(|e| e.access), Some(Access::ReadWrite));
        assert_eq!(reg.lookup(&t.ro).map(|e| e.access), Some(Access::ReadOnly));
        assert!(reg.lookup("nope").is_none());
        assert!(reg.lookup(&format!("ro-{}", t.rw)).is_none());
        assert_eq!(reg.sessions(), 1);
        reg.remove(&t, &tx);
        assert!(reg.lookup(&t.rw).is_none());
        assert_eq!(reg.sessions(), 0);
    }

    #[test]
    fn tokens_in_use_or_malformed_are_refused_and_only_the_owner_removes_them() {
        let reg = Registry::default();
        let (a, _ra) = mpsc::channel(1);
        let (b, _rb) = mpsc::channel(1);
        let t = Tokens::new().expect("random");
        reg.register(&t, a.clone(), &gates()).expect("registers");
        assert_eq!(
            reg.register(&t, b.clone(), &gates()),
            Err(RegisterError::InUse)
        );
        let other = Tokens::new().expect("random");
        let half = Tokens {
            rw: other.rw.clone(),
            ro: t.ro.clone(),
        };
        assert_eq!(
            reg.register(&half, b.clone(), &gates()),
            Err(RegisterError::InUse)
        );
        let bad = Tokens {
            rw: "short".into(),
            ro: other.ro.clone(),
        };
        assert_eq!(
            reg.register(&bad, b.clone(), &gates()),
            Err(RegisterError::Malformed)
        );
        let swapped = Tokens {
            rw: other.ro.clone(),
            ro: other.rw.clone(),
        };
        assert_eq!(
            reg.register(&swapped, b.clone(), &gates()),
            Err(RegisterError::Malformed)
        );
        // Another room cannot remove the tokens; the owner can.
        reg.remove(&t, &b);
        assert!(reg.lookup(&t.rw).is_some());
        reg.remove(&t, &a);
        assert!(reg.lookup(&t.rw).is_none() && reg.lookup(&t.ro).is_none());
    }

    #[test]
    fn extra_links_point_at_their_room_and_do_not_count_as_sessions() {
        let reg = Registry::default();
        let (a, _ra) = mpsc::channel(1);
        let (b, _rb) = mpsc::channel(1);
        let t = Tokens::new().expect("random");
        reg.register(&t, a.clone(), &gates()).expect("registers");
        let extra = new_token().expect("random");
        let entry = Entry {
            room: a.clone(),
            access: Access::ReadOnly,
            gate: Gate::new(None, true),
            main: false,
            keys: guestkeys::open_session(),
        };
        reg.add_link(&extra, entry.clone()).expect("adds");
        assert_eq!(
            reg.add_link(&extra, entry.clone()),
            Err(RegisterError::InUse)
        );
        assert_eq!(reg.add_link("x", entry), Err(RegisterError::Malformed));
        let found = reg.lookup(&extra).expect("found");
        assert!(found.room.same_channel(&a) && found.gate.once() && !found.main);
        assert_eq!(reg.sessions(), 1);
        reg.remove_link(&extra, &b);
        assert!(reg.lookup(&extra).is_some(), "only its room removes it");
        reg.remove_link(&extra, &a);
        assert!(reg.lookup(&extra).is_none());
    }

    #[test]
    fn host_slots_are_counted_per_address_and_given_back() {
        let reg = Registry::default();
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        let b: IpAddr = "127.0.0.2".parse().expect("ip");
        let s1 = reg.host_slot(a, 2).expect("first");
        let _s2 = reg.host_slot(a, 2).expect("second");
        assert!(reg.host_slot(a, 2).is_none());
        assert!(reg.host_slot(b, 2).is_some());
        drop(s1);
        assert!(reg.host_slot(a, 2).is_some());
    }
}
