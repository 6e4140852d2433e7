//! Resume secrets: proof that a host owns a session, checkable by a relay with no memory.
//!
//! Sessions live in the relay's memory, so a restarted relay knows nothing of them. The proof
//! is therefore stateless: the relay derives a key from its persistent host key file and gives
//! each host `HMAC-SHA256(key, session id, tokens)`. A host that comes back presents its
//! tokens and that secret; the relay recomputes it and compares in constant time, then takes
//! the session up again with the same tokens, so the links do not change.

use crate::net::proto::Resume;
use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

/// The first and last parts of an extra link's proof: with four parts it is never a
/// session's secret, which has three.
const LINK_TAG: &str = "extra link";

/// What the key is derived for, so the same key file never yields the same bytes for two
/// purposes.
const PURPOSE: &[u8] = b"cotty relay resume key v1";

/// The relay's resume key, derived from its host key file.
#[derive(Clone)]
pub struct ResumeKey {
    /// The derived key; never leaves the relay.
    key: [u8; 32],
}

impl std::fmt::Debug for ResumeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeKey(…)")
    }
}

impl ResumeKey {
    /// Derives the key from the bytes of a secret (the relay's host key file).
    pub fn derive(secret: &[u8]) -> ResumeKey {
        let mut mac = new_mac(secret);
        mac.update(PURPOSE);
        ResumeKey {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// Derives the key from the relay's host key file, which stays the same across restarts.
    pub fn from_key_file(path: &Path) -> Result<ResumeKey> {
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "failed to read the relay host key {} to derive resume secrets",
                path.display()
            )
        })?;
        Ok(ResumeKey::derive(&bytes))
    }

    /// The secret for a session and its tokens, in hex.
    pub fn sign(&self, session: &str, rw: &str, ro: &str) -> String {
        hex::encode(self.mac(&[session, rw, ro]).finalize().into_bytes())
    }

    /// The proof that extra link `token` belongs to `session`, in hex: a host presents it
    /// with its resume so a restarted relay makes the link again for that session alone.
    pub fn sign_link(&self, session: &str, token: &str) -> String {
        self.sign_parts(&[LINK_TAG, session, token, LINK_TAG])
    }

    /// Whether `proof` is [`ResumeKey::sign_link`] of `session` and `token`, compared in
    /// constant time.
    pub fn verify_link(&self, session: &str, token: &str, proof: &str) -> bool {
        self.verify_parts(&[LINK_TAG, session, token, LINK_TAG], proof)
    }

    /// The MAC of `parts`, in hex, for other proofs this relay hands out and checks again
    /// after a restart. Each kind of proof starts and ends with a tag of its own and has its
    /// own number of parts, so none passes for another.
    pub fn sign_parts(&self, parts: &[&str]) -> String {
        hex::encode(self.mac(parts).finalize().into_bytes())
    }

    /// Whether `proof` is [`ResumeKey::sign_parts`] of `parts`, compared in constant time.
    pub fn verify_parts(&self, parts: &[&str], proof: &str) -> bool {
        let Ok(given) = hex::decode(proof) else {
            return false;
        };
        self.mac(parts).verify_slice(&given).is_ok()
    }

    /// Whether `r.secret` is the secret of its session and tokens, compared in constant time.
    pub fn verify(&self, r: &Resume) -> bool {
        let Ok(given) = hex::decode(&r.secret) else {
            return false;
        };
        self.mac(&[&r.session, &r.rw, &r.ro])
            .verify_slice(&given)
            .is_ok()
    }

    /// The MAC over the parts, each length-prefixed so no two lists of parts collide (a
    /// link's proof has four parts, a session's secret three).
    fn mac(&self, parts: &[&str]) -> HmacSha256 {
        let mut mac = new_mac(&self.key);
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

/// An HMAC-SHA256 keyed with `key`; any key length is valid for HMAC.
fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC hashes long keys and pads short ones, so no key length is refused.
    HmacSha256::new_from_slice(key).expect("invariant: HMAC takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resume(key: &ResumeKey) -> Resume {
        Resume {
            session: "s1".into(),
            rw: "tokenA".into(),
            ro: "ro-tokenB".into(),
            secret: key.sign("s1", "tokenA", "ro-tokenB"),
        }
    }

    #[test]
    fn a_secret_checks_with_the_same_key_file_only() {
        let key = ResumeKey::derive(b"key file bytes");
        let r = resume(&key);
        assert_eq!(r.secret.len(), 64);
        assert!(key.verify(&r));
        // A restarted relay with the same file derives the same key.
        assert!(ResumeKey::derive(b"key file bytes").verify(&r));
        // Another relay's key does not.
        assert!(!ResumeKey::derive(b"another key").verify(&r));
    }

    #[test]
    fn changing_any_field_or_the_secret_fails() {
        let key = ResumeKey::derive(b"k");
        let good = resume(&key);
        let mut r = good.clone();
        r.rw = "tokenX".into();
        assert!(!key.verify(&r));
        let mut r = good.clone();
        r.session = "s2".into();
        assert!(!key.verify(&r));
        let mut r = good.clone();
        r.secret = "zz".into();
        assert!(!key.verify(&r));
        let mut r = good.clone();
        r.secret.truncate(10);
        assert!(!key.verify(&r));
        // Moving a character from one field to the next changes the MAC too.
        let moved = key.sign("s1t", "okenA", "ro-tokenB");
        assert_ne!(moved, good.secret);
    }

    #[test]
    fn a_links_proof_checks_for_its_session_and_token_only() {
        let key = ResumeKey::derive(b"k");
        let proof = key.sign_link("s1", "tokenC");
        assert!(key.verify_link("s1", "tokenC", &proof));
        assert!(ResumeKey::derive(b"k").verify_link("s1", "tokenC", &proof));
        assert!(!ResumeKey::derive(b"other").verify_link("s1", "tokenC", &proof));
        assert!(!key.verify_link("s2", "tokenC", &proof));
        assert!(!key.verify_link("s1", "tokenD", &proof));
        assert!(!key.verify_link("s1", "tokenC", "zz"));
        assert!(!key.verify_link("s1", "tokenC", ""));
        // Neither a session's secret nor a link's proof passes for the other.
        assert_ne!(proof, key.sign(LINK_TAG, "s1", "tokenC"));
        assert_ne!(proof, key.sign("s1", "tokenC", LINK_TAG));
    }
}
