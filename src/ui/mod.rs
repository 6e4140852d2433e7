//! The terminal front ends: the host's dashboard, what an ssh guest sees, the widget that
//! draws a vt100 screen for both, themes, and terminal input.

pub mod dashboard;
pub mod guest_view;
pub mod screen_view;
pub mod term_input;
pub mod theme;
