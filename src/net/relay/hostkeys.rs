//! `--host-keys`: the public keys allowed to host sessions on the relay, in OpenSSH's
//! authorized_keys format.
//!
//! The lines are read by [`crate::core::authkeys`]. A bad line or an option the relay cannot
//! honour (`command=`, and `from="…"`, which it checks for guests' keys only) refuses the
//! whole file rather than half-obeying it: an operator who wrote `from=` expects it to hold.

use crate::core::authkeys;
pub use crate::core::authkeys::fingerprint;
use anyhow::{Context, Result, bail};
use russh::keys::PublicKey;
use std::path::{Path, PathBuf};

/// The keys that may host, and the file they came from for messages.
#[derive(Debug, Clone)]
pub struct HostKeys {
    /// The file, named when a key is refused so the operator knows where to add it.
    path: PathBuf,
    /// The listed keys; comments are ignored when comparing.
    keys: Vec<PublicKey>,
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
        if let Some(k) = parsed.keys.iter().find(|k| k.from.is_some()) {
            bail!(
                "line {} of the --host-keys file {}: option from= is not supported for hosts \
                 (the relay checks it on guests' keys only) and would not hold; list the key \
                 without it",
                k.line,
                path.display()
            );
        }
        Ok(HostKeys {
            path: path.to_path_buf(),
            keys: parsed.keys.into_iter().map(|k| k.key).collect(),
        })
    }

    /// Whether `key` is listed.
    pub fn allows(&self, key: &PublicKey) -> bool {
        self.keys.iter().any(|k| k.key_data() == key.key_data())
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
        assert!(keys.allows(&a), "comments do not matter");
        assert!(!keys.allows(&b));
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
    fn options_are_refused_rather_than_ignored() {
        let text = format!("from=\"10.0.0.1\" {}\n", line(&key(1), "a"));
        let err = HostKeys::parse(Path::new("hosts"), &text).expect_err("options");
        let text = err.to_string();
        assert!(
            text.contains("line 1") && text.contains("from=") && text.contains("not supported"),
            "{text}"
        );
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
