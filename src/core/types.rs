//! Small value types shared by the session, the protocol and the renderers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies a pane within a session. Pane ids are never reused within one host run.
pub type PaneId = u32;

/// Identifies a guest within a relay room. Guest ids are never reused within one room.
pub type GuestId = u32;

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Size {
    /// Width in columns.
    pub cols: u16,
    /// Height in rows.
    pub rows: u16,
}

impl Size {
    /// The size a PTY gets when nobody with a terminal is attached (the VT100 default).
    pub const DEFAULT: Size = Size { cols: 80, rows: 24 };

    /// Builds a size.
    pub const fn new(cols: u16, rows: u16) -> Self {
        Size { cols, rows }
    }

    /// The size an ssh client asks for (pty-req or window-change), kept within what a
    /// terminal can be: 1 to 1,000 columns, 2 to 1,000 rows (one for the status line). A zero
    /// means the client does not know (RFC 4254, 6.2), and gets the VT100 default.
    pub fn from_ssh(cols: u32, rows: u32) -> Self {
        let pick = |n: u32, default: u16, min: u32| match n {
            0 => default,
            n => n.clamp(min, 1000) as u16,
        };
        Size::new(
            pick(cols, Size::DEFAULT.cols, 1),
            pick(rows, Size::DEFAULT.rows, 2),
        )
    }

    /// Clamps both dimensions to at least one cell, as emulators and PTYs require.
    pub fn at_least_one(self) -> Self {
        Size {
            cols: self.cols.max(1),
            rows: self.rows.max(1),
        }
    }
}

impl Default for Size {
    /// The VT100 default, 80x24.
    fn default() -> Self {
        Size::DEFAULT
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    /// Parses `COLSxROWS`, for example `120x40`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid size {s:?}: expected COLSxROWS, for example 120x40");
        let (c, r) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let cols: u16 = c.trim().parse().map_err(|_| bad())?;
        let rows: u16 = r.trim().parse().map_err(|_| bad())?;
        if !(2..=1000).contains(&cols) || !(2..=1000).contains(&rows) {
            return Err(format!(
                "invalid size {s:?}: columns and rows must each be between 2 and 1000"
            ));
        }
        Ok(Size { cols, rows })
    }
}

/// What a guest may do with the shared terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Access {
    /// The guest's keys reach the program.
    ReadWrite,
    /// The guest only watches; not one byte of its input reaches the program.
    ReadOnly,
}

impl Access {
    /// A short label for logs and status lines.
    pub fn label(self) -> &'static str {
        match self {
            Access::ReadWrite => "read-write",
            Access::ReadOnly => "read-only",
        }
    }

    /// A slot for per-access tables, such as which of the two links is switched on.
    pub fn index(self) -> usize {
        match self {
            Access::ReadWrite => 0,
            Access::ReadOnly => 1,
        }
    }

    /// The access that is in force once the host's input lock is applied.
    pub fn effective(self, locked: bool) -> Access {
        if locked { Access::ReadOnly } else { self }
    }

    /// Whether a guest with this access may send input (keys, paste, mouse) to the program
    /// while the lock is `locked`. The relay and the host both decide with this one method.
    pub fn may_type(self, locked: bool) -> bool {
        self.effective(locked) == Access::ReadWrite
    }

    /// Whether a guest with this access may change the shared size while the lock is
    /// `locked`: only those that may type, so a locked or read-only guest cannot resize the
    /// program under the others.
    pub fn may_resize(self, locked: bool) -> bool {
        self.may_type(locked)
    }
}

/// How a guest reached the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    /// A stock ssh client.
    Ssh,
    /// A browser over a websocket.
    Web,
}

impl Via {
    /// A short label for logs and the sidebar.
    pub fn label(self) -> &'static str {
        match self {
            Via::Ssh => "ssh",
            Via::Web => "web",
        }
    }
}

/// What the relay tells the host about a guest that joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestInfo {
    /// The guest's id within the room.
    pub id: GuestId,
    /// How the guest connected.
    pub via: Via,
    /// A display name: the offered key's comment, or "guest N".
    pub name: String,
    /// The SHA256 fingerprint of the key the guest authenticated with, if any.
    pub fingerprint: Option<String>,
    /// The guest's source address as the relay saw it.
    pub addr: Option<String>,
    /// The access the guest's link grants.
    pub access: Access,
    /// The area the guest can show the shared pane in (its terminal less the status line).
    pub size: Size,
}

impl GuestInfo {
    /// How log lines and prompts name the guest: `guest 3`, and its key's comment after it
    /// when it has one (`guest 3 (alice@laptop)`), never the same words twice.
    pub fn who(&self) -> String {
        let plain = format!("guest {}", self.id);
        if self.name.is_empty() || self.name == plain {
            plain
        } else {
            format!("{plain} ({})", self.name)
        }
    }
}

/// What an extra link is to be: the same request from the control socket to the session, the
/// uplink and the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLink {
    /// The host's number for this request, echoed in the answer.
    pub req: u64,
    /// What the link grants.
    pub access: Access,
    /// Whether it lets one guest in and then stops working.
    pub once: bool,
    /// How long from now it lets guests in, in seconds; `None` for as long as the session's
    /// own links (`--link-ttl`) or no end.
    pub ttl_secs: Option<u64>,
}

/// One of the session's links, as a person or a script names it: `rw`, `ro`, or the number of
/// an extra link (`cotty -S S link-off LINK`). The sidebar, the control socket and the
/// session switch links by this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkRef {
    /// One of the session's two main links: its token serves the ssh and the web link.
    Main(Access),
    /// Extra link N (from 1), as `new-link`, the sidebar and `#{link:N}` number them.
    Extra(u32),
}

impl LinkRef {
    /// What `LINK` accepts, for error messages and help.
    pub const FORMS: &'static str = "rw (the read-write link), ro (the read-only link), or the number N of an extra link \
         (1, 2, … as `cotty new-link` and the sidebar number them)";
}

impl fmt::Display for LinkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkRef::Main(access) => write!(f, "{} link", access.label()),
            LinkRef::Extra(n) => write!(f, "link {n}"),
        }
    }
}

impl std::str::FromStr for LinkRef {
    type Err = String;

    /// Parses `rw`, `ro` or `N`; the error names the accepted forms.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "rw" => Ok(LinkRef::Main(Access::ReadWrite)),
            "ro" => Ok(LinkRef::Main(Access::ReadOnly)),
            n => match n.trim_start_matches('#').parse::<u32>() {
                Ok(n) if n >= 1 => Ok(LinkRef::Extra(n)),
                _ => Err(format!("{s:?} is not a link; LINK is {}", LinkRef::FORMS)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_is_named_without_repeating_itself() {
        let mut g = GuestInfo {
            id: 3,
            via: Via::Ssh,
            name: "guest 3".into(),
            fingerprint: None,
            addr: None,
            access: Access::ReadOnly,
            size: Size::DEFAULT,
        };
        assert_eq!(g.who(), "guest 3");
        g.name = "alice@laptop".into();
        assert_eq!(g.who(), "guest 3 (alice@laptop)");
    }

    #[test]
    fn size_parses_and_rejects() {
        assert_eq!("120x40".parse::<Size>(), Ok(Size::new(120, 40)));
        assert_eq!("80X24".parse::<Size>(), Ok(Size::new(80, 24)));
        assert!("80".parse::<Size>().unwrap_err().contains("COLSxROWS"));
        assert!("0x10".parse::<Size>().unwrap_err().contains("between"));
        assert!("axb".parse::<Size>().is_err());
    }

    #[test]
    fn an_ssh_size_of_zero_is_unknown_and_gets_the_default() {
        assert_eq!(Size::from_ssh(0, 0), Size::DEFAULT);
        assert_eq!(Size::from_ssh(120, 0), Size::new(120, 24));
        assert_eq!(Size::from_ssh(0, 40), Size::new(80, 40));
        assert_eq!(Size::from_ssh(1, 1), Size::new(1, 2));
        assert_eq!(Size::from_ssh(u32::MAX, 70_000), Size::new(1000, 1000));
    }

    #[test]
    fn lock_makes_everyone_read_only() {
        assert_eq!(Access::ReadWrite.effective(true), Access::ReadOnly);
        assert_eq!(Access::ReadWrite.effective(false), Access::ReadWrite);
        assert_eq!(Access::ReadOnly.effective(false), Access::ReadOnly);
        assert!(Access::ReadWrite.may_type(false) && Access::ReadWrite.may_resize(false));
        assert!(!Access::ReadWrite.may_type(true) && !Access::ReadWrite.may_resize(true));
        assert!(!Access::ReadOnly.may_type(false) && !Access::ReadOnly.may_resize(false));
    }

    #[test]
    fn a_link_is_rw_ro_or_a_number() {
        assert_eq!("rw".parse(), Ok(LinkRef::Main(Access::ReadWrite)));
        assert_eq!("ro".parse(), Ok(LinkRef::Main(Access::ReadOnly)));
        assert_eq!("2".parse(), Ok(LinkRef::Extra(2)));
        assert_eq!("#3".parse(), Ok(LinkRef::Extra(3)));
        for bad in ["0", "-1", "web", "", "1.5", "RW x"] {
            let err = bad.parse::<LinkRef>().expect_err(bad);
            assert!(err.contains("LINK is rw"), "{bad}: {err}");
            assert!(err.contains("number N of an extra link"), "{bad}: {err}");
        }
        assert_eq!(LinkRef::Extra(2).to_string(), "link 2");
        assert_eq!(
            LinkRef::Main(Access::ReadOnly).to_string(),
            "read-only link"
        );
    }
}
