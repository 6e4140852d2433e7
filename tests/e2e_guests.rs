//! End to end over loopback: a real relay, a real host, and stock `ssh` guests in PTYs.

mod common;

use common::env::{TestEnv, WAIT, marker, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::wait::wait_until;
use std::time::Duration;

#[test]
fn a_read_write_guest_types_and_the_host_pty_gets_it() {
    let env = TestEnv::bash();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    let m = marker("hello");
    g.type_str(&format!("echo {m} | tr a-z A-Z\r"));
    let upper = m.to_uppercase();
    g.wait_for_text(&upper, WAIT)
        .expect("the command's output on the guest");
    // The host's own screen model shows it too: the keys reached the host's PTY.
    wait_until("output on the host", WAIT, || {
        env.host_screen().text().contains(&upper)
    })
    .expect("host got the keys");
    let status = g.screen().row(24).text();
    assert!(
        status.contains("read-write") && status.contains("1 guest"),
        "{status}"
    );
}

#[test]
fn not_one_byte_of_a_read_only_guest_reaches_the_program() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().display().to_string();
    let script = format!("stty -echo; exec cat >> {path}");
    let env = TestEnv::start(&["sh", "-c", &script]);
    let ro = env.guest(&env.ro(), GuestOptions::default());
    ro.wait_for_text("read-only", WAIT)
        .expect("read-only status line");
    let rw = env.guest(&env.rw(), GuestOptions::default());
    rw.wait_for_text("2 guests", WAIT)
        .expect("second guest attached");
    // The read-only guest types first, keys and Enter, then the read-write guest.
    ro.type_str("ro-secret\r");
    ro.send(b"\x03\x1b[A");
    let m = marker("rw");
    rw.type_str(&format!("{m}\r"));
    wait_until("the marker in the file", WAIT, || {
        std::fs::read_to_string(file.path())
            .unwrap_or_default()
            .contains(&m)
    })
    .expect("read-write input arrives");
    let got = std::fs::read(file.path()).expect("read file");
    assert_eq!(
        got,
        format!("{m}\n").as_bytes(),
        "only the read-write guest's line arrived"
    );
}

#[test]
fn two_guests_see_the_same_screen_and_a_late_joiner_sees_earlier_text() {
    let env = TestEnv::bash();
    let a = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&a);
    let m = marker("early");
    a.type_str(&format!("echo {m}-$((6*7))\r"));
    a.wait_for_text(&format!("{m}-42"), WAIT)
        .expect("output on a");
    let b = env.guest(&env.ro(), GuestOptions::default());
    b.wait_for_text(&format!("{m}-42"), WAIT)
        .expect("a late joiner sees earlier output");
    let pane = |g: &SshGuest| {
        g.screen()
            .rows
            .iter()
            .take(24)
            .map(|r| r.text())
            .collect::<Vec<_>>()
    };
    if wait_until("identical panes", WAIT, || pane(&a) == pane(&b)).is_err() {
        panic!(
            "panes differ:\n--- a ---\n{}\n--- b ---\n{}",
            pane(&a).join("\n"),
            pane(&b).join("\n")
        );
    }
}

#[test]
fn a_guest_resize_changes_the_pty_size() {
    let env = TestEnv::bash();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.type_str("stty size\r");
    g.wait_for_text("24 80", WAIT)
        .expect("80x25 terminal less the status line");
    g.resize(100, 31);
    g.wait_for("status line at the new bottom", WAIT, |s| {
        s.row(30).text().contains("C-b d detach")
    })
    .expect("redrawn at the new size");
    g.type_str("clear; stty size\r");
    g.wait_for_text("30 100", WAIT).expect("PTY resized");
}

#[test]
fn the_smallest_read_write_guest_sets_the_size_and_a_leave_restores_it() {
    let env = TestEnv::bash();
    let big = env.guest(
        &env.rw(),
        GuestOptions {
            cols: 120,
            rows: 41,
            ..Default::default()
        },
    );
    wait_prompt(&big);
    let small = env.guest(
        &env.rw(),
        GuestOptions {
            cols: 60,
            rows: 21,
            ..Default::default()
        },
    );
    small.wait_for_text("2 guests", WAIT).expect("joined");
    wait_until("pty 60x20", WAIT, || {
        env.host_screen().size == cotty::core::types::Size::new(60, 20)
    })
    .expect("smallest wins");
    // The large guest sees the unused area marked.
    big.wait_for("unused area marked", WAIT, |s| {
        s.row(0).columns(120)[100].is_some_and(|c| c.text == "·")
    })
    .expect("marks");
    drop(small);
    wait_until("pty 120x40", WAIT, || {
        env.host_screen().size == cotty::core::types::Size::new(120, 40)
    })
    .expect("size restored after the small guest left");
}

#[test]
fn keys_reach_the_program_byte_for_byte() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().display().to_string();
    let script = format!("stty raw -echo; exec cat >> {path}");
    let env = TestEnv::start(&["sh", "-c", &script]);
    let g = env.guest(&env.rw(), GuestOptions::default());
    g.wait_for_text("read-write", WAIT).expect("joined");
    // Ctrl-A, Ctrl-C, arrows, F5, a bracketed paste, C-b C-b (one literal C-b), then a marker.
    let keys: &[u8] = b"\x01\x03\x1b[A\x1b[B\x1b[15~\x1b[200~pasted text\x1b[201~\x02\x02END";
    g.send(keys);
    wait_until("all keys in the file", WAIT, || {
        std::fs::read(file.path())
            .unwrap_or_default()
            .ends_with(b"END")
    })
    .expect("keys arrive");
    let want: &[u8] = b"\x01\x03\x1b[A\x1b[B\x1b[15~\x1b[200~pasted text\x1b[201~\x02END";
    assert_eq!(std::fs::read(file.path()).expect("read"), want);
}

#[test]
fn c_b_d_detaches_the_guest() {
    let env = TestEnv::bash();
    let mut g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.send(b"\x02d");
    assert_eq!(g.wait_exit(WAIT), Some(0), "ssh exits after C-b d");
    g.wait_for_text("detached", WAIT)
        .expect("the guest is told it detached");
}

#[test]
fn a_wrong_token_and_exec_are_refused() {
    let env = TestEnv::bash();
    let mut bad = env.guest("AAAAAAAAAAAAAAAAAAAAAAAAAA", GuestOptions::default());
    bad.wait_for_text("no such session", WAIT)
        .expect("one-line refusal");
    let started = std::time::Instant::now();
    assert_ne!(bad.wait_exit(WAIT), Some(0));
    assert!(started.elapsed() < Duration::from_secs(2));

    let opts = GuestOptions {
        extra_args: vec!["ls".into()],
        ..Default::default()
    };
    let mut exec = env.guest(&env.rw(), opts);
    assert_eq!(exec.wait_exit(WAIT), Some(255), "{}", exec.text());
    // The reader may still be draining the PTY when ssh has exited: wait for the text.
    exec.wait_for_text("exec request failed", WAIT)
        .expect("ssh says the exec was refused");
}

#[test]
fn a_link_switched_off_refuses_new_guests_until_it_is_on_again() {
    use cotty::core::session::SessionCmd;
    use cotty::core::types::{Access, LinkRef};
    let env = TestEnv::bash();
    let host = env.host.as_ref().expect("host");
    let send = |cmd: SessionCmd| {
        env.rt
            .block_on(host.session.send(cmd))
            .expect("session runs")
    };
    // A guest already in stays; a new one with the switched-off link is told why.
    let early = env.guest(&env.ro(), GuestOptions::default());
    early.wait_for_text("read-only", WAIT).expect("joined");
    let set = |enabled: bool| {
        send(SessionCmd::SwitchLink {
            link: LinkRef::Main(Access::ReadOnly),
            enabled,
        });
        // The lock travels the same ordered uplink: once the early guest sees it, the relay
        // has the link's new state too.
        send(SessionCmd::Lock(true));
        early
            .wait_for_text("locked by host", WAIT)
            .expect("the lock arrives");
        send(SessionCmd::Lock(false));
        early
            .wait_for("the lock lifted", WAIT, |s| {
                !s.text().contains("locked by host")
            })
            .expect("the lock lifts");
    };
    set(false);
    let mut refused = SshGuest::spawn(env.port, &env.ro(), GuestOptions::default());
    assert!(refused.wait_exit(WAIT).is_some(), "ssh should end");
    refused
        .wait_for_text("this link was switched off by the host", WAIT)
        .expect("the refused guest is told why");
    // The other link still works.
    let rw = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&rw);
    set(true);
    let late = env.guest(&env.ro(), GuestOptions::default());
    late.wait_for_text("read-only", WAIT)
        .expect("the link works again");
    assert!(early.screen().text().contains('$'));
}

#[test]
fn a_guest_is_told_when_the_host_changes_its_access_and_its_status_names_the_session() {
    use cotty::core::session::SessionCmd;
    use cotty::core::types::Access;
    let env = TestEnv::bash();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    // The status line calls the session what the host's does (USER@HOST), not by an id.
    let title: String = cotty::host::headless::session_name()
        .chars()
        .take(12)
        .collect();
    g.wait_for("the session's name on the status line", WAIT, |s| {
        s.rows.last().is_some_and(|r| r.text().contains(&title))
    })
    .expect("the status line names the session");
    let host = env.host.as_ref().expect("host");
    let set = |access| {
        let cmd = SessionCmd::SetAccess { guest: 1, access };
        env.rt
            .block_on(host.session.send(cmd))
            .expect("session runs");
    };
    set(Access::ReadOnly);
    g.wait_for_text("the host made you read-only", WAIT)
        .expect("the guest is told it is read-only");
    set(Access::ReadWrite);
    g.wait_for_text("the host made you read-write", WAIT)
        .expect("the guest is told it may type again");
}
