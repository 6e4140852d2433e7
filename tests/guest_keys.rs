//! Sessions that admit only listed keys (`cotty -a FILE`) and relays that insist on them
//! (`--require-authorized-keys`), with stock OpenSSH guests, and the web page of such a
//! session in headless Chromium, let in by `ssh … approve-web CODE`.

mod common;

use common::browser::browser_or_skip;
use common::env::{WAIT, token};
use common::guest::{GuestOptions, SshGuest};
use common::page_mirror::{finish, wait_page_prompt};
use common::proc::{LOOPBACK_HEADLESS, Proc, ctl};
use common::wait::{key_fingerprint, ssh_keygen};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The public key line of the key pair at `key`, with `comment` in place of its own.
fn pub_line(key: &Path, comment: &str) -> String {
    let text = std::fs::read_to_string(key.with_extension("pub")).expect("reads the .pub file");
    let mut words = text.split_whitespace();
    let (kind, body) = (words.next().expect("type"), words.next().expect("key"));
    format!("{kind} {body} {comment}")
}

/// Runs a stock `ssh` to `user` as a person would, at its default log level and without a
/// terminal, offering `key` (or no key at all), and returns how it ended.
fn ssh_once(port: u16, user: &str, key: Option<&Path>) -> Output {
    ssh_run(port, user, key, &[])
}

/// Like [`ssh_once`], running the remote command `cmd`.
fn ssh_run(port: u16, user: &str, key: Option<&Path>, cmd: &[&str]) -> Output {
    let remote = cmd;
    let mut cmd = Command::new("ssh");
    cmd.args(["-p", &port.to_string(), "-F", "/dev/null"]);
    for opt in [
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "ConnectTimeout=10",
        "PasswordAuthentication=no",
    ] {
        cmd.args(["-o", opt]);
    }
    match key {
        Some(k) => cmd.arg("-i").arg(k).args(["-o", "IdentitiesOnly=yes"]),
        None => cmd.args(["-o", "PubkeyAuthentication=no"]),
    };
    cmd.arg(format!("{user}@127.0.0.1"))
        .args(remote)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .expect("ssh runs")
}

/// A stock ssh guest in a terminal, logging in with `key`.
fn keyed_guest(port: u16, token: &str, key: &Path) -> SshGuest {
    let opts = GuestOptions {
        identity: Some(key.to_path_buf()),
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
    let file = dir.path().join("guests");
    let text = format!(
        "# who may join\n{}\nssh-ed25519 this-is-not-a-key\ncotty-ro {}\n",
        pub_line(&k.alice, "alice laptop"),
        pub_line(&k.carol, "carol (github)")
    );
    std::fs::write(&file, text).expect("writes the key file");
    let sock = dir.path().join("ctl.sock");
    let mut host = keyed_host(&file, &sock);
    let bad = host.line(&format!("{}: line 3: ", file.display()), &["skipped"]);
    assert!(bad.contains("not a public key"), "{bad}");
    let link = host.line("ssh session: ", &[]);
    let link = link.trim_start_matches("ssh session: ");
    let (rw, port) = (token(link), common::env::port_of(link));

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
    let file = dir.path().join("guests");
    std::fs::write(&file, pub_line(&k.alice, "alice")).expect("writes the key file");
    let sock = dir.path().join("ctl.sock");
    let host = keyed_host(&file, &sock);
    let link = host.line("ssh session: ", &[]);
    let link = link.trim_start_matches("ssh session: ");
    let (rw, port) = (token(link), common::env::port_of(link));
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
