//! Trust on first use for relay host keys, in the manner of OpenSSH's known_hosts.
//!
//! The file holds one `HOST:PORT SHA256:…` line per relay. A relay seen for the first time is
//! added; a relay whose key changed is a hard error that says which line to remove.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the file says about a relay's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is the one stored.
    Known,
    /// The relay is not in the file.
    New,
    /// The relay is in the file with another key.
    Changed {
        /// The 1-based line of the stored key.
        line: usize,
        /// The stored fingerprint.
        expected: String,
    },
}

/// The default file: `known_relays` in cotty's config directory.
pub fn default_path() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cotty")
        .join("known_relays")
}

/// Looks `relay` up in the file at `path`. A missing file knows no relays.
pub fn check(path: &Path, relay: &str, fingerprint: &str) -> Result<Verdict> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Verdict::New),
        Err(e) => {
            return Err(e).with_context(|| format!("failed to read {}", path.display()));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(fp)) = (words.next(), words.next()) else {
            continue;
        };
        if name == relay {
            return Ok(if fp == fingerprint {
                Verdict::Known
            } else {
                Verdict::Changed {
                    line: i + 1,
                    expected: fp.to_string(),
                }
            });
        }
    }
    Ok(Verdict::New)
}

/// Adds a relay's key to the file, creating it (and its directory) if needed.
pub fn add(path: &Path, relay: &str, fingerprint: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create the directory {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    writeln!(f, "{relay} {fingerprint}")
        .with_context(|| format!("failed to write {}", path.display()))
}

/// The error message for a changed key.
pub fn changed_message(path: &Path, relay: &str, line: usize, expected: &str, got: &str) -> String {
    format!(
        "relay key changed for {relay}: expected {expected}, got {got}; \
         if the relay was rebuilt, remove line {line} of {}; otherwise someone may be \
         intercepting the connection",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_use_is_stored_then_known_then_a_change_is_caught() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("known_relays");
        assert_eq!(
            check(&path, "r:2222", "SHA256:a").expect("check"),
            Verdict::New
        );
        add(&path, "other:22", "SHA256:z").expect("add");
        add(&path, "r:2222", "SHA256:a").expect("add");
        assert_eq!(
            check(&path, "r:2222", "SHA256:a").expect("check"),
            Verdict::Known
        );
        assert_eq!(
            check(&path, "r:2222", "SHA256:b").expect("check"),
            Verdict::Changed {
                line: 2,
                expected: "SHA256:a".into()
            }
        );
        let msg = changed_message(&path, "r:2222", 2, "SHA256:a", "SHA256:b");
        assert!(
            msg.contains("remove line 2 of") && msg.contains("known_relays"),
            "{msg}"
        );
    }
}
