//! One connection to a relay: hello and welcome, then frames both ways until either side
//! ends it.
//!
//! [`run`] speaks the protocol over any byte stream, so an in-process relay and a remote one
//! share this one code path.

use crate::core::session::{Outbound, SessionCmd, SessionHandle};
use crate::net::codec::{FrameReader, FrameWriter};
use crate::net::proto::{Hello, HostMsg, PaneGeometry, RelayMsg};
use crate::net::uplink::{UPLINK_QUEUE, UplinkEvent};
use anyhow::{Context, Result, anyhow, bail};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tracing::info;

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
            Outbound::Output { pane, bytes } => HostMsg::Output { pane, bytes },
            Outbound::Snapshot { pane, size, bytes } => HostMsg::Snapshot { pane, size, bytes },
            Outbound::SetAccess { guest, access } => HostMsg::SetAccess { guest, access },
            Outbound::Kick { guest, reason } => HostMsg::Kick { guest, reason },
            Outbound::Lock(on) => HostMsg::Lock(on),
            Outbound::SetLink { access, enabled } => HostMsg::SetLink { access, enabled },
            Outbound::End { reason } => HostMsg::End { reason },
        }
    }
}

/// Speaks the protocol over `stream` until either side ends it.
///
/// Sends the hello, waits for the welcome (reported as [`UplinkEvent::Connected`]), hands the
/// session a queue for its output, and forwards guests' events to the session.
pub async fn run<S>(
    stream: S,
    hello: Hello,
    session: SessionHandle,
    events: mpsc::Sender<UplinkEvent>,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let mut reader = FrameReader::new(r);
    let mut writer = FrameWriter::new(w);
    writer
        .send(&HostMsg::Hello(hello))
        .await
        .context("failed to greet the relay")?;
    let first = reader
        .next::<RelayMsg>()
        .await
        .context("failed to read the relay's answer")?
        .ok_or_else(|| anyhow!("the relay closed the connection before answering"))?;
    let mut rest = first.into_iter();
    match rest.next() {
        Some(RelayMsg::Welcome { links, .. }) => {
            info!("relay accepted the session");
            let _ = events.send(UplinkEvent::Connected(links)).await;
        }
        Some(RelayMsg::Reject { reason }) => bail!("the relay refused the session: {reason}"),
        other => bail!("the relay answered {other:?} instead of Welcome"),
    }

    let (out_tx, mut out_rx) = mpsc::channel::<Outbound>(UPLINK_QUEUE);
    session.send(SessionCmd::UplinkUp(out_tx)).await?;
    let writing = async move {
        while let Some(msg) = out_rx.recv().await {
            writer.push(&HostMsg::from(msg)).await?;
            while let Ok(more) = out_rx.try_recv() {
                writer.push(&HostMsg::from(more)).await?;
            }
            writer.flush().await?;
        }
        // The session has ended: its End message is written; close our side.
        let _ = writer.shutdown().await;
        anyhow::Ok(())
    };
    let reading = async {
        for msg in rest {
            forward(&session, msg).await?;
        }
        while let Some(batch) = reader.next::<RelayMsg>().await? {
            for msg in batch {
                forward(&session, msg).await?;
            }
        }
        bail!("the relay closed the connection")
    };
    tokio::pin!(writing, reading);
    tokio::select! {
        r = &mut writing => {
            r.context("uplink to the relay")?;
            // The session ended and its End message is handed to ssh. Wait for the relay to
            // close its side, which it does once it has the message; exiting sooner could
            // drop the message inside the ssh connection.
            let _ = tokio::time::timeout(Duration::from_secs(3), &mut reading).await;
            Ok(())
        }
        r = &mut reading => r.context("uplink to the relay"),
    }
}

/// Passes a relay message on to the session.
async fn forward(session: &SessionHandle, msg: RelayMsg) -> Result<()> {
    let cmd = match msg {
        RelayMsg::GuestJoined(info) => SessionCmd::GuestJoined(info),
        RelayMsg::GuestLeft { guest } => SessionCmd::GuestLeft(guest),
        RelayMsg::Input { guest, pane, bytes } => SessionCmd::GuestInput { guest, pane, bytes },
        RelayMsg::GuestResize { guest, size } => SessionCmd::GuestResize { guest, size },
        RelayMsg::Pong(_) | RelayMsg::Welcome { .. } | RelayMsg::Reject { .. } => return Ok(()),
    };
    session.send(cmd).await
}
