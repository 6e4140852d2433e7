//! Snapshots of the boxes over the dashboard: the key list (every key, on an 80x24 terminal
//! too) and the QR codes of links.

use super::*;
use crate::ui::dashboard::overlay::HELP;

#[test]
fn help_overlay() {
    let mut app = app();
    app.overlay = Some(Overlay::Help);
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

/// The keys each part of the dashboard takes, as its code matches them; the help must name
/// each one, or a host cannot find it.
const TAKEN: &[(&str, &[&str])] = &[
    (
        "prefix",
        &[
            "C-b s", "C-b S", "C-b [", "C-b L", "C-b ?", "C-b q", "C-b C-b",
        ],
    ),
    (
        "sidebar",
        &["Tab", "S-Tab", "Esc", "↑", "↓", "k", "j", "PgUp", "PgDn"],
    ),
    ("links", &["Enter", "y", "d", "Q"]),
    ("guests", &["m", "k"]),
    ("copy mode", &["g", "G", "/", "n", "Space", "q", "Esc", "y"]),
    ("a guest asks", &["a", "r", "d"]),
    ("a question", &["y", "n", "Esc"]),
];

#[test]
fn the_help_names_every_key_and_the_approval_answers() {
    let text = format!("{}", draw(&mut app(), 120, 40).backend());
    let mut app = app();
    app.overlay = Some(Overlay::Help);
    let help = format!("{}", draw(&mut app, 120, 40).backend());
    assert_ne!(help, text, "the help is drawn");
    // A key is named when it stands alone: between spaces, or beside a slash.
    let words: Vec<&str> = HELP
        .iter()
        .flat_map(|(keys, what)| keys.split_whitespace().chain(what.split_whitespace()))
        .map(|w| w.trim_end_matches([',', ';', ':']))
        .collect();
    for (part, keys) in TAKEN {
        for key in *keys {
            let named = match key.strip_prefix("C-b ") {
                Some("C-b") => HELP.iter().any(|(keys, _)| *keys == "P P"),
                Some(k) => HELP.iter().any(|(keys, _)| *keys == format!("P {k}")),
                None => words.contains(key),
            };
            assert!(named, "{part}: the help does not name {key:?}");
        }
    }
    for answer in ["admit read-write", "read-only", "deny"] {
        assert!(help.contains(answer), "{answer}: {help}");
    }
}

#[test]
fn the_help_fits_an_80x24_terminal() {
    let mut app = app();
    app.overlay = Some(Overlay::Help);
    let term = draw(&mut app, 80, 24);
    let text = format!("{}", term.backend());
    assert!(
        text.contains("╭ cotty keys") && text.contains("╰"),
        "{text}"
    );
    assert!(text.contains("any key closes this"), "{text}");
    assert!(!text.contains("more lines"), "nothing is cut: {text}");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn a_terminal_too_short_for_the_help_says_what_it_cut() {
    let mut app = app();
    app.overlay = Some(Overlay::Help);
    let term = draw(&mut app, 80, 18);
    let text = format!("{}", term.backend());
    assert!(
        text.contains("╭ cotty keys") && text.contains("╰"),
        "{text}"
    );
    assert!(text.contains("6 more lines: a taller terminal"), "{text}");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn qr_code_of_the_read_only_link() {
    let mut app = app();
    app.focus = Focus::Sidebar(Section::Links);
    app.link_selected = SSH_RO;
    app.overlay = Some(Overlay::Qr(SSH_RO));
    insta::assert_snapshot!(draw(&mut app, 120, 40).backend());
}

#[test]
fn the_qr_code_in_a_60x20_terminal_says_what_it_needs_in_an_information_box() {
    let mut app = app();
    app.focus = Focus::Sidebar(Section::Links);
    app.overlay = Some(Overlay::Qr(LinkKind::SSH_RW));
    let term = draw(&mut app, 60, 20);
    let text = format!("{}", term.backend());
    assert!(text.contains("The terminal must be at least"), "{text}");
    assert!(
        text.contains("any key closes this") && !text.contains("y: yes"),
        "{text}"
    );
    insta::assert_snapshot!(term.backend());
}

#[test]
fn qr_code_of_the_read_write_web_link() {
    let mut app = app_with_web_links();
    let web = LinkKind {
        via: Via::Web,
        access: Access::ReadWrite,
        extra: 0,
    };
    app.focus = Focus::Sidebar(Section::Links);
    app.link_selected = web;
    app.overlay = Some(Overlay::Qr(web));
    let term = draw(&mut app, 120, 40);
    let text = format!("{}", term.backend());
    assert!(text.contains("read-write web link"), "{text}");
    assert!(
        text.contains(WEB_RW),
        "the whole link under the code: {text}"
    );
    insta::assert_snapshot!(term.backend());
}
