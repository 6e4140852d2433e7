//! End to end: a stock ssh guest whose terminal is tmux gets the shared program's modes, so
//! its arrows, clicks and pastes mean what the program expects, and it sees every underline
//! kind and colour the program drew, cell for cell.
//!
//! tmux encodes the keys, pastes and clicks itself, in the modes cotty's renderer put its pane
//! in, just as the guest's own terminal would. The last test runs the dashboard in tmux too,
//! and checks that its pane shows the guest's cells for each of these programs.

mod common;

use common::env::{TestEnv, WAIT, port_of, token, write_wide_file};
use common::term::replay;
use common::tmux::Tmux;
use common::tmux_guest::TmuxGuest;
use common::wait::wait_until;
use cotty::core::term::{Color, ScreenState, Underline};
use cotty::core::types::Size;
use std::process::Command;

/// The guest's terminal: 100x31, so the shared pane is 100x30.
const COLS: u16 = 100;
/// Rows of the guest's terminal, its status line included.
const ROWS: u16 = 31;

/// The row of the host's screen whose text contains `needle`.
fn row_with(s: &ScreenState, needle: &str) -> Option<u16> {
    (0..s.size.rows).find(|&r| s.row(r).text().contains(needle))
}

#[test]
fn right_scrolls_a_wide_file_in_less_sideways() {
    let env = TestEnv::bash();
    let file = env.path("wide.txt");
    write_wide_file(&file);
    let g = TmuxGuest::join(env.port, &env.rw(), COLS, ROWS);
    g.wait_prompt();
    g.run(&format!("LESS= less -RS {file}"));
    g.wait_for_text("001 <00><01>");
    // less turned on application cursor keys: the guest's terminal was told so, and sends
    // ESC O C for Right, the only form less reads.
    wait_until("DECCKM on the guest's terminal", WAIT, || {
        g.tmux.format("#{keypad_cursor_flag}") == "1"
    })
    .expect("the guest's terminal is in application cursor mode");
    g.tmux.keys(&["Right"]);
    wait_until("less to scroll right on the host", WAIT, || {
        let s = env.host_screen();
        row_with(&s, "001 <00>").is_none() && row_with(&s, "<20>").is_some()
    })
    .unwrap_or_else(|e| panic!("{e}; the guest shows:\n{}", g.tmux.capture()));
    g.assert_mirrors(|| env.host_screen());
    g.tmux.keys(&["q"]);
    g.wait_prompt();
}

/// The bytes of a press or a release of the left button at a 0-based cell, as a terminal
/// sends them in the mouse encoding tmux was put in.
fn click_report(g: &TmuxGuest, col: u16, row: u16, release: bool) -> Vec<u8> {
    if g.tmux.format("#{mouse_sgr_flag}") == "1" {
        let end = if release { 'm' } else { 'M' };
        format!("\x1b[<0;{};{}{end}", col + 1, row + 1).into_bytes()
    } else {
        let code = if release { 3 } else { 0 };
        vec![0x1b, b'[', b'M', 32 + code, 33 + col as u8, 33 + row as u8]
    }
}

#[test]
fn a_click_in_htop_selects_the_row_under_the_pointer() {
    let env = TestEnv::bash();
    let g = TmuxGuest::join(env.port, &env.rw(), COLS, ROWS);
    let viewer = TmuxGuest::join(env.port, &env.ro(), COLS, ROWS);
    g.wait_prompt();
    // A 10 s refresh keeps the process list still while the test clicks.
    g.run("HTOPRC=/dev/null htop -d 100");
    g.wait_for_text("F10Quit");
    wait_until("mouse reporting on the guest's terminal", WAIT, || {
        g.tmux.format("#{mouse_any_flag}") == "1"
    })
    .unwrap_or_else(|e| panic!("{e}; htop asked for the mouse, but the guest was not told"));
    // A read-only guest's terminal keeps its mouse for selecting text.
    viewer.wait_for_text("F10Quit");
    assert_eq!(viewer.tmux.format("#{mouse_any_flag}"), "0");

    let host = env.host_screen();
    let header = row_with(&host, "PID").expect("htop's header row");
    let selected = host.row(header + 1).columns(COLS)[0].map(|c| *c.style);
    let target = header + 4;
    let before = host.row(target).columns(COLS)[0].map(|c| *c.style);
    assert_ne!(
        selected, before,
        "the first process row is highlighted, the fourth is not"
    );
    // The read-only guest clicks first: nothing may change.
    viewer.tmux.bytes(&click_report(&viewer, 10, target, false));
    viewer.tmux.bytes(&click_report(&viewer, 10, target, true));
    g.tmux.bytes(&click_report(&g, 10, target, false));
    g.tmux.bytes(&click_report(&g, 10, target, true));
    wait_until("the clicked row to be selected", WAIT, || {
        let s = env.host_screen();
        let style = |r: u16| s.row(r).columns(COLS)[0].map(|c| *c.style);
        style(target) == selected && style(header + 1) != selected
    })
    .unwrap_or_else(|e| panic!("{e}; the guest shows:\n{}", g.tmux.capture()));
    g.assert_mirrors(|| env.host_screen());
    g.tmux.keys(&["q"]);
    g.wait_prompt();
}

/// Runs `cat -v` after turning bracketed paste on, pastes into it through tmux, and waits
/// for the brackets to show.
fn paste_into_cat_v(g: &TmuxGuest) {
    // The marker is printed after the mode is set, and the renderer sends a frame's modes
    // before its cells: once the marker shows, the guest's terminal brackets pastes.
    g.run("printf '\\033[?2004h'; echo paste-$((2+3)); cat -v");
    g.wait_for_text("paste-5");
    g.tmux.paste("pasted words");
    g.tmux.keys(&["Enter"]);
    g.wait_for_text("^[[200~pasted words^[[201~");
}

#[test]
fn a_paste_into_cat_v_is_bracketed_only_while_the_program_asks() {
    let env = TestEnv::bash();
    let g = TmuxGuest::join(env.port, &env.rw(), COLS, ROWS);
    g.wait_prompt();
    paste_into_cat_v(&g);
    g.tmux.keys(&["C-c"]);
    g.wait_prompt();
    g.run("printf '\\033[?2004l'; echo plain-$((3+4)); cat -v");
    g.wait_for_text("plain-7");
    g.tmux.paste("second paste");
    g.tmux.keys(&["Enter"]);
    wait_until("the second paste echoed twice", WAIT, || {
        g.tmux.capture().matches("second paste").count() >= 2
    })
    .unwrap_or_else(|e| panic!("{e}; the guest shows:\n{}", g.tmux.capture()));
    assert_eq!(
        g.tmux.capture().matches("[200~").count(),
        2,
        "only the first paste is bracketed:\n{}",
        g.tmux.capture()
    );
    g.assert_mirrors(|| env.host_screen());
    g.tmux.keys(&["C-c"]);
}

/// An editor's screen with diagnostics, as neovim draws them: a sign column, undercurls and
/// other underline kinds in colours of their own, strikethrough, bold with dim.
const DIAGNOSTICS: &str = "\x1b[?1049h\x1b[H\x1b[2J\
\x1b[48;5;236m\x1b[38;5;196mE>\x1b[0m let \x1b[4:3m\x1b[58:2::255:85:85mvalue\x1b[59m\x1b[24m = compute();\r\n\
\x1b[48;5;236m\x1b[38;5;214mW>\x1b[0m let \x1b[4:2m\x1b[58;5;214munused\x1b[0m = 1;\r\n\
\x1b[48;5;236m  \x1b[0m \x1b[4:4m\x1b[58:5:33mdotted\x1b[0m \x1b[4:5m\x1b[58:2::0:200:0mdashed\x1b[0m \x1b[4mplain\x1b[0m\r\n\
\x1b[48;5;236m  \x1b[0m \x1b[9mstruck\x1b[0m \x1b[1;2mbold dim\x1b[0m \x1b[38:2::10:20:30m\x1b[48:2::200:210:220mrgb colon\x1b[0m\r\n\
\x1b[7m NORMAL \x1b[0m diagnostics-drawn";

#[test]
fn undercurls_and_underline_colours_reach_the_guest_cell_for_cell() {
    let env = TestEnv::start(&[
        "sh",
        "-c",
        &format!(
            "printf '{}'; exec sleep 600",
            DIAGNOSTICS.replace('\x1b', "\\033")
        ),
    ]);
    let g = TmuxGuest::join(env.port, &env.rw(), COLS, ROWS);
    g.wait_for_text("diagnostics-drawn");
    let host = env.host_screen();
    let curl = host.row(0).columns(COLS)[8].map(|c| *c.style);
    let curl = curl.expect("a cell under the v of value");
    assert_eq!(curl.underline, Underline::Curly, "{curl:?}");
    assert_eq!(curl.underline_color, Color::Rgb(255, 85, 85), "{curl:?}");
    g.assert_mirrors(|| env.host_screen());
}

/// The dashboard's pane and a guest's, both read from tmux, differ in these cells. Underline
/// kinds are compared as "underlined": ratatui has one kind, so the dashboard draws a curly
/// underline as a plain one (the README says so); everything else must be the same.
fn dashboard_differences(dash: &ScreenState, guest: &ScreenState, size: Size) -> Vec<String> {
    let plain = |c: Option<cotty::core::term::CellRef<'_>>| {
        c.map(|c| {
            let mut style = *c.style;
            if style.underline != Underline::None {
                style.underline = Underline::Single;
            }
            (c.text.to_string(), style, c.wide)
        })
    };
    let mut out = Vec::new();
    for r in 0..size.rows {
        let (d, g) = (
            dash.row(r).columns(size.cols),
            guest.row(r).columns(size.cols),
        );
        for (c, (d, g)) in d.iter().zip(&g).enumerate() {
            if plain(*d) != plain(*g) {
                out.push(format!("{r},{c}: dashboard {d:?} guest {g:?}"));
            }
        }
    }
    out
}

/// Waits until the dashboard's pane shows the guest's cells over the shared `size`.
fn assert_dashboard_shows_the_guests_cells(dash: &Tmux, g: &TmuxGuest, size: Size, what: &str) {
    let mut last = Vec::new();
    let ok = wait_until(what, WAIT, || {
        let d = replay(&dash.capture_styled(), Size::new(DASH_COLS, DASH_ROWS)).export(None);
        last = dashboard_differences(&d, &g.screen(), size);
        last.is_empty()
    });
    assert!(
        ok.is_ok(),
        "{what}: {} differing cells, first: {:?}\nthe dashboard shows:\n{}\nthe guest shows:\n{}",
        last.len(),
        last.iter().take(5).collect::<Vec<_>>(),
        dash.capture(),
        g.tmux.capture()
    );
}

/// The host's terminal, in which the dashboard runs.
const DASH_COLS: u16 = 120;
/// Rows of the host's terminal.
const DASH_ROWS: u16 = 40;

#[test]
fn the_dashboard_pane_shows_what_the_guest_sees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let dash = Tmux::start(
        d,
        DASH_COLS,
        DASH_ROWS,
        "set -g status off\nset -g escape-time 0\n",
    );
    dash.wait_for("the outer prompt", WAIT, |s| {
        s.lines().any(|l| l.trim_end() == "$")
    });
    let sock = d.join("ctl.sock").display().to_string();
    dash.type_str(&format!(
        "{} --listen 127.0.0.1:0 --public-host 127.0.0.1 -S {sock} new-session bash --norc --noprofile",
        env!("CARGO_BIN_EXE_cotty")
    ));
    dash.keys(&["Enter"]);
    let control = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cotty"))
            .args(["-S", &sock])
            .args(args)
            .env("XDG_RUNTIME_DIR", d.join("runtime"))
            .output()
            .expect("cotty runs");
        assert!(
            out.status.success(),
            "cotty {args:?}: {out:?}\n{}",
            dash.capture()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    control(&["wait-ready", "--timeout", "20"]);
    let link = control(&["display", "-p", "#{ssh}"]);
    let g = TmuxGuest::join(port_of(&link), &token(&link), COLS, ROWS);
    g.wait_prompt();
    // The shared size is the smaller of the dashboard's pane and the guest's: the PTY's.
    let size_file = d.join("size");
    g.run(&format!("stty size > {}", size_file.display()));
    let mut size = None;
    wait_until("stty size", WAIT, || {
        let text = std::fs::read_to_string(&size_file).unwrap_or_default();
        let n: Vec<u16> = text
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        size = (n.len() == 2).then(|| Size::new(n[1], n[0]));
        size.is_some()
    })
    .expect("the shell prints its size");
    let size = size.expect("a size");

    g.run(&format!(
        "printf '{}'; sleep 600",
        DIAGNOSTICS.replace('\x1b', "\\033")
    ));
    g.wait_for_text("diagnostics-drawn");
    assert_dashboard_shows_the_guests_cells(&dash, &g, size, "the editor's diagnostics");
    g.tmux.keys(&["C-c"]);
    g.wait_prompt();

    let file = d.join("wide.txt");
    write_wide_file(&file);
    g.run(&format!("LESS= less -RS {}", file.display()));
    g.wait_for_text("001 <00><01>");
    g.tmux.keys(&["Right"]);
    g.tmux.wait_for("less scrolled right", WAIT, |s| {
        !s.contains("001 <00>") && s.contains("<20>")
    });
    assert_dashboard_shows_the_guests_cells(&dash, &g, size, "less scrolled sideways");
    g.tmux.keys(&["q"]);
    g.wait_prompt();

    g.run("HTOPRC=/dev/null htop -d 100");
    g.wait_for_text("F10Quit");
    assert_dashboard_shows_the_guests_cells(&dash, &g, size, "htop");
    g.tmux.keys(&["q"]);
    g.wait_prompt();

    paste_into_cat_v(&g);
    assert_dashboard_shows_the_guests_cells(&dash, &g, size, "the paste in cat -v");
    g.tmux.keys(&["C-c"]);
    control(&["kill-session"]);
}

#[test]
fn the_programs_clipboard_writes_never_reach_a_guest() {
    // "secret" in base64, for the clipboard (c) by OSC 52; then a marker.
    let env = TestEnv::start(&[
        "sh",
        "-c",
        "printf '\\033]52;c;c2VjcmV0\\007\\033]52;p;c2VjcmV0\\033\\\\'; echo clip-$((1+1)); exec sleep 600",
    ]);
    let g = TmuxGuest::join(env.port, &env.rw(), COLS, ROWS);
    g.wait_for_text("clip-2");
    // The guest's tmux takes OSC 52 into a paste buffer (set-clipboard on; the dashboard test
    // relies on it for the host's own copy), so a write that got through would show here.
    assert_eq!(
        g.tmux.buffer(),
        None,
        "the program set the guest's clipboard"
    );
}
