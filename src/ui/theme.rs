//! Themes: `themes/*.toml` compiled in, read into a plain struct of styles.

use anyhow::{Context, Result, bail};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The themes that ship inside the binary, by name.
const BUILTIN: &[(&str, &str)] = &[("dark", include_str!("../../themes/dark.toml"))];

/// The styles cotty draws with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The theme's name.
    pub name: String,
    /// The status line of a read-write guest.
    pub status: Style,
    /// The status line of a read-only or locked guest.
    pub status_readonly: Style,
    /// Cells of a guest's terminal that the shared screen does not cover.
    pub unused: Style,
    /// The symbol drawn in those cells.
    pub unused_symbol: String,
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
}

/// A theme file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// See [`Theme::status`].
    status: StyleSpec,
    /// See [`Theme::status_readonly`].
    status_readonly: StyleSpec,
    /// See [`Theme::unused`].
    unused: StyleSpec,
    /// See [`Theme::unused_symbol`].
    unused_symbol: String,
}

impl Theme {
    /// A theme that ships with cotty.
    pub fn builtin(name: &str) -> Result<Theme> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            bail!(
                "unknown theme {name:?}; the themes are: {}",
                names.join(", ")
            );
        };
        Theme::parse(name, text).with_context(|| format!("in the built-in theme {name:?}"))
    }

    /// The default theme.
    pub fn default_dark() -> Theme {
        Theme::builtin("dark").expect("invariant: the built-in dark theme parses")
    }

    /// Reads a theme from TOML text; errors name the key.
    pub fn parse(name: &str, text: &str) -> Result<Theme> {
        let file: ThemeFile = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .context("failed to read the theme")?;
        Ok(Theme {
            name: name.to_string(),
            status: style(&file.status).context("in [status]")?,
            status_readonly: style(&file.status_readonly).context("in [status_readonly]")?,
            unused: style(&file.unused).context("in [unused]")?,
            unused_symbol: file.unused_symbol,
        })
    }
}

fn style(spec: &StyleSpec) -> Result<Style> {
    let mut s = Style::default();
    if let Some(fg) = &spec.fg {
        s = s.fg(parse_color(fg).context("in key fg")?);
    }
    if let Some(bg) = &spec.bg {
        s = s.bg(parse_color(bg).context("in key bg")?);
    }
    if spec.bold {
        s = s.add_modifier(Modifier::BOLD);
    }
    Ok(s)
}

fn parse_color(s: &str) -> Result<Color> {
    s.parse::<Color>().map_err(|_| {
        anyhow::anyhow!(
            "invalid colour {s:?}: use a name such as \"light-green\", an index 0-255, or \"#rrggbb\""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_theme_parses() {
        let t = Theme::default_dark();
        assert_eq!(t.name, "dark");
        assert_ne!(t.status, t.status_readonly);
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let text = r##"
            unused_symbol = "."
            [status]
            fg = "no-such-colour"
            [status_readonly]
            [unused]
        "##;
        let err = format!("{:#}", Theme::parse("t", text).expect_err("bad colour"));
        assert!(err.contains("[status]") && err.contains("fg"), "{err}");
        assert!(err.contains("#rrggbb"), "{err}");
        let err = format!("{:#}", Theme::builtin("nope").expect_err("unknown"));
        assert!(err.contains("dark"), "{err}");
    }
}
