//! Headless Chromium driven through chromedriver (WebDriver), for the web view's tests: open a
//! page, wait for what it shows, read its rows from the DOM, type and paste into it, collect
//! its console log and save screenshots.
//!
//! Each [`Browser`] owns a chromedriver process on a free loopback port, a Chromium session
//! with a profile of its own, and a small tokio runtime that the synchronous test thread
//! blocks on, so a test can use it beside a [`super::env::TestEnv`]. Every wait is bounded, and
//! a failed wait says what the page showed and what its console said.
//!
//! Chromium's console log is read through chromedriver's `POST /session/{id}/se/log`, which
//! hands out each entry once, so the browser keeps every entry it has read.

use super::wait::wait_until;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::runtime::Runtime;

/// Debian's Chromium (package `chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The longest one WebDriver command may take; a hung browser fails the test, not CI's clock.
const CMD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long chromedriver may take to answer `/status` after it starts.
const DRIVER_START: Duration = Duration::from_secs(15);

/// One entry of the browser's console log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// `SEVERE` (console.error, uncaught exceptions, CSP violations, failed loads), `WARNING`,
    /// `INFO` or `DEBUG`.
    pub level: String,
    /// The message, with chromedriver's source prefix (`console-api 12:7 "…"`).
    pub message: String,
}

/// One cell of a page row as the DOM shows it: a code point and its span's style integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageChar {
    /// The code point (a blank is a space).
    pub ch: char,
    /// `data-fg`: the text colour in the wire form (0 default, 1..=256 indexed + 1, RGB tagged).
    pub fg: u32,
    /// `data-bg`: the background colour.
    pub bg: u32,
    /// `data-ul`: the underline colour (0 follows the text).
    pub ul: u32,
    /// `data-u`: the underline kind, 0 none .. 5 dashed.
    pub u: u32,
    /// `data-a`: the attribute bits (1 bold, 2 dim, 4 italic, 8 inverse, 16 hidden, 32 strike).
    pub a: u32,
}

/// One `<div class="row" data-y="Y">` of the page.
#[derive(Debug, Clone)]
pub struct PageRow {
    /// `data-y`.
    pub y: u32,
    /// Its spans' characters in order, with the span's style on each.
    pub chars: Vec<PageChar>,
    /// Where each non-empty span is drawn: the index in `chars` of its first character, and
    /// its left edge in cells from the row's (pixels over the page's cell width).
    pub spans: Vec<(usize, f64)>,
}

impl PageRow {
    /// The row's text without trailing blanks.
    pub fn text(&self) -> String {
        let s: String = self.chars.iter().map(|c| c.ch).collect();
        s.trim_end().to_string()
    }
}

/// Why the browser tests cannot run here, or `None` when Chromium and chromedriver exist.
pub fn missing_browser() -> Option<String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    (!missing.is_empty()).then(|| format!("{} not found", missing.join(" and ")))
}

/// Starts a browser, or returns `None` after printing why the test is skipped.
///
/// Outside CI a missing Chromium skips the test; with `CI` set it fails it, since CI installs
/// the browser and a skipped test there would pass without testing anything.
pub fn browser_or_skip(name: &str, width: u32, height: u32) -> Option<Browser> {
    if let Some(why) = missing_browser() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{why}, and CI is set: the web view's tests must run in CI; install Debian's \
             chromium and chromium-driver (apt-get install chromium chromium-driver, as .ci/run \
             does)"
        );
        println!(
            "skipped: {why}; install Debian's chromium and chromium-driver to run the web view's \
             tests"
        );
        return None;
    }
    Some(Browser::start(name, width, height))
}

/// A headless Chromium with its own chromedriver and profile; dropping it ends both.
pub struct Browser {
    /// Names the browser in messages and its screenshots' files.
    pub name: String,
    /// Blocks the test thread on WebDriver calls; the session's task runs while we block.
    rt: Runtime,
    /// The WebDriver session; `None` once closed in `Drop`.
    client: Option<Client>,
    /// `http://127.0.0.1:PORT` of chromedriver, for the log endpoint fantoccini lacks.
    driver_url: String,
    /// The session's id, for the log endpoint.
    session: String,
    /// The chromedriver process, killed when dropped, after the session has ended.
    _driver: Driver,
    /// Plain HTTP to chromedriver.
    http: HttpClient<HttpConnector, String>,
    /// Every console entry read so far: the driver hands out each entry only once.
    log: Mutex<Vec<LogEntry>>,
    /// Chromium's profile, so parallel browsers share nothing.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session with a
    /// `width`x`height` window. Panics with the reason if either does not come up.
    pub fn start(name: &str, width: u32, height: u32) -> Browser {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("failed to build the browser's runtime");
        let http = HttpClient::builder(TokioExecutor::new()).build_http::<String>();
        let profile = tempfile::tempdir().expect("failed to make a Chromium profile directory");
        let (driver, driver_url) = start_driver(&rt, &http);

        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let mut builder = ClientBuilder::new(HttpConnector::new());
        let connect = builder.capabilities(caps).connect(&driver_url);
        let client = match rt.block_on(async { tokio::time::timeout(CMD_TIMEOUT, connect).await }) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => panic!("failed to start Chromium through chromedriver: {e}"),
            Err(_) => panic!("Chromium did not start within {CMD_TIMEOUT:?}"),
        };
        let session = rt
            .block_on(client.session_id())
            .expect("failed to read the WebDriver session id")
            .expect("a WebDriver session id");
        Browser {
            name: name.to_string(),
            rt,
            client: Some(client),
            driver_url,
            session,
            _driver: driver,
            http,
            log: Mutex::new(Vec::new()),
            _profile: profile,
        }
    }

    /// The session; present until `Drop`.
    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("invariant: the session lives until Drop")
    }

    /// Runs one WebDriver call to completion, bounded by [`CMD_TIMEOUT`].
    fn run<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        match self
            .rt
            .block_on(async { tokio::time::timeout(CMD_TIMEOUT, fut).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{}: failed to {what}: {e}", self.name)),
            Err(_) => Err(format!("{}: {what} took over {CMD_TIMEOUT:?}", self.name)),
        }
    }

    /// Like [`Browser::run`], panicking with the page's state on failure.
    fn must<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> T {
        self.run(what, fut)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.describe()))
    }

    /// Opens `url` and waits until it has loaded.
    pub fn open(&self, url: &str) {
        self.must(&format!("open {url}"), self.client().goto(url));
    }

    /// Runs `script` (a function body: `return …;`) in the page and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.must(
            &format!("run {script:?}"),
            self.client().execute(script, vec![]),
        )
    }

    /// Like [`Browser::eval`], with arguments (`arguments[0]` …), and errors returned.
    pub fn try_eval(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.run(
            &format!("run {script:?}"),
            self.client().execute(script, args),
        )
    }

    /// Waits until the JavaScript expression `cond` is truthy (errors count as false).
    /// Panics naming `what`, with the page's rows and console log, at the deadline.
    pub fn wait_js(&self, what: &str, cond: &str, timeout: Duration) {
        let script = format!("try {{ return !!({cond}); }} catch (e) {{ return false; }}");
        self.wait(what, timeout, || {
            matches!(self.try_eval(&script, vec![]), Ok(Value::Bool(true)))
        });
    }

    /// Waits until `f` holds; panics naming `what`, with the page's state, at the deadline.
    pub fn wait(&self, what: &str, timeout: Duration, f: impl FnMut() -> bool) {
        if let Err(e) = wait_until(what, timeout, f) {
            panic!("{}: {e}\n{}", self.name, self.describe());
        }
    }

    /// Waits until the page's rows contain `needle`.
    pub fn wait_text(&self, needle: &str, timeout: Duration) {
        self.wait(&format!("{needle:?} on the page"), timeout, || {
            self.text().contains(needle)
        });
    }

    /// The page's rows, ordered by `data-y`, from the DOM.
    pub fn rows(&self) -> Vec<PageRow> {
        self.try_rows().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The page's rows, or why they could not be read.
    pub fn try_rows(&self) -> Result<Vec<PageRow>, String> {
        let v = self.try_eval(ROWS_JS, vec![])?;
        let rows = v
            .as_array()
            .ok_or_else(|| format!("rows are not an array: {v}"))?;
        let mut out: Vec<PageRow> = rows.iter().map(page_row).collect();
        out.sort_by_key(|r| r.y);
        Ok(out)
    }

    /// The page's rows as text, one line each, trailing blanks dropped.
    pub fn text(&self) -> String {
        match self.try_rows() {
            Ok(rows) => rows
                .iter()
                .map(PageRow::text)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("<rows unreadable: {e}>"),
        }
    }

    /// `window.cotty.state`, or `null` when the page has none.
    pub fn state(&self) -> Value {
        self.try_eval(
            "return (window.cotty && window.cotty.state) ? JSON.parse(JSON.stringify(window.cotty.state)) : null;",
            vec![],
        )
        .unwrap_or(Value::Null)
    }

    /// The text of the element with this id, or an empty string when it is absent or hidden.
    pub fn element_text(&self, id: &str) -> String {
        self.try_eval(
            "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
            vec![json!(id)],
        )
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
    }

    /// Types `keys` into the page's `#input` textarea (WebDriver key codes such as
    /// `fantoccini::key::Key::Enter` may be mixed in), or into the page's body when there is no
    /// usable textarea, as on a read-only page. Returns the WebDriver error, if any.
    pub fn try_type(&self, keys: &str) -> Result<(), String> {
        let c = self.client();
        let target = match self.run("find #input", c.find(Locator::Id("input"))) {
            Ok(e) => e,
            Err(_) => self.run("find body", c.find(Locator::Css("body")))?,
        };
        match self.run(&format!("type {keys:?}"), target.send_keys(keys)) {
            Ok(()) => Ok(()),
            // A hidden or disabled textarea is not interactable: type where the focus is.
            Err(_) => {
                self.focus_input();
                self.press_keys(&keys.chars().collect::<Vec<_>>())
            }
        }
    }

    /// Types `keys` into the page's `#input`; panics if WebDriver refuses.
    pub fn type_keys(&self, keys: &str) {
        if let Err(e) = self.try_type(keys) {
            panic!("{e}\n{}", self.describe());
        }
    }

    /// Presses the keys together and releases them in reverse order through the Actions
    /// API, as a person holds Ctrl and presses C: `chord(&[Key::Control.into(), 'c'])`.
    pub fn chord(&self, keys: &[char]) {
        self.focus_input();
        if let Err(e) = self.press_keys_with(keys, true) {
            panic!("{e}\n{}", self.describe());
        }
    }

    /// Moves the focus to `#input`, where the page listens for keys, if the page has one.
    pub fn focus_input(&self) {
        let _ = self.try_eval(
            "const e = document.getElementById('input'); if (e) { e.focus(); } return null;",
            vec![],
        );
    }

    /// Presses and releases each key in turn through the Actions API, at the focused element.
    fn press_keys(&self, keys: &[char]) -> Result<(), String> {
        self.press_keys_with(keys, false)
    }

    /// Sends key actions: all down then all up (`together`), or each down and up in turn.
    fn press_keys_with(&self, keys: &[char], together: bool) -> Result<(), String> {
        let mut seq = KeyActions::new("keyboard".into());
        if together {
            for &k in keys {
                seq = seq.then(KeyAction::Down { value: k });
            }
            for &k in keys.iter().rev() {
                seq = seq.then(KeyAction::Up { value: k });
            }
        } else {
            for &k in keys {
                seq = seq
                    .then(KeyAction::Down { value: k })
                    .then(KeyAction::Up { value: k });
            }
        }
        let c = self.client();
        self.run("perform key actions", c.perform_actions(seq))?;
        self.run("release key actions", c.release_actions())
    }

    /// Pastes `text` as a browser does: a `paste` ClipboardEvent with the text in its
    /// DataTransfer, dispatched at `#input` (or the body) so that it bubbles to the document.
    /// Returns whether the page cancelled it (handled it itself).
    pub fn paste(&self, text: &str) -> bool {
        let v = self.eval_args(PASTE_JS, vec![json!(text)]);
        v.as_bool().unwrap_or(false)
    }

    /// Like [`Browser::eval`], with arguments.
    fn eval_args(&self, script: &str, args: Vec<Value>) -> Value {
        self.try_eval(script, args)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.describe()))
    }

    /// Sets the window's outer size in pixels.
    pub fn resize(&self, width: u32, height: u32) {
        self.must(
            &format!("resize the window to {width}x{height}"),
            self.client().set_window_size(width, height),
        );
    }

    /// Every console entry so far, reading new ones from chromedriver first.
    pub fn console(&self) -> Vec<LogEntry> {
        if let Err(e) = self.fetch_log() {
            // The log is part of every failure message; a failure to read it must show too.
            self.log_lock().push(LogEntry {
                level: "HARNESS".into(),
                message: e,
            });
        }
        self.log_lock().clone()
    }

    /// The console's errors so far: `SEVERE` entries, such as console.error, uncaught
    /// exceptions, CSP violations and failed requests.
    pub fn console_errors(&self) -> Vec<LogEntry> {
        self.console()
            .into_iter()
            .filter(|e| e.level == "SEVERE" || e.level == "HARNESS")
            .collect()
    }

    /// Fails the test if the console logged any error.
    pub fn assert_no_console_errors(&self) {
        let errors = self.console_errors();
        assert!(
            errors.is_empty(),
            "{}: the page logged {} console error(s):\n{}\n--- page ---\n{}",
            self.name,
            errors.len(),
            format_log(&errors),
            self.text()
        );
    }

    /// Saves a PNG of the window as `target/web-screenshots/NAME.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.must("take a screenshot", self.client().screenshot());
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("failed to create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png)
            .unwrap_or_else(|e| panic!("failed to write {}: {e}", path.display()));
        println!("screenshot: {}", path.display());
        path
    }

    /// What the page shows, for failure messages: its rows, status and bar, its state, and
    /// its console log. Never panics.
    pub fn describe(&self) -> String {
        format!(
            "--- {} page rows ---\n{}\n--- #status: {:?}\n--- #bar: {:?}\n--- cotty.state: {}\n\
             --- console ---\n{}\n---",
            self.name,
            self.text(),
            self.element_text("status"),
            self.element_text("bar"),
            self.state(),
            format_log(&self.console()),
        )
    }

    /// Reads the console entries chromedriver holds and appends them to `log`.
    fn fetch_log(&self) -> Result<(), String> {
        let url = format!("{}/session/{}/se/log", self.driver_url, self.session);
        let v = http_json(&self.rt, &self.http, &url, Some(r#"{"type":"browser"}"#))?;
        let entries = v["value"]
            .as_array()
            .ok_or_else(|| format!("unexpected answer from {url}: {v}"))?;
        let mut log = self.log_lock();
        for e in entries {
            log.push(LogEntry {
                level: e["level"].as_str().unwrap_or("?").to_string(),
                message: e["message"].as_str().unwrap_or("?").to_string(),
            });
        }
        Ok(())
    }

    /// The kept log; a panic elsewhere must not hide it, so a poisoned lock is still used.
    fn log_lock(&self) -> std::sync::MutexGuard<'_, Vec<LogEntry>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Browser {
    /// Ends the session, so Chromium quits; chromedriver is killed when the field drops.
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), c.close()).await });
        }
    }
}

/// A chromedriver process, killed and reaped when dropped, even by a panic while it starts.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free loopback port and waits until it answers `/status`.
/// Tries three ports, in case another process takes the free port first.
fn start_driver(rt: &Runtime, http: &HttpClient<HttpConnector, String>) -> (Driver, String) {
    let mut last = String::new();
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("failed to find a free loopback port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start {CHROMEDRIVER}: {e}"));
        let child = Driver(child);
        let url = format!("http://127.0.0.1:{port}");
        let ready = wait_until(
            "chromedriver to answer /status",
            DRIVER_START,
            || match http_json(rt, http, &format!("{url}/status"), None) {
                Ok(v) => v["value"]["ready"].as_bool() == Some(true),
                Err(e) => {
                    last = e;
                    false
                }
            },
        );
        if ready.is_ok() {
            return (child, url);
        }
    }
    panic!("chromedriver did not answer on any of three ports; last error: {last}");
}

/// A GET (no body) or POST (JSON body) to chromedriver, answered with JSON.
fn http_json(
    rt: &Runtime,
    http: &HttpClient<HttpConnector, String>,
    url: &str,
    body: Option<&str>,
) -> Result<Value, String> {
    let req = hyper::Request::builder()
        .method(if body.is_some() { "POST" } else { "GET" })
        .uri(url)
        .header("content-type", "application/json")
        .body(body.unwrap_or_default().to_string())
        .map_err(|e| format!("bad request to {url}: {e}"))?;
    let fut = async {
        let resp = http
            .request(req)
            .await
            .map_err(|e| format!("request to {url} failed: {e}"))?;
        let mut body = resp.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| {
            hyper::body::Body::poll_frame(std::pin::Pin::new(&mut body), cx)
        })
        .await
        {
            let frame = frame.map_err(|e| format!("reading {url} failed: {e}"))?;
            if let Some(data) = frame.data_ref() {
                bytes.extend_from_slice(data);
            }
        }
        serde_json::from_slice::<Value>(&bytes).map_err(|e| {
            format!(
                "{url} answered no JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), fut).await })
        .map_err(|_| format!("{url} did not answer within 10 s"))?
}

/// Where screenshots go: `target/web-screenshots`, beside the `tmp` directory cargo gives
/// integration tests, so it follows `CARGO_TARGET_DIR` and CI can keep it as an artifact.
pub fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("web-screenshots")
}

/// Console entries, one a line.
pub fn format_log(log: &[LogEntry]) -> String {
    if log.is_empty() {
        return "(empty)".into();
    }
    log.iter()
        .map(|e| format!("[{}] {}", e.level, e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A row as [`ROWS_JS`] returns it.
fn page_row(v: &Value) -> PageRow {
    let int = |s: &Value, k: &str| s[k].as_u64().unwrap_or(0) as u32;
    let mut chars = Vec::new();
    let mut spans = Vec::new();
    for span in v["spans"].as_array().into_iter().flatten() {
        let text = span["t"].as_str().unwrap_or_default();
        if !text.is_empty() {
            spans.push((chars.len(), span["x"].as_f64().unwrap_or(f64::NAN)));
        }
        for ch in text.chars() {
            chars.push(PageChar {
                // The page may keep blanks with no-break spaces.
                ch: if ch == '\u{a0}' { ' ' } else { ch },
                fg: int(span, "fg"),
                bg: int(span, "bg"),
                ul: int(span, "ul"),
                u: int(span, "u"),
                a: int(span, "a"),
            });
        }
    }
    PageRow {
        y: v["y"].as_u64().unwrap_or(u64::MAX) as u32,
        chars,
        spans,
    }
}

/// Reads every `.row` and its leaf spans with their `data-*` style integers and where each
/// span starts in cells; the cell's width is the page's `--cw`, or `#probe`'s tenth.
const ROWS_JS: &str = r#"
const num = (s, k) => { const v = s.getAttribute(k); return v === null ? 0 : Number(v); };
let cw = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--cw'));
const probe = document.getElementById('probe');
if (probe && probe.getBoundingClientRect().width > 0) cw = probe.getBoundingClientRect().width / 10;
return Array.from(document.querySelectorAll('.row')).map(r => {
  const left = r.getBoundingClientRect().left;
  return {
    y: Number(r.getAttribute('data-y')),
    spans: Array.from(r.querySelectorAll('span'))
      .filter(s => s.querySelector('span') === null)
      .map(s => ({ t: s.textContent, fg: num(s, 'data-fg'), bg: num(s, 'data-bg'),
                   ul: num(s, 'data-ul'), u: num(s, 'data-u'), a: num(s, 'data-a'),
                   x: cw > 0 ? (s.getBoundingClientRect().left - left) / cw : null })),
  };
});
"#;

/// Dispatches a paste event carrying `arguments[0]` as text/plain.
const PASTE_JS: &str = r#"
const dt = new DataTransfer();
dt.setData('text/plain', arguments[0]);
const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
const target = document.getElementById('input') || document.activeElement || document.body;
target.dispatchEvent(ev);
return ev.defaultPrevented;
"#;
