//! Keys, pastes and mouse events, encoded for a program in a PTY the way xterm does it.
//!
//! The dashboard turns terminal events into these types; the session encodes them with the
//! pane's current modes (application cursor keys, bracketed paste, mouse reporting), so the
//! bytes always match what the program asked for.

use crate::core::term::Modes;
use thiserror::Error;

mod report;
pub use report::{MAX_REPORT, Report, read_report};

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

pub use crate::core::term::{MouseEncoding, MouseMode};

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

/// The escape byte that starts every control sequence.
const ESC: u8 = 0x1b;
/// Sent before a bracketed paste.
const PASTE_START: &[u8] = b"\x1b[200~";
/// Sent after a bracketed paste; a paste must never contain it.
const PASTE_END: &[u8] = b"\x1b[201~";

impl From<Modes> for InputModes {
    /// The input side of the modes the program in a pane has set.
    fn from(m: Modes) -> InputModes {
        InputModes {
            application_cursor: m.app_cursor,
            bracketed_paste: m.bracketed_paste,
            mouse: m.mouse,
            mouse_encoding: m.mouse_encoding,
        }
    }
}

impl Mods {
    /// The xterm modifier parameter, as in `ESC [ 1 ; m A`.
    fn xterm_param(self) -> u8 {
        1 + u8::from(self.shift) + 2 * u8::from(self.alt) + 4 * u8::from(self.ctrl)
    }

    /// The bits xterm adds to a mouse button code.
    fn mouse_bits(self) -> u32 {
        4 * u32::from(self.shift) + 8 * u32::from(self.alt) + 16 * u32::from(self.ctrl)
    }
}

/// Encodes a key press as xterm (`TERM=xterm-256color`) sends it.
///
/// Returns an empty vector for a key xterm has no sequence for (F0, or above F20).
pub fn encode_key(key: Key, modes: &InputModes) -> Vec<u8> {
    let mods = key.mods;
    match key.code {
        KeyCode::Char(c) => match control_byte(c).filter(|_| mods.ctrl) {
            Some(byte) => alt_prefixed(mods, &[byte]),
            // Ctrl with a character that has no control form (Ctrl+1, Ctrl+é) sends the
            // character, as xterm does unless modifyOtherKeys is on.
            None => alt_prefixed(mods, c.to_string().as_bytes()),
        },
        KeyCode::Enter => alt_prefixed(mods, b"\r"),
        // Terminals report Shift+Tab as BackTab, but a Tab with Shift means the same key.
        KeyCode::Tab if mods.shift => alt_prefixed(mods, b"\x1b[Z"),
        KeyCode::Tab => alt_prefixed(mods, b"\t"),
        KeyCode::BackTab => alt_prefixed(mods, b"\x1b[Z"),
        KeyCode::Backspace if mods.ctrl => alt_prefixed(mods, b"\x08"),
        KeyCode::Backspace => alt_prefixed(mods, b"\x7f"),
        KeyCode::Esc => alt_prefixed(mods, b"\x1b"),
        KeyCode::Up => cursor_key(b'A', mods, modes.application_cursor),
        KeyCode::Down => cursor_key(b'B', mods, modes.application_cursor),
        KeyCode::Right => cursor_key(b'C', mods, modes.application_cursor),
        KeyCode::Left => cursor_key(b'D', mods, modes.application_cursor),
        KeyCode::Home => cursor_key(b'H', mods, modes.application_cursor),
        KeyCode::End => cursor_key(b'F', mods, modes.application_cursor),
        KeyCode::Insert => tilde_key(2, mods),
        KeyCode::Delete => tilde_key(3, mods),
        KeyCode::PageUp => tilde_key(5, mods),
        KeyCode::PageDown => tilde_key(6, mods),
        KeyCode::F(n) => function_key(n, mods),
    }
}

/// Keys without a CSI form take Alt as a leading ESC (xterm's `metaSendsEscape`).
fn alt_prefixed(mods: Mods, bytes: &[u8]) -> Vec<u8> {
    let prefix: &[u8] = if mods.alt { &[ESC] } else { &[] };
    [prefix, bytes].concat()
}

/// The control byte Ctrl+`c` sends: Xlib's mapping, which xterm uses, plus Ctrl+? as DEL.
fn control_byte(c: char) -> Option<u8> {
    match c {
        // Both cases of a letter give the same byte, so Ctrl+Shift+b is Ctrl+b.
        ' ' | '2' => Some(0),
        '@'..='~' => Some(c as u8 & 0x1f),
        '3'..='7' => Some(c as u8 - b'3' + 0x1b),
        '8' | '?' => Some(0x7f),
        '/' => Some(0x1f),
        _ => None,
    }
}

/// Arrows, Home and End: `ESC [ x`, `ESC O x` in application cursor mode, `ESC [ 1 ; m x`
/// with modifiers (xterm ignores DECCKM once a modifier is held).
fn cursor_key(final_byte: u8, mods: Mods, application_cursor: bool) -> Vec<u8> {
    if mods != Mods::default() {
        format!("\x1b[1;{}{}", mods.xterm_param(), char::from(final_byte)).into_bytes()
    } else if application_cursor {
        vec![ESC, b'O', final_byte]
    } else {
        vec![ESC, b'[', final_byte]
    }
}

/// Keys of the form `ESC [ n ~`, or `ESC [ n ; m ~` with modifiers.
fn tilde_key(number: u8, mods: Mods) -> Vec<u8> {
    if mods != Mods::default() {
        format!("\x1b[{number};{}~", mods.xterm_param()).into_bytes()
    } else {
        format!("\x1b[{number}~").into_bytes()
    }
}

/// F1-F4 are SS3 keys, F5-F12 tilde keys, and F13-F20 are Shift+F1-F8, as in xterm's
/// terminfo (`kf13=\E[1;2P`).
fn function_key(n: u8, mut mods: Mods) -> Vec<u8> {
    // xterm skips 16 and 22, a leftover of the VT220 keyboard layout.
    const TILDE_NUMBERS: [u8; 8] = [15, 17, 18, 19, 20, 21, 23, 24];
    match n {
        // F1-F4 are SS3 keys whatever DECCKM says, like arrows in application mode.
        1..=4 => cursor_key(b'P' + (n - 1), mods, true),
        5..=12 => tilde_key(TILDE_NUMBERS[usize::from(n - 5)], mods),
        13..=20 => {
            mods.shift = true;
            function_key(n - 12, mods)
        }
        _ => Vec::new(),
    }
}

/// Encodes a paste: line ends become `\r` as a typed Enter would, and with bracketed paste
/// on the text is wrapped in `ESC [200~` … `ESC [201~`.
///
/// Any `ESC [201~` inside the text is removed, so a paste cannot end the bracket early and
/// have the rest run as typed commands.
pub fn encode_paste(text: &str, modes: &InputModes) -> Vec<u8> {
    let text = text.replace("\r\n", "\r").replace('\n', "\r");
    if !modes.bracketed_paste {
        return text.into_bytes();
    }
    let mut out = Vec::with_capacity(text.len() + PASTE_START.len() + PASTE_END.len());
    out.extend_from_slice(PASTE_START);
    for &byte in text.as_bytes() {
        out.push(byte);
        // Checking after every byte also catches an end marker that only forms once an
        // inner one is removed, such as `ESC [20` `ESC [201~` `1~`. The start marker holds
        // no end marker, so only pasted bytes are ever cut.
        if out.ends_with(PASTE_END) {
            out.truncate(out.len() - PASTE_END.len());
        }
    }
    out.extend_from_slice(PASTE_END);
    out
}

/// Encodes a mouse event for the program in a pane, or `None` when its mouse mode does not
/// ask for this event or the position cannot be encoded.
pub fn encode_mouse(ev: MouseEvent, modes: &InputModes) -> Option<Vec<u8>> {
    let wanted = match ev.kind {
        MouseKind::Down(_) => modes.mouse != MouseMode::None,
        MouseKind::Up(_) | MouseKind::ScrollUp | MouseKind::ScrollDown => matches!(
            modes.mouse,
            MouseMode::PressRelease | MouseMode::ButtonMotion | MouseMode::AnyMotion
        ),
        MouseKind::Drag(_) => matches!(modes.mouse, MouseMode::ButtonMotion | MouseMode::AnyMotion),
        MouseKind::Moved => modes.mouse == MouseMode::AnyMotion,
    };
    if !wanted {
        return None;
    }
    let sgr = modes.mouse_encoding == MouseEncoding::Sgr;
    let released = matches!(ev.kind, MouseKind::Up(_));
    let mut code = match ev.kind {
        MouseKind::Down(button) => button_number(button),
        // SGR says which button came up; the older encodings only say "released".
        MouseKind::Up(button) if sgr => button_number(button),
        MouseKind::Up(_) => 3,
        MouseKind::Drag(button) => 32 + button_number(button),
        MouseKind::Moved => 32 + 3,
        MouseKind::ScrollUp => 64,
        MouseKind::ScrollDown => 65,
    };
    // X10 mode (9) reports the button alone, without modifiers.
    if modes.mouse != MouseMode::Press {
        code += ev.mods.mouse_bits();
    }
    let x = u32::from(ev.col) + 1;
    let y = u32::from(ev.row) + 1;
    match modes.mouse_encoding {
        MouseEncoding::Sgr => {
            let end = if released { 'm' } else { 'M' };
            Some(format!("\x1b[<{code};{x};{y}{end}").into_bytes())
        }
        MouseEncoding::Default => {
            // A coordinate travels as 32 + n in one byte, so 223 is the last one.
            if x > 223 || y > 223 {
                return None;
            }
            let [cb, cx, cy] = [code, x, y].map(|v| u8::try_from(32 + v).ok());
            Some(vec![ESC, b'[', b'M', cb?, cx?, cy?])
        }
        MouseEncoding::Utf8 => {
            // Mode 1005 sends 32 + n as UTF-8 of at most two bytes (up to U+07FF).
            if x > 2015 || y > 2015 {
                return None;
            }
            let mut out = String::from("\x1b[M");
            for value in [code, x, y] {
                out.push(char::from_u32(32 + value)?);
            }
            Some(out.into_bytes())
        }
    }
}

/// The number xterm gives a mouse button in reports.
fn button_number(button: MouseButton) -> u32 {
    match button {
        MouseButton::Left => 0,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    }
}

/// Key names shared by [`parse_key_spec`] and [`format_key`], so that help text can always
/// be read back. Single characters need no name, except Space, which is invisible.
#[rustfmt::skip]
const KEY_NAMES: &[(&str, KeyCode)] = &[
    ("Space", KeyCode::Char(' ')), ("Tab", KeyCode::Tab), ("BTab", KeyCode::BackTab),
    ("Enter", KeyCode::Enter), ("Escape", KeyCode::Esc), ("BSpace", KeyCode::Backspace),
    ("Up", KeyCode::Up), ("Down", KeyCode::Down), ("Left", KeyCode::Left),
    ("Right", KeyCode::Right), ("Home", KeyCode::Home), ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp), ("PageDown", KeyCode::PageDown),
    ("Insert", KeyCode::Insert), ("Delete", KeyCode::Delete),
];

/// Reads a key written as tmux does: `C-`, `M-` and `S-` prefixes (Ctrl, Alt, Shift) before
/// a single character, a name such as `Space`, `Tab`, `Enter` or `Escape`, or `F1` to `F12`.
///
/// Names and prefixes ignore case, and `C-B` is `C-b` because Ctrl+Shift+b sends the same
/// byte. Shift on a letter gives the capital (`S-a` is `A`).
pub fn parse_key_spec(spec: &str) -> Result<Key, KeySpecError> {
    let fail = |why: String| KeySpecError {
        spec: spec.to_string(),
        why,
    };
    if spec.is_empty() {
        return Err(fail("it is empty".to_string()));
    }
    let mut mods = Mods::default();
    let mut rest = spec;
    // A spec of just "C-" is the key C then "-", which is not a key, so it gets an error.
    while rest.len() > 2 {
        let flag = match rest.get(..2) {
            Some("C-" | "c-") => &mut mods.ctrl,
            Some("M-" | "m-") => &mut mods.alt,
            Some("S-" | "s-") => &mut mods.shift,
            _ => break,
        };
        *flag = true;
        rest = &rest[2..];
    }
    let mut code = key_code_from_name(rest).map_err(fail)?;
    if let KeyCode::Char(c) = code {
        if mods.shift && !c.is_ascii_alphabetic() {
            return Err(fail(format!(
                "S- only goes with the letters a to z and named keys; write the shifted \
                 character itself instead of S-{c}"
            )));
        }
        // The character carries Shift, as it does when typed, and Ctrl ignores case.
        if mods.ctrl {
            code = KeyCode::Char(c.to_ascii_lowercase());
        } else if mods.shift {
            code = KeyCode::Char(c.to_ascii_uppercase());
        }
        mods.shift = false;
    }
    Ok(Key { code, mods })
}

/// The key named by the part of a spec after its prefixes.
fn key_code_from_name(name: &str) -> Result<KeyCode, String> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(KeyCode::Char(c));
    }
    if let Some((_, code)) = KEY_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok(*code);
    }
    if let Some(digits) = name.strip_prefix(['F', 'f'])
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return match digits.parse::<u8>() {
            Ok(n @ 1..=12) => Ok(KeyCode::F(n)),
            _ => Err(format!(
                "there is no {name}; function keys go from F1 to F12"
            )),
        };
    }
    let names: Vec<&str> = KEY_NAMES.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "{name:?} is not a key; use a single character, F1 to F12, or one of {}",
        names.join(", ")
    ))
}

/// Writes a key as [`parse_key_spec`] reads it, for help text: `C-b`, `M-a`, `F12`, `Space`.
pub fn format_key(key: Key) -> String {
    let mut out = String::new();
    if key.mods.ctrl {
        out.push_str("C-");
    }
    if key.mods.alt {
        out.push_str("M-");
    }
    match key.code {
        KeyCode::Char(' ') => out.push_str("Space"),
        // Shift is already in the character, and Ctrl ignores case.
        KeyCode::Char(c) if key.mods.ctrl => out.push(c.to_ascii_lowercase()),
        KeyCode::Char(c) => out.push(c),
        code => {
            if key.mods.shift {
                out.push_str("S-");
            }
            if let KeyCode::F(n) = code {
                out.push_str(&format!("F{n}"));
            } else if let Some((name, _)) = KEY_NAMES.iter().find(|(_, known)| *known == code) {
                out.push_str(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
