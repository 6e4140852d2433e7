//! The page's messages read and encoded as the program expects them.

use super::*;
use crate::core::term::{MouseEncoding, MouseMode};

fn key(json: &str) -> Vec<u8> {
    let msg = ClientMsg::parse(json).expect("a message");
    msg.to_input(&Modes::default(), Size::DEFAULT)
}

fn k(name: &str, code: &str, ctrl: bool, alt: bool, shift: bool) -> String {
    format!(
        r#"{{"type":"key","key":"{name}","code":"{code}","ctrl":{ctrl},"alt":{alt},"shift":{shift},"meta":false}}"#
    )
}

#[test]
fn keys_become_the_bytes_xterm_sends() {
    assert_eq!(key(&k("a", "KeyA", false, false, false)), b"a");
    assert_eq!(key(&k("A", "KeyA", false, false, true)), b"A");
    assert_eq!(key(&k("c", "KeyC", true, false, false)), b"\x03");
    assert_eq!(key(&k("x", "KeyX", false, true, false)), b"\x1bx");
    assert_eq!(key(&k("Enter", "Enter", false, false, false)), b"\r");
    assert_eq!(key(&k("Tab", "Tab", false, false, false)), b"\t");
    assert_eq!(key(&k("Tab", "Tab", false, false, true)), b"\x1b[Z");
    assert_eq!(
        key(&k("Backspace", "Backspace", false, false, false)),
        b"\x7f"
    );
    assert_eq!(key(&k("Escape", "Escape", false, false, false)), b"\x1b");
    assert_eq!(
        key(&k("ArrowUp", "ArrowUp", false, false, false)),
        b"\x1b[A"
    );
    assert_eq!(
        key(&k("ArrowRight", "ArrowRight", true, false, false)),
        b"\x1b[1;5C"
    );
    assert_eq!(key(&k("F5", "F5", false, false, false)), b"\x1b[15~");
    assert_eq!(key(&k("é", "Quote", false, false, false)), "é".as_bytes());
}

#[test]
fn alt_on_a_layout_that_changes_the_character_uses_the_key_itself() {
    // macOS: Option+x types "≈"; the program expects Alt-x.
    assert_eq!(key(&k("≈", "KeyX", false, true, false)), b"\x1bx");
    assert_eq!(key(&k("¡", "Digit1", false, true, false)), b"\x1b1");
}

#[test]
fn modifiers_alone_dead_keys_and_meta_chords_send_nothing() {
    for name in [
        "Shift",
        "Control",
        "Alt",
        "Meta",
        "CapsLock",
        "Dead",
        "Unidentified",
    ] {
        assert!(
            key(&k(name, name, false, false, false)).is_empty(),
            "{name}"
        );
    }
    let meta = r#"{"type":"key","key":"c","code":"KeyC","meta":true}"#;
    assert!(key(meta).is_empty());
}

#[test]
fn arrows_follow_application_cursor_mode() {
    let modes = Modes {
        app_cursor: true,
        ..Modes::default()
    };
    let msg = ClientMsg::parse(&k("ArrowRight", "ArrowRight", false, false, false)).expect("msg");
    assert_eq!(msg.to_input(&modes, Size::DEFAULT), b"\x1bOC");
}

#[test]
fn a_paste_is_bracketed_only_when_the_program_asked() {
    let msg = ClientMsg::parse(r#"{"type":"paste","text":"a\nb"}"#).expect("msg");
    assert_eq!(msg.to_input(&Modes::default(), Size::DEFAULT), b"a\rb");
    let modes = Modes {
        bracketed_paste: true,
        ..Modes::default()
    };
    assert_eq!(
        msg.to_input(&modes, Size::DEFAULT),
        b"\x1b[200~a\rb\x1b[201~"
    );
    // A paste cannot end the bracket early.
    let evil = ClientMsg::parse(r#"{"type":"paste","text":"x\u001b[201~rm"}"#).expect("msg");
    assert_eq!(
        evil.to_input(&modes, Size::DEFAULT),
        b"\x1b[200~xrm\x1b[201~"
    );
}

#[test]
fn the_mouse_reaches_the_program_only_when_it_asked() {
    let click = r#"{"type":"mouse","kind":"down","button":0,"col":4,"row":2}"#;
    let msg = ClientMsg::parse(click).expect("msg");
    assert!(msg.to_input(&Modes::default(), Size::DEFAULT).is_empty());
    let modes = Modes {
        mouse: MouseMode::PressRelease,
        mouse_encoding: MouseEncoding::Sgr,
        ..Modes::default()
    };
    assert_eq!(msg.to_input(&modes, Size::DEFAULT), b"\x1b[<0;5;3M");
    let outside = r#"{"type":"mouse","kind":"down","button":0,"col":80,"row":2}"#;
    let msg = ClientMsg::parse(outside).expect("msg");
    assert!(msg.to_input(&modes, Size::DEFAULT).is_empty());
}

#[test]
fn focus_is_reported_only_in_focus_mode() {
    let msg = ClientMsg::parse(r#"{"type":"focus","on":true}"#).expect("msg");
    assert!(msg.to_input(&Modes::default(), Size::DEFAULT).is_empty());
    let modes = Modes {
        focus_events: true,
        ..Modes::default()
    };
    assert_eq!(msg.to_input(&modes, Size::DEFAULT), b"\x1b[I");
}

#[test]
fn messages_that_are_not_ours_are_refused() {
    assert_eq!(ClientMsg::parse("not json"), None);
    assert_eq!(ClientMsg::parse(r#"{"type":"rm -rf"}"#), None);
    let join = ClientMsg::parse(r#"{"type":"join","token":"abc","cols":90,"rows":30}"#);
    assert_eq!(
        join,
        Some(ClientMsg::Join {
            token: "abc".into(),
            cols: 90,
            rows: 30,
            ticket: None,
        })
    );
    let back =
        ClientMsg::parse(r#"{"type":"join","token":"abc","cols":90,"rows":30,"ticket":"t"}"#);
    assert!(matches!(back, Some(ClientMsg::Join { ticket: Some(t), .. }) if t == "t"));
}
