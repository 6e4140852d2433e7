//! A loopback TCP proxy that injects network faults (cuts, silence, latency, throttling,
//! refusal) between a client under test and its upstream, usually the relay.
//!
//! The proxy runs on a thread of its own with a small single-threaded tokio runtime, so
//! that synchronous test code can drive it and a test that owns a runtime (see
//! [`super::env::TestEnv`]) can start and drop it from anywhere, even inside `block_on`.
//!
//! Each accepted connection is forwarded to the upstream by two pumps, one per direction.
//! A pump is a reader and a writer joined by a bounded queue of chunks: the reader stamps
//! each chunk with the time it may leave (for [`Proxy::delay`]), and the writer paces its
//! writes (for [`Proxy::throttle`]). A silenced ("black holed") connection neither reads
//! nor writes, so bytes stay queued, as on a link that stops carrying packets and later
//! recovers: nothing is lost or reordered, and TCP back-pressure reaches the sender.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc as queue, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// How long `Drop` waits for the proxy's thread; past that the thread is left to end with
/// the test process, so that a stuck proxy can never hang a test.
const STOP_WAIT: Duration = Duration::from_secs(5);
/// How long the stopping accept loop gives its connections to reset their sockets.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// The most bytes read from a socket at once.
const CHUNK: usize = 16 * 1024;
/// Chunks read but not yet written, per direction: this bounds the memory a delayed or
/// silenced connection holds, and beyond it the sender feels TCP back-pressure.
const IN_FLIGHT: usize = 64;
/// The most connections forwarded at once; more are reset, so that a client that
/// reconnects in a tight loop cannot pile up tasks without end.
const MAX_OPEN: usize = 256;
/// Pause after a failed `accept` (such as running out of file descriptors), so that the
/// accept loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A fault-injecting TCP proxy on 127.0.0.1 in front of one loopback upstream.
///
/// Dial [`Proxy::addr`] instead of the upstream, then break the link at will. Dropping the
/// proxy resets every connection and stops its thread.
pub struct Proxy {
    /// The address clients dial, so that a test can point a host at the proxy.
    addr: SocketAddr,
    /// The settings and connection table the proxy's thread reads, so that the test thread
    /// can change them while connections run.
    shared: Arc<Shared>,
    /// One signal that ends the accept loop and every connection, fired in `Drop`.
    stop: CancellationToken,
    /// Hears when the proxy's thread has finished, so that `Drop` waits a bounded time.
    done: mpsc::Receiver<()>,
    /// The proxy's thread, joined in `Drop` once it said it is done.
    thread: Option<thread::JoinHandle<()>>,
}

/// What the test thread and the proxy's thread share.
struct Shared {
    /// Where every accepted connection is forwarded.
    upstream: SocketAddr,
    /// The connections open now, so that `cut` and `black_hole` can reach each of them.
    /// A lock on a table of handles: held only to insert, remove or signal, never across
    /// an `.await`.
    conns: Mutex<Conns>,
    /// Delay and speed limit, read by the pumps for every chunk so changes apply at once.
    shaping: watch::Sender<Shaping>,
    /// Whether new connections are reset at once, to look like an unreachable upstream.
    refuse: AtomicBool,
    /// Every connection the listener accepted, refused ones included, so that a test can
    /// tell that its client dialled again.
    accepted: AtomicUsize,
}

/// The connection table and the silence setting new connections start with, under one
/// lock, so that a connection accepted during [`Proxy::black_hole`] cannot miss it.
struct Conns {
    /// The id the next connection gets, to find it again when it ends.
    next_id: u64,
    /// Whether connections accepted from now on start silenced.
    silent_new: bool,
    /// The controls of each open connection, by id.
    open: HashMap<u64, ConnControl>,
}

/// How the test thread reaches one open connection.
struct ConnControl {
    /// Fired by [`Proxy::cut`] to reset both sockets.
    cut: CancellationToken,
    /// True while the connection is silenced.
    silent: watch::Sender<bool>,
}

/// How bytes are shaped on their way through, in both directions.
#[derive(Clone, Copy, Debug, Default)]
struct Shaping {
    /// Extra time every chunk waits before it is written.
    delay: Duration,
    /// Bytes per second each direction may carry, or `None` for no limit.
    throttle: Option<u64>,
}

/// One read's worth of bytes, queued between a pump's reader and its writer.
struct Chunk {
    /// When the chunk may be written: the time it was read plus the delay then in force.
    due: Instant,
    /// The bytes.
    bytes: Vec<u8>,
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1:0 that forwards every connection to `upstream`.
    ///
    /// Panics if `upstream` is not a loopback address (these tests never leave the
    /// machine) or if the listener, runtime or thread cannot be set up.
    pub fn start(upstream: SocketAddr) -> Proxy {
        assert!(
            upstream.ip().is_loopback(),
            "the test proxy forwards to loopback addresses only, not {upstream}"
        );
        let std_listener = StdListener::bind("127.0.0.1:0").expect("proxy binds 127.0.0.1:0");
        let addr = std_listener.local_addr().expect("proxy listener address");
        std_listener
            .set_nonblocking(true)
            .expect("proxy listener becomes non-blocking");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = {
            let _in_rt = rt.enter();
            TcpListener::from_std(std_listener).expect("proxy listener joins its runtime")
        };
        let (shaping, _) = watch::channel(Shaping::default());
        let shared = Arc::new(Shared {
            upstream,
            conns: Mutex::new(Conns {
                next_id: 0,
                silent_new: false,
                open: HashMap::new(),
            }),
            shaping,
            refuse: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let stop = CancellationToken::new();
        let (done_tx, done) = mpsc::channel();
        let (sh, st) = (shared.clone(), stop.clone());
        let thread = thread::Builder::new()
            .name(format!("test-proxy-{}", addr.port()))
            .spawn(move || {
                rt.block_on(accept_loop(listener, sh, st));
                drop(rt);
                let _ = done_tx.send(());
            })
            .expect("proxy thread starts");
        Proxy {
            addr,
            shared,
            stop,
            done,
            thread: Some(thread),
        }
    }

    /// The address to dial instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Resets every connection open now, on both sides (`SO_LINGER` 0, so each peer gets
    /// an RST and its next read fails or ends), as when a link dies for good. The listener
    /// keeps accepting, so the client can reconnect at once.
    ///
    /// Like the other methods that act on connections "open now", this reaches only the
    /// connections the proxy has accepted; after a fresh dial, wait for
    /// [`Proxy::open_connections`] to count it first.
    pub fn cut(&self) {
        for c in self.shared.conns().open.values() {
            c.cut.cancel();
        }
    }

    /// With `true`, silences every connection open now and every one accepted later: no
    /// byte goes through in either direction, yet the sockets stay open, so the peers see
    /// silence rather than a close (a link that drops every packet). With `false`, lets all
    /// of them talk again, and the bytes held meanwhile arrive intact and in order.
    ///
    /// A silenced connection reads nothing, so it does not notice its peers closing either:
    /// it stays open, and counted in [`Proxy::open_connections`], until it is heard again,
    /// cut, or the proxy is dropped. To see a client reconnect, watch
    /// [`Proxy::connections_accepted`].
    ///
    /// To silence a link and still let the client reconnect, use
    /// [`Proxy::black_hole_current`] instead.
    pub fn black_hole(&self, on: bool) {
        let mut conns = self.shared.conns();
        conns.silent_new = on;
        for c in conns.open.values() {
            c.silent.send_replace(on);
        }
    }

    /// Silences only the connections open now; connections accepted later forward as
    /// usual. This is the link that went dead under a client: the old connection hangs,
    /// and a reconnect gets through. `black_hole(false)` lets the old ones talk again and
    /// [`Proxy::cut`] ends them.
    pub fn black_hole_current(&self) {
        for c in self.shared.conns().open.values() {
            c.silent.send_replace(true);
        }
    }

    /// Holds every chunk for `d` before forwarding it, in both directions, keeping the
    /// order; a round trip gains at least twice `d`. Applies to chunks read from now on;
    /// `Duration::ZERO` turns it off.
    pub fn delay(&self, d: Duration) {
        self.shared.shaping.send_modify(|s| s.delay = d);
    }

    /// Limits each direction to `bytes_per_sec`, or lifts the limit with `None`.
    ///
    /// Panics on `Some(0)`: a link that carries nothing is [`Proxy::black_hole`].
    pub fn throttle(&self, bytes_per_sec: Option<u64>) {
        assert_ne!(
            bytes_per_sec,
            Some(0),
            "use black_hole for a link that is silent"
        );
        self.shared
            .shaping
            .send_modify(|s| s.throttle = bytes_per_sec);
    }

    /// While `true`, resets each new connection as soon as it is accepted, as if the
    /// upstream were unreachable; connections open already are left alone.
    pub fn set_refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// How many connections the listener has accepted, refused ones included, so that a
    /// test can tell its client made a fresh connection.
    ///
    /// The kernel completes a handshake before the proxy accepts it, so poll this with
    /// [`super::wait::wait_until`] rather than reading it once right after a connect.
    pub fn connections_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many connections are being forwarded or held silent now; a connection counts
    /// until both of its sockets are closed.
    pub fn open_connections(&self) -> usize {
        self.shared.conns().open.len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.cancel();
        match self.done.recv_timeout(STOP_WAIT) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
            // Leave the thread behind rather than hang the test; it ends with the process.
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

impl Shared {
    /// The connection table; a poisoned lock is still used, since its data stays valid
    /// (nothing under it can panic halfway through a change).
    fn conns(&self) -> MutexGuard<'_, Conns> {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Enters a new connection in the table, silenced if new connections are, and returns
    /// its id, its cut signal and its silence setting.
    fn register(&self) -> (u64, CancellationToken, watch::Receiver<bool>) {
        let mut conns = self.conns();
        let id = conns.next_id;
        conns.next_id += 1;
        let (silent, silent_rx) = watch::channel(conns.silent_new);
        let cut = CancellationToken::new();
        conns.open.insert(
            id,
            ConnControl {
                cut: cut.clone(),
                silent,
            },
        );
        (id, cut, silent_rx)
    }

    /// Takes a connection whose sockets are closed out of the table.
    fn forget(&self, id: u64) {
        self.conns().open.remove(&id);
    }
}

/// Accepts connections until `stop`, and gives each one a task that forwards it.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    let mut tasks = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            r = listener.accept() => r,
        };
        let client = match accepted {
            Ok((client, _)) => client,
            Err(_) => {
                sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if shared.refuse.load(Ordering::SeqCst) || tasks.len() >= MAX_OPEN {
            reset(&client);
            continue;
        }
        let (id, cut, silent) = shared.register();
        tasks.spawn(serve(client, shared.clone(), id, cut, silent, stop.clone()));
    }
    // Every connection sees `stop` and resets its sockets; let them do so, within reason.
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}

/// Forwards one connection until either side closes it, an error, a cut or `stop`.
///
/// Ends cleanly (FIN) when both directions ended cleanly; otherwise resets both sockets,
/// as an RST or a dead link would reach both peers.
async fn serve(
    mut client: TcpStream,
    shared: Arc<Shared>,
    id: u64,
    cut: CancellationToken,
    silent: watch::Receiver<bool>,
    stop: CancellationToken,
) {
    let upstream = tokio::select! {
        _ = cut.cancelled() => None,
        _ = stop.cancelled() => None,
        r = TcpStream::connect(shared.upstream) => r.ok(),
    };
    let Some(mut upstream) = upstream else {
        reset(&client);
        drop(client);
        shared.forget(id);
        return;
    };
    // Small writes such as keystrokes and keepalives should not wait for Nagle's algorithm.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let shaping = shared.shaping.subscribe();
    let clean = tokio::select! {
        _ = cut.cancelled() => false,
        _ = stop.cancelled() => false,
        r = forward(&mut client, &mut upstream, &shaping, &silent) => r.is_ok(),
    };
    if !clean {
        reset(&client);
        reset(&upstream);
    }
    drop(client);
    drop(upstream);
    shared.forget(id);
}

/// Runs both directions of a connection until both end, or either fails.
async fn forward(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    shaping: &watch::Receiver<Shaping>,
    silent: &watch::Receiver<bool>,
) -> io::Result<()> {
    let (client_rx, client_tx) = client.split();
    let (upstream_rx, upstream_tx) = upstream.split();
    tokio::try_join!(
        pump(client_rx, upstream_tx, shaping, silent),
        pump(upstream_rx, client_tx, shaping, silent),
    )?;
    Ok(())
}

/// Carries one direction: a reader and a writer joined by a bounded queue, so that a
/// delayed chunk does not stop the reader and the order is kept.
async fn pump(
    from: ReadHalf<'_>,
    to: WriteHalf<'_>,
    shaping: &watch::Receiver<Shaping>,
    silent: &watch::Receiver<bool>,
) -> io::Result<()> {
    let (tx, rx) = queue::channel(IN_FLIGHT);
    tokio::try_join!(
        read_side(from, tx, shaping.clone(), silent.clone()),
        write_side(to, rx, shaping.clone(), silent.clone()),
    )?;
    Ok(())
}

/// Reads chunks and queues them with the time each may leave, until end of stream (which
/// closes the queue, so the writer passes the end on).
async fn read_side(
    mut from: ReadHalf<'_>,
    tx: queue::Sender<Chunk>,
    shaping: watch::Receiver<Shaping>,
    mut silent: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        wait_heard(&mut silent).await;
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let due = Instant::now() + shaping.borrow().delay;
        let chunk = Chunk {
            due,
            bytes: buf[..n].to_vec(),
        };
        // The writer only stops early on an error, which it reports itself.
        if tx.send(chunk).await.is_err() {
            return Ok(());
        }
    }
}

/// Writes queued chunks once they are due, paced to the speed limit, and passes the end
/// of stream on (FIN) when the reader is done.
async fn write_side(
    mut to: WriteHalf<'_>,
    mut rx: queue::Receiver<Chunk>,
    shaping: watch::Receiver<Shaping>,
    mut silent: watch::Receiver<bool>,
) -> io::Result<()> {
    // When the speed limit lets the next piece go.
    let mut next_free = Instant::now();
    while let Some(chunk) = rx.recv().await {
        sleep_until(chunk.due).await;
        let mut rest = &chunk.bytes[..];
        // Each turn writes at least one byte, so this ends within the chunk's length.
        while !rest.is_empty() {
            let throttle = shaping.borrow().throttle;
            let n = match throttle {
                Some(rate) => {
                    sleep_until(next_free).await;
                    piece(rate).min(rest.len())
                }
                None => rest.len(),
            };
            // Checked right before the write, so no byte passes once silence is on.
            wait_heard(&mut silent).await;
            to.write_all(&rest[..n]).await?;
            if let Some(rate) = throttle {
                let cost = Duration::from_secs_f64(n as f64 / rate as f64);
                next_free = next_free.max(Instant::now()) + cost;
            }
            rest = &rest[n..];
        }
    }
    to.shutdown().await
}

/// The bytes a throttled writer sends at once: a tenth of a second's worth, so that the
/// pace is smooth, and at least one byte.
fn piece(rate: u64) -> usize {
    usize::try_from(rate / 10).map_or(CHUNK, |p| p.clamp(1, CHUNK))
}

/// Waits while the connection is silenced. A closed setting (the proxy is going away)
/// counts as not silenced, since the connection is about to be reset anyway.
async fn wait_heard(silent: &mut watch::Receiver<bool>) {
    let _ = silent.wait_for(|s| !*s).await;
}

/// Makes closing `s` send an RST instead of a FIN, so that its peer sees a dead link.
fn reset(s: &TcpStream) {
    let _ = s.set_zero_linger();
}
