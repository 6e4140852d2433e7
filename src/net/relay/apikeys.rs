//! `--api-keys`: the relay's API keys, each of which lets a host register named sessions
//! under a user name, and their reload on SIGHUP.
//!
//! The file has one `KEY USERNAME` a line; blank lines and `#` comments are skipped. A bad
//! line is logged with its file and line number and skipped, so one typo does not lock every
//! other user out. A reload that cannot read the file keeps the keys it had: an operator
//! editing the file must not take named sessions down by saving at the wrong moment.

use crate::net::relay::names::{NAME_RULE, valid_name};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::signal::unix::Signal;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The shortest API key taken: a guessable key would hand out a user's names.
pub const MIN_KEY_LEN: usize = 16;

/// The relay's API keys, read from a file and read again on SIGHUP.
#[derive(Debug)]
pub struct ApiKeys {
    /// The file, read again on SIGHUP and named in messages.
    path: PathBuf,
    /// API key to user name. A lookup table swapped whole on a reload: its lock is held only
    /// to clone or replace the `Arc`, never across an `.await`.
    table: Mutex<Arc<HashMap<String, String>>>,
}

/// What reading the file gave: the keys, and a line for each line that was skipped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// API key to user name.
    pub keys: HashMap<String, String>,
    /// Why lines were skipped, each naming the file and line.
    pub warnings: Vec<String>,
}

impl ApiKeys {
    /// Reads `path`; fails if the file cannot be read, and logs the lines it skips.
    pub fn load(path: &Path) -> Result<ApiKeys> {
        let parsed = read(path)?;
        for w in &parsed.warnings {
            warn!("{w}");
        }
        if parsed.keys.is_empty() {
            warn!(
                "the --api-keys file {} lists no keys: no host can register a named session",
                path.display()
            );
        }
        Ok(ApiKeys {
            path: path.to_path_buf(),
            table: Mutex::new(Arc::new(parsed.keys)),
        })
    }

    /// The user name of `key`, if the relay knows it.
    pub fn user(&self, key: &str) -> Option<String> {
        self.lock().get(key).cloned()
    }

    /// How many keys are known.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads the file again. On success the new keys replace the old ones (sessions already
    /// registered keep their names); on failure the old keys stay and the error says why.
    pub fn reload(&self) -> Result<usize> {
        let parsed = read(&self.path)?;
        for w in &parsed.warnings {
            warn!("{w}");
        }
        let n = parsed.keys.len();
        *self.lock() = Arc::new(parsed.keys);
        Ok(n)
    }

    fn lock(&self) -> MutexGuard<'_, Arc<HashMap<String, String>>> {
        // Every change is one assignment of a whole table, so a poisoned lock is still whole.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads and parses the file at `path`.
fn read(path: &Path) -> Result<Parsed> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "failed to read the --api-keys file {}; it lists `API_KEY USERNAME`, one a line",
            path.display()
        )
    })?;
    Ok(parse(path, &text))
}

/// Parses the text of the file at `path`: `KEY USERNAME` a line, `#` comments and blank lines
/// skipped. Bad lines are skipped with a warning that names the file and the line.
pub fn parse(path: &Path, text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("line {} of the --api-keys file {}", n + 1, path.display());
        let words: Vec<&str> = line.split_whitespace().collect();
        let why = match words.as_slice() {
            [key, user] if key.len() < MIN_KEY_LEN => {
                format!("the key for {user} is shorter than {MIN_KEY_LEN} characters")
            }
            [key, _] if !key.bytes().all(|b| b.is_ascii_graphic()) => {
                "the key has characters other than printable ASCII".to_string()
            }
            [_, user] if !valid_name(user) => {
                format!("the user name {user:?} is not {NAME_RULE}")
            }
            [key, user] => {
                if let Some(old) = out.keys.insert(key.to_string(), user.to_string()) {
                    out.warnings.push(format!(
                        "{at}: the key is listed twice (for {old} and {user}); {user} wins"
                    ));
                }
                continue;
            }
            _ => format!("expected `API_KEY USERNAME`, got {} words", words.len()),
        };
        out.warnings.push(format!("{at} skipped: {why}"));
    }
    out
}

/// Reloads `keys` on every SIGHUP until `shutdown`; without `--api-keys` there is nothing to
/// read again, and the signal is only logged. `hangup` is registered by the caller before the
/// relay says it listens ([`super::server::Relay::catch_hangup`]), so no SIGHUP kills it.
pub async fn reload_on_hangup(
    keys: Option<Arc<ApiKeys>>,
    mut hangup: Signal,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            got = hangup.recv() => if got.is_none() { return },
        }
        let Some(keys) = &keys else {
            info!("SIGHUP: no --api-keys file to read again; the relay goes on as it was");
            continue;
        };
        match keys.reload() {
            Ok(n) => info!(
                "SIGHUP: read {n} API keys from the --api-keys file {}",
                keys.path.display()
            ),
            Err(e) => warn!("SIGHUP: {e:#}; the API keys read before stay in use"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "k-alice-0123456789";
    const KEY_B: &str = "k-bob-0123456789ab";

    #[test]
    fn good_lines_map_keys_to_users_and_bad_lines_are_skipped_with_their_number() {
        let text = format!(
            "# operators' keys\n\n{KEY_A} alice\n  {KEY_B}   bob  \nshort carol\n\
             {KEY_A}x bad/name\nonly-one-word-here\n{KEY_A}y dave extra\n"
        );
        let p = parse(Path::new("keys.txt"), &text);
        assert_eq!(p.keys.len(), 2, "{p:?}");
        assert_eq!(p.keys.get(KEY_A).map(String::as_str), Some("alice"));
        assert_eq!(p.keys.get(KEY_B).map(String::as_str), Some("bob"));
        let w = p.warnings.join("\n");
        assert_eq!(p.warnings.len(), 4, "{w}");
        for (line, word) in [
            (5, "shorter than 16"),
            (6, "bad/name"),
            (7, "got 1 words"),
            (8, "got 3 words"),
        ] {
            let needle = format!("line {line} of the --api-keys file keys.txt skipped");
            assert!(
                p.warnings
                    .iter()
                    .any(|l| l.contains(&needle) && l.contains(word)),
                "line {line} ({word}) not warned: {w}"
            );
        }
    }

    #[test]
    fn a_reload_takes_new_keys_and_a_failed_one_keeps_the_old() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("api_keys");
        std::fs::write(&path, format!("{KEY_A} alice\n")).expect("write");
        let keys = ApiKeys::load(&path).expect("loads");
        assert_eq!(keys.user(KEY_A).as_deref(), Some("alice"));
        assert_eq!(keys.user(KEY_B), None);
        std::fs::write(&path, format!("{KEY_B} bob\n")).expect("write");
        assert_eq!(keys.reload().expect("reloads"), 1);
        assert_eq!(
            keys.user(KEY_A),
            None,
            "a key taken out of the file is gone"
        );
        assert_eq!(keys.user(KEY_B).as_deref(), Some("bob"));
        std::fs::remove_file(&path).expect("rm");
        let err = keys.reload().expect_err("no file");
        assert!(format!("{err:#}").contains("--api-keys file"), "{err:#}");
        assert_eq!(keys.user(KEY_B).as_deref(), Some("bob"), "old keys stay");
        assert!(
            ApiKeys::load(&path).is_err(),
            "a missing file stops the relay"
        );
    }
}
