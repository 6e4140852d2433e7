//! The host session actor: it owns the pane, the guests and their permissions.
//!
//! Everything reaches it as a [`SessionCmd`] and it answers through queues it owns: output and
//! control messages for the uplink ([`Outbound`], bounded), and [`Notice`]s for the front end.
//!
//! The screen goes up as styled rows, pulled rather than pushed: output only marks the screen
//! changed, and when the uplink's queue has room and the [`Pacer`] allows (a small change at
//! once, bulk output about 60 times a second), the rows that differ from what the relay got
//! last are sent. The host never queues output and never falls behind: under a burst the relay
//! gets the screen as it is, a few dozen times a second.

use crate::core::keys::{Key, MouseEvent};
use crate::core::layout::SizePolicy;
use crate::core::pacer::Pacer;
use crate::core::pane::Pane;
use crate::core::pty::{CommandSpec, PtyEvent};
use crate::core::term::{RowsUpdate, Screen, ScreenState};
use crate::core::types::{Access, GuestId, GuestInfo, LinkRef, NewLink, PaneId, Size};
use anyhow::{Context, Result};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::sleep_until;

/// Commands a session queue holds before senders wait.
const CMD_QUEUE: usize = 256;
/// PTY output chunks waiting for the session before the reader thread waits.
const PTY_QUEUE: usize = 64;
/// The only pane until windows and splits arrive.
const FIRST_PANE: PaneId = 1;

/// How a session is set up.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// What to run.
    pub cmd: CommandSpec,
    /// How the shared size is chosen.
    pub policy: SizePolicy,
    /// Start the program again when it exits (the headless host does, like `tmate -F`).
    pub respawn: bool,
    /// The host's own terminal size; none for the headless host.
    pub host_size: Option<Size>,
}

/// What the session sends up to the relay, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// The panes and their sizes.
    Layout {
        /// Pane ids and sizes.
        panes: Vec<(PaneId, Size)>,
        /// The focused pane.
        focus: PaneId,
    },
    /// The rows of a pane's screen that changed since the last update (all of them on a new
    /// uplink or a new size), with its cursor, modes and title.
    Rows(RowsUpdate),
    /// A guest's access changed.
    SetAccess {
        /// The guest.
        guest: GuestId,
        /// The new access.
        access: Access,
    },
    /// A guest is thrown out.
    Kick {
        /// The guest.
        guest: GuestId,
        /// Shown to it.
        reason: String,
    },
    /// Input lock on or off.
    Lock(bool),
    /// A link switched off or on.
    SetLink {
        /// Which link: read-write or read-only.
        access: Access,
        /// Whether it lets new guests in.
        enabled: bool,
    },
    /// The session is over.
    End {
        /// Shown to guests.
        reason: String,
    },
    /// The guests' keys changed (`reload-keys`).
    GuestKeys(Vec<String>),
    /// A waiting guest is let in with this access.
    Admit {
        /// The guest.
        guest: GuestId,
        /// What it may do.
        access: Access,
    },
    /// A waiting guest is turned away.
    Deny {
        /// The guest.
        guest: GuestId,
    },
    /// Make an extra link.
    NewLink(NewLink),
    /// An extra link switched off or on.
    SetExtraLink {
        /// The link's number.
        n: u32,
        /// Whether it lets new guests in.
        enabled: bool,
    },
}

/// Commands into the session.
#[derive(Debug)]
pub enum SessionCmd {
    /// The relay reports a new guest.
    GuestJoined(GuestInfo),
    /// The relay reports a guest gone.
    GuestLeft(GuestId),
    /// A guest typed; checked against its access before it reaches the program.
    GuestInput {
        /// The guest.
        guest: GuestId,
        /// The pane.
        pane: PaneId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A guest's area changed size.
    GuestResize {
        /// The guest.
        guest: GuestId,
        /// Its new area.
        size: Size,
    },
    /// The host typed raw bytes.
    HostInput(Vec<u8>),
    /// The host pressed a key; encoded with the pane's current modes.
    HostKey(Key),
    /// The host pasted text; bracketed if the program asked for it.
    HostPaste(String),
    /// The host used the mouse over the pane; forwarded if the program asked for it.
    HostMouse(MouseEvent),
    /// The host's terminal gained (`true`) or lost focus; reported if the program asked.
    HostFocus(bool),
    /// The host's terminal changed size.
    HostResize(Option<Size>),
    /// Change a guest's access.
    SetAccess {
        /// The guest.
        guest: GuestId,
        /// The new access.
        access: Access,
    },
    /// Throw a guest out.
    Kick {
        /// The guest.
        guest: GuestId,
        /// Shown to it.
        reason: String,
    },
    /// Lock or unlock every guest's input.
    Lock(bool),
    /// Switch a link off (new guests with it are refused) or on: a main link, whose state the
    /// session keeps and sends again on every new uplink, or an extra link, which lives on the
    /// relay and is only passed up.
    SwitchLink {
        /// Which link.
        link: LinkRef,
        /// Whether it lets new guests in.
        enabled: bool,
    },
    /// Run a function on the focused pane's screen inside the session, without copying it:
    /// the dashboard draws this way.
    Visit(ScreenVisitor),
    /// The guests, in the order they joined, with the time of their last input.
    Guests(oneshot::Sender<Vec<GuestRow>>),
    /// An uplink is ready; output goes to this queue from now on. The relay's guests replace
    /// the session's (none after a relay restart), and the session sends its whole state
    /// again: layout, every row, lock, links switched off and access changes.
    UplinkUp {
        /// The uplink's queue.
        out: mpsc::Sender<Outbound>,
        /// The guests the relay has attached now.
        guests: Vec<GuestInfo>,
    },
    /// The focused pane's screen as styled rows.
    Screen(oneshot::Sender<ScreenState>),
    /// End the session; guests see the reason.
    End(String),
    /// New guest keys for the relay (`reload-keys`); sent again on every new uplink, since
    /// the hello still carries the old ones.
    SetGuestKeys(Vec<String>),
    /// The relay reports a guest that waits for the host's answer (`--approve`).
    GuestWaiting(GuestInfo),
    /// The relay reports that a guest stopped waiting without an answer, and why.
    WaitOver(GuestId, String),
    /// The host lets a waiting guest in with this access (less if its link grants less).
    Admit {
        /// The waiting guest.
        guest: GuestId,
        /// What it may do.
        access: Access,
    },
    /// The host turns a waiting guest away.
    Deny {
        /// The waiting guest.
        guest: GuestId,
    },
    /// Ask the relay for an extra link; the answer comes to the front end as an uplink event.
    NewLink(NewLink),
}

/// A function run on the session's screen; see [`SessionCmd::Visit`].
pub struct ScreenVisitor(pub Box<dyn FnOnce(&Screen) + Send>);

impl std::fmt::Debug for ScreenVisitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScreenVisitor")
    }
}

/// A guest as the front end lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRow {
    /// What the relay reported, with the current access.
    pub info: GuestInfo,
    /// When it joined.
    pub joined: Instant,
    /// When its input last reached the program, if ever.
    pub last_input: Option<Instant>,
}

/// What the session tells the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A guest joined.
    GuestJoined(GuestInfo),
    /// A guest left.
    GuestLeft(GuestInfo),
    /// A guest's access changed.
    AccessChanged(GuestInfo),
    /// Every guest's input was locked (true) or given back.
    Locked(bool),
    /// The shared size changed.
    Resized(Size),
    /// The program exited.
    ProgramExited(Option<u32>),
    /// The program was started again.
    Respawned,
    /// Something went wrong that the user should know of.
    Warning(String),
    /// The session is over.
    Ended(String),
    /// A guest waits for the host's answer (`--approve`).
    GuestWaiting(GuestInfo),
    /// A guest no longer waits, and how its wait ended.
    WaitOver(GuestInfo, WaitOutcome),
}

/// How a guest's wait for the host's answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The host let it in with this access.
    Admitted(Access),
    /// Its key was admitted before in this session, so it was let in again without asking.
    Readmitted(Access),
    /// The host turned it away.
    Denied,
    /// The relay let it go (it left, or no answer came in time): the words for the log.
    Withdrawn(String),
    /// The relay connection was replaced; the relay asks again about those still waiting.
    Reset,
}

/// A cloneable handle to send commands to a running session.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    /// The session's command queue.
    tx: mpsc::Sender<SessionCmd>,
    /// Counts changes of the screen, so a front end knows when to draw.
    changes: watch::Receiver<u64>,
}

impl SessionHandle {
    /// Sends a command; fails only if the session has ended.
    pub async fn send(&self, cmd: SessionCmd) -> Result<()> {
        self.tx
            .send(cmd)
            .await
            .map_err(|_| anyhow::anyhow!("the session has ended"))
    }

    /// Resolves once the session has ended.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// A receiver that wakes whenever the screen changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// The guests, in the order they joined.
    pub async fn guests(&self) -> Result<Vec<GuestRow>> {
        let (tx, rx) = oneshot::channel();
        self.send(SessionCmd::Guests(tx)).await?;
        rx.await.context("the session ended before answering")
    }

    /// The focused pane's screen as styled rows.
    pub async fn screen(&self) -> Result<ScreenState> {
        let (tx, rx) = oneshot::channel();
        self.send(SessionCmd::Screen(tx)).await?;
        rx.await.context("the session ended before answering")
    }
}

/// The session's state, owned by its task.
struct Session {
    /// Setup.
    cfg: SessionConfig,
    /// The one pane.
    pane: Pane,
    /// Guests by id.
    guests: HashMap<GuestId, GuestInfo>,
    /// When each guest joined and last typed, for the front end's list.
    activity: HashMap<GuestId, (Instant, Option<Instant>)>,
    /// Bumped on every screen change; front ends draw when it moves.
    changed: watch::Sender<u64>,
    /// Whether every guest is held read-only.
    locked: bool,
    /// Sizes reported by guests that may not resize now (read-only or locked), applied once
    /// they may: a lock freezes the shared size instead of dropping the guests from it.
    held_sizes: HashMap<GuestId, Size>,
    /// Links the host switched off, by [`Access::index`], so a reconnect switches them off on
    /// the relay again.
    links_off: [bool; 2],
    /// Guest keys reloaded since the start, sent again on every new uplink.
    guest_keys: Option<Vec<String>>,
    /// The uplink's queue, once there is an uplink.
    out: Option<mpsc::Sender<Outbound>>,
    /// Control messages waiting for room in the uplink queue; rows wait behind them.
    pending: VecDeque<Outbound>,
    /// The screen changed since the rows last went up (or the uplink is new).
    rows_owed: bool,
    /// The screen as the relay got it last, to send only the rows that differ; `None` sends
    /// every row.
    sent: Option<ScreenState>,
    /// Paces row updates: a small change at once, bulk output at about 60 a second.
    pacer: Pacer,
    /// Bytes of output since the rows last went up, to tell an echo from bulk output.
    owed_bytes: usize,
    /// When to start the program again after it exited.
    respawn_at: Option<Instant>,
    /// When the current program started, to slow down a program that keeps exiting.
    started: Instant,
    /// The current pause before a respawn.
    backoff: Duration,
    /// Where notices go.
    notices: mpsc::Sender<Notice>,
    /// Guests waiting for the host's answer (`--approve`), oldest first.
    waiting: Vec<GuestInfo>,
    /// The keys the host admitted in this session, by fingerprint, with the access it gave:
    /// a guest with one of them is let in again without asking.
    admitted: HashMap<String, Access>,
}

/// Starts a session. Returns its handle and the task that runs it.
pub fn spawn(
    cfg: SessionConfig,
    notices: mpsc::Sender<Notice>,
) -> Result<(SessionHandle, tokio::task::JoinHandle<Result<()>>)> {
    let (pty_tx, pty_rx) = mpsc::channel(PTY_QUEUE);
    let size = cfg.policy.compute(cfg.host_size, []);
    let pane = Pane::spawn(FIRST_PANE, cfg.cmd.clone(), size, pty_tx)
        .context("failed to start the shared program")?;
    let (tx, rx) = mpsc::channel(CMD_QUEUE);
    let (changed_tx, changes) = watch::channel(0);
    let session = Session {
        cfg,
        pane,
        guests: HashMap::new(),
        activity: HashMap::new(),
        changed: changed_tx,
        locked: false,
        held_sizes: HashMap::new(),
        links_off: [false; 2],
        guest_keys: None,
        out: None,
        pending: VecDeque::new(),
        rows_owed: false,
        sent: None,
        pacer: Pacer::new(Instant::now().into()),
        owed_bytes: 0,
        respawn_at: None,
        started: Instant::now(),
        backoff: Duration::from_millis(100),
        notices,
        waiting: Vec::new(),
        admitted: HashMap::new(),
    };
    let task = tokio::spawn(session.run(rx, pty_rx));
    Ok((SessionHandle { tx, changes }, task))
}

impl Session {
    async fn run(
        mut self,
        mut cmds: mpsc::Receiver<SessionCmd>,
        mut pty: mpsc::Receiver<PtyEvent>,
    ) -> Result<()> {
        loop {
            // Only with an uplink: without one this branch would be ready at once, forever.
            let rows_at = self.rows_due_at();
            let now = Instant::now();
            let wants_room = self.out.is_some()
                && (!self.pending.is_empty() || rows_at.is_some_and(|at| at <= now));
            let room = self.out.clone().filter(|_| wants_room);
            let wake_for_rows = rows_at.filter(|at| *at > now && self.out.is_some());
            let sync_at = self.pane.sync_deadline();
            let respawn_at = self.respawn_at;
            tokio::select! {
                ev = pty.recv() => match ev {
                    Some(ev) => if let Some(reason) = self.on_pty(ev) {
                        self.end(reason).await;
                        return Ok(());
                    },
                    None => return Ok(()),
                },
                cmd = cmds.recv() => match cmd {
                    Some(SessionCmd::End(reason)) => {
                        self.end(reason).await;
                        return Ok(());
                    }
                    Some(cmd) => self.on_cmd(cmd),
                    None => return Ok(()),
                },
                permit = async { room?.reserve_owned().await.ok() }, if wants_room => {
                    match permit {
                        Some(permit) => self.flush_one(permit),
                        None => self.uplink_lost(),
                    }
                }
                _ = async { if let Some(at) = wake_for_rows { sleep_until(at.into()).await } }, if wake_for_rows.is_some() => {}
                _ = async { if let Some(at) = sync_at { sleep_until(at.into()).await } }, if sync_at.is_some() => {
                    if self.pane.end_overdue_sync(Instant::now()) {
                        self.screen_changed();
                    }
                }
                _ = async { if let Some(at) = respawn_at { sleep_until(at.into()).await } }, if respawn_at.is_some() => {
                    self.respawn_at = None;
                    self.respawn();
                }
            }
        }
    }
}

mod approval;
mod ops;
