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
use crate::net::relay::web::ticket;
use crate::ui::guest_view::GuestStatus;
use axum::extract::ws::{Message, WebSocket};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::{Instant, sleep_until, timeout};
use tracing::info;

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
    let (token, size, ticket) = match timeout(grace, first_join(&mut socket)).await {
        Ok(Some(join)) => join,
        Ok(None) | Err(_) => {
            let reason = "the page must say which session it wants first; reload it";
            let _ = timeout(GOODBYE, say_bye(&mut socket, reason, false)).await;
            return;
        }
    };
    // A key-only session lets the page in once a guest with a listed key vouches for it.
    let (key, ticket) = match approval(&mut socket, &token, ticket.as_deref(), &shared).await {
        Ok(Some((key, ticket))) => (Some(key), Some(ticket)),
        Ok(None) => (None, None),
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
    let mut transport = WebTransport::new(socket, size, shared.limits);
    transport.ticket = ticket.map(|t| (shared.clone(), t));
    guest::run(transport, setup, shared).await;
}

/// For a session that admits only listed keys: lets in a page that shows a good `ticket`
/// for a key still listed, else shows the page its `approve-web` command and waits for a
/// guest to run it; either way the page is sent its ticket. `Ok(None)` for any other token
/// (an open session, or one that does not exist, which the guest actor refuses after its
/// delay as always); `Err` with what to tell the page when the code ran out or too many
/// pages wait. A page that goes meanwhile ends here too, with nothing to say.
async fn approval(
    socket: &mut WebSocket,
    token: &str,
    ticket: Option<&str>,
    shared: &Shared,
) -> Result<Option<(KeyIdentity, String)>, String> {
    let Some(keys) = shared
        .registry
        .lookup(token)
        .and_then(|e| e.keys.borrow().clone())
    else {
        return Ok(None);
    };
    let now = SystemTime::now();
    let back = ticket
        .filter(|t| !shared.revoked_tickets.is_revoked(t))
        .and_then(|t| ticket::check(&shared.resume_key, token, t, now))
        .and_then(|t| {
            keys.identify_fingerprint(&t.fingerprint, t.proved_from)
                .ok()
        });
    // A page that came back keeps the ticket it showed, with its end: one ticket per
    // approval, so revoking it on a kick leaves no older one that still works.
    let (id, ticket) = match (back, ticket) {
        (Some(id), Some(shown)) => {
            info!("a web page came back with its ticket as {}", id.name);
            (id, shown.to_string())
        }
        _ => {
            let id = approve_web(socket, token, shared).await?;
            let fresh = ticket::issue(
                &shared.resume_key,
                token,
                &id.fingerprint,
                id.proved_from,
                SystemTime::now(),
            );
            (id, fresh)
        }
    };
    let msg = encode(&ServerMsg::Ticket { ticket: &ticket });
    if socket.send(Message::Binary(msg.into())).await.is_err() {
        return Err(String::new());
    }
    Ok(Some((id, ticket)))
}

/// Shows the page its `approve-web` command and waits for a guest with a listed key to run
/// it, until the code runs out.
async fn approve_web(
    socket: &mut WebSocket,
    token: &str,
    shared: &Shared,
) -> Result<KeyIdentity, String> {
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
            id = &mut approved => return id.map_err(|_| String::new()),
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

/// Reads messages until the page's join: its token, terminal area and ticket. `None` when
/// the page sends something else first, or goes.
async fn first_join(socket: &mut WebSocket) -> Option<(String, Size, Option<String>)> {
    // Control frames (pings) may come first; a few, no more.
    for _ in 0..8 {
        match socket.recv().await? {
            Ok(Message::Text(text)) => {
                return match ClientMsg::parse(text.as_str())? {
                    ClientMsg::Join {
                        token,
                        cols,
                        rows,
                        ticket,
                    } => Some((token, Size::new(cols, rows), ticket)),
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
    /// The ticket a key-only session's page was given, revoked if the host sends the page
    /// away for good.
    ticket: Option<(Arc<Shared>, String)>,
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
            ticket: None,
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
        // Kicked, or the session is over: the ticket must not bring the page back.
        if let (Farewell::Ended { retry: false, .. }, Some((shared, ticket))) =
            (&farewell, &self.ticket)
        {
            shared.revoked_tickets.revoke(ticket, SystemTime::now());
        }
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
