//! Drawing: vt100 screens into ratatui buffers, and what an ssh guest sees.

pub mod guest_view;
pub mod screen_view;
pub mod term_input;
pub mod theme;
