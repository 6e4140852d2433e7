//! Processes of the binary under test, with their output collected line by line.

use super::env::WAIT;
use super::wait::wait_until;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The arguments of a headless host with its built-in relay on loopback, any free port.
pub const LOOPBACK_HEADLESS: [&str; 5] = [
    "-F",
    "--listen",
    "127.0.0.1:0",
    "--public-host",
    "127.0.0.1",
];

/// A cotty process whose stdout lines are collected as they come.
pub struct Proc {
    /// The process.
    pub child: Child,
    /// Lines it printed on stdout.
    pub lines: Arc<Mutex<Vec<String>>>,
    /// What it printed on stderr.
    pub err: Arc<Mutex<String>>,
    /// Its XDG runtime, config and data directory, so its control socket, config and keys
    /// are its own.
    pub runtime: tempfile::TempDir,
}

impl Proc {
    /// Starts the cotty binary under test with `args`.
    pub fn cotty(args: &[&str]) -> Proc {
        Proc::spawn(env!("CARGO_BIN_EXE_cotty"), args)
    }

    /// Starts the cotty binary under test with `args` and these variables set as well.
    pub fn cotty_env(args: &[&str], env: &[(&str, &str)]) -> Proc {
        Proc::spawn_env(env!("CARGO_BIN_EXE_cotty"), args, env)
    }

    /// Starts `program` with `args`, a plain `sh` as its shell and `$ ` as the prompt.
    pub fn spawn(program: &str, args: &[&str]) -> Proc {
        Proc::spawn_env(program, args, &[])
    }

    /// Like [`Proc::spawn`], with these variables set as well.
    pub fn spawn_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let runtime = tempfile::tempdir().expect("runtime dir");
        let mut child = Command::new(program)
            .args(args)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env("XDG_CONFIG_HOME", runtime.path())
            .env("XDG_DATA_HOME", runtime.path())
            .env("SHELL", "/bin/sh")
            .env("PS1", "$ ")
            // Last, so that a caller's value wins.
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cotty starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout");
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l.lock().expect("lines").push(line);
            }
        });
        let e = err.clone();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut e = e.lock().expect("err");
                e.push_str(&line);
                e.push('\n');
            }
        });
        Proc {
            child,
            lines,
            err,
            runtime,
        }
    }

    /// Waits for a stdout line starting with `prefix` (and containing every word of `also`).
    pub fn line(&self, prefix: &str, also: &[&str]) -> String {
        self.line_within(prefix, also, WAIT)
    }

    /// Like [`Proc::line`], with its own time limit.
    pub fn line_within(&self, prefix: &str, also: &[&str], timeout: Duration) -> String {
        self.find_line(prefix, timeout, |l| {
            (l.starts_with(prefix) && also.iter().all(|w| l.contains(w))).then(|| l.to_string())
        })
    }

    /// Waits until `pick` takes something from a stdout line, and returns the first line's
    /// pick; the failure names `what` and shows what the process printed.
    pub fn find_line(
        &self,
        what: &str,
        timeout: Duration,
        mut pick: impl FnMut(&str) -> Option<String>,
    ) -> String {
        let mut found = None;
        let res = wait_until(what, timeout, || {
            let lines = self.lines.lock().expect("lines");
            found = lines.iter().find_map(|l| pick(l));
            found.is_some()
        });
        if let Err(e) = res {
            panic!(
                "{e}\nstdout: {:?}\nstderr: {}",
                self.lines.lock().expect("lines"),
                self.err.lock().expect("err")
            );
        }
        found.expect("a picked line once the wait succeeded")
    }

    /// Starts `cotty relay` on 127.0.0.1 with a free port and the host key at `key`, plus
    /// `extra` arguments, optionally under a tool (`wrap`, e.g. "valgrind --tool=massif").
    pub fn relay(key: &str, extra: &[&str], wrap: Option<&str>) -> Proc {
        Proc::relay_on("127.0.0.1:0", key, extra, wrap)
    }

    /// Like [`Proc::relay`], listening on `listen` (a relay started again on its old port).
    pub fn relay_on(listen: &str, key: &str, extra: &[&str], wrap: Option<&str>) -> Proc {
        Proc::relay_of(env!("CARGO_BIN_EXE_cotty"), listen, key, extra, wrap)
    }

    /// `cotty -F` dialing the relay on 127.0.0.1:`port`, trusting its key on first use into
    /// `dir`/known_relays, and sharing `sh` with a `$ ` prompt.
    pub fn headless_host(port: u16, dir: &std::path::Path) -> Proc {
        Proc::headless_host_with(port, dir, "$ ", &[])
    }

    /// Like [`Proc::headless_host`], with `prompt` as the shell's prompt (to tell hosts
    /// apart) and `extra` host flags (such as `-k KEY -n NAME`).
    pub fn headless_host_with(
        port: u16,
        dir: &std::path::Path,
        prompt: &str,
        extra: &[&str],
    ) -> Proc {
        let known = dir.join("known_relays").display().to_string();
        let relay_addr = format!("127.0.0.1:{port}");
        let shell = format!("PS1='{prompt}' exec sh");
        let mut args = vec!["-F", "--relay", &relay_addr, "--known-relays", &known];
        args.extend(extra);
        args.extend(["new-session", "sh", "-c", &shell]);
        Proc::cotty(&args)
    }

    /// Waits until a line of the process's stderr (a relay's log) has every one of `words`;
    /// the failure shows the whole log.
    pub fn wait_log(&self, words: &[&str]) {
        let res = super::wait::wait_until("a log line", super::env::WAIT, || {
            let err = self.err.lock().expect("err");
            err.lines().any(|l| words.iter().all(|w| l.contains(w)))
        });
        if let Err(e) = res {
            panic!(
                "{e} with {words:?}; log:\n{}",
                self.err.lock().expect("err")
            );
        }
    }

    /// Like [`Proc::relay_on`] with no extra arguments, once it listens: the relay, its port
    /// and its key's fingerprint.
    pub fn relay_listening(listen: &str, key: &str) -> (Proc, u16, String) {
        let relay = Proc::relay_on(listen, key, &[], None);
        let (port, fp) = relay.relay_address(super::env::WAIT);
        (relay, port, fp)
    }

    /// Like [`Proc::relay_on`], running `program` instead of the binary under test: another
    /// build of cotty, which the benches compare with this one.
    pub fn relay_of(
        program: &str,
        listen: &str,
        key: &str,
        extra: &[&str],
        wrap: Option<&str>,
    ) -> Proc {
        let mut args = vec!["relay", "--listen", listen, "--public-host", "127.0.0.1"];
        args.extend(["--host-key", key]);
        args.extend(extra);
        match wrap.map(|w| w.split_whitespace().collect::<Vec<_>>()) {
            Some(mut words) if !words.is_empty() => {
                words.push(program);
                words.extend(args);
                Proc::spawn(words[0], &words[1..])
            }
            _ => Proc::spawn(program, &args),
        }
    }

    /// For a `cotty relay` process: waits for its start lines and returns its port and key
    /// fingerprint.
    pub fn relay_address(&self, timeout: Duration) -> (u16, String) {
        let listening = self.line_within("cotty relay listening on", &[], timeout);
        let port = listening
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port in the listening line");
        let fp = self.line_within("host key fingerprint: SHA256:", &[], timeout);
        (
            port,
            fp.trim_start_matches("host key fingerprint: ").to_string(),
        )
    }

    /// Sends a signal, as `kill SIG PID` would.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(ok.success());
    }

    /// Waits for the process to exit; its exit code, or `None` if it still runs.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.wait_exit_within(WAIT)
    }

    /// Like [`Proc::wait_exit`], with its own time limit.
    pub fn wait_exit_within(&mut self, timeout: Duration) -> Option<i32> {
        let mut code = None;
        let _ = wait_until("process exit", timeout, || {
            code = self
                .child
                .try_wait()
                .ok()
                .flatten()
                .map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        code
    }
}

impl Proc {
    /// The process's resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("VmRSS in /proc status")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cotty -S SOCK ARGS…`, a control command against a running cotty, to its end.
pub fn ctl(sock: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cotty"))
        .arg("-S")
        .arg(sock)
        .args(args)
        .output()
        .expect("cotty runs")
}

/// What a command printed on stdout, without the last newline.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_string()
}

/// What a command printed on stderr.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}
