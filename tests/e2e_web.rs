//! End to end: the relay's web view in headless Chromium, as a guest with only a browser uses
//! it. The page shows the host's screen cell for cell, its keys and pastes reach the shared
//! program as the bytes a terminal would send, a read-only page changes nothing, a dropped
//! socket comes back by itself, and no token ever appears in an HTTP request line.
//!
//! The page is read through its DOM contract: `<div class="row" data-y>` rows of `<span>`s
//! with `data-fg`, `data-bg`, `data-ul`, `data-u` and `data-a` style integers (the wire forms
//! of `core::term::style`), `window.cotty.state`, `#status`, `#bar` and the `#input` textarea.
//! Every test ends by saving a screenshot under `target/web-screenshots/` and failing on any
//! console error.

mod common;

use common::browser::{Browser, browser_or_skip};
use common::env::{TestEnv, WAIT, marker, token, wait_prompt, write_wide_file};
use common::guest::GuestOptions;
use common::mirror::assert_mirrors;
use common::page_mirror::{
    JOINED, assert_page_mirrors, escaped, finish, join, refused_socket, run, wait_file,
    wait_page_prompt,
};
use common::proc::Proc;
use common::proxy::Proxy;
use common::wait::wait_until;
use fantoccini::key::Key;
use std::time::{Duration, Instant};

/// The browser window of most tests, in pixels: larger than the ssh guests' 80x25.
const WIDTH: u32 = 1000;
/// The window's height.
const HEIGHT: u32 = 700;

/// A line of colours, underline kinds and colours, RGB, CJK and a combining accent, typed as
/// ASCII so that the typing itself cannot mangle it.
const FIXTURE: &str = r"printf '\033[1;31mred\033[0m \033[4:3;58:2::1:2:3mcurl\033[0m \033[38;2;10;20;30mrgb\033[0m \033[44;3;9mbg\033[0m \033[7;38;5;200minv\033[0m \xe6\xbc\xa2\xe5\xad\x97 e\xcc\x81\n'; echo end-$((3*4))";

/// The row of the host's screen whose text contains `needle`.
fn host_has(env: &TestEnv, needle: &str) -> bool {
    env.host_screen().text().contains(needle)
}

#[test]
fn the_page_runs_a_command_and_shows_the_hosts_cells() {
    let t0 = Instant::now();
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("rw", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);
    let st = b.state();
    assert_eq!(st["access"], "rw", "the rw link gives a rw page: {st}");

    run(&b, FIXTURE);
    b.wait_text("end-12", WAIT);
    run(&b, "echo hi-$((6*7))");
    b.wait_text("hi-42", WAIT);
    assert!(host_has(&env, "hi-42"), "the command ran on the host");
    assert_page_mirrors(&env, &b);
    finish(&b, "rw-page");
    println!("took {:?}", t0.elapsed());
}

/// What the page does in one step of the key test.
enum Act {
    /// Typed with WebDriver into `#input` (key codes such as `Key::Tab` included).
    Type(String),
    /// Keys held together through the Actions API.
    Chord(Vec<char>),
    /// A clipboard paste.
    Paste(&'static str),
}

#[test]
fn keys_and_pastes_from_the_page_arrive_as_terminal_bytes() {
    let t0 = Instant::now();
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("keys", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);

    // less asks for application cursor keys: Right must arrive as ESC O C to scroll sideways.
    let wide = env.path("wide.txt");
    write_wide_file(&wide);
    run(&b, &format!("LESS= less -RS {wide}"));
    b.wait_text("001 <00><01>", WAIT);
    b.type_keys(&Key::Right.to_string());
    let res = wait_until("less to scroll right on the host", WAIT, || {
        let text = env.host_screen().text();
        !text.contains("001 <00>") && text.contains("<20>")
    });
    if let Err(e) = res {
        panic!("{e}\n{}", b.describe());
    }
    b.wait("the page to show the scrolled file", WAIT, || {
        let text = b.text();
        !text.contains("001 <00>") && text.contains("<20>")
    });
    // Left scrolls back, Down moves one line on: ESC O D and ESC O B.
    b.type_keys(&Key::Left.to_string());
    b.wait_text("001 <00><01>", WAIT);
    b.type_keys(&Key::Down.to_string());
    b.wait("the page to scroll down a line", WAIT, || {
        b.try_rows().is_ok_and(|rows| {
            rows.first()
                .is_some_and(|r| r.text().starts_with("002 <00>"))
        })
    });
    b.type_keys("q");
    wait_page_prompt(&b);

    // Every byte the page sends lands in a file, as a raw terminal delivers it: dd with
    // one-byte blocks writes each at once, where head's stdio would hold them until it exits.
    let steps: Vec<(&str, Act, &[u8])> = vec![
        ("letters", Act::Type("ab".into()), b"ab"),
        (
            "Ctrl-C",
            Act::Chord(vec![Key::Control.into(), 'c']),
            b"\x03",
        ),
        ("Alt-x", Act::Chord(vec![Key::Alt.into(), 'x']), b"\x1bx"),
        ("Enter", Act::Type(Key::Return.to_string()), b"\r"),
        ("Tab", Act::Type(Key::Tab.to_string()), b"\t"),
        ("Backspace", Act::Type(Key::Backspace.to_string()), b"\x7f"),
        ("Up", Act::Type(Key::Up.to_string()), b"\x1b[A"),
        ("Left", Act::Type(Key::Left.to_string()), b"\x1b[D"),
        ("a paste", Act::Paste("pasted words"), b"pasted words"),
    ];
    let total: usize = steps.iter().map(|s| s.2.len()).sum();
    let file = env.path("keys.bin");
    run(
        &b,
        &format!(
            "stty raw -echo; echo go-$((40+2)); dd bs=1 count={total} of={file} status=none; stty sane; echo done-$((40+3))"
        ),
    );
    b.wait_text("go-42", WAIT);
    assert!(
        !env.host_screen().modes.bracketed_paste,
        "bash turned bracketed paste off before running the command"
    );
    let mut want = Vec::new();
    for (name, act, bytes) in steps {
        match act {
            Act::Type(keys) => b.type_keys(&keys),
            Act::Chord(keys) => b.chord(&keys),
            Act::Paste(text) => {
                b.paste(text);
            }
        }
        want.extend_from_slice(bytes);
        wait_file(
            &file,
            &want,
            &format!("{name} to arrive as {:?}", escaped(bytes)),
            &b,
        );
    }
    b.wait_text("done-43", WAIT);

    // With bracketed paste on, a paste arrives between its markers.
    let pasted = "in brackets";
    let wrapped = format!("\x1b[200~{pasted}\x1b[201~");
    let file = env.path("paste.bin");
    run(
        &b,
        &format!(
            "printf '\\033[?2004h'; stty raw -echo; echo go-$((40+4)); dd bs=1 count={} of={file} status=none; stty sane; printf '\\033[?2004l'; echo done-$((40+5))",
            wrapped.len()
        ),
    );
    b.wait_text("go-44", WAIT);
    let res = wait_until("bracketed paste on the host", WAIT, || {
        env.host_screen().modes.bracketed_paste
    });
    assert!(res.is_ok(), "the program's mode reached the host");
    b.paste(pasted);
    wait_file(&file, wrapped.as_bytes(), "the paste in brackets", &b);
    b.wait_text("done-45", WAIT);
    finish(&b, "keys");
    println!("took {:?}", t0.elapsed());
}

#[test]
fn a_read_only_page_cannot_type_paste_or_resize() {
    let t0 = Instant::now();
    let env = TestEnv::bash();
    let Some(rw) = browser_or_skip("rw", WIDTH, HEIGHT) else {
        return;
    };
    let ro = Browser::start("ro", WIDTH, HEIGHT);
    join(&rw, &env.web());
    join(&ro, &env.web_ro());
    wait_page_prompt(&rw);
    wait_page_prompt(&ro);
    assert_eq!(ro.state()["access"], "ro", "{}", ro.describe());
    // The pane takes the rw page's size; the ro page only shows it.
    let pane = |b: &Browser| {
        let st = b.state();
        (st["cols"].as_u64(), st["rows"].as_u64())
    };
    rw.wait("both pages to show the host's pane size", WAIT, || {
        let size = env.host_screen().size;
        let host = (Some(size.cols.into()), Some(size.rows.into()));
        pane(&rw) == host && pane(&ro) == host
    });
    let before = env.host_screen().size;

    // A smaller ro window would shrink the pane if the relay counted it.
    ro.resize(WIDTH / 2, HEIGHT / 2);
    ro.wait_js(
        "the ro window to shrink",
        &format!("window.innerWidth <= {}", WIDTH / 2),
        WAIT,
    );
    let m = marker("after-ro-resize");
    run(&rw, &format!("echo {m}-$((1+1))"));
    ro.wait_text(&format!("{m}-2"), WAIT);
    assert_eq!(
        env.host_screen().size,
        before,
        "the ro page's resize changed the host's pane"
    );
    // The same resize from the rw page does change it, so the check above can fail.
    rw.resize(WIDTH / 2, HEIGHT / 2);
    let res = wait_until("the rw page's resize to shrink the pane", WAIT, || {
        let s = env.host_screen().size;
        s.cols < before.cols && s.rows < before.rows
    });
    if let Err(e) = res {
        panic!("{e}: still {:?}\n{}", env.host_screen().size, rw.describe());
    }

    // Keys and pastes: only the rw page's bytes reach the program.
    let file = env.path("ro.bin");
    run(
        &rw,
        &format!("stty raw -echo; echo go-$((40+2)); cat > {file}"),
    );
    rw.wait_text("go-42", WAIT);
    ro.wait_text("go-42", WAIT);
    // The ro page may have no usable textarea; typing may fail, but must not send.
    let _ = ro.try_type(&format!("ro-typed{}", Key::Return));
    ro.chord(&[Key::Control.into(), 'c']);
    ro.paste("ro-pasted");
    let m = marker("rw");
    rw.type_keys(&m);
    wait_file(
        &file,
        m.as_bytes(),
        "only the rw page's marker in the file",
        &rw,
    );
    finish(&rw, "ro-test-rw-page");
    finish(&ro, "ro-page");
    println!("took {:?}", t0.elapsed());
}

#[test]
fn a_cut_socket_reconnects_and_shows_the_live_screen() {
    let t0 = Instant::now();
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("reconnect", WIDTH, HEIGHT) else {
        return;
    };
    let proxy = Proxy::start(format!("127.0.0.1:{}", env.port).parse().expect("addr"));
    let url = env.web().replacen(
        &format!(":{}/", env.port),
        &format!(":{}/", proxy.addr().port()),
        1,
    );
    assert!(url.contains(&proxy.addr().port().to_string()), "{url}");
    join(&b, &url);
    wait_page_prompt(&b);
    let accepted = proxy.connections_accepted();

    // Refused reconnects keep the page disconnected until the bar has been seen.
    proxy.set_refuse(true);
    proxy.cut();
    b.wait_js(
        "#bar to say the page is reconnecting",
        "/reconnect/i.test(document.getElementById('bar').innerText)",
        WAIT,
    );
    let m = marker("after-cut");
    env.host_type(&format!("echo {m}-$((6*7))\r"));
    let res = wait_until("the output on the host", WAIT, || {
        host_has(&env, &format!("{m}-42"))
    });
    assert!(res.is_ok(), "the host runs the command");
    proxy.set_refuse(false);
    b.wait_text(&format!("{m}-42"), Duration::from_secs(30));
    b.wait_js(
        "the bar to go once the page is back",
        &format!("{JOINED} && !/reconnect/i.test(document.getElementById('bar').innerText)"),
        WAIT,
    );
    assert!(
        proxy.connections_accepted() > accepted,
        "the page made a new connection"
    );
    // Keys work on the new socket.
    run(&b, "echo again-$((1+2))");
    b.wait_text("again-3", WAIT);
    assert_page_mirrors(&env, &b);
    b.screenshot("reconnected");
    let port = proxy.addr().port();
    let (refused, errors): (Vec<_>, Vec<_>) = b
        .console_errors()
        .into_iter()
        .partition(|e| refused_socket(&e.message, port));
    println!("{} refused reconnects logged by Chromium", refused.len());
    assert!(
        errors.is_empty(),
        "console errors besides the refused sockets: {errors:?}"
    );
    println!("took {:?}", t0.elapsed());
}

#[test]
fn two_pages_and_an_ssh_guest_see_the_same_screen() {
    let t0 = Instant::now();
    let env = TestEnv::bash();
    let Some(b1) = browser_or_skip("first", WIDTH, HEIGHT) else {
        return;
    };
    let b2 = Browser::start("second", WIDTH, HEIGHT);
    let g = env.guest(&env.rw(), GuestOptions::default());
    wait_prompt(&g);
    join(&b1, &env.web());
    join(&b2, &env.web_ro());
    wait_page_prompt(&b1);
    wait_page_prompt(&b2);

    run(&b1, FIXTURE);
    g.wait_for_text("end-12", WAIT).expect("the guest sees it");
    g.type_str("echo from-ssh-$((5*5))\r");
    b1.wait_text("from-ssh-25", WAIT);
    b2.wait_text("from-ssh-25", WAIT);
    assert_mirrors(&env, &g);
    assert_page_mirrors(&env, &b1);
    assert_page_mirrors(&env, &b2);
    assert_eq!(b1.text(), b2.text(), "both pages show the same rows");
    finish(&b1, "two-pages-first");
    finish(&b2, "two-pages-second");
    println!("took {:?}", t0.elapsed());
}

/// The web link of the given kind from the headless host's printed lines.
fn printed_web_link(host: &Proc, read_only: bool) -> String {
    host.find_line("the host to print its web links", WAIT, |l| {
        l.split_whitespace()
            .find(|w| {
                w.starts_with("http://") && w.contains("/#") && w.contains("#ro-") == read_only
            })
            .map(String::from)
    })
}

#[test]
fn no_http_request_line_carries_a_token() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("relay_key").display().to_string();
    // Its own log level, so a RUST_LOG of the caller cannot hide the request lines.
    let relay = Proc::spawn_env(
        env!("CARGO_BIN_EXE_cotty"),
        &[
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--public-host",
            "127.0.0.1",
            "--host-key",
            &key,
        ],
        &[("RUST_LOG", "info,russh=warn")],
    );
    let (port, _fp) = relay.relay_address(WAIT);
    let host = Proc::headless_host(port, dir.path());
    let rw_tok = token(&host.line("ssh session: ", &[]));
    let ro_tok = token(&host.line("ssh session read only: ", &[]));
    let rw_url = printed_web_link(&host, false);
    let ro_url = printed_web_link(&host, true);
    assert!(rw_url.ends_with(&format!("#{rw_tok}")), "{rw_url}");
    assert!(ro_url.ends_with(&format!("#{ro_tok}")), "{ro_url}");

    let Some(b) = browser_or_skip("tokens", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &rw_url);
    wait_page_prompt(&b);
    join(&b, &ro_url);
    wait_page_prompt(&b);
    b.screenshot("token-page");

    let log = || relay.err.lock().expect("relay log").clone();
    let res = wait_until("the relay to log GET / and GET /ws", WAIT, || {
        let log = log();
        log.contains("\"GET / HTTP/1.1\"") && log.contains("\"GET /ws HTTP/1.1\"")
    });
    if let Err(e) = res {
        panic!("{e}\n--- relay log ---\n{}", log());
    }
    let log = log();
    for l in log.lines().filter(|l| l.contains(" web ")) {
        println!("relay: {l}");
    }
    let leaks: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&rw_tok) || l.contains(&ro_tok[3..]))
        .collect();
    assert!(
        leaks.is_empty(),
        "the relay's log holds a token:\n{}",
        leaks.join("\n")
    );
    b.assert_no_console_errors();
    println!("took {:?}", t0.elapsed());
}

#[test]
fn a_click_reaches_a_program_that_asked_for_the_mouse() {
    let env = TestEnv::bash();
    let Some(b) = browser_or_skip("mouse", WIDTH, HEIGHT) else {
        return;
    };
    join(&b, &env.web());
    wait_page_prompt(&b);
    // The program asks for presses and releases in SGR form, then takes 18 raw bytes: one
    // click, press and release, at pane column 5, row 3 (1-based).
    let file = env.path("mouse.bin");
    run(
        &b,
        &format!(
            "printf '\\033[?1000h\\033[?1006h'; stty raw -echo; echo go-$((40+6)); dd bs=1 count=18 of={file} status=none; stty sane; printf '\\033[?1000l\\033[?1006l'; echo done-$((40+7))"
        ),
    );
    b.wait_text("go-46", WAIT);
    b.wait_js(
        "the program's mouse mode on the page",
        "window.cotty.state.modes.mouse === 'PressRelease'",
        WAIT,
    );
    b.click_cell(4, 2);
    wait_file(&file, b"\x1b[<0;5;3M\x1b[<0;5;3m", "the click", &b);
    b.wait_text("done-47", WAIT);
    // The program gave the mouse back: a click selects text again and sends nothing.
    b.wait_js(
        "the mouse back to the page",
        "window.cotty.state.modes.mouse === 'None'",
        WAIT,
    );
    b.click_cell(4, 2);
    let m = marker("after");
    run(&b, &format!("echo {m}"));
    wait_until("the marker on the host", WAIT, || host_has(&env, &m)).expect("marker");
    assert!(
        !env.host_screen().text().contains("[<0;"),
        "a click reached the shell:\n{}",
        env.host_screen().text()
    );
    finish(&b, "mouse");
}
