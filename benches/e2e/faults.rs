//! The faults step: uplink cuts during output through the loopback proxy, and the relay's
//! memory after thousands of garbage and half-open connections.
//!
//! The relay is a process (so its memory is its own); the host runs in this process, so its
//! screen can be compared with the guest's, cell for cell.

use crate::common::env::TestEnv;
use crate::common::guest::GuestOptions;
use crate::common::mirror::differences;
use crate::common::proxy::Proxy;
use crate::common::wait::wait_until;
use crate::steps::{RelayProc, Row};
use crate::timed::{memory_kib, spread};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// The highest `tick-N` on a screen.
fn last_tick(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("tick-"))
        .filter_map(|n| n.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

/// Cuts the uplink `cuts` times, each in the middle of output, and reports how long the
/// guest's screen took to be live again, and whether links and screens survived.
pub fn faults(cuts: usize) -> Vec<Row> {
    let relay = RelayProc::start();
    let mut env = TestEnv::bare();
    env.port = relay.port;
    env.fingerprint = relay.fingerprint.clone();
    let proxy = Proxy::start(
        format!("127.0.0.1:{}", relay.port)
            .parse()
            .expect("address"),
    );
    env.start_host(proxy.addr().port(), &["bash", "--norc", "--noprofile"]);
    let pid = env.shell_pid();
    let g = env.guest(&env.rw(), GuestOptions::default());
    g.wait_for_text("$", WAIT).expect("a prompt");
    let mut live = Vec::with_capacity(cuts);
    let mut converged = 0;
    let mut tick_base = 0u64;
    for i in 0..cuts {
        // Output in the background of the cut: a line every 10 ms for about a second.
        let (from, to) = (tick_base + 1, tick_base + 100);
        tick_base = to;
        env.host_type(&format!(
            "for i in $(seq {from} {to}); do echo tick-$i; sleep 0.01; done; echo end-{i}-$((1+1))\r"
        ));
        let started = wait_until("output to start", WAIT, || {
            last_tick(&env.host_screen().text()) >= from + 10
        });
        if started.is_err() {
            eprintln!("cut {i}: the output did not start");
            continue;
        }
        let before = last_tick(&env.host_screen().text());
        let reconnects = env.reconnects().0;
        let t0 = Instant::now();
        proxy.cut();
        // Live again: the guest shows output the host printed after the cut.
        let ok = wait_until("the guest's screen live again", WAIT, || {
            env.reconnects().0 > reconnects && last_tick(&g.text()) > before
        });
        match ok {
            Ok(()) => live.push(t0.elapsed()),
            Err(e) => eprintln!("cut {i}: {e}"),
        }
        if g.wait_for_text(&format!("end-{i}-2"), WAIT).is_ok() {
            let same = wait_until("the guest to converge", Duration::from_secs(10), || {
                differences(&env.host_screen(), &g.screen()).is_empty()
            });
            converged += usize::from(same.is_ok());
        }
    }
    let (n, same_links) = env.reconnects();
    let lost = usize::from(env.shell_pid() != pid);
    let links_same = if same_links { n.min(cuts) } else { 0 };
    let (min, med, p99) = spread(&mut live);
    vec![
        Row {
            name: format!("faults: {cuts} uplink cuts during output, cut to guest live"),
            value: format!("min {min:.0} ms, median {med:.0} ms, p99 {p99:.0} ms"),
        },
        Row {
            name: "faults: links unchanged".into(),
            value: format!("{links_same} of {cuts} ({n} reconnects)"),
        },
        Row {
            name: "faults: guests converged cell for cell".into(),
            value: format!("{converged} of {cuts}"),
        },
        Row {
            name: "faults: sessions lost (shell restarted)".into(),
            value: lost.to_string(),
        },
    ]
}

/// Opens `n` connections, in batches of 100 held open together, that send garbage or stop
/// after the ssh banner; returns how many were refused and how long it took.
fn flood(addr: &str, n: usize) -> (usize, Duration) {
    let started = Instant::now();
    let mut failed = 0;
    for batch in 0..n.div_ceil(100) {
        let mut open = Vec::with_capacity(100);
        for j in 0..100.min(n - batch * 100) {
            match TcpStream::connect(addr) {
                Ok(mut s) => {
                    let bytes: &[u8] = if j % 2 == 0 {
                        b"\x16\x03\x01garbage that is no protocol at all\r\n\r\n"
                    } else {
                        b"SSH-2.0-half_handshake\r\n"
                    };
                    let _ = s.write_all(bytes);
                    open.push(s);
                }
                Err(_) => failed += 1,
            }
        }
        // Held a moment, so the relay has them all open at once, then dropped.
        std::thread::sleep(Duration::from_millis(20));
        drop(open);
    }
    let took = started.elapsed();
    // Give the relay time to close its side of the last batch and to hand freed memory
    // back to the system (it does every 10 s).
    std::thread::sleep(Duration::from_secs(11));
    (failed, took)
}

/// The relay's memory at start, after a warm-up of 100 connections, and after `n` garbage
/// and half-handshake connections.
pub fn garbage(n: usize) -> Vec<Row> {
    let relay = RelayProc::start();
    let pid = relay.proc.child.id();
    let addr = format!("127.0.0.1:{}", relay.port);
    std::thread::sleep(Duration::from_millis(300));
    let (start, _) = memory_kib(pid);
    flood(&addr, 100);
    let (warm, _) = memory_kib(pid);
    let (failed, took) = flood(&addr, n);
    let (after, _) = memory_kib(pid);
    let pct = |from: u64| (after as f64 - from as f64) / from as f64 * 100.0;
    vec![Row {
        name: format!("faults: relay RSS after {n} garbage and half-handshake connections"),
        value: format!(
            "{start} KiB at start, {warm} KiB after 100, {after} KiB after {n} \
             ({:+.1} % on start, {:+.1} % on warm), {failed} refused, {:.1} s",
            pct(start),
            pct(warm),
            took.as_secs_f64()
        ),
    }]
}
