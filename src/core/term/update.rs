//! [`RowsUpdate`]: the rows of a screen that changed, as the host sends them up, and how the
//! receiver applies them to the screen it keeps.
//!
//! The host diffs what it exports against what it sent last (rows that did not change share
//! their `Arc`, so the diff is a pointer compare); the relay applies the update to its copy and
//! publishes the result. Rows from the wire are checked before they are kept, since the relay
//! must not trust a host with its memory.

use crate::core::term::row::{Row, RowBuilder, RunKind};
use crate::core::term::state::{Cursor, Modes, ScreenState};
use crate::core::types::{PaneId, Size};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thiserror::Error;

/// The longest text one cluster cell may carry: a long ZWJ sequence fits many times over.
const MAX_CLUSTER_BYTES: usize = 64;

/// The changed part of one pane's screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowsUpdate {
    /// The pane.
    pub pane: PaneId,
    /// The screen's size; when it differs from the receiver's, rows are added or dropped at
    /// the bottom before the listed ones are applied.
    pub size: Size,
    /// The rows that changed, by index from the top.
    pub rows: Vec<(u16, Arc<Row>)>,
    /// The cursor.
    pub cursor: Cursor,
    /// The program's terminal modes.
    pub modes: Modes,
    /// The new title, when it changed.
    pub title: Option<String>,
}

/// Why an update was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UpdateError {
    /// A row index past the screen's height.
    #[error("row {row} is outside a screen of {size}")]
    RowOutside {
        /// The row.
        row: u16,
        /// The screen's size.
        size: Size,
    },
    /// A row that is wider than the screen, refers to a style it does not have, or holds an
    /// oversized cell.
    #[error(
        "row {row} is malformed (wider than {cols} columns, a missing style or an oversized cell)"
    )]
    BadRow {
        /// The row.
        row: u16,
        /// The screen's width.
        cols: u16,
    },
}

impl Row {
    /// Whether a row from the wire may be kept on a screen `cols` wide: every style exists,
    /// it is no wider than the screen, and no cell carries more than a cluster's worth of text.
    pub fn fits(&self, cols: u16) -> bool {
        let clusters_ok = self.runs.iter().all(|r| match r.kind {
            RunKind::Cluster { .. } => r.text.len() <= MAX_CLUSTER_BYTES,
            _ => true,
        });
        clusters_ok && self.is_valid() && self.width() <= usize::from(cols)
    }
}

impl RowsUpdate {
    /// This update cut down to a screen of at most `max`: rows below are dropped, and rows
    /// wider are cut at the margin, as a terminal of that size would show them.
    pub fn clamp_to(&mut self, max: Size) {
        let size = Size::new(self.size.cols.min(max.cols), self.size.rows.min(max.rows));
        if size == self.size {
            return;
        }
        self.size = size;
        self.rows.retain(|(y, _)| *y < size.rows);
        for (_, row) in &mut self.rows {
            if row.width() > usize::from(size.cols) {
                *row = Arc::new(row.truncated(size.cols));
            }
        }
    }
}

impl Row {
    /// The row's first `cols` columns; a wide cell that would cross the margin is dropped.
    pub fn truncated(&self, cols: u16) -> Row {
        let mut b = RowBuilder::default();
        let mut used = 0;
        for cell in self.cells() {
            let w = if cell.wide { 2 } else { 1 };
            if used + w > usize::from(cols) {
                break;
            }
            used += w;
            let mut chars = cell.text.chars();
            let base = chars.next().unwrap_or(' ');
            let rest: Vec<char> = chars.collect();
            b.push(base, &rest, *cell.style, cell.wide);
        }
        b.finish(false)
    }
}

impl ScreenState {
    /// The update that turns `prev` (what the receiver has, or nothing) into this screen:
    /// every row when there is no `prev` or the size changed, else the rows whose `Arc`
    /// differs.
    pub fn update_from(&self, pane: PaneId, prev: Option<&ScreenState>) -> RowsUpdate {
        let same_size = prev.filter(|p| p.size == self.size);
        let rows = self
            .rows
            .iter()
            .enumerate()
            .filter(|(y, row)| {
                same_size
                    .and_then(|p| p.rows.get(*y))
                    .is_none_or(|old| !Arc::ptr_eq(old, row))
            })
            .map(|(y, row)| (y as u16, row.clone()))
            .collect();
        RowsUpdate {
            pane,
            size: self.size,
            rows,
            cursor: self.cursor,
            modes: self.modes,
            title: match prev {
                Some(p) if p.title == self.title => None,
                _ => Some(self.title.clone()),
            },
        }
    }

    /// Applies an update from the wire. Nothing changes when it is refused.
    pub fn apply(&mut self, update: RowsUpdate) -> Result<(), UpdateError> {
        let size = update.size;
        for (y, row) in &update.rows {
            if *y >= size.rows {
                return Err(UpdateError::RowOutside { row: *y, size });
            }
            if !row.fits(size.cols) {
                return Err(UpdateError::BadRow {
                    row: *y,
                    cols: size.cols,
                });
            }
        }
        if self.size != size {
            let blank = Arc::new(Row::default());
            self.rows.resize(usize::from(size.rows), blank);
            self.size = size;
        }
        for (y, row) in update.rows {
            self.rows[usize::from(y)] = row;
        }
        self.cursor = update.cursor;
        self.cursor.row = self.cursor.row.min(size.rows.saturating_sub(1));
        self.cursor.col = self.cursor.col.min(size.cols.saturating_sub(1));
        self.modes = update.modes;
        if let Some(title) = update.title {
            self.title = title;
        }
        Ok(())
    }
}
