//! The relay's end of a host connection: hello, a new or resumed session, then frames to and
//! from the room, with pings both ways so a silent link is found.

use crate::net::codec::{FrameReader, FrameWriter, check_version};
use crate::net::heartbeat::{Heartbeat, PING_EVERY};
use crate::net::proto::{Hello, HostMsg, Links, RejectKind, RelayMsg, Resume};
use crate::net::relay::guestkeys::GuestKeys;
use crate::net::relay::links::MainGates;
use crate::net::relay::names::{self, Claim};
use crate::net::relay::registry::{RegisterError, Tokens, new_token};
use crate::net::relay::room::{Attached, Room, RoomCmd, RoomSetup};
use crate::net::relay::server::Shared;
use crate::net::relay::ssh::fmt_peer;
use crate::ui::guest_escape::clean_title;
use anyhow::{Context, Result, anyhow, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

/// Messages waiting for the host's connection; a host that lets more pile up is let go.
const HOST_QUEUE: usize = 1024;
/// Host messages waiting for the room.
const ROOM_QUEUE: usize = 256;

/// A refusal to send the host before closing.
struct Refusal {
    /// Shown to the host's user.
    reason: String,
    /// Whether a retry can help.
    kind: RejectKind,
}

impl Refusal {
    fn new(kind: RejectKind, reason: impl Into<String>) -> Refusal {
        Refusal {
            reason: reason.into(),
            kind,
        }
    }
}

/// A session the host may now speak to.
struct Session {
    /// The room's queue.
    room: mpsc::Sender<RoomCmd>,
    /// The tokens (and so the links).
    tokens: Tokens,
    /// The session's id.
    id: String,
    /// Whether the host's earlier session was taken up again.
    resumed: bool,
    /// Whether the room was made for this hello (new, or again after a relay restart), so a
    /// refusal after that must end it.
    fresh: bool,
    /// The names the session's links go by, when it is a named session.
    names: Option<Claim>,
}

/// Serves one host over any byte stream: an ssh channel, or an in-memory pipe.
pub async fn serve<S>(stream: S, shared: Arc<Shared>, peer: Option<SocketAddr>) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let mut reader = FrameReader::new(r);
    // Relay-to-host traffic is small control messages: stored blocks, no compressor state.
    let mut writer = FrameWriter::stored(w);
    let first = tokio::time::timeout(shared.limits.hello_timeout, reader.next::<HostMsg>())
        .await
        .map_err(|_| anyhow!("no hello within {:?}", shared.limits.hello_timeout))?;
    let first = match first {
        Ok(first) => first,
        Err(e) => {
            // Say why, so that an older cotty's host shows the advice instead of a dropped link.
            let reason = format!("the relay could not read your hello: {e}");
            let _ = writer.send(&reject(RejectKind::Final, &reason)).await;
            bail!(reason);
        }
    };
    let mut first = first.unwrap_or_default().into_iter();
    let hello = match first.next() {
        Some(HostMsg::Hello(h)) => *h,
        _ => {
            let reason = "the first message must be Hello; is this a cotty host?";
            let _ = writer.send(&reject(RejectKind::Final, reason)).await;
            bail!(reason);
        }
    };
    if let Err(e) = check_version(&hello) {
        let _ = writer.send(&reject(RejectKind::Final, e.to_string())).await;
        return Err(e.into());
    }
    if let Some(reason) = unguarded(&shared, &hello) {
        warn!("host {} refused: {reason}", fmt_peer(peer));
        let _ = writer.send(&reject(RejectKind::Final, &reason)).await;
        bail!(reason);
    }
    // Counted while this connection hosts; the embedded relay's own host is not counted.
    let _slot = match peer {
        Some(p) => {
            let max = shared.limits.sessions_per_ip;
            match shared.registry.host_slot(p.ip(), max) {
                Some(slot) => Some(slot),
                None => {
                    let reason = format!(
                        "your address hosts {max} sessions already, the most this relay allows; \
                         end one first"
                    );
                    warn!("host {} refused: {reason}", fmt_peer(peer));
                    let _ = writer.send(&reject(RejectKind::Retry, &reason)).await;
                    bail!(reason);
                }
            }
        }
        None => None,
    };

    let (host_tx, mut host_rx) = mpsc::channel::<RelayMsg>(HOST_QUEUE);
    let (session, attached) = match open_session(&shared, &hello).await {
        Ok(s) => match attach(&s.room, host_tx).await {
            Some(a) => (s, a),
            None => {
                let r = Refusal::new(RejectKind::Retry, "the session just ended; try again");
                let _ = writer.send(&reject(r.kind, &r.reason)).await;
                bail!(r.reason);
            }
        },
        Err(r) => {
            warn!("host {} refused: {}", fmt_peer(peer), r.reason);
            let _ = writer.send(&reject(r.kind, &r.reason)).await;
            bail!(r.reason);
        }
    };
    let label: String = session.id.chars().take(6).collect();
    let epoch = attached.epoch;
    let room_tx = session.room.clone();
    info!(
        "host {} ({}) {} session {label}",
        fmt_peer(peer),
        hello.client,
        if session.resumed {
            "resumed"
        } else {
            "registered"
        }
    );
    let tokens = &session.tokens;
    // A named session's links go by its names; a link it has no name for keeps its token.
    let named = session.names.as_ref();
    let rw = named.and_then(|c| c.rw.as_deref()).unwrap_or(&tokens.rw);
    let ro = named.and_then(|c| c.ro.as_deref()).unwrap_or(&tokens.ro);
    if let Some(claim) = named {
        claim.log(&label, hello.authorized_keys.is_some() || hello.approve);
    }
    // A session that lists the guests' keys (-a) has web links too: its pages are let in by
    // a guest with a listed key (`approve-web`).
    let welcome = RelayMsg::Welcome {
        links: Links {
            ssh: shared.ssh_link(rw),
            ssh_ro: shared.ssh_link(ro),
            web: Some(shared.web_link(rw)),
            web_ro: Some(shared.web_link(ro)),
        },
        resume: Resume {
            secret: shared.resume_key.sign(&session.id, &tokens.rw, &tokens.ro),
            session: session.id.clone(),
            rw: tokens.rw.clone(),
            ro: tokens.ro.clone(),
        },
        resumed: session.resumed,
        guests: attached.guests,
    };

    let heard = Heartbeat::new();
    let shutdown = shared.shutdown.clone();
    let writing = async move {
        writer.send(&welcome).await?;
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut n = 0u64;
        loop {
            tokio::select! {
                msg = host_rx.recv() => {
                    // The room let this connection go (a resume replaced it, or it stopped
                    // reading).
                    let Some(msg) = msg else { break };
                    let closing =
                        matches!(msg, RelayMsg::Closing { .. } | RelayMsg::Reject { .. });
                    writer.push(&msg).await?;
                    while let Ok(more) = host_rx.try_recv() {
                        writer.push(&more).await?;
                    }
                    writer.flush().await?;
                    if closing {
                        break;
                    }
                }
                _ = ping.tick() => {
                    n += 1;
                    writer.send(&RelayMsg::Ping(n)).await?;
                }
            }
        }
        anyhow::Ok(())
    };
    let heard_ref = &heard;
    let reading = async {
        for msg in first {
            room_tx.send(RoomCmd::Host(epoch, msg)).await?;
        }
        while let Some(batch) = reader.next::<HostMsg>().await? {
            heard_ref.stamp();
            for msg in batch {
                room_tx.send(RoomCmd::Host(epoch, msg)).await?;
            }
        }
        anyhow::Ok(())
    };
    let result = tokio::select! {
        r = reading => r.context("host connection"),
        r = writing => r.context("host connection"),
        silent = heard.dead() => Err(anyhow!(
            "nothing heard from the host for {} s",
            silent.as_secs()
        )),
        // The room tells the host and ends itself; give the message a moment to go out.
        _ = async {
            shutdown.cancelled().await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        } => Ok(()),
    };
    let why = match &result {
        Ok(()) => "the connection closed".to_string(),
        Err(e) => format!("{e:#}"),
    };
    if result.is_err() {
        warn!("session {label}: {why}");
    }
    let _ = room_tx.send(RoomCmd::HostGone(epoch, why)).await;
    result
}

/// Why `--require-authorized-keys` refuses this hello: it lists no guest key and asks for no
/// approval, so anyone with the link could join.
fn unguarded(shared: &Shared, hello: &Hello) -> Option<String> {
    let keyed = hello
        .authorized_keys
        .as_ref()
        .is_some_and(|k| !k.is_empty());
    (shared.require_authorized_keys && !keyed && !hello.approve).then(|| {
        "this relay only hosts sessions that limit who joins: list your guests' public keys \
         with -a FILE (authorized_keys format), or admit each guest yourself with --approve"
            .to_string()
    })
}

/// A Reject message.
fn reject(kind: RejectKind, reason: impl Into<String>) -> RelayMsg {
    RelayMsg::Reject {
        reason: reason.into(),
        kind,
    }
}

/// Finds or makes the session a hello asks for, and gives it the names the hello asks for.
/// The same API key's older sessions that held those names end: the new one replaces them.
async fn open_session(shared: &Arc<Shared>, hello: &Hello) -> Result<Session, Refusal> {
    let final_refusal = |why: String| Refusal::new(RejectKind::Final, why);
    let claim = Claim::from_hello(hello, shared.api_keys.as_deref()).map_err(final_refusal)?;
    let mut session = open_room(shared, hello, claim.as_ref()).await?;
    let Some(claim) = claim else {
        return Ok(session);
    };
    match names::bind(&shared.registry, &claim, &session.tokens) {
        Ok(older) => {
            for room in older {
                let _ = room.send(RoomCmd::Superseded(REPLACED.into())).await;
            }
        }
        Err(e) => {
            if session.fresh {
                let _ = session.room.send(RoomCmd::Superseded(e.to_string())).await;
            }
            return Err(final_refusal(e.to_string()));
        }
    }
    session.names = Some(claim);
    Ok(session)
}

/// What the host of a session is told when another host with the same API key takes its
/// names; it stops sharing rather than take them back.
const REPLACED: &str = "another host registered this session's name with the same API key and \
                        replaced this session; this host stops sharing";

/// Finds or makes the room a hello asks for: a new one, the live room of a resume, or a room
/// made again with the same tokens after a relay restart. A `claim` whose names cannot be had
/// is refused before a room is made.
async fn open_room(
    shared: &Arc<Shared>,
    hello: &Hello,
    claim: Option<&Claim>,
) -> Result<Session, Refusal> {
    let may_name = |tokens: &Tokens| match claim {
        Some(c) => names::check(&shared.registry, c, tokens)
            .map_err(|e| Refusal::new(RejectKind::Final, e.to_string())),
        None => Ok(()),
    };
    let no_random = |_| {
        Refusal::new(
            RejectKind::Retry,
            "the relay has no random source; try again later",
        )
    };
    let Some(r) = &hello.resume else {
        let tokens = Tokens::new().map_err(no_random)?;
        let id = new_token().map_err(no_random)?;
        may_name(&tokens)?;
        let room = spawn_room(shared, &id, hello, &tokens).map_err(|e| {
            Refusal::new(
                RejectKind::Retry,
                format!("could not register the session: {e:?}"),
            )
        })?;
        return Ok(Session {
            room,
            tokens,
            id,
            resumed: false,
            fresh: true,
            names: None,
        });
    };
    if !shared.resume_key.verify(r) {
        return Err(Refusal::new(
            RejectKind::Resume,
            "the resume secret does not check: this relay's key file is not the one that \
             made it",
        ));
    }
    let tokens = Tokens {
        rw: r.rw.clone(),
        ro: r.ro.clone(),
    };
    let in_use = || {
        Refusal::new(
            RejectKind::Resume,
            "a token of this session is in use by another session",
        )
    };
    may_name(&tokens)?;
    let (room, fresh) = match (shared.registry.lookup(&r.rw), shared.registry.lookup(&r.ro)) {
        (Some(a), Some(b)) if a.room.same_channel(&b.room) => (a.room, false),
        (None, None) => {
            let room = spawn_room(shared, &r.session, hello, &tokens).map_err(|e| match e {
                RegisterError::InUse => in_use(),
                RegisterError::Malformed => {
                    Refusal::new(RejectKind::Resume, "the session's tokens are malformed")
                }
            })?;
            (room, true)
        }
        _ => return Err(in_use()),
    };
    Ok(Session {
        room,
        tokens,
        id: r.session.clone(),
        resumed: true,
        fresh,
        names: None,
    })
}

/// Registers `tokens` for a new room and starts it.
fn spawn_room(
    shared: &Arc<Shared>,
    id: &str,
    hello: &Hello,
    tokens: &Tokens,
) -> Result<mpsc::Sender<RoomCmd>, RegisterError> {
    let (room_tx, room_rx) = mpsc::channel::<RoomCmd>(ROOM_QUEUE);
    let keys = hello.authorized_keys.as_deref().map(|lines| {
        let (keys, dropped) = GuestKeys::from_lines(lines);
        if dropped > 0 {
            info!("session {id:.6}: {dropped} guest key lines unreadable or over the limits");
        }
        Arc::new(keys)
    });
    let (keys_tx, keys_rx) = watch::channel(keys);
    // The deadline starts now and stays with the room: a host that comes back to it does not
    // move it (the hello of a resume is not asked), and one that registers again on a
    // restarted relay sends only what is left of it.
    let ttl = hello.link_ttl_secs.map(std::time::Duration::from_secs);
    let gates = MainGates::new(tokio::time::Instant::now(), ttl);
    shared
        .registry
        .register_keyed(tokens, room_tx.clone(), &gates, keys_rx)?;
    let label: String = id.chars().take(6).collect();
    let mut room = Room::new(RoomSetup {
        id: id.to_string(),
        title: guest_title(hello.title.as_deref(), &label),
        label,
        tokens: tokens.clone(),
        shared: shared.clone(),
        me: room_tx.downgrade(),
        keys: keys_tx,
        approve: hello.approve,
        gates,
    });
    // A session taken up again on a restarted relay gets back the extra links it had; a new
    // session has none to ask for.
    if hello.resume.is_some() {
        room.restore_links(hello.extra_links.clone());
    }
    shared.tasks.spawn(room.run(room_rx));
    Ok(room_tx)
}

/// Attaches a host connection to a room; `None` if the room has just ended.
async fn attach(room: &mpsc::Sender<RoomCmd>, host: mpsc::Sender<RelayMsg>) -> Option<Attached> {
    let (tx, rx) = oneshot::channel();
    room.send(RoomCmd::Attach(host, tx)).await.ok()?;
    rx.await.ok()
}

/// The most characters of a host's [`Hello::title`] that guests' status lines show.
const MAX_TITLE: usize = 40;

/// What guests' status lines call a session: the host's title as [`clean_title`] makes a
/// window title safe for a guest's terminal, trimmed and cut to [`MAX_TITLE`] characters, or
/// `fallback` when nothing is left.
fn guest_title(title: Option<&str>, fallback: &str) -> String {
    let clean: String = clean_title(title.unwrap_or_default())
        .chars()
        .take(MAX_TITLE)
        .collect();
    match clean.trim() {
        "" => fallback.to_string(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hosts_title_reaches_guests_without_control_characters_and_cut_short() {
        assert_eq!(guest_title(Some("alice@box"), "Ab12Cd"), "alice@box");
        assert_eq!(
            guest_title(Some("\x1b]0;pwned\x07me"), "Ab12Cd"),
            "]0;pwnedme"
        );
        assert_eq!(guest_title(Some(" \r\n "), "Ab12Cd"), "Ab12Cd");
        assert_eq!(guest_title(None, "Ab12Cd"), "Ab12Cd");
        let long = "x".repeat(100);
        assert_eq!(guest_title(Some(&long), "-").chars().count(), MAX_TITLE);
    }
}
