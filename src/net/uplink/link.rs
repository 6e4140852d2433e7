//! One connection to a relay: hello and welcome, then frames both ways until either side
//! ends it or the link goes silent.
//!
//! [`run`] speaks the protocol over any byte stream, so an in-process relay and a remote one
//! share this one code path. Both sides ping; a link that falls silent is given up (see
//! [`crate::net::heartbeat`]).

use crate::core::session::{Outbound, SessionCmd, SessionHandle};
use crate::net::codec::{FrameReader, FrameWriter};
use crate::net::heartbeat::{Heartbeat, PING_EVERY};
use crate::net::proto::{Hello, HostMsg, PaneGeometry, RejectKind, RelayMsg};
use crate::net::uplink::kept::Kept;
use crate::net::uplink::{UPLINK_QUEUE, UplinkEvent};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tracing::info;

/// How long the relay has to answer the hello.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);
/// Pongs waiting for the writer; more are dropped, the next ping asks again.
const PONG_QUEUE: usize = 8;

/// How one connection ended.
#[derive(Debug)]
pub enum LinkEnd {
    /// The session is over and the relay has its End message: stop.
    SessionOver,
    /// The link broke after the relay had accepted the session; reconnect at once.
    Lost(String),
    /// The link broke or was refused before the welcome; reconnect after a pause.
    Failed(String),
    /// The relay refused the resume: register a new session (new links).
    ResumeRefused(String),
    /// The relay refused for a reason no retry can change.
    Refused(String),
}

impl From<Outbound> for HostMsg {
    fn from(o: Outbound) -> HostMsg {
        match o {
            Outbound::Layout { panes, focus } => HostMsg::Layout {
                panes: panes
                    .into_iter()
                    .map(|(id, size)| PaneGeometry { id, size })
                    .collect(),
                focus,
            },
            Outbound::Rows(update) => HostMsg::Rows(update),
            Outbound::SetAccess { guest, access } => HostMsg::SetAccess { guest, access },
            Outbound::Kick { guest, reason } => HostMsg::Kick { guest, reason },
            Outbound::Lock(on) => HostMsg::Lock(on),
            Outbound::SetLink { access, enabled } => HostMsg::SetLink { access, enabled },
            Outbound::End { reason } => HostMsg::End { reason },
            Outbound::GuestKeys(lines) => HostMsg::GuestKeys { lines },
            Outbound::Admit { guest, access } => HostMsg::Admit { guest, access },
            Outbound::Deny { guest } => HostMsg::Deny { guest },
            Outbound::NewLink(req) => HostMsg::NewLink(req),
            Outbound::SetExtraLink { n, enabled } => HostMsg::SetExtraLink { n, enabled },
        }
    }
}

/// Speaks the protocol over `stream` until either side ends it or the link goes silent.
///
/// Sends the hello (with the resume and extra links in `kept`, if this host had a session),
/// waits for the welcome (reported as [`UplinkEvent::Connected`]), stores the new resume proof
/// and each extra link the relay reports in `kept`, hands the session a queue for its output
/// and forwards guests' events to it.
pub async fn run<S>(
    stream: S,
    hello: Hello,
    session: &SessionHandle,
    events: &mpsc::Sender<UplinkEvent>,
    kept: &mut Kept,
) -> LinkEnd
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let mut reader = FrameReader::new(r);
    let mut writer = FrameWriter::new(w);
    if let Err(e) = writer.send(&HostMsg::Hello(Box::new(hello))).await {
        return LinkEnd::Failed(format!("failed to greet the relay: {e}"));
    }
    let first = match tokio::time::timeout(WELCOME_TIMEOUT, reader.next::<RelayMsg>()).await {
        Err(_) => return LinkEnd::Failed(format!("no answer within {WELCOME_TIMEOUT:?}")),
        Ok(Err(e)) => return LinkEnd::Failed(format!("failed to read the relay's answer: {e}")),
        Ok(Ok(None)) => {
            return LinkEnd::Failed("the relay closed the connection before answering".into());
        }
        Ok(Ok(Some(batch))) => batch,
    };
    let mut rest = first.into_iter();
    let (guests, connected) = match rest.next() {
        Some(RelayMsg::Welcome {
            links,
            resume: proof,
            resumed,
            guests,
        }) => {
            info!("relay accepted the session (resumed: {resumed})");
            kept.welcome(proof, resumed);
            (guests, UplinkEvent::Connected { links, resumed })
        }
        Some(RelayMsg::Reject { reason, kind }) => return refusal(kind, reason),
        other => {
            return LinkEnd::Failed(format!("the relay answered {other:?} instead of Welcome"));
        }
    };

    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(UPLINK_QUEUE);
    let up = SessionCmd::UplinkUp {
        out: out_tx,
        guests,
    };
    if session.send(up).await.is_err() {
        return LinkEnd::SessionOver;
    }
    // After the session has the uplink: what the front end asks of the relay once it knows
    // the links (a new link) then finds the way up open.
    let _ = events.send(connected).await;
    let heard = Heartbeat::new();
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(PONG_QUEUE);
    let writing = async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut n = 0u64;
        loop {
            tokio::select! {
                msg = out_rx.recv() => {
                    let Some(msg) = msg else { break };
                    writer.push(&HostMsg::from(msg)).await?;
                    while let Ok(more) = out_rx.try_recv() {
                        writer.push(&HostMsg::from(more)).await?;
                    }
                    writer.flush().await?;
                }
                Some(p) = pong_rx.recv() => writer.send(&HostMsg::Pong(p)).await?,
                _ = ping.tick() => {
                    n += 1;
                    writer.send(&HostMsg::Ping(n)).await?;
                }
            }
        }
        // The session has ended: its End message is written; close our side.
        let _ = writer.shutdown().await;
        anyhow::Ok(())
    };
    let heard_ref = &heard;
    let reading = async move {
        for msg in rest {
            if let Some(end) = forward(session, events, &pong_tx, kept, msg).await {
                return end;
            }
        }
        loop {
            match reader.next::<RelayMsg>().await {
                Ok(Some(batch)) => {
                    heard_ref.stamp();
                    for msg in batch {
                        if let Some(end) = forward(session, events, &pong_tx, kept, msg).await {
                            return end;
                        }
                    }
                }
                Ok(None) => return LinkEnd::Lost("the relay closed the connection".into()),
                Err(e) => return LinkEnd::Lost(format!("reading from the relay: {e}")),
            }
        }
    };
    tokio::pin!(writing, reading);
    tokio::select! {
        r = &mut writing => match r {
            Ok(()) => {
                // The session ended and its End message is handed to the transport. Wait for
                // the relay to close its side, which it does once it has the message; exiting
                // sooner could drop the message inside the ssh connection.
                let _ = tokio::time::timeout(Duration::from_secs(3), &mut reading).await;
                LinkEnd::SessionOver
            }
            Err(e) => LinkEnd::Lost(format!("writing to the relay: {e:#}")),
        },
        end = &mut reading => end,
        silent = heard.dead() => LinkEnd::Lost(format!(
            "nothing heard from the relay for {} s",
            silent.as_secs()
        )),
    }
}

/// How the link ends when the relay refuses the host, by whether a retry can help.
fn refusal(kind: RejectKind, reason: String) -> LinkEnd {
    match kind {
        RejectKind::Retry => LinkEnd::Failed(format!("the relay refused: {reason}")),
        RejectKind::Resume => LinkEnd::ResumeRefused(reason),
        RejectKind::Final => LinkEnd::Refused(reason),
    }
}

/// Passes a relay message on to the session; returns how the link ends, if it does.
async fn forward(
    session: &SessionHandle,
    events: &mpsc::Sender<UplinkEvent>,
    pongs: &mpsc::Sender<u64>,
    kept: &mut Kept,
    msg: RelayMsg,
) -> Option<LinkEnd> {
    let cmd = match msg {
        RelayMsg::GuestJoined(info) => SessionCmd::GuestJoined(info),
        RelayMsg::GuestLeft { guest } => SessionCmd::GuestLeft(guest),
        RelayMsg::Input { guest, pane, bytes } => SessionCmd::GuestInput { guest, pane, bytes },
        RelayMsg::GuestResize { guest, size } => SessionCmd::GuestResize { guest, size },
        RelayMsg::GuestWaiting(info) => SessionCmd::GuestWaiting(info),
        RelayMsg::WaitOver { guest, reason } => SessionCmd::WaitOver(guest, reason),
        RelayMsg::Ping(n) => {
            let _ = pongs.try_send(n);
            return None;
        }
        RelayMsg::Closing { reason } => return Some(LinkEnd::Lost(reason)),
        // Extra links are the front end's to show, and kept for a restarted relay; the
        // session has nothing to do with them.
        RelayMsg::LinkAdded(link) => {
            kept.note(&link, std::time::Instant::now());
            let _ = events.send(UplinkEvent::ExtraLink(link)).await;
            return None;
        }
        RelayMsg::LinkRefused { req, reason } => {
            let _ = events.send(UplinkEvent::LinkRefused { req, reason }).await;
            return None;
        }
        // Refused after the welcome: another host took this session's name.
        RelayMsg::Reject { reason, kind } => return Some(refusal(kind, reason)),
        RelayMsg::Pong(_) | RelayMsg::Welcome { .. } => return None,
    };
    match session.send(cmd).await {
        Ok(()) => None,
        Err(_) => Some(LinkEnd::SessionOver),
    }
}
