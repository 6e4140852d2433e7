//! Tests of the command line: what parses, and what a mistake is told.

use super::*;
use clap::CommandFactory;

#[test]
fn the_cli_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn new_session_takes_the_rest_of_the_line() {
    let cli = Cli::try_parse_from([
        "cotty",
        "-F",
        "--relay",
        "h:1",
        "new-session",
        "sh",
        "-c",
        "echo -n hi",
    ])
    .expect("parses");
    assert!(cli.headless);
    match cli.command {
        Some(Command::NewSession { cmd, detached }) => {
            assert_eq!(cmd, ["sh", "-c", "echo -n hi"]);
            assert!(!detached);
        }
        other => panic!("got {other:?}"),
    }
    // tmate's `new-session -d`, with no program: the shell, detached; a -d after the
    // program is the program's.
    let cli = Cli::try_parse_from(["cotty", "new-session", "-d"]).expect("parses");
    assert!(
        matches!(&cli.command, Some(Command::NewSession { cmd, detached: true }) if cmd.is_empty()),
        "{cli:?}"
    );
    let cli = Cli::try_parse_from(["cotty", "new-session", "ls", "-d"]).expect("parses");
    assert!(
        matches!(&cli.command, Some(Command::NewSession { cmd, detached: false }) if cmd == &["ls", "-d"]),
        "{cli:?}"
    );
}

#[test]
fn a_bad_size_names_the_flag_and_the_form() {
    let err = Cli::try_parse_from(["cotty", "--size", "80"]).expect_err("bad size");
    let text = err.to_string();
    assert!(
        text.contains("--size") && text.contains("COLSxROWS"),
        "{text}"
    );
}

#[test]
fn a_bad_duration_flag_names_the_flag_and_the_form() {
    let err = Cli::try_parse_from(["cotty", "relay", "--login-grace", "20"]).expect_err("no unit");
    let text = err.to_string();
    assert!(
        text.contains("--login-grace") && text.contains("20s, 10m or 2h"),
        "{text}"
    );
    let cli = Cli::try_parse_from(["cotty", "relay", "--resume-grace", "1h 30m"]).expect("parses");
    match cli.command {
        Some(Command::Relay(args)) => {
            assert_eq!(args.resume_grace, Some(Duration::from_secs(5400)));
        }
        other => panic!("got {other:?}"),
    }
}

#[test]
fn the_web_flags_parse_and_a_bad_url_names_the_flag() {
    let line = "cotty relay --web-listen 127.0.0.1:8080 --public-url https://relay.example.org \
         --tls-cert c.pem --tls-key k.pem --trust-proxy";
    let cli = Cli::try_parse_from(line.split_whitespace()).expect("parses");
    match cli.command {
        Some(Command::Relay(a)) => {
            assert_eq!(a.web_listen, Some("127.0.0.1:8080".parse().expect("addr")));
            assert_eq!(
                a.public_url.as_ref().map(PublicUrl::origin),
                Some("https://relay.example.org")
            );
            assert_eq!(a.tls_cert, Some(PathBuf::from("c.pem")));
            assert_eq!(a.tls_key, Some(PathBuf::from("k.pem")));
            assert!(a.trust_proxy);
        }
        other => panic!("got {other:?}"),
    }
    let err = Cli::try_parse_from(["cotty", "relay", "--public-url", "https://r/path"])
        .expect_err("a path");
    let text = err.to_string();
    assert!(
        text.contains("--public-url") && text.contains("no path"),
        "{text}"
    );
}

#[test]
fn counts_must_be_at_least_one() {
    let err =
        Cli::try_parse_from(["cotty", "relay", "--max-connections-per-ip", "0"]).expect_err("zero");
    assert!(
        err.to_string().contains("--max-connections-per-ip"),
        "{err}"
    );
}
