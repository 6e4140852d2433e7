//! The host: a session wired to an uplink, and the headless front end (`cotty -F`).

use crate::core::layout::SizePolicy;
use crate::core::pty::CommandSpec;
use crate::core::session::{self, Notice, SessionCmd, SessionConfig, SessionHandle};
use crate::core::types::{GuestInfo, Size};
use crate::net::proto::{Hello, Links};
use crate::net::uplink::{self, RelayTarget, UplinkEvent};
use anyhow::{Context, Result, anyhow};
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How a headless host is set up.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The relay to dial.
    pub relay: RelayTarget,
    /// What to run.
    pub cmd: CommandSpec,
    /// A fixed PTY size instead of following the guests.
    pub size: Option<Size>,
}

/// A running host: its session and the uplink task.
pub struct Host {
    /// Commands into the session.
    pub session: SessionHandle,
    /// What the session reports.
    pub notices: mpsc::Receiver<Notice>,
    /// What the uplink reports.
    pub events: mpsc::Receiver<UplinkEvent>,
    /// The uplink; it ends with an error when the relay goes away.
    pub uplink: JoinHandle<Result<()>>,
}

impl Host {
    /// Starts the program and connects to the relay over ssh.
    pub async fn start(opts: HostOptions) -> Result<Host> {
        let (notice_tx, notices) = mpsc::channel(256);
        let cfg = SessionConfig {
            cmd: opts.cmd,
            policy: opts.size.map(SizePolicy::Fixed).unwrap_or_default(),
            respawn: true,
            host_size: None,
        };
        let (ev_tx, events) = mpsc::channel(64);
        let link = uplink::connect_ssh(&opts.relay, ev_tx.clone()).await?;
        let (session, _task) = session::spawn(cfg, notice_tx)?;
        let hello = Hello::new(concat!("cotty ", env!("CARGO_PKG_VERSION")));
        let s = session.clone();
        let uplink = tokio::spawn(async move {
            // The ssh connection lives as long as this task.
            let uplink::SshUplink { stream, handle } = link;
            let r = uplink::run(stream, hello, s, ev_tx).await;
            drop(handle);
            r
        });
        Ok(Host {
            session,
            notices,
            events,
            uplink,
        })
    }

    /// Waits for the relay's links, passing on log lines that come first.
    pub async fn links(&mut self, timeout: Duration) -> Result<Links> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| anyhow!("the relay did not answer within {timeout:?}"))?;
            match ev {
                Some(UplinkEvent::Connected(links)) => return Ok(links),
                Some(UplinkEvent::Log(_)) => {}
                None => {
                    let err = (&mut self.uplink).await;
                    return Err(match err {
                        Ok(Err(e)) => e,
                        Ok(Ok(())) => anyhow!("the uplink ended"),
                        Err(e) => anyhow!("the uplink task failed: {e}"),
                    });
                }
            }
        }
    }
}

/// The line `cotty -F` prints for a notice, if any.
pub fn notice_line(n: &Notice) -> Option<String> {
    fn who(g: &GuestInfo) -> String {
        let mut s = format!(
            "guest {} ({}) {} via {} from {}",
            g.id,
            g.name,
            g.access.label(),
            g.via.label(),
            g.addr.as_deref().unwrap_or("unknown address")
        );
        if let Some(fp) = &g.fingerprint {
            s.push_str(&format!(" key {fp}"));
        }
        s
    }
    Some(match n {
        Notice::GuestJoined(g) => format!("{} joined", who(g)),
        Notice::GuestLeft(g) => format!("{} left", who(g)),
        Notice::AccessChanged(g) => format!("guest {} is now {}", g.id, g.access.label()),
        Notice::Resized(size) => format!("shared size is now {size}"),
        Notice::ProgramExited(Some(code)) => {
            format!("program exited with status {code}; starting it again")
        }
        Notice::ProgramExited(None) => "program was killed; starting it again".to_string(),
        Notice::Respawned => "program started again".to_string(),
        Notice::Warning(w) => format!("warning: {w}"),
        Notice::Ended(reason) => format!("session ended: {reason}"),
    })
}

/// Runs `cotty -F`: prints the links and a line per event until `shutdown` or a failure.
pub async fn run_headless(opts: HostOptions, shutdown: CancellationToken) -> Result<()> {
    let mut host = Host::start(opts).await?;
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            ev = host.events.recv() => match ev {
                Some(UplinkEvent::Connected(links)) => {
                    let _ = writeln!(out, "ssh session: {}", links.ssh);
                    let _ = writeln!(out, "ssh session read only: {}", links.ssh_ro);
                    let _ = out.flush();
                }
                Some(UplinkEvent::Log(line)) => {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                None => {
                    let r = (&mut host.uplink).await.context("the uplink task failed")?;
                    return r.and(Err(anyhow!("the relay connection ended")));
                }
            },
            n = host.notices.recv() => {
                if let Some(line) = n.as_ref().and_then(notice_line) {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            r = &mut host.uplink => {
                let r = r.context("the uplink task failed")?;
                return r.and(Err(anyhow!("the relay connection ended")));
            }
            _ = shutdown.cancelled() => {
                let _ = host.session.send(SessionCmd::End("session ended by host".into())).await;
                let _ = tokio::time::timeout(Duration::from_secs(3), &mut host.uplink).await;
                return Ok(());
            }
        }
    }
}
