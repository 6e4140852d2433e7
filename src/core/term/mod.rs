//! The terminal model: a [`Screen`] per pane, and the styled rows, styles and modes it exports.
//!
//! This module is the only place that names the emulator crate (alacritty_terminal), so it can
//! be upgraded or swapped here alone. Everything else sees our types: [`ScreenState`] with its
//! [`Row`]s of styled [`Run`]s, the [`Cursor`] and the [`Modes`].

mod convert;
pub mod row;
pub mod screen;
pub mod state;
pub mod style;
pub mod update;

pub use row::{CellRef, Row, RowBuilder, Run, RunKind};
pub use screen::{Feedback, Screen};
pub use state::{Cursor, CursorShape, Modes, MouseEncoding, MouseMode, ScreenState};
pub use style::{Attrs, Color, Style, Underline};
pub use update::{RowsUpdate, UpdateError};

#[cfg(test)]
mod tests;
