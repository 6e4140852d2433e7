//! Unit tests of the host's state: links (ssh and web), `display -p` variables and the lines
//! that name guests, web guests among them.

use crate::control::{Reply, Request};
use crate::core::session::{GuestRow, Notice};
use crate::core::types::{Access, GuestInfo, Size, Via};
use crate::host::state::{HostState, LinkKind, guest_line, notice_line};
use crate::net::proto::Links;
use crate::net::uplink::UplinkEvent;
use std::time::Instant;
use tokio::sync::oneshot;

const SSH: &str = "ssh -p 2222 AbC@192.0.2.10";
const SSH_RO: &str = "ssh -p 2222 ro-XyZ@192.0.2.10";
const WEB: &str = "http://192.0.2.10:2222/#AbC";
const WEB_RO: &str = "http://192.0.2.10:2222/#ro-XyZ";

/// A state whose relay answered, with web links when `web`.
fn state(web: bool) -> HostState {
    let mut s = HostState::new("ana@devbox").with_clock(|| "12:00:00".into());
    s.on_uplink(UplinkEvent::Connected {
        links: Links {
            ssh: SSH.into(),
            ssh_ro: SSH_RO.into(),
            web: web.then(|| WEB.into()),
            web_ro: web.then(|| WEB_RO.into()),
        },
        resumed: false,
    });
    s
}

fn kind(via: Via, access: Access) -> LinkKind {
    LinkKind {
        via,
        access,
        extra: 0,
    }
}

#[test]
fn display_expands_the_web_links_and_tmates_names_for_them() {
    let s = state(true);
    for (format, want) in [
        ("#{web}", WEB),
        ("#{web_ro}", WEB_RO),
        ("#{tmate_web}", WEB),
        ("#{tmate_web_ro}", WEB_RO),
    ] {
        assert_eq!(s.expand(format), Ok(want.to_string()), "{format}");
    }
    assert_eq!(
        s.expand("rw=#{web} ro=#{web_ro} ssh=#{ssh}"),
        Ok(format!("rw={WEB} ro={WEB_RO} ssh={SSH}"))
    );
}

#[test]
fn without_web_links_display_says_so_and_names_the_ssh_links() {
    let s = state(false);
    for format in ["#{web}", "#{web_ro}", "#{tmate_web}", "#{tmate_web_ro}"] {
        let err = s.expand(format).expect_err("no web links");
        assert!(
            err.contains("not enabled") && err.contains("#{ssh}"),
            "{format}: {err}"
        );
    }
    assert_eq!(s.expand("#{ssh_ro}"), Ok(SSH_RO.to_string()));
}

#[test]
fn display_through_the_control_request_prints_the_web_link() {
    let mut s = state(true);
    let (tx, mut rx) = oneshot::channel();
    let effect = s.answer(
        Request::Display {
            format: "#{web}".into(),
            print: true,
        },
        tx,
    );
    assert!(effect.is_none());
    assert_eq!(rx.try_recv().expect("an answer"), Reply::ok(WEB));
}

#[test]
fn web_links_are_listed_after_the_ssh_links_only_when_the_relay_sends_them() {
    let ssh = [
        kind(Via::Ssh, Access::ReadWrite),
        kind(Via::Ssh, Access::ReadOnly),
    ];
    assert_eq!(state(false).shown_links(), ssh);
    // Before the relay answers, the ssh links are listed, waiting.
    let waiting = HostState::new("h");
    assert_eq!(waiting.shown_links(), ssh);
    assert_eq!(waiting.link(LinkKind::SSH_RW), None);

    let s = state(true);
    let all = [
        ssh[0],
        ssh[1],
        kind(Via::Web, Access::ReadWrite),
        kind(Via::Web, Access::ReadOnly),
    ];
    assert_eq!(s.shown_links(), all);
    let links: Vec<_> = all.iter().map(|k| s.link(*k)).collect();
    assert_eq!(
        links,
        [Some(SSH), Some(SSH_RO), Some(WEB), Some(WEB_RO)],
        "each kind has its own link"
    );
    assert_eq!(all[2].label(), "web, read-write");
}

#[test]
fn the_log_has_the_web_links_after_the_ssh_links() {
    let log: Vec<String> = state(true).log.iter().map(|l| l.text.clone()).collect();
    assert_eq!(
        log,
        [
            format!("ssh link: {SSH}"),
            format!("ssh link, read only: {SSH_RO}"),
            format!("web link: {WEB}"),
            format!("web link, read only: {WEB_RO}"),
        ]
    );
    let log: Vec<String> = state(false).log.iter().map(|l| l.text.clone()).collect();
    assert_eq!(log.len(), 2, "no web lines without web links: {log:?}");
}

/// A guest in a browser, as the relay reports it: named by its browser, no key.
fn web_guest() -> GuestInfo {
    GuestInfo {
        id: 3,
        via: Via::Web,
        name: "Chrome 131".into(),
        fingerprint: None,
        addr: Some("198.51.100.7:61234".into()),
        access: Access::ReadOnly,
        size: Size::new(132, 41),
    }
}

#[test]
fn a_web_guest_reads_like_an_ssh_guest_in_the_guest_list_and_the_log() {
    let now = Instant::now();
    let row = GuestRow {
        info: web_guest(),
        joined: now,
        last_input: None,
    };
    assert_eq!(
        guest_line(&row, false, now),
        "3: Chrome 131 via web from 198.51.100.7:61234, ro, 132x41, idle 0s"
    );
    assert_eq!(
        notice_line(&Notice::GuestJoined(web_guest())).as_deref(),
        Some("guest 3 (Chrome 131) read-only via web from 198.51.100.7:61234 joined")
    );
    // `kick` finds it by the name the guest list shows, as it does ssh guests.
    let mut s = state(true);
    s.on_notice(&Notice::GuestJoined(web_guest()));
    assert_eq!(s.find_guest("Chrome 131").map(|g| g.info.id), Some(3));
}

/// Asks `s` for a link as `cotty new-link` does; the request's number, and where the reply
/// comes.
fn ask_link(s: &mut HostState, once: bool) -> (Option<u64>, oneshot::Receiver<Reply>) {
    let (tx, rx) = oneshot::channel();
    let req = Request::NewLink {
        read_only: false,
        once,
        ttl_secs: Some(60),
    };
    let effect = s.answer(req, tx);
    let req = match effect {
        Some(crate::host::state::Effect::NewLink(n)) => {
            assert!(n.once == once && n.ttl_secs == Some(60) && n.access == Access::ReadWrite);
            Some(n.req)
        }
        _ => None,
    };
    (req, rx)
}

fn extra(req: Option<u64>, n: u32) -> crate::net::proto::ExtraLink {
    crate::net::proto::ExtraLink {
        req,
        n,
        access: Access::ReadWrite,
        ssh: format!("ssh -p 2222 X{n}@192.0.2.10"),
        web: Some(format!("http://192.0.2.10:2222/#X{n}")),
        once: false,
        expires_in: Some(60),
        enabled: true,
        used: false,
        token: format!("X{n}"),
        proof: String::new(),
    }
}

#[test]
fn new_link_answers_once_the_relay_has_made_it_and_display_knows_it() {
    let mut s = HostState::new("ana@devbox");
    // No relay yet: said at once.
    let (req, mut rx) = ask_link(&mut s, false);
    assert_eq!(req, None);
    let reply = rx.try_recv().expect("an answer at once");
    assert!(
        !reply.ok && reply.text.contains("not connected"),
        "{reply:?}"
    );

    let mut s = state(true);
    let (req, mut rx) = ask_link(&mut s, true);
    let req = req.expect("a request for the relay");
    assert!(rx.try_recv().is_err(), "waits for the relay");
    s.on_uplink(UplinkEvent::ExtraLink(extra(Some(req), 1)));
    let reply = rx.try_recv().expect("answered");
    assert_eq!(
        reply,
        Reply::ok("ssh -p 2222 X1@192.0.2.10\nhttp://192.0.2.10:2222/#X1")
    );
    assert_eq!(
        s.expand("#{link:1}"),
        Ok("ssh -p 2222 X1@192.0.2.10".into())
    );
    assert_eq!(
        s.expand("#{link_web:1}"),
        Ok("http://192.0.2.10:2222/#X1".into())
    );
    assert!(
        s.expand("#{link:2}")
            .is_err_and(|e| e.contains("no link 2"))
    );
    assert!(s.expand("#{link:x}").is_err_and(|e| e.contains("1, 2, …")));
    assert!(
        s.shown_links()
            .iter()
            .any(|k| k.extra == 1 && k.via == Via::Web)
    );

    // Refused by the relay, or cut off by a lost connection: said, not left to time out.
    let (req, mut rx) = ask_link(&mut s, false);
    s.on_uplink(UplinkEvent::LinkRefused {
        req: req.expect("req"),
        reason: "too many".into(),
    });
    assert!(
        rx.try_recv()
            .is_ok_and(|r| !r.ok && r.text.contains("too many"))
    );
    let (_, mut rx) = ask_link(&mut s, false);
    s.on_uplink(UplinkEvent::State(
        crate::net::uplink::LinkState::Connecting,
    ));
    assert!(
        rx.try_recv()
            .is_ok_and(|r| !r.ok && r.text.contains("lost"))
    );

    // A new welcome forgets the list; the relay reports again what it still has.
    s.on_uplink(UplinkEvent::Connected {
        links: s.links.clone().expect("links"),
        resumed: true,
    });
    assert!(s.expand("#{link:1}").is_err());
    s.on_uplink(UplinkEvent::ExtraLink(extra(None, 1)));
    assert!(s.expand("#{link:1}").is_ok());
}
