//! The host's side of `-a/--authorized-keys`: reading the guests' keys into the lines the
//! hello (and `reload-keys`) sends to the relay.
//!
//! The relay checks the keys; the host only reads the file, says what is wrong with it, and
//! sends every good key as a normalised line (options cotty honours, key, comment).

use crate::config::Settings;
use crate::core::authkeys;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Where a session's guest keys come from; empty for a session anyone with the link may
/// join. Kept by the host so that `reload-keys` reads the same sources again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestKeySource {
    /// The authorized_keys file (`-a`, `authorized_keys` in the config).
    pub file: Option<PathBuf>,
}

impl GuestKeySource {
    /// The sources the settings name.
    pub fn from_settings(settings: &Settings) -> GuestKeySource {
        GuestKeySource {
            file: settings.authorized_keys.clone(),
        }
    }

    /// Whether the session lists its guests' keys at all.
    pub fn is_set(&self) -> bool {
        self.file.is_some()
    }
}

/// The keys read from a source, as lines for the relay, and what was wrong on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestKeyList {
    /// authorized_keys lines, one key each: `[cotty-ro] TYPE BASE64 COMMENT`.
    pub lines: Vec<String>,
    /// Bad lines and ignored options, each naming the file and the line, for the host's log.
    pub warnings: Vec<String>,
}

/// Reads the guest keys `source` names: `None` when it names none. An unreadable file, or
/// one with no usable key, is an error naming it; bad lines are skipped with a warning.
pub fn guest_key_lines(source: &GuestKeySource) -> Result<Option<GuestKeyList>> {
    let Some(path) = &source.file else {
        return Ok(None);
    };
    let list = read_file(path)?;
    if list.lines.is_empty() {
        bail!(
            "the authorized_keys file {} (-a) lists no usable key, so nobody could join; add \
             a guest's public key, one `ssh-ed25519 AAAA… name` a line{}",
            path.display(),
            match list.warnings.first() {
                Some(w) => format!(" ({w})"),
                None => String::new(),
            }
        );
    }
    Ok(Some(list))
}

/// Reads one authorized_keys file.
fn read_file(path: &Path) -> Result<GuestKeyList> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "failed to read the authorized_keys file {} (-a / authorized_keys); it lists the \
             public keys of the guests that may join, one per line as in ~/.ssh/authorized_keys",
            path.display()
        )
    })?;
    let parsed = authkeys::parse(&text);
    let warnings = parsed
        .problems
        .iter()
        .map(|p| {
            let skipped = if p.skipped { "; skipped" } else { "" };
            format!("{}: {p}{skipped}", path.display())
        })
        .collect();
    Ok(GuestKeyList {
        lines: parsed.keys.iter().map(authkeys::AuthKey::to_line).collect(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::authkeys::testing;

    fn alice() -> String {
        testing::line(&testing::key(7), "")
    }

    fn source(dir: &Path, text: &str) -> GuestKeySource {
        let path = dir.join("guests");
        std::fs::write(&path, text).expect("writes");
        GuestKeySource { file: Some(path) }
    }

    #[test]
    fn good_keys_become_lines_and_bad_lines_warnings_with_their_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = alice();
        let text = format!("# guests\n{key} alice\nnot a key\ncotty-ro,pty {key} bob\n");
        let list = guest_key_lines(&source(dir.path(), &text))
            .expect("reads")
            .expect("set");
        assert_eq!(
            list.lines,
            [format!("{key} alice"), format!("cotty-ro {key} bob")]
        );
        assert_eq!(list.warnings.len(), 2, "{:?}", list.warnings);
        assert!(list.warnings[0].contains("guests: line 3: not a public key"));
        assert!(list.warnings[0].ends_with("skipped"));
        assert!(list.warnings[1].contains("line 4: option pty is not supported"));
    }

    #[test]
    fn a_missing_or_empty_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = GuestKeySource {
            file: Some(dir.path().join("nope")),
        };
        let err = format!("{:#}", guest_key_lines(&missing).expect_err("missing"));
        assert!(
            err.contains("nope") && err.contains("authorized_keys"),
            "{err}"
        );
        let err = guest_key_lines(&source(dir.path(), "# none yet\n")).expect_err("empty");
        assert!(err.to_string().contains("no usable key"), "{err}");
        assert_eq!(guest_key_lines(&GuestKeySource::default()).ok(), Some(None));
    }
}
