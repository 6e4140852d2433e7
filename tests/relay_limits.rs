//! The relay's front door, as `cotty relay` runs it: the login grace, the per-address and
//! global connection caps, failed lookups, the open-file limit, and `--host-keys`.

mod common;

use common::env::{WAIT, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::proc::Proc;
use common::wait::{ssh_keygen, wait_until};
use common::web::WsGuest;
use cotty::core::types::Size;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Starts `cotty relay` with a config file of `toml` and `extra` flags; returns it and its
/// port and fingerprint.
fn relay(dir: &Path, toml: &str, extra: &[&str]) -> (Proc, u16, String) {
    let file = dir.join("relay.toml");
    std::fs::write(&file, toml).expect("write the relay config");
    let key = dir.join("relay_key").display().to_string();
    let file = file.display().to_string();
    let mut args = vec!["--config", file.as_str()];
    args.extend(extra);
    let r = Proc::relay(&key, &args, None);
    let (port, fp) = r.relay_address(WAIT);
    (r, port, fp)
}

/// Connects to the relay on `port`.
fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    s
}

/// Whether the relay answers a new connection with its ssh banner (else it closed it).
fn gets_banner(port: u16) -> Option<TcpStream> {
    let mut s = connect(port);
    // Speak first, as ssh clients do: a silent client gets the banner only after the relay
    // has waited for it to show whether it speaks ssh or HTTP. A refused connection may
    // fail the write; the read below tells.
    let _ = s.write_all(b"SSH-2.0-limits_test\r\n");
    read_banner(s)
}

/// Reads the relay's ssh banner from `s`; `None` if the relay closed it instead.
fn read_banner(mut s: TcpStream) -> Option<TcpStream> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.windows(4).any(|w| w == b"SSH-") {
        match s.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("no banner and no close within {WAIT:?}: {e}"),
        }
    }
    Some(s)
}

/// Reads until the relay closes `s`; panics if it does not within [`WAIT`].
fn read_to_close(s: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the relay did not close the connection within {WAIT:?}: {e}"),
        }
    }
}

#[test]
fn a_silent_socket_is_closed_after_the_login_grace_set_in_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port, _) = relay(dir.path(), "login_grace = \"1s\"\n", &[]);
    let started = Instant::now();
    // Silent: after half the grace the relay takes it for an ssh client that waits for the
    // server, and sends its banner.
    let mut s = read_banner(connect(port)).expect("the relay speaks first");
    read_to_close(&mut s);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "closed after {took:?}, with a login grace of 1s"
    );
    r.wait_log(&["login grace time of 1s passed", "before its ssh banner"]);
}

#[test]
fn ssh_without_a_session_channel_is_disconnected_after_the_login_grace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port, _) = relay(dir.path(), "login_grace = \"1s\"\n", &[]);
    let opts = GuestOptions {
        extra_args: vec!["-N".into()],
        ..GuestOptions::default()
    };
    // A valid-looking user logs in (keyboard-interactive asks nothing) but opens nothing.
    let mut g = SshGuest::spawn(port, "somebody", opts);
    assert!(
        g.wait_exit(WAIT).is_some(),
        "`ssh -N` was still connected after {WAIT:?}: {}",
        g.text()
    );
    r.wait_log(&["login grace time of 1s passed", "without opening a session"]);
}

#[test]
fn too_many_failed_lookups_tell_the_guest_how_long_to_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port, _) = relay(dir.path(), "max_failed_lookups_per_minute = 2\n", &[]);
    let guess = |n: u32| {
        let mut g = SshGuest::spawn(port, &format!("guess{n}"), GuestOptions::default());
        g.wait_for_text("cotty:", WAIT).expect("a message");
        g.wait_exit(WAIT);
        g.text()
    };
    for n in 0..2 {
        let text = guess(n);
        assert!(text.contains("no such session"), "{text}");
    }
    for n in 2..4 {
        // The third goes over 2 a minute, and the fourth is refused before its lookup.
        let text = guess(n);
        let wait = text
            .split("cotty: too many attempts from your address; wait ")
            .nth(1)
            .and_then(|rest| rest.split(" s").next())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no wait in {text:?}"));
        assert!((1..=30).contains(&wait), "wait {wait} s: {text}");
    }
    r.wait_log(&[
        "token lookups from 127.0.0.1 refused",
        "--max-failed-lookups",
    ]);
}

#[test]
fn wrong_web_links_count_with_wrong_ssh_links_towards_the_same_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_r, port, _) = relay(dir.path(), "max_failed_lookups_per_minute = 2\n", &[]);
    let web_guess = |n: u32| {
        let mut g = WsGuest::join(port, &format!("webguess{n}"), Size::new(80, 24));
        g.wait_bye(WAIT)
    };
    // Two wrong links from a browser, then one over ssh: the third goes over 2 a minute.
    for n in 0..2 {
        let bye = web_guess(n);
        assert_eq!(bye.reason, "no such session; check the link you were given");
        assert!(!bye.retry);
    }
    let mut g = SshGuest::spawn(port, "sshguess", GuestOptions::default());
    g.wait_for_text("too many attempts from your address", WAIT)
        .expect("the ssh guest is told to wait");
    g.wait_exit(WAIT);
    // And a browser after it is told the same, in its own words.
    let bye = web_guess(3);
    assert!(
        bye.reason
            .starts_with("too many attempts from your address; wait "),
        "{bye:?}"
    );
}

#[test]
fn connections_over_the_per_address_cap_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = "max_connections_per_ip = 2\nlogin_grace = \"1m\"\n";
    let (r, port, _) = relay(dir.path(), toml, &[]);
    let first = gets_banner(port).expect("first is in");
    let _second = gets_banner(port).expect("second is in");
    assert!(
        gets_banner(port).is_none(),
        "a third from 127.0.0.1 is closed"
    );
    r.wait_log(&["refused", "2 connections open", "--max-connections-per-ip"]);
    // Closing one gives its place back (once the relay has seen the close).
    drop(first);
    let mut again = None;
    wait_until("a free place", WAIT, || {
        again = gets_banner(port);
        again.is_some()
    })
    .expect("a place is given back when a connection closes");
}

#[test]
fn new_connections_over_the_rate_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port, _) = relay(dir.path(), "max_new_connections_per_minute = 3\n", &[]);
    for _ in 0..3 {
        assert!(gets_banner(port).is_some(), "within the burst");
    }
    assert!(
        gets_banner(port).is_none(),
        "the fourth in a minute is closed"
    );
    r.wait_log(&[
        "too many new connections",
        "--max-new-connections-per-minute",
    ]);
}

#[test]
fn connections_over_the_global_cap_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, port, _) = relay(dir.path(), "", &["--max-connections", "2"]);
    r.line("max connections 2 (from --max-connections)", &[]);
    let _a = gets_banner(port).expect("first");
    let _b = gets_banner(port).expect("second");
    assert!(gets_banner(port).is_none(), "the third is closed");
    r.wait_log(&["refused: 2 connections open (--max-connections)"]);
}

#[test]
fn the_default_cap_comes_from_the_open_file_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("relay_key").display().to_string();
    let script = "ulimit -n 256 && exec \"$0\" relay --listen 127.0.0.1:0 --host-key \"$1\"";
    let r = Proc::spawn(
        "sh",
        &["-c", script, env!("CARGO_BIN_EXE_cotty"), key.as_str()],
    );
    r.line("max connections 64 (from the open-file limit 256)", &[]);
}

#[test]
fn only_hosts_with_a_listed_key_may_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = ssh_keygen(dir.path(), "host_a");
    let b = ssh_keygen(dir.path(), "host_b");
    let a_pub = std::fs::read_to_string(a.with_extension("pub")).expect("a.pub");
    let b_pub = std::fs::read_to_string(b.with_extension("pub")).expect("b.pub");
    // a may host from loopback; b only from an address the test never dials from.
    let hosts = format!("# ours\nfrom=\"127.0.0.0/8\" {a_pub}from=\"192.0.2.7\" {b_pub}");
    std::fs::write(dir.path().join("hosts"), hosts).expect("write");
    // Relative to the config file's folder.
    let (r, port, fp) = relay(dir.path(), "host_keys = \"hosts\"\n", &[]);
    let host = |identity: Option<&Path>| {
        let relay_addr = format!("127.0.0.1:{port}");
        let mut args = vec!["-F", "--relay", &relay_addr, "--relay-fingerprint", &fp];
        let id = identity.map(|p| p.display().to_string());
        if let Some(id) = &id {
            args.extend(["--identity", id]);
        }
        args.extend(["new-session", "sh", "-c", "PS1='$ ' exec sh"]);
        Proc::cotty(&args)
    };

    let listed = host(Some(&a));
    let link = listed.line("ssh session: ", &[]);
    // Guests are not affected.
    let g = SshGuest::spawn(port, &token(&link), GuestOptions::default());
    wait_prompt(&g);

    let mut other = host(Some(&b));
    assert_eq!(other.wait_exit(), Some(1), "a refused host exits");
    let err = other.err.lock().expect("err").clone();
    let b_base64 = b_pub.split_whitespace().nth(1).expect("base64");
    assert!(
        err.contains("the relay refused this host key")
            && err.contains("--host-keys")
            && err.contains(b_base64)
            && err.contains("fingerprint SHA256:"),
        "{err}"
    );
    r.wait_log(&[
        "host login from 127.0.0.1",
        "is listed, but not for this address, in the --host-keys file",
    ]);

    // Without --identity, a host makes its own key and is told to list it.
    let mut unlisted = host(None);
    assert_eq!(unlisted.wait_exit(), Some(1));
    let made = unlisted.runtime.path().join("cotty").join("host_key");
    let made_pub = std::fs::read_to_string(&made)
        .ok()
        .and_then(|_| {
            let key = russh::keys::load_secret_key(&made, None).ok()?;
            key.public_key().to_openssh().ok()
        })
        .unwrap_or_else(|| panic!("no host key was made at {}", made.display()));
    let made_base64 = made_pub.split_whitespace().nth(1).expect("base64");
    let err = unlisted.err.lock().expect("err").clone();
    assert!(
        err.contains("the relay refused this host key") && err.contains(made_base64),
        "{err}"
    );
    r.wait_log(&["is not in the --host-keys file"]);
}
