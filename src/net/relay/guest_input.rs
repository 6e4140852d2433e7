//! What a guest's terminal sends, made fit for the shared program: the detach command taken
//! out, and mouse and focus reports moved into the pane or dropped.
//!
//! The guest's terminal reports the mouse at its own cells, in the encoding the renderer told
//! it to use. The pane may be seen from an offset (a guest smaller than the pane sees a view
//! that follows the cursor), and below it is the status line. [`ReportMapper`] reads each
//! report, moves it to the pane cell under the pointer and encodes it again in the pane's
//! modes of now. A report that lands outside the pane, or that the program did not ask for
//! (it may have turned the mouse off since the guest's terminal was told), is dropped.

use crate::core::keys::{
    InputModes, MAX_REPORT, MouseButton, MouseEncoding, MouseKind, Report, encode_mouse,
    read_report,
};
use crate::core::term::Modes;
use crate::ui::guest_view::Placement;

/// The prefix key a guest presses before `d` to detach (C-b, as in tmux and tmate).
const PREFIX: u8 = 0x02;
/// Sent before a bracketed paste; what follows up to [`PASTE_END`] is text, not reports.
const PASTE_START: &[u8] = b"\x1b[200~";
/// Sent after a bracketed paste.
const PASTE_END: &[u8] = b"\x1b[201~";
/// Focus in and out, as `?1004` reports them.
const FOCUS: [&[u8]; 2] = [b"\x1b[I", b"\x1b[O"];

/// Splits a guest's keystrokes into input for the program and the detach command.
#[derive(Debug, Default)]
pub struct KeyFilter {
    /// The last byte was the prefix.
    after_prefix: bool,
}

/// What a guest's keystrokes amount to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Bytes for the program.
    pub input: Vec<u8>,
    /// The guest pressed C-b d.
    pub detach: bool,
}

impl KeyFilter {
    /// Filters one read of the guest's keys. A prefix at the end of a read waits for the next.
    pub fn feed(&mut self, bytes: &[u8]) -> Keys {
        let mut out = Keys::default();
        for &b in bytes {
            if self.after_prefix {
                self.after_prefix = false;
                match b {
                    b'd' => {
                        out.detach = true;
                        return out;
                    }
                    // C-b C-b sends one C-b, as in tmux.
                    PREFIX => out.input.push(PREFIX),
                    other => out.input.extend_from_slice(&[PREFIX, other]),
                }
            } else if b == PREFIX {
                self.after_prefix = true;
            } else {
                out.input.push(b);
            }
        }
        out
    }
}

/// Moves a guest's mouse reports into the pane and drops those the program should not get.
#[derive(Debug, Default)]
pub struct ReportMapper {
    /// The start of a report cut off at the end of the last read, kept for the next one.
    held: Vec<u8>,
    /// How many bytes of [`PASTE_END`] the input inside a paste has matched so far; `None`
    /// outside a paste.
    paste: Option<usize>,
    /// The button whose press went to the program: its drags and its release go too, even
    /// outside the pane, and no others do, so the program never sees half a click.
    pressed: Option<MouseButton>,
}

impl ReportMapper {
    /// Maps one read of a guest's input (after the detach filter).
    ///
    /// `place` is where the guest sees the pane (`None` before the first frame: every report
    /// is dropped), `guest_encoding` how the guest's terminal was told to report, and `modes`
    /// the pane's modes now.
    pub fn map(
        &mut self,
        input: &[u8],
        place: Option<&Placement>,
        guest_encoding: MouseEncoding,
        modes: &Modes,
    ) -> Vec<u8> {
        let mut data = std::mem::take(&mut self.held);
        data.extend_from_slice(input);
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            if let Some(matched) = self.paste {
                let b = data[i];
                out.push(b);
                i += 1;
                let matched = match matched {
                    _ if b == PASTE_END[matched] => matched + 1,
                    _ if b == PASTE_END[0] => 1,
                    _ => 0,
                };
                self.paste = (matched < PASTE_END.len()).then_some(matched);
                continue;
            }
            let rest = &data[i..];
            if rest[0] != 0x1b {
                out.push(rest[0]);
                i += 1;
                continue;
            }
            if rest.starts_with(PASTE_START) {
                out.extend_from_slice(PASTE_START);
                i += PASTE_START.len();
                self.paste = Some(0);
                continue;
            }
            if let Some(focus) = FOCUS.iter().find(|f| rest.starts_with(f)) {
                if modes.focus_events {
                    out.extend_from_slice(focus);
                }
                i += focus.len();
                continue;
            }
            match read_report(rest, guest_encoding) {
                Report::Mouse { event, len } => {
                    if let Some(bytes) = self.for_program(event, place, guest_encoding, modes) {
                        out.extend_from_slice(&bytes);
                    }
                    i += len;
                }
                Report::Unknown { len } => i += len,
                Report::Partial if rest.len() <= MAX_REPORT => {
                    self.held = rest.to_vec();
                    break;
                }
                Report::Partial | Report::No
                    if rest.len() < PASTE_START.len()
                        && PASTE_START.starts_with(rest)
                        && rest.len() > 2 =>
                {
                    // `ESC [ 2`, `ESC [ 20`, `ESC [ 200`: no key ends there, so this is a
                    // paste's start cut in two.
                    self.held = rest.to_vec();
                    break;
                }
                Report::Partial | Report::No => {
                    out.push(rest[0]);
                    i += 1;
                }
            }
        }
        out
    }

    /// The bytes that give the program one event of the guest's, or `None` to drop it.
    fn for_program(
        &mut self,
        mut event: crate::core::keys::MouseEvent,
        place: Option<&Placement>,
        guest_encoding: MouseEncoding,
        modes: &Modes,
    ) -> Option<Vec<u8>> {
        let place = place?;
        let inside = place.to_pane(event.col, event.row);
        let (col, row) = match event.kind {
            MouseKind::Down(button) => {
                let at = inside?;
                let bytes = encode_at(event, at, modes)?;
                self.pressed = Some(button);
                return Some(bytes);
            }
            MouseKind::Up(button) => {
                let pressed = self.pressed.take()?;
                // The older encodings do not say which button came up: it is the one pressed.
                if guest_encoding == MouseEncoding::Sgr && button != pressed {
                    self.pressed = Some(pressed);
                    return None;
                }
                event.kind = MouseKind::Up(pressed);
                place.clamp(event.col, event.row)
            }
            MouseKind::Drag(button) => {
                if self.pressed != Some(button) {
                    return None;
                }
                place.clamp(event.col, event.row)
            }
            MouseKind::Moved | MouseKind::ScrollUp | MouseKind::ScrollDown => inside?,
        };
        encode_at(event, (col, row), modes)
    }
}

/// An event moved to pane cell `at` (column, row), encoded in the pane's modes.
fn encode_at(
    mut event: crate::core::keys::MouseEvent,
    at: (u16, u16),
    modes: &Modes,
) -> Option<Vec<u8>> {
    (event.col, event.row) = at;
    encode_mouse(event, &InputModes::from(*modes))
}

#[cfg(test)]
mod tests;
