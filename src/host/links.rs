//! The host's extra links (`cotty -S S new-link`): the requests waiting for the relay, the
//! links it reported, and how the sidebar, the log and `#{link:N}` name them.
//!
//! The relay is the source of truth: it keeps extra links in the session's room and reports
//! each one when it is made, when its state changes, and again to a host that reconnects. A
//! welcome clears the list and the reports after it fill it again. A restarted relay makes the
//! links again from what the uplink kept ([`crate::net::uplink::kept`]) and reports them the
//! same way; a link it could not make again is then gone from the list. Requests are answered
//! once the relay has; the control socket bounds the wait.

use crate::control::Reply;
use crate::core::types::{Access, NewLink, Via};
use crate::host::state::{Effect, HostState, LinkKind};
use crate::host::switch::PendingSwitch;
use crate::net::proto::ExtraLink;
use crate::net::uplink::LinkState;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The extra links and the requests for new ones. Owned by [`HostState`].
#[derive(Debug, Default)]
pub struct ExtraLinks {
    /// The links the relay reported, by number, with when each stops letting guests in.
    links: Vec<(ExtraLink, Option<Instant>)>,
    /// `new-link` requests waiting for the relay's answer, by request number.
    pending: Vec<(u64, oneshot::Sender<Reply>)>,
    /// The number of the last request.
    last_req: u64,
    /// `link-off` / `link-on` requests waiting for the relay's report (see
    /// [`crate::host::switch`]).
    pub(crate) switching: Vec<PendingSwitch>,
    /// When the session's main links expire (`--link-ttl`), counted from the host's start,
    /// so a little before the relay, which counts from its registration.
    main_until: Option<Instant>,
}

impl ExtraLinks {
    /// Extra link `n` (from 1), if the relay reported it.
    pub fn get(&self, n: u32) -> Option<&ExtraLink> {
        self.links.iter().find(|(l, _)| l.n == n).map(|(l, _)| l)
    }

    /// The reported links, in the order they were made.
    pub fn all(&self) -> impl Iterator<Item = &ExtraLink> {
        self.links.iter().map(|(l, _)| l)
    }

    /// Why link `n` lets no guest in now (`off`, `used`, `expired`), or `None` if it does.
    pub fn closed(&self, n: u32, now: Instant) -> Option<&'static str> {
        let (link, until) = self.links.iter().find(|(l, _)| l.n == n)?;
        if !link.enabled {
            Some("off")
        } else if link.used {
            Some("used")
        } else if until.is_some_and(|t| now >= t) {
            Some("expired")
        } else {
            None
        }
    }

    /// Whether the session's main links have expired (`--link-ttl`).
    pub fn main_expired(&self, now: Instant) -> bool {
        self.main_until.is_some_and(|t| now >= t)
    }

    /// What the sidebar says of link `n` (0 for a main link) besides its state: `once`,
    /// `59m left`.
    pub fn traits(&self, n: u32, now: Instant) -> String {
        if n == 0 {
            return match self.main_until.filter(|t| *t > now) {
                Some(t) => format!("{} left", fmt_left(t - now)),
                None => String::new(),
            };
        }
        let Some((link, until)) = self.links.iter().find(|(l, _)| l.n == n) else {
            return String::new();
        };
        let mut parts = Vec::new();
        if link.once {
            parts.push("once".to_string());
        }
        if let Some(t) = until.filter(|t| *t > now) {
            parts.push(format!("{} left", fmt_left(t - now)));
        }
        parts.join(" · ")
    }
}

/// A time left in the short form of the sidebar: `45s`, `59m`, `2h05m`, `3d`; rounded up,
/// so what shows as left has not run out.
pub fn fmt_left(d: Duration) -> String {
    let s = (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s.div_ceil(60)),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// The log line (and `-F` output line) for a link the relay made for a request.
pub fn made_line(link: &ExtraLink) -> String {
    let mut kind = vec![link.access.label().to_string()];
    if link.once {
        kind.push("one guest".into());
    }
    if let Some(s) = link.expires_in {
        kind.push(format!("expires in {}", fmt_left(Duration::from_secs(s))));
    }
    let mut line = format!("link {} ({}): {}", link.n, kind.join(", "), link.ssh);
    if let Some(web) = &link.web {
        line.push_str(&format!(" · {web}"));
    }
    line
}

/// The line a relay's report of `link` is worth, given the link as known before (`old`):
/// a link made for a request, or a one-time link that has just let its guest in. Reports
/// that change nothing worth saying (a reconnect's, a switch's) have none.
pub fn report_line(old: Option<&ExtraLink>, link: &ExtraLink) -> Option<String> {
    if link.req.is_some() {
        Some(made_line(link))
    } else if link.used && old.is_some_and(|o| !o.used) {
        Some(format!(
            "link {} let its one guest in; it is used up",
            link.n
        ))
    } else {
        None
    }
}

impl HostState {
    /// The line the relay's report of `link` is worth; see [`report_line`].
    pub fn link_report_line(&self, link: &ExtraLink) -> Option<String> {
        report_line(self.extra.get(link.n), link)
    }

    /// The session's links expire `ttl` from now (`--link-ttl`), as the sidebar shows.
    pub fn set_link_ttl(&mut self, ttl: Option<Duration>) {
        self.extra.main_until = ttl.map(|t| Instant::now() + t);
    }

    /// Asks for an extra link: the answer waits for the relay, so `reply` is kept.
    pub fn new_link(
        &mut self,
        read_only: bool,
        once: bool,
        ttl_secs: Option<u64>,
        reply: oneshot::Sender<Reply>,
    ) -> Option<Effect> {
        if self.uplink != LinkState::Up {
            let why = format!(
                "the relay is not connected ({}), so no link can be made now; try again once \
                 `cotty display -p '#{{relay_state}}'` says up",
                self.uplink.name()
            );
            let _ = reply.send(Reply::err(why));
            return None;
        }
        let extra = &mut self.extra;
        extra.pending.retain(|(_, r)| !r.is_closed());
        extra.last_req += 1;
        let req = extra.last_req;
        extra.pending.push((req, reply));
        let access = if read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        Some(Effect::NewLink(NewLink {
            req,
            access,
            once,
            ttl_secs,
        }))
    }

    /// Takes the relay's report of an extra link, answering the request that asked for it.
    pub(crate) fn on_extra_link(&mut self, link: ExtraLink) {
        let until = link
            .expires_in
            .map(|s| Instant::now() + Duration::from_secs(s));
        if let Some(line) = self.link_report_line(&link) {
            self.log(line);
        }
        if let Some(req) = link.req
            && let Some(at) = self.extra.pending.iter().position(|(r, _)| *r == req)
        {
            let (_, reply) = self.extra.pending.swap_remove(at);
            let mut text = link.ssh.clone();
            if let Some(web) = &link.web {
                text.push('\n');
                text.push_str(web);
            }
            let _ = reply.send(Reply::ok(text));
        }
        let links = &mut self.extra.links;
        links.retain(|(l, _)| l.n != link.n);
        // A report that answers no request may be a switch taking effect.
        let switched = link.req.is_none().then_some((link.n, link.enabled));
        links.push((link, until));
        links.sort_by_key(|(l, _)| l.n);
        if let Some((n, enabled)) = switched {
            self.answer_switches(n, enabled);
        }
    }

    /// The relay could not make a link.
    pub(crate) fn on_link_refused(&mut self, req: u64, reason: String) {
        self.error(format!("no new link: {reason}"));
        if let Some(at) = self.extra.pending.iter().position(|(r, _)| *r == req) {
            let (_, reply) = self.extra.pending.swap_remove(at);
            let _ = reply.send(Reply::err(format!("the relay made no link: {reason}")));
        }
    }

    /// A new connection to the relay: it reports the extra links it still has.
    pub(crate) fn forget_extra_links(&mut self) {
        self.extra.links.clear();
    }

    /// The relay connection is gone: requests waiting for it fail.
    pub(crate) fn fail_link_requests(&mut self) {
        self.fail_switches();
        for (_, reply) in self.extra.pending.drain(..) {
            let _ = reply.send(Reply::err(
                "the relay connection was lost before it answered; the link may not exist, \
                 try again once it is back",
            ));
        }
    }

    /// Switches extra link `n` on or off as the host sees it, until the relay confirms.
    pub(crate) fn set_extra_enabled(&mut self, n: u32, enabled: bool) {
        if let Some((l, _)) = self.extra.links.iter_mut().find(|(l, _)| l.n == n) {
            l.enabled = enabled;
        }
    }

    /// The link of an extra `kind`: its ssh command or web link.
    pub(crate) fn extra_link(&self, kind: LinkKind) -> Option<&str> {
        let link = self.extra.get(kind.extra)?;
        match kind.via {
            Via::Ssh => Some(&link.ssh),
            Via::Web => link.web.as_deref(),
        }
    }

    /// The extra links to list after the main ones: each one's ssh link, then its web link.
    pub(crate) fn extra_kinds(&self) -> Vec<LinkKind> {
        let mut kinds = Vec::new();
        for l in self.extra.all() {
            kinds.push(LinkKind {
                via: Via::Ssh,
                access: l.access,
                extra: l.n,
            });
            if l.web.is_some() {
                kinds.push(LinkKind {
                    via: Via::Web,
                    access: l.access,
                    extra: l.n,
                });
            }
        }
        kinds
    }

    /// `#{link:N}` (the ssh command of extra link N) and `#{link_web:N}`; `None` for other
    /// names.
    pub(crate) fn link_variable(&self, name: &str) -> Option<Result<String, String>> {
        let (via, n) = match name.split_once(':')? {
            ("link", n) => (Via::Ssh, n),
            ("link_web", n) => (Via::Web, n),
            _ => return None,
        };
        let Some(n) = n.parse::<u32>().ok().filter(|n| *n >= 1) else {
            return Some(Err(format!(
                "#{{{name}}}: the link number is 1, 2, … in the order `cotty new-link` made them"
            )));
        };
        let Some(link) = self.extra.get(n) else {
            let made = self.extra.links.len();
            return Some(Err(format!(
                "#{{{name}}}: there is no link {n}; this session has {made} extra link(s), made \
                 with `cotty new-link`"
            )));
        };
        Some(match via {
            Via::Ssh => Ok(link.ssh.clone()),
            Via::Web => link.web.clone().ok_or_else(|| {
                format!("#{{{name}}}: the relay serves no web view to this session")
            }),
        })
    }
}
