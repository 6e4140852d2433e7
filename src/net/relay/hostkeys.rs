//! `--host-keys`: the public keys allowed to host sessions on the relay, in OpenSSH's
//! authorized_keys format.
//!
//! The lines are read by [`crate::core::authkeys`]. A bad line, an unsupported option, or a
//! `from="…"` entry that cannot hold (malformed, or a host name, which the relay does not
//! look up) refuses the whole file rather than half-obeying it. `from=` holds as for guests' keys: a
//! host may use the key only from an address the list admits ([`crate::core::addrmatch`]).

use crate::core::addrmatch::{AddrPatterns, from_admits};
use crate::core::authkeys;
pub use crate::core::authkeys::fingerprint;
use crate::net::relay::guestkeys::KeyRefused;
use anyhow::{Context, Result, bail};
use russh::keys::PublicKey;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The keys that may host, and the file they came from for messages.
#[derive(Debug, Clone)]
pub struct HostKeys {
    /// The file, named when a key is refused so the operator knows where to add it.
    path: PathBuf,
    /// The listed keys, each with the addresses it may be used from (`None`: anywhere);
    /// comments are ignored when comparing.
    keys: Vec<(PublicKey, Option<AddrPatterns>)>,
}

impl HostKeys {
    /// Reads and checks `path`. An error names the file, and the line when one is bad.
    pub fn load(path: &Path) -> Result<HostKeys> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "failed to read the --host-keys file {}; it lists the public keys that may host, \
                 one per line as in authorized_keys",
                path.display()
            )
        })?;
        HostKeys::parse(path, &text)
    }

    /// Parses the text of the file at `path`. Unlike a session's guest keys, a host key
    /// file with any bad line or unsupported option is refused as a whole: the operator is
    /// there to fix it, and a relay that lets the wrong hosts in is worse than one that stops.
    pub fn parse(path: &Path, text: &str) -> Result<HostKeys> {
        let parsed = authkeys::parse(text);
        if let Some(p) = parsed.problems.first() {
            bail!(
                "line {} of the --host-keys file {}: {}",
                p.line,
                path.display(),
                p.text
            );
        }
        Ok(HostKeys {
            path: path.to_path_buf(),
            keys: parsed.keys.into_iter().map(|k| (k.key, k.from)).collect(),
        })
    }

    /// Whether `key` may host from `peer` (`None` when the address is unknown, which no
    /// `from=` list admits), or why not. A key listed twice gets in through either line.
    pub fn check(&self, key: &PublicKey, peer: Option<IpAddr>) -> Result<(), KeyRefused> {
        let mut listed = false;
        for (_, from) in self
            .keys
            .iter()
            .filter(|(k, _)| k.key_data() == key.key_data())
        {
            if from_admits(from.as_ref(), peer) {
                return Ok(());
            }
            listed = true;
        }
        Err(match listed {
            true => KeyRefused::NotFromHere,
            false => KeyRefused::Unlisted,
        })
    }

    /// The file the keys came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many keys are listed.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is listed, so no host can register.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::authkeys::testing::{key, line};

    #[test]
    fn listed_keys_are_allowed_whatever_their_comment() {
        let (a, b) = (key(1), key(2));
        let text = format!(
            "# hosts\n\n{}\n  {}  \n",
            line(&a, "alice@laptop"),
            line(&key(3), "")
        );
        let keys = HostKeys::parse(Path::new("hosts"), &text).expect("parses");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.check(&a, None), Ok(()), "comments do not matter");
        assert_eq!(keys.check(&b, None), Err(KeyRefused::Unlisted));
    }

    #[test]
    fn a_bad_line_names_the_file_and_the_line() {
        let text = format!("{}\nssh-ed25519 notbase64!!\n", line(&key(1), "a"));
        let err = HostKeys::parse(Path::new("/etc/cotty/hosts"), &text).expect_err("bad");
        let text = err.to_string();
        assert!(
            text.contains("line 2") && text.contains("/etc/cotty/hosts"),
            "{text}"
        );
    }

    #[test]
    fn a_key_with_from_hosts_only_from_the_addresses_it_names() {
        let (a, b) = (key(1), key(2));
        let text = format!(
            "from=\"10.0.0.0/8,!10.0.0.1\" {}\nfrom=\"192.0.2.7\" {}\n{}\n",
            line(&a, "a"),
            line(&b, "b at work"),
            line(&b, "b anywhere")
        );
        let keys = HostKeys::parse(Path::new("hosts"), &text).expect("parses");
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(keys.check(&a, ip("10.1.2.3")), Ok(()));
        assert_eq!(keys.check(&a, ip("::ffff:10.1.2.3")), Ok(()));
        assert_eq!(keys.check(&a, ip("10.0.0.1")), Err(KeyRefused::NotFromHere));
        assert_eq!(
            keys.check(&a, ip("192.0.2.7")),
            Err(KeyRefused::NotFromHere)
        );
        assert_eq!(keys.check(&a, None), Err(KeyRefused::NotFromHere));
        // A key listed twice gets in through either line.
        assert_eq!(keys.check(&b, ip("203.0.113.9")), Ok(()));
    }

    #[test]
    fn a_from_that_cannot_hold_refuses_the_file() {
        for from in ["10.0.0.0/33", "10.0.0.1,build.example.org"] {
            let text = format!("from=\"{from}\" {}\n", line(&key(1), "a"));
            let err = HostKeys::parse(Path::new("hosts"), &text).expect_err(from);
            let text = err.to_string();
            assert!(text.contains("line 1") && text.contains("hosts"), "{text}");
        }
    }

    #[test]
    fn an_empty_file_lists_no_keys() {
        let keys = HostKeys::parse(Path::new("hosts"), "# nobody yet\n").expect("parses");
        assert!(keys.is_empty());
    }

    #[test]
    fn fingerprints_look_like_ssh_keygen() {
        assert!(fingerprint(&key(1)).starts_with("SHA256:"));
    }
}
