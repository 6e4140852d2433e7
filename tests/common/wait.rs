//! Bounded polling waits and throwaway SSH keys for the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often [`wait_until`] re-checks its condition.
const POLL: Duration = Duration::from_millis(10);

/// Polls `f` every 10 ms until it returns true or `timeout` has passed.
///
/// The condition is always checked at least once, and once more at the deadline, so a
/// zero timeout still succeeds when the condition already holds. The error names `what`
/// so that a failing test says what it was waiting for.
pub fn wait_until<F: FnMut() -> bool>(
    what: &str,
    timeout: Duration,
    mut f: F,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        thread::sleep(POLL.min(deadline - now));
    }
}

/// Creates an unencrypted ed25519 key pair `dir/NAME` and `dir/NAME.pub` with comment
/// `name`, and returns the path of the private key.
///
/// Panics with the tool's stderr if `ssh-keygen` is missing or fails, since no test that
/// asks for a key can go on without one.
pub fn ssh_keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .expect("failed to run ssh-keygen; install openssh-client");
    assert!(
        out.status.success(),
        "ssh-keygen failed for {}: {}\n{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The SHA256 fingerprint of the key at `key` (`SHA256:…`), as `ssh-keygen -l` prints it and
/// the host's log names a guest's key.
pub fn key_fingerprint(key: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(key)
        .output()
        .expect("failed to run ssh-keygen -l; install openssh-client");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("a fingerprint in ssh-keygen's output")
        .to_string()
}
