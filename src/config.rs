//! Settings: `cotty.toml` in the config directory, then `COTTY_*` variables, then flags.

use crate::cli::Cli;
use anyhow::Result;
use std::path::PathBuf;

/// Which side of the dashboard the sidebar is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// On the right, as in the design.
    #[default]
    Right,
    /// On the left.
    Left,
}

/// How the shared size is chosen (tmux's `window-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowSize {
    /// The smallest of the host and the read-write guests.
    #[default]
    Smallest,
    /// The host's terminal alone.
    Host,
}

/// Every setting, after layering file, environment and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The dashboard's prefix key, as written (`C-b`).
    pub prefix: String,
    /// The theme's name.
    pub theme: String,
    /// The program to share; `$SHELL` when unset.
    pub shell: Option<String>,
    /// The relay to dial; the built-in relay when unset.
    pub relay: Option<String>,
    /// The relay's pinned host key fingerprint.
    pub relay_fingerprint: Option<String>,
    /// The known-relays file; the default path when unset.
    pub known_relays: Option<PathBuf>,
    /// Columns of the sidebar.
    pub sidebar_width: u16,
    /// Where the sidebar is.
    pub sidebar_side: Side,
    /// How the shared size is chosen.
    pub window_size: WindowSize,
    /// Where the built-in relay listens; 0.0.0.0:2222 or the next free port when unset.
    pub listen: Option<String>,
    /// The host name in the built-in relay's links.
    pub public_host: Option<String>,
    /// The file the settings came from, if it exists (for error messages).
    pub file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prefix: "C-b".into(),
            theme: "dark".into(),
            shell: None,
            relay: None,
            relay_fingerprint: None,
            known_relays: None,
            sidebar_width: 38,
            sidebar_side: Side::Right,
            window_size: WindowSize::Smallest,
            listen: None,
            public_host: None,
            file: None,
        }
    }
}

/// A commented default config file, as `--print-default-config` prints it.
pub const DEFAULT_CONFIG: &str = "";

/// The default path of the config file.
pub fn default_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cotty")
        .join("cotty.toml")
}

/// Reads the settings: the file, then `COTTY_*` variables, then the flags in `cli`.
pub fn load(_cli: &Cli) -> Result<Settings> {
    Ok(Settings::default())
}
