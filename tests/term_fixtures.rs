//! Our terminal model against tmux 3.3, cell by cell: each byte stream in tests/fixtures/term/
//! is fed to a `core::term::Screen` and played to a private tmux server, and the text, colours,
//! attributes and wide cells of every cell must agree, and so must the cursor.
//!
//! tmux's screen is read with `capture-pane -p -e -N`, whose lines carry their styles as SGR
//! sequences. Those lines are fed to a second Screen of the same size, so both sides become
//! the same type and are compared with the same code. What tmux 3.3's capture writes, checked
//! by hand against the fixtures:
//!
//! * bold, dim, italic, inverse, hidden (`8`), strikethrough (`9`), blink (`5`, which our
//!   styles do not hold, so both sides drop it), underline kinds as `4:2` … `4:5` and the
//!   underline colour as `58;5;N` or `58;2;R;G;B`;
//! * colours as tmux stored them: `31` stays `31`, `38;5;1` stays `38;5;1` (both are our
//!   `Indexed(1)`), RGB as `38;2;R;G;B`;
//! * DEC line drawing as SO, the ASCII letter, SI: tmux assumes the terminal's G1 is the
//!   graphics set (its `enacs`), so the replay designates G1 first (`ESC ) 0`).
//!
//! What the capture loses: cells erased with a background colour past the last written cell
//! of a line (tmux's capture stops at the line's last used cell), so no fixture erases with a
//! colour set; and the cursor's shape, which tmux 3.3 has no format for.
//!
//! The fixtures are made by tests/fixtures/term/make.py, which says what each one exercises.

mod common;

use common::term::{Fixture, assert_matches_tmux, cells, tmux_view};
use cotty::core::term::{Attrs, Color, Underline};

#[test]
fn cursor_moves_like_vttest() {
    let s = assert_matches_tmux(Fixture::new("cursor_moves", 80, 24));
    // The frame of E from DECALN survives the erases; the borders are where they were drawn.
    let frame = format!("+{}{}{}+", " ".repeat(9), "E".repeat(60), " ".repeat(9));
    assert_eq!(s.row(8).text(), frame);
    assert_eq!(s.row(17).text(), frame);
    assert_eq!(s.row(0).text(), "*".repeat(80));
    assert!(s.row(12).text().starts_with("+"), "{:?}", s.row(12).text());
    assert!(s.row(12).text().ends_with("+"), "{:?}", s.row(12).text());
}

#[test]
fn box_drawing_in_dec_graphics_and_utf8() {
    let s = assert_matches_tmux(Fixture::new("box_drawing", 40, 12));
    assert_eq!(s.row(1).text(), "  ┌────┬────┐");
    assert_eq!(s.row(7).text(), "  ┌─┐ so/si │      ┌──┬──┐");
}

#[test]
fn tab_stops_set_and_cleared() {
    let s = assert_matches_tmux(Fixture::new("tabs", 40, 8));
    assert_eq!(
        s.row(1).text(),
        format!("1   2      3{}4         5", " ".repeat(17))
    );
}

#[test]
fn autowrap_off_overwrites_the_last_column() {
    let s = assert_matches_tmux(Fixture::new("autowrap_off", 20, 6));
    assert_eq!(s.row(0).text(), "abcdefghijklmnopqrs3");
}

#[test]
#[ignore = "alacritty_terminal 0.26 leaves a wrap pending after a write to the last column \
            under ?7l, so after ?7h the next character wraps instead of overwriting it"]
fn autowrap_resumed_overwrites_the_last_column_first() {
    // xterm sets its wrap flag only when autowrap is on, and tmux does the same: the `w`
    // overwrites the `z` in the last column and `rapped!` starts the next row. Our emulator
    // puts `w` on the next row.
    let s = assert_matches_tmux(Fixture::new("autowrap_resumed", 20, 4));
    assert_eq!(s.row(0).text(), "0123456789abcdefghiw");
}

#[test]
fn backspace_from_a_pending_wrap_goes_left_as_in_xterm() {
    // A known difference, asserted on both sides. After a write to the last column the wrap
    // is pending; BS then moves one column left of it in xterm (without reverse-wrap, its
    // default) and in our emulator, so `X` overwrites the `8`. tmux 3.3 keeps its cursor one
    // past the last column and BS brings it back onto the last column, so `X` overwrites the
    // `9`. We follow xterm.
    let f = Fixture::new("backspace_pending_wrap", 10, 2);
    let (ours, tmux) = (f.ours(), tmux_view(&f));
    assert_eq!(ours.row(0).text(), "01234567X9");
    assert_eq!(
        tmux.screen.row(0).text(),
        "012345678X",
        "tmux's BS from a pending wrap changed; revisit this test"
    );
}

#[test]
#[ignore = "alacritty_terminal 0.26: CBT stops at the first tab stop instead of going on to \
            the left margin, and does not clear a pending wrap"]
fn backward_tab_to_the_margin_and_from_a_pending_wrap() {
    // xterm and tmux: CBT with no stop left goes to column 0, so `c` lands there; CBT right
    // after a write to the last column goes back from it to the stop, so `b` lands in
    // column 9 of the same row. Our emulator leaves `c` at the stop (column 9) and wraps `b`
    // onto a new row below the second, scrolling the first row off the screen.
    let s = assert_matches_tmux(Fixture::new("cbt", 40, 2));
    assert_eq!(s.row(0).text(), format!("c{}h", " ".repeat(18)));
}

#[test]
fn forward_tab_cht_which_tmux_ignores() {
    // A known difference, asserted on both sides. xterm moves the cursor forward by N tab
    // stops on CHT (`CSI N I`), and so does our emulator: `b` lands on the second stop
    // (column 16). tmux 3.3 does not implement CHT and leaves `b` right after `a`. We follow
    // xterm, as programs that send CHT expect.
    let f = Fixture::new("cht", 40, 2);
    let (ours, tmux) = (f.ours(), tmux_view(&f));
    assert_eq!(ours.row(0).text(), format!("a{}b", " ".repeat(15)));
    assert_eq!(
        tmux.screen.row(0).text(),
        "ab",
        "tmux now implements CHT; compare this fixture with assert_matches_tmux"
    );
}

#[test]
fn index_next_line_and_reverse_index_at_margins_and_in_regions() {
    let s = assert_matches_tmux(Fixture::new("index_margins", 20, 8));
    assert!(s.history_len() <= 1, "no scrollback was asked for");
}

#[test]
fn every_sgr_form() {
    let s = assert_matches_tmux(Fixture::new("sgr", 40, 12));
    // Both sides go through our parser for tmux's forms, so check by hand that the stream's
    // own forms landed: a pass where both dropped an attribute would prove nothing.
    let row = s.row(1);
    let cols = row.columns(40);
    let style = |x: usize| *cols[x].expect("a narrow cell").style;
    assert_eq!(style(0).underline, Underline::Single);
    assert_eq!(style(4).underline, Underline::Double);
    assert_eq!(style(5).underline, Underline::Curly);
    assert_eq!(style(6).underline, Underline::Dotted);
    assert_eq!(style(7).underline, Underline::Dashed);
    let row = s.row(2);
    let cols = row.columns(40);
    let style = |x: usize| *cols[x].expect("a narrow cell").style;
    assert_eq!(style(0).underline_color, Color::Indexed(100));
    assert_eq!(style(3).underline_color, Color::Rgb(4, 5, 6));
    assert_eq!(style(5).underline_color, Color::Rgb(255, 0, 0));
    let row = s.row(0);
    let cols = row.columns(40);
    let style = |x: usize| *cols[x].expect("a narrow cell").style;
    assert!(style(4).attrs.contains(Attrs::BOLD.with(Attrs::DIM)));
    assert!(style(11).attrs.contains(Attrs::HIDDEN));
    assert!(style(13).attrs.contains(Attrs::STRIKE));
    let row = s.row(5);
    let cols = row.columns(40);
    assert_eq!(cols[1].expect("a cell").style.fg, Color::Rgb(1, 2, 3));
}

#[test]
#[ignore = "vte 0.15 parses SGR 21 as `bold off` (the old Linux console meaning), where \
            xterm and tmux draw a double underline"]
fn sgr_21_is_a_double_underline() {
    // ECMA-48 and xterm: 21 is doubly underlined, ended by 24; tmux 3.3 stores it as such
    // and its capture writes `4:2`. Our emulator drops it, so `dbl` has no underline.
    let s = assert_matches_tmux(Fixture::new("sgr_21", 20, 2));
    let row = s.row(0);
    assert_eq!(
        row.columns(20)[1].expect("a cell").style.underline,
        Underline::Double
    );
}

#[test]
fn wide_characters_at_the_right_margin() {
    let s = assert_matches_tmux(Fixture::new("wide_margin", 20, 6));
    // 文 did not fit in the last column and went to the next row.
    assert_eq!(s.row(1).text(), "文字");
}

#[test]
fn emoji_with_vs16_take_one_column_as_in_tmux() {
    // tmux 3.3 and xterm give U+2764 U+FE0F the width of U+2764 (one column), and so do we.
    let s = assert_matches_tmux(Fixture::new("vs16", 12, 3));
    assert_eq!(s.cursor().col, 4);
}

#[test]
fn zwj_sequence_is_three_wide_cells_where_tmux_joins_it() {
    // A known difference, asserted on both sides. tmux 3.3 joins a character that follows a
    // ZWJ into the cell before it, so the family is one cell two columns wide and the bar
    // lands in column 2. xterm does not join (each emoji is two columns by wcwidth, the
    // ZWJs none), and neither does our emulator: six columns, the bar in column 6. We follow
    // xterm here, which is also what a program measuring with wcwidth expects.
    let f = Fixture::new("zwj", 12, 3);
    let (ours, tmux) = (f.ours(), tmux_view(&f));
    assert_eq!(
        tmux.cursor,
        (3, 0),
        "tmux no longer joins ZWJ sequences; revisit this test\n{}",
        tmux.capture
    );
    assert_eq!((ours.cursor().col, ours.cursor().row), (7, 0));
    let row = ours.row(0);
    let cells = cells(&row, 12);
    let wide: Vec<_> = cells.iter().map(|c| c.as_ref().map(|c| c.2)).collect();
    let some = Some(true);
    assert_eq!(
        &wide[..7],
        &[some, None, some, None, some, None, Some(false)]
    );
    // The text is the same: nothing is lost, only the cell boundaries differ.
    assert_eq!(ours.row(0).text(), tmux.screen.row(0).text());
}

#[test]
fn alternate_screen_restores_the_main_screen_and_cursor() {
    let s = assert_matches_tmux(Fixture::new("altscreen_restore", 30, 8));
    assert_eq!(s.row(3).text(), "     curX");
    assert!(!s.modes().alt_screen);
}

#[test]
fn alternate_screen_left_open_with_the_cursor_hidden() {
    let s = assert_matches_tmux(Fixture::new("altscreen_open", 30, 8));
    assert!(s.modes().alt_screen);
    assert!(!s.cursor().visible);
    assert!(!s.export(None).text().contains("main"));
}

#[test]
fn scroll_regions_with_scroll_up_and_down() {
    let s = assert_matches_tmux(Fixture::new("scroll_region", 20, 10));
    assert_eq!(s.row(0).text(), "line 2");
}
