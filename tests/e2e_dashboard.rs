//! The dashboard as a person uses it: cotty inside tmux at 120x40, a stock ssh guest, keys
//! sent with send-keys, the screen read with capture-pane, the clipboard read from tmux.

mod common;

use common::env::{WAIT, port_of, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::tmux::Tmux;
use common::wait::wait_until;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn cotty(args: &[&str], runtime: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cotty"))
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime)
        .output()
        .expect("cotty runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A tmux of `cols`x`rows` that passes OSC 52 on (set-clipboard on), at its prompt.
fn outer_tmux(d: &Path, cols: u16, rows: u16) -> Tmux {
    let conf = "set -g set-clipboard on\nset -g status off\nset -g escape-time 0\n";
    let tmux = Tmux::start(d, cols, rows, conf);
    tmux.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    tmux
}

/// Types `touch FILE` as the guest; returns the file's path.
fn guest_touch(g: &SshGuest, dir: &Path, name: &str) -> std::path::PathBuf {
    let f = dir.join(name);
    g.type_str(&format!("touch {}\r", f.display()));
    f
}

#[test]
fn the_dashboard_in_tmux() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let runtime = d.join("runtime");
    let tmux = outer_tmux(d, 120, 40);
    let sock = d.join("ctl.sock");
    let (before, after) = (d.join("stty.before"), d.join("stty.after"));
    tmux.type_str(&format!(
        "stty -g > {}; {} --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {} new-session bash --norc --noprofile; echo \"cotty exited $?\"; stty -g > {}",
        before.display(),
        env!("CARGO_BIN_EXE_cotty"),
        sock.display(),
        after.display()
    ));
    tmux.keys(&["Enter"]);

    // 1. The link, as scripts get it.
    let ready = cotty(
        &[
            "-S",
            &sock.display().to_string(),
            "wait-ready",
            "--timeout",
            "20",
        ],
        &runtime,
    );
    assert!(
        ready.status.success(),
        "wait-ready: {ready:?}\n{}",
        tmux.capture()
    );
    let s = sock.display().to_string();
    let link = stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh}"], &runtime));
    assert!(
        link.starts_with("ssh -p ") && link.ends_with("@127.0.0.1"),
        "{link}"
    );
    let ro = stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh_ro}"], &runtime));
    assert!(token(&ro).starts_with("ro-"), "{ro}");
    // The built-in relay serves the web view on the same port, with the same tokens.
    let web = stdout(&cotty(&["-S", &s, "display", "-p", "#{web}"], &runtime));
    assert_eq!(
        web,
        format!("http://127.0.0.1:{}/#{}", port_of(&link), token(&link))
    );
    // With the default config the shared shell has the whole 120 columns (the status bar
    // takes a row), and the sidebar is closed.
    tmux.type_str("stty size");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the shell's size", WAIT, |p| p.contains("39 120"));
    assert!(!tmux.capture().contains("Links"), "{}", tmux.capture());
    // C-b s opens it over the shell, links shortened on one line each; Esc closes it.
    tmux.keys(&["C-b", "s"]);
    tmux.wait_for("the sidebar with its links", WAIT, |p| {
        p.contains("Links") && p.contains(&token(&link)[..8]) && p.contains("…@127.0.0.1")
    });
    tmux.wait_for("the web links after the ssh ones", WAIT, |p| {
        p.contains("web, read-write") && p.contains("web, read-only")
    });
    tmux.wait_for("the status bar's word on the keys", WAIT, |p| {
        p.contains("sidebar: Esc returns to the shell")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the sidebar closed", WAIT, |p| !p.contains("Links"));

    // The host types into its own shell.
    tmux.type_str("echo host-$((40+2))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the host's command ran", WAIT, |p| p.contains("host-42"));

    // 2. A stock ssh guest joins: the status bar counts it.
    let mut g = SshGuest::spawn(port_of(&link), &token(&link), GuestOptions::default());
    wait_prompt(&g);
    tmux.wait_for("the guest in the status bar", WAIT, |p| {
        p.contains("guests 1 (1 rw, 0 ro)")
    });

    // 3. C-b s, Enter: the read-write link lands in tmux's buffer by OSC 52, and the open
    // sidebar lists the guest.
    tmux.keys(&["C-b", "s"]);
    tmux.wait_for("the guest in the sidebar", WAIT, |p| {
        p.contains("Guests 1 rw · 0 ro") && p.contains("ssh 127.0.0.1:")
    });
    tmux.keys(&["Enter"]);
    wait_until("the link in tmux's buffer", WAIT, || {
        tmux.buffer().is_some_and(|b| b.trim() == link)
    })
    .unwrap_or_else(|e| panic!("{e}: buffer {:?}", tmux.buffer()));
    // The log says how, as far as cotty can know: tmux's set-clipboard is on.
    let messages = || stdout(&cotty(&["-S", &s, "show-messages"], &runtime));
    let log = messages();
    assert!(log.contains("through tmux (set-clipboard on)"), "{log}");
    // With set-clipboard off tmux drops the copy, and the log says so and what to change
    // (the sidebar still has the keys: Enter copies again).
    tmux.command(&["set", "-g", "set-clipboard", "off"]);
    tmux.keys(&["Enter"]);
    wait_until("the advice in the log", WAIT, || {
        messages().contains("set-clipboard is off, so tmux drops it")
    })
    .unwrap_or_else(|e| panic!("{e}: {}", messages()));
    assert!(messages().contains("tmux set -g set-clipboard on"));
    tmux.command(&["set", "-g", "set-clipboard", "on"]);

    // 4. m on the guest: its keys stop reaching the shell; a second m lets them through.
    tmux.keys(&["Tab", "m"]);
    tmux.wait_for("the guest read-only", WAIT, |p| {
        p.contains("Guests 0 rw · 1 ro")
    });
    g.wait_for_text("│ read-only │", WAIT)
        .expect("the guest's status says read-only");
    let blocked = guest_touch(&g, d, "blocked-by-m");
    tmux.keys(&["m"]);
    tmux.wait_for("the guest read-write", WAIT, |p| {
        p.contains("Guests 1 rw · 0 ro")
    });
    g.wait_for_text("│ read-write │", WAIT)
        .expect("the guest's status says read-write");
    let through = guest_touch(&g, d, "through-after-m");
    wait_until("the guest's command after m", WAIT, || through.exists()).expect("rw again");
    assert!(
        !blocked.exists(),
        "a read-only guest's keys reached the shell"
    );

    // 5. C-b L blocks every guest, and a second C-b L lifts it.
    tmux.keys(&["C-b", "L"]);
    tmux.wait_for("the lock in the status bar", WAIT, |p| p.contains("LOCKED"));
    g.wait_for_text("read-only (locked by host)", WAIT)
        .expect("the guest sees the lock");
    let blocked = guest_touch(&g, d, "blocked-by-lock");
    tmux.keys(&["C-b", "L"]);
    tmux.wait_for("the lock lifted", WAIT, |p| !p.contains("LOCKED"));
    g.wait_for_text("│ read-write │", WAIT)
        .expect("the guest sees the lock lifted");
    let through = guest_touch(&g, d, "through-after-lock");
    wait_until("the guest's command after the lock", WAIT, || {
        through.exists()
    })
    .expect("unlocked");
    assert!(!blocked.exists(), "a locked guest's keys reached the shell");

    // 6. k, y: the guest's ssh ends, and it is told why.
    tmux.keys(&["k"]);
    tmux.wait_for("the kick confirmation", WAIT, |p| p.contains("Kick"));
    tmux.keys(&["y"]);
    assert!(g.wait_exit(WAIT).is_some(), "ssh still runs after the kick");
    g.wait_for_text("disconnected by the host", WAIT)
        .expect("the guest is told why");
    tmux.wait_for("no guests", WAIT, |p| p.contains("Guests 0 rw · 0 ro"));

    // 7. kill-session ends cotty and gives the terminal back as it was.
    let kill = cotty(&["-S", &s, "kill-session"], &runtime);
    assert!(kill.status.success(), "kill-session: {kill:?}");
    tmux.wait_for("cotty's exit", WAIT, |p| p.contains("cotty exited 0"));
    wait_until("stty after", WAIT, || {
        std::fs::read_to_string(&after).is_ok_and(|s| !s.is_empty())
    })
    .expect("the outer shell ran on");
    assert_eq!(
        std::fs::read_to_string(&before).expect("before"),
        std::fs::read_to_string(&after).expect("after"),
        "the terminal modes differ after cotty"
    );
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    assert_eq!(
        tmux.format("#{mouse_any_flag}"),
        "0",
        "mouse reporting left on"
    );
    assert!(!sock.exists(), "the control socket was left behind");
}

#[test]
fn prefix_q_ends_the_session_for_guests_and_an_error_leaves_a_clean_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let runtime = d.join("runtime");
    let tmux = Tmux::start(d, 100, 30, "set -g status off\nset -g escape-time 0\n");
    tmux.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });

    // An error after the dashboard took the terminal (the built-in relay's port is taken;
    // an unreachable remote relay is no error, the uplink keeps trying): the message shows on
    // a normal screen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().expect("addr");
    tmux.type_str(&format!(
        "{} --listen {taken}; echo \"failed with $?\"",
        env!("CARGO_BIN_EXE_cotty"),
    ));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the error and the exit code", WAIT, |p| {
        p.contains(&format!("cotty: failed to listen on {taken}")) && p.contains("failed with 1")
    });
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    tmux.keys(&["C-l"]);

    // C-b q, y: guests see "session ended by host", and cotty exits 0.
    let sock = d.join("q.sock");
    let s = sock.display().to_string();
    tmux.type_str(&format!(
        "{} --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {s}; echo \"cotty exited $?\"",
        env!("CARGO_BIN_EXE_cotty"),
    ));
    tmux.keys(&["Enter"]);
    let ready = cotty(&["-S", &s, "wait-ready", "--timeout", "20"], &runtime);
    assert!(ready.status.success(), "wait-ready: {ready:?}");
    let ro = stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh_ro}"], &runtime));
    let mut g = SshGuest::spawn(port_of(&ro), &token(&ro), GuestOptions::default());
    g.wait_for_text("read-only", WAIT)
        .expect("the guest's status line");
    tmux.wait_for("the guest in the status bar", WAIT, |p| {
        p.contains("guests 1 (0 rw, 1 ro)")
    });
    tmux.keys(&["C-b", "q"]);
    tmux.wait_for("the quit confirmation", WAIT, |p| {
        p.contains("End the session?")
    });
    tmux.keys(&["y"]);
    assert!(g.wait_exit(WAIT).is_some(), "the guest's ssh still runs");
    g.wait_for_text("session ended by host", WAIT)
        .expect("the guest is told why");
    tmux.wait_for("cotty's exit", WAIT, |p| p.contains("cotty exited 0"));
    assert_eq!(tmux.format("#{alternate_on}"), "0");
}

#[test]
fn the_dashboard_outlives_its_relay_and_takes_the_old_links_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let runtime = d.join("runtime");
    let key = d.join("relay_key").display().to_string();
    let mut relay = common::proc::Proc::relay(&key, &[], None);
    let (port, fp) = relay.relay_address(WAIT);
    let tmux = Tmux::start(d, 120, 40, "set -g status off\nset -g escape-time 0\n");
    tmux.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    let sock = d.join("r.sock");
    let s = sock.display().to_string();
    tmux.type_str(&format!(
        "{} --relay 127.0.0.1:{port} --relay-fingerprint {fp} -S {s} new-session bash --norc --noprofile; echo \"cotty exited $?\"",
        env!("CARGO_BIN_EXE_cotty"),
    ));
    tmux.keys(&["Enter"]);
    let ready = cotty(&["-S", &s, "wait-ready", "--timeout", "20"], &runtime);
    assert!(ready.status.success(), "wait-ready: {ready:?}");
    let link = stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh}"], &runtime));
    tmux.wait_for("relay up", WAIT, |p| p.contains("relay: up"));

    // The relay dies: the dashboard keeps the shell and says it is reconnecting.
    relay.signal("-KILL");
    assert!(relay.wait_exit().is_some());
    tmux.wait_for("the reconnecting status", WAIT, |p| {
        p.contains("relay: reconnecting (attempt")
    });
    let state = stdout(&cotty(
        &["-S", &s, "display", "-p", "#{relay_state}"],
        &runtime,
    ));
    assert_eq!(state, "reconnecting");
    tmux.type_str("echo still-$((20+22))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the shell still answers", WAIT, |p| p.contains("still-42"));

    // The relay is back on its port with its key: the same link works.
    let _relay = common::proc::Proc::relay_on(&format!("127.0.0.1:{port}"), &key, &[], None);
    tmux.wait_for("relay up again", Duration::from_secs(40), |p| {
        p.contains("relay: up")
    });
    assert_eq!(
        stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh}"], &runtime)),
        link
    );
    let g = SshGuest::spawn(port_of(&link), &token(&link), GuestOptions::default());
    wait_prompt(&g);

    // Quitting works as ever: no panic, exit 0.
    tmux.keys(&["C-b", "q"]);
    tmux.wait_for("the quit confirmation", WAIT, |p| {
        p.contains("End the session?")
    });
    tmux.keys(&["y"]);
    tmux.wait_for("cotty's exit", WAIT, |p| p.contains("cotty exited 0"));
    assert!(!tmux.capture().contains("panicked"), "{}", tmux.capture());
}

#[test]
fn copy_mode_searches_the_history_and_copies_a_line_while_the_guest_sees_the_live_screen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let runtime = d.join("runtime");
    let tmux = outer_tmux(d, 100, 30);
    let sock = d.join("ctl.sock");
    tmux.type_str(&format!(
        "{} --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {} new-session bash --norc --noprofile",
        env!("CARGO_BIN_EXE_cotty"),
        sock.display(),
    ));
    tmux.keys(&["Enter"]);
    let s = sock.display().to_string();
    let ready = cotty(&["-S", &s, "wait-ready", "--timeout", "20"], &runtime);
    assert!(ready.status.success(), "wait-ready: {ready:?}");
    let link = stdout(&cotty(&["-S", &s, "display", "-p", "#{ssh}"], &runtime));
    let g = SshGuest::spawn(port_of(&link), &token(&link), GuestOptions::default());
    wait_prompt(&g);
    // History to search: 300 numbered lines, far more than a screen.
    tmux.type_str("seq -f 'row-%g' 1 300");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the numbers", WAIT, |p| p.contains("row-300"));
    g.wait_for_text("row-300", WAIT)
        .expect("the guest sees them");

    // C-b [, then / and a search: the view goes back to it and says where it is.
    tmux.keys(&["C-b", "["]);
    tmux.wait_for("copy mode", WAIT, |p| p.contains("history: line "));
    tmux.type_str("/row-42");
    tmux.wait_for("the search being typed", WAIT, |p| {
        p.contains("search: /row-42")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the found line", WAIT, |p| {
        // The pane is the 80x23 guest's size, so marks fill the rest of each row.
        p.lines().any(|l| l.starts_with("row-42 ")) && !p.contains("row-300")
    });
    // The guest still sees the live screen, not the host's history.
    let live = g.text();
    assert!(live.contains("row-300"), "{live}");
    assert!(!live.lines().any(|l| l.trim_end() == "row-42"), "{live}");
    // Space marks, Down twice, Enter copies three lines with the links' clipboard path.
    tmux.keys(&["Space", "Down", "Down", "Enter"]);
    wait_until("the lines in tmux's buffer", WAIT, || {
        tmux.buffer().is_some_and(|b| b == "row-42\nrow-43\nrow-44")
    })
    .unwrap_or_else(|e| panic!("{e}: buffer {:?}", tmux.buffer()));
    // Copying left copy mode: the live screen is back.
    tmux.wait_for("the live screen", WAIT, |p| {
        p.contains("row-300") && !p.contains("history: line")
    });
    let kill = cotty(&["-S", &s, "kill-session"], &runtime);
    assert!(kill.status.success(), "kill-session: {kill:?}");
}
