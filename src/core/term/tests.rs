//! Unit tests of the terminal model: controls, SGR forms, widths, modes and the row format.

use super::*;
use crate::core::types::Size;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn screen(cols: u16, rows: u16, bytes: &[u8]) -> Screen {
    let mut s = Screen::new(Size::new(cols, rows), 100);
    s.feed(bytes);
    s
}

/// The cells of row `y`, by column (`None` under the right half of a wide cell).
fn cells(s: &Screen, y: u16) -> Vec<Option<(String, Style, bool)>> {
    let row = s.row(y);
    row.columns(s.size().cols)
        .into_iter()
        .map(|c| c.map(|c| (c.text.to_string(), *c.style, c.wide)))
        .collect()
}

fn style_at(s: &Screen, y: u16, x: usize) -> Style {
    cells(s, y)[x].as_ref().expect("a cell").1
}

#[test]
fn colon_and_semicolon_colours() {
    let s = screen(
        20,
        2,
        b"\x1b[38:2::255:128:0ma\x1b[48:2::1:2:3mb\x1b[0;38;5;200;41mc",
    );
    assert_eq!(style_at(&s, 0, 0).fg, Color::Rgb(255, 128, 0));
    assert_eq!(style_at(&s, 0, 1).bg, Color::Rgb(1, 2, 3));
    let c = style_at(&s, 0, 2);
    assert_eq!((c.fg, c.bg), (Color::Indexed(200), Color::Indexed(1)));
}

#[test]
fn underline_kinds_colour_and_attributes() {
    let s = screen(
        20,
        2,
        b"\x1b[4:3;58:2::1:2:3mc\x1b[0;4:2md\x1b[4:4me\x1b[4:5mf\x1b[0;9mg\x1b[0;8mh\x1b[0;1;2mi\x1b[0;3;7mj",
    );
    let c = style_at(&s, 0, 0);
    assert_eq!(c.underline, Underline::Curly);
    assert_eq!(c.underline_color, Color::Rgb(1, 2, 3));
    assert_eq!(style_at(&s, 0, 1).underline, Underline::Double);
    assert_eq!(style_at(&s, 0, 2).underline, Underline::Dotted);
    assert_eq!(style_at(&s, 0, 3).underline, Underline::Dashed);
    assert!(style_at(&s, 0, 4).attrs.contains(Attrs::STRIKE));
    assert!(style_at(&s, 0, 5).attrs.contains(Attrs::HIDDEN));
    assert!(
        style_at(&s, 0, 6)
            .attrs
            .contains(Attrs::BOLD.with(Attrs::DIM))
    );
    assert!(
        style_at(&s, 0, 7)
            .attrs
            .contains(Attrs::ITALIC.with(Attrs::INVERSE))
    );
    // The text survives beside its styles.
    assert_eq!(s.row(0).text(), "cdefghij");
}

#[test]
fn index_next_line_and_tab_stops() {
    // IND keeps the column, NEL goes to column 0.
    let s = screen(10, 4, b"ab\x1bDc\x1bEd");
    assert_eq!(s.row(0).text(), "ab");
    assert_eq!(s.row(1).text(), "  c");
    assert_eq!(s.row(2).text(), "d");
    // Clear every stop, set one at column 3, tab to it; past the last stop is the margin.
    let s = screen(10, 2, b"\x1b[3g   \x1bH\rx\ty\tz");
    assert_eq!(s.row(0).text(), "x  y     z");
}

#[test]
fn autowrap_off_overwrites_the_last_column() {
    let s = screen(5, 3, b"\x1b[?7labcdefg\r\nnext");
    assert_eq!(s.row(0).text(), "abcdg");
    assert_eq!(s.row(1).text(), "next");
    assert!(!s.row(0).wrapped);
    let s = screen(5, 3, b"abcdefg");
    assert!(s.row(0).wrapped);
    assert_eq!(s.row(1).text(), "fg");
}

#[test]
fn widths_follow_xterm() {
    // VS16 emoji: one column, the selector kept in its cell.
    let s = screen(10, 2, "❤\u{fe0f}x".as_bytes());
    let row = cells(&s, 0);
    assert_eq!(row[0].as_ref().map(|c| c.0.as_str()), Some("❤\u{fe0f}"));
    assert_eq!(row[1].as_ref().map(|c| c.0.as_str()), Some("x"));
    // A ZWJ family: three wide cells, the joiners kept, nothing split or lost.
    let family = "👨\u{200d}👩\u{200d}👧";
    let s = screen(10, 2, format!("{family}|").as_bytes());
    assert_eq!(s.row(0).text(), format!("{family}|"));
    assert_eq!(s.row(0).width(), 7);
    // A combining accent joins its base.
    let s = screen(10, 2, "e\u{301}z".as_bytes());
    assert_eq!(
        cells(&s, 0)[0].as_ref().map(|c| c.0.as_str()),
        Some("e\u{301}")
    );
    assert_eq!(cells(&s, 0)[1].as_ref().map(|c| c.0.as_str()), Some("z"));
    // CJK at the right margin moves to the next row; the margin cell is blank.
    let s = screen(5, 3, "abcd中".as_bytes());
    assert_eq!(s.row(0).text(), "abcd");
    assert_eq!(s.row(1).text(), "中");
    assert!(cells(&s, 1)[0].as_ref().is_some_and(|c| c.2));
    assert!(cells(&s, 1)[1].is_none());
}

#[test]
fn modes_cursor_and_title() {
    let mut s = Screen::new(Size::new(20, 4), 0);
    let m = s.modes();
    assert_eq!(m, Modes::default());
    s.feed(b"\x1b[?1h\x1b=\x1b[?2004h\x1b[?1004h\x1b[?1002h\x1b[?1006h\x1b[?1049h");
    let m = s.modes();
    assert!(m.app_cursor && m.app_keypad && m.bracketed_paste && m.focus_events && m.alt_screen);
    assert_eq!(
        (m.mouse, m.mouse_encoding),
        (MouseMode::ButtonMotion, MouseEncoding::Sgr)
    );
    s.feed(b"\x1b[?1003h");
    assert_eq!(s.modes().mouse, MouseMode::AnyMotion);
    s.feed(b"\x1b[?1003l\x1b[?1006l\x1b[?1005h\x1b[?1000h");
    assert_eq!(
        (s.modes().mouse, s.modes().mouse_encoding),
        (MouseMode::PressRelease, MouseEncoding::Utf8)
    );
    s.feed(b"\x1b[5 q\x1b[2;7H");
    let c = s.cursor();
    assert_eq!(
        (c.row, c.col, c.shape, c.blinking, c.visible),
        (1, 6, CursorShape::Beam, true, true)
    );
    s.feed(b"\x1b[?25l");
    assert!(!s.cursor().visible);
    let f = s.feed(b"\x1b]2;my title\x07");
    assert!(f.title_changed);
    assert_eq!(s.title(), "my title");
    let f = s.feed(b"\x1b]0;my title\x07\x07");
    assert!(!f.title_changed);
    assert_eq!(f.bells, 1);
}

#[test]
fn answers_queries_and_ignores_the_clipboard() {
    let mut s = Screen::new(Size::new(20, 5), 0);
    let f = s.feed(b"ab\r\ncd\x1b[6n");
    assert_eq!(f.replies, b"\x1b[2;3R");
    let f = s.feed(b"\x1b[5n");
    assert_eq!(f.replies, b"\x1b[0n");
    assert!(!s.feed(b"\x1b[c").replies.is_empty());
    // OSC 52 is dropped: no reply, no text on the screen, nothing stored.
    let f = s.feed(b"\x1b]52;c;aGVsbG8=\x07");
    assert_eq!(f, Feedback::default());
    assert_eq!(s.row(1).text(), "cd");
}

#[test]
fn a_synchronized_update_ends_at_its_deadline() {
    let mut s = Screen::new(Size::new(20, 3), 0);
    s.feed(b"\x1b[?2026hheld");
    assert_eq!(s.row(0).text(), "");
    let deadline = s.sync_deadline().expect("an open update has a deadline");
    assert!(!s.end_overdue_sync(deadline - Duration::from_millis(1)));
    assert!(s.end_overdue_sync(deadline.max(Instant::now())));
    assert_eq!(s.row(0).text(), "held");
    assert!(s.sync_deadline().is_none());
}

#[test]
fn export_shares_unchanged_rows_and_trims_blanks() {
    let mut s = Screen::new(Size::new(20, 3), 0);
    s.feed(b"one\r\n\x1b[44m  \x1b[0m\r\nthree   ");
    let a = s.export(None);
    assert_eq!(a.text(), "one\n\nthree");
    // Blanks on a coloured background are cells; blanks in the default style are not sent.
    assert_eq!(a.rows[1].width(), 2);
    assert_eq!(a.rows[2].width(), 5);
    s.feed(b"\x1b[1;1Hon3");
    let b = s.export(Some(&a));
    assert!(!Arc::ptr_eq(&a.rows[0], &b.rows[0]));
    assert!(Arc::ptr_eq(&a.rows[1], &b.rows[1]));
    assert!(Arc::ptr_eq(&a.rows[2], &b.rows[2]));
}

#[test]
fn scrolled_back_views_show_history() {
    let mut s = Screen::new(Size::new(10, 2), 10);
    s.feed(b"1\r\n2\r\n3\r\n4");
    assert_eq!(s.history_len(), 2);
    assert_eq!(s.export(None).text(), "3\n4");
    let v = s.export_view(2, None);
    assert_eq!(v.text(), "1\n2");
    assert!(!v.cursor.visible);
    assert_eq!(s.export_view(99, None).text(), "1\n2");
}

#[test]
fn rows_and_screens_round_trip_every_field() {
    let mut s = Screen::new(Size::new(30, 3), 0);
    let family = "👨\u{200d}👩\u{200d}👧";
    s.feed(
        format!(
            "\x1b[1;2;3;7;8;9;4:3;58:5:9;38:2::1:2:3;48;5;17mA中e\u{301}{family}\x1b[0m \
             \x1b[31;4m❤\u{fe0f}x\x1b]2;t\x07\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[3 q"
        )
        .as_bytes(),
    );
    let state = s.export(None);
    let bytes = rmp_serde::to_vec_named(&state).expect("encode");
    let back: ScreenState = rmp_serde::from_slice(&bytes).expect("decode");
    assert_eq!(back, state);
    assert!(back.rows.iter().all(|r| r.is_valid()));
    assert_eq!(back.title, "t");
    assert!(back.modes.app_cursor && back.modes.bracketed_paste);
    assert_eq!(back.cursor.shape, CursorShape::Underline);
    let kinds: Vec<RunKind> = back.rows[0].runs.iter().map(|r| r.kind).collect();
    assert!(kinds.contains(&RunKind::Narrow));
    assert!(kinds.contains(&RunKind::Wide));
    assert!(kinds.contains(&RunKind::Cluster { wide: false }));
    assert!(kinds.contains(&RunKind::Cluster { wide: true }));
    // A run of an unknown kind is refused rather than misdrawn.
    let bad = rmp_serde::to_vec(&(0u16, 9u8, "x")).expect("encode");
    assert!(rmp_serde::from_slice::<Run>(&bad).is_err());
}

#[test]
fn sgr_recreates_the_style() {
    let style = Style {
        fg: Color::Rgb(1, 2, 3),
        bg: Color::Indexed(9),
        underline_color: Color::Indexed(200),
        underline: Underline::Curly,
        attrs: Attrs::BOLD.with(Attrs::STRIKE),
    };
    let sgr = style.sgr();
    assert_eq!(sgr, "\x1b[0;1;9;4:3;38;2;1;2;3;101;58:5:200m");
    let s = screen(5, 1, format!("{sgr}x").as_bytes());
    assert_eq!(style_at(&s, 0, 0), style);
}

#[test]
fn updates_carry_changed_rows_and_apply_to_a_copy() {
    let mut s = Screen::new(Size::new(20, 3), 0);
    s.feed(b"one\r\ntwo\x1b]2;t\x07");
    let a = s.export(None);
    let full = a.update_from(1, None);
    assert_eq!(full.rows.len(), 3);
    assert_eq!(full.title.as_deref(), Some("t"));
    let mut copy = ScreenState::blank(Size::new(5, 5));
    copy.apply(full).expect("a full update applies");
    assert_eq!(copy, a);
    s.feed(b"\r\nthree");
    let b = s.export(Some(&a));
    let part = b.update_from(1, Some(&a));
    assert_eq!(part.rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![2]);
    assert_eq!(part.title, None);
    copy.apply(part).expect("a partial update applies");
    assert_eq!(copy, b);
    // Rows outside the screen, or wider than it, are refused and change nothing.
    let mut bad = b.update_from(1, None);
    bad.size = Size::new(3, 3);
    assert!(matches!(
        copy.apply(bad),
        Err(UpdateError::BadRow { row: 2, .. })
    ));
    let mut bad = b.update_from(1, None);
    bad.rows[0].0 = 7;
    assert!(matches!(
        copy.apply(bad),
        Err(UpdateError::RowOutside { row: 7, .. })
    ));
    assert_eq!(copy, b);
}
