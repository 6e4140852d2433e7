//! `cotty new-session -d`: a headless host started in the background, as tmate's
//! `new-session -d` starts its server and returns, so that a script can go on with
//! `cotty -S PATH wait tmate-ready` and `display -p '#{ssh}'`.
//!
//! The same binary is started again with the same arguments and [`DETACHED_ENV`] set, which
//! makes it the headless host itself. It runs in a process group of its own, so the
//! terminal's Ctrl-C does not reach it, with its standard streams on /dev/null: like `-F`
//! without the output lines. The caller returns once its control socket answers.

use crate::control::server;
use crate::control::socket::{self, answers};
use anyhow::{Context, Result, bail};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the background copy's environment; never passed on to the shared program.
pub const DETACHED_ENV: &str = "COTTY_DETACHED_HOST";
/// How long the caller waits for the background host's control socket.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Whether this process is the background copy that `new-session -d` started.
pub fn is_detached_copy() -> bool {
    std::env::var_os(DETACHED_ENV).is_some()
}

/// Starts the headless host in the background and waits until its control socket at
/// `socket` (or the default path, or the per-process one next to it when another cotty has
/// the default) answers.
pub fn start(socket: Option<&Path>) -> Result<()> {
    let exe = std::env::current_exe()
        .context("failed to find the cotty binary to start in the background")?;
    // The default is taken by a live cotty: the copy will use the per-process path.
    let default_taken = socket.is_none() && answers(&server::default_path());
    let mut child = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(DETACHED_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .with_context(|| format!("failed to start {} in the background", exe.display()))?;
    let path: PathBuf = match socket {
        Some(p) => p.to_path_buf(),
        None if default_taken => socket::per_process_path(&server::default_path(), child.id()),
        None => server::default_path(),
    };
    let deadline = Instant::now() + READY_WITHIN;
    while Instant::now() < deadline {
        if answers(&path) {
            if default_taken {
                eprintln!(
                    "another cotty has the default control socket; this session's is {}: \
                     pass -S {} to the commands for it",
                    path.display(),
                    path.display()
                );
            }
            return Ok(());
        }
        if let Some(status) = child
            .try_wait()
            .context("failed to watch the background host")?
        {
            bail!(
                "the background session ended at once ({status}); run the same command with \
                 -F instead of -d to see why"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    bail!(
        "the background session did not open its control socket {} within {READY_WITHIN:?}; \
         run the same command with -F instead of -d to see why",
        path.display()
    )
}
