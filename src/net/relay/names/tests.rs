//! Tests: the name rule, what a hello may ask for, and who may take a name from whom.

use super::*;
use crate::net::proto::Resume;
use crate::net::relay::registry::Tokens;

const KEY_A: &str = "alice-key-0123456789";
const KEY_A2: &str = "alice-laptop-0123456789";
const KEY_B: &str = "bob-key-0123456789";

/// API keys: two for alice, one for bob.
fn keys() -> ApiKeys {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("api_keys");
    let text = format!("{KEY_A} alice\n{KEY_A2} alice\n{KEY_B} bob\n");
    std::fs::write(&path, text).expect("write");
    ApiKeys::load(&path).expect("loads")
}

fn hello(key: Option<&str>, name: Option<&str>, ro: Option<&str>) -> Hello {
    let mut h = Hello::new("test");
    h.api_key = key.map(Into::into);
    h.name = name.map(Into::into);
    h.ro_name = ro.map(Into::into);
    h
}

fn claim(key: &str, name: &str) -> Claim {
    Claim::from_hello(&hello(Some(key), Some(name), None), Some(&keys()))
        .expect("allowed")
        .expect("named")
}

/// Registers a room under fresh tokens; the receiver keeps its queue open.
fn room(reg: &Registry) -> (Tokens, mpsc::Sender<RoomCmd>, mpsc::Receiver<RoomCmd>) {
    let (tx, rx) = mpsc::channel(4);
    let t = Tokens::new().expect("random");
    let gates = crate::net::relay::links::MainGates::new(tokio::time::Instant::now(), None);
    reg.register(&t, tx.clone(), &gates).expect("registers");
    (t, tx, rx)
}

#[test]
fn names_are_1_to_50_of_letters_digits_dash_and_underscore() {
    for good in ["a", "demo", "my-box_2", "Z9", &"x".repeat(50)] {
        assert!(valid_name(good), "{good}");
    }
    for bad in ["", "a/b", "a b", "dé", "a.b", "a@b", "#x", &"x".repeat(51)] {
        assert!(!valid_name(bad), "{bad:?}");
    }
    assert!(looks_like_name("alice/demo"));
    for bad in ["alice", "alice/", "/demo", "alice/demo/x", "a b/demo"] {
        assert!(!looks_like_name(bad), "{bad:?}");
    }
}

#[test]
fn a_hello_gets_its_names_only_with_a_known_key_and_good_names() {
    let k = keys();
    assert_eq!(
        Claim::from_hello(&hello(Some(KEY_A), None, None), Some(&k)),
        Ok(None)
    );
    let c = Claim::from_hello(&hello(Some(KEY_A), Some("demo"), Some("watch")), Some(&k))
        .expect("allowed")
        .expect("named");
    assert_eq!(c.rw.as_deref(), Some("alice/demo"));
    assert_eq!(c.ro.as_deref(), Some("alice/watch"));
    assert!(
        !format!("{c:?}").contains(KEY_A),
        "the key stays out of logs"
    );
    let refused =
        |h: Hello, keys: Option<&ApiKeys>| Claim::from_hello(&h, keys).expect_err("refused");
    let why = refused(hello(Some(KEY_A), Some("demo"), None), None);
    assert!(
        why.contains("--api-keys") && why.contains("drop -n/-r"),
        "{why}"
    );
    let why = refused(
        hello(Some("nope-0123456789abc"), Some("demo"), None),
        Some(&k),
    );
    assert!(why.contains("does not know this API key"), "{why}");
    let why = refused(hello(None, None, Some("watch")), Some(&k));
    assert!(why.contains("-k/--api-key"), "{why}");
    let why = refused(hello(Some(KEY_A), Some("a/b"), None), Some(&k));
    assert!(
        why.contains("-n/--name") && why.contains(NAME_RULE),
        "{why}"
    );
    let why = refused(hello(Some(KEY_A), None, Some(&"x".repeat(51))), Some(&k));
    assert!(why.contains("-r/--ro-name"), "{why}");
    let why = refused(hello(Some(KEY_A), Some("same"), Some("same")), Some(&k));
    assert!(why.contains("must differ"), "{why}");
}

#[test]
fn a_name_leads_to_its_token_and_goes_when_the_session_ends() {
    let reg = Registry::default();
    let (t, tx, _rx) = room(&reg);
    let c = Claim::from_hello(
        &hello(Some(KEY_A), Some("demo"), Some("watch")),
        Some(&keys()),
    )
    .expect("allowed")
    .expect("named");
    assert_eq!(bind(&reg, &c, &t).expect("binds").len(), 0);
    let rw = reg.lookup("alice/demo").expect("by name");
    assert!(rw.room.same_channel(&tx));
    assert_eq!(rw.access, crate::core::types::Access::ReadWrite);
    let ro = reg.lookup("alice/watch").expect("by ro name");
    assert_eq!(ro.access, crate::core::types::Access::ReadOnly);
    assert!(
        reg.lookup("bob/demo").is_none(),
        "names live under their user"
    );
    assert!(reg.lookup(&t.rw).is_some(), "the random token still works");
    reg.remove(&t, &tx);
    assert!(reg.lookup("alice/demo").is_none());
    assert_eq!(
        reg.names().token("alice/demo"),
        None,
        "the name is forgotten"
    );
}

#[test]
fn the_same_key_replaces_its_session_and_another_key_is_refused() {
    let reg = Registry::default();
    let (t1, tx1, _r1) = room(&reg);
    bind(&reg, &claim(KEY_A, "demo"), &t1).expect("first");
    let (t2, tx2, _r2) = room(&reg);
    // alice's other key holds no claim on a name alice's first key registered.
    let err = check(&reg, &claim(KEY_A2, "demo"), &t2).expect_err("another key");
    assert_eq!(err, NameError::HeldByOther("alice/demo".into()));
    assert!(err.to_string().contains("another API key"), "{err}");
    assert!(bind(&reg, &claim(KEY_A2, "demo"), &t2).is_err());
    assert!(
        reg.lookup("alice/demo")
            .expect("kept")
            .room
            .same_channel(&tx1)
    );
    // The same key takes it over; the older room is handed back to be ended.
    check(&reg, &claim(KEY_A, "demo"), &t2).expect("same key may");
    let older = bind(&reg, &claim(KEY_A, "demo"), &t2).expect("replaces");
    assert_eq!(older.len(), 1);
    assert!(older[0].same_channel(&tx1));
    assert!(
        reg.lookup("alice/demo")
            .expect("moved")
            .room
            .same_channel(&tx2)
    );
    // The older room ending does not take the name from the newer one.
    reg.remove(&t1, &tx1);
    assert!(
        reg.lookup("alice/demo")
            .expect("still")
            .room
            .same_channel(&tx2)
    );
    // Once its session is gone, a name is free for any key.
    reg.remove(&t2, &tx2);
    let (t3, tx3, _r3) = room(&reg);
    bind(&reg, &claim(KEY_B, "demo"), &t3).expect("bob/demo is bob's own");
    bind(&reg, &claim(KEY_A2, "demo"), &t3).expect("free again");
    assert!(
        reg.lookup("alice/demo")
            .expect("taken")
            .room
            .same_channel(&tx3)
    );
}

#[test]
fn a_resume_keeps_its_names_but_does_not_take_them_from_a_newer_session() {
    let reg = Registry::default();
    let (t1, tx1, _r1) = room(&reg);
    let mut resuming = hello(Some(KEY_A), Some("demo"), None);
    resuming.resume = Some(Resume {
        session: "s".into(),
        rw: t1.rw.clone(),
        ro: t1.ro.clone(),
        secret: String::new(),
    });
    let resume_claim = Claim::from_hello(&resuming, Some(&keys()))
        .expect("allowed")
        .expect("named");
    bind(&reg, &claim(KEY_A, "demo"), &t1).expect("first");
    // The same session coming back keeps its name.
    check(&reg, &resume_claim, &t1).expect("own name");
    assert!(bind(&reg, &resume_claim, &t1).expect("own").is_empty());
    // A newer session of the same key takes the name; the old one, resuming, may not.
    let (t2, _tx2, _r2) = room(&reg);
    bind(&reg, &claim(KEY_A, "demo"), &t2).expect("replaces");
    reg.remove(&t1, &tx1);
    let err = check(&reg, &resume_claim, &t1).expect_err("taken over");
    assert_eq!(err, NameError::TakenOver("alice/demo".into()));
    assert!(err.to_string().contains("stops sharing"), "{err}");
}

#[test]
fn only_full_names_are_looked_up() {
    let names = Names::default();
    assert_eq!(names.token("demo"), None);
    assert_eq!(names.token("../etc"), None);
    assert_eq!(names.token("alice/demo"), None, "nothing registered");
}
