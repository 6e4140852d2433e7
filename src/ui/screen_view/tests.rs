//! Tests: the widget draws the same cells as the screen model, for recorded fixtures.

use super::*;
use crate::core::term::Screen;
use crate::core::types::Size;

fn fixture(name: &str) -> ScreenState {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("fixture exists");
    let mut s = Screen::new(Size::new(80, 24), 0);
    s.feed(&bytes);
    s.export(None)
}

fn render(screen: &ScreenState, w: u16, h: u16) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    ScreenView::new(screen)
        .unused("·", Style::default())
        .render(buf.area, &mut buf);
    buf
}

/// Asserts that every cell of the buffer matches the screen's.
fn assert_same_cells(screen: &ScreenState, buf: &Buffer) {
    for row in 0..24u16 {
        for (col, cell) in screen.row(row).columns(80).into_iter().enumerate() {
            let out = &buf[(col as u16, row)];
            let Some(cell) = cell else { continue };
            assert_eq!(out.symbol(), cell.text, "symbol at row {row} col {col}");
            let want = style(cell.style);
            assert_eq!(out.fg, want.fg.unwrap_or(Color::Reset), "fg at {row},{col}");
            assert_eq!(out.bg, want.bg.unwrap_or(Color::Reset), "bg at {row},{col}");
            assert_eq!(out.modifier, want.add_modifier, "attrs at {row},{col}");
        }
    }
}

#[test]
fn colours_and_attributes_are_copied_cell_for_cell() {
    let p = &fixture("colors.bin");
    let buf = render(p, 80, 24);
    assert_same_cells(p, &buf);
    // Spot checks against what the fixture wrote.
    assert_eq!(buf[(6, 0)].fg, Color::Indexed(1));
    assert!(buf[(10, 0)].modifier.contains(Modifier::BOLD));
    assert!(buf[(21, 0)].modifier.contains(Modifier::UNDERLINED));
    assert!(buf[(32, 0)].modifier.contains(Modifier::REVERSED));
    assert_eq!(buf[(1, 2)].fg, Color::Indexed(0));
    assert_eq!(buf[(0, 3)].fg, Color::Rgb(0, 255, 128));
}

#[test]
fn wide_characters_take_two_cells() {
    let p = &fixture("wide.bin");
    let buf = render(p, 80, 24);
    assert_same_cells(p, &buf);
    assert_eq!(buf[(0, 0)].symbol(), "漢");
    assert_eq!(buf[(2, 0)].symbol(), "字");
    // The wide character at the edge wrapped to the next line in the model.
    assert!(p.row(2).columns(80)[0].is_some_and(|c| c.wide));
}

#[test]
fn the_alternate_screen_is_drawn_with_its_cursor() {
    let p = &fixture("altscreen.bin");
    assert!(p.modes.alt_screen);
    let buf = render(p, 80, 24);
    assert_same_cells(p, &buf);
    assert!(buf[(0, 0)].modifier.contains(Modifier::BOLD));
    assert!(buf[(0, 23)].modifier.contains(Modifier::REVERSED));
    let view = ScreenView::new(p);
    assert_eq!(view.cursor(Rect::new(0, 0, 80, 24)), Some((20, 4)));
}

#[test]
fn a_larger_area_marks_the_unused_cells_and_a_smaller_one_crops() {
    let p = &fixture("colors.bin");
    let buf = render(p, 90, 26);
    assert_eq!(buf[(85, 0)].symbol(), "·");
    assert_eq!(buf[(0, 25)].symbol(), "·");
    assert_eq!(buf[(0, 0)].symbol(), "p");

    let mut small = Buffer::empty(Rect::new(0, 0, 10, 3));
    ScreenView::new(p)
        .offset((1, 4))
        .render(small.area, &mut small);
    assert_eq!(small[(0, 0)].symbol(), "h");
    assert_eq!(small[(1, 0)].symbol(), "t");
}

#[test]
fn underline_colour_strikethrough_and_hidden_reach_the_pane() {
    let mut s = Screen::new(Size::new(10, 1), 0);
    s.feed(b"\x1b[4:3;58;2;1;2;3ma\x1b[0;9mb\x1b[0;8mc");
    let state = s.export(None);
    let buf = render(&state, 10, 1);
    assert!(buf[(0, 0)].modifier.contains(Modifier::UNDERLINED));
    assert_eq!(buf[(0, 0)].underline_color, Color::Rgb(1, 2, 3));
    assert!(buf[(1, 0)].modifier.contains(Modifier::CROSSED_OUT));
    assert!(buf[(2, 0)].modifier.contains(Modifier::HIDDEN));
}
