//! From the emulator crate's cells, colours, cursor and modes to ours.
//!
//! The traps are the crate's, written down in shared/CRATE_NOTES.md: a tab leaves `'\t'` in
//! the cell it starts from, both kinds of wide-character spacer are skipped or blanked, and
//! `zerowidth()` is `Some(&[])` when a cell only has an underline colour.

use crate::core::term::row::{Row, RowBuilder};
use crate::core::term::state::{Cursor, CursorShape, Modes, MouseEncoding, MouseMode};
use crate::core::term::style::{Attrs, Color, Style, Underline};
use alacritty_terminal::grid::{Dimensions, Row as GridRow};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::{Term, TermMode};
use alacritty_terminal::vte::ansi::{self, NamedColor};

/// Our colour for one of the crate's.
pub fn color(c: ansi::Color) -> Color {
    match c {
        ansi::Color::Spec(rgb) => Color::Rgb(rgb.r, rgb.g, rgb.b),
        ansi::Color::Indexed(i) => Color::Indexed(i),
        ansi::Color::Named(n) => named(n),
    }
}

/// The 16 named colours are indexed colours to a guest's terminal; the rest (default
/// foreground and background, cursor) are the terminal's default.
fn named(n: NamedColor) -> Color {
    let i = n as usize;
    if i < 16 {
        return Color::Indexed(i as u8);
    }
    // The dim variants are what a renderer makes of `SGR 2`; they are not stored by SGR, but
    // map them to their base colour should one appear.
    match n {
        NamedColor::DimBlack => Color::Indexed(0),
        NamedColor::DimRed => Color::Indexed(1),
        NamedColor::DimGreen => Color::Indexed(2),
        NamedColor::DimYellow => Color::Indexed(3),
        NamedColor::DimBlue => Color::Indexed(4),
        NamedColor::DimMagenta => Color::Indexed(5),
        NamedColor::DimCyan => Color::Indexed(6),
        NamedColor::DimWhite => Color::Indexed(7),
        _ => Color::Default,
    }
}

/// The cell flags that make up a style (the rest say how wide a cell is, or that it wraps).
const STYLE_FLAGS: Flags = Flags::BOLD
    .union(Flags::DIM)
    .union(Flags::ITALIC)
    .union(Flags::INVERSE)
    .union(Flags::HIDDEN)
    .union(Flags::STRIKEOUT)
    .union(Flags::ALL_UNDERLINES);

/// The style of a cell. Called for every cell of every exported row, so the common case (a
/// plain cell) returns at once.
pub fn style(cell: &Cell) -> Style {
    let f = cell.flags.intersection(STYLE_FLAGS);
    let plain = matches!(cell.fg, ansi::Color::Named(NamedColor::Foreground))
        && matches!(cell.bg, ansi::Color::Named(NamedColor::Background));
    if plain && f.is_empty() && cell.extra.is_none() {
        return Style::default();
    }
    let mut attrs = Attrs::empty();
    attrs.set(Attrs::BOLD, f.contains(Flags::BOLD));
    attrs.set(Attrs::DIM, f.contains(Flags::DIM));
    attrs.set(Attrs::ITALIC, f.contains(Flags::ITALIC));
    attrs.set(Attrs::INVERSE, f.contains(Flags::INVERSE));
    attrs.set(Attrs::HIDDEN, f.contains(Flags::HIDDEN));
    attrs.set(Attrs::STRIKE, f.contains(Flags::STRIKEOUT));
    let underline = if f.contains(Flags::UNDERCURL) {
        Underline::Curly
    } else if f.contains(Flags::DOUBLE_UNDERLINE) {
        Underline::Double
    } else if f.contains(Flags::DOTTED_UNDERLINE) {
        Underline::Dotted
    } else if f.contains(Flags::DASHED_UNDERLINE) {
        Underline::Dashed
    } else if f.contains(Flags::UNDERLINE) {
        Underline::Single
    } else {
        Underline::None
    };
    Style {
        fg: color(cell.fg),
        bg: color(cell.bg),
        underline_color: cell.underline_color().map_or(Color::Default, color),
        underline,
        attrs,
    }
}

/// One grid row as a styled row.
pub fn export_row(row: &GridRow<Cell>) -> Row {
    let mut b = RowBuilder::default();
    let cols = row.len();
    let mut wrapped = false;
    for x in 0..cols {
        let cell = &row[alacritty_terminal::index::Column(x)];
        let f = cell.flags;
        if x + 1 == cols {
            wrapped = f.contains(Flags::WRAPLINE);
        }
        if f.contains(Flags::WIDE_CHAR_SPACER) {
            // Covered by the wide character to its left.
            continue;
        }
        let s = style(cell);
        if f.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
            // A wide character did not fit at the margin and went to the next row.
            b.push(' ', &[], s, false);
            continue;
        }
        let c = match cell.c {
            '\t' | '\0' => ' ',
            c => c,
        };
        let zerowidth = cell.zerowidth().unwrap_or(&[]);
        b.push(c, zerowidth, s, f.contains(Flags::WIDE_CHAR));
    }
    b.finish(wrapped)
}

/// The cursor of a terminal, kept on the screen.
pub fn cursor_of<L>(term: &Term<L>) -> Cursor {
    let point = term.grid().cursor.point;
    let style = term.cursor_style();
    let rows = term.screen_lines().max(1);
    let cols = term.columns().max(1);
    let row = usize::try_from(point.line.0).unwrap_or(0).min(rows - 1);
    let col = point.column.0.min(cols - 1);
    let shape = match style.shape {
        ansi::CursorShape::Underline => CursorShape::Underline,
        ansi::CursorShape::Beam => CursorShape::Beam,
        _ => CursorShape::Block,
    };
    Cursor {
        row: row as u16,
        col: col as u16,
        shape,
        blinking: style.blinking,
        visible: term.mode().contains(TermMode::SHOW_CURSOR)
            && style.shape != ansi::CursorShape::Hidden,
    }
}

/// Our modes for the crate's mode bits.
pub fn modes_of(m: TermMode) -> Modes {
    let mouse = if m.contains(TermMode::MOUSE_MOTION) {
        MouseMode::AnyMotion
    } else if m.contains(TermMode::MOUSE_DRAG) {
        MouseMode::ButtonMotion
    } else if m.contains(TermMode::MOUSE_REPORT_CLICK) {
        MouseMode::PressRelease
    } else {
        MouseMode::None
    };
    let mouse_encoding = if m.contains(TermMode::SGR_MOUSE) {
        MouseEncoding::Sgr
    } else if m.contains(TermMode::UTF8_MOUSE) {
        MouseEncoding::Utf8
    } else {
        MouseEncoding::Default
    };
    Modes {
        app_cursor: m.contains(TermMode::APP_CURSOR),
        app_keypad: m.contains(TermMode::APP_KEYPAD),
        bracketed_paste: m.contains(TermMode::BRACKETED_PASTE),
        focus_events: m.contains(TermMode::FOCUS_IN_OUT),
        mouse,
        mouse_encoding,
        alt_screen: m.contains(TermMode::ALT_SCREEN),
    }
}
