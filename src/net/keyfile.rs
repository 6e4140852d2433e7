//! Ed25519 key files that cotty makes for itself: the relay's host key and a host's identity.
//!
//! A missing file is created with mode 0600, as `ssh-keygen` would; an existing one must be
//! an unencrypted OpenSSH private key.

use anyhow::{Context, Result};
use russh::keys::PrivateKey;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use std::path::Path;
use tracing::info;

/// Reads the private key at `path`, or creates an Ed25519 key there if there is none.
///
/// `what` names the key in messages ("relay host key", "host identity key"); `comment` is
/// written into a new key, so it is recognisable in an authorized_keys list.
pub fn load_or_create(path: &Path, what: &str, comment: &str) -> Result<PrivateKey> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None).with_context(|| {
            format!(
                "failed to read the {what} {}; it must be an unencrypted OpenSSH private key: \
                 fix the file or remove it to create a new key",
                path.display()
            )
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create the directory {}", dir.display()))?;
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no OS random source: {e}"))?;
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment(comment);
    key.write_openssh_file(path, LineEnding::LF)
        .with_context(|| format!("failed to write the {what} {}", path.display()))?;
    info!("created {what} {}", path.display());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_key_is_created_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("key");
        let made = load_or_create(&path, "test key", "cotty test").expect("created");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let read = load_or_create(&path, "test key", "ignored").expect("read");
        assert_eq!(made.public_key(), read.public_key());
        assert_eq!(read.comment().as_str_lossy(), "cotty test");
    }

    #[test]
    fn a_bad_file_is_named_with_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").expect("write");
        let err = load_or_create(&path, "host identity key", "x").expect_err("bad key");
        let text = format!("{err:#}");
        assert!(
            text.contains("host identity key") && text.contains(&path.display().to_string()),
            "{text}"
        );
    }
}
