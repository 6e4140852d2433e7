//! The host's copy mode (`C-b [`), as tmux's: move through the pane's history with the keys,
//! search it, and copy lines with the same clipboard path as links.
//!
//! Lines are numbered from the oldest line of history (0) to the last row of the screen, so
//! a line keeps its number while the program prints on (until the scrollback limit drops the
//! oldest ones). The view follows the copy cursor; guests keep seeing the live screen, since
//! only the dashboard's drawing of the pane scrolls.

use crate::core::keys::{Key, KeyCode};
use crate::core::term::Screen;
use crate::ui::dashboard::app::{Action, App};

/// Copy mode's state, owned by the [`App`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyMode {
    /// The copy cursor's line.
    pub line: usize,
    /// Where a selection started (Space), if one did.
    pub mark: Option<usize>,
    /// A search being typed after `/`.
    pub typing: Option<String>,
    /// The last search, for `n`.
    pub last: Option<String>,
    /// What the last search found, when it found nothing.
    pub note: Option<String>,
}

impl CopyMode {
    /// The status bar's text: where the cursor is, and the keys or the search being typed.
    pub fn status(&self, total: usize) -> String {
        let at = format!("history: line {} of {total}", self.line + 1);
        match (&self.typing, &self.note) {
            (Some(t), _) => format!("{at} │ search: /{t}"),
            (None, Some(n)) => format!("{at} │ {n}"),
            (None, None) if self.mark.is_some() => format!("{at} │ Enter copies the selection"),
            (None, None) => format!("{at} │ ↑↓ PgUp PgDn / n Space Enter q"),
        }
    }
}

impl App {
    /// Lines of history and screen that copy mode moves through.
    pub fn copy_total(&self) -> usize {
        self.pane.history + usize::from(self.pane.buffer.area.height)
    }

    /// Enters copy mode with the cursor on the screen's last row.
    pub fn enter_copy_mode(&mut self) {
        let line = self.copy_total().saturating_sub(1);
        self.copy = Some(CopyMode {
            line,
            ..CopyMode::default()
        });
    }

    /// A key in copy mode.
    pub fn on_copy_key(&mut self, key: Key) -> Vec<Action> {
        let Some(mut c) = self.copy.take() else {
            return vec![];
        };
        let total = self.copy_total();
        let page = usize::from(self.pane.buffer.area.height.max(1));
        if let Some(mut typed) = c.typing.take() {
            match key.code {
                KeyCode::Enter if !typed.is_empty() => {
                    c.last = Some(typed.clone());
                    let search = Action::Search {
                        needle: typed,
                        before: c.line,
                    };
                    self.copy = Some(c);
                    return vec![search];
                }
                KeyCode::Esc | KeyCode::Enter => {}
                KeyCode::Backspace => {
                    typed.pop();
                    c.typing = Some(typed);
                }
                KeyCode::Char(ch) if !key.mods.ctrl && !key.mods.alt => {
                    typed.push(ch);
                    c.typing = Some(typed);
                }
                _ => c.typing = Some(typed),
            }
            self.copy = Some(c);
            return vec![];
        }
        c.note = None;
        let last = total.saturating_sub(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => c.line = c.line.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => c.line = (c.line + 1).min(last),
            KeyCode::PageUp => c.line = c.line.saturating_sub(page),
            KeyCode::PageDown => c.line = (c.line + page).min(last),
            KeyCode::Char('g') => c.line = 0,
            KeyCode::Char('G') => c.line = last,
            KeyCode::Char('/') => c.typing = Some(String::new()),
            KeyCode::Char('n') => {
                if let Some(needle) = c.last.clone() {
                    let before = c.line;
                    self.copy = Some(c);
                    return vec![Action::Search { needle, before }];
                }
            }
            KeyCode::Char(' ') => c.mark = Some(c.line),
            KeyCode::Enter | KeyCode::Char('y') => {
                let from = c.mark.unwrap_or(c.line);
                self.leave_copy_mode();
                return vec![Action::CopyLines {
                    from: from.min(c.line),
                    to: from.max(c.line),
                }];
            }
            KeyCode::Char('q') | KeyCode::Esc => {
                self.leave_copy_mode();
                return vec![];
            }
            _ => {}
        }
        self.copy = Some(c);
        self.follow_copy_cursor();
        vec![]
    }

    /// Puts the search's result under the cursor, or says it found nothing.
    pub fn copy_found(&mut self, found: Option<usize>) {
        if let Some(c) = self.copy.as_mut() {
            match found {
                Some(line) => c.line = line,
                None => {
                    let needle = c.last.clone().unwrap_or_default();
                    c.note = Some(format!("{needle:?} not found above"));
                }
            }
        }
        self.follow_copy_cursor();
    }

    /// Back to the live screen.
    pub fn leave_copy_mode(&mut self) {
        self.copy = None;
        self.pane_scroll = 0;
    }

    /// Scrolls the pane's view so that the copy cursor's line is in it.
    fn follow_copy_cursor(&mut self) {
        let Some(c) = &self.copy else {
            return;
        };
        let history = self.pane.history;
        let rows = usize::from(self.pane.buffer.area.height.max(1));
        let top = history.saturating_sub(self.pane_scroll);
        if c.line < top {
            self.pane_scroll = history - c.line;
        } else if c.line >= top + rows {
            self.pane_scroll = history.saturating_sub(c.line + 1 - rows);
        }
        self.pane_scroll = self.pane_scroll.min(history);
    }

    /// The history grew by `lines` while in copy mode: keep the view on the same text.
    pub fn history_grew(&mut self, lines: usize) {
        if self.copy.is_some() && self.pane_scroll > 0 {
            self.pane_scroll += lines;
        }
    }
}

/// The text of lines `from..=to` (numbered as in copy mode), one per line, without trailing
/// blanks.
pub fn lines_text(screen: &Screen, from: usize, to: usize) -> String {
    (from..=to)
        .filter_map(|l| screen.line_text(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The nearest line above `before` whose text contains `needle`.
pub fn search_above(screen: &Screen, needle: &str, before: usize) -> Option<usize> {
    (0..before)
        .rev()
        .find(|&l| screen.line_text(l).is_some_and(|t| t.contains(needle)))
}
