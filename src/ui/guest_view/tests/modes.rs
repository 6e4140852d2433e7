//! Tests: the guest's terminal modes, title and status line follow the program and the
//! host, and nothing the program writes can smuggle escapes to the guest.

use super::*;

#[test]
fn modes_follow_the_program_and_only_changes_are_sent() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    rig.step(b"hello");
    assert_eq!(input_modes(&rig.guest), Modes::default());
    let frame = rig.step(b"\x1b[?1h\x1b=\x1b[?2004h\x1b[?1002h\x1b[?1006h\x1b[?1004h\x1b[5 q");
    let want = Modes {
        app_cursor: true,
        app_keypad: true,
        bracketed_paste: true,
        focus_events: true,
        mouse: MouseMode::ButtonMotion,
        mouse_encoding: MouseEncoding::Sgr,
        alt_screen: false,
    };
    assert_eq!(input_modes(&rig.host), want, "the host parsed them");
    assert_eq!(
        input_modes(&rig.guest),
        want,
        "frame {:?}",
        String::from_utf8_lossy(&frame)
    );
    let c = rig.guest.cursor();
    assert_eq!((c.shape, c.blinking), (CursorShape::Beam, true));

    let same = rig.step(b"x");
    assert!(!same.contains(&b'?'), "unchanged modes resent: {same:?}");

    rig.step(b"\x1b[?1003h");
    assert_eq!(rig.guest.modes().mouse, MouseMode::AnyMotion);
    rig.step(b"\x1b[?1l\x1b>\x1b[?2004l\x1b[?1003l\x1b[?1006l\x1b[?1004l\x1b[0 q");
    assert_eq!(input_modes(&rig.guest), Modes::default());
    let c = rig.guest.cursor();
    assert_eq!((c.shape, c.blinking), (CursorShape::Block, false));
}

#[test]
fn the_programs_alternate_screen_is_not_passed_on() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    let enter = rig.step(b"\x1b[?1049hfull screen app");
    assert!(rig.host.modes().alt_screen);
    let leave = rig.step(b"\x1b[?1049l");
    for f in [&enter, &leave] {
        assert!(!String::from_utf8_lossy(f).contains("1049"), "{f:?}");
    }
    assert!(rig.guest.modes().alt_screen, "the guest left its screen");
    rig.assert_mirrors("after the program left its alternate screen");
}

#[test]
fn finish_gives_the_guest_its_terminal_back() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    rig.step(b"\x1b]2;shared title\x07\x1b[?1h\x1b=\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?1004h");
    rig.step(b"\x1b[3 q\x1b[?25l");
    assert!(!rig.guest.cursor().visible);
    assert_ne!(rig.guest.modes(), Modes::default());
    let bytes = rig.renderer.finish("kicked by host");
    rig.guest.feed(&bytes);
    assert_eq!(rig.guest.modes(), Modes::default());
    let c = rig.guest.cursor();
    assert!(c.visible, "the cursor is shown again");
    assert_eq!((c.shape, c.blinking), (CursorShape::Block, false));
    assert_eq!(rig.guest.title(), "", "the saved title is back");
    assert!(rig.guest.export(None).text().contains("kicked by host"));
}

#[test]
fn the_title_is_sent_when_it_changes() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    let has_osc = |f: &[u8]| f.windows(2).any(|w| w == b"\x1b]");
    assert!(!has_osc(&rig.step(b"no title yet")), "an empty title sent");
    rig.step(b"\x1b]2;vim - notes.txt\x07");
    assert_eq!(rig.guest.title(), "vim - notes.txt");
    assert!(!has_osc(&rig.step(b"x")), "the title resent");
    rig.step(b"\x1b]0;other\x1b\\");
    assert_eq!(rig.guest.title(), "other");
}

#[test]
fn a_hostile_title_cannot_inject_escapes() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    rig.step(b"hello");
    // A host on the wire may send any title; the emulator would never produce this one.
    let mut evil = (*rig.shown()).clone();
    evil.title = "a\x07\x1b[?1049l\x1b]52;c;ZXZpbA==\x07\u{9b}?1h\x1b[?2004hb".into();
    let frame = rig.frame_of(Arc::new(evil));
    assert_eq!(rig.guest.title(), "a[?1049l]52;c;ZXZpbA==?1h[?2004hb");
    assert!(rig.guest.modes().alt_screen, "the guest left its screen");
    assert_eq!(input_modes(&rig.guest), Modes::default());
    assert_eq!(frame.iter().filter(|b| **b == 0x07).count(), 1, "{frame:?}");
    assert_eq!(frame.iter().filter(|b| **b == 0x1b).count(), 1, "{frame:?}");

    let mut long = (*rig.shown()).clone();
    long.title = "t".repeat(10_000);
    rig.frame_of(Arc::new(long));
    assert_eq!(rig.guest.title().len(), MAX_TITLE_CHARS);
}

#[test]
fn hostile_cell_text_cannot_inject_escapes() {
    let mut rig = Rig::new(Size::new(20, 4), Size::new(20, 5));
    rig.step(b"");
    let mut b = RowBuilder::default();
    for c in "\x1b[?1049l\x1b]2;x\x07ok".chars() {
        b.push(c, &[], Style::default(), false);
    }
    let mut evil = (*rig.shown()).clone();
    evil.rows[0] = Arc::new(b.finish(false));
    rig.frame_of(Arc::new(evil));
    assert!(rig.guest.modes().alt_screen);
    assert_eq!(rig.guest.title(), "");
    assert_eq!(rig.guest.export(None).row(0).text(), " [?1049l ]2;x ok");
}

#[test]
fn a_resize_redraws_in_full() {
    let mut rig = Rig::with_host(fixture("wide.bin", Size::new(80, 24)), Size::new(80, 25));
    rig.step(b"");
    rig.renderer.resize(Size::new(60, 20));
    rig.guest.resize(Size::new(60, 20));
    let frame = rig.step(b"");
    assert!(frame.len() > 200, "{} bytes", frame.len());
    rig.assert_mirrors("resized");
}

#[test]
fn the_status_line_is_redrawn_only_when_it_changes() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(60, 11));
    rig.step(b"x");
    let state = rig.shown();
    let mut ro = status(Access::ReadOnly);
    ro.message = Some("host reconnecting");
    let frame = rig.renderer.frame(&state, &ro, &rig.theme);
    rig.guest.feed(&frame);
    let bar = rig.guest.export(None);
    let cell = bar.row(10).columns(60)[1].expect("cell");
    assert_eq!(*cell.style, theme_style(rig.theme.status_readonly));
    let text = bar.row(10).text();
    assert!(text.contains("read-only │ 2 guests"), "{text}");
    assert_eq!(rig.renderer.frame(&state, &ro, &rig.theme).len(), 0);
}

#[test]
fn read_only_and_lock_show_in_the_status_line() {
    let mut s = status(Access::ReadOnly);
    assert!(s.text().contains("read-only"));
    s.access = Access::ReadWrite;
    s.locked = true;
    assert!(s.text().contains("locked by host"), "{}", s.text());
    s.guests = 1;
    s.message = Some("host reconnecting");
    assert!(s.text().contains("1 guest │") && s.text().contains("host reconnecting"));
}

#[test]
fn a_guest_who_may_not_type_keeps_its_mouse_for_selecting() {
    let mut rig = Rig::new(Size::new(40, 10), Size::new(40, 11));
    rig.host
        .feed(b"\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?1004h");
    let state = Arc::new(rig.host.export(None));
    let mut read_only = status(Access::ReadOnly);
    let frame = rig.renderer.frame(&state, &read_only, &rig.theme);
    rig.guest.feed(&frame);
    let modes = input_modes(&rig.guest);
    assert_eq!((modes.mouse, modes.focus_events), (MouseMode::None, false));
    assert!(modes.app_cursor && modes.bracketed_paste, "{modes:?}");

    // Made read-write, it gets the program's mouse; locked by the host, it loses it again.
    read_only.access = Access::ReadWrite;
    rig.guest
        .feed(&rig.renderer.frame(&state, &read_only, &rig.theme));
    assert_eq!(rig.guest.modes().mouse, MouseMode::PressRelease);
    assert_eq!(rig.renderer.mouse_encoding(), MouseEncoding::Sgr);
    read_only.locked = true;
    rig.guest
        .feed(&rig.renderer.frame(&state, &read_only, &rig.theme));
    assert_eq!(rig.guest.modes().mouse, MouseMode::None);
}

#[test]
fn the_placement_is_where_the_last_frame_put_the_pane() {
    let mut rig = Rig::new(Size::new(100, 30), Size::new(80, 21));
    assert_eq!(rig.renderer.placement(), None);
    rig.step(b"\x1b[30;100H");
    let place = rig.renderer.placement().expect("drawn");
    assert_eq!(place.view, Size::new(80, 20));
    assert_eq!(place.pane, Size::new(100, 30));
    assert_eq!(place.offset, (10, 20));
}
