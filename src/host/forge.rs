//! Guests' keys from forges: `--github alice` fetches `https://github.com/alice.keys` when
//! the session starts and lets those keys join, named `alice (github)`.
//!
//! Every user is asked at once, each under one time limit that covers the whole exchange,
//! body included, so a forge that stalls mid-answer cannot hold the host. The answer is read
//! up to [`MAX_BODY`] and at most [`MAX_KEYS`] keys a user are kept. A user who is unknown or
//! publishes no keys is an error: a session meant for alice that silently admits nobody (or,
//! with no other keys, anybody) is worse than one that does not start.

use crate::config::forge::{ForgeSettings, ForgeUser};
use crate::net::proto::Hello;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::StatusCode;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use russh::keys::{HashAlg, PublicKey};
use std::fmt;
use std::time::Duration;

/// How long a forge has to answer for one user, body included (the 5 s).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most bytes read from one answer: a few hundred keys' worth; more is not a key list.
pub const MAX_BODY: usize = 64 * 1024;
/// The most keys kept for one user; the rest are dropped with a warning.
pub const MAX_KEYS: usize = 100;

/// Why one user's keys could not be had. Its message names the user, the forge and the URL
/// asked, and says what to do.
#[derive(Debug)]
pub struct ForgeError {
    /// Whose keys were asked for, on which forge.
    pub user: ForgeUser,
    /// The URL asked, shown so that a wrong `forge_urls` is plain to see.
    pub url: String,
    /// What went wrong.
    pub failure: Failure,
}

/// What went wrong in fetching one user's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The forge answered 404: it has no such user.
    UnknownUser,
    /// The answer held no key cotty can read; `skipped` lines were something else.
    NoKeys {
        /// Lines that were not blank and no ssh public key.
        skipped: usize,
    },
    /// No whole answer, body included, within this time limit.
    Timeout(Duration),
    /// An answer other than 200 or 404.
    Status(StatusCode),
    /// An answer longer than [`MAX_BODY`], which is no list of keys.
    TooLarge,
    /// No answer at all: the connection, TLS or HTTP failed, with the causes.
    Request(String),
}

impl fmt::Display for ForgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (forge, name, url) = (self.user.forge, &self.user.name, &self.url);
        let check_url = format!("forge_urls.{forge} in the config");
        match &self.failure {
            Failure::UnknownUser => write!(
                f,
                "{forge} has no user {name:?} ({url} answered 404 Not Found); check the name \
                 given to --{forge} or in the config's {forge} list"
            ),
            Failure::NoKeys { skipped } => write!(
                f,
                "{forge} user {name:?} publishes no ssh keys ({url}{}); ask them to add one to \
                 their {forge} account, or leave them out",
                skipped_note(*skipped)
            ),
            Failure::Timeout(limit) => write!(
                f,
                "{forge} did not answer for user {name:?} within {}s ({url}); check the \
                 network, or {check_url}, and try again",
                limit.as_secs_f64()
            ),
            Failure::Status(status) => write!(
                f,
                "{forge} answered {status} for user {name:?} ({url}); try again later, or \
                 check {check_url}"
            ),
            Failure::TooLarge => write!(
                f,
                "{url} sent more than {} KiB for {forge} user {name:?}, which is no list of \
                 ssh keys; check {check_url}",
                MAX_BODY / 1024
            ),
            Failure::Request(reason) => write!(
                f,
                "failed to fetch the ssh keys of {forge} user {name:?} from {url}: {reason}; \
                 check the network, or {check_url}"
            ),
        }
    }
}

impl std::error::Error for ForgeError {}

/// The failures of one round of fetches, all of them, so that one run shows every typo.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct FetchErrors(pub Vec<ForgeError>);

/// The keys fetched for a session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgeKeys {
    /// authorized_keys lines, `TYPE BASE64 USER (FORGE)`: the comment is the guest's name.
    pub lines: Vec<String>,
    /// What the host's log says about them: a line a user with the keys' fingerprints, and
    /// a line for lines that were skipped.
    pub log: Vec<String>,
}

impl ForgeKeys {
    /// Adds the keys to the session's list of keys that may join, starting the list if there
    /// was none: with a forge user given, only listed keys may join.
    pub fn add_to(&self, hello: &mut Hello) {
        hello
            .authorized_keys
            .get_or_insert_with(Vec::new)
            .extend(self.lines.iter().cloned());
    }
}

/// Fetches the keys of every user in `settings`, all at once, each within `timeout`
/// ([`TIMEOUT`] for the host). `None` when no user is given.
pub async fn fetch_all(
    settings: &ForgeSettings,
    timeout: Duration,
) -> Result<Option<ForgeKeys>, FetchErrors> {
    if settings.users.is_empty() {
        return Ok(None);
    }
    let client = client();
    let fetches = settings.users.iter().map(|user| {
        let url = settings.keys_url(user);
        let client = client.clone();
        async move {
            let keys = match client {
                Ok(client) => match fetch(&client, &url, timeout).await {
                    Ok(body) => keys_of(user, &url, &body),
                    Err(failure) => Err(failure),
                },
                Err(reason) => Err(Failure::Request(reason)),
            };
            keys.map_err(|failure| ForgeError {
                user: user.clone(),
                url,
                failure,
            })
        }
    });
    let mut keys = ForgeKeys::default();
    let mut errors = Vec::new();
    for result in futures::future::join_all(fetches).await {
        match result {
            Ok(one) => {
                keys.lines.extend(one.lines);
                keys.log.extend(one.log);
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.is_empty() {
        true => Ok(Some(keys)),
        false => Err(FetchErrors(errors)),
    }
}

/// The client [`fetch`] uses.
type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// An HTTP client for http and https URLs, with rustls on ring (named, not left to the
/// process default) and the built-in Mozilla roots.
fn client() -> Result<HttpClient, String> {
    let ring = tokio_rustls::rustls::crypto::ring::default_provider();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(ring)
        .map_err(|e| format!("failed to set up TLS: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// One user's answer: the body of a 200, read within `timeout` and [`MAX_BODY`].
async fn fetch(client: &HttpClient, url: &str, timeout: Duration) -> Result<Bytes, Failure> {
    let request = hyper::Request::get(url)
        .header(
            hyper::header::USER_AGENT,
            concat!("cotty/", env!("CARGO_PKG_VERSION")),
        )
        .header(hyper::header::ACCEPT, "text/plain")
        .body(Empty::new())
        .map_err(|e| Failure::Request(e.to_string()))?;
    let exchange = async {
        let answer = client
            .request(request)
            .await
            .map_err(|e| Failure::Request(chain(&e)))?;
        match answer.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(Failure::UnknownUser),
            status => return Err(Failure::Status(status)),
        }
        match Limited::new(answer.into_body(), MAX_BODY).collect().await {
            Ok(body) => Ok(body.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => Err(Failure::TooLarge),
            Err(e) => Err(Failure::Request(chain(&*e))),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(Failure::Timeout(timeout)))
}

/// The keys in one user's answer, renamed `USER (FORGE)`, with the log lines about them.
/// Blank lines are passed over; a line that is no ssh public key is skipped and counted.
fn keys_of(user: &ForgeUser, url: &str, body: &[u8]) -> Result<ForgeKeys, Failure> {
    let name = user.guest_name();
    let mut keys: Vec<PublicKey> = Vec::new();
    let mut skipped = Vec::new();
    let text = String::from_utf8_lossy(body);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match PublicKey::from_openssh(line) {
            Ok(mut key) => {
                key.set_comment(name.as_str());
                if !keys.iter().any(|k| k.key_data() == key.key_data()) {
                    keys.push(key);
                }
            }
            Err(e) => skipped.push(format!("line {} ({e})", n + 1)),
        }
    }
    if keys.is_empty() {
        return Err(Failure::NoKeys {
            skipped: skipped.len(),
        });
    }
    let mut log = Vec::new();
    if keys.len() > MAX_KEYS {
        log.push(format!(
            "{name}: {url} lists {} keys; only the first {MAX_KEYS} may join",
            keys.len()
        ));
        keys.truncate(MAX_KEYS);
    }
    if !skipped.is_empty() {
        log.push(format!(
            "{name}: skipped what is no ssh public key in {url}: {}",
            skipped.join(", ")
        ));
    }
    let mut lines = Vec::with_capacity(keys.len());
    let mut prints = Vec::with_capacity(keys.len());
    for key in &keys {
        match key.to_openssh() {
            Ok(line) => lines.push(line),
            Err(e) => {
                log.push(format!(
                    "{name}: a key could not be written out ({e}); skipped"
                ));
                continue;
            }
        }
        prints.push(key.fingerprint(HashAlg::Sha256).to_string());
    }
    let plural = if lines.len() == 1 { "" } else { "s" };
    log.insert(
        0,
        format!(
            "guest keys: {name} may join with {} key{plural} from {url}: {}",
            lines.len(),
            prints.join(", ")
        ),
    );
    Ok(ForgeKeys { lines, log })
}

/// What an answer without keys held, for [`Failure::NoKeys`]: " is empty", or how many
/// lines were no keys.
fn skipped_note(skipped: usize) -> String {
    match skipped {
        0 => " is empty".to_string(),
        1 => " has one line, which is no ssh public key".to_string(),
        n => format!(" has {n} lines, none of them an ssh public key"),
    }
}

/// An error with its causes, `outer: inner: innermost`, since hyper's outer errors alone say
/// little ("client error (Connect)").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::forge::Forge;

    /// An Ed25519 public key from `seed`, as `TYPE BASE64` with no comment.
    fn key(seed: u8) -> String {
        let pair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]);
        PublicKey::from(pair.public).to_openssh().expect("openssh")
    }

    fn alice() -> ForgeUser {
        ForgeUser {
            forge: Forge::GitHub,
            name: "alice".into(),
        }
    }

    #[test]
    fn keys_are_renamed_blank_lines_passed_over_and_bad_lines_skipped_with_a_word() {
        let (a, b) = (key(1), key(2));
        let body = format!("{a} old@laptop\n\nnot a key\r\n{b}\n{a}\n");
        let keys = keys_of(&alice(), "U", body.as_bytes()).expect("keys");
        assert_eq!(
            keys.lines,
            [format!("{a} alice (github)"), format!("{b} alice (github)")],
            "the forge's comment gives way to the guest's name; a repeat is kept once"
        );
        assert!(
            keys.log[0]
                .starts_with("guest keys: alice (github) may join with 2 keys from U: SHA256:")
        );
        assert!(keys.log[1].contains("line 3"), "{:?}", keys.log);
    }

    #[test]
    fn an_answer_without_keys_is_an_error_naming_user_and_forge() {
        for (body, says) in [
            ("", "is empty"),
            ("\n\n", "is empty"),
            ("junk\n", "one line"),
        ] {
            let failure = keys_of(&alice(), "U", body.as_bytes()).expect_err(body);
            let text = ForgeError {
                user: alice(),
                url: "U".into(),
                failure,
            }
            .to_string();
            assert!(
                text.contains("github user \"alice\" publishes no ssh keys"),
                "{text}"
            );
            assert!(text.contains(says), "{text}");
        }
    }

    #[test]
    fn at_most_max_keys_are_kept() {
        // Distinct Ed25519 keys from seeds; the parser sees only their public halves.
        let body: String = (0..MAX_KEYS + 5)
            .map(|i| format!("{}\n", key(i as u8)))
            .collect();
        let keys = keys_of(&alice(), "U", body.as_bytes()).expect("keys");
        assert_eq!(keys.lines.len(), MAX_KEYS);
        assert!(
            keys.log.iter().any(|l| l.contains("only the first")),
            "{:?}",
            keys.log
        );
    }

    #[test]
    fn forge_keys_start_the_list_or_join_the_keys_already_there() {
        let keys = ForgeKeys {
            lines: vec![format!("{} alice (github)", key(1))],
            log: Vec::new(),
        };
        let mut hello = Hello::new("t");
        keys.add_to(&mut hello);
        assert_eq!(hello.authorized_keys, Some(keys.lines.clone()));
        let mut hello = Hello::new("t");
        hello.authorized_keys = Some(vec![format!("{} bob", key(2))]);
        keys.add_to(&mut hello);
        assert_eq!(hello.authorized_keys.map(|k| k.len()), Some(2));
    }
}
