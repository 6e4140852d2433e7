//! Tests: the bytes a guest receives rebuild the host's screen on the guest's terminal.

use super::*;
use crate::core::pane::new_parser;
use std::sync::Arc;

fn fixture(name: &str) -> vt100::Parser {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("fixture exists");
    let mut p = new_parser(Size::new(80, 24), 0, ());
    p.process(&bytes);
    p
}

fn status(access: Access) -> GuestStatus<'static> {
    GuestStatus {
        session: "abc123",
        access,
        locked: false,
        guests: 2,
        message: None,
    }
}

/// Replays what a renderer sent into a terminal of the guest's size.
fn guest_terminal(size: Size, chunks: &[Vec<u8>]) -> vt100::Parser {
    let mut p = new_parser(size, 0, ());
    for c in chunks {
        p.process(c);
    }
    p
}

/// A cell's text, with a never-written cell read as the blank it shows.
fn text(cell: &vt100::Cell) -> &str {
    if cell.contents().is_empty() {
        " "
    } else {
        cell.contents()
    }
}

#[test]
fn the_guest_terminal_shows_the_same_cells_and_a_status_line() {
    let theme = Theme::default_dark();
    for name in ["colors.bin", "wide.bin", "altscreen.bin"] {
        let host = fixture(name);
        let mut r = GuestRenderer::new(Size::new(80, 25));
        let start = r.start();
        let frame = r.frame(
            &Arc::new(host.screen().clone()),
            &status(Access::ReadWrite),
            &theme,
        );
        let guest = guest_terminal(Size::new(80, 25), &[start, frame]);
        for row in 0..24 {
            for col in 0..80 {
                let want = host.screen().cell(row, col).expect("cell");
                let got = guest.screen().cell(row, col).expect("cell");
                assert_eq!(text(got), text(want), "{name} {row},{col}");
                assert_eq!(got.fgcolor(), want.fgcolor(), "{name} fg {row},{col}");
                assert_eq!(got.bgcolor(), want.bgcolor(), "{name} bg {row},{col}");
                assert_eq!(got.bold(), want.bold(), "{name} bold {row},{col}");
                assert_eq!(got.underline(), want.underline(), "{name} ul {row},{col}");
                assert_eq!(got.inverse(), want.inverse(), "{name} inv {row},{col}");
            }
        }
        let bar = guest.screen().rows(0, 80).nth(24).expect("status row");
        assert!(
            bar.contains("read-write") && bar.contains("2 guests"),
            "{bar}"
        );
        assert!(bar.contains("C-b d detach"), "{bar}");
        if !host.screen().hide_cursor() {
            assert_eq!(
                guest.screen().cursor_position(),
                host.screen().cursor_position(),
                "{name} cursor"
            );
        }
    }
}

#[test]
fn a_small_change_sends_a_small_diff() {
    let theme = Theme::default_dark();
    let mut host = fixture("colors.bin");
    let mut r = GuestRenderer::new(Size::new(80, 25));
    let first = r.frame(
        &Arc::new(host.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    host.process(b"X");
    let second = r.frame(
        &Arc::new(host.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    assert!(first.len() > 1000, "first frame {} bytes", first.len());
    assert!(second.len() < 80, "second frame {} bytes", second.len());
    let third = r.frame(
        &Arc::new(host.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    assert!(third.len() < 40, "unchanged frame {} bytes", third.len());
}

#[test]
fn read_only_and_lock_show_in_the_status_line() {
    let mut s = status(Access::ReadOnly);
    assert!(s.text().contains("read-only"));
    s.access = Access::ReadWrite;
    s.locked = true;
    assert!(s.text().contains("locked by host"), "{}", s.text());
    s.guests = 1;
    s.message = Some("host reconnecting");
    assert!(s.text().contains("1 guest │") && s.text().contains("host reconnecting"));
}

#[test]
fn a_smaller_guest_sees_the_cursor_and_a_larger_one_sees_marks() {
    let theme = Theme::default_dark();
    let mut host = new_parser(Size::new(100, 30), 0, ());
    host.process(b"\x1b[30;90Hend-of-line");
    let mut r = GuestRenderer::new(Size::new(50, 21));
    let bytes = r.frame(
        &Arc::new(host.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    let guest = guest_terminal(Size::new(50, 21), &[bytes]);
    let (row, col) = guest.screen().cursor_position();
    assert!(
        row < 20 && col < 50,
        "cursor {row},{col} inside the pane area"
    );
    let line = guest.screen().rows(0, 50).nth(row as usize).expect("row");
    assert!(
        line.ends_with("end-of-line") || line.contains("end-of-"),
        "{line:?}"
    );

    let small = fixture("colors.bin");
    let mut r = GuestRenderer::new(Size::new(90, 30));
    let bytes = r.frame(
        &Arc::new(small.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    let guest = guest_terminal(Size::new(90, 30), &[bytes]);
    assert_eq!(guest.screen().cell(0, 85).expect("cell").contents(), "·");
    assert_eq!(guest.screen().cell(26, 0).expect("cell").contents(), "·");
}

#[test]
fn finish_leaves_the_alternate_screen_and_says_why() {
    let mut r = GuestRenderer::new(Size::new(80, 25));
    let mut t = new_parser(Size::new(80, 25), 0, ());
    t.process(&r.start());
    assert!(t.screen().alternate_screen());
    t.process(&r.finish("kicked by host"));
    assert!(!t.screen().alternate_screen());
    assert!(t.screen().contents().contains("kicked by host"));
}

/// Feeds `step` to the host, renders a frame, and feeds the frame to the guest's terminal.
fn replay(host: &mut vt100::Parser, r: &mut GuestRenderer, guest: &mut vt100::Parser, step: &[u8]) {
    host.process(step);
    let theme = Theme::default_dark();
    let frame = r.frame(
        &Arc::new(host.screen().clone()),
        &status(Access::ReadWrite),
        &theme,
    );
    guest.process(&frame);
}

/// Asserts that the guest's top-left `view` shows the host's screen from `offset` on.
fn assert_view(
    host: &vt100::Screen,
    guest: &vt100::Screen,
    offset: (u16, u16),
    view: Size,
    step: usize,
) {
    for y in 0..view.rows {
        for x in 0..view.cols {
            let want = host.cell(offset.0 + y, offset.1 + x).expect("cell");
            // A wide character cut by the view's right edge is shown blank.
            if want.is_wide_continuation() || (x + 1 == view.cols && want.is_wide()) {
                continue;
            }
            let got = guest.cell(y, x).expect("cell");
            let at = format!("step {step} at {y},{x} (offset {offset:?})");
            assert_eq!(text(got), text(want), "{at}");
            assert_eq!(got.fgcolor(), want.fgcolor(), "fg {at}");
            assert_eq!(got.bgcolor(), want.bgcolor(), "bg {at}");
            assert_eq!(got.inverse(), want.inverse(), "inverse {at}");
        }
    }
}

#[test]
fn frame_after_frame_the_guest_terminal_keeps_matching() {
    let mut host = new_parser(Size::new(40, 10), 0, ());
    let mut r = GuestRenderer::new(Size::new(40, 11));
    let mut guest = new_parser(Size::new(40, 11), 0, ());
    guest.process(&r.start());
    let steps: &[&[u8]] = &[
        b"plain text\r\nsecond line",
        "\x1b[1;1H漢字 wide then".as_bytes(),
        b"\x1b[1;1Hnarrow over wide",
        "\x1b[2;3H\x1b[31;44m色\x1b[0m and \x1b[7mrev\x1b[0m".as_bytes(),
        b"\x1b[5;1H\x1b[38;2;1;2;3mrgb\x1b[0m\x1b[K",
        b"\x1b[2J\x1b[Hcleared",
        b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nscrolled",
        b"\x1b[10;39Hxy",
    ];
    for (i, step) in steps.iter().enumerate() {
        replay(&mut host, &mut r, &mut guest, step);
        assert_view(host.screen(), guest.screen(), (0, 0), Size::new(40, 10), i);
        assert_eq!(
            guest.screen().cursor_position(),
            crate::ui::screen_view::cursor_position(host.screen()),
            "step {i} cursor"
        );
    }
}

#[test]
fn a_cropped_view_stays_right_frame_after_frame() {
    let mut host = new_parser(Size::new(100, 30), 0, ());
    let mut r = GuestRenderer::new(Size::new(50, 21));
    let mut guest = new_parser(Size::new(50, 21), 0, ());
    guest.process(&r.start());
    // The cursor sits far right and low, so the view is offset into the screen.
    host.process(b"\x1b[28;70Hstart");
    let steps: &[&[u8]] = &[
        b" more",
        b"\x1b[27;60H\x1b[32mgreen\x1b[0m",
        "\x1b[28;60H漢字".as_bytes(),
        b"\x1b[28;60Hab",
        b"\x1b[1;1Hfar away, outside the view\x1b[28;74H",
    ];
    for (i, step) in steps.iter().enumerate() {
        replay(&mut host, &mut r, &mut guest, step);
        let cursor = crate::ui::screen_view::cursor_position(host.screen());
        let view = Size::new(50, 20);
        let offset = crate::core::layout::follow_cursor(Size::new(100, 30), view, cursor);
        assert_ne!(offset, (0, 0), "the view is cropped");
        assert_view(host.screen(), guest.screen(), offset, view, i);
    }
}
