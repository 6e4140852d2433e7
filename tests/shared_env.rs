//! The shared program's environment: nothing of the host's own terminal session leaks in.

mod common;

use common::env::{WAIT, token, wait_prompt};
use common::guest::{GuestOptions, SshGuest};
use common::proc::Proc;
use std::collections::HashMap;

/// What a host started inside tmux (and screen) has in its environment.
const HOSTS_TERMINAL: &[(&str, &str)] = &[
    ("TMUX", "/tmp/tmux-1000/default,4242,0"),
    ("TMUX_PANE", "%3"),
    ("TERM_PROGRAM", "tmux"),
    ("TERM_PROGRAM_VERSION", "3.3a"),
    ("STY", "4242.pts-0.host"),
    ("TERM", "screen-256color"),
];

#[test]
fn the_shared_shell_does_not_see_the_hosts_tmux_and_knows_it_is_shared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("relay_key").display().to_string();
    let relay = Proc::relay(&key, &[], None);
    let (port, _) = relay.relay_address(WAIT);
    let known = dir.path().join("known_relays").display().to_string();
    let addr = format!("127.0.0.1:{port}");
    // The user's shell, as `cotty` starts it without a command.
    let host = Proc::cotty_env(
        &["-F", "--relay", &addr, "--known-relays", &known],
        HOSTS_TERMINAL,
    );
    let link = host.line("ssh session: ", &[]);
    let g = SshGuest::spawn(port, &token(&link), GuestOptions::default());
    wait_prompt(&g);
    let out = dir.path().join("env.txt");
    g.type_str(&format!("env > {}; echo env-$((6*7))\r", out.display()));
    g.wait_for_text("env-42", WAIT).expect("env ran");

    let text = std::fs::read_to_string(&out).expect("env's output");
    let env: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    for (name, _) in HOSTS_TERMINAL.iter().filter(|(n, _)| *n != "TERM") {
        assert!(
            !env.contains_key(name),
            "{name} reached the shared shell:\n{text}"
        );
    }
    assert_eq!(env.get("TERM"), Some(&"xterm-256color"), "{text}");
    assert_eq!(env.get("COLORTERM"), Some(&"truecolor"), "{text}");
    assert_eq!(env.get("COTTY"), Some(&"1"), "{text}");
    let user = std::env::var("USER").unwrap_or_else(|_| "host".into());
    let machine = gethostname::gethostname().into_string().expect("hostname");
    assert_eq!(
        env.get("COTTY_SESSION").copied(),
        Some(format!("{user}@{machine}").as_str()),
        "{text}"
    );
}
