//! The plain-ssh step: the burst through OpenSSH alone, for the target that a burst reaches
//! a cotty guest's screen no later than it reaches a plain ssh session's.
//!
//! A private sshd runs on 127.0.0.1 with its own config, host key and authorized_keys in a
//! tempdir (`sshd -D -e -f CFG`), as the user running the bench. The client is the same stock
//! `ssh` in a 120x40 PTY as every guest. Skipped, saying so, when /usr/sbin/sshd is missing.

use crate::steps::{Row, enter_until, row, stock_ssh, type_burst};
use crate::timed::{TimedTerm, has_prompt, median};
use anyhow::{Context, Result, bail};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's openssh-server puts the daemon.
const SSHD: &str = "/usr/sbin/sshd";
const WAIT: Duration = Duration::from_secs(30);

/// A private sshd, stopped on drop.
struct Sshd {
    /// The daemon, in the foreground (`-D`).
    child: Child,
    /// Its port on 127.0.0.1.
    port: u16,
    /// Holds the config, both keys and authorized_keys.
    dir: tempfile::TempDir,
}

impl Sshd {
    /// Makes the keys and the config, starts the daemon and waits (up to 10 s) until it
    /// accepts connections.
    fn start() -> Result<Sshd> {
        let dir = tempfile::tempdir().context("failed to make the sshd's tempdir")?;
        let d = dir.path();
        for (key, what) in [("host_key", "host key"), ("client_key", "client key")] {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .stdout(Stdio::null())
                .status()
                .with_context(|| format!("failed to run ssh-keygen for the {what}"))?;
            if !ok.success() {
                bail!("ssh-keygen failed to make the {what}");
            }
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys"))
            .context("failed to write authorized_keys")?;
        // The daemon refuses to start without its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").context("failed to create /run/sshd")?;
        let port = free_port()?;
        let cfg = config(d, port);
        std::fs::write(d.join("sshd_config"), cfg).context("failed to write sshd_config")?;
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("failed to start sshd")?;
        let mut sshd = Sshd { child, port, dir };
        for _ in 0..500 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(sshd);
            }
            if let Ok(Some(status)) = sshd.child.try_wait() {
                bail!(
                    "sshd exited at start ({status}); run `{SSHD} -D -e -f CFG` by hand to see why"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("sshd did not listen on 127.0.0.1:{port} within 10 s")
    }

    /// A stock ssh client of this sshd in a 120x40 PTY, as the user running the bench (`$USER`,
    /// else root), running `command` there.
    fn client(&self, command: &str) -> TimedTerm {
        let key = self.dir.path().join("client_key").display().to_string();
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        let dest = format!("{user}@127.0.0.1");
        let opts = ["-i", &key, "-o", "IdentitiesOnly=yes"];
        stock_ssh(self.port, &opts, &dest, Some(command))
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The daemon's config: loopback only, keys only, everything in `dir`.
fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
         AuthorizedKeysFile {d}/authorized_keys\nPidFile none\nUsePAM no\nStrictModes no\n\
         PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPrintMotd no\n\
         PrintLastLog no\nLogLevel ERROR\n"
    )
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("failed to find a free port")?;
    Ok(l.local_addr().context("failed to read the port")?.port())
}

/// The burst through plain ssh, `runs` times each way: `ssh -t … 'seq …; echo MARK-42'` from
/// ssh's start (connection included), and the same command typed into an open session, from
/// Enter, as the burst step times a cotty guest. Also a plain ssh join, from ssh's start to
/// the prompt, as the join step times a cotty guest.
pub fn plain_ssh(bytes: usize, runs: usize) -> Vec<Row> {
    if !Path::new(SSHD).exists() {
        return vec![row(
            "plain ssh",
            format!("skipped: {SSHD} is missing (install openssh-server)"),
        )];
    }
    let sshd = match Sshd::start() {
        Ok(s) => s,
        Err(e) => return vec![row("plain ssh", format!("skipped: {e:#}"))],
    };
    let lines = bytes / 80;
    let mb = bytes as f64 / 1e6;
    let (mut connected, mut typed, mut wrote) = (vec![], vec![], vec![]);
    for run in 0..runs {
        let cmd = format!("seq -f '%079g' 1 {lines}; echo MARK{run}-42");
        let started = Instant::now();
        let mut client = sshd.client(&cmd);
        let marker = format!("MARK{run}-42");
        let seen = client
            .until(Duration::from_secs(300), |s| s.text().contains(&marker))
            .expect("the marker through plain ssh");
        connected.push(seen.duration_since(started).as_secs_f64());
    }
    // Joins, as the join step times a cotty guest: ssh start to the prompt on its screen.
    let shell = "env PS1='$ ' bash --norc --noprofile -i";
    let mut joins = vec![];
    for _ in 0..runs.max(5) {
        let started = Instant::now();
        let mut client = sshd.client(shell);
        let seen = client.until(WAIT, has_prompt).expect("a prompt over ssh");
        joins.push(seen.duration_since(started).as_secs_f64() * 1e3);
    }
    let join_runs = joins.len();
    let mut session = sshd.client(shell);
    session.until(WAIT, has_prompt).expect("a prompt over ssh");
    for run in 0..runs {
        let marker = type_burst(&mut session, bytes, run);
        let p0 = session.received;
        typed.push(enter_until(&mut session, &marker));
        wrote.push((session.received - p0) as f64);
    }
    vec![
        row(
            format!("plain ssh {mb:.0} MB: `ssh -t … 'seq …; echo MARK'` start to the marker"),
            format!(
                "{:.3} s (median of {runs}, connection included)",
                median(connected)
            ),
        ),
        row(
            format!("plain ssh {mb:.0} MB: typed in an open session, Enter to the marker"),
            format!("{:.3} s (median of {runs})", median(typed)),
        ),
        row(
            "plain ssh: ssh start to the prompt on its screen (a join)",
            format!("{:.1} ms (median of {join_runs})", median(joins)),
        ),
        row(
            "plain ssh: bytes ssh wrote to its terminal",
            format!("{:.0} KB", median(wrote) / 1e3),
        ),
    ]
}
