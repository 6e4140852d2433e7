//! One ssh guest: joins its room, draws the newest view when it can send, forwards its keys.
//!
//! The task owns the ssh channel. It waits for the guest's window before sending, and only
//! then looks at the room's latest view, so a slow guest gets fewer frames and nothing queues
//! up for it.

use crate::core::pacer::{self, Pacer};
use crate::core::types::{Access, Size, Via};
use crate::net::proto::KICKED;
use crate::net::relay::guest_input::{KeyFilter, ReportMapper};
use crate::net::relay::registry::Entry;
use crate::net::relay::room::{GuestCtl, JoinRequest, RELAY_RESTARTING, RoomCmd, RoomView};
use crate::net::relay::server::Shared;
use crate::net::relay::ssh::fmt_peer;
use crate::ui::guest_view::{GuestRenderer, GuestStatus};
use russh::server::Msg;
use russh::{Channel, ChannelMsg};
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

/// What the ssh handler learned about a guest before its shell started.
#[derive(Debug, Clone)]
pub struct GuestSetup {
    /// The user name: the session token.
    pub token: String,
    /// The fingerprint of the key the guest authenticated with.
    pub fingerprint: Option<String>,
    /// Where it connects from.
    pub addr: Option<SocketAddr>,
    /// Its terminal size from the PTY request; `None` if it asked for no PTY.
    pub size: Option<Size>,
    /// How it connected.
    pub via: Via,
}

/// A random pause of 100 to 500 ms, so failed lookups cannot be timed or hammered.
pub async fn failure_delay() {
    let mut b = [0u8; 2];
    let jitter = getrandom::fill(&mut b)
        .map(|_| u64::from(u16::from_le_bytes(b)) % 401)
        .unwrap_or(300);
    tokio::time::sleep(Duration::from_millis(100 + jitter)).await;
}

/// Runs a guest until it detaches, is kicked, or the session ends.
pub async fn run(channel: Channel<Msg>, setup: GuestSetup, shared: Arc<Shared>) {
    let (mut rx, tx) = channel.split();
    let say_goodbye = |msg: String, delay: bool| {
        let tx = &tx;
        async move {
            let _ = tx.data_bytes(msg.into_bytes()).await;
            if delay {
                failure_delay().await;
            }
            let _ = tx.exit_status(1).await;
            let _ = tx.eof().await;
            let _ = tx.close().await;
        }
    };
    if let Some(msg) = shared.per_ip.lookup_refusal(setup.addr) {
        say_goodbye(msg, true).await;
        return;
    }
    let Some(Entry { room, access }) = shared.registry.lookup(&setup.token) else {
        info!(
            "guest from {} asked for an unknown session",
            fmt_peer(setup.addr)
        );
        let msg = shared.per_ip.count_failed_lookup(setup.addr);
        let msg = msg.unwrap_or("cotty: no such session; check the link you were given\r\n".into());
        say_goodbye(msg, true).await;
        return;
    };
    let Some(term) = setup.size else {
        say_goodbye(
            "cotty: a terminal is needed; join with `ssh -t`\r\n".into(),
            false,
        )
        .await;
        return;
    };
    let limits = shared.limits;
    let mut renderer = GuestRenderer::new(limits.clamp(term));
    let req = JoinRequest {
        via: setup.via,
        name: setup.fingerprint.as_deref().map(short_fingerprint),
        fingerprint: setup.fingerprint.clone(),
        addr: setup.addr.map(|a| a.to_string()),
        access,
        size: renderer.pane_area(),
    };
    let (reply_tx, reply_rx) = oneshot::channel();
    let joined = match room.send(RoomCmd::Join(req, reply_tx)).await {
        Ok(()) => reply_rx
            .await
            .unwrap_or_else(|_| Err("the session has ended".into())),
        Err(_) => Err("the session has ended".into()),
    };
    let mut joined = match joined {
        Ok(j) => j,
        Err(why) => {
            say_goodbye(format!("cotty: {why}\r\n"), false).await;
            return;
        }
    };
    let id = joined.id;
    let mut access = access;
    let mut keys = KeyFilter::default();
    let mut reports = ReportMapper::default();
    let mut pending = true;
    let mut pacer = Pacer::new(Instant::now());
    let mut farewell = String::new();
    // A line for this guest alone, and until when it shows.
    let mut own_notice: Option<(String, Instant)> = None;
    if tx.data_bytes(renderer.start()).await.is_err() {
        let _ = room.send(RoomCmd::Leave(id)).await;
        return;
    }
    loop {
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
            let bytes = renderer.frame(&view.screen, &status, &shared.theme);
            // Waiting here for the guest's window is the backpressure: meanwhile the room
            // keeps publishing, and the next frame takes only the newest view. A guest that
            // takes nothing for the stall timeout is dropped, so its buffers are freed.
            match tokio::time::timeout(limits.guest_stall_timeout, tx.data_bytes(bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
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
                Some(GuestCtl::Kicked(reason)) => {
                    farewell = kicked_farewell(&reason);
                    break;
                }
                Some(GuestCtl::Ended(reason)) => {
                    farewell = format!("cotty: {reason}");
                    break;
                }
                None => {
                    farewell = "cotty: the session has ended".into();
                    break;
                }
            },
            msg = rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => {
                    let k = keys.feed(&data);
                    if !k.input.is_empty() && access == Access::ReadWrite {
                        let modes = joined.view.borrow().screen.modes;
                        let place = renderer.placement();
                        let input = reports.map(&k.input, place.as_ref(), renderer.mouse_encoding(), &modes);
                        if !input.is_empty() {
                            let _ = room.send(RoomCmd::Input(id, input)).await;
                        }
                    }
                    if k.detach {
                        farewell = "[detached from cotty]".into();
                        break;
                    }
                }
                Some(ChannelMsg::WindowChange { col_width, row_height, .. }) => {
                    let term = Size::from_ssh(col_width, row_height);
                    renderer.resize(limits.clamp(term));
                    let _ = room.send(RoomCmd::Resize(id, renderer.pane_area())).await;
                    pending = true;
                }
                Some(ChannelMsg::Eof) | Some(ChannelMsg::Close) | None => break,
                Some(_) => {}
            },
            changed = joined.view.changed(), if !pending => {
                if changed.is_err() {
                    farewell = "cotty: the session has ended".into();
                    break;
                }
                pending = true;
            }
            // The frame itself is drawn at the top of the loop.
            _ = sleep_until(next_frame), if pending => {}
            // A passing line of this guest's own has run out: draw without it.
            _ = sleep_until(own_notice.as_ref().map_or(now, |(_, until)| *until)), if own_notice.is_some() && !pending => {
                pending = true;
            }
            _ = shared.shutdown.cancelled() => {
                farewell = format!("cotty: {RELAY_RESTARTING}");
                break;
            }
        }
    }
    let _ = room.send(RoomCmd::Leave(id)).await;
    let _ = tx.data_bytes(renderer.finish(&farewell)).await;
    let _ = tx.exit_status(0).await;
    let _ = tx.eof().await;
    let _ = tx.close().await;
}

/// The passing line of a guest whose access the host changed.
fn access_notice(access: Access) -> &'static str {
    match access {
        Access::ReadOnly => "the host made you read-only",
        Access::ReadWrite => "the host made you read-write: you can type",
    }
}

/// What a kicked guest's terminal is left with: the kick once, and the host's own words
/// after it when they say more (hosts send [`KICKED`] itself as the reason).
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
mod tests {
    use super::*;

    #[test]
    fn a_kick_is_said_once() {
        assert_eq!(
            kicked_farewell(KICKED),
            "cotty: you were disconnected by the host"
        );
        assert_eq!(
            kicked_farewell(""),
            "cotty: you were disconnected by the host"
        );
        assert_eq!(
            kicked_farewell("time for lunch"),
            "cotty: you were disconnected by the host: time for lunch"
        );
    }

    #[test]
    fn short_fingerprints_keep_the_prefix() {
        assert_eq!(
            short_fingerprint("SHA256:abcdefghijklmnopqrstuvwxyz"),
            "SHA256:abcdefghijkl"
        );
    }
}
