//! The web guest's steps: a websocket client speaking the page's protocol (not a browser),
//! against a real relay and host process: its echo beside an ssh guest's, a burst, and the
//! relay's memory per web guest.

use crate::common::web::WsGuest;
use crate::steps::{COLS, ROWS, RelayProc, Row, cotty_bin, fmt_spread, row};
use crate::timed::{TimedTerm, has_prompt, median, memory_kib};
use cotty::core::types::Size;
use serde_json::json;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
/// Web guests added for the memory figure.
const GUESTS: usize = 100;

/// A web guest with a 120x39 terminal area: an ssh guest of 120x40 has the same, less its
/// status line.
fn join(port: u16, token: &str) -> WsGuest {
    WsGuest::join(port, token, Size::new(COLS, ROWS - 1))
}

/// Types `c` as the page does; the instant it went.
fn key(g: &mut WsGuest, c: char) -> Instant {
    let at = Instant::now();
    g.send(json!({"type": "key", "key": c.to_string(), "code": ""}));
    at
}

/// Types `keys` keys into a web guest, each timed to the first frame after it; as the ssh
/// step times the first chunk after a key.
fn web_echo(g: &mut WsGuest, keys: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(keys);
    for i in 0..keys {
        if i % 40 == 0 {
            g.send(json!({"type": "key", "key": "u", "code": "KeyU", "ctrl": true}));
            g.drain(Duration::from_millis(50), Duration::from_secs(2));
        }
        let sent = key(g, char::from(b'a' + (i % 26) as u8));
        match g.next_message(Duration::from_secs(5)) {
            Some(at) => out.push(at.duration_since(sent)),
            None => break,
        }
        g.drain(Duration::from_millis(3), Duration::from_millis(200));
    }
    out
}

/// The ssh guest's echo in the same setting, timed the same way.
fn ssh_echo(g: &mut TimedTerm, keys: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(keys);
    for i in 0..keys {
        if i % 40 == 0 {
            g.write(b"\x15");
            g.drain(Duration::from_millis(50), Duration::from_secs(2));
        }
        let sent = g.write(&[b'a' + (i % 26) as u8]);
        match g.next_chunk(Duration::from_secs(5)) {
            Some(at) => out.push(at.duration_since(sent)),
            None => break,
        }
        g.drain(Duration::from_millis(3), Duration::from_millis(200));
    }
    out
}

/// Web guest steps: echo beside an ssh guest's (keys alternating between the two runs), a
/// burst of `bytes` typed by the web guest, and the relay's memory per web guest.
pub fn web(keys: usize, bytes: usize, runs: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let (_host, token) = relay.host();
    let mut web = join(relay.port, &token);
    web.until(WAIT, has_prompt).expect("web guest prompt");
    web.drain(Duration::from_millis(50), Duration::from_secs(2));
    let web_keys = web_echo(&mut web, keys);
    drop(web);
    let mut ssh = relay.guest(&token);
    ssh.until(WAIT, has_prompt).expect("ssh guest prompt");
    ssh.drain(Duration::from_millis(50), Duration::from_secs(2));
    let ssh_keys = ssh_echo(&mut ssh, keys);
    drop(ssh);

    let mut web = join(relay.port, &token);
    web.until(WAIT, has_prompt).expect("web guest prompt");
    let (mut secs, mut got) = (vec![], vec![]);
    for run in 0..runs {
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        let cmd = format!(
            "clear; seq -f '%079g' 1 {}; echo MARK{run}-$((7*6))",
            bytes / 80
        );
        let marker = format!("MARK{run}-42");
        web.send(json!({"type": "text", "text": cmd}));
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        let before = web.received;
        let start = Instant::now();
        web.send(json!({"type": "key", "key": "Enter", "code": "Enter"}));
        let seen = web
            .until(Duration::from_secs(300), |s| s.text().contains(&marker))
            .expect("the marker on the web guest's screen");
        secs.push(seen.duration_since(start).as_secs_f64());
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        got.push((web.received - before) as f64);
    }
    drop(web);

    // Memory on a fresh relay, so nothing the steps above freed is handed out again and
    // hides the guests' share; each reading after 2 s, once the relay is quiet.
    drop(relay);
    let relay = RelayProc::start_of(&cotty_bin());
    let (_host, token) = relay.host();
    let pid = relay.proc.child.id();
    let mut first = join(relay.port, &token);
    first.until(WAIT, has_prompt).expect("web guest prompt");
    std::thread::sleep(Duration::from_secs(2));
    let (_, pss0) = memory_kib(pid);
    let mut guests: Vec<WsGuest> = (0..GUESTS).map(|_| join(relay.port, &token)).collect();
    for g in &mut guests {
        g.until(WAIT, has_prompt).expect("web guest prompt");
    }
    std::thread::sleep(Duration::from_secs(2));
    let (_, pss1) = memory_kib(pid);
    let per_guest = pss1.saturating_sub(pss0) as f64 / guests.len() as f64;
    drop(guests);
    vec![
        row(
            "echo: web guest (websocket), key to its frame",
            fmt_spread(web_keys),
        ),
        row(
            "echo: ssh guest, same relay and host, key to its output",
            fmt_spread(ssh_keys),
        ),
        row(
            format!(
                "web burst {:.0} MB: time to the marker on the web guest",
                bytes as f64 / 1e6
            ),
            format!("{:.3} s (median of {runs})", median(secs)),
        ),
        row(
            "web burst: bytes sent to the web guest (websocket payload)",
            format!("{:.0} KB (median of {runs})", median(got) / 1e3),
        ),
        row(
            format!("web: relay PSS per web guest ({GUESTS} more on one session, 120x39)"),
            format!("{per_guest:.0} KiB ({pss0} KiB before, {pss1} KiB with them)"),
        ),
    ]
}
