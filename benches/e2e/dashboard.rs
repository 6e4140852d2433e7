//! The dashboard as a person runs it: `cotty` with its built-in relay in a 120x40 PTY, for the
//! dashboard's echo, its own burst, and a guest joining it.
//!
//! HOME and the XDG directories are a tempdir, so no config of the machine's leaks in, and the
//! control socket (`-S`) is there too, so the bench can ask for the link as a script would.

use crate::steps::{COLS, ROWS, Row, cotty_bin, enter_until, row, ssh_guest, type_burst};
use crate::timed::{TimedTerm, cpu_seconds, has_prompt, median};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A running dashboard and what it needs to stay up.
pub struct Dashboard {
    /// The dashboard's terminal, parsed as the person in front of it sees it.
    pub term: TimedTerm,
    /// Its control socket, for the link.
    sock: PathBuf,
    /// Keeps HOME, the XDG directories and the socket.
    _dir: tempfile::TempDir,
}

impl Dashboard {
    /// Starts the dashboard sharing a bare bash with the `$ ` prompt, and waits until its
    /// screen shows the prompt in the pane and the links in the sidebar.
    pub fn start() -> Dashboard {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().display().to_string();
        let sub = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(&p).expect("xdg dir");
            p.display().to_string()
        };
        let (config, data, runtime) = (sub("config"), sub("data"), sub("runtime"));
        let sock = dir.path().join("ctl.sock");
        let sock_arg = sock.display().to_string();
        let bin = cotty_bin();
        let mut term = TimedTerm::spawn(
            &[
                &bin,
                "--listen",
                "127.0.0.1:0",
                "--public-host",
                "127.0.0.1",
                "-S",
                &sock_arg,
                "new-session",
                "bash",
                "--norc",
                "--noprofile",
            ],
            COLS,
            ROWS,
            &[
                ("PS1", "$ "),
                ("HISTFILE", "/dev/null"),
                ("HOME", &home),
                ("XDG_CONFIG_HOME", &config),
                ("XDG_DATA_HOME", &data),
                ("XDG_RUNTIME_DIR", &runtime),
                // The layout these figures were first taken with, sidebar drawn every frame;
                // builds from before the setting ignore it and dock it anyway.
                ("COTTY_SIDEBAR", "docked"),
            ],
        );
        term.until(WAIT, |s| has_prompt(s) && s.text().contains("Links"))
            .expect("the dashboard with the prompt in its pane");
        Dashboard {
            term,
            sock,
            _dir: dir,
        }
    }

    /// The built-in relay's port and the read-write token, from `cotty -S SOCK display -p
    /// '#{ssh}'`; asked up to 50 times, 20 ms apart, while the socket comes up.
    pub fn link(&self) -> (u16, String) {
        let bin = cotty_bin();
        for _ in 0..50 {
            let out = Command::new(&bin)
                .arg("-S")
                .arg(&self.sock)
                .args(["display", "-p", "#{ssh}"])
                .output()
                .expect("the control client runs");
            if let Some(link) = parse_link(&String::from_utf8_lossy(&out.stdout)) {
                return link;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the dashboard's control socket gave no ssh link");
    }
}

/// Port and token of a link `ssh -p PORT TOKEN@HOST`.
fn parse_link(line: &str) -> Option<(u16, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let port = words.iter().position(|w| *w == "-p")?;
    let port = words.get(port + 1)?.parse().ok()?;
    let token = words.last()?.split('@').next()?;
    Some((port, token.to_string()))
}

/// The dashboard's own burst, no guests: `bytes` of numbered 80-byte lines typed into its
/// pane, timed from Enter until the marker is on the dashboard's screen; `runs` times,
/// medians reported, with the cotty process's CPU (its shell's children not counted).
pub fn burst(bytes: usize, runs: usize) -> Vec<Row> {
    let mut dash = Dashboard::start();
    let pid = dash.term.pid().expect("dashboard pid");
    let (mut secs, mut cpu, mut drawn) = (vec![], vec![], vec![]);
    for run in 0..runs {
        let marker = type_burst(&mut dash.term, bytes, run);
        let (c0, d0) = (cpu_seconds(pid), dash.term.received);
        secs.push(enter_until(&mut dash.term, &marker));
        cpu.push(cpu_seconds(pid) - c0);
        drawn.push((dash.term.received - d0) as f64);
    }
    vec![
        row(
            format!(
                "dashboard burst {:.0} MB, no guests: time to the marker on its screen",
                bytes as f64 / 1e6
            ),
            format!("{:.3} s (median of {runs})", median(secs)),
        ),
        row(
            "dashboard burst: CPU of the cotty process",
            format!("{:.2} s", median(cpu)),
        ),
        row(
            "dashboard burst: bytes the dashboard wrote to its terminal",
            format!("{:.0} KB", median(drawn) / 1e3),
        ),
    ]
}

/// A stock ssh guest joining a dashboard's built-in relay: ssh start until the prompt is on
/// its screen; a fresh dashboard each of `runs` times, median reported.
pub fn join(runs: usize) -> Vec<Row> {
    let mut to_prompt = Vec::with_capacity(runs);
    for _ in 0..runs {
        let dash = Dashboard::start();
        let (port, token) = dash.link();
        let started = Instant::now();
        let mut guest = ssh_guest(port, &token);
        let seen = guest.until(WAIT, has_prompt).expect("prompt");
        to_prompt.push(seen.duration_since(started).as_secs_f64() * 1000.0);
    }
    vec![row(
        "join: guest ssh start to the prompt, dashboard's built-in relay",
        format!("{:.1} ms (median of {runs})", median(to_prompt)),
    )]
}
