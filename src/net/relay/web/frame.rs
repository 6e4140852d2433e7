//! What the relay sends a web page: the rows that changed since its last frame, with the
//! cursor, modes, title and status line, as one msgpack map per websocket message.
//!
//! The rows are the very rows the host sent (runs of text with style ids into the row's
//! style table, in their compact wire form), so the page draws the same cells an ssh guest
//! is drawn from and needs no terminal emulator. A page gets every row when it joins or the
//! pane changes size, then only rows whose content differs from what it has. Rows are
//! shared (`Arc`) with the room, so remembering what a page has costs a pointer a row.
//!
//! A frame over [`COMPRESS_OVER`] bytes goes zlib-compressed ([`pack`]): a screenful of text
//! shrinks several times, and the page tells the two apart by the first byte (a zlib stream
//! starts with 0x78, a msgpack map never does). Small frames, such as an echo, go as they are,
//! so typing costs no compression on either side.

use crate::core::term::{Cursor, Modes, Row, ScreenState};
use crate::core::types::{Access, Size};
use crate::ui::guest_view::GuestStatus;
use serde::Serialize;
use std::sync::Arc;

/// A message to the page.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg<'a> {
    /// The screen, or what changed of it.
    Frame(FrameMsg<'a>),
    /// The last message before the relay closes the socket.
    Bye {
        /// Why, for a person.
        reason: &'a str,
        /// Whether the page may reconnect with the same link (the relay restarts), or should
        /// stay put (kicked, ended, a bad link).
        retry: bool,
    },
    /// The session admits only listed keys: the page shows this command, which a guest with
    /// a listed key runs to let the page in (`approve-web CODE`).
    Approve {
        /// The whole command line, `ssh -p PORT TOKEN@HOST approve-web CODE`.
        command: &'a str,
    },
    /// The page of a key-only session is in: with this ticket it comes back without
    /// another `approve-web` if its socket drops ([`super::ticket`]).
    Ticket {
        /// The ticket, which the page sends with its next join.
        ticket: &'a str,
    },
    /// The guest waits for the host to let it in (`--approve`): the page says so in its bar
    /// until the first frame.
    Wait {
        /// What the page shows.
        text: &'a str,
    },
}

/// One frame for the page.
#[derive(Debug, Serialize)]
pub struct FrameMsg<'a> {
    /// Every row is in `lines`: the page forgets what it had.
    pub full: bool,
    /// The pane's columns.
    pub cols: u16,
    /// The pane's rows.
    pub rows: u16,
    /// The rows that changed, by index from the top.
    pub lines: Vec<(u16, &'a Row)>,
    /// Where the cursor is and how it looks.
    pub cursor: &'a Cursor,
    /// The program's modes: the page sends mouse and focus events only when it asked.
    pub modes: &'a Modes,
    /// The window title the program set.
    pub title: &'a str,
    /// The page's status line.
    pub status: StatusMsg<'a>,
}

/// The status line's parts, as the ssh guests' status line has them.
#[derive(Debug, Serialize)]
pub struct StatusMsg<'a> {
    /// What the session is called (the host's USER@HOST).
    pub session: &'a str,
    /// `rw` or `ro`: what the page's link grants (or what the host changed it to).
    pub access: &'static str,
    /// Whether the host locked every guest's input.
    pub locked: bool,
    /// Guests attached.
    pub guests: usize,
    /// A passing line, such as "host reconnecting…".
    pub message: Option<&'a str>,
    /// The host's connection is gone or silent; the screen is the last one it sent.
    pub host_away: bool,
}

impl<'a> StatusMsg<'a> {
    /// The status of a guest, as the actor gives it to every transport.
    pub fn new(status: &GuestStatus<'a>, host_away: bool) -> Self {
        StatusMsg {
            session: status.session,
            access: match status.access {
                Access::ReadWrite => "rw",
                Access::ReadOnly => "ro",
            },
            locked: status.locked,
            guests: status.guests,
            message: status.message,
            host_away,
        }
    }
}

/// Encodes a message for the page: msgpack, with structs as maps so the page reads fields
/// by name (rows, runs and styles stay compact arrays).
pub fn encode(msg: &ServerMsg<'_>) -> Vec<u8> {
    // Our own types always encode; a failure here would be a bug in their Serialize.
    rmp_serde::to_vec_named(msg).unwrap_or_default()
}

/// Frames up to this size go uncompressed: compressing an echo saves nothing worth a
/// round through the page's decompressor.
pub const COMPRESS_OVER: usize = 1024;

/// The bytes of a frame as they go on the socket: compressed when large.
pub fn pack(bytes: Vec<u8>) -> Vec<u8> {
    use std::io::Write;
    if bytes.len() <= COMPRESS_OVER {
        return bytes;
    }
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail; if it did, the frame goes as it is.
    match z.write_all(&bytes).and_then(|()| z.finish()) {
        Ok(packed) if packed.len() < bytes.len() => packed,
        _ => bytes,
    }
}

/// What one page has, so the next frame carries only what differs.
#[derive(Debug, Default)]
pub struct WebFramer {
    /// The size and rows of the last frame; `None` until the first, so it is full.
    shown: Option<(Size, Vec<Arc<Row>>)>,
}

impl WebFramer {
    /// The next frame of `screen` for this page, encoded.
    pub fn frame(&mut self, screen: &ScreenState, status: StatusMsg<'_>) -> Vec<u8> {
        let full = !matches!(&self.shown, Some((size, _)) if *size == screen.size);
        let rows = usize::from(screen.size.rows);
        let mut lines = Vec::new();
        for y in 0..rows {
            let row = screen.rows.get(y);
            let had = match &self.shown {
                Some((_, old)) if !full => old.get(y),
                _ => None,
            };
            let same = match (row, had) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false,
            };
            if !same {
                // Rows past the end of a short screen are blank, as renderers draw them.
                lines.push((y as u16, screen.row(y as u16)));
            }
        }
        let msg = ServerMsg::Frame(FrameMsg {
            full,
            cols: screen.size.cols,
            rows: screen.size.rows,
            lines,
            cursor: &screen.cursor,
            modes: &screen.modes,
            title: &screen.title,
            status,
        });
        let bytes = pack(encode(&msg));
        self.shown = Some((screen.size, screen.rows.clone()));
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::term::{RowBuilder, Style};
    use serde_json::Value;

    fn row(text: &str) -> Arc<Row> {
        let mut b = RowBuilder::default();
        for c in text.chars() {
            b.push(c, &[], Style::default(), false);
        }
        Arc::new(b.finish(false))
    }

    fn status() -> StatusMsg<'static> {
        StatusMsg {
            session: "alice@laptop",
            access: "rw",
            locked: false,
            guests: 1,
            message: None,
            host_away: false,
        }
    }

    fn decode(bytes: &[u8]) -> Value {
        let plain = if bytes.first() == Some(&0x78) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(bytes), &mut out)
                .expect("zlib");
            out
        } else {
            bytes.to_vec()
        };
        rmp_serde::from_slice(&plain).expect("msgpack")
    }

    fn field<'v>(v: &'v Value, name: &str) -> &'v Value {
        v.get(name)
            .unwrap_or_else(|| panic!("no field {name} in {v}"))
    }

    #[test]
    fn the_first_frame_is_full_then_only_changed_rows_follow() {
        let mut screen = ScreenState::blank(Size::new(10, 3));
        screen.rows[0] = row("hello");
        let mut framer = WebFramer::default();
        let first = decode(&framer.frame(&screen, status()));
        assert_eq!(field(&first, "type").as_str(), Some("frame"));
        assert_eq!(field(&first, "full").as_bool(), Some(true));
        assert_eq!(field(&first, "lines").as_array().map(Vec::len), Some(3));

        screen.rows[2] = row("world");
        let second = decode(&framer.frame(&screen, status()));
        assert_eq!(field(&second, "full").as_bool(), Some(false));
        let lines = field(&second, "lines").as_array().expect("lines");
        assert_eq!(lines.len(), 1);
        let line = lines[0].as_array().expect("[y, row]");
        assert_eq!(line[0].as_u64(), Some(2));
        // The row in its wire form: [styles, runs, wrapped], a run [style, kind, text].
        let runs = line[1].as_array().expect("row")[1]
            .as_array()
            .expect("runs");
        assert_eq!(runs[0].as_array().expect("run")[2].as_str(), Some("world"));

        // A new size sends everything again.
        let bigger = ScreenState::blank(Size::new(12, 4));
        let third = decode(&framer.frame(&bigger, status()));
        assert_eq!(field(&third, "full").as_bool(), Some(true));
        assert_eq!(field(&third, "cols").as_u64(), Some(12));
        assert_eq!(field(&third, "lines").as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn cursor_modes_and_status_are_maps_with_names() {
        let screen = ScreenState::blank(Size::new(4, 2));
        let v = decode(&WebFramer::default().frame(&screen, status()));
        assert_eq!(field(field(&v, "cursor"), "shape").as_str(), Some("Block"));
        assert_eq!(field(field(&v, "modes"), "mouse").as_str(), Some("None"));
        assert_eq!(field(field(&v, "status"), "access").as_str(), Some("rw"));
        assert!(field(field(&v, "status"), "message").is_null());
    }

    #[test]
    fn a_screenful_goes_compressed_and_an_echo_as_it_is() {
        let mut screen = ScreenState::blank(Size::new(80, 40));
        for (i, r) in screen.rows.iter_mut().enumerate() {
            *r = row(&format!("{i:079}"));
        }
        let mut framer = WebFramer::default();
        let full = framer.frame(&screen, status());
        assert_eq!(full[0], 0x78, "a screenful is zlib");
        assert!(
            full.len() < 1000,
            "{} bytes for 40 lines of digits",
            full.len()
        );
        assert_eq!(decode(&full)["lines"].as_array().map(Vec::len), Some(40));
        screen.rows[3] = row("$ l");
        let echo = framer.frame(&screen, status());
        assert_ne!(echo[0], 0x78, "an echo goes as it is");
        assert!(echo.len() < 300, "{} bytes for an echo", echo.len());
    }

    #[test]
    fn a_bye_says_why_and_whether_to_come_back() {
        let v = decode(&encode(&ServerMsg::Bye {
            reason: "you were disconnected by the host",
            retry: false,
        }));
        assert_eq!(field(&v, "type").as_str(), Some("bye"));
        assert_eq!(field(&v, "retry").as_bool(), Some(false));
    }
}
