//! A pane: a program in a PTY and the terminal model of its screen ([`Screen`]).
//!
//! The screen answers the program's queries (`CSI 6n`, `CSI c`); the pane writes the answers
//! back, or a program that asks would wait forever.

use crate::core::pty::{CommandSpec, Pty, PtyError, PtyEvent};
use crate::core::term::{Feedback, Screen};
use crate::core::types::{PaneId, Size};
use std::time::Instant;
use tokio::sync::mpsc;

/// Rows of scrollback the host keeps per pane.
pub const SCROLLBACK: usize = 2000;

/// A program in a PTY together with its screen model.
pub struct Pane {
    /// The pane's id within the session.
    id: PaneId,
    /// What to run, kept to respawn it.
    cmd: CommandSpec,
    /// The running program; `None` between an exit and the respawn.
    pty: Option<Pty>,
    /// The screen as the program drew it.
    screen: Screen,
    /// Counts spawns, so stale events of an earlier program are recognised.
    generation: u64,
    /// Where the PTY threads send their events.
    events: mpsc::Sender<PtyEvent>,
}

impl Pane {
    /// Starts `cmd` in a new pane of `size`.
    pub fn spawn(
        id: PaneId,
        cmd: CommandSpec,
        size: Size,
        events: mpsc::Sender<PtyEvent>,
    ) -> Result<Pane, PtyError> {
        let mut pane = Pane {
            id,
            cmd,
            pty: None,
            screen: Screen::new(size, SCROLLBACK),
            generation: 0,
            events,
        };
        pane.respawn()?;
        Ok(pane)
    }

    /// Starts the program again after it exited, on a clean screen of the same size.
    pub fn respawn(&mut self) -> Result<(), PtyError> {
        self.generation += 1;
        let size = self.size();
        self.pty = None;
        self.screen = Screen::new(size, SCROLLBACK);
        let pty = Pty::spawn(&self.cmd, size, self.generation, self.events.clone())?;
        self.pty = Some(pty);
        Ok(())
    }

    /// The pane's id.
    pub fn id(&self) -> PaneId {
        self.id
    }

    /// The generation of the current program (see [`PtyEvent`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Forgets the program after it exited.
    pub fn mark_exited(&mut self) {
        self.pty = None;
    }

    /// The pane's size.
    pub fn size(&self) -> Size {
        self.screen.size()
    }

    /// The current screen.
    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    /// Parses output of the program and answers any terminal queries in it.
    pub fn process(&mut self, bytes: &[u8]) -> Feedback {
        let mut feedback = self.screen.feed(bytes);
        let replies = std::mem::take(&mut feedback.replies);
        if !replies.is_empty() {
            // A reply the program cannot take now is of no use later; drop it quietly.
            let _ = self.write(replies);
        }
        feedback
    }

    /// When a synchronized update the program left open must be ended (see [`Screen`]).
    pub fn sync_deadline(&self) -> Option<Instant> {
        self.screen.sync_deadline()
    }

    /// Ends an overdue synchronized update; returns whether the screen changed.
    pub fn end_overdue_sync(&mut self, now: Instant) -> bool {
        self.screen.end_overdue_sync(now)
    }

    /// Sends bytes to the program's input.
    pub fn write(&self, bytes: Vec<u8>) -> Result<(), PtyError> {
        match &self.pty {
            Some(pty) => pty.write(bytes),
            None => Err(PtyError::Closed),
        }
    }

    /// Resizes the PTY and the screen model together. Returns whether the size changed.
    pub fn resize(&mut self, size: Size) -> Result<bool, PtyError> {
        let size = size.at_least_one();
        if size == self.size() {
            return Ok(false);
        }
        if let Some(pty) = &mut self.pty {
            pty.resize(size)?;
        }
        self.screen.resize(size);
        Ok(true)
    }
}
