//! End to end in headless Chromium: what the host and the relay do to a web guest. The lock
//! and read-only (mute) show on the page's status line and keep its keys from the program, a
//! kicked page says why and stays away instead of reconnecting, a page whose relay restarts
//! keeps its screen and comes back by itself once the host has, and a paste too large for
//! the relay is refused with a word instead of costing the connection.

mod common;

use common::browser::browser_or_skip;
use common::env::{TestEnv, WAIT, marker};
use common::page_mirror::{JOINED, finish, join, refused_socket, run, wait_page_prompt};
use common::proc::Proc;
use common::wait::wait_until;
use cotty::core::session::SessionCmd;
use cotty::core::types::{Access, GuestId, Via};
use std::time::{Duration, Instant};

/// The browser window, in pixels.
const WIDTH: u32 = 900;
/// The window's height.
const HEIGHT: u32 = 600;

/// The id the host gave the one web guest.
fn web_guest(env: &TestEnv) -> GuestId {
    let host = env.host.as_ref().expect("a host is running");
    let mut id = None;
    wait_until("the web guest in the host's list", WAIT, || {
        let guests = env.rt.block_on(host.session.guests()).expect("guests");
        id = guests
            .iter()
            .find(|r| r.info.via == Via::Web)
            .map(|r| r.info.id);
        id.is_some()
    })
    .expect("a web guest");
    id.expect("checked above")
}

/// Whether a row of the host's screen is exactly `line`.
fn host_line(env: &TestEnv, line: &str) -> bool {
    env.host_screen().text().lines().any(|l| l == line)
}

#[test]
fn lock_and_read_only_show_on_the_page_and_hold_its_keys_and_a_kick_says_why() {
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("host-acts", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);
    let id = web_guest(&env);

    // The lock: the status line says so, and what the page types does not arrive.
    env.host_cmd(SessionCmd::Lock(true));
    b.wait("the lock on the status line", WAIT, || {
        b.element_text("status").contains("locked by host")
    });
    let locked = marker("locked");
    run(&b, &format!("echo {locked}"));
    env.host_cmd(SessionCmd::Lock(false));
    b.wait("the lock gone", WAIT, || {
        b.element_text("status").contains("read-write")
    });
    let open = marker("open");
    run(&b, &format!("echo {open}"));
    wait_until("the page's keys after the unlock", WAIT, || {
        host_line(&env, &open)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", b.describe()));
    assert!(
        !env.host_screen().text().contains(&locked),
        "keys typed under the lock arrived:\n{}",
        env.host_screen().text()
    );

    // Read-only (the dashboard's `m`): the same, told as read-only.
    env.host_cmd(SessionCmd::SetAccess {
        guest: id,
        access: Access::ReadOnly,
    });
    b.wait("read-only on the status line", WAIT, || {
        b.element_text("status").contains("read-only")
    });
    let muted = marker("muted");
    run(&b, &format!("echo {muted}"));
    env.host_cmd(SessionCmd::SetAccess {
        guest: id,
        access: Access::ReadWrite,
    });
    b.wait("read-write again", WAIT, || {
        b.element_text("status").contains("read-write")
    });
    let back = marker("back");
    run(&b, &format!("echo {back}"));
    wait_until("the page's keys once read-write", WAIT, || {
        host_line(&env, &back)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", b.describe()));
    assert!(
        !env.host_screen().text().contains(&muted),
        "keys typed while read-only arrived:\n{}",
        env.host_screen().text()
    );

    // The kick: the page says why, and does not come back by itself.
    env.host_cmd(SessionCmd::Kick {
        guest: id,
        reason: "you were disconnected by the host".into(),
    });
    b.wait("the kick on the page", WAIT, || {
        b.element_text("bar")
            .contains("you were disconnected by the host")
    });
    b.wait_js(
        "the page to stop",
        "window.cotty.state.stopped === true",
        WAIT,
    );
    // A page that reconnected would be a guest again within its first backoff (0.5 s).
    let host = env.host.as_ref().expect("a host is running");
    let again = wait_until(
        "a reconnect (must not come)",
        Duration::from_secs(2),
        || {
            let guests = env.rt.block_on(host.session.guests()).expect("guests");
            guests.iter().any(|r| r.info.via == Via::Web)
        },
    );
    assert!(
        again.is_err(),
        "the kicked page came back\n{}",
        b.describe()
    );
    finish(&b, "kicked");
}

#[test]
fn a_page_keeps_its_screen_through_a_relay_restart_and_comes_back_by_itself() {
    let mut env = TestEnv::bare();
    let key = env.path("relay_key");
    let (mut relay, port, fp) = Proc::relay_listening("127.0.0.1:0", &key);
    env.port = port;
    env.fingerprint = fp;
    env.start_host(port, &["bash", "--norc", "--noprofile"]);
    let Some(b) = browser_or_skip("relay-restart", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);
    let before = marker("before");
    run(&b, &format!("echo {before}"));
    b.wait_text(&before, WAIT);

    relay.signal("-TERM");
    assert!(relay.wait_exit().is_some(), "the relay did not stop");
    b.wait("the page told the relay restarts", WAIT, || {
        b.element_text("bar").contains("the relay is restarting")
    });
    assert!(
        b.text().contains(&before),
        "the page lost its screen:\n{}",
        b.describe()
    );

    // The relay comes back on the same port with the same key; the host resumes, and the
    // page, which may have knocked before the host was back, joins again by itself.
    let back = Instant::now();
    let (_relay, port2, _) = Proc::relay_listening(&format!("127.0.0.1:{port}"), &key);
    assert_eq!(port2, port);
    env.wait_reconnects(1, WAIT);
    b.wait_js(
        "the page joined again",
        &format!("{JOINED} && !window.cotty.state.stopped"),
        WAIT,
    );
    let after = marker("after");
    env.host_type(&format!("echo {after}\r"));
    b.wait_text(&after, WAIT);
    println!(
        "the page was live again {:?} after the relay",
        back.elapsed()
    );
    run(&b, "echo typed-$((2+3))");
    wait_until("the page's keys reach the shell", WAIT, || {
        host_line(&env, "typed-5")
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", b.describe()));
    b.screenshot("relay-restarted");
    // While the relay was down, Chromium itself logs each refused reconnect; nothing else.
    let errors: Vec<_> = b
        .console_errors()
        .into_iter()
        .filter(|e| !refused_socket(&e.message, port))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn a_paste_larger_than_the_relay_takes_is_refused_with_a_word_and_the_page_stays() {
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("big-paste", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);
    let frames = b.state()["frames"].as_u64().unwrap_or(0);
    b.paste(&"x".repeat(70 * 1024));
    b.wait("the refusal in the bar", WAIT, || {
        b.element_text("bar").contains("paste not sent")
    });
    assert!(
        b.element_text("bar").contains("60 KB"),
        "the bar says the limit: {}",
        b.describe()
    );
    // Still connected: typing works, and nothing of the paste reached the shell.
    let m = marker("still");
    run(&b, &format!("echo {m}"));
    wait_until("the page's keys after the refused paste", WAIT, || {
        host_line(&env, &m)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", b.describe()));
    assert!(
        !env.host_screen().text().contains("xxxxxxxx"),
        "the paste arrived"
    );
    let st = b.state();
    assert_eq!(st["connected"], true, "{st}");
    assert!(st["frames"].as_u64().unwrap_or(0) > frames, "{st}");
    finish(&b, "big-paste");
}
