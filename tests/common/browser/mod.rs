//! Headless Chromium driven through chromedriver (WebDriver), for the web view's tests: the
//! driver's and session's lifecycle, scripts and bounded waits in the page, its console log,
//! screenshots and failure descriptions. Reading the page's rows and typing into it are in
//! [`page`].
//!
//! Each [`Browser`] owns a chromedriver process on a free loopback port, a Chromium session
//! with a profile of its own, and a small tokio runtime that the synchronous test thread
//! blocks on, so a test can use it beside a [`super::env::TestEnv`]. Every wait is bounded, and
//! a failed wait says what the page showed and what its console said.
//!
//! Chromium's console log is read through chromedriver's `POST /session/{id}/se/log`, which
//! hands out each entry once, so the browser keeps every entry it has read.

mod page;

pub use page::{PageChar, PageRow};

use super::wait::wait_until;
use fantoccini::{Client, ClientBuilder};
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
