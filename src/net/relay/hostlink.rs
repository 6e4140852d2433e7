//! The relay's end of a host connection: hello, registration, and frames to and from the room.

use crate::net::codec::{FrameReader, FrameWriter, check_version};
use crate::net::proto::{HostMsg, Links, RelayMsg};
use crate::net::relay::registry::new_token;
use crate::net::relay::room::{Room, RoomCmd};
use crate::net::relay::server::Shared;
use crate::net::relay::ssh::fmt_peer;
use anyhow::{Context, Result, anyhow, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Messages waiting for the host's connection.
const HOST_QUEUE: usize = 1024;
/// Host messages waiting for the room.
const ROOM_QUEUE: usize = 256;

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
        .map_err(|_| anyhow!("no hello within {:?}", shared.limits.hello_timeout))?
        .context("failed to read the host's hello")?;
    let mut first = first.unwrap_or_default().into_iter();
    let hello = match first.next() {
        Some(HostMsg::Hello(h)) => h,
        _ => {
            let reason = "the first message must be Hello; is this a cotty host?".to_string();
            let _ = writer
                .send(&RelayMsg::Reject {
                    reason: reason.clone(),
                })
                .await;
            bail!(reason);
        }
    };
    if let Err(e) = check_version(&hello) {
        let _ = writer
            .send(&RelayMsg::Reject {
                reason: e.to_string(),
            })
            .await;
        return Err(e.into());
    }

    let (host_tx, mut host_rx) = mpsc::channel::<RelayMsg>(HOST_QUEUE);
    let (room_tx, room_rx) = mpsc::channel::<RoomCmd>(ROOM_QUEUE);
    let tokens = shared.registry.register(room_tx.clone());
    let label: String = new_token().chars().take(6).collect();
    let room = Room::new(label.clone(), host_tx, shared.limits);
    shared.tasks.spawn(room.run(room_rx));
    let links = Links {
        ssh: shared.ssh_link(&tokens.rw),
        ssh_ro: shared.ssh_link(&tokens.ro),
        web: None,
        web_ro: None,
    };
    info!(
        "host {} ({}) registered session {label}",
        fmt_peer(peer),
        hello.client
    );
    let welcome = RelayMsg::Welcome {
        links,
        resume_secret: new_token(),
    };

    let writing = async move {
        writer.send(&welcome).await?;
        while let Some(msg) = host_rx.recv().await {
            writer.push(&msg).await?;
            while let Ok(more) = host_rx.try_recv() {
                writer.push(&more).await?;
            }
            writer.flush().await?;
        }
        anyhow::Ok(())
    };
    let reading = async {
        for msg in first {
            room_tx.send(RoomCmd::Host(msg)).await?;
        }
        while let Some(batch) = reader.next::<HostMsg>().await? {
            for msg in batch {
                room_tx.send(RoomCmd::Host(msg)).await?;
            }
        }
        anyhow::Ok(())
    };
    let result = tokio::select! {
        r = reading => r.context("host connection"),
        r = writing => r.context("host connection"),
        _ = shared.shutdown.cancelled() => Ok(()),
    };
    shared.registry.remove(&tokens);
    let reason = match &result {
        Ok(()) => "the host has left".to_string(),
        Err(e) => {
            warn!("session {label}: {e:#}");
            "the host disconnected".to_string()
        }
    };
    let _ = room_tx.send(RoomCmd::HostGone(reason)).await;
    info!("session {label} closed");
    result
}
