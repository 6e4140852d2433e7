//! Tests: the bytes a guest receives, fed into our own terminal model standing for the guest's
//! terminal, rebuild the host's screen cell for cell (text, every style field, wide cells,
//! cursor), keep its modes and title, and stay small for small changes.

use super::*;
use crate::core::term::{
    Attrs, CursorShape, Modes, MouseEncoding, MouseMode, RowBuilder, Screen, Underline,
};
use crate::ui::guest_escape::MAX_TITLE_CHARS;

/// A recorded byte stream from tests/fixtures/.
fn fixture(name: &str, size: Size) -> Screen {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    let mut s = Screen::new(size, 0);
    s.feed(&bytes);
    s
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

/// A host, the renderer of one guest, and the guest's terminal, driven together.
struct Rig {
    /// The host's terminal model.
    host: Screen,
    /// What the room would publish: each export shares unchanged rows with the last.
    published: Option<Arc<ScreenState>>,
    /// The renderer under test.
    renderer: GuestRenderer,
    /// The guest's terminal: our model, fed what the renderer sent.
    guest: Screen,
    /// The theme frames are drawn with.
    theme: Theme,
}

impl Rig {
    /// A blank host screen of `host` and a guest terminal of `guest`, after `start()`.
    fn new(host: Size, guest: Size) -> Rig {
        Rig::with_host(Screen::new(host, 0), guest)
    }

    /// The host screen `host` and a guest terminal of `guest_size`, after `start()`.
    fn with_host(host: Screen, guest_size: Size) -> Rig {
        let mut renderer = GuestRenderer::new(guest_size);
        let mut guest = Screen::new(guest_size, 0);
        guest.feed(&renderer.start());
        Rig {
            host,
            published: None,
            renderer,
            guest,
            theme: Theme::default_dark(),
        }
    }

    /// Feeds `bytes` to the host and renders one frame into the guest; returns the frame.
    fn step(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.host.feed(bytes);
        let state = Arc::new(self.host.export(self.published.as_deref()));
        self.frame_of(state)
    }

    /// Renders a screen as published, with a read-write status line.
    fn frame_of(&mut self, state: Arc<ScreenState>) -> Vec<u8> {
        let frame = self
            .renderer
            .frame(&state, &status(Access::ReadWrite), &self.theme);
        self.guest.feed(&frame);
        self.published = Some(state);
        frame
    }

    /// The screen last published.
    fn shown(&self) -> Arc<ScreenState> {
        self.published.clone().expect("a frame was drawn")
    }

    /// The pane's size on the guest.
    fn view(&self) -> Size {
        let g = self.guest.size();
        Size::new(g.cols, g.rows - 1)
    }

    /// Asserts that the guest's pane shows the host's screen as the renderer must draw it,
    /// and the cursor where the host has it.
    fn assert_mirrors(&self, label: &str) {
        let host = self.shown();
        let guest = self.guest.export(None);
        let view = self.view();
        let cursor = (host.cursor.row, host.cursor.col);
        let offset = follow_cursor(host.size, view, cursor);
        assert_view(&host, &guest, offset, view, label);
        let c = self.guest.cursor();
        if host.cursor.visible {
            assert!(c.visible, "{label}: the guest's cursor is hidden");
            assert_eq!(
                (c.row + offset.0, c.col + offset.1),
                cursor,
                "{label}: cursor (offset {offset:?})"
            );
        } else {
            assert!(!c.visible, "{label}: the guest's cursor is shown");
        }
    }
}

/// Asserts that the guest's top-left `view` shows the host's screen from `offset` on, as the
/// renderer promises: every cell equal in text, style and width, except that a wide cell cut
/// by the right edge shows as a blank in its style, and so does the right half of one cut by
/// the left edge.
fn assert_view(host: &ScreenState, guest: &ScreenState, offset: (u16, u16), view: Size, at: &str) {
    let width = view.cols.min(host.size.cols - offset.1);
    let height = view.rows.min(host.size.rows - offset.0);
    for y in 0..height {
        let want_row = host.row(offset.0 + y).columns(host.size.cols);
        let got_row = guest.row(y).columns(guest.size.cols);
        for x in 0..width {
            let col = usize::from(offset.1 + x);
            let got = got_row[usize::from(x)];
            let want = match want_row[col] {
                Some(c) if c.wide && x + 1 == width => Some(CellRef {
                    text: " ",
                    wide: false,
                    ..c
                }),
                None if x == 0 => want_row[col - 1].map(|c| CellRef {
                    text: " ",
                    wide: false,
                    ..c
                }),
                other => other,
            };
            assert_eq!(got, want, "{at}: pane cell {y},{x} (offset {offset:?})");
        }
    }
}

/// The guest's modes, less the alternate screen, which the renderer holds itself.
fn input_modes(s: &Screen) -> Modes {
    Modes {
        alt_screen: false,
        ..s.modes()
    }
}

#[test]
fn recorded_fixtures_reach_the_guest_cell_for_cell() {
    let cases = [
        ("colors.bin", Size::new(80, 24)),
        ("wide.bin", Size::new(80, 24)),
        ("altscreen.bin", Size::new(80, 24)),
        ("term/sgr.bin", Size::new(40, 12)),
        ("term/sgr_21.bin", Size::new(20, 2)),
        ("term/wide_margin.bin", Size::new(20, 6)),
        ("term/vs16.bin", Size::new(12, 3)),
        ("term/zwj.bin", Size::new(12, 3)),
        ("term/box_drawing.bin", Size::new(40, 12)),
        ("term/cursor_moves.bin", Size::new(80, 24)),
    ];
    for (name, size) in cases {
        let guest = Size::new(size.cols, size.rows + 1);
        let mut rig = Rig::with_host(fixture(name, size), guest);
        rig.step(b"");
        rig.assert_mirrors(name);
        let bar = rig.guest.export(None).row(size.rows).text();
        let full = GuestStatus::text(&status(Access::ReadWrite));
        let fits: String = full.chars().take(usize::from(size.cols)).collect();
        assert_eq!(bar, fits.trim_end(), "{name}: the status line");
    }
}

#[test]
fn every_sgr_form_reaches_the_guest() {
    let mut rig = Rig::new(Size::new(60, 6), Size::new(60, 7));
    rig.step(
        b"\x1b[1;2mbd\x1b[0m \x1b[4:3;58:2::255:0:0mcurly\x1b[0m \x1b[9mstrike\x1b[0m \
          \x1b[8mhid\x1b[0m \x1b[3;7mit\x1b[0m\r\n\
          \x1b[38;5;200m256\x1b[0m \x1b[38;2;1;2;3;48;2;4;5;6mrgb\x1b[0m \x1b[91;102mbright\x1b[0m \
          \x1b[31;44mbase\x1b[0m\r\n\
          \x1b[4:2mdbl\x1b[4:4mdot\x1b[4:5mdash\x1b[4:1;58:5:33mone\x1b[0m",
    );
    rig.assert_mirrors("sgr");
    let guest = rig.guest.export(None);
    let cells = guest.row(0).columns(60);
    let curly = cells[3].expect("cell");
    assert_eq!(curly.text, "c");
    assert_eq!(curly.style.underline, Underline::Curly);
    assert_eq!(curly.style.underline_color, Color::Rgb(255, 0, 0));
    let bold_dim = cells[0].expect("cell").style.attrs;
    assert!(
        bold_dim.contains(Attrs::BOLD.with(Attrs::DIM)),
        "{bold_dim:?}"
    );
    assert!(cells[9].expect("cell").style.attrs.contains(Attrs::STRIKE));
    assert!(cells[16].expect("cell").style.attrs.contains(Attrs::HIDDEN));
    let rgb = guest.row(1).columns(60)[4].expect("cell").style;
    assert_eq!((rgb.fg, rgb.bg), (Color::Rgb(1, 2, 3), Color::Rgb(4, 5, 6)));
    let dashed = guest.row(2).columns(60)[6].expect("cell").style;
    assert_eq!(dashed.underline, Underline::Dashed);
}

#[test]
fn an_echo_costs_a_few_bytes_and_an_unchanged_frame_none() {
    let mut rig = Rig::with_host(fixture("colors.bin", Size::new(80, 24)), Size::new(80, 25));
    let first = rig.step(b"");
    rig.host.feed(b"\x1b[20;1H$ ");
    rig.step(b"");
    let mut sizes = Vec::new();
    for c in b"echo hello" {
        let frame = rig.step(&[*c]);
        rig.assert_mirrors(&format!("after {:?}", *c as char));
        sizes.push(frame.len());
    }
    println!("first frame {} bytes, echoes {sizes:?}", first.len());
    assert!(first.len() > 1000, "first frame {} bytes", first.len());
    // A character is one byte where the cursor is; the space is only a cursor move, since
    // the cell was blank already.
    assert_eq!(sizes[0], 1, "echoes {sizes:?}");
    assert_eq!(sizes[4], 3, "echoes {sizes:?}");
    assert!(sizes.iter().all(|n| *n <= 3), "echoes {sizes:?}");
    assert_eq!(rig.step(b"").len(), 0, "an unchanged frame");
}

#[test]
fn a_full_frame_of_coloured_text_and_a_line_change_stay_compact() {
    let mut rig = Rig::new(Size::new(120, 40), Size::new(120, 41));
    let mut text = Vec::new();
    for i in 0..39 {
        text.extend_from_slice(
            format!(
                "\x1b[1;34mdrwxr-xr-x\x1b[0m 2 user user 4096 Jan {i:2} 12:00 \
                 \x1b[32msrc_{i}\x1b[0m and some plain words to fill the line {i}\r\n"
            )
            .as_bytes(),
        );
    }
    let full = rig.step(&text);
    rig.assert_mirrors("full");
    let line = rig.step(b"\x1b[5;1H\x1b[2Kreplaced line\x1b[40;1H");
    rig.assert_mirrors("line");
    println!(
        "120x40: full frame {} bytes, one line replaced {} bytes",
        full.len(),
        line.len()
    );
    let printable: usize = rig.shown().rows.iter().map(|r| r.text().len()).sum();
    assert!(
        full.len() < printable + 40 * 60,
        "full frame {} bytes",
        full.len()
    );
    assert!(line.len() < 120, "line change {} bytes", line.len());
}

#[test]
fn frame_after_frame_the_guest_keeps_matching() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    let steps: &[&[u8]] = &[
        b"plain text\r\nsecond line",
        "\x1b[1;1H漢字 wide then".as_bytes(),
        b"\x1b[1;1Hnarrow over wide",
        "\x1b[2;3H\x1b[31;44m色\x1b[0m and \x1b[7mrev\x1b[0m".as_bytes(),
        "\x1b[2;2H字".as_bytes(),
        b"\x1b[5;1H\x1b[38;2;1;2;3mrgb\x1b[0m\x1b[K",
        b"\x1b[2J\x1b[Hcleared",
        b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nscrolled",
        b"\x1b[10;39Hxy",
        b"\x1b[?25l\x1b[3;3Hhidden cursor",
        b"\x1b[?25h\x1b[4:3;58:5:1m\x1b[6;1Hwavy\x1b[0m",
        "\x1b[7;1He\u{301}\u{2764}\u{fe0f}x".as_bytes(),
    ];
    for (i, step) in steps.iter().enumerate() {
        rig.step(step);
        rig.assert_mirrors(&format!("step {i}"));
    }
}

#[test]
fn a_smaller_guest_follows_the_cursor_frame_after_frame() {
    let mut rig = Rig::new(Size::new(100, 30), Size::new(50, 21));
    // The cursor sits far right and low, so the view is offset into the screen.
    rig.host.feed(b"\x1b[28;70Hstart");
    let steps: &[&[u8]] = &[
        b" more",
        b"\x1b[27;60H\x1b[32mgreen\x1b[0m",
        "\x1b[28;60H漢字".as_bytes(),
        b"\x1b[28;60Hab",
        b"\x1b[1;1Hfar away, outside the view\x1b[28;74H",
        "\x1b[26;50H漢字漢字漢字漢字漢字漢字\x1b[28;99H".as_bytes(),
    ];
    for (i, step) in steps.iter().enumerate() {
        rig.step(step);
        let s = rig.shown();
        let offset = follow_cursor(s.size, rig.view(), (s.cursor.row, s.cursor.col));
        assert_ne!(offset, (0, 0), "step {i}: the view is cropped");
        rig.assert_mirrors(&format!("step {i}"));
    }
}

#[test]
fn a_wide_character_cut_by_the_edge_is_blank() {
    let mut rig = Rig::new(Size::new(100, 10), Size::new(50, 11));
    rig.step("\x1b[1;47H漢x\x1b[4m字\x1b[0m\x1b[H".as_bytes());
    let guest = rig.guest.export(None);
    let row = guest.row(0).columns(50);
    assert_eq!(row[46].map(|c| c.text), Some("漢"));
    let cut = row[49].expect("a cell of its own");
    assert_eq!((cut.text, cut.wide), (" ", false));
    assert_eq!(
        cut.style.underline,
        Underline::Single,
        "the blank keeps its style"
    );
    rig.assert_mirrors("cut");
}

#[test]
fn a_larger_guest_sees_marks_where_the_screen_ends() {
    let mut rig = Rig::with_host(fixture("colors.bin", Size::new(80, 24)), Size::new(90, 30));
    rig.step(b"");
    rig.assert_mirrors("larger");
    let guest = rig.guest.export(None);
    let unused = theme_style(rig.theme.unused);
    for (y, x) in [(0, 85), (0, 80), (26, 0), (28, 89)] {
        let cell = guest.row(y).columns(90)[x].expect("cell");
        assert_eq!((cell.text, *cell.style), ("·", unused), "{y},{x}");
    }
    // A change on the screen leaves the marks alone and is still a small frame.
    let frame = rig.step(b"\x1b[1;1Hz");
    assert!(frame.len() < 40, "{} bytes", frame.len());
    assert_eq!(
        rig.guest.export(None).row(0).columns(90)[85].map(|c| c.text),
        Some("·")
    );
}

mod modes;
