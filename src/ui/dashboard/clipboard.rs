//! Copying links: the system clipboard where there is one, else OSC 52 to the terminal.
//!
//! Inside tmux, over ssh, or without a display, the system clipboard is out of reach or is
//! the wrong machine's, so the terminal is asked to copy instead (OSC 52): tmux with
//! `set-clipboard on` and most terminal emulators honour it.

use crossterm::clipboard::CopyToClipboard;
use std::io::Write;
use std::time::Duration;

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
                    return Ok("copied to the system clipboard".into());
                }
                Err(e) => {
                    return osc52(text, term)
                        .map(|()| format!("{SENT} (no system clipboard: {e}); {UNSURE}"));
                }
            }
        }
        osc52(text, term)?;
        match tmux_set_clipboard() {
            Some(v) if v == "on" => Ok(format!("{SENT} through tmux (set-clipboard on); {UNSURE}")),
            Some(v) if v == "off" || v == "external" => Err(format!(
                "{SENT}, but tmux's set-clipboard is {v}, so tmux drops it and nothing was \
                 copied: run `tmux set -g set-clipboard on` (and put it in ~/.tmux.conf)"
            )),
            _ => Ok(format!("{SENT}; {UNSURE}")),
        }
    }
}

/// What an OSC 52 copy did, as far as cotty can know.
const SENT: &str = "sent to the terminal's clipboard (OSC 52)";
/// Whether the terminal honoured it cannot be known: it does not answer.
const UNSURE: &str = "if nothing was copied, see \"Copying links\" in the README";
/// How long `tmux show` may take before cotty stops asking.
const TMUX_WAIT: Duration = Duration::from_secs(1);

/// tmux's `set-clipboard` option when cotty runs inside tmux (`TMUX` is set): `on` passes a
/// program's OSC 52 on, `external` and `off` drop it. `None` outside tmux, or when tmux does
/// not answer within [`TMUX_WAIT`].
fn tmux_set_clipboard() -> Option<String> {
    std::env::var_os("TMUX").filter(|v| !v.is_empty())?;
    let show = ["tmux", "show", "-gv", "set-clipboard"].map(String::from);
    let (_, out) = crate::host::tmux::run_bounded(&show, TMUX_WAIT).ok()?;
    Some(out.trim().to_string())
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
