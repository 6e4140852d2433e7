//! Lines of OpenSSH's authorized_keys format, read one way for every key list cotty keeps:
//! the relay's `--host-keys` and the guests' keys of a session (`-a`).
//!
//! A line is `[OPTIONS] TYPE BASE64 [COMMENT]`; blank lines and `#` comments are skipped. A
//! line that is not a key is reported with its number and skipped, so one typo does not shut
//! everyone out. Options are honoured where they mean something to cotty: `cotty-ro` (this
//! key joins read-only), and `restrict` and the `no-*-forwarding` family, which cotty's guests
//! are always held to anyway. `from="…"` cannot be checked here, so its key is skipped rather
//! than let in from anywhere; any other option is ignored with a warning.

use russh::keys::ssh_key::authorized_keys::Entry;
use russh::keys::{HashAlg, PublicKey};
use std::str::FromStr;

/// The option that makes a key join read-only whichever link it uses.
pub const READ_ONLY_OPTION: &str = "cotty-ro";

/// Options every cotty guest is held to already, so listing them changes nothing.
const ALWAYS_HELD: &[&str] = &[
    "restrict",
    "no-port-forwarding",
    "no-agent-forwarding",
    "no-x11-forwarding",
    "no-user-rc",
];

/// One listed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthKey {
    /// The public key; its comment is cleared, so keys compare by their key data.
    pub key: PublicKey,
    /// The line's comment, trimmed: the guest's name in the host's lists. May be empty.
    pub comment: String,
    /// `cotty-ro`: the key joins read-only even with the read-write link.
    pub read_only: bool,
    /// The line's number, from 1, for messages.
    pub line: usize,
}

impl AuthKey {
    /// The key's line as cotty sends it on: only the options it honours, then the key and
    /// its comment.
    pub fn to_line(&self) -> String {
        let mut key = self.key.clone();
        key.set_comment(self.comment.as_str());
        let text = key
            .to_openssh()
            .unwrap_or_else(|_| format!("{} {}", self.key.algorithm(), fingerprint(&self.key)));
        match self.read_only {
            true => format!("{READ_ONLY_OPTION} {text}"),
            false => text,
        }
    }

    /// The key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

/// What was wrong with a line, and whether its key was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line's number, from 1.
    pub line: usize,
    /// What is wrong and what to do, without the line number.
    pub text: String,
    /// Whether the line's key was left out.
    pub skipped: bool,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.text)
    }
}

/// A file's keys and what was wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The keys, in file order.
    pub keys: Vec<AuthKey>,
    /// Bad lines (skipped) and ignored options (key kept), in file order.
    pub problems: Vec<Problem>,
}

/// Reads every line of `text`.
pub fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (n, line) in text.lines().enumerate() {
        parse_line(n + 1, line, &mut out);
    }
    out
}

/// Reads line number `n` into `out`.
pub fn parse_line(n: usize, line: &str, out: &mut Parsed) {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return;
    }
    let mut problem = |text: String, skipped: bool| {
        out.problems.push(Problem {
            line: n,
            text,
            skipped,
        })
    };
    let entry = match Entry::from_str(line) {
        Ok(entry) => entry,
        Err(e) => {
            return problem(
                format!(
                    "not a public key ({e}); write it as `ssh-ed25519 AAAA… comment`, as in a \
                     .pub file"
                ),
                true,
            );
        }
    };
    let mut read_only = false;
    for opt in entry.config_opts().iter() {
        let name = opt.split('=').next().unwrap_or(opt).to_ascii_lowercase();
        if name == READ_ONLY_OPTION {
            read_only = true;
        } else if name == "from" {
            return problem(
                format!(
                    "option {opt} is not supported: cotty cannot check where a guest comes \
                     from, and will not let the key in from anywhere; list it without"
                ),
                true,
            );
        } else if !ALWAYS_HELD.contains(&name.as_str()) {
            problem(
                format!("option {opt} is not supported by cotty and is ignored"),
                false,
            );
        }
    }
    let mut key = entry.public_key().clone();
    let comment = key.comment().as_str_lossy().trim().to_string();
    key.set_comment("");
    out.keys.push(AuthKey {
        key,
        comment,
        read_only,
        line: n,
    });
}

/// A key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Keys for unit tests of every key list.
#[cfg(test)]
pub mod testing {
    use russh::keys::ssh_key::private::Ed25519Keypair;
    use russh::keys::{PrivateKey, PublicKey};

    /// A fixed Ed25519 public key, one per seed.
    pub fn key(seed: u8) -> PublicKey {
        PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
            .public_key()
            .clone()
    }

    /// The authorized_keys line of `k` with `comment`.
    pub fn line(k: &PublicKey, comment: &str) -> String {
        let mut k = k.clone();
        k.set_comment(comment);
        k.to_openssh().expect("encodes")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{key, line};
    use super::*;

    #[test]
    fn comments_name_keys_and_compare_by_key_data() {
        let text = format!(
            "# guests\n\n{}\n  {}  \n",
            line(&key(1), "alice laptop"),
            line(&key(2), "")
        );
        let p = parse(&text);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.keys[0].comment, "alice laptop");
        assert_eq!(p.keys[0].line, 3);
        assert_eq!(p.keys[0].key.key_data(), key(1).key_data());
        assert_eq!(p.keys[1].comment, "");
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_and_skipped() {
        let text = format!(
            "{}\nssh-ed25519 notbase64!!\n{}\n",
            line(&key(1), "a"),
            line(&key(2), "b")
        );
        let p = parse(&text);
        assert_eq!(p.keys.len(), 2, "the good lines around it are kept");
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].skipped);
        assert!(
            p.problems[0].to_string().starts_with("line 2: "),
            "{}",
            p.problems[0]
        );
    }

    #[test]
    fn cotty_ro_and_restrict_are_honoured_and_others_warned_about() {
        let text = format!(
            "restrict,cotty-ro {}\ncommand=\"ls\" {}\nfrom=\"10.0.0.1\" {}\n",
            line(&key(1), "ro"),
            line(&key(2), "cmd"),
            line(&key(3), "from")
        );
        let p = parse(&text);
        let names: Vec<&str> = p.keys.iter().map(|k| k.comment.as_str()).collect();
        assert_eq!(names, ["ro", "cmd"], "from= keys are skipped");
        assert!(p.keys[0].read_only && !p.keys[1].read_only);
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
        assert!(!p.problems[0].skipped && p.problems[0].line == 2);
        assert!(p.problems[0].text.contains("command=\"ls\""));
        assert!(p.problems[1].skipped && p.problems[1].line == 3);
    }

    #[test]
    fn a_key_line_round_trips_with_its_option_and_comment() {
        let p = parse(&format!("cotty-ro {}\n", line(&key(4), "bob (github)")));
        let again = parse(&p.keys[0].to_line());
        assert_eq!(again.keys[0].comment, "bob (github)");
        assert!(again.keys[0].read_only);
        assert_eq!(again.keys[0].key, p.keys[0].key);
    }
}
