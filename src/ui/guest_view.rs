//! What an ssh guest sees: the shared pane above one status line, sent as screen diffs, with
//! the guest's terminal kept in the modes the shared program set.
//!
//! [`GuestRenderer`] keeps the screen it drew last and writes the escape sequences that change
//! one into the next, so a frame after a small change is a few bytes. It writes them itself
//! (see [`crate::ui::guest_escape`]) rather than through a ratatui buffer, so that every
//! attribute of a cell reaches the guest: underline kinds and colours, strikethrough, hidden,
//! bold with dim, and colours exactly as the program chose them.

use crate::core::layout::follow_cursor;
use crate::core::term::{CellRef, Color, MouseEncoding, ScreenState, Style, Underline};
use crate::core::types::{Access, Size};
use crate::ui::guest_escape::{
    DEFAULT_MODES, Look, Pen, clean_title, fit_line, is_plain_ascii, theme_style, write_title,
};
use crate::ui::theme::Theme;
use std::sync::Arc;

/// What the status line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestStatus<'a> {
    /// The session's display name.
    pub session: &'a str,
    /// The guest's own access.
    pub access: Access,
    /// Whether the host has locked every guest's input.
    pub locked: bool,
    /// How many guests are attached.
    pub guests: usize,
    /// A passing message, such as "host reconnecting".
    pub message: Option<&'a str>,
}

impl GuestStatus<'_> {
    /// The status line's text.
    pub fn text(&self) -> String {
        let access = match (self.access, self.locked) {
            (_, true) => "read-only (locked by host)",
            (Access::ReadWrite, false) => "read-write",
            (Access::ReadOnly, false) => "read-only",
        };
        let guests = match self.guests {
            1 => "1 guest".to_string(),
            n => format!("{n} guests"),
        };
        // A passing message takes the detach hint's place, so that it fits in 80 columns.
        let last = self.message.unwrap_or("C-b d detach");
        format!(" cotty │ {} │ {access} │ {guests} │ {last}", self.session)
    }
}

/// Where a guest sees the pane: which part of it, at the top-left of the guest's terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The pane row and column drawn at the guest's top-left cell.
    pub offset: (u16, u16),
    /// The guest's room for the pane: its terminal less the status line.
    pub view: Size,
    /// The pane's size.
    pub pane: Size,
}

impl Placement {
    /// The part of the guest's view that shows pane cells; the rest is the unused area.
    fn visible(&self) -> Size {
        Size::new(
            self.view
                .cols
                .min(self.pane.cols.saturating_sub(self.offset.1)),
            self.view
                .rows
                .min(self.pane.rows.saturating_sub(self.offset.0)),
        )
    }

    /// The pane cell (column, row) under the guest's cell, or `None` when the guest's cell
    /// shows no pane cell (the unused area or the status line).
    pub fn to_pane(&self, col: u16, row: u16) -> Option<(u16, u16)> {
        let visible = self.visible();
        (col < visible.cols && row < visible.rows)
            .then(|| (col + self.offset.1, row + self.offset.0))
    }

    /// The pane cell nearest to the guest's cell, for a drag or a release that strayed out.
    pub fn clamp(&self, col: u16, row: u16) -> (u16, u16) {
        let visible = self.visible();
        (
            col.min(visible.cols.saturating_sub(1)) + self.offset.1,
            row.min(visible.rows.saturating_sub(1)) + self.offset.0,
        )
    }
}

/// The style of a blank cell, which a cleared terminal shows everywhere.
static BLANK_STYLE: Style = Style {
    fg: Color::Default,
    bg: Color::Default,
    underline_color: Color::Default,
    underline: Underline::None,
    attrs: crate::core::term::Attrs::empty(),
};

/// A blank cell as a cleared terminal shows it.
const BLANK: CellRef<'static> = CellRef {
    text: " ",
    style: &BLANK_STYLE,
    wide: false,
};

/// Above this many bytes of drawing, the cursor is hidden while drawing, so the guest does not
/// see it run across the screen; an echo is drawn where the cursor is, and hiding it would
/// cost more than the echo.
const HIDE_WHILE_DRAWING: usize = 64;

/// Skipped cells up to this many columns are written again rather than skipped with a cursor
/// move, when that is shorter: the space between two words costs one byte, not three.
const MAX_REWRITE: u16 = 3;

/// What the guest's terminal shows now, to draw the next frame as a diff against.
struct Shown {
    /// The screen drawn last: the room's published copy, shared, so keeping it is free.
    screen: Arc<ScreenState>,
    /// The pane's offset into that screen.
    offset: (u16, u16),
    /// The pane's size then.
    view: Size,
    /// The symbol and style the unused area was filled with.
    unused: (String, Style),
    /// The status line as drawn (the whole row, padded) and its style.
    status: (String, Style),
}

/// Turns frames into the bytes that update a guest's terminal.
///
/// It keeps the screen it drew last (shared with the room, not copied): rows that did not
/// change share their `Arc` and are skipped with a pointer compare, and only the cells that
/// differ in the others are written. A guest costs the relay no screen buffer of its own.
pub struct GuestRenderer {
    /// The guest's terminal size.
    size: Size,
    /// What the terminal shows; `None` forces a full redraw.
    shown: Option<Shown>,
    /// The SGR and cursor position the guest's terminal has, so neither is sent again.
    pen: Pen,
    /// The modes and cursor look the guest's terminal is in, so only changes are sent.
    look: Look,
    /// The window title last sent, already cleaned; empty until a program sets one.
    title: String,
    /// Whether the guest's cursor is visible now.
    cursor_shown: bool,
}

impl GuestRenderer {
    /// A renderer for a terminal of `size`.
    pub fn new(size: Size) -> Self {
        let size = size.at_least_one();
        GuestRenderer {
            size,
            shown: None,
            pen: Pen::new(size.cols),
            look: Look::default(),
            title: String::new(),
            cursor_shown: true,
        }
    }

    /// The area left for the shared pane: the terminal less the status line.
    pub fn pane_area(&self) -> Size {
        Size::new(self.size.cols, self.size.rows.saturating_sub(1)).at_least_one()
    }

    /// Where the last frame put the pane, so the guest's mouse can be mapped into it; `None`
    /// until a frame is drawn.
    pub fn placement(&self) -> Option<Placement> {
        self.shown.as_ref().map(|s| Placement {
            offset: s.offset,
            view: s.view,
            pane: s.screen.size,
        })
    }

    /// How the guest's terminal was told to report the mouse.
    pub fn mouse_encoding(&self) -> MouseEncoding {
        self.look.mouse_encoding()
    }

    /// Bytes that prepare the guest's terminal: the alternate screen, cleared, the window
    /// title saved (`finish` restores it), and every mode the renderer may change in its
    /// default state, whatever the guest's terminal was left in before.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"\x1b[?1049h\x1b[22;0t\x1b[0m\x1b[H\x1b[2J");
        out.extend_from_slice(DEFAULT_MODES.as_bytes());
        self.pen.was_reset();
        self.pen.was_moved(0, 0);
        self.look = Look::default();
        self.cursor_shown = true;
        out
    }

    /// The guest's terminal changed size; the next frame is drawn in full.
    pub fn resize(&mut self, size: Size) {
        self.size = size.at_least_one();
        self.pen.resize(self.size.cols);
        self.shown = None;
    }

    /// The bytes that bring the guest's terminal from the last frame to this one: the modes,
    /// cursor look and title when they changed, the cells that changed, the status line when
    /// it changed, and the cursor. An unchanged frame is empty.
    pub fn frame(
        &mut self,
        screen: &Arc<ScreenState>,
        status: &GuestStatus<'_>,
        theme: &Theme,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        // A guest who may not type gets no mouse reporting either: its reports would be
        // dropped, and its terminal keeps the mouse for selecting text.
        let may_point = status.access == Access::ReadWrite && !status.locked;
        let look = Look::of(screen, may_point);
        if look != self.look {
            self.look.write_change(&look, &mut out);
            self.look = look;
        }
        let title = clean_title(&screen.title);
        if title != self.title {
            write_title(&mut out, &title);
            self.title = title;
        }

        let view = Size::new(self.size.cols, self.size.rows.saturating_sub(1));
        let cursor = (screen.cursor.row, screen.cursor.col);
        let offset = follow_cursor(screen.size, view, cursor);
        let unused_style = theme_style(theme.unused);
        let bar_style = theme_style(if status.locked || status.access == Access::ReadOnly {
            theme.status_readonly
        } else {
            theme.status
        });
        let bar = fit_line(&status.text(), self.size.cols);

        let mut draw = Vec::new();
        let same = self.shown.take().filter(|s| {
            s.offset == offset
                && s.view == view
                && s.screen.size == screen.size
                && s.unused.0 == theme.unused_symbol
                && s.unused.1 == unused_style
        });
        match &same {
            Some(shown) => self.draw_changes(&mut draw, &shown.screen, screen, offset, view),
            None => {
                self.pen.set_style(&mut draw, &BLANK_STYLE);
                draw.extend_from_slice(b"\x1b[2J");
                self.draw_all(
                    &mut draw,
                    screen,
                    offset,
                    view,
                    &theme.unused_symbol,
                    &unused_style,
                );
            }
        }
        let bar_changed = same
            .as_ref()
            .is_none_or(|s| s.status.0 != bar || s.status.1 != bar_style);
        if bar_changed {
            self.pen.move_to(&mut draw, 0, view.rows);
            self.pen.set_style(&mut draw, &bar_style);
            self.pen.text(&mut draw, &bar, self.size.cols);
        }

        if draw.len() > HIDE_WHILE_DRAWING && self.cursor_shown {
            out.extend_from_slice(b"\x1b[?25l");
            self.cursor_shown = false;
        }
        out.extend_from_slice(&draw);
        let in_view = || {
            let y = cursor.0.checked_sub(offset.0)?;
            let x = cursor.1.checked_sub(offset.1)?;
            (x < view.cols && y < view.rows).then_some((x, y))
        };
        match in_view().filter(|_| screen.cursor.visible) {
            Some((x, y)) => {
                self.pen.move_to(&mut out, x, y);
                if !self.cursor_shown {
                    out.extend_from_slice(b"\x1b[?25h");
                    self.cursor_shown = true;
                }
            }
            None if self.cursor_shown => {
                out.extend_from_slice(b"\x1b[?25l");
                self.cursor_shown = false;
            }
            None => {}
        }
        self.shown = Some(Shown {
            screen: screen.clone(),
            offset,
            view,
            unused: (theme.unused_symbol.clone(), unused_style),
            status: (bar, bar_style),
        });
        out
    }

    /// Draws a whole frame onto a cleared terminal: the screen's cells that are not blank,
    /// and the unused area right of and below the screen.
    fn draw_all(
        &mut self,
        out: &mut Vec<u8>,
        screen: &ScreenState,
        offset: (u16, u16),
        view: Size,
        symbol: &str,
        unused: &Style,
    ) {
        let width = view.cols.min(screen.size.cols.saturating_sub(offset.1));
        let mark = CellRef {
            text: symbol,
            style: unused,
            wide: false,
        };
        for y in 0..view.rows {
            let row = offset.0.saturating_add(y);
            let from = if row < screen.size.rows {
                let cells = screen.row(row).columns(screen.size.cols);
                self.draw_row(out, y, None, &cells, offset.1, width);
                width
            } else {
                0
            };
            for x in from..view.cols {
                self.pen.put(out, x, y, mark);
            }
        }
    }

    /// Draws what changed between two screens of one size seen from one offset. Rows that
    /// share their `Arc` are skipped without looking at their cells.
    fn draw_changes(
        &mut self,
        out: &mut Vec<u8>,
        old: &ScreenState,
        new: &ScreenState,
        offset: (u16, u16),
        view: Size,
    ) {
        let size = new.size;
        let width = view.cols.min(size.cols.saturating_sub(offset.1));
        for y in 0..view.rows {
            let row = offset.0.saturating_add(y);
            if row >= size.rows {
                break;
            }
            let (Some(a), Some(b)) = (
                old.rows.get(usize::from(row)),
                new.rows.get(usize::from(row)),
            ) else {
                continue;
            };
            if Arc::ptr_eq(a, b) || a == b {
                continue;
            }
            let (before, after) = (a.columns(size.cols), b.columns(size.cols));
            self.draw_row(out, y, Some(&before), &after, offset.1, width);
        }
    }

    /// Draws pane row `y`: the cells of `new` from column `from` on, `width` of them, that
    /// differ from those of `old` (`None`: the row is blank on the guest's terminal).
    fn draw_row(
        &mut self,
        out: &mut Vec<u8>,
        y: u16,
        old: Option<&[Option<CellRef<'_>>]>,
        new: &[Option<CellRef<'_>>],
        from: u16,
        width: u16,
    ) {
        for x in 0..width {
            let Some(cell) = drawn(new, from, x, width) else {
                continue;
            };
            let before = old.map_or(Some(BLANK), |o| drawn(o, from, x, width));
            if before == Some(cell) {
                continue;
            }
            // A short run of unchanged cells in the style in force is written again: that is
            // shorter than the cursor move that would skip it.
            if let Some((ax, ay)) = self.pen.at()
                && ay == y
                && ax < x
                && x - ax <= MAX_REWRITE
            {
                let gap: Option<Vec<CellRef<'_>>> = (ax..x)
                    .map(|gx| {
                        drawn(new, from, gx, width).filter(|c| {
                            !c.wide && is_plain_ascii(c.text) && self.pen.style() == Some(c.style)
                        })
                    })
                    .collect();
                for (gx, c) in (ax..).zip(gap.into_iter().flatten()) {
                    self.pen.put(out, gx, y, c);
                }
            }
            self.pen.put(out, x, y, cell);
        }
    }

    /// Bytes that give the guest its own screen back and print `message` on it: the modes
    /// and cursor as the renderer found them, the main screen and the saved title.
    pub fn finish(&mut self, message: &str) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"\x1b[0m");
        out.extend_from_slice(DEFAULT_MODES.as_bytes());
        out.extend_from_slice(b"\x1b[?1049l\x1b[23;0t");
        self.pen = Pen::new(self.size.cols);
        self.look = Look::default();
        self.cursor_shown = true;
        self.shown = None;
        if !message.is_empty() {
            out.extend_from_slice(message.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

/// The cell drawn at pane column `x` for a row's cells seen from column `from`, in a pane
/// `width` columns wide; `None` when the wide cell to its left covers it.
///
/// A wide cell in the last column is drawn blank, as tmux does, since half of it does not
/// fit; the right half of a wide cell in the first column, whose left half is cut off, is
/// drawn as a blank in its style.
fn drawn<'a>(cells: &[Option<CellRef<'a>>], from: u16, x: u16, width: u16) -> Option<CellRef<'a>> {
    let col = usize::from(from.saturating_add(x));
    match cells.get(col).copied().flatten() {
        Some(cell) if cell.wide && x + 1 == width => Some(CellRef {
            text: " ",
            wide: false,
            ..cell
        }),
        Some(cell) => Some(cell),
        None if x == 0 => {
            let left = col
                .checked_sub(1)
                .and_then(|c| cells.get(c).copied().flatten());
            Some(CellRef {
                text: " ",
                style: left.map_or(&BLANK_STYLE, |l| l.style),
                wide: false,
            })
        }
        None => None,
    }
}

#[cfg(test)]
mod tests;
