//! Comparing a guest's screen with the host's, cell for cell, with a bounded wait.

use super::env::{TestEnv, WAIT};
use super::guest::SshGuest;
use super::wait::wait_until;
use cotty::core::term::ScreenState;

/// Differences between the guest's pane area and the host's screen, as readable lines: text,
/// width and every part of the style (colours, underline kind and colour, attributes).
pub fn differences(host: &ScreenState, guest: &ScreenState) -> Vec<String> {
    let cols = host.size.cols;
    let mut out = Vec::new();
    for r in 0..host.size.rows {
        if r >= guest.size.rows {
            out.push(format!("row {r}: missing on the guest"));
            continue;
        }
        let (h, g) = (host.row(r).columns(cols), guest.row(r).columns(cols));
        for (c, (h, g)) in h.iter().zip(&g).enumerate() {
            if h != g {
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
        let (hc, gc) = (host.cursor, guest.cursor);
        let cursor = same_cursor(hc.visible, (hc.row, hc.col), gc.visible, (gc.row, gc.col));
        last.is_empty() && cursor
    });
    assert!(
        ok.is_ok(),
        "{} differing cells, first: {:?}",
        last.len(),
        last.first()
    );
}

/// Whether a guest's cursor agrees with the host's: shown on both or hidden on both, and a
/// shown one where the host's is (a hidden cursor may sit anywhere).
pub fn same_cursor<P: PartialEq>(host_shown: bool, host_at: P, shown: bool, at: P) -> bool {
    host_shown == shown && (!shown || host_at == at)
}
