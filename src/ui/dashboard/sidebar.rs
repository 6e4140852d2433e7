//! The sidebar: links, guests and the log, and where each item is for mouse clicks.

use crate::config::Side;
use crate::core::types::Access;
use crate::host::state::{LinkKind, fmt_idle, idle};
use crate::ui::dashboard::app::{App, Focus, Section};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};
use std::time::Instant;
use unicode_width::UnicodeWidthChar;

/// Where each item of the sidebar is, for drawing and for clicks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidebarLayout {
    /// The area inside the border.
    pub inner: Rect,
    /// Section title rows.
    pub titles: [Rect; 3],
    /// Each link's rows: the ssh links, then the web links when the relay serves them.
    pub links: Vec<(LinkKind, Rect)>,
    /// Each shown guest's rows, by index.
    pub guests: Vec<(usize, Rect)>,
    /// The log's rows.
    pub log: Rect,
}

/// Hands out rows of an area from the top down.
struct Rows {
    /// The area.
    area: Rect,
    /// The first row not yet handed out.
    y: u16,
}

impl Rows {
    /// The next `h` rows, fewer at the bottom.
    fn take(&mut self, h: u16) -> Rect {
        let h = h.min(self.left());
        let r = Rect::new(self.area.x, self.y, self.area.width, h);
        self.y += h;
        r
    }

    /// Rows not yet handed out.
    fn left(&self) -> u16 {
        (self.area.y + self.area.height).saturating_sub(self.y)
    }
}

/// Rows each guest takes.
const GUEST_ROWS: u16 = 2;

/// Splits `text` into pieces at most `width` columns wide.
pub fn wrap(text: &str, width: u16) -> Vec<String> {
    let width = usize::from(width.max(1));
    let mut out = vec![String::new()];
    let mut w = 0;
    for ch in text.chars() {
        let cw = ch.width().unwrap_or(0);
        if w + cw > width {
            out.push(String::new());
            w = 0;
        }
        if let Some(last) = out.last_mut() {
            last.push(ch);
        }
        w += cw;
    }
    out
}

/// Lays out the sidebar in `area` (border included).
pub fn layout(app: &App, area: Rect) -> SidebarLayout {
    let block = border(app);
    let inner = block.inner(area);
    let mut rows = Rows {
        area: inner,
        y: inner.y,
    };
    let links_title = rows.take(1);
    let mut links = Vec::new();
    for kind in app.host.shown_links() {
        // The label, then the link on one line: a link is never wrapped inside its token.
        links.push((kind, rows.take(2)));
    }
    rows.take(1);
    let guests_title = rows.take(1);
    // Guests get at most half of what is left, so the log always has room.
    let max_guests = usize::from((rows.left() / 2) / GUEST_ROWS).max(1);
    let mut guests = Vec::new();
    if app.host.guests.is_empty() {
        rows.take(1);
    }
    let first = app.guest_selected.saturating_sub(max_guests - 1);
    for i in (first..app.host.guests.len()).take(max_guests) {
        guests.push((i, rows.take(GUEST_ROWS)));
    }
    rows.take(1);
    let log_title = rows.take(1);
    let log = rows.take(rows.left());
    SidebarLayout {
        inner,
        titles: [links_title, guests_title, log_title],
        links,
        guests,
        log,
    }
}

fn border(app: &App) -> Block<'static> {
    let borders = match app.sidebar_side {
        Side::Right => Borders::LEFT,
        Side::Left => Borders::RIGHT,
    };
    Block::default()
        .borders(borders)
        .border_style(app.theme.border)
        .style(app.theme.sidebar)
}

/// Draws the sidebar into `area`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    border(app).render(area, buf);
    let l = layout(app, area);
    let focused = |s: Section| app.focus == Focus::Sidebar(s);
    let (rw, ro) = app.host.counts();
    let titles = [
        (
            Section::Links,
            "Links".to_string(),
            "Enter copy · d off · Q QR",
        ),
        (
            Section::Guests,
            format!("Guests {rw} rw · {ro} ro"),
            "m rw/ro · k kick",
        ),
        (Section::Log, "Log".to_string(), "↑↓ scroll"),
    ];
    for ((section, title, keys), rect) in titles.into_iter().zip(l.titles) {
        let mut spans = vec![Span::styled(
            format!(" {title} "),
            if focused(section) {
                t.title_focused
            } else {
                t.title
            },
        )];
        if focused(section) {
            spans.push(Span::styled(format!(" {keys}"), t.dim));
        }
        Line::from(spans).render(rect, buf);
    }
    for (kind, rect) in &l.links {
        draw_link(app, *kind, *rect, buf);
    }
    if app.host.guests.is_empty() {
        let r = Rect::new(l.inner.x, l.titles[1].y + 1, l.inner.width, 1);
        if r.y < l.log.y {
            Line::styled("  no guests yet: share a link", t.dim).render(r, buf);
        }
    }
    let now = Instant::now();
    for (i, rect) in &l.guests {
        draw_guest(app, *i, *rect, now, buf);
    }
    draw_log(app, l.log, buf);
}

/// The style of a selected item: strong with the focus on its section, subtle without.
fn item_style(app: &App, section: Section, selected: bool) -> Style {
    match (selected, app.focus == Focus::Sidebar(section)) {
        (false, _) => app.theme.sidebar,
        (true, true) => app.theme.selected,
        (true, false) => app.theme.selected_unfocused,
    }
}

fn draw_link(app: &App, kind: LinkKind, rect: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let selected = app.link_selected == kind;
    let base = item_style(app, Section::Links, selected);
    buf.set_style(rect, base);
    let now = Instant::now();
    // Why the link lets no one in: switched off, or an extra link expired or used up.
    let closed = match kind.extra {
        0 if !app.host.links_enabled[kind.access.index()] => Some("off"),
        0 => app.host.extra.main_expired(now).then_some("expired"),
        n => app.host.extra.closed(n, now),
    };
    let enabled = closed.is_none();
    let mut head = vec![
        Span::styled(if selected { "▸ " } else { "  " }, base),
        Span::styled(kind.label(), base),
    ];
    // The state first, so a narrow sidebar cuts the kind rather than the state.
    if let Some(why) = closed {
        head.push(Span::styled(format!("  {why}"), t.bar_alert));
    }
    let traits = app.host.extra.traits(kind.extra, now);
    if !traits.is_empty() {
        head.push(Span::styled(format!(" · {traits}"), base.patch(t.dim)));
    }
    Line::from(head).render(Rect::new(rect.x, rect.y, rect.width, 1), buf);
    let text = app.host.link(kind).unwrap_or("waiting for the relay…");
    let style = if enabled {
        base
    } else {
        base.patch(t.disabled)
    };
    if rect.height > 1 {
        let shown = shorten_link(text, usize::from(rect.width.saturating_sub(2)));
        buf.set_stringn(rect.x + 2, rect.y + 1, shown, rect.width as usize, style);
    }
}

/// A link cut to `width` columns with an ellipsis in its token, keeping `@HOST` whole when it
/// fits, so that what shows is plainly not the whole link; copy and the QR code give that.
pub fn shorten_link(link: &str, width: usize) -> String {
    let len = link.chars().count();
    if len <= width {
        return link.to_string();
    }
    let at = link.rfind('@').map(|i| &link[i..]).unwrap_or("");
    let tail = if at.chars().count() + 8 <= width {
        at
    } else {
        ""
    };
    let head: String = link
        .chars()
        .take(width.saturating_sub(tail.chars().count() + 1))
        .collect();
    format!("{head}…{tail}")
}

fn draw_guest(app: &App, i: usize, rect: Rect, now: Instant, buf: &mut Buffer) {
    let t = &app.theme;
    let Some(g) = app.host.guests.get(i) else {
        return;
    };
    let selected = app.guest_selected == i;
    let base = item_style(app, Section::Guests, selected);
    buf.set_style(rect, base);
    let (label, style) = match g.info.access {
        Access::ReadWrite if app.host.locked => ("rw locked", t.access_ro),
        Access::ReadWrite => ("rw", t.access_rw),
        Access::ReadOnly => ("ro", t.access_ro),
    };
    let name_w = rect.width.saturating_sub(label.len() as u16 + 3) as usize;
    let name: String = g.info.name.chars().take(name_w).collect();
    let pad = name_w.saturating_sub(name.chars().count());
    Line::from(vec![
        Span::styled(if selected { "▸ " } else { "  " }, base),
        Span::styled(format!("{name}{} ", " ".repeat(pad)), base),
        Span::styled(label, style),
    ])
    .render(Rect::new(rect.x, rect.y, rect.width, 1), buf);
    let detail = if app.host.guests_waiting() {
        // The relay is away: the guest may still be there, waiting for the resume.
        format!("  {} waiting for the relay", g.info.via.label())
    } else {
        format!(
            "  {} {} {} idle {}",
            g.info.via.label(),
            g.info.addr.as_deref().unwrap_or("?"),
            g.info.size,
            fmt_idle(idle(g, now))
        )
    };
    if rect.height > 1 {
        buf.set_stringn(
            rect.x,
            rect.y + 1,
            detail,
            rect.width as usize,
            base.patch(t.dim),
        );
    }
}

fn draw_log(app: &App, rect: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    if rect.height == 0 {
        return;
    }
    // Wrap the newest lines until the area is full, then draw them oldest first.
    let mut rows: Vec<Line> = Vec::new();
    let want = usize::from(rect.height) + app.log_scroll;
    for line in app.host.log.iter().rev() {
        let text = format!("{} {}", line.time, line.text);
        let pieces = wrap(&text, rect.width);
        let time_len = line.time.chars().count();
        for (k, piece) in pieces.into_iter().enumerate().rev() {
            let style = if line.error { t.log_error } else { t.sidebar };
            let row = if k == 0 && piece.chars().count() > time_len {
                let (time, rest) = piece.split_at(
                    piece
                        .char_indices()
                        .nth(time_len)
                        .map(|(b, _)| b)
                        .unwrap_or(piece.len()),
                );
                Line::from(vec![
                    Span::styled(time.to_string(), t.dim),
                    Span::styled(rest.to_string(), style),
                ])
            } else {
                Line::styled(piece, style)
            };
            rows.push(row);
        }
        if rows.len() >= want {
            break;
        }
    }
    let skip = app.log_scroll.min(rows.len().saturating_sub(1));
    let shown: Vec<Line> = rows
        .into_iter()
        .skip(skip)
        .take(usize::from(rect.height))
        .collect();
    let top = rect.y + rect.height - shown.len() as u16;
    for (k, line) in shown.into_iter().rev().enumerate() {
        line.render(Rect::new(rect.x, top + k as u16, rect.width, 1), buf);
    }
}
