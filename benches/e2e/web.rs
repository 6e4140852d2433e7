//! The web guest's steps: a websocket client speaking the page's protocol (not a browser),
//! against a real relay and host process: its echo beside an ssh guest's, a burst, and the
//! relay's memory per web guest.

use crate::steps::{COLS, ROWS, RelayProc, Row, cotty_bin, fmt_spread, row};
use crate::timed::{TimedTerm, has_prompt, median, memory_kib};
use cotty::core::term::{Row as ScreenRow, ScreenState};
use cotty::core::types::Size;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

const WAIT: Duration = Duration::from_secs(30);

/// The fields of a relay message the bench reads; the rest (cursor, modes, status) is skipped.
#[derive(Deserialize)]
struct Incoming {
    /// `frame` or `bye`.
    #[serde(rename = "type")]
    kind: String,
    /// Every row is in `lines`.
    #[serde(default)]
    full: bool,
    /// The pane's size.
    #[serde(default)]
    cols: u16,
    /// See `cols`.
    #[serde(default)]
    rows: u16,
    /// The rows that changed.
    #[serde(default)]
    lines: Vec<(u16, ScreenRow)>,
}

/// A web guest of the relay: a websocket and the screen its frames build.
pub struct WebGuest {
    /// Runs the socket.
    rt: Runtime,
    /// The socket.
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The screen as the frames drew it.
    pub screen: ScreenState,
    /// Payload bytes received so far.
    pub received: usize,
}

impl WebGuest {
    /// Joins `token` on the relay at 127.0.0.1:`port` with a 120x39 terminal area (an ssh
    /// guest of 120x40 has the same, less its status line).
    pub fn join(port: u16, token: &str) -> WebGuest {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let ws = rt.block_on(async {
            let (mut ws, _) = connect_async(format!("ws://127.0.0.1:{port}/ws"))
                .await
                .expect("websocket to the relay");
            let join = format!(
                r#"{{"type":"join","token":"{token}","cols":{COLS},"rows":{}}}"#,
                ROWS - 1
            );
            ws.send(Message::text(join)).await.expect("join");
            ws
        });
        WebGuest {
            rt,
            ws,
            screen: ScreenState::blank(Size::new(COLS, ROWS - 1)),
            received: 0,
        }
    }

    /// Sends one message of the page; the instant it went.
    pub fn send(&mut self, json: String) -> Instant {
        let at = Instant::now();
        self.rt
            .block_on(self.ws.send(Message::text(json)))
            .expect("send to the relay");
        at
    }

    /// Types `c` as the page does.
    pub fn key(&mut self, c: char) -> Instant {
        self.send(format!(
            r#"{{"type":"key","key":"{c}","code":"","ctrl":false,"alt":false,"shift":false,"meta":false}}"#
        ))
    }

    /// Reads one frame within `timeout` and draws it; when it came.
    pub fn next_frame(&mut self, timeout: Duration) -> Option<Instant> {
        let msg = self
            .rt
            .block_on(async { tokio::time::timeout(timeout, self.ws.next()).await })
            .ok()??
            .ok()?;
        let at = Instant::now();
        let Message::Binary(bytes) = msg else {
            return Some(at);
        };
        self.received += bytes.len();
        let m: Incoming = rmp_serde::from_slice(&bytes).expect("a relay message");
        assert_eq!(m.kind, "frame", "the relay said goodbye");
        let size = Size::new(m.cols, m.rows);
        if m.full || size != self.screen.size {
            self.screen = ScreenState::blank(size);
        }
        for (y, r) in m.lines {
            if let Some(slot) = self.screen.rows.get_mut(usize::from(y)) {
                *slot = Arc::new(r);
            }
        }
        Some(at)
    }

    /// Reads frames until `done` holds for the screen (within `limit`); when its frame came.
    pub fn until(
        &mut self,
        limit: Duration,
        done: impl Fn(&ScreenState) -> bool,
    ) -> Option<Instant> {
        let end = Instant::now() + limit;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let at = self.next_frame(left)?;
            if done(&self.screen) {
                return Some(at);
            }
        }
        None
    }

    /// Reads frames until none comes for `quiet`, or `limit` passed.
    pub fn drain(&mut self, quiet: Duration, limit: Duration) {
        let end = Instant::now() + limit;
        while Instant::now() < end && self.next_frame(quiet).is_some() {}
    }
}

/// Types `keys` keys into a web guest, each timed to the first frame after it; as the ssh
/// step times the first chunk after a key.
fn web_echo(g: &mut WebGuest, keys: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(keys);
    for i in 0..keys {
        if i % 40 == 0 {
            g.send(r#"{"type":"key","key":"u","code":"KeyU","ctrl":true}"#.into());
            g.drain(Duration::from_millis(50), Duration::from_secs(2));
        }
        let sent = g.key(char::from(b'a' + (i % 26) as u8));
        match g.next_frame(Duration::from_secs(5)) {
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
/// burst of `bytes` typed by the web guest, and the relay's memory for 50 web guests.
pub fn web(keys: usize, bytes: usize, runs: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let (_host, token) = relay.host();
    let mut web = WebGuest::join(relay.port, &token);
    web.until(WAIT, has_prompt).expect("web guest prompt");
    web.drain(Duration::from_millis(50), Duration::from_secs(2));
    let web_keys = web_echo(&mut web, keys);
    drop(web);
    let mut ssh = relay.guest(&token);
    ssh.until(WAIT, has_prompt).expect("ssh guest prompt");
    ssh.drain(Duration::from_millis(50), Duration::from_secs(2));
    let ssh_keys = ssh_echo(&mut ssh, keys);
    drop(ssh);

    let mut web = WebGuest::join(relay.port, &token);
    web.until(WAIT, has_prompt).expect("web guest prompt");
    let (mut secs, mut got) = (vec![], vec![]);
    for run in 0..runs {
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        let cmd = format!(
            "clear; seq -f '%079g' 1 {}; echo MARK{run}-$((7*6))",
            bytes / 80
        );
        let marker = format!("MARK{run}-42");
        web.send(serde_json::json!({"type": "text", "text": cmd}).to_string());
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        let before = web.received;
        let start = web.send(r#"{"type":"key","key":"Enter","code":"Enter"}"#.into());
        let seen = web
            .until(Duration::from_secs(300), |s| s.text().contains(&marker))
            .expect("the marker on the web guest's screen");
        secs.push(seen.duration_since(start).as_secs_f64());
        web.drain(Duration::from_millis(100), Duration::from_secs(5));
        got.push((web.received - before) as f64);
    }
    drop(web);

    let pid = relay.proc.child.id();
    let (_, pss0) = memory_kib(pid);
    let mut guests: Vec<WebGuest> = (0..50)
        .map(|_| WebGuest::join(relay.port, &token))
        .collect();
    for g in &mut guests {
        g.until(WAIT, has_prompt).expect("web guest prompt");
    }
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
            "web: relay PSS per web guest (50 guests, 120x39, one session)",
            format!("{per_guest:.0} KiB ({pss0} KiB before, {pss1} KiB with them)"),
        ),
    ]
}
