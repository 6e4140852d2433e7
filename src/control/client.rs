//! `cotty -S PATH COMMAND`: send one request to a running cotty and print the reply.

use super::socket::split_socket_path;
use super::trust::{CheckedDir, Role, current_uid};
use super::wire::{self, Envelope, MAX_REPLY, PROTOCOL_VERSION};
use super::{Reply, Request};
use anyhow::{Context, Result, anyhow};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;

/// Sends `request` to the cotty listening on `path` and returns its reply.
///
/// The whole exchange, connecting included, is bounded by `timeout`. A missing socket file or
/// one nobody listens on is an error that says how to start a cotty there.
pub async fn call(path: &Path, request: Request, timeout: Duration) -> Result<Reply> {
    let waiting = matches!(request, Request::WaitReady);
    match tokio::time::timeout(timeout, exchange(path, request)).await {
        Ok(result) => result,
        Err(_) if waiting => Err(anyhow!(
            "the cotty on {} was not ready within {timeout:?}",
            path.display()
        )),
        Err(_) => Err(anyhow!(
            "no reply from the cotty on {} within {timeout:?}",
            path.display()
        )),
    }
}

/// Connects. `wait-ready` keeps trying while nobody listens yet, since a script may start
/// cotty and wait for it at once (the socket file even exists a moment before it listens);
/// [`call`]'s timeout bounds the tries.
///
/// Before each try the socket's directory and file are checked as [`CheckedDir`] does, and
/// the connection goes through the checked directory: a reply could be another user's fake
/// links, so a socket that someone else could have put there is refused, not asked.
async fn connect(path: &Path, waiting: bool) -> Result<UnixStream> {
    let (dir, name) = split_socket_path(path)?;
    let uid = current_uid();
    loop {
        let attempt = match CheckedDir::open(dir, uid, Role::Connect)? {
            Some(checked) if checked.check_socket(name, path, uid)? => {
                // `checked` lives across the connect, so its entry stays valid.
                UnixStream::connect(checked.entry(name)).await
            }
            _ => Err(std::io::Error::from_raw_os_error(libc::ENOENT)),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e)
                if waiting
                    && matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(connect_error(path, e)),
        }
    }
}

/// Connects, sends the request, and reads the one reply.
async fn exchange(path: &Path, request: Request) -> Result<Reply> {
    let waiting = matches!(request, Request::WaitReady);
    let mut stream = connect(path, waiting).await?;
    let envelope = Envelope {
        version: PROTOCOL_VERSION,
        request,
    };
    wire::write_frame(&mut stream, &envelope)
        .await
        .with_context(|| {
            format!(
                "failed to send the request to the cotty on {}",
                path.display()
            )
        })?;
    let body = wire::read_frame(&mut stream, MAX_REPLY)
        .await
        .with_context(|| {
            format!(
                "failed to read the reply of the cotty on {}",
                path.display()
            )
        })?;
    wire::decode_reply(&body).with_context(|| {
        format!(
            "the cotty on {} sent a reply this cotty cannot read; is it another version?",
            path.display()
        )
    })
}

/// The error for a failed connect, telling apart "nobody there" from other failures.
fn connect_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    match e.kind() {
        // No file, or a file left over from a cotty that died.
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => anyhow!(
            "no cotty is running on {} ({e}); start one with `cotty -S {}`",
            path.display(),
            path.display()
        ),
        _ => anyhow::Error::new(e).context(format!(
            "failed to connect to the cotty on {}",
            path.display()
        )),
    }
}

/// The socket a command without `-S` talks to: the default one, or the only live one of the
/// per-process sockets next to it (`default-PID`, which a second cotty takes). With more than
/// one live, guessing could hand out another session's link, so the error lists them.
pub fn pick_default_socket() -> Result<PathBuf, String> {
    let default = super::socket::default_path();
    let live = live_sockets_beside(&default);
    match live.as_slice() {
        [] => Ok(default),
        [one] => Ok(one.clone()),
        many => {
            let list: Vec<String> = many.iter().map(|p| format!("  {}", p.display())).collect();
            Err(format!(
                "{} cotty sessions are running; say which with -S PATH:\n{}",
                many.len(),
                list.join("\n")
            ))
        }
    }
}

/// The sockets named `default` or `default-*` in `default`'s directory that a cotty answers
/// on, sorted.
fn live_sockets_beside(default: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (default.parent(), default.file_name()) else {
        return vec![];
    };
    let name = name.to_string_lossy().to_string();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut live: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .map(|f| f.to_string_lossy())
                .is_some_and(|f| f == name || f.starts_with(&format!("{name}-")))
        })
        .filter(|p| super::socket::answers(p))
        .collect();
    live.sort();
    live
}

/// Runs one control command as `cotty -S PATH COMMAND` does, and returns the exit code.
///
/// Prints the reply's text to stdout when it worked (0), or `cotty: TEXT` to stderr when it
/// did not or when there was no reply (1).
pub async fn run(path: &Path, request: Request, timeout: Duration) -> i32 {
    match call(path, request, timeout).await {
        Ok(reply) if reply.ok => {
            // A failed stdout (a closed pipe) does not change what cotty did.
            let _ = std::io::stdout()
                .lock()
                .write_all(printable(&reply.text).as_bytes());
            0
        }
        Ok(reply) => {
            eprintln!("cotty: {}", reply.text.trim_end());
            1
        }
        Err(e) => {
            eprintln!("cotty: {e:#}");
            1
        }
    }
}

/// The reply text as printed: with a trailing newline, unless it is empty.
fn printable(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::testing::{PATIENCE, TestServer, canned};

    fn every_request() -> Vec<Request> {
        vec![
            Request::Display {
                format: "join: #{ssh} or watch: #{ssh_ro}".into(),
                print: true,
            },
            Request::Display {
                format: "#{sshh}".into(),
                print: true,
            },
            Request::ShowMessages,
            Request::ListGuests,
            Request::Kick {
                guest: "alice".into(),
            },
            Request::Kick {
                guest: "bob".into(),
            },
            Request::KillSession,
            Request::WaitReady,
            Request::Admit {
                guest: "3".into(),
                read_only: true,
            },
            Request::Deny { guest: "9".into() },
        ]
    }

    #[tokio::test]
    async fn every_request_gets_the_front_ends_answer() {
        let server = TestServer::answering();
        for request in every_request() {
            let reply = call(&server.path, request.clone(), PATIENCE).await.unwrap();
            assert_eq!(reply, canned(&request), "for {request:?}");
        }
        // Spot checks, so that a broken `canned` cannot pass the loop on its own.
        let display = Request::Display {
            format: "#{ssh}".into(),
            print: true,
        };
        let reply = call(&server.path, display, PATIENCE).await.unwrap();
        assert_eq!(reply, Reply::ok("ssh -p 2222 tok@relay"));
        let typo = Request::Display {
            format: "#{sshh}".into(),
            print: true,
        };
        let reply = call(&server.path, typo, PATIENCE).await.unwrap();
        assert_eq!(
            reply,
            Reply::err(
                "unknown variable #{sshh} in the format; the variables are #{ssh}, #{ssh_ro}"
            )
        );
    }

    #[tokio::test]
    async fn requests_from_many_clients_at_once_are_all_answered() {
        let server = TestServer::answering();
        let calls: Vec<_> = (0..20)
            .map(|_| tokio::spawn(call_owned(server.path.clone(), Request::ListGuests)))
            .collect();
        for c in calls {
            let reply = c.await.unwrap().unwrap();
            assert_eq!(reply, Reply::ok("1 alice rw"));
        }
    }

    async fn call_owned(path: std::path::PathBuf, request: Request) -> Result<Reply> {
        call(&path, request, PATIENCE).await
    }

    #[tokio::test]
    async fn wait_ready_is_answered_only_when_the_front_end_says_so() {
        // A server-side timeout much shorter than the hold below: wait-ready must ignore it.
        let mut server = TestServer::start(Some(Duration::from_millis(50)));
        let mut client = tokio::spawn(call_owned(server.path.clone(), Request::WaitReady));
        let msg = server.next().await;
        assert_eq!(msg.request, Request::WaitReady);
        let early = tokio::time::timeout(Duration::from_millis(300), &mut client).await;
        assert!(
            early.is_err(),
            "wait-ready returned before the front end answered: {early:?}"
        );
        msg.reply.send(Reply::ok("ready")).unwrap();
        let reply = tokio::time::timeout(PATIENCE, client)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reply.unwrap(), Reply::ok("ready"));
    }

    #[tokio::test]
    async fn a_missing_socket_says_no_cotty_is_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nothing");
        let err = call(&path, Request::ListGuests, PATIENCE)
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        let want = format!("no cotty is running on {} (", path.display());
        assert!(text.starts_with(&want), "{text}");
        assert!(text.ends_with(&format!("); start one with `cotty -S {}`", path.display())));
    }

    #[tokio::test]
    async fn a_dead_socket_file_says_no_cotty_is_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let err = call(&path, Request::ListGuests, PATIENCE)
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.starts_with(&format!("no cotty is running on {} (", path.display())));
        assert!(text.contains("refused"), "{text}");
    }

    #[tokio::test]
    async fn a_silent_listener_times_out_naming_the_path_and_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silent");
        // Bound but never accepting: connect succeeds, no reply ever comes.
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let wait = Duration::from_millis(200);
        let err = call(&path, Request::ListGuests, wait).await.unwrap_err();
        let want = format!("no reply from the cotty on {} within 200ms", path.display());
        assert_eq!(err.to_string(), want);
        let err = call(&path, Request::WaitReady, wait).await.unwrap_err();
        let want = format!("the cotty on {} was not ready within 200ms", path.display());
        assert_eq!(err.to_string(), want);
    }

    #[tokio::test]
    async fn wait_ready_waits_for_a_socket_that_is_not_there_yet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("later");
        let client = tokio::spawn(call_owned(path.clone(), Request::WaitReady));
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A cotty comes up only now, on that path, and is ready at once.
        let socket = crate::control::server::bind(&path).expect("binds");
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn(socket.serve(tx, stop.clone()));
        let msg = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("a request in time")
            .expect("a request");
        assert_eq!(msg.request, Request::WaitReady);
        let _ = msg.reply.send(Reply::ok(""));
        let reply = tokio::time::timeout(PATIENCE, client)
            .await
            .expect("the client returns")
            .expect("the client task");
        assert_eq!(reply.expect("a reply"), Reply::ok(""));
        stop.cancel();
    }

    /// A request that reaches the front end fails the test: it must be refused before.
    fn assert_not_asked(server: &mut TestServer) {
        let rx = server.rx.as_mut().expect("a server that answers by hand");
        assert!(rx.try_recv().is_err(), "the request reached the cotty");
    }

    #[tokio::test]
    async fn a_socket_reached_through_a_link_is_refused() {
        let mut server = TestServer::start(None);
        let real_dir = server.path.parent().expect("a directory").to_path_buf();
        let base = real_dir.parent().expect("the temporary directory");
        // A linked directory, as a planted /tmp/cotty-UID would be.
        let linked_dir = base.join("linked");
        std::os::unix::fs::symlink(&real_dir, &linked_dir).unwrap();
        // A linked socket file.
        let linked_sock = base.join("sock-link");
        std::os::unix::fs::symlink(&server.path, &linked_sock).unwrap();
        for path in [linked_dir.join("default"), linked_sock] {
            for request in [Request::ListGuests, Request::WaitReady] {
                let err = call(&path, request, PATIENCE).await.unwrap_err();
                let text = format!("{err:#}");
                assert!(text.contains("it is a symbolic link"), "{text}");
            }
        }
        assert_not_asked(&mut server);
    }

    #[tokio::test]
    async fn a_socket_or_directory_of_another_user_is_refused() {
        let mut server = TestServer::start(None);
        let display = Request::Display {
            format: "#{ssh}".into(),
            print: true,
        };
        let give_away = |path: &Path| {
            std::os::unix::fs::chown(path, Some(65534), None)
                .expect("chown to another uid (the tests run as root)");
        };
        give_away(&server.path);
        let err = call(&server.path, display.clone(), PATIENCE)
            .await
            .unwrap_err();
        let want = format!(
            "refusing to use the control socket {}: it belongs to uid 65534",
            server.path.display()
        );
        assert!(err.to_string().starts_with(&want), "{err}");
        give_away(server.path.parent().expect("a directory"));
        let err = call(&server.path, display, PATIENCE).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("it belongs to uid 65534, not to you"),
            "{err}"
        );
        assert_not_asked(&mut server);
    }

    #[tokio::test]
    async fn run_exits_0_on_ok_and_1_on_failure() {
        let server = TestServer::answering();
        assert_eq!(run(&server.path, Request::ListGuests, PATIENCE).await, 0);
        let kick = Request::Kick {
            guest: "bob".into(),
        };
        assert_eq!(run(&server.path, kick, PATIENCE).await, 1);
        let missing = server.path.with_file_name("missing");
        assert_eq!(run(&missing, Request::ListGuests, PATIENCE).await, 1);
    }

    #[test]
    fn printed_text_ends_with_one_newline_unless_empty() {
        assert_eq!(printable(""), "");
        assert_eq!(printable("a"), "a\n");
        assert_eq!(printable("a\n"), "a\n");
        assert_eq!(printable("a\nb"), "a\nb\n");
    }
}
