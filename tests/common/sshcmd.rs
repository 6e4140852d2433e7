//! A stock `ssh` run once, without a terminal, as a person runs a command with it: for
//! refusals and for `approve-web CODE`. Guests in a terminal are [`super::guest`].

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The public key line of the key pair at `key`, with `comment` in place of its own.
pub fn pub_line(key: &Path, comment: &str) -> String {
    let text = std::fs::read_to_string(key.with_extension("pub")).expect("reads the .pub file");
    let mut words = text.split_whitespace();
    let (kind, body) = (words.next().expect("type"), words.next().expect("key"));
    format!("{kind} {body} {comment}")
}

/// Runs a stock `ssh` to `user` as a person would, at its default log level and without a
/// terminal, offering `key` (or no key at all), and returns how it ended.
pub fn ssh_once(port: u16, user: &str, key: Option<&Path>) -> Output {
    ssh_run(port, user, key, &[])
}

/// Like [`ssh_once`], running the remote command `cmd`.
pub fn ssh_run(port: u16, user: &str, key: Option<&Path>, cmd: &[&str]) -> Output {
    ssh_from(None, port, user, key, cmd)
}

/// Like [`ssh_run`], connecting from the local address `bind` (`ssh -b`) when given.
pub fn ssh_from(
    bind: Option<&str>,
    port: u16,
    user: &str,
    key: Option<&Path>,
    cmd: &[&str],
) -> Output {
    let remote = cmd;
    let mut cmd = Command::new("ssh");
    cmd.args(["-p", &port.to_string(), "-F", "/dev/null"]);
    if let Some(addr) = bind {
        cmd.args(["-b", addr]);
    }
    for opt in [
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "ConnectTimeout=10",
        "PasswordAuthentication=no",
    ] {
        cmd.args(["-o", opt]);
    }
    match key {
        Some(k) => cmd.arg("-i").arg(k).args(["-o", "IdentitiesOnly=yes"]),
        None => cmd.args(["-o", "PubkeyAuthentication=no"]),
    };
    cmd.arg(format!("{user}@127.0.0.1"))
        .args(remote)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .expect("ssh runs")
}
