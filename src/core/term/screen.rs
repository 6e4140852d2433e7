//! [`Screen`]: the terminal emulator of one pane, alacritty_terminal behind our own types.
//!
//! This is the only file that drives the emulator crate. It feeds bytes in, collects what the
//! emulator asks of its front end (replies to the program's queries, the title, the bell), and
//! exports the screen as styled rows ([`ScreenState`]). Two things the crate leaves to its
//! user are done here:
//!
//! * Replies to queries (`CSI 6n`, `CSI c`, colour queries) come out as events, and must be
//!   written back to the program, or it waits for them.
//! * A synchronized update (`CSI ? 2026 h`) holds the screen until the program ends it, and the
//!   crate never applies its own timeout: [`Screen::sync_deadline`] says when the owner must
//!   call [`Screen::end_overdue_sync`], or a program that dies mid-update freezes the pane.

use crate::core::term::convert::{cursor_of, export_row, modes_of};
use crate::core::term::row::Row;
use crate::core::term::state::{Cursor, Modes, ScreenState};
use crate::core::types::Size;
use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::Line;
use alacritty_terminal::term::test::TermSize;
use alacritty_terminal::term::{Config, Osc52, Term};
use alacritty_terminal::vte::ansi::{Processor, Rgb};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// What the emulator asked of its front end while parsing, until the owner takes it.
#[derive(Debug, Default)]
struct Pending {
    /// Bytes to write back to the program, in order.
    replies: Vec<u8>,
    /// The newest title, when it changed (empty after a reset).
    title: Option<String>,
    /// How many times the bell rang.
    bells: u32,
}

/// Receives the emulator's events. The emulator owns it and calls it from inside `advance`,
/// so the lock is only ever taken by that call or by [`Screen`] between calls, never across
/// an `.await`.
#[derive(Clone, Default)]
struct Listener(Arc<Mutex<Pending>>);

impl Listener {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding it cannot leave `Pending` half-written in a harmful way.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl EventListener for Listener {
    fn send_event(&self, event: Event) {
        let mut p = self.pending();
        match event {
            Event::PtyWrite(text) => p.replies.extend_from_slice(text.as_bytes()),
            Event::ColorRequest(index, reply) => {
                let (r, g, b) = palette(index);
                p.replies
                    .extend_from_slice(reply(Rgb { r, g, b }).as_bytes());
            }
            Event::Title(title) => p.title = Some(title),
            Event::ResetTitle => p.title = Some(String::new()),
            Event::Bell => p.bells = p.bells.saturating_add(1),
            // OSC 52 is disabled in the config: a program never reaches anyone's clipboard.
            // Pixel sizes are unknown to a shared terminal; the query goes unanswered, as tmux
            // leaves it.
            _ => {}
        }
    }
}

/// The colour a query for palette entry `index` is answered with: xterm's defaults, a light
/// grey on black for the default foreground (256) and background (257).
fn palette(index: usize) -> (u8, u8, u8) {
    const BASE: [(u8, u8, u8); 16] = [
        (0, 0, 0),
        (205, 0, 0),
        (0, 205, 0),
        (205, 205, 0),
        (0, 0, 238),
        (205, 0, 205),
        (0, 205, 205),
        (229, 229, 229),
        (127, 127, 127),
        (255, 0, 0),
        (0, 255, 0),
        (255, 255, 0),
        (92, 92, 255),
        (255, 0, 255),
        (0, 255, 255),
        (255, 255, 255),
    ];
    let level = |v: usize| if v == 0 { 0 } else { (55 + v * 40) as u8 };
    match index {
        0..=15 => BASE[index],
        16..=231 => {
            let i = index - 16;
            (level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        232..=255 => {
            let v = (8 + (index - 232) * 10) as u8;
            (v, v, v)
        }
        257 => (0, 0, 0),
        _ => (229, 229, 229),
    }
}

/// One pane's terminal: parses what the program writes and holds the screen it drew.
pub struct Screen {
    /// The emulator's grid, modes and scrollback.
    term: Term<Listener>,
    /// The escape-sequence parser, which holds a partial sequence between feeds.
    parser: Processor,
    /// Shared with the emulator, which reports into it.
    listener: Listener,
    /// The window title as last set.
    title: String,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen")
            .field("size", &self.size())
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

/// What a feed of bytes produced besides the screen.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Feedback {
    /// Answers to the program's queries, to write to its input.
    pub replies: Vec<u8>,
    /// Whether the title changed.
    pub title_changed: bool,
    /// How many times the bell rang.
    pub bells: u32,
}

impl Screen {
    /// A blank screen of `size` that keeps `scrollback` lines of history.
    pub fn new(size: Size, scrollback: usize) -> Screen {
        let listener = Listener::default();
        let config = Config {
            scrolling_history: scrollback,
            osc52: Osc52::Disabled,
            ..Config::default()
        };
        let term = Term::new(config, &term_size(size), listener.clone());
        Screen {
            term,
            parser: Processor::new(),
            listener,
            title: String::new(),
        }
    }

    /// Parses bytes the program wrote. Returns the replies the program is owed and what else
    /// happened.
    pub fn feed(&mut self, bytes: &[u8]) -> Feedback {
        self.end_overdue_sync(Instant::now());
        self.parser.advance(&mut self.term, bytes);
        self.take_feedback()
    }

    /// When a synchronized update that is still open must be ended, if one is.
    pub fn sync_deadline(&self) -> Option<Instant> {
        self.parser.sync_timeout().sync_timeout()
    }

    /// Ends a synchronized update whose deadline has passed by `now`, drawing what it held.
    /// Returns whether it did.
    pub fn end_overdue_sync(&mut self, now: Instant) -> bool {
        match self.sync_deadline() {
            Some(deadline) if deadline <= now => {
                self.parser.stop_sync(&mut self.term);
                true
            }
            _ => false,
        }
    }

    /// Takes what the emulator reported since the last call.
    fn take_feedback(&mut self) -> Feedback {
        let mut p = self.listener.pending();
        let title = p.title.take();
        let feedback = Feedback {
            replies: std::mem::take(&mut p.replies),
            title_changed: title.as_ref().is_some_and(|t| *t != self.title),
            bells: std::mem::take(&mut p.bells),
        };
        drop(p);
        if let Some(t) = title {
            self.title = t;
        }
        feedback
    }

    /// Columns and rows.
    pub fn size(&self) -> Size {
        Size::new(
            u16::try_from(self.term.columns()).unwrap_or(u16::MAX),
            u16::try_from(self.term.screen_lines()).unwrap_or(u16::MAX),
        )
    }

    /// Resizes the screen, reflowing wrapped lines as the host's terminal would.
    pub fn resize(&mut self, size: Size) {
        self.term.resize(term_size(size));
    }

    /// The window title the program set (OSC 0/2), empty when unset.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The cursor as the program left it.
    pub fn cursor(&self) -> Cursor {
        cursor_of(&self.term)
    }

    /// The modes the program has set.
    pub fn modes(&self) -> Modes {
        modes_of(*self.term.mode())
    }

    /// How many lines of history there are above the screen (none on the alternate screen).
    pub fn history_len(&self) -> usize {
        self.term.grid().history_size()
    }

    /// The text of a line numbered from the oldest line of history (0) to the screen's last
    /// row, without trailing blanks; `None` past the end.
    pub fn line_text(&self, line: usize) -> Option<String> {
        let history = self.history_len();
        (line < history + usize::from(self.size().rows)).then(|| {
            let line = Line(line as i32 - history as i32);
            export_row(&self.term.grid()[line]).text()
        })
    }

    /// Screen row `y` (0 is the top) as a styled row.
    pub fn row(&self, y: u16) -> Row {
        export_row(&self.term.grid()[Line(i32::from(y))])
    }

    /// The screen as styled rows. Rows equal to those of `prev` share its `Arc`s, so keeping
    /// both costs one copy of the rows that changed.
    pub fn export(&self, prev: Option<&ScreenState>) -> ScreenState {
        self.export_view(0, prev)
    }

    /// The screen scrolled back by `back` lines of history (clamped), as styled rows; the
    /// cursor is hidden when scrolled back.
    pub fn export_view(&self, back: usize, prev: Option<&ScreenState>) -> ScreenState {
        let back = back.min(self.history_len());
        let size = self.size();
        let grid = self.term.grid();
        let rows = (0..usize::from(size.rows))
            .map(|y| {
                let line = Line(y as i32 - back as i32);
                let row = export_row(&grid[line]);
                match prev.and_then(|p| p.rows.get(y)) {
                    Some(old) if **old == row => old.clone(),
                    _ => Arc::new(row),
                }
            })
            .collect();
        let mut cursor = self.cursor();
        if back > 0 {
            cursor.visible = false;
        }
        ScreenState {
            size,
            rows,
            cursor,
            modes: self.modes(),
            title: self.title.clone(),
        }
    }
}

/// The emulator's size type for `size`; the emulator needs at least two columns and a row.
fn term_size(size: Size) -> TermSize {
    TermSize::new(usize::from(size.cols.max(2)), usize::from(size.rows.max(1)))
}
