//! Comparing a guest's screen with the host's, cell for cell, with a bounded wait.

use super::env::{TestEnv, WAIT};
use super::guest::SshGuest;
use super::wait::wait_until;

/// Differences between the guest's pane area and the host's screen, as readable lines.
pub fn differences(host: &vt100::Screen, guest: &vt100::Screen) -> Vec<String> {
    let text = |c: &vt100::Cell| {
        if c.contents().is_empty() {
            " ".to_string()
        } else {
            c.contents().to_string()
        }
    };
    let (rows, cols) = host.size();
    let mut out = Vec::new();
    for r in 0..rows.get() {
        for c in 0..cols.get() {
            let (Some(h), Some(g)) = (host.cell(r, c), guest.cell(r, c)) else {
                out.push(format!("{r},{c}: missing cell"));
                continue;
            };
            if h.is_wide_continuation() {
                continue;
            }
            let same = text(h) == text(g)
                && h.fgcolor() == g.fgcolor()
                && h.bgcolor() == g.bgcolor()
                && h.bold() == g.bold()
                && h.italic() == g.italic()
                && h.underline() == g.underline()
                && h.inverse() == g.inverse();
            if !same {
                out.push(format!("{r},{c}: host {h:?} guest {g:?}"));
            }
        }
    }
    out
}

/// Waits until the guest shows exactly the host's cells, and the cursor the same way.
pub fn assert_mirrors(env: &TestEnv, g: &SshGuest) {
    let mut last = Vec::new();
    let ok = wait_until("the guest to mirror the host", WAIT, || {
        let host = env.host_screen();
        let guest = g.screen();
        last = differences(&host, &guest);
        // A hidden cursor may sit anywhere; a shown one must be where the host's is.
        let cursor = if host.hide_cursor() {
            guest.hide_cursor()
        } else {
            !guest.hide_cursor()
                && cotty::ui::screen_view::cursor_position(&host) == guest.cursor_position()
        };
        last.is_empty() && cursor
    });
    assert!(
        ok.is_ok(),
        "{} differing cells, first: {:?}",
        last.len(),
        last.first()
    );
}
