//! Keys, pastes and mouse events, encoded for a program in a PTY the way xterm does it.
//!
//! The dashboard turns terminal events into these types; the session encodes them with the
//! pane's current modes (application cursor keys, bracketed paste, mouse reporting), so the
//! bytes always match what the program asked for.

use thiserror::Error;

/// Modifier keys held with a key or mouse event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Mods {
    /// Shift.
    pub shift: bool,
    /// Alt (Meta).
    pub alt: bool,
    /// Control.
    pub ctrl: bool,
}

/// A key, without modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    /// A printable character (as typed, so Shift+a is `A`).
    Char(char),
    /// Enter / Return.
    Enter,
    /// Tab.
    Tab,
    /// Shift+Tab as terminals report it.
    BackTab,
    /// Backspace.
    Backspace,
    /// Escape.
    Esc,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Home.
    Home,
    /// End.
    End,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Insert.
    Insert,
    /// Delete (forward).
    Delete,
    /// A function key, F1 to F12 (higher numbers are encoded as xterm does up to F20).
    F(u8),
}

/// A key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// Which key.
    pub code: KeyCode,
    /// The modifiers held.
    pub mods: Mods,
}

/// The terminal modes of a pane that change how input is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputModes {
    /// DECCKM: arrows and Home/End send `ESC O x` instead of `ESC [ x`.
    pub application_cursor: bool,
    /// Pastes are wrapped in `ESC [200~` … `ESC [201~`.
    pub bracketed_paste: bool,
    /// Which mouse events the program asked for.
    pub mouse: MouseMode,
    /// How it wants them encoded.
    pub mouse_encoding: MouseEncoding,
}

/// Mouse reporting a program asked for (xterm modes 9, 1000, 1002, 1003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseMode {
    /// No reports: the wheel scrolls the host's scrollback instead.
    #[default]
    None,
    /// Presses only (X10, mode 9).
    Press,
    /// Presses and releases (mode 1000).
    PressRelease,
    /// Also motion while a button is held (mode 1002).
    ButtonMotion,
    /// All motion (mode 1003).
    AnyMotion,
}

/// How mouse reports are encoded (xterm modes 1006 and 1005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseEncoding {
    /// `ESC [ M` and three bytes.
    #[default]
    Default,
    /// As default, with UTF-8 coordinates.
    Utf8,
    /// `ESC [ < b ; x ; y M/m`.
    Sgr,
}

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseButton {
    /// Left.
    Left,
    /// Middle.
    Middle,
    /// Right.
    Right,
}

/// What happened with the mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    /// A button went down.
    Down(MouseButton),
    /// A button came up.
    Up(MouseButton),
    /// The mouse moved with a button held.
    Drag(MouseButton),
    /// The mouse moved with no button held.
    Moved,
    /// Wheel up.
    ScrollUp,
    /// Wheel down.
    ScrollDown,
}

/// A mouse event at a 0-based cell of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MouseEvent {
    /// What happened.
    pub kind: MouseKind,
    /// Column, 0-based, relative to the pane.
    pub col: u16,
    /// Row, 0-based, relative to the pane.
    pub row: u16,
    /// Modifiers held.
    pub mods: Mods,
}

/// A key spec that could not be read, such as a bad `prefix`.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid key {spec:?}: {why}; write it as tmux does, such as C-b, C-a, M-a or F12")]
pub struct KeySpecError {
    /// What was given.
    pub spec: String,
    /// What is wrong with it.
    pub why: String,
}
