//! Spawns a program in a PTY and bridges it to async code with two threads and bounded queues.
//!
//! The reader thread sends output chunks, then the exit status, on one bounded queue, so the
//! session sees every byte before it hears that the program ended. The writer thread takes
//! input from its own bounded queue, so a program that stops reading never blocks the session.

use crate::core::types::Size;
use portable_pty::{ChildKiller, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use thiserror::Error;
use tokio::sync::mpsc;

/// How many input chunks may wait for a program that is not reading its terminal.
const INPUT_QUEUE: usize = 1024;
/// Bytes read from the PTY at once.
const READ_CHUNK: usize = 64 * 1024;

/// What can go wrong with a PTY.
#[derive(Debug, Error)]
pub enum PtyError {
    /// The system could not open a PTY pair.
    #[error("failed to open a pseudo-terminal: {0}")]
    Open(String),
    /// The program could not be started.
    #[error("failed to start {program:?}: {reason}; check that it exists and is executable")]
    Spawn {
        /// The program we tried to run.
        program: String,
        /// Why it failed.
        reason: String,
    },
    /// Resizing failed.
    #[error("failed to resize the pseudo-terminal: {0}")]
    Resize(String),
    /// The program stopped reading its input and the input queue is full.
    #[error("input dropped: the program has not read its terminal for a while")]
    InputFull,
    /// The writer thread has ended (the program exited).
    #[error("input dropped: the program has exited")]
    Closed,
}

/// The program to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The program and its arguments. Empty means the user's `$SHELL`, or `/bin/sh`.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl CommandSpec {
    /// The user's shell.
    pub fn shell() -> Self {
        CommandSpec {
            argv: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The program that will actually run: argv, or `$SHELL`, or `/bin/sh`.
    pub fn resolved_argv(&self) -> Vec<String> {
        if self.argv.is_empty() {
            let shell = std::env::var("SHELL")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/bin/sh".to_string());
            vec![shell]
        } else {
            self.argv.clone()
        }
    }
}

/// What the PTY threads report.
#[derive(Debug)]
pub enum PtyEvent {
    /// Bytes the program wrote.
    Output {
        /// Which spawn of the program this came from; see [`Pty::generation`].
        generation: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The program exited; no more output follows from this generation.
    Exited {
        /// Which spawn ended.
        generation: u64,
        /// The exit code, if the program exited normally.
        code: Option<u32>,
    },
}

/// Variables of the host's own terminal that must not reach the shared program. With `TMUX`
/// (or screen's `STY`) set, a guest who types `tmux new` or `tmux kill-server` in the shared
/// shell would act on the host's own tmux server, the one cotty may run in; `TERM_PROGRAM`
/// names the host's terminal, which guests do not have.
pub const HOST_ONLY_ENV: &[&str] = &[
    "TMUX",
    "TMUX_PANE",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "STY",
    crate::host::detach::DETACHED_ENV,
];

/// A running program in a PTY. Dropping it hangs up the program.
pub struct Pty {
    /// Kept to resize the terminal; only the session actor touches it.
    master: Box<dyn MasterPty + Send>,
    /// Input for the writer thread.
    input: SyncSender<Vec<u8>>,
    /// Ends the program when the pty is dropped.
    killer: Box<dyn ChildKiller + Send + Sync>,
    /// The current size, to skip no-op resizes.
    size: Size,
}

impl Pty {
    /// Starts `cmd` in a new PTY of `size`. Events go to `events`, tagged with `generation`.
    pub fn spawn(
        cmd: &CommandSpec,
        size: Size,
        generation: u64,
        events: mpsc::Sender<PtyEvent>,
    ) -> Result<Pty, PtyError> {
        let size = size.at_least_one();
        let pair = native_pty_system()
            .openpty(pty_size(size))
            .map_err(|e| PtyError::Open(e.to_string()))?;
        let argv = cmd.resolved_argv();
        let mut builder = CommandBuilder::new(&argv[0]);
        builder.args(&argv[1..]);
        for name in HOST_ONLY_ENV {
            builder.env_remove(name);
        }
        builder.env("TERM", "xterm-256color");
        builder.env("COLORTERM", "truecolor");
        builder.env("COTTY", "1");
        for (k, v) in &cmd.env {
            builder.env(k, v);
        }
        if let Ok(dir) = std::env::current_dir() {
            builder.cwd(dir);
        }
        let mut child = pair
            .slave
            .spawn_command(builder)
            .map_err(|e| PtyError::Spawn {
                program: argv[0].clone(),
                reason: e.to_string(),
            })?;
        // Our copy of the slave must go, or the reader never sees EOF.
        drop(pair.slave);
        let killer = child.clone_killer();
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| PtyError::Open(e.to_string()))?;
        let mut writer = pair
            .master
            .take_writer()
            .map_err(|e| PtyError::Open(e.to_string()))?;

        let (input, input_rx) = sync_channel::<Vec<u8>>(INPUT_QUEUE);
        std::thread::Builder::new()
            .name("pty-writer".into())
            .spawn(move || {
                while let Ok(bytes) = input_rx.recv() {
                    if writer
                        .write_all(&bytes)
                        .and_then(|_| writer.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            })
            .map_err(|e| PtyError::Open(e.to_string()))?;

        std::thread::Builder::new()
            .name("pty-reader".into())
            .spawn(move || {
                let mut buf = vec![0u8; READ_CHUNK];
                loop {
                    match reader.read(&mut buf) {
                        // EOF, or EIO on Linux once the program has exited.
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let ev = PtyEvent::Output {
                                generation,
                                bytes: buf[..n].to_vec(),
                            };
                            if events.blocking_send(ev).is_err() {
                                break;
                            }
                        }
                    }
                }
                let code = child.wait().ok().map(|s| s.exit_code());
                let _ = events.blocking_send(PtyEvent::Exited { generation, code });
            })
            .map_err(|e| PtyError::Open(e.to_string()))?;

        Ok(Pty {
            master: pair.master,
            input,
            killer,
            size,
        })
    }

    /// Queues bytes for the program's input without blocking.
    pub fn write(&self, bytes: Vec<u8>) -> Result<(), PtyError> {
        self.input.try_send(bytes).map_err(|e| match e {
            TrySendError::Full(_) => PtyError::InputFull,
            TrySendError::Disconnected(_) => PtyError::Closed,
        })
    }

    /// Resizes the terminal; the program gets SIGWINCH.
    pub fn resize(&mut self, size: Size) -> Result<(), PtyError> {
        let size = size.at_least_one();
        if size == self.size {
            return Ok(());
        }
        self.master
            .resize(pty_size(size))
            .map_err(|e| PtyError::Resize(e.to_string()))?;
        self.size = size;
        Ok(())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // The program may have exited already; then there is nothing to kill.
        let _ = self.killer.kill();
    }
}

fn pty_size(size: Size) -> PtySize {
    PtySize {
        rows: size.rows,
        cols: size.cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn collect_until_exit(rx: &mut mpsc::Receiver<PtyEvent>) -> (String, Option<u32>) {
        let mut out = Vec::new();
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("pty event within 10s")
                .expect("pty channel open");
            match ev {
                PtyEvent::Output { bytes, .. } => out.extend(bytes),
                PtyEvent::Exited { code, .. } => {
                    return (String::from_utf8_lossy(&out).into_owned(), code);
                }
            }
        }
    }

    #[tokio::test]
    async fn runs_a_program_and_reports_its_exit() {
        let (tx, mut rx) = mpsc::channel(16);
        let cmd = CommandSpec {
            argv: vec!["sh".into(), "-c".into(), "stty size; exit 3".into()],
            env: vec![],
        };
        let _pty = Pty::spawn(&cmd, Size::new(100, 30), 7, tx).expect("spawn");
        let (out, code) = collect_until_exit(&mut rx).await;
        assert!(out.contains("30 100"), "stty size printed {out:?}");
        assert_eq!(code, Some(3));
    }

    #[tokio::test]
    async fn input_reaches_the_program() {
        let (tx, mut rx) = mpsc::channel(16);
        let cmd = CommandSpec {
            argv: vec!["sh".into(), "-c".into(), "read l; echo got-$l".into()],
            env: vec![],
        };
        let pty = Pty::spawn(&cmd, Size::DEFAULT, 1, tx).expect("spawn");
        pty.write(b"abc\r".to_vec()).expect("write");
        let (out, _) = collect_until_exit(&mut rx).await;
        assert!(out.contains("got-abc"), "{out:?}");
    }

    #[test]
    fn a_missing_program_is_named() {
        let (tx, _rx) = mpsc::channel(16);
        let cmd = CommandSpec {
            argv: vec!["/nonexistent/prog".into()],
            env: vec![],
        };
        let err = Pty::spawn(&cmd, Size::DEFAULT, 1, tx)
            .err()
            .expect("spawn fails");
        assert!(err.to_string().contains("/nonexistent/prog"), "{err}");
    }
}
