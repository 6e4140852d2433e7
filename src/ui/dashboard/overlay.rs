//! Boxes over the dashboard: the key list, a link's QR code, and y/n confirmations.

use crate::core::types::Via;
use crate::host::state::LinkKind;
use crate::ui::dashboard::app::{App, Overlay};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};

/// The key list of the help overlay: (keys, what they do). `P` stands for the prefix. Every
/// key the dashboard takes is here, one line each or a few that belong together, so that the
/// list fits an 80x24 terminal (20 lines and the closing one, in a box of 78 columns).
pub const HELP: &[(&str, &str)] = &[
    ("P s", "open the sidebar, keys on the read-write link"),
    ("P S", "hide or show the docked sidebar"),
    ("P [", "copy mode (its keys are below)"),
    ("P L", "lock: every guest read-only; again to undo"),
    ("P ?", "this help"),
    ("P q", "end the session (asks first)"),
    ("P P", "send the prefix key itself to the shell"),
    (
        "Tab / S-Tab",
        "sidebar: next / previous section; Esc: keys to the shell",
    ),
    (
        "↑ ↓  k j",
        "sidebar: move; in the log, ↑ ↓ PgUp PgDn scroll it",
    ),
    ("Enter / y", "links: copy the selected link, ssh or web"),
    ("d", "links: switch it off or on (ssh and web go together)"),
    (
        "Q",
        "links: QR code; a phone opens a web link's in its browser",
    ),
    ("m", "guests: toggle read-write / read-only"),
    ("k", "guests: kick (asks first)"),
    (
        "↑ ↓ PgUp PgDn",
        "copy mode: move; k j too, g G: top / bottom",
    ),
    (
        "Space Enter",
        "copy mode: mark a start / copy the lines (y too)",
    ),
    (
        "/ n  q Esc",
        "copy mode: search up / next match; q or Esc leaves",
    ),
    (
        "a / r / d",
        "a guest asks to join: admit read-write / read-only / deny",
    ),
    ("y / n Esc", "a question (kick, quit): yes / no"),
    (
        "mouse",
        "click: copy a link, select a guest; wheel: log or scrollback",
    ),
];

/// Draws the open overlay, if any, centred in `area`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help(app, area, buf),
        Some(Overlay::Qr(kind)) => qr(app, *kind, area, buf),
        Some(Overlay::ConfirmKick(id)) => {
            let name = app
                .host
                .guests
                .iter()
                .find(|g| g.info.id == *id)
                .map(|g| g.info.who())
                .unwrap_or_else(|| format!("guest {id}"));
            confirm(app, &format!("Kick {name}?"), area, buf);
        }
        Some(Overlay::ConfirmQuit) => confirm(
            app,
            "End the session? Guests see \"session ended by host\".",
            area,
            buf,
        ),
    }
}

/// A rectangle of `w`x`h` centred in `area`, clipped to it.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn boxed<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(Line::styled(format!(" {title} "), app.theme.overlay_title))
        .style(app.theme.overlay)
}

fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let p = &app.prefix_label;
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(keys, what)| {
            let keys: Vec<&str> = keys
                .split(' ')
                .map(|k| if k == "P" { p.as_str() } else { k })
                .collect();
            let keys = keys.join(" ");
            Line::from(format!(" {keys:<13} {what}"))
        })
        .collect();
    let w = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 3;
    // A terminal too short for every line shows those that fit and says what is missing,
    // rather than losing the bottom of the box.
    let room = usize::from(area.height.saturating_sub(3));
    if lines.len() > room {
        let cut = lines.len() - room.saturating_sub(1);
        lines.truncate(room.saturating_sub(1));
        lines.push(Line::styled(
            format!(" … {cut} more lines: a taller terminal shows them"),
            app.theme.dim,
        ));
    }
    let h = lines.len() as u16 + 3;
    let rect = centred(area, w, h);
    Clear.render(rect, buf);
    lines.push(Line::styled(" any key closes this", app.theme.dim));
    Paragraph::new(lines)
        .block(boxed(app, "cotty keys"))
        .render(rect, buf);
}

/// The lines of a QR code of `text`, dark modules as `█▀▄`, with its quiet zone.
pub fn qr_lines(text: &str) -> Option<Vec<String>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Dark)
        .light_color(Dense1x2::Light)
        .quiet_zone(true)
        .build();
    Some(image.lines().map(str::to_string).collect())
}

fn qr(app: &App, kind: LinkKind, area: Rect, buf: &mut Buffer) {
    let link = app.host.link(kind).unwrap_or("");
    let mut title = match kind.via {
        Via::Ssh => format!("{} link", kind.access.label()),
        Via::Web => format!("{} web link", kind.access.label()),
    };
    if kind.extra > 0 {
        title = format!("link {}: {title}", kind.extra);
    }
    // A phone's camera opens a web link in its browser, but shows an ssh command as text.
    let closes = if kind.via == Via::Ssh && app.host.shown_links().len() > 2 {
        "any key closes this; for a phone, Q on a web link"
    } else {
        "any key closes this"
    };
    let Some(lines) = qr_lines(link).filter(|_| !link.is_empty()) else {
        return info(
            app,
            &title,
            "No link yet: the relay has not answered.",
            area,
            buf,
        );
    };
    let qw = lines.first().map(|l| l.chars().count()).unwrap_or(0) as u16;
    let w = qw.max(link.len() as u16 + 2) + 2;
    let h = lines.len() as u16 + 4;
    if w > area.width || h > area.height {
        let msg = format!("The terminal must be at least {w}x{h} for the QR code.");
        return info(app, &title, &msg, area, buf);
    }
    let rect = centred(area, w, h);
    Clear.render(rect, buf);
    let block = boxed(app, &title);
    let inner = block.inner(rect);
    block.render(rect, buf);
    // Black on white whatever the theme: phone cameras need the contrast.
    let ink = Style::default().fg(Color::Black).bg(Color::White);
    let x = inner.x + (inner.width - qw) / 2;
    for (i, line) in lines.iter().enumerate() {
        buf.set_string(x, inner.y + i as u16, line, ink);
    }
    let y = inner.y + lines.len() as u16;
    buf.set_stringn(
        inner.x + 1,
        y,
        link,
        inner.width as usize,
        app.theme.overlay,
    );
    buf.set_stringn(
        inner.x + 1,
        y + 1,
        closes,
        inner.width as usize,
        app.theme.dim,
    );
}

/// A box that only tells something; any key closes it, as it says.
fn info(app: &App, title: &str, message: &str, area: Rect, buf: &mut Buffer) {
    text_box(app, title, message, " any key closes this", area, buf);
}

fn confirm(app: &App, question: &str, area: Rect, buf: &mut Buffer) {
    text_box(
        app,
        "confirm",
        question,
        " y: yes    n / Esc: no",
        area,
        buf,
    );
}

/// A titled box with `message`, wrapped, and the keys it takes on its last line.
fn text_box(app: &App, title: &str, message: &str, keys: &str, area: Rect, buf: &mut Buffer) {
    let text = vec![
        Line::from(format!(" {message}")),
        Line::from(""),
        Line::styled(keys.to_string(), app.theme.dim),
    ];
    let w = (message.chars().count() as u16 + 4).clamp(30, 70);
    let h = 5 + (message.chars().count() as u16 / 66);
    let rect = centred(area, w, h);
    Clear.render(rect, buf);
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .block(boxed(app, title))
        .render(rect, buf);
}
