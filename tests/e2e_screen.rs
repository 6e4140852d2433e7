//! End to end: what a guest's terminal shows is, cell for cell, what the host's screen holds.

mod common;

use common::env::{TestEnv, WAIT, wait_prompt};
use common::guest::GuestOptions;
use common::mirror::assert_mirrors;
use common::wait::wait_until;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn colours_on_the_alternate_screen_arrive_cell_for_cell() {
    let script = format!(
        "printf '\\033[?1049h'; cat {}; exec sleep 600",
        fixture("colors.bin")
    );
    let env = TestEnv::start(&["sh", "-c", &script]);
    let g = env.guest(&env.rw(), GuestOptions::default());
    g.wait_for_text("bold-green", WAIT).expect("fixture shown");
    assert!(
        env.host_screen().modes.alt_screen,
        "the host is on the alternate screen"
    );
    assert_mirrors(&env, &g);
}

#[test]
fn wide_characters_and_an_editor_screen_arrive_cell_for_cell() {
    for name in ["wide.bin", "altscreen.bin"] {
        let script = format!("cat {}; exec sleep 600", fixture(name));
        let env = TestEnv::start(&["sh", "-c", &script]);
        let g = env.guest(&env.rw(), GuestOptions::default());
        g.wait_for("fixture shown", WAIT, |s| !s.text().trim().is_empty())
            .expect("fixture");
        assert_mirrors(&env, &g);
    }
}

#[test]
fn vim_looks_the_same_to_the_guest() {
    let env = TestEnv::bash();
    let file = env.path("notes.txt");
    std::fs::write(&file, "first line\n\tindented with a tab\nlast line\n").expect("write");
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.type_str(&format!("vim -u NONE -N -i NONE -n {file}\r"));
    g.wait_for_text("indented with a tab", WAIT)
        .expect("vim shows the file");
    wait_until("vim on the alternate screen", WAIT, || {
        env.host_screen().modes.alt_screen
    })
    .expect("alternate screen");
    g.type_str("jA and more\x1b");
    g.wait_for_text("and more", WAIT).expect("edit shown");
    assert_mirrors(&env, &g);
    g.type_str(":q!\r");
    wait_until("back on the main screen", WAIT, || {
        !env.host_screen().modes.alt_screen
    })
    .expect("vim quit");
    assert_mirrors(&env, &g);
}

#[test]
fn a_burst_faster_than_the_uplink_still_converges() {
    let env = TestEnv::bash();
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    // About 2.5 MB of numbered lines, then a marker.
    g.type_str("seq 1 300000 | sed 's/$/ burst of output/'; echo burst-done-$((1+1))\r");
    g.wait_for_text("burst-done-2", std::time::Duration::from_secs(60))
        .expect("marker after the burst");
    assert_mirrors(&env, &g);
}

#[test]
fn less_looks_the_same_to_the_guest() {
    let env = TestEnv::bash();
    let file = env.path("long.txt");
    let text: String = (1..=200)
        .map(|i| format!("line {i:03} of a long file\n"))
        .collect();
    std::fs::write(&file, text).expect("write");
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    g.type_str(&format!("LESS= less {file}\r"));
    g.wait_for_text("line 023 of a long file", WAIT)
        .expect("less shows the file");
    g.type_str(" ");
    g.wait_for_text("line 046 of a long file", WAIT)
        .expect("less pages down");
    assert_mirrors(&env, &g);
    g.type_str("q");
    wait_prompt(&g);
}

#[test]
fn htop_looks_the_same_to_the_guest() {
    let env = TestEnv::bash();
    let g = env.guest(
        &env.rw(),
        GuestOptions {
            cols: 100,
            rows: 31,
            ..Default::default()
        },
    );
    wait_prompt(&g);
    // A 10 s refresh delay leaves the screen still long enough to compare.
    g.type_str("HTOPRC=/dev/null htop -d 100\r");
    g.wait_for_text("F10Quit", WAIT)
        .expect("htop draws its key bar");
    assert_mirrors(&env, &g);
    g.type_str("q");
    wait_prompt(&g);
}
