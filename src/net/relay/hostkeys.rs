//! `--host-keys`: the public keys allowed to host sessions on the relay, in OpenSSH's
//! authorized_keys format.
//!
//! Each line is `TYPE BASE64 [COMMENT]`; blank lines and `#` comments are skipped. Lines with
//! options (`from="…"`, `restrict`, …) are refused rather than half-obeyed: the relay could
//! not honour them, and an operator who wrote `from=` expects it to hold.

use anyhow::{Context, Result, bail};
use russh::keys::ssh_key::authorized_keys::Entry;
use russh::keys::{HashAlg, PublicKey};
use std::path::{Path, PathBuf};
use std::str::FromStr;

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

    /// Parses the text of the file at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<HostKeys> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("line {} of the --host-keys file {}", n + 1, path.display());
            // Checked first so that a key the parser cannot read is not blamed on options.
            let entry = Entry::from_str(line).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not a public key ({e}); write it as `ssh-ed25519 AAAA… comment`, \
                     as in a .pub file",
                    at()
                )
            })?;
            if !entry.config_opts().is_empty() {
                bail!(
                    "{}: options ({}) are not supported; list the bare key, \
                     `TYPE KEY [COMMENT]`",
                    at(),
                    entry.config_opts().as_str()
                );
            }
            keys.push(entry.public_key().clone());
        }
        Ok(HostKeys {
            path: path.to_path_buf(),
            keys,
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

/// A key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::PrivateKey;
    use russh::keys::ssh_key::private::Ed25519Keypair;

    fn key(seed: u8) -> PublicKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
            .public_key()
            .clone()
    }

    fn line(k: &PublicKey, comment: &str) -> String {
        let mut k = k.clone();
        k.set_comment(comment);
        k.to_openssh().expect("encodes")
    }

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
