//! The page's files, compiled into the binary, and the headers every web response carries.
//!
//! The page is the same for every session (the token is in the URL fragment), so it is three
//! static files. The Content-Security-Policy allows nothing but our own script, style and
//! websocket: no inline script or style, no third-party origin, no framing by other sites,
//! so an escape sequence that smuggled markup into the page could not run anything.

use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The page: the same HTML for every session.
pub const INDEX_HTML: &[u8] = include_bytes!("assets/index.html");
/// The page's only script (no inline script anywhere: the CSP forbids it).
pub const COTTY_JS: &[u8] = include_bytes!("assets/cotty.js");
/// The page's only style sheet.
pub const COTTY_CSS: &[u8] = include_bytes!("assets/cotty.css");

/// The policy of every response: our own script, style and websocket, nothing else.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Adds the headers every response carries: the CSP, no referrer (a link's fragment never
/// leaves, but the page's address should not either), and no content sniffing.
pub fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// One of the page's files. `no-cache` makes a browser ask again (cheaply, it is small) so a
/// relay upgrade never runs an old script against a new relay.
fn file(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the page.
pub async fn index() -> Response {
    file("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /cotty.js`: the page's script.
pub async fn script() -> Response {
    file("text/javascript; charset=utf-8", COTTY_JS)
}

/// `GET /cotty.css`: the page's style sheet.
pub async fn style() -> Response {
    file("text/css; charset=utf-8", COTTY_CSS)
}

/// `GET /favicon.ico`: nothing, so browsers stop asking and nothing logs a 404 per visit.
pub async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Any other path: a short text, no page that could echo the path back.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).expect("assets are UTF-8")
    }

    #[test]
    fn the_page_has_nothing_inline_that_the_csp_would_block() {
        let html = text(INDEX_HTML).to_ascii_lowercase();
        assert!(html.contains("/cotty.js") && html.contains("/cotty.css"));
        // Every <script> names its file; no style attribute or <style> block.
        for (i, _) in html.match_indices("<script") {
            let tag_end = html[i..].find('>').map_or(html.len(), |e| i + e);
            assert!(html[i..tag_end].contains("src="), "inline script at {i}");
        }
        assert!(
            !html.contains(" style=") && !html.contains("<style"),
            "inline style"
        );
        assert!(!html.contains("javascript:") && !html.contains(" onload="));
    }

    #[test]
    fn the_page_and_its_assets_stay_under_64_kib() {
        let total = INDEX_HTML.len() + COTTY_JS.len() + COTTY_CSS.len();
        assert!(total < 64 * 1024, "the page is {total} bytes");
    }

    #[test]
    fn every_response_is_secured() {
        let mut h = HeaderMap::new();
        secure(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
        assert!(CSP.contains("script-src 'self'") && CSP.contains("frame-ancestors 'none'"));
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[tokio::test]
    async fn files_have_their_types_and_are_not_cached() {
        for (res, ty) in [
            (index().await, "text/html"),
            (script().await, "text/javascript"),
            (style().await, "text/css"),
        ] {
            assert_eq!(res.status(), StatusCode::OK);
            let got = res.headers()[header::CONTENT_TYPE].to_str().expect("ascii");
            assert!(got.starts_with(ty), "{got}");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        }
        assert_eq!(favicon().await, StatusCode::NO_CONTENT);
        assert_eq!(not_found().await.status(), StatusCode::NOT_FOUND);
    }
}
