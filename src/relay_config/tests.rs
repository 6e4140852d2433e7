//! Tests of the relay's config file and flags.

use super::*;
use std::time::Duration;

/// A config file with `text`, kept alive by the returned directory.
fn file(text: &str) -> (tempfile::TempDir, ConfigFile) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relay.toml");
    std::fs::write(&path, text).expect("write");
    let f = ConfigFile::read(&path).expect("reads");
    (dir, f)
}

fn resolve_with(args: &RelayArgs, f: Option<&ConfigFile>) -> Result<RelaySettings> {
    resolve(args, f, Some(32768), || Ok("relay.test".into()))
}

#[test]
fn the_default_file_gives_the_defaults() {
    let (_dir, f) = file(DEFAULT_RELAY_CONFIG);
    let s = resolve_with(&RelayArgs::default(), Some(&f)).expect("resolves");
    let none = resolve_with(&RelayArgs::default(), None).expect("resolves");
    let want = Limits {
        connections: 16320,
        ..Limits::default()
    };
    assert_eq!(s.config.limits, want);
    assert_eq!(none.config.limits, want);
    assert_eq!(s.config.listen, DEFAULT_LISTEN.parse().expect("addr"));
    assert_eq!(s.config.public_host, "relay.test");
    assert_eq!(s.config.host_keys, None);
    assert_eq!(s.config.api_keys, None, "named sessions are off by default");
    assert_eq!(s.connections_from, "from the open-file limit 32768");
    // Every key is in the default file, set or commented out.
    for key in KEYS {
        assert!(DEFAULT_RELAY_CONFIG.contains(key), "{key} is not explained");
    }
}

#[test]
fn every_limit_is_read_from_the_file() {
    let (dir, f) = file(
        r#"
listen = "127.0.0.1:0"
public_host = "relay.example.org"
public_port = 22
host_key = "keys/relay"
host_keys = "/etc/cotty/hosts"
api_keys = "api_keys"
max_connections = 100
max_connections_per_ip = 3
max_new_connections_per_minute = 30
max_failed_lookups_per_minute = 5
login_grace = "1s"
max_sessions_per_ip = 2
max_guests = 7
max_rw_guests = 4
max_pane = "300x100"
idle_timeout = "2h"
resume_grace = "1h 30m"
guest_stall_timeout = "90s"
"#,
    );
    let s = resolve_with(&RelayArgs::default(), Some(&f)).expect("resolves");
    let c = &s.config;
    assert_eq!(c.listen, "127.0.0.1:0".parse().expect("addr"));
    assert_eq!(
        (c.public_host.as_str(), c.public_port),
        ("relay.example.org", Some(22))
    );
    assert_eq!(
        c.host_key,
        dir.path().join("keys/relay"),
        "relative to the file"
    );
    assert_eq!(c.host_keys, Some(PathBuf::from("/etc/cotty/hosts")));
    assert_eq!(c.api_keys, Some(dir.path().join("api_keys")));
    let l = c.limits;
    assert_eq!((l.connections, l.connections_per_ip), (100, 3));
    assert_eq!(
        (l.new_connections_per_minute, l.failed_lookups_per_minute),
        (30, 5)
    );
    assert_eq!(l.login_grace, Duration::from_secs(1));
    assert_eq!(
        (
            l.sessions_per_ip,
            l.guests_per_session,
            l.rw_guests_per_session
        ),
        (2, 7, 4)
    );
    assert_eq!(l.max_pane, Size::new(300, 100));
    assert_eq!(l.idle_timeout, Duration::from_secs(7200));
    assert_eq!(l.resume_grace, Duration::from_secs(5400));
    assert_eq!(l.guest_stall_timeout, Duration::from_secs(90));
    assert!(
        s.connections_from.starts_with("from max_connections in "),
        "{}",
        s.connections_from
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn flags_beat_the_file() {
    let (_dir, f) = file("max_guests = 7\nlogin_grace = \"1s\"\nmax_connections = 100\n");
    let args = RelayArgs {
        max_guests: Some(9),
        login_grace: Some(Duration::from_secs(5)),
        max_connections: Some(50),
        ..RelayArgs::default()
    };
    let s = resolve_with(&args, Some(&f)).expect("resolves");
    assert_eq!(s.config.limits.guests_per_session, 9);
    assert_eq!(s.config.limits.login_grace, Duration::from_secs(5));
    assert_eq!(s.config.limits.connections, 50);
    assert_eq!(s.connections_from, "from --max-connections");
}

#[test]
fn unknown_keys_are_an_error_that_lists_the_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relay.toml");
    std::fs::write(&path, "max_guest = 3\nlogin_grace = \"1s\"\n").expect("write");
    let err = ConfigFile::read(&path).expect_err("typo").to_string();
    assert!(
        err.contains("\"max_guest\"")
            && err.contains(&path.display().to_string())
            && err.contains("max_rw_guests, max_pane"),
        "{err}"
    );
}

#[test]
fn a_bad_value_names_the_key_the_file_and_the_form() {
    for (text, key, form) in [
        ("login_grace = 20\n", "login_grace", "20s, 10m or 2h"),
        (
            "resume_grace = \"ten minutes\"\n",
            "resume_grace",
            "20s, 10m or 2h",
        ),
        ("max_guests = 0\n", "max_guests", "at least 1"),
        ("max_pane = \"wide\"\n", "max_pane", "COLSxROWS"),
        ("listen = \"localhost\"\n", "listen", "0.0.0.0:2222"),
        (
            "public_url = \"relay.example.org\"\n",
            "public_url",
            "https://",
        ),
        ("public_url = \"https://r/x\"\n", "public_url", "no path"),
        ("web_listen = \"8080\"\n", "web_listen", "127.0.0.1:0"),
        ("trust_proxy = \"yes\"\n", "trust_proxy", "true or false"),
        ("api_keys = \"\"\n", "api_keys", "a file path"),
    ] {
        let (_dir, f) = file(text);
        let err = resolve_with(&RelayArgs::default(), Some(&f)).expect_err(text);
        let err = err.to_string();
        assert!(
            err.contains(key) && err.contains("relay.toml") && err.contains(form),
            "{text}: {err}"
        );
    }
}

#[test]
fn a_missing_file_is_named_with_what_to_do() {
    let err = ConfigFile::read(Path::new("/nonexistent/relay.toml")).expect_err("missing");
    let err = err.to_string();
    assert!(
        err.contains("/nonexistent/relay.toml") && err.contains("--print-default-config"),
        "{err}"
    );
}

#[test]
fn the_connection_cap_follows_the_open_file_limit() {
    let args = RelayArgs::default();
    let s = resolve(&args, None, Some(1024), || Ok("h".into())).expect("resolves");
    assert_eq!(s.config.limits.connections, 448);
    assert_eq!(s.connections_from, "from the open-file limit 1024");
    let s = resolve(&args, None, None, || Ok("h".into())).expect("resolves");
    assert_eq!(s.config.limits.connections, Limits::default().connections);
    // Asking for more than the descriptors allow is allowed, with a warning.
    let args = RelayArgs {
        max_connections: Some(5000),
        ..RelayArgs::default()
    };
    let s = resolve(&args, None, Some(1024), || Ok("h".into())).expect("resolves");
    assert_eq!(s.config.limits.connections, 5000);
    assert!(
        s.warnings.iter().any(|w| w.contains("ulimit -n")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn an_open_relay_beyond_loopback_is_pointed_at_host_keys() {
    let open = resolve_with(&RelayArgs::default(), None).expect("resolves");
    assert!(
        open.warnings.iter().any(|w| w.contains("--host-keys")),
        "{:?}",
        open.warnings
    );
    let local = RelayArgs {
        listen: Some("127.0.0.1:0".parse().expect("addr")),
        ..RelayArgs::default()
    };
    assert!(
        resolve_with(&local, None)
            .expect("resolves")
            .warnings
            .is_empty()
    );
    let listed = RelayArgs {
        host_keys: Some("hosts".into()),
        ..RelayArgs::default()
    };
    assert!(
        resolve_with(&listed, None)
            .expect("resolves")
            .warnings
            .is_empty()
    );
}

#[test]
fn the_web_is_read_from_the_file_and_flags_beat_it() {
    let (dir, f) = file(
        r#"
web_listen = "127.0.0.1:8080"
public_url = "https://relay.example.org/"
tls_cert = "tls/fullchain.pem"
tls_key = "/etc/tls/privkey.pem"
trust_proxy = true
"#,
    );
    let s = resolve_with(&RelayArgs::default(), Some(&f)).expect("resolves");
    let w = &s.config.web;
    assert_eq!(w.listen, Some("127.0.0.1:8080".parse().expect("addr")));
    assert_eq!(
        w.public_url.as_ref().map(PublicUrl::origin),
        Some("https://relay.example.org")
    );
    assert_eq!(
        w.tls,
        Some(TlsFiles {
            cert: dir.path().join("tls/fullchain.pem"),
            key: PathBuf::from("/etc/tls/privkey.pem"),
        }),
        "relative to the file"
    );
    assert!(w.trust_proxy);
    let args = RelayArgs {
        web_listen: Some("127.0.0.1:9090".parse().expect("addr")),
        public_url: Some(PublicUrl::parse("http://other:8000").expect("url")),
        tls_cert: Some("/flag/cert.pem".into()),
        ..RelayArgs::default()
    };
    let s = resolve_with(&args, Some(&f)).expect("resolves");
    let w = &s.config.web;
    assert_eq!(w.listen, Some("127.0.0.1:9090".parse().expect("addr")));
    assert_eq!(
        w.public_url.as_ref().map(PublicUrl::origin),
        Some("http://other:8000")
    );
    let tls = w.tls.as_ref().expect("tls");
    assert_eq!(tls.cert, PathBuf::from("/flag/cert.pem"));
    assert_eq!(
        tls.key,
        PathBuf::from("/etc/tls/privkey.pem"),
        "the file's key"
    );
    // The defaults: plain HTTP on the main port, linked by host and port.
    let none = resolve_with(&RelayArgs::default(), None).expect("resolves");
    let w = &none.config.web;
    assert!(w.tls.is_none() && w.listen.is_none() && w.public_url.is_none());
    assert!(!w.trust_proxy);
}

#[test]
fn a_certificate_without_its_key_names_the_other_flag() {
    let cert_only = RelayArgs {
        tls_cert: Some("c.pem".into()),
        ..RelayArgs::default()
    };
    let err = resolve_with(&cert_only, None)
        .expect_err("no key")
        .to_string();
    assert!(err.contains("c.pem") && err.contains("--tls-key"), "{err}");
    let (_dir, f) = file("tls_key = \"k.pem\"\n");
    let err = resolve_with(&RelayArgs::default(), Some(&f))
        .expect_err("no cert")
        .to_string();
    assert!(err.contains("k.pem") && err.contains("--tls-cert"), "{err}");
}
