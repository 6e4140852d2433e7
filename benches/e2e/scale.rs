//! The scale step: one relay process, N synthetic hosts and N lightweight guests.
//!
//! A synthetic host is the library's uplink over ssh speaking the real protocol, with a small
//! program's screen as its output, but no PTY (10,000 PTYs would exceed the kernel's limit).
//! A guest is a russh client that asks for a 120x40 PTY and a shell and reads what comes.

use crate::steps::{RelayProc, Row};
use crate::timed::{cpu_seconds, memory_kib};
use anyhow::{Context, Result, anyhow, bail};
use cotty::core::term::Screen;
use cotty::core::types::Size;
use cotty::net::codec::{FrameReader, FrameWriter};
use cotty::net::proto::{Hello, HostMsg, PaneGeometry, RelayMsg};
use cotty::net::uplink::{RelayTarget, connect_ssh};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

/// Connections being set up at once.
const PARALLEL: usize = 64;
/// What each synthetic host's program shows.
const SCREEN: &[u8] = b"$ uptime\r\n 12:00:00 up 1 day,  1 user,  load average: 0.00\r\n$ ";

/// A guest's ssh client: the relay is on loopback and started by us, so any key is fine.
struct AnyKey;

impl russh::client::Handler for AnyKey {
    type Error = anyhow::Error;
    async fn check_server_key(&mut self, _k: &russh::keys::PublicKeyOrCertificate) -> Result<bool> {
        Ok(true)
    }
}

/// Screens of coloured text each synthetic host prints when the bench says so, enough to fill
/// a 32 KiB zlib window several times over.
const BUSY_SCREENS: usize = 8;

/// A screen of full-width, coloured, pseudo-random text (so that zlib cannot fold it away),
/// as a compiler's log or `ls --color` would fill the pane. `seed` varies it per host.
fn busy_screen(pane: Size, screen: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::new();
    for line in 0..pane.rows as usize {
        out.extend_from_slice(format!("\x1b[3{}m{screen:02}-{line:03} ", line % 7 + 1).as_bytes());
        for _ in 7..pane.cols as usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let c = b"abcdefghijklmnopqrstuvwxyz      "[(state % 32) as usize];
            out.push(c);
        }
        out.extend_from_slice(b"\x1b[0m\r\n");
    }
    out
}

/// Registers one synthetic host; returns its read-write token. Its tasks live in `tasks`.
/// When `busy` changes, the host prints [`BUSY_SCREENS`] screens of text (varied by `seed`),
/// one update each, and says so on `done`.
async fn host(
    target: RelayTarget,
    pane: Size,
    (mut busy, done, seed): (watch::Receiver<bool>, mpsc::Sender<()>, u64),
    tasks: &mut JoinSet<()>,
) -> Result<String> {
    let (ev_tx, _ev_rx) = mpsc::channel(4);
    let link = connect_ssh(&target, ev_tx).await?;
    let (r, w) = tokio::io::split(link.stream);
    let mut reader = FrameReader::new(r);
    let mut writer = FrameWriter::new(w);
    writer
        .send(&HostMsg::Hello(Box::new(Hello::new("cotty bench"))))
        .await?;
    let first = reader
        .next::<RelayMsg>()
        .await?
        .ok_or_else(|| anyhow!("relay closed"))?;
    let Some(RelayMsg::Welcome { links, .. }) = first.into_iter().next() else {
        bail!("no welcome");
    };
    let layout = HostMsg::Layout {
        panes: vec![PaneGeometry { id: 1, size: pane }],
        focus: 1,
    };
    writer.push(&layout).await?;
    // As the real host does on connecting: the layout, then every row of the screen.
    let mut screen = Screen::new(pane, 0);
    screen.feed(SCREEN);
    writer
        .push(&HostMsg::Rows(screen.export(None).update_from(1, None)))
        .await?;
    writer.flush().await?;
    let handle = link.handle;
    tasks.spawn(async move {
        // Read what the relay says (guest joins, resizes) so it never waits on us.
        let mut sent = screen.export(None);
        loop {
            tokio::select! {
                read = reader.next::<RelayMsg>() => {
                    if !matches!(read, Ok(Some(_))) {
                        break;
                    }
                }
                changed = busy.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    for n in 0..BUSY_SCREENS {
                        screen.feed(&busy_screen(pane, n, seed));
                        let now = screen.export(Some(&sent));
                        let rows = HostMsg::Rows(now.update_from(1, Some(&sent)));
                        if writer.push(&rows).await.is_err() || writer.flush().await.is_err() {
                            break;
                        }
                        sent = now;
                    }
                    let _ = done.send(()).await;
                }
            }
        }
        drop((writer, handle));
    });
    let user = links
        .ssh
        .rsplit(' ')
        .next()
        .and_then(|u| u.split('@').next());
    user.map(str::to_string)
        .ok_or_else(|| anyhow!("no token in {}", links.ssh))
}

/// Attaches one guest; its task lives in `tasks`.
async fn guest(
    port: u16,
    token: String,
    term: Size,
    key: Arc<PrivateKey>,
    tasks: &mut JoinSet<()>,
) -> Result<()> {
    let cfg = Arc::new(russh::client::Config::default());
    let mut h = russh::client::connect(cfg, ("127.0.0.1", port), AnyKey).await?;
    let auth = h
        .authenticate_publickey(token, PrivateKeyWithHashAlg::new(key, None))
        .await?;
    if !auth.success() {
        bail!("guest login refused");
    }
    let mut ch = h.channel_open_session().await?;
    let (cols, rows) = (u32::from(term.cols), u32::from(term.rows));
    ch.request_pty(false, "xterm-256color", cols, rows, 0, 0, &[])
        .await?;
    ch.request_shell(false).await?;
    tasks.spawn(async move {
        while ch.wait().await.is_some() {}
        drop(h);
    });
    Ok(())
}

/// Sets up `n` sessions with one guest each (terminals of `term`) on a fresh relay and
/// measures it.
async fn measure(n: usize, term: Size) -> Result<Vec<Row>> {
    // The host's pane is the guest's terminal less the status line, as the policy makes it.
    let pane = Size::new(term.cols, term.rows - 1);
    let relay = RelayProc::start();
    let pid = relay.proc.child.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, base_pss) = memory_kib(pid);
    let target = RelayTarget {
        addr: format!("127.0.0.1:{}", relay.port),
        fingerprint: Some(relay.fingerprint.clone()),
        known_relays: std::env::temp_dir().join("cotty-bench-known-relays"),
        identity: None,
    };
    let key = Arc::new(PrivateKey::from(Ed25519Keypair::from_seed(&[7u8; 32])));
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(PARALLEL));
    let (busy_tx, busy_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel(n.max(1));
    let mut setup = JoinSet::new();
    for i in 0..n {
        let (target, key, gate) = (target.clone(), key.clone(), gate.clone());
        let busy = (busy_rx.clone(), done_tx.clone(), i as u64);
        let port = relay.port;
        setup.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let mut tasks = JoinSet::new();
            let token = host(target, pane, busy, &mut tasks).await.context("host")?;
            guest(port, token, term, key, &mut tasks)
                .await
                .context("guest")?;
            anyhow::Ok(tasks)
        });
    }
    let mut alive = Vec::with_capacity(n);
    let mut failed = None;
    while let Some(r) = setup.join_next().await {
        match r {
            Ok(Ok(tasks)) => alive.push(tasks),
            Ok(Err(e)) => failed = Some(format!("{e:#}")),
            Err(e) => failed = Some(e.to_string()),
        }
    }
    let setup_time = started.elapsed();
    // Let frames go out and the relay settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, pss) = memory_kib(pid);
    let cpu0 = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = (cpu_seconds(pid) - cpu0) / 5.0 * 100.0;
    let ok = alive.len();
    let per = (pss.saturating_sub(base_pss)) as f64 / ok.max(1) as f64;
    let mut rows = vec![Row {
        name: format!("scale {n} at {term}: sessions with one guest set up"),
        value: format!("{ok} in {:.1} s", setup_time.as_secs_f64()),
    }];
    rows.push(Row {
        name: format!("scale {n} at {term}: relay RSS / PSS"),
        value: format!(
            "{:.1} MB / {:.1} MB (idle relay: {:.1} MB PSS)",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0,
            base_pss as f64 / 1024.0
        ),
    });
    rows.push(Row {
        name: format!("scale {n} at {term}: relay PSS per session"),
        value: format!("{per:.0} KiB"),
    });
    rows.push(Row {
        name: format!("scale {n} at {term}: relay CPU while idle"),
        value: format!("{idle:.2} % of one core"),
    });
    // Then every host prints screens of text at once; measured when all are done and settled.
    let cpu0 = cpu_seconds(pid);
    let busy_started = Instant::now();
    let _ = busy_tx.send(true);
    let mut finished = 0;
    while finished < ok {
        match tokio::time::timeout(Duration::from_secs(120), done_rx.recv()).await {
            Ok(Some(())) => finished += 1,
            _ => break,
        }
    }
    let busy_time = busy_started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy_cpu = cpu_seconds(pid) - cpu0;
    let (_, busy_pss) = memory_kib(pid);
    let busy_per = (busy_pss.saturating_sub(base_pss)) as f64 / ok.max(1) as f64;
    rows.push(Row {
        name: format!(
            "scale {n} at {term}: relay PSS per session after {BUSY_SCREENS} screens of \
             coloured text in each"
        ),
        value: format!(
            "{busy_per:.0} KiB ({finished} hosts printed in {:.1} s; relay CPU {busy_cpu:.2} s \
             for them, 2 s settling included)",
            busy_time.as_secs_f64()
        ),
    });
    if let Some(e) = failed {
        rows.push(Row {
            name: format!("scale {n} at {term}: first failure"),
            value: e,
        });
    }
    // Closing: dropping every task's handles ends the connections; the relay is killed.
    for mut t in alive {
        t.abort_all();
    }
    // Stop the relay the way an operator would, so a profiler around it can write its data.
    let mut relay = relay;
    relay.proc.signal("-INT");
    let _ = tokio::task::spawn_blocking(move || relay.proc.wait_exit()).await;
    Ok(rows)
}

/// Runs the scale step for each size, each on a fresh relay, within `limit` per size.
pub fn scale(sizes: &[usize], term: Size, limit: Duration) -> Vec<Row> {
    raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for &n in sizes {
        match rt.block_on(async { tokio::time::timeout(limit, measure(n, term)).await }) {
            Ok(Ok(r)) => rows.extend(r),
            Ok(Err(e)) => rows.push(Row {
                name: format!("scale {n}"),
                value: format!("failed: {e:#}"),
            }),
            Err(_) => rows.push(Row {
                name: format!("scale {n}"),
                value: format!("stopped after {limit:?}"),
            }),
        }
    }
    rt.shutdown_timeout(Duration::from_secs(5));
    rows
}

/// Each session takes four sockets on this machine (two per side); raise the limit if we may.
fn raise_fd_limit() {
    let want: libc::rlim_t = 200_000;
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            let raised = libc::rlimit {
                rlim_cur: want.max(lim.rlim_cur),
                rlim_max: want.max(lim.rlim_max),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}
