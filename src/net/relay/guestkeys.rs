//! A session's guest keys, as the relay keeps them (`cotty -a FILE`): the public keys that may
//! join, each with its name (the line's comment) and whether it is held read-only.
//!
//! The host sends the lines in its hello and again after `reload-keys`. They are untrusted
//! input here: read again by [`crate::core::authkeys`], capped in count and length, and kept
//! as public keys only. The room owns the list and publishes it on a watch channel, which the
//! registry hands to every lookup, so the ssh handler can check a key synchronously while the
//! client authenticates.

use crate::core::authkeys::{self, fingerprint};
use crate::net::relay::guest::short_fingerprint;
use crate::ui::guest_escape::clean_title;
use russh::keys::PublicKey;
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
                }
            })
            .collect();
        (GuestKeys { keys }, dropped)
    }

    /// The listed key with the same key data as `key`.
    pub fn find(&self, key: &PublicKey) -> Option<&GuestKey> {
        self.keys
            .iter()
            .find(|k| k.key.key_data() == key.key_data())
    }

    /// Who `key` is, if it is listed.
    pub fn identify(&self, key: &PublicKey) -> Option<KeyIdentity> {
        self.find(key).map(|k| KeyIdentity {
            name: k.name.clone(),
            fingerprint: fingerprint(&k.key),
            read_only: k.read_only,
        })
    }

    /// Whether the key with this fingerprint is (still) listed.
    pub fn lists_fingerprint(&self, fp: &str) -> bool {
        self.keys.iter().any(|k| fingerprint(&k.key) == fp)
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

/// What a guest whose keys are all unlisted is told, naming the keys it offered.
pub fn refusal(offered: &[String]) -> String {
    match offered {
        [] => format!(
            "{ONLY_LISTED_KEYS} and you offered no key; log in with `ssh -i KEY` using a key \
             the host listed"
        ),
        [one] => format!("{ONLY_LISTED_KEYS}; your key {one} is not one of them"),
        many => format!(
            "{ONLY_LISTED_KEYS}; your keys {} are not among them",
            many.join(", ")
        ),
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
        let alice = keys.identify(&key(1)).expect("listed");
        assert_eq!((alice.name.as_str(), alice.read_only), ("alice", false));
        let bob = keys.identify(&key(2)).expect("listed");
        assert_eq!(
            bob.name, "bob[31m (github)",
            "no escape reaches the dashboard"
        );
        assert!(bob.read_only);
        assert!(
            keys.identify(&key(3))
                .expect("listed")
                .name
                .starts_with("SHA256:")
        );
        assert!(keys.find(&key(4)).is_none());
        assert!(keys.lists_fingerprint(&fingerprint(&key(1))));
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
    fn the_refusal_names_the_offered_keys() {
        assert!(refusal(&[]).contains("offered no key"));
        assert_eq!(
            refusal(&["SHA256:abc".into()]),
            "this session only admits listed keys; your key SHA256:abc is not one of them"
        );
        assert!(refusal(&["SHA256:a".into(), "SHA256:b".into()]).contains("SHA256:a, SHA256:b"));
    }
}
