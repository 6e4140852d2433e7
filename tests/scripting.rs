//! The README's scripting example, run as written in a real shell, and the dashboard refusing
//! a terminal it cannot have (a pipe, or a background job) with advice.

mod common;

use common::env::WAIT;
use common::proc::Proc;
use common::tmux::Tmux;
use common::wait::wait_until;

const NO_TERMINAL: &str = "cotty needs a terminal; use `cotty -F` for a headless host";

/// The shell lines of the README's "Scripting with -S" block, comments and all.
fn readme_script() -> Vec<String> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## Scripting with -S")
        .nth(1)
        .expect("the README has a scripting section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the scripting section has a code block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_dashboard_without_a_terminal_says_what_to_do() {
    // stdin is /dev/null and stdout a pipe, as under `cotty | less` or from a script.
    let mut p = Proc::cotty(&[]);
    assert_eq!(p.wait_exit_within(WAIT), Some(1), "exit status");
    // Its stderr is read by a thread of its own, which may still be at it.
    let said = || p.err.lock().expect("stderr").contains(NO_TERMINAL);
    let told = wait_until("the advice on stderr", WAIT, said);
    told.unwrap_or_else(|e| panic!("{e}: {}", p.err.lock().expect("stderr")));
}

#[test]
fn the_dashboard_started_with_an_ampersand_exits_with_advice_instead_of_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::start(dir.path(), 100, 30, "set -g status off\n");
    tmux.wait_for("a prompt", WAIT, |s| s.starts_with('$'));
    // An interactive bash puts the job in a process group of its own, as for any user.
    let cotty = env!("CARGO_BIN_EXE_cotty");
    tmux.type_str(&format!("{cotty} & wait $!; echo exit-$?\n"));
    // The command line shows `exit-$?`; the status is what follows once it ran.
    tmux.wait_for("cotty's exit", WAIT, |s| {
        s.contains("exit-0") || s.contains("exit-1")
    });
    let screen = tmux.capture();
    assert!(screen.contains("exit-1"), "{screen}");
    assert!(screen.contains("started in the background"), "{screen}");
    assert!(!screen.contains("Stopped"), "{screen}");
}

#[test]
fn the_readmes_scripting_example_runs_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::start(dir.path(), 200, 50, "set -g status off\n");
    tmux.wait_for("a prompt", WAIT, |s| s.starts_with('$'));
    let socket = dir.path().join("pair").display().to_string();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_cotty"));
    let bin_dir = bin.parent().expect("the binary's directory").display();
    // cotty on PATH, its built-in relay on loopback, the socket in the test's directory: the
    // lines themselves are the README's.
    tmux.type_str(&format!(
        "export PATH={bin_dir}:$PATH COTTY_LISTEN=127.0.0.1:0 COTTY_PUBLIC_HOST=127.0.0.1 \
         SHELL=/bin/sh; clear\n"
    ));
    tmux.wait_for("a clear screen", WAIT, |s| s.trim() == "$");
    let lines = readme_script();
    assert!(lines.len() >= 5, "{lines:?}");
    for (n, line) in lines.iter().enumerate() {
        let line = line.replace("/tmp/pair", &socket);
        // The line as it is (its comment included), then its exit status on a line of its own.
        tmux.type_str(&format!("{line}\n"));
        tmux.type_str(&format!("echo step-{n}-$?\n"));
        tmux.wait_for(&format!("line {n}: {line}"), WAIT, |s| {
            s.contains(&format!("step-{n}-0")) || s.contains(&format!("step-{n}-1"))
        });
    }
    let screen = tmux.capture();
    // What `echo step-N-$?` printed, not the command line that shows `step-N-$?`.
    let status = |n: usize| {
        let mark = format!("step-{n}-");
        screen
            .match_indices(&mark)
            .filter_map(|(i, _)| screen[i + mark.len()..].split_whitespace().next())
            .find(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
    };
    for (n, line) in lines.iter().enumerate() {
        // `kick 1` has no guest 1 to kick here; every other line must succeed.
        let expect = if line.contains(" kick ") { "1" } else { "0" };
        assert_eq!(
            status(n).as_deref(),
            Some(expect),
            "line {n}: {line}\n{screen}"
        );
    }
    assert!(
        screen.contains("ssh -p "),
        "display printed the link:\n{screen}"
    );
    assert!(!screen.contains("Stopped"), "{screen}");
}

#[test]
fn a_bad_theme_in_the_config_file_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmux = Tmux::start(dir.path(), 200, 30, "set -g status off\n");
    // Tmux::start makes dir/config the XDG config directory of the shell in its window.
    let file = dir.path().join("config").join("cotty").join("cotty.toml");
    std::fs::create_dir_all(file.parent().expect("dir")).expect("config dir");
    std::fs::write(&file, "theme = \"no-such-theme\"\n").expect("config");
    tmux.wait_for("a prompt", WAIT, |s| s.starts_with('$'));
    let cotty = env!("CARGO_BIN_EXE_cotty");
    tmux.type_str(&format!("{cotty}; echo exit-$?\n"));
    tmux.wait_for("cotty's exit", WAIT, |s| {
        s.contains("exit-0") || s.contains("exit-1")
    });
    let screen = tmux.capture().replace('\n', "");
    assert!(screen.contains("exit-1"), "{screen}");
    assert!(screen.contains("no-such-theme"), "{screen}");
    assert!(screen.contains(&file.display().to_string()), "{screen}");
}
