//! Reading and driving the page in a [`Browser`]: its `.row`s from the DOM with each span's
//! style integers and drawn column, `window.cotty.state` and element texts, and typing, key
//! chords and pastes into it.

use super::Browser;
use fantoccini::Locator;
use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
};
use serde_json::{Value, json};

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

impl Browser {
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

    /// Clicks the left button in the middle of pane cell (`col`, `row`) of the page's grid,
    /// through the Actions API, as a person's mouse does.
    pub fn click_cell(&self, col: u16, row: u16) {
        let at = self.eval_args(CELL_CENTRE_JS, vec![json!(col), json!(row)]);
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            panic!(
                "no position for cell {col},{row}: {at}\n{}",
                self.describe()
            );
        };
        let seq = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x: x.round(),
                y: y.round(),
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        let c = self.client();
        let done = self
            .run("perform mouse actions", c.perform_actions(seq))
            .and_then(|()| self.run("release mouse actions", c.release_actions()));
        if let Err(e) = done {
            panic!("{e}\n{}", self.describe());
        }
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

/// Where the middle of pane cell (`arguments[0]`, `arguments[1]`) is in the viewport: the
/// grid's corner plus the page's own cell size (its `--cw` and `--chh` properties).
const CELL_CENTRE_JS: &str = "
const g = document.getElementById('grid').getBoundingClientRect();
const css = getComputedStyle(document.documentElement);
const cw = parseFloat(css.getPropertyValue('--cw'));
const ch = parseFloat(css.getPropertyValue('--chh'));
return [g.left + (arguments[0] + 0.5) * cw, g.top + (arguments[1] + 0.5) * ch];
";
