//! One guest, whatever it came by: joins its room, draws the newest view when the guest can
//! take it, passes its input on, and leaves.
//!
//! The actor is the same for every transport. An ssh channel ([`crate::net::relay::ssh_guest`])
//! and a browser's websocket ([`crate::net::relay::web::socket`]) are thin [`Transport`]s
//! that turn what their guest sends into [`GuestEvent`]s and draw views in their own form.
//! So the lookup, the refusals, the pacing and the access checks exist once, here. The
//! actor waits for the guest to take a frame before it looks at the room's latest view
//! again, so a slow guest gets fewer frames and nothing queues up for it.

use crate::core::pacer::{self, Pacer};
use crate::core::term::ScreenState;
use crate::core::types::{Access, Size, Via};
use crate::net::proto::KICKED;
use crate::net::relay::guest_wait::{self, Answer, STOPPED_WAITING};
use crate::net::relay::guestkeys::{self, KeyIdentity, KeyRefused};
use crate::net::relay::registry::Entry;
use crate::net::relay::room::{GuestCtl, JoinRequest, RELAY_RESTARTING, RoomCmd, RoomView};
use crate::net::relay::server::Shared;
use crate::net::relay::ssh::fmt_peer;
use crate::ui::guest_view::GuestStatus;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};
use tracing::info;

/// The status line while the host is away or silent; the last screen stays.
pub const HOST_RECONNECTING: &str = "host reconnecting…";
/// How long a line for one guest alone (such as "input paused") stays on its status line.
const OWN_NOTICE_FOR: Duration = Duration::from_secs(3);
/// What a guest with a link that leads nowhere is told, over ssh and the web alike.
pub const NO_SUCH_SESSION: &str = "no such session; check the link you were given";

/// What the transport learned about a guest before it asked to join.
#[derive(Debug, Clone)]
pub struct GuestSetup {
    /// The session token from the link.
    pub token: String,
    /// The fingerprint of the key the guest authenticated with.
    pub fingerprint: Option<String>,
    /// The listed key the guest proved it holds, for a session that lists its guests' keys:
    /// its name and whether it joins read-only.
    pub key: Option<KeyIdentity>,
    /// A name for the host's guest list when there is no key: the browser of a web guest.
    pub name: Option<String>,
    /// Where it connects from.
    pub addr: Option<SocketAddr>,
    /// How it connected.
    pub via: Via,
}

/// What a guest's input amounts to, once its transport has read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestEvent {
    /// Bytes for the program, encoded in the pane's modes.
    Input(Vec<u8>),
    /// The guest's area for the pane changed to this size.
    Resize(Size),
    /// The guest asked to leave (C-b d over ssh).
    Detach,
    /// The guest is gone.
    Closed,
}

/// Why a guest's connection ends, for the transport's last words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Farewell {
    /// It never got in: the reason, for a person.
    Refused(String),
    /// It left of its own accord.
    Detached,
    /// The host or the relay ended its stay: the line it is left with. `retry` says whether
    /// coming back with the same link can work (the relay restarts).
    Ended {
        /// What the guest is told.
        text: String,
        /// Whether a reconnect with the same link may work.
        retry: bool,
    },
}

/// A guest's connection, as the actor sees it: a way to draw views and to read input.
pub trait Transport: Send {
    /// What the guest sent, as read off the connection.
    type Incoming: Send;

    /// The area the guest shows the pane in.
    fn pane_area(&self) -> Size;

    /// Why this guest cannot join although its link is good (an ssh guest without a
    /// terminal), asked once the link is found.
    fn unfit(&self) -> Option<String> {
        None
    }

    /// Tells a guest that waits for the host's answer (`--approve`) so, before any frame;
    /// `Err` when the guest is gone.
    fn waiting(&mut self, text: &str) -> impl Future<Output = Result<(), ()>> + Send;

    /// Sends whatever must precede the first frame; `Err` when the guest is gone.
    fn start(&mut self) -> impl Future<Output = Result<(), ()>> + Send;

    /// Waits for what the guest sends next; `None` once it is gone. Cancel-safe: the actor
    /// drops it when something else happens first.
    fn recv(&mut self) -> impl Future<Output = Option<Self::Incoming>> + Send;

    /// Turns what came into events, with the pane as the room has it now (its modes say how
    /// keys are encoded, its size where the mouse may click).
    fn interpret(
        &mut self,
        incoming: Self::Incoming,
        screen: &ScreenState,
        out: &mut Vec<GuestEvent>,
    );

    /// Draws `view`; returns once the connection has taken it (the backpressure), `Err`
    /// when the guest is gone.
    fn frame(
        &mut self,
        view: &RoomView,
        status: &GuestStatus<'_>,
    ) -> impl Future<Output = Result<(), ()>> + Send;

    /// Says goodbye and closes the connection.
    fn finish(self, farewell: Farewell) -> impl Future<Output = ()> + Send;
}

/// A random pause of 100 to 500 ms, so failed lookups cannot be timed or hammered.
pub async fn failure_delay() {
    let mut b = [0u8; 2];
    let jitter = getrandom::fill(&mut b)
        .map(|_| u64::from(u16::from_le_bytes(b)) % 401)
        .unwrap_or(300);
    tokio::time::sleep(Duration::from_millis(100 + jitter)).await;
}

/// Finds the guest's room, or says why not after the failure delay, counting a wrong link
/// against the guest's address as over ssh.
async fn admit(setup: &GuestSetup, shared: &Shared) -> Result<Entry, String> {
    if let Some(msg) = shared.per_ip.lookup_refusal(setup.addr) {
        failure_delay().await;
        return Err(msg);
    }
    // A link that is off, expired or used up is refused as a wrong one is, with its reason.
    let entry = match shared.registry.lookup(&setup.token) {
        Some(entry) => match entry.gate.refusal(Instant::now()) {
            None => entry,
            Some(why) => return Err(refuse_link(setup, shared, why).await),
        },
        None => return Err(refuse_link(setup, shared, NO_SUCH_SESSION).await),
    };
    // A key-only session admits only a listed key, checked again against the list of now: a
    // guest that got in by another way, or whose key was removed meanwhile (`reload-keys`),
    // is refused here. A key's `from=` holds the address of the ssh client that proved it.
    let keys = entry.keys.borrow().clone();
    if let Some(keys) = keys {
        let verdict = match &setup.key {
            Some(k) => keys.admits_fingerprint(&k.fingerprint, k.proved_from),
            None => Err(KeyRefused::Unlisted),
        };
        if let Err(why) = verdict {
            let offered: Vec<String> = setup.fingerprint.iter().cloned().collect();
            let proved_from = setup.key.as_ref().and_then(|k| k.proved_from);
            let text = match why {
                KeyRefused::Unlisted => guestkeys::refusal(&offered, &[], proved_from),
                KeyRefused::NotFromHere => guestkeys::refusal(&[], &offered, proved_from),
            };
            info!(
                "{} guest from {} refused: {text}",
                setup.via.label(),
                fmt_peer(setup.addr)
            );
            return Err(format!("cotty: {text}\r\n"));
        }
    }
    Ok(entry)
}

/// Logs and counts a refused link against the guest's address, waits the failure delay, and
/// gives the guest's farewell: `why`, or the per-address limit's message if this tripped it.
async fn refuse_link(setup: &GuestSetup, shared: &Shared, why: &str) -> String {
    info!(
        "{} guest from {} refused: {why}",
        setup.via.label(),
        fmt_peer(setup.addr)
    );
    let msg = shared.per_ip.count_failed_lookup(setup.addr);
    failure_delay().await;
    msg.unwrap_or_else(|| format!("cotty: {why}\r\n"))
}

/// Runs a guest until it leaves, is kicked, or the session ends.
pub async fn run<T: Transport>(mut transport: T, setup: GuestSetup, shared: Arc<Shared>) {
    let Entry {
        room, access, gate, ..
    } = match admit(&setup, &shared).await {
        Ok(entry) => entry,
        Err(why) => return transport.finish(Farewell::Refused(why)).await,
    };
    if let Some(why) = transport.unfit() {
        return transport.finish(Farewell::Refused(why)).await;
    }
    let limits = shared.limits;
    // A cotty-ro key joins read-only whichever link it used.
    let access = match &setup.key {
        Some(k) if k.read_only => Access::ReadOnly,
        _ => access,
    };
    let (reply_tx, reply_rx) = oneshot::channel();
    let (asked_tx, asked_rx) = oneshot::channel();
    let req = JoinRequest {
        via: setup.via,
        name: match &setup.key {
            Some(k) => Some(k.name.clone()),
            None => setup
                .fingerprint
                .as_deref()
                .map(short_fingerprint)
                .or(setup.name.clone()),
        },
        fingerprint: setup.fingerprint.clone(),
        addr: setup.addr.map(|a| a.to_string()),
        access,
        size: transport.pane_area(),
        asked: Some(asked_tx),
        gate: gate.clone(),
    };
    let area = req.size;
    let joined = match room.send(RoomCmd::Join(req, reply_tx)).await {
        Ok(()) => guest_wait::answer(&mut transport, reply_rx, asked_rx).await,
        Err(_) => Answer::Refused("the session has ended".into()),
    };
    let mut joined = match joined {
        Answer::Joined(j) => j,
        // The gate closed since the admission (another guest took a one-time link first):
        // refused as at the admission.
        Answer::Refused(why) if gate.refusal(Instant::now()) == Some(why.as_str()) => {
            let why = refuse_link(&setup, &shared, &why).await;
            return transport.finish(Farewell::Refused(why)).await;
        }
        Answer::Refused(why) => {
            return transport
                .finish(Farewell::Refused(format!("cotty: {why}\r\n")))
                .await;
        }
        Answer::Left => {
            let bye = format!("cotty: {STOPPED_WAITING}\r\n");
            return transport.finish(Farewell::Refused(bye)).await;
        }
    };
    let id = joined.id;
    // A guest that waited for the host may have resized its terminal meanwhile.
    if transport.pane_area() != area {
        let _ = room.send(RoomCmd::Resize(id, transport.pane_area())).await;
    }
    // What the room granted: less than the link's when the host admitted it read-only.
    let mut access = joined.access;
    let mut pending = true;
    let mut pacer = Pacer::new(Instant::now());
    let mut events = Vec::new();
    // A line for this guest alone, and until when it shows.
    let mut own_notice: Option<(String, Instant)> = None;
    if transport.start().await.is_err() {
        let _ = room.send(RoomCmd::Leave(id)).await;
        return;
    }
    let farewell = 'run: loop {
        // Draw as soon as the pacer allows; a timer only when it must wait, since a tokio
        // sleep rounds up to the timer's next millisecond tick.
        let now = Instant::now();
        let cost = if joined.view.borrow().small {
            pacer::SMALL
        } else {
            pacer::FULL
        };
        let next_frame = pacer.ready_at(now, cost);
        if pending && next_frame <= now {
            pending = false;
            let view: Arc<RoomView> = joined.view.borrow_and_update().clone();
            own_notice = own_notice.filter(|(_, until)| *until > now);
            let message = match &own_notice {
                Some((text, _)) => Some(text.as_str()),
                None if view.host_away => Some(HOST_RECONNECTING),
                None => view.notice.as_deref(),
            };
            let status = GuestStatus {
                session: &joined.label,
                access,
                locked: view.locked,
                guests: view.guests,
                message,
            };
            // Waiting here for the guest to take the frame is the backpressure: meanwhile
            // the room keeps publishing, and the next frame takes only the newest view. A
            // guest that takes nothing for the stall timeout is dropped, so its buffers are
            // freed.
            match tokio::time::timeout(limits.guest_stall_timeout, transport.frame(&view, &status))
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(())) => break Farewell::Detached,
                Err(_) => {
                    info!(
                        "guest {id} from {} took no frame for {:?}; dropped",
                        fmt_peer(setup.addr),
                        limits.guest_stall_timeout
                    );
                    let _ = room.send(RoomCmd::Leave(id)).await;
                    return;
                }
            }
            pacer.take(Instant::now(), cost);
            continue;
        }
        tokio::select! {
            // Control first: the room queues Ended before it closes the view, and the
            // reason must win over the closed view.
            biased;
            ctl = joined.ctl.recv() => match ctl {
                Some(GuestCtl::Access(a)) => {
                    if a != access {
                        own_notice = Some((access_notice(a).into(), Instant::now() + OWN_NOTICE_FOR));
                    }
                    access = a;
                    pending = true;
                }
                Some(GuestCtl::Notice(text)) => {
                    own_notice = Some((text, Instant::now() + OWN_NOTICE_FOR));
                    pending = true;
                }
                Some(GuestCtl::Kicked(reason)) => break ended(kicked_farewell(&reason), false),
                // A room ends with the relay too: then the same link works again soon.
                Some(GuestCtl::Ended(reason)) => {
                    break ended(format!("cotty: {reason}"), shared.shutdown.is_cancelled());
                }
                None => break ended("cotty: the session has ended".into(), shared.shutdown.is_cancelled()),
            },
            incoming = transport.recv() => {
                let Some(incoming) = incoming else { break Farewell::Detached };
                let screen = joined.view.borrow().screen.clone();
                transport.interpret(incoming, &screen, &mut events);
                for event in events.drain(..) {
                    match event {
                        // The room checks again, with the lock; this spares it the traffic.
                        GuestEvent::Input(bytes) if access == Access::ReadWrite && !bytes.is_empty() => {
                            let _ = room.send(RoomCmd::Input(id, bytes)).await;
                        }
                        GuestEvent::Input(_) => {}
                        GuestEvent::Resize(size) => {
                            let _ = room.send(RoomCmd::Resize(id, size)).await;
                            pending = true;
                        }
                        GuestEvent::Detach | GuestEvent::Closed => break 'run Farewell::Detached,
                    }
                }
            }
            changed = joined.view.changed(), if !pending => {
                if changed.is_err() {
                    break ended("cotty: the session has ended".into(), false);
                }
                pending = true;
            }
            // The frame itself is drawn at the top of the loop.
            _ = sleep_until(next_frame), if pending => {}
            // A passing line of this guest's own has run out: draw without it.
            _ = sleep_until(own_notice.as_ref().map_or(now, |(_, until)| *until)), if own_notice.is_some() && !pending => {
                pending = true;
            }
            _ = shared.shutdown.cancelled() => break ended(format!("cotty: {RELAY_RESTARTING}"), true),
        }
    };
    let _ = room.send(RoomCmd::Leave(id)).await;
    transport.finish(farewell).await;
}

/// The farewell of a stay the host or the relay ended.
fn ended(text: String, retry: bool) -> Farewell {
    Farewell::Ended { text, retry }
}

/// The passing line of a guest whose access the host changed.
fn access_notice(access: Access) -> &'static str {
    match access {
        Access::ReadOnly => "the host made you read-only",
        Access::ReadWrite => "the host made you read-write: you can type",
    }
}

/// What a kicked guest is left with: the kick once, and the host's own words after it when
/// they say more (hosts send [`KICKED`] itself as the reason).
fn kicked_farewell(reason: &str) -> String {
    match reason.trim() {
        "" | KICKED => format!("cotty: {KICKED}"),
        more => format!("cotty: {KICKED}: {more}"),
    }
}

/// The first 12 characters of a fingerprint's hash, enough to tell keys apart in a list.
pub fn short_fingerprint(fp: &str) -> String {
    let hash = fp.strip_prefix("SHA256:").unwrap_or(fp);
    format!("SHA256:{}", hash.chars().take(12).collect::<String>())
}

#[cfg(test)]
mod tests;
