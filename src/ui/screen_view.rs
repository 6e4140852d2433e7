//! A widget that draws a vt100 screen into a ratatui buffer, cell for cell.
//!
//! The host's dashboard and the relay's guest view both use it, so every viewer sees the same
//! cells. A view smaller than the screen shows the part at `offset`; a larger one marks the
//! cells the screen does not cover.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;

/// Draws `screen` into an area.
pub struct ScreenView<'a> {
    /// The screen to draw.
    screen: &'a vt100::Screen,
    /// The (row, col) of the screen cell drawn at the area's top-left corner.
    offset: (u16, u16),
    /// What fills the part of the area the screen does not cover.
    unused: (&'a str, Style),
}

impl<'a> ScreenView<'a> {
    /// A view of `screen` from its top-left corner, with unused cells left blank.
    pub fn new(screen: &'a vt100::Screen) -> Self {
        ScreenView {
            screen,
            offset: (0, 0),
            unused: (" ", Style::default()),
        }
    }

    /// Shows the screen from (row, col) on; see [`crate::core::layout::follow_cursor`].
    pub fn offset(mut self, offset: (u16, u16)) -> Self {
        self.offset = offset;
        self
    }

    /// Marks area cells that the screen does not cover with `symbol` in `style`.
    pub fn unused(mut self, symbol: &'a str, style: Style) -> Self {
        self.unused = (symbol, style);
        self
    }

    /// Where the cursor is in `area`, if it is shown and inside it.
    pub fn cursor(&self, area: Rect) -> Option<(u16, u16)> {
        if self.screen.hide_cursor() {
            return None;
        }
        let (row, col) = cursor_position(self.screen);
        let y = row.checked_sub(self.offset.0)?;
        let x = col.checked_sub(self.offset.1)?;
        (x < area.width && y < area.height).then(|| (area.x + x, area.y + y))
    }
}

impl Widget for ScreenView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (rows, cols) = self.screen.size();
        let (rows, cols) = (rows.get(), cols.get());
        let area = area.intersection(buf.area);
        for y in 0..area.height {
            let row = self.offset.0.saturating_add(y);
            for x in 0..area.width {
                let col = self.offset.1.saturating_add(x);
                let Some(out) = buf.cell_mut((area.x + x, area.y + y)) else {
                    continue;
                };
                if row >= rows || col >= cols {
                    out.reset();
                    out.set_symbol(self.unused.0).set_style(self.unused.1);
                    continue;
                }
                match self.screen.cell(row, col) {
                    Some(cell) => draw_cell(cell, out, x + 1 == area.width),
                    None => {
                        out.reset();
                    }
                }
            }
        }
    }
}

/// The cursor's (row, col), kept on the screen: vt100 reports the column past the last one
/// while a line wrap is pending.
pub fn cursor_position(screen: &vt100::Screen) -> (u16, u16) {
    let (rows, cols) = screen.size();
    let (row, col) = screen.cursor_position();
    (row.min(rows.get() - 1), col.min(cols.get() - 1))
}

/// Copies one vt100 cell into a ratatui cell; `last_column` blanks a wide character that
/// does not fit.
pub fn draw_cell(cell: &vt100::Cell, out: &mut ratatui::buffer::Cell, last_column: bool) {
    out.reset();
    out.set_style(cell_style(cell));
    if cell.is_wide_continuation() {
        // The wide character to the left covers this cell; ratatui skips it when diffing.
        return;
    }
    if cell.is_wide() && last_column {
        // Half a wide character does not fit; show a blank as tmux does.
        return;
    }
    let text = cell.contents();
    if !text.is_empty() {
        out.set_symbol(text);
    }
}

/// The ratatui style of a vt100 cell.
pub fn cell_style(cell: &vt100::Cell) -> Style {
    let mut m = Modifier::empty();
    if cell.bold() {
        m |= Modifier::BOLD;
    }
    if cell.dim() {
        m |= Modifier::DIM;
    }
    if cell.italic() {
        m |= Modifier::ITALIC;
    }
    if cell.underline() {
        m |= Modifier::UNDERLINED;
    }
    if cell.inverse() {
        m |= Modifier::REVERSED;
    }
    Style::default()
        .fg(color(cell.fgcolor()))
        .bg(color(cell.bgcolor()))
        .add_modifier(m)
}

/// The ratatui colour of a vt100 colour.
pub fn color(c: vt100::Color) -> Color {
    match c {
        vt100::Color::Default => Color::Reset,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

#[cfg(test)]
#[path = "screen_view_tests.rs"]
mod tests;
