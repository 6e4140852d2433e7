//! Test support: a control socket served from a temporary directory, and a fake front end.

use super::server::{ControlMsg, ControlSocket, bind};
use super::{Reply, Request, expand};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long any test waits for something that should happen at once.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The variables of the fake front end.
const VARS: &[&str] = &["ssh", "ssh_ro"];

/// A served control socket that shuts down when dropped.
pub struct TestServer {
    /// The socket's path.
    pub path: PathBuf,
    /// The front end's end, for tests that answer by hand; `None` once a fake answers.
    pub rx: Option<mpsc::Receiver<ControlMsg>>,
    /// Stops the server.
    pub shutdown: CancellationToken,
    /// The serve task, to check that it ends.
    pub task: Option<JoinHandle<anyhow::Result<()>>>,
    /// Keeps the directory alive as long as the server.
    _dir: TempDir,
}

impl TestServer {
    /// Binds in a fresh directory and serves; requests wait in `rx`.
    pub fn start(request_timeout: Option<Duration>) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sock").join("default");
        let mut socket = bind(&path).expect("the test socket binds");
        if let Some(t) = request_timeout {
            socket.set_request_timeout(t);
        }
        TestServer::serve(socket, dir)
    }

    /// Serves an already bound socket.
    pub fn serve(socket: ControlSocket, dir: TempDir) -> TestServer {
        let path = socket.path.clone();
        let (tx, rx) = mpsc::channel(8);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(socket.serve(tx, shutdown.clone()));
        TestServer {
            path,
            rx: Some(rx),
            shutdown,
            task: Some(task),
            _dir: dir,
        }
    }

    /// Binds and serves with [`fake_front_end`] answering everything.
    pub fn answering() -> TestServer {
        let mut server = TestServer::start(None);
        let rx = server.rx.take().expect("the receiver is taken once");
        tokio::spawn(fake_front_end(rx));
        server
    }

    /// The next request, waited for at most [`PATIENCE`].
    pub async fn next(&mut self) -> ControlMsg {
        let rx = self.rx.as_mut().expect("the receiver is still here");
        tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("the front end got no request in time")
            .expect("the server dropped its sender")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// What the fake front end answers to each request.
pub fn canned(request: &Request) -> Reply {
    match request {
        Request::Display { format, .. } => {
            let vars = |name: &str| match name {
                "ssh" => Some(Ok("ssh -p 2222 tok@relay".to_string())),
                "ssh_ro" => Some(Ok("ssh -p 2222 ro-tok@relay".to_string())),
                _ => None,
            };
            expand(format, VARS, vars).map_or_else(Reply::err, Reply::ok)
        }
        Request::ShowMessages => Reply::ok("12:00 session started\n12:01 alice joined\n"),
        Request::ListGuests => Reply::ok("1 alice rw"),
        Request::Kick { guest } if guest == "alice" => Reply::ok("kicked alice"),
        Request::Kick { guest } => Reply::err(format!(
            "no guest {guest}; list them with `cotty list-guests`"
        )),
        Request::KillSession => Reply::ok(""),
        Request::WaitReady => Reply::ok("ready"),
        Request::ReloadKeys => Reply::ok("2 guest keys"),
        Request::Admit { guest, .. } | Request::Deny { guest } if guest == "3" => Reply::ok(""),
        Request::Admit { guest, .. } | Request::Deny { guest } => {
            Reply::err(format!("no guest {guest} is waiting"))
        }
        Request::NewLink { .. } => Reply::ok("ssh -p 2222 new@relay"),
        Request::SwitchLink { link, enabled } => Reply::ok(format!("{link} on: {enabled}")),
    }
}

/// Answers each request with [`canned`] until the server goes away.
pub async fn fake_front_end(mut rx: mpsc::Receiver<ControlMsg>) {
    while let Some(msg) = rx.recv().await {
        let _ = msg.reply.send(canned(&msg.request));
    }
}
