//! The host's dashboard: the shared pane, a sidebar (links, guests, log), a status bar and
//! overlays, drawn by `impl Widget for &App` from one owner's state.

pub mod app;
pub mod approval;
pub mod clipboard;
pub mod copy;
pub mod frames;
pub mod input;
pub mod overlay;
pub mod run;
pub mod sidebar;
pub mod view;

pub use app::{Action, App, Focus, Overlay, PaneImage, Section};
pub use run::{check_terminal, run};

#[cfg(test)]
mod snapshot_tests;

#[cfg(test)]
mod input_tests;
