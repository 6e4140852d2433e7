//! What a host's front end knows and shows: links, guests, lock, uplink state and the log.
//!
//! Both front ends (the dashboard and `cotty -F`) own one [`HostState`] and feed it the
//! session's notices and the uplink's events; control-socket requests are answered from it.

use crate::control::format::expand;
use crate::control::{Reply, Request};
use crate::core::session::{GuestRow, Notice};
use crate::core::types::{Access, GuestId, GuestInfo, LinkRef, NewLink, Via};
pub use crate::host::lines::{fmt_idle, guest_line, idle, notice_line, reconnect_text, state_line};
use crate::host::links::ExtraLinks;
use crate::net::proto::Links;
use crate::net::uplink::{LinkState, UplinkEvent};
use std::collections::VecDeque;
use std::time::Instant;
use tokio::sync::oneshot;

/// Log lines kept; older ones are dropped.
const LOG_LINES: usize = 1000;
/// The variables `display -p` knows.
pub const FORMAT_VARIABLES: &[&str] = &[
    "ssh",
    "ssh_ro",
    "web",
    "web_ro",
    "session",
    "guests",
    "locked",
    "relay_state",
    "tmate_ssh",
    "tmate_ssh_ro",
    "tmate_web",
    "tmate_web_ro",
    "link:N",
    "link_web:N",
];

/// One of the session's links, as the dashboard lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkKind {
    /// What the guest opens it with: `ssh`, or a browser for a web link.
    pub via: Via,
    /// The token it carries; switching a link off acts on the token, so on both kinds.
    pub access: Access,
    /// 0 for the session's two main links; N for extra link N (`cotty new-link`).
    pub extra: u32,
}

impl LinkKind {
    /// The read-write ssh link: the one handed out first.
    pub const SSH_RW: LinkKind = LinkKind {
        via: Via::Ssh,
        access: Access::ReadWrite,
        extra: 0,
    };

    /// How the sidebar names it: `ssh, read-write`; an extra link shorter, `#2 web ro`, so
    /// that its state and kind fit beside it.
    pub fn label(self) -> String {
        match (self.extra, self.access) {
            (0, access) => format!("{}, {}", self.via.label(), access.label()),
            (n, Access::ReadWrite) => format!("#{n} {} rw", self.via.label()),
            (n, Access::ReadOnly) => format!("#{n} {} ro", self.via.label()),
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Local time, HH:MM:SS.
    pub time: String,
    /// What happened.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
    /// When it was added, so the status bar can show it for a while.
    pub at: std::time::Instant,
}

/// What the front end must do to carry out a control request.
#[derive(Debug)]
pub enum Effect {
    /// Disconnect a guest.
    Kick(GuestId),
    /// End the session.
    KillSession,
    /// Read the guest keys again; the reply says how it went.
    ReloadKeys(oneshot::Sender<Reply>),
    /// Let a waiting guest in with this access.
    Admit(GuestId, Access),
    /// Turn a waiting guest away.
    Deny(GuestId),
    /// Ask the relay for an extra link; the request waits for its answer.
    NewLink(NewLink),
    /// Switch a link off or on (the host's state already shows it).
    SwitchLink {
        /// Which link.
        link: LinkRef,
        /// Whether it lets new guests in.
        enabled: bool,
    },
}

/// The host's state as its front ends see it. Owned by the front end's task.
pub struct HostState {
    /// The session's name as guests see it (the host's user and machine).
    pub session_name: String,
    /// The relay's links, once it has answered.
    pub links: Option<Links>,
    /// Whether each link lets new guests in, by [`Access::index`].
    pub links_enabled: [bool; 2],
    /// The guests, in the order they joined.
    pub guests: Vec<GuestRow>,
    /// Whether every guest is held read-only.
    pub locked: bool,
    /// The relay connection, as the uplink supervisor last reported it.
    pub uplink: LinkState,
    /// The log, oldest first.
    pub log: VecDeque<LogLine>,
    /// Guests asking to join (`--approve`), oldest first: the dashboard asks about the first.
    pub asking: Vec<GuestInfo>,
    /// The extra links the relay reported, and `new-link` requests waiting for it.
    pub extra: ExtraLinks,
    /// `wait-ready` callers waiting for the links.
    waiting: Vec<oneshot::Sender<Reply>>,
    /// Reads the clock for log lines; fixed in tests so snapshots are stable.
    clock: fn() -> String,
}

/// The local time of day.
fn local_time() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

impl HostState {
    /// An empty state for a session named `session_name`.
    pub fn new(session_name: impl Into<String>) -> HostState {
        HostState {
            session_name: session_name.into(),
            links: None,
            links_enabled: [true, true],
            guests: Vec::new(),
            locked: false,
            uplink: LinkState::Connecting,
            log: VecDeque::new(),
            asking: Vec::new(),
            extra: ExtraLinks::default(),
            waiting: Vec::new(),
            clock: local_time,
        }
    }

    /// Uses `clock` for log times (tests).
    pub fn with_clock(mut self, clock: fn() -> String) -> HostState {
        self.clock = clock;
        self
    }

    /// Adds a line to the log.
    pub fn log(&mut self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    /// Adds an error line to the log.
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    fn push(&mut self, text: String, error: bool) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            time: (self.clock)(),
            text,
            error,
            at: std::time::Instant::now(),
        });
    }

    /// Read-write and read-only guest counts.
    pub fn counts(&self) -> (usize, usize) {
        let rw = self
            .guests
            .iter()
            .filter(|g| g.info.access == Access::ReadWrite)
            .count();
        (rw, self.guests.len() - rw)
    }

    /// The link of `kind`, if the relay has answered and serves that kind.
    pub fn link(&self, kind: LinkKind) -> Option<&str> {
        if kind.extra > 0 {
            return self.extra_link(kind);
        }
        let links = self.links.as_ref()?;
        match (kind.via, kind.access) {
            (Via::Ssh, Access::ReadWrite) => Some(&links.ssh),
            (Via::Ssh, Access::ReadOnly) => Some(&links.ssh_ro),
            (Via::Web, Access::ReadWrite) => links.web.as_deref(),
            (Via::Web, Access::ReadOnly) => links.web_ro.as_deref(),
        }
    }

    /// The links to list, in order: the two ssh links always (they wait for the relay), then
    /// the web links the relay handed out, if it serves the web view.
    pub fn shown_links(&self) -> Vec<LinkKind> {
        let mut kinds = Vec::new();
        for via in [Via::Ssh, Via::Web] {
            for access in [Access::ReadWrite, Access::ReadOnly] {
                let kind = LinkKind {
                    via,
                    access,
                    extra: 0,
                };
                if via == Via::Ssh || self.link(kind).is_some() {
                    kinds.push(kind);
                }
            }
        }
        kinds.extend(self.extra_kinds());
        kinds
    }

    /// Applies an uplink event: links, a state change, or a log line.
    pub fn on_uplink(&mut self, ev: UplinkEvent) {
        match ev {
            UplinkEvent::Connected { links, resumed } => {
                let same = self.links.as_ref() == Some(&links);
                match (&self.links, resumed && same) {
                    (Some(_), true) => self.log("relay connection back: the links are unchanged"),
                    (Some(_), false) => {
                        self.error("the relay gave new links; hand them out again");
                        self.log_links(&links);
                    }
                    (None, _) => self.log_links(&links),
                }
                self.uplink = LinkState::Up;
                self.links = Some(links);
                self.forget_extra_links();
                for w in self.waiting.drain(..) {
                    let _ = w.send(Reply::ok(""));
                }
            }
            UplinkEvent::State(state) => {
                if let Some(line) = state_line(&state) {
                    match state {
                        LinkState::Refused(_) => self.error(line),
                        _ => self.log(line),
                    }
                }
                if state != LinkState::Up {
                    self.fail_link_requests();
                }
                if let LinkState::Refused(why) = &state {
                    for w in self.waiting.drain(..) {
                        let _ = w.send(Reply::err(format!("the relay refused this host: {why}")));
                    }
                }
                self.uplink = state;
            }
            UplinkEvent::Log(line) => self.log(line),
            UplinkEvent::ExtraLink(link) => self.on_extra_link(link),
            UplinkEvent::LinkRefused { req, reason } => self.on_link_refused(req, reason),
        }
    }

    fn log_links(&mut self, links: &Links) {
        self.log(format!("ssh link: {}", links.ssh));
        self.log(format!("ssh link, read only: {}", links.ssh_ro));
        if let Some(web) = &links.web {
            self.log(format!("web link: {web}"));
        }
        if let Some(web_ro) = &links.web_ro {
            self.log(format!("web link, read only: {web_ro}"));
        }
    }

    /// Whether the guest list is only what the host last knew: the relay is away, so the
    /// guests are waiting, and the real list comes with the resume.
    pub fn guests_waiting(&self) -> bool {
        self.links.is_some() && self.uplink != LinkState::Up
    }

    /// Applies a notice from the session and logs it.
    pub fn on_notice(&mut self, n: &Notice) {
        match n {
            Notice::GuestJoined(info) => {
                self.guests.retain(|g| g.info.id != info.id);
                self.guests.push(GuestRow {
                    info: info.clone(),
                    joined: Instant::now(),
                    last_input: None,
                });
            }
            Notice::GuestLeft(info) => self.guests.retain(|g| g.info.id != info.id),
            Notice::AccessChanged(info) => {
                if let Some(g) = self.guests.iter_mut().find(|g| g.info.id == info.id) {
                    g.info.access = info.access;
                }
            }
            Notice::Locked(on) => self.locked = *on,
            Notice::GuestWaiting(info) => {
                self.asking.retain(|g| g.id != info.id);
                self.asking.push(info.clone());
            }
            Notice::WaitOver(info, _) => self.asking.retain(|g| g.id != info.id),
            _ => {}
        }
        if let Some(line) = notice_line(n) {
            match n {
                Notice::Warning(_) => self.error(line),
                _ => self.log(line),
            }
        }
    }

    /// Replaces the guest list with the session's (for idle times).
    pub fn set_guests(&mut self, rows: Vec<GuestRow>) {
        self.guests = rows;
    }

    /// Finds a guest by id (`3`), `#3`, or name.
    pub fn find_guest(&self, who: &str) -> Option<&GuestRow> {
        let id = who.trim_start_matches('#').parse::<GuestId>().ok();
        self.guests
            .iter()
            .find(|g| Some(g.info.id) == id)
            .or_else(|| self.guests.iter().find(|g| g.info.name == who))
    }

    /// Answers a control request. Some answers wait (`wait-ready`), some need the front end
    /// to act: those come back as an [`Effect`] after the reply is sent.
    pub fn answer(&mut self, req: Request, reply: oneshot::Sender<Reply>) -> Option<Effect> {
        let (answer, effect) = match req {
            Request::Display { format, print } => match self.expand(&format) {
                Ok(text) if print => (Reply::ok(text), None),
                Ok(text) => {
                    self.log(text);
                    (Reply::ok(""), None)
                }
                Err(e) => (Reply::err(e), None),
            },
            Request::ShowMessages => {
                let lines: Vec<String> = self
                    .log
                    .iter()
                    .map(|l| format!("{} {}", l.time, l.text))
                    .collect();
                (Reply::ok(lines.join("\n")), None)
            }
            Request::ListGuests => {
                let now = Instant::now();
                let inside = self.guests.iter().map(|g| guest_line(g, self.locked, now));
                let waiting = self.asking.iter().map(crate::host::approval::waiting_line);
                let lines: Vec<String> = inside.chain(waiting).collect();
                (Reply::ok(lines.join("\n")), None)
            }
            Request::Kick { guest } => match self.find_guest(&guest) {
                Some(g) => {
                    let id = g.info.id;
                    (Reply::ok(""), Some(Effect::Kick(id)))
                }
                None => (
                    Reply::err(format!(
                        "no guest {guest:?}; `cotty list-guests` shows their ids and names"
                    )),
                    None,
                ),
            },
            Request::KillSession => (Reply::ok(""), Some(Effect::KillSession)),
            Request::ReloadKeys => return Some(Effect::ReloadKeys(reply)),
            Request::Admit { guest, read_only } => {
                let access = match read_only {
                    true => Access::ReadOnly,
                    false => Access::ReadWrite,
                };
                self.answer_asking(&guest, |id| Effect::Admit(id, access))
            }
            Request::Deny { guest } => self.answer_asking(&guest, Effect::Deny),
            Request::WaitReady => {
                if self.links.is_some() {
                    (Reply::ok(""), None)
                } else {
                    self.waiting.push(reply);
                    return None;
                }
            }
            Request::NewLink {
                read_only,
                once,
                ttl_secs,
            } => return self.new_link(read_only, once, ttl_secs, reply),
            Request::SwitchLink { link, enabled } => {
                return self.switch_link(link, enabled, Some(reply));
            }
        };
        let _ = reply.send(answer);
        effect
    }

    /// Expands `#{…}` variables with this state.
    pub fn expand(&self, format: &str) -> Result<String, String> {
        let links = self.links.clone().unwrap_or_default();
        let (rw, ro) = self.counts();
        let web = |link: &Option<String>| {
            link.clone().ok_or_else(|| {
                "web links are not enabled on this relay; #{ssh} and #{ssh_ro} are the links"
                    .to_string()
            })
        };
        expand(format, FORMAT_VARIABLES, |name| {
            Some(Ok(match name {
                "ssh" | "tmate_ssh" => links.ssh.clone(),
                "ssh_ro" | "tmate_ssh_ro" => links.ssh_ro.clone(),
                "web" | "tmate_web" => return Some(web(&links.web)),
                "web_ro" | "tmate_web_ro" => return Some(web(&links.web_ro)),
                "session" => self.session_name.clone(),
                "guests" => format!("{} ({rw} rw, {ro} ro)", rw + ro),
                "locked" => (if self.locked { "1" } else { "0" }).to_string(),
                "relay_state" => self.uplink.name().to_string(),
                _ => return self.link_variable(name),
            }))
        })
    }
}
