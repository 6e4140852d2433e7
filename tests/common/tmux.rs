//! A private tmux server in a scratch directory, driven as a person would: send-keys in,
//! capture-pane out.

use super::wait::wait_until;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A private tmux server with one window, by default running `bash --norc --noprofile` with
/// `$ ` as prompt.
pub struct Tmux {
    /// The server's socket, inside the test's directory.
    socket: PathBuf,
}

impl Tmux {
    /// Starts a server of `cols`x`rows` with the settings in `conf`. Its environment puts
    /// cotty's config, data and runtime directories under `dir`.
    pub fn start(dir: &Path, cols: u16, rows: u16, conf: &str) -> Tmux {
        Tmux::start_command(dir, cols, rows, conf, &["bash", "--norc", "--noprofile"])
    }

    /// As [`Tmux::start`], with the window running `command` (program and arguments, not
    /// through a shell) instead of bash, for tests that play bytes to tmux's terminal.
    pub fn start_command(dir: &Path, cols: u16, rows: u16, conf: &str, command: &[&str]) -> Tmux {
        let conf_path = dir.join("tmux.conf");
        std::fs::write(&conf_path, conf).expect("tmux.conf");
        for sub in ["config", "data", "runtime"] {
            std::fs::create_dir_all(dir.join(sub)).expect("xdg dir");
        }
        let socket = dir.join("tmux.sock");
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&conf_path)
            .args([
                "new-session",
                "-d",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .args(command)
            .env("PS1", "$ ")
            .env("HISTFILE", "/dev/null")
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_RUNTIME_DIR", dir.join("runtime"))
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .expect("failed to run tmux; install tmux");
        assert!(
            out.status.success(),
            "tmux failed to start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { socket }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs")
    }

    /// Runs a tmux command on this server, such as `set -g set-clipboard off`.
    pub fn command(&self, args: &[&str]) {
        let out = self.run(args);
        assert!(out.status.success(), "tmux {args:?} failed");
    }

    /// Sends tmux key names (`C-b`, `Enter`, `Tab`, `m`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?} failed");
    }

    /// Types `text` literally.
    pub fn type_str(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "0", "-l", text]);
        assert!(out.status.success(), "send-keys -l failed");
    }

    /// Sends `bytes` as they are (`send-keys -H`), as a terminal sends a report it makes
    /// itself, such as a mouse click.
    pub fn bytes(&self, bytes: &[u8]) {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut args = vec!["send-keys", "-t", "0", "-H"];
        args.extend(hex.iter().map(String::as_str));
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys -H failed");
    }

    /// Pastes `text` as a person pastes into the pane: bracketed when the program in it (for
    /// a guest: the shared program, passed on by cotty) turned bracketed paste on.
    pub fn paste(&self, text: &str) {
        let out = self.run(&["set-buffer", "--", text]);
        assert!(out.status.success(), "set-buffer failed");
        let out = self.run(&["paste-buffer", "-p", "-d", "-t", "0"]);
        assert!(out.status.success(), "paste-buffer failed");
    }

    /// The pane's visible text.
    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into()
    }

    /// The pane's visible lines with their styles as SGR sequences (`capture-pane -e`), and
    /// trailing blanks kept (`-N`), so the cells can be compared and not just the text.
    pub fn capture_styled(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-e", "-N", "-t", "0"]);
        assert!(out.status.success(), "capture-pane -e failed");
        String::from_utf8_lossy(&out.stdout).into()
    }

    /// The newest paste buffer, if any.
    pub fn buffer(&self) -> Option<String> {
        let out = self.run(&["show-buffer"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into())
    }

    /// A tmux format about the pane, such as `#{alternate_on}`.
    pub fn format(&self, fmt: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "0", fmt]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the pane's text satisfies `f`; the error shows the pane.
    pub fn wait_for(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) {
        if let Err(e) = wait_until(what, timeout, || f(&self.capture())) {
            panic!("{e}; the pane shows:\n{}", self.capture());
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
