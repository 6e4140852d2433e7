//! The web page against the host: joining it, typing commands and waiting for their bytes,
//! and comparing what it draws with the host's screen, cell for cell in text and style, span
//! by span in column, and in the pane's size and cursor in `window.cotty.state`.

use super::browser::{Browser, PageChar, PageRow};
use super::env::{TestEnv, WAIT};
use super::mirror::same_cursor;
use super::wait::wait_until;
use cotty::core::term::{Attrs, Row, ScreenState};
use fantoccini::key::Key;

/// The page has joined and drawn at least one frame.
pub const JOINED: &str = "window.cotty.state.connected === true && window.cotty.state.frames > 0";

/// Opens `url` and waits until the page has joined and shows a frame.
pub fn join(b: &Browser, url: &str) {
    b.open(url);
    b.wait_js("the page to join and draw a frame", JOINED, WAIT);
}

/// Waits until a row of the page starts with the shell's `$ ` prompt.
pub fn wait_page_prompt(b: &Browser) {
    b.wait("a prompt on the page", WAIT, || {
        b.try_rows()
            .is_ok_and(|rows| rows.iter().any(|r| r.text().starts_with('$')))
    });
}

/// Types `cmd` and Enter on the page.
pub fn run(b: &Browser, cmd: &str) {
    b.type_keys(&format!("{cmd}{}", Key::Return));
}

/// Saves the page's screenshot as `name` and fails on any console error.
pub fn finish(b: &Browser, name: &str) {
    b.screenshot(name);
    b.assert_no_console_errors();
}

/// Bytes with control characters spelled out, for failure messages.
pub fn escaped(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Waits until the file at `path` holds exactly `want`; the failure shows what it holds.
pub fn wait_file(path: &str, want: &[u8], what: &str, b: &Browser) {
    let mut got = Vec::new();
    let res = wait_until(what, WAIT, || {
        got = std::fs::read(path).unwrap_or_default();
        got == want
    });
    if let Err(e) = res {
        panic!(
            "{e}\nwanted {:?}\n   got {:?}\n{}",
            escaped(want),
            escaped(&got),
            b.describe()
        );
    }
}

/// Chromium's own console line for a websocket that was refused (a relay or proxy that is
/// down while the page reconnects): not the page's error.
pub fn refused_socket(msg: &str, port: u16) -> bool {
    msg.contains(&format!(
        "WebSocket connection to 'ws://127.0.0.1:{port}/ws' failed"
    ))
}

/// The host's row as the page should show it: a code point per entry with the wire form of
/// its cell's style, covered columns of wide cells skipped, trailing default blanks dropped.
fn host_chars(row: &Row, cols: u16) -> Vec<PageChar> {
    let mut out = Vec::new();
    for cell in row.columns(cols).into_iter().flatten() {
        let s = cell.style;
        let a = [
            (Attrs::BOLD, 1),
            (Attrs::DIM, 2),
            (Attrs::ITALIC, 4),
            (Attrs::INVERSE, 8),
            (Attrs::HIDDEN, 16),
            (Attrs::STRIKE, 32),
        ]
        .iter()
        .filter(|(attr, _)| s.attrs.contains(*attr))
        .map(|(_, bit)| bit)
        .sum();
        for ch in cell.text.chars() {
            out.push(PageChar {
                ch,
                fg: s.fg.into(),
                bg: s.bg.into(),
                ul: s.underline_color.into(),
                u: s.underline.sgr().into(),
                a,
            });
        }
    }
    trim_blanks(out)
}

/// The column of each of the host row's code points: a cluster's all sit in its one cell.
fn host_columns(row: &Row, cols: u16) -> Vec<usize> {
    let mut out = Vec::new();
    for (col, cell) in row.columns(cols).into_iter().enumerate() {
        if let Some(cell) = cell {
            out.extend(cell.text.chars().map(|_| col));
        }
    }
    out
}

/// Spans of the page drawn away from their host column, by more than a third of a cell: a
/// wide character drawn one column wide shifts everything after it.
fn misplaced_spans(host: &ScreenState, page: &[PageRow]) -> Vec<String> {
    let mut out = Vec::new();
    for row in page.iter().filter(|r| r.y < u32::from(host.size.rows)) {
        let y = row.y as u16;
        let cols = host_columns(host.row(y), host.size.cols);
        for &(i, x) in &row.spans {
            let Some(&col) = cols.get(i) else { continue };
            // A position the page could not measure (NaN) counts as misplaced.
            if x.is_nan() || (x - col as f64).abs() >= 0.34 {
                let text: String = row.chars[i..].iter().take(8).map(|c| c.ch).collect();
                out.push(format!(
                    "row {y}: {text:?} drawn at column {x:.2}, the host has it at {col}"
                ));
                break;
            }
        }
    }
    out
}

/// Drops trailing blanks in the default style, which neither side has to send or draw.
fn trim_blanks(mut chars: Vec<PageChar>) -> Vec<PageChar> {
    while chars
        .last()
        .is_some_and(|c| c.ch == ' ' && (c.fg, c.bg, c.ul, c.u, c.a) == (0, 0, 0, 0, 0))
    {
        chars.pop();
    }
    chars
}

/// Differences between the host's screen and the page's rows, as readable lines: a missing
/// row, or the first code point per row whose text or style differs.
fn page_differences(host: &ScreenState, page: &[PageRow]) -> Vec<String> {
    let mut out = Vec::new();
    for y in 0..host.size.rows {
        let want = host_chars(host.row(y), host.size.cols);
        let Some(row) = page.iter().find(|r| r.y == u32::from(y)) else {
            out.push(format!("row {y}: missing on the page"));
            continue;
        };
        let got = trim_blanks(row.chars.clone());
        if want == got {
            continue;
        }
        let i = want
            .iter()
            .zip(&got)
            .position(|(w, g)| w != g)
            .unwrap_or(want.len().min(got.len()));
        out.push(format!(
            "row {y}, code point {i}: host {:?} page {:?} (host {:?}, page {:?})",
            want.get(i),
            got.get(i),
            host.row(y).text(),
            row.text()
        ));
    }
    for r in page.iter().filter(|r| r.y >= u32::from(host.size.rows)) {
        if !r.text().is_empty() {
            out.push(format!(
                "row {} is past the host's {} rows",
                r.y, host.size.rows
            ));
        }
    }
    out
}

/// Waits until the page shows exactly the host's cells, and the pane's size and the cursor in
/// its state.
pub fn assert_page_mirrors(env: &TestEnv, b: &Browser) {
    let mut last = Vec::new();
    let res = wait_until("the page to mirror the host", WAIT, || {
        let host = env.host_screen();
        let Ok(rows) = b.try_rows() else {
            return false;
        };
        last = page_differences(&host, &rows);
        last.extend(misplaced_spans(&host, &rows));
        let st = b.state();
        let size = (st["cols"].as_u64(), st["rows"].as_u64());
        if size != (Some(host.size.cols.into()), Some(host.size.rows.into())) {
            last.push(format!(
                "cotty.state says {size:?}, the host's pane is {}x{}",
                host.size.cols, host.size.rows
            ));
        }
        let (hc, pc) = (host.cursor, &st["cursor"]);
        let shown = pc["visible"].as_bool() == Some(true);
        let at = (pc["row"].as_u64(), pc["col"].as_u64());
        let host_at = (Some(hc.row.into()), Some(hc.col.into()));
        if !same_cursor(hc.visible, host_at, shown, at) {
            last.push(format!(
                "cursor: host {:?} at {},{}; page {pc}",
                hc.visible, hc.row, hc.col
            ));
        }
        last.is_empty()
    });
    if let Err(e) = res {
        panic!(
            "{}: {e}; {} differences:\n{}\n--- host screen ---\n{}\n{}",
            b.name,
            last.len(),
            last.join("\n"),
            env.host_screen().text(),
            b.describe()
        );
    }
}
