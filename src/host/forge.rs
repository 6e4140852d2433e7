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
use std::time::Duration;

/// How long a forge has to answer for one user, body included (the 5 s).
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most bytes read from one answer: a few hundred keys' worth; more is not a key list.
pub const MAX_BODY: usize = 64 * 1024;
/// The most keys kept for one user; the rest are dropped with a warning.
pub const MAX_KEYS: usize = 100;

/// Why a forge's keys could not be had. Each says which user, which forge and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The forge answered 404: no such user.
    #[error(
        "{} has no user {:?} ({url} answered 404 Not Found); check the name given to --{} or \
         in the config's {} list", .user.forge, .user.name, .user.forge, .user.forge
    )]
    UnknownUser { user: ForgeUser, url: String },
    /// The user exists but publishes no ssh key cotty can read.
    #[error(
        "{} user {:?} publishes no ssh keys ({url}{}); ask them to add one to their {} \
         account, or leave them out", .user.forge, .user.name, skipped_note(*.skipped), .user.forge
    )]
    NoKeys {
        user: ForgeUser,
        url: String,
        skipped: usize,
    },
    /// No whole answer within the time limit.
    #[error(
        "{} did not answer for user {:?} within {}s ({url}); check the network, or \
         forge_urls.{} in the config, and try again", .user.forge, .user.name,
         .timeout.as_secs_f64(), .user.forge
    )]
    Timeout {
        user: ForgeUser,
        url: String,
        timeout: Duration,
    },
    /// An answer other than 200 or 404.
    #[error(
        "{} answered {status} for user {:?} ({url}); try again later, or check \
         forge_urls.{} in the config", .user.forge, .user.name, .user.forge
    )]
    Status {
        user: ForgeUser,
        url: String,
        status: StatusCode,
    },
    /// An answer longer than [`MAX_BODY`].
    #[error(
        "{url} sent more than {} KiB for {} user {:?}, which is no list of ssh keys; check \
         forge_urls.{} in the config", MAX_BODY / 1024, .user.forge, .user.name, .user.forge
    )]
    TooLarge { user: ForgeUser, url: String },
    /// No answer at all: the connection, TLS or HTTP failed.
    #[error(
        "failed to fetch the ssh keys of {} user {:?} from {url}: {reason}; check the network, \
         or forge_urls.{} in the config", .user.forge, .user.name, .user.forge
    )]
    Request {
        user: ForgeUser,
        url: String,
        reason: String,
    },
}

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
            let client = client.map_err(|reason| ForgeError::Request {
                user: user.clone(),
                url: url.clone(),
                reason,
            })?;
            let body = fetch(&client, user, &url, timeout).await?;
            keys_of(user, &url, &body)
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
async fn fetch(
    client: &HttpClient,
    user: &ForgeUser,
    url: &str,
    timeout: Duration,
) -> Result<Bytes, ForgeError> {
    let request_error = |reason: String| ForgeError::Request {
        user: user.clone(),
        url: url.to_string(),
        reason,
    };
    let request = hyper::Request::get(url)
        .header(
            hyper::header::USER_AGENT,
            concat!("cotty/", env!("CARGO_PKG_VERSION")),
        )
        .header(hyper::header::ACCEPT, "text/plain")
        .body(Empty::new())
        .map_err(|e| request_error(e.to_string()))?;
    let exchange = async {
        let answer = client
            .request(request)
            .await
            .map_err(|e| request_error(chain(&e)))?;
        let status = answer.status();
        if status == StatusCode::NOT_FOUND {
            return Err(ForgeError::UnknownUser {
                user: user.clone(),
                url: url.to_string(),
            });
        }
        if status != StatusCode::OK {
            return Err(ForgeError::Status {
                user: user.clone(),
                url: url.to_string(),
                status,
            });
        }
        match Limited::new(answer.into_body(), MAX_BODY).collect().await {
            Ok(body) => Ok(body.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => Err(ForgeError::TooLarge {
                user: user.clone(),
                url: url.to_string(),
            }),
            Err(e) => Err(request_error(chain(&*e))),
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(ForgeError::Timeout {
                user: user.clone(),
                url: url.to_string(),
                timeout,
            })
        })
}

/// The keys in one user's answer, renamed `USER (FORGE)`, with the log lines about them.
/// Blank lines are passed over; a line that is no ssh public key is skipped and counted.
fn keys_of(user: &ForgeUser, url: &str, body: &[u8]) -> Result<ForgeKeys, ForgeError> {
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
        return Err(ForgeError::NoKeys {
            user: user.clone(),
            url: url.to_string(),
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

/// What an answer without keys held, for [`ForgeError::NoKeys`]: " is empty", or how many
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
            let err = keys_of(&alice(), "U", body.as_bytes()).expect_err(body);
            let text = err.to_string();
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
