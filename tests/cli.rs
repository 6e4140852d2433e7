//! The binaries as a user runs them: `cotty relay`, `cotty -F`, and stock ssh guests.

mod common;

use common::env::{WAIT, token};
use common::guest::{GuestOptions, SshGuest};
use common::proc::Proc;
use common::wait::{key_fingerprint, ssh_keygen};
use std::process::Command;

/// Starts `cotty relay` on a free port; returns it, its port and fingerprint.
fn relay(dir: &std::path::Path) -> (Proc, u16, String) {
    let key = dir.join("relay_key").display().to_string();
    let r = Proc::relay(&key, &[], None);
    let (port, fp) = r.relay_address(WAIT);
    (r, port, fp)
}

fn is_token(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[test]
fn relay_and_headless_host_print_the_links_and_log_guests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut relay, port, fp) = relay(dir.path());
    let key_file = dir.path().join("relay_key");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file)
        .expect("key exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the created host key is private");

    let relay_addr = format!("127.0.0.1:{port}");
    let mut host = Proc::headless_host(port, dir.path());
    let rw = host.line("ssh session: ", &[]);
    let ro = host.line("ssh session read only: ", &[]);
    // Exactly the shape scripts pick out.
    let rw_tok = token(&rw);
    let ro_tok = token(&ro);
    assert_eq!(rw, format!("ssh session: ssh -p {port} {rw_tok}@127.0.0.1"));
    assert_eq!(
        ro,
        format!("ssh session read only: ssh -p {port} {ro_tok}@127.0.0.1")
    );
    assert!(is_token(&rw_tok), "{rw_tok}");
    assert!(
        ro_tok.starts_with("ro-") && is_token(&ro_tok[3..]),
        "{ro_tok}"
    );
    // The web links follow, with tmate -F's prefixes and the same tokens in the fragment.
    assert_eq!(
        host.line("web session: ", &[]),
        format!("web session: http://127.0.0.1:{port}/#{rw_tok}")
    );
    assert_eq!(
        host.line("web session read only: ", &[]),
        format!("web session read only: http://127.0.0.1:{port}/#{ro_tok}")
    );
    // Trust on first use stored the relay's key.
    let stored = std::fs::read_to_string(dir.path().join("known_relays")).expect("known_relays");
    assert_eq!(stored.trim(), format!("{relay_addr} {fp}"));

    // A guest with a key: the join line names access, address and key fingerprint.
    let key = ssh_keygen(dir.path(), "alice");
    let key_fp = key_fingerprint(&key);
    let opts = GuestOptions {
        identity: Some(key),
        ..Default::default()
    };
    let mut g = SshGuest::spawn(port, &rw_tok, opts);
    let joined = host.line("guest 1 ", &["joined", "read-write", "127.0.0.1:", &key_fp]);
    assert!(joined.contains("via ssh"), "{joined}");
    g.wait_for_text("read-write", WAIT).expect("guest attached");

    // The program exits and is started again, as with tmate -F.
    g.type_str("exit\r");
    host.line("program exited with status 0", &[]);
    host.line("program started again", &[]);
    g.wait_for("a fresh prompt", WAIT, |s| s.text().starts_with('$'))
        .expect("respawned");

    g.send(b"\x02d");
    assert_eq!(g.wait_exit(WAIT), Some(0));
    host.line("guest 1 ", &["left", "read-write"]);

    // A second guest sees the host end the session on SIGTERM.
    let g2 = SshGuest::spawn(port, &ro_tok, GuestOptions::default());
    g2.wait_for_text("read-only", WAIT).expect("attached");
    host.signal("-TERM");
    assert_eq!(host.wait_exit(), Some(0), "the host exits cleanly");
    g2.wait_for_text("session ended by host", WAIT)
        .expect("guest told");

    relay.signal("-INT");
    assert_eq!(
        relay.wait_exit(),
        Some(0),
        "the relay exits cleanly on SIGINT"
    );
}

#[test]
fn a_changed_relay_key_is_a_hard_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_relay, port, fp) = relay(dir.path());
    let relay_addr = format!("127.0.0.1:{port}");

    let mut pinned = Proc::cotty(&[
        "-F",
        "--relay",
        &relay_addr,
        "--relay-fingerprint",
        // Well formed, and not the relay's.
        "SHA256:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
    ]);
    assert_eq!(pinned.wait_exit(), Some(1));
    let err = pinned.err.lock().expect("err").clone();
    assert!(
        err.contains("relay key mismatch") && err.contains(&fp),
        "{err}"
    );

    let known = dir.path().join("known_relays");
    std::fs::write(
        &known,
        format!("other:22 SHA256:x\n{relay_addr} SHA256:old\n"),
    )
    .expect("write");
    let known = known.display().to_string();
    let mut tofu = Proc::cotty(&["-F", "--relay", &relay_addr, "--known-relays", &known]);
    assert_eq!(tofu.wait_exit(), Some(1));
    let err = tofu.err.lock().expect("err").clone();
    assert!(
        err.contains("relay key changed") && err.contains("remove line 2 of"),
        "{err}"
    );
}

#[test]
fn help_and_bad_input_speak_plainly() {
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--relay",
        "--relay-fingerprint",
        "--known-relays",
        "--identity",
        "--size",
        "-F",
        "relay",
        "new-session",
        "C-b d",
        "--socket",
        "--listen",
        "--public-host",
        "--config",
        "--print-default-config",
        "--theme",
        "--prefix",
        "display-message",
        "show-messages",
        "list-guests",
        "kick",
        "kill-session",
        "wait-ready",
        "--api-key",
        "--name",
        "--ro-name",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(["relay", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--listen",
        "--public-host",
        "--public-port",
        "--host-key",
        "0.0.0.0:2222",
        "--config",
        "--print-default-config",
        "--host-keys",
        "--api-keys",
        "--max-connections",
        "--max-connections-per-ip",
        "--max-new-connections-per-minute",
        "--max-failed-lookups-per-minute",
        "--login-grace",
        "--max-sessions-per-ip",
        "--max-guests",
        "--max-rw-guests",
        "--max-pane",
        "--idle-timeout",
        "--resume-grace",
        "--guest-stall-timeout",
        "--web-listen",
        "--public-url",
        "--tls-cert",
        "--tls-key",
        "--trust-proxy",
    ] {
        assert!(help.contains(word), "relay --help lacks {word}:\n{help}");
    }
    // A bad value in the config file names the key and the file, before anything starts.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cotty.toml");
    std::fs::write(&file, "sidebar_width = \"wide\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .arg("-f")
        .arg(&file)
        .arg("-F")
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sidebar_width") && err.contains(&file.display().to_string()),
        "{err}"
    );
    // A config file given with -f that does not exist is named.
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(["--prefix", "C-", "-f"])
        .arg(dir.path().join("none.toml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("none.toml"), "{err}");
}

#[test]
fn the_default_config_is_printed_and_a_bad_prefix_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .arg("--print-default-config")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for key in [
        "prefix",
        "theme",
        "sidebar_width",
        "sidebar_side",
        "window_size",
        "listen",
        "public_host",
        "relay",
    ] {
        assert!(text.contains(key), "default config lacks {key}:\n{text}");
    }
    // The printed file is a valid config: a prefix flag on top of it is what fails.
    let file = dir.path().join("cotty.toml");
    std::fs::write(&file, &text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .arg("-f")
        .arg(&file)
        .args(["--prefix", "C-nope"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prefix") && err.contains("C-nope"), "{err}");
}
