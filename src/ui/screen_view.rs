//! A widget that draws a [`ScreenState`] into a ratatui buffer, cell for cell: the host's
//! dashboard pane.
//!
//! A view smaller than the screen shows the part at `offset`; a larger one marks the cells the
//! screen does not cover. ratatui has one kind of underline, so double, curly, dotted and
//! dashed underlines are drawn as a plain one here (ssh guests get the real kind); the
//! underline colour, strikethrough and hidden text are kept.

use crate::core::term::Underline;
use crate::core::term::{Attrs, CellRef, Color as TermColor, ScreenState, Style as TermStyle};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;

/// Draws `screen` into an area.
pub struct ScreenView<'a> {
    /// The screen to draw.
    screen: &'a ScreenState,
    /// The (row, col) of the screen cell drawn at the area's top-left corner.
    offset: (u16, u16),
    /// What fills the part of the area the screen does not cover.
    unused: (&'a str, Style),
}

impl<'a> ScreenView<'a> {
    /// A view of `screen` from its top-left corner, with unused cells left blank.
    pub fn new(screen: &'a ScreenState) -> Self {
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
        let c = self.screen.cursor;
        if !c.visible {
            return None;
        }
        let y = c.row.checked_sub(self.offset.0)?;
        let x = c.col.checked_sub(self.offset.1)?;
        (x < area.width && y < area.height).then(|| (area.x + x, area.y + y))
    }
}

impl Widget for ScreenView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let size = self.screen.size;
        let area = area.intersection(buf.area);
        for y in 0..area.height {
            let row = self.offset.0.saturating_add(y);
            let cells = (row < size.rows).then(|| self.screen.row(row).columns(size.cols));
            for x in 0..area.width {
                let col = self.offset.1.saturating_add(x);
                let Some(out) = buf.cell_mut((area.x + x, area.y + y)) else {
                    continue;
                };
                let cell = cells.as_ref().and_then(|c| c.get(usize::from(col)));
                match cell {
                    None => {
                        out.reset();
                        out.set_symbol(self.unused.0).set_style(self.unused.1);
                    }
                    Some(cell) => draw_cell(*cell, out, x + 1 == area.width),
                }
            }
        }
    }
}

/// Copies one cell (`None`: the right half of a wide one) into a ratatui cell;
/// `last_column` blanks a wide character that does not fit.
pub fn draw_cell(cell: Option<CellRef<'_>>, out: &mut ratatui::buffer::Cell, last_column: bool) {
    out.reset();
    let Some(cell) = cell else {
        // The wide character to the left covers this cell; ratatui skips it when diffing.
        return;
    };
    out.set_style(style(cell.style));
    if cell.wide && last_column {
        // Half a wide character does not fit; show a blank as tmux does.
        return;
    }
    out.set_symbol(cell.text);
}

/// Our cell attributes and the ratatui modifiers that draw them, both ways round.
pub const ATTR_MODIFIERS: [(Attrs, Modifier); 6] = [
    (Attrs::BOLD, Modifier::BOLD),
    (Attrs::DIM, Modifier::DIM),
    (Attrs::ITALIC, Modifier::ITALIC),
    (Attrs::INVERSE, Modifier::REVERSED),
    (Attrs::HIDDEN, Modifier::HIDDEN),
    (Attrs::STRIKE, Modifier::CROSSED_OUT),
];

/// The ratatui style of a cell's style.
pub fn style(s: &TermStyle) -> Style {
    let mut m = Modifier::empty();
    for (attr, modifier) in ATTR_MODIFIERS {
        if s.attrs.contains(attr) {
            m |= modifier;
        }
    }
    if s.underline != Underline::None {
        m |= Modifier::UNDERLINED;
    }
    let mut out = Style::default()
        .fg(color(s.fg))
        .bg(color(s.bg))
        .add_modifier(m);
    if s.underline_color != TermColor::Default {
        out = out.underline_color(color(s.underline_color));
    }
    out
}

/// The ratatui colour of a cell colour.
pub fn color(c: TermColor) -> Color {
    match c {
        TermColor::Default => Color::Reset,
        TermColor::Indexed(i) => Color::Indexed(i),
        TermColor::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

#[cfg(test)]
mod tests;
