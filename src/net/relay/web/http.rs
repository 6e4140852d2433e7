//! One HTTP/1.1 connection, plain or TLS, once sniffing found a request: the routes of the
//! page, the websocket upgrade with its `Origin` check, the access log, and the timeouts that
//! keep idle connections from holding their slots.
//!
//! hyper serves the connection and axum routes its requests. The connection's place under
//! `--max-connections` and `--max-connections-per-ip` ([`Holds`]) is shared by the
//! connection and, after an upgrade, by its websocket, which outlives hyper's part: the place
//! is given back when the last of them ends.

use crate::net::relay::conn::{Holds, grace_passed};
use crate::net::relay::server::Shared;
use crate::net::relay::web::assets;
use crate::net::relay::web::origin::{client_addr, origin_allowed};
use crate::net::relay::web::socket::{self, WebClient};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

/// How long a keep-alive connection may sit between requests (and a request take to send
/// its head) before it is closed, so idle browser connections give their slots back.
pub const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(60);

/// The largest websocket message a page may send: its messages are keys, pastes and sizes.
pub const WS_MAX_MESSAGE: usize = 64 * 1024;
/// The websocket's read buffer: larger messages still arrive, in more reads.
const WS_READ_BUFFER: usize = 4 * 1024;

/// The most a request head may take: a browser's is a few KiB, with cookies of other apps on
/// the same host perhaps a few more.
const MAX_HEAD: usize = 64 * 1024;

/// How long open requests get to finish when the relay shuts down.
const GOODBYE: Duration = Duration::from_secs(1);

/// What the HTTP layer knows of the connection a request came on; an extension of every
/// request.
#[derive(Clone)]
struct ConnInfo {
    /// The TCP peer: the client, or with `--trust-proxy` the proxy.
    peer: SocketAddr,
    /// Whether the connection is TLS, so the expected origin is `https://`.
    tls: bool,
    /// The connection's places under the limits, kept by a websocket beyond the connection.
    holds: Arc<Holds>,
    /// Cancelled by the first request: until then the login grace bounds the connection.
    first: CancellationToken,
}

/// The web's routes, built once per relay; each connection adds its own [`ConnInfo`].
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/cotty.js", get(assets::script))
        .route("/cotty.css", get(assets::style))
        .route("/favicon.ico", get(assets::favicon))
        .route("/ws", get(websocket))
        .fallback(assets::not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            every_request,
        ))
        .with_state(shared)
}

/// Serves HTTP on an accepted (and perhaps TLS-wrapped) connection until it closes, goes
/// idle, or the relay shuts down. The first request must come before `deadline`, the end of
/// the login grace.
pub async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    tls: bool,
    router: Router,
    shared: Arc<Shared>,
    holds: Holds,
    deadline: Instant,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let first = CancellationToken::new();
    let info = ConnInfo {
        peer,
        tls,
        holds: Arc::new(holds),
        first: first.clone(),
    };
    let svc = TowerToHyperService::new(router.layer(Extension(info)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(KEEP_ALIVE_IDLE)
        .keep_alive(true)
        .max_buf_size(MAX_HEAD);
    let conn = builder
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = &mut conn => return ended(peer, r),
        _ = first.cancelled() => {}
        _ = sleep_until(deadline) => {
            let grace = shared.limits.login_grace;
            shared.door_log.info(|| grace_passed(peer, grace, "before its first HTTP request"));
            return;
        }
        _ = shared.shutdown.cancelled() => return,
    }
    tokio::select! {
        r = &mut conn => ended(peer, r),
        _ = shared.shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = timeout(GOODBYE, conn).await;
        }
    }
}

/// Logs how an HTTP connection ended, if not cleanly.
fn ended(peer: SocketAddr, r: Result<(), hyper::Error>) {
    if let Err(e) = r {
        debug!("web connection from {peer} ended: {e}");
    }
}

/// Runs around every request: marks the connection as past its login grace, adds the
/// security headers, and writes the access log line. The line holds the request line as
/// sent, which never holds a token: tokens live in the URL fragment.
async fn every_request(
    State(shared): State<Arc<Shared>>,
    Extension(info): Extension<ConnInfo>,
    req: Request,
    next: Next,
) -> Response {
    info.first.cancel();
    let addr = client(&shared, &info, req.headers());
    let method = req.method().clone();
    let uri = req.uri().clone();
    let version = req.version();
    let mut res = next.run(req).await;
    assets::secure(res.headers_mut());
    info!(
        "web {addr} \"{method} {uri} {version:?}\" {}",
        res.status().as_u16()
    );
    res
}

/// The client's address: the peer, or with `--trust-proxy` the proxy's `X-Forwarded-For`.
fn client(shared: &Shared, info: &ConnInfo, headers: &HeaderMap) -> SocketAddr {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    client_addr(info.peer, forwarded, shared.trust_proxy)
}

/// `GET /ws`: a page's websocket, if it comes from the relay's own origin.
async fn websocket(
    State(shared): State<Arc<Shared>>,
    Extension(info): Extension<ConnInfo>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A header that is not text cannot be the relay's origin: "" never matches.
    let origin = headers.get(ORIGIN).map(|v| v.to_str().unwrap_or(""));
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    if !origin_allowed(origin, shared.public_url.as_ref(), host, info.tls) {
        debug!(
            "websocket from {} refused: Origin {origin:?} is not this relay's",
            info.peer
        );
        return (StatusCode::FORBIDDEN, "this page may not connect here\n").into_response();
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let client = WebClient {
        addr: client(&shared, &info, &headers),
        user_agent: headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    // The websocket keeps the connection's places, and the relay waits for it at shutdown.
    let holds = info.holds.clone();
    let tracked = shared.tasks.token();
    upgrade
        .max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        // The page sends keys and the like, a few dozen bytes each: tungstenite's default
        // 128 KiB read buffer was most of a web guest's memory on the relay (137 KiB a guest
        // measured, BENCHMARKS.md). Frames are written at once, one at a time, since the
        // guest actor waits for each before it takes the next view.
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |ws| async move {
            let _holds = holds;
            let _tracked = tracked;
            socket::serve(ws, client, shared).await;
        })
}
