//! A styled row: what the host sends the relay for one line of a screen, and what every
//! renderer draws.
//!
//! A row is runs of cells with a style id into the row's own style table, so an unchanged row
//! can be shared (`Arc`) between screens and guests without a table that outlives it. The text
//! of a run is split into cells without any width table, so the receiver can never disagree
//! with the host's emulator about where a cell starts:
//!
//! * a [`RunKind::Narrow`] run holds one `char` per cell, each one column wide;
//! * a [`RunKind::Wide`] run holds one `char` per cell, each two columns wide;
//! * a [`RunKind::Cluster`] run is one cell whose text has more than one `char` (a base with
//!   combining marks, a VS16 emoji, part of a ZWJ sequence), one or two columns wide.
//!
//! Cells past the last run are blank in the default style: trailing blanks are not sent.

use crate::core::term::style::Style;
use serde::{Deserialize, Serialize};

/// How the text of a run maps to cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// One `char` per cell, one column each.
    Narrow,
    /// One `char` per cell, two columns each.
    Wide,
    /// The whole text is one cell; `wide` says whether it takes two columns.
    Cluster {
        /// Whether the cell is two columns wide.
        wide: bool,
    },
}

/// Cells of one style side by side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "RunWire", try_from = "RunWire")]
pub struct Run {
    /// Index into the row's style table.
    pub style: u16,
    /// How `text` maps to cells.
    pub kind: RunKind,
    /// The cells' characters.
    pub text: String,
}

/// A run on the wire: a three-element array rather than a map, since a screen has thousands.
#[derive(Serialize, Deserialize)]
struct RunWire(u16, u8, String);

impl From<Run> for RunWire {
    fn from(r: Run) -> RunWire {
        let kind = match r.kind {
            RunKind::Narrow => 0,
            RunKind::Wide => 1,
            RunKind::Cluster { wide: false } => 2,
            RunKind::Cluster { wide: true } => 3,
        };
        RunWire(r.style, kind, r.text)
    }
}

impl TryFrom<RunWire> for Run {
    type Error = String;
    fn try_from(w: RunWire) -> Result<Run, String> {
        let kind = match w.1 {
            0 => RunKind::Narrow,
            1 => RunKind::Wide,
            2 => RunKind::Cluster { wide: false },
            3 => RunKind::Cluster { wide: true },
            k => return Err(format!("unknown run kind {k}")),
        };
        if w.2.is_empty() {
            return Err("empty run".into());
        }
        Ok(Run {
            style: w.0,
            kind,
            text: w.2,
        })
    }
}

/// One line of a screen. On the wire it is an array (styles, runs, wrapped), not a map.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "RowWire", into = "RowWire")]
pub struct Row {
    /// The styles the runs refer to; the first is not necessarily the default.
    pub styles: Vec<Style>,
    /// The cells from column 0, left to right.
    pub runs: Vec<Run>,
    /// Whether the line continues on the next one (it was wrapped, not ended), so copied text
    /// joins them.
    pub wrapped: bool,
}

/// A row on the wire.
#[derive(Serialize, Deserialize)]
struct RowWire(Vec<Style>, Vec<Run>, bool);

impl From<Row> for RowWire {
    fn from(r: Row) -> RowWire {
        RowWire(r.styles, r.runs, r.wrapped)
    }
}

impl From<RowWire> for Row {
    fn from(w: RowWire) -> Row {
        Row {
            styles: w.0,
            runs: w.1,
            wrapped: w.2,
        }
    }
}

/// One cell of a row, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRef<'a> {
    /// The cell's text: one `char`, or a cluster.
    pub text: &'a str,
    /// How it looks.
    pub style: &'a Style,
    /// Whether it takes two columns (the next column is covered by it).
    pub wide: bool,
}

/// The style of cells past a row's runs, and of a style id that is out of range.
static BLANK: Style = Style {
    fg: crate::core::term::style::Color::Default,
    bg: crate::core::term::style::Color::Default,
    underline_color: crate::core::term::style::Color::Default,
    underline: crate::core::term::style::Underline::None,
    attrs: crate::core::term::style::Attrs::empty(),
};

impl Row {
    /// The cells of the row's runs, left to right; a wide cell covers two columns.
    pub fn cells(&self) -> impl Iterator<Item = CellRef<'_>> + '_ {
        self.runs.iter().flat_map(move |run| {
            let style = self.styles.get(usize::from(run.style)).unwrap_or(&BLANK);
            let (cluster, wide) = match run.kind {
                RunKind::Narrow => (false, false),
                RunKind::Wide => (false, true),
                RunKind::Cluster { wide } => (true, wide),
            };
            let text = run.text.as_str();
            let mut chars = text.char_indices().peekable();
            std::iter::from_fn(move || {
                if cluster {
                    return chars.next().map(|_| {
                        chars.by_ref().for_each(drop);
                        CellRef { text, style, wide }
                    });
                }
                let (i, c) = chars.next()?;
                Some(CellRef {
                    text: &text[i..i + c.len_utf8()],
                    style,
                    wide,
                })
            })
        })
    }

    /// The row's cells by column: a wide cell is followed by `None` for the column it covers.
    /// The result has exactly `cols` entries; columns past the runs are blank.
    pub fn columns(&self, cols: u16) -> Vec<Option<CellRef<'_>>> {
        let cols = usize::from(cols);
        let mut out = Vec::with_capacity(cols);
        for cell in self.cells() {
            if out.len() >= cols {
                break;
            }
            out.push(Some(cell));
            if cell.wide && out.len() < cols {
                out.push(None);
            }
        }
        while out.len() < cols {
            out.push(Some(CellRef {
                text: " ",
                style: &BLANK,
                wide: false,
            }));
        }
        out
    }

    /// The row's text, with blanks as spaces and trailing blanks dropped, for tests and logs.
    pub fn text(&self) -> String {
        let s: String = self.cells().map(|c| c.text).collect();
        s.trim_end().to_string()
    }

    /// How many columns the runs cover.
    pub fn width(&self) -> usize {
        self.cells().map(|c| if c.wide { 2 } else { 1 }).sum()
    }

    /// Whether every run refers to a style in the table; rows from the wire are checked.
    pub fn is_valid(&self) -> bool {
        self.runs
            .iter()
            .all(|r| usize::from(r.style) < self.styles.len())
    }
}

/// Builds a row cell by cell, merging cells of one style and kind into runs.
#[derive(Debug, Default)]
pub struct RowBuilder {
    /// The row being built.
    row: Row,
}

impl RowBuilder {
    /// Appends a cell: `base` with the zero-width characters that follow it.
    pub fn push(&mut self, base: char, zerowidth: &[char], style: Style, wide: bool) {
        // Most cells have the style of the cell before them.
        let style = match self.row.runs.last() {
            Some(last) if self.row.styles[usize::from(last.style)] == style => last.style,
            _ => self.style_id(style),
        };
        let cluster = !zerowidth.is_empty();
        let kind = match (cluster, wide) {
            (true, wide) => RunKind::Cluster { wide },
            (false, false) => RunKind::Narrow,
            (false, true) => RunKind::Wide,
        };
        if !cluster
            && let Some(last) = self.row.runs.last_mut()
            && last.style == style
            && last.kind == kind
        {
            last.text.push(base);
            return;
        }
        let mut text = String::with_capacity(base.len_utf8());
        text.push(base);
        text.extend(zerowidth);
        self.row.runs.push(Run { style, kind, text });
    }

    /// The id of `style` in the row's table, adding it when it is new.
    fn style_id(&mut self, style: Style) -> u16 {
        let styles = &mut self.row.styles;
        // Rows have few styles; a linear search from the newest beats a map.
        if let Some(i) = styles.iter().rposition(|s| *s == style) {
            return i as u16;
        }
        styles.push(style);
        (styles.len() - 1) as u16
    }

    /// The finished row, without the blanks at its end.
    pub fn finish(mut self, wrapped: bool) -> Row {
        while let Some(last) = self.row.runs.last_mut() {
            let blank_style = self.row.styles[usize::from(last.style)].is_default();
            if !blank_style || last.kind != RunKind::Narrow {
                break;
            }
            let kept = last.text.trim_end_matches(' ').len();
            if kept > 0 {
                last.text.truncate(kept);
                break;
            }
            self.row.runs.pop();
        }
        // Styles used only by the trimmed blanks go too.
        let used = self.row.runs.iter().map(|r| usize::from(r.style) + 1).max();
        self.row.styles.truncate(used.unwrap_or(0));
        self.row.wrapped = wrapped;
        self.row
    }
}
