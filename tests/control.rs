//! Scripting a running cotty over its control socket, as tmate users script pairing:
//! `cotty -S SOCK display -p '#{ssh}'` and the other commands, against `cotty -F` with its
//! built-in relay.

mod common;

use common::env::{WAIT, port_of, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::proc::{LOOPBACK_HEADLESS, Proc, ctl, err, out};
use common::wait::wait_until;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn every_control_command_against_a_headless_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ctl.sock");
    let s = sock.display().to_string();
    let mut host = Proc::cotty(&[
        "-F",
        "--listen",
        "127.0.0.1:0",
        "--public-host",
        "127.0.0.1",
        "-S",
        &s,
        "new-session",
        "bash",
        "--norc",
        "--noprofile",
    ]);

    let ready = ctl(&sock, &["wait-ready", "--timeout", "20"]);
    assert!(ready.status.success(), "wait-ready: {}", err(&ready));
    let mode = std::fs::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");

    // display -p: the links, exactly as -F printed them.
    let printed = host.line("ssh session: ", &[]);
    let link = out(&ctl(&sock, &["display", "-p", "#{ssh}"]));
    assert_eq!(printed, format!("ssh session: {link}"));
    let ro = out(&ctl(&sock, &["display", "-p", "#{ssh_ro}"]));
    assert_eq!(
        host.line("ssh session read only: ", &[]),
        format!("ssh session read only: {ro}")
    );
    assert_eq!(
        out(&ctl(
            &sock,
            &["display", "-p", "rw=#{tmate_ssh} ro=#{tmate_ssh_ro}"]
        )),
        format!("rw={link} ro={ro}")
    );
    assert_eq!(out(&ctl(&sock, &["display", "-p", "#{relay_state}"])), "up");
    let bad = ctl(&sock, &["display", "-p", "#{sshh}"]);
    assert!(!bad.status.success());
    assert!(
        err(&bad).contains("sshh") && err(&bad).contains("#{ssh}"),
        "{}",
        err(&bad)
    );

    // The web links, as -F printed them, under our names and tmate's.
    let web = host.line("web session: ", &[]);
    let web_ro = host.line("web session read only: ", &[]);
    for (var, printed) in [
        ("#{web}", &web),
        ("#{tmate_web}", &web),
        ("#{web_ro}", &web_ro),
        ("#{tmate_web_ro}", &web_ro),
    ] {
        let link = out(&ctl(&sock, &["display", "-p", var]));
        assert!(
            printed.ends_with(&format!(": {link}")) && link.starts_with("http://"),
            "{var}: {link} against {printed}"
        );
    }

    // tmate's spellings: wait tmate-ready, list-clients, and -S after the command.
    let tmate_ready = ctl(&sock, &["wait", "tmate-ready"]);
    assert!(tmate_ready.status.success(), "{}", err(&tmate_ready));
    let after = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(["display", "-p", "#{ssh}", "-S"])
        .arg(&sock)
        .output()
        .expect("cotty runs");
    assert_eq!(out(&after), link, "-S after the command: {}", err(&after));

    // list-guests (and list-clients): empty, then one line for a stock ssh guest.
    assert_eq!(out(&ctl(&sock, &["list-guests"])), "");
    assert_eq!(out(&ctl(&sock, &["list-clients"])), "");
    let mut g = SshGuest::spawn(port_of(&link), &token(&link), GuestOptions::default());
    wait_prompt(&g);
    let mut line = String::new();
    wait_until("the guest in list-guests", WAIT, || {
        line = out(&ctl(&sock, &["list-guests"]));
        !line.is_empty()
    })
    .expect("a guest line");
    assert_eq!(out(&ctl(&sock, &["list-clients"])), line);
    assert!(
        line.starts_with("1: ")
            && line.contains(" via ssh from 127.0.0.1:")
            && line.contains(", rw, 80x24, idle "),
        "{line}"
    );

    // show-messages: the log, with the links and the join.
    let log = out(&ctl(&sock, &["show-messages"]));
    assert!(log.contains(&format!("ssh link: {link}")), "{log}");
    assert!(
        log.contains("guest 1 read-write via ssh") && log.contains("joined"),
        "{log}"
    );
    assert!(
        !log.contains("guest 1 (guest 1)"),
        "a name said twice: {log}"
    );

    // kick: by a wrong name fails plainly; by id ends the guest's ssh.
    let nobody = ctl(&sock, &["kick", "nobody"]);
    assert!(!nobody.status.success());
    assert!(err(&nobody).contains("list-guests"), "{}", err(&nobody));
    let kick = ctl(&sock, &["kick", "1"]);
    assert!(kick.status.success(), "kick: {}", err(&kick));
    assert!(g.wait_exit(WAIT).is_some(), "ssh still runs after kick");
    g.wait_for_text("disconnected by the host", WAIT)
        .expect("the guest is told why");
    let told = g.text().matches("disconnected by the host").count();
    assert_eq!(told, 1, "said once:\n{}", g.text());
    host.line("guest 1 read-write", &["left"]);

    // kill-session: the host exits 0 and its socket goes away.
    let kill = ctl(&sock, &["kill-session"]);
    assert!(kill.status.success(), "kill-session: {}", err(&kill));
    assert_eq!(
        host.wait_exit(),
        Some(0),
        "stderr: {}",
        host.err.lock().expect("err")
    );
    assert!(!sock.exists(), "the socket file was left behind");

    // A dead socket: a plain error and a non-zero exit.
    let dead = ctl(&sock, &["list-guests"]);
    assert_eq!(dead.status.code(), Some(1));
    assert!(
        err(&dead).contains("no cotty is running on"),
        "{}",
        err(&dead)
    );
    assert!(err(&dead).contains(&s), "{}", err(&dead));
}

#[test]
fn a_stale_socket_file_is_a_plain_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("stale.sock");
    // A socket file nobody listens on, as a crashed cotty leaves it.
    drop(std::os::unix::net::UnixListener::bind(&sock).expect("bind"));
    let o = ctl(&sock, &["display", "-p", "#{ssh}"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no cotty is running on"), "{}", err(&o));
}

#[test]
fn new_session_d_starts_a_host_in_the_background_as_tmate_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("bg.sock");
    let s = sock.display().to_string();
    // tmate's habit: start detached, then wait for it and ask for the link.
    let started = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args([
            "-S",
            &s,
            "--listen",
            "127.0.0.1:0",
            "--public-host",
            "127.0.0.1",
        ])
        .args(["new-session", "-d"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("SHELL", "/bin/sh")
        .env("PS1", "$ ")
        .output()
        .expect("cotty runs");
    assert!(
        started.status.success(),
        "new-session -d: {}",
        err(&started)
    );
    assert_eq!(out(&started), "", "detached: no output lines");
    let ready = ctl(&sock, &["wait", "tmate-ready"]);
    assert!(ready.status.success(), "wait tmate-ready: {}", err(&ready));
    let link = out(&ctl(&sock, &["display", "-p", "#{ssh}"]));
    assert!(link.starts_with("ssh -p "), "{link}");
    // A stock ssh guest gets the background session's shell.
    let g = SshGuest::spawn(port_of(&link), &token(&link), GuestOptions::default());
    wait_prompt(&g);
    let kill = ctl(&sock, &["kill-session"]);
    assert!(kill.status.success(), "kill-session: {}", err(&kill));
    wait_until("the background host's socket to go", WAIT, || {
        !sock.exists()
    })
    .expect("the background host ended");
}

#[test]
fn with_two_sessions_on_the_default_socket_a_command_asks_which() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = dir.path().display().to_string();
    let env = [("XDG_RUNTIME_DIR", runtime.as_str())];
    let args = LOOPBACK_HEADLESS;
    let plain = |cmd: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cotty"))
            .args(cmd)
            .env("XDG_RUNTIME_DIR", dir.path())
            .output()
            .expect("cotty runs")
    };
    let mut first = Proc::cotty_env(&args, &env);
    let first_link = first.line("ssh session: ", &[]);
    assert_eq!(
        format!("ssh session: {}", out(&plain(&["display", "-p", "#{ssh}"]))),
        first_link
    );
    // A second one takes default-PID; a command without -S must not guess.
    let second = Proc::cotty_env(&args, &env);
    let second_link = second.line("ssh session: ", &[]);
    let which = plain(&["display", "-p", "#{ssh}"]);
    assert_eq!(which.status.code(), Some(1), "{}", out(&which));
    let e = err(&which);
    assert!(
        e.contains("2 cotty sessions are running") && e.contains("-S PATH"),
        "{e}"
    );
    assert!(
        e.contains("/cotty/default\n") && e.contains("/cotty/default-"),
        "{e}"
    );
    assert_eq!(out(&which), "", "no link handed out");
    // With the first gone, the one left is found again without -S.
    let kill = plain(&["-S", &format!("{runtime}/cotty/default"), "kill-session"]);
    assert!(kill.status.success(), "{}", err(&kill));
    assert_eq!(first.wait_exit(), Some(0));
    wait_until("the second session alone", WAIT, || {
        format!("ssh session: {}", out(&plain(&["display", "-p", "#{ssh}"]))) == second_link
    })
    .expect("the one session left answers");
}
