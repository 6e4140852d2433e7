//! The escape sequences the guest renderer writes: a [`Pen`] that remembers the guest
//! terminal's SGR and cursor position so that only changes are sent, the modes and cursor
//! look a program set ([`Look`]), and the window title, made harmless before it is sent.
//!
//! Everything here writes into a `Vec<u8>`, which cannot fail, so write results are dropped.
//! Text that comes from the host (cells, the title, the session's name) is untrusted: control
//! characters are removed before it reaches a guest, so a host cannot send a guest's terminal
//! its own escape sequences.

use crate::core::term::{
    Attrs, CellRef, Color, CursorShape, Modes, MouseEncoding, MouseMode, ScreenState, Style,
    Underline,
};
use std::io::Write;
use unicode_width::UnicodeWidthChar;

/// The longest window title sent to a guest, in characters: enough for any real title, and a
/// host cannot make every frame carry kilobytes.
pub const MAX_TITLE_CHARS: usize = 256;

/// Puts every mode the renderer may change back to the terminal's default, in one string for
/// [`super::guest_view::GuestRenderer::start`] and `finish`: mouse reports and their
/// encodings, bracketed paste, focus reports, normal cursor keys and keypad, the cursor shown
/// in the user's own shape.
pub const DEFAULT_MODES: &str = "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?9l\x1b[?1006l\x1b[?1005l\
\x1b[?2004l\x1b[?1004l\x1b[?1l\x1b>\x1b[?25h\x1b[0 q";

/// Appends formatted text; writing into a `Vec` cannot fail.
fn put_fmt(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

/// Writes cells into a guest's terminal and remembers the SGR and cursor position it left
/// there, so a cell next to the last one costs no cursor move and a cell in the same style no
/// SGR.
#[derive(Debug)]
pub struct Pen {
    /// The SGR in force in the guest's terminal; `None` when unknown, so the next cell sets it.
    style: Option<Style>,
    /// Where the guest's cursor is; `None` when unknown: after a write into the last column
    /// (a wrap is pending there), or of text whose width the guest's terminal may judge
    /// differently from the host's emulator.
    at: Option<(u16, u16)>,
    /// The guest terminal's width, to tell when a write ends at the margin.
    cols: u16,
}

impl Pen {
    /// A pen for a terminal `cols` wide whose state is unknown.
    pub fn new(cols: u16) -> Pen {
        Pen {
            style: None,
            at: None,
            cols,
        }
    }

    /// The terminal changed width; its cursor may have moved with it.
    pub fn resize(&mut self, cols: u16) {
        self.cols = cols;
        self.at = None;
    }

    /// Where the cursor is, when known.
    pub fn at(&self) -> Option<(u16, u16)> {
        self.at
    }

    /// The SGR in force, when known.
    pub fn style(&self) -> Option<&Style> {
        self.style.as_ref()
    }

    /// Records that the terminal was put back to the default SGR by something we wrote.
    pub fn was_reset(&mut self) {
        self.style = Some(Style::default());
    }

    /// Records that the cursor is at `(x, y)` because of something we wrote.
    pub fn was_moved(&mut self, x: u16, y: u16) {
        self.at = Some((x, y));
    }

    /// Moves the cursor to column `x` of row `y` in as few bytes as it takes.
    pub fn move_to(&mut self, out: &mut Vec<u8>, x: u16, y: u16) {
        match self.at {
            Some(at) if at == (x, y) => {}
            Some((ax, ay)) if ay == y && ax < x => match x - ax {
                1 => out.extend_from_slice(b"\x1b[C"),
                n => put_fmt(out, format_args!("\x1b[{n}C")),
            },
            Some((_, ay)) if ay == y && x == 0 => out.push(b'\r'),
            _ if x == 0 => put_fmt(out, format_args!("\x1b[{}H", y + 1)),
            _ => put_fmt(out, format_args!("\x1b[{};{}H", y + 1, x + 1)),
        }
        self.at = Some((x, y));
    }

    /// Sets the SGR to `style` unless it is in force already.
    pub fn set_style(&mut self, out: &mut Vec<u8>, style: &Style) {
        if self.style.as_ref() != Some(style) {
            out.extend_from_slice(style.sgr().as_bytes());
            self.style = Some(*style);
        }
    }

    /// Writes one cell at `(x, y)`.
    pub fn put(&mut self, out: &mut Vec<u8>, x: u16, y: u16, cell: CellRef<'_>) {
        self.move_to(out, x, y);
        self.set_style(out, cell.style);
        self.text(out, cell.text, if cell.wide { 2 } else { 1 });
    }

    /// Writes text that the host's emulator says takes `cols` columns, where the cursor is,
    /// without its control characters.
    pub fn text(&mut self, out: &mut Vec<u8>, text: &str, cols: u16) {
        let plain = is_plain_ascii(text);
        if plain {
            out.extend_from_slice(text.as_bytes());
        } else {
            let before = out.len();
            let mut buf = [0; 4];
            for c in text.chars().filter(|c| !c.is_control()) {
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            if out.len() == before {
                out.push(b' ');
            }
        }
        self.at = match self.at {
            Some((x, y))
                if x.saturating_add(cols) < self.cols && (plain || width_agrees(text, cols)) =>
            {
                Some((x + cols, y))
            }
            _ => None,
        };
    }
}

/// Whether `text` is printable ASCII, which every terminal draws one column per byte.
pub fn is_plain_ascii(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Whether a guest's terminal will surely move `cols` columns for `text`: a single character
/// whose width everyone agrees on. Clusters (a VS16 emoji, a ZWJ sequence) are judged
/// differently by different terminals, so the cursor is placed anew after one.
fn width_agrees(text: &str, cols: u16) -> bool {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => c.width() == Some(usize::from(cols)),
        _ => false,
    }
}

/// Fits a line of our own text (the status line) into `cols` columns: control characters
/// dropped, cut where the next character would cross the margin, padded with spaces.
pub fn fit_line(text: &str, cols: u16) -> String {
    let cols = usize::from(cols);
    let mut out = String::with_capacity(cols);
    let mut used = 0;
    for c in text.chars().filter(|c| !c.is_control()) {
        let w = c.width().unwrap_or(0);
        if used + w > cols {
            break;
        }
        used += w;
        out.push(c);
    }
    out.extend(std::iter::repeat_n(' ', cols - used));
    out
}

/// The title as a guest may receive it: without control characters (an ESC or BEL would end
/// the OSC early and let the rest run as escape sequences), at most [`MAX_TITLE_CHARS`] long.
pub fn clean_title(title: &str) -> String {
    title
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect()
}

/// Sets the guest's window title (OSC 2) to a title already made clean by [`clean_title`].
pub fn write_title(out: &mut Vec<u8>, clean: &str) {
    put_fmt(out, format_args!("\x1b]2;{clean}\x07"));
}

/// What the renderer keeps in step between the program and a guest's terminal besides cells:
/// the modes that change what the terminal sends, and how the cursor looks. The program's
/// alternate screen is not part of it: the guest stays on the one the renderer entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    /// The program's modes, with `alt_screen` always off.
    modes: Modes,
    /// The cursor's shape.
    shape: CursorShape,
    /// Whether the cursor blinks.
    blinking: bool,
}

impl Look {
    /// The look a screen asks for; without mouse and focus reporting unless `may_point`.
    pub fn of(screen: &ScreenState, may_point: bool) -> Look {
        let mut modes = Modes {
            alt_screen: false,
            ..screen.modes
        };
        if !may_point {
            modes.mouse = MouseMode::None;
            modes.focus_events = false;
        }
        Look {
            modes,
            shape: screen.cursor.shape,
            blinking: screen.cursor.blinking,
        }
    }

    /// How a terminal in this look reports the mouse.
    pub fn mouse_encoding(&self) -> MouseEncoding {
        self.modes.mouse_encoding
    }

    /// Writes what turns a terminal in look `self` into one in `next`, and nothing else.
    pub fn write_change(&self, next: &Look, out: &mut Vec<u8>) {
        let (a, b) = (&self.modes, &next.modes);
        let flag = |out: &mut Vec<u8>, on: bool, mode: u16| {
            put_fmt(
                out,
                format_args!("\x1b[?{mode}{}", if on { 'h' } else { 'l' }),
            );
        };
        if a.app_cursor != b.app_cursor {
            flag(out, b.app_cursor, 1);
        }
        if a.app_keypad != b.app_keypad {
            out.extend_from_slice(if b.app_keypad { b"\x1b=" } else { b"\x1b>" });
        }
        if a.bracketed_paste != b.bracketed_paste {
            flag(out, b.bracketed_paste, 2004);
        }
        if a.focus_events != b.focus_events {
            flag(out, b.focus_events, 1004);
        }
        // The old mode is turned off first: terminals that keep each mouse mode apart would
        // otherwise go on reporting what the program no longer wants.
        if a.mouse_encoding != b.mouse_encoding {
            if let Some(m) = encoding_mode(a.mouse_encoding) {
                flag(out, false, m);
            }
            if let Some(m) = encoding_mode(b.mouse_encoding) {
                flag(out, true, m);
            }
        }
        if a.mouse != b.mouse {
            if let Some(m) = a.mouse.private_mode() {
                flag(out, false, m);
            }
            if let Some(m) = b.mouse.private_mode() {
                flag(out, true, m);
            }
        }
        if (self.shape, self.blinking) != (next.shape, next.blinking) {
            put_fmt(
                out,
                format_args!("\x1b[{} q", decscusr(next.shape, next.blinking)),
            );
        }
    }
}

/// The private mode that selects a mouse encoding, if any.
fn encoding_mode(e: MouseEncoding) -> Option<u16> {
    match e {
        MouseEncoding::Default => None,
        MouseEncoding::Utf8 => Some(1005),
        MouseEncoding::Sgr => Some(1006),
    }
}

/// The DECSCUSR parameter for a cursor look. A steady block is what the emulator reports when
/// no program chose a shape, so it is sent as `0`, the guest's own default, rather than
/// overriding the shape the guest prefers.
pub fn decscusr(shape: CursorShape, blinking: bool) -> u8 {
    match (shape, blinking) {
        (CursorShape::Block, false) => 0,
        (CursorShape::Block, true) => 1,
        (CursorShape::Underline, true) => 3,
        (CursorShape::Underline, false) => 4,
        (CursorShape::Beam, true) => 5,
        (CursorShape::Beam, false) => 6,
    }
}

/// Our style for a theme's ratatui style, so the status line and the unused area are written
/// with the same SGR code as cells. Blink has no place in our styles and is dropped.
pub fn theme_style(s: ratatui::style::Style) -> Style {
    use ratatui::style::Modifier;
    let m = s.add_modifier - s.sub_modifier;
    let mut attrs = Attrs::empty();
    for (attr, modifier) in crate::ui::screen_view::ATTR_MODIFIERS {
        attrs.set(attr, m.contains(modifier));
    }
    let underline = if m.contains(Modifier::UNDERLINED) {
        Underline::Single
    } else {
        Underline::None
    };
    Style {
        fg: s.fg.map_or(Color::Default, theme_color),
        bg: s.bg.map_or(Color::Default, theme_color),
        underline_color: Color::Default,
        underline,
        attrs,
    }
}

/// Our colour for a ratatui colour: the named ones are the 16 indexed colours.
fn theme_color(c: ratatui::style::Color) -> Color {
    use ratatui::style::Color as C;
    match c {
        C::Reset => Color::Default,
        C::Black => Color::Indexed(0),
        C::Red => Color::Indexed(1),
        C::Green => Color::Indexed(2),
        C::Yellow => Color::Indexed(3),
        C::Blue => Color::Indexed(4),
        C::Magenta => Color::Indexed(5),
        C::Cyan => Color::Indexed(6),
        C::Gray => Color::Indexed(7),
        C::DarkGray => Color::Indexed(8),
        C::LightRed => Color::Indexed(9),
        C::LightGreen => Color::Indexed(10),
        C::LightYellow => Color::Indexed(11),
        C::LightBlue => Color::Indexed(12),
        C::LightMagenta => Color::Indexed(13),
        C::LightCyan => Color::Indexed(14),
        C::White => Color::Indexed(15),
        C::Indexed(i) => Color::Indexed(i),
        C::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::term::MouseMode;

    #[test]
    fn lines_fit_their_width_and_titles_lose_control_characters() {
        assert_eq!(fit_line("ab漢c", 4), "ab漢");
        assert_eq!(fit_line("ab漢c", 3), "ab ");
        assert_eq!(fit_line("a\x1bb", 4), "ab  ");
        assert_eq!(clean_title("x\x1b]2;y\x07\u{9c}z"), "x]2;yz");
        assert_eq!(
            clean_title(&"é".repeat(300)).chars().count(),
            MAX_TITLE_CHARS
        );
    }

    #[test]
    fn a_look_change_writes_only_what_changed() {
        let mut a = Look::default();
        let mut out = Vec::new();
        a.write_change(&a, &mut out);
        assert!(out.is_empty(), "{out:?}");
        let mut b = a;
        b.modes.mouse = MouseMode::PressRelease;
        b.modes.alt_screen = true;
        a.write_change(&b, &mut out);
        assert_eq!(out, b"\x1b[?1000h", "the alternate screen is never sent");
        a = b;
        b.modes.mouse = MouseMode::AnyMotion;
        (b.shape, b.blinking) = (CursorShape::Underline, false);
        out.clear();
        a.write_change(&b, &mut out);
        assert_eq!(out, b"\x1b[?1000l\x1b[?1003h\x1b[4 q");
    }

    #[test]
    fn the_pen_moves_in_few_bytes_and_forgets_at_the_margin() {
        let mut pen = Pen::new(10);
        let mut out = Vec::new();
        pen.move_to(&mut out, 3, 2);
        pen.move_to(&mut out, 5, 2);
        pen.move_to(&mut out, 0, 2);
        pen.move_to(&mut out, 0, 4);
        assert_eq!(out, b"\x1b[3;4H\x1b[2C\r\x1b[5H");
        let cell = |text| CellRef {
            text,
            style: &BLANK,
            wide: false,
        };
        pen.put(&mut out, 8, 4, cell("a"));
        assert_eq!(pen.at(), Some((9, 4)));
        pen.put(&mut out, 9, 4, cell("b"));
        assert_eq!(pen.at(), None, "a wrap is pending in the last column");
        pen.put(&mut out, 1, 1, cell("e\u{301}"));
        assert_eq!(pen.at(), None, "a cluster's width is the guest's to judge");
    }

    /// The default style, for cells in these tests.
    static BLANK: Style = Style {
        fg: Color::Default,
        bg: Color::Default,
        underline_color: Color::Default,
        underline: Underline::None,
        attrs: Attrs::empty(),
    };
}
