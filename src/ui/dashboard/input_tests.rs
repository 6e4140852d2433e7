//! Key handling of the dashboard: the prefix, the sidebar, overlays, confirmations, and which
//! keys need a frame of their own.

use crate::config::Settings;
use crate::core::keys::{Key, KeyCode, Mods};
use crate::core::session::Notice;
use crate::core::types::{Access, GuestInfo, LinkRef, Size, Via};
use crate::host::state::{HostState, LinkKind};
use crate::net::proto::Links;
use crate::net::uplink::UplinkEvent;
use crate::ui::dashboard::app::{Action, App, Focus, Overlay, Section};
use crate::ui::theme::Theme;

fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: Mods::default(),
    }
}

fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: Mods {
            ctrl: true,
            ..Mods::default()
        },
    }
}

fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: Mods::default(),
    }
}

const SSH_RO: LinkKind = LinkKind {
    via: Via::Ssh,
    access: Access::ReadOnly,
    extra: 0,
};

fn app() -> App {
    let mut host = HostState::new("h").with_clock(|| "t".into());
    host.on_uplink(UplinkEvent::Connected {
        links: Links {
            ssh: "ssh rw@h".into(),
            ssh_ro: "ssh ro-x@h".into(),
            web: None,
            web_ro: None,
        },
        resumed: false,
    });
    for (id, access) in [(1, Access::ReadWrite), (2, Access::ReadOnly)] {
        host.on_notice(&Notice::GuestJoined(GuestInfo {
            id,
            via: Via::Ssh,
            name: format!("g{id}"),
            fingerprint: None,
            addr: None,
            access,
            size: Size::new(80, 23),
        }));
    }
    App::new(host, &Settings::default(), Theme::default_dark(), ctrl('b'))
}

#[test]
fn keys_go_to_the_shell_except_the_prefix() {
    let mut a = app();
    assert_eq!(a.on_key(ch('x')), vec![Action::Key(ch('x'))]);
    assert_eq!(a.on_key(ctrl('b')), vec![]);
    assert!(a.prefix_armed);
    // The prefix twice sends it once.
    assert_eq!(a.on_key(ctrl('b')), vec![Action::Key(ctrl('b'))]);
    assert!(!a.prefix_armed);
    // An unbound key after the prefix does nothing, and the next key is typed again.
    assert_eq!(a.on_key(ctrl('b')), vec![]);
    assert_eq!(a.on_key(ch('z')), vec![]);
    assert_eq!(a.on_key(ch('z')), vec![Action::Key(ch('z'))]);
}

#[test]
fn prefix_s_focuses_the_read_write_link_and_esc_returns() {
    let mut a = app();
    a.link_selected = SSH_RO;
    a.on_key(ctrl('b'));
    a.on_key(ch('s'));
    assert_eq!(a.focus, Focus::Sidebar(Section::Links));
    assert_eq!(a.link_selected, LinkKind::SSH_RW);
    let copy = a.on_key(code(KeyCode::Enter));
    assert_eq!(
        copy,
        vec![Action::Copy {
            text: "ssh rw@h".into(),
            what: "the read-write ssh link".into()
        }]
    );
    a.on_key(code(KeyCode::Down));
    assert_eq!(a.link_selected, SSH_RO);
    assert!(matches!(&a.on_key(ch('y'))[..], [Action::Copy { text, .. }] if text == "ssh ro-x@h"));
    assert_eq!(
        a.on_key(ch('d')),
        vec![Action::SwitchLink(LinkRef::Main(Access::ReadOnly), false)]
    );
    a.on_key(ch('Q'));
    assert_eq!(a.overlay, Some(Overlay::Qr(SSH_RO)));
    a.on_key(ch('x'));
    assert_eq!(a.overlay, None);
    assert_eq!(a.on_key(code(KeyCode::Esc)), vec![]);
    assert_eq!(a.focus, Focus::Pane);
}

/// `app()` after the relay handed out web links too.
fn app_with_web_links() -> App {
    let mut a = app();
    a.host.on_uplink(UplinkEvent::Connected {
        links: Links {
            ssh: "ssh rw@h".into(),
            ssh_ro: "ssh ro-x@h".into(),
            web: Some("http://h/#rw".into()),
            web_ro: Some("http://h/#ro-x".into()),
        },
        resumed: true,
    });
    a
}

#[test]
fn web_links_follow_the_ssh_links_and_take_the_same_keys() {
    let mut a = app_with_web_links();
    let web = |access| LinkKind {
        via: Via::Web,
        access,
        extra: 0,
    };
    a.on_key(ctrl('b'));
    a.on_key(ch('s'));
    assert_eq!(a.link_selected, LinkKind::SSH_RW);
    let mut seen = vec![a.link_selected];
    for _ in 0..4 {
        a.on_key(ch('j'));
        seen.push(a.link_selected);
    }
    let order = [
        LinkKind::SSH_RW,
        SSH_RO,
        web(Access::ReadWrite),
        web(Access::ReadOnly),
        LinkKind::SSH_RW,
    ];
    assert_eq!(seen, order, "down goes through all four and wraps");
    a.on_key(code(KeyCode::Up));
    assert_eq!(a.link_selected, web(Access::ReadOnly), "up wraps back");
    assert_eq!(
        a.on_key(code(KeyCode::Enter)),
        vec![Action::Copy {
            text: "http://h/#ro-x".into(),
            what: "the read-only web link".into()
        }]
    );
    // The web link carries the read-only token: `d` switches that token off, ssh and web.
    assert_eq!(
        a.on_key(ch('d')),
        vec![Action::SwitchLink(LinkRef::Main(Access::ReadOnly), false)]
    );
    a.on_key(ch('Q'));
    assert_eq!(a.overlay, Some(Overlay::Qr(web(Access::ReadOnly))));
    a.on_key(ch('x'));
    a.on_key(ch('k'));
    assert_eq!(a.link_selected, web(Access::ReadWrite));
    assert!(
        matches!(&a.on_key(ch('y'))[..], [Action::Copy { text, .. }] if text == "http://h/#rw")
    );
}

#[test]
fn a_click_on_a_web_link_copies_it_and_new_links_without_web_reset_the_selection() {
    use crate::ui::dashboard::{sidebar, view};
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut a = app_with_web_links();
    a.sidebar_mode = crate::config::SidebarMode::Docked;
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let side = view::areas(&a, area).sidebar.expect("a sidebar");
    let l = sidebar::layout(&a, side);
    assert_eq!(l.links.len(), 4, "{:?}", l.links);
    let (kind, rw) = l.links[2];
    assert_eq!(kind.via, Via::Web);
    let click = a.on_mouse(
        mouse(MouseEventKind::Down(MouseButton::Left), rw.x + 3, rw.y),
        area,
    );
    assert_eq!(
        click,
        vec![Action::Copy {
            text: "http://h/#rw".into(),
            what: "the read-write web link".into()
        }]
    );
    assert_eq!(a.focus, Focus::Pane);
    assert_eq!(a.link_selected, kind);
    // A relay that no longer serves the web view: the selection falls back to ssh.
    a.host.on_uplink(UplinkEvent::Connected {
        links: Links {
            ssh: "ssh rw2@h".into(),
            ssh_ro: "ssh ro-y@h".into(),
            web: None,
            web_ro: None,
        },
        resumed: false,
    });
    a.clamp_selection();
    assert_eq!(a.link_selected, LinkKind::SSH_RW);
    let side = view::areas(&a, area).sidebar.expect("a sidebar");
    assert_eq!(sidebar::layout(&a, side).links.len(), 2);
}

#[test]
fn tab_cycles_sections_and_guests_toggle_and_kick_with_a_confirm() {
    let mut a = app();
    a.focus = Focus::Sidebar(Section::Links);
    a.on_key(code(KeyCode::Tab));
    assert_eq!(a.focus, Focus::Sidebar(Section::Guests));
    assert_eq!(
        a.on_key(ch('m')),
        vec![Action::SetAccess(1, Access::ReadOnly)]
    );
    a.on_key(ch('j'));
    assert_eq!(
        a.on_key(ch('m')),
        vec![Action::SetAccess(2, Access::ReadWrite)]
    );
    assert_eq!(a.on_key(ch('k')), vec![]);
    assert_eq!(a.overlay, Some(Overlay::ConfirmKick(2)));
    // n cancels; y confirms.
    assert_eq!(a.on_key(ch('n')), vec![]);
    assert_eq!(a.overlay, None);
    a.on_key(ch('k'));
    assert_eq!(a.on_key(ch('y')), vec![Action::Kick(2)]);
    a.on_key(code(KeyCode::BackTab));
    assert_eq!(a.focus, Focus::Sidebar(Section::Links));
    a.on_key(code(KeyCode::BackTab));
    assert_eq!(a.focus, Focus::Sidebar(Section::Log));
}

#[test]
fn lock_help_quit_and_hiding_the_sidebar() {
    let mut a = app();
    a.on_key(ctrl('b'));
    assert_eq!(a.on_key(ch('L')), vec![Action::Lock(true)]);
    a.host.on_notice(&Notice::Locked(true));
    a.on_key(ctrl('b'));
    assert_eq!(a.on_key(ch('L')), vec![Action::Lock(false)]);
    a.on_key(ctrl('b'));
    a.on_key(ch('?'));
    assert_eq!(a.overlay, Some(Overlay::Help));
    // Any key closes help and is not typed.
    assert_eq!(a.on_key(ch('x')), vec![]);
    a.on_key(ctrl('b'));
    a.on_key(ch('q'));
    assert_eq!(a.overlay, Some(Overlay::ConfirmQuit));
    assert_eq!(a.on_key(code(KeyCode::Esc)), vec![]);
    a.on_key(ctrl('b'));
    a.on_key(ch('q'));
    assert_eq!(a.on_key(ch('y')), vec![Action::Quit]);
    a.focus = Focus::Sidebar(Section::Log);
    a.on_key(ctrl('b'));
    a.on_key(ch('S'));
    assert!(!a.sidebar_shown);
    assert_eq!(a.focus, Focus::Pane);
}

#[test]
fn pastes_reach_the_shell_only_from_the_pane() {
    let mut a = app();
    assert_eq!(a.on_paste("hi".into()), vec![Action::Paste("hi".into())]);
    a.focus = Focus::Sidebar(Section::Links);
    assert_eq!(a.on_paste("hi".into()), vec![]);
}

fn mouse(
    kind: crossterm::event::MouseEventKind,
    column: u16,
    row: u16,
) -> crossterm::event::MouseEvent {
    crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: crossterm::event::KeyModifiers::NONE,
    }
}

#[test]
fn clicks_copy_links_and_select_guests_and_the_wheel_scrolls() {
    use crate::ui::dashboard::{sidebar, view};
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut a = app();
    // Docked, so the sidebar is there to click with the keys in the pane.
    a.sidebar_mode = crate::config::SidebarMode::Docked;
    for i in 0..30 {
        a.host.log(format!("line {i}"));
    }
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let side = view::areas(&a, area)
        .sidebar
        .expect("a sidebar at 120 columns");
    let l = sidebar::layout(&a, side);
    let ro = l.links[1].1;
    let click = a.on_mouse(
        mouse(MouseEventKind::Down(MouseButton::Left), ro.x + 3, ro.y + 1),
        area,
    );
    assert!(
        matches!(&click[..], [Action::Copy { text, .. }] if text == "ssh ro-x@h"),
        "{click:?}"
    );
    // The keys go back to the shell: a `d` typed next is the shell's, not "switch off".
    assert_eq!(a.focus, Focus::Pane);
    assert_eq!(a.on_key(ch('d')), vec![Action::Key(ch('d'))]);
    assert!(a.host.links_enabled.iter().all(|on| *on));
    let g2 = l.guests[1].1;
    assert_eq!(
        a.on_mouse(
            mouse(MouseEventKind::Down(MouseButton::Left), g2.x + 2, g2.y),
            area
        ),
        vec![]
    );
    assert_eq!(
        (a.focus, a.guest_selected),
        (Focus::Sidebar(Section::Guests), 1)
    );
    a.on_mouse(
        mouse(MouseEventKind::ScrollUp, l.log.x + 1, l.log.y + 1),
        area,
    );
    assert_eq!(a.log_scroll, 3);
    a.on_mouse(
        mouse(MouseEventKind::ScrollDown, l.log.x + 1, l.log.y + 1),
        area,
    );
    assert_eq!(a.log_scroll, 0);
}

#[test]
fn the_wheel_over_the_pane_scrolls_back_unless_the_program_wants_the_mouse() {
    use crate::core::keys::MouseMode;
    use crossterm::event::{MouseButton, MouseEventKind};
    let mut a = app();
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    assert_eq!(
        a.on_mouse(mouse(MouseEventKind::ScrollUp, 5, 5), area),
        vec![]
    );
    assert_eq!(a.pane_scroll, 3);
    // Typing returns to the live screen.
    a.on_key(ch('x'));
    assert_eq!(a.pane_scroll, 0);
    // A program that asked for the mouse gets the events, relative to the pane.
    a.pane.modes.mouse = MouseMode::PressRelease;
    let got = a.on_mouse(mouse(MouseEventKind::Down(MouseButton::Left), 5, 6), area);
    match &got[..] {
        [Action::Mouse(m)] => assert_eq!((m.col, m.row), (5, 6)),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.pane_scroll, 0);
}

#[test]
fn a_narrow_terminal_takes_the_focus_back_and_keeps_the_sidebar_shut() {
    let mut a = app();
    a.focus = Focus::Sidebar(Section::Guests);
    a.set_width(59);
    assert_eq!(a.focus, Focus::Pane);
    a.on_key(ctrl('b'));
    a.on_key(ch('s'));
    assert_eq!(a.focus, Focus::Pane);
    assert!(
        a.host
            .log
            .back()
            .is_some_and(|l| l.text.contains("60 columns"))
    );
    a.set_width(60);
    a.on_key(ctrl('b'));
    a.on_key(ch('s'));
    assert_eq!(a.focus, Focus::Sidebar(Section::Links));
}

/// Whether `key` on `app` asks for a frame of its own (see `App::input_changed_view`).
fn key_needs_a_frame(app: &mut App, key: Key) -> bool {
    let before = app.looks();
    let actions = app.on_key(key);
    app.input_changed_view(&before, &actions)
}

#[test]
fn a_key_for_the_shell_needs_no_frame_but_one_that_changes_the_dashboard_does() {
    let mut a = app();
    // Its echo is drawn when it comes back from the shell.
    assert!(!key_needs_a_frame(&mut a, ch('x')));
    // The prefix shows its hint; the key after it closes the hint, even when it goes on to
    // the shell (the prefix twice).
    assert!(key_needs_a_frame(&mut a, ctrl('b')));
    assert!(key_needs_a_frame(&mut a, ctrl('b')));
    // A key while the pane is scrolled back returns it to the live screen.
    a.pane_scroll = 3;
    assert!(key_needs_a_frame(&mut a, ch('x')));
    assert!(!key_needs_a_frame(&mut a, ch('y')));
    // A key that only moves the sidebar's highlight asks the program for nothing.
    assert!(key_needs_a_frame(&mut a, ctrl('b')));
    assert!(key_needs_a_frame(&mut a, ch('s')));
    assert!(key_needs_a_frame(&mut a, code(KeyCode::Down)));
}

#[test]
fn copy_mode_moves_searches_marks_and_copies_lines() {
    use crate::ui::dashboard::copy::{lines_text, search_above};
    let mut a = app();
    // A pane of 10 rows with 50 lines of history above it: lines 0 to 59.
    a.pane.buffer = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 20, 10));
    a.pane.history = 50;
    assert_eq!(a.on_key(ctrl('b')), vec![]);
    assert_eq!(a.on_key(ch('[')), vec![]);
    assert_eq!(a.copy.as_ref().map(|c| c.line), Some(59), "on the last row");
    assert!(
        a.copy
            .as_ref()
            .expect("copy")
            .status(60)
            .starts_with("history: line 60 of 60")
    );
    // Keys move the cursor, not the program: nothing goes out.
    for _ in 0..3 {
        assert_eq!(a.on_key(code(KeyCode::Up)), vec![]);
    }
    assert_eq!(
        (a.copy.as_ref().map(|c| c.line), a.pane_scroll),
        (Some(56), 0)
    );
    a.on_key(code(KeyCode::PageUp));
    assert_eq!(
        (a.copy.as_ref().map(|c| c.line), a.pane_scroll),
        (Some(46), 4)
    );
    // `/`, the text, Enter: a search above the cursor, for the event loop to run.
    for c in "/abc".chars() {
        assert_eq!(a.on_key(ch(c)), vec![]);
    }
    let search = a.on_key(code(KeyCode::Enter));
    assert_eq!(
        search,
        vec![Action::Search {
            needle: "abc".into(),
            before: 46
        }]
    );
    a.copy_found(Some(10));
    assert_eq!(
        (a.copy.as_ref().map(|c| c.line), a.pane_scroll),
        (Some(10), 40)
    );
    a.copy_found(None);
    assert!(
        a.copy
            .as_ref()
            .expect("copy")
            .status(60)
            .contains("not found above")
    );
    // Space marks, Down twice, Enter copies those lines and leaves for the live screen.
    a.on_key(ch(' '));
    a.on_key(code(KeyCode::Down));
    a.on_key(code(KeyCode::Down));
    assert_eq!(
        a.on_key(code(KeyCode::Enter)),
        vec![Action::CopyLines { from: 10, to: 12 }]
    );
    assert_eq!((a.copy.is_none(), a.pane_scroll), (true, 0));
    // q leaves without copying; typing goes to the program again.
    a.on_key(ctrl('b'));
    a.on_key(ch('['));
    assert_eq!(a.on_key(ch('q')), vec![]);
    assert_eq!(a.on_key(ch('x')), vec![Action::Key(ch('x'))]);

    // What the event loop runs on the session's screen.
    let mut screen = crate::core::term::Screen::new(Size::new(20, 5), 100);
    for i in 0..30 {
        screen.feed(format!("line {i}\r\n").as_bytes());
    }
    let total = screen.history_len() + 5;
    let at = search_above(&screen, "line 7", total).expect("found");
    assert_eq!(screen.line_text(at).as_deref(), Some("line 7"));
    assert_eq!(lines_text(&screen, at, at + 2), "line 7\nline 8\nline 9");
    assert_eq!(search_above(&screen, "line 7", at), None, "only above");
    assert_eq!(screen.line_text(total), None);
}
