//! Forge keys (`--github USER` and the like) against a forge stub on loopback: the fetcher
//! for each way a forge answers, then `cotty -F` as a user runs it.

mod common;

use clap::Parser;
use common::env::{WAIT, token};
use common::forge_stub::{ForgeStub, forge_config};
use common::guest::{GuestOptions, SshGuest};
use common::proc::{LOOPBACK_HEADLESS, Proc};
use common::wait::{key_fingerprint, self_signed, ssh_keygen, wait_until};
use cotty::cli::Cli;
use cotty::host::forge::{FetchErrors, ForgeKeys, fetch_all};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A stub that knows alice (one key, made by ssh-keygen) and empty (no keys), and alice's
/// private key with its public line.
fn stub_with_alice(dir: &Path) -> (ForgeStub, PathBuf, String) {
    let key = ssh_keygen(dir, "alice");
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("alice.pub");
    let stub = ForgeStub::start(&[("alice", public.clone()), ("empty", String::new())]);
    (stub, key, public)
}

/// Runs the fetcher for the users on `args` (`--github alice`…) against the forge at `url`,
/// within `timeout` a user; also returns how long it took.
fn fetch(
    url: &str,
    args: &[&str],
    timeout: Duration,
) -> (Result<Option<ForgeKeys>, FetchErrors>, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = forge_config(dir.path(), url);
    let cli = Cli::try_parse_from(std::iter::once("cotty").chain(args.iter().copied()))
        .expect("the flags parse");
    let settings = cotty::config::load_from(Some(&config), true, &[], &cli).expect("settings");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let start = Instant::now();
    let result = rt.block_on(fetch_all(&settings.forge, timeout));
    (result, start.elapsed())
}

/// The error text of a fetch that must fail.
fn failure(url: &str, args: &[&str], timeout: Duration) -> String {
    match fetch(url, args, timeout).0 {
        Ok(keys) => panic!("{args:?} fetched {keys:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_user_with_keys_gets_them_named_user_and_forge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, key, public) = stub_with_alice(dir.path());
    let (keys, _) = fetch(&stub.url, &["--github", "alice"], WAIT);
    let keys = keys.expect("fetched").expect("a user was given");
    // `TYPE BASE64 alice` from ssh-keygen becomes `TYPE BASE64 alice (github)`.
    let mut fields = public.split_whitespace();
    let (kind, base64) = (fields.next().expect("type"), fields.next().expect("key"));
    assert_eq!(keys.lines, [format!("{kind} {base64} alice (github)")]);
    let url = format!("{}/alice.keys", stub.url);
    assert_eq!(
        keys.log,
        [format!(
            "guest keys: alice (github) may join with 1 key from {url}: {}",
            key_fingerprint(&key)
        )]
    );
    // The same user on two forges is two names.
    let (keys, _) = fetch(
        &stub.url,
        &["--github", "alice", "--codeberg", "alice"],
        WAIT,
    );
    let lines = keys.expect("fetched").expect("users").lines;
    assert!(lines[1].ends_with(" alice (codeberg)"), "{lines:?}");
}

#[test]
fn an_unknown_user_or_a_user_without_keys_is_an_error_naming_both_and_the_forge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, _, _) = stub_with_alice(dir.path());
    let err = failure(
        &stub.url,
        &["--github", "nobody", "--gitlab", "empty"],
        WAIT,
    );
    let url = &stub.url;
    assert!(
        err.contains(&format!(
            "github has no user \"nobody\" ({url}/nobody.keys answered 404 Not Found)"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "gitlab user \"empty\" publishes no ssh keys ({url}/empty.keys is empty)"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "one line a failure: {err}");
    // One good user does not hide a bad one.
    let err = failure(
        &stub.url,
        &["--github", "alice", "--codeberg", "nobody"],
        WAIT,
    );
    assert!(err.starts_with("codeberg has no user \"nobody\""), "{err}");
}

#[test]
fn a_forge_that_does_not_answer_in_time_is_an_error_even_mid_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, _, _) = stub_with_alice(dir.path());
    let limit = Duration::from_millis(700);
    for user in ["slow", "trickle"] {
        let (result, took) = fetch(&stub.url, &["--github", user], limit);
        let err = result.expect_err(user).to_string();
        assert!(
            err.starts_with(&format!(
                "github did not answer for user \"{user}\" within 0.7s ({}/{user}.keys)",
                stub.url
            )),
            "{err}"
        );
        assert!(took >= limit && took < WAIT, "{user}: {took:?}");
    }
    // All users are asked at once: four stalls cost one time limit, not four.
    let args = ["--github", "slow", "--gitlab", "slow", "--codeberg", "slow"];
    let (result, took) = fetch(
        &stub.url,
        &[&args[..], &["--github", "trickle"]].concat(),
        limit,
    );
    assert_eq!(result.expect_err("stalls").0.len(), 4);
    assert!(took < limit * 3, "asked one after the other? {took:?}");
}

#[test]
fn other_answers_and_no_answer_say_what_came_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, _, _) = stub_with_alice(dir.path());
    let err = failure(&stub.url, &["--github", "broken"], WAIT);
    assert!(
        err.starts_with("github answered 500 Internal Server Error for user \"broken\""),
        "{err}"
    );
    let err = failure(&stub.url, &["--github", "huge"], WAIT);
    assert!(
        err.contains("sent more than 64 KiB for github user \"huge\""),
        "{err}"
    );
    // A forge that is not there: the port of a listener that is closed again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let gone = format!("http://127.0.0.1:{port}");
    let err = failure(&gone, &["--gitlab", "alice"], WAIT);
    assert!(
        err.starts_with(&format!(
            "failed to fetch the ssh keys of gitlab user \"alice\" from http://127.0.0.1:{port}/alice.keys: "
        )) && err.to_lowercase().contains("refused"),
        "{err}"
    );
}

#[test]
fn https_goes_through_rustls_and_refuses_a_certificate_no_known_authority_signed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((cert, key)) = self_signed(dir.path()) else {
        return;
    };
    // The relay serves HTTPS with the certificate, which names 127.0.0.1 but is signed by
    // nobody in the built-in roots: the handshake runs, and the check refuses it.
    let relay_key = dir.path().join("relay_key").display().to_string();
    let relay = Proc::relay(&relay_key, &["--tls-cert", &cert, "--tls-key", &key], None);
    let (port, _) = relay.relay_address(WAIT);
    let url = format!("https://127.0.0.1:{port}");
    let err = failure(&url, &["--github", "alice"], WAIT);
    assert!(
        err.starts_with(&format!(
            "failed to fetch the ssh keys of github user \"alice\" from {url}/alice.keys: "
        )) && err.contains("invalid peer certificate"),
        "{err}"
    );
}

/// `cotty -F` with the built-in relay on loopback, every forge at `stub`, and `args`.
fn host(stub: &ForgeStub, dir: &Path, args: &[&str]) -> Proc {
    let config = stub.config(dir).display().to_string();
    let mut argv = vec!["-f", config.as_str()];
    argv.extend(LOOPBACK_HEADLESS);
    argv.extend(args);
    argv.extend(["new-session", "sh", "-c", "PS1='$ ' exec sh"]);
    Proc::cotty(&argv)
}

#[test]
fn the_host_stops_with_the_reason_when_a_forge_user_cannot_be_had() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, _, _) = stub_with_alice(dir.path());
    let mut p = host(
        &stub,
        dir.path(),
        &["--github", "nobody", "--gitlab", "empty"],
    );
    assert_eq!(p.wait_exit(), Some(1), "a failed fetch stops the host");
    let err = p.err.lock().expect("err").clone();
    assert!(
        err.contains("cotty: github has no user \"nobody\""),
        "{err}"
    );
    assert!(
        err.contains("gitlab user \"empty\" publishes no ssh keys"),
        "{err}"
    );
    assert!(
        p.lines
            .lock()
            .expect("lines")
            .iter()
            .all(|l| !l.starts_with("ssh session"))
    );

    // The host's own limit is 5 s, the whole answer included.
    let start = Instant::now();
    let mut p = host(&stub, dir.path(), &["--codeberg", "trickle"]);
    assert_eq!(p.wait_exit(), Some(1), "a stalled forge stops the host");
    let took = start.elapsed();
    let err = p.err.lock().expect("err").clone();
    assert!(
        err.contains("codeberg did not answer for user \"trickle\" within 5s"),
        "{err}"
    );
    assert!(took >= Duration::from_secs(5), "gave up after {took:?}");
}

#[test]
fn the_host_starts_with_a_forge_users_keys_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, key, _) = stub_with_alice(dir.path());
    let p = host(&stub, dir.path(), &["--github", "alice"]);
    let fp = key_fingerprint(&key);
    p.line(
        "guest keys: alice (github) may join with 1 key from ",
        &[&fp],
    );
    p.line("ssh session: ", &[]);
}

/// The relay's key check turns the forge user's keys into the gate at ssh login; and
/// `reload-keys`, which reads the `-a` file again, keeps the keys fetched at the start.
#[test]
fn a_guest_with_the_forge_users_key_joins_under_their_name_and_others_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (stub, key, _) = stub_with_alice(dir.path());
    let p = host(&stub, dir.path(), &["--github", "alice"]);
    let socket = p.line("control socket: ", &[]);
    let socket = socket.trim_start_matches("control socket: ").to_string();
    let link = p.line("ssh session: ", &[]);
    let link = link.trim_start_matches("ssh session: ");
    let port = common::env::port_of(link);

    let alice = GuestOptions {
        identity: Some(key),
        ..Default::default()
    };
    let g = SshGuest::spawn(port, &token(link), alice.clone());
    g.wait_for_text("read-write", WAIT).expect("alice joins");
    let mut guests = String::new();
    wait_until("alice in list-guests", WAIT, || {
        let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
            .args(["-S", &socket, "list-guests"])
            .output()
            .expect("cotty runs");
        guests = String::from_utf8_lossy(&out.stdout).into_owned();
        !guests.is_empty()
    })
    .expect("a guest line");
    assert!(guests.contains("alice (github)"), "{guests}");

    // Bob's key is not alice's: ssh gives up, and the host never sees him.
    let bob = GuestOptions {
        identity: Some(ssh_keygen(dir.path(), "bob")),
        ..Default::default()
    };
    let mut b = SshGuest::spawn(port, &token(link), bob);
    let code = b.wait_exit(WAIT);
    assert!(
        matches!(code, Some(c) if c != 0),
        "bob's ssh: {code:?}, screen {}",
        b.text()
    );
    assert!(!b.text().contains("read-write"), "{}", b.text());
    let lines = p.lines.lock().expect("lines").clone();
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(" joined")).count(),
        1,
        "only alice joined: {lines:?}"
    );

    // Without -a there is no file to read again, but the forge's keys stay the session's list.
    let reload = common::proc::ctl(std::path::Path::new(&socket), &["reload-keys"]);
    let said = String::from_utf8_lossy(&reload.stdout).into_owned();
    assert!(
        reload.status.success() && said.contains("1 guest keys"),
        "{reload:?}"
    );
    let again = SshGuest::spawn(port, &token(link), alice);
    again
        .wait_for_text("read-write", WAIT)
        .expect("alice joins after reload-keys");
}
