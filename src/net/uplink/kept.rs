//! What a host keeps between connections to take its session up again: the resume proof of
//! the last welcome, and the extra links the relay reported, each with the relay's proof.
//!
//! A relay that still has the room ignores the links; a restarted one makes again those whose
//! proof checks (see [`crate::net::proto::Hello::extra_links`]), so `new-link` links outlive
//! a relay restart as the main links do. The supervisor owns this; the link it runs notes each
//! report in it.

use crate::net::proto::{ExtraLink, Resume};
use crate::net::relay::links::MAX_EXTRA_LINKS;
use std::time::{Duration, Instant};

/// The session's resume proof and extra links, as last heard from the relay.
#[derive(Debug, Default)]
pub struct Kept {
    /// The proof from the last welcome; `None` before the first, or after a refused resume.
    pub resume: Option<Resume>,
    /// The extra links, by number, each with when it stops letting guests in.
    links: Vec<(ExtraLink, Option<Instant>)>,
}

impl Kept {
    /// Takes in a welcome: its proof, and for a new session (not `resumed`) no extra links,
    /// since those of the old one were for the old session alone.
    pub fn welcome(&mut self, proof: Resume, resumed: bool) {
        self.resume = Some(proof);
        if !resumed {
            self.links.clear();
        }
    }

    /// Forgets the session: the relay refused to resume it, so the next welcome is a new one.
    pub fn forget(&mut self) {
        self.resume = None;
        self.links.clear();
    }

    /// Notes an extra link the relay reported, made or changed, at `now`. A report without
    /// a token (a relay that cannot make links again) is not kept.
    pub fn note(&mut self, link: &ExtraLink, now: Instant) {
        if link.token.is_empty() || link.proof.is_empty() {
            return;
        }
        let until = link.expires_in.map(|s| now + Duration::from_secs(s));
        let mut kept = link.clone();
        // Only the relay's own fields matter to it; the request is long answered.
        kept.req = None;
        let full = self.links.len() >= MAX_EXTRA_LINKS;
        match self.links.iter_mut().find(|(l, _)| l.n == link.n) {
            Some(slot) => *slot = (kept, until),
            None if !full => self.links.push((kept, until)),
            None => {}
        }
    }

    /// The extra links for the next hello, with what is left of each one's lifetime at `now`,
    /// rounded down so that a restart never moves a deadline later; none without a session
    /// to resume.
    pub fn hello_links(&self, now: Instant) -> Vec<ExtraLink> {
        if self.resume.is_none() {
            return Vec::new();
        }
        self.links
            .iter()
            .map(|(link, until)| ExtraLink {
                expires_in: until.map(|t| t.saturating_duration_since(now).as_secs()),
                ..link.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::Access;

    fn link(n: u32, expires_in: Option<u64>) -> ExtraLink {
        ExtraLink {
            req: Some(7),
            n,
            access: Access::ReadOnly,
            ssh: format!("ssh -p 2222 ro-T{n}@relay"),
            web: None,
            once: true,
            expires_in,
            enabled: true,
            used: false,
            token: format!("ro-T{n}"),
            proof: "ab".into(),
        }
    }

    fn proof() -> Resume {
        Resume {
            session: "s".into(),
            rw: "a".into(),
            ro: "b".into(),
            secret: "c".into(),
        }
    }

    #[test]
    fn links_are_kept_by_number_with_their_time_counted_down() {
        let t0 = Instant::now();
        let mut kept = Kept::default();
        kept.note(&link(1, Some(60)), t0);
        // Nothing to present without a session to resume.
        assert!(kept.hello_links(t0).is_empty());
        kept.welcome(proof(), false);
        kept.note(&link(1, Some(60)), t0);
        kept.note(&link(2, None), t0);
        let mut used = link(1, Some(60));
        used.used = true;
        kept.note(&used, t0);
        let later = kept.hello_links(t0 + Duration::from_millis(10_500));
        assert_eq!(later.len(), 2);
        assert_eq!((later[0].n, later[0].used, later[0].req), (1, true, None));
        assert_eq!(later[0].expires_in, Some(49));
        assert_eq!(later[1].expires_in, None);
        // Long after, an expired link is still presented, as expired.
        assert_eq!(
            kept.hello_links(t0 + Duration::from_secs(600))[0].expires_in,
            Some(0)
        );
    }

    #[test]
    fn a_new_session_or_a_refused_resume_drops_the_links() {
        let t0 = Instant::now();
        let mut kept = Kept::default();
        kept.welcome(proof(), false);
        kept.note(&link(1, None), t0);
        kept.welcome(proof(), true);
        assert_eq!(kept.hello_links(t0).len(), 1);
        kept.welcome(proof(), false);
        assert!(kept.hello_links(t0).is_empty());
        kept.note(&link(1, None), t0);
        kept.forget();
        assert!(kept.resume.is_none());
        kept.welcome(proof(), true);
        assert!(kept.hello_links(t0).is_empty());
    }

    #[test]
    fn a_report_without_a_token_is_not_kept_and_the_count_is_bounded() {
        let t0 = Instant::now();
        let mut kept = Kept::default();
        kept.welcome(proof(), false);
        let mut bare = link(1, None);
        bare.token.clear();
        kept.note(&bare, t0);
        assert!(kept.hello_links(t0).is_empty());
        for n in 1..=200 {
            kept.note(&link(n, None), t0);
        }
        assert_eq!(kept.hello_links(t0).len(), MAX_EXTRA_LINKS);
    }
}
