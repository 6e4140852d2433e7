//! A web page's ticket back in: after `approve-web` let a page into a key-only session, the
//! relay gives the page a ticket, and a page whose socket drops (a network change, a relay
//! restart) shows it when it joins again instead of asking for another `approve-web`.
//!
//! The ticket names the key that vouched for the page and the address of the ssh client that
//! proved it, for one token, until a time; it is signed with the relay's resume key, so a
//! relay started again with the same key file takes it without remembering anything. It
//! carries no name and no access: those come from the session's key list when the page
//! comes back, so a key taken out by `reload-keys` (or no longer listed for that address)
//! lets no page back in. The page keeps the ticket in memory only; a reload forgets it.
//!
//! A page the host kicks loses its ticket: the relay keeps it in [`Revoked`] until it would
//! have run out (a relay restarted meanwhile has forgotten that; the host can kick again, or
//! take the key out with `reload-keys`, which no ticket outlives).

use crate::net::relay::resume::ResumeKey;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a ticket lets its page back in.
pub const TICKET_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// The most revoked tickets kept; past it the one that runs out first is dropped.
pub const MAX_REVOKED: usize = 4096;

/// The first and last parts of a ticket's MAC, and its six parts, set it apart from the
/// relay's other proofs.
const TAG: &str = "web ticket";

/// What a good ticket says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The fingerprint of the key that vouched for the page.
    pub fingerprint: String,
    /// The address of the ssh client that proved that key.
    pub proved_from: Option<IpAddr>,
}

/// Seconds since the Unix epoch at `t` (0 before it).
fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A ticket's four words: `UNTIL FROM FINGERPRINT MAC`; `None` for any other shape.
fn words(ticket: &str) -> Option<[&str; 4]> {
    let mut w = ticket.split(' ');
    let words = [w.next()?, w.next()?, w.next()?, w.next()?];
    w.next().is_none().then_some(words)
}

/// The signed parts of a ticket.
fn parts<'a>(token: &'a str, fp: &'a str, from: &'a str, until: &'a str) -> [&'a str; 6] {
    [TAG, token, fp, from, until, TAG]
}

/// A ticket for the page of `token` that `fingerprint`, proved from `proved_from`, let in;
/// good for [`TICKET_TTL`] from `now`. Its text is `UNTIL FROM FINGERPRINT MAC`.
pub fn issue(
    key: &ResumeKey,
    token: &str,
    fingerprint: &str,
    proved_from: Option<IpAddr>,
    now: SystemTime,
) -> String {
    let until = (unix(now) + TICKET_TTL.as_secs()).to_string();
    let from = proved_from.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let mac = key.sign_parts(&parts(token, fingerprint, &from, &until));
    format!("{until} {from} {fingerprint} {mac}")
}

/// What `ticket` says, if this relay's key signed it for `token` and it has not run out at
/// `now`.
pub fn check(key: &ResumeKey, token: &str, ticket: &str, now: SystemTime) -> Option<Ticket> {
    let [until, from, fp, mac] = words(ticket)?;
    if !key.verify_parts(&parts(token, fp, from, until), mac) {
        return None;
    }
    if until.parse::<u64>().ok()? <= unix(now) {
        return None;
    }
    let proved_from = match from {
        "-" => None,
        ip => Some(ip.parse().ok()?),
    };
    Some(Ticket {
        fingerprint: fp.to_string(),
        proved_from,
    })
}

/// Tickets of pages the host sent away, by their MAC, with when each runs out. Its lock is
/// held for one map operation, never across an `.await`.
#[derive(Debug, Default)]
pub struct Revoked {
    /// MAC → the ticket's end, in Unix seconds.
    table: Mutex<HashMap<String, u64>>,
}

impl Revoked {
    /// `ticket` lets no page back in from now on (until it would have run out anyway).
    pub fn revoke(&self, ticket: &str, now: SystemTime) {
        let Some([until, _, _, mac]) = words(ticket) else {
            return;
        };
        let Ok(until) = until.parse::<u64>() else {
            return;
        };
        let now = unix(now);
        let mut table = self.lock();
        table.retain(|_, end| *end > now);
        if table.len() >= MAX_REVOKED
            && let Some(first) = table
                .iter()
                .min_by_key(|(_, end)| **end)
                .map(|(m, _)| m.clone())
        {
            table.remove(&first);
        }
        table.insert(mac.to_string(), until);
    }

    /// Whether `ticket` was revoked.
    pub fn is_revoked(&self, ticket: &str) -> bool {
        words(ticket).is_some_and(|[.., mac]| self.lock().contains_key(mac))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        // Each change is one map operation, so a poisoned lock still holds a whole map.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "SHA256:abcDEF123+/";

    #[test]
    fn a_ticket_lets_its_page_back_for_its_token_until_it_runs_out() {
        let key = ResumeKey::derive(b"relay key");
        let now = SystemTime::now();
        let ip: IpAddr = "127.0.0.2".parse().expect("ip");
        let t = issue(&key, "tok", FP, Some(ip), now);
        let want = Ticket {
            fingerprint: FP.into(),
            proved_from: Some(ip),
        };
        assert_eq!(check(&key, "tok", &t, now), Some(want.clone()));
        // A relay started again with the same key file takes it.
        let again = ResumeKey::derive(b"relay key");
        assert_eq!(check(&again, "tok", &t, now + TICKET_TTL / 2), Some(want));
        assert_eq!(check(&key, "tok", &t, now + TICKET_TTL), None, "ran out");
        assert_eq!(check(&key, "other", &t, now), None, "another token");
        let other = ResumeKey::derive(b"another relay");
        assert_eq!(check(&other, "tok", &t, now), None, "another relay's key");
        let none = issue(&key, "tok", FP, None, now);
        assert_eq!(
            check(&key, "tok", &none, now).map(|t| t.proved_from),
            Some(None)
        );
    }

    #[test]
    fn a_revoked_ticket_stays_revoked_and_the_table_stays_bounded() {
        let key = ResumeKey::derive(b"relay key");
        let now = SystemTime::now();
        let revoked = Revoked::default();
        let t = issue(&key, "tok", FP, None, now);
        let other = issue(&key, "tok2", FP, None, now);
        revoked.revoke(&t, now);
        assert!(revoked.is_revoked(&t));
        assert!(!revoked.is_revoked(&other));
        revoked.revoke("garbage", now);
        for i in 0..MAX_REVOKED + 10 {
            revoked.revoke(&issue(&key, &format!("t{i}"), FP, None, now), now);
        }
        assert_eq!(revoked.lock().len(), MAX_REVOKED);
        // Those run out are dropped at the next revoke.
        revoked.revoke(&other, now + 2 * TICKET_TTL);
        assert_eq!(revoked.lock().len(), 1);
    }

    #[test]
    fn a_changed_ticket_is_no_ticket() {
        let key = ResumeKey::derive(b"relay key");
        let now = SystemTime::now();
        let t = issue(&key, "tok", FP, "10.0.0.1".parse().ok(), now);
        let words: Vec<&str> = t.split(' ').collect();
        let later = (unix(now) + 10 * TICKET_TTL.as_secs()).to_string();
        for forged in [
            format!("{later} {} {} {}", words[1], words[2], words[3]),
            format!("{} 10.0.0.2 {} {}", words[0], words[2], words[3]),
            format!("{} {} SHA256:other {}", words[0], words[1], words[3]),
            format!("{} {} {} 00", words[0], words[1], words[2]),
            format!("{t} extra"),
            String::new(),
            "garbage".into(),
        ] {
            assert_eq!(check(&key, "tok", &forged, now), None, "{forged}");
        }
    }
}
