//! A websocket guest (stub): the real adapter replaces this file; this one only closes.

use crate::net::relay::server::Shared;
use axum::extract::ws::WebSocket;
use futures::SinkExt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Who is on the other end of a websocket, as the HTTP layer saw it.
pub struct WebClient {
    /// The TCP peer, or behind `--trust-proxy` the address the proxy put last in
    /// `X-Forwarded-For`: what per-address limits and the host's guest list go by.
    pub addr: SocketAddr,
    /// The request's `User-Agent`, so the host can tell a guest's browser.
    pub user_agent: Option<String>,
}

/// Serves one websocket guest until it leaves (stub: closes the socket at once).
pub async fn serve(socket: WebSocket, client: WebClient, shared: Arc<Shared>) {
    let _ = (client.addr, client.user_agent, shared);
    let mut socket = socket;
    let _ = socket.close().await;
}
