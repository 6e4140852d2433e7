//! `cargo bench --bench e2e`: the real relay, host and stock ssh guests on loopback.
//!
//! Steps: echo latency (a guest's own, the host's in the dashboard, one guest's keys on
//! another's screen), output burst (to a guest, on the dashboard, through plain ssh), join
//! times, relay scale, and faults (uplink cuts, and the relay's memory under garbage
//! connections). Flags pick steps and sizes; see `cargo bench --bench e2e -- --help`.
//! `COTTY_BENCH_BIN` runs another cotty build in the process steps. The results are a
//! Markdown table, with the load average before each step.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "e2e/dashboard.rs"]
mod dashboard;
#[path = "e2e/faults.rs"]
mod faults;
#[path = "e2e/scale.rs"]
mod scale;
#[path = "e2e/seen.rs"]
mod seen;
#[path = "e2e/sshd.rs"]
mod sshd;
#[path = "e2e/steps.rs"]
mod steps;
#[path = "e2e/timed.rs"]
mod timed;
#[path = "e2e/web.rs"]
mod web;

use std::time::Duration;
use steps::Row;

const USAGE: &str = "\
usage: cargo bench --bench e2e -- [--only STEP,STEP,...] [--keys N] [--bytes N] [--runs N]
                                  [--sessions N,N,...] [--scale-size COLSxROWS] [--scale-limit SECS]
                                  [--cuts N] [--garbage N]
steps: echo, dashboard-echo, guest-to-guest, burst, dashboard-burst, plain-ssh, join, scale,
       faults, web
COTTY_BENCH_BIN=PATH runs that cotty binary in every step but scale and faults
defaults: all steps, --keys 300, --bytes 20000000, --runs 3, --sessions 100,1000,10000,
          --scale-size 120x40, --scale-limit 600, --cuts 100, --garbage 10000;
a quick run: --only echo,burst,join --keys 100 --bytes 5000000";

/// Every step, in the order they run.
const STEPS: [&str; 10] = [
    "echo",
    "dashboard-echo",
    "guest-to-guest",
    "burst",
    "dashboard-burst",
    "plain-ssh",
    "join",
    "scale",
    "faults",
    "web",
];

/// What to run.
struct Args {
    /// Steps to run.
    only: Vec<String>,
    /// Keys in each echo step.
    keys: usize,
    /// Bytes in the burst step.
    bytes: usize,
    /// Repetitions of the burst and join steps.
    runs: usize,
    /// Session counts in the scale step.
    sessions: Vec<usize>,
    /// The guests' terminal size in the scale step.
    scale_size: cotty::core::types::Size,
    /// The most time one scale size may take.
    scale_limit: Duration,
    /// Uplink cuts in the faults step.
    cuts: usize,
    /// Garbage connections in the faults step.
    garbage: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        only: STEPS.map(String::from).to_vec(),
        keys: 300,
        bytes: 20_000_000,
        runs: 3,
        sessions: vec![100, 1000, 10_000],
        scale_size: cotty::core::types::Size::new(120, 40),
        scale_limit: Duration::from_secs(600),
        cuts: 100,
        garbage: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        let num = |s: String, name: &str| {
            s.parse::<usize>()
                .map_err(|_| format!("{name}: not a number: {s}"))
        };
        match flag.as_str() {
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            "--only" => a.only = value("--only")?.split(',').map(String::from).collect(),
            "--keys" => a.keys = num(value("--keys")?, "--keys")?,
            "--bytes" => a.bytes = num(value("--bytes")?, "--bytes")?,
            "--runs" => a.runs = num(value("--runs")?, "--runs")?.max(1),
            "--sessions" => {
                a.sessions = value("--sessions")?
                    .split(',')
                    .map(|s| num(s.to_string(), "--sessions"))
                    .collect::<Result<_, _>>()?
            }
            "--scale-size" => a.scale_size = value("--scale-size")?.parse()?,
            "--scale-limit" => {
                a.scale_limit =
                    Duration::from_secs(num(value("--scale-limit")?, "--scale-limit")? as u64)
            }
            "--cuts" => a.cuts = num(value("--cuts")?, "--cuts")?.max(1),
            "--garbage" => a.garbage = num(value("--garbage")?, "--garbage")?,
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    for s in &a.only {
        if !STEPS.contains(&s.as_str()) {
            return Err(format!("--only: unknown step {s}\n{USAGE}"));
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("cotty e2e benchmark: {cores} cores, guests are stock ssh in a 120x40 PTY");
    println!(
        "cotty binary of the process steps: {}\n",
        steps::cotty_bin()
    );
    println!("| step | result |\n|---|---|");
    let show = |rows: Vec<Row>| {
        for r in rows {
            println!("| {} | {} |", r.name, r.value);
        }
    };
    let want = |s: &str| {
        let yes = args.only.iter().any(|o| o == s);
        if yes {
            println!("| load average before {s} | {} |", timed::load_average());
        }
        yes
    };
    if want("echo") {
        show(steps::echo(args.keys));
    }
    if want("dashboard-echo") {
        show(seen::dashboard_echo(args.keys));
    }
    if want("guest-to-guest") {
        show(seen::guest_to_guest(args.keys));
    }
    if want("burst") {
        show(steps::burst(args.bytes, args.runs));
    }
    if want("dashboard-burst") {
        show(dashboard::burst(args.bytes, args.runs));
    }
    if want("plain-ssh") {
        show(sshd::plain_ssh(args.bytes, args.runs));
    }
    if want("join") {
        show(steps::join(args.runs.max(5)));
        show(dashboard::join(args.runs.max(5)));
    }
    if want("scale") {
        show(scale::scale(
            &args.sessions,
            args.scale_size,
            args.scale_limit,
        ));
    }
    if want("faults") {
        show(faults::faults(args.cuts));
        show(faults::garbage(args.garbage));
    }
    if want("web") {
        show(web::web(args.keys, args.bytes, args.runs));
    }
}
