//! Mouse reports as a terminal sends them, read back into [`MouseEvent`]s: the inverse of
//! [`crate::core::keys::encode_mouse`].
//!
//! A guest's terminal reports the mouse in its own coordinates and in the encoding it was told
//! to use. The relay reads each report, moves it into the pane's coordinates and encodes it
//! again in the pane's current modes, so that a report never reaches a program that did not
//! ask for one, and never points at the wrong cell.

use crate::core::keys::{MouseButton, MouseEncoding, MouseEvent, MouseKind};

use super::Mods;

/// What the start of some input is, as far as mouse reports go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// A whole mouse report of `len` bytes, at a 0-based cell of the terminal that sent it.
    /// An `Up` from the older encodings, which do not say which button came up, carries
    /// [`MouseButton::Left`].
    Mouse {
        /// The event, in the sender's coordinates.
        event: MouseEvent,
        /// How many bytes of the input it took.
        len: usize,
    },
    /// A report the protocols have no event for (horizontal wheel, buttons 6 to 11), of `len`
    /// bytes, to be dropped.
    Unknown {
        /// How many bytes of the input it took.
        len: usize,
    },
    /// The input starts a report that is not complete yet: wait for more.
    Partial,
    /// The input does not start with a mouse report.
    No,
}

/// The longest report kept while waiting for its end: `ESC [ <` with three numbers of five
/// digits. Anything longer is not a report.
pub const MAX_REPORT: usize = 3 + 3 * 6;

/// Reads the mouse report at the start of `input`, if there is one.
///
/// The SGR form (`ESC [ < b ; x ; y M`) is recognised whatever `encoding` says. The older
/// form (`ESC [ M` and three values) is read as bytes, or as UTF-8 characters under
/// [`MouseEncoding::Utf8`] (mode 1005), since only the encoding tells them apart.
pub fn read_report(input: &[u8], encoding: MouseEncoding) -> Report {
    let prefix = b"\x1b[";
    if input.len() < 3 {
        // Only a lone ESC or `ESC [` can be the start of a report, and both are also keys
        // (Escape, Alt+[): the caller passes them on rather than wait.
        return Report::No;
    }
    if &input[..2] != prefix {
        return Report::No;
    }
    match input[2] {
        b'<' => read_sgr(&input[3..]),
        b'M' => read_classic(&input[3..], encoding),
        _ => Report::No,
    }
}

/// Reads the rest of an SGR report after `ESC [ <`.
fn read_sgr(rest: &[u8]) -> Report {
    let mut numbers = [0u32; 3];
    let mut index = 0;
    let mut digits = 0;
    for (i, &b) in rest.iter().enumerate() {
        match b {
            b'0'..=b'9' if digits < 5 => {
                numbers[index] = numbers[index] * 10 + u32::from(b - b'0');
                digits += 1;
            }
            b';' if digits > 0 && index < 2 => {
                index += 1;
                digits = 0;
            }
            b'M' | b'm' if digits > 0 && index == 2 => {
                let [code, x, y] = numbers;
                let len = 3 + i + 1;
                return match event(code, x, y, b == b'm') {
                    Some(event) => Report::Mouse { event, len },
                    None => Report::Unknown { len },
                };
            }
            _ => return Report::No,
        }
    }
    Report::Partial
}

/// Reads the rest of a report after `ESC [ M`: three values, each 32 more than it means.
fn read_classic(rest: &[u8], encoding: MouseEncoding) -> Report {
    let mut values = [0u32; 3];
    let mut at = 0;
    for value in &mut values {
        let Some(&first) = rest.get(at) else {
            return Report::Partial;
        };
        let (v, len) = if encoding == MouseEncoding::Utf8 && first >= 0x80 {
            // Mode 1005 sends values above 95 as two-byte UTF-8 (up to U+07FF).
            if first & 0xe0 != 0xc0 {
                return Report::No;
            }
            let Some(&second) = rest.get(at + 1) else {
                return Report::Partial;
            };
            if second & 0xc0 != 0x80 {
                return Report::No;
            }
            (u32::from(first & 0x1f) << 6 | u32::from(second & 0x3f), 2)
        } else {
            (u32::from(first), 1)
        };
        if v < 32 {
            return Report::No;
        }
        *value = v - 32;
        at += len;
    }
    let [code, x, y] = values;
    let len = 3 + at;
    // In these encodings a release is button 3, with no word of which button it was.
    let released = code & 0b1100_0011 == 3 && code & 32 == 0;
    match event(code, x, y, released) {
        Some(event) => Report::Mouse { event, len },
        None => Report::Unknown { len },
    }
}

/// The event a report's button code and 1-based position stand for.
fn event(code: u32, x: u32, y: u32, released: bool) -> Option<MouseEvent> {
    let col = u16::try_from(x.checked_sub(1)?).ok()?;
    let row = u16::try_from(y.checked_sub(1)?).ok()?;
    let mods = Mods {
        shift: code & 4 != 0,
        alt: code & 8 != 0,
        ctrl: code & 16 != 0,
    };
    let motion = code & 32 != 0;
    let button = match code & 3 {
        0 => Some(MouseButton::Left),
        1 => Some(MouseButton::Middle),
        2 => Some(MouseButton::Right),
        _ => None,
    };
    let kind = match (code & 0b1100_0000, motion, button) {
        (0, _, _) if released => MouseKind::Up(button.unwrap_or(MouseButton::Left)),
        (0, false, Some(b)) => MouseKind::Down(b),
        (0, true, Some(b)) => MouseKind::Drag(b),
        (0, true, None) => MouseKind::Moved,
        (64, _, _) if code & 3 == 0 => MouseKind::ScrollUp,
        (64, _, _) if code & 3 == 1 => MouseKind::ScrollDown,
        _ => return None,
    };
    Some(MouseEvent {
        kind,
        col,
        row,
        mods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::keys::{InputModes, MouseMode, encode_mouse};

    fn modes(encoding: MouseEncoding) -> InputModes {
        InputModes {
            mouse: MouseMode::AnyMotion,
            mouse_encoding: encoding,
            ..InputModes::default()
        }
    }

    #[test]
    fn every_event_reads_back_in_every_encoding() {
        let buttons = [MouseButton::Left, MouseButton::Middle, MouseButton::Right];
        let mut kinds = vec![MouseKind::Moved, MouseKind::ScrollUp, MouseKind::ScrollDown];
        for b in buttons {
            kinds.extend([MouseKind::Down(b), MouseKind::Up(b), MouseKind::Drag(b)]);
        }
        let all_mods = (0..8).map(|m| Mods {
            shift: m & 1 != 0,
            alt: m & 2 != 0,
            ctrl: m & 4 != 0,
        });
        let encodings = [
            MouseEncoding::Default,
            MouseEncoding::Utf8,
            MouseEncoding::Sgr,
        ];
        for mods in all_mods {
            for &kind in &kinds {
                for (col, row) in [(0, 0), (5, 7), (94, 95), (150, 200), (222, 222)] {
                    for enc in encodings {
                        let ev = MouseEvent {
                            kind,
                            col,
                            row,
                            mods,
                        };
                        let bytes = encode_mouse(ev, &modes(enc)).expect("encodable");
                        let mut want = ev;
                        if enc != MouseEncoding::Sgr && matches!(kind, MouseKind::Up(_)) {
                            want.kind = MouseKind::Up(MouseButton::Left);
                        }
                        assert_eq!(
                            read_report(&bytes, enc),
                            Report::Mouse {
                                event: want,
                                len: bytes.len()
                            },
                            "{enc:?} {bytes:?}"
                        );
                        for cut in 3..bytes.len() {
                            assert_eq!(read_report(&bytes[..cut], enc), Report::Partial);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn keys_and_other_sequences_are_not_reports() {
        for input in [
            &b"a"[..],
            b"\x1b",
            b"\x1b[",
            b"\x1b[A",
            b"\x1bOA",
            b"\x1b[200~",
            b"\x1b[<a;1;1M",
            b"\x1b[<1;1M",
            b"\x1b[<123456;1;1M",
            b"\x1b[M\x01\x21\x21",
        ] {
            assert_eq!(read_report(input, MouseEncoding::Default), Report::No);
        }
    }

    #[test]
    fn a_horizontal_wheel_is_read_and_dropped() {
        assert_eq!(
            read_report(b"\x1b[<66;3;4M", MouseEncoding::Sgr),
            Report::Unknown { len: 10 }
        );
        assert_eq!(
            read_report(b"\x1b[<0;0;4M", MouseEncoding::Sgr),
            Report::Unknown { len: 9 }
        );
    }
}
