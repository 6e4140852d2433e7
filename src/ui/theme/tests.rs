//! Tests: the built-in themes, user theme files, and the wording of theme errors.

use super::*;
use ratatui::style::Modifier;

/// Every style of `t` with its section name. Destructuring without `..` stops compiling when
/// a field is added, so the checks below cannot miss one.
fn styles(t: &Theme) -> Vec<(&'static str, Style)> {
    let Theme {
        name: _,
        unused_symbol: _,
        status,
        status_readonly,
        unused,
        bar,
        bar_alert,
        bar_key,
        sidebar,
        border,
        title,
        title_focused,
        selected,
        selected_unfocused,
        dim,
        disabled,
        access_rw,
        access_ro,
        overlay,
        overlay_title,
        log_error,
    } = t.clone();
    vec![
        ("status", status),
        ("status_readonly", status_readonly),
        ("unused", unused),
        ("bar", bar),
        ("bar_alert", bar_alert),
        ("bar_key", bar_key),
        ("sidebar", sidebar),
        ("border", border),
        ("title", title),
        ("title_focused", title_focused),
        ("selected", selected),
        ("selected_unfocused", selected_unfocused),
        ("dim", dim),
        ("disabled", disabled),
        ("access_rw", access_rw),
        ("access_ro", access_ro),
        ("overlay", overlay),
        ("overlay_title", overlay_title),
        ("log_error", log_error),
    ]
}

fn builtin_text(name: &str) -> &'static str {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .expect("a built-in theme")
}

/// A user theme directory holding `NAME.toml` files.
fn user_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(format!("{name}.toml")), text).expect("write");
    }
    dir
}

fn load_err(name: &str, dir: Option<&Path>) -> String {
    format!("{:#}", Theme::load(name, dir).expect_err("fails"))
}

#[test]
fn the_builtin_themes_parse_and_differ() {
    assert_eq!(builtin_names(), ["dark", "light", "high-contrast"]);
    let themes: Vec<Theme> = builtin_names()
        .into_iter()
        .map(|n| Theme::builtin(n).expect("parses"))
        .collect();
    for (i, a) in themes.iter().enumerate() {
        assert_eq!(a.name, builtin_names()[i]);
        for b in &themes[i + 1..] {
            let same: Vec<&str> = styles(a)
                .into_iter()
                .zip(styles(b))
                .filter(|((_, sa), (_, sb))| sa == sb)
                .map(|((name, _), _)| name)
                .collect();
            // A few shared styles are fine; a theme that is mostly a copy is not.
            assert!(same.len() < 4, "{} and {} share {same:?}", a.name, b.name);
        }
    }
}

#[test]
fn the_relay_keeps_its_default_theme() {
    let t = Theme::default_dark();
    assert_eq!(t.name, "dark");
    assert_ne!(t.status, t.status_readonly);
    assert_eq!(t.unused_symbol, "·");
}

#[test]
fn a_switched_off_link_is_crossed_out_in_every_builtin() {
    for name in builtin_names() {
        let t = Theme::builtin(name).expect("parses");
        assert!(
            t.disabled.add_modifier.contains(Modifier::CROSSED_OUT),
            "{name}"
        );
    }
}

#[test]
fn within_a_theme_the_states_that_must_be_told_apart_differ() {
    for name in builtin_names() {
        let t = Theme::builtin(name).expect("parses");
        assert_ne!(t.selected, t.selected_unfocused, "{name}: selection focus");
        assert_ne!(t.title, t.title_focused, "{name}: title focus");
        assert_ne!(t.access_rw, t.access_ro, "{name}: rw and ro");
        assert_ne!(t.bar, t.bar_alert, "{name}: bar alert");
        assert_ne!(t.bar, t.bar_key, "{name}: bar keys");
        assert_ne!(t.sidebar, t.disabled, "{name}: disabled links");
    }
}

#[test]
fn high_contrast_uses_only_black_white_and_bright_yellow() {
    let t = Theme::builtin("high-contrast").expect("parses");
    let allowed = [Color::Black, Color::White, Color::LightYellow];
    for (section, style) in styles(&t) {
        for colour in [style.fg, style.bg].into_iter().flatten() {
            assert!(allowed.contains(&colour), "[{section}] uses {colour:?}");
        }
        assert!(
            !style.add_modifier.contains(Modifier::DIM),
            "[{section}] is dim"
        );
    }
}

#[test]
fn every_section_of_every_builtin_file_is_commented() {
    for name in builtin_names() {
        let lines: Vec<&str> = builtin_text(name).lines().collect();
        assert!(lines[0].starts_with("# "), "{name} has no header comment");
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with('[') || line.starts_with("unused_symbol") {
                assert!(
                    lines[i - 1].starts_with("# "),
                    "{name}: {line} has no comment"
                );
            }
        }
    }
}

#[test]
fn a_user_file_overrides_the_builtin_of_that_name() {
    let dir = user_dir(&[
        ("dark", builtin_text("high-contrast")),
        ("mine", builtin_text("light")),
    ]);
    let t = Theme::load("dark", Some(dir.path())).expect("loads");
    assert_eq!(t.name, "dark");
    let hc = Theme::builtin("high-contrast").expect("parses");
    assert_eq!(styles(&t), styles(&hc), "the user's dark.toml wins");

    let t = Theme::load("mine", Some(dir.path())).expect("loads");
    assert_eq!(
        styles(&t),
        styles(&Theme::builtin("light").expect("parses"))
    );

    let t = Theme::load("light", Some(dir.path())).expect("falls back to the built-in");
    assert_eq!(t, Theme::builtin("light").expect("parses"));
    assert_eq!(
        Theme::load("dark", None).expect("loads"),
        Theme::default_dark()
    );
}

#[test]
fn a_bad_colour_in_a_user_file_names_the_file_and_the_key() {
    let text = builtin_text("dark").replace("[bar]\nfg = \"black\"", "[bar]\nfg = \"blak\"");
    let dir = user_dir(&[("mine", &text)]);
    let err = load_err("mine", Some(dir.path()));
    let path = dir.path().join("mine.toml").display().to_string();
    assert!(err.contains(&path), "{err}");
    assert!(err.contains("[bar], key fg"), "{err}");
    assert!(err.contains("\"blak\"") && err.contains("#rrggbb"), "{err}");
}

#[test]
fn a_user_file_with_a_missing_or_unknown_key_names_it() {
    let missing = builtin_text("dark").replace("[log_error]\nfg = \"light-red\"", "");
    assert_ne!(missing, builtin_text("dark"));
    let dir = user_dir(&[("mine", &missing)]);
    let err = load_err("mine", Some(dir.path()));
    assert!(
        err.contains("mine.toml") && err.contains("missing"),
        "{err}"
    );
    assert!(err.contains("\"log_error\""), "{err}");

    let misspelt = builtin_text("dark").replace("[log_error]", "[log_errors]");
    let dir = user_dir(&[("mine", &misspelt)]);
    let err = load_err("mine", Some(dir.path()));
    assert!(
        err.contains("mine.toml") && err.contains("`log_errors`"),
        "{err}"
    );

    let unknown = builtin_text("dark").replace("[dim]\n", "[dim]\nunderline = true\n");
    let dir = user_dir(&[("mine", &unknown)]);
    let err = load_err("mine", Some(dir.path()));
    assert!(
        err.contains("mine.toml") && err.contains("underline"),
        "{err}"
    );

    let wide = builtin_text("dark").replace("unused_symbol = \"·\"", "unused_symbol = \"..\"");
    let dir = user_dir(&[("mine", &wide)]);
    let err = load_err("mine", Some(dir.path()));
    assert!(
        err.contains("mine.toml") && err.contains("unused_symbol"),
        "{err}"
    );
}

#[test]
fn an_unknown_theme_lists_the_builtins_and_the_user_dir() {
    let dir = user_dir(&[]);
    let err = load_err("solarized", Some(dir.path()));
    for name in builtin_names() {
        assert!(err.contains(name), "{name} not listed: {err}");
    }
    assert!(err.contains("solarized.toml"), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    let err = load_err("solarized", None);
    assert!(
        err.contains("high-contrast") && err.contains("no user theme directory"),
        "{err}"
    );
    let err = format!("{:#}", Theme::builtin("nope").expect_err("unknown"));
    assert!(err.contains("dark") && err.contains("light"), "{err}");
}

#[test]
fn a_theme_name_cannot_be_a_path() {
    let dir = user_dir(&[]);
    for name in ["", "../dark", "sub/dark", ".hidden"] {
        let err = load_err(name, Some(dir.path()));
        assert!(err.contains("invalid theme name"), "{name:?}: {err}");
    }
}

#[test]
fn every_switch_sets_its_modifier() {
    let spec = StyleSpec {
        fg: Some("#102030".into()),
        bg: Some("236".into()),
        bold: true,
        reversed: true,
        dim: true,
        italic: true,
        crossed_out: true,
    };
    let s = style(&spec, "x").expect("valid");
    assert_eq!(s.fg, Some(Color::Rgb(0x10, 0x20, 0x30)));
    assert_eq!(s.bg, Some(Color::Indexed(236)));
    let all = Modifier::BOLD
        | Modifier::REVERSED
        | Modifier::DIM
        | Modifier::ITALIC
        | Modifier::CROSSED_OUT;
    assert_eq!(s.add_modifier, all);
}
