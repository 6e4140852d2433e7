//! The dashboard's event loop: the terminal, input, the session, the relay and the socket.

use crate::control::server::ControlMsg;
use crate::core::session::{Notice, ScreenVisitor, SessionCmd, SessionHandle};
use crate::core::types::Size;
use crate::host::headless::{CONTROL_QUEUE, ENDED_BY_HOST, KICKED, apply_effect, open_control};
use crate::host::{Host, HostOptions};
use crate::ui::dashboard::app::{Action, App, PaneImage};
use crate::ui::dashboard::clipboard::Clipboard;
use crate::ui::dashboard::copy;
use crate::ui::dashboard::frames::{Frames, changed_cells};
use crate::ui::dashboard::view::{self, pane_image};
use crate::ui::guest_escape::decscusr;
use crate::ui::term_input::key_from_crossterm;
use anyhow::{Context, Result};
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableFocusChange, EnableMouseCapture, Event, EventStream,
};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the guest list is refreshed for idle times.
const GUEST_REFRESH: Duration = Duration::from_secs(1);

/// What is wrong with the terminal we were given, as a message that says what to do. Checked
/// before anything touches the terminal, so that `cotty` under a pipe, or started with `&`,
/// exits with advice instead of drawing into a pipe or being stopped by the shell ("Stopped
/// (tty output)") when it sets raw mode.
pub fn check_terminal() -> Result<(), String> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err("cotty needs a terminal; use `cotty -F` for a headless host".into());
    }
    if !in_foreground() {
        return Err(
            "cotty needs the terminal in the foreground, and it was started in the \
                    background (with `&`?); run it in the foreground, or use `cotty -F` for a \
                    headless host"
                .into(),
        );
    }
    Ok(())
}

/// Whether our process group is the terminal's foreground group. A background job that
/// sets raw mode is stopped with SIGTTOU.
fn in_foreground() -> bool {
    // SAFETY: both calls only read the process's and the terminal's process groups.
    let (terminal, ours) = unsafe { (libc::tcgetpgrp(libc::STDIN_FILENO), libc::getpgrp()) };
    // -1: the terminal is not our controlling terminal; let raw mode report what is wrong.
    terminal == -1 || terminal == ours
}

/// The terminal in raw mode on the alternate screen with mouse, paste and focus reporting;
/// restored
/// when dropped, and by a panic hook before a panic message is printed.
struct TerminalGuard {
    /// The terminal.
    term: DefaultTerminal,
}

fn restore_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange
    );
    // The terminal's own cursor shape, whatever the program chose.
    let _ = std::io::stdout().write_all(b"\x1b[0 q");
    ratatui::restore();
}

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard> {
        let term = ratatui::try_init().context("failed to set up the terminal")?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        crossterm::execute!(
            std::io::stdout(),
            EnableMouseCapture,
            EnableBracketedPaste,
            EnableFocusChange
        )
        .context("failed to turn on mouse, paste and focus reporting")?;
        Ok(TerminalGuard { term })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Draws the pane inside the session and brings the picture back.
async fn fetch_pane(
    session: &SessionHandle,
    size: Size,
    scroll: usize,
    unused: (String, ratatui::style::Style),
) -> Option<PaneImage> {
    visit(session, move |screen| {
        pane_image(screen, size, scroll, (&unused.0, unused.1))
    })
    .await
}

/// Runs `f` on the session's screen, in the session's task, and returns what it made.
async fn visit<T: Send + 'static>(
    session: &SessionHandle,
    f: impl FnOnce(&crate::core::term::Screen) -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    let visitor = ScreenVisitor(Box::new(move |screen: &crate::core::term::Screen| {
        let _ = tx.send(f(screen));
    }));
    session.send(SessionCmd::Visit(visitor)).await.ok()?;
    rx.await.ok()
}

fn pane_size(app: &App, area: Rect) -> Size {
    let p = view::areas(app, area).pane;
    Size::new(p.width, p.height).at_least_one()
}

/// Runs the dashboard until the user quits, the program exits, or `shutdown`.
pub async fn run(
    mut opts: HostOptions,
    mut app: App,
    socket: Option<PathBuf>,
    shutdown: CancellationToken,
) -> Result<()> {
    // The socket first: its errors print on a normal terminal.
    let control = open_control(socket.as_deref())?;
    let mut guard = TerminalGuard::enter()?;
    let size = guard
        .term
        .size()
        .context("failed to read the terminal size")?;
    let mut area = Rect::new(0, 0, size.width, size.height);
    app.set_width(area.width);
    opts.host_size = Some(pane_size(&app, area));
    let mut host = Host::start(opts).await?;
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<ControlMsg>(CONTROL_QUEUE);
    let stop = shutdown.child_token();
    app.host
        .log(format!("control socket: {}", control.path.display()));
    tokio::spawn(control.serve(ctl_tx, stop.clone()));

    let mut input = EventStream::new();
    let mut changes = host.session.changes();
    let mut clipboard = Clipboard::default();
    let mut refresh = tokio::time::interval(GUEST_REFRESH);
    let mut pane_dirty = true;
    let mut frames = Frames::new(Instant::now());
    let mut last_size = pane_size(&app, area);
    // The cursor look the host's terminal was put in, so DECSCUSR goes out only on a change.
    let mut shown_look = app.pane.cursor_look;
    let result: Result<()> = loop {
        // Drawn without a timer when it may go out now: a tokio sleep rounds up to the next
        // millisecond tick.
        let now = Instant::now();
        let mut due = frames.due(now);
        if due.is_some_and(|at| at <= now) {
            let mut cells = 0;
            let size = pane_size(&app, area);
            if size != last_size {
                last_size = size;
                let _ = host.session.send(SessionCmd::HostResize(Some(size))).await;
            }
            if pane_dirty
                || app.pane.scrolled != app.pane_scroll
                || app.pane.buffer.area.width != size.cols
                || app.pane.buffer.area.height != size.rows
            {
                let unused = (app.theme.unused_symbol.clone(), app.theme.unused);
                if let Some(img) = fetch_pane(&host.session, size, app.pane_scroll, unused).await {
                    cells = changed_cells(&app.pane.buffer, &img.buffer);
                    let grew = img.history.saturating_sub(app.pane.history);
                    app.pane_scroll = img.scrolled;
                    app.pane = img;
                    app.history_grew(grew);
                }
                pane_dirty = false;
            }
            app.clamp_selection();
            guard
                .term
                .draw(|f| {
                    f.render_widget(&app, f.area());
                    if let Some(p) = view::cursor(&app, f.area()) {
                        f.set_cursor_position(p);
                    }
                })
                .context("failed to draw")?;
            if app.pane.cursor_look != shown_look {
                shown_look = app.pane.cursor_look;
                let (shape, blinking) = shown_look;
                let backend = guard.term.backend_mut();
                write!(backend, "\x1b[{} q", decscusr(shape, blinking))
                    .and_then(|()| backend.flush())
                    .context("failed to set the cursor's shape")?;
            }
            frames.drawn(Instant::now(), cells);
            due = None;
        }
        let mut actions = Vec::new();
        let looks = app.looks();
        let mut input_came = false;
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) => {
                    if let Some(key) = key_from_crossterm(&k) {
                        input_came = true;
                        actions = app.on_key(key);
                    }
                }
                Some(Ok(Event::Mouse(m))) => {
                    input_came = true;
                    actions = app.on_mouse(m, area);
                }
                Some(Ok(Event::Paste(text))) => {
                    input_came = true;
                    actions = app.on_paste(text);
                }
                Some(Ok(Event::FocusGained)) => {
                    let _ = host.session.send(SessionCmd::HostFocus(true)).await;
                }
                Some(Ok(Event::FocusLost)) => {
                    let _ = host.session.send(SessionCmd::HostFocus(false)).await;
                }
                Some(Ok(Event::Resize(w, h))) => {
                    area = Rect::new(0, 0, w, h);
                    app.set_width(w);
                    pane_dirty = true;
                    frames.mark();
                }
                Some(Err(e)) => break Err(anyhow::anyhow!("failed to read the terminal: {e}")),
                None => break Ok(()),
            },
            r = changes.changed() => {
                if r.is_err() {
                    break Ok(());
                }
                pane_dirty = true;
                frames.mark();
            }
            n = host.notices.recv() => {
                let Some(n) = n else { break Ok(()) };
                app.host.on_notice(&n);
                app.note_asking(std::time::Instant::now());
                frames.mark();
                if matches!(n, Notice::Ended(_)) {
                    break Ok(());
                }
            }
            Some(ev) = host.events.recv() => {
                app.host.on_uplink(ev);
                frames.mark();
            }
            Some(msg) = ctl_rx.recv() => {
                frames.mark();
                if let Some(effect) = app.host.answer(msg.request, msg.reply)
                    && apply_effect(&host, effect).await
                {
                    break Ok(());
                }
            }
            _ = refresh.tick() => {
                if let Ok(rows) = host.session.guests().await {
                    app.host.set_guests(rows);
                    frames.mark();
                }
            }
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
            _ = shutdown.cancelled() => break Ok(()),
        }
        if input_came && app.input_changed_view(&looks, &actions) {
            frames.mark();
        }
        for action in actions {
            if act(&mut app, &host, &mut clipboard, action).await {
                stop.cancel();
                drop(guard);
                host.shutdown(ENDED_BY_HOST).await;
                return Ok(());
            }
        }
    };
    stop.cancel();
    drop(guard);
    host.shutdown(ENDED_BY_HOST).await;
    result
}

/// Copies `text` and says in the log how, or why not.
fn copy_and_log(app: &mut App, clipboard: &mut Clipboard, text: &str, what: &str) {
    match clipboard.copy(text, &mut std::io::stdout()) {
        Ok(how) => app.host.log(format!("{what}: {how}")),
        Err(e) => app.host.error(format!("{what}: {e}")),
    }
}

/// Carries out an action; returns true when the session must end.
async fn act(app: &mut App, host: &Host, clipboard: &mut Clipboard, action: Action) -> bool {
    let send = |cmd: SessionCmd| host.session.send(cmd);
    match action {
        Action::Key(k) => {
            let _ = send(SessionCmd::HostKey(k)).await;
        }
        Action::Paste(text) => {
            let _ = send(SessionCmd::HostPaste(text)).await;
        }
        Action::Mouse(m) => {
            let _ = send(SessionCmd::HostMouse(m)).await;
        }
        Action::Search { needle, before } => {
            let found = visit(&host.session, move |s| {
                copy::search_above(s, &needle, before)
            });
            if let Some(found) = found.await {
                app.copy_found(found);
            }
        }
        Action::CopyLines { from, to } => {
            let text = visit(&host.session, move |s| copy::lines_text(s, from, to));
            if let Some(text) = text.await {
                let what = format!("{} lines of the pane", to - from + 1);
                copy_and_log(app, clipboard, &text, &what);
            }
        }
        Action::Copy { text, what } => copy_and_log(app, clipboard, &text, &what),
        Action::SetAccess(guest, access) => {
            let _ = send(SessionCmd::SetAccess { guest, access }).await;
        }
        Action::Kick(guest) => {
            app.host.log(format!("kicked guest {guest}"));
            let _ = send(SessionCmd::Kick {
                guest,
                reason: KICKED.into(),
            })
            .await;
        }
        Action::Lock(on) => {
            let _ = send(SessionCmd::Lock(on)).await;
        }
        // The same path as `cotty link-off` / `link-on`: a refusal goes to the log.
        Action::SwitchLink(link, enabled) => {
            if let Some(effect) = app.host.switch_link(link, enabled, None) {
                apply_effect(host, effect).await;
            }
        }
        Action::Quit => return true,
        Action::Admit(guest, access) => {
            let _ = send(SessionCmd::Admit { guest, access }).await;
        }
        Action::Deny(guest) => {
            let _ = send(SessionCmd::Deny { guest }).await;
        }
    }
    false
}
