//! Copying links: the system clipboard where there is one, else OSC 52 to the terminal.
//!
//! Inside tmux, over ssh, or without a display, the system clipboard is out of reach or is
//! the wrong machine's, so the terminal is asked to copy instead (OSC 52): tmux with
//! `set-clipboard on` and most terminal emulators honour it.

use crossterm::clipboard::CopyToClipboard;
use std::io::Write;

/// Copies text; keeps the system clipboard open, since on X11 a copy lives only as long as
/// its owner.
#[derive(Default)]
pub struct Clipboard {
    /// The system clipboard, once opened.
    system: Option<arboard::Clipboard>,
}

/// Whether the terminal, not the system clipboard, should receive copies.
fn prefer_terminal() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    set("TMUX")
        || set("SSH_CONNECTION")
        || set("SSH_TTY")
        || !(set("DISPLAY") || set("WAYLAND_DISPLAY"))
}

impl Clipboard {
    /// Copies `text`; returns how, for the log.
    pub fn copy(&mut self, text: &str, term: &mut impl Write) -> Result<String, String> {
        if !prefer_terminal() {
            let system = match self.system.take() {
                Some(c) => Ok(c),
                None => arboard::Clipboard::new(),
            };
            match system.and_then(|mut c| c.set_text(text).map(|()| c)) {
                Ok(c) => {
                    self.system = Some(c);
                    return Ok("to the system clipboard".into());
                }
                Err(e) => {
                    return osc52(text, term).map(|()| {
                        format!("with OSC 52 to the terminal (no system clipboard: {e})")
                    });
                }
            }
        }
        osc52(text, term).map(|()| "with OSC 52 to the terminal's clipboard".into())
    }
}

/// Writes the OSC 52 sequence that asks the terminal to copy `text`.
pub fn osc52(text: &str, term: &mut impl Write) -> Result<(), String> {
    crossterm::execute!(term, CopyToClipboard::to_clipboard_from(text))
        .map_err(|e| format!("failed to write OSC 52 to the terminal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_in_base64() {
        let mut out = Vec::new();
        osc52("ssh -p 2222 tok@h", &mut out).expect("writes");
        let s = String::from_utf8(out).expect("ascii");
        // base64 of the text, in the clipboard selection.
        assert_eq!(s, "\x1b]52;c;c3NoIC1wIDIyMjIgdG9rQGg=\x1b\\");
    }
}
