//! Snapshot tests of the whole dashboard, drawn into ratatui's TestBackend.
//!
//! Review changed snapshots with care: they are what the host sees.

use crate::config::{Settings, SidebarMode};
use crate::core::keys::parse_key_spec;
use crate::core::session::Notice;
use crate::core::types::{Access, GuestInfo, Size, Via};
use crate::host::state::{HostState, LinkKind};
use crate::net::proto::Links;
use crate::net::uplink::{LinkState, UplinkEvent};
use crate::ui::dashboard::app::{App, Focus, Overlay, Section};
use crate::ui::dashboard::view::pane_image;
use crate::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

/// A shell that has run `ls --color` and waits at its prompt.
const SHELL: &[u8] = b"\x1b[1;32mana@devbox\x1b[0m:\x1b[1;34m~/src/cotty\x1b[0m$ ls\r\n\
\x1b[0m\x1b[01;34mbenches\x1b[0m  Cargo.lock  Cargo.toml  README.md  \x1b[01;34msrc\x1b[0m  \x1b[01;34mtests\x1b[0m\r\n\
\x1b[1;32mana@devbox\x1b[0m:\x1b[1;34m~/src/cotty\x1b[0m$ ";

fn guest(id: u32, name: &str, access: Access, port: u16) -> GuestInfo {
    GuestInfo {
        id,
        via: Via::Ssh,
        name: name.into(),
        fingerprint: Some(format!("SHA256:fullfingerprint{id}")),
        addr: Some(format!("127.0.0.1:{port}")),
        access,
        size: Size::new(80, 23),
    }
}

fn app_with(theme: &str) -> App {
    app_serving(theme, None)
}

/// An app on a relay that answered with `web`'s read-write and read-only links, if any.
fn app_serving(theme: &str, web: Option<(&str, &str)>) -> App {
    let mut host = HostState::new("ana@devbox").with_clock(|| "12:00:00".into());
    host.on_uplink(UplinkEvent::Log(
        "built-in relay listening on 0.0.0.0:2222, key SHA256:abc".into(),
    ));
    host.on_uplink(UplinkEvent::Connected {
        links: Links {
            ssh: "ssh -p 2222 AbCdEfGhIjKlMnOpQrStUvWxYz@192.0.2.10".into(),
            ssh_ro: "ssh -p 2222 ro-ZyXwVuTsRqPoNmLkJiHgFeDcBa@192.0.2.10".into(),
            web: web.map(|(rw, _)| rw.to_string()),
            web_ro: web.map(|(_, ro)| ro.to_string()),
        },
        resumed: false,
    });
    // Most snapshots show the sidebar's content, so they dock it; the default overlay has its
    // own below.
    let settings = Settings {
        sidebar: SidebarMode::Docked,
        ..Settings::default()
    };
    let theme = Theme::builtin(theme).expect("built-in theme");
    let prefix = parse_key_spec("C-b").expect("prefix");
    App::new(host, &settings, theme, prefix)
}

fn app() -> App {
    app_with("dark")
}

const SSH_RO: LinkKind = LinkKind {
    via: Via::Ssh,
    access: Access::ReadOnly,
    extra: 0,
};

/// The web links of the relay in `app_with`, on the same port as ssh.
const WEB_RW: &str = "http://192.0.2.10:2222/#AbCdEfGhIjKlMnOpQrStUvWxYz";
/// The read-only one: its own token, as for ssh.
const WEB_RO: &str = "http://192.0.2.10:2222/#ro-ZyXwVuTsRqPoNmLkJiHgFeDcBa";

/// `app()` with a relay that serves the web view: the same links, and web links beside them.
fn app_with_web_links() -> App {
    app_serving("dark", Some((WEB_RW, WEB_RO)))
}

fn two_guests(app: &mut App) {
    for g in [
        guest(1, "SHA256:k3Jd9aQe", Access::ReadWrite, 50001),
        guest(2, "guest 2", Access::ReadOnly, 50002),
    ] {
        app.host.on_notice(&Notice::GuestJoined(g));
    }
    // Idle times from a fixed point, so the snapshot does not depend on the clock.
    let now = Instant::now();
    for g in &mut app.host.guests {
        g.joined = now;
        g.last_input = Some(now);
    }
}

/// Draws `app` on a `w`x`h` terminal, with the shell's screen in the pane.
fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let area = ratatui::layout::Rect::new(0, 0, w, h);
    let pane = super::view::areas(app, area).pane;
    let size = Size::new(pane.width, pane.height);
    let mut screen = crate::core::term::Screen::new(size, 100);
    screen.feed(SHELL);
    app.pane = pane_image(&screen, size, 0, ("·", app.theme.unused));
    term.draw(|f| f.render_widget(&*app, f.area()))
        .expect("draw");
    term
}

#[test]
fn by_default_the_shell_has_the_whole_terminal() {
    let mut app = app();
    app.sidebar_mode = SidebarMode::Overlay;
    two_guests(&mut app);
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let a = super::view::areas(&app, area);
    assert_eq!((a.pane.width, a.pane.height, a.sidebar), (120, 39, None));
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn c_b_s_opens_the_sidebar_over_the_shell_without_resizing_it() {
    let mut app = app();
    app.sidebar_mode = SidebarMode::Overlay;
    two_guests(&mut app);
    app.focus = Focus::Sidebar(Section::Links);
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let a = super::view::areas(&app, area);
    assert_eq!(
        a.pane.width, 120,
        "the pane keeps its size under the sidebar"
    );
    assert_eq!(a.sidebar.map(|s| (s.x, s.width)), Some((82, 38)));
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn the_newest_log_line_shows_in_the_status_bar_for_a_while_with_the_sidebar_closed() {
    let mut app = app();
    app.sidebar_mode = SidebarMode::Overlay;
    two_guests(&mut app);
    let bar = |app: &mut App| {
        let text = format!("{}", draw(app, 120, 40).backend());
        text.lines().last().unwrap_or_default().to_string()
    };
    let now = bar(&mut app);
    assert!(now.contains("guest 2 read-only via ssh"), "{now}");
    let line = app.host.log.back_mut().expect("a log line");
    line.at = Instant::now() - super::view::LOG_IN_BAR;
    let later = bar(&mut app);
    assert!(!later.contains("guest 2"), "{later}");
    assert!(later.contains("C-b s: links and guests"), "{later}");
}

#[test]
fn auto_docks_only_when_the_shell_keeps_120_columns() {
    let mut app = app();
    app.sidebar_mode = SidebarMode::Auto;
    let wide = super::view::areas(&app, ratatui::layout::Rect::new(0, 0, 158, 40));
    assert_eq!(
        (wide.pane.width, wide.overlay),
        (120, false),
        "docked at 158"
    );
    let less = super::view::areas(&app, ratatui::layout::Rect::new(0, 0, 157, 40));
    assert_eq!(
        (less.pane.width, less.sidebar),
        (157, None),
        "an overlay at 157"
    );
}

#[test]
fn links_are_shortened_in_their_token_never_wrapped() {
    use crate::ui::dashboard::sidebar::shorten_link;
    let link = "ssh -p 2222 AbCdEfGhIjKlMnOpQrStUvWxYz@192.0.2.10";
    assert_eq!(shorten_link(link, 60), link);
    assert_eq!(shorten_link(link, 34), "ssh -p 2222 AbCdEfGhIj…@192.0.2.10");
    assert_eq!(shorten_link(link, 34).chars().count(), 34);
    assert_eq!(shorten_link(link, 12), "ssh -p 2222…");
    let text = format!("{}", draw(&mut app(), 120, 40).backend());
    assert!(
        text.contains("ssh -p 2222 AbCdEfGhIjK…@192.0.2.10"),
        "{text}"
    );
}

#[test]
fn no_guests() {
    let mut app = app();
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn two_guests_one_rw_one_ro() {
    let mut app = app();
    two_guests(&mut app);
    app.focus = Focus::Sidebar(Section::Guests);
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn a_guest_switched_to_read_only() {
    let mut app = app();
    two_guests(&mut app);
    let mut g = app.host.guests[0].info.clone();
    g.access = Access::ReadOnly;
    app.host.on_notice(&Notice::AccessChanged(g));
    app.focus = Focus::Sidebar(Section::Guests);
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn lock_on() {
    let mut app = app();
    two_guests(&mut app);
    app.host.on_notice(&Notice::Locked(true));
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn the_relay_away_shows_reconnecting_and_waiting_guests() {
    let mut app = app();
    two_guests(&mut app);
    app.host
        .on_uplink(UplinkEvent::State(LinkState::Reconnecting {
            attempt: 3,
            next_in: Duration::from_secs(4),
            why: "the relay closed the connection".into(),
        }));
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
    assert_eq!(app.host.expand("#{relay_state}"), Ok("reconnecting".into()));
}

#[test]
fn a_60x20_terminal() {
    let mut app = app();
    two_guests(&mut app);
    insta::assert_snapshot!(draw(&mut app, 60, 20).backend());
}

#[test]
fn a_59_column_terminal_hides_the_sidebar() {
    let mut app = app();
    two_guests(&mut app);
    insta::assert_snapshot!(draw(&mut app, 59, 20).backend());
}

#[test]
fn a_link_switched_off_and_the_sidebar_focused() {
    let mut app = app();
    app.host.links_enabled[1] = false;
    app.focus = Focus::Sidebar(Section::Links);
    app.link_selected = SSH_RO;
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn web_links_with_the_read_only_token_switched_off() {
    let mut app = app_with_web_links();
    app.host.links_enabled[1] = false;
    app.focus = Focus::Sidebar(Section::Links);
    app.link_selected = LinkKind {
        via: Via::Web,
        access: Access::ReadWrite,
        extra: 0,
    };
    let term = draw(&mut app, 120, 40);
    let text = format!("{}", term.backend());
    assert!(text.contains("web, read-write"), "{text}");
    assert!(
        text.contains("http://192.0.2.10:2222/#AbCdEfGhIj…"),
        "{text}"
    );
    // The read-only token is off, and the two links that carry it both say so.
    assert_eq!(text.matches("read-only  off").count(), 2, "{text}");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn an_ssh_links_qr_code_points_to_the_web_link_for_phones_when_there_is_one() {
    let qr_text = |mut app: App| {
        app.overlay = Some(Overlay::Qr(LinkKind::SSH_RW));
        format!("{}", draw(&mut app, 120, 40).backend())
    };
    let with = qr_text(app_with_web_links());
    assert!(with.contains("for a phone, Q on a web link"), "{with}");
    let without = qr_text(app());
    assert!(!without.contains("for a phone"), "{without}");
}

#[test]
fn an_ssh_guest_and_a_web_guest() {
    let mut app = app_with_web_links();
    app.host.on_notice(&Notice::GuestJoined(guest(
        1,
        "alice@laptop",
        Access::ReadWrite,
        50001,
    )));
    app.host.on_notice(&Notice::GuestJoined(GuestInfo {
        id: 2,
        via: Via::Web,
        name: "Chrome 131".into(),
        fingerprint: None,
        addr: Some("198.51.100.7:61234".into()),
        access: Access::ReadOnly,
        size: Size::new(132, 41),
    }));
    let now = Instant::now();
    for g in &mut app.host.guests {
        g.joined = now;
        g.last_input = Some(now);
    }
    app.focus = Focus::Sidebar(Section::Guests);
    app.guest_selected = 1;
    let term = draw(&mut app, 120, 40);
    let text = format!("{}", term.backend());
    assert!(text.contains("Chrome 131"), "{text}");
    // A public address leaves no room for the idle time in a 38-column sidebar, as for an
    // ssh guest from one: the line is cut at its end, never in the address.
    assert!(
        text.contains("web 198.51.100.7:61234 132x41 idle"),
        "{text}"
    );
    assert!(text.contains("ssh 127.0.0.1:50001 80x23 idle 0s"), "{text}");
    insta::assert_snapshot!(term.backend());
}

/// Themes change only colours, so their snapshots keep the styles (Buffer's Debug form).
fn themed(name: &str) -> String {
    let mut app = app_with(name);
    two_guests(&mut app);
    app.focus = Focus::Sidebar(Section::Links);
    app.host.on_notice(&Notice::Locked(true));
    format!("{:?}", draw(&mut app, 80, 20).backend().buffer())
}

#[test]
fn theme_dark() {
    insta::assert_snapshot!(themed("dark"));
}

#[test]
fn theme_light() {
    insta::assert_snapshot!(themed("light"));
}

#[test]
fn theme_high_contrast() {
    insta::assert_snapshot!(themed("high-contrast"));
}

#[test]
fn the_pane_image_shows_scrollback_and_hides_the_cursor_there() {
    let mut screen = crate::core::term::Screen::new(Size::new(20, 3), 100);
    for i in 0..10 {
        screen.feed(format!("line {i}\r\n").as_bytes());
    }
    let live = pane_image(&screen, Size::new(20, 3), 0, ("·", Default::default()));
    assert!(live.cursor.is_some());
    let row = |img: &crate::ui::dashboard::PaneImage, y: u16| -> String {
        (0..6)
            .map(|x| img.buffer[(x, y)].symbol().to_string())
            .collect()
    };
    assert_eq!(row(&live, 0), "line 8");
    let back = pane_image(&screen, Size::new(20, 3), 4, ("·", Default::default()));
    assert_eq!(back.scrolled, 4);
    assert_eq!(row(&back, 0), "line 4");
    assert_eq!(back.cursor, None);
    // Scrolling past the history stops at its start.
    let top = pane_image(&screen, Size::new(20, 3), 1000, ("·", Default::default()));
    assert_eq!(top.scrolled, 8);
    assert_eq!(row(&top, 0), "line 0");
}

#[test]
fn the_programs_title_shows_in_the_status_bar_and_its_cursor_look_is_kept() {
    let status_bar = |app: &App| -> String {
        let mut term = Terminal::new(TestBackend::new(120, 30)).expect("terminal");
        term.draw(|f| f.render_widget(app, f.area())).expect("draw");
        let buf = term.backend().buffer();
        (0..120)
            .map(|x| buf[(x, 29)].symbol().to_string())
            .collect()
    };
    let mut app = app();
    let size = Size::new(80, 20);
    let mut screen = crate::core::term::Screen::new(size, 100);
    screen.feed(b"\x1b]2;vim main.rs\x1b\\\x1b[5 q$ ");
    app.pane = pane_image(&screen, size, 0, ("·", app.theme.unused));
    let beam = (crate::core::term::CursorShape::Beam, true);
    assert_eq!(app.pane.cursor_look, beam);
    let status = status_bar(&app);
    assert!(status.contains("│ vim main.rs │"), "{status}");

    // A hostile title cannot put escapes on the host's terminal, and a long one is cut.
    screen.feed(format!("\x1b]2;{}\x1b[31m\x07", "x".repeat(100)).as_bytes());
    app.pane = pane_image(&screen, size, 0, ("·", app.theme.unused));
    let status = status_bar(&app);
    let cut = format!("│ {}… │", "x".repeat(40));
    assert!(status.contains(&cut), "{status}");
    assert!(!status.contains('\x1b'), "{status:?}");
}

#[test]
fn a_guest_asking_to_join() {
    let mut app = app();
    two_guests(&mut app);
    for g in [
        guest(3, "alice@laptop", Access::ReadWrite, 50003),
        guest(4, "guest 4", Access::ReadOnly, 50004),
    ] {
        app.host.on_notice(&Notice::GuestWaiting(g));
    }
    insta::assert_snapshot!(draw(&mut app, 100, 24).backend());
}
mod links;
mod overlays;
