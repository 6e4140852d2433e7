//! The echo, burst and join steps: real relay and host processes, stock ssh guests.

use crate::common::proc::Proc;
use crate::timed::{
    TimedTerm, cpu_seconds, has_prompt, median, percentile, read_bytes, spread, tcp_bytes_sent,
};
use cotty::core::pty::{CommandSpec, Pty, PtyEvent};
use cotty::core::types::Size;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The guest terminal of every step: 120x40, as the issue asks.
pub const COLS: u16 = 120;
/// See [`COLS`].
pub const ROWS: u16 = 40;
const WAIT: Duration = Duration::from_secs(30);

/// The cotty binary that the process steps (echo, dashboard, guest-to-guest, burst, join)
/// run: `COTTY_BENCH_BIN` if set, so that another build (an older commit's) is measured by
/// this harness in the same session; else the binary this bench was built with. The steps
/// that speak the wire protocol in-process (scale, faults) always run their own build.
pub fn cotty_bin() -> String {
    match std::env::var("COTTY_BENCH_BIN") {
        Ok(bin) if !bin.is_empty() => bin,
        _ => env!("CARGO_BIN_EXE_cotty").to_string(),
    }
}

/// A relay process on a free loopback port.
pub struct RelayProc {
    /// The process.
    pub proc: Proc,
    /// Its port.
    pub port: u16,
    /// Its key's fingerprint.
    pub fingerprint: String,
    /// The binary it runs, so that its hosts are the same build.
    pub bin: String,
    /// Keeps the host key.
    _dir: tempfile::TempDir,
}

impl RelayProc {
    /// Starts this build's `cotty relay` on 127.0.0.1:0.
    pub fn start() -> RelayProc {
        RelayProc::start_of(env!("CARGO_BIN_EXE_cotty"))
    }

    /// Starts `BIN relay` on 127.0.0.1:0, where `bin` is a cotty binary.
    pub fn start_of(bin: &str) -> RelayProc {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key").display().to_string();
        // COTTY_BENCH_WRAP runs the relay under a tool, e.g. "valgrind --tool=massif".
        let wrap = std::env::var("COTTY_BENCH_WRAP").ok();
        // Every host and guest comes from 127.0.0.1, so the per-address limits go too.
        let limits = [
            "--max-connections",
            "100000",
            "--max-guests",
            "100000",
            "--max-rw-guests",
            "100000",
            "--max-connections-per-ip",
            "100000",
            "--max-new-connections-per-minute",
            "1000000",
            "--max-sessions-per-ip",
            "100000",
        ];
        let proc = Proc::relay_of(bin, "127.0.0.1:0", &key, &limits, wrap.as_deref());
        let (port, fingerprint) = proc.relay_address(Duration::from_secs(60));
        RelayProc {
            proc,
            port,
            fingerprint,
            bin: bin.to_string(),
            _dir: dir,
        }
    }

    /// The arguments of a `cotty -F` that dials this relay and shares a bare bash.
    pub fn host_args(&self) -> Vec<String> {
        let addr = format!("127.0.0.1:{}", self.port);
        [
            "-F",
            "--relay",
            &addr,
            "--relay-fingerprint",
            &self.fingerprint,
            "new-session",
            "bash",
            "--norc",
            "--noprofile",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// Starts a headless host and returns it with its read-write token.
    pub fn host(&self) -> (Proc, String) {
        let args = self.host_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let host = Proc::spawn(&self.bin, &args);
        let link = host.line("ssh session: ", &[]);
        let token = link
            .rsplit(' ')
            .next()
            .and_then(|u| u.split('@').next())
            .expect("token");
        (host, token.to_string())
    }

    /// A stock ssh guest in a 120x40 PTY.
    pub fn guest(&self, token: &str) -> TimedTerm {
        ssh_guest(self.port, token)
    }
}

/// A stock ssh guest of the relay on 127.0.0.1:`port`, in a 120x40 PTY.
pub fn ssh_guest(port: u16, token: &str) -> TimedTerm {
    let dest = format!("{token}@127.0.0.1");
    stock_ssh(port, &["-o", "PubkeyAuthentication=no"], &dest, None)
}

/// A stock `ssh -tt` in a 120x40 PTY to `dest` on 127.0.0.1:`port`, with no config file and
/// no known hosts, plus the options `opts`, running `command` there if given.
pub fn stock_ssh(port: u16, opts: &[&str], dest: &str, command: Option<&str>) -> TimedTerm {
    let port = port.to_string();
    let mut argv = vec![
        "ssh",
        "-tt",
        "-F",
        "/dev/null",
        "-p",
        &port,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
    ];
    argv.extend(opts);
    argv.push(dest);
    argv.extend(command);
    TimedTerm::spawn(&argv, COLS, ROWS, &[])
}

/// One line of the results table.
pub struct Row {
    /// Step and figure.
    pub name: String,
    /// The numbers.
    pub value: String,
}

/// A row of the results table.
pub fn row(name: impl Into<String>, value: impl Into<String>) -> Row {
    Row {
        name: name.into(),
        value: value.into(),
    }
}

/// Types `keys` keys one at a time and times each echo.
fn echo_through(term: &mut TimedTerm, keys: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(keys);
    for i in 0..keys {
        if i % 100 == 0 {
            term.write(b"\x15"); // Ctrl-U: start a fresh line now and then.
            term.drain(Duration::from_millis(20), Duration::from_secs(2));
        }
        let key = [b'a' + (i % 26) as u8];
        let sent = term.write(&key);
        match term.next_chunk(Duration::from_secs(5)) {
            Some(t) => out.push(t.duration_since(sent)),
            None => break,
        }
        // Let any trailing chunk of this echo arrive before the next key.
        term.drain(Duration::from_millis(3), Duration::from_millis(200));
    }
    out
}

/// Echo times as a table cell: minimum, median, 90th and 99th percentile.
pub fn fmt_spread(mut v: Vec<Duration>) -> String {
    let n = v.len();
    let (min, med, p99) = spread(&mut v);
    let p90 = percentile(&v, 0.90);
    format!("min {min:.3} ms, median {med:.3} ms, p90 {p90:.3} ms, p99 {p99:.3} ms ({n} keys)")
}

/// Whether output arrives from the PTY within `wait`.
async fn next(rx: &mut tokio::sync::mpsc::Receiver<PtyEvent>, wait: Duration) -> bool {
    matches!(
        tokio::time::timeout(wait, rx.recv()).await,
        Ok(Some(PtyEvent::Output { .. }))
    )
}

/// Echo latency for a guest, the host's own PTY, and a bare shell in a PTY.
pub fn echo(keys: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let (_host, token) = relay.host();
    let mut guest = relay.guest(&token);
    guest.until(WAIT, has_prompt).expect("guest prompt");
    guest.drain(Duration::from_millis(50), Duration::from_secs(2));
    let through_guest = echo_through(&mut guest, keys);

    // The host's own PTY: the same Pty bridge the host uses, bash at the other end.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let host_pty = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let cmd = CommandSpec {
            argv: vec!["bash".into(), "--norc".into(), "--noprofile".into()],
            env: vec![("PS1".into(), "$ ".into())],
        };
        let pty = Pty::spawn(&cmd, Size::new(COLS, ROWS), 1, tx).expect("pty");
        while next(&mut rx, Duration::from_millis(100)).await {}
        let mut out = Vec::with_capacity(keys);
        for i in 0..keys {
            let sent = Instant::now();
            pty.write(vec![b'a' + (i % 26) as u8]).expect("write");
            if !next(&mut rx, Duration::from_secs(5)).await {
                break;
            }
            out.push(sent.elapsed());
            while next(&mut rx, Duration::from_millis(3)).await {}
        }
        out
    });

    let mut bare = TimedTerm::spawn(
        &["bash", "--norc", "--noprofile"],
        COLS,
        ROWS,
        &[("PS1", "$ ")],
    );
    bare.until(WAIT, has_prompt).expect("bare prompt");
    bare.drain(Duration::from_millis(50), Duration::from_secs(2));
    let bare_shell = echo_through(&mut bare, keys);
    vec![
        row(
            "echo: ssh guest via relay and host",
            fmt_spread(through_guest),
        ),
        row(
            "echo: host's own PTY (cotty's bridge)",
            fmt_spread(host_pty),
        ),
        row("echo: bare shell in a PTY", fmt_spread(bare_shell)),
    ]
}

/// Types burst number `run` at the prompt in `term`, without Enter: `bytes` of numbered 80-byte
/// lines (every line differs, so every frame changes every row), then a marker that the
/// shell computes, so the typed line never shows it. Returns the marker.
pub fn type_burst(term: &mut TimedTerm, bytes: usize, run: usize) -> String {
    let cmd = format!(
        "clear; seq -f '%079g' 1 {}; echo MARK{run}-$((7*6))",
        bytes / 80
    );
    term.write(cmd.as_bytes());
    term.drain(Duration::from_millis(100), Duration::from_secs(5));
    format!("MARK{run}-{}", 7 * 6)
}

/// Presses Enter in `term` and waits (up to 300 s) until `marker` is on its screen; seconds
/// from Enter. Then reads until quiet, so counters read after it include the last frames.
pub fn enter_until(term: &mut TimedTerm, marker: &str) -> f64 {
    let start = term.write(b"\r");
    let seen = term
        .until(Duration::from_secs(300), |s| s.text().contains(marker))
        .expect("the marker reaches the screen");
    term.drain(Duration::from_millis(100), Duration::from_secs(5));
    seen.duration_since(start).as_secs_f64()
}

/// A burst of `bytes` of numbered 80-byte lines, then a marker; `runs` times, medians
/// reported.
pub fn burst(bytes: usize, runs: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let (host, token) = relay.host();
    let mut guest = relay.guest(&token);
    guest.until(WAIT, has_prompt).expect("guest prompt");
    let host_pid = host.child.id();
    let relay_pid = relay.proc.child.id();
    let ssh_pid = guest.pid().expect("ssh pid");
    let (mut secs, mut pty_bytes, mut net_bytes, mut host_cpu, mut relay_cpu) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut uplink = vec![];
    for run in 0..runs {
        let marker = type_burst(&mut guest, bytes, run);
        let (h0, r0, n0, p0) = (
            cpu_seconds(host_pid),
            cpu_seconds(relay_pid),
            read_bytes(ssh_pid),
            guest.received,
        );
        let u0 = tcp_bytes_sent(host_pid, relay.port);
        secs.push(enter_until(&mut guest, &marker));
        pty_bytes.push((guest.received - p0) as f64);
        net_bytes.push(read_bytes(ssh_pid).saturating_sub(n0) as f64);
        host_cpu.push(cpu_seconds(host_pid) - h0);
        relay_cpu.push(cpu_seconds(relay_pid) - r0);
        if let (Some(u0), Some(u1)) = (u0, tcp_bytes_sent(host_pid, relay.port)) {
            uplink.push(u1.saturating_sub(u0) as f64);
        }
    }
    let (h, r) = (median(host_cpu), median(relay_cpu));
    vec![
        row(
            format!(
                "burst {:.0} MB: time to the marker on the guest",
                bytes as f64 / 1e6
            ),
            format!("{:.3} s (median of {runs})", median(secs)),
        ),
        row(
            "burst: bytes the guest's ssh wrote to its terminal",
            format!("{:.0} KB", median(pty_bytes) / 1e3),
        ),
        row(
            "burst: bytes the guest's ssh read (network, encrypted)",
            format!("{:.0} KB", median(net_bytes) / 1e3),
        ),
        row(
            "burst: CPU of host + relay",
            format!("{:.2} s (host {h:.2} s, relay {r:.2} s)", h + r),
        ),
        row(
            "burst: uplink, bytes the host sent the relay (TCP payload, encrypted)",
            match uplink.len() {
                0 => "not measured: `ss` (iproute2) is missing or shows no uplink".to_string(),
                n => format!("{:.0} KB (median of {n})", median(uplink) / 1e3),
            },
        ),
    ]
}

/// Time to the link for a host, and to the prompt for a guest; medians of `runs`.
pub fn join(runs: usize) -> Vec<Row> {
    let relay = RelayProc::start_of(&cotty_bin());
    let args = relay.host_args();
    let (mut to_link, mut to_prompt) = (vec![], vec![]);
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(&relay.bin)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env("PS1", "$ ")
            .spawn()
            .expect("host starts");
        let out = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(out).lines();
        let link = loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("ssh session: ") => break l,
                Some(Ok(_)) => continue,
                _ => panic!("the host ended before printing its link"),
            }
        };
        to_link.push(start.elapsed());
        let token = link
            .rsplit(' ')
            .next()
            .and_then(|u| u.split('@').next())
            .expect("token");
        let started = Instant::now();
        let mut guest = relay.guest(token);
        let seen = guest.until(WAIT, has_prompt).expect("prompt");
        to_prompt.push(seen.duration_since(started));
        drop(guest);
        let _ = child.kill();
        let _ = child.wait();
    }
    let (_, link_med, _) = spread(&mut to_link);
    let (_, prompt_med, _) = spread(&mut to_prompt);
    vec![
        row(
            "join: host start to its `ssh session:` line",
            format!("{link_med:.1} ms (median of {runs})"),
        ),
        row(
            "join: guest ssh start to the prompt on its screen",
            format!("{prompt_med:.1} ms (median of {runs})"),
        ),
    ]
}
