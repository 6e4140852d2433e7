//! `cotty --tmux SESSION`: a tmux session that runs already is shared with its windows, and a
//! stock ssh guest uses tmux's own prefix in it.

mod common;

use common::env::{WAIT, port_of, token};
use common::guest::{GuestOptions, SshGuest};
use common::proc::{LOOPBACK_HEADLESS, Proc};
use common::tmux::Tmux;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs tmux on the server at `socket`.
fn tmux(socket: &Path, args: &[&str]) {
    let ok = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .env_remove("TMUX")
        .env("PS1", "$ ")
        .stdin(Stdio::null())
        .status()
        .expect("failed to run tmux; install tmux")
        .success();
    assert!(ok, "tmux {args:?} failed");
}

/// A tmux server of its own in `dir`, with a session `pair` of two windows that show
/// `first-2` and `second-4`, the first one selected; returns its socket.
fn two_windows(dir: &Path) -> std::path::PathBuf {
    let socket = dir.join("inner.sock");
    let conf = dir.join("inner.conf");
    // Its windows run a bash without rc files: what the machine's login shell does at start
    // (a version manager's hooks, say) is no part of the test and may not even finish.
    let text = "set -g status off\nset -g escape-time 0\n\
                set -g default-command 'bash --norc --noprofile'\n";
    std::fs::write(&conf, text).expect("tmux.conf");
    let conf = conf.display().to_string();
    let new = ["-f", &conf, "new-session", "-d", "-s", "pair", "-x", "80"];
    tmux(&socket, &new);
    tmux(
        &socket,
        &["send-keys", "-t", "pair:0", "echo first-$((1+1))", "Enter"],
    );
    tmux(&socket, &["new-window", "-t", "pair"]);
    tmux(
        &socket,
        &["send-keys", "-t", "pair:1", "echo second-$((2+2))", "Enter"],
    );
    tmux(&socket, &["select-window", "-t", "pair:0"]);
    socket
}

#[test]
fn a_guest_switches_the_shared_tmux_sessions_windows_with_tmuxs_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = two_windows(dir.path());

    // cotty as if started inside that tmux: TMUX names the server.
    let tmux_env = format!("{},1,0", socket.display());
    let args = LOOPBACK_HEADLESS;
    let host = Proc::cotty_env(
        &[&args[..], &["--tmux", "pair"]].concat(),
        &[("TMUX", tmux_env.as_str())],
    );
    let line = host.line("ssh session: ", &[]);
    let link = line.trim_start_matches("ssh session: ");
    let g = SshGuest::spawn(port_of(link), &token(link), GuestOptions::default());
    g.wait_for_text("first-2", WAIT)
        .expect("the guest sees the session's first window");
    // tmux's prefix reaches tmux: C-b n is its next window.
    g.send(b"\x02n");
    g.wait_for_text("second-4", WAIT)
        .expect("the guest switched to the second window with tmux's keys");
    tmux(&socket, &["kill-server"]);
}

#[test]
fn a_tmux_session_that_does_not_exist_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux_env = format!("{},1,0", dir.path().join("none.sock").display());
    let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(["-F", "--listen", "127.0.0.1:0", "--tmux", "nope"])
        .env("TMUX", &tmux_env)
        .env("XDG_RUNTIME_DIR", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .output()
        .expect("cotty runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no tmux session \"nope\"") && err.contains("tmux ls"),
        "{err}"
    );
}

#[test]
fn the_dashboard_sharing_tmux_leaves_c_b_to_tmux_and_takes_c_close_bracket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let socket = two_windows(d);
    // The host's own terminal: another tmux, in which the dashboard runs.
    let outer = Tmux::start(d, 120, 40, "set -g status off\nset -g escape-time 0\n");
    outer.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    outer.type_str(&format!(
        "TMUX={},1,0 {} --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {} --tmux pair",
        socket.display(),
        env!("CARGO_BIN_EXE_cotty"),
        d.join("ctl.sock").display()
    ));
    outer.keys(&["Enter"]);
    outer.wait_for("the shared session's first window", WAIT, |p| {
        p.contains("first-2")
    });
    // C-b is tmux's: it switches the shared session's window.
    outer.keys(&["C-b", "n"]);
    outer.wait_for("the second window", WAIT, |p| p.contains("second-4"));
    // C-] is the dashboard's: it opens the sidebar.
    outer.keys(&["C-]", "s"]);
    outer.wait_for("the dashboard's sidebar", WAIT, |p| {
        p.contains("Links") && p.contains("sidebar: Esc returns to the shell")
    });
    outer.keys(&["Escape"]);
    tmux(&socket, &["kill-server"]);
}
