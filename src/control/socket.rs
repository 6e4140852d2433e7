//! Where the control socket lives and binding it safely: a private directory, no clobbering
//! of a live cotty's socket, a stale one replaced, and the file removed when we are done.

use super::trust::{CheckedDir, Role, current_uid};
use anyhow::{Context, Result, bail};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener as StdUnixListener, UnixStream as StdUnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::debug;

/// How long a request other than `wait-ready` may take, from connecting to the front end's
/// answer; a busy or stuck front end then gets an error, not a hung script.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound control socket; the file is removed when this is dropped.
#[derive(Debug)]
pub struct ControlSocket {
    /// The socket's path, for messages and for removing the file.
    pub path: PathBuf,
    /// The listener, bound with std so that [`bind`] needs no runtime; `serve`
    /// takes it and hands it to tokio, so it is `None` only while serving.
    pub(super) listener: Option<StdUnixListener>,
    /// The socket file's identity: `Drop` removes the file only if it is still ours, not one
    /// that a later cotty bound at the same path after removing ours.
    file_id: FileId,
    /// [`REQUEST_TIMEOUT`], kept here so that tests can shorten it.
    pub(super) request_timeout: Duration,
}

/// A file's device, inode and change time. Inode numbers are reused at once when a file is
/// removed, so the change time (set by our chmod) tells a new socket from ours.
type FileId = (u64, u64, i64, i64);

/// The identity of the file `meta` describes.
fn file_id(meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
}

/// The default socket path: `$XDG_RUNTIME_DIR/cotty/default`, or `/tmp/cotty-UID/default`.
pub fn default_path() -> PathBuf {
    default_path_in(std::env::var_os("XDG_RUNTIME_DIR"), current_uid())
}

/// The socket a cotty takes next to `default` when another cotty has that one:
/// `default-PID`, with its own process id.
pub fn per_process_path(default: &Path, pid: u32) -> PathBuf {
    let name = default.file_name().map(|n| n.to_string_lossy().to_string());
    default.with_file_name(format!("{}-{pid}", name.as_deref().unwrap_or("default")))
}

/// Whether a cotty answers on the control socket at `path`.
pub fn answers(path: &Path) -> bool {
    StdUnixStream::connect(path).is_ok()
}

/// [`default_path`] from its inputs, so that tests need not change the environment.
fn default_path_in(runtime_dir: Option<std::ffi::OsString>, uid: Option<u32>) -> PathBuf {
    // The XDG spec says to ignore a relative XDG_RUNTIME_DIR.
    let runtime_dir = runtime_dir
        .map(PathBuf::from)
        .filter(|d| d.is_absolute() && d.is_dir());
    if let Some(dir) = runtime_dir {
        return dir.join("cotty").join("default");
    }
    // Without a uid the name is shared, but `bind` still refuses a directory not ours.
    let name = uid.map_or_else(|| "cotty".to_string(), |uid| format!("cotty-{uid}"));
    Path::new("/tmp").join(name).join("default")
}

/// Binds the control socket at `path` with mode 0600.
///
/// Creates the parent directory (mode 0700) if only it is missing. Refuses a parent that is
/// a symbolic link, that another user (not root) owns, or that others can write to unless it
/// is sticky like `/tmp`, since whoever can replace the socket can stand in for this cotty;
/// the socket is then bound in the directory that was checked (`trust::CheckedDir`). A socket
/// file nobody answers on is left over from a cotty that died, and is replaced; one that
/// answers is another cotty, and is an error.
pub fn bind(path: &Path) -> Result<ControlSocket> {
    let (dir, name) = split_socket_path(path)?;
    let uid = current_uid();
    create_dir(dir)?;
    let dir = CheckedDir::open(dir, uid, Role::Bind)?.with_context(|| {
        format!(
            "{} vanished as cotty created it; check who else uses it, or pass -S PATH in a \
             directory of your own",
            dir.display()
        )
    })?;
    // From here on the socket is reached through the checked directory itself.
    let at = dir.entry(name);
    clear_stale(&at, path)?;
    let listener = StdUnixListener::bind(&at).map_err(|e| {
        if e.kind() == ErrorKind::AddrInUse {
            // Another cotty bound it between our check and our bind.
            anyhow::anyhow!("{}", already_listening(path))
        } else {
            anyhow::Error::new(e).context(format!(
                "failed to bind the control socket {}",
                path.display()
            ))
        }
    })?;
    // Nobody accepts before `serve`, and connecting needs write permission on the socket,
    // which the usual umask (022) already denies to others; this closes the rest.
    std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("failed to make {} private (mode 0600)", path.display()))?;
    listener
        .set_nonblocking(true)
        .context("failed to make the control socket non-blocking")?;
    let meta = std::fs::symlink_metadata(&at)
        .with_context(|| format!("failed to read {} after binding it", path.display()))?;
    Ok(ControlSocket {
        path: path.to_path_buf(),
        listener: Some(listener),
        file_id: file_id(&meta),
        request_timeout: REQUEST_TIMEOUT,
    })
}

/// The directory a socket path is in, and the socket's name in it.
pub(super) fn split_socket_path(path: &Path) -> Result<(&Path, &std::ffi::OsStr)> {
    let Some(name) = path.file_name() else {
        bail!(
            "{} does not name a socket file; pass -S PATH ending in a file name, such as \
             /tmp/pair",
            path.display()
        );
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// Creates `dir` (mode 0700) if only it is missing. An existing one is left for
/// [`CheckedDir::open`] to check like any other.
fn create_dir(dir: &Path) -> Result<()> {
    // mkdir never follows a link in the last component: a planted link is left for the check.
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "cannot create {} for the control socket: its parent directory does not exist; \
             create it or pass -S PATH in an existing directory",
            dir.display()
        ),
        Err(e) => Err(e)
            .with_context(|| format!("failed to create {} for the control socket", dir.display())),
    }
}

/// The error for a path where a live cotty answers.
fn already_listening(path: &Path) -> String {
    format!(
        "another cotty is already listening on {}; pass -S PATH to use another socket",
        path.display()
    )
}

/// Removes a socket file left by a cotty that died; refuses a live one or a non-socket.
/// `at` reaches the file through the checked directory; `path` is how the user named it.
fn clear_stale(at: &Path, path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(at) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(e).with_context(|| format!("failed to check {}", path.display()));
        }
    };
    if !meta.file_type().is_socket() {
        bail!(
            "{} exists and is not a socket; remove it or pass -S PATH to use another path",
            path.display()
        );
    }
    // A blocking connect is enough: the kernel queues it at once while a listener exists, and
    // refuses it at once when none does. Only a cotty that stopped accepting long enough to
    // fill its backlog could make it wait.
    match StdUnixStream::connect(at) {
        Ok(_) => bail!("{}", already_listening(path)),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            debug!("removing stale control socket {}", path.display());
            match std::fs::remove_file(at) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e).with_context(|| {
                    format!(
                        "failed to remove the stale control socket {}",
                        path.display()
                    )
                }),
            }
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "failed to check whether a cotty is listening on {}; if none is, remove the file",
                path.display()
            )
        }),
    }
}

impl ControlSocket {
    /// Shortens [`REQUEST_TIMEOUT`] so that tests of it finish quickly.
    #[cfg(test)]
    pub(super) fn set_request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|m| file_id(&m) == self.file_id);
        if ours && let Err(e) = std::fs::remove_file(&self.path) {
            debug!("failed to remove {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn default_path_prefers_the_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        let got = default_path_in(Some(dir.path().into()), Some(1000));
        assert_eq!(got, dir.path().join("cotty/default"));
    }

    #[test]
    fn default_path_falls_back_to_tmp_with_the_uid() {
        let fallback = PathBuf::from("/tmp/cotty-1000/default");
        assert_eq!(default_path_in(None, Some(1000)), fallback);
        assert_eq!(default_path_in(Some("".into()), Some(1000)), fallback);
        assert_eq!(
            default_path_in(Some("relative".into()), Some(1000)),
            fallback
        );
        let missing = tempfile::tempdir().unwrap().path().join("gone");
        assert_eq!(default_path_in(Some(missing.into()), Some(1000)), fallback);
    }

    #[test]
    fn bind_makes_a_private_dir_and_socket_and_drop_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cotty").join("default");
        let socket = bind(&path).unwrap();
        assert_eq!(mode(&dir.path().join("cotty")), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert!(
            std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_socket()
        );
        drop(socket);
        assert!(!path.exists());
    }

    #[test]
    fn drop_leaves_a_socket_that_replaced_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let socket = bind(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let _other = StdUnixListener::bind(&path).unwrap();
        drop(socket);
        assert!(path.exists(), "dropped another cotty's socket file");
    }

    #[test]
    fn bind_creates_only_the_last_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = bind(&dir.path().join("a/b/default"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("its parent directory does not exist"), "{err}");
    }

    #[test]
    fn bind_refuses_a_directory_others_can_write() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = bind(&shared.join("default")).unwrap_err().to_string();
        assert!(err.contains("others can write to it (mode 0777)"), "{err}");
        assert!(!shared.join("default").exists());
    }

    #[test]
    fn bind_accepts_a_sticky_shared_directory_like_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let path = tmp.join("pair");
        let _socket = bind(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn bind_refuses_a_planted_link_where_its_directory_goes() {
        // Another user made /tmp/cotty-UID a link to a directory of theirs before we started.
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let planted = dir.path().join("cotty-0");
        std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
        let err = bind(&planted.join("default")).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "refusing to put the control socket in {}: it is a symbolic link",
                planted.display()
            )),
            "{err}"
        );
        assert!(
            !elsewhere.join("default").exists(),
            "bound through the link"
        );
    }

    #[test]
    fn bind_refuses_a_directory_of_another_user() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("cotty-0");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), None)
            .expect("chown to another uid (the tests run as root)");
        let err = bind(&theirs.join("default")).unwrap_err().to_string();
        assert!(err.contains("it belongs to uid 65534, not to you"), "{err}");
        assert!(err.contains("remove it or pass -S PATH"), "{err}");
        assert!(!theirs.join("default").exists());
    }

    #[test]
    fn bind_refuses_a_path_without_a_file_name() {
        let err = bind(Path::new("/tmp/..")).unwrap_err().to_string();
        assert!(err.contains("does not name a socket file"), "{err}");
    }

    #[test]
    fn bind_refuses_a_parent_that_is_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let err = bind(&file.join("default")).unwrap_err().to_string();
        assert!(err.contains("is not a directory"), "{err}");
    }

    #[test]
    fn bind_leaves_a_file_that_is_not_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes");
        std::fs::write(&path, "keep me").unwrap();
        let err = bind(&path).unwrap_err().to_string();
        assert!(err.contains("exists and is not a socket"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }

    #[test]
    fn second_bind_on_a_live_socket_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let _first = bind(&path).unwrap();
        let err = bind(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "another cotty is already listening on {}; pass -S PATH to use another socket",
                path.display()
            )
        );
        assert!(path.exists(), "the failed bind removed the live socket");
    }

    #[test]
    fn stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        // A cotty that died: the listener is gone, its file is not.
        drop(StdUnixListener::bind(&path).unwrap());
        // Had the file been taken for a live cotty's, bind would have failed.
        let socket = bind(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        StdUnixStream::connect(&path).expect("the new socket does not listen");
        drop(socket);
    }
}
