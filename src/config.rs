//! Settings: `cotty.toml` in the config directory, then `COTTY_*` variables, then flags.

use crate::cli::{Cli, DURATION_FORM, parse_duration};
use crate::host::SessionNames;
use anyhow::{Context, Result};
use config::{Config, Environment};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// How the sidebar shares the terminal with the shared pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SidebarMode {
    /// The pane takes the whole terminal; `C-b s` opens the sidebar over it, Esc closes it.
    #[default]
    Overlay,
    /// Beside the pane, which has that many columns less.
    Docked,
    /// Docked when the pane keeps [`SidebarMode::AUTO_COLS`] columns, else an overlay.
    Auto,
}

impl SidebarMode {
    /// The pane's width from which `auto` docks the sidebar.
    pub const AUTO_COLS: u16 = 120;

    /// The mode as written in the config file.
    fn parse(text: &str) -> Option<SidebarMode> {
        match text {
            "overlay" => Some(SidebarMode::Overlay),
            "docked" => Some(SidebarMode::Docked),
            "auto" => Some(SidebarMode::Auto),
            _ => None,
        }
    }
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
    /// The key offered to a relay that only lets listed keys host; the default path when
    /// unset.
    pub identity: Option<PathBuf>,
    /// The dashboard's prefix with `--tmux`, where tmux has C-b.
    pub tmux_prefix: String,
    /// How the sidebar shares the terminal with the pane.
    pub sidebar: SidebarMode,
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
    /// Guests' keys to fetch from forges (`--github USER`), and where the forges are.
    pub forge: forge::ForgeSettings,
    /// The API key and names of a named session; all unset for random links.
    pub named: SessionNames,
    /// The guests' keys (`-a`): only guests that prove one may join.
    pub authorized_keys: Option<PathBuf>,
    /// How long after the session starts its links let new guests in; no end when unset.
    pub link_ttl: Option<Duration>,
    /// The file the settings came from, if it exists (for error messages).
    pub file: Option<PathBuf>,
    /// Every new guest waits until the host lets it in (`--approve`).
    pub approve: bool,
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
            identity: None,
            tmux_prefix: "C-]".into(),
            sidebar: SidebarMode::Overlay,
            sidebar_width: 38,
            sidebar_side: Side::Right,
            window_size: WindowSize::Smallest,
            listen: None,
            public_host: None,
            forge: forge::ForgeSettings::default(),
            named: SessionNames::default(),
            authorized_keys: None,
            link_ttl: None,
            file: None,
            approve: false,
        }
    }
}

/// Every key of `cotty.toml`, in the order of [`Settings`]. Each is also read from the
/// environment as `COTTY_` and the key in capitals; no other `COTTY_*` variable is a setting.
const KEYS: &[&str] = &[
    "prefix",
    "theme",
    "shell",
    "relay",
    "relay_fingerprint",
    "known_relays",
    "identity",
    "tmux_prefix",
    "sidebar",
    "sidebar_width",
    "sidebar_side",
    "window_size",
    "listen",
    "public_host",
    "github",
    "gitlab",
    "codeberg",
    "forge_urls",
    "api_key",
    "name",
    "ro_name",
    "authorized_keys",
    "approve",
    "link_ttl",
];

/// A commented default config file, as `--print-default-config` prints it.
///
/// Loading it gives exactly [`Settings::default`]; a unit test holds it to that.
pub const DEFAULT_CONFIG: &str = include_str!("config/default.toml");

/// The default path of the config file.
pub fn default_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cotty")
        .join("cotty.toml")
}

/// Reads the settings: the file, then `COTTY_*` variables, then the flags in `cli`.
///
/// The file is `-f`/`--config` (which must exist) or [`default_path`] (which may not).
pub fn load(cli: &Cli) -> Result<Settings> {
    let env = cotty_env()?;
    match &cli.config {
        Some(path) => load_from(Some(path), true, &env, cli),
        None => load_from(Some(&default_path()), false, &env, cli),
    }
}

/// Layers defaults < `file` < `env` < the flags in `cli`, and checks every value.
///
/// A missing `file` is an error only when `file_required`. `env` holds every environment
/// variable (only the `COTTY_*` settings are read); it is a parameter so tests need not touch
/// the process's environment. Errors name the key and where its value came from.
pub fn load_from(
    file: Option<&Path>,
    file_required: bool,
    env: &[(String, String)],
    cli: &Cli,
) -> Result<Settings> {
    let file = match file {
        Some(path) => read_file(path, file_required)?.map(|cfg| (path, cfg)),
        None => None,
    };
    // Empty variables count as unset, as most programs treat them.
    let env: HashMap<String, String> = env
        .iter()
        .filter(|(name, value)| !value.is_empty() && KEYS.iter().any(|k| env_name(k) == *name))
        .cloned()
        .collect();
    let flags = flags(cli);

    let mut builder = Config::builder();
    if let Some((_, cfg)) = &file {
        builder = builder.add_source(cfg.clone());
    }
    builder = builder.add_source(Environment::with_prefix("COTTY").source(Some(env.clone())));
    for (key, _, value) in &flags {
        builder = builder
            .set_override_option(*key, value.clone())
            .context("failed to apply the flags")?;
    }
    let layers = Layers {
        cfg: builder.build().context("failed to layer the settings")?,
        file: file.as_ref().map(|(path, _)| *path),
        env,
        flags,
    };

    let mut s = Settings {
        file: layers.file.map(Path::to_path_buf),
        ..Settings::default()
    };
    if let Some(v) = layers.get("prefix", "a key such as C-b or C-a", non_empty)? {
        s.prefix = v;
    }
    let theme = "a theme name such as dark, light or high-contrast";
    if let Some(v) = layers.get("theme", theme, non_empty)? {
        s.theme = v;
    }
    s.shell = layers.get("shell", "a program such as /bin/bash", non_empty)?;
    let relay = "the relay as HOST or HOST:PORT (port 2222 if left out)";
    s.relay = layers.get("relay", relay, relay_address)?;
    let fingerprint = "a fingerprint such as SHA256:... (SHA256: and 43 base64 characters), as \
                       `cotty relay` prints it";
    s.relay_fingerprint = layers.get("relay_fingerprint", fingerprint, sha256_fingerprint)?;
    s.known_relays = layers
        .get("known_relays", "a file path", non_empty)?
        .map(PathBuf::from);
    s.identity = layers
        .get("identity", "a file path", non_empty)?
        .map(PathBuf::from);
    // Paths need not be UTF-8, so the flags bypass the text layers and are taken as given.
    if let Some(path) = &cli.known_relays {
        s.known_relays = Some(path.clone());
    }
    if let Some(path) = &cli.identity {
        s.identity = Some(path.clone());
    }
    let columns = "a number of columns 20-200";
    if let Some(v) = layers.get("sidebar_width", columns, |t| {
        t.parse::<u16>().ok().filter(|w| (20..=200).contains(w))
    })? {
        s.sidebar_width = v;
    }
    if let Some(v) = layers.get("tmux_prefix", "a key such as C-] or C-a", non_empty)? {
        s.tmux_prefix = v;
    }
    let modes = "overlay, docked or auto";
    if let Some(v) = layers.get("sidebar", modes, SidebarMode::parse)? {
        s.sidebar = v;
    }
    if let Some(v) = layers.get("sidebar_side", "right or left", Side::parse)? {
        s.sidebar_side = v;
    }
    if let Some(v) = layers.get("window_size", "smallest or host", WindowSize::parse)? {
        s.window_size = v;
    }
    let addr = "an address such as 0.0.0.0:2222 or 127.0.0.1:0";
    s.listen = layers.get("listen", addr, |t| {
        t.parse::<SocketAddr>().ok().map(|_| t.to_string())
    })?;
    s.public_host = layers.get("public_host", "a host name or address", non_empty)?;
    s.forge = forge::load(&layers, &cli.forge)?;
    s.named = named::resolve(&layers)?;
    s.authorized_keys = match &cli.keys.authorized_keys {
        Some(path) => Some(path.clone()),
        None => layers
            .get("authorized_keys", "a file path", non_empty)?
            .map(PathBuf::from),
    };
    s.approve = layers
        .get("approve", "true or false", |t| t.parse::<bool>().ok())?
        .unwrap_or(false);
    s.link_ttl = layers.get("link_ttl", DURATION_FORM, |t| parse_duration(t).ok())?;
    Ok(s)
}

impl Side {
    /// The side as written in the config file.
    fn parse(text: &str) -> Option<Side> {
        match text {
            "right" => Some(Side::Right),
            "left" => Some(Side::Left),
            _ => None,
        }
    }
}

impl WindowSize {
    /// The policy as written in the config file.
    fn parse(text: &str) -> Option<WindowSize> {
        match text {
            "smallest" => Some(WindowSize::Smallest),
            "host" => Some(WindowSize::Host),
            _ => None,
        }
    }
}

/// The relay's port when `relay` names only a host, as `cotty relay` listens by default.
pub const RELAY_PORT: u16 = 2222;

/// A relay as HOST:PORT: `relay.example.org`, `192.0.2.1` and `[2001:db8::1]` (or a bare
/// IPv6 address) get port 2222; a given port must be a number.
fn relay_address(text: &str) -> Option<String> {
    if text.parse::<SocketAddr>().is_ok() {
        return Some(text.to_string());
    }
    if let Ok(v6) = text.trim_matches(['[', ']']).parse::<std::net::Ipv6Addr>() {
        return Some(format!("[{v6}]:{RELAY_PORT}"));
    }
    match text.rsplit_once(':') {
        None if !text.is_empty() => Some(format!("{text}:{RELAY_PORT}")),
        Some((host, port)) if !host.is_empty() && !host.contains(':') => {
            port.parse::<u16>().ok().map(|_| text.to_string())
        }
        _ => None,
    }
}

/// A host key fingerprint as OpenSSH and `cotty relay` print it: `SHA256:` and the hash in
/// unpadded base64 (43 characters).
fn sha256_fingerprint(text: &str) -> Option<String> {
    let hash = text.strip_prefix("SHA256:")?;
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    (hash.len() == 43 && hash.bytes().all(base64)).then(|| text.to_string())
}

/// Accepts any text but the empty string, which would only fail later and less clearly.
fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// The environment variable that sets `key`.
fn env_name(key: &str) -> String {
    format!("COTTY_{}", key.to_ascii_uppercase())
}

/// The flags that set a key, as (key, flag, value). `--known-relays` and `--identity` are
/// applied separately.
fn flags(cli: &Cli) -> Vec<(&'static str, &'static str, Option<String>)> {
    vec![
        ("prefix", "--prefix", cli.prefix.clone()),
        ("theme", "--theme", cli.theme.clone()),
        ("shell", "--shell", cli.shell.clone()),
        ("relay", "--relay", cli.relay.clone()),
        (
            "relay_fingerprint",
            "--relay-fingerprint",
            cli.relay_fingerprint.clone(),
        ),
        ("window_size", "--window-size", cli.window_size.clone()),
        ("listen", "--listen", cli.listen.clone()),
        ("public_host", "--public-host", cli.public_host.clone()),
        ("api_key", "--api-key", cli.named.api_key.clone()),
        ("name", "--name", cli.named.name.clone()),
        ("ro_name", "--ro-name", cli.named.ro_name.clone()),
        (
            "approve",
            "--approve",
            cli.approve.approve.then(|| "true".into()),
        ),
        ("link_ttl", "--link-ttl", cli.links.link_ttl.clone()),
    ]
}

mod layers;
use layers::{Layers, cotty_env, read_file};

pub mod forge;
mod named;
#[cfg(test)]
mod tests;
