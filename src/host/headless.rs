//! `cotty -F`: the links and a line per event on stdout, and the control socket; no TUI.

use crate::control::Reply;
use crate::control::server::{self, ControlMsg, ControlSocket};
use crate::control::socket;
use crate::core::session::{Notice, SessionCmd};
use crate::host::approval::headless_line;
use crate::host::state::{Effect, HostState, notice_line, state_line};
use crate::host::{Host, HostOptions};
use crate::net::proto::Links;
use crate::net::uplink::{LinkState, UplinkEvent};
use anyhow::{Result, anyhow};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Requests from the control socket waiting for the front end.
pub const CONTROL_QUEUE: usize = 16;
/// What guests see when the host ends the session.
pub const ENDED_BY_HOST: &str = "session ended by host";
pub use crate::net::proto::KICKED;

/// Binds the control socket at `path`, or at the default path. When the default is taken by
/// another cotty, a per-process path next to it is used, so a second cotty still starts.
pub fn open_control(path: Option<&Path>) -> Result<ControlSocket> {
    if let Some(p) = path {
        return server::bind(p);
    }
    let default = server::default_path();
    match server::bind(&default) {
        Ok(s) => Ok(s),
        Err(first) => {
            let alt = socket::per_process_path(&default, std::process::id());
            server::bind(&alt).map_err(|_| first)
        }
    }
}

/// The session's name: the host's user and machine.
pub fn session_name() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "host".into());
    let host = gethostname::gethostname()
        .into_string()
        .unwrap_or_else(|_| "cotty".into());
    format!("{user}@{host}")
}

/// The lines `cotty -F` prints when the relay hands out links, with tmate -F's prefixes so
/// that scripts written for it pick them out: the two ssh lines, then the two web lines when
/// the relay serves the web view.
pub fn link_lines(links: &Links) -> Vec<String> {
    let mut lines = vec![
        format!("ssh session: {}", links.ssh),
        format!("ssh session read only: {}", links.ssh_ro),
    ];
    if let Some(web) = &links.web {
        lines.push(format!("web session: {web}"));
    }
    if let Some(web_ro) = &links.web_ro {
        lines.push(format!("web session read only: {web_ro}"));
    }
    lines
}

/// Carries out what a control request asked for.
pub async fn apply_effect(host: &Host, effect: Effect) -> bool {
    match effect {
        Effect::Kick(guest) => {
            let _ = host
                .session
                .send(SessionCmd::Kick {
                    guest,
                    reason: KICKED.into(),
                })
                .await;
            false
        }
        Effect::KillSession => true,
        Effect::ReloadKeys(reply) => {
            let _ = reply.send(match host.reload_keys().await {
                Ok(text) => Reply::ok(text),
                Err(e) => Reply::err(format!("{e:#}")),
            });
            false
        }
        Effect::Admit(guest, access) => {
            let _ = host.session.send(SessionCmd::Admit { guest, access }).await;
            false
        }
        Effect::Deny(guest) => {
            let _ = host.session.send(SessionCmd::Deny { guest }).await;
            false
        }
        Effect::NewLink(req) => {
            let _ = host.session.send(SessionCmd::NewLink(req)).await;
            false
        }
        Effect::SwitchLink { link, enabled } => {
            let _ = host
                .session
                .send(SessionCmd::SwitchLink { link, enabled })
                .await;
            false
        }
    }
}

/// Runs `cotty -F` until `shutdown`, `kill-session`, or a failure.
pub async fn run_headless(
    opts: HostOptions,
    socket: Option<PathBuf>,
    shutdown: CancellationToken,
) -> Result<()> {
    let control = open_control(socket.as_deref())?;
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<ControlMsg>(CONTROL_QUEUE);
    let stop = shutdown.child_token();
    let mut state = HostState::new(session_name());
    state.set_link_ttl(opts.link_ttl);
    let mut host = Host::start(opts).await?;
    let mut out = std::io::stdout();
    let mut say = |line: &str| {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(&format!("control socket: {}", control.path.display()));
    let control_path = control.path.clone();
    tokio::spawn(control.serve(ctl_tx, stop.clone()));
    let result = loop {
        tokio::select! {
            Some(ev) = host.events.recv() => {
                match &ev {
                    UplinkEvent::Connected { links, resumed } => {
                        if *resumed && state.links.as_ref() == Some(links) {
                            say("relay connection back: the links are unchanged");
                        } else {
                            for line in link_lines(links) {
                                say(&line);
                            }
                        }
                    }
                    UplinkEvent::State(LinkState::Refused(why)) if state.links.is_none() => {
                        // Refused before anything was shared, for a reason no retry can
                        // change: a configuration error, said at once.
                        break Err(anyhow!("{why}"));
                    }
                    UplinkEvent::State(st) => {
                        if let Some(line) = state_line(st) {
                            say(&line);
                        }
                    }
                    UplinkEvent::Log(line) => say(line),
                    UplinkEvent::ExtraLink(link) => {
                        if let Some(line) = state.link_report_line(link) {
                            say(&line);
                        }
                    }
                    UplinkEvent::LinkRefused { reason, .. } => say(&format!("no new link: {reason}")),
                }
                state.on_uplink(ev);
            }
            n = host.notices.recv() => {
                let Some(n) = n else { break Ok(()) };
                let line = match &n {
                    Notice::GuestWaiting(g) => Some(headless_line(g, &control_path)),
                    n => notice_line(n),
                };
                if let Some(line) = line {
                    say(&line);
                }
                state.on_notice(&n);
                if matches!(n, Notice::Ended(_)) {
                    break Ok(());
                }
            }
            Some(msg) = ctl_rx.recv() => {
                if let Some(effect) = state.answer(msg.request, msg.reply)
                    && apply_effect(&host, effect).await
                {
                    break Ok(());
                }
            }
            _ = shutdown.cancelled() => break Ok(()),
        }
    };
    stop.cancel();
    host.shutdown(ENDED_BY_HOST).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(web: bool) -> Links {
        Links {
            ssh: "ssh -p 2222 AbC@192.0.2.10".into(),
            ssh_ro: "ssh -p 2222 ro-XyZ@192.0.2.10".into(),
            web: web.then(|| "http://192.0.2.10:2222/#AbC".into()),
            web_ro: web.then(|| "http://192.0.2.10:2222/#ro-XyZ".into()),
        }
    }

    #[test]
    fn without_web_links_only_the_two_ssh_lines_are_printed() {
        assert_eq!(
            link_lines(&links(false)),
            [
                "ssh session: ssh -p 2222 AbC@192.0.2.10",
                "ssh session read only: ssh -p 2222 ro-XyZ@192.0.2.10",
            ]
        );
    }

    #[test]
    fn web_links_follow_the_ssh_lines_with_tmates_prefixes() {
        assert_eq!(
            link_lines(&links(true)),
            [
                "ssh session: ssh -p 2222 AbC@192.0.2.10",
                "ssh session read only: ssh -p 2222 ro-XyZ@192.0.2.10",
                "web session: http://192.0.2.10:2222/#AbC",
                "web session read only: http://192.0.2.10:2222/#ro-XyZ",
            ]
        );
    }
}
