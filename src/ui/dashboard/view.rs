//! Drawing the dashboard: where each part goes, the pane, and the status bar.

use crate::config::{Side, SidebarMode};
use crate::host::state::reconnect_text;
use crate::net::uplink::LinkState;
use crate::ui::dashboard::app::{App, Focus, MIN_SIDEBAR_COLS};
use crate::ui::dashboard::{approval, overlay, sidebar};
use crate::ui::guest_escape::clean_title;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};
use std::time::Duration;

/// The most characters of the program's window title that the status bar shows.
const TITLE_CHARS: usize = 40;
/// How long the newest log line shows in the status bar while the sidebar is closed.
pub const LOG_IN_BAR: Duration = Duration::from_secs(5);

/// Where the parts of the dashboard go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The shared pane.
    pub pane: Rect,
    /// The sidebar, border included, when shown.
    pub sidebar: Option<Rect>,
    /// The status bar.
    pub status: Rect,
    /// The terminal is too narrow for the sidebar.
    pub narrow: bool,
    /// The sidebar is drawn over the pane, not beside it.
    pub overlay: bool,
}

/// Splits the terminal's `area` for `app`.
pub fn areas(app: &App, area: Rect) -> Areas {
    let status_h = area.height.min(1);
    let main = Rect::new(area.x, area.y, area.width, area.height - status_h);
    let status = Rect::new(area.x, area.y + main.height, area.width, status_h);
    let narrow = area.width < MIN_SIDEBAR_COLS;
    let w = app.sidebar_width.min(main.width / 2).max(1);
    let docked = match app.sidebar_mode {
        SidebarMode::Docked => true,
        SidebarMode::Overlay => false,
        SidebarMode::Auto => main.width - w >= SidebarMode::AUTO_COLS,
    };
    // An overlay shows only while it has the keys, and costs the pane nothing.
    let open = docked || matches!(app.focus, Focus::Sidebar(_));
    if narrow || !app.sidebar_shown || !open {
        return Areas {
            pane: main,
            sidebar: None,
            status,
            narrow,
            overlay: false,
        };
    }
    let (pane, side) = match app.sidebar_side {
        Side::Right => (
            Rect::new(main.x, main.y, main.width - w, main.height),
            Rect::new(main.x + main.width - w, main.y, w, main.height),
        ),
        Side::Left => (
            Rect::new(main.x + w, main.y, main.width - w, main.height),
            Rect::new(main.x, main.y, w, main.height),
        ),
    };
    Areas {
        pane: if docked { pane } else { main },
        sidebar: Some(side),
        status,
        narrow,
        overlay: !docked,
    }
}

/// Where the terminal's cursor goes: the program's cursor, when the pane has the keys.
pub fn cursor(app: &App, area: Rect) -> Option<Position> {
    let prompt = !app.host.asking.is_empty();
    if prompt || app.overlay.is_some() || app.focus != Focus::Pane || app.pane.scrolled > 0 {
        return None;
    }
    let pane = areas(app, area).pane;
    let c = app.pane.cursor?;
    (c.x < pane.width && c.y < pane.height).then(|| Position::new(pane.x + c.x, pane.y + c.y))
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = areas(self, area);
        draw_pane(self, a.pane, buf);
        if let Some(side) = a.sidebar {
            if a.overlay {
                Clear.render(side, buf);
            }
            sidebar::draw(self, side, buf);
        }
        draw_status(self, &a, buf);
        overlay::draw(self, area, buf);
        approval::draw(self, area, buf);
    }
}

/// Copies the session's drawing of the pane into its area.
fn draw_pane(app: &App, area: Rect, buf: &mut Buffer) {
    let img = &app.pane.buffer;
    let w = area.width.min(img.area.width);
    let h = area.height.min(img.area.height);
    for y in 0..h {
        for x in 0..w {
            if let (Some(src), Some(dst)) = (
                img.cell((img.area.x + x, img.area.y + y)),
                buf.cell_mut((area.x + x, area.y + y)),
            ) {
                *dst = src.clone();
            }
        }
    }
    if let Some(c) = &app.copy {
        // The copy cursor's line and the selection, reversed.
        let top = app.pane.history.saturating_sub(app.pane.scrolled);
        let (from, to) = match c.mark {
            Some(m) => (m.min(c.line), m.max(c.line)),
            None => (c.line, c.line),
        };
        for y in 0..h {
            let line = top + usize::from(y);
            if (from..=to).contains(&line) {
                let row = Rect::new(area.x, area.y + y, w, 1);
                buf.set_style(row, Style::default().add_modifier(Modifier::REVERSED));
            }
        }
        return;
    }
    if app.pane.scrolled > 0 {
        let note = format!(
            " scrolled back {} lines; a key or the wheel down returns ",
            app.pane.scrolled
        );
        let len = note.chars().count() as u16;
        let x = area.x + area.width.saturating_sub(len);
        buf.set_stringn(x, area.y, note, area.width as usize, app.theme.bar_key);
    }
}

/// The bottom line: session, guests, lock, relay, and the help hint.
fn draw_status(app: &App, a: &Areas, buf: &mut Buffer) {
    let t = &app.theme;
    let area = a.status;
    if area.height == 0 {
        return;
    }
    buf.set_style(area, t.bar);
    let (rw, ro) = app.host.counts();
    let sep = Span::styled(" │ ", t.bar);
    let mut spans = vec![];
    if app.prefix_armed {
        spans.push(Span::styled(
            format!(" {} … ", app.prefix_label),
            t.bar_alert,
        ));
    }
    if let Some(c) = &app.copy {
        let text = format!(" {} ", c.status(app.copy_total()));
        spans.push(Span::styled(text, t.bar_alert));
    }
    if matches!(app.focus, Focus::Sidebar(_)) && a.sidebar.is_some() {
        // Keys go to the sidebar, where `d`, `m` and `k` act: the host must know.
        spans.push(Span::styled(
            " sidebar: Esc returns to the shell ",
            t.bar_alert,
        ));
    }
    if a.narrow {
        // The hint first, so a narrow bar still says why the sidebar is gone.
        spans.push(Span::styled(" sidebar needs 60+ columns ", t.bar_alert));
        spans.push(Span::styled(format!(" {} ?", app.prefix_label), t.bar_key));
        spans.push(Span::styled(" help", t.bar));
    } else {
        spans.push(Span::styled(format!(" {} ", app.host.session_name), t.bar));
    }
    let title = clean_title(&app.pane.title);
    if !title.is_empty() {
        // The program's own words, shortened: the rest of the bar says more to the host.
        let mut short: String = title.chars().take(TITLE_CHARS).collect();
        if short.len() < title.len() {
            short.push('…');
        }
        spans.push(sep.clone());
        spans.push(Span::styled(short, t.bar));
    }
    spans.push(sep.clone());
    spans.push(Span::styled(
        format!("guests {} ({rw} rw, {ro} ro)", rw + ro),
        t.bar,
    ));
    if app.host.locked {
        spans.push(sep.clone());
        spans.push(Span::styled(" LOCKED: guests read-only ", t.bar_alert));
    }
    spans.push(sep.clone());
    let relay: (String, Style) = match &app.host.uplink {
        LinkState::Connecting => ("relay: connecting".into(), t.bar),
        LinkState::Up => ("relay: up".into(), t.bar),
        LinkState::Reconnecting {
            attempt, next_in, ..
        } => (
            format!(" relay: {} ", reconnect_text(*attempt, *next_in)),
            t.bar_alert,
        ),
        LinkState::Refused(_) => (" relay: REFUSED (see log) ".into(), t.bar_alert),
    };
    spans.push(Span::styled(relay.0, relay.1));
    // A join, a leave or a copy is seen with the sidebar closed: the newest log line, for a
    // while (the dashboard redraws every second for the guests' idle times, which ends it).
    let newest = app.host.log.back().filter(|l| l.at.elapsed() < LOG_IN_BAR);
    if let Some(line) = newest.filter(|_| a.sidebar.is_none()) {
        spans.push(sep.clone());
        let style = if line.error { t.bar_alert } else { t.bar };
        spans.push(Span::styled(line.text.clone(), style));
    } else if a.sidebar.is_none() && !a.narrow {
        spans.push(sep);
        let hint = if app.sidebar_shown {
            format!("{} s: links and guests", app.prefix_label)
        } else {
            format!("{} S shows the sidebar", app.prefix_label)
        };
        spans.push(Span::styled(hint, t.bar));
    }
    let left = Line::from(spans);
    let hint = Line::from(vec![
        Span::styled(format!("{} ?", app.prefix_label), t.bar_key),
        Span::styled(" help ", t.bar),
    ]);
    let hint_w = hint.width() as u16;
    let left_w = (left.width() as u16).min(area.width);
    left.render(Rect::new(area.x, area.y, left_w, 1), buf);
    if left_w + hint_w < area.width && !a.narrow {
        hint.render(
            Rect::new(area.x + area.width - hint_w, area.y, hint_w, 1),
            buf,
        );
    }
}

/// Draws the pane's screen at `size`, `scroll` rows back in its history, into a
/// [`PaneImage`]; the session runs this on its own screen, and tests on theirs.
pub fn pane_image(
    screen: &crate::core::term::Screen,
    size: crate::core::types::Size,
    scroll: usize,
    unused: (&str, Style),
) -> crate::ui::dashboard::PaneImage {
    use crate::core::keys::InputModes;
    use crate::core::layout::follow_cursor;
    use crate::ui::screen_view::ScreenView;
    let scrolled = scroll.min(screen.history_len());
    let state = screen.export_view(scrolled, None);
    let area = Rect::new(0, 0, size.cols, size.rows);
    let mut buffer = Buffer::empty(area);
    let offset = if scrolled == 0 {
        let c = state.cursor;
        follow_cursor(state.size, size, (c.row, c.col))
    } else {
        (0, 0)
    };
    let view = ScreenView::new(&state)
        .offset(offset)
        .unused(unused.0, unused.1);
    let cursor = view.cursor(area).map(|(x, y)| Position::new(x, y));
    view.render(area, &mut buffer);
    crate::ui::dashboard::PaneImage {
        buffer,
        cursor,
        modes: InputModes::from(state.modes),
        scrolled,
        history: screen.history_len(),
        title: state.title,
        cursor_look: (state.cursor.shape, state.cursor.blinking),
    }
}
