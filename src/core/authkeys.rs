//! Lines of OpenSSH's authorized_keys format, read one way for every key list cotty keeps:
//! the relay's `--host-keys` and the guests' keys of a session (`-a`).
//!
//! A line is `[OPTIONS] TYPE BASE64 [COMMENT]`; blank lines and `#` comments are skipped. A
//! line that is not a key is reported with its number and skipped, so one typo does not shut
//! everyone out. Options are honoured where they mean something to cotty: `cotty-ro` (this
//! key joins read-only), and `restrict` and the `no-*-forwarding` family, which cotty's guests
//! are always held to anyway; and `from="PATTERNS"`, read by [`crate::core::addrmatch`] and
//! checked by the relay against the guest's address. A `from=` entry that is a host name never
//! matches (the relay looks up no names) and is warned about; a malformed range leaves the key
//! out, so a typo never lets it in from anywhere. Any other option is ignored with a warning.

use crate::core::addrmatch::AddrPatterns;
use russh::keys::ssh_key::authorized_keys::{ConfigOpts, Entry};
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
    /// `from="…"`: the client addresses the key may be used from; `None` for anywhere.
    pub from: Option<AddrPatterns>,
    /// The line's number, from 1, for messages.
    pub line: usize,
}

impl AuthKey {
    /// The key's line as cotty sends it on: only the options it honours, then the key and
    /// its comment. A relay too old to check `from=` leaves such a line out, so the key never
    /// gets in from anywhere there.
    pub fn to_line(&self) -> String {
        let mut key = self.key.clone();
        key.set_comment(self.comment.as_str());
        let text = key
            .to_openssh()
            .unwrap_or_else(|_| format!("{} {}", self.key.algorithm(), fingerprint(&self.key)));
        let mut opts = Vec::new();
        if self.read_only {
            opts.push(READ_ONLY_OPTION.to_string());
        }
        if let Some(from) = &self.from {
            opts.push(format!("from=\"{}\"", from.as_str()));
        }
        match opts.is_empty() {
            true => text,
            false => format!("{} {text}", opts.join(",")),
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
    let (opts, mut key) = match read_entry(line) {
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
    let mut from = None;
    for opt in opts.iter() {
        let name = opt.split('=').next().unwrap_or(opt).to_ascii_lowercase();
        if name == READ_ONLY_OPTION {
            read_only = true;
        } else if name == "from" {
            match read_from(opt, from.is_some()) {
                Ok(patterns) => {
                    for host in patterns.host_names() {
                        problem(
                            format!(
                                "from= entry `{host}` is a host name, which cotty cannot check \
                                 (the relay looks up no names), so it never matches; write \
                                 addresses or ranges such as 192.0.2.7 or 10.0.0.0/8"
                            ),
                            false,
                        );
                    }
                    from = Some(patterns);
                }
                Err(why) => return problem(why, true),
            }
        } else if !ALWAYS_HELD.contains(&name.as_str()) {
            problem(
                format!("option {opt} is not supported by cotty and is ignored"),
                false,
            );
        }
    }
    let comment = key.comment().as_str_lossy().trim().to_string();
    key.set_comment("");
    out.keys.push(AuthKey {
        key,
        comment,
        read_only,
        from,
        line: n,
    });
}

/// Reads `[OPTIONS] TYPE BASE64 [COMMENT]` into the options and the key. ssh-key takes a line
/// of two spaces or fewer for a bare key, so options before a key without a comment are
/// tried again here, split at the first space outside quotes.
fn read_entry(line: &str) -> Result<(Vec<String>, PublicKey), russh::keys::ssh_key::Error> {
    let first = match Entry::from_str(line) {
        Ok(e) => {
            let opts = e.config_opts().iter().map(str::to_string).collect();
            return Ok((opts, e.public_key().clone()));
        }
        Err(e) => e,
    };
    let mut quoted = false;
    let split = line.find(|c: char| {
        quoted ^= c == '"';
        c.is_ascii_whitespace() && !quoted
    });
    let Some((opts, key)) = split.map(|at| line.split_at(at)) else {
        return Err(first);
    };
    match (ConfigOpts::new(opts), PublicKey::from_str(key.trim())) {
        (Ok(opts), Ok(key)) => Ok((opts.iter().map(str::to_string).collect(), key)),
        _ => Err(first),
    }
}

/// Reads the option `from="PATTERNS"`; `Err` says why its key is left out. `again` is whether
/// the line had a `from=` already.
fn read_from(opt: &str, again: bool) -> Result<AddrPatterns, String> {
    if again {
        return Err(format!(
            "option {opt} is the line's second from=; write one list, as \
             from=\"10.0.0.0/8,192.0.2.7\", so that it is clear which addresses may use the key"
        ));
    }
    let value = opt.split_once('=').map_or("", |(_, v)| v);
    let Some(list) = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| !v.contains('"'))
    else {
        return Err(format!(
            "option {opt} is not a quoted list; write it as from=\"10.0.0.0/8,192.0.2.7\""
        ));
    };
    AddrPatterns::parse(list).map_err(|e| format!("option {opt}: {e}; the key is left out"))
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
            "restrict,cotty-ro {}\ncommand=\"ls\" {}\n",
            line(&key(1), "ro"),
            line(&key(2), "cmd"),
        );
        let p = parse(&text);
        let names: Vec<&str> = p.keys.iter().map(|k| k.comment.as_str()).collect();
        assert_eq!(names, ["ro", "cmd"]);
        assert!(p.keys[0].read_only && !p.keys[1].read_only);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert!(!p.problems[0].skipped && p.problems[0].line == 2);
        assert!(p.problems[0].text.contains("command=\"ls\""));
    }

    #[test]
    fn from_is_kept_with_its_key_and_host_names_are_warned_about() {
        let text = format!(
            "from=\"10.0.0.0/8,!10.1.2.3\" {}\nfrom=\"*.example.com,127.0.0.2\" {}\n",
            line(&key(1), "net"),
            line(&key(2), "named"),
        );
        let p = parse(&text);
        assert_eq!(p.keys.len(), 2, "{:?}", p.problems);
        let net = p.keys[0].from.as_ref().expect("a from= list");
        assert!(net.admits("10.9.9.9".parse().expect("address")));
        assert!(!net.admits("10.1.2.3".parse().expect("address")));
        assert!(p.keys[1].from.is_some());
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        let warn = &p.problems[0];
        assert!(!warn.skipped && warn.line == 2, "{warn}");
        assert!(warn.text.contains("*.example.com") && warn.text.contains("never matches"));
    }

    #[test]
    fn a_bad_from_leaves_its_key_out_naming_the_line() {
        let text = format!(
            "{}\nfrom=\"10.0.0.0/33\" {}\nfrom=10.0.0.1 {}\nfrom=\"::1\",from=\"*\" {}\n",
            line(&key(1), "ok"),
            line(&key(2), "cidr"),
            line(&key(3), "unquoted"),
            line(&key(4), "twice"),
        );
        let p = parse(&text);
        let names: Vec<&str> = p.keys.iter().map(|k| k.comment.as_str()).collect();
        assert_eq!(names, ["ok"]);
        let lines: Vec<(usize, bool)> = p.problems.iter().map(|p| (p.line, p.skipped)).collect();
        assert_eq!(lines, [(2, true), (3, true), (4, true)]);
        assert!(
            p.problems[0].to_string().contains("10.0.0.0/33"),
            "{}",
            p.problems[0]
        );
    }

    #[test]
    fn options_before_a_key_without_a_comment_are_read() {
        let bare = line(&key(5), "");
        for text in [
            format!("from=\"127.0.0.1\" {bare}"),
            format!("cotty-ro,from=\"127.0.0.1,::1\" {bare}"),
            format!("cotty-ro {bare}"),
        ] {
            let p = parse(&text);
            assert!(p.problems.is_empty(), "{text}: {:?}", p.problems);
            assert_eq!(p.keys.len(), 1, "{text}");
            assert_eq!(p.keys[0].key, key(5));
            assert_eq!(p.keys[0].comment, "");
        }
    }

    #[test]
    fn a_key_line_round_trips_with_its_options_and_comment() {
        for comment in ["bob (github)", ""] {
            let text = format!(
                "cotty-ro,from=\"10.0.0.0/8,!10.0.0.1\" {}\n",
                line(&key(4), comment)
            );
            let p = parse(&text);
            let again = parse(&p.keys[0].to_line());
            assert!(again.problems.is_empty(), "{:?}", again.problems);
            assert_eq!(again.keys[0].comment, comment);
            assert!(again.keys[0].read_only);
            assert_eq!(again.keys[0].from, p.keys[0].from);
            assert_eq!(again.keys[0].key, p.keys[0].key);
        }
        let plain = parse(&line(&key(4), "x"));
        assert_eq!(plain.keys[0].to_line(), line(&key(4), "x"));
    }
}
