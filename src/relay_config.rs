//! The relay's settings: `cotty relay --config FILE` (TOML), then flags, into a [`RelayConfig`].
//!
//! Every flag of `cotty relay` is a key of the file, named as the flag with `_` for `-`.
//! A flag beats the file; an unknown key is an error that lists the keys, and a bad value
//! names its key and the file. Relative paths in the file are taken from the file's folder,
//! so a config and its key files can move together.

use crate::cli::{RelayArgs, default_host_key, parse_count, parse_duration, parse_rate};
use crate::core::types::Size;
use crate::net::relay::RelayConfig;
use crate::net::relay::limits::{Limits, connections_for_open_files, open_file_limit};
use crate::net::relay::server::WebConfig;
use crate::net::relay::web::origin::PublicUrl;
use crate::net::relay::web::tls::TlsFiles;
use anyhow::{Context, Result, anyhow, bail};
use config::{Config, FileFormat, Map, Source, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the relay listens when neither `--listen` nor `listen` says.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:2222";

/// Every key of the relay's config file, in the order of `cotty relay --help`.
pub const KEYS: &[&str] = &[
    "listen",
    "web_listen",
    "public_host",
    "public_port",
    "public_url",
    "tls_cert",
    "tls_key",
    "trust_proxy",
    "host_key",
    "host_keys",
    "api_keys",
    "require_authorized_keys",
    "max_connections",
    "max_connections_per_ip",
    "max_new_connections_per_minute",
    "max_failed_lookups_per_minute",
    "login_grace",
    "max_sessions_per_ip",
    "max_guests",
    "max_rw_guests",
    "max_pane",
    "idle_timeout",
    "resume_grace",
    "guest_stall_timeout",
    "approve_timeout",
];

/// A commented relay config file, as `cotty relay --print-default-config` prints it.
///
/// Loading it gives exactly the defaults; a unit test holds it to that.
pub const DEFAULT_RELAY_CONFIG: &str = r#"# cotty relay's settings: `cotty relay --config relay.toml`. Every key may be left out; the
# values below are the defaults. Each key is also a flag (max_guests is --max-guests), and a
# flag beats this file. An unknown key is an error, to catch typos. Durations are written
# 20s, 10m, 2h or "1h 30m". Relative paths are taken from this file's folder.

# Where to listen for hosts and guests: ssh, and the web page on the same port.
listen = "0.0.0.0:2222"

# Also serve the web page (not ssh) here, e.g. for a reverse proxy in front. The limits
# below count both ports together.
# web_listen = "127.0.0.1:8080"

# The host name and port printed in links; this machine's hostname and the listening port
# when unset.
# public_host = "relay.example.org"
# public_port = 22

# The address browsers reach the relay at, when it is not http://public_host:public_port
# (https:// with a certificate): a reverse proxy's, scheme, host and port only. Web links
# start with it, and the page's websocket must come from it.
# public_url = "https://relay.example.org"

# Serve HTTPS with this certificate chain (PEM, leaf first) and its private key; both or
# neither. Plain HTTP when unset.
# tls_cert = "/etc/letsencrypt/live/relay.example.org/fullchain.pem"
# tls_key = "/etc/letsencrypt/live/relay.example.org/privkey.pem"

# Behind a reverse proxy: take a web client's address from the last X-Forwarded-For entry.
# Connections are still counted per TCP address (the proxy's): raise
# max_connections_per_ip to match.
trust_proxy = false

# The relay's ssh host key; an Ed25519 key is created (mode 0600) if the file is missing.
# relay_host_key in the cotty data directory when unset.
# host_key = "relay_host_key"

# Only hosts that log in with a key listed here (authorized_keys format, one
# `ssh-ed25519 AAAA... comment` a line) may share sessions. Anyone may host when unset.
# host_keys = "host_keys"

# Turn on named sessions (stable links USERNAME/NAME@HOST): a file of `API_KEY USERNAME`
# lines, re-read on SIGHUP. Hosts register names with -k/--api-key and -n/-r. Off when unset.
# api_keys = "api_keys"

# Refuse sessions that let anyone with the link in: a host must list its guests' keys
# (cotty -a FILE) or admit each guest itself (--approve).
require_authorized_keys = false

# Connections open at once, hosts and guests together; more are closed at once. When
# unset, as many as the open-file limit (`ulimit -n`) allows, minus a reserve.
# max_connections = 10000

# Connections open at once from one source address.
max_connections_per_ip = 32

# New connections a minute from one source address: a burst of this many, then one every
# 60/N seconds.
max_new_connections_per_minute = 120

# Failed session lookups (wrong links) a minute from one source address; then its guests
# are told how long to wait.
max_failed_lookups_per_minute = 20

# Time from connecting to an open shell or uplink, ssh handshake and login included.
login_grace = "20s"

# Sessions hosted at once from one source address.
max_sessions_per_ip = 16

# Read-only guests in one session, and read-write guests on top of them.
max_guests = 64
max_rw_guests = 16

# The largest pane a host may share and a guest terminal the relay draws for, COLSxROWS.
max_pane = "500x250"

# An ssh connection with no traffic for this long is closed.
idle_timeout = "1h"

# How long a session whose host dropped is kept for the host to come back.
resume_grace = "10m"

# A guest that takes no screen update for this long is dropped.
guest_stall_timeout = "60s"

# How long a guest of a session that asks the host (cotty --approve) waits for an answer;
# then it is told "the host did not answer" and disconnected.
approve_timeout = "2m"
"#;

/// The relay's settings, and what to say about them at start-up.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// How the relay is set up.
    pub config: RelayConfig,
    /// Where the connection cap came from, as the start-up line says it: "from the
    /// open-file limit 32768", "from --max-connections".
    pub connections_from: String,
    /// Things the operator should know before the first connection comes.
    pub warnings: Vec<String>,
}

/// Reads `--config` if given, lays the flags over it, and fills in the defaults.
pub fn load(args: &RelayArgs) -> Result<RelaySettings> {
    let file = args.config.as_deref().map(ConfigFile::read).transpose()?;
    resolve(args, file.as_ref(), open_file_limit(), default_public_host)
}

/// This machine's hostname, the default host name in links.
fn default_public_host() -> Result<String> {
    gethostname::gethostname()
        .into_string()
        .map_err(|_| anyhow!("this machine's hostname is not UTF-8; pass --public-host"))
}

/// Lays `args` over `file` over the defaults. `open_files` is the open-file limit, `None`
/// when unlimited; `hostname` gives the default host name in links.
fn resolve(
    args: &RelayArgs,
    file: Option<&ConfigFile>,
    open_files: Option<u64>,
    hostname: impl FnOnce() -> Result<String>,
) -> Result<RelaySettings> {
    let empty = ConfigFile::default();
    let f = file.unwrap_or(&empty);
    let d = Limits::default();
    let count = |key| f.get(key, parse_count);
    let rate = |key| f.get(key, parse_rate);
    let duration = |key| f.get(key, parse_duration);
    let limits = Limits {
        connections: d.connections,
        connections_per_ip: pick(
            args.max_connections_per_ip,
            count("max_connections_per_ip")?,
        )
        .unwrap_or(d.connections_per_ip),
        new_connections_per_minute: pick(
            args.max_new_connections_per_minute,
            rate("max_new_connections_per_minute")?,
        )
        .unwrap_or(d.new_connections_per_minute),
        failed_lookups_per_minute: pick(
            args.max_failed_lookups_per_minute,
            rate("max_failed_lookups_per_minute")?,
        )
        .unwrap_or(d.failed_lookups_per_minute),
        login_grace: pick(args.login_grace, duration("login_grace")?).unwrap_or(d.login_grace),
        sessions_per_ip: pick(args.max_sessions_per_ip, count("max_sessions_per_ip")?)
            .unwrap_or(d.sessions_per_ip),
        guests_per_session: pick(args.max_guests, count("max_guests")?)
            .unwrap_or(d.guests_per_session),
        rw_guests_per_session: pick(args.max_rw_guests, count("max_rw_guests")?)
            .unwrap_or(d.rw_guests_per_session),
        max_pane: pick(args.max_pane, f.get("max_pane", |t| t.parse::<Size>())?)
            .unwrap_or(d.max_pane),
        hello_timeout: d.hello_timeout,
        idle_timeout: pick(args.idle_timeout, duration("idle_timeout")?).unwrap_or(d.idle_timeout),
        resume_grace: pick(args.resume_grace, duration("resume_grace")?).unwrap_or(d.resume_grace),
        guest_stall_timeout: pick(args.guest_stall_timeout, duration("guest_stall_timeout")?)
            .unwrap_or(d.guest_stall_timeout),
        approve_timeout: pick(args.approval.approve_timeout, duration("approve_timeout")?)
            .unwrap_or(d.approve_timeout),
    };
    let mut warnings = Vec::new();
    let fits = open_files.map(connections_for_open_files);
    let (connections, connections_from) =
        match (args.max_connections, count("max_connections")?, open_files) {
            (Some(n), _, _) => (n, "from --max-connections".to_string()),
            (None, Some(n), _) => (n, format!("from max_connections in {}", f.shown())),
            (None, None, Some(open)) => (
                connections_for_open_files(open),
                format!("from the open-file limit {open}"),
            ),
            (None, None, None) => (d.connections, "the open-file limit is unlimited".into()),
        };
    if let (Some(fits), Some(open)) = (fits, open_files)
        && connections > fits
    {
        warnings.push(format!(
            "max connections {connections} is more than the open-file limit {open} allows \
             ({fits}); connections past that fail with \"too many open files\": raise `ulimit -n` \
             or lower --max-connections"
        ));
    }
    let listen = match pick(args.listen, f.get("listen", socket_addr)?) {
        Some(addr) => addr,
        None => DEFAULT_LISTEN
            .parse()
            .context("invariant: the default listen address parses")?,
    };
    let host_keys = pick(args.host_keys.clone(), f.path("host_keys")?);
    if host_keys.is_none() && !listen.ip().is_loopback() {
        warnings.push(format!(
            "anyone who can reach {listen} may host sessions on this relay; \
             to allow only your hosts, list their keys in a file and pass --host-keys FILE"
        ));
    }
    let public_host = match pick(args.public_host.clone(), f.get("public_host", non_empty)?) {
        Some(h) => h,
        None => hostname()?,
    };
    let public_port = pick(
        args.public_port,
        f.get("public_port", |t| {
            t.parse::<u16>()
                .map_err(|_| "expected a port number 1-65535".into())
        })?,
    );
    let host_key =
        pick(args.host_key.clone(), f.path("host_key")?).unwrap_or_else(default_host_key);
    let web = WebConfig {
        tls: tls_files(args, f)?,
        listen: pick(args.web_listen, f.get("web_listen", socket_addr)?),
        public_url: pick(
            args.public_url.clone(),
            f.get("public_url", PublicUrl::parse)?,
        ),
        trust_proxy: args.trust_proxy || f.get("trust_proxy", boolean)?.unwrap_or(false),
    };
    Ok(RelaySettings {
        config: RelayConfig {
            listen,
            public_host,
            public_port,
            host_key,
            host_keys,
            limits: Limits {
                connections,
                ..limits
            },
            web,
            api_keys: pick(args.api_keys.clone(), f.path("api_keys")?),
            require_authorized_keys: args.keys.require_authorized_keys
                || f.get("require_authorized_keys", boolean)?.unwrap_or(false),
        },
        connections_from,
        warnings,
    })
}

/// The flag's value if given, else the file's.
fn pick<T>(flag: Option<T>, file: Option<T>) -> Option<T> {
    flag.or(file)
}

/// The certificate and key for HTTPS: both or neither, each from its flag or the file.
fn tls_files(args: &RelayArgs, f: &ConfigFile) -> Result<Option<TlsFiles>> {
    let cert = pick(args.tls_cert.clone(), f.path("tls_cert")?);
    let key = pick(args.tls_key.clone(), f.path("tls_key")?);
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(cert), None) => bail!(
            "--tls-cert {} is given without --tls-key (tls_key); pass the certificate's \
             private key with --tls-key FILE, or leave both out for plain HTTP",
            cert.display()
        ),
        (None, Some(key)) => bail!(
            "--tls-key {} is given without --tls-cert (tls_cert); pass the certificate chain \
             with --tls-cert FILE, or leave both out for plain HTTP",
            key.display()
        ),
    }
}

/// Parses a listening address.
fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .map_err(|_| "expected an address such as 0.0.0.0:2222 or 127.0.0.1:0".into())
}

/// Parses `true` or `false`.
fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// Accepts any text but the empty string.
fn non_empty(text: &str) -> Result<String, String> {
    if text.is_empty() {
        Err("expected a host name or address".into())
    } else {
        Ok(text.to_string())
    }
}

/// A relay config file, read and checked for unknown keys.
#[derive(Debug, Default)]
struct ConfigFile {
    /// The file, for messages and relative paths; empty when there is no file.
    path: PathBuf,
    /// Its keys and values.
    table: Map<String, Value>,
}

impl ConfigFile {
    /// Reads and parses `path`; every key must be one of [`KEYS`].
    fn read(path: &Path) -> Result<ConfigFile> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "failed to read the relay config file {shown}; check the --config path, or \
                 write a default one with `cotty relay --print-default-config > {shown}`"
            )
        })?;
        let table = Config::builder()
            .add_source(config::File::from_str(&text, FileFormat::Toml))
            .build()
            .and_then(|c| c.collect())
            .with_context(|| format!("failed to parse the relay config file {shown}"))?;
        let mut unknown: Vec<String> = table
            .keys()
            .filter(|k| !KEYS.contains(&k.as_str()))
            .map(|k| format!("{k:?}"))
            .collect();
        if !unknown.is_empty() {
            unknown.sort();
            let plural = if unknown.len() > 1 { "s" } else { "" };
            bail!(
                "unknown key{plural} {} in {shown}; the keys are: {} \
                 (`cotty relay --print-default-config` shows each with its default)",
                unknown.join(", "),
                KEYS.join(", ")
            );
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            table,
        })
    }

    /// The file's name for messages.
    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// The value of `key` run through `parse`; `None` when the file does not set it. An
    /// error names the key, the file, the bad value and what was expected.
    fn get<T>(&self, key: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>> {
        let Some(value) = self.table.get(key) else {
            return Ok(None);
        };
        // Numbers become their text, so the file may quote them or not; a table or an array
        // is always wrong, but its display is still worth showing.
        let text = value
            .clone()
            .into_string()
            .unwrap_or_else(|_| value.to_string());
        parse(&text).map(Some).map_err(|why| {
            anyhow!(
                "invalid value {text:?} for {key} in {}: {why}",
                self.shown()
            )
        })
    }

    /// The path `key` names, relative to the file's folder unless absolute.
    fn path(&self, key: &str) -> Result<Option<PathBuf>> {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        Ok(self
            .get(key, |t| {
                non_empty(t).map_err(|_| "expected a file path".into())
            })?
            .map(|p| dir.join(p)))
    }
}

#[cfg(test)]
mod tests;
