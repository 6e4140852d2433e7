//! The layers of settings (the file, `COTTY_*` variables, flags) and how a key is read
//! from them, naming where a bad value came from.

use super::{KEYS, env_name};
use anyhow::{Context, Result, anyhow, bail};
use config::{Config, FileFormat, Source, Value};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// The `COTTY_*` variables of this process.
pub(super) fn cotty_env() -> Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    // `std::env::vars` panics on a variable that is not UTF-8; only ours have to be.
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str().filter(|n| n.starts_with("COTTY_")) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((name.to_string(), value)),
            Err(_) if KEYS.iter().any(|k| env_name(k) == name) => {
                bail!("the environment variable {name} is not valid UTF-8; fix or unset it")
            }
            Err(_) => {}
        }
    }
    Ok(vars)
}

/// Parses the config file, or `None` when it is missing and not required.
pub(super) fn read_file(path: &Path, required: bool) -> Result<Option<Config>> {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "config file {shown} not found; check the -f/--config path (or COTTY_CONFIG), \
             or write a default one with `cotty --print-default-config > {shown}`"
        ),
        Err(e) => {
            return Err(e).with_context(|| format!("failed to read the config file {shown}"));
        }
    };
    let cfg = Config::builder()
        .add_source(config::File::from_str(&text, FileFormat::Toml))
        .build()
        .with_context(|| format!("failed to parse the config file {shown}"))?;
    let table = cfg
        .collect()
        .with_context(|| format!("failed to parse the config file {shown}"))?;
    let mut unknown: Vec<&String> = table
        .keys()
        .filter(|k| !KEYS.contains(&k.as_str()))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        let unknown: Vec<String> = unknown.iter().map(|k| format!("{k:?}")).collect();
        let plural = if unknown.len() > 1 { "s" } else { "" };
        bail!(
            "unknown key{plural} {} in {shown}; the keys are: {} \
             (`cotty --print-default-config` shows each with its default)",
            unknown.join(", "),
            KEYS.join(", ")
        );
    }
    Ok(Some(cfg))
}

/// Where a setting's value came from, for error messages.
pub(super) enum Origin<'a> {
    /// The config file.
    File(&'a Path),
    /// An environment variable, by name.
    Env(String),
    /// A flag, such as `--theme`.
    Flag(&'static str),
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "the environment variable {name}"),
            Origin::Flag(flag) => write!(f, "the flag {flag}"),
        }
    }
}

/// The layered settings, and what is needed to say where a value came from.
pub(super) struct Layers<'a> {
    /// File, environment and flags merged by the config crate.
    pub(super) cfg: Config,
    /// The file that was read, if any.
    pub(super) file: Option<&'a Path>,
    /// The `COTTY_*` settings that were set.
    pub(super) env: HashMap<String, String>,
    /// The flags, as [`super::flags`] lists them.
    pub(super) flags: Vec<(&'static str, &'static str, Option<String>)>,
}

impl Layers<'_> {
    /// The value of `key` run through `parse`; `None` when no layer sets it. An error names
    /// the key, where the value came from, `expected`, and the bad value.
    pub(super) fn get<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        let value = match self.cfg.get::<Value>(key) {
            Ok(value) => value,
            Err(config::ConfigError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("failed to read the setting {key}")),
        };
        // Numbers and booleans become their text, so the file may quote them or not; tables
        // and arrays are always wrong, but their display is still worth showing.
        let (text, parsed) = match value.clone().into_string() {
            Ok(text) => {
                let parsed = parse(&text);
                (text, parsed)
            }
            Err(_) => (value.to_string(), None),
        };
        match parsed {
            Some(v) => Ok(Some(v)),
            None => Err(anyhow!(
                "invalid value for {key} in {}: expected {expected}, got {text:?}",
                self.origin(key)
            )),
        }
    }

    /// The highest layer that sets `key`, mirroring the order of the layers in [`load_from`].
    pub(super) fn origin(&self, key: &str) -> Origin<'_> {
        if let Some((_, flag, _)) = self.flags.iter().find(|(k, _, v)| *k == key && v.is_some()) {
            return Origin::Flag(flag);
        }
        let var = env_name(key);
        if self.env.contains_key(&var) {
            return Origin::Env(var);
        }
        // No defaults are layered, so anything else came from the file.
        Origin::File(self.file.unwrap_or(Path::new("the config file")))
    }
}
