//! The room actor, tested through its channels alone: limits, access, the host's absence,
//! resume take-over and the grace period.

use super::*;
use crate::core::types::{Access, Size, Via};
use crate::net::proto::{HostMsg, PaneGeometry, RelayMsg};
use crate::net::relay::limits::Limits;
use crate::net::relay::links::MainGates;
use crate::net::relay::registry::Tokens;
use crate::net::relay::server::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A running room, its queue, and the relay state it shares.
struct TestRoom {
    /// The room's queue.
    tx: mpsc::Sender<RoomCmd>,
    /// The relay state, to look at the registry.
    shared: Arc<Shared>,
    /// The session's tokens.
    tokens: Tokens,
}

fn start(limits: Limits) -> TestRoom {
    start_with(limits, None, false)
}

/// Like [`start`], for a room whose guests wait for the host's answer when `approve`.
fn start_asking(limits: Limits, approve: bool) -> TestRoom {
    start_with(limits, None, approve)
}

/// A room whose links expire after `ttl`, and whose guests wait for the host's answer when
/// `approve`.
fn start_with(limits: Limits, ttl: Option<Duration>, approve: bool) -> TestRoom {
    start_again(limits, ttl, approve, Vec::new())
}

/// Like [`start_with`], for a session taken up again on a restarted relay (a new [`Shared`])
/// whose host presents the extra links it `kept`.
fn start_again(
    limits: Limits,
    ttl: Option<Duration>,
    approve: bool,
    kept: Vec<crate::net::proto::ExtraLink>,
) -> TestRoom {
    let shared = Arc::new(Shared::for_tests(limits));
    let tokens = Tokens::new().expect("random");
    let (tx, rx) = mpsc::channel(64);
    let gates = MainGates::new(tokio::time::Instant::now(), ttl);
    shared
        .registry
        .register(&tokens, tx.clone(), &gates)
        .expect("register");
    let mut room = Room::new(RoomSetup {
        id: "test-session".into(),
        label: "test".into(),
        title: "alice@box".into(),
        tokens: tokens.clone(),
        shared: shared.clone(),
        me: tx.downgrade(),
        keys: tokio::sync::watch::channel(None).0,
        approve,
        gates,
    });
    room.restore_links(kept);
    tokio::spawn(room.run(rx));
    TestRoom { tx, shared, tokens }
}

impl TestRoom {
    async fn attach(&self) -> (u64, mpsc::Receiver<RelayMsg>) {
        let (host_tx, host_rx) = mpsc::channel(64);
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(RoomCmd::Attach(host_tx, tx))
            .await
            .expect("send");
        (rx.await.expect("attached").epoch, host_rx)
    }

    async fn host(&self, epoch: u64, msg: HostMsg) {
        self.tx.send(RoomCmd::Host(epoch, msg)).await.expect("send");
    }

    async fn join(&self, access: Access, size: Size) -> Result<Joined, String> {
        self.ask_sized(access, size).await.await.expect("answer")
    }
    /// Sends a join of `access` and returns where its answer comes.
    async fn ask(&self, access: Access) -> oneshot::Receiver<Result<Joined, String>> {
        self.ask_sized(access, Size::new(80, 24)).await
    }
    /// Like [`TestRoom::ask`], for a guest whose pane area is `size`.
    async fn ask_sized(
        &self,
        access: Access,
        size: Size,
    ) -> oneshot::Receiver<Result<Joined, String>> {
        let token = match access {
            Access::ReadWrite => &self.tokens.rw,
            Access::ReadOnly => &self.tokens.ro,
        };
        self.ask_with(token, size).await
    }

    /// Joins with `token` as a guest's admission would, through its gate.
    async fn join_with(&self, token: &str, size: Size) -> Result<Joined, String> {
        self.ask_with(token, size).await.await.expect("answer")
    }

    /// Sends a join with `token`, through its gate, and returns where its answer comes.
    async fn ask_with(&self, token: &str, size: Size) -> oneshot::Receiver<Result<Joined, String>> {
        let entry = self.shared.registry.lookup(token).expect("a live token");
        let (access, gate) = (entry.access, entry.gate);
        let req = JoinRequest {
            via: Via::Ssh,
            name: None,
            fingerprint: None,
            addr: None,
            access,
            size,
            asked: None,
            gate,
        };
        let (tx, rx) = oneshot::channel();
        self.tx.send(RoomCmd::Join(req, tx)).await.expect("send");
        rx
    }
}

/// The next message to the host other than pings' answers, or `None` within 200 ms.
async fn next_to_host(rx: &mut mpsc::Receiver<RelayMsg>) -> Option<RelayMsg> {
    loop {
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Some(RelayMsg::Pong(_))) => continue,
            Ok(m) => return m,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_huge_pane_is_clamped_to_the_cap() {
    let room = start(Limits::default());
    let (epoch, _host) = room.attach().await;
    let panes = vec![PaneGeometry {
        id: 1,
        size: Size::new(1000, 1000),
    }];
    room.host(epoch, HostMsg::Layout { panes, focus: 1 }).await;
    // A hostile host's rows: 1000 rows, each 1000 columns wide.
    let wide = format!("\x1b[44m{}", "x".repeat(999)).repeat(1000);
    let mut screen = crate::core::term::Screen::new(Size::new(1000, 1000), 0);
    screen.feed(wide.as_bytes());
    let rows = screen.export(None).update_from(1, None);
    room.host(epoch, HostMsg::Rows(rows)).await;
    let mut g = room
        .join(Access::ReadOnly, Size::new(80, 24))
        .await
        .expect("join");
    let ok = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let view = g.view.borrow_and_update().clone();
            let rows_fit = view.screen.rows.iter().all(|r| r.width() <= 500);
            if view.screen.size == Size::new(500, 250) && view.screen.rows.len() == 250 && rows_fit
            {
                return;
            }
            g.view.changed().await.expect("view");
        }
    })
    .await;
    assert!(
        ok.is_ok(),
        "the room's screen is {}",
        g.view.borrow().screen.size
    );
}

#[tokio::test]
async fn read_only_guests_cannot_take_the_read_write_slots() {
    let limits = Limits {
        guests_per_session: 2,
        rw_guests_per_session: 1,
        ..Limits::default()
    };
    let room = start(limits);
    let _host = room.attach().await;
    let size = Size::new(80, 24);
    let _a = room.join(Access::ReadOnly, size).await.expect("ro 1");
    let _b = room.join(Access::ReadOnly, size).await.expect("ro 2");
    let err = room.join(Access::ReadOnly, size).await.expect_err("ro 3");
    assert!(err.contains("full") && err.contains("read-only"), "{err}");
    let _c = room
        .join(Access::ReadWrite, size)
        .await
        .expect("rw still has its slot");
    let err = room.join(Access::ReadWrite, size).await.expect_err("rw 2");
    assert!(err.contains("read-write"), "{err}");
}

#[tokio::test]
async fn a_locked_guest_cannot_type_or_resize_until_unlocked() {
    let room = start(Limits::default());
    let (epoch, mut host) = room.attach().await;
    let g = room
        .join(Access::ReadWrite, Size::new(80, 24))
        .await
        .expect("join");
    assert!(matches!(
        next_to_host(&mut host).await,
        Some(RelayMsg::GuestJoined(_))
    ));
    room.host(epoch, HostMsg::Lock(true)).await;
    room.tx
        .send(RoomCmd::Input(g.id, b"x".to_vec()))
        .await
        .expect("send");
    room.tx
        .send(RoomCmd::Resize(g.id, Size::new(40, 10)))
        .await
        .expect("send");
    assert_eq!(
        next_to_host(&mut host).await,
        None,
        "nothing reaches the host"
    );
    room.host(epoch, HostMsg::Lock(false)).await;
    // The size kept while locked goes up once the lock is off.
    assert_eq!(
        next_to_host(&mut host).await,
        Some(RelayMsg::GuestResize {
            guest: g.id,
            size: Size::new(40, 10)
        })
    );
    room.tx
        .send(RoomCmd::Input(g.id, b"y".to_vec()))
        .await
        .expect("send");
    assert!(
        matches!(next_to_host(&mut host).await, Some(RelayMsg::Input { bytes, .. }) if bytes == b"y")
    );
}

#[tokio::test]
async fn keys_while_the_host_is_away_are_dropped_with_a_notice_and_a_resume_takes_over() {
    let room = start(Limits::default());
    let (old, mut old_host) = room.attach().await;
    let mut g = room
        .join(Access::ReadWrite, Size::new(80, 24))
        .await
        .expect("join");
    assert!(matches!(
        next_to_host(&mut old_host).await,
        Some(RelayMsg::GuestJoined(_))
    ));
    room.tx
        .send(RoomCmd::HostGone(old, "cut".into()))
        .await
        .expect("send");
    room.tx
        .send(RoomCmd::Input(g.id, b"lost".to_vec()))
        .await
        .expect("send");
    let ctl = tokio::time::timeout(Duration::from_secs(2), g.ctl.recv()).await;
    assert!(
        matches!(&ctl, Ok(Some(GuestCtl::Notice(n))) if n.contains("input paused")),
        "{ctl:?}"
    );
    // The view says the host is away.
    let away = tokio::time::timeout(Duration::from_secs(2), async {
        while !g.view.borrow_and_update().host_away {
            g.view.changed().await.expect("view");
        }
    })
    .await;
    assert!(away.is_ok(), "the view never said the host is away");
    // The resumed host sees the waiting guest; the old connection's messages are ignored.
    let (tx, rx) = oneshot::channel();
    let (new_tx, mut new_host) = mpsc::channel(64);
    room.tx
        .send(RoomCmd::Attach(new_tx, tx))
        .await
        .expect("send");
    let attached = rx.await.expect("attached");
    assert_eq!(attached.guests.len(), 1);
    assert_eq!(attached.guests[0].id, g.id);
    room.host(
        old,
        HostMsg::End {
            reason: "stale".into(),
        },
    )
    .await;
    room.tx
        .send(RoomCmd::Input(g.id, b"ok".to_vec()))
        .await
        .expect("send");
    assert!(
        matches!(next_to_host(&mut new_host).await, Some(RelayMsg::Input { bytes, .. }) if bytes == b"ok")
    );
    assert!(
        room.shared.registry.lookup(&room.tokens.rw).is_some(),
        "the room still lives"
    );
}

#[tokio::test(start_paused = true)]
async fn a_host_that_does_not_come_back_within_the_grace_ends_the_room() {
    let limits = Limits {
        resume_grace: Duration::from_secs(30),
        ..Limits::default()
    };
    let room = start(limits);
    let (epoch, _host) = room.attach().await;
    let mut g = room
        .join(Access::ReadOnly, Size::new(80, 24))
        .await
        .expect("join");
    room.tx
        .send(RoomCmd::HostGone(epoch, "cut".into()))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(
        room.shared.registry.lookup(&room.tokens.rw).is_some(),
        "kept within the grace"
    );
    let ended = tokio::time::timeout(Duration::from_secs(20), g.ctl.recv()).await;
    assert!(
        matches!(&ended, Ok(Some(GuestCtl::Ended(r))) if r.contains("did not come back within 30s")),
        "{ended:?}"
    );
    assert!(room.shared.registry.lookup(&room.tokens.rw).is_none());
    assert!(room.shared.registry.lookup(&room.tokens.ro).is_none());
}

/// The id of the guest the host is asked about next.
async fn asked_about(host: &mut mpsc::Receiver<RelayMsg>) -> (u32, Access) {
    match next_to_host(host).await {
        Some(RelayMsg::GuestWaiting(info)) => (info.id, info.access),
        other => panic!("expected GuestWaiting, got {other:?}"),
    }
}
#[tokio::test]
async fn a_waiting_guest_gets_in_with_no_more_than_its_link_grants_or_is_turned_away() {
    let room = start_asking(Limits::default(), true);
    let (epoch, mut host) = room.attach().await;
    let mut ro = room.ask(Access::ReadOnly).await;
    let (ro_id, access) = asked_about(&mut host).await;
    assert_eq!(access, Access::ReadOnly);
    let rw = room.ask(Access::ReadWrite).await;
    let (rw_id, _) = asked_about(&mut host).await;
    assert!(ro.try_recv().is_err(), "no answer before the host's");
    // The host cannot raise a read-only link to read-write.
    let access = Access::ReadWrite;
    room.host(
        epoch,
        HostMsg::Admit {
            guest: ro_id,
            access,
        },
    )
    .await;
    let joined = ro.await.expect("answer").expect("in");
    assert_eq!(joined.id, ro_id);
    match next_to_host(&mut host).await {
        Some(RelayMsg::GuestJoined(info)) => assert_eq!(info.access, Access::ReadOnly),
        other => panic!("{other:?}"),
    }
    room.host(epoch, HostMsg::Deny { guest: rw_id }).await;
    assert_eq!(rw.await.expect("answer").expect_err("denied"), DENIED);
    // A late answer for a guest that no longer waits changes nothing.
    room.host(
        epoch,
        HostMsg::Admit {
            guest: rw_id,
            access,
        },
    )
    .await;
    assert_eq!(next_to_host(&mut host).await, None);
}
#[tokio::test(start_paused = true)]
async fn an_unanswered_guest_is_let_go_and_one_that_leaves_withdraws_its_prompt() {
    let limits = Limits {
        approve_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let room = start_asking(limits, true);
    let (_epoch, mut host) = room.attach().await;
    let waiting = room.ask(Access::ReadWrite).await;
    let (id, _) = asked_about(&mut host).await;
    let leaving = room.ask(Access::ReadWrite).await;
    let (left, _) = asked_about(&mut host).await;
    drop(leaving);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        matches!(next_to_host(&mut host).await, Some(RelayMsg::WaitOver { guest, reason }) if guest == left && reason.contains("left")),
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        waiting.await.expect("answer").expect_err("let go"),
        NO_ANSWER
    );
    assert!(
        matches!(next_to_host(&mut host).await, Some(RelayMsg::WaitOver { guest, reason }) if guest == id && reason.contains("5s")),
    );
}
#[tokio::test]
async fn no_more_guests_wait_than_the_session_may_hold() {
    let limits = Limits {
        guests_per_session: 2,
        ..Limits::default()
    };
    let room = start_asking(limits, true);
    let (_epoch, mut host) = room.attach().await;
    let _first = room.ask(Access::ReadOnly).await;
    asked_about(&mut host).await;
    let second = room.ask(Access::ReadOnly).await;
    asked_about(&mut host).await;
    let third = room.ask(Access::ReadOnly).await;
    let why = third.await.expect("answer").expect_err("refused");
    assert!(
        why.contains("2 guests are waiting for the host already"),
        "{why}"
    );
    assert_eq!(next_to_host(&mut host).await, None, "the host is not asked");
    // One that gives up makes room for the next.
    drop(second);
    let _fourth = room.ask(Access::ReadOnly).await;
    assert!(matches!(
        next_to_host(&mut host).await,
        Some(RelayMsg::WaitOver { .. })
    ));
    asked_about(&mut host).await;
}
#[tokio::test]
async fn a_host_that_comes_back_is_asked_again() {
    let room = start_asking(Limits::default(), true);
    let (epoch, mut host) = room.attach().await;
    let _waiting = room.ask(Access::ReadWrite).await;
    let (id, _) = asked_about(&mut host).await;
    room.tx
        .send(RoomCmd::HostGone(epoch, "cut".into()))
        .await
        .expect("send");
    let (_, mut again) = room.attach().await;
    assert_eq!(asked_about(&mut again).await.0, id);
}

mod links;
