//! Echo steps timed on a screen: the dashboard's own pane, and one guest's keys on another
//! guest's screen.
//!
//! The plain echo step times the first output chunk after a key, which is right when the only
//! output is the echo. The dashboard also redraws its sidebar and status line, and a watching
//! guest gets frames that are not about the key; so here each key is timed until the emulated
//! screen (core::term, fed chunk by chunk) shows the typed line with that key at its end.

use crate::dashboard::Dashboard;
use crate::steps::{RelayProc, Row, cotty_bin, fmt_spread, row};
use crate::timed::{TimedTerm, has_prompt};
use cotty::core::term::ScreenState;
use std::time::Duration;

/// Keys typed on one line before it is cleared with Ctrl-U, so the line never wraps in the
/// dashboard's pane (which is narrower than the terminal, next to the sidebar).
const LINE: usize = 40;
const WAIT: Duration = Duration::from_secs(30);

/// Whether some row of the screen shows `text`.
fn shows(screen: &ScreenState, text: &str) -> bool {
    screen.rows.iter().any(|r| r.text().contains(text))
}

/// Types `keys` keys into `typist` one at a time. Each is timed from the write until the chunk
/// after which `watcher`'s screen (the typist's own when `None`) shows the prompt followed by
/// every key typed on the line so far. The next key goes after both screens were quiet 3 ms.
/// With a watcher, the same keys are also timed on the typist's own screen (its chunks carry
/// the instant they arrived, so reading them after the watcher's loses nothing): the second
/// list.
fn typed_until_seen(
    typist: &mut TimedTerm,
    mut watcher: Option<&mut TimedTerm>,
    keys: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut out = Vec::with_capacity(keys);
    let mut own = Vec::with_capacity(keys);
    let mut line = String::from("$ ");
    for i in 0..keys {
        if i % LINE == 0 {
            typist.write(b"\x15"); // Ctrl-U: a fresh line.
            line.truncate(2);
            let w = watcher.as_deref_mut().unwrap_or(&mut *typist);
            w.drain(Duration::from_millis(50), Duration::from_secs(2));
            typist.drain(Duration::ZERO, Duration::from_secs(2));
        }
        let key = b'a' + (i % 26) as u8;
        line.push(key as char);
        let sent = typist.write(&[key]);
        let w = watcher.as_deref_mut().unwrap_or(&mut *typist);
        match w.until_each(Duration::from_secs(5), |s| shows(s, &line)) {
            Some(t) => out.push(t.duration_since(sent)),
            None => break,
        }
        w.drain(Duration::from_millis(3), Duration::from_millis(200));
        if watcher.is_some()
            && let Some(t) = typist.until_each(Duration::from_secs(5), |s| shows(s, &line))
        {
            own.push(t.duration_since(sent));
        }
        // The typist's own output, when it is not the one watched, is read without waiting.
        typist.drain(Duration::ZERO, Duration::from_millis(200));
    }
    (out, own)
}

/// The host's own echo in the dashboard: `cotty` with its built-in relay in a 120x40 PTY.
pub fn dashboard_echo(keys: usize) -> Vec<Row> {
    let mut dash = Dashboard::start();
    dash.term
        .drain(Duration::from_millis(200), Duration::from_secs(5));
    let (through_dashboard, _) = typed_until_seen(&mut dash.term, None, keys);
    vec![row(
        "echo: host typing in the dashboard, seen in its pane",
        fmt_spread(through_dashboard),
    )]
}

/// One guest types, another watches: the key goes guest A → relay → host → PTY, and the
/// echo host → relay → guest B; and A's own echo, with B attached, in the same keys.
pub fn guest_to_guest(keys: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let (_host, token) = relay.host();
    let mut a = relay.guest(&token);
    let mut b = relay.guest(&token);
    for g in [&mut a, &mut b] {
        g.until(WAIT, has_prompt).expect("guest prompt");
    }
    for g in [&mut a, &mut b] {
        g.drain(Duration::from_millis(50), Duration::from_secs(2));
    }
    let (seen, own) = typed_until_seen(&mut a, Some(&mut b), keys);
    vec![
        row("echo: ssh guest A types, guest B sees it", fmt_spread(seen)),
        row(
            "echo: ssh guest A types, sees it itself (B attached)",
            fmt_spread(own),
        ),
    ]
}
