//! An ssh guest's channel as a [`Transport`]: frames drawn as escape sequences for its
//! terminal, and its keystrokes filtered (C-b d detaches) with mouse reports moved into the
//! pane.

use crate::core::term::ScreenState;
use crate::core::types::Size;
use crate::net::relay::guest::{Farewell, GuestEvent, Transport};
use crate::net::relay::guest_input::{KeyFilter, ReportMapper};
use crate::net::relay::limits::Limits;
use crate::net::relay::room::RoomView;
use crate::ui::guest_view::{GuestRenderer, GuestStatus};
use crate::ui::theme::Theme;
use russh::server::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

/// What an ssh guest is left with when it detaches with C-b d.
const DETACHED: &str = "[detached from cotty]";

/// One ssh guest's channel and what draws for it.
pub struct SshTransport {
    /// The channel's reading half: keys and window changes.
    rx: ChannelReadHalf,
    /// The channel's writing half: frames and the goodbye.
    tx: ChannelWriteHalf<Msg>,
    /// Turns views into escape sequences for this guest's terminal.
    renderer: GuestRenderer,
    /// Finds C-b d in the keys.
    keys: KeyFilter,
    /// Moves mouse reports into the pane.
    reports: ReportMapper,
    /// The terminal size from the PTY request; `None` when the guest asked for no PTY.
    term: Option<Size>,
    /// Guests' status line colours.
    theme: Theme,
    /// The relay's limits: the largest terminal it draws for.
    limits: Limits,
}

impl SshTransport {
    /// A transport over a guest's channel; `term` is the size from the PTY request, if any.
    pub fn new(channel: Channel<Msg>, term: Option<Size>, limits: Limits, theme: Theme) -> Self {
        let (rx, tx) = channel.split();
        let size = limits.clamp(term.unwrap_or_default());
        SshTransport {
            rx,
            tx,
            renderer: GuestRenderer::new(size),
            keys: KeyFilter::default(),
            reports: ReportMapper::default(),
            term,
            theme,
            limits,
        }
    }

    /// Writes `bytes`, then ends the channel with `status`.
    async fn close_with(&self, bytes: Vec<u8>, status: u32) {
        if !bytes.is_empty() {
            let _ = self.tx.data_bytes(bytes).await;
        }
        let _ = self.tx.exit_status(status).await;
        let _ = self.tx.eof().await;
        let _ = self.tx.close().await;
    }
}

impl Transport for SshTransport {
    type Incoming = ChannelMsg;

    fn pane_area(&self) -> Size {
        self.renderer.pane_area()
    }

    fn unfit(&self) -> Option<String> {
        self.term
            .is_none()
            .then(|| "cotty: a terminal is needed; join with `ssh -t`\r\n".to_string())
    }

    async fn waiting(&mut self, text: &str) -> Result<(), ()> {
        // Plain text on the guest's own screen: no frame has been drawn yet.
        let line = format!("cotty: {text}\r\n");
        self.tx.data_bytes(line.into_bytes()).await.map_err(drop)
    }

    async fn start(&mut self) -> Result<(), ()> {
        let bytes = self.renderer.start();
        self.tx.data_bytes(bytes).await.map_err(drop)
    }

    async fn recv(&mut self) -> Option<ChannelMsg> {
        self.rx.wait().await
    }

    fn interpret(&mut self, msg: ChannelMsg, screen: &ScreenState, out: &mut Vec<GuestEvent>) {
        let modes = &screen.modes;
        match msg {
            ChannelMsg::Data { data } => {
                let k = self.keys.feed(&data);
                if !k.input.is_empty() {
                    let place = self.renderer.placement();
                    let encoding = self.renderer.mouse_encoding();
                    let input = self.reports.map(&k.input, place.as_ref(), encoding, modes);
                    out.push(GuestEvent::Input(input));
                }
                if k.detach {
                    out.push(GuestEvent::Detach);
                }
            }
            ChannelMsg::WindowChange {
                col_width,
                row_height,
                ..
            } => {
                let term = Size::from_ssh(col_width, row_height);
                self.renderer.resize(self.limits.clamp(term));
                out.push(GuestEvent::Resize(self.renderer.pane_area()));
            }
            ChannelMsg::Eof | ChannelMsg::Close => out.push(GuestEvent::Closed),
            _ => {}
        }
    }

    async fn frame(&mut self, view: &RoomView, status: &GuestStatus<'_>) -> Result<(), ()> {
        let bytes = self.renderer.frame(&view.screen, status, &self.theme);
        self.tx.data_bytes(bytes).await.map_err(drop)
    }

    async fn finish(mut self, farewell: Farewell) {
        match farewell {
            // Never drawn on: the terminal is as ssh left it, so the words go as they are.
            Farewell::Refused(text) => self.close_with(text.into_bytes(), 1).await,
            Farewell::Detached => {
                let bytes = self.renderer.finish(DETACHED);
                self.close_with(bytes, 0).await;
            }
            Farewell::Ended { text, .. } => {
                let bytes = self.renderer.finish(&text);
                self.close_with(bytes, 0).await;
            }
        }
    }
}
