//! Whether a control socket's directory and file can be trusted, checked without following
//! symbolic links, so that another local user can neither receive a cotty's socket nor stand
//! in for one and feed a script fake links.
//!
//! The directory is checked with `lstat` and then opened with `O_NOFOLLOW`, and the open
//! directory must be the one that was checked (same device and inode). Names inside it are
//! then reached through `/proc/self/fd`, so the socket is bound in, or connected to from,
//! that very directory even if a path above it changes meanwhile.

use anyhow::{Context, Result, bail};
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What the caller is about to do with the directory, for the words of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A cotty binding its socket.
    Bind,
    /// `cotty -S PATH COMMAND` connecting to one.
    Connect,
}

impl Role {
    /// How an error begins: what we refuse to do, up to the directory's path.
    fn refusing(self) -> &'static str {
        match self {
            Role::Bind => "refusing to put the control socket in",
            Role::Connect => "refusing to use the control socket in",
        }
    }
}

/// Our user id, without libc: the owner of `/proc/self`, or of the home directory elsewhere.
pub(super) fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self")
        .or_else(|_| std::fs::metadata(dirs::home_dir().unwrap_or_default()))
        .ok()
        .map(|m| m.uid())
}

/// A directory that was checked and is held open, so that it cannot be swapped afterwards.
#[derive(Debug)]
pub(super) struct CheckedDir {
    /// The directory as given, for messages and where `/proc/self/fd` is missing.
    path: PathBuf,
    /// The open directory; names in it are reached through its descriptor.
    file: File,
}

impl CheckedDir {
    /// Checks `dir` for `role` and opens it; `Ok(None)` when it does not exist.
    ///
    /// Refuses a symbolic link, a non-directory, a directory that another user (not root)
    /// owns, and one that others can write to unless it is sticky like `/tmp`; `uid` is ours.
    pub(super) fn open(dir: &Path, uid: Option<u32>, role: Role) -> Result<Option<CheckedDir>> {
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("failed to read {} for the control socket", dir.display())
                });
            }
        };
        if meta.file_type().is_symlink() {
            bail!(
                "{} {}: it is a symbolic link, which its owner could point anywhere; remove the \
                 link (cotty makes the directory itself) or pass -S PATH in the real directory",
                role.refusing(),
                dir.display()
            );
        }
        if !meta.is_dir() {
            bail!(
                "{} is not a directory; pass -S PATH with a path inside a directory",
                dir.display()
            );
        }
        check_dir(dir, meta.uid(), meta.mode(), uid, role)?;
        // O_NOFOLLOW: if the directory was replaced by a link since the check, this fails.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(dir)
            .with_context(|| {
                format!(
                    "failed to open {} for the control socket; if it was just replaced, \
                     check who else uses it",
                    dir.display()
                )
            })?;
        let opened = file
            .metadata()
            .with_context(|| format!("failed to read the open directory {}", dir.display()))?;
        if !same_file(&meta, &opened) {
            bail!(
                "{} {}: it was replaced while cotty checked it; check who else uses it, or pass \
                 -S PATH in a directory of your own",
                role.refusing(),
                dir.display()
            );
        }
        Ok(Some(CheckedDir {
            path: dir.to_path_buf(),
            file,
        }))
    }

    /// A path to `name` inside this very directory, valid while `self` lives: through the
    /// open descriptor on Linux, or the plain path where `/proc` is not mounted.
    pub(super) fn entry(&self, name: &OsStr) -> PathBuf {
        use std::os::fd::AsRawFd;
        let via_fd = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
        let entry = via_fd.join(name);
        // A socket address holds at most 107 bytes of path, and a short directory such as
        // /tmp can leave more room for a long name than the descriptor's path does.
        let fits = entry.as_os_str().len() < 108;
        // The descriptor's entry must lead to the directory we hold, not merely exist.
        match (std::fs::metadata(&via_fd), self.file.metadata()) {
            (Ok(a), Ok(b)) if fits && same_file(&a, &b) => entry,
            _ => self.path.join(name),
        }
    }

    /// Checks that the socket file `name` in this directory is one to talk to: a socket
    /// itself, not a link to one, owned by us or root; `Ok(false)` when there is none.
    /// `shown` is the socket's path as the user gave it, for messages.
    pub(super) fn check_socket(
        &self,
        name: &OsStr,
        shown: &Path,
        uid: Option<u32>,
    ) -> Result<bool> {
        let meta = match std::fs::symlink_metadata(self.entry(name)) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(e).with_context(|| format!("failed to check {}", shown.display()));
            }
        };
        if meta.file_type().is_symlink() {
            bail!(
                "refusing to use the control socket {}: it is a symbolic link, which its owner \
                 could point at another program's socket; pass -S with the socket's real path",
                shown.display()
            );
        }
        if !meta.file_type().is_socket() {
            bail!(
                "{} is not a socket, so no cotty is running there; start one with `cotty -S {}`",
                shown.display(),
                shown.display()
            );
        }
        if let Some(uid) = uid
            && meta.uid() != uid
            && meta.uid() != 0
        {
            bail!(
                "refusing to use the control socket {}: it belongs to uid {}, not to you (uid \
                 {uid}), and could be another user's program standing in for your cotty; \
                 remove it and start your cotty again, or pass -S PATH in a directory of your own",
                shown.display(),
                meta.uid()
            );
        }
        Ok(true)
    }
}

/// Whether two metadata describe the same file.
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

/// Refuses a directory, owned by `owner` with `mode`, where someone else could replace the
/// socket; `uid` is ours.
pub(super) fn check_dir(
    dir: &Path,
    owner: u32,
    mode: u32,
    uid: Option<u32>,
    role: Role,
) -> Result<()> {
    // Root owns shared directories such as /tmp; anyone else who owns the directory could
    // swap the socket for one of their own.
    if let Some(uid) = uid
        && owner != uid
        && owner != 0
    {
        bail!(
            "{} {}: it belongs to uid {}, not to you (uid {uid}), and its owner could swap the \
             socket for their own; remove it or pass -S PATH in a directory of your own",
            role.refusing(),
            dir.display(),
            owner
        );
    }
    let mode = mode & 0o7777;
    // In a sticky directory such as /tmp, others cannot remove or rename our socket.
    let sticky = mode & 0o1000 != 0;
    if !sticky && mode & 0o022 != 0 {
        bail!(
            "{} {}: others can write to it (mode {mode:04o}) and could replace the socket; run \
             `chmod go-w {}` or pass -S PATH in a private directory",
            role.refusing(),
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A user other than the one running the tests (nobody); root may give files to it.
    const OTHER_UID: u32 = 65534;

    fn give_away(path: &Path) {
        std::os::unix::fs::chown(path, Some(OTHER_UID), None)
            .expect("chown to another uid (the tests run as root)");
    }

    #[test]
    fn current_uid_owns_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            current_uid(),
            Some(std::fs::metadata(dir.path()).unwrap().uid())
        );
    }

    #[test]
    fn check_dir_wants_the_directory_ours_or_roots() {
        let d = Path::new("/tmp/cotty-1000");
        assert!(check_dir(d, 1000, 0o40700, Some(1000), Role::Bind).is_ok());
        let err = check_dir(d, 1001, 0o40700, Some(1000), Role::Bind)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "refusing to put the control socket in /tmp/cotty-1000: it belongs to uid 1001, \
             not to you (uid 1000), and its owner could swap the socket for their own; remove \
             it or pass -S PATH in a directory of your own"
        );
        // Its owner can remove our socket from a sticky directory too.
        assert!(check_dir(d, 1001, 0o41777, Some(1000), Role::Bind).is_err());
        // /tmp itself.
        assert!(check_dir(Path::new("/tmp"), 0, 0o41777, Some(1000), Role::Bind).is_ok());
    }

    #[test]
    fn check_dir_allows_others_to_write_only_when_sticky() {
        let d = Path::new("/srv/team");
        for mode in [0o40770, 0o40777, 0o40757] {
            let err = check_dir(d, 1000, mode, Some(1000), Role::Bind)
                .unwrap_err()
                .to_string();
            assert!(err.contains("others can write to it (mode 0"), "{err}");
        }
        assert!(check_dir(d, 1000, 0o41777, Some(1000), Role::Bind).is_ok());
        assert!(check_dir(d, 0, 0o40755, Some(1000), Role::Bind).is_ok());
    }

    #[test]
    fn open_of_a_missing_directory_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let got = CheckedDir::open(&dir.path().join("gone"), current_uid(), Role::Connect);
        assert!(got.unwrap().is_none());
    }

    #[test]
    fn open_refuses_a_link_even_to_a_directory_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("cotty-0");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        for role in [Role::Bind, Role::Connect] {
            let err = CheckedDir::open(&link, current_uid(), role)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&link.display().to_string()), "{err}");
            assert!(err.contains("it is a symbolic link"), "{err}");
            assert!(err.contains("remove the link"), "{err}");
        }
    }

    #[test]
    fn open_refuses_a_directory_of_another_user() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        give_away(&theirs);
        let err = CheckedDir::open(&theirs, current_uid(), Role::Connect)
            .unwrap_err()
            .to_string();
        let want = format!(
            "refusing to use the control socket in {}: it belongs to uid {OTHER_UID}",
            theirs.display()
        );
        assert!(err.starts_with(&want), "{err}");
    }

    #[test]
    fn entry_stays_in_the_checked_directory_when_its_path_is_swapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        std::fs::create_dir(&path).unwrap();
        let checked = CheckedDir::open(&path, current_uid(), Role::Bind)
            .unwrap()
            .unwrap();
        // Someone moves the checked directory away and puts their own in its place.
        let moved = dir.path().join("moved");
        std::fs::rename(&path, &moved).unwrap();
        std::fs::create_dir(&path).unwrap();
        std::fs::write(checked.entry(OsStr::new("probe")), "x").unwrap();
        assert!(moved.join("probe").exists(), "the entry left the directory");
        assert!(
            !path.join("probe").exists(),
            "the entry followed the new path"
        );
    }

    #[test]
    fn check_socket_wants_a_socket_of_ours_and_not_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let checked = CheckedDir::open(dir.path(), current_uid(), Role::Connect)
            .unwrap()
            .unwrap();
        let shown = |name: &str| dir.path().join(name);
        let check =
            |name: &str| checked.check_socket(OsStr::new(name), &shown(name), current_uid());
        assert!(!check("none").unwrap());

        let _ours = UnixListener::bind(shown("ours")).unwrap();
        assert!(check("ours").unwrap());

        std::os::unix::fs::symlink(shown("ours"), shown("link")).unwrap();
        let err = check("link").unwrap_err().to_string();
        assert!(err.contains("it is a symbolic link"), "{err}");

        let _theirs = UnixListener::bind(shown("theirs")).unwrap();
        give_away(&shown("theirs"));
        let err = check("theirs").unwrap_err().to_string();
        assert!(
            err.contains(&format!("it belongs to uid {OTHER_UID}")),
            "{err}"
        );

        std::fs::write(shown("file"), "x").unwrap();
        let err = check("file").unwrap_err().to_string();
        assert!(err.contains("is not a socket"), "{err}");
    }
}
