//! The terminal front ends: the host's dashboard with the widget that draws its pane, the ssh
//! guest renderer, themes, and terminal input.

pub mod dashboard;
pub mod guest_escape;
pub mod guest_view;
pub mod screen_view;
pub mod term_input;
pub mod theme;
