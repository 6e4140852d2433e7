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
    assert_eq!(effect, None);
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
