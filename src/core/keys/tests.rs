//! Tests for key, paste and mouse encoding and for key specs, checked against xterm's bytes.

use super::*;

/// Modifiers from letters: `S` Shift, `A` Alt, `C` Ctrl, so tables stay one line a row.
fn mods(letters: &str) -> Mods {
    Mods {
        shift: letters.contains('S'),
        alt: letters.contains('A'),
        ctrl: letters.contains('C'),
    }
}

fn key(code: KeyCode, held: &str) -> Key {
    Key {
        code,
        mods: mods(held),
    }
}

/// Shows bytes so that a failed comparison is readable (`\x1b[1;2A`).
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

use KeyCode::{Char, F};

#[test]
fn keys_in_normal_cursor_mode() {
    let cases: &[(KeyCode, &str, &[u8])] = &[
        (Char('a'), "", b"a"),
        (Char('A'), "S", b"A"),
        (Char('~'), "S", b"~"),
        (Char('é'), "", "é".as_bytes()),
        (Char('a'), "C", b"\x01"),
        (Char('b'), "C", b"\x02"),
        (Char('z'), "C", b"\x1a"),
        (Char('B'), "CS", b"\x02"),
        (Char(' '), "C", b"\x00"),
        (Char('@'), "C", b"\x00"),
        (Char('['), "C", b"\x1b"),
        (Char('\\'), "C", b"\x1c"),
        (Char(']'), "C", b"\x1d"),
        (Char('^'), "C", b"\x1e"),
        (Char('_'), "C", b"\x1f"),
        (Char('?'), "C", b"\x7f"),
        (Char('2'), "C", b"\x00"),
        (Char('3'), "C", b"\x1b"),
        (Char('7'), "C", b"\x1f"),
        (Char('8'), "C", b"\x7f"),
        (Char('/'), "C", b"\x1f"),
        (Char('1'), "C", b"1"),
        (Char('é'), "C", "é".as_bytes()),
        (Char('x'), "A", b"\x1bx"),
        (Char('X'), "AS", b"\x1bX"),
        (Char('b'), "CA", b"\x1b\x02"),
        (Char(' '), "", b" "),
        (KeyCode::Enter, "", b"\r"),
        (KeyCode::Enter, "A", b"\x1b\r"),
        (KeyCode::Tab, "", b"\t"),
        (KeyCode::Tab, "S", b"\x1b[Z"),
        (KeyCode::Tab, "A", b"\x1b\t"),
        (KeyCode::BackTab, "", b"\x1b[Z"),
        (KeyCode::BackTab, "S", b"\x1b[Z"),
        (KeyCode::Backspace, "", b"\x7f"),
        (KeyCode::Backspace, "C", b"\x08"),
        (KeyCode::Backspace, "A", b"\x1b\x7f"),
        (KeyCode::Esc, "", b"\x1b"),
        (KeyCode::Esc, "A", b"\x1b\x1b"),
        (KeyCode::Up, "", b"\x1b[A"),
        (KeyCode::Down, "", b"\x1b[B"),
        (KeyCode::Right, "", b"\x1b[C"),
        (KeyCode::Left, "", b"\x1b[D"),
        (KeyCode::Home, "", b"\x1b[H"),
        (KeyCode::End, "", b"\x1b[F"),
        (KeyCode::Up, "S", b"\x1b[1;2A"),
        (KeyCode::Right, "C", b"\x1b[1;5C"),
        (KeyCode::Left, "A", b"\x1b[1;3D"),
        (KeyCode::Down, "SA", b"\x1b[1;4B"),
        (KeyCode::Up, "SC", b"\x1b[1;6A"),
        (KeyCode::Left, "AC", b"\x1b[1;7D"),
        (KeyCode::Down, "SAC", b"\x1b[1;8B"),
        (KeyCode::Home, "C", b"\x1b[1;5H"),
        (KeyCode::End, "S", b"\x1b[1;2F"),
        (KeyCode::Insert, "", b"\x1b[2~"),
        (KeyCode::Delete, "", b"\x1b[3~"),
        (KeyCode::PageUp, "", b"\x1b[5~"),
        (KeyCode::PageDown, "", b"\x1b[6~"),
        (KeyCode::PageUp, "S", b"\x1b[5;2~"),
        (KeyCode::Delete, "C", b"\x1b[3;5~"),
        (KeyCode::Insert, "A", b"\x1b[2;3~"),
        (F(1), "", b"\x1bOP"),
        (F(2), "", b"\x1bOQ"),
        (F(3), "", b"\x1bOR"),
        (F(4), "", b"\x1bOS"),
        (F(1), "S", b"\x1b[1;2P"),
        (F(4), "C", b"\x1b[1;5S"),
        (F(5), "", b"\x1b[15~"),
        (F(6), "", b"\x1b[17~"),
        (F(7), "", b"\x1b[18~"),
        (F(8), "", b"\x1b[19~"),
        (F(9), "", b"\x1b[20~"),
        (F(10), "", b"\x1b[21~"),
        (F(11), "", b"\x1b[23~"),
        (F(12), "", b"\x1b[24~"),
        (F(5), "C", b"\x1b[15;5~"),
        (F(5), "S", b"\x1b[15;2~"),
        (F(12), "S", b"\x1b[24;2~"),
        (F(12), "A", b"\x1b[24;3~"),
        (F(12), "SAC", b"\x1b[24;8~"),
        (F(13), "", b"\x1b[1;2P"),
        (F(16), "", b"\x1b[1;2S"),
        (F(17), "", b"\x1b[15;2~"),
        (F(20), "", b"\x1b[19;2~"),
        (F(13), "C", b"\x1b[1;6P"),
        (F(0), "", b""),
        (F(21), "", b""),
    ];
    let modes = InputModes::default();
    for &(code, held, want) in cases {
        let got = encode_key(key(code, held), &modes);
        assert_eq!(show(&got), show(want), "{code:?} with {held:?}");
    }
}

#[test]
fn application_cursor_mode_changes_only_unmodified_cursor_keys() {
    let cases: &[(KeyCode, &str, &[u8])] = &[
        (KeyCode::Up, "", b"\x1bOA"),
        (KeyCode::Down, "", b"\x1bOB"),
        (KeyCode::Right, "", b"\x1bOC"),
        (KeyCode::Left, "", b"\x1bOD"),
        (KeyCode::Home, "", b"\x1bOH"),
        (KeyCode::End, "", b"\x1bOF"),
        (KeyCode::Up, "S", b"\x1b[1;2A"),
        (KeyCode::Right, "C", b"\x1b[1;5C"),
        (KeyCode::Home, "A", b"\x1b[1;3H"),
        (KeyCode::Insert, "", b"\x1b[2~"),
        (KeyCode::PageDown, "", b"\x1b[6~"),
        (F(1), "", b"\x1bOP"),
        (F(5), "", b"\x1b[15~"),
        (Char('a'), "", b"a"),
        (KeyCode::Enter, "", b"\r"),
    ];
    let modes = InputModes {
        application_cursor: true,
        ..InputModes::default()
    };
    for &(code, held, want) in cases {
        let got = encode_key(key(code, held), &modes);
        assert_eq!(show(&got), show(want), "{code:?} with {held:?}");
    }
}

#[test]
fn pastes() {
    let plain = InputModes::default();
    let bracketed = InputModes {
        bracketed_paste: true,
        ..InputModes::default()
    };
    let cases: &[(&str, &InputModes, &[u8])] = &[
        ("ls", &plain, b"ls"),
        ("ls\n", &plain, b"ls\r"),
        ("a\r\nb\nc\rd", &plain, b"a\rb\rc\rd"),
        ("\n\n", &plain, b"\r\r"),
        ("", &plain, b""),
        ("héllo", &plain, "héllo".as_bytes()),
        // Without brackets the marker means nothing, so it is left alone.
        ("a\x1b[201~b", &plain, b"a\x1b[201~b"),
        ("hi", &bracketed, b"\x1b[200~hi\x1b[201~"),
        ("", &bracketed, b"\x1b[200~\x1b[201~"),
        ("a\r\nb\n", &bracketed, b"\x1b[200~a\rb\r\x1b[201~"),
        (
            "x\x1b[201~rm -rf ~\n",
            &bracketed,
            b"\x1b[200~xrm -rf ~\r\x1b[201~",
        ),
        ("\x1b[201~\x1b[201~", &bracketed, b"\x1b[200~\x1b[201~"),
        // Removing the inner marker must not leave a new one behind.
        ("\x1b[20\x1b[201~1~", &bracketed, b"\x1b[200~\x1b[201~"),
        // Only the exact end marker goes; lookalikes and the start marker stay.
        (
            "\x1b[201 \x1b[200~",
            &bracketed,
            b"\x1b[200~\x1b[201 \x1b[200~\x1b[201~",
        ),
    ];
    for &(text, modes, want) in cases {
        let got = encode_paste(text, modes);
        assert_eq!(
            show(&got),
            show(want),
            "{text:?}, bracketed {}",
            modes.bracketed_paste
        );
    }
}

#[test]
fn bracketed_paste_holds_exactly_one_end_marker() {
    let modes = InputModes {
        bracketed_paste: true,
        ..InputModes::default()
    };
    let text = "a\x1b[2\x1b[201~01~b\x1b[201~\x1b[201~\x1b[201~c".repeat(50);
    let got = encode_paste(&text, &modes);
    let ends = got
        .windows(PASTE_END.len())
        .filter(|w| *w == PASTE_END)
        .count();
    assert_eq!(ends, 1, "{}", show(&got));
    assert!(got.ends_with(PASTE_END));
}

fn mouse(kind: MouseKind, col: u16, row: u16, held: &str) -> MouseEvent {
    MouseEvent {
        kind,
        col,
        row,
        mods: mods(held),
    }
}

fn mouse_modes(mouse: MouseMode, mouse_encoding: MouseEncoding) -> InputModes {
    InputModes {
        mouse,
        mouse_encoding,
        ..InputModes::default()
    }
}

use MouseButton::{Left, Middle, Right};
use MouseKind::{Down, Drag, Moved, ScrollDown, ScrollUp, Up};

#[test]
fn each_mouse_mode_reports_only_what_it_asked_for() {
    let kinds = [
        Down(Left),
        Up(Left),
        ScrollUp,
        ScrollDown,
        Drag(Left),
        Moved,
    ];
    // One row per mode: whether each kind above is reported.
    let (y, n) = (true, false);
    let table = [
        (MouseMode::None, [n, n, n, n, n, n]),
        (MouseMode::Press, [y, n, n, n, n, n]),
        (MouseMode::PressRelease, [y, y, y, y, n, n]),
        (MouseMode::ButtonMotion, [y, y, y, y, y, n]),
        (MouseMode::AnyMotion, [y, y, y, y, y, y]),
    ];
    for encoding in [
        MouseEncoding::Default,
        MouseEncoding::Utf8,
        MouseEncoding::Sgr,
    ] {
        for (mode, wanted) in table {
            for (kind, want) in kinds.into_iter().zip(wanted) {
                let got = encode_mouse(mouse(kind, 3, 4, ""), &mouse_modes(mode, encoding));
                assert_eq!(got.is_some(), want, "{kind:?} in {mode:?}, {encoding:?}");
            }
        }
    }
}

#[test]
fn mouse_in_the_default_encoding() {
    let modes = mouse_modes(MouseMode::AnyMotion, MouseEncoding::Default);
    let cases: &[(MouseEvent, &[u8])] = &[
        (mouse(Down(Left), 0, 0, ""), b"\x1b[M\x20\x21\x21"),
        (mouse(Down(Middle), 0, 0, ""), b"\x1b[M\x21\x21\x21"),
        (mouse(Down(Right), 9, 4, ""), b"\x1b[M\x22\x2a\x25"),
        (mouse(Up(Right), 9, 4, ""), b"\x1b[M\x23\x2a\x25"),
        (mouse(Drag(Left), 1, 2, ""), b"\x1b[M\x40\x22\x23"),
        (mouse(Moved, 1, 2, ""), b"\x1b[M\x43\x22\x23"),
        (mouse(ScrollUp, 0, 0, ""), b"\x1b[M\x60\x21\x21"),
        (mouse(ScrollDown, 0, 0, ""), b"\x1b[M\x61\x21\x21"),
        (mouse(Down(Left), 0, 0, "S"), b"\x1b[M\x24\x21\x21"),
        (mouse(Down(Left), 0, 0, "A"), b"\x1b[M\x28\x21\x21"),
        (mouse(Down(Left), 0, 0, "C"), b"\x1b[M\x30\x21\x21"),
        (mouse(ScrollUp, 0, 0, "SAC"), b"\x1b[M\x7c\x21\x21"),
        // The last position one byte can carry: 32 + 223 = 255.
        (mouse(Down(Left), 222, 222, ""), b"\x1b[M\x20\xff\xff"),
    ];
    for &(ev, want) in cases {
        let got = encode_mouse(ev, &modes).unwrap_or_default();
        assert_eq!(show(&got), show(want), "{ev:?}");
    }
    assert_eq!(encode_mouse(mouse(Down(Left), 223, 0, ""), &modes), None);
    assert_eq!(encode_mouse(mouse(Down(Left), 0, 223, ""), &modes), None);
    assert_eq!(encode_mouse(mouse(Moved, 5000, 5000, ""), &modes), None);
}

#[test]
fn x10_mode_reports_presses_without_modifiers() {
    let modes = mouse_modes(MouseMode::Press, MouseEncoding::Default);
    let got = encode_mouse(mouse(Down(Right), 0, 0, "SAC"), &modes);
    assert_eq!(got, Some(b"\x1b[M\x22\x21\x21".to_vec()));
}

#[test]
fn mouse_in_the_utf8_encoding() {
    let modes = mouse_modes(MouseMode::AnyMotion, MouseEncoding::Utf8);
    let cases: &[(MouseEvent, &[u8])] = &[
        // Below 95 the bytes are the default encoding's.
        (mouse(Down(Left), 0, 0, ""), b"\x1b[M\x20\x21\x21"),
        (mouse(Up(Left), 94, 0, ""), b"\x1b[M\x23\x7f\x21"),
        // 32 + 96 = 128 is U+0080, two bytes.
        (mouse(Down(Left), 95, 0, ""), b"\x1b[M\x20\xc2\x80\x21"),
        (mouse(Drag(Middle), 300, 1, ""), b"\x1b[M\x41\xc5\x8d\x22"),
        // 32 + 2015 = 2047 is U+07FF, the last two-byte character.
        (
            mouse(Down(Left), 2014, 2014, ""),
            b"\x1b[M\x20\xdf\xbf\xdf\xbf",
        ),
    ];
    for &(ev, want) in cases {
        let got = encode_mouse(ev, &modes).unwrap_or_default();
        assert_eq!(show(&got), show(want), "{ev:?}");
    }
    assert_eq!(encode_mouse(mouse(Down(Left), 2015, 0, ""), &modes), None);
    assert_eq!(encode_mouse(mouse(Down(Left), 0, 2015, ""), &modes), None);
}

#[test]
fn mouse_in_the_sgr_encoding() {
    let modes = mouse_modes(MouseMode::AnyMotion, MouseEncoding::Sgr);
    let cases: &[(MouseEvent, &[u8])] = &[
        (mouse(Down(Left), 0, 0, ""), b"\x1b[<0;1;1M"),
        (mouse(Down(Middle), 0, 0, ""), b"\x1b[<1;1;1M"),
        (mouse(Down(Right), 4, 9, ""), b"\x1b[<2;5;10M"),
        // Releases keep the button and end in a lower-case m.
        (mouse(Up(Left), 4, 9, ""), b"\x1b[<0;5;10m"),
        (mouse(Up(Right), 4, 9, ""), b"\x1b[<2;5;10m"),
        (mouse(Drag(Middle), 0, 0, ""), b"\x1b[<33;1;1M"),
        (mouse(Moved, 0, 0, ""), b"\x1b[<35;1;1M"),
        (mouse(ScrollUp, 0, 0, ""), b"\x1b[<64;1;1M"),
        (mouse(ScrollDown, 0, 0, ""), b"\x1b[<65;1;1M"),
        (mouse(ScrollUp, 0, 0, "C"), b"\x1b[<80;1;1M"),
        (mouse(Up(Right), 0, 0, "SA"), b"\x1b[<14;1;1m"),
        // No coordinate limit.
        (mouse(Down(Left), 2999, 65534, ""), b"\x1b[<0;3000;65535M"),
    ];
    for &(ev, want) in cases {
        let got = encode_mouse(ev, &modes).unwrap_or_default();
        assert_eq!(show(&got), show(want), "{ev:?}");
    }
}

#[test]
fn key_specs() {
    let cases: &[(&str, KeyCode, &str)] = &[
        ("C-b", Char('b'), "C"),
        ("C-B", Char('b'), "C"),
        ("c-b", Char('b'), "C"),
        ("C-a", Char('a'), "C"),
        ("C-Space", Char(' '), "C"),
        ("M-a", Char('a'), "A"),
        ("M-A", Char('A'), "A"),
        ("C-M-x", Char('x'), "CA"),
        ("M-C-X", Char('x'), "CA"),
        ("S-a", Char('A'), ""),
        ("C-S-b", Char('b'), "C"),
        ("`", Char('`'), ""),
        ("-", Char('-'), ""),
        ("C--", Char('-'), "C"),
        ("é", Char('é'), ""),
        ("Space", Char(' '), ""),
        ("space", Char(' '), ""),
        ("Tab", KeyCode::Tab, ""),
        ("S-Tab", KeyCode::Tab, "S"),
        ("BTab", KeyCode::BackTab, ""),
        ("Enter", KeyCode::Enter, ""),
        ("ENTER", KeyCode::Enter, ""),
        ("Escape", KeyCode::Esc, ""),
        ("M-Escape", KeyCode::Esc, "A"),
        ("BSpace", KeyCode::Backspace, ""),
        ("S-Up", KeyCode::Up, "S"),
        ("PageDown", KeyCode::PageDown, ""),
        ("F1", F(1), ""),
        ("f1", F(1), ""),
        ("F12", F(12), ""),
        ("C-F5", F(5), "C"),
    ];
    for &(spec, code, held) in cases {
        assert_eq!(parse_key_spec(spec), Ok(key(code, held)), "{spec:?}");
    }
}

#[test]
fn bad_key_specs_say_what_is_wrong() {
    let cases = [
        ("", "empty"),
        ("C-", "not a key"),
        ("C-M-", "not a key"),
        ("Foo", "not a key"),
        ("C-Foo", "Space, Tab, BTab, Enter, Escape"),
        ("F0", "F1 to F12"),
        ("F13", "F1 to F12"),
        ("F999", "F1 to F12"),
        ("S-1", "shifted character"),
    ];
    for (spec, hint) in cases {
        let err = match parse_key_spec(spec) {
            Ok(key) => panic!("{spec:?} parsed as {key:?}"),
            Err(err) => err,
        };
        assert_eq!(err.spec, spec);
        assert!(err.why.contains(hint), "{spec:?}: {}", err.why);
        let shown = err.to_string();
        assert!(shown.contains(&format!("{spec:?}")), "{shown}");
        assert!(shown.contains("such as C-b"), "{shown}");
    }
}

#[test]
fn formatted_keys_read_back() {
    let cases: &[(KeyCode, &str, &str)] = &[
        (Char('b'), "C", "C-b"),
        (Char('a'), "A", "M-a"),
        (Char('x'), "CA", "C-M-x"),
        (Char(' '), "", "Space"),
        (Char(' '), "C", "C-Space"),
        (Char('`'), "", "`"),
        (Char('-'), "C", "C--"),
        (Char('A'), "", "A"),
        (Char('C'), "A", "M-C"),
        (Char('é'), "", "é"),
        (F(12), "", "F12"),
        (F(1), "S", "S-F1"),
        (KeyCode::Tab, "", "Tab"),
        (KeyCode::BackTab, "", "BTab"),
        (KeyCode::Enter, "A", "M-Enter"),
        (KeyCode::Esc, "", "Escape"),
        (KeyCode::Backspace, "C", "C-BSpace"),
        (KeyCode::Up, "S", "S-Up"),
        (KeyCode::Delete, "SAC", "C-M-S-Delete"),
        (KeyCode::PageUp, "", "PageUp"),
        (KeyCode::Insert, "", "Insert"),
    ];
    for &(code, held, text) in cases {
        let k = key(code, held);
        assert_eq!(format_key(k), text, "{k:?}");
        assert_eq!(parse_key_spec(text), Ok(k), "{text:?}");
    }
}

#[test]
fn formatting_drops_what_the_character_already_says() {
    // Shift is in the character, and Ctrl+B sends what Ctrl+b sends.
    assert_eq!(format_key(key(Char('A'), "S")), "A");
    assert_eq!(format_key(key(Char('B'), "C")), "C-b");
    assert_eq!(format_key(key(F(20), "")), "F20");
}

/// The modes a pane is in after the program printed `bytes`.
fn modes_after(bytes: &str) -> InputModes {
    let mut screen = crate::core::term::Screen::new(crate::core::types::Size::new(24, 24), 0);
    screen.feed(bytes.as_bytes());
    InputModes::from(screen.modes())
}

#[test]
fn modes_come_from_the_screen() {
    use MouseEncoding as Enc;
    assert_eq!(modes_after(""), InputModes::default());
    assert_eq!(
        modes_after("\x1b[?1h\x1b[?2004h\x1b[?1002h\x1b[?1006h"),
        InputModes {
            application_cursor: true,
            bracketed_paste: true,
            mouse: MouseMode::ButtonMotion,
            mouse_encoding: MouseEncoding::Sgr,
        }
    );
    let cases = [
        // X10 reporting (mode 9) is not kept by the emulator: no reports, as with no mouse.
        ("\x1b[?9h", MouseMode::None, Enc::Default),
        ("\x1b[?1000h", MouseMode::PressRelease, Enc::Default),
        ("\x1b[?1003h\x1b[?1005h", MouseMode::AnyMotion, Enc::Utf8),
        ("\x1b[?1003h\x1b[?1003l", MouseMode::None, Enc::Default),
    ];
    for (bytes, mouse, mouse_encoding) in cases {
        let want = mouse_modes(mouse, mouse_encoding);
        assert_eq!(modes_after(bytes), want, "{bytes:?}");
    }
    let reset = modes_after("\x1b[?1h\x1b[?2004h\x1b[?1l\x1b[?2004l");
    assert_eq!(reset, InputModes::default());
}
