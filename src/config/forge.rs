//! The forge settings: the `github`, `gitlab` and `codeberg` lists of users whose published ssh
//! keys may join, and the `forge_urls` table those keys are fetched from.

use super::Layers;
use crate::cli::access::{ForgeArgs, USER_FORM, parse_user};
use anyhow::{Result, anyhow};
use config::{Value, ValueKind};
use std::fmt;

/// A forge that publishes its users' ssh public keys at `BASE/USER.keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forge {
    /// github.com, or a GitHub Enterprise server through `forge_urls`.
    GitHub,
    /// gitlab.com, or a self-hosted GitLab.
    GitLab,
    /// codeberg.org, or another Forgejo or Gitea.
    Codeberg,
}

impl Forge {
    /// Every forge, in the order flags and messages list them.
    pub const ALL: [Forge; 3] = [Forge::GitHub, Forge::GitLab, Forge::Codeberg];

    /// The forge's config key, flag name (`--github`) and the word in keys' names.
    pub fn key(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
            Forge::Codeberg => "codeberg",
        }
    }

    /// Where the forge is unless `forge_urls` says otherwise.
    pub fn default_url(self) -> &'static str {
        match self {
            Forge::GitHub => "https://github.com",
            Forge::GitLab => "https://gitlab.com",
            Forge::Codeberg => "https://codeberg.org",
        }
    }

    /// The users given for this forge on the command line.
    fn flag_users(self, args: &ForgeArgs) -> &[String] {
        match self {
            Forge::GitHub => &args.github,
            Forge::GitLab => &args.gitlab,
            Forge::Codeberg => &args.codeberg,
        }
    }
}

impl fmt::Display for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One account on one forge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForgeUser {
    /// The forge that publishes the keys.
    pub forge: Forge,
    /// The account's name there, checked by [`parse_user`] so it is safe in a URL path.
    pub name: String,
}

impl ForgeUser {
    /// The name guests holding this user's keys get: `alice (github)`.
    pub fn guest_name(&self) -> String {
        format!("{} ({})", self.name, self.forge)
    }
}

/// Whose forge keys may join, and where each forge is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeSettings {
    /// The users, forge by forge in the order given, each once.
    pub users: Vec<ForgeUser>,
    /// The base URL of each forge, in the order of [`Forge::ALL`], without a trailing `/`;
    /// settable so that a self-hosted forge, or a test's loopback stub, can stand in.
    urls: [String; 3],
}

impl Default for ForgeSettings {
    fn default() -> Self {
        ForgeSettings {
            users: Vec::new(),
            urls: Forge::ALL.map(|f| f.default_url().to_string()),
        }
    }
}

impl ForgeSettings {
    /// The base URL of `forge`.
    pub fn url(&self, forge: Forge) -> &str {
        let i = Forge::ALL.iter().position(|f| *f == forge).unwrap_or(0);
        &self.urls[i]
    }

    /// Where `user`'s keys are published: `BASE/USER.keys`.
    pub fn keys_url(&self, user: &ForgeUser) -> String {
        format!("{}/{}.keys", self.url(user.forge), user.name)
    }
}

/// What `forge_urls` must be, for messages.
const URLS_FORM: &str = "a table such as forge_urls = { github = \"https://github.com\" }";

/// Reads the forge settings: each forge's users (a flag replaces the file's and the
/// environment's list) and `forge_urls`. Errors name the key or flag.
pub(super) fn load(layers: &Layers, args: &ForgeArgs) -> Result<ForgeSettings> {
    let mut s = ForgeSettings::default();
    for forge in Forge::ALL {
        let flagged = forge.flag_users(args);
        let names = match flagged.is_empty() {
            false => flagged.to_vec(),
            true => users(layers, forge.key())?,
        };
        for name in names {
            let user = ForgeUser { forge, name };
            if !s.users.contains(&user) {
                s.users.push(user);
            }
        }
    }
    let Some(table) = value(layers, "forge_urls")? else {
        return Ok(s);
    };
    let table = table.into_table().map_err(|_| {
        anyhow!(
            "invalid value for forge_urls in {}: expected {URLS_FORM}",
            layers.origin("forge_urls")
        )
    })?;
    for (key, value) in table {
        let at = |e: &str| {
            anyhow!(
                "invalid value for forge_urls.{key} in {}: {e}",
                layers.origin("forge_urls")
            )
        };
        let i = Forge::ALL
            .iter()
            .position(|f| f.key() == key)
            .ok_or_else(|| at("the forges are github, gitlab and codeberg"))?;
        let text = value.into_string().unwrap_or_default();
        s.urls[i] = base_url(&text).ok_or_else(|| {
            at(&format!(
                "expected a URL such as {}, got {text:?}",
                Forge::ALL[i].default_url()
            ))
        })?;
    }
    Ok(s)
}

/// The value of `key` from the file or the environment, if set.
fn value(layers: &Layers, key: &str) -> Result<Option<Value>> {
    match layers.cfg.get::<Value>(key) {
        Ok(v) => Ok(Some(v)),
        Err(config::ConfigError::NotFound(_)) => Ok(None),
        Err(e) => Err(anyhow!("failed to read the setting {key}: {e}")),
    }
}

/// A forge's users from the file (a list of names) or the environment (names separated by
/// commas or spaces, as `COTTY_GITHUB="alice bob"`).
fn users(layers: &Layers, key: &str) -> Result<Vec<String>> {
    let Some(v) = value(layers, key)? else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = match v.kind {
        ValueKind::Array(items) => items
            .into_iter()
            .map(|i| i.clone().into_string().unwrap_or_else(|_| i.to_string()))
            .collect(),
        ValueKind::String(text) => text
            .split([',', ' ', '\t'])
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect(),
        other => vec![other.to_string()],
    };
    names
        .iter()
        .map(|n| {
            parse_user(n).map_err(|_| {
                anyhow!(
                    "invalid value for {key} in {}: expected a list of user names such as \
                     [\"octocat\"], each {USER_FORM}; got {n:?}",
                    layers.origin(key)
                )
            })
        })
        .collect()
}

/// An http(s) URL with a host and no query, as the base of `BASE/USER.keys`; a trailing `/`
/// is dropped.
fn base_url(text: &str) -> Option<String> {
    let uri: hyper::Uri = text.trim().parse().ok()?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let plain = uri.authority().is_some() && uri.query().is_none() && !text.contains('#');
    (scheme_ok && plain).then(|| text.trim().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_from;
    use crate::config::tests::{cli, env, error, file};

    #[test]
    fn a_base_url_is_http_or_https_with_a_host_and_loses_its_slash() {
        assert_eq!(
            base_url("https://github.com/").as_deref(),
            Some("https://github.com")
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/forge").as_deref(),
            Some("http://127.0.0.1:8080/forge")
        );
        for bad in [
            "github.com",
            "ftp://x",
            "https://",
            "https://x/?a=b",
            "https://x/#f",
            "",
        ] {
            assert_eq!(base_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn users_come_from_the_file_or_the_environment_and_a_flag_replaces_its_forges_list() {
        let text = "github = [\"alice\", \"bob\", \"alice\"]\ngitlab = [\"carol\"]\n\
                    forge_urls = { github = \"http://127.0.0.1:9/gh/\" }\n";
        let (_dir, path) = file(text);
        let load = |vars: &[(&str, &str)], args: &[&str]| {
            load_from(Some(&path), true, &env(vars), &cli(args))
                .expect("loads")
                .forge
        };
        let names = |s: &ForgeSettings, forge: Forge| -> Vec<String> {
            s.users
                .iter()
                .filter(|u| u.forge == forge)
                .map(|u| u.name.clone())
                .collect()
        };
        let s = load(&[], &[]);
        assert_eq!(
            names(&s, Forge::GitHub),
            ["alice", "bob"],
            "a repeat is asked once"
        );
        assert_eq!(names(&s, Forge::GitLab), ["carol"]);
        assert_eq!(s.url(Forge::GitHub), "http://127.0.0.1:9/gh");
        assert_eq!(
            s.url(Forge::GitLab),
            "https://gitlab.com",
            "unset urls keep the default"
        );
        let s = load(&[("COTTY_GITHUB", "dave, erin")], &["--gitlab", "frank"]);
        assert_eq!(names(&s, Forge::GitHub), ["dave", "erin"]);
        assert_eq!(names(&s, Forge::GitLab), ["frank"]);
        let s = load(&[("COTTY_GITHUB", "dave")], &["--github", "gina"]);
        assert_eq!(names(&s, Forge::GitHub), ["gina"]);
    }

    #[test]
    fn a_bad_forge_value_names_its_key_and_where_it_came_from() {
        for (text, vars, says) in [
            (
                "github = [\"../x\"]",
                vec![],
                "invalid value for github in ",
            ),
            (
                "codeberg = [\"ok\", [\"x\"]]",
                vec![],
                "invalid value for codeberg in ",
            ),
            (
                "",
                vec![("COTTY_GITLAB", "a/b")],
                "gitlab in the environment variable COTTY_GITLAB",
            ),
            ("forge_urls = \"https://x\"", vec![], "forge_urls in "),
            (
                "forge_urls = { gitea = \"https://x\" }",
                vec![],
                "forge_urls.gitea in ",
            ),
            (
                "forge_urls = { github = \"github.com\" }",
                vec![],
                "forge_urls.github in ",
            ),
            (
                "forge_urls = { gitlab = 3 }",
                vec![],
                "forge_urls.gitlab in ",
            ),
        ] {
            let (err, path) = error(text, &vars, &[]);
            assert!(err.contains(says), "{text}: {err}");
            if vars.is_empty() {
                assert!(err.contains(&path.display().to_string()), "{err}");
            }
        }
    }

    #[test]
    fn the_keys_url_and_the_guest_name_follow_the_forge() {
        let s = ForgeSettings::default();
        let user = ForgeUser {
            forge: Forge::Codeberg,
            name: "alice".into(),
        };
        assert_eq!(s.keys_url(&user), "https://codeberg.org/alice.keys");
        assert_eq!(user.guest_name(), "alice (codeberg)");
    }
}
