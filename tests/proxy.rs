//! Self-tests of the fault-injecting proxy in `tests/common/proxy.rs`, against a tiny
//! loopback echo server, without the cotty relay.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::env::WAIT;
use common::proxy::Proxy;
use common::wait::wait_until;

/// How long a read waits before a test calls the link silent.
const SILENCE: Duration = Duration::from_millis(300);
/// The longest an echo server or one of its connections lives, so that no thread of a
/// failed test runs on.
const ECHO_LIFETIME: Duration = Duration::from_secs(120);
/// The most connections one echo server accepts.
const ECHO_MAX_CONNS: usize = 32;

/// A loopback server that sends every byte back, on std threads.
struct Echo {
    /// Where the proxy forwards to.
    addr: SocketAddr,
    /// Connections the server holds open now, so that a test can see the far side of the
    /// proxy closed too.
    live: Arc<AtomicUsize>,
    /// Ends the accept loop in `Drop`.
    stop: Arc<AtomicBool>,
    /// The accept loop, joined in `Drop`.
    thread: Option<JoinHandle<()>>,
}

impl Echo {
    /// Starts an echo server on 127.0.0.1:0.
    fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("echo server binds");
        let addr = listener.local_addr().expect("echo server address");
        listener
            .set_nonblocking(true)
            .expect("echo listener becomes non-blocking");
        let live = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (live.clone(), stop.clone());
        let thread = thread::spawn(move || accept_echoes(listener, l, s));
        Echo {
            addr,
            live,
            stop,
            thread: Some(thread),
        }
    }

    /// How many of its connections are open now.
    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accepts up to [`ECHO_MAX_CONNS`] connections until `stop` or [`ECHO_LIFETIME`], each
/// echoed on a thread of its own.
fn accept_echoes(listener: TcpListener, live: Arc<AtomicUsize>, stop: Arc<AtomicBool>) {
    let deadline = Instant::now() + ECHO_LIFETIME;
    let mut accepted = 0;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline && accepted < ECHO_MAX_CONNS {
        match listener.accept() {
            Ok((conn, _)) => {
                accepted += 1;
                live.fetch_add(1, Ordering::SeqCst);
                let l = live.clone();
                thread::spawn(move || {
                    echo(conn, deadline);
                    l.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
}

/// Sends back what `conn` sends until it closes, fails, or `deadline` passes.
fn echo(mut conn: TcpStream, deadline: Instant) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// What a client heard on its socket within a time limit.
#[derive(Debug, PartialEq)]
enum Heard {
    /// Some bytes.
    Bytes(Vec<u8>),
    /// End of stream: the peer closed in good order (FIN).
    Closed,
    /// A reset (RST): the link was cut.
    Reset,
    /// Nothing: the socket is open but quiet.
    Silence,
}

/// Connects to the proxy with reads that give up after [`WAIT`].
fn dial(proxy: &Proxy) -> TcpStream {
    let s = TcpStream::connect(proxy.addr()).expect("client connects to the proxy");
    s.set_nodelay(true).expect("nodelay");
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    s
}

/// Sends `msg` and reads back as many bytes.
fn round_trip(s: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).expect("client writes");
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).expect("client reads the echo");
    back
}

/// One read with its own time limit.
fn listen(s: &mut TcpStream, within: Duration) -> Heard {
    s.set_read_timeout(Some(within)).expect("read timeout");
    let mut buf = [0u8; 1024];
    let heard = match s.read(&mut buf) {
        Ok(0) => Heard::Closed,
        Ok(n) => Heard::Bytes(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Heard::Silence,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Heard::Reset,
        Err(e) => panic!("a read failed in an unexpected way: {e}"),
    };
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    heard
}

/// Sends `len` patterned bytes from another thread while reading the echo, checks every
/// byte, and returns how long it took.
fn stream_through(s: &mut TcpStream, len: usize) -> Duration {
    let pattern = |i: usize| (i % 251) as u8;
    let mut writer = s.try_clone().expect("clone the client socket");
    let start = Instant::now();
    let sender = thread::spawn(move || {
        let data: Vec<u8> = (0..len).map(pattern).collect();
        writer.write_all(&data).expect("client sends the stream");
    });
    let mut back = vec![0u8; len];
    s.read_exact(&mut back)
        .expect("client reads the whole echo");
    let took = start.elapsed();
    sender.join().expect("sender thread");
    let bad = back.iter().enumerate().position(|(i, b)| *b != pattern(i));
    assert_eq!(
        bad, None,
        "the echo differs from what was sent at this offset"
    );
    took
}

/// Waits until the proxy holds exactly `n` connections.
fn wait_open(proxy: &Proxy, n: usize) {
    wait_until(&format!("{n} open connections"), WAIT, || {
        proxy.open_connections() == n
    })
    .unwrap_or_else(|e| panic!("{e}; open now: {}", proxy.open_connections()));
}

/// Waits until the proxy has accepted exactly `n` connections.
fn wait_accepted(proxy: &Proxy, n: usize) {
    wait_until(&format!("{n} accepted connections"), WAIT, || {
        proxy.connections_accepted() == n
    })
    .unwrap_or_else(|e| panic!("{e}; accepted now: {}", proxy.connections_accepted()));
}

/// Bytes go through unchanged both ways, and the counts follow connects and closes.
#[test]
fn forwards_both_ways_intact_and_counts_connections() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    assert_eq!(proxy.connections_accepted(), 0);
    let mut a = dial(&proxy);
    assert_eq!(round_trip(&mut a, b"hello"), b"hello");
    wait_accepted(&proxy, 1);
    wait_open(&proxy, 1);
    stream_through(&mut a, 300_000);
    // A half-close goes through as one, and the echo server's close comes back as a FIN.
    a.shutdown(Shutdown::Write).expect("client half-closes");
    assert_eq!(listen(&mut a, WAIT), Heard::Closed);
    drop(a);
    wait_open(&proxy, 0);
    wait_until("the echo server to see the close", WAIT, || {
        echo.live() == 0
    })
    .expect("the close reaches the upstream");
    let mut b = dial(&proxy);
    assert_eq!(round_trip(&mut b, b"again"), b"again");
    wait_accepted(&proxy, 2);
    wait_open(&proxy, 1);
}

/// A cut ends every connection on both sides, and the listener keeps working.
#[test]
fn cut_closes_both_sides_and_new_connections_still_work() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut a = dial(&proxy);
    let mut b = dial(&proxy);
    assert_eq!(round_trip(&mut a, b"a"), b"a");
    assert_eq!(round_trip(&mut b, b"b"), b"b");
    wait_open(&proxy, 2);
    proxy.cut();
    assert_eq!(listen(&mut a, WAIT), Heard::Reset);
    assert_eq!(listen(&mut b, WAIT), Heard::Reset);
    wait_open(&proxy, 0);
    wait_until("the echo server to see the cut", WAIT, || echo.live() == 0)
        .expect("the cut reaches the upstream");
    let mut c = dial(&proxy);
    assert_eq!(round_trip(&mut c, b"after the cut"), b"after the cut");
    wait_accepted(&proxy, 3);
}

/// A black hole is silence on an open socket, for old and new connections; turned off,
/// it delivers what it held.
#[test]
fn black_hole_holds_bytes_in_silence_then_delivers_them() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut a = dial(&proxy);
    assert_eq!(round_trip(&mut a, b"before"), b"before");
    proxy.black_hole(true);
    a.write_all(b"held")
        .expect("client writes into the black hole");
    assert_eq!(listen(&mut a, SILENCE), Heard::Silence);
    // A connection made during the black hole is silent too, but open.
    let mut b = dial(&proxy);
    b.write_all(b"new")
        .expect("client writes into the black hole");
    assert_eq!(listen(&mut b, SILENCE), Heard::Silence);
    wait_open(&proxy, 2);
    proxy.black_hole(false);
    let mut held = [0u8; 4];
    a.read_exact(&mut held).expect("the held bytes arrive");
    assert_eq!(&held, b"held");
    let mut new = [0u8; 3];
    b.read_exact(&mut new)
        .expect("the new connection's bytes arrive");
    assert_eq!(&new, b"new");
    assert_eq!(round_trip(&mut a, b"after"), b"after");
}

/// Silencing only the connections open now leaves a reconnect working: the case of a host
/// that notices a dead link and dials again.
#[test]
fn black_hole_current_silences_old_connections_and_lets_a_reconnect_through() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut old = dial(&proxy);
    assert_eq!(round_trip(&mut old, b"old"), b"old");
    wait_open(&proxy, 1);
    proxy.black_hole_current();
    old.write_all(b"lost?")
        .expect("client writes into the black hole");
    assert_eq!(listen(&mut old, SILENCE), Heard::Silence);
    let mut fresh = dial(&proxy);
    assert_eq!(round_trip(&mut fresh, b"fresh"), b"fresh");
    wait_accepted(&proxy, 2);
    assert_eq!(listen(&mut old, SILENCE), Heard::Silence);
    wait_open(&proxy, 2);
    proxy.black_hole(false);
    let mut held = [0u8; 5];
    old.read_exact(&mut held).expect("the held bytes arrive");
    assert_eq!(&held, b"lost?");
}

/// A delay applies in each direction and never reorders bytes.
#[test]
fn delay_adds_latency_each_way_and_keeps_order() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut a = dial(&proxy);
    assert_eq!(round_trip(&mut a, b"warm"), b"warm");
    let d = Duration::from_millis(150);
    proxy.delay(d);
    let start = Instant::now();
    assert_eq!(round_trip(&mut a, b"slow"), b"slow");
    let took = start.elapsed();
    assert!(
        took >= 2 * d,
        "a round trip took {took:?}, less than twice {d:?}"
    );
    // A shorter delay must not let a later chunk overtake an earlier one.
    proxy.delay(Duration::from_millis(400));
    a.write_all(b"1").expect("client writes");
    proxy.delay(Duration::ZERO);
    a.write_all(b"2").expect("client writes");
    let mut back = [0u8; 2];
    a.read_exact(&mut back).expect("both bytes come back");
    assert_eq!(&back, b"12");
}

/// A speed limit makes a transfer take at least as long as the limit says.
#[test]
fn throttle_slows_a_transfer() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut a = dial(&proxy);
    proxy.throttle(Some(100_000));
    let took = stream_through(&mut a, 200_000);
    assert!(
        took >= Duration::from_secs(1),
        "200 KB at 100 KB/s each way took only {took:?}"
    );
    proxy.throttle(None);
    assert_eq!(round_trip(&mut a, b"unlimited"), b"unlimited");
}

/// Refusing resets new connections only, and can be turned off again.
#[test]
fn refuse_resets_new_connections_until_turned_off() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut kept = dial(&proxy);
    assert_eq!(round_trip(&mut kept, b"kept"), b"kept");
    proxy.set_refuse(true);
    // The reset can come before connect(2) returns, and then it is connect's error.
    match TcpStream::connect(proxy.addr()) {
        Ok(mut refused) => {
            let _ = refused.set_read_timeout(Some(WAIT));
            assert_eq!(listen(&mut refused, WAIT), Heard::Reset);
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
    wait_accepted(&proxy, 2);
    assert_eq!(
        proxy.open_connections(),
        1,
        "a refused connection is not open"
    );
    assert_eq!(round_trip(&mut kept, b"still"), b"still");
    proxy.set_refuse(false);
    let mut later = dial(&proxy);
    assert_eq!(round_trip(&mut later, b"later"), b"later");
    wait_accepted(&proxy, 3);
}

/// When the upstream cannot be reached, the client is reset rather than left hanging.
#[test]
fn an_unreachable_upstream_resets_the_client() {
    let gone = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        l.local_addr().expect("its address")
    };
    let proxy = Proxy::start(gone);
    let mut a = dial(&proxy);
    assert_eq!(listen(&mut a, WAIT), Heard::Reset);
    wait_accepted(&proxy, 1);
    wait_open(&proxy, 0);
}

/// Dropping the proxy ends its connections, even silenced ones, on both sides.
#[test]
fn dropping_the_proxy_closes_its_connections() {
    let echo = Echo::start();
    let proxy = Proxy::start(echo.addr);
    let mut a = dial(&proxy);
    assert_eq!(round_trip(&mut a, b"bye"), b"bye");
    proxy.black_hole(true);
    drop(proxy);
    assert_eq!(listen(&mut a, WAIT), Heard::Reset);
    wait_until("the echo server to see the close", WAIT, || {
        echo.live() == 0
    })
    .expect("the close reaches the upstream");
}

/// The proxy can be started and dropped from async code on a test's own runtime.
#[test]
fn works_when_started_and_dropped_inside_a_runtime() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let echo = Echo::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let proxy = Proxy::start(echo.addr);
        let mut s = tokio::net::TcpStream::connect(proxy.addr())
            .await
            .expect("client connects to the proxy");
        s.write_all(b"inside").await.expect("client writes");
        let mut back = [0u8; 6];
        tokio::time::timeout(WAIT, s.read_exact(&mut back))
            .await
            .expect("the echo comes in time")
            .expect("client reads the echo");
        assert_eq!(&back, b"inside");
        drop(proxy);
        let end = tokio::time::timeout(WAIT, s.read(&mut back))
            .await
            .expect("the close comes in time");
        assert!(
            matches!(&end, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "a read after the drop should see a reset, got {end:?}"
        );
    });
}
