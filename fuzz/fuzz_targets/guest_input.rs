//! Fuzzes what guests and settings feed in: the relay's filter of ssh guest keystrokes, the
//! key spec parser (`prefix = "C-b"`), the key, paste and mouse encoders under any input
//! modes, the mapper of guests' mouse reports into the pane, and terminal size parsing
//! (`--size 120x40`).
//!
//! Besides not panicking, each checks a property a user relies on: split reads filter like
//! one read, typed text passes the report mapper unchanged, a parsed key prints and parses
//! back, a bracketed paste cannot end its bracket early, and a parsed size prints and parses
//! back.

#![no_main]

use arbitrary::Arbitrary;
use cotty::core::keys::{
    self, InputModes, Key, KeyCode, Mods, MouseButton, MouseEncoding, MouseEvent, MouseKind,
    MouseMode,
};
use cotty::core::types::Size;
use cotty::core::term::Modes;
use cotty::net::relay::guest_input::{KeyFilter, Keys, ReportMapper};
use cotty::ui::guest_view::Placement;
use libfuzzer_sys::fuzz_target;

/// One fuzz case.
#[derive(Arbitrary, Debug)]
enum Case {
    /// A guest's keystrokes, as the reads the ssh channel delivers.
    Filter(Vec<Vec<u8>>),
    /// A key spec from the config file or a flag.
    KeySpec(String),
    /// A size from a flag.
    Size(String),
    /// A key press from the dashboard.
    Key(AKey, AModes),
    /// A paste from the dashboard.
    Paste(String, AModes),
    /// A mouse event from the dashboard.
    Mouse(AMouse, AModes),
    /// A guest's input with mouse and focus reports, as the reads the ssh channel delivers,
    /// mapped into a pane seen from an offset: (offset row, offset col, view cols, view rows,
    /// pane cols, pane rows), the guest terminal's modes and the pane's.
    Reports(Vec<Vec<u8>>, [u16; 6], AModes, AModes, bool),
}

fuzz_target!(|case: Case| match case {
    Case::Filter(reads) => filter(&reads),
    Case::KeySpec(spec) => key_spec(&spec),
    Case::Size(text) => size(&text),
    Case::Key(key, modes) => {
        let key = key.into();
        let bytes = keys::encode_key(key, &modes.into());
        if let KeyCode::Char(c) = key.code
            && key.mods == Mods::default()
        {
            assert_eq!(
                bytes,
                c.to_string().into_bytes(),
                "a plain character is itself"
            );
        }
    }
    Case::Paste(text, modes) => paste(&text, modes.into()),
    Case::Reports(reads, place, guest, pane, focus) => reports(&reads, place, guest, pane, focus),
    Case::Mouse(ev, modes) => {
        let modes: InputModes = modes.into();
        if let Some(bytes) = keys::encode_mouse(ev.into(), &modes) {
            assert!(bytes.starts_with(b"\x1b["), "{bytes:?}");
            assert_ne!(modes.mouse, MouseMode::None, "a report nobody asked for");
        }
    }
});

/// Filtering reads one by one must give what filtering them as one read gives.
fn filter(reads: &[Vec<u8>]) {
    let whole: Vec<u8> = reads.concat();
    let at_once = KeyFilter::default().feed(&whole);
    let mut split = Keys::default();
    let mut f = KeyFilter::default();
    for read in reads {
        let keys = f.feed(read);
        split.input.extend_from_slice(&keys.input);
        if keys.detach {
            // The guest is detached: the relay reads no more.
            split.detach = true;
            break;
        }
    }
    assert_eq!(split, at_once, "split reads filtered differently");
    if !whole.contains(&0x02) {
        assert_eq!(at_once.input, whole, "keys without the prefix changed");
    }
}

/// Mapping reports never panics, and input without an ESC passes unchanged, however split.
fn reports(reads: &[Vec<u8>], p: [u16; 6], guest: AModes, pane: AModes, focus: bool) {
    let place = Placement {
        offset: (p[0], p[1]),
        view: Size::new(p[2], p[3]),
        pane: Size::new(p[4], p[5]),
    };
    let guest: InputModes = guest.into();
    let pane: InputModes = pane.into();
    let modes = Modes {
        app_cursor: pane.application_cursor,
        bracketed_paste: pane.bracketed_paste,
        focus_events: focus,
        mouse: pane.mouse,
        mouse_encoding: pane.mouse_encoding,
        ..Modes::default()
    };
    let mut m = ReportMapper::default();
    let mut out = Vec::new();
    for read in reads {
        out.extend(m.map(read, Some(&place), guest.mouse_encoding, &modes));
    }
    let whole = reads.concat();
    if !whole.contains(&0x1b) {
        assert_eq!(out, whole, "input without an escape changed");
    }
}

/// A spec that parses must print as a spec that parses to the same key.
fn key_spec(spec: &str) {
    let Ok(key) = keys::parse_key_spec(spec) else {
        return;
    };
    let printed = keys::format_key(key);
    assert_eq!(
        keys::parse_key_spec(&printed),
        Ok(key),
        "{spec:?} printed as {printed:?}"
    );
}

/// A size that parses is in range and prints as a size that parses to the same.
fn size(text: &str) {
    let Ok(size) = text.parse::<Size>() else {
        return;
    };
    assert!((2..=1000).contains(&size.cols) && (2..=1000).contains(&size.rows));
    assert_eq!(size.to_string().parse::<Size>(), Ok(size));
}

/// A bracketed paste holds exactly one end marker: its last bytes.
fn paste(text: &str, modes: InputModes) {
    const START: &[u8] = b"\x1b[200~";
    const END: &[u8] = b"\x1b[201~";
    let bytes = keys::encode_paste(text, &modes);
    assert!(
        !bytes.contains(&b'\n'),
        "a line end was not turned into Enter"
    );
    if !modes.bracketed_paste {
        return;
    }
    assert!(
        bytes.starts_with(START) && bytes.ends_with(END),
        "{bytes:?}"
    );
    let first_end = bytes.windows(END.len()).position(|w| w == END);
    assert_eq!(
        first_end,
        Some(bytes.len() - END.len()),
        "the paste ends its bracket early: {bytes:?}"
    );
}

/// [`Mods`], for `arbitrary`.
#[derive(Arbitrary, Debug)]
struct AMods {
    shift: bool,
    alt: bool,
    ctrl: bool,
}

impl From<AMods> for Mods {
    fn from(m: AMods) -> Mods {
        Mods {
            shift: m.shift,
            alt: m.alt,
            ctrl: m.ctrl,
        }
    }
}

/// [`KeyCode`], for `arbitrary`.
#[derive(Arbitrary, Debug)]
enum ACode {
    Char(char),
    Enter,
    Tab,
    BackTab,
    Backspace,
    Esc,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    Delete,
    F(u8),
}

impl From<ACode> for KeyCode {
    fn from(c: ACode) -> KeyCode {
        match c {
            ACode::Char(c) => KeyCode::Char(c),
            ACode::Enter => KeyCode::Enter,
            ACode::Tab => KeyCode::Tab,
            ACode::BackTab => KeyCode::BackTab,
            ACode::Backspace => KeyCode::Backspace,
            ACode::Esc => KeyCode::Esc,
            ACode::Up => KeyCode::Up,
            ACode::Down => KeyCode::Down,
            ACode::Left => KeyCode::Left,
            ACode::Right => KeyCode::Right,
            ACode::Home => KeyCode::Home,
            ACode::End => KeyCode::End,
            ACode::PageUp => KeyCode::PageUp,
            ACode::PageDown => KeyCode::PageDown,
            ACode::Insert => KeyCode::Insert,
            ACode::Delete => KeyCode::Delete,
            ACode::F(n) => KeyCode::F(n),
        }
    }
}

/// [`Key`], for `arbitrary`.
#[derive(Arbitrary, Debug)]
struct AKey {
    code: ACode,
    mods: AMods,
}

impl From<AKey> for Key {
    fn from(k: AKey) -> Key {
        Key {
            code: k.code.into(),
            mods: k.mods.into(),
        }
    }
}

/// [`InputModes`], for `arbitrary`.
#[derive(Arbitrary, Debug)]
struct AModes {
    application_cursor: bool,
    bracketed_paste: bool,
    /// Index into the mouse modes, in the order of [`MouseMode`].
    mouse: u8,
    /// Index into the mouse encodings, in the order of [`MouseEncoding`].
    encoding: u8,
}

impl From<AModes> for InputModes {
    fn from(m: AModes) -> InputModes {
        const MODES: [MouseMode; 5] = [
            MouseMode::None,
            MouseMode::Press,
            MouseMode::PressRelease,
            MouseMode::ButtonMotion,
            MouseMode::AnyMotion,
        ];
        const ENCODINGS: [MouseEncoding; 3] = [
            MouseEncoding::Default,
            MouseEncoding::Utf8,
            MouseEncoding::Sgr,
        ];
        InputModes {
            application_cursor: m.application_cursor,
            bracketed_paste: m.bracketed_paste,
            mouse: MODES[usize::from(m.mouse) % MODES.len()],
            mouse_encoding: ENCODINGS[usize::from(m.encoding) % ENCODINGS.len()],
        }
    }
}

/// [`MouseEvent`], for `arbitrary`.
#[derive(Arbitrary, Debug)]
struct AMouse {
    /// Index into the kinds below.
    kind: u8,
    /// Index into the buttons, for the kinds that have one.
    button: u8,
    col: u16,
    row: u16,
    mods: AMods,
}

impl From<AMouse> for MouseEvent {
    fn from(m: AMouse) -> MouseEvent {
        const BUTTONS: [MouseButton; 3] =
            [MouseButton::Left, MouseButton::Middle, MouseButton::Right];
        let button = BUTTONS[usize::from(m.button) % BUTTONS.len()];
        let kind = match m.kind % 6 {
            0 => MouseKind::Down(button),
            1 => MouseKind::Up(button),
            2 => MouseKind::Drag(button),
            3 => MouseKind::Moved,
            4 => MouseKind::ScrollUp,
            _ => MouseKind::ScrollDown,
        };
        MouseEvent {
            kind,
            col: m.col,
            row: m.row,
            mods: m.mods.into(),
        }
    }
}
