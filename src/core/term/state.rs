//! The state of a screen besides its rows: cursor, terminal modes and title, and the whole
//! exported screen ([`ScreenState`]) that renderers draw and the uplink sends.

use crate::core::term::row::Row;
use crate::core::types::Size;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the cursor is drawn (`DECSCUSR`, `CSI Ps SP q`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CursorShape {
    /// A block over the cell.
    #[default]
    Block,
    /// A line under the cell.
    Underline,
    /// A bar left of the cell.
    Beam,
}

/// Where the cursor is and how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// Row, 0-based from the top of the screen.
    pub row: u16,
    /// Column, 0-based, always on the screen (a pending wrap keeps it in the last column).
    pub col: u16,
    /// Its shape.
    pub shape: CursorShape,
    /// Whether it blinks.
    pub blinking: bool,
    /// Whether it is shown (`CSI ? 25 h`/`l`).
    pub visible: bool,
}

/// Mouse reporting a program asked for (xterm modes 9, 1000, 1002, 1003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MouseMode {
    /// No reports: the wheel scrolls the host's scrollback instead.
    #[default]
    None,
    /// Presses only (X10, mode 9). The emulator does not set it; kept for the key encoder.
    Press,
    /// Presses and releases (mode 1000).
    PressRelease,
    /// Also motion while a button is held (mode 1002).
    ButtonMotion,
    /// All motion (mode 1003).
    AnyMotion,
}

impl MouseMode {
    /// The xterm private mode number that turns this reporting on, if any.
    pub fn private_mode(self) -> Option<u16> {
        match self {
            MouseMode::None => None,
            MouseMode::Press => Some(9),
            MouseMode::PressRelease => Some(1000),
            MouseMode::ButtonMotion => Some(1002),
            MouseMode::AnyMotion => Some(1003),
        }
    }
}

/// How mouse reports are encoded (xterm modes 1005 and 1006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MouseEncoding {
    /// `ESC [ M` and three bytes.
    #[default]
    Default,
    /// As default, with UTF-8 coordinates (mode 1005).
    Utf8,
    /// `ESC [ < b ; x ; y M/m` (mode 1006).
    Sgr,
}

/// The terminal modes that change what a terminal sends, which a guest's terminal must share
/// with the program so its keys, pastes and clicks mean what the program expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Modes {
    /// DECCKM (`?1`): arrows send `ESC O x` instead of `ESC [ x`.
    pub app_cursor: bool,
    /// DECKPAM (`ESC =`): the keypad sends application sequences.
    pub app_keypad: bool,
    /// `?2004`: pastes are wrapped in `ESC [200~` … `ESC [201~`.
    pub bracketed_paste: bool,
    /// `?1004`: focus in and out are reported.
    pub focus_events: bool,
    /// Which mouse events the program asked for.
    pub mouse: MouseMode,
    /// How it wants them encoded.
    pub mouse_encoding: MouseEncoding,
    /// `?1049` and kin: the program draws on the alternate screen (no scrollback).
    pub alt_screen: bool,
}

/// A whole screen as exported from the emulator: what renderers draw, and what the host sends
/// the relay (the rows that changed, or all of them on connect).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScreenState {
    /// Columns and rows.
    pub size: Size,
    /// One entry per screen row, top to bottom; shared, so unchanged rows cost nothing to keep.
    pub rows: Vec<Arc<Row>>,
    /// The cursor.
    pub cursor: Cursor,
    /// The modes the program has set.
    pub modes: Modes,
    /// The window title (OSC 0/2), empty when unset.
    pub title: String,
}

impl ScreenState {
    /// A blank screen of `size`, with the cursor shown at the top left.
    pub fn blank(size: Size) -> ScreenState {
        let blank = Arc::new(Row::default());
        ScreenState {
            size,
            rows: vec![blank; usize::from(size.rows)],
            cursor: Cursor {
                visible: true,
                ..Cursor::default()
            },
            modes: Modes::default(),
            title: String::new(),
        }
    }

    /// Row `y`, or a blank row past the end.
    pub fn row(&self, y: u16) -> &Row {
        static EMPTY: Row = Row {
            styles: Vec::new(),
            runs: Vec::new(),
            wrapped: false,
        };
        self.rows.get(usize::from(y)).map_or(&EMPTY, |r| r)
    }

    /// The screen's text, one line per row, trailing blanks dropped, for tests and logs.
    pub fn text(&self) -> String {
        let lines: Vec<String> = self.rows.iter().map(|r| r.text()).collect();
        lines.join("\n")
    }
}
