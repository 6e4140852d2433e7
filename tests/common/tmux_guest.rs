//! A stock `ssh` guest whose terminal is tmux: its keys, pastes and clicks go through tmux,
//! which encodes them in the modes cotty's renderer put the guest's terminal in, as a
//! person's terminal would.

use super::env::WAIT;
use super::guest::{GuestOptions, ssh_args};
use super::mirror::differences;
use super::term::replay;
use super::tmux::Tmux;
use super::wait::wait_until;
use cotty::core::term::ScreenState;
use cotty::core::types::Size;
use tempfile::TempDir;

/// tmux as the guest's terminal: no status line of its own, no wait after ESC, and OSC 52
/// taken into its paste buffers, as a terminal that lets programs set the clipboard.
const CONF: &str = "set -g status off\nset -g escape-time 0\nset -g set-clipboard on\n";

/// An ssh guest running in a private tmux server.
pub struct TmuxGuest {
    /// The tmux server; `ssh` is its only pane.
    pub tmux: Tmux,
    /// The guest's terminal size, status line included.
    pub size: Size,
    /// tmux's socket and config live here.
    _dir: TempDir,
}

impl TmuxGuest {
    /// Joins the relay on 127.0.0.1:`port` as `token` from a tmux pane of `cols`x`rows`.
    pub fn join(port: u16, token: &str, cols: u16, rows: u16) -> TmuxGuest {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = ssh_args(port, token, &GuestOptions::default());
        let mut command = vec!["env", "-u", "SSH_AUTH_SOCK", "ssh"];
        command.extend(args.iter().map(String::as_str));
        let tmux = Tmux::start_command(dir.path(), cols, rows, CONF, &command);
        TmuxGuest {
            tmux,
            size: Size::new(cols, rows),
            _dir: dir,
        }
    }

    /// What tmux shows, every cell with its style (`capture-pane -e`), and the cursor.
    pub fn screen(&self) -> ScreenState {
        let mut state = replay(&self.tmux.capture_styled(), self.size).export(None);
        let fields = self.tmux.format("#{cursor_x} #{cursor_y} #{cursor_flag}");
        let n: Vec<u16> = fields.split(' ').filter_map(|v| v.parse().ok()).collect();
        if let [x, y, shown] = n[..] {
            (state.cursor.col, state.cursor.row) = (x, y);
            state.cursor.visible = shown == 1;
        }
        state
    }

    /// Waits until `needle` shows on the guest's screen.
    pub fn wait_for_text(&self, needle: &str) {
        self.tmux
            .wait_for(&format!("{needle:?} on the guest"), WAIT, |s| {
                s.contains(needle)
            });
    }

    /// Waits until the guest shows the prompt (`$` at the start of a row).
    pub fn wait_prompt(&self) {
        self.tmux.wait_for("the prompt on the guest", WAIT, |s| {
            s.lines().any(|l| l.starts_with('$'))
        });
    }

    /// Types `text` and Enter.
    pub fn run(&self, text: &str) {
        self.tmux.type_str(text);
        self.tmux.keys(&["Enter"]);
    }

    /// Waits until the guest's pane area shows exactly `host()`'s cells and its cursor.
    pub fn assert_mirrors(&self, host: impl Fn() -> ScreenState) {
        let mut last = Vec::new();
        let ok = wait_until("the guest in tmux to mirror the host", WAIT, || {
            let (h, g) = (host(), self.screen());
            last = differences(&h, &g);
            let cursor = !h.cursor.visible
                || (g.cursor.visible
                    && (h.cursor.row, h.cursor.col) == (g.cursor.row, g.cursor.col));
            last.is_empty() && cursor
        });
        assert!(
            ok.is_ok(),
            "{} differing cells, first: {:?}\nthe guest shows:\n{}",
            last.len(),
            last.iter().take(5).collect::<Vec<_>>(),
            self.tmux.capture()
        );
    }
}
