//! The relay's own web address: `--public-url`, the web links built from it, the `Origin`
//! check that keeps other sites' pages off `/ws`, and a client's address behind
//! `--trust-proxy`.
//!
//! The token lives in the link's fragment (`…/#TOKEN`), which a browser never sends, so it
//! reaches neither a request line nor a log. A page from another site could still open a
//! websocket to the relay with a token it learned; the `Origin` check refuses that, since a
//! browser always names the page's origin and a page cannot forge it.

use axum::http::Uri;
use std::net::{IpAddr, SocketAddr};

/// An operator's `--public-url`: the address browsers reach the relay at, such as a reverse
/// proxy's `https://relay.example.org`. Only scheme, host and port are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower case, without a trailing `/` and without the scheme's
    /// default port: the form a browser sends in `Origin`, and the base of every link.
    origin: String,
}

/// What `--public-url` must look like, for messages.
const URL_FORM: &str = "an http:// or https:// URL with no path, such as https://relay.example.org \
     or http://relay.example.org:8080";

impl PublicUrl {
    /// Parses an http or https URL without path, query or fragment (a trailing `/` is fine).
    /// The error says what is wrong and what is expected, for clap and the config file.
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let text = text.trim();
        if text.contains('#') || text.contains('?') {
            return Err(format!("no query or fragment allowed; expected {URL_FORM}"));
        }
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("not a URL ({e}); expected {URL_FORM}"))?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("http") => "http",
            Some("https") => "https",
            _ => {
                return Err(format!(
                    "the scheme must be http or https; expected {URL_FORM}"
                ));
            }
        };
        let Some(authority) = uri.authority() else {
            return Err(format!("a host is missing; expected {URL_FORM}"));
        };
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return Err(format!(
                "expected only a host and port; expected {URL_FORM}"
            ));
        }
        if !matches!(uri.path(), "" | "/") {
            return Err(format!(
                "a path ({}) is not supported: the relay serves the page at /; expected \
                 {URL_FORM}",
                uri.path()
            ));
        }
        Ok(PublicUrl {
            origin: normalize_origin(&format!("{scheme}://{authority}")),
        })
    }

    /// `scheme://host[:port]`: the base of links and the origin a browser sends.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The base of web links without `--public-url`: `http://HOST:PORT`, or `https://` when the
/// relay has TLS, without the scheme's default port. An IPv6 host is put in brackets.
pub fn base_url(public_host: &str, public_port: u16, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    let host = if public_host.contains(':') && !public_host.starts_with('[') {
        format!("[{public_host}]")
    } else {
        public_host.to_string()
    };
    match (tls, public_port) {
        (false, 80) | (true, 443) => format!("{scheme}://{host}"),
        _ => format!("{scheme}://{host}:{public_port}"),
    }
}

/// Lower-cases an origin and drops its scheme's default port, so two spellings of the same
/// origin compare equal.
fn normalize_origin(origin: &str) -> String {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if o.starts_with(scheme)
            && let Some(bare) = o.strip_suffix(port)
        {
            return bare.to_string();
        }
    }
    o
}

/// Whether a websocket request may go on, given its `Origin` header.
///
/// A request without `Origin` comes from no browser (a bench, a script): no page can be
/// behind it, so it may. A browser's must be the relay's own origin: `--public-url`'s when
/// set, else the one the request's `Host` names, over https when the connection is TLS.
pub fn origin_allowed(
    origin: Option<&str>,
    public_url: Option<&PublicUrl>,
    host: Option<&str>,
    tls: bool,
) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let expected = match (public_url, host) {
        (Some(url), _) => url.origin().to_string(),
        (None, Some(host)) => {
            let scheme = if tls { "https" } else { "http" };
            normalize_origin(&format!("{scheme}://{host}"))
        }
        // A browser always sends Host; without it there is nothing to match.
        (None, None) => return false,
    };
    normalize_origin(origin) == expected
}

/// The client's address: the TCP peer, or behind `--trust-proxy` the address the proxy put
/// last in `X-Forwarded-For` (the entries before it came from the client and may be
/// forged). `forwarded` holds the header's values in the order they came.
pub fn client_addr<'a>(
    peer: SocketAddr,
    forwarded: impl IntoIterator<Item = &'a str>,
    trust_proxy: bool,
) -> SocketAddr {
    if !trust_proxy {
        return peer;
    }
    let last = forwarded
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .last();
    last.and_then(parse_forwarded).unwrap_or(peer)
}

/// One `X-Forwarded-For` entry: an address, with a port as some proxies add it. The client's
/// port is unknown without one, and shown as 0.
fn parse_forwarded(entry: &str) -> Option<SocketAddr> {
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(addr);
    }
    let ip = entry.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_keep_scheme_host_and_port() {
        let ok = |t: &str| PublicUrl::parse(t).expect(t).origin().to_string();
        assert_eq!(ok("https://relay.example.org"), "https://relay.example.org");
        assert_eq!(
            ok("https://Relay.Example.org/"),
            "https://relay.example.org"
        );
        assert_eq!(ok("HTTP://relay:8080/"), "http://relay:8080");
        assert_eq!(ok("https://relay:443"), "https://relay");
        assert_eq!(ok("http://[::1]:2222"), "http://[::1]:2222");
        for bad in [
            "relay.example.org",
            "ftp://relay",
            "https://relay/cotty",
            "https://relay/?x=1",
            "https://relay/#frag",
            "https://user@relay",
            "https://",
        ] {
            let err = PublicUrl::parse(bad).expect_err(bad);
            assert!(err.contains("https://relay.example.org"), "{bad}: {err}");
        }
    }

    #[test]
    fn base_urls_leave_out_default_ports() {
        assert_eq!(base_url("relay", 2222, false), "http://relay:2222");
        assert_eq!(base_url("relay", 80, false), "http://relay");
        assert_eq!(base_url("relay", 443, false), "http://relay:443");
        assert_eq!(base_url("relay", 443, true), "https://relay");
        assert_eq!(base_url("relay", 2222, true), "https://relay:2222");
        assert_eq!(base_url("::1", 2222, false), "http://[::1]:2222");
        assert_eq!(base_url("[::1]", 80, false), "http://[::1]");
    }

    #[test]
    fn the_origin_must_be_the_relays_own() {
        let url = PublicUrl::parse("https://relay.example.org").expect("url");
        // No Origin: not a browser.
        assert!(origin_allowed(None, None, Some("h:1"), false));
        // From the Host header and the connection's scheme.
        assert!(origin_allowed(
            Some("http://h:2222"),
            None,
            Some("h:2222"),
            false
        ));
        assert!(origin_allowed(
            Some("http://H:2222"),
            None,
            Some("h:2222"),
            false
        ));
        assert!(!origin_allowed(
            Some("http://h:2222"),
            None,
            Some("h:2222"),
            true
        ));
        assert!(origin_allowed(
            Some("https://h:2222"),
            None,
            Some("h:2222"),
            true
        ));
        assert!(origin_allowed(Some("http://h"), None, Some("h:80"), false));
        assert!(!origin_allowed(
            Some("http://evil:2222"),
            None,
            Some("h:2222"),
            false
        ));
        assert!(!origin_allowed(Some("null"), None, Some("h:2222"), false));
        assert!(!origin_allowed(Some("http://h:2222"), None, None, false));
        // --public-url wins over Host.
        let u = Some(&url);
        assert!(origin_allowed(
            Some("https://relay.example.org"),
            u,
            Some("10.0.0.1:2222"),
            false
        ));
        assert!(!origin_allowed(
            Some("http://10.0.0.1:2222"),
            u,
            Some("10.0.0.1:2222"),
            false
        ));
    }

    #[test]
    fn the_proxys_entry_is_the_rightmost_and_only_with_trust_proxy() {
        let peer: SocketAddr = "10.0.0.9:40000".parse().expect("addr");
        let xff = ["198.51.100.7, 203.0.113.5"];
        assert_eq!(
            client_addr(peer, xff, false),
            peer,
            "ignored without the flag"
        );
        assert_eq!(
            client_addr(peer, xff, true),
            "203.0.113.5:0".parse().expect("addr")
        );
        // Several headers count as one list.
        let two = ["198.51.100.7", "203.0.113.6"];
        assert_eq!(client_addr(peer, two, true).ip().to_string(), "203.0.113.6");
        assert_eq!(
            client_addr(peer, ["[2001:db8::1]:443"], true),
            "[2001:db8::1]:443".parse().expect("addr")
        );
        assert_eq!(
            client_addr(peer, ["2001:db8::2"], true).ip().to_string(),
            "2001:db8::2"
        );
        // No header, or garbage: the peer.
        assert_eq!(client_addr(peer, [], true), peer);
        assert_eq!(client_addr(peer, ["unknown"], true), peer);
        assert_eq!(client_addr(peer, [" , "], true), peer);
    }
}
