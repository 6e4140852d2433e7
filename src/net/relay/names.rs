//! Named sessions: stable links `USERNAME/NAME` that a host with an API key registers, the
//! rule names follow, and which API key holds each name now.
//!
//! A name points at one of its session's random tokens, so a guest who joins by name lands
//! exactly where the token would take it, with the token's access. A name is held by the API
//! key that registered it for as long as its session lives. The same key registering it again
//! takes it over (a machine that rebooted and lost its resume secret); another key is refused.

use crate::net::proto::Hello;
use crate::net::relay::apikeys::ApiKeys;
use crate::net::relay::registry::{Registry, Tokens};
use crate::net::relay::room::RoomCmd;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc;
use tracing::{info, warn};

/// The most characters in a session name or a user name.
pub const NAME_MAX: usize = 50;

/// The rule names follow, as messages state it.
pub const NAME_RULE: &str = "1 to 50 characters of A-Z, a-z, 0-9, _ and -";

/// Whether `s` is a session or user name: `[A-Za-z0-9_-]{1,50}`, safe in an ssh user name and
/// a URL fragment.
pub fn valid_name(s: &str) -> bool {
    (1..=NAME_MAX).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `s` has the form of a full name, `USERNAME/NAME`, so it is worth a lookup.
pub fn looks_like_name(s: &str) -> bool {
    s.split_once('/')
        .is_some_and(|(user, name)| valid_name(user) && valid_name(name))
}

/// What the host is told when its hello asks for names on a relay without `--api-keys`.
pub const NO_NAMES: &str =
    "this relay has no named sessions; drop -n/-r or ask its operator for --api-keys";

/// A host's request for names, checked against the relay's API keys. Its `Debug` leaves the
/// key out, so no log line can show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Claim {
    /// The API key that will hold the names.
    key: String,
    /// The read-write name, `USERNAME/NAME`.
    pub rw: Option<String>,
    /// The read-only name, `USERNAME/RO_NAME`.
    pub ro: Option<String>,
    /// Whether the host resumes a session: it then may not take its names from a newer one.
    resume: bool,
}

impl Claim {
    /// The names `hello` asks for: `None` when it asks for none, and the reason to refuse
    /// the host for good when it cannot have them.
    pub fn from_hello(hello: &Hello, keys: Option<&ApiKeys>) -> Result<Option<Claim>, String> {
        if hello.name.is_none() && hello.ro_name.is_none() {
            return Ok(None);
        }
        let Some(keys) = keys else {
            return Err(NO_NAMES.into());
        };
        for (flag, name) in [("-n/--name", &hello.name), ("-r/--ro-name", &hello.ro_name)] {
            if let Some(name) = name
                && !valid_name(name)
            {
                return Err(format!(
                    "the session name {name:?} ({flag}) is not {NAME_RULE}; choose another"
                ));
            }
        }
        if hello.name.is_some() && hello.name == hello.ro_name {
            return Err("-n/--name and -r/--ro-name must differ: one name, one access".into());
        }
        let Some(key) = &hello.api_key else {
            return Err(
                "a named session needs an API key: pass -k/--api-key or set api_key \
                        in the config"
                    .into(),
            );
        };
        let Some(user) = keys.user(key) else {
            return Err(
                "the relay does not know this API key; check -k/--api-key or api_key \
                        in the config"
                    .into(),
            );
        };
        let full = |n: &Option<String>| n.as_ref().map(|n| format!("{user}/{n}"));
        Ok(Some(Claim {
            key: key.clone(),
            rw: full(&hello.name),
            ro: full(&hello.ro_name),
            resume: hello.resume.is_some(),
        }))
    }

    /// Logs the names a session goes by (never its tokens or key), and warns when anyone who
    /// guesses a name may join: the session neither lists its guests' keys nor approves them.
    pub fn log(&self, label: &str, guarded: bool) {
        let names: Vec<&str> = self.rw.iter().chain(&self.ro).map(String::as_str).collect();
        let names = names.join(" and ");
        info!("session {label} goes by {names}");
        if !guarded {
            warn!(
                "named session {names} lets in anyone who guesses its name: it has neither a \
                 list of guests' keys (-a) nor approval (--approve)"
            );
        }
    }

    /// The names with the token each points at.
    fn pairs<'a>(&'a self, tokens: &'a Tokens) -> impl Iterator<Item = (&'a str, &'a str)> {
        let rw = self.rw.as_deref().map(|n| (n, tokens.rw.as_str()));
        let ro = self.ro.as_deref().map(|n| (n, tokens.ro.as_str()));
        rw.into_iter().chain(ro)
    }
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim")
            .field("key", &"…")
            .field("rw", &self.rw)
            .field("ro", &self.ro)
            .field("resume", &self.resume)
            .finish()
    }
}

/// Why a host may not have a name; the text is shown to the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A live session of another API key holds the name.
    #[error("the name {0} is held by a session of another API key; choose another -n/-r name")]
    HeldByOther(String),
    /// A resuming host finds its name taken by a newer session of the same key.
    #[error(
        "the name {0} was taken over by a newer session with the same API key; this host \
         stops sharing (start it again to take the name back)"
    )]
    TakenOver(String),
}

/// Which key holds a name, and the token it points at.
#[derive(Debug, Clone)]
struct Holder {
    /// The API key that registered it.
    key: String,
    /// The session's token the name stands for.
    token: String,
}

/// Full names to their holders. A lookup table: its lock is held only for a map operation
/// (and the registry lookups inside [`bind`]), never across an `.await`.
#[derive(Debug, Default)]
pub struct Names {
    /// The table.
    map: Mutex<HashMap<String, Holder>>,
}

impl Names {
    /// The token `name` stands for now, if any.
    pub fn token(&self, name: &str) -> Option<String> {
        if !looks_like_name(name) {
            return None;
        }
        self.lock().get(name).map(|h| h.token.clone())
    }

    /// Forgets the names that point at `tokens` (their session ended).
    pub fn forget(&self, tokens: &[&str]) {
        self.lock()
            .retain(|_, h| !tokens.contains(&h.token.as_str()));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Holder>> {
        // Every change is a single insert or retain, so a poisoned map is still whole.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Checks that `claim` may point its names at `tokens`, and with `commit` does so. Returns the
/// tokens of the live sessions the names are taken from (the same key's older sessions), whose
/// rooms the caller ends. A name whose session has ended is free for anyone.
fn take(
    names: &Names,
    claim: &Claim,
    tokens: &Tokens,
    live: impl Fn(&str) -> bool,
    commit: bool,
) -> Result<Vec<String>, NameError> {
    let mut map = names.lock();
    let mut taken = Vec::new();
    for (name, token) in claim.pairs(tokens) {
        let Some(h) = map.get(name) else { continue };
        if h.token == token && h.key == claim.key {
            continue;
        }
        if !live(&h.token) {
            continue;
        }
        if h.key != claim.key {
            return Err(NameError::HeldByOther(name.into()));
        }
        if claim.resume {
            return Err(NameError::TakenOver(name.into()));
        }
        taken.push(h.token.clone());
    }
    if commit {
        for (name, token) in claim.pairs(tokens) {
            let holder = Holder {
                key: claim.key.clone(),
                token: token.into(),
            };
            map.insert(name.into(), holder);
        }
    }
    Ok(taken)
}

/// Checks that `claim` may point its names at `tokens`, without doing so: refuses a host
/// before a room is made for it.
pub fn check(registry: &Registry, claim: &Claim, tokens: &Tokens) -> Result<(), NameError> {
    let live = |t: &str| registry.lookup(t).is_some();
    take(registry.names(), claim, tokens, live, false).map(drop)
}

/// Points `claim`'s names at `tokens`. Returns the rooms of the same key's older sessions
/// that held them, for the caller to end.
pub fn bind(
    registry: &Registry,
    claim: &Claim,
    tokens: &Tokens,
) -> Result<Vec<mpsc::Sender<RoomCmd>>, NameError> {
    let taken = take(
        registry.names(),
        claim,
        tokens,
        |t| registry.lookup(t).is_some(),
        true,
    )?;
    let mut rooms: Vec<mpsc::Sender<RoomCmd>> = Vec::new();
    for entry in taken.iter().filter_map(|t| registry.lookup(t)) {
        if !rooms.iter().any(|r| r.same_channel(&entry.room)) {
            rooms.push(entry.room);
        }
    }
    Ok(rooms)
}

#[cfg(test)]
mod tests;
