//! Input to actions: the prefix, the sidebar's keys, overlays, the mouse and pastes.

use crate::core::keys::{Key, KeyCode, MouseKind};
use crate::core::types::{Access, LinkRef};
use crate::host::state::LinkKind;
use crate::ui::dashboard::app::{Action, App, Focus, Overlay, Section};
use crate::ui::dashboard::{sidebar, view};
use crate::ui::term_input::mouse_from_crossterm;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Rows one wheel step scrolls.
const WHEEL_ROWS: usize = 3;

pub(super) fn is_char(key: &Key, c: char) -> bool {
    key.code == KeyCode::Char(c) && !key.mods.ctrl && !key.mods.alt
}

impl App {
    /// Handles a key press; returns what the event loop must do.
    pub fn on_key(&mut self, key: Key) -> Vec<Action> {
        // A guest asking to join takes the keys until the host answers.
        if let Some(actions) = self.on_asking_key(&key, std::time::Instant::now()) {
            return actions;
        }
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, key);
        }
        if self.prefix_armed {
            self.prefix_armed = false;
            return self.on_command(key);
        }
        if key == self.prefix {
            self.prefix_armed = true;
            return vec![];
        }
        if self.copy.is_some() {
            return self.on_copy_key(key);
        }
        match self.focus {
            Focus::Sidebar(section) => self.on_sidebar_key(section, key),
            Focus::Pane => {
                // Typing returns the pane from its scrollback, as terminals do.
                self.pane_scroll = 0;
                vec![Action::Key(key)]
            }
        }
    }

    /// Handles a paste: it goes to the program when the pane has the keys.
    pub fn on_paste(&mut self, text: String) -> Vec<Action> {
        if self.focus == Focus::Pane && self.overlay.is_none() && self.copy.is_none() {
            self.pane_scroll = 0;
            vec![Action::Paste(text)]
        } else {
            vec![]
        }
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: Key) -> Vec<Action> {
        let yes = is_char(&key, 'y') || is_char(&key, 'Y');
        match overlay {
            Overlay::ConfirmKick(id) if yes => vec![Action::Kick(id)],
            Overlay::ConfirmQuit if yes => vec![Action::Quit],
            // Any other key closes the overlay.
            _ => vec![],
        }
    }

    /// The key after the prefix.
    fn on_command(&mut self, key: Key) -> Vec<Action> {
        if key == self.prefix {
            self.pane_scroll = 0;
            return vec![Action::Key(key)];
        }
        match key.code {
            KeyCode::Char('s') if self.narrow => {
                self.host
                    .log("the sidebar needs a terminal of 60 columns or more");
            }
            KeyCode::Char('s') => {
                self.sidebar_shown = true;
                self.focus = Focus::Sidebar(Section::Links);
                self.link_selected = LinkKind::SSH_RW;
            }
            KeyCode::Char('S') => {
                self.sidebar_shown = !self.sidebar_shown;
                if !self.sidebar_shown {
                    self.focus = Focus::Pane;
                }
            }
            KeyCode::Char('[') => {
                self.focus = Focus::Pane;
                self.enter_copy_mode();
            }
            KeyCode::Char('L') => return vec![Action::Lock(!self.host.locked)],
            KeyCode::Char('?') => self.overlay = Some(Overlay::Help),
            KeyCode::Char('q') => self.overlay = Some(Overlay::ConfirmQuit),
            // Unbound keys do nothing, as in tmux.
            _ => {}
        }
        vec![]
    }

    fn on_sidebar_key(&mut self, section: Section, key: Key) -> Vec<Action> {
        let up = key.code == KeyCode::Up || is_char(&key, 'k') && section != Section::Guests;
        let down = key.code == KeyCode::Down || is_char(&key, 'j');
        match key.code {
            KeyCode::Esc => {
                self.focus = Focus::Pane;
                return vec![];
            }
            KeyCode::Tab => {
                self.focus = Focus::Sidebar(section.next());
                return vec![];
            }
            KeyCode::BackTab => {
                self.focus = Focus::Sidebar(section.prev());
                return vec![];
            }
            _ => {}
        }
        match section {
            Section::Links => {
                if up || down {
                    self.link_selected = self.next_link(if up { -1 } else { 1 });
                } else if key.code == KeyCode::Enter || is_char(&key, 'y') {
                    return self.copy_link(self.link_selected);
                } else if is_char(&key, 'd') {
                    // The relay lets guests in by token, and a web link carries the same
                    // token as the ssh link of its access: both go off together.
                    let link = LinkRef::from(self.link_selected);
                    return vec![Action::SwitchLink(link, !self.host.link_enabled(link))];
                } else if is_char(&key, 'Q') {
                    self.overlay = Some(Overlay::Qr(self.link_selected));
                }
            }
            Section::Guests => {
                // `k` kicks here, so only the arrow keys and j move.
                if key.code == KeyCode::Up {
                    self.guest_selected = self.guest_selected.saturating_sub(1);
                } else if down {
                    let last = self.host.guests.len().saturating_sub(1);
                    self.guest_selected = (self.guest_selected + 1).min(last);
                } else if is_char(&key, 'm') {
                    if let Some(g) = self.selected_row() {
                        let to = match g.info.access {
                            Access::ReadWrite => Access::ReadOnly,
                            Access::ReadOnly => Access::ReadWrite,
                        };
                        return vec![Action::SetAccess(g.info.id, to)];
                    }
                } else if is_char(&key, 'k')
                    && let Some(id) = self.selected_guest()
                {
                    self.overlay = Some(Overlay::ConfirmKick(id));
                }
            }
            Section::Log => {
                if up || key.code == KeyCode::PageUp {
                    self.log_scroll = (self.log_scroll + 1).min(self.host.log.len());
                } else if down || key.code == KeyCode::PageDown {
                    self.log_scroll = self.log_scroll.saturating_sub(1);
                }
            }
        }
        vec![]
    }

    fn selected_row(&self) -> Option<&crate::core::session::GuestRow> {
        let id = self.selected_guest()?;
        self.host.guests.iter().find(|g| g.info.id == id)
    }

    /// The link `step` places after the selected one in the list, wrapping around: with only
    /// the two ssh links, up and down both go to the other one, as before web links.
    fn next_link(&self, step: isize) -> LinkKind {
        let shown = self.host.shown_links();
        let n = shown.len() as isize;
        let at = shown
            .iter()
            .position(|k| *k == self.link_selected)
            .unwrap_or(0) as isize;
        shown
            .get((at + step).rem_euclid(n.max(1)) as usize)
            .copied()
            .unwrap_or(LinkKind::SSH_RW)
    }

    fn copy_link(&self, kind: LinkKind) -> Vec<Action> {
        match self.host.link(kind) {
            Some(link) => vec![Action::Copy {
                text: link.to_string(),
                what: match kind.extra {
                    0 => format!("the {} {} link", kind.access.label(), kind.via.label()),
                    n => format!("link {n} ({}, {})", kind.via.label(), kind.access.label()),
                },
            }],
            None => vec![],
        }
    }

    /// Handles a mouse event on a terminal of `area`.
    pub fn on_mouse(&mut self, ev: MouseEvent, area: Rect) -> Vec<Action> {
        if self.overlay.is_some() {
            if matches!(ev.kind, MouseEventKind::Down(_)) {
                self.overlay = None;
            }
            return vec![];
        }
        let at = Position::new(ev.column, ev.row);
        let a = view::areas(self, area);
        if let Some(side) = a.sidebar.filter(|s| s.contains(at)) {
            return self.on_sidebar_mouse(ev, side, at);
        }
        if !a.pane.contains(at) {
            return vec![];
        }
        if self.pane.modes.mouse != crate::core::keys::MouseMode::None {
            return mouse_from_crossterm(&ev, (a.pane.x, a.pane.y))
                .map(|m| vec![Action::Mouse(m)])
                .unwrap_or_default();
        }
        match mouse_from_crossterm(&ev, (a.pane.x, a.pane.y)).map(|m| m.kind) {
            Some(MouseKind::ScrollUp) => self.pane_scroll += WHEEL_ROWS,
            Some(MouseKind::ScrollDown) => {
                self.pane_scroll = self.pane_scroll.saturating_sub(WHEEL_ROWS)
            }
            Some(MouseKind::Down(_)) => self.focus = Focus::Pane,
            _ => {}
        }
        vec![]
    }

    fn on_sidebar_mouse(&mut self, ev: MouseEvent, side: Rect, at: Position) -> Vec<Action> {
        let l = sidebar::layout(self, side);
        match ev.kind {
            MouseEventKind::ScrollUp => {
                self.log_scroll = (self.log_scroll + WHEEL_ROWS).min(self.host.log.len());
            }
            MouseEventKind::ScrollDown => {
                self.log_scroll = self.log_scroll.saturating_sub(WHEEL_ROWS);
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some((kind, _)) = l.links.iter().find(|(_, r)| r.contains(at)) {
                    // A click copies and gives the keys back: the next keys the host types
                    // must reach the shell, not switch a link off or kick a guest.
                    self.focus = Focus::Pane;
                    self.link_selected = *kind;
                    return self.copy_link(*kind);
                }
                if let Some((i, _)) = l.guests.iter().find(|(_, r)| r.contains(at)) {
                    self.focus = Focus::Sidebar(Section::Guests);
                    self.guest_selected = *i;
                } else if l.log.contains(at) {
                    self.focus = Focus::Sidebar(Section::Log);
                }
            }
            _ => {}
        }
        vec![]
    }
}
