//! Our terminal model's screen against tmux's for the same bytes: the fixture files of
//! tests/fixtures/term/, a private tmux server that plays one, tmux's screen read back into a
//! `Screen`, and the cell-by-cell comparison with a failure message a person can read.

use super::tmux::Tmux;
use super::wait::wait_until;
use cotty::core::term::{Row, Screen, Style};
use cotty::core::types::Size;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The title the pane sets after the fixture. tmux handles a pane's output in order, so once
/// the title shows, every byte of the fixture has been drawn.
const DONE: &str = "cotty-fixture-done";

/// How long tmux may take to start and draw a fixture; generous for a loaded CI machine.
const WAIT: Duration = Duration::from_secs(20);

/// What the pane runs (`$1` is the fixture, `$2` the marker title). Output processing is off,
/// so each byte reaches tmux as the fixture has it (no LF turned into CR LF; the fixtures
/// break lines with explicit CR LF). After the marker it sleeps, so no prompt and no exit
/// message land on the screen; the server is killed when the test ends.
const PLAY: &str =
    r#"stty -opost 2>/dev/null; cat "$1"; printf '\033]2;%s\033\\' "$2"; exec sleep 600"#;

/// How many differing cells a failure message lists before it only counts them.
const SHOWN: usize = 40;

/// One byte stream of tests/fixtures/term/ and the terminal size it was written for.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// The file's name without `.bin`, also the name failure messages use.
    pub name: &'static str,
    /// The size both terminals get; the streams place things with CUP for this size.
    pub size: Size,
}

impl Fixture {
    /// The fixture `tests/fixtures/term/NAME.bin` on a `cols`x`rows` terminal.
    pub fn new(name: &'static str, cols: u16, rows: u16) -> Fixture {
        Fixture {
            name,
            size: Size::new(cols, rows),
        }
    }

    /// Where the file is, for tmux's pane to play it.
    pub fn path(&self) -> String {
        format!(
            "{}/tests/fixtures/term/{}.bin",
            env!("CARGO_MANIFEST_DIR"),
            self.name
        )
    }

    /// The bytes, as make.py wrote them.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(self.path())
            .unwrap_or_else(|e| panic!("fixture {}: {e}; run make.py", self.path()))
    }

    /// Our Screen after the bytes, without scrollback, as tmux's pane has none to compare.
    pub fn ours(&self) -> Screen {
        let mut s = Screen::new(self.size, 0);
        s.feed(&self.bytes());
        s
    }
}

/// What tmux showed for a fixture.
pub struct TmuxView {
    /// tmux's screen, its captured lines replayed into a Screen of the same size.
    pub screen: Screen,
    /// The capture as tmux wrote it, for failure messages.
    pub capture: String,
    /// `cursor_x`, `cursor_y`; after a write to the last column, with the wrap pending,
    /// tmux reports `cursor_x` one past it, where our cursor stays on the last column.
    pub cursor: (u16, u16),
    /// `cursor_flag`: whether the program left the cursor shown.
    pub cursor_visible: bool,
    /// `alternate_on`: whether the program is on the alternate screen.
    pub alt_screen: bool,
    /// `tmux -V`, since the expectations were checked against 3.3.
    pub version: String,
}

/// `tmux -V`; fails, saying what to install, when tmux is missing, since these tests must
/// never pass by skipping.
pub fn tmux_version() -> String {
    let out = Command::new("tmux")
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("tmux is not installed ({e}): install tmux 3.3 (CI installs it from Debian)")
        });
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Plays the fixture in a private tmux server of its size and reads the screen back.
pub fn tmux_view(f: &Fixture) -> TmuxView {
    let version = tmux_version();
    let dir = tempfile::tempdir().expect("tempdir");
    let (cols, rows) = (f.size.cols, f.size.rows);
    let path = f.path();
    let command = ["sh", "-c", PLAY, "sh", path.as_str(), DONE];
    let tmux = Tmux::start_command(dir.path(), cols, rows, "", &command);
    let drawn = wait_until("tmux to draw the fixture", WAIT, || {
        tmux.format("#{pane_title}") == DONE
    });
    if let Err(e) = drawn {
        panic!(
            "{e}: fixture {} in {version}; the pane shows:\n{}",
            f.name,
            tmux.capture()
        );
    }
    let pane = tmux.format("#{pane_width}x#{pane_height}");
    assert_eq!(pane, format!("{cols}x{rows}"), "tmux's pane for {}", f.name);
    let capture = tmux.capture_styled();
    let fields = tmux.format("#{cursor_x} #{cursor_y} #{cursor_flag} #{alternate_on}");
    let n: Vec<u16> = fields
        .split(' ')
        .map(|v| v.parse().expect("a number from tmux"))
        .collect();
    assert_eq!(n.len(), 4, "tmux's cursor formats: {fields:?}");
    TmuxView {
        screen: replay(&capture, f.size),
        capture,
        cursor: (n[0], n[1]),
        cursor_visible: n[2] == 1,
        alt_screen: n[3] == 1,
        version,
    }
}

/// A Screen showing the captured lines. They are written from the top left, one after the
/// other with CR LF, which moves the cursor without erasing anything, so each line's cells get
/// exactly the styles the capture's SGR sequences give them (tmux carries a style over from
/// one line to the next, and so does the replay). tmux writes DEC line drawing as SO, the
/// ASCII letter and SI, taking G1 to be the graphics set, so G1 is made that first.
pub fn replay(capture: &str, size: Size) -> Screen {
    let lines: Vec<&str> = capture.split('\n').take(usize::from(size.rows)).collect();
    assert_eq!(
        lines.len(),
        usize::from(size.rows),
        "tmux captured fewer lines than the pane has:\n{capture}"
    );
    let mut bytes = b"\x1b)0\x1b[H".to_vec();
    bytes.extend_from_slice(lines.join("\r\n").as_bytes());
    let mut s = Screen::new(size, 0);
    s.feed(&bytes);
    s
}

/// The cells of a row by column: text, style and whether wide; `None` under the right half
/// of a wide cell.
pub fn cells(row: &Row, cols: u16) -> Vec<Option<(String, Style, bool)>> {
    row.columns(cols)
        .into_iter()
        .map(|c| c.map(|c| (c.text.to_string(), *c.style, c.wide)))
        .collect()
}

/// Every cell where the two screens differ, as readable lines.
pub fn differences(ours: &Screen, theirs: &Screen, size: Size) -> Vec<String> {
    let mut out = Vec::new();
    for y in 0..size.rows {
        let (a, b) = (
            cells(&ours.row(y), size.cols),
            cells(&theirs.row(y), size.cols),
        );
        for (x, (a, b)) in a.iter().zip(&b).enumerate() {
            if a != b {
                out.push(format!("row {y} col {x}: ours {a:?}, tmux {b:?}"));
            }
        }
    }
    out
}

/// A screen as text in a frame, one line per row with its number, for failure messages.
pub fn render(s: &Screen, size: Size) -> String {
    let mut out = String::new();
    for y in 0..size.rows {
        let row = s.row(y);
        let text: String = row
            .columns(size.cols)
            .iter()
            .flatten()
            .map(|c| c.text)
            .collect();
        out.push_str(&format!("{y:>3} |{text}|\n"));
    }
    out
}

/// Control characters of tmux's capture made visible (`\e` for ESC, `^N` for SO).
fn escaped(capture: &str) -> String {
    capture
        .chars()
        .map(|c| match c {
            '\x1b' => "\\e".to_string(),
            '\n' => "\n".to_string(),
            c if c.is_control() => format!("^{}", char::from(b'@' + (c as u8 & 0x1f))),
            c => c.to_string(),
        })
        .collect()
}

/// Feeds the fixture to our Screen and to tmux and asserts that every cell, the cursor's
/// place and visibility, and the alternate screen agree. Returns our Screen for the test's
/// own checks by hand.
pub fn assert_matches_tmux(f: Fixture) -> Screen {
    let ours = f.ours();
    let tmux = tmux_view(&f);
    let size = f.size;
    let mut problems = differences(&ours, &tmux.screen, size);
    let n = problems.len();
    problems.truncate(SHOWN);
    // A pending wrap leaves tmux's cursor one past the last column (see `TmuxView::cursor`).
    let theirs = (tmux.cursor.0.min(size.cols - 1), tmux.cursor.1);
    let cursor = ours.cursor();
    if (cursor.col, cursor.row) != theirs {
        problems.push(format!(
            "cursor (col, row): ours {:?}, tmux {theirs:?}",
            (cursor.col, cursor.row)
        ));
    }
    if cursor.visible != tmux.cursor_visible {
        problems.push(format!(
            "cursor shown: ours {}, tmux {}",
            cursor.visible, tmux.cursor_visible
        ));
    }
    if ours.modes().alt_screen != tmux.alt_screen {
        problems.push(format!(
            "alternate screen: ours {}, tmux {}",
            ours.modes().alt_screen,
            tmux.alt_screen
        ));
    }
    assert!(
        problems.is_empty(),
        "fixture {} ({}x{}): our Screen and {} differ ({n} cells):\n  {}\nours:\n{}tmux:\n{}\
         tmux's capture-pane -e:\n{}",
        f.name,
        size.cols,
        size.rows,
        tmux.version,
        problems.join("\n  "),
        render(&ours, size),
        render(&tmux.screen, size),
        escaped(&tmux.capture),
    );
    // A harness that captured nothing would agree with a fixture that drew nothing.
    let text = tmux.screen.export(None).text();
    assert!(
        !text.trim().is_empty(),
        "fixture {}: tmux showed a blank screen",
        f.name
    );
    ours
}
