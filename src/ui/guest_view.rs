//! What an ssh guest sees: the shared pane above one status line, sent as screen diffs.
//!
//! [`GuestRenderer`] keeps the last frame it sent and turns each new frame into the escape
//! codes that change one into the other, so a guest's memory is O(screen) and a frame after a
//! small change is a few bytes.

use crate::core::layout::follow_cursor;
use crate::core::pane::screen_size;
use crate::core::types::{Access, Size};
use crate::ui::screen_view::{ScreenView, cursor_position};
use crate::ui::theme::Theme;
use crossterm::{cursor, queue, terminal};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use std::io::Write;

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

/// Draws one guest frame into `buf`: the pane, then the status line on the last row.
/// Returns where the cursor goes, if it is shown.
pub fn draw(
    buf: &mut Buffer,
    screen: &vt100::Screen,
    status: &GuestStatus<'_>,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let area = buf.area;
    if area.height == 0 || area.width == 0 {
        return None;
    }
    let pane = Rect::new(area.x, area.y, area.width, area.height - 1);
    let view = Size::new(pane.width, pane.height);
    let offset = follow_cursor(screen_size(screen), view, cursor_position(screen));
    let widget = ScreenView::new(screen)
        .offset(offset)
        .unused(&theme.unused_symbol, theme.unused);
    let cursor = widget.cursor(pane);
    widget.render(pane, buf);

    let style = if status.locked || status.access == Access::ReadOnly {
        theme.status_readonly
    } else {
        theme.status
    };
    let bar = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    buf.set_style(bar, style);
    Line::from(Span::styled(status.text(), style)).render(bar, buf);
    cursor
}

/// Turns frames into the bytes that update a guest's terminal.
pub struct GuestRenderer {
    /// The guest's terminal size.
    size: Size,
    /// The frame the guest's terminal shows now; `None` forces a full redraw.
    prev: Option<Buffer>,
}

impl GuestRenderer {
    /// A renderer for a terminal of `size`.
    pub fn new(size: Size) -> Self {
        GuestRenderer {
            size: size.at_least_one(),
            prev: None,
        }
    }

    /// The guest's terminal size.
    pub fn size(&self) -> Size {
        self.size
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
        self.prev = None;
    }

    /// The bytes that bring the guest's terminal from the last frame to this one.
    pub fn frame(
        &mut self,
        screen: &vt100::Screen,
        status: &GuestStatus<'_>,
        theme: &Theme,
    ) -> Vec<u8> {
        let area = Rect::new(0, 0, self.size.cols, self.size.rows);
        let mut next = Buffer::empty(area);
        let cursor = draw(&mut next, screen, status, theme);
        let mut bytes = Vec::new();
        let mut out = CrosstermBackend::new(&mut bytes);
        let _ = out.hide_cursor();
        match &self.prev {
            Some(prev) => {
                let _ = out.draw(prev.diff(&next).into_iter());
            }
            None => {
                let _ = queue!(
                    out,
                    crossterm::style::SetAttribute(crossterm::style::Attribute::Reset),
                    terminal::Clear(terminal::ClearType::All)
                );
                let _ = out.draw(Buffer::empty(area).diff(&next).into_iter());
            }
        }
        if let Some((x, y)) = cursor {
            let _ = queue!(out, cursor::MoveTo(x, y), cursor::Show);
        }
        let _ = Write::flush(&mut out);
        self.prev = Some(next);
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

#[cfg(test)]
#[path = "guest_view_tests.rs"]
mod tests;
