//! End to end: the relay's limits on what one guest may take, with stock ssh guests.
//!
//! Read-only guests cannot fill a session, a locked read-write guest cannot resize the shared
//! program, a guest that stops reading neither slows the others nor grows the relay, and one
//! that stays stalled is dropped.

mod common;

use common::env::{TestEnv, WAIT, marker, test_limits, wait_prompt};
use common::guest::GuestOptions;
use common::mirror::assert_mirrors;
use common::proc::Proc;
use common::wait::wait_until;
use cotty::core::layout::SizePolicy;
use cotty::core::session::SessionCmd;
use cotty::core::types::Size;
use cotty::net::relay::server::Limits;
use std::process::Command;
use std::time::Duration;

/// A bash with no rc files.
const BASH: &[&str] = &["bash", "--norc", "--noprofile"];

/// The host's pane size as (cols, rows).
fn host_size(env: &TestEnv) -> (u16, u16) {
    let size = env.host_screen().size;
    (size.cols, size.rows)
}

fn opts(cols: u16, rows: u16) -> GuestOptions {
    GuestOptions {
        cols,
        rows,
        ..GuestOptions::default()
    }
}

#[test]
fn read_only_guests_cannot_take_the_read_write_slots() {
    let limits = Limits {
        guests_per_session: 2,
        rw_guests_per_session: 1,
        ..test_limits()
    };
    let mut env = TestEnv::relay_with(limits);
    let port = env.port;
    env.start_host(port, BASH);
    let a = env.guest(&env.ro(), GuestOptions::default());
    a.wait_for_text("read-only", WAIT).expect("ro 1");
    let b = env.guest(&env.ro(), GuestOptions::default());
    b.wait_for_text("read-only", WAIT).expect("ro 2");
    let mut c = env.guest(&env.ro(), GuestOptions::default());
    c.wait_for_text("the session is full: 2 read-only guests", WAIT)
        .expect("the third watcher is told");
    assert!(c.wait_exit(WAIT).is_some());
    let w = env.guest(&env.rw(), GuestOptions::default());
    w.wait_for_text("read-write", WAIT)
        .expect("the rw link still gets in");
    wait_prompt(&w);
}

#[test]
fn a_locked_read_write_guest_cannot_resize_the_program() {
    let env = TestEnv::bash();
    let g = env.guest(&env.rw(), opts(100, 31));
    wait_prompt(&g);
    // The headless host follows its one read-write guest: 100 columns, 30 rows of pane.
    wait_until("the pane to take the guest's size", WAIT, || {
        host_size(&env) == (100, 30)
    })
    .expect("size follows the guest");
    env.host_cmd(SessionCmd::Lock(true));
    g.wait_for_text("locked", WAIT)
        .expect("the guest sees the lock");
    g.resize(60, 21);
    // The guest redraws at its new size; the program keeps its size.
    g.wait_for("the guest's status line on its new last row", WAIT, |s| {
        s.row(20).text().contains("cotty")
    })
    .expect("the guest redraws");
    let m = marker("locked");
    env.host_type(&format!("echo {m}\r"));
    g.wait_for_text(&m, WAIT).expect("output still arrives");
    assert_eq!(
        host_size(&env),
        (100, 30),
        "a locked guest resized the program"
    );
    env.host_cmd(SessionCmd::Lock(false));
    wait_until("the pane to follow the guest once unlocked", WAIT, || {
        host_size(&env) == (60, 20)
    })
    .expect("the size follows again");
}

#[test]
fn a_stalled_guest_slows_nobody_and_the_relay_stays_small() {
    let mut env = TestEnv::bare();
    let key = env.path("relay_key");
    let relay = Proc::relay(&key, &[], None);
    let (port, fp) = relay.relay_address(WAIT);
    env.port = port;
    env.fingerprint = fp;
    env.start_host(port, BASH);
    // Large terminals make large frames, so the stalled guest's ssh window and socket
    // buffers really fill up.
    let stalled = env.guest(&env.ro(), opts(300, 100));
    stalled
        .wait_for_text("read-only", WAIT)
        .expect("the stalled guest joined");
    let g = env.guest(&env.rw(), opts(300, 100));
    wait_prompt(&g);
    let before = relay.rss_kib();
    let stop = Command::new("kill")
        .args(["-STOP", &stalled.pid().to_string()])
        .status()
        .expect("kill");
    assert!(stop.success());
    // 50 MB of output, each line unlike the last so every frame redraws the screen
    // (500,000 lines of 100 digits), then a marker the shell computes, so its echo of the
    // command line cannot match.
    let done = marker("burst");
    g.type_str(&format!("seq -f '%0100g' 1 500000; echo {done}-$((1+1))\r"));
    g.wait_for_text(&format!("{done}-2"), Duration::from_secs(300))
        .expect("the other guest gets the end of the burst");
    assert_mirrors(&env, &g);
    let after = relay.rss_kib();
    let _ = Command::new("kill")
        .args(["-CONT", &stalled.pid().to_string()])
        .status();
    println!("relay RSS {before} KiB before, {after} KiB after 50 MB with a stalled guest");
    assert!(
        after < before + 32 * 1024,
        "relay RSS grew from {before} to {after} KiB"
    );
}

#[test]
fn a_guest_that_stays_stalled_is_dropped() {
    let limits = Limits {
        guest_stall_timeout: Duration::from_secs(3),
        ..test_limits()
    };
    let mut env = TestEnv::relay_with(limits);
    let port = env.port;
    // A large pane, so the stalled guest's frames are large and fill its ssh window (2 MB for
    // OpenSSH) quickly; the watcher's small terminal gets small frames and keeps up.
    env.start_host_with(port, BASH, SizePolicy::Fixed(Size::new(300, 99)));
    let stalled = env.guest(&env.ro(), opts(300, 100));
    stalled.wait_for_text("read-only", WAIT).expect("joined");
    let watcher = env.guest(&env.ro(), GuestOptions::default());
    watcher.wait_for_text("read-only", WAIT).expect("joined");
    let guests = |env: &TestEnv| {
        let host = env.host.as_ref().expect("host");
        env.rt
            .block_on(host.session.guests())
            .expect("guests")
            .len()
    };
    wait_until("both guests on the host's list", WAIT, || guests(&env) == 2).expect("two guests");
    let pid = stalled.pid().to_string();
    let stop = Command::new("kill").args(["-STOP", &pid]).status();
    assert!(stop.expect("kill").success());
    // Output with a colour per cell until the stalled guest is dropped: a fixed time would
    // depend on how fast a loaded machine fills the guest's ssh window. Each round redraws
    // every row in place with other colours, so every frame is the whole 300x99 screen;
    // scrolling lines would cost a frame only its new rows and take minutes to fill it.
    env.host_type(concat!(
        "perl -e 'while (1) { $n++; print \"\\e[H\"; for $r (1..98) { print join(\"\", ",
        "map { \"\\e[3\" . (($_ + $n + $r) % 8) . \"m#\" } 1..299), \"\\n\" } }'\r"
    ));
    let dropped = wait_until(
        "the stalled guest to be dropped",
        Duration::from_secs(120),
        || guests(&env) == 1,
    );
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    // Ctrl-C ends the output; the marker is computed, so the echo of the command differs.
    env.host_type("\x03");
    env.host_type("echo stall-$((1+1))\r");
    dropped.expect("the host's list loses the stalled guest");
    // The watcher's 80 columns show the part of the 300-column pane around the cursor, which
    // may cut the marker's first letters.
    if let Err(e) = watcher.wait_for_text("ll-2", Duration::from_secs(60)) {
        let host = env.host_screen().text();
        panic!("{e}\nwatcher: {}\nhost: {host}", watcher.text());
    }
}
