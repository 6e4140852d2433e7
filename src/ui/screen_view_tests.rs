//! Tests: the widget draws the same cells as the vt100 screen, for recorded fixtures.

use super::*;
use crate::core::pane::new_parser;
use crate::core::types::Size;

fn fixture(name: &str) -> vt100::Parser {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("fixture exists");
    let mut p = new_parser(Size::new(80, 24), 0, ());
    p.process(&bytes);
    p
}

fn render(screen: &vt100::Screen, w: u16, h: u16) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    ScreenView::new(screen)
        .unused("·", Style::default())
        .render(buf.area, &mut buf);
    buf
}

/// Asserts that every cell of the buffer matches the screen's.
fn assert_same_cells(screen: &vt100::Screen, buf: &Buffer) {
    for row in 0..24u16 {
        for col in 0..80u16 {
            let cell = screen.cell(row, col).expect("cell");
            let out = &buf[(col, row)];
            if cell.is_wide_continuation() {
                continue;
            }
            let want = if cell.contents().is_empty() {
                " "
            } else {
                cell.contents()
            };
            assert_eq!(out.symbol(), want, "symbol at row {row} col {col}");
            let style = cell_style(cell);
            assert_eq!(
                out.fg,
                style.fg.unwrap_or(Color::Reset),
                "fg at {row},{col}"
            );
            assert_eq!(
                out.bg,
                style.bg.unwrap_or(Color::Reset),
                "bg at {row},{col}"
            );
            assert_eq!(out.modifier, style.add_modifier, "attrs at {row},{col}");
        }
    }
}

#[test]
fn colours_and_attributes_are_copied_cell_for_cell() {
    let p = fixture("colors.bin");
    let buf = render(p.screen(), 80, 24);
    assert_same_cells(p.screen(), &buf);
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
    let p = fixture("wide.bin");
    let buf = render(p.screen(), 80, 24);
    assert_same_cells(p.screen(), &buf);
    assert_eq!(buf[(0, 0)].symbol(), "漢");
    assert_eq!(buf[(2, 0)].symbol(), "字");
    // The wide character at the edge wrapped to the next line in the model.
    assert!(p.screen().cell(2, 0).expect("cell").is_wide());
}

#[test]
fn the_alternate_screen_is_drawn_with_its_cursor() {
    let p = fixture("altscreen.bin");
    assert!(p.screen().alternate_screen());
    let buf = render(p.screen(), 80, 24);
    assert_same_cells(p.screen(), &buf);
    assert!(buf[(0, 0)].modifier.contains(Modifier::BOLD));
    assert!(buf[(0, 23)].modifier.contains(Modifier::REVERSED));
    let view = ScreenView::new(p.screen());
    assert_eq!(view.cursor(Rect::new(0, 0, 80, 24)), Some((20, 4)));
}

#[test]
fn a_larger_area_marks_the_unused_cells_and_a_smaller_one_crops() {
    let p = fixture("colors.bin");
    let buf = render(p.screen(), 90, 26);
    assert_eq!(buf[(85, 0)].symbol(), "·");
    assert_eq!(buf[(0, 25)].symbol(), "·");
    assert_eq!(buf[(0, 0)].symbol(), "p");

    let mut small = Buffer::empty(Rect::new(0, 0, 10, 3));
    ScreenView::new(p.screen())
        .offset((1, 4))
        .render(small.area, &mut small);
    assert_eq!(small[(0, 0)].symbol(), "h");
    assert_eq!(small[(1, 0)].symbol(), "t");
}
