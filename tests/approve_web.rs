//! A web page that `approve-web` let into a key-only session comes back by itself: when its
//! socket drops because the relay restarted, it shows the relay's ticket and is in again
//! without another `approve-web`, as long as its key is still listed. Real relay process on
//! loopback, `cotty -F`, stock ssh for `approve-web`, headless Chromium for the page.

mod common;

use common::browser::browser_or_skip;
use common::env::{WAIT, token};
use common::page_mirror::{finish, wait_page_prompt};
use common::proc::{Proc, ctl};
use common::sshcmd::{pub_line, ssh_run};
use common::wait::{key_fingerprint, ssh_keygen};
use common::web::WsGuest;
use cotty::core::types::Size;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Kills the relay and starts it again on `port` with the same key file.
fn restart(relay: &mut Proc, key: &str, port: u16) -> Proc {
    relay.signal("-KILL");
    assert!(relay.wait_exit().is_some(), "the relay did not die");
    Proc::relay_on(&format!("127.0.0.1:{port}"), key, &[], None)
}

/// A relay process and a `cotty -F` session on it that admits only the key at `alice`.
struct Keyed {
    relay: Proc,
    /// The relay's key file, to start it again with.
    key: String,
    port: u16,
    host: Proc,
    /// The read-write token.
    rw: String,
    /// The guests' key file.
    file: PathBuf,
    /// The host's control socket.
    sock: PathBuf,
}

/// Starts a relay and a session on it whose key file lists `alice` as "alice".
fn keyed(p: &Path, alice: &Path) -> Keyed {
    let file = p.join("guests");
    std::fs::write(&file, pub_line(alice, "alice")).expect("writes the key file");
    let key = p.join("relay_key").display().to_string();
    let relay = Proc::relay(&key, &[], None);
    let (port, _) = relay.relay_address(WAIT);
    let sock = p.join("ctl.sock");
    let (file_arg, sock_arg) = (file.display().to_string(), sock.display().to_string());
    let host = Proc::headless_host_with(port, p, "$ ", &["-a", &file_arg, "-S", &sock_arg]);
    let link = host.line("ssh session: ", &[]);
    let rw = token(link.trim_start_matches("ssh session: "));
    Keyed {
        relay,
        key,
        port,
        host,
        rw,
        file,
        sock,
    }
}

/// Runs the page's `approve-web` `command` with stock ssh and `key`, which must work.
fn approve(port: u16, rw: &str, key: &Path, command: &str) {
    let code = command.split_whitespace().last().expect("a code");
    let ok = ssh_run(port, rw, Some(key), &["approve-web", code]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
}

/// Waits until the page shows its `approve-web` command, and returns it.
fn approve_command(b: &common::browser::Browser) -> String {
    b.wait_js(
        "the page to show its approve-web command",
        "typeof window.cotty.state.approve === 'string'",
        WAIT,
    );
    let command = b.eval("return window.cotty.state.approve");
    command.as_str().expect("a command").to_string()
}

#[test]
fn an_approved_page_comes_back_after_a_relay_restart_while_its_key_is_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p: &Path = dir.path();
    let (alice, bob) = (ssh_keygen(p, "alice"), ssh_keygen(p, "bob"));
    let Keyed {
        mut relay,
        key,
        port,
        host,
        rw,
        file,
        sock,
    } = keyed(p, &alice);
    let url = host.line("web session: ", &[]);
    let url = url.trim_start_matches("web session: ").to_string();
    let Some(b) = browser_or_skip("approve-web-ticket", 900, 600) else {
        return;
    };

    b.open(&url);
    let command = approve_command(&b);
    approve(port, &rw, &alice, &command);
    wait_page_prompt(&b);
    let fp = key_fingerprint(&alice);
    let first = host.line("guest 1 (alice) read-write via web", &[&fp, "joined"]);

    // The relay restarts: the page reconnects with its ticket and is in again as alice,
    // with no approve-web command shown.
    let mut relay = restart(&mut relay, &key, port);
    host.line("relay connection back: the links are unchanged", &[]);
    // The restarted relay numbers its guests afresh: the page's new connection is a new line.
    host.find_line("the page joining again", WAIT, |l| {
        (l.contains("(alice) read-write via web") && l.ends_with("joined") && l != first)
            .then(|| l.to_string())
    });
    relay.wait_log(&["a web page came back with its ticket as alice"]);
    assert!(
        b.eval("return window.cotty.state.approve").is_null(),
        "the page was asked to approve again"
    );
    wait_page_prompt(&b);

    // alice's key is taken out: the page inside stays, but after the next restart its
    // ticket no longer lets it in, and it shows a new approve-web command.
    std::fs::write(&file, pub_line(&bob, "bob")).expect("rewrites the key file");
    let reload = ctl(&sock, &["reload-keys"]);
    assert!(reload.status.success(), "{reload:?}");
    let _relay = restart(&mut relay, &key, port);
    let again = approve_command(&b);
    assert_ne!(again, command, "a new code");
    finish(&b, "approve-web-ticket");
}

/// Reads the page's messages until `done`, within [`WAIT`].
fn read_until(page: &mut WsGuest, what: &str, done: impl Fn(&WsGuest) -> bool) {
    let end = std::time::Instant::now() + WAIT;
    while !done(page) {
        assert!(
            std::time::Instant::now() < end && !page.closed,
            "no {what}: bye {:?}",
            page.bye
        );
        page.next_message(Duration::from_millis(200));
    }
}

#[test]
fn a_ticket_brings_a_page_back_by_hand_until_the_host_kicks_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p: &Path = dir.path();
    let alice = ssh_keygen(p, "alice");
    let k = keyed(p, &alice);
    let (port, rw, sock) = (k.port, k.rw.clone(), k.sock.clone());
    let size = Size::new(80, 24);

    let mut page = WsGuest::join(port, &rw, size);
    read_until(&mut page, "approve command", |g| g.approve.is_some());
    let command = page.approve.clone().unwrap_or_default();
    approve(port, &rw, &alice, &command);
    read_until(&mut page, "ticket and frame", |g| {
        g.ticket.is_some() && g.frames > 0
    });
    let ticket = page.ticket.clone().unwrap_or_default();

    // The same ticket shown by hand: in at once, no code asked.
    let mut twin = WsGuest::join_with(port, &rw, size, Some(&ticket));
    read_until(&mut twin, "frame", |g| g.frames > 0);
    assert!(twin.approve.is_none(), "{:?}", twin.approve);
    // It keeps that ticket, end and all: one ticket per approval, for a kick to revoke.
    assert_eq!(twin.ticket.as_deref(), Some(ticket.as_str()));
    // A changed ticket is no ticket.
    let forged = format!("9{ticket}");
    let mut other = WsGuest::join_with(port, &rw, size, Some(&forged));
    read_until(&mut other, "approve command", |g| g.approve.is_some());

    // The host kicks the first page: its ticket no longer brings anyone back.
    let kick = ctl(&sock, &["kick", "1"]);
    assert!(kick.status.success(), "{kick:?}");
    let bye = page.wait_bye(WAIT);
    assert!(!bye.retry, "{bye:?}");
    let mut again = WsGuest::join_with(port, &rw, size, Some(&ticket));
    read_until(&mut again, "approve command", |g| g.approve.is_some());
    assert_eq!(again.frames, 0);
}
