//! What the web page sends, and how it becomes bytes for the program.
//!
//! The page sends structured messages (JSON text): key events as the browser names them
//! (`KeyboardEvent.key` and `.code` with the modifiers), composed text, pastes, mouse events
//! at pane cells, focus changes and its size. The relay encodes them with [`crate::core::keys`],
//! the encoder the dashboard uses, in the pane's modes of now, so the browser needs no key
//! tables of its own and a key means what the program expects (application cursor keys,
//! bracketed paste, the mouse encoding it asked for).

use crate::core::keys::{
    InputModes, Key, KeyCode, Mods, MouseButton, MouseEvent, MouseKind, encode_key, encode_mouse,
    encode_paste,
};
use crate::core::term::Modes;
use crate::core::types::Size;
use serde::Deserialize;

/// One message of the page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// The first message: which session, and the page's terminal area.
    Join {
        /// The token from the link's fragment (`ro-` for a read-only link).
        token: String,
        /// Columns the page can show.
        cols: u16,
        /// Rows the page can show (the status line is not counted).
        rows: u16,
        /// The ticket a key-only session gave this page before, if any.
        #[serde(default)]
        ticket: Option<String>,
    },
    /// A key went down.
    Key(KeyMsg),
    /// Text composed by an input method, or typed on a phone's keyboard.
    Text {
        /// The characters.
        text: String,
    },
    /// Text pasted from the clipboard.
    Paste {
        /// The pasted text.
        text: String,
    },
    /// The page's terminal area changed.
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// A mouse event at a pane cell.
    Mouse(MouseMsg),
    /// The page's window gained or lost the focus.
    Focus {
        /// Whether it has the focus now.
        on: bool,
    },
}

/// The modifiers held with a key or a mouse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct ModsMsg {
    /// Control held.
    #[serde(default)]
    pub ctrl: bool,
    /// Alt (Option) held.
    #[serde(default)]
    pub alt: bool,
    /// Shift held.
    #[serde(default)]
    pub shift: bool,
}

impl From<ModsMsg> for Mods {
    fn from(m: ModsMsg) -> Mods {
        Mods {
            shift: m.shift,
            alt: m.alt,
            ctrl: m.ctrl,
        }
    }
}

/// A key event as the browser reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyMsg {
    /// `KeyboardEvent.key`: the character typed (`"a"`, `"A"`, `"é"`) or the key's name
    /// (`"ArrowUp"`, `"Enter"`).
    pub key: String,
    /// `KeyboardEvent.code`: the physical key (`"KeyA"`), used when Alt or Ctrl changed
    /// the character (macOS's Option+x gives `"≈"`).
    #[serde(default)]
    pub code: String,
    /// Control, Alt and Shift.
    #[serde(flatten)]
    pub mods: ModsMsg,
    /// Meta (Command, Windows) held: such keys belong to the browser and the system.
    #[serde(default)]
    pub meta: bool,
}

/// A mouse event at a cell of the pane.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MouseMsg {
    /// `down`, `up`, `drag`, `move`, `wheel_up` or `wheel_down`.
    pub kind: String,
    /// 0 left, 1 middle, 2 right.
    #[serde(default)]
    pub button: u8,
    /// Pane column, 0-based.
    pub col: u16,
    /// Pane row, 0-based.
    pub row: u16,
    /// Control, Alt and Shift.
    #[serde(flatten)]
    pub mods: ModsMsg,
}

impl ClientMsg {
    /// Reads one message of the page; `None` for anything that is not one.
    pub fn parse(text: &str) -> Option<ClientMsg> {
        serde_json::from_str(text).ok()
    }

    /// The bytes this message gives the program in a pane of `size` with `modes`; empty for
    /// messages that are not input, and for input the program did not ask for.
    pub fn to_input(&self, modes: &Modes, size: Size) -> Vec<u8> {
        let input = InputModes::from(*modes);
        match self {
            ClientMsg::Key(k) => k.to_key().map_or_else(Vec::new, |k| encode_key(k, &input)),
            ClientMsg::Text { text } => text.replace("\r\n", "\r").replace('\n', "\r").into(),
            ClientMsg::Paste { text } => encode_paste(text, &input),
            ClientMsg::Mouse(m) => m
                .to_event(size)
                .and_then(|ev| encode_mouse(ev, &input))
                .unwrap_or_default(),
            ClientMsg::Focus { on } if modes.focus_events => {
                if *on {
                    b"\x1b[I".to_vec()
                } else {
                    b"\x1b[O".to_vec()
                }
            }
            ClientMsg::Focus { .. } | ClientMsg::Join { .. } | ClientMsg::Resize { .. } => {
                Vec::new()
            }
        }
    }
}

/// Named keys, as `KeyboardEvent.key` spells them.
const NAMED: &[(&str, KeyCode)] = &[
    ("Enter", KeyCode::Enter),
    ("Tab", KeyCode::Tab),
    ("Backspace", KeyCode::Backspace),
    ("Escape", KeyCode::Esc),
    ("Esc", KeyCode::Esc),
    ("ArrowUp", KeyCode::Up),
    ("ArrowDown", KeyCode::Down),
    ("ArrowLeft", KeyCode::Left),
    ("ArrowRight", KeyCode::Right),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Insert", KeyCode::Insert),
    ("Delete", KeyCode::Delete),
];

impl KeyMsg {
    /// The key for the encoder, or `None` for keys the program never gets: modifiers alone,
    /// dead keys, keys held with Meta (the system's and the browser's shortcuts).
    pub fn to_key(&self) -> Option<Key> {
        if self.meta {
            return None;
        }
        let mods = Mods::from(self.mods);
        let code = if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == self.key) {
            *code
        } else if let Some(n) = self
            .key
            .strip_prefix('F')
            .and_then(|n| n.parse::<u8>().ok())
        {
            KeyCode::F(n)
        } else {
            KeyCode::Char(self.character()?)
        };
        Some(Key { code, mods })
    }

    /// The character of a printable key: the one typed, or with Alt or Ctrl the one on the
    /// key itself when the layout made something else of it.
    fn character(&self) -> Option<char> {
        let mut chars = self.key.chars();
        let typed = match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        };
        match typed {
            Some(c) if c.is_ascii() || !(self.mods.alt || self.mods.ctrl) => Some(c),
            _ if self.mods.alt || self.mods.ctrl => {
                let on_key = if let Some(l) = self.code.strip_prefix("Key") {
                    l.chars().next().map(|c| {
                        if self.mods.shift {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                } else {
                    self.code
                        .strip_prefix("Digit")
                        .and_then(|d| d.chars().next())
                };
                on_key.or(typed)
            }
            other => other,
        }
    }
}

impl MouseMsg {
    /// The event at its pane cell, or `None` when it is outside the pane or unknown.
    pub fn to_event(&self, size: Size) -> Option<MouseEvent> {
        if self.col >= size.cols || self.row >= size.rows {
            return None;
        }
        let button = match self.button {
            0 => MouseButton::Left,
            1 => MouseButton::Middle,
            2 => MouseButton::Right,
            _ => return None,
        };
        let kind = match self.kind.as_str() {
            "down" => MouseKind::Down(button),
            "up" => MouseKind::Up(button),
            "drag" => MouseKind::Drag(button),
            "move" => MouseKind::Moved,
            "wheel_up" => MouseKind::ScrollUp,
            "wheel_down" => MouseKind::ScrollDown,
            _ => return None,
        };
        Some(MouseEvent {
            kind,
            col: self.col,
            row: self.row,
            mods: Mods::from(self.mods),
        })
    }
}

#[cfg(test)]
mod tests;
