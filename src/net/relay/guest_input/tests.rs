//! Tests of the guest input filters: detach, and mouse and focus reports mapped into the pane.

use super::*;
use crate::core::keys::MouseMode;
use crate::core::types::Size;

#[test]
fn prefix_d_detaches_and_other_keys_pass() {
    let mut f = KeyFilter::default();
    assert_eq!(f.feed(b"ls\r").input, b"ls\r");
    let k = f.feed(b"ab\x02d");
    assert_eq!(k.input, b"ab");
    assert!(k.detach);
}

#[test]
fn a_prefix_split_across_reads_still_works() {
    let mut f = KeyFilter::default();
    let k = f.feed(b"x\x02");
    assert_eq!(k.input, b"x");
    assert!(!k.detach);
    assert!(f.feed(b"d").detach);
}

#[test]
fn prefix_twice_sends_one_prefix_and_prefix_other_sends_both() {
    let mut f = KeyFilter::default();
    assert_eq!(f.feed(b"\x02\x02").input, vec![PREFIX]);
    assert_eq!(f.feed(b"\x02c").input, vec![PREFIX, b'c']);
}

/// A pane of 100x30 seen by a guest with room for 80x20, scrolled to row 10 and column 20.
fn offset_place() -> Placement {
    Placement {
        offset: (10, 20),
        view: Size::new(80, 20),
        pane: Size::new(100, 30),
    }
}

/// A pane of 40x10 seen whole by a guest with room for 80x20.
fn small_place() -> Placement {
    Placement {
        offset: (0, 0),
        view: Size::new(80, 20),
        pane: Size::new(40, 10),
    }
}

fn modes(mouse: MouseMode, encoding: MouseEncoding) -> Modes {
    Modes {
        mouse,
        mouse_encoding: encoding,
        ..Modes::default()
    }
}

fn sgr(code: u32, col: u16, row: u16, release: bool) -> Vec<u8> {
    let end = if release { 'm' } else { 'M' };
    format!("\x1b[<{code};{};{}{end}", col + 1, row + 1).into_bytes()
}

#[test]
fn a_click_lands_on_the_pane_cell_under_the_pointer() {
    let mut m = ReportMapper::default();
    let place = offset_place();
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Sgr);
    let mut click = sgr(0, 5, 3, false);
    click.extend(sgr(0, 5, 3, true));
    let out = m.map(&click, Some(&place), MouseEncoding::Sgr, &pane);
    let mut want = sgr(0, 25, 13, false);
    want.extend(sgr(0, 25, 13, true));
    assert_eq!(out, want);
}

#[test]
fn reports_are_encoded_again_in_the_panes_encoding() {
    let mut m = ReportMapper::default();
    let place = small_place();
    // The guest's terminal still reports in SGR; the program has just gone back to the
    // default encoding, which says only "released" for an Up.
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Default);
    let mut click = sgr(2, 3, 4, false);
    click.extend(sgr(2, 3, 4, true));
    let out = m.map(&click, Some(&place), MouseEncoding::Sgr, &pane);
    assert_eq!(out, b"\x1b[M\x22\x24\x25\x1b[M\x23\x24\x25");
}

#[test]
fn clicks_on_the_status_line_or_the_unused_area_are_dropped() {
    let mut m = ReportMapper::default();
    let place = small_place();
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Sgr);
    for (col, row) in [(50, 2), (3, 15), (3, 20), (79, 19)] {
        let mut click = sgr(0, col, row, false);
        click.extend(sgr(0, col, row, true));
        click.extend(sgr(64, col, row, false));
        assert_eq!(
            m.map(&click, Some(&place), MouseEncoding::Sgr, &pane),
            b"",
            "{col},{row}"
        );
    }
}

#[test]
fn a_drag_that_leaves_the_pane_stays_at_its_edge_and_is_released_there() {
    let mut m = ReportMapper::default();
    let place = small_place();
    let pane = modes(MouseMode::ButtonMotion, MouseEncoding::Sgr);
    let mut input = sgr(0, 1, 1, false);
    input.extend(sgr(32, 60, 15, false));
    input.extend(sgr(0, 60, 15, true));
    let mut want = sgr(0, 1, 1, false);
    want.extend(sgr(32, 39, 9, false));
    want.extend(sgr(0, 39, 9, true));
    assert_eq!(m.map(&input, Some(&place), MouseEncoding::Sgr, &pane), want);
}

#[test]
fn nothing_reaches_a_program_that_did_not_ask_for_the_mouse() {
    let mut m = ReportMapper::default();
    let place = small_place();
    let pane = modes(MouseMode::None, MouseEncoding::Default);
    let mut input = b"ab".to_vec();
    input.extend(sgr(0, 1, 1, false));
    input.extend(b"\x1b[M\x20\x22\x22");
    input.extend(sgr(0, 1, 1, true));
    input.extend(b"\x1b[I\x1b[Ocd");
    assert_eq!(
        m.map(&input, Some(&place), MouseEncoding::Default, &pane),
        b"abcd"
    );
    // Before the first frame the guest has not seen the pane: no report can be meant for it.
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Sgr);
    assert_eq!(
        m.map(&sgr(0, 1, 1, false), None, MouseEncoding::Sgr, &pane),
        b""
    );
}

#[test]
fn focus_reports_pass_only_when_the_program_asked() {
    let mut m = ReportMapper::default();
    let focus = Modes {
        focus_events: true,
        ..Modes::default()
    };
    assert_eq!(
        m.map(b"\x1b[I\x1b[O", None, MouseEncoding::Default, &focus),
        b"\x1b[I\x1b[O"
    );
}

#[test]
fn a_report_cut_between_reads_is_put_back_together() {
    let place = small_place();
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Sgr);
    let mut click = sgr(0, 2, 3, false);
    click.extend(sgr(0, 2, 3, true));
    click.extend(b"x");
    let whole = ReportMapper::default().map(&click, Some(&place), MouseEncoding::Sgr, &pane);
    // A read that ends in a lone ESC or `ESC [` is passed on at once, since those are keys
    // (Escape, Alt+[) and must not wait for the next read; terminals write a report whole,
    // so only cuts after its third byte are tested.
    let early = |cut: usize| (1..=2).any(|back| cut >= back && click[cut - back] == 0x1b);
    for cut in (0..=click.len()).filter(|&cut| !early(cut)) {
        let mut m = ReportMapper::default();
        let mut out = m.map(&click[..cut], Some(&place), MouseEncoding::Sgr, &pane);
        out.extend(m.map(&click[cut..], Some(&place), MouseEncoding::Sgr, &pane));
        assert_eq!(out, whole, "cut at {cut}");
    }
    let mut m = ReportMapper::default();
    let classic = b"\x1b[M\x20\x23\x24";
    let mut out = m.map(&classic[..4], Some(&place), MouseEncoding::Default, &pane);
    out.extend(m.map(&classic[4..], Some(&place), MouseEncoding::Default, &pane));
    assert_eq!(out, sgr(0, 2, 3, false));
}

#[test]
fn keys_escape_and_pastes_pass_unchanged() {
    let place = small_place();
    let pane = modes(MouseMode::PressRelease, MouseEncoding::Sgr);
    let mut m = ReportMapper::default();
    // A lone Escape and Alt+[ are keys and go at once, not held for a report that never comes.
    assert_eq!(
        m.map(b"\x1b", Some(&place), MouseEncoding::Sgr, &pane),
        b"\x1b"
    );
    assert_eq!(
        m.map(b"\x1b[", Some(&place), MouseEncoding::Sgr, &pane),
        b"\x1b["
    );
    assert_eq!(
        m.map(
            b"\x1b[A\x1bOB\x1b[2~",
            Some(&place),
            MouseEncoding::Sgr,
            &pane
        ),
        b"\x1b[A\x1bOB\x1b[2~"
    );
    // Text in a paste is text, even when it looks like a report; the paste is cut in two.
    let paste = b"\x1b[200~a\x1b[<0;1;1Mb\x1b[201~\x1b[<0;1;1M";
    let mut out = Vec::new();
    for part in [&paste[..3], &paste[3..12], &paste[12..24], &paste[24..]] {
        out.extend(m.map(part, Some(&place), MouseEncoding::Sgr, &pane));
    }
    let mut want = paste[..23].to_vec();
    want.extend(sgr(0, 0, 0, false));
    assert_eq!(out, want);
}

#[test]
fn a_guest_smaller_than_the_pane_points_at_the_part_it_sees() {
    let place = offset_place();
    assert_eq!(place.to_pane(0, 0), Some((20, 10)));
    assert_eq!(place.to_pane(79, 19), Some((99, 29)));
    assert_eq!(place.to_pane(80, 0), None);
    assert_eq!(place.to_pane(0, 20), None);
    assert_eq!(place.clamp(200, 200), (99, 29));
}
