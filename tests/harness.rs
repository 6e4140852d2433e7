//! Self-tests of the test harness in `tests/common`, run without the cotty relay.

mod common;

use std::fs;
use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::time::Duration;

use common::guest::{GuestOptions, SshGuest};
use common::wait::{ssh_keygen, wait_until};

/// Returns a loopback port on which, a moment ago, nothing listened.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    listener
        .local_addr()
        .expect("failed to read the bound address")
        .port()
}

/// A guest that cannot connect shows ssh's error on its screen and exits non-zero.
///
/// This also proves the command line is valid: a bad option would make ssh exit with a
/// usage message instead of "Connection refused".
#[test]
fn ssh_to_closed_port_shows_connection_refused_and_exits_non_zero() {
    let port = closed_port();
    let mut guest = SshGuest::spawn(port, "nobody", GuestOptions::default());

    let code = guest.wait_exit(Duration::from_secs(15));
    let code = code.unwrap_or_else(|| panic!("ssh still runs after 15 s:\n{}", guest.text()));
    assert_ne!(code, 0, "ssh exited 0:\n{}", guest.text());
    assert!(!guest.is_running());

    guest
        .wait_for_text("Connection refused", Duration::from_secs(5))
        .expect("ssh's error on the guest's screen");
    assert!(guest.text().contains(&format!("port {port}")));
    assert!(guest.raw_output_len() > 0);

    let err = guest
        .wait_for_text("text ssh never prints", Duration::from_millis(50))
        .expect_err("absent text must time out");
    assert!(err.contains("text ssh never prints"), "{err}");
    assert!(
        err.contains("Connection refused"),
        "the error shows the screen: {err}"
    );
}

/// The identity option and extra arguments also make a command line that ssh accepts.
#[test]
fn ssh_with_identity_and_remote_command_reaches_the_connect_step() {
    let dir = tempfile::tempdir().expect("failed to create a temp dir");
    let key = ssh_keygen(dir.path(), "guest");
    let port = closed_port();
    let opts = GuestOptions {
        cols: 100,
        rows: 30,
        identity: Some(key),
        extra_args: vec!["echo".into(), "hello".into()],
        bind: None,
    };
    let mut guest = SshGuest::spawn(port, "nobody", opts);

    let code = guest.wait_exit(Duration::from_secs(15));
    assert!(
        matches!(code, Some(c) if c != 0),
        "ssh exit {code:?}:\n{}",
        guest.text()
    );
    guest
        .wait_for_text("Connection refused", Duration::from_secs(5))
        .expect("ssh's error on the guest's screen");
}

/// The vt100 model follows the size the guest was started with and later resizes.
#[test]
fn screen_size_follows_options_and_resize() {
    let opts = GuestOptions {
        cols: 100,
        rows: 30,
        ..GuestOptions::default()
    };
    let guest = SshGuest::spawn(closed_port(), "nobody", opts);
    let size = guest.screen().size;
    assert_eq!((size.rows, size.cols), (30, 100));

    guest.resize(120, 40);
    let size = guest.screen().size;
    assert_eq!((size.rows, size.cols), (40, 120));
}

/// `wait_until` returns as soon as its condition holds and fails, naming it, at the deadline.
#[test]
fn wait_until_is_bounded() {
    let mut calls = 0;
    wait_until("the third call", Duration::from_secs(5), || {
        calls += 1;
        calls == 3
    })
    .expect("the condition holds on the third call");
    assert_eq!(calls, 3);

    let err = wait_until("never", Duration::from_millis(50), || false)
        .expect_err("a condition that never holds must time out");
    assert!(err.contains("never"), "{err}");
}

/// `ssh_keygen` writes an OpenSSH ed25519 key pair with the given comment.
#[test]
fn ssh_keygen_creates_a_key_pair() {
    let dir = tempfile::tempdir().expect("failed to create a temp dir");
    let key = ssh_keygen(dir.path(), "alice");

    assert_eq!(key, dir.path().join("alice"));
    let private = fs::read_to_string(&key).expect("the private key file exists");
    assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let public = fs::read_to_string(key.with_extension("pub")).expect("the public key exists");
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert!(public.trim_end().ends_with(" alice"), "{public}");
}

/// Against a server that accepts but never speaks, ssh waits in a cooked terminal: what the
/// guest types is echoed on its screen, and ssh exits once the server hangs up.
#[test]
fn typed_text_echoes_while_ssh_waits_for_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    listener
        .set_nonblocking(true)
        .expect("failed to make the listener non-blocking");
    let port = listener.local_addr().expect("the bound address").port();
    let mut guest = SshGuest::spawn(port, "nobody", GuestOptions::default());

    let mut conn = None;
    wait_until("ssh to connect", Duration::from_secs(10), || {
        conn = listener.accept().ok();
        conn.is_some()
    })
    .expect("ssh connects to the listener");
    assert!(guest.is_running());
    assert_eq!(guest.wait_exit(Duration::from_millis(100)), None);

    guest.type_str("typed by the guest");
    guest
        .wait_for_text("typed by the guest", Duration::from_secs(5))
        .expect("the terminal echoes typed text");
    guest.resize(60, 20);
    assert!(guest.is_running(), "a resize must not end ssh");

    drop(conn);
    let code = guest.wait_exit(Duration::from_secs(15));
    assert!(
        matches!(code, Some(c) if c != 0),
        "ssh exit {code:?} after the server hung up:\n{}",
        guest.text()
    );
}

/// Dropping a guest kills its ssh, so the server sees the connection close.
#[test]
fn dropping_the_guest_kills_ssh() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    let port = listener.local_addr().expect("the bound address").port();
    let guest = SshGuest::spawn(port, "nobody", GuestOptions::default());
    // ssh connects at once and then waits for our banner, which never comes.
    let (mut conn, _) = listener.accept().expect("ssh connects to the listener");
    drop(guest);

    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("failed to set a read timeout");
    let mut received = Vec::new();
    // EOF or a reset both mean ssh is gone; only the read timeout means it still runs.
    let read = conn.read_to_end(&mut received);
    assert!(
        !matches!(&read, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "the connection must close when the guest is dropped: {read:?}"
    );
}
