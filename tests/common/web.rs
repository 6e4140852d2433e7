//! A web guest without a browser: a websocket that speaks the page's protocol, for tests of
//! the relay's side of the web view (access, kicks, refusals) that need no drawing.

use cotty::core::term::{Row, ScreenState};
use cotty::core::types::Size;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// What a test reads of a relay message.
#[derive(Debug, Deserialize)]
struct Incoming {
    /// `frame` or `bye`.
    #[serde(rename = "type")]
    kind: String,
    /// A frame: every row is in `lines`.
    #[serde(default)]
    full: bool,
    /// A frame: the pane's size.
    #[serde(default)]
    cols: u16,
    /// See `cols`.
    #[serde(default)]
    rows: u16,
    /// A frame: the rows that changed.
    #[serde(default)]
    lines: Vec<(u16, Row)>,
    /// A frame: the status line's parts.
    #[serde(default)]
    status: Option<Status>,
    /// A bye: why.
    #[serde(default)]
    reason: String,
    /// A wait: what the page shows while the host is asked.
    #[serde(default)]
    text: String,
    /// An approve: the `ssh … approve-web CODE` command that lets the page in.
    #[serde(default)]
    command: String,
    /// A ticket: what brings a key-only session's page back without approve-web.
    #[serde(default)]
    ticket: String,
    /// A bye: whether to come back.
    #[serde(default)]
    retry: bool,
}

/// The status line of a frame.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    /// `rw` or `ro`.
    pub access: String,
    /// Whether the host locked input.
    pub locked: bool,
    /// Guests attached.
    pub guests: usize,
}

/// A relay's last words to a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    /// Why.
    pub reason: String,
    /// Whether the page may come back.
    pub retry: bool,
}

/// A websocket guest and the screen its frames drew.
pub struct WsGuest {
    /// Runs the socket.
    rt: Runtime,
    /// The socket.
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The screen as the frames drew it.
    pub screen: ScreenState,
    /// The last status line.
    pub status: Status,
    /// The goodbye, once it came.
    pub bye: Option<Bye>,
    /// What the relay said while the guest waits for the host (`--approve`), if it did.
    pub waiting: Option<String>,
    /// The `approve-web` command a key-only session shows the page, once it came.
    pub approve: Option<String>,
    /// The ticket back in that a key-only session gave the page, once it came.
    pub ticket: Option<String>,
    /// The socket has ended.
    pub closed: bool,
    /// Frames received so far.
    pub frames: usize,
    /// Payload bytes received so far.
    pub received: usize,
}

impl WsGuest {
    /// Opens `ws://127.0.0.1:PORT/ws` and joins `token` with a terminal area of `size`.
    pub fn join(port: u16, token: &str, size: Size) -> WsGuest {
        WsGuest::join_with(port, token, size, None)
    }

    /// Like [`WsGuest::join`], showing `ticket` with the join as a page that was let in
    /// before does.
    pub fn join_with(port: u16, token: &str, size: Size, ticket: Option<&str>) -> WsGuest {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let ws = rt.block_on(async {
            let (mut ws, _) = connect_async(format!("ws://127.0.0.1:{port}/ws"))
                .await
                .expect("a websocket to the relay");
            let mut join = serde_json::json!({
                "type": "join", "token": token, "cols": size.cols, "rows": size.rows
            });
            if let Some(t) = ticket {
                join["ticket"] = serde_json::Value::from(t);
            }
            ws.send(Message::text(join.to_string()))
                .await
                .expect("join");
            ws
        });
        WsGuest {
            rt,
            ws,
            screen: ScreenState::blank(size),
            status: Status::default(),
            bye: None,
            waiting: None,
            approve: None,
            ticket: None,
            closed: false,
            frames: 0,
            received: 0,
        }
    }

    /// Sends one message of the page (a JSON value).
    pub fn send(&mut self, msg: serde_json::Value) {
        self.rt
            .block_on(self.ws.send(Message::text(msg.to_string())))
            .expect("send to the relay");
    }

    /// Types `text` as key events, one a character.
    pub fn type_keys(&mut self, text: &str) {
        for c in text.chars() {
            let key = match c {
                '\r' => "Enter".to_string(),
                c => c.to_string(),
            };
            self.send(serde_json::json!({"type": "key", "key": key, "code": ""}));
        }
    }

    /// Reads one message within `timeout` and applies it; when it came, or `None` when none
    /// came or the socket ended.
    pub fn next_message(&mut self, timeout: Duration) -> Option<Instant> {
        let next = self
            .rt
            .block_on(async { tokio::time::timeout(timeout, self.ws.next()).await });
        let msg = match next {
            Ok(Some(Ok(msg))) => msg,
            Ok(_) => {
                self.closed = true;
                return None;
            }
            Err(_) => return None,
        };
        let at = Instant::now();
        let Message::Binary(bytes) = msg else {
            self.closed |= matches!(msg, Message::Close(_));
            return (!self.closed).then_some(at);
        };
        self.received += bytes.len();
        // Large frames come zlib-compressed; a msgpack map never starts with 0x78.
        let plain = if bytes.first() == Some(&0x78) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&bytes[..]), &mut out)
                .expect("a zlib frame");
            out
        } else {
            bytes.to_vec()
        };
        let m: Incoming = rmp_serde::from_slice(&plain).expect("a relay message");
        match m.kind.as_str() {
            "frame" => {
                self.frames += 1;
                let size = Size::new(m.cols, m.rows);
                if m.full || size != self.screen.size {
                    self.screen = ScreenState::blank(size);
                }
                for (y, r) in m.lines {
                    if let Some(slot) = self.screen.rows.get_mut(usize::from(y)) {
                        *slot = Arc::new(r);
                    }
                }
                if let Some(s) = m.status {
                    self.status = s;
                }
            }
            "bye" => {
                self.bye = Some(Bye {
                    reason: m.reason,
                    retry: m.retry,
                })
            }
            "wait" => self.waiting = Some(m.text),
            "approve" => self.approve = Some(m.command),
            "ticket" => self.ticket = Some(m.ticket),
            other => panic!("unknown message type {other}"),
        }
        Some(at)
    }

    /// Reads until the screen satisfies `done` (within `limit`); when that message came.
    pub fn until(
        &mut self,
        limit: Duration,
        done: impl Fn(&ScreenState) -> bool,
    ) -> Option<Instant> {
        let end = Instant::now() + limit;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let at = self.next_message(left)?;
            if done(&self.screen) {
                return Some(at);
            }
        }
        None
    }

    /// Reads until nothing comes for `quiet`, or `limit` passed.
    pub fn drain(&mut self, quiet: Duration, limit: Duration) {
        let end = Instant::now() + limit;
        while Instant::now() < end && self.next_message(quiet).is_some() {}
    }

    /// Reads until `done` holds (within `limit`); the failure says what the screen showed.
    pub fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        done: impl Fn(&WsGuest) -> bool,
    ) -> Result<(), String> {
        let end = Instant::now() + limit;
        loop {
            if done(self) {
                return Ok(());
            }
            let Some(left) = end.checked_duration_since(Instant::now()) else {
                return Err(format!(
                    "timed out after {limit:?} waiting for {what}; the web guest shows:\n{}\nbye: {:?}",
                    self.screen.text(),
                    self.bye
                ));
            };
            if self
                .next_message(left.min(Duration::from_millis(200)))
                .is_none()
                && self.closed
            {
                if done(self) {
                    return Ok(());
                }
                return Err(format!(
                    "the socket closed while waiting for {what}; goodbye: {:?}; screen:\n{}",
                    self.bye,
                    self.screen.text()
                ));
            }
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for_text(&mut self, text: &str, limit: Duration) -> Result<(), String> {
        let text = text.to_string();
        self.wait_for(&format!("{text:?}"), limit, move |g| {
            g.screen.text().contains(&text)
        })
    }

    /// Waits for the relay's goodbye.
    pub fn wait_bye(&mut self, limit: Duration) -> Bye {
        let end = Instant::now() + limit;
        while self.bye.is_none() && !self.closed && Instant::now() < end {
            self.next_message(Duration::from_millis(200));
        }
        self.bye.clone().unwrap_or_else(|| {
            panic!(
                "no goodbye within {limit:?}; the web guest shows:\n{}",
                self.screen.text()
            )
        })
    }
}
