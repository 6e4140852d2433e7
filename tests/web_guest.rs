//! The relay's side of the web view, with a websocket guest that speaks the page's protocol:
//! a web guest sees the shell and types into it, and access, locks, kicks and wrong links
//! hold for it exactly as for ssh guests. (The page itself is tested in Chromium in
//! e2e_web.rs.)

mod common;

use common::env::{TestEnv, WAIT, marker, wait_prompt};
use common::guest::GuestOptions;
use common::wait::wait_until;
use common::web::WsGuest;
use cotty::core::session::SessionCmd;
use cotty::core::types::{Size, Via};
use serde_json::json;
use std::time::{Duration, Instant};

/// The token in a web link's fragment.
fn fragment(link: &str) -> String {
    link.split_once('#').expect("a fragment").1.to_string()
}

#[test]
fn web_links_carry_the_token_in_the_fragment_only() {
    let env = TestEnv::bash();
    let (rw, ro) = (env.web(), env.web_ro());
    let port = env.port;
    assert_eq!(rw, format!("http://127.0.0.1:{port}/#{}", env.rw()));
    assert_eq!(ro, format!("http://127.0.0.1:{port}/#{}", env.ro()));
    assert!(fragment(&ro).starts_with("ro-"));
}

#[test]
fn a_web_guest_sees_the_shell_and_types_into_it() {
    let env = TestEnv::bash();
    let token = fragment(&env.web());
    let mut g = WsGuest::join(env.port, &token, Size::new(100, 30));
    g.wait_for("a prompt", WAIT, |g| g.screen.text().contains('$'))
        .expect("prompt");
    let m = marker("web");
    g.type_keys(&format!("echo {m}-$((6*7))\r"));
    g.wait_for_text(&format!("{m}-42"), WAIT)
        .expect("the output");
    assert_eq!(g.status.access, "rw");
    // The host lists it as a web guest, named by its browser.
    let host = env.host.as_ref().expect("host");
    let guests = env.rt.block_on(host.session.guests()).expect("guests");
    let web = guests
        .iter()
        .find(|r| r.info.via == Via::Web)
        .expect("a web guest");
    assert_eq!(web.info.name, "browser", "no User-Agent: named 'browser'");
    assert_eq!(web.info.size, Size::new(100, 30));
}

#[test]
fn a_read_only_web_guest_cannot_type_paste_click_or_resize() {
    let env = TestEnv::bash();
    let (rw_link, ro_link) = (env.web(), env.web_ro());
    let file = env.path("typed.txt");
    env.host_type(&format!("stty -echo; cat > {file}\r"));
    // The read-write page sets the shared size (the host has no terminal of its own).
    let mut rw = WsGuest::join(env.port, &fragment(&rw_link), Size::new(80, 24));
    rw.wait_for("its first frame", WAIT, |g| g.frames > 0)
        .expect("a frame");
    wait_until("the pane takes the rw page's size", WAIT, || {
        env.host_screen().size == Size::new(80, 24)
    })
    .expect("80x24");
    let mut ro = WsGuest::join(env.port, &fragment(&ro_link), Size::new(60, 20));
    ro.wait_for("a read-only frame", WAIT, |g| g.status.access == "ro")
        .expect("read-only");
    ro.type_keys("ro-typed\r");
    ro.send(json!({"type": "paste", "text": "ro-pasted\n"}));
    ro.send(json!({"type": "text", "text": "ro-text\n"}));
    ro.send(json!({"type": "mouse", "kind": "down", "button": 0, "col": 1, "row": 1}));
    // A resize makes the relay draw the page again: once that frame is here, the relay has
    // read everything the page sent before it (the screen is idle, so no other frame comes).
    let seen = ro.frames;
    ro.send(json!({"type": "resize", "cols": 30, "rows": 10}));
    ro.wait_for("the frame after the resize", WAIT, |g| g.frames > seen)
        .expect("a frame");
    // What the rw page types now reaches the program after anything the ro page got through.
    let m = marker("rw");
    rw.type_keys(&format!("{m}\r"));
    wait_until("the rw page's line in the file", WAIT, || {
        std::fs::read_to_string(&file).is_ok_and(|s| s.contains(&m))
    })
    .expect("the file has the rw page's line");
    let written = std::fs::read_to_string(&file).expect("read");
    assert_eq!(written, format!("{m}\n"), "only the rw page's line");
    assert_eq!(
        env.host_screen().size,
        Size::new(80, 24),
        "the ro page resized"
    );
}

#[test]
fn a_locked_or_kicked_web_guest_is_held_to_it() {
    let env = TestEnv::bash();
    let token = fragment(&env.web());
    let mut g = WsGuest::join(env.port, &token, Size::new(80, 24));
    g.wait_for("a prompt", WAIT, |g| g.screen.text().contains('$'))
        .expect("prompt");
    env.host_cmd(SessionCmd::Lock(true));
    g.wait_for("the lock", WAIT, |g| g.status.locked)
        .expect("locked");
    let locked = marker("locked");
    g.type_keys(&format!("echo {locked}\r"));
    // A resize makes the relay draw the page again (a locked page does not resize the
    // pane): once that frame is here, the relay has handed the keys to the room, which
    // takes them before the unlock that comes after.
    let seen = g.frames;
    g.send(json!({"type": "resize", "cols": 70, "rows": 20}));
    g.wait_for("the frame after the resize", WAIT, |g| g.frames > seen)
        .expect("a frame");
    env.host_cmd(SessionCmd::Lock(false));
    g.wait_for("the unlock", WAIT, |g| !g.status.locked)
        .expect("unlocked");
    let open = marker("open");
    g.type_keys(&format!("echo {open}\r"));
    wait_until("the unlocked echo on the host", WAIT, || {
        env.host_screen().text().lines().any(|l| l == open)
    })
    .expect("unlocked keys arrive");
    assert!(
        !env.host_screen().text().contains(&locked),
        "keys typed while locked arrived:\n{}",
        env.host_screen().text()
    );
    let host = env.host.as_ref().expect("host");
    let guests = env.rt.block_on(host.session.guests()).expect("guests");
    let id = guests
        .iter()
        .find(|r| r.info.via == Via::Web)
        .expect("web guest")
        .info
        .id;
    env.host_cmd(SessionCmd::Kick {
        guest: id,
        reason: "you were disconnected by the host".into(),
    });
    let bye = g.wait_bye(WAIT);
    assert_eq!(bye.reason, "you were disconnected by the host");
    assert!(!bye.retry, "a kicked page must not come back by itself");
}

#[test]
fn a_wrong_link_is_refused_after_the_same_delay_as_over_ssh() {
    let env = TestEnv::bash();
    let start = Instant::now();
    let mut g = WsGuest::join(env.port, "NoSuchTokenNoSuchTokenNoSu", Size::new(80, 24));
    let bye = g.wait_bye(WAIT);
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "no failure delay"
    );
    assert_eq!(bye.reason, "no such session; check the link you were given");
    assert!(!bye.retry);
    // An ssh guest with a good link still gets in.
    let ssh = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&ssh);
}
