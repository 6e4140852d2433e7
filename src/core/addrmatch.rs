//! `from="pattern-list"` of OpenSSH's authorized_keys: the client addresses a key may be used
//! from, matched as sshd matches them (see PATTERNS in `ssh_config(5)`).
//!
//! A list is comma-separated. Each entry is an address (`10.1.2.3`, `::1`), a CIDR range
//! (`10.0.0.0/8`, `fd00::/8`) or a wildcard over an address's text (`10.1.*`, `192.168.0.?`),
//! and may be negated with `!`. A peer matches when some entry matches it and no negated one
//! does: a negated match refuses even if another entry lets the address in.
//!
//! sshd also matches host names, through reverse DNS. The relay looks up no names, so an
//! entry that is neither an address, nor a range, nor a wildcard over address characters
//! never matches; [`AddrPatterns::host_names`] lists them for a warning. A malformed range
//! is an error: the caller refuses the whole key rather than guess what was meant.
//!
//! Peers are compared in their canonical form: an IPv4-mapped IPv6 peer (`::ffff:127.0.0.1`,
//! as a dual-stack listener reports IPv4 clients) is the IPv4 address `127.0.0.1`.

use std::net::IpAddr;

/// Why a pattern list cannot be used; the key that carries it must be refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// An entry with a `/` that is not `ADDRESS/BITS`.
    #[error(
        "`{0}` is not an address range: write it as ADDRESS/BITS, with the address in full \
         and BITS at most 32 for IPv4 or 128 for IPv6, such as 10.0.0.0/8 or fd00::/8"
    )]
    BadCidr(String),
}

/// What one entry of the list compares with the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    /// One address, canonical, so `::ffff:10.0.0.1` and `10.0.0.1` are the same.
    Addr(IpAddr),
    /// A range: the network address (host bits cleared) and its prefix length.
    Cidr(IpAddr, u8),
    /// A `*`/`?` pattern over the peer's address as text, lower case.
    Wildcard(String),
    /// A host name (or anything else that is not an address): it never matches.
    HostName(String),
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Whether the entry was written `!PATTERN`: a peer it matches is refused outright.
    negated: bool,
    /// What it compares.
    matcher: Matcher,
}

/// A parsed `from=` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrPatterns {
    /// The list as written, without quotes: sent on to the relay and shown in messages.
    text: String,
    /// The entries, in the order written; empty entries are left out.
    entries: Vec<Entry>,
}

/// Whether a key whose `from=` is `from` (`None`: no list, anywhere) may be used by a client
/// at `peer`. With a list, an unknown address never may.
pub fn from_admits(from: Option<&AddrPatterns>, peer: Option<IpAddr>) -> bool {
    match from {
        None => true,
        Some(list) => peer.is_some_and(|ip| list.admits(ip)),
    }
}

impl AddrPatterns {
    /// Reads a pattern list (the value of `from=`, without its quotes).
    pub fn parse(list: &str) -> Result<AddrPatterns, PatternError> {
        let mut entries = Vec::new();
        for raw in list.split(',').map(str::trim) {
            let (negated, pattern) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, raw),
            };
            if pattern.is_empty() {
                continue;
            }
            entries.push(Entry {
                negated,
                matcher: Matcher::parse(pattern)?,
            });
        }
        Ok(AddrPatterns {
            text: list.to_string(),
            entries,
        })
    }

    /// Whether a client at `peer` may use the key: some entry matches it and no negated
    /// entry does.
    pub fn admits(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        let text = peer.to_string();
        let mut matched = false;
        for e in &self.entries {
            if e.matcher.matches(peer, &text) {
                if e.negated {
                    return false;
                }
                matched = true;
            }
        }
        matched
    }

    /// The entries that are host names, which never match, as written (without `!`).
    pub fn host_names(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|e| match &e.matcher {
                Matcher::HostName(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The list as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Matcher {
    /// Reads one entry, without its `!`.
    fn parse(pattern: &str) -> Result<Matcher, PatternError> {
        if let Some((addr, bits)) = pattern.split_once('/') {
            return parse_cidr(addr, bits).ok_or_else(|| PatternError::BadCidr(pattern.into()));
        }
        if let Ok(addr) = pattern.parse::<IpAddr>() {
            return Ok(Matcher::Addr(addr.to_canonical()));
        }
        let wild = pattern.contains(['*', '?']);
        let address_chars = pattern
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '*' | '?'));
        Ok(match wild && address_chars {
            true => Matcher::Wildcard(pattern.to_ascii_lowercase()),
            false => Matcher::HostName(pattern.to_string()),
        })
    }

    /// Whether this entry matches `peer` (canonical), whose text is `text`.
    fn matches(&self, peer: IpAddr, text: &str) -> bool {
        match self {
            Matcher::Addr(addr) => *addr == peer,
            Matcher::Cidr(net, bits) => in_range(peer, *net, *bits),
            Matcher::Wildcard(pattern) => wildcard(pattern.as_bytes(), text.as_bytes()),
            Matcher::HostName(_) => false,
        }
    }
}

/// `ADDRESS/BITS`, or `None` when either half is not what it should be.
fn parse_cidr(addr: &str, bits: &str) -> Option<Matcher> {
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let addr: IpAddr = addr.parse().ok()?;
    let net = match addr {
        IpAddr::V4(a) if bits <= 32 => IpAddr::V4((u32::from(a) & mask32(bits)).into()),
        IpAddr::V6(a) if bits <= 128 => IpAddr::V6((u128::from(a) & mask128(bits)).into()),
        _ => return None,
    };
    // A range within ::ffff:0:0/96 holds IPv4-mapped addresses only: it is an IPv4 range,
    // as the peers it is compared with are canonical.
    Some(match net {
        IpAddr::V6(n) if bits >= 96 && n.to_ipv4_mapped().is_some() => {
            Matcher::Cidr(net.to_canonical(), bits - 96)
        }
        _ => Matcher::Cidr(net, bits),
    })
}

/// Whether `peer` (canonical) lies in `net/bits`; an IPv4 peer is never in an IPv6 range.
fn in_range(peer: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (peer, net) {
        (IpAddr::V4(p), IpAddr::V4(n)) => u32::from(p) & mask32(bits) == u32::from(n),
        (IpAddr::V6(p), IpAddr::V6(n)) => u128::from(p) & mask128(bits) == u128::from(n),
        _ => false,
    }
}

/// The IPv4 netmask of `bits` leading ones (at most 32).
fn mask32(bits: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0)
}

/// The IPv6 netmask of `bits` leading ones (at most 128).
fn mask128(bits: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0)
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters and `?` for
/// one. Backtracks only to the last `*`, so it takes at most len(pattern) × len(text) steps.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // The last `*` seen, and the text position it has been tried to swallow up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits(list: &str, peer: &str) -> bool {
        let patterns = AddrPatterns::parse(list).expect("parses");
        patterns.admits(peer.parse().expect("an address"))
    }

    #[test]
    fn ipv4_addresses_match_exactly() {
        assert!(admits("127.0.0.2", "127.0.0.2"));
        assert!(!admits("127.0.0.2", "127.0.0.1"));
        assert!(admits("10.0.0.1, 127.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn ipv6_addresses_match_in_any_spelling() {
        assert!(admits("::1", "::1"));
        assert!(admits("2001:DB8:0:0::1", "2001:db8::1"));
        assert!(!admits("::1", "::2"));
        assert!(!admits("::1", "127.0.0.1"));
    }

    #[test]
    fn an_ipv4_mapped_peer_is_its_ipv4_address() {
        assert!(admits("127.0.0.1", "::ffff:127.0.0.1"));
        assert!(admits("127.0.0.0/8", "::ffff:127.0.0.1"));
        assert!(admits("127.0.0.*", "::ffff:127.0.0.1"));
        assert!(admits("::ffff:127.0.0.1", "127.0.0.1"));
        assert!(admits("::ffff:127.0.0.0/104", "127.0.0.9"));
        assert!(!admits("!127.0.0.1,*", "::ffff:127.0.0.1"));
    }

    #[test]
    fn cidr_ranges_cover_their_addresses_only() {
        assert!(admits("10.0.0.0/8", "10.255.1.2"));
        assert!(!admits("10.0.0.0/8", "11.0.0.1"));
        assert!(admits("192.168.1.128/25", "192.168.1.200"));
        assert!(!admits("192.168.1.128/25", "192.168.1.127"));
        assert!(admits("0.0.0.0/0", "8.8.8.8"));
        assert!(admits("10.9.9.9/32", "10.9.9.9"));
        assert!(admits("10.0.0.1/8", "10.3.3.3"), "host bits are cleared");
        assert!(admits("fd00::/8", "fd12:3456::1"));
        assert!(!admits("fd00::/8", "fe80::1"));
        assert!(admits("::1/128", "::1"));
        assert!(
            !admits("::/0", "127.0.0.2"),
            "a v4 peer is not in ::/0 unmapped"
        );
    }

    #[test]
    fn wildcards_match_the_address_text() {
        assert!(admits("127.0.0.*", "127.0.0.2"));
        assert!(admits("10.?.0.1", "10.5.0.1"));
        assert!(!admits("10.?.0.1", "10.55.0.1"));
        assert!(admits("*", "203.0.113.7"));
        assert!(admits("fe80::*", "fe80::1"));
        assert!(admits("FE80::*", "fe80::abcd"));
        assert!(!admits("10.1.*", "10.2.0.1"));
        assert!(wildcard(b"a*b*c", b"axxbyyc"));
        assert!(!wildcard(b"a*b*c", b"axxbyy"));
        assert!(wildcard(b"**", b""));
    }

    #[test]
    fn a_negated_match_refuses_whatever_else_matches() {
        assert!(!admits("10.0.0.0/8,!10.1.2.3", "10.1.2.3"));
        assert!(admits("10.0.0.0/8,!10.1.2.3", "10.1.2.4"));
        assert!(
            !admits("!10.1.2.3,10.0.0.0/8", "10.1.2.3"),
            "order does not matter"
        );
        assert!(
            !admits("!10.1.2.3", "10.9.9.9"),
            "a negation alone admits nobody"
        );
        assert!(!admits("*,!127.0.0.*", "127.0.0.1"));
    }

    #[test]
    fn host_names_never_match_and_are_listed() {
        let p =
            AddrPatterns::parse("*.example.com,localhost,!bad.example,127.0.0.1").expect("parses");
        assert_eq!(
            p.host_names(),
            ["*.example.com", "localhost", "bad.example"]
        );
        assert!(p.admits("127.0.0.1".parse().expect("address")));
        assert!(!admits("localhost", "127.0.0.1"));
        assert!(!admits("*.example.com", "127.0.0.1"));
        assert!(
            AddrPatterns::parse("10.0.0.1")
                .expect("parses")
                .host_names()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_cidr_is_an_error() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "10.0.0.0/x",
            "10.*.0.0/8",
            "example.com/8",
            "10.0.0.0/+8",
        ] {
            let err = AddrPatterns::parse(&format!("127.0.0.1,{bad}"));
            assert_eq!(err, Err(PatternError::BadCidr(bad.into())), "{bad}");
        }
        let err = AddrPatterns::parse("!10.0.0.0/99").expect_err("bad");
        assert!(err.to_string().contains("10.0.0.0/99"), "{err}");
    }

    #[test]
    fn an_empty_list_admits_nobody() {
        assert!(!admits("", "127.0.0.1"));
        assert!(!admits(" , ", "127.0.0.1"));
        assert_eq!(AddrPatterns::parse("a,b").expect("parses").as_str(), "a,b");
    }
}
