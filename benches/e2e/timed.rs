//! A program in a PTY whose output chunks carry the instant they were read, plus /proc readers.
//!
//! The test suite's ssh driver polls every 10 ms; a latency benchmark needs the moment each
//! chunk arrives, so a reader thread stamps chunks and the bench thread parses them itself.

use cotty::core::term::{Screen, ScreenState};
use cotty::core::types::Size;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A program in a PTY, read through cotty's terminal model on the caller's thread.
pub struct TimedTerm {
    /// Output chunks and when they were read.
    rx: Receiver<(Instant, Vec<u8>)>,
    /// The program's input.
    writer: Box<dyn Write + Send>,
    /// The program.
    child: Box<dyn Child + Send + Sync>,
    /// Kept so the PTY stays open.
    _master: Box<dyn MasterPty + Send>,
    /// The screen as the program drew it.
    pub screen: Screen,
    /// Bytes received so far.
    pub received: usize,
}

impl TimedTerm {
    /// Starts `argv` in a `cols`x`rows` PTY with extra environment variables.
    pub fn spawn(argv: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> TimedTerm {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a PTY");
        let mut cmd = CommandBuilder::new(argv[0]);
        cmd.args(&argv[1..]);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SSH_AUTH_SOCK");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("start the program");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("PTY reader");
        let writer = pair.master.take_writer().expect("PTY writer");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
        let screen = Screen::new(Size::new(cols, rows), 0);
        TimedTerm {
            rx,
            writer,
            child,
            _master: pair.master,
            screen,
            received: 0,
        }
    }

    /// The program's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// Writes bytes to the program and returns the instant just before the write.
    pub fn write(&mut self, bytes: &[u8]) -> Instant {
        let t = Instant::now();
        self.writer.write_all(bytes).expect("write to the PTY");
        self.writer.flush().expect("flush the PTY");
        t
    }

    fn take(&mut self, bytes: &[u8]) {
        self.screen.feed(bytes);
        self.received += bytes.len();
    }

    /// The instant of the next chunk, parsed; `None` if none comes within `timeout`.
    pub fn next_chunk(&mut self, timeout: Duration) -> Option<Instant> {
        match self.rx.recv_timeout(timeout) {
            Ok((t, bytes)) => {
                self.take(&bytes);
                Some(t)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Reads until `done(screen)` holds; the instant of the chunk that made it so. Chunks
    /// already waiting are taken together before looking, so the check runs once per batch.
    pub fn until(
        &mut self,
        timeout: Duration,
        done: impl Fn(&ScreenState) -> bool,
    ) -> Option<Instant> {
        self.read_until(timeout, done, true)
    }

    /// Like [`TimedTerm::until`], but looks after every chunk, so the instant is that of the
    /// very chunk that made `done` hold: for latencies, where a batch would blur it.
    pub fn until_each(
        &mut self,
        timeout: Duration,
        done: impl Fn(&ScreenState) -> bool,
    ) -> Option<Instant> {
        self.read_until(timeout, done, false)
    }

    fn read_until(
        &mut self,
        timeout: Duration,
        done: impl Fn(&ScreenState) -> bool,
        batch: bool,
    ) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        if done(&self.screen.export(None)) {
            return Some(Instant::now());
        }
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let t = self.next_chunk(left)?;
            while batch && let Ok((_, more)) = self.rx.try_recv() {
                self.take(&more);
            }
            if done(&self.screen.export(None)) {
                return Some(t);
            }
        }
    }

    /// Reads until nothing arrives for `quiet` (at most `limit` in all).
    pub fn drain(&mut self, quiet: Duration, limit: Duration) {
        let end = Instant::now() + limit;
        while Instant::now() < end && self.next_chunk(quiet).is_some() {}
    }
}

impl Drop for TimedTerm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a row of the screen starts with the `$` prompt.
pub fn has_prompt(s: &ScreenState) -> bool {
    s.rows.iter().any(|r| r.text().starts_with('$'))
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which may contain spaces, closed by the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Bytes a process has read with read(2) and friends (sockets included), from /proc/PID/io.
pub fn read_bytes(pid: u32) -> u64 {
    proc_field(&format!("/proc/{pid}/io"), "rchar:")
}

/// Bytes process `pid` has sent on its TCP connections to 127.0.0.1:`port` (`bytes_sent` of
/// TCP_INFO, as `ss -tinp` shows it), payload only, retransmissions included; `None` if `ss`
/// is missing or shows no such connection. /proc's wchar would miss them: sockets are
/// written with send(2), which it does not count.
pub fn tcp_bytes_sent(pid: u32, port: u16) -> Option<u64> {
    let filter = format!("( dport = :{port} )");
    let out = std::process::Command::new("ss")
        .args(["-tinpH", "state", "established", &filter])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Each socket is a line with its addresses and users, then an indented line of TCP_INFO.
    let owner = format!("pid={pid},");
    let mut total = None;
    let mut mine = false;
    for line in text.lines() {
        if !line.starts_with(char::is_whitespace) {
            mine = line.contains(&owner);
        }
        let sent = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("bytes_sent:"))
            .and_then(|v| v.parse::<u64>().ok());
        if let (true, Some(n)) = (mine, sent) {
            total = Some(total.unwrap_or(0) + n);
        }
    }
    total
}

/// The load average over 1, 5 and 15 minutes, as /proc/loadavg has it.
pub fn load_average() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Resident and proportional set size in KiB, from /proc/PID/status and smaps_rollup.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    (
        proc_field(&format!("/proc/{pid}/status"), "VmRSS:"),
        proc_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:"),
    )
}

fn proc_field(path: &str, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Minimum, median and 99th percentile, in milliseconds; sorts `samples`.
pub fn spread(samples: &mut [Duration]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        percentile(samples, 0.99),
    )
}

/// The `q` quantile (nearest rank) of sorted samples, in milliseconds.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    match sorted.get(rank.clamp(1, sorted.len().max(1)) - 1) {
        Some(d) => d.as_secs_f64() * 1000.0,
        None => f64::NAN,
    }
}

/// The median of some numbers.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
