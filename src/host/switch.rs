//! Switching a link off and on: the one path that the dashboard's `d` and `cotty link-off` /
//! `link-on` share, and the answer that waits for the relay's report on an extra link.
//!
//! While the relay connection is down the two kinds of link differ, because their state lives
//! in different places:
//! - A main link's switch is the session's: it keeps both switches and sends them on every
//!   new uplink, so a switch made while the relay is away, off or on, reaches the relay once
//!   the connection is back (the resumed room, or the new one after a relay restart).
//! - An extra link lives on the relay, which reports its state again after a reconnect. The
//!   session cannot hold a switch for it (it passes messages up only while an uplink exists),
//!   and the relay's report would undo what the host showed, so it is refused until the relay
//!   is back.

use crate::control::Reply;
use crate::core::types::LinkRef;
use crate::host::state::{Effect, HostState, LinkKind};
use crate::net::uplink::LinkState;
use std::time::Instant;
use tokio::sync::oneshot;

/// A `link-off` / `link-on` of an extra link waiting for the relay's report, so that the
/// answer says what the relay did, not what the host asked.
#[derive(Debug)]
pub struct PendingSwitch {
    /// The extra link's number.
    n: u32,
    /// The state asked for; the report with this state answers.
    enabled: bool,
    /// Where the control socket waits for the answer.
    reply: oneshot::Sender<Reply>,
}

impl From<LinkKind> for LinkRef {
    /// The link a sidebar row switches: its token, so a main link's ssh and web rows switch
    /// together.
    fn from(kind: LinkKind) -> LinkRef {
        match kind.extra {
            0 => LinkRef::Main(kind.access),
            n => LinkRef::Extra(n),
        }
    }
}

/// What is said when `link` was switched: the log line, and the answer to a script.
fn switched_line(link: LinkRef, enabled: bool) -> String {
    match enabled {
        true => format!("{link} switched on"),
        false => format!("{link} switched off: new guests with it are refused"),
    }
}

impl HostState {
    /// Whether `link` lets new guests in as far as the host's switch goes.
    pub fn link_enabled(&self, link: LinkRef) -> bool {
        match link {
            LinkRef::Main(access) => self.links_enabled[access.index()],
            LinkRef::Extra(n) => self.extra.get(n).is_some_and(|l| l.enabled),
        }
    }

    /// Switches `link` off or on, for the sidebar (`reply` is `None`: a refusal goes to the
    /// log) or a control request (the answer goes to `reply`, for an extra link once the
    /// relay has reported it). The effect carries the switch to the session.
    pub fn switch_link(
        &mut self,
        link: LinkRef,
        enabled: bool,
        reply: Option<oneshot::Sender<Reply>>,
    ) -> Option<Effect> {
        let way = if enabled { "on" } else { "off" };
        let refused = match link {
            LinkRef::Extra(_) if self.uplink != LinkState::Up => Some(format!(
                "{link} was not switched {way}: the relay is not connected; try again when it \
                 is (`cotty display -p '#{{relay_state}}'` says up)"
            )),
            LinkRef::Extra(n) if self.extra.get(n).is_none() => Some(format!(
                "there is no link {n}; this session has {} extra link(s), made with `cotty \
                 new-link` (LINK is {})",
                self.extra.all().count(),
                LinkRef::FORMS
            )),
            _ => None,
        };
        if let Some(why) = refused {
            match reply {
                Some(reply) => {
                    let _ = reply.send(Reply::err(why));
                }
                None => self.error(why),
            }
            return None;
        }
        let line = switched_line(link, enabled);
        self.log(line.clone());
        match link {
            LinkRef::Main(access) => {
                self.links_enabled[access.index()] = enabled;
                if let Some(reply) = reply {
                    let _ = reply.send(Reply::ok(self.main_switch_answer(line, enabled)));
                }
            }
            LinkRef::Extra(n) => {
                self.set_extra_enabled(n, enabled);
                if let Some(reply) = reply {
                    self.extra.switching.retain(|p| !p.reply.is_closed());
                    self.extra
                        .switching
                        .push(PendingSwitch { n, enabled, reply });
                }
            }
        }
        Some(Effect::SwitchLink { link, enabled })
    }

    /// The answer to switching a main link: what was done, and what holds it back.
    fn main_switch_answer(&self, line: String, enabled: bool) -> String {
        let mut text = line;
        if self.uplink != LinkState::Up {
            text.push_str(&format!(
                "\nthe relay is not connected ({}): the switch reaches it once the connection \
                 is back",
                self.uplink.name()
            ));
        }
        if enabled && self.extra.main_expired(Instant::now()) {
            text.push_str(
                "\nit lets no guest in all the same: the links have expired (--link-ttl)",
            );
        }
        text
    }

    /// Answers the `link-off` / `link-on` requests that the relay's report settles: extra
    /// link `n` is now `enabled` (on) or not.
    pub(crate) fn answer_switches(&mut self, n: u32, enabled: bool) {
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.extra.switching)
            .into_iter()
            .partition(|p| p.n == n && p.enabled == enabled);
        self.extra.switching = waiting;
        let closed = self.extra.closed(n, Instant::now());
        for p in done {
            let mut text = switched_line(LinkRef::Extra(p.n), p.enabled);
            if let (true, Some(why)) = (p.enabled, closed) {
                text.push_str(&format!("\nit lets no guest in all the same: it is {why}"));
            }
            let _ = p.reply.send(Reply::ok(text));
        }
    }

    /// The relay connection is gone: switches waiting for its report fail, since whether they
    /// reached it is unknown.
    pub(crate) fn fail_switches(&mut self) {
        for p in self.extra.switching.drain(..) {
            let _ = p.reply.send(Reply::err(format!(
                "the relay connection was lost before it reported link {}; try again once it \
                 is back",
                p.n
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Request;
    use crate::core::types::Access;
    use crate::net::proto::{ExtraLink, Links};
    use crate::net::uplink::UplinkEvent;

    fn up() -> HostState {
        let mut s = HostState::new("ana@devbox").with_clock(|| "12:00:00".into());
        s.on_uplink(UplinkEvent::Connected {
            links: Links {
                ssh: "ssh a@r".into(),
                ssh_ro: "ssh ro-a@r".into(),
                web: None,
                web_ro: None,
            },
            resumed: false,
        });
        s
    }

    fn link(n: u32, enabled: bool, used: bool) -> ExtraLink {
        ExtraLink {
            req: None,
            n,
            access: Access::ReadWrite,
            ssh: format!("ssh x{n}@r"),
            web: None,
            once: used,
            expires_in: None,
            enabled,
            used,
            token: format!("x{n}"),
            proof: String::new(),
        }
    }

    /// Sends `link-off` / `link-on` as the control socket does.
    fn ask(
        s: &mut HostState,
        link: LinkRef,
        enabled: bool,
    ) -> (Option<Effect>, oneshot::Receiver<Reply>) {
        let (tx, rx) = oneshot::channel();
        (s.answer(Request::SwitchLink { link, enabled }, tx), rx)
    }

    #[test]
    fn a_main_link_switches_at_once_and_says_so() {
        let mut s = up();
        let rw = LinkRef::Main(Access::ReadWrite);
        let (effect, mut rx) = ask(&mut s, rw, false);
        assert!(matches!(
            effect,
            Some(Effect::SwitchLink { enabled: false, .. })
        ));
        let reply = rx.try_recv().expect("answered at once");
        assert!(
            reply.ok && reply.text.contains("read-write link switched off"),
            "{reply:?}"
        );
        assert!(!s.link_enabled(rw) && s.link_enabled(LinkRef::Main(Access::ReadOnly)));

        // Away from the relay it still switches, and says when it reaches the relay.
        s.on_uplink(UplinkEvent::State(LinkState::Connecting));
        let (effect, mut rx) = ask(&mut s, rw, true);
        assert!(effect.is_some());
        let reply = rx.try_recv().expect("answered at once");
        assert!(
            reply.ok && reply.text.contains("once the connection is back"),
            "{reply:?}"
        );
        assert!(s.link_enabled(rw));
    }

    #[test]
    fn an_extra_link_answers_once_the_relay_reports_the_switch() {
        let mut s = up();
        s.on_uplink(UplinkEvent::ExtraLink(link(1, true, false)));
        let (effect, mut rx) = ask(&mut s, LinkRef::Extra(1), false);
        assert!(matches!(
            effect,
            Some(Effect::SwitchLink {
                link: LinkRef::Extra(1),
                ..
            })
        ));
        assert!(rx.try_recv().is_err(), "waits for the relay");
        // A report of another link, or of the old state, does not answer it.
        s.on_uplink(UplinkEvent::ExtraLink(link(2, false, false)));
        s.on_uplink(UplinkEvent::ExtraLink(link(1, true, false)));
        assert!(rx.try_recv().is_err(), "still waits");
        s.on_uplink(UplinkEvent::ExtraLink(link(1, false, false)));
        let reply = rx.try_recv().expect("answered");
        assert_eq!(reply, Reply::ok(switched_line(LinkRef::Extra(1), false)));

        // Switched on, a used-up link says that it still lets no one in.
        s.on_uplink(UplinkEvent::ExtraLink(link(1, false, true)));
        let (_, mut rx) = ask(&mut s, LinkRef::Extra(1), true);
        s.on_uplink(UplinkEvent::ExtraLink(link(1, true, true)));
        let reply = rx.try_recv().expect("answered");
        assert!(reply.ok && reply.text.contains("it is used"), "{reply:?}");

        // A lost connection fails the wait instead of leaving it to time out.
        let (_, mut rx) = ask(&mut s, LinkRef::Extra(1), false);
        s.on_uplink(UplinkEvent::State(LinkState::Connecting));
        assert!(
            rx.try_recv()
                .is_ok_and(|r| !r.ok && r.text.contains("lost"))
        );
    }

    #[test]
    fn an_extra_link_is_refused_while_the_relay_is_away_or_when_it_does_not_exist() {
        let mut s = up();
        s.on_uplink(UplinkEvent::ExtraLink(link(1, true, false)));
        let (effect, mut rx) = ask(&mut s, LinkRef::Extra(4), false);
        assert!(effect.is_none());
        let reply = rx.try_recv().expect("answered at once");
        assert!(
            !reply.ok && reply.text.contains("there is no link 4"),
            "{reply:?}"
        );

        s.on_uplink(UplinkEvent::State(LinkState::Connecting));
        let (effect, mut rx) = ask(&mut s, LinkRef::Extra(1), false);
        assert!(effect.is_none(), "nothing goes to the session");
        let reply = rx.try_recv().expect("answered at once");
        assert!(
            !reply.ok
                && reply
                    .text
                    .contains("the relay is not connected; try again when it is"),
            "{reply:?}"
        );
        assert!(
            s.link_enabled(LinkRef::Extra(1)),
            "the host shows it unchanged"
        );
        // The sidebar's `d` takes the same path: the refusal goes to the log.
        assert!(s.switch_link(LinkRef::Extra(1), false, None).is_none());
        let last = s.log.back().expect("a log line");
        assert!(
            last.error && last.text.contains("not connected"),
            "{last:?}"
        );
    }
}
