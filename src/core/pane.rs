//! A pane: a program in a PTY and the vt100 model of its screen.
//!
//! vt100 leaves terminal queries unanswered; a program that asks where the cursor is (`CSI 6n`)
//! or what the terminal is (`CSI c`) would wait forever. [`Replies`] collects the answers while
//! parsing, and the pane writes them back to the program.

use crate::core::pty::{CommandSpec, Pty, PtyError, PtyEvent};
use crate::core::types::{PaneId, Size};
use std::num::NonZeroU16;
use tokio::sync::mpsc;

/// Rows of scrollback the host keeps per pane.
pub const SCROLLBACK: usize = 2000;

/// Collects answers to terminal queries found while parsing.
#[derive(Debug, Default)]
pub struct Replies {
    /// Bytes to write back to the program, in order.
    pending: Vec<u8>,
}

impl vt100::Callbacks for Replies {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, c, first) {
            // Device status report: "OK".
            (None, 'n', 5) => self.pending.extend_from_slice(b"\x1b[0n"),
            // Cursor position report, 1-based.
            (None, 'n', 6) => {
                let (row, col) = screen.cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                self.pending.extend_from_slice(reply.as_bytes());
            }
            // Primary device attributes: a VT102-class terminal, as tmux answers.
            (None, 'c', 0) => self.pending.extend_from_slice(b"\x1b[?1;2c"),
            // Secondary device attributes.
            (Some(b'>'), 'c', 0) => self.pending.extend_from_slice(b"\x1b[>0;10;1c"),
            _ => {}
        }
    }
}

/// The vt100 parser type of a host pane.
pub type PaneParser = vt100::Parser<Replies>;

/// Makes a parser of `size`. Sizes are clamped to at least one cell.
pub fn new_parser<CB: vt100::Callbacks>(
    size: Size,
    scrollback: usize,
    cb: CB,
) -> vt100::Parser<CB> {
    let (rows, cols) = nonzero(size);
    vt100::Parser::new_with_callbacks(rows, cols, scrollback, cb)
}

/// Resizes a parser. Sizes are clamped to at least one cell.
pub fn resize_parser<CB: vt100::Callbacks>(parser: &mut vt100::Parser<CB>, size: Size) {
    let (rows, cols) = nonzero(size);
    parser.set_size(rows, cols);
}

fn nonzero(size: Size) -> (NonZeroU16, NonZeroU16) {
    let one = NonZeroU16::MIN;
    (
        NonZeroU16::new(size.rows).unwrap_or(one),
        NonZeroU16::new(size.cols).unwrap_or(one),
    )
}

/// The size of a vt100 screen.
pub fn screen_size(screen: &vt100::Screen) -> Size {
    let (rows, cols) = screen.size();
    Size::new(cols.get(), rows.get())
}

/// A program in a PTY together with its screen model.
pub struct Pane {
    /// The pane's id within the session.
    id: PaneId,
    /// What to run, kept to respawn it.
    cmd: CommandSpec,
    /// The running program; `None` between an exit and the respawn.
    pty: Option<Pty>,
    /// The screen as the program drew it.
    parser: PaneParser,
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
            parser: new_parser(size, SCROLLBACK, Replies::default()),
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
        self.parser = new_parser(size, SCROLLBACK, Replies::default());
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
        screen_size(self.parser.screen())
    }

    /// The current screen.
    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// The current screen, to change its scrollback offset while drawing.
    pub fn screen_mut(&mut self) -> &mut vt100::Screen {
        self.parser.screen_mut()
    }

    /// Parses output of the program and answers any terminal queries in it.
    pub fn process(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
        let replies = std::mem::take(&mut self.parser.callbacks_mut().pending);
        if !replies.is_empty() {
            // A reply the program cannot take now is of no use later; drop it quietly.
            let _ = self.write(replies);
        }
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
        resize_parser(&mut self.parser, size);
        Ok(true)
    }

    /// Escape codes that recreate the current screen on a blank terminal of the same size.
    pub fn snapshot(&self) -> Vec<u8> {
        self.parser.screen().state_formatted().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> (vt100::Parser<Replies>, Vec<u8>) {
        let mut p = new_parser(Size::new(20, 5), 0, Replies::default());
        p.process(bytes);
        let out = std::mem::take(&mut p.callbacks_mut().pending);
        (p, out)
    }

    #[test]
    fn answers_cursor_position_and_attributes() {
        let (_, out) = parse(b"ab\r\ncd\x1b[6n");
        assert_eq!(out, b"\x1b[2;3R");
        let (_, out) = parse(b"\x1b[c\x1b[>c\x1b[5n");
        assert_eq!(out, b"\x1b[?1;2c\x1b[>0;10;1c\x1b[0n");
    }

    #[test]
    fn ignores_other_sequences() {
        let (_, out) = parse(b"\x1b[31mred\x1b[0m\x1b[?25l");
        assert!(out.is_empty());
    }

    #[test]
    fn snapshot_recreates_the_screen() {
        let (p, _) = parse(b"\x1b[1;32mhello\x1b[0m\r\nworld");
        let bytes = p.screen().state_formatted();
        let mut copy = new_parser(Size::new(20, 5), 0, ());
        copy.process(bytes.as_bytes());
        assert_eq!(copy.screen().contents(), p.screen().contents());
        assert_eq!(
            copy.screen().cursor_position(),
            p.screen().cursor_position()
        );
        assert_eq!(copy.screen().cell(0, 0), p.screen().cell(0, 0));
    }
}
