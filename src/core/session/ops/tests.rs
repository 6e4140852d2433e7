//! Tests of the session actor: rows pulled by a slow uplink, and the host's own access checks.

use crate::core::layout::SizePolicy;
use crate::core::pty::CommandSpec;
use crate::core::session::{Outbound, SessionCmd, SessionConfig, SessionHandle, spawn};
use crate::core::term::ScreenState;
use crate::core::types::{Access, GuestInfo, LinkRef, Size, Via};
use std::time::Duration;
use tokio::sync::mpsc;

fn sh(script: &str) -> SessionConfig {
    SessionConfig {
        cmd: CommandSpec {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![],
        },
        policy: SizePolicy::Smallest,
        respawn: false,
        host_size: None,
    }
}

async fn wait_for_screen(h: &SessionHandle, needle: &str) {
    for _ in 0..1000 {
        if h.screen().await.expect("screen").text().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{needle:?} never showed on the host screen");
}

fn guest(id: u32, access: Access) -> GuestInfo {
    GuestInfo {
        id,
        via: Via::Ssh,
        name: format!("guest {id}"),
        fingerprint: None,
        addr: None,
        access,
        size: Size::new(80, 24),
    }
}

#[tokio::test]
async fn a_slow_uplink_gets_the_screen_as_it_is_not_a_backlog() {
    let (ntx, _nrx) = mpsc::channel(64);
    let script = "seq 1 20000; echo END-MARK; exec sleep 30";
    let (h, _task) = spawn(sh(script), ntx).expect("spawn");
    // A tiny queue that nobody reads while the program prints.
    let (tx, mut rx) = mpsc::channel(2);
    h.send(SessionCmd::UplinkUp {
        out: tx,
        guests: Vec::new(),
    })
    .await
    .expect("send");
    wait_for_screen(&h, "END-MARK").await;

    let mut copy = ScreenState::blank(Size::DEFAULT);
    let mut updates = 0;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the relay's copy converges within 5 s")
            .expect("queue open");
        match msg {
            // A new uplink gets the layout, the lock and both links' switches before the rows.
            Outbound::Layout { .. }
            | Outbound::Lock(false)
            | Outbound::SetLink { enabled: true, .. } => {}
            Outbound::Rows(update) => {
                updates += 1;
                copy.apply(update).expect("the host's rows apply");
                if copy.text().contains("END-MARK") {
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // ~110 KB of output, but only the queue's two slots and the newest screen went up.
    assert!(updates <= 4, "{updates} row updates for one burst");
    let host = h.screen().await.expect("screen");
    assert_eq!(copy.text(), host.text());
    assert_eq!(copy.cursor, host.cursor);
}

#[tokio::test]
async fn the_host_drops_input_from_read_only_and_locked_guests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("in");
    let script = format!("stty -echo; exec cat > {}", file.display());
    let (ntx, _nrx) = mpsc::channel(64);
    let (h, _task) = spawn(sh(&script), ntx).expect("spawn");
    h.send(SessionCmd::GuestJoined(guest(1, Access::ReadOnly)))
        .await
        .expect("join");
    h.send(SessionCmd::GuestJoined(guest(2, Access::ReadWrite)))
        .await
        .expect("join");
    let input = |g: u32, s: &str| SessionCmd::GuestInput {
        guest: g,
        pane: 1,
        bytes: s.as_bytes().to_vec(),
    };
    h.send(input(1, "from-read-only\n")).await.expect("send");
    h.send(input(9, "from-unknown-guest\n"))
        .await
        .expect("send");
    h.send(SessionCmd::Lock(true)).await.expect("lock");
    h.send(input(2, "while-locked\n")).await.expect("send");
    h.send(SessionCmd::Lock(false)).await.expect("unlock");
    h.send(input(2, "allowed\n")).await.expect("send");
    h.send(SessionCmd::SetAccess {
        guest: 2,
        access: Access::ReadOnly,
    })
    .await
    .expect("ro");
    h.send(input(2, "after-demotion\n")).await.expect("send");
    h.send(SessionCmd::SetAccess {
        guest: 1,
        access: Access::ReadWrite,
    })
    .await
    .expect("rw");
    h.send(input(1, "after-promotion\n")).await.expect("send");
    for _ in 0..500 {
        let got = std::fs::read_to_string(&file).unwrap_or_default();
        if got.contains("after-promotion") {
            assert_eq!(got, "allowed\nafter-promotion\n");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("input never arrived: {:?}", std::fs::read_to_string(&file));
}

#[tokio::test]
async fn the_pty_follows_the_smallest_read_write_guest() {
    let (ntx, _nrx) = mpsc::channel(64);
    let (h, _task) = spawn(sh("exec sleep 30"), ntx).expect("spawn");
    let size = |h: SessionHandle| async move { h.screen().await.expect("screen").size };
    assert_eq!(size(h.clone()).await, Size::DEFAULT);
    let mut g = guest(1, Access::ReadWrite);
    g.size = Size::new(100, 30);
    h.send(SessionCmd::GuestJoined(g)).await.expect("join");
    let mut ro = guest(2, Access::ReadOnly);
    ro.size = Size::new(20, 5);
    h.send(SessionCmd::GuestJoined(ro)).await.expect("join");
    assert_eq!(
        size(h.clone()).await,
        Size::new(100, 30),
        "read-only guests do not shrink it"
    );
    h.send(SessionCmd::GuestResize {
        guest: 1,
        size: Size::new(90, 20),
    })
    .await
    .expect("resize");
    assert_eq!(size(h.clone()).await, Size::new(90, 20));
    h.send(SessionCmd::GuestLeft(1)).await.expect("leave");
    assert_eq!(size(h.clone()).await, Size::DEFAULT);
}

#[tokio::test]
async fn a_program_that_asks_for_the_cursor_position_gets_an_answer() {
    let (ntx, _nrx) = mpsc::channel(64);
    // Without an answer, dd would wait forever for the 6-byte reply ESC [ 1 ; 1 R.
    let script = "stty raw -echo; printf '\\033[6n'; r=$(dd bs=1 count=6 2>/dev/null); \
                  stty sane; echo \"got $r\" | tr -d '\\033'; exec sleep 30";
    let (h, _task) = spawn(sh(script), ntx).expect("spawn");
    wait_for_screen(&h, "got [1;1R").await;
}

#[tokio::test]
async fn a_fixed_size_ignores_the_guests() {
    let (ntx, _nrx) = mpsc::channel(64);
    let mut cfg = sh("exec sleep 30");
    cfg.policy = SizePolicy::Fixed(Size::new(132, 43));
    let (h, _task) = spawn(cfg, ntx).expect("spawn");
    let mut g = guest(1, Access::ReadWrite);
    g.size = Size::new(40, 10);
    h.send(SessionCmd::GuestJoined(g)).await.expect("join");
    let s = h.screen().await.expect("screen");
    assert_eq!(s.size, Size::new(132, 43));
}

#[tokio::test]
async fn losing_the_uplink_with_rows_owed_does_not_spin() {
    let (ntx, _nrx) = mpsc::channel(64);
    let (h, task) = spawn(sh("exec sleep 30"), ntx).expect("spawn");
    let (tx, rx) = mpsc::channel(1);
    h.send(SessionCmd::UplinkUp {
        out: tx,
        guests: Vec::new(),
    })
    .await
    .expect("send");
    // The uplink goes away while a layout and a snapshot are still owed to it.
    drop(rx);
    // A spinning actor never yields, so on this one-thread runtime nothing else would run.
    for _ in 0..20 {
        tokio::time::timeout(Duration::from_secs(2), h.screen())
            .await
            .expect("the session still answers")
            .expect("screen");
    }
    h.send(SessionCmd::End("test over".into()))
        .await
        .expect("end");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the session ends")
        .expect("join")
        .expect("clean end");
}

#[tokio::test]
async fn a_new_uplink_gets_the_whole_state_and_the_relays_guest_list() {
    let (ntx, mut nrx) = mpsc::channel(64);
    let (h, _task) = spawn(sh("exec sleep 30"), ntx).expect("spawn");
    let (tx, mut rx) = mpsc::channel(64);
    h.send(SessionCmd::UplinkUp {
        out: tx,
        guests: Vec::new(),
    })
    .await
    .expect("send");
    for id in [1, 2] {
        h.send(SessionCmd::GuestJoined(guest(id, Access::ReadWrite)))
            .await
            .expect("join");
    }
    // The read-write link goes off while the relay is there…
    h.send(SessionCmd::SwitchLink {
        link: LinkRef::Main(Access::ReadWrite),
        enabled: false,
    })
    .await
    .expect("link");
    h.send(SessionCmd::Lock(true)).await.expect("lock");
    // Changes made while the relay is away (its queue is gone).
    drop(rx);
    // …and on again while it is away: the resumed room still has it off.
    h.send(SessionCmd::SwitchLink {
        link: LinkRef::Main(Access::ReadWrite),
        enabled: true,
    })
    .await
    .expect("link");
    h.send(SessionCmd::SetAccess {
        guest: 1,
        access: Access::ReadOnly,
    })
    .await
    .expect("access");
    // Unlocked while away: the resumed room still has its input locked.
    h.send(SessionCmd::Lock(false)).await.expect("unlock");
    h.send(SessionCmd::SwitchLink {
        link: LinkRef::Main(Access::ReadOnly),
        enabled: false,
    })
    .await
    .expect("link");
    // The relay resumes with guest 1 still there (with its old access) and guest 2 gone.
    let (tx, rx2) = mpsc::channel(64);
    rx = rx2;
    h.send(SessionCmd::UplinkUp {
        out: tx,
        guests: vec![guest(1, Access::ReadWrite)],
    })
    .await
    .expect("send");
    let mut got = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
        let rows = matches!(m, Outbound::Rows(_));
        got.push(m);
        if rows {
            break;
        }
    }
    assert!(got.contains(&Outbound::SetAccess {
        guest: 1,
        access: Access::ReadOnly
    }));
    assert!(got.contains(&Outbound::Lock(false)), "{got:?}");
    assert!(got.contains(&Outbound::SetLink {
        access: Access::ReadOnly,
        enabled: false
    }));
    assert!(got.contains(&Outbound::SetLink {
        access: Access::ReadWrite,
        enabled: true
    }));
    // Every row goes up last, after the control messages.
    assert!(
        matches!(got.last(), Some(Outbound::Rows(u)) if u.rows.len() == 24),
        "{got:?}"
    );
    let ids: Vec<u32> = h
        .guests()
        .await
        .expect("guests")
        .iter()
        .map(|g| g.info.id)
        .collect();
    assert_eq!(ids, vec![1]);
    let mut left = false;
    while let Ok(n) = nrx.try_recv() {
        left |= matches!(n, crate::core::session::Notice::GuestLeft(g) if g.id == 2);
    }
    assert!(left, "guest 2 is reported gone");
}

#[tokio::test]
async fn the_hosts_focus_reaches_only_a_program_that_asked_for_it() {
    let (ntx, _nrx) = mpsc::channel(64);
    // The first dd takes one byte before the program turns on focus reports, the second the
    // three bytes of one report after.
    let script = "stty raw -echo; echo ready; dd bs=1 count=1 >/dev/null 2>&1; \
                  printf '\\033[?1004h'; r=$(dd bs=1 count=3 2>/dev/null); \
                  stty sane; echo \"got $r\" | tr -d '\\033'; exec sleep 30";
    let (h, _task) = spawn(sh(script), ntx).expect("spawn");
    wait_for_screen(&h, "ready").await;
    // Not asked for yet: dropped, so the first dd gets the x.
    h.send(SessionCmd::HostFocus(true)).await.expect("focus");
    h.send(SessionCmd::HostInput(b"x".to_vec()))
        .await
        .expect("input");
    for _ in 0..1000 {
        if h.screen().await.expect("screen").modes.focus_events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.send(SessionCmd::HostFocus(false)).await.expect("focus");
    wait_for_screen(&h, "got [O").await;
}
