//! Extra links and expiring links in the room: one-time use, switching off, a host that
//! reconnects, and the session's deadline.

use super::*;

/// The token of an ssh command `ssh -p PORT TOKEN@HOST`.
fn token_of(ssh: &str) -> String {
    let user = ssh
        .split_whitespace()
        .last()
        .and_then(|u| u.split('@').next());
    user.expect("a token in the link").to_string()
}

/// The next extra link the room reports to the host.
async fn next_link(rx: &mut mpsc::Receiver<RelayMsg>) -> crate::net::proto::ExtraLink {
    loop {
        match next_to_host(rx).await {
            Some(RelayMsg::LinkAdded(link)) => return link,
            Some(_) => continue,
            None => panic!("no extra link reported"),
        }
    }
}

#[tokio::test]
async fn a_one_time_extra_link_admits_one_guest_and_survives_a_host_reconnect() {
    let room = start(Limits::default());
    let (epoch, mut host) = room.attach().await;
    let new = |req, once, ttl_secs| {
        HostMsg::NewLink(crate::net::proto::NewLink {
            req,
            access: Access::ReadOnly,
            once,
            ttl_secs,
        })
    };
    room.host(epoch, new(5, true, None)).await;
    let made = next_link(&mut host).await;
    assert_eq!(
        (made.req, made.n, made.access),
        (Some(5), 1, Access::ReadOnly)
    );
    assert!(made.once && made.enabled && !made.used && made.expires_in.is_none());
    assert!(made.web.is_some(), "{made:?}");
    let token = token_of(&made.ssh);
    assert!(
        token.starts_with("ro-") && token != room.tokens.ro,
        "{token}"
    );
    let first = room
        .join_with(&token, Size::new(80, 24))
        .await
        .expect("joins");
    let used = next_link(&mut host).await;
    assert!(used.used && used.req.is_none(), "{used:?}");
    let again = room.join_with(&token, Size::new(80, 24)).await;
    assert_eq!(
        again.err().as_deref(),
        Some(crate::net::relay::links::USED_UP)
    );
    assert_eq!(first.id, 1);
    // A second link with its own lifetime, numbered after the first.
    room.host(epoch, new(6, false, Some(60))).await;
    let second = next_link(&mut host).await;
    assert_eq!((second.n, second.expires_in), (2, Some(60)));
    // The host's uplink comes back: the room tells it both links, as they are now.
    let (epoch2, mut host2) = room.attach().await;
    assert!(epoch2 > epoch);
    let one = next_link(&mut host2).await;
    let two = next_link(&mut host2).await;
    assert_eq!((one.n, one.used, one.req), (1, true, None));
    assert_eq!(two.n, 2);
    // Switched off, it refuses; the main links are not touched.
    room.host(
        epoch2,
        HostMsg::SetExtraLink {
            n: 2,
            enabled: false,
        },
    )
    .await;
    assert!(!next_link(&mut host2).await.enabled);
    let off = room.join_with(&token_of(&two.ssh), Size::new(80, 24)).await;
    assert_eq!(
        off.err().as_deref(),
        Some(crate::net::relay::links::SWITCHED_OFF)
    );
    assert!(
        room.join(Access::ReadWrite, Size::new(80, 24))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_main_links_expire_and_extra_links_end_with_them_unless_given_their_own_ttl() {
    let room = start_with(Limits::default(), Some(Duration::from_millis(300)), false);
    let (epoch, mut host) = room.attach().await;
    room.host(
        epoch,
        HostMsg::NewLink(crate::net::proto::NewLink {
            req: 1,
            access: Access::ReadWrite,
            once: false,
            ttl_secs: None,
        }),
    )
    .await;
    let extra = next_link(&mut host).await;
    assert_eq!(
        extra.expires_in,
        Some(1),
        "rounded up from the session's 300 ms"
    );
    let inside = room.join(Access::ReadWrite, Size::new(80, 24)).await;
    assert!(inside.is_ok());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let late = room.join(Access::ReadOnly, Size::new(80, 24)).await;
    assert_eq!(
        late.err().as_deref(),
        Some(crate::net::relay::links::EXPIRED)
    );
    let late = room
        .join_with(&token_of(&extra.ssh), Size::new(80, 24))
        .await;
    assert_eq!(
        late.err().as_deref(),
        Some(crate::net::relay::links::EXPIRED)
    );
}
