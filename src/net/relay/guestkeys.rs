//! A session's guest keys, as the relay keeps them (`cotty -a FILE`): the public keys that may
//! join, each with its name (the line's comment) and whether it is held read-only.
//!
//! The host sends the lines in its hello and again after `reload-keys`. They are untrusted
//! input here: read again by [`crate::core::authkeys`], capped in count and length, and kept
//! as public keys only. The room owns the list and publishes it on a watch channel, which the
//! registry hands to every lookup, so the ssh handler can check a key synchronously while the
//! client authenticates.
//!
//! A key may carry `from="…"` ([`crate::core::addrmatch`]): it is then admitted only when the
//! ssh client that proves it connects from a matching address. A web page let in by
//! `approve-web` is held to the address of the ssh client that ran the command.

use crate::core::addrmatch::{AddrPatterns, from_admits};
use crate::core::authkeys::{self, fingerprint};
use crate::net::relay::guest::short_fingerprint;
use crate::ui::guest_escape::clean_title;
use russh::keys::PublicKey;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// The most keys a session may list; lines past it are dropped.
pub const MAX_KEYS: usize = 1000;
/// The longest line kept; an RSA 16384-bit key is about 2.8 KB.
pub const MAX_LINE: usize = 8192;
/// The most characters of a key's comment kept as the guest's name.
const MAX_NAME: usize = 40;

/// What a refused guest is told; the fingerprints of the keys it offered follow.
pub const ONLY_LISTED_KEYS: &str = "this session only admits listed keys";

/// One key that may join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestKey {
    /// The public key, without comment.
    pub key: PublicKey,
    /// Who the guest is, for the host's lists: the line's comment made printable, or the
    /// key's short fingerprint when the line has none.
    pub name: String,
    /// `cotty-ro`: joins read-only whichever link it uses.
    pub read_only: bool,
    /// `from="…"`: the addresses the key may be proved from; `None` for anywhere.
    pub from: Option<AddrPatterns>,
}

impl GuestKey {
    /// Whether a client at `peer` may use this key. With `from=`, an unknown address never
    /// may.
    pub fn admits(&self, peer: Option<IpAddr>) -> bool {
        from_admits(self.from.as_ref(), peer)
    }
}

/// Why a key does not let its guest in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefused {
    /// The session does not list the key.
    Unlisted,
    /// The key is listed, but its `from=` does not match the client's address.
    NotFromHere,
}

/// The keys of a key-only session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestKeys {
    /// The keys, in the host's order.
    keys: Vec<GuestKey>,
}

/// Who a guest proved to be with a listed key; travels with it to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    /// The key's name ([`GuestKey::name`]).
    pub name: String,
    /// The key's SHA256 fingerprint.
    pub fingerprint: String,
    /// Whether the key joins read-only.
    pub read_only: bool,
    /// The address of the ssh client that proved the key, checked against the key's `from=`
    /// again when the guest joins: a web page's own address is not the one that counts.
    pub proved_from: Option<IpAddr>,
}

/// A session's key list as published by its room: `None` for a session anyone with the link
/// may join.
pub type KeysWatch = watch::Receiver<Option<Arc<GuestKeys>>>;

/// The watch of a session that sets no keys, for rooms made without a list.
pub fn open_session() -> KeysWatch {
    watch::channel(None).1
}

impl GuestKeys {
    /// Reads the host's lines, keeping at most [`MAX_KEYS`] keys of lines up to
    /// [`MAX_LINE`] bytes. Returns the keys and how many lines were dropped or unreadable.
    pub fn from_lines(lines: &[String]) -> (GuestKeys, usize) {
        let mut parsed = authkeys::Parsed::default();
        let mut dropped = lines.len().saturating_sub(MAX_KEYS);
        for (n, line) in lines.iter().take(MAX_KEYS).enumerate() {
            if line.len() > MAX_LINE {
                dropped += 1;
                continue;
            }
            authkeys::parse_line(n + 1, line, &mut parsed);
        }
        dropped += parsed.problems.iter().filter(|p| p.skipped).count();
        let keys = parsed
            .keys
            .into_iter()
            .map(|k| {
                let clean: String = clean_title(&k.comment).chars().take(MAX_NAME).collect();
                let name = match clean.trim() {
                    "" => short_fingerprint(&fingerprint(&k.key)),
                    t => t.to_string(),
                };
                GuestKey {
                    key: k.key,
                    name,
                    read_only: k.read_only,
                    from: k.from,
                }
            })
            .collect();
        (GuestKeys { keys }, dropped)
    }

    /// The listed entry for `key` that a client at `peer` may use. A key listed twice (say,
    /// in the file with `from=` and again by a forge without) is let in by either entry.
    pub fn find(&self, key: &PublicKey, peer: Option<IpAddr>) -> Result<&GuestKey, KeyRefused> {
        self.check(|k| k.key.key_data() == key.key_data(), peer)
    }

    /// Who `key`, proved by a client at `peer`, is, if it is listed for that address.
    pub fn identify(
        &self,
        key: &PublicKey,
        peer: Option<IpAddr>,
    ) -> Result<KeyIdentity, KeyRefused> {
        self.find(key, peer).map(|k| KeyIdentity {
            name: k.name.clone(),
            fingerprint: fingerprint(&k.key),
            read_only: k.read_only,
            proved_from: peer,
        })
    }

    /// Who the key with fingerprint `fp`, proved from `peer`, is now, if it is still listed
    /// for that address: a web page coming back with its ticket gets the current name and
    /// access, not those of when it was let in.
    pub fn identify_fingerprint(
        &self,
        fp: &str,
        peer: Option<IpAddr>,
    ) -> Result<KeyIdentity, KeyRefused> {
        self.check(|k| fingerprint(&k.key) == fp, peer)
            .map(|k| KeyIdentity {
                name: k.name.clone(),
                fingerprint: fp.to_string(),
                read_only: k.read_only,
                proved_from: peer,
            })
    }

    /// Whether the key with this fingerprint is (still) listed for a client at `peer`.
    pub fn admits_fingerprint(&self, fp: &str, peer: Option<IpAddr>) -> Result<(), KeyRefused> {
        self.check(|k| fingerprint(&k.key) == fp, peer).map(|_| ())
    }

    /// The first entry that is `wanted` and admits `peer`, else why none does.
    fn check(
        &self,
        wanted: impl Fn(&GuestKey) -> bool,
        peer: Option<IpAddr>,
    ) -> Result<&GuestKey, KeyRefused> {
        let mut listed = false;
        for k in self.keys.iter().filter(|k| wanted(k)) {
            if k.admits(peer) {
                return Ok(k);
            }
            listed = true;
        }
        Err(match listed {
            true => KeyRefused::NotFromHere,
            false => KeyRefused::Unlisted,
        })
    }

    /// How many keys are listed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is listed, so nobody can join.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// What a guest none of whose keys let it in is told: the keys it offered that are not
/// listed (`unlisted`), and those listed but not for its address `peer` (`elsewhere`).
pub fn refusal(unlisted: &[String], elsewhere: &[String], peer: Option<IpAddr>) -> String {
    let peer = match peer {
        Some(p) => p.to_canonical().to_string(),
        None => "an unknown address".to_string(),
    };
    let not_listed = about_keys(unlisted, "is not one of them", "are not among them");
    let not_here = about_keys(
        elsewhere,
        &format!("is listed, but not for connections from {peer}"),
        &format!("are listed, but not for connections from {peer}"),
    );
    match (not_listed, not_here) {
        (None, None) => format!(
            "{ONLY_LISTED_KEYS} and you offered no key; log in with `ssh -i KEY` using a key \
             the host listed"
        ),
        (Some(a), None) | (None, Some(a)) => format!("{ONLY_LISTED_KEYS}; {a}"),
        (Some(a), Some(b)) => format!("{ONLY_LISTED_KEYS}; {a}, and {b}"),
    }
}

/// "your key K {one}" or "your keys K, L {many}"; `None` for no key.
fn about_keys(keys: &[String], one: &str, many: &str) -> Option<String> {
    match keys {
        [] => None,
        [key] => Some(format!("your key {key} {one}")),
        keys => Some(format!("your keys {} {many}", keys.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::authkeys::testing::{key, line};

    #[test]
    fn listed_keys_are_found_with_their_names_and_access() {
        let lines = vec![
            line(&key(1), "alice"),
            format!("cotty-ro {}", line(&key(2), "bob\x1b[31m (github)")),
            line(&key(3), ""),
        ];
        let (keys, dropped) = GuestKeys::from_lines(&lines);
        assert_eq!((keys.len(), dropped), (3, 0));
        let alice = keys.identify(&key(1), None).expect("listed");
        assert_eq!((alice.name.as_str(), alice.read_only), ("alice", false));
        let bob = keys.identify(&key(2), None).expect("listed");
        assert_eq!(
            bob.name, "bob[31m (github)",
            "no escape reaches the dashboard"
        );
        assert!(bob.read_only);
        assert!(
            keys.identify(&key(3), None)
                .expect("listed")
                .name
                .starts_with("SHA256:")
        );
        assert_eq!(keys.find(&key(4), None), Err(KeyRefused::Unlisted));
        assert_eq!(keys.admits_fingerprint(&fingerprint(&key(1)), None), Ok(()));
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("an address"))
    }

    #[test]
    fn a_from_key_is_admitted_only_from_its_addresses() {
        let lines = vec![
            format!("from=\"127.0.0.2\" {}", line(&key(1), "alice")),
            format!("from=\"10.0.0.0/8,!10.0.0.1\" {}", line(&key(2), "")),
            format!("from=\"*.example.com\" {}", line(&key(3), "named")),
        ];
        let (keys, dropped) = GuestKeys::from_lines(&lines);
        assert_eq!((keys.len(), dropped), (3, 0));
        let alice = keys.identify(&key(1), ip("127.0.0.2")).expect("from .2");
        assert_eq!(alice.proved_from, ip("127.0.0.2"));
        assert!(keys.identify(&key(1), ip("::ffff:127.0.0.2")).is_ok());
        let not_here: Result<(), KeyRefused> = Err(KeyRefused::NotFromHere);
        assert_eq!(
            keys.identify(&key(1), ip("127.0.0.1")).map(|_| ()),
            not_here
        );
        assert_eq!(
            keys.identify(&key(1), None).map(|_| ()),
            not_here,
            "an unknown address is refused"
        );
        assert!(keys.find(&key(2), ip("10.2.3.4")).is_ok());
        assert_eq!(keys.find(&key(2), ip("10.0.0.1")).map(|_| ()), not_here);
        assert_eq!(keys.find(&key(3), ip("127.0.0.1")).map(|_| ()), not_here);
        let fp = fingerprint(&key(1));
        assert_eq!(keys.admits_fingerprint(&fp, ip("127.0.0.2")), Ok(()));
        assert_eq!(keys.admits_fingerprint(&fp, ip("127.0.0.1")), not_here);
        assert_eq!(
            keys.admits_fingerprint(&fingerprint(&key(9)), ip("127.0.0.2")),
            Err(KeyRefused::Unlisted)
        );
    }

    #[test]
    fn a_key_listed_twice_gets_in_by_either_entry() {
        let lines = vec![
            format!("from=\"127.0.0.2\" {}", line(&key(1), "file")),
            line(&key(1), "alice (github)"),
        ];
        let (keys, _) = GuestKeys::from_lines(&lines);
        let id = keys
            .identify(&key(1), ip("127.0.0.1"))
            .expect("the forge's entry");
        assert_eq!(id.name, "alice (github)");
        assert_eq!(
            keys.identify(&key(1), ip("127.0.0.2")).expect("file").name,
            "file"
        );
    }

    #[test]
    fn a_from_key_with_a_bad_range_is_dropped() {
        let lines = vec![format!("from=\"10.0.0.0/40\" {}", line(&key(1), "a"))];
        let (keys, dropped) = GuestKeys::from_lines(&lines);
        assert_eq!((keys.len(), dropped), (0, 1));
    }

    #[test]
    fn too_many_or_too_long_lines_are_dropped() {
        let mut lines: Vec<String> = (0..MAX_KEYS + 5).map(|_| line(&key(1), "x")).collect();
        lines[0] = format!("{} {}", line(&key(1), ""), "x".repeat(MAX_LINE));
        let (keys, dropped) = GuestKeys::from_lines(&lines);
        assert_eq!(keys.len(), MAX_KEYS - 1);
        assert_eq!(dropped, 6);
    }

    #[test]
    fn the_refusal_names_the_offered_keys_and_the_address() {
        assert!(refusal(&[], &[], None).contains("offered no key"));
        assert_eq!(
            refusal(&["SHA256:abc".into()], &[], None),
            "this session only admits listed keys; your key SHA256:abc is not one of them"
        );
        let two = refusal(&["SHA256:a".into(), "SHA256:b".into()], &[], None);
        assert!(two.contains("SHA256:a, SHA256:b"), "{two}");
        assert_eq!(
            refusal(&[], &["SHA256:abc".into()], ip("::ffff:127.0.0.1")),
            "this session only admits listed keys; your key SHA256:abc is listed, but not for \
             connections from 127.0.0.1"
        );
        assert_eq!(
            refusal(&["SHA256:a".into()], &["SHA256:b".into()], ip("::1")),
            "this session only admits listed keys; your key SHA256:a is not one of them, and \
             your key SHA256:b is listed, but not for connections from ::1"
        );
    }
}
