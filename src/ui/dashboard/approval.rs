//! The prompt for a guest that asks to join (`--approve`): who it is, and `a` to let it in
//! read-write, `r` read-only, `d` to turn it away.
//!
//! The prompt is about the oldest waiting guest; the others queue behind it. While it shows
//! it takes every key, so that a host typing into the shell cannot answer by accident: keys
//! in the first [`ARM_AFTER`] after a prompt appears are dropped, since they were typed before
//! the host could read it (a `d` in `cd` would turn the guest away).

use crate::core::keys::Key;
use crate::core::types::{Access, GuestId};
use crate::host::approval::describe;
use crate::ui::dashboard::app::{Action, App};
use crate::ui::dashboard::input::is_char;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};
use std::time::{Duration, Instant};

/// How long after a prompt appears its keys start to count.
pub const ARM_AFTER: Duration = Duration::from_millis(600);

impl App {
    /// Notes the prompt the host sees now, so its keys count only after [`ARM_AFTER`]; called
    /// when the waiting guests change.
    pub fn note_asking(&mut self, now: Instant) {
        let first = self.host.asking.first().map(|g| g.id);
        match (first, self.asking_seen) {
            (None, _) => self.asking_seen = None,
            (Some(id), Some((seen, _))) if seen == id => {}
            (Some(id), _) => self.asking_seen = Some((id, now)),
        }
    }

    /// Handles a key while a guest waits: the answer, or nothing (the key is dropped). `None`
    /// when nobody waits and the key goes on as usual.
    pub(super) fn on_asking_key(&mut self, key: &Key, now: Instant) -> Option<Vec<Action>> {
        let guest: GuestId = self.host.asking.first()?.id;
        self.note_asking(now);
        let armed = self
            .asking_seen
            .is_some_and(|(_, since)| now.saturating_duration_since(since) >= ARM_AFTER);
        if !armed {
            return Some(vec![]);
        }
        let answer = if is_char(key, 'a') {
            Action::Admit(guest, Access::ReadWrite)
        } else if is_char(key, 'r') {
            Action::Admit(guest, Access::ReadOnly)
        } else if is_char(key, 'd') {
            Action::Deny(guest)
        } else {
            return Some(vec![]);
        };
        // The next prompt, if any, is read before its keys count.
        self.asking_seen = None;
        Some(vec![answer])
    }
}

/// Draws the prompt for the oldest waiting guest, if any, centred in `area`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(g) = app.host.asking.first() else {
        return;
    };
    let mut lines = vec![
        Line::from(format!(" {} wants to join", g.who())),
        Line::from(format!(" {}", describe(g))),
    ];
    let more = app.host.asking.len() - 1;
    if more > 0 {
        let s = if more == 1 { "" } else { "s" };
        lines.push(Line::styled(
            format!(" {more} more guest{s} waiting after this one"),
            app.theme.dim,
        ));
    }
    lines.push(Line::from(""));
    let keys = match g.access {
        Access::ReadWrite => " a: let in read-write   r: read-only   d: deny",
        Access::ReadOnly => " a / r: let in (read-only link)   d: deny",
    };
    lines.push(Line::styled(keys, app.theme.dim));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let w = (widest + 3).max(40).min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(Line::styled(
            " guest asks to join ",
            app.theme.overlay_title,
        ))
        .style(app.theme.overlay);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::core::keys::{KeyCode, Mods, parse_key_spec};
    use crate::core::session::Notice;
    use crate::core::types::{GuestInfo, Size, Via};
    use crate::host::state::HostState;
    use crate::ui::theme::Theme;

    fn app_asked_by(ids: &[GuestId]) -> App {
        let theme = Theme::builtin("dark").expect("theme");
        let prefix = parse_key_spec("C-b").expect("prefix");
        let mut app = App::new(
            HostState::new("me@box"),
            &Settings::default(),
            theme,
            prefix,
        );
        for &id in ids {
            app.host.on_notice(&Notice::GuestWaiting(GuestInfo {
                id,
                via: Via::Ssh,
                name: format!("guest {id}"),
                fingerprint: None,
                addr: None,
                access: Access::ReadWrite,
                size: Size::new(80, 24),
            }));
        }
        app
    }

    fn key(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: Mods::default(),
        }
    }

    #[test]
    fn a_r_and_d_answer_the_oldest_guest_once_the_prompt_could_be_read() {
        let mut app = app_asked_by(&[3, 4, 5]);
        let t0 = Instant::now();
        app.note_asking(t0);
        // Typed before the host could read the prompt: dropped, not answered, not typed.
        assert_eq!(app.on_asking_key(&key('d'), t0), Some(vec![]));
        let later = t0 + ARM_AFTER;
        assert_eq!(
            app.on_asking_key(&key('x'), later),
            Some(vec![]),
            "other keys are dropped while a guest waits"
        );
        assert_eq!(
            app.on_asking_key(&key('a'), later),
            Some(vec![Action::Admit(3, Access::ReadWrite)])
        );
        // The front end learns the answer from the session; the next prompt arms anew.
        app.host.asking.remove(0);
        app.note_asking(later);
        assert_eq!(app.on_asking_key(&key('r'), later), Some(vec![]));
        let later = later + ARM_AFTER;
        assert_eq!(
            app.on_asking_key(&key('r'), later),
            Some(vec![Action::Admit(4, Access::ReadOnly)])
        );
        app.host.asking.remove(0);
        app.note_asking(later);
        let later = later + ARM_AFTER;
        assert_eq!(
            app.on_asking_key(&key('d'), later),
            Some(vec![Action::Deny(5)])
        );
        app.host.asking.remove(0);
        assert_eq!(app.on_asking_key(&key('d'), later), None, "nobody waits");
        assert_eq!(app.on_key(key('d')), vec![Action::Key(key('d'))]);
    }
}
