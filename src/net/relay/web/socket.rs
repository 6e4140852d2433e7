//! A browser's websocket as a guest [`Transport`]: the page says which session it wants in
//! its first message, then gets frames of styled rows and sends structured input.
//!
//! Everything else a guest is (the lookup and its failure delay, the per-address count of
//! wrong links, pacing, access checks, kicks) is the guest actor's, shared with ssh guests.
//! The socket is pinged when the page is silent, so a browser that vanished without closing
//! does not hold its place in the room forever.

use crate::core::term::ScreenState;
use crate::core::types::{Size, Via};
use crate::net::relay::approvals;
use crate::net::relay::guest::{self, Farewell, GuestEvent, GuestSetup, Transport};
use crate::net::relay::guestkeys::KeyIdentity;
use crate::net::relay::limits::Limits;
use crate::net::relay::room::RoomView;
use crate::net::relay::server::Shared;
use crate::net::relay::web::frame::{ServerMsg, StatusMsg, WebFramer, encode};
use crate::net::relay::web::input::ClientMsg;
use crate::ui::guest_view::GuestStatus;
use axum::extract::ws::{Message, WebSocket};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep_until, timeout};

/// How long a page may be silent before it is pinged.
const PING_AFTER: Duration = Duration::from_secs(30);
/// Pings a page may leave unanswered before it counts as gone.
const MAX_UNANSWERED: u8 = 2;
/// How long the goodbye may take to send.
const GOODBYE: Duration = Duration::from_secs(1);

/// Who is on the other end of a websocket, as the HTTP layer saw it.
#[derive(Debug, Clone)]
pub struct WebClient {
    /// The client's address: the TCP peer, or with `--trust-proxy` the proxy's word for it.
    pub addr: SocketAddr,
    /// The request's `User-Agent`, for the host's guest list.
    pub user_agent: Option<String>,
}

/// Serves one page's websocket until the guest leaves.
pub async fn serve(mut socket: WebSocket, client: WebClient, shared: Arc<Shared>) {
    let grace = shared.limits.login_grace;
    let (token, size) = match timeout(grace, first_join(&mut socket)).await {
        Ok(Some(join)) => join,
        Ok(None) | Err(_) => {
            let reason = "the page must say which session it wants first; reload it";
            let _ = timeout(GOODBYE, say_bye(&mut socket, reason, false)).await;
            return;
        }
    };
    // A key-only session lets the page in once a guest with a listed key vouches for it.
    let key = match approval(&mut socket, &token, &shared).await {
        Ok(key) => key,
        Err(reason) => {
            if !reason.is_empty() {
                let _ = timeout(GOODBYE, say_bye(&mut socket, &reason, false)).await;
            }
            return;
        }
    };
    let setup = GuestSetup {
        token,
        fingerprint: key.as_ref().map(|k| k.fingerprint.clone()),
        key,
        name: Some(browser_name(client.user_agent.as_deref())),
        addr: Some(client.addr),
        via: Via::Web,
    };
    let transport = WebTransport::new(socket, size, shared.limits);
    guest::run(transport, setup, shared).await;
}

/// For a session that admits only listed keys: shows the page its `approve-web` command and
/// waits for a guest to run it. `Ok(None)` for any other token (an open session, or one
/// that does not exist, which the guest actor refuses after its delay as always); `Err`
/// with what to tell the page when the code ran out or too many pages wait. A page that
/// goes meanwhile ends here too, with nothing to say.
async fn approval(
    socket: &mut WebSocket,
    token: &str,
    shared: &Shared,
) -> Result<Option<KeyIdentity>, String> {
    let keyed = shared
        .registry
        .lookup(token)
        .is_some_and(|e| e.keys.borrow().is_some());
    if !keyed {
        return Ok(None);
    }
    let Some((code, mut approved)) = shared.approvals.open(token) else {
        return Err("too many pages are waiting for approval on this relay; try again soon".into());
    };
    let command = format!("{} {} {code}", shared.ssh_link(token), approvals::COMMAND);
    let msg = encode(&ServerMsg::Approve { command: &command });
    if socket.send(Message::Binary(msg.into())).await.is_err() {
        return Err(String::new());
    }
    let deadline = Instant::now() + approvals::CODE_TTL;
    // Bounded by the deadline: the page may send its size meanwhile, and pings.
    loop {
        tokio::select! {
            id = &mut approved => return id.map(Some).map_err(|_| String::new()),
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(String::new()),
                Some(Ok(_)) => {}
            },
            _ = sleep_until(deadline) => {
                return Err("the approval code expired; reload the page for a new one".into());
            }
        }
    }
}

/// Reads messages until the page's join: its token and terminal area. `None` when the page
/// sends something else first, or goes.
async fn first_join(socket: &mut WebSocket) -> Option<(String, Size)> {
    // Control frames (pings) may come first; a few, no more.
    for _ in 0..8 {
        match socket.recv().await? {
            Ok(Message::Text(text)) => {
                return match ClientMsg::parse(text.as_str())? {
                    ClientMsg::Join { token, cols, rows } => Some((token, Size::new(cols, rows))),
                    _ => None,
                };
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            _ => return None,
        }
    }
    None
}

/// Sends the last message and closes.
async fn say_bye(socket: &mut WebSocket, reason: &str, retry: bool) {
    let bytes = encode(&ServerMsg::Bye { reason, retry });
    let _ = socket.send(Message::Binary(bytes.into())).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// A short name for a browser from its User-Agent: `Firefox 133`, `Chrome 131`, or the
/// first words of anything else.
pub fn browser_name(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return "browser".into();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari.
    for (token, name) in [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ] {
        if let Some(rest) = ua.split(token).nth(1) {
            let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return format!("{name} {major}").trim_end().to_string();
        }
    }
    ua.chars().filter(|c| !c.is_control()).take(24).collect()
}

/// A page's websocket and what it has drawn.
pub struct WebTransport {
    /// The socket.
    socket: WebSocket,
    /// What the page has, so frames carry only what changed.
    framer: WebFramer,
    /// The page's terminal area, within the relay's limits.
    area: Size,
    /// The relay's limits: the largest area a page may ask for.
    limits: Limits,
    /// When the page is pinged if it stays silent.
    ping_at: Instant,
    /// Pings sent since the page was last heard.
    unanswered: u8,
}

impl WebTransport {
    /// A transport over `socket` for a page of `size`.
    pub fn new(socket: WebSocket, size: Size, limits: Limits) -> Self {
        WebTransport {
            socket,
            framer: WebFramer::default(),
            area: limits.clamp(size),
            limits,
            ping_at: Instant::now() + PING_AFTER,
            unanswered: 0,
        }
    }
}

impl Transport for WebTransport {
    type Incoming = ClientMsg;

    fn pane_area(&self) -> Size {
        self.area
    }

    async fn waiting(&mut self, text: &str) -> Result<(), ()> {
        let bytes = encode(&ServerMsg::Wait { text });
        self.socket
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(drop)
    }

    async fn start(&mut self) -> Result<(), ()> {
        Ok(())
    }

    async fn recv(&mut self) -> Option<ClientMsg> {
        // Bounded: every turn either returns or sends a ping, and the pings are counted.
        loop {
            tokio::select! {
                msg = self.socket.recv() => {
                    self.unanswered = 0;
                    self.ping_at = Instant::now() + PING_AFTER;
                    match msg? {
                        Ok(Message::Text(text)) => {
                            if let Some(msg) = ClientMsg::parse(text.as_str()) {
                                return Some(msg);
                            }
                        }
                        Ok(Message::Close(_)) | Err(_) => return None,
                        Ok(_) => {}
                    }
                }
                _ = sleep_until(self.ping_at) => {
                    if self.unanswered >= MAX_UNANSWERED {
                        return None;
                    }
                    self.unanswered += 1;
                    self.ping_at = Instant::now() + PING_AFTER;
                    let _ = self.socket.send(Message::Ping(Vec::new().into())).await;
                }
            }
        }
    }

    fn interpret(&mut self, msg: ClientMsg, screen: &ScreenState, out: &mut Vec<GuestEvent>) {
        match msg {
            ClientMsg::Resize { cols, rows } => {
                self.area = self.limits.clamp(Size::new(cols, rows));
                out.push(GuestEvent::Resize(self.area));
            }
            msg => out.push(GuestEvent::Input(msg.to_input(&screen.modes, screen.size))),
        }
    }

    async fn frame(&mut self, view: &RoomView, status: &GuestStatus<'_>) -> Result<(), ()> {
        let status = StatusMsg::new(status, view.host_away);
        let bytes = self.framer.frame(&view.screen, status);
        self.socket
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(drop)
    }

    async fn finish(mut self, farewell: Farewell) {
        let (reason, retry) = match &farewell {
            Farewell::Refused(text) => (text.as_str(), false),
            Farewell::Ended { text, retry } => (text.as_str(), *retry),
            Farewell::Detached => ("", false),
        };
        // The words were written for a terminal: no prefix or line end on a page.
        let reason = reason.trim();
        let reason = reason.strip_prefix("cotty: ").unwrap_or(reason);
        if reason.is_empty() {
            let _ = timeout(GOODBYE, self.socket.send(Message::Close(None))).await;
        } else {
            let _ = timeout(GOODBYE, say_bye(&mut self.socket, reason, retry)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_short() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(browser_name(Some(chrome)), "Chrome 131");
        let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0.1";
        assert_eq!(browser_name(Some(edge)), "Edge 120");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(browser_name(Some(firefox)), "Firefox 133");
        let safari =
            "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_name(Some(safari)), "Safari 17");
        assert_eq!(browser_name(Some("curl/8.1\x1b[2J")), "curl/8.1[2J");
        assert_eq!(browser_name(None), "browser");
    }
}
