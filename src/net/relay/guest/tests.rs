//! Tests of the guest task's own logic: its farewells, and the admission of a key-only
//! session's guest, checked again against the list of now (`reload-keys`), `from=` included.

use super::*;
use crate::core::authkeys::fingerprint;
use crate::core::authkeys::testing::{key, line};
use crate::net::relay::guestkeys::GuestKeys;
use crate::net::relay::limits::Limits;
use crate::net::relay::links::MainGates;
use crate::net::relay::registry::Tokens;
use russh::keys::PublicKey;
use tokio::sync::{mpsc, watch};

#[test]
fn a_kick_is_said_once() {
    assert_eq!(
        kicked_farewell(KICKED),
        "cotty: you were disconnected by the host"
    );
    assert_eq!(
        kicked_farewell(""),
        "cotty: you were disconnected by the host"
    );
    assert_eq!(
        kicked_farewell("time for lunch"),
        "cotty: you were disconnected by the host: time for lunch"
    );
}

#[test]
fn short_fingerprints_keep_the_prefix() {
    assert_eq!(
        short_fingerprint("SHA256:abcdefghijklmnopqrstuvwxyz"),
        "SHA256:abcdefghijkl"
    );
}

/// A registered key-only session, and the sender its room would publish new keys on.
struct Keyed {
    /// The relay's state, with the session in its registry.
    shared: Shared,
    /// The session's links.
    tokens: Tokens,
    /// Where a `reload-keys` lands: the room's side of the key watch.
    keys: watch::Sender<Option<Arc<GuestKeys>>>,
    /// The room's queue, kept open; no room reads it.
    _room: mpsc::Receiver<RoomCmd>,
}

/// The relay's guest keys for `lines`.
fn list(lines: &[String]) -> Option<Arc<GuestKeys>> {
    Some(Arc::new(GuestKeys::from_lines(lines).0))
}

/// A session whose guest keys are `lines`.
fn keyed(lines: &[String]) -> Keyed {
    let shared = Shared::for_tests(Limits::default());
    let tokens = Tokens::new().expect("random");
    let (room, rx) = mpsc::channel(4);
    let gates = MainGates::new(Instant::now(), None);
    let (keys, watch) = watch::channel(list(lines));
    shared
        .registry
        .register_keyed(&tokens, room, &gates, watch)
        .expect("registers");
    Keyed {
        shared,
        tokens,
        keys,
        _room: rx,
    }
}

/// A web page let in by `approve-web`, run by an ssh client at `proved_from` with `k`; the
/// page itself is at 127.0.0.9.
fn approved_page(token: &str, k: &PublicKey, proved_from: &str) -> GuestSetup {
    let fp = fingerprint(k);
    GuestSetup {
        token: token.to_string(),
        fingerprint: Some(fp.clone()),
        key: Some(KeyIdentity {
            name: "alice".into(),
            fingerprint: fp,
            read_only: false,
            proved_from: Some(proved_from.parse().expect("an address")),
        }),
        name: None,
        addr: Some("127.0.0.9:40000".parse().expect("an address")),
        via: Via::Web,
    }
}

#[tokio::test]
async fn a_key_is_checked_again_at_the_join_from_the_address_that_proved_it() {
    let alice = |from: &str| format!("from=\"{from}\" {}", line(&key(1), "alice"));
    let s = keyed(&[alice("127.0.0.2")]);
    let rw = s.tokens.rw.as_str();
    assert!(
        admit(&approved_page(rw, &key(1), "127.0.0.2"), &s.shared)
            .await
            .is_ok(),
        "the prover's address counts, not the page's"
    );
    let refused = admit(&approved_page(rw, &key(1), "127.0.0.1"), &s.shared).await;
    assert_eq!(
        refused.err(),
        Some(format!(
            "cotty: this session only admits listed keys; your key {} is listed, but not for \
             connections from 127.0.0.1\r\n",
            fingerprint(&key(1))
        ))
    );

    // reload-keys moves alice to 127.0.0.3: a guest proved from .2 is refused from now on.
    s.keys.send_replace(list(&[alice("127.0.0.3")]));
    let refused = admit(&approved_page(rw, &key(1), "127.0.0.2"), &s.shared).await;
    let why = refused.expect_err("refused after the reload");
    assert!(why.contains("not for connections from 127.0.0.2"), "{why}");
    assert!(
        admit(&approved_page(rw, &key(1), "127.0.0.3"), &s.shared)
            .await
            .is_ok()
    );

    // And a key the reload removed is not one of them.
    s.keys.send_replace(list(&[line(&key(2), "bob")]));
    let refused = admit(&approved_page(rw, &key(1), "127.0.0.3"), &s.shared).await;
    let why = refused.expect_err("refused once removed");
    assert!(why.contains("is not one of them"), "{why}");
}
