//! Themes: `themes/*.toml` compiled in, or a user's file, read into a plain struct of styles.

use anyhow::{Context, Result, anyhow, bail};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The themes that ship inside the binary, by name; the first is the default.
const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// The styles cotty draws with: the guests' status line, and the host's dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The theme's name, as chosen with `theme =` or `--theme`.
    pub name: String,
    /// The status line of a read-write guest.
    pub status: Style,
    /// The status line of a read-only or locked guest.
    pub status_readonly: Style,
    /// Cells of a guest's terminal that the shared screen does not cover.
    pub unused: Style,
    /// The symbol drawn in those cells.
    pub unused_symbol: String,
    /// The dashboard's bottom status bar.
    pub bar: Style,
    /// Segments of the bar that need attention: guests locked out, the relay link down.
    pub bar_alert: Style,
    /// Key hints in the bar, set off from the text around them.
    pub bar_key: Style,
    /// The sidebar's body text and background.
    pub sidebar: Style,
    /// The sidebar's border lines.
    pub border: Style,
    /// Section titles in the sidebar.
    pub title: Style,
    /// The title of the section that has the focus, so the user sees where keys go.
    pub title_focused: Style,
    /// The selected row while the sidebar has the focus.
    pub selected: Style,
    /// The selected row while the focus is elsewhere: visible, but clearly not active.
    pub selected_unfocused: Style,
    /// Timestamps and other secondary text.
    pub dim: Style,
    /// A link that is switched off; crossed out in every built-in theme.
    pub disabled: Style,
    /// The "rw" label of a guest who can type.
    pub access_rw: Style,
    /// The "ro" label of a guest who can only watch.
    pub access_ro: Style,
    /// The help, QR code and confirmation boxes.
    pub overlay: Style,
    /// The title of those boxes.
    pub overlay_title: Style,
    /// Error lines in the log.
    pub log_error: Style,
}

/// One style as written in a theme file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    /// Foreground colour: a name ("black", "light-green"), an index ("236") or "#rrggbb".
    fg: Option<String>,
    /// Background colour, in the same forms.
    bg: Option<String>,
    /// Bold text.
    #[serde(default)]
    bold: bool,
    /// Foreground and background swapped, which works whatever the terminal's colours are.
    #[serde(default)]
    reversed: bool,
    /// Faint text.
    #[serde(default)]
    dim: bool,
    /// Italic text (not every terminal shows it).
    #[serde(default)]
    italic: bool,
    /// Struck-through text.
    #[serde(default)]
    crossed_out: bool,
}

/// A theme file. Every section is required, so a user's theme cannot silently lack one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// See [`Theme::unused_symbol`].
    unused_symbol: String,
    /// See [`Theme::status`].
    status: StyleSpec,
    /// See [`Theme::status_readonly`].
    status_readonly: StyleSpec,
    /// See [`Theme::unused`].
    unused: StyleSpec,
    /// See [`Theme::bar`].
    bar: StyleSpec,
    /// See [`Theme::bar_alert`].
    bar_alert: StyleSpec,
    /// See [`Theme::bar_key`].
    bar_key: StyleSpec,
    /// See [`Theme::sidebar`].
    sidebar: StyleSpec,
    /// See [`Theme::border`].
    border: StyleSpec,
    /// See [`Theme::title`].
    title: StyleSpec,
    /// See [`Theme::title_focused`].
    title_focused: StyleSpec,
    /// See [`Theme::selected`].
    selected: StyleSpec,
    /// See [`Theme::selected_unfocused`].
    selected_unfocused: StyleSpec,
    /// See [`Theme::dim`].
    dim: StyleSpec,
    /// See [`Theme::disabled`].
    disabled: StyleSpec,
    /// See [`Theme::access_rw`].
    access_rw: StyleSpec,
    /// See [`Theme::access_ro`].
    access_ro: StyleSpec,
    /// See [`Theme::overlay`].
    overlay: StyleSpec,
    /// See [`Theme::overlay_title`].
    overlay_title: StyleSpec,
    /// See [`Theme::log_error`].
    log_error: StyleSpec,
}

/// The names of the themes that ship with cotty; the first is the default.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// Where a user's themes live: `themes/` in the cotty config directory.
pub fn user_theme_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("cotty").join("themes"))
}

impl Theme {
    /// The theme called `name`: `user_dir/NAME.toml` if it exists, which replaces a built-in
    /// theme of that name, else the built-in one. Errors name the file and the key, or list
    /// the themes there are.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme> {
        // A name is a file name, not a path: `--theme ../x` must not read outside the dir.
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            bail!(
                "invalid theme name {name:?}: use {}, or the name of a file in the themes \
                 directory without .toml",
                builtin_names().join(", ")
            );
        }
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{name}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Theme::parse(name, &text).with_context(|| {
                        format!("failed to load the theme file {}", path.display())
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("failed to read the theme file {}", path.display())
                    });
                }
            }
        }
        if BUILTIN.iter().any(|(n, _)| *n == name) {
            return Theme::builtin(name);
        }
        let user = match user_dir {
            Some(dir) => format!("no {name}.toml in {}", dir.display()),
            None => "no user theme directory".to_string(),
        };
        bail!(
            "unknown theme {name:?}: the built-in themes are {}, and there is {user}",
            builtin_names().join(", ")
        )
    }

    /// A theme that ships with cotty.
    pub fn builtin(name: &str) -> Result<Theme> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            bail!(
                "unknown theme {name:?}; the built-in themes are: {}",
                builtin_names().join(", ")
            );
        };
        Theme::parse(name, text).with_context(|| format!("in the built-in theme {name:?}"))
    }

    /// The default theme.
    pub fn default_dark() -> Theme {
        Theme::builtin("dark").expect("invariant: the built-in dark theme parses")
    }

    /// Reads a theme from TOML text; errors name the section and the key.
    pub fn parse(name: &str, text: &str) -> Result<Theme> {
        let f: ThemeFile = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())?;
        // The symbol fills one cell; anything wider or empty would break the guest's grid.
        if f.unused_symbol.chars().count() != 1 {
            bail!(
                "invalid unused_symbol {:?}: expected exactly one character, such as \"·\"",
                f.unused_symbol
            );
        }
        Ok(Theme {
            name: name.to_string(),
            status: style(&f.status, "status")?,
            status_readonly: style(&f.status_readonly, "status_readonly")?,
            unused: style(&f.unused, "unused")?,
            unused_symbol: f.unused_symbol,
            bar: style(&f.bar, "bar")?,
            bar_alert: style(&f.bar_alert, "bar_alert")?,
            bar_key: style(&f.bar_key, "bar_key")?,
            sidebar: style(&f.sidebar, "sidebar")?,
            border: style(&f.border, "border")?,
            title: style(&f.title, "title")?,
            title_focused: style(&f.title_focused, "title_focused")?,
            selected: style(&f.selected, "selected")?,
            selected_unfocused: style(&f.selected_unfocused, "selected_unfocused")?,
            dim: style(&f.dim, "dim")?,
            disabled: style(&f.disabled, "disabled")?,
            access_rw: style(&f.access_rw, "access_rw")?,
            access_ro: style(&f.access_ro, "access_ro")?,
            overlay: style(&f.overlay, "overlay")?,
            overlay_title: style(&f.overlay_title, "overlay_title")?,
            log_error: style(&f.log_error, "log_error")?,
        })
    }
}

/// The style of `[section]`; an error names the section and the key.
fn style(spec: &StyleSpec, section: &str) -> Result<Style> {
    let mut s = Style::default();
    if let Some(fg) = &spec.fg {
        s = s.fg(parse_color(fg).with_context(|| format!("in [{section}], key fg"))?);
    }
    if let Some(bg) = &spec.bg {
        s = s.bg(parse_color(bg).with_context(|| format!("in [{section}], key bg"))?);
    }
    let switches = [
        (spec.bold, Modifier::BOLD),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
        (spec.italic, Modifier::ITALIC),
        (spec.crossed_out, Modifier::CROSSED_OUT),
    ];
    for (on, modifier) in switches {
        if on {
            s = s.add_modifier(modifier);
        }
    }
    Ok(s)
}

fn parse_color(s: &str) -> Result<Color> {
    s.parse::<Color>().map_err(|_| {
        anyhow!(
            "invalid colour {s:?}: use a name such as \"light-green\", an index 0-255, or \"#rrggbb\""
        )
    })
}

#[cfg(test)]
mod tests;
