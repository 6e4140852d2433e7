//! Extra links and expiring links in the room: one-time use, switching off, a host that
//! reconnects, a relay that restarts, and the session's deadline.

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

#[tokio::test]
async fn a_restarted_relay_makes_again_the_extra_links_whose_proof_checks() {
    let room = start(Limits::default());
    let (epoch, mut host) = room.attach().await;
    let new = |req, access, once| {
        HostMsg::NewLink(crate::net::proto::NewLink {
            req,
            access,
            once,
            ttl_secs: Some(600),
        })
    };
    room.host(epoch, new(1, Access::ReadOnly, true)).await;
    let mut once = next_link(&mut host).await;
    room.host(epoch, new(2, Access::ReadWrite, false)).await;
    let mut off = next_link(&mut host).await;
    assert!(!once.token.is_empty() && once.proof.len() == 64, "{once:?}");
    assert_eq!(token_of(&once.ssh), once.token);
    // What the host kept: link 1 used, link 2 switched off, with time counted down.
    once.used = true;
    off.enabled = false;
    off.expires_in = Some(300);
    let mut forged = off.clone();
    forged.n = 3;
    forged.token = "ForgedToken0123456789abcdefXYZ".into();
    let mut wrong_access = once.clone();
    wrong_access.n = 4;
    wrong_access.access = Access::ReadWrite;
    let mut same_n = off.clone();
    same_n.token = "AnotherToken0123456789abcdefXY".into();
    let kept = vec![
        off.clone(),
        once.clone(),
        forged.clone(),
        wrong_access,
        same_n,
    ];

    let again = start_again(Limits::default(), None, false, kept);
    let (_, mut host2) = again.attach().await;
    let one = next_link(&mut host2).await;
    let two = next_link(&mut host2).await;
    assert!(
        next_to_host(&mut host2).await.is_none(),
        "only two come back"
    );
    assert_eq!((one.n, one.token.as_str()), (1, once.token.as_str()));
    assert!(
        one.once && one.used && one.enabled && one.req.is_none(),
        "{one:?}"
    );
    assert_eq!((two.n, two.token.as_str()), (2, off.token.as_str()));
    assert!(!two.enabled && two.expires_in == Some(300), "{two:?}");
    assert_eq!(
        two.proof, off.proof,
        "the same relay key gives the same proof"
    );
    let joined = again.join_with(&once.token, Size::new(80, 24)).await;
    assert_eq!(
        joined.err().as_deref(),
        Some(crate::net::relay::links::USED_UP)
    );
    let joined = again.join_with(&off.token, Size::new(80, 24)).await;
    assert_eq!(
        joined.err().as_deref(),
        Some(crate::net::relay::links::SWITCHED_OFF)
    );
    assert!(again.shared.registry.lookup(&forged.token).is_none());
    // A link made after them takes the next number.
    room.host(epoch, new(3, Access::ReadWrite, false)).await;
    let (epoch2, mut host3) = again.attach().await;
    next_link(&mut host3).await;
    next_link(&mut host3).await;
    again.host(epoch2, new(9, Access::ReadWrite, false)).await;
    assert_eq!(next_link(&mut host3).await.n, 3);
}
