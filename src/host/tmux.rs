//! `cotty --tmux [SESSION]`: share a tmux session that already runs, with its windows and
//! splits, by running `tmux attach-session` as the shared program.
//!
//! The shared program never gets the host's `TMUX` (see `core::pty`), so that attaching is
//! not refused as nesting; the server is named explicitly instead: the socket in `TMUX` when
//! cotty runs inside that tmux, else tmux's default one. The session must exist before the
//! host starts, or the headless host would start `tmux attach` again and again.

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long `tmux has-session` may take.
const CHECK_WITHIN: Duration = Duration::from_secs(5);

/// The program and arguments that attach to `session` (the most recent one when empty) on
/// the tmux server of `tmux_env` (the `TMUX` variable: `SOCKET,PID,INDEX`) or the default
/// server, after checking that the session exists.
pub fn attach_argv(session: &str, tmux_env: Option<&str>) -> Result<Vec<String>> {
    let mut base = vec!["tmux".to_string()];
    if let Some(socket) = tmux_env
        .and_then(|v| v.split(',').next())
        .filter(|s| !s.is_empty())
    {
        base.extend(["-S".to_string(), socket.to_string()]);
    }
    let target: Vec<String> = match session {
        "" => vec![],
        s => vec!["-t".to_string(), s.to_string()],
    };
    let mut check = base.clone();
    check.push("has-session".to_string());
    check.extend(target.iter().cloned());
    let (status, _) = run_bounded(&check, CHECK_WITHIN)
        .context("--tmux needs tmux: install it, or leave out --tmux")?;
    if !status.success() {
        let which = match session {
            "" => "no tmux session runs".to_string(),
            s => format!("there is no tmux session {s:?}"),
        };
        bail!(
            "{which} to share with --tmux; `tmux ls` lists the sessions, and `tmux new -s NAME` \
             starts one"
        );
    }
    let mut argv = base;
    argv.push("attach-session".to_string());
    argv.extend(target);
    Ok(argv)
}

/// Runs `argv` (tmux and its arguments) with no input and waits at most `within`; returns
/// its exit status and what it printed on stdout. A tmux that does not answer is killed.
pub fn run_bounded(argv: &[String], within: Duration) -> Result<(ExitStatus, String)> {
    let (program, args) = argv.split_first().context("no program to run")?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("failed to run {program}"))?;
    let deadline = Instant::now() + within;
    let status = loop {
        if let Some(status) = child.try_wait().context("failed to wait for tmux")? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`{}` did not answer within {within:?}", argv.join(" "));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut out)
            .context("failed to read tmux's answer")?;
    }
    Ok((status, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_session_is_refused_with_what_to_do() {
        // A server socket that does not exist: tmux says there is no such server.
        let dir = tempfile::tempdir().expect("tempdir");
        let env = format!("{},1,0", dir.path().join("none.sock").display());
        let err = attach_argv("pair", Some(&env)).expect_err("no server, no session");
        let text = err.to_string();
        assert!(
            text.contains("there is no tmux session \"pair\"") && text.contains("tmux ls"),
            "{text}"
        );
    }
}
