//! Turns crossterm key and mouse events into the input types of `crate::core::keys`.
//!
//! Crossterm reports what the host's own terminal sent; these conversions undo its quirks
//! (Shift reported on already-shifted characters, Ctrl+Space as `Null`) so that the encoder
//! sees one key the way a program in the pane expects it.

use crate::core::keys::{Key, KeyCode, Mods, MouseButton, MouseEvent, MouseKind};
use crossterm::event as ct;

/// Converts a key press, or returns `None` for releases and keys a terminal cannot send
/// (Caps Lock, media keys and the like).
pub fn key_from_crossterm(ev: &ct::KeyEvent) -> Option<Key> {
    // Releases only arrive with the kitty keyboard protocol; typing happens on press and
    // on auto-repeat.
    if !matches!(ev.kind, ct::KeyEventKind::Press | ct::KeyEventKind::Repeat) {
        return None;
    }
    let mut mods = mods_from_crossterm(ev.modifiers);
    let code = match ev.code {
        ct::KeyCode::Char(c) => {
            // The character is already shifted ('A', '{'), and crossterm adds SHIFT to
            // capitals, so keeping it would make Shift count twice.
            mods.shift = false;
            // crossterm reads the bytes 0x1c-0x1f as Ctrl+4 to Ctrl+7; they are C-\, C-],
            // C-^ and C-_ as a prefix is written (tmux's names), and as programs see them.
            match (mods.ctrl, c) {
                (true, '4') => KeyCode::Char('\\'),
                (true, '5') => KeyCode::Char(']'),
                (true, '6') => KeyCode::Char('^'),
                (true, '7') => KeyCode::Char('_'),
                _ => KeyCode::Char(c),
            }
        }
        ct::KeyCode::Null => {
            // A NUL byte comes from Ctrl+Space (or Ctrl+@, Ctrl+2), which all send it.
            mods.ctrl = true;
            KeyCode::Char(' ')
        }
        ct::KeyCode::BackTab => {
            // BackTab means Shift+Tab already; crossterm also sets SHIFT with it.
            mods.shift = false;
            KeyCode::BackTab
        }
        ct::KeyCode::Enter => KeyCode::Enter,
        ct::KeyCode::Tab => KeyCode::Tab,
        ct::KeyCode::Backspace => KeyCode::Backspace,
        ct::KeyCode::Esc => KeyCode::Esc,
        ct::KeyCode::Up => KeyCode::Up,
        ct::KeyCode::Down => KeyCode::Down,
        ct::KeyCode::Left => KeyCode::Left,
        ct::KeyCode::Right => KeyCode::Right,
        ct::KeyCode::Home => KeyCode::Home,
        ct::KeyCode::End => KeyCode::End,
        ct::KeyCode::PageUp => KeyCode::PageUp,
        ct::KeyCode::PageDown => KeyCode::PageDown,
        ct::KeyCode::Insert => KeyCode::Insert,
        ct::KeyCode::Delete => KeyCode::Delete,
        ct::KeyCode::F(n) => KeyCode::F(n),
        _ => return None,
    };
    Some(Key { code, mods })
}

/// Converts a mouse event at terminal cell (column, row) into one relative to a pane whose
/// top-left cell is `origin` (column, row).
///
/// Returns `None` left of or above the pane, and for horizontal scrolling, which xterm's
/// mouse protocols have no code for. Clipping at the pane's right and bottom edges is the
/// caller's job, since only it knows the pane's size.
pub fn mouse_from_crossterm(ev: &ct::MouseEvent, origin: (u16, u16)) -> Option<MouseEvent> {
    let kind = match ev.kind {
        ct::MouseEventKind::Down(button) => MouseKind::Down(button_from_crossterm(button)),
        ct::MouseEventKind::Up(button) => MouseKind::Up(button_from_crossterm(button)),
        ct::MouseEventKind::Drag(button) => MouseKind::Drag(button_from_crossterm(button)),
        ct::MouseEventKind::Moved => MouseKind::Moved,
        ct::MouseEventKind::ScrollUp => MouseKind::ScrollUp,
        ct::MouseEventKind::ScrollDown => MouseKind::ScrollDown,
        ct::MouseEventKind::ScrollLeft | ct::MouseEventKind::ScrollRight => return None,
    };
    Some(MouseEvent {
        kind,
        col: ev.column.checked_sub(origin.0)?,
        row: ev.row.checked_sub(origin.1)?,
        mods: mods_from_crossterm(ev.modifiers),
    })
}

/// The modifiers a program can be told about; Super, Hyper and Meta have no xterm encoding.
fn mods_from_crossterm(modifiers: ct::KeyModifiers) -> Mods {
    Mods {
        shift: modifiers.contains(ct::KeyModifiers::SHIFT),
        alt: modifiers.contains(ct::KeyModifiers::ALT),
        ctrl: modifiers.contains(ct::KeyModifiers::CONTROL),
    }
}

/// The same button in our own type.
fn button_from_crossterm(button: ct::MouseButton) -> MouseButton {
    match button {
        ct::MouseButton::Left => MouseButton::Left,
        ct::MouseButton::Middle => MouseButton::Middle,
        ct::MouseButton::Right => MouseButton::Right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::{InputModes, encode_key};
    use ct::KeyModifiers as M;

    fn press(code: ct::KeyCode, modifiers: M) -> ct::KeyEvent {
        ct::KeyEvent::new(code, modifiers)
    }

    fn key(code: KeyCode, shift: bool, alt: bool, ctrl: bool) -> Key {
        Key {
            code,
            mods: Mods { shift, alt, ctrl },
        }
    }

    #[test]
    fn the_bytes_crossterm_reads_as_ctrl_digits_are_the_prefixes_they_are_written_as() {
        // tmux sends C-] as 0x1d, which crossterm reads as Ctrl+5.
        let prefix = crate::core::keys::parse_key_spec("C-]").expect("spec");
        let read = key_from_crossterm(&press(ct::KeyCode::Char('5'), M::CONTROL));
        assert_eq!(read, Some(prefix));
        let read = key_from_crossterm(&press(ct::KeyCode::Char('7'), M::CONTROL));
        assert_eq!(read, Some(key(KeyCode::Char('_'), false, false, true)));
        let read = key_from_crossterm(&press(ct::KeyCode::Char('5'), M::NONE));
        assert_eq!(read, Some(key(KeyCode::Char('5'), false, false, false)));
    }

    #[test]
    fn keys_convert() {
        let cases = [
            (
                ct::KeyCode::Char('a'),
                M::NONE,
                key(KeyCode::Char('a'), false, false, false),
            ),
            (
                ct::KeyCode::Char('A'),
                M::SHIFT,
                key(KeyCode::Char('A'), false, false, false),
            ),
            (
                ct::KeyCode::Char('b'),
                M::CONTROL,
                key(KeyCode::Char('b'), false, false, true),
            ),
            (
                ct::KeyCode::Char('x'),
                M::ALT,
                key(KeyCode::Char('x'), false, true, false),
            ),
            (
                ct::KeyCode::Char('X'),
                M::ALT | M::SHIFT,
                key(KeyCode::Char('X'), false, true, false),
            ),
            (
                ct::KeyCode::Char(' '),
                M::CONTROL,
                key(KeyCode::Char(' '), false, false, true),
            ),
            (
                ct::KeyCode::Null,
                M::NONE,
                key(KeyCode::Char(' '), false, false, true),
            ),
            (
                ct::KeyCode::BackTab,
                M::SHIFT,
                key(KeyCode::BackTab, false, false, false),
            ),
            (
                ct::KeyCode::Up,
                M::SHIFT,
                key(KeyCode::Up, true, false, false),
            ),
            (
                ct::KeyCode::Right,
                M::CONTROL,
                key(KeyCode::Right, false, false, true),
            ),
            (
                ct::KeyCode::F(12),
                M::SHIFT | M::ALT,
                key(KeyCode::F(12), true, true, false),
            ),
            (
                ct::KeyCode::Enter,
                M::NONE,
                key(KeyCode::Enter, false, false, false),
            ),
            (
                ct::KeyCode::Tab,
                M::NONE,
                key(KeyCode::Tab, false, false, false),
            ),
            (
                ct::KeyCode::Backspace,
                M::CONTROL,
                key(KeyCode::Backspace, false, false, true),
            ),
            (
                ct::KeyCode::Esc,
                M::NONE,
                key(KeyCode::Esc, false, false, false),
            ),
            (
                ct::KeyCode::Home,
                M::NONE,
                key(KeyCode::Home, false, false, false),
            ),
            (
                ct::KeyCode::End,
                M::NONE,
                key(KeyCode::End, false, false, false),
            ),
            (
                ct::KeyCode::PageUp,
                M::NONE,
                key(KeyCode::PageUp, false, false, false),
            ),
            (
                ct::KeyCode::PageDown,
                M::NONE,
                key(KeyCode::PageDown, false, false, false),
            ),
            (
                ct::KeyCode::Insert,
                M::NONE,
                key(KeyCode::Insert, false, false, false),
            ),
            (
                ct::KeyCode::Delete,
                M::CONTROL,
                key(KeyCode::Delete, false, false, true),
            ),
            (
                ct::KeyCode::Down,
                M::NONE,
                key(KeyCode::Down, false, false, false),
            ),
            (
                ct::KeyCode::Left,
                M::NONE,
                key(KeyCode::Left, false, false, false),
            ),
            // Super has no xterm encoding, so only Ctrl is left.
            (
                ct::KeyCode::Char('c'),
                M::CONTROL | M::SUPER,
                key(KeyCode::Char('c'), false, false, true),
            ),
        ];
        for (code, modifiers, want) in cases {
            assert_eq!(
                key_from_crossterm(&press(code, modifiers)),
                Some(want),
                "{code:?} {modifiers:?}"
            );
        }
    }

    #[test]
    fn releases_and_unsendable_keys_are_dropped() {
        let release =
            ct::KeyEvent::new_with_kind(ct::KeyCode::Char('a'), M::NONE, ct::KeyEventKind::Release);
        assert_eq!(key_from_crossterm(&release), None);
        let repeat =
            ct::KeyEvent::new_with_kind(ct::KeyCode::Char('a'), M::NONE, ct::KeyEventKind::Repeat);
        assert_eq!(
            key_from_crossterm(&repeat),
            Some(key(KeyCode::Char('a'), false, false, false))
        );
        for code in [
            ct::KeyCode::CapsLock,
            ct::KeyCode::PrintScreen,
            ct::KeyCode::Menu,
            ct::KeyCode::Pause,
        ] {
            assert_eq!(key_from_crossterm(&press(code, M::NONE)), None, "{code:?}");
        }
    }

    #[test]
    fn converted_keys_encode_to_what_the_program_expects() {
        let modes = InputModes::default();
        let cases: [(ct::KeyCode, M, &[u8]); 5] = [
            (ct::KeyCode::Char('C'), M::SHIFT, b"C"),
            (ct::KeyCode::Char('c'), M::CONTROL, b"\x03"),
            (ct::KeyCode::Char(' '), M::CONTROL, b"\x00"),
            (ct::KeyCode::Up, M::SHIFT, b"\x1b[1;2A"),
            (ct::KeyCode::BackTab, M::SHIFT, b"\x1b[Z"),
        ];
        for (code, modifiers, want) in cases {
            let converted = key_from_crossterm(&press(code, modifiers));
            let got = converted.map(|k| encode_key(k, &modes));
            assert_eq!(got.as_deref(), Some(want), "{code:?} {modifiers:?}");
        }
    }

    fn mouse(kind: ct::MouseEventKind, column: u16, row: u16, modifiers: M) -> ct::MouseEvent {
        ct::MouseEvent {
            kind,
            column,
            row,
            modifiers,
        }
    }

    #[test]
    fn mouse_events_become_pane_relative() {
        use ct::MouseEventKind as K;
        let cases = [
            (
                K::Down(ct::MouseButton::Left),
                MouseKind::Down(MouseButton::Left),
            ),
            (
                K::Up(ct::MouseButton::Right),
                MouseKind::Up(MouseButton::Right),
            ),
            (
                K::Drag(ct::MouseButton::Middle),
                MouseKind::Drag(MouseButton::Middle),
            ),
            (K::Moved, MouseKind::Moved),
            (K::ScrollUp, MouseKind::ScrollUp),
            (K::ScrollDown, MouseKind::ScrollDown),
        ];
        for (kind, want) in cases {
            let got = mouse_from_crossterm(&mouse(kind, 12, 7, M::CONTROL), (10, 5));
            let want = MouseEvent {
                kind: want,
                col: 2,
                row: 2,
                mods: Mods {
                    ctrl: true,
                    ..Mods::default()
                },
            };
            assert_eq!(got, Some(want), "{kind:?}");
        }
    }

    #[test]
    fn mouse_outside_the_pane_or_sideways_is_dropped() {
        use ct::MouseEventKind as K;
        let down = K::Down(ct::MouseButton::Left);
        let at_origin = mouse_from_crossterm(&mouse(down, 10, 5, M::NONE), (10, 5));
        assert_eq!(at_origin.map(|e| (e.col, e.row)), Some((0, 0)));
        assert_eq!(
            mouse_from_crossterm(&mouse(down, 9, 5, M::NONE), (10, 5)),
            None
        );
        assert_eq!(
            mouse_from_crossterm(&mouse(down, 10, 4, M::NONE), (10, 5)),
            None
        );
        assert_eq!(
            mouse_from_crossterm(&mouse(K::ScrollLeft, 12, 7, M::NONE), (10, 5)),
            None
        );
        assert_eq!(
            mouse_from_crossterm(&mouse(K::ScrollRight, 12, 7, M::NONE), (10, 5)),
            None
        );
        let shifted = mouse_from_crossterm(&mouse(down, 0, 0, M::SHIFT | M::ALT), (0, 0));
        assert_eq!(
            shifted.map(|e| e.mods),
            Some(Mods {
                shift: true,
                alt: true,
                ctrl: false
            })
        );
    }
}
