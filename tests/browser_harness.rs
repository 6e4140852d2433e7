//! The headless-Chromium harness tested on its own, on `data:` pages, so that a failing web
//! test means the page or the relay, not the harness: it reads elements and rows, sees console
//! errors, types keys and chords, pastes and saves screenshots.

mod common;

use common::browser::browser_or_skip;
use fantoccini::key::Key;
use std::time::Duration;

/// The longest wait here: the page is local, so anything slower is a broken harness.
const WAIT: Duration = Duration::from_secs(10);

/// A page with two styled rows, a textarea that logs its keys, and a paste handler.
const PAGE: &str = r#"<!doctype html><meta charset=utf-8>
<div id=status>status line</div>
<div class=row data-y=1><span data-fg=2 data-a=1>red</span><span> x</span></div>
<div class=row data-y=0><span data-fg=16777216 data-u=3 data-ul=4>ab</span>&#x6f22;</div>
<textarea id=input></textarea>
<pre id=keys></pre>
<script>
const log = document.getElementById('keys');
const input = document.getElementById('input');
input.addEventListener('keydown', e => {
  log.textContent += (e.ctrlKey ? 'C-' : '') + (e.altKey ? 'M-' : '') + e.key + ' ';
});
document.addEventListener('paste', e => {
  log.textContent += 'paste:' + e.clipboardData.getData('text/plain') + ' ';
  e.preventDefault();
});
</script>"#;

fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[test]
fn the_harness_reads_types_pastes_logs_and_screenshots() {
    let Some(b) = browser_or_skip("harness", 800, 600) else {
        return;
    };
    b.open(&data_url(PAGE));
    b.wait_js(
        "the page's script ran",
        "document.getElementById('keys') !== null",
        WAIT,
    );

    assert_eq!(b.element_text("status"), "status line");
    let rows = b.rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Sorted by data-y, not by document order.
    assert_eq!(
        (rows[0].y, rows[0].text()),
        (0, "ab".to_string()),
        "{rows:?}"
    );
    assert_eq!((rows[1].y, rows[1].text()), (1, "red x".to_string()));
    let a = &rows[0].chars[0];
    assert_eq!((a.fg, a.u, a.ul, a.a), (16777216, 3, 4, 0));
    assert_eq!((rows[1].chars[0].fg, rows[1].chars[0].a), (2, 1));
    // Text outside spans is not a cell.
    assert_eq!(rows[0].chars.len(), 2);

    b.type_keys(&format!("hi{}", Key::Enter));
    b.chord(&[Key::Control.into(), 'c']);
    b.chord(&[Key::Alt.into(), 'x']);
    assert!(b.paste("pasted text"), "the page handled the paste");
    b.wait_js(
        "the keys, chords and paste in the log",
        "document.getElementById('keys').textContent === 'h i Enter C-Control C-c M-Alt M-x paste:pasted text '",
        WAIT,
    );
    // Chromium on Linux lets Alt+x insert its x; the page prevents that default itself.
    let value = b.eval("return document.getElementById('input').value;");
    assert!(
        value.as_str().is_some_and(|v| v.starts_with("hi\n")),
        "typed into the textarea: {value}"
    );
    assert!(b.console_errors().is_empty(), "no errors yet");

    b.eval("console.error('harness-boom'); console.log('harness-fine'); return null;");
    b.wait("the console error to be read", WAIT, || {
        b.console_errors()
            .iter()
            .any(|e| e.message.contains("harness-boom"))
    });
    let errors = b.console_errors();
    assert_eq!(errors.len(), 1, "only the error is an error: {errors:?}");
    assert!(
        b.console()
            .iter()
            .any(|e| e.message.contains("harness-fine")),
        "info entries are kept too"
    );
    // A thrown exception is an error as well.
    b.eval("setTimeout(() => { throw new Error('harness-thrown'); }, 0); return null;");
    b.wait("the uncaught exception to be read", WAIT, || {
        b.console_errors()
            .iter()
            .any(|e| e.message.contains("harness-thrown"))
    });

    let path = b.screenshot("harness");
    let png = std::fs::read(&path).expect("the screenshot file");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG at {}",
        path.display()
    );
    assert!(png.len() > 1000, "{} bytes", png.len());
}

#[test]
fn a_failed_wait_names_the_condition_and_shows_the_console() {
    let Some(b) = browser_or_skip("harness-fail", 400, 300) else {
        return;
    };
    b.open(&data_url(
        "<div class=row data-y=0><span>shown</span></div><script>console.error('why-it-failed')</script>",
    ));
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.wait_js(
            "a thing that never happens",
            "false",
            Duration::from_millis(200),
        );
    }))
    .expect_err("the wait fails");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    for part in ["a thing that never happens", "shown", "why-it-failed"] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
}
