//! A forge on loopback: an HTTP server that answers `/USER.keys` as GitHub, GitLab and
//! Codeberg do, plus the ways a forge can fail, for the tests of `--github USER`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the stalling answers stall: far past any timeout under test, yet bounded.
pub const STALL: Duration = Duration::from_secs(30);

/// A running stub forge. Besides the users it is given, it knows:
/// - `slow`: answers only after [`STALL`];
/// - `trickle`: sends its headers and the first line at once, the rest after [`STALL`];
/// - `huge`: 100 KiB of key-like lines;
/// - `broken`: 500 Internal Server Error;
/// - anyone else: 404 Not Found, as for `nobody`.
///
/// It stops when dropped.
pub struct ForgeStub {
    /// Where it listens, `http://127.0.0.1:PORT`, as `forge_urls` takes it.
    pub url: String,
    /// Ends the server's runtime, and with it any stalled answer.
    stop: Option<oneshot::Sender<()>>,
}

impl ForgeStub {
    /// Starts a stub whose `USER.keys` answers 200 with the body given for each user (an
    /// empty body for a user without keys).
    pub fn start(users: &[(&str, String)]) -> ForgeStub {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("stub binds");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr: SocketAddr = listener.local_addr().expect("stub address");
        let users: HashMap<String, String> = users
            .iter()
            .map(|(u, body)| (format!("{u}.keys"), body.clone()))
            .collect();
        let app = Router::new()
            .route("/{file}", get(answer))
            .with_state(Arc::new(users));
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("stub runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                tokio::select! {
                    res = axum::serve(listener, app) => res.expect("stub serves"),
                    _ = stopped => {}
                }
            });
        });
        ForgeStub {
            url: format!("http://{addr}"),
            stop: Some(stop),
        }
    }

    /// A cotty config file in `dir` that points every forge at this stub.
    pub fn config(&self, dir: &FsPath) -> PathBuf {
        forge_config(dir, &self.url)
    }
}

/// A cotty config file in `dir` whose `forge_urls` send every forge to `url`.
pub fn forge_config(dir: &FsPath, url: &str) -> PathBuf {
    let path = dir.join("cotty.toml");
    let text = format!(
        "forge_urls = {{ github = \"{url}\", gitlab = \"{url}\", codeberg = \"{url}\" }}\n"
    );
    std::fs::write(&path, text).expect("config written");
    path
}

impl Drop for ForgeStub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The stub's one route: `/USER.keys`.
async fn answer(
    Path(file): Path<String>,
    State(users): State<Arc<HashMap<String, String>>>,
) -> Response {
    if let Some(body) = users.get(&file) {
        return body.clone().into_response();
    }
    match file.as_str() {
        "slow.keys" => {
            tokio::time::sleep(STALL).await;
            "ssh-ed25519 AAAA late\n".into_response()
        }
        "trickle.keys" => {
            let first = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from("ssh-"))]);
            let rest = futures::stream::once(async {
                tokio::time::sleep(STALL).await;
                Ok(Bytes::from("ed25519 AAAA late\n"))
            });
            Body::from_stream(futures::StreamExt::chain(first, rest)).into_response()
        }
        "huge.keys" => "ssh-ed25519 AAAA\n".repeat(100 * 1024 / 17).into_response(),
        "broken.keys" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
