//! Links that expire (`--link-ttl`) and extra links (`cotty -S S new-link [--ro] [--once]
//! [--ttl D]`), against a real relay process with stock ssh guests.

mod common;

use common::env::{TestEnv, WAIT, marker, port_of, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::proc::{Proc, ctl, err, out};
use common::wait::ssh_keygen;
use common::web::WsGuest;
use cotty::core::session::SessionCmd;
use cotty::core::types::{Access, LinkRef, NewLink, Size};
use cotty::net::uplink::UplinkEvent;
use std::path::Path;
use std::time::{Duration, Instant};

/// A relay process on loopback and a headless host dialing it with a control socket and
/// `extra` options; the relay, the host, its socket and its ssh link.
fn relay_and_host(dir: &Path, relay_args: &[&str], extra: &[&str]) -> (Proc, Proc, String) {
    let key = dir.join("relay_key").display().to_string();
    let relay = Proc::relay(&key, relay_args, None);
    let (port, _) = relay.relay_address(WAIT);
    let sock = dir.join("ctl.sock").display().to_string();
    let mut args = vec!["-S", sock.as_str()];
    args.extend(extra);
    let host = Proc::headless_host_with(port, dir, "$ ", &args);
    let link = host
        .line("ssh session: ", &[])
        .trim_start_matches("ssh session: ")
        .to_string();
    (relay, host, link)
}

/// `cotty -S SOCK new-link ARGS…`: the new link's ssh command, the first line it prints.
fn new_link(sock: &Path, args: &[&str]) -> String {
    let mut all = vec!["new-link"];
    all.extend(args);
    let o = ctl(sock, &all);
    assert!(o.status.success(), "new-link {args:?}: {}", err(&o));
    let text = out(&o);
    let ssh = text.lines().next().unwrap_or_default().to_string();
    assert!(ssh.starts_with("ssh -p "), "new-link printed {text:?}");
    ssh
}

/// A stock ssh guest with `link`.
fn guest(link: &str) -> SshGuest {
    SshGuest::spawn(port_of(link), &token(link), GuestOptions::default())
}

/// A guest with `link` is refused with `why`, and ssh ends.
fn refused(link: &str, why: &str) {
    let mut g = guest(link);
    g.wait_for_text(why, WAIT)
        .unwrap_or_else(|e| panic!("{link}: not told {why:?}: {e}"));
    assert!(g.wait_exit(WAIT).is_some(), "ssh should end: {link}");
}

/// The guest can still type into the shared shell and see the answer.
fn still_in(g: &SshGuest) {
    let m = marker("in");
    g.type_str(&format!("echo {m}\r"));
    g.wait_for("the echo", WAIT, |s| {
        s.rows.iter().filter(|r| r.text().contains(&m)).count() >= 2
    })
    .expect("the guest inside still types and sees the shell");
}

#[test]
fn after_the_link_ttl_new_guests_are_refused_and_guests_inside_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ttl = Duration::from_secs(6);
    let (_relay, host, link) = relay_and_host(dir.path(), &[], &["--link-ttl", "6s"]);
    // The relay registered the session (and started the clock) before -F printed the link.
    let registered = Instant::now();
    let ro = host
        .line("ssh session read only: ", &[])
        .trim_start_matches("ssh session read only: ")
        .to_string();
    let early = guest(&link);
    wait_prompt(&early);
    // An extra link without its own --ttl ends with the session's links.
    let extra = new_link(&dir.path().join("ctl.sock"), &[]);
    assert!(
        registered.elapsed() < ttl,
        "the machine is too slow to test a {ttl:?} lifetime: {:?}",
        registered.elapsed()
    );
    // Time itself is what is tested: wait for the deadline, with a margin.
    std::thread::sleep((registered + ttl + Duration::from_millis(300)) - Instant::now());
    for l in [&link, &ro, &extra] {
        refused(l, "this link has expired");
    }
    // A browser is told the same.
    let mut page = WsGuest::join(port_of(&link), &token(&link), Size::new(80, 24));
    assert_eq!(page.wait_bye(WAIT).reason, "this link has expired");
    still_in(&early);
}

#[test]
fn extra_links_once_read_only_and_with_their_own_ttl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ctl.sock");
    let (_relay, host, link) = relay_and_host(dir.path(), &[], &[]);

    // A one-time link lets one guest in; the next is told why, and the first stays.
    let once = new_link(&sock, &["--once"]);
    assert_ne!(token(&once), token(&link));
    host.line("link 1 (read-write, one guest): ", &[&once]);
    let first = guest(&once);
    wait_prompt(&first);
    refused(&once, "this link was for one guest and has been used");
    still_in(&first);

    // A read-only link: its guest watches.
    let ro = new_link(&sock, &["--ro"]);
    assert!(token(&ro).starts_with("ro-"), "{ro}");
    let watcher = guest(&ro);
    watcher
        .wait_for_text("read-only", WAIT)
        .expect("the guest of a --ro link is read-only");
    let m = marker("ro");
    watcher.type_str(&format!("echo {m}\r"));
    still_in(&first);
    assert!(
        !watcher.text().contains(&m),
        "a read-only guest's keys reached the shell"
    );

    // #{link:N}: the links in the order they were made; the web link of each too.
    assert_eq!(out(&ctl(&sock, &["display", "-p", "#{link:1}"])), once);
    assert_eq!(out(&ctl(&sock, &["display", "-p", "#{link:2}"])), ro);
    let web = out(&ctl(&sock, &["display", "-p", "#{link_web:2}"]));
    assert!(
        web.starts_with("http://") && web.ends_with(&token(&ro)),
        "{web}"
    );
    let missing = ctl(&sock, &["display", "-p", "#{link:9}"]);
    assert!(!missing.status.success());
    assert!(err(&missing).contains("no link 9"), "{}", err(&missing));

    // A link with its own lifetime works, then expires; the session's links do not.
    let short = new_link(&sock, &["--ttl", "3s"]);
    let made = Instant::now();
    let g = guest(&short);
    wait_prompt(&g);
    std::thread::sleep(
        (made + Duration::from_millis(3300)).saturating_duration_since(Instant::now()),
    );
    refused(&short, "this link has expired");
    still_in(&g);
    let late = guest(&link);
    wait_prompt(&late);
}

#[test]
fn refused_extra_links_count_towards_the_failed_lookup_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ctl.sock");
    let (relay, _host, link) =
        relay_and_host(dir.path(), &["--max-failed-lookups-per-minute", "2"], &[]);
    let once = new_link(&sock, &["--once"]);
    let first = guest(&once);
    wait_prompt(&first);
    // Two used-up refusals are within 2 a minute; the third goes over and is told to wait.
    for _ in 0..2 {
        refused(&once, "this link was for one guest and has been used");
    }
    refused(&once, "too many attempts from your address");
    relay.wait_log(&["token lookups from 127.0.0.1 refused"]);
    // Even the good link is refused from this address now: the refusals were counted.
    refused(&link, "too many attempts from your address");
}

#[test]
fn an_extra_link_switched_off_refuses_new_guests_until_it_is_on_again() {
    let env = TestEnv::bash();
    env.host_cmd(SessionCmd::NewLink(NewLink {
        req: 7,
        access: Access::ReadWrite,
        once: false,
        ttl_secs: None,
    }));
    let mut ssh = String::new();
    common::wait::wait_until("the relay's answer", WAIT, || {
        let events = env.events.lock().expect("events");
        ssh = events
            .iter()
            .find_map(|e| match e {
                UplinkEvent::ExtraLink(l) if l.req == Some(7) => Some(l.ssh.clone()),
                _ => None,
            })
            .unwrap_or_default();
        !ssh.is_empty()
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", env.events.lock().expect("events")));
    let early = guest(&ssh);
    wait_prompt(&early);
    let set = |enabled: bool| {
        env.host_cmd(SessionCmd::SwitchLink {
            link: LinkRef::Extra(1),
            enabled,
        });
        // The state report comes back on the same ordered uplink once the relay has it.
        common::wait::wait_until("the link's new state", WAIT, || {
            let events = env.events.lock().expect("events");
            events.iter().rev().find_map(|e| match e {
                UplinkEvent::ExtraLink(l) if l.n == 1 => Some(l.enabled),
                _ => None,
            }) == Some(enabled)
        })
        .expect("the relay reports the switch");
    };
    set(false);
    refused(&ssh, "this link was switched off by the host");
    still_in(&early);
    set(true);
    let late = guest(&ssh);
    wait_prompt(&late);
}

#[test]
fn an_extra_link_of_a_key_only_session_admits_only_listed_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let alice = ssh_keygen(dir.path(), "alice");
    let bob = ssh_keygen(dir.path(), "bob");
    let listed = dir.path().join("guests");
    let line = std::fs::read_to_string(alice.with_extension("pub")).expect("alice.pub");
    std::fs::write(&listed, line).expect("write the -a file");
    let file = listed.display().to_string();
    let (_relay, _host, _link) = relay_and_host(dir.path(), &[], &["-a", &file]);
    let extra = new_link(&dir.path().join("ctl.sock"), &["--once"]);
    let with = |key: &Path| GuestOptions {
        identity: Some(key.to_path_buf()),
        ..Default::default()
    };
    // Bob holds the new link but not a listed key: refused, and the one-time link not used.
    let mut b = SshGuest::spawn(port_of(&extra), &token(&extra), with(&bob));
    let code = b.wait_exit(WAIT);
    assert!(
        matches!(code, Some(c) if c != 0),
        "bob: {code:?} {}",
        b.text()
    );
    assert!(!b.text().contains("read-write"), "{}", b.text());
    let a = SshGuest::spawn(port_of(&extra), &token(&extra), with(&alice));
    a.wait_for_text("read-write", WAIT)
        .expect("alice joins with the extra link");
}

#[test]
fn extra_links_outlive_a_relay_restart_with_their_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ctl.sock");
    let (mut relay, host, link) = relay_and_host(dir.path(), &[], &[]);
    let port = port_of(&link);
    let ro = new_link(&sock, &["--ro"]);
    let once = new_link(&sock, &["--once"]);
    let fresh = new_link(&sock, &["--once"]);
    let first = guest(&once);
    wait_prompt(&first);
    host.line("link 2 let its one guest in; it is used up", &[]);

    // The relay dies and comes back on its port with its key file: it knows no session.
    relay.signal("-KILL");
    assert!(relay.wait_exit().is_some(), "the relay did not die");
    let key = dir.path().join("relay_key").display().to_string();
    let relay2 = Proc::relay_on(&format!("127.0.0.1:{port}"), &key, &[], None);
    host.line("relay connection back: the links are unchanged", &[]);
    relay2.wait_log(&["3 extra links made again"]);

    // The same links, with their numbers and state: the read-only one watches, the used
    // one-time link stays used, the unused one lets its one guest in.
    let watcher = guest(&ro);
    watcher
        .wait_for_text("read-only", WAIT)
        .expect("the --ro link works after the restart");
    refused(&once, "this link was for one guest and has been used");
    let second = guest(&fresh);
    wait_prompt(&second);
    still_in(&second);
    refused(&fresh, "this link was for one guest and has been used");
    assert_eq!(out(&ctl(&sock, &["display", "-p", "#{link:1}"])), ro);
    assert_eq!(out(&ctl(&sock, &["display", "-p", "#{link:3}"])), fresh);
    // A link made after the restart takes the next number.
    new_link(&sock, &[]);
    let fourth = out(&ctl(&sock, &["display", "-p", "#{link:4}"]));
    assert!(fourth.starts_with("ssh -p "), "{fourth}");
}

/// `cotty -S SOCK link-off|link-on LINK`, which must work: what it printed.
fn switch(sock: &Path, way: &str, link: &str) -> String {
    let o = ctl(sock, &[way, link]);
    assert!(o.status.success(), "{way} {link}: {}", err(&o));
    out(&o)
}

/// `cotty -S SOCK link-off|link-on LINK`, which must fail: what it said on stderr.
fn switch_fails(sock: &Path, way: &str, link: &str) -> String {
    let o = ctl(sock, &[way, link]);
    assert!(!o.status.success(), "{way} {link} should fail: {}", out(&o));
    err(&o)
}

#[test]
fn link_off_and_link_on_switch_main_and_extra_links_from_a_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ctl.sock");
    let (relay, _host, link) = relay_and_host(dir.path(), &[], &[]);
    let extra = new_link(&sock, &[]);
    // A main link's answer does not wait for the relay; an extra link's does, and the relay
    // handles the uplink's messages in order, so switching extra link 1 (on already) after a
    // main link returns once the relay has both.
    let barrier = || switch(&sock, "link-on", "1");

    let said = switch(&sock, "link-off", "rw");
    assert!(said.contains("read-write link switched off"), "{said}");
    barrier();
    refused(&link, "this link was switched off by the host");
    let said = switch(&sock, "link-on", "rw");
    assert!(said.contains("read-write link switched on"), "{said}");
    barrier();
    let rw_guest = guest(&link);
    wait_prompt(&rw_guest);

    // An extra link: the answer comes once the relay reports the switch.
    let said = switch(&sock, "link-off", "1");
    assert!(said.contains("link 1 switched off"), "{said}");
    refused(&extra, "this link was switched off by the host");
    still_in(&rw_guest);
    let said = switch(&sock, "link-on", "1");
    assert!(said.contains("link 1 switched on"), "{said}");
    wait_prompt(&guest(&extra));

    // A bad LINK is refused by the command line, naming the argument and what it takes; a
    // link the session does not have, by the host.
    let said = switch_fails(&sock, "link-off", "web");
    assert!(
        said.contains("<LINK>") && said.contains("rw (the read-write link), ro"),
        "{said}"
    );
    let said = switch_fails(&sock, "link-on", "7");
    assert!(said.contains("there is no link 7"), "{said}");

    // With the relay gone, an extra link cannot be switched (the relay keeps its state), and
    // a main link's switch waits in the session for the relay to come back.
    drop(relay);
    common::wait::wait_until("the host to see the relay gone", WAIT, || {
        let o = ctl(&sock, &["display", "-p", "#{relay_state}"]);
        o.status.success() && out(&o) != "up"
    })
    .expect("the host notices the relay is gone");
    let said = switch_fails(&sock, "link-off", "1");
    assert!(
        said.contains("the relay is not connected; try again when it is"),
        "{said}"
    );
    let said = switch(&sock, "link-off", "ro");
    assert!(
        said.contains("read-only link switched off") && said.contains("once the connection"),
        "{said}"
    );
}
