//! Drives a stock OpenSSH `ssh` client inside a pseudo-terminal and reads its screen through
//! cotty's own terminal model (`core::term`), the emulator the host uses.

use std::io::{ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use cotty::core::term::{Screen, ScreenState};
use cotty::core::types::Size;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::wait::wait_until;

/// Lines of scrollback the guest's terminal model keeps, enough to read back a short session.
const SCROLLBACK: usize = 1000;

/// How the guest's terminal and `ssh` command line are set up.
#[derive(Debug, Clone)]
pub struct GuestOptions {
    /// Width of the guest's terminal in columns.
    pub cols: u16,
    /// Height of the guest's terminal in rows.
    pub rows: u16,
    /// Private key to log in with; `None` turns public-key authentication off.
    pub identity: Option<PathBuf>,
    /// Arguments appended after `USER@127.0.0.1`, such as a remote command.
    pub extra_args: Vec<String>,
    /// The local address `ssh` connects from (`-b`), such as `127.0.0.2`; `None` lets the
    /// system choose (127.0.0.1 on loopback).
    pub bind: Option<String>,
}

impl Default for GuestOptions {
    /// An 80x25 terminal, no key, no extra arguments, and the system's source address.
    fn default() -> Self {
        GuestOptions {
            cols: 80,
            rows: 25,
            identity: None,
            extra_args: Vec::new(),
            bind: None,
        }
    }
}

/// The arguments of the guest's `ssh`, documented at [`SshGuest::spawn`]: shared with the
/// guest that runs inside tmux, so both log in the same way.
pub fn ssh_args(port: u16, user: &str, opts: &GuestOptions) -> Vec<String> {
    let mut args: Vec<String> = ["-tt", "-p", &port.to_string(), "-F", "/dev/null"]
        .map(String::from)
        .into();
    for opt in [
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "GlobalKnownHostsFile=/dev/null",
        "LogLevel=ERROR",
        "ConnectTimeout=10",
        "ServerAliveInterval=0",
        "BatchMode=no",
        "KbdInteractiveAuthentication=yes",
        "PasswordAuthentication=no",
    ] {
        args.extend(["-o".to_string(), opt.to_string()]);
    }
    match &opts.identity {
        Some(key) => args.extend([
            "-i".to_string(),
            key.display().to_string(),
            "-o".to_string(),
            "IdentitiesOnly=yes".to_string(),
        ]),
        None => args.extend(["-o".to_string(), "PubkeyAuthentication=no".to_string()]),
    }
    if let Some(addr) = &opts.bind {
        args.extend(["-b".to_string(), addr.clone()]);
    }
    args.push(format!("{user}@127.0.0.1"));
    args.extend(opts.extra_args.iter().cloned());
    args
}

/// A stock `ssh` client running in a PTY, as a person at a terminal would run it.
///
/// A reader thread feeds everything `ssh` writes into a terminal model, so tests assert on the
/// screen the guest would see. Dropping the guest kills `ssh`.
pub struct SshGuest {
    /// The guest's screen; shared with the reader thread, which is the only writer of bytes.
    /// Held only for one parse or one look, never while waiting.
    parser: Arc<Mutex<Screen>>,
    /// Bytes read from the PTY so far, so a test can tell that nothing more arrived.
    raw_len: Arc<AtomicUsize>,
    /// The PTY master's input side: what the guest types. `take_writer` works only once.
    writer: Mutex<Box<dyn Write + Send>>,
    /// The PTY master, kept to resize it. `MasterPty` is not `Sync`, hence the lock.
    master: Mutex<Box<dyn MasterPty + Send>>,
    /// The `ssh` process, to poll its exit and kill it on drop.
    child: Box<dyn Child + Send + Sync>,
    /// The exit code once seen, so later calls do not depend on the child being reaped twice.
    exit_code: Option<u32>,
}

impl SshGuest {
    /// Runs `ssh -tt -p PORT -F /dev/null -o StrictHostKeyChecking=no
    /// -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR
    /// -o ConnectTimeout=10 -o ServerAliveInterval=0 -o BatchMode=no
    /// -o KbdInteractiveAuthentication=yes -o PasswordAuthentication=no
    /// [-i IDENTITY -o IdentitiesOnly=yes | -o PubkeyAuthentication=no] [-b BIND]
    /// USER@127.0.0.1 [EXTRA...]`
    /// in a PTY of the given size with `TERM=xterm-256color`.
    ///
    /// `-F /dev/null` and the known-hosts options keep the user's and the system's ssh
    /// configuration out of the test, and `SSH_AUTH_SOCK` is removed so that no agent key is
    /// offered. Panics if the PTY cannot be opened or `ssh` cannot be started.
    pub fn spawn(port: u16, user: &str, opts: GuestOptions) -> SshGuest {
        let pair = native_pty_system()
            .openpty(pty_size(opts.cols, opts.rows))
            .expect("failed to open a pseudo-terminal for ssh");

        let mut cmd = CommandBuilder::new("ssh");
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SSH_AUTH_SOCK");
        cmd.args(ssh_args(port, user, &opts));

        let child = pair
            .slave
            .spawn_command(cmd)
            .expect("failed to start ssh; install openssh-client");
        // The reader sees EOF only once every slave descriptor is closed, ours included.
        drop(pair.slave);

        let reader = pair
            .master
            .try_clone_reader()
            .expect("failed to clone the PTY reader");
        let writer = pair
            .master
            .take_writer()
            .expect("failed to take the PTY writer");

        let parser = Arc::new(Mutex::new(Screen::new(
            Size::new(opts.cols, opts.rows),
            SCROLLBACK,
        )));
        let raw_len = Arc::new(AtomicUsize::new(0));
        thread::Builder::new()
            .name("ssh-guest-reader".into())
            .spawn({
                let parser = Arc::clone(&parser);
                let raw_len = Arc::clone(&raw_len);
                move || read_loop(reader, &parser, &raw_len)
            })
            .expect("failed to start the PTY reader thread");

        SshGuest {
            parser,
            raw_len,
            writer: Mutex::new(writer),
            master: Mutex::new(pair.master),
            child,
            exit_code: None,
        }
    }

    /// Returns a copy of the guest's screen as it is now.
    pub fn screen(&self) -> ScreenState {
        self.parser().export(None)
    }

    /// Returns the text on the guest's screen, rows separated by newlines.
    pub fn text(&self) -> String {
        self.parser().export(None).text()
    }

    /// Returns how many bytes `ssh` has written to its terminal so far.
    pub fn raw_output_len(&self) -> usize {
        self.raw_len.load(Ordering::SeqCst)
    }

    /// Writes `bytes` to `ssh`'s terminal, as if typed or pasted by the guest.
    pub fn send(&self, bytes: &[u8]) {
        let mut writer = self.writer.lock().expect("PTY writer lock poisoned");
        writer
            .write_all(bytes)
            .and_then(|()| writer.flush())
            .expect("failed to write to ssh's terminal");
    }

    /// Types `s` into `ssh`'s terminal; `\r` is Enter.
    pub fn type_str(&self, s: &str) {
        self.send(s.as_bytes());
    }

    /// Resizes the guest's terminal; `ssh` sees SIGWINCH and sends a window-change request.
    ///
    /// The terminal model is resized first, so output drawn for the new size is parsed at it.
    pub fn resize(&self, cols: u16, rows: u16) {
        self.parser().resize(Size::new(cols, rows));
        self.master
            .lock()
            .expect("PTY master lock poisoned")
            .resize(pty_size(cols, rows))
            .expect("failed to resize ssh's terminal");
    }

    /// Waits until `needle` appears on the guest's screen.
    ///
    /// The error holds the screen as it was at the deadline, for the failure message.
    pub fn wait_for_text(&self, needle: &str, timeout: Duration) -> Result<(), String> {
        self.wait_for(&format!("{needle:?} on the screen"), timeout, |screen| {
            screen.text().contains(needle)
        })
    }

    /// Waits until `f` holds for the guest's screen; `what` names the condition in the error.
    ///
    /// The error holds the screen as it was at the deadline, for the failure message.
    pub fn wait_for<F: Fn(&ScreenState) -> bool>(
        &self,
        what: &str,
        timeout: Duration,
        f: F,
    ) -> Result<(), String> {
        wait_until(what, timeout, || f(&self.screen())).map_err(|err| {
            format!(
                "{err}\n--- guest screen ({} bytes received) ---\n{}\n---",
                self.raw_output_len(),
                self.text()
            )
        })
    }

    /// Waits for `ssh` to exit and returns its exit code, or `None` if it still runs after
    /// `timeout`. A process killed by a signal reports 1.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<u32> {
        // The result is read from `exit_code`; the error only says the deadline passed.
        let _ = wait_until("ssh to exit", timeout, || !self.is_running());
        self.exit_code
    }

    /// The `ssh` process's PID, to stop it (SIGSTOP) as a guest that stops reading.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("ssh has a PID")
    }

    /// Returns whether `ssh` is still running.
    pub fn is_running(&mut self) -> bool {
        if self.exit_code.is_none() {
            let status = self
                .child
                .try_wait()
                .expect("failed to poll the ssh process");
            self.exit_code = status.map(|s| s.exit_code());
        }
        self.exit_code.is_none()
    }

    /// Locks the terminal model. A panic in the reader thread must not hide the screen from
    /// the failure message, so a poisoned lock is still used.
    fn parser(&self) -> MutexGuard<'_, Screen> {
        self.parser.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for SshGuest {
    /// Kills `ssh` if it still runs and reaps it, so no test leaves a process behind.
    fn drop(&mut self) {
        if self.is_running() {
            // Errors here mean the process is already gone, which is what we want.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Feeds everything `ssh` writes into the terminal model until the PTY closes.
///
/// On Linux a read from the master fails with EIO once the child has exited and the last
/// slave descriptor is closed; that, like EOF, ends the loop.
fn read_loop(mut reader: Box<dyn Read + Send>, parser: &Mutex<Screen>, raw_len: &AtomicUsize) {
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                parser
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .feed(&buf[..n]);
                // Counted after parsing, so a test that sees the count also sees the text.
                raw_len.fetch_add(n, Ordering::SeqCst);
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Builds a `PtySize` without pixel dimensions, which `ssh` passes on as zero.
fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}
