//! How a cell looks: colours, underline kind and colour, and attributes, as our own types.
//!
//! These types cross the wire to the relay and are what every renderer draws, so they hold
//! exactly what a terminal can show and nothing of the emulator crate. Blink and overline are
//! absent because the emulator drops them (see the README's list of what guests see).

use serde::{Deserialize, Serialize};

/// A colour as a program set it: the terminal's default, one of the 256 indexed colours, or
/// direct RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "u32", into = "u32")]
pub enum Color {
    /// The terminal's default foreground or background (`SGR 39`/`49`).
    #[default]
    Default,
    /// An indexed colour: 0–7 normal, 8–15 bright, then the 6x6x6 cube and the greys.
    Indexed(u8),
    /// A direct colour (`38;2;R;G;B` or `38:2::R:G:B`).
    Rgb(u8, u8, u8),
}

/// On the wire a colour is one integer, so a style costs a few bytes: 0 is the default,
/// 1–256 an indexed colour plus one, and `0x100_0000 | RGB` a direct colour. Other values read
/// as the default.
impl From<Color> for u32 {
    fn from(c: Color) -> u32 {
        match c {
            Color::Default => 0,
            Color::Indexed(i) => 1 + u32::from(i),
            Color::Rgb(r, g, b) => RGB_TAG | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b),
        }
    }
}

/// Marks a direct colour in its wire form.
const RGB_TAG: u32 = 0x100_0000;

impl From<u32> for Color {
    fn from(v: u32) -> Color {
        match v {
            1..=256 => Color::Indexed((v - 1) as u8),
            v if v & !0xFF_FFFF == RGB_TAG => Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8),
            _ => Color::Default,
        }
    }
}

/// The kind of underline (`SGR 4`, `4:2` … `4:5`; the emulator reads `21` as bold off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Underline {
    /// No underline.
    #[default]
    None,
    /// A single line (`4`, `4:1`).
    Single,
    /// Two lines (`4:2`).
    Double,
    /// A wavy line (`4:3`), as editors draw diagnostics.
    Curly,
    /// A dotted line (`4:4`).
    Dotted,
    /// A dashed line (`4:5`).
    Dashed,
}

impl Underline {
    /// The sub-parameter of `SGR 4` that selects this kind (`0` for none).
    pub fn sgr(self) -> u8 {
        match self {
            Underline::None => 0,
            Underline::Single => 1,
            Underline::Double => 2,
            Underline::Curly => 3,
            Underline::Dotted => 4,
            Underline::Dashed => 5,
        }
    }
}

/// On/off attributes of a cell, as bits, so a style stays small and cheap to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Attrs(u8);

impl Attrs {
    /// Bold or increased intensity (`SGR 1`).
    pub const BOLD: Attrs = Attrs(1);
    /// Faint (`SGR 2`); may be set together with bold.
    pub const DIM: Attrs = Attrs(1 << 1);
    /// Italic (`SGR 3`).
    pub const ITALIC: Attrs = Attrs(1 << 2);
    /// Foreground and background swapped (`SGR 7`).
    pub const INVERSE: Attrs = Attrs(1 << 3);
    /// Invisible text (`SGR 8`).
    pub const HIDDEN: Attrs = Attrs(1 << 4);
    /// Crossed out (`SGR 9`).
    pub const STRIKE: Attrs = Attrs(1 << 5);

    /// No attribute set.
    pub const fn empty() -> Attrs {
        Attrs(0)
    }

    /// Whether every attribute of `other` is set here.
    pub const fn contains(self, other: Attrs) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets or clears the attributes of `other`.
    pub fn set(&mut self, other: Attrs, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }

    /// These attributes with those of `other` set too.
    pub const fn with(self, other: Attrs) -> Attrs {
        Attrs(self.0 | other.0)
    }
}

/// Everything about how a cell looks apart from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(from = "StyleWire", into = "StyleWire")]
pub struct Style {
    /// The text colour.
    pub fg: Color,
    /// The cell's background.
    pub bg: Color,
    /// The underline's own colour (`SGR 58`); `Default` follows the text colour.
    pub underline_color: Color,
    /// The kind of underline.
    pub underline: Underline,
    /// Bold, dim, italic, inverse, hidden and strikethrough.
    pub attrs: Attrs,
}

/// A style on the wire: an array of three colours, the underline kind and the attribute
/// bits, rather than a map with names, since every row carries its style table.
#[derive(Serialize, Deserialize)]
struct StyleWire(Color, Color, Color, u8, u8);

impl From<Style> for StyleWire {
    fn from(s: Style) -> StyleWire {
        StyleWire(s.fg, s.bg, s.underline_color, s.underline.sgr(), s.attrs.0)
    }
}

impl From<StyleWire> for Style {
    fn from(w: StyleWire) -> Style {
        let underline = match w.3 {
            1 => Underline::Single,
            2 => Underline::Double,
            3 => Underline::Curly,
            4 => Underline::Dotted,
            5 => Underline::Dashed,
            _ => Underline::None,
        };
        Style {
            fg: w.0,
            bg: w.1,
            underline_color: w.2,
            underline,
            attrs: Attrs(w.4 & ALL_ATTRS),
        }
    }
}

/// Every attribute bit that has a meaning.
const ALL_ATTRS: u8 = 0b11_1111;

impl Style {
    /// Whether this is the style of a blank, freshly erased cell.
    pub fn is_default(&self) -> bool {
        *self == Style::default()
    }

    /// The SGR sequence that sets this style from any other (it starts with a reset), in the
    /// colon forms for underline kinds and colours that xterm, tmux and kitty understand.
    pub fn sgr(&self) -> String {
        let mut s = String::from("\x1b[0");
        let a = self.attrs;
        for (attr, code) in [
            (Attrs::BOLD, ";1"),
            (Attrs::DIM, ";2"),
            (Attrs::ITALIC, ";3"),
            (Attrs::INVERSE, ";7"),
            (Attrs::HIDDEN, ";8"),
            (Attrs::STRIKE, ";9"),
        ] {
            if a.contains(attr) {
                s.push_str(code);
            }
        }
        match self.underline {
            Underline::None => {}
            // The plain form, which every terminal knows.
            Underline::Single => s.push_str(";4"),
            kind => {
                s.push_str(";4:");
                s.push_str(&kind.sgr().to_string());
            }
        }
        push_color(&mut s, self.fg, 30, 90, 38);
        push_color(&mut s, self.bg, 40, 100, 48);
        match self.underline_color {
            Color::Default => {}
            Color::Indexed(i) => s.push_str(&format!(";58:5:{i}")),
            Color::Rgb(r, g, b) => s.push_str(&format!(";58:2::{r}:{g}:{b}")),
        }
        s.push('m');
        s
    }
}

/// Appends the SGR parameters of one colour: the short forms for the 16 basic colours, as
/// tmux writes them, and `5;N` or `2;R;G;B` otherwise.
fn push_color(s: &mut String, c: Color, base: u8, bright: u8, ext: u8) {
    match c {
        Color::Default => {}
        Color::Indexed(i) if i < 8 => s.push_str(&format!(";{}", base + i)),
        Color::Indexed(i) if i < 16 => s.push_str(&format!(";{}", bright + i - 8)),
        Color::Indexed(i) => s.push_str(&format!(";{ext};5;{i}")),
        Color::Rgb(r, g, b) => s.push_str(&format!(";{ext};2;{r};{g};{b}")),
    }
}
