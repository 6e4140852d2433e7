//! Snapshot of the sidebar with extra links (`cotty new-link`) and links that expire.

use super::*;

#[test]
fn extra_links_in_the_sidebar_with_their_kind_and_state() {
    use crate::net::proto::ExtraLink;
    let mut app = app();
    let link = |n: u32, access, once, expires_in, enabled, used| ExtraLink {
        req: None,
        n,
        access,
        ssh: format!("ssh -p 2222 extra{n}XXXXXXXXXXXXXXXXXXXXX@192.0.2.10"),
        web: None,
        once,
        expires_in,
        enabled,
        used,
        token: format!("extra{n}"),
        proof: String::new(),
    };
    for l in [
        link(1, Access::ReadWrite, true, None, true, true),
        link(2, Access::ReadOnly, false, Some(5400), true, false),
        link(3, Access::ReadWrite, true, Some(600), false, false),
    ] {
        app.host.on_uplink(UplinkEvent::ExtraLink(l));
    }
    app.host.set_link_ttl(Some(Duration::from_secs(7200)));
    app.focus = Focus::Sidebar(Section::Links);
    app.link_selected = LinkKind { extra: 2, ..SSH_RO };
    let term = draw(&mut app, 120, 40);
    let text = format!("{}", term.backend());
    assert!(text.contains("ssh, read-only · 2h00m left"), "{text}");
    assert!(text.contains("#1 ssh rw  used · once"), "{text}");
    assert!(text.contains("▸ #2 ssh ro · 1h30m left"), "{text}");
    assert!(text.contains("#3 ssh rw  off · once · 10m left"), "{text}");
    insta::assert_snapshot!(term.backend());
    // d switches the selected extra link off, as it does the main ones.
    let d = parse_key_spec("d").expect("key");
    assert_eq!(
        app.on_key(d),
        vec![crate::ui::dashboard::app::Action::SwitchLink(
            crate::core::types::LinkRef::Extra(2),
            false
        )]
    );
    // Once the session's links expire, the main ones say so too.
    app.host.set_link_ttl(Some(Duration::ZERO));
    let text = format!("{}", draw(&mut app, 120, 40).backend());
    assert_eq!(text.matches("read-only  expired").count(), 1, "{text}");
}
