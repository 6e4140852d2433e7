//! End to end: the relay is never a reason to lose the shell, a link, or a guest's screen.
//!
//! The host dials the real relay through a loopback proxy that cuts or black-holes the link,
//! or the relay process itself is killed and started again. Every test checks that the shared
//! shell's PID never changes, and guests are stock OpenSSH clients.

mod common;

use common::env::{TestEnv, WAIT, marker, wait_prompt};
use common::guest::GuestOptions;
use common::mirror::assert_mirrors;
use common::proc::Proc;
use common::proxy::Proxy;
use std::time::{Duration, Instant};

/// A bash with no rc files.
const BASH: &[&str] = &["bash", "--norc", "--noprofile"];

/// A relay in this process and a host that reaches it through a proxy.
fn behind_proxy() -> (TestEnv, Proxy) {
    let mut env = TestEnv::relay();
    let proxy = Proxy::start(format!("127.0.0.1:{}", env.port).parse().expect("addr"));
    let port = proxy.addr().port();
    env.start_host(port, BASH);
    (env, proxy)
}

#[test]
fn twenty_cuts_while_the_shell_prints_keep_the_links_and_the_screen() {
    let (env, proxy) = behind_proxy();
    let pid = env.shell_pid();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    for i in 1..=20 {
        let done = marker(&format!("cut{i}"));
        // The shell prints; the link is cut in the middle of it.
        // The marker is computed by the shell, so the echo of the command cannot match it.
        env.host_type(&format!("seq 1 3000; echo {done}-$((1+1))\r"));
        let open = proxy.connections_accepted();
        proxy.cut();
        env.wait_reconnects(i, WAIT);
        assert!(
            proxy.connections_accepted() > open,
            "cut {i}: no new connection"
        );
        g.wait_for_text(&format!("{done}-2"), WAIT)
            .unwrap_or_else(|e| panic!("cut {i}: {e}\n{}", g.text()));
        assert_mirrors(&env, &g);
    }
    let (n, same) = env.reconnects();
    assert!(n >= 20 && same, "{n} reconnects, links the same: {same}");
    assert_eq!(env.shell_pid(), pid, "the shell was started again");
    // The guest types and the shell gets it, over the twentieth link.
    let m = marker("typed");
    g.type_str(&format!("echo {m}\r"));
    g.wait_for_text(&format!("\n{m}"), WAIT)
        .or_else(|_| g.wait_for_text(&m, WAIT))
        .expect("the guest's keys arrive");
}

#[test]
fn a_black_holed_uplink_is_noticed_and_the_host_reconnects() {
    let (env, proxy) = behind_proxy();
    let pid = env.shell_pid();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.wait_for_text("read-write", WAIT).expect("status line");
    let before = proxy.connections_accepted();
    let start = Instant::now();
    proxy.black_hole_current();
    // The relay notices the silence first and tells the guest; its screen stays.
    g.wait_for_text("host reconnecting", Duration::from_secs(10))
        .expect("the guest is told within seconds");
    let told = start.elapsed();
    assert!(
        g.text().contains('$'),
        "the last screen stayed: {}",
        g.text()
    );
    // A key typed now is not queued; the guest is told.
    g.type_str("x");
    g.wait_for_text("input paused", WAIT)
        .expect("the paused notice");
    // The host notices within 15 s and comes back through a fresh connection.
    env.wait_reconnects(1, Duration::from_secs(25));
    let back = start.elapsed();
    assert!(proxy.connections_accepted() > before, "no fresh connection");
    assert!(back < Duration::from_secs(20), "the host took {back:?}");
    println!("guest told after {told:?}, host back after {back:?}");
    g.wait_for("the live status line again", WAIT, |s| {
        !s.text().contains("host reconnecting")
    })
    .expect("status back");
    let m = marker("after");
    g.type_str(&format!("\x15echo {m}\r"));
    g.wait_for_text(&format!("{m}\n"), WAIT)
        .or_else(|_| g.wait_for_text(&m, WAIT))
        .expect("keys work again");
    assert_mirrors(&env, &g);
    assert_eq!(env.shell_pid(), pid, "the shell was started again");
    let (_, same) = env.reconnects();
    assert!(same, "the links changed");
}

#[test]
fn a_killed_relay_started_again_takes_the_old_links() {
    let mut env = TestEnv::bare();
    let key = env.path("relay_key");
    let (mut relay, port, fp) = Proc::relay_listening("127.0.0.1:0", &key);
    env.port = port;
    env.fingerprint = fp.clone();
    env.start_host(port, BASH);
    let pid = env.shell_pid();
    let (rw, ro) = (env.rw(), env.ro());
    let mut g = env.guest(&rw, GuestOptions::default());
    wait_prompt(&g);

    relay.signal("-KILL");
    assert!(relay.wait_exit().is_some(), "the relay did not die");
    // Guests of a dead relay lose their connection; the host keeps its shell.
    assert!(g.wait_exit(WAIT).is_some(), "the guest's ssh still runs");
    let (_relay, port2, fp2) = Proc::relay_listening(&format!("127.0.0.1:{port}"), &key);
    let back = Instant::now();
    assert_eq!((port2, &fp2), (port, &fp), "the same port and key");
    env.wait_reconnects(1, WAIT);
    let (_, same) = env.reconnects();
    assert!(
        same,
        "the links changed: {:?}",
        env.events.lock().expect("events")
    );
    // The old links work, with stock ssh.
    let g = env.guest(&rw, GuestOptions::default());
    g.wait_for_text("read-write", WAIT)
        .expect("the rw link works");
    wait_prompt(&g);
    let r = env.guest(&ro, GuestOptions::default());
    r.wait_for_text("read-only", WAIT)
        .expect("the ro link works");
    let took = back.elapsed();
    println!("old links work {took:?} after the relay is back");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let m = marker("restarted");
    g.type_str(&format!("echo {m}\r"));
    r.wait_for_text(&m, WAIT)
        .expect("the watcher sees the typing");
    assert_eq!(env.shell_pid(), pid, "the shell was started again");
}

#[test]
fn relay_sigterm_tells_guests_to_reconnect_and_exits_within_two_seconds() {
    let mut env = TestEnv::bare();
    let key = env.path("relay_key");
    let (mut relay, port, fp) = Proc::relay_listening("127.0.0.1:0", &key);
    env.port = port;
    env.fingerprint = fp;
    env.start_host(port, BASH);
    let pid = env.shell_pid();
    let mut g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    let start = Instant::now();
    relay.signal("-TERM");
    let code = relay.wait_exit_within(Duration::from_secs(5));
    let took = start.elapsed();
    println!("relay exited {took:?} after SIGTERM");
    assert_eq!(code, Some(0), "stderr: {}", relay.err.lock().expect("err"));
    assert!(took < Duration::from_secs(2), "the relay took {took:?}");
    g.wait_for_text(
        "the relay is restarting; reconnect with the same link",
        WAIT,
    )
    .expect("the guest is told");
    assert!(g.wait_exit(WAIT).is_some(), "the guest's ssh still runs");
    assert_eq!(env.shell_pid(), pid, "the shell was started again");
}

#[test]
fn a_sighup_to_a_relay_without_api_keys_is_logged_and_ends_nothing() {
    let mut env = TestEnv::bare();
    let key = env.path("relay_key");
    let (relay, port, fp) = Proc::relay_listening("127.0.0.1:0", &key);
    env.port = port;
    env.fingerprint = fp;
    env.start_host(port, BASH);
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    // Operators send SIGHUP to reload; without --api-keys there is nothing to reload, and the
    // default action (the process ends) would take every session with it.
    relay.signal("-HUP");
    relay.wait_log(&["SIGHUP: no --api-keys file to read again"]);
    let m = marker("hup");
    g.type_str(&format!("echo {m}\r"));
    g.wait_for_text(&m, WAIT)
        .expect("the guest is still connected");
    let again = env.guest(&env.ro(), GuestOptions::default());
    again
        .wait_for_text("read-only", WAIT)
        .expect("the relay still lets guests in");
    assert_eq!(env.reconnects().0, 0, "the host lost its relay");
}
