//! The dashboard's state: one owner, changed only by [`App`]'s methods and drawn as a whole.

use crate::config::{Settings, Side, SidebarMode};
use crate::core::keys::{InputModes, Key, MouseEvent};
use crate::core::term::CursorShape;
use crate::core::types::{Access, GuestId, LinkRef};
use crate::host::state::{HostState, LinkKind};
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

/// Terminals narrower than this hide the sidebar and show a hint instead.
pub const MIN_SIDEBAR_COLS: u16 = 60;

/// Which part of the dashboard gets the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The shell: every key but the prefix goes to it.
    Pane,
    /// The sidebar, on one of its sections.
    Sidebar(Section),
}

/// The sidebar's sections, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The links.
    Links,
    /// The guests.
    Guests,
    /// The log.
    Log,
}

impl Section {
    /// The next section (Tab).
    pub fn next(self) -> Section {
        match self {
            Section::Links => Section::Guests,
            Section::Guests => Section::Log,
            Section::Log => Section::Links,
        }
    }

    /// The previous section (Shift-Tab).
    pub fn prev(self) -> Section {
        match self {
            Section::Links => Section::Log,
            Section::Guests => Section::Links,
            Section::Log => Section::Guests,
        }
    }
}

/// A box drawn over everything, which takes the keys while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    /// The key list.
    Help,
    /// A link as a QR code: any of the listed ones, so a phone can be given the web link.
    Qr(LinkKind),
    /// "Kick this guest? y/n".
    ConfirmKick(GuestId),
    /// "End the session? y/n".
    ConfirmQuit,
}

/// What the event loop must do after an input event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a key to the program.
    Key(Key),
    /// Send a paste to the program.
    Paste(String),
    /// Send a mouse event to the program.
    Mouse(MouseEvent),
    /// Copy mode: find `needle` in the lines above `before`.
    Search {
        /// The text.
        needle: String,
        /// The line the search starts above.
        before: usize,
    },
    /// Copy mode: copy lines `from..=to` of the history and screen.
    CopyLines {
        /// The first line.
        from: usize,
        /// The last line.
        to: usize,
    },
    /// Put text on the clipboard; `what` names it in the log.
    Copy {
        /// The text.
        text: String,
        /// What it is, for the log.
        what: String,
    },
    /// Change a guest's access.
    SetAccess(GuestId, Access),
    /// Disconnect a guest.
    Kick(GuestId),
    /// Lock or unlock every guest's input.
    Lock(bool),
    /// Switch a link off or on, as `cotty link-off` / `link-on` do.
    SwitchLink(LinkRef, bool),
    /// End the session.
    Quit,
    /// Let a waiting guest in with this access.
    Admit(GuestId, Access),
    /// Turn a waiting guest away.
    Deny(GuestId),
}

/// The shared pane as last drawn by the session: cells, cursor and input modes.
#[derive(Debug, Clone, PartialEq)]
pub struct PaneImage {
    /// The pane's cells, at the origin.
    pub buffer: Buffer,
    /// Where the cursor is within it, if shown.
    pub cursor: Option<Position>,
    /// How input must be encoded, and whether the program wants the mouse.
    pub modes: InputModes,
    /// Rows scrolled back into history (0: the live screen).
    pub scrolled: usize,
    /// Lines of history above the screen.
    pub history: usize,
    /// The window title the program set (OSC 0/2), shown in the status bar.
    pub title: String,
    /// The cursor's shape and whether it blinks, as the program set them (DECSCUSR); the
    /// host's terminal is put in the same look.
    pub cursor_look: (CursorShape, bool),
}

impl Default for PaneImage {
    fn default() -> Self {
        PaneImage {
            buffer: Buffer::empty(Rect::default()),
            cursor: None,
            modes: InputModes::default(),
            scrolled: 0,
            history: 0,
            title: String::new(),
            cursor_look: (CursorShape::Block, false),
        }
    }
}

/// The dashboard's own state that shows on screen, taken before an input event and compared
/// after it: a key that changed none of it needs no frame of its own, since what the program
/// makes of it comes back as output and is drawn then.
#[derive(Debug, Clone, PartialEq)]
pub struct Looks {
    /// Who has the keys: the focus and its highlight.
    focus: Focus,
    /// The overlay, if one is open.
    overlay: Option<Overlay>,
    /// The prefix hint in the status bar.
    prefix_armed: bool,
    /// The pane's scrollback position: typing brings it back to the live screen.
    pane_scroll: usize,
    /// Whether the sidebar shows.
    sidebar_shown: bool,
    /// The highlighted link.
    link_selected: LinkKind,
    /// The highlighted guest.
    guest_selected: usize,
    /// How far the log is scrolled.
    log_scroll: usize,
    /// Copy mode's cursor, selection and search.
    copy: Option<crate::ui::dashboard::copy::CopyMode>,
}

/// The dashboard's state.
pub struct App {
    /// Links, guests, log, lock and uplink, shared with the control socket's answers.
    pub host: HostState,
    /// The colours.
    pub theme: Theme,
    /// The prefix key.
    pub prefix: Key,
    /// The prefix as written in the config, for hints.
    pub prefix_label: String,
    /// How the sidebar shares the terminal with the pane.
    pub sidebar_mode: SidebarMode,
    /// The sidebar's width.
    pub sidebar_width: u16,
    /// Which side the sidebar is on.
    pub sidebar_side: Side,
    /// Whether the user wants the sidebar (`C-b S`); narrow terminals hide it anyway.
    pub sidebar_shown: bool,
    /// The terminal is narrower than [`MIN_SIDEBAR_COLS`], so the sidebar cannot show.
    pub narrow: bool,
    /// Who gets the keys.
    pub focus: Focus,
    /// The selected link, which Enter, `d` and `Q` act on: ssh or web, read-write or
    /// read-only.
    pub link_selected: LinkKind,
    /// The selected guest's index.
    pub guest_selected: usize,
    /// Log lines scrolled back from the newest.
    pub log_scroll: usize,
    /// The open overlay, if any.
    pub overlay: Option<Overlay>,
    /// The prefix was pressed; the next key is a dashboard command.
    pub prefix_armed: bool,
    /// Rows the user scrolled the pane back with the wheel or in copy mode.
    pub pane_scroll: usize,
    /// Copy mode (`C-b [`), while it is on.
    pub copy: Option<crate::ui::dashboard::copy::CopyMode>,
    /// The pane as last drawn.
    pub pane: PaneImage,
    /// The waiting guest the prompt shows and since when, so keys typed before the host
    /// could read it do not answer it.
    pub asking_seen: Option<(GuestId, std::time::Instant)>,
}

impl App {
    /// A dashboard with `settings`, `theme` and the prefix already parsed.
    pub fn new(host: HostState, settings: &Settings, theme: Theme, prefix: Key) -> App {
        App {
            host,
            theme,
            prefix,
            prefix_label: settings.prefix.clone(),
            sidebar_mode: settings.sidebar,
            sidebar_width: settings.sidebar_width,
            sidebar_side: settings.sidebar_side,
            sidebar_shown: true,
            narrow: false,
            focus: Focus::Pane,
            link_selected: LinkKind::SSH_RW,
            guest_selected: 0,
            log_scroll: 0,
            overlay: None,
            prefix_armed: false,
            pane_scroll: 0,
            copy: None,
            pane: PaneImage::default(),
            asking_seen: None,
        }
    }

    /// The id of the selected guest, if there are guests.
    pub fn selected_guest(&self) -> Option<GuestId> {
        let i = self
            .guest_selected
            .min(self.host.guests.len().checked_sub(1)?);
        Some(self.host.guests[i].info.id)
    }

    /// Follows the terminal's width: a narrow terminal hides the sidebar and takes its focus.
    pub fn set_width(&mut self, cols: u16) {
        self.narrow = cols < MIN_SIDEBAR_COLS;
        if self.narrow {
            self.focus = Focus::Pane;
        }
    }

    /// What of the dashboard's own state is on screen; see [`Looks`].
    pub fn looks(&self) -> Looks {
        Looks {
            focus: self.focus,
            overlay: self.overlay.clone(),
            prefix_armed: self.prefix_armed,
            pane_scroll: self.pane_scroll,
            sidebar_shown: self.sidebar_shown,
            link_selected: self.link_selected,
            guest_selected: self.guest_selected,
            log_scroll: self.log_scroll,
            copy: self.copy.clone(),
        }
    }

    /// Whether an input event that turned `before` into the present state and asked for
    /// `actions` changed what the dashboard shows. Keys, pastes and mouse events handed to the
    /// program change nothing by themselves; anything else, and input that asked for nothing
    /// (a mouse move, a key that closed an overlay or wrote to the log), is drawn.
    pub fn input_changed_view(&self, before: &Looks, actions: &[Action]) -> bool {
        let to_program =
            |a: &Action| matches!(a, Action::Key(_) | Action::Paste(_) | Action::Mouse(_));
        actions.is_empty() || !actions.iter().all(to_program) || self.looks() != *before
    }

    /// Keeps the selections inside their lists after guests come and go, and after the relay
    /// hands out new links (which may no longer include web links).
    pub fn clamp_selection(&mut self) {
        if !self.host.shown_links().contains(&self.link_selected) {
            self.link_selected = LinkKind::SSH_RW;
        }
        let n = self.host.guests.len();
        if self.guest_selected >= n {
            self.guest_selected = n.saturating_sub(1);
        }
        self.log_scroll = self.log_scroll.min(self.host.log.len().saturating_sub(1));
    }
}
