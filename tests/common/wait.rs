//! Bounded polling waits, and throwaway SSH keys and TLS certificates, for the integration
//! tests.

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

/// The SHA256 fingerprint of the key at `path` (private or public), as `ssh -v` and the
/// host's log print it: `SHA256:…`.
pub fn key_fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(path)
        .output()
        .expect("failed to run ssh-keygen -l; install openssh-client");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no fingerprint for {}", path.display()))
        .to_string()
}

/// Makes a self-signed certificate for localhost with the system's openssl; `None` (and a
/// line saying so) when openssl is not installed, outside CI. CI installs Debian's `openssl`,
/// so there the test fails instead of skipping.
pub fn self_signed(dir: &Path) -> Option<(String, String)> {
    let cert = dir.join("c.pem").display().to_string();
    let key = dir.join("k.pem").display().to_string();
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args([
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-days", "1", "-keyout", &key, "-out", &cert])
        .output();
    match made {
        Ok(out) if out.status.success() => Some((cert, key)),
        Ok(out) => panic!("openssl failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("the TLS test needs openssl (Debian package `openssl`), which CI installs: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: the TLS test needs openssl (Debian package `openssl`): {e}");
            None
        }
    }
}
