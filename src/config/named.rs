//! The settings of a named session: `api_key`, `name` and `ro_name` from the file, `COTTY_*`
//! or `-k`/`-n`/`-r`, checked together so a half-set named session fails before dialling.

use super::Layers;
use crate::host::SessionNames;
use crate::net::relay::names::{NAME_RULE, valid_name};
use anyhow::{Result, bail};

/// Reads and checks the named-session settings: names follow the relay's rule, a name needs
/// an API key, and the two names differ.
pub(super) fn resolve(layers: &Layers<'_>) -> Result<SessionNames> {
    let rule = format!("a session name of {NAME_RULE}");
    let name = |t: &str| valid_name(t).then(|| t.to_string());
    let key =
        |t: &str| (!t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())).then(|| t.to_string());
    let named = SessionNames {
        api_key: layers.get("api_key", "the relay's API key, printable ASCII", key)?,
        name: layers.get("name", &rule, name)?,
        ro_name: layers.get("ro_name", &rule, name)?,
    };
    if named.api_key.is_none() {
        for (key, value) in [("name", &named.name), ("ro_name", &named.ro_name)] {
            if value.is_some() {
                bail!(
                    "{key} (from {}) asks for a named session, which needs the relay's API key: \
                     pass -k/--api-key KEY or set api_key in the config (or COTTY_API_KEY)",
                    layers.origin(key)
                );
            }
        }
    }
    if named.name.is_some() && named.name == named.ro_name {
        bail!(
            "name and ro_name are both {:?}: the read-write and read-only links need two \
             different names (-n and -r)",
            named.name.as_deref().unwrap_or_default()
        );
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::super::load_from;
    use crate::cli::Cli;
    use clap::Parser;
    use std::path::Path;

    /// Loads `text` as the config file with `vars` and the command line `args`.
    fn load(
        text: &str,
        vars: &[(&str, &str)],
        args: &[&str],
    ) -> anyhow::Result<super::SessionNames> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cotty.toml");
        std::fs::write(&path, text).expect("write");
        let env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let cli = Cli::try_parse_from(std::iter::once("cotty").chain(args.iter().copied()))
            .expect("parses");
        load_from(Some(Path::new(&path)), true, &env, &cli).map(|s| s.named)
    }

    #[test]
    fn names_come_from_the_file_the_environment_and_flags_in_that_order() {
        let file = "api_key = \"FILEKEY\"\nname = \"filename\"\nro_name = \"file-ro\"\n";
        let n = load(file, &[], &[]).expect("loads");
        assert_eq!(n.api_key.as_deref(), Some("FILEKEY"));
        assert_eq!(n.name.as_deref(), Some("filename"));
        assert_eq!(n.ro_name.as_deref(), Some("file-ro"));
        let n = load(file, &[("COTTY_NAME", "envname")], &["-k", "FLAGKEY"]).expect("loads");
        assert_eq!(n.api_key.as_deref(), Some("FLAGKEY"));
        assert_eq!(n.name.as_deref(), Some("envname"));
        let n = load(file, &[("COTTY_NAME", "envname")], &["-n", "flagname"]).expect("loads");
        assert_eq!(n.name.as_deref(), Some("flagname"));
        let n = load("", &[], &[]).expect("loads");
        assert_eq!(n, super::SessionNames::default(), "random links by default");
    }

    #[test]
    fn a_name_without_a_key_or_a_bad_name_says_what_to_do() {
        let err = load("name = \"demo\"\n", &[], &[]).expect_err("no key");
        let err = format!("{err:#}");
        assert!(
            err.contains("-k/--api-key") && err.contains("cotty.toml"),
            "{err}"
        );
        let err = load("", &[], &["-r", "watch"]).expect_err("no key");
        let err = format!("{err:#}");
        assert!(
            err.contains("ro_name") && err.contains("--ro-name"),
            "{err}"
        );
        let err = load("api_key = \"K\"\nname = \"a/b\"\n", &[], &[]).expect_err("bad name");
        let err = format!("{err:#}");
        assert!(
            err.contains("name") && err.contains("A-Z, a-z, 0-9, _ and -"),
            "{err}"
        );
        let err = load("", &[("COTTY_RO_NAME", "x y")], &["-k", "K"]).expect_err("bad name");
        assert!(format!("{err:#}").contains("COTTY_RO_NAME"), "{err:#}");
        let err = load("", &[], &["-k", "K", "-n", "same", "-r", "same"]).expect_err("same");
        assert!(
            format!("{err:#}").contains("two different names"),
            "{err:#}"
        );
    }
}
