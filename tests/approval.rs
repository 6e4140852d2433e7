//! Asking the host (`cotty --approve`): guests wait until the host admits them read-write
//! or read-only, or denies them, over the control socket of `cotty -F`; the relay lets a
//! guest go that waited too long; a key admitted once comes in again without asking. A real
//! relay process, a headless host, and stock ssh guests.

mod common;

use common::browser::browser_or_skip;
use common::env::{WAIT, marker, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::page_mirror::{finish, wait_page_prompt};
use common::proc::Proc;
use common::tmux::Tmux;
use common::wait::{key_fingerprint as fingerprint, ssh_keygen, wait_until};
use common::web::WsGuest;
use cotty::core::types::Size;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

/// What a waiting guest sees.
const WAITING: &str = "waiting for the host to let you in";

/// A relay process and a headless host with `--approve` dialing it.
struct Asking {
    /// Keys and the known-relays file.
    dir: tempfile::TempDir,
    /// The relay, kept running.
    _relay: Proc,
    /// `cotty -F --approve`.
    host: Proc,
    /// The relay's port.
    port: u16,
    /// The read-write token.
    rw: String,
    /// The read-only token.
    ro: String,
    /// The host's control socket.
    sock: String,
}

/// Starts a relay whose guests wait at most `timeout` for an answer, and an `--approve` host.
fn asking(timeout: &str) -> Asking {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("relay_key").display().to_string();
    let relay = Proc::relay(&key, &["--approve-timeout", timeout], None);
    let (port, _) = relay.relay_address(WAIT);
    let host = Proc::headless_host_with(port, dir.path(), "$ ", &["--approve"]);
    let sock = host.line("control socket: ", &[]);
    let sock = sock.trim_start_matches("control socket: ").to_string();
    let rw = token(&host.line("ssh session: ", &[]));
    let ro = token(&host.line("ssh session read only: ", &[]));
    Asking {
        dir,
        _relay: relay,
        host,
        port,
        rw,
        ro,
        sock,
    }
}

impl Asking {
    /// An ssh guest on `token`, with the key `key` if any.
    fn guest(&self, token: &str, key: Option<PathBuf>) -> SshGuest {
        let opts = GuestOptions {
            identity: key,
            ..Default::default()
        };
        SshGuest::spawn(self.port, token, opts)
    }

    /// A new key named `name` (its comment).
    fn key(&self, name: &str) -> PathBuf {
        ssh_keygen(self.dir.path(), name)
    }

    /// `cotty -S SOCK ARGS…` against the host.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cotty"))
            .args(["-S", &self.sock])
            .args(args)
            .output()
            .expect("cotty runs")
    }

    /// `cotty -S SOCK ARGS…`, which must succeed.
    fn answer(&self, args: &[&str]) {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The id in the `nth` (from 1) "is waiting" line the host printed, once it has, which
    /// must have every one of `also` and say how to answer.
    fn waiting_id(&self, nth: usize, also: &[&str]) -> String {
        let mut line = String::new();
        let res = wait_until("an \"is waiting\" line", WAIT, || {
            let lines = self.host.lines.lock().expect("lines");
            let mut waiting = lines
                .iter()
                .filter(|l| l.contains("is waiting to be let in"));
            match waiting.nth(nth - 1) {
                Some(l) => {
                    line = l.clone();
                    true
                }
                None => false,
            }
        });
        res.unwrap_or_else(|e| panic!("{e}: {:?}", self.host.lines.lock().expect("lines")));
        assert!(also.iter().all(|w| line.contains(w)), "{also:?} in {line}");
        let id = line["guest ".len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .expect("an id")
            .to_string();
        assert!(
            line.contains(&format!("cotty -S {} admit {id} [--ro]", self.sock))
                && line.contains(&format!("cotty -S {} deny {id}", self.sock)),
            "the line says how to answer: {line}"
        );
        id
    }

    /// How many "is waiting" lines the host printed.
    fn waiting_lines(&self) -> usize {
        let lines = self.host.lines.lock().expect("lines");
        lines
            .iter()
            .filter(|l| l.contains("is waiting to be let in"))
            .count()
    }
}

#[test]
fn an_admitted_guest_types_and_its_key_comes_in_again_without_asking() {
    let a = asking("2m");
    let key = a.key("alice");
    let fp = fingerprint(&key);
    let mut g = a.guest(&a.rw, Some(key.clone()));
    g.wait_for_text(WAITING, WAIT).expect("the guest waits");
    let id = a.waiting_id(1, &[&fp, "127.0.0.1:", "via ssh", "read-write link"]);

    // An id that waits for nothing is an error that says so.
    let wrong = a.ctl(&["admit", "99"]);
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        err.contains("no guest \"99\" is waiting") && err.contains(&id),
        "{err}"
    );

    a.answer(&["admit", &id]);
    wait_prompt(&g);
    a.host
        .line(&format!("guest {id} "), &["let in, read-write"]);
    let mark = marker("rw");
    g.type_str(&format!("echo {mark}-$((6*7))\r"));
    g.wait_for_text(&format!("{mark}-42"), WAIT)
        .expect("the admitted guest's keys reach the shell");
    g.send(b"\x02d");
    assert_eq!(g.wait_exit(WAIT), Some(0));

    // The same key again: in at once, with no prompt and no line to answer.
    let g2 = a.guest(&a.rw, Some(key));
    wait_prompt(&g2);
    a.host.line("guest ", &["let in again without asking", &fp]);
    assert_eq!(a.waiting_lines(), 1, "the host was not asked again");
    let mark = marker("again");
    g2.type_str(&format!("echo {mark}-$((2*4))\r"));
    g2.wait_for_text(&format!("{mark}-8"), WAIT)
        .expect("read-write as before");
}

#[test]
fn a_guest_admitted_read_only_cannot_type_and_a_denied_one_is_told() {
    let a = asking("2m");
    let ro = a.guest(&a.rw, None);
    ro.wait_for_text(WAITING, WAIT).expect("the guest waits");
    let ro_id = a.waiting_id(1, &[]);
    a.answer(&["admit", &ro_id, "--ro"]);
    wait_prompt(&ro);
    ro.wait_for_text("read-only", WAIT)
        .expect("its status line says read-only");
    a.host
        .line(&format!("guest {ro_id} "), &["let in, read-only"]);
    let ro_mark = marker("ro");
    ro.type_str(&format!("echo {ro_mark}-$((3*5))\r"));

    // A read-write guest types after it: once its line is on the screen, the read-only
    // guest's line would be there too, had it reached the shell.
    let key = a.key("carol");
    let rw = a.guest(&a.rw, Some(key.clone()));
    rw.wait_for_text(WAITING, WAIT).expect("the guest waits");
    let rw_id = a.waiting_id(2, &[&fingerprint(&key)]);
    a.answer(&["admit", &rw_id]);
    wait_prompt(&rw);
    let rw_mark = marker("rw");
    rw.type_str(&format!("echo {rw_mark}-$((2*4))\r"));
    rw.wait_for_text(&format!("{rw_mark}-8"), WAIT)
        .expect("the read-write guest types");
    ro.wait_for_text(&format!("{rw_mark}-8"), WAIT)
        .expect("the read-only guest watches");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !rw.text().contains(&format!("{ro_mark}-15")),
        "a read-only guest's keys reached the shell:\n{}",
        rw.text()
    );

    // The read-only link stays read-only whatever the host says.
    let ro_link = a.guest(&a.ro, None);
    ro_link.wait_for_text(WAITING, WAIT).expect("waits");
    let id = a.waiting_id(3, &["read-only link"]);
    a.answer(&["admit", &id]);
    a.host.line(&format!("guest {id} "), &["let in, read-only"]);

    let mut denied = a.guest(&a.rw, None);
    denied.wait_for_text(WAITING, WAIT).expect("waits");
    let id = a.waiting_id(4, &[]);
    a.answer(&["deny", &id]);
    denied
        .wait_for_text("the host did not let you in", WAIT)
        .expect("the denied guest is told");
    assert_eq!(denied.wait_exit(WAIT), Some(1));
    a.host.line(&format!("guest {id} "), &["turned away"]);
}

#[test]
fn a_guest_nobody_answers_is_let_go_and_one_that_gives_up_withdraws_its_prompt() {
    let a = asking("2s");
    let mut g = a.guest(&a.rw, None);
    g.wait_for_text(WAITING, WAIT).expect("the guest waits");
    let id = a.waiting_id(1, &[]);
    g.wait_for_text("the host did not answer", WAIT)
        .expect("told after the timeout");
    assert_eq!(g.wait_exit(WAIT), Some(1));
    a.host
        .line(&format!("guest {id} "), &["was not answered within 2s"]);
    let late = a.ctl(&["admit", &id]);
    assert!(!late.status.success(), "the prompt is gone");

    // C-c while waiting: the guest leaves, and the host's prompt goes with it.
    let mut quitter = a.guest(&a.rw, None);
    quitter.wait_for_text(WAITING, WAIT).expect("waits");
    let id = a.waiting_id(2, &[]);
    quitter.send(b"\x03");
    quitter
        .wait_for_text("you stopped waiting", WAIT)
        .expect("told");
    assert!(quitter.wait_exit(WAIT).is_some());
    a.host
        .line(&format!("guest {id} "), &["left before the host answered"]);
}

#[test]
fn a_web_guest_waits_with_a_word_in_its_bar_and_gets_in_once_admitted() {
    let a = asking("2m");
    let mut page = WsGuest::join(a.port, &a.rw, Size::new(80, 24));
    page.wait_for("the wait message", WAIT, |p| p.waiting.is_some())
        .expect("the page is told it waits");
    assert_eq!(
        page.waiting.as_deref(),
        Some("waiting for the host to let you in…")
    );
    assert_eq!(page.frames, 0, "no screen before the host answers");
    let id = a.waiting_id(1, &["via web"]);
    a.answer(&["admit", &id, "--ro"]);
    page.wait_for("a frame", WAIT, |p| p.frames > 0)
        .expect("the admitted page gets the screen");
    assert_eq!(page.status.access, "ro");

    let mut denied = WsGuest::join(a.port, &a.rw, Size::new(80, 24));
    denied
        .wait_for("the wait message", WAIT, |p| p.waiting.is_some())
        .expect("waits");
    a.answer(&["deny", &a.waiting_id(2, &[])]);
    let bye = denied.wait_bye(WAIT);
    assert_eq!(bye.reason, "the host did not let you in");
    assert!(!bye.retry, "a denied page does not come back");
}

#[test]
fn the_page_says_it_waits_in_its_bar_and_a_denied_page_stays_put() {
    let Some(b) = browser_or_skip("approval", 900, 600) else {
        return;
    };
    let a = asking("2m");
    let web = a.host.line("web session: ", &[]);
    let url = web.trim_start_matches("web session: ").to_string();
    b.open(&url);
    b.wait("the wait in the bar", WAIT, || {
        b.element_text("bar").contains(WAITING)
    });
    a.answer(&["admit", &a.waiting_id(1, &["via web"])]);
    wait_page_prompt(&b);
    b.wait("the bar to go once the page is in", WAIT, || {
        b.element_text("bar").trim().is_empty()
    });

    // A second page is turned away: the bar says so, and the page does not come back. (The
    // blank page first: the same URL again would only move to its fragment.)
    b.open("about:blank");
    b.open(&url);
    b.wait("the wait in the bar", WAIT, || {
        b.element_text("bar").contains(WAITING)
    });
    a.answer(&["deny", &a.waiting_id(2, &["via web"])]);
    b.wait("the refusal in the bar", WAIT, || {
        b.element_text("bar")
            .contains("the host did not let you in")
    });
    b.wait_js(
        "the page to stop",
        "window.cotty.state.stopped === true",
        WAIT,
    );
    // A page that came back would be asking again within its first backoff (0.5 s).
    let again = wait_until(
        "another ask (must not come)",
        Duration::from_millis(1500),
        || a.waiting_lines() > 2,
    );
    assert!(again.is_err(), "the denied page asked again");
    finish(&b, "approval");
}

#[test]
fn the_dashboard_asks_and_r_lets_a_guest_in_read_only_and_d_turns_one_away() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tmux = Tmux::start(d, 120, 40, "set -g status off\nset -g escape-time 0\n");
    tmux.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    let sock = d.join("ctl.sock").display().to_string();
    tmux.type_str(&format!(
        "{} --approve --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {sock} new-session sh",
        env!("CARGO_BIN_EXE_cotty"),
    ));
    tmux.keys(&["Enter"]);
    let ctl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cotty"))
            .args(["-S", &sock])
            .args(args)
            .output()
            .expect("cotty runs")
    };
    let ready = ctl(&["wait-ready", "--timeout", "20"]);
    assert!(ready.status.success(), "{ready:?}\n{}", tmux.capture());
    let link = String::from_utf8_lossy(&ctl(&["display", "-p", "#{ssh}"]).stdout)
        .trim()
        .to_string();
    let port: u16 = link
        .split_whitespace()
        .nth(2)
        .and_then(|p| p.parse().ok())
        .expect("a port");

    let g = SshGuest::spawn(port, &token(&link), GuestOptions::default());
    g.wait_for_text(WAITING, WAIT).expect("the guest waits");
    tmux.wait_for("the prompt", WAIT, |p| {
        p.contains("wants to join") && p.contains("r: read-only") && p.contains("via ssh")
    });
    // Keys count once the host could read the prompt.
    std::thread::sleep(Duration::from_millis(800));
    tmux.keys(&["r"]);
    wait_prompt(&g);
    g.wait_for_text("read-only", WAIT)
        .expect("let in read-only");
    tmux.wait_for("the prompt gone", WAIT, |p| !p.contains("wants to join"));

    let mut other = SshGuest::spawn(port, &token(&link), GuestOptions::default());
    other.wait_for_text(WAITING, WAIT).expect("waits");
    tmux.wait_for("the next prompt", WAIT, |p| p.contains("wants to join"));
    std::thread::sleep(Duration::from_millis(800));
    tmux.keys(&["d"]);
    other
        .wait_for_text("the host did not let you in", WAIT)
        .expect("turned away");
    assert_eq!(other.wait_exit(WAIT), Some(1));
    assert!(ctl(&["kill-session"]).status.success());
}
