//! Tests: layering of file, environment and flags, and the wording of every error.

use super::*;
use clap::Parser;
use std::io::Write;

/// A fingerprint of the form `cotty relay` prints.
const FP: &str = "SHA256:4VoMw+1ImhdApM0RV1CrvwgEOAFKKxRWGPAzAEspvBw";

#[test]
fn a_relay_without_a_port_gets_2222() {
    let cases = [
        ("relay.example.org", "relay.example.org:2222"),
        ("relay.example.org:22", "relay.example.org:22"),
        ("192.0.2.1", "192.0.2.1:2222"),
        ("[2001:db8::1]", "[2001:db8::1]:2222"),
        ("2001:db8::1", "[2001:db8::1]:2222"),
        ("[2001:db8::1]:22", "[2001:db8::1]:22"),
    ];
    for (given, used) in cases {
        assert_eq!(relay_address(given).as_deref(), Some(used), "{given}");
    }
    for bad in [
        "",
        ":22",
        "r.example:",
        "r.example:ssh",
        "r.example:70000",
        "a:b:c",
    ] {
        assert_eq!(relay_address(bad), None, "{bad}");
    }
}

/// The command line `cotty ARGS…`.
pub(super) fn cli(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("cotty").chain(args.iter().copied())).expect("parses")
}

/// A config file holding `text`; the directory lives as long as the returned guard.
pub(super) fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cotty.toml");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    (dir, path)
}

/// Variables as the loader takes them.
pub(super) fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The error of loading `text` as the config file, with `vars` and `args`, as main prints it.
pub(super) fn error(text: &str, vars: &[(&str, &str)], args: &[&str]) -> (String, PathBuf) {
    let (_dir, path) = file(text);
    let err = load_from(Some(&path), true, &env(vars), &cli(args)).expect_err("invalid");
    (format!("{err:#}"), path)
}

#[test]
fn the_default_config_loads_to_the_defaults() {
    let (_dir, path) = file(DEFAULT_CONFIG);
    let s = load_from(Some(&path), true, &[], &cli(&[])).expect("loads");
    let expected = Settings {
        file: Some(path),
        ..Settings::default()
    };
    assert_eq!(s, expected);
}

#[test]
fn every_key_is_in_the_default_config() {
    // Destructuring without `..` stops compiling when a field is added, so this list (and
    // the check against KEYS) cannot fall behind the struct.
    let Settings {
        prefix: _,
        theme: _,
        shell: _,
        relay: _,
        relay_fingerprint: _,
        known_relays: _,
        identity: _,
        tmux_prefix: _,
        sidebar: _,
        sidebar_width: _,
        sidebar_side: _,
        window_size: _,
        listen: _,
        public_host: _,
        forge: _,
        named: _,
        authorized_keys: _,
        link_ttl: _,
        file: _,
        approve: _,
    } = Settings::default();
    let fields = [
        "prefix",
        "theme",
        "shell",
        "relay",
        "relay_fingerprint",
        "known_relays",
        "identity",
        "tmux_prefix",
        "sidebar",
        "sidebar_width",
        "sidebar_side",
        "window_size",
        "listen",
        "public_host",
        // `forge` holds four keys.
        "github",
        "gitlab",
        "codeberg",
        "forge_urls",
        // `named` holds three keys.
        "api_key",
        "name",
        "ro_name",
        "authorized_keys",
        "approve",
        "link_ttl",
    ];
    assert_eq!(KEYS, fields, "`file` is not a key; every other field is");
    for key in KEYS {
        let line = DEFAULT_CONFIG.lines().position(|l| {
            l.trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} = "))
        });
        let line = line.unwrap_or_else(|| panic!("{key} is missing from DEFAULT_CONFIG"));
        let above = DEFAULT_CONFIG.lines().nth(line - 1).expect("a line above");
        assert!(above.starts_with("# "), "{key} has no comment above it");
    }
}

#[test]
fn the_commented_examples_in_the_default_config_are_valid() {
    let uncommented: String = DEFAULT_CONFIG
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if KEYS.iter().any(|k| rest.starts_with(&format!("{k} = "))) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (_dir, path) = file(&uncommented);
    let s = load_from(Some(&path), true, &[], &cli(&[])).expect("loads");
    assert_eq!(s.relay.as_deref(), Some("relay.example.org:2222"));
    assert_eq!(s.listen.as_deref(), Some("0.0.0.0:2222"));
    assert!(s.shell.is_some() && s.relay_fingerprint.is_some());
    assert!(s.known_relays.is_some() && s.public_host.is_some() && s.identity.is_some());
    assert_eq!(s.forge.users.len(), 3, "{:?}", s.forge.users);
}

#[test]
fn flags_beat_the_environment_which_beats_the_file() {
    let (_dir, path) = file(
        "theme = \"from-file\"\nprefix = \"C-f\"\nsidebar_width = 40\n\
         sidebar_side = \"left\"\nshell = \"/bin/file-sh\"\n",
    );
    let vars = env(&[
        ("COTTY_THEME", "from-env"),
        ("COTTY_PREFIX", "C-e"),
        ("COTTY_SIDEBAR_WIDTH", "50"),
    ]);
    let args = cli(&["--theme", "from-flag", "--window-size", "host"]);
    let s = load_from(Some(&path), true, &vars, &args).expect("loads");
    assert_eq!(s.theme, "from-flag", "a flag beats the environment");
    assert_eq!(s.prefix, "C-e", "the environment beats the file");
    assert_eq!(s.sidebar_width, 50, "the environment beats the file");
    assert_eq!(s.sidebar_side, Side::Left, "the file beats the default");
    assert_eq!(s.shell.as_deref(), Some("/bin/file-sh"));
    assert_eq!(s.window_size, WindowSize::Host, "a flag beats the default");
    assert_eq!(s.relay, None, "nothing set it");
    assert_eq!(s.file.as_deref(), Some(path.as_path()));
}

#[test]
fn every_variable_and_flag_reaches_its_setting() {
    let vars = env(&[
        ("COTTY_SHELL", "/bin/zsh"),
        ("COTTY_RELAY", "r.example:22"),
        ("COTTY_RELAY_FINGERPRINT", FP),
        ("COTTY_KNOWN_RELAYS", "/tmp/kr"),
        ("COTTY_IDENTITY", "/tmp/id"),
        ("COTTY_SIDEBAR_SIDE", "left"),
        ("COTTY_SIDEBAR", "docked"),
        ("COTTY_WINDOW_SIZE", "host"),
        ("COTTY_LISTEN", "127.0.0.1:0"),
        ("COTTY_PUBLIC_HOST", "me.example"),
        ("COTTY_LINK_TTL", "1h 30m"),
    ]);
    let s = load_from(None, false, &vars, &cli(&[])).expect("loads");
    assert_eq!(s.link_ttl, Some(std::time::Duration::from_secs(5400)));
    assert_eq!(s.sidebar, SidebarMode::Docked);
    assert_eq!(s.shell.as_deref(), Some("/bin/zsh"));
    assert_eq!(s.relay.as_deref(), Some("r.example:22"));
    assert_eq!(s.relay_fingerprint.as_deref(), Some(FP));
    assert_eq!(s.known_relays, Some(PathBuf::from("/tmp/kr")));
    assert_eq!(s.identity, Some(PathBuf::from("/tmp/id")));
    assert_eq!(s.sidebar_side, Side::Left);
    assert_eq!(s.window_size, WindowSize::Host);
    assert_eq!(s.listen.as_deref(), Some("127.0.0.1:0"));
    assert_eq!(s.public_host.as_deref(), Some("me.example"));
    assert_eq!(s.file, None);

    let args = cli(&[
        "--prefix",
        "C-a",
        "--shell",
        "/bin/sh",
        "--relay",
        "f.example:1",
        "--relay-fingerprint",
        FP,
        "--known-relays",
        "/tmp/kr2",
        "--identity",
        "/tmp/id2",
        "--listen",
        "[::1]:2222",
        "--public-host",
        "flag.example",
    ]);
    let s = load_from(None, false, &vars, &args).expect("loads");
    assert_eq!(s.prefix, "C-a");
    assert_eq!(s.shell.as_deref(), Some("/bin/sh"));
    assert_eq!(s.relay.as_deref(), Some("f.example:1"));
    assert_eq!(s.relay_fingerprint.as_deref(), Some(FP));
    assert_eq!(s.known_relays, Some(PathBuf::from("/tmp/kr2")));
    assert_eq!(s.identity, Some(PathBuf::from("/tmp/id2")));
    assert_eq!(s.listen.as_deref(), Some("[::1]:2222"));
    assert_eq!(s.public_host.as_deref(), Some("flag.example"));
}

#[test]
fn a_bad_value_in_the_file_names_the_key_the_file_and_what_is_expected() {
    let (err, path) = error("sidebar_width = \"wide\"\n", &[], &[]);
    assert_eq!(
        err,
        format!(
            "invalid value for sidebar_width in {}: expected a number of columns 20-200, \
             got \"wide\"",
            path.display()
        )
    );
    let cases = [
        ("sidebar_width = 19", "sidebar_width", "20-200", "\"19\""),
        ("sidebar_width = 201", "sidebar_width", "20-200", "\"201\""),
        ("sidebar_width = -1", "sidebar_width", "20-200", "\"-1\""),
        (
            "sidebar_width = 38.5",
            "sidebar_width",
            "20-200",
            "\"38.5\"",
        ),
        (
            "sidebar = \"floating\"",
            "sidebar",
            "overlay, docked or auto",
            "\"floating\"",
        ),
        (
            "sidebar_side = \"top\"",
            "sidebar_side",
            "right or left",
            "\"top\"",
        ),
        (
            "window_size = \"big\"",
            "window_size",
            "smallest or host",
            "\"big\"",
        ),
        ("theme = \"\"", "theme", "high-contrast", "\"\""),
        ("prefix = \"\"", "prefix", "C-b", "\"\""),
        (
            "listen = \"nowhere\"",
            "listen",
            "0.0.0.0:2222",
            "\"nowhere\"",
        ),
        (
            "listen = \"localhost:22\"",
            "listen",
            "127.0.0.1:0",
            "\"localhost:22\"",
        ),
        ("relay = \"\"", "relay", "HOST:PORT", "\"\""),
        (
            "relay = \"r.example:ssh\"",
            "relay",
            "HOST:PORT",
            "\"r.example:ssh\"",
        ),
        ("relay = \":2222\"", "relay", "HOST:PORT", "\":2222\""),
        (
            "relay_fingerprint = \"4VoMw+1ImhdApM0RV1CrvwgEOAFKKxRWGPAzAEspvBw\"",
            "relay_fingerprint",
            "SHA256:",
            "\"4VoMw",
        ),
        (
            "relay_fingerprint = \"SHA256:abc\"",
            "relay_fingerprint",
            "43 base64",
            "\"SHA256:abc\"",
        ),
        ("[prefix]\nkey = 1", "prefix", "C-b", "key"),
    ];
    for (text, key, expected, got) in cases {
        let (err, path) = error(text, &[], &[]);
        let shown = path.display().to_string();
        assert!(
            err.starts_with(&format!("invalid value for {key} in {shown}: expected ")),
            "{text}: {err}"
        );
        assert!(err.contains(expected) && err.contains(got), "{text}: {err}");
    }
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable() {
    let (err, _) = error("", &[("COTTY_SIDEBAR_WIDTH", "wide")], &[]);
    assert_eq!(
        err,
        "invalid value for sidebar_width in the environment variable COTTY_SIDEBAR_WIDTH: \
         expected a number of columns 20-200, got \"wide\""
    );
    let (err, _) = error("", &[("COTTY_LISTEN", "2222")], &[]);
    assert!(
        err.contains("listen") && err.contains("COTTY_LISTEN"),
        "{err}"
    );
    // The file's good value is overridden; the error is about the variable, not the file.
    let (err, path) = error(
        "sidebar_side = \"left\"",
        &[("COTTY_SIDEBAR_SIDE", "top")],
        &[],
    );
    assert!(
        err.contains("COTTY_SIDEBAR_SIDE") && err.contains("\"top\""),
        "{err}"
    );
    assert!(!err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_bad_value_from_a_flag_names_the_flag() {
    let (err, _) = error("", &[], &["--window-size", "big"]);
    assert_eq!(
        err,
        "invalid value for window_size in the flag --window-size: expected smallest or host, \
         got \"big\""
    );
    let (err, _) = error("link_ttl = \"2h\"", &[], &["--link-ttl", "5"]);
    assert!(
        err.contains("link_ttl in the flag --link-ttl") && err.contains("20s, 10m or 2h"),
        "{err}"
    );
    let (err, _) = error("listen = \"0.0.0.0:1\"", &[], &["--listen", "bad"]);
    assert!(err.contains("--listen") && err.contains("\"bad\""), "{err}");
    // A fingerprint that is not one is refused before anything dials the relay.
    let (err, _) = error(
        "",
        &[],
        &["--relay-fingerprint", "4VoMw+1ImhdApM0RV1CrvwgEOA"],
    );
    assert!(
        err.contains("--relay-fingerprint") && err.contains("SHA256:"),
        "{err}"
    );
    let (err, _) = error("", &[], &["--theme", ""]);
    assert!(err.contains("--theme") && err.contains("theme"), "{err}");
}

#[test]
fn an_unknown_key_in_the_file_is_an_error_listing_the_keys() {
    let (err, path) = error("sidebar_widht = 40\ntheme = \"dark\"\n", &[], &[]);
    let shown = path.display().to_string();
    assert!(
        err.contains("\"sidebar_widht\"") && err.contains(&shown),
        "{err}"
    );
    for key in KEYS {
        assert!(err.contains(key), "{key} not listed: {err}");
    }
    // Keys are case-sensitive, as in the default file.
    let (err, _) = error("Theme = \"dark\"\n", &[], &[]);
    assert!(err.contains("unknown key \"Theme\""), "{err}");
    // A table is one unknown key, not a way around the check.
    let (err, _) = error("[panel]\nwidth = 40\n", &[], &[]);
    assert!(err.contains("unknown key \"panel\""), "{err}");
}

#[test]
fn a_toml_syntax_error_names_the_file() {
    let (err, path) = error("theme = \"dark\nprefix = \n", &[], &[]);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("line"), "the parser's position is kept: {err}");
}

#[test]
fn a_missing_file_is_an_error_only_when_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.toml");
    let err = load_from(Some(&missing), true, &[], &cli(&[])).expect_err("missing");
    let err = format!("{err:#}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(
        err.contains("--config") && err.contains("not found"),
        "{err}"
    );

    let s = load_from(Some(&missing), false, &[], &cli(&[])).expect("optional");
    assert_eq!(s, Settings::default(), "no file, so `file` stays unset");
}

#[test]
fn other_cotty_variables_are_ignored() {
    let vars = [
        ("COTTY_SOCKET", "/tmp/sock"),
        ("COTTY_CONFIG", "/tmp/elsewhere.toml"),
        ("COTTY_BENCH_WRAP", "1"),
        ("COTTY_SOMETHING_NEW", "[not toml"),
        ("COTTYTHEME", "x"),
        ("THEME", "x"),
    ];
    let (_dir, path) = file("theme = \"light\"\n");
    let s = load_from(Some(&path), true, &env(&vars), &cli(&[])).expect("loads");
    assert_eq!(s.theme, "light");
    let s = load_from(None, false, &env(&vars), &cli(&[])).expect("loads");
    assert_eq!(s, Settings::default());
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let (_dir, path) = file("theme = \"light\"\n");
    let vars = env(&[("COTTY_THEME", ""), ("COTTY_SIDEBAR_WIDTH", "")]);
    let s = load_from(Some(&path), true, &vars, &cli(&[])).expect("loads");
    assert_eq!(s.theme, "light");
    assert_eq!(s.sidebar_width, 38);
}

#[test]
fn approve_comes_from_the_file_the_environment_or_the_flag() {
    let load = |text: &str, vars: &[(&str, &str)], args: &[&str]| {
        let (_dir, path) = file(text);
        let s = load_from(Some(&path), true, &env(vars), &cli(args)).expect("loads");
        s.approve
    };
    assert!(!load("", &[], &[]));
    assert!(load("approve = true\n", &[], &[]));
    assert!(load("", &[("COTTY_APPROVE", "true")], &[]));
    assert!(load("approve = false\n", &[], &["--approve"]));
    let (err, _) = error("approve = \"maybe\"\n", &[], &[]);
    assert!(
        err.contains("approve") && err.contains("true or false"),
        "{err}"
    );
}
