//! Named sessions end to end: a relay with `--api-keys`, headless hosts with `-k -n -r`,
//! and stock ssh and websocket guests joining by `USERNAME/NAME`.

mod common;

use common::browser::browser_or_skip;
use common::env::{WAIT, marker, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::page_mirror::{finish, join, run, wait_page_prompt};
use common::proc::Proc;
use common::proxy::Proxy;
use common::web::WsGuest;
use cotty::core::types::Size;
use std::path::Path;

/// alice's API key.
const ALICE: &str = "alice-key-0123456789";
/// Another key of alice's (a second machine): the same user, but not the same key.
const ALICE_LAPTOP: &str = "alice-laptop-0123456789";
/// bob's API key, which the relay learns only on a reload.
const BOB: &str = "bob-key-0123456789ab";

/// Writes the `--api-keys` file in `dir`: `lines` as they are.
fn api_keys(dir: &Path, lines: &str) -> String {
    let path = dir.join("api_keys");
    std::fs::write(&path, lines).expect("write the api keys");
    path.display().to_string()
}

/// A relay with alice's two keys, listening on `listen`: it, its port and its key file.
fn relay_on(dir: &Path, listen: &str) -> (Proc, u16) {
    let keys = api_keys(
        dir,
        &format!("# operators\n{ALICE} alice\n{ALICE_LAPTOP} alice\n"),
    );
    let key = dir.join("relay_key").display().to_string();
    let relay = Proc::relay_on(listen, &key, &["--api-keys", &keys], None);
    let (port, _) = relay.relay_address(WAIT);
    (relay, port)
}

/// A headless host whose prompt is `$ LABEL> `, with `flags`.
fn host(port: u16, dir: &Path, label: &str, flags: &[&str]) -> Proc {
    Proc::headless_host_with(port, dir, &format!("$ {label}> "), flags)
}

/// A stock ssh guest joining as `user`.
fn guest(port: u16, user: &str) -> SshGuest {
    SshGuest::spawn(port, user, GuestOptions::default())
}

/// Waits until the host process exits refused, and returns what it said on stderr.
fn refusal(mut host: Proc) -> String {
    let code = host.wait_exit();
    let err = host.err.lock().expect("err").clone();
    assert!(
        code.is_some_and(|c| c != 0),
        "the host should stop with an error, got {code:?}; stderr: {err}"
    );
    err
}

#[test]
fn guests_join_a_named_session_by_name_over_ssh_and_the_web() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let flags = ["-k", ALICE, "-n", "demo", "-r", "demo-ro"];
    let h = host(port, dir.path(), "A", &flags);
    assert_eq!(
        h.line("ssh session: ", &[]),
        format!("ssh session: ssh -p {port} alice/demo@127.0.0.1")
    );
    assert_eq!(
        h.line("ssh session read only: ", &[]),
        format!("ssh session read only: ssh -p {port} alice/demo-ro@127.0.0.1")
    );
    assert_eq!(
        h.line("web session: ", &[]),
        format!("web session: http://127.0.0.1:{port}/#alice/demo")
    );
    assert_eq!(
        h.line("web session read only: ", &[]),
        format!("web session read only: http://127.0.0.1:{port}/#alice/demo-ro")
    );
    // Scripts read the named links from the control socket, as tmate's #{tmate_ssh}.
    let socket = h.line("control socket: ", &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(["-S", socket.trim_start_matches("control socket: ")])
        .args(["display", "-p", "#{ssh_ro} #{web}"])
        .output()
        .expect("cotty display runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ssh -p {port} alice/demo-ro@127.0.0.1 http://127.0.0.1:{port}/#alice/demo")
    );
    // Neither -a nor --approve: the operator is warned that the name is all it takes.
    relay.wait_log(&["named session alice/demo", "guesses its name"]);

    let g = guest(port, "alice/demo");
    wait_prompt(&g);
    g.wait_for_text("read-write", WAIT).expect("rw status");
    let m = marker("named");
    g.type_str(&format!("echo {m}-$((1+1))\r"));
    g.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("the guest types into the host's shell");
    let r = guest(port, "alice/demo-ro");
    r.wait_for_text("read-only", WAIT).expect("ro by name");
    r.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("the watcher sees the shell");

    let mut w = WsGuest::join(port, "alice/demo", Size::new(80, 24));
    w.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("a web guest joins by name");
    assert_eq!(w.status.access, "rw");
    let mut w_ro = WsGuest::join(port, "alice/demo-ro", Size::new(80, 24));
    w_ro.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("a web guest joins by ro name");
    assert_eq!(w_ro.status.access, "ro");

    // A name nobody registered is a failed lookup like a wrong token.
    let mut nope = guest(port, "alice/nope");
    nope.wait_for_text("no such session", WAIT)
        .expect("unknown name refused");
    assert!(nope.wait_exit(WAIT).is_some());
    let mut wrong_user = guest(port, "bob/demo");
    wrong_user
        .wait_for_text("no such session", WAIT)
        .expect("names live under their user");
    assert!(wrong_user.wait_exit(WAIT).is_some());
}

#[test]
fn a_bad_key_a_bad_name_or_a_name_of_another_key_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let p = dir.path();

    let err = refusal(host(
        port,
        p,
        "X",
        &["-k", "no-such-key-0123456", "-n", "demo"],
    ));
    assert!(
        err.contains("the relay does not know this API key") && err.contains("-k/--api-key"),
        "{err}"
    );
    // The host checks the name rule before dialling, naming the flag.
    let err = refusal(host(port, p, "X", &["-k", ALICE, "-n", "my.box"]));
    assert!(
        err.contains("--name") && err.contains("A-Z, a-z, 0-9, _ and -"),
        "{err}"
    );
    let err = refusal(host(port, p, "X", &["-r", "watch"]));
    assert!(err.contains("-k/--api-key"), "a name needs a key: {err}");
    // The built-in relay has no API keys: a named host must dial a relay.
    let err = refusal(Proc::cotty(&["-F", "-k", ALICE, "-n", "demo"]));
    assert!(err.contains("--relay HOST:PORT"), "{err}");

    // alice's laptop key may not take the name alice's desktop key holds.
    let a = host(port, p, "A", &["-k", ALICE, "-n", "demo"]);
    a.line("ssh session: ", &["alice/demo@"]);
    let err = refusal(host(port, p, "B", &["-k", ALICE_LAPTOP, "-n", "demo"]));
    assert!(
        err.contains("alice/demo is held by a session of another API key"),
        "{err}"
    );
    relay.wait_log(&["refused", "another API key"]);
    let g = guest(port, "alice/demo");
    g.wait_for_text("$ A>", WAIT)
        .expect("the name still leads to the first host");

    // A relay without --api-keys has no named sessions, and says what to do.
    let key = p.join("plain_key").display().to_string();
    let (_plain, plain_port) = {
        let r = Proc::relay(&key, &[], None);
        let (port, _) = r.relay_address(WAIT);
        (r, port)
    };
    let err = refusal(host(plain_port, p, "X", &["-k", ALICE, "-n", "demo"]));
    assert!(
        err.contains("this relay has no named sessions") && err.contains("--api-keys"),
        "{err}"
    );
}

#[test]
fn the_same_key_replaces_its_older_session_and_guests_land_on_the_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let flags = ["-k", ALICE, "-n", "demo"];
    let first = host(port, dir.path(), "A", &flags);
    first.line("ssh session: ", &["alice/demo@"]);
    let mut old_guest = guest(port, "alice/demo");
    old_guest
        .wait_for_text("$ A>", WAIT)
        .expect("the first host's shell");

    // The machine "rebooted": a new host with the same key and name, and no resume secret.
    let second = host(port, dir.path(), "B", &flags);
    second.line("ssh session: ", &["alice/demo@"]);
    // The old session's guests are told, and its host stops sharing and says why.
    old_guest
        .wait_for_text("the session moved to a new host", WAIT)
        .expect("the old guest is told");
    assert!(
        old_guest.wait_exit(WAIT).is_some(),
        "the old guest's ssh runs"
    );
    first.line("the relay refused this host: ", &["replaced this session"]);

    let g = guest(port, "alice/demo");
    g.wait_for_text("$ B>", WAIT)
        .expect("the name leads to the second host");
    assert!(!g.text().contains("$ A>"), "{}", g.text());
}

#[test]
fn a_named_session_keeps_its_links_when_the_relay_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let h = host(
        port,
        dir.path(),
        "A",
        &["-k", ALICE, "-n", "demo", "-r", "watch"],
    );
    let rw = h.line("ssh session: ", &["alice/demo@"]);
    let m = marker("before");
    let g = guest(port, &token(&rw));
    wait_prompt(&g);
    g.type_str(&format!("echo {m}-$((1+1))\r"));
    g.wait_for_text(&format!("{m}-2"), WAIT).expect("typed");

    relay.signal("-KILL");
    assert!(relay.wait_exit().is_some(), "the relay did not die");
    let (relay2, port2) = relay_on(dir.path(), &format!("127.0.0.1:{port}"));
    assert_eq!(port2, port);
    // The host takes its session up again from its resume secret, names and all.
    h.line("relay connection back: the links are unchanged", &[]);
    relay2.wait_log(&["resumed session"]);
    let g = guest(port, "alice/demo");
    g.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("the named link leads to the same shell");
    let r = guest(port, "alice/watch");
    r.wait_for_text("read-only", WAIT).expect("the ro name too");
    let m2 = marker("after");
    g.type_str(&format!("echo {m2}-$((1+1))\r"));
    r.wait_for_text(&format!("{m2}-2"), WAIT)
        .expect("the shell is live");
}

#[test]
fn a_named_session_keeps_its_links_and_guests_when_the_uplink_drops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let proxy = Proxy::start(format!("127.0.0.1:{port}").parse().expect("addr"));
    let h = host(
        proxy.addr().port(),
        dir.path(),
        "A",
        &["-k", ALICE, "-n", "demo"],
    );
    h.line("ssh session: ", &[&format!("-p {port} alice/demo@")]);
    let g = guest(port, "alice/demo");
    wait_prompt(&g);

    proxy.cut();
    // The host resumes on the same relay, which still holds the room and the name.
    h.line("relay connection back: the links are unchanged", &[]);
    relay.wait_log(&["resumed session"]);
    let m = marker("resumed");
    g.wait_for("the live status line", WAIT, |s| {
        !s.text().contains("host reconnecting")
    })
    .expect("the guest stays and sees the host back");
    g.type_str(&format!("echo {m}-$((1+1))\r"));
    g.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("the guest that stayed types again");
    let late = guest(port, "alice/demo");
    late.wait_for_text(&format!("{m}-2"), WAIT)
        .expect("a new guest joins by name after the resume");
}

#[test]
fn sighup_reloads_the_api_keys_and_a_broken_file_keeps_the_old_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let p = dir.path();
    let err = refusal(host(port, p, "X", &["-k", BOB, "-n", "demo"]));
    assert!(err.contains("does not know this API key"), "{err}");

    api_keys(p, &format!("{ALICE} alice\n{BOB} bob\nnot a valid line\n"));
    relay.signal("-HUP");
    relay.wait_log(&["line 3 of the --api-keys file", "skipped"]);
    relay.wait_log(&["SIGHUP: read 2 API keys"]);
    let b = host(port, p, "B", &["-k", BOB, "-n", "demo"]);
    b.line("ssh session: ", &["bob/demo@"]);

    // A reload that cannot read the file keeps the keys it had.
    std::fs::remove_file(p.join("api_keys")).expect("rm");
    relay.signal("-HUP");
    relay.wait_log(&["SIGHUP", "stay in use"]);
    let a = host(port, p, "A", &["-k", ALICE, "-n", "demo"]);
    a.line("ssh session: ", &["alice/demo@"]);
    let g = guest(port, "bob/demo");
    g.wait_for_text("$ B>", WAIT).expect("bob's session");
}

#[test]
fn a_browser_opens_the_named_web_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_relay, port) = relay_on(dir.path(), "127.0.0.1:0");
    let flags = ["-k", ALICE, "-n", "demo", "-r", "demo-ro"];
    let h = host(port, dir.path(), "A", &flags);
    let web = h.line("web session: ", &[]);
    let web_ro = h.line("web session read only: ", &[]);
    let Some(b) = browser_or_skip("named", 900, 600) else {
        return;
    };
    join(&b, web.trim_start_matches("web session: "));
    wait_page_prompt(&b);
    assert_eq!(b.state()["access"], "rw", "{}", b.describe());
    let m = marker("page");
    run(&b, &format!("echo {m}-$((2+3))"));
    b.wait_text(&format!("{m}-5"), WAIT);
    finish(&b, "named-rw");
    // The read-only name: the page learns its access from the relay, not from an `ro-`.
    join(&b, web_ro.trim_start_matches("web session read only: "));
    b.wait_text(&format!("{m}-5"), WAIT);
    b.wait_js(
        "the page to show read-only",
        "window.cotty.state.access === 'ro'",
        WAIT,
    );
    finish(&b, "named-ro");
}
