//! Sessions that admit only listed keys (`cotty -a FILE`) and relays that insist on them
//! (`--require-authorized-keys`), with stock OpenSSH guests, and the web page of such a
//! session in headless Chromium, let in by `ssh … approve-web CODE`. Keys with `from="…"`
//! are tried from other loopback addresses (`ssh -b 127.0.0.2`).

mod common;

use common::browser::browser_or_skip;
use common::env::{WAIT, token};
use common::guest::{GuestOptions, SshGuest};
use common::page_mirror::{finish, wait_page_prompt};
use common::proc::{LOOPBACK_HEADLESS, Proc, ctl};
use common::sshcmd::{pub_line, ssh_from, ssh_once, ssh_run};
use common::wait::{key_fingerprint, ssh_keygen};
use common::web::WsGuest;
use cotty::core::types::Size;
use std::path::{Path, PathBuf};

/// A stock ssh guest in a terminal, logging in with `key`.
fn keyed_guest(port: u16, token: &str, key: &Path) -> SshGuest {
    keyed_guest_from(None, port, token, key)
}

/// Like [`keyed_guest`], connecting from the local address `bind` (`ssh -b`) when given.
fn keyed_guest_from(bind: Option<&str>, port: u16, token: &str, key: &Path) -> SshGuest {
    let opts = GuestOptions {
        identity: Some(key.to_path_buf()),
        bind: bind.map(String::from),
        ..Default::default()
    };
    SshGuest::spawn(port, token, opts)
}

/// `cotty -F` with its built-in relay, admitting the keys in `keys`, controlled on `sock`.
fn keyed_host(keys: &Path, sock: &Path) -> Proc {
    let (keys, sock) = (keys.display().to_string(), sock.display().to_string());
    let mut args = LOOPBACK_HEADLESS.to_vec();
    args.extend(["-S", &sock, "-a", &keys, "new-session", "sh", "-c"]);
    args.push("PS1='$ ' exec sh");
    Proc::cotty(&args)
}

/// A `cotty -F` session admitting the keys of its file, with what the tests use of it.
struct KeyedSession {
    /// The host.
    host: Proc,
    /// The key file, to rewrite before `reload-keys`.
    file: PathBuf,
    /// The host's control socket.
    sock: PathBuf,
    /// The read-write token.
    rw: String,
    /// The relay's port.
    port: u16,
}

/// Writes `keys` into a key file in `dir` and starts a session that admits them.
fn keyed_session(dir: &Path, keys: &str) -> KeyedSession {
    let file = dir.join("guests");
    std::fs::write(&file, keys).expect("writes the key file");
    let sock = dir.join("ctl.sock");
    let host = keyed_host(&file, &sock);
    let link = host.line("ssh session: ", &[]);
    let link = link.trim_start_matches("ssh session: ");
    let (rw, port) = (token(link), common::env::port_of(link));
    KeyedSession {
        host,
        file,
        sock,
        rw,
        port,
    }
}

/// The keys of the tests: three listed (one read-only) and one not.
struct Keys {
    alice: PathBuf,
    carol: PathBuf,
    dave: PathBuf,
    mallory: PathBuf,
}

impl Keys {
    fn new(dir: &Path) -> Keys {
        Keys {
            alice: ssh_keygen(dir, "alice"),
            carol: ssh_keygen(dir, "carol"),
            dave: ssh_keygen(dir, "dave"),
            mallory: ssh_keygen(dir, "mallory"),
        }
    }
}

#[test]
fn only_listed_keys_join_named_by_their_comment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = Keys::new(dir.path());
    let text = format!(
        "# who may join\n{}\nssh-ed25519 this-is-not-a-key\ncotty-ro {}\n",
        pub_line(&k.alice, "alice laptop"),
        pub_line(&k.carol, "carol (github)")
    );
    let KeyedSession {
        mut host,
        file,
        sock,
        rw,
        port,
    } = keyed_session(dir.path(), &text);
    let bad = host.line(&format!("{}: line 3: ", file.display()), &["skipped"]);
    assert!(bad.contains("not a public key"), "{bad}");

    // A listed key joins, named by its comment in the log and list-guests.
    let alice = keyed_guest(port, &rw, &k.alice);
    alice
        .wait_for_text("read-write", WAIT)
        .expect("alice joins");
    host.line(
        "guest 1 (alice laptop) read-write via ssh",
        &[&key_fingerprint(&k.alice)],
    );
    let list = String::from_utf8_lossy(&ctl(&sock, &["list-guests"]).stdout).to_string();
    assert!(list.contains("1: alice laptop via ssh"), "{list}");

    // An unlisted key is refused, and told which key it offered.
    let out = ssh_once(port, &rw, Some(&k.mallory));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    let want = format!(
        "cotty: this session only admits listed keys; your key {} is not one of them",
        key_fingerprint(&k.mallory)
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("Permission denied (publickey)"), "{err}");

    // "none" and keyboard-interactive are no way in either: the same words, no join.
    let out = ssh_once(port, &rw, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("only admits listed keys and you offered no key"),
        "{err}"
    );
    assert!(err.contains("Permission denied"), "{err}");
    let guests = ctl(&sock, &["list-guests"]);
    assert_eq!(
        String::from_utf8_lossy(&guests.stdout).lines().count(),
        1,
        "only alice is in"
    );

    // A cotty-ro key is read-only on the read-write link.
    let carol = keyed_guest(port, &rw, &k.carol);
    carol
        .wait_for_text("read-only", WAIT)
        .expect("carol joins read-only");
    host.line("guest 2 (carol (github)) read-only via ssh", &[]);
    carol.type_str("echo typed-by-carol\r");
    alice.type_str("echo typed-by-alice\r");
    alice
        .wait_for_text("typed-by-alice", WAIT)
        .expect("alice types");
    assert!(
        !alice.text().contains("typed-by-carol"),
        "carol's keys reach nobody"
    );

    // reload-keys: dave is listed from now on, alice no more; those inside stay.
    let text = format!("{}\n", pub_line(&k.dave, "dave"));
    std::fs::write(&file, text).expect("rewrites the key file");
    let reload = ctl(&sock, &["reload-keys"]);
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    assert!(String::from_utf8_lossy(&reload.stdout).contains("1 guest keys"));
    let dave = keyed_guest(port, &rw, &k.dave);
    dave.wait_for_text("read-write", WAIT).expect("dave joins");
    host.line("guest 3 (dave) read-write via ssh", &[]);
    let out = ssh_once(port, &rw, Some(&k.alice));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not one of them"), "{err}");
    alice.type_str("echo still-here\r");
    alice
        .wait_for_text("still-here", WAIT)
        .expect("alice is still inside");

    // A file made unreadable keeps the old list and says why.
    std::fs::write(&file, "# nobody\n").expect("empties the key file");
    let reload = ctl(&sock, &["reload-keys"]);
    assert!(!reload.status.success());
    assert!(String::from_utf8_lossy(&reload.stderr).contains("no usable key"));
    drop((alice, carol, dave));
    host.signal("-TERM");
    assert_eq!(host.wait_exit(), Some(0));
}

#[test]
fn a_relay_that_requires_keys_refuses_an_open_session_and_takes_a_keyed_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay_key = dir.path().join("relay_key").display().to_string();
    let relay = Proc::relay(&relay_key, &["--require-authorized-keys"], None);
    let (port, _) = relay.relay_address(WAIT);
    let known = dir.path().join("known_relays").display().to_string();
    let addr = format!("127.0.0.1:{port}");
    let host_args = |extra: &[&str]| {
        let mut args = vec!["-F", "--relay", &addr, "--known-relays", &known];
        args.extend(extra);
        args.extend(["new-session", "sh"]);
        Proc::cotty(&args)
    };
    let mut open = host_args(&[]);
    assert_eq!(
        open.wait_exit(),
        Some(1),
        "an open session is refused for good"
    );
    let err = open.err.lock().expect("err").clone();
    assert!(
        err.contains("only hosts sessions that limit who joins") && err.contains("-a FILE"),
        "{err}"
    );
    relay.wait_log(&["refused", "limit who joins"]);

    let alice = ssh_keygen(dir.path(), "alice");
    let file = dir.path().join("guests");
    std::fs::write(&file, pub_line(&alice, "alice")).expect("writes the key file");
    let file = file.display().to_string();
    let sock = dir.path().join("ctl.sock").display().to_string();
    let keyed = host_args(&["-a", &file, "-S", &sock]);
    let rw = token(&keyed.line("ssh session: ", &[]));
    let g = keyed_guest(port, &rw, &alice);
    g.wait_for_text("read-write", WAIT)
        .expect("a listed guest joins");
}

#[test]
fn the_web_page_of_a_key_only_session_joins_after_approve_web() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = Keys::new(dir.path());
    let KeyedSession {
        host,
        sock,
        rw,
        port,
        ..
    } = keyed_session(dir.path(), &pub_line(&k.alice, "alice"));
    let url = host.line("web session: ", &[]);
    let url = url.trim_start_matches("web session: ").to_string();
    let Some(b) = browser_or_skip("approve-web", 900, 600) else {
        return;
    };
    b.open(&url);
    b.wait_js(
        "the page to show its approve-web command",
        "typeof window.cotty.state.approve === 'string'",
        WAIT,
    );
    let command = b.eval("return window.cotty.state.approve");
    let command = command.as_str().expect("a command").to_string();
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        words[..words.len() - 1],
        [
            "ssh",
            "-p",
            &port.to_string(),
            &format!("{rw}@127.0.0.1"),
            "approve-web"
        ],
        "{command}"
    );
    let code = words[words.len() - 1];
    let bar = b.element_text("bar");
    assert!(
        bar.contains("admits only listed keys") && bar.contains(&command),
        "the bar shows the command: {bar}"
    );
    assert_eq!(
        b.eval("return window.cotty.state.frames"),
        0,
        "no frame before approval"
    );

    // A wrong code, and an unlisted key, let nothing in.
    let wrong = ssh_run(port, &rw, Some(&k.alice), &["approve-web", "NOTACODE"]);
    assert_eq!(wrong.status.code(), Some(1));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("no page is waiting with that code"), "{err}");
    let mallory = ssh_run(port, &rw, Some(&k.mallory), &["approve-web", code]);
    assert_ne!(mallory.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&mallory.stderr).contains("is not one of them"));
    assert_eq!(b.eval("return window.cotty.state.frames"), 0);
    assert!(String::from_utf8_lossy(&ctl(&sock, &["list-guests"]).stdout).is_empty());

    // alice's key lets the page in, as alice.
    let ok = ssh_run(port, &rw, Some(&k.alice), &["approve-web", code]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("the web page joins as alice"), "{out}");
    wait_page_prompt(&b);
    host.line(
        "guest 1 (alice) read-write via web",
        &[&key_fingerprint(&k.alice)],
    );

    // The code worked once.
    let again = ssh_run(port, &rw, Some(&k.alice), &["approve-web", code]);
    assert_eq!(again.status.code(), Some(1));
    finish(&b, "approve-web");
}

/// What OpenSSH shows a guest whose key is listed, but not for `addr`.
fn not_from(key: &Path, addr: &str) -> String {
    format!(
        "cotty: this session only admits listed keys; your key {} is listed, but not for \
         connections from {addr}",
        key_fingerprint(key)
    )
}

#[test]
fn a_from_key_joins_only_from_its_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = Keys::new(dir.path());
    let text = format!(
        "from=\"127.0.0.2\" {}\nfrom=\"127.0.0.0/8,!127.0.0.1\" {}\nfrom=\"trusted.example\" {}\n",
        pub_line(&k.alice, "alice"),
        pub_line(&k.carol, "carol"),
        pub_line(&k.dave, "dave")
    );
    let KeyedSession {
        mut host,
        file,
        sock,
        rw,
        port,
    } = keyed_session(dir.path(), &text);
    let warn = host.line(
        &format!("{}: line 3: ", file.display()),
        &["trusted.example"],
    );
    assert!(warn.contains("never matches"), "{warn}");

    // From 127.0.0.1 each key is refused, and told so: one address, a negated one, a name.
    for key in [&k.alice, &k.carol, &k.dave] {
        let out = ssh_once(port, &rw, Some(key));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{err}");
        assert!(err.contains(&not_from(key, "127.0.0.1")), "{err}");
        assert!(err.contains("Permission denied (publickey)"), "{err}");
    }
    assert!(String::from_utf8_lossy(&ctl(&sock, &["list-guests"]).stdout).is_empty());

    // From their addresses, alice and carol join.
    let alice = keyed_guest_from(Some("127.0.0.2"), port, &rw, &k.alice);
    alice
        .wait_for_text("read-write", WAIT)
        .expect("alice joins from 127.0.0.2");
    host.line("guest 1 (alice) read-write via ssh", &[]);
    let carol = keyed_guest_from(Some("127.0.0.3"), port, &rw, &k.carol);
    carol
        .wait_for_text("read-write", WAIT)
        .expect("carol joins from 127.0.0.3");
    host.line("guest 2 (carol) read-write via ssh", &[]);

    // reload-keys moves alice to 127.0.0.3: from .2 she is refused now, and stays inside.
    let text = format!("from=\"127.0.0.3\" {}\n", pub_line(&k.alice, "alice"));
    std::fs::write(&file, text).expect("rewrites the key file");
    let reload = ctl(&sock, &["reload-keys"]);
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    let out = ssh_from(Some("127.0.0.2"), port, &rw, Some(&k.alice), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&not_from(&k.alice, "127.0.0.2")), "{err}");
    let again = keyed_guest_from(Some("127.0.0.3"), port, &rw, &k.alice);
    again
        .wait_for_text("read-write", WAIT)
        .expect("alice joins from 127.0.0.3");
    alice.type_str("echo still-here\r");
    alice
        .wait_for_text("still-here", WAIT)
        .expect("alice is still inside");
    drop((alice, carol, again));
    host.signal("-TERM");
    assert_eq!(host.wait_exit(), Some(0));
}

#[test]
fn approve_web_holds_the_ssh_client_to_the_keys_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = Keys::new(dir.path());
    let text = format!("from=\"127.0.0.2\" {}\n", pub_line(&k.alice, "alice"));
    let KeyedSession {
        mut host, rw, port, ..
    } = keyed_session(dir.path(), &text);
    let mut page = WsGuest::join(port, &rw, Size::new(80, 24));
    page.wait_for("the approve-web command", WAIT, |p| p.approve.is_some())
        .expect("the page is shown its command");
    let command = page.approve.clone().expect("a command");
    let code = command.split_whitespace().last().expect("a code");

    // The key proves itself from the wrong address: no approval.
    let out = ssh_run(port, &rw, Some(&k.alice), &["approve-web", code]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&not_from(&k.alice, "127.0.0.1")), "{err}");
    assert_eq!(page.frames, 0, "no frame before approval");

    // From 127.0.0.2 it lets the page in, although the page itself is at 127.0.0.1.
    let ok = ssh_from(
        Some("127.0.0.2"),
        port,
        &rw,
        Some(&k.alice),
        &["approve-web", code],
    );
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("the web page joins as alice"), "{out}");
    page.wait_for("the first frame", WAIT, |p| p.frames > 0)
        .expect("the page joins");
    host.line("guest 1 (alice) read-write via web", &[]);
    host.signal("-TERM");
    assert_eq!(host.wait_exit(), Some(0));
}
