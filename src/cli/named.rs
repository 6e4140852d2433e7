//! The host's flags for named sessions: `-k/--api-key`, `-n/--name` and `-r/--ro-name`, which
//! ask a relay with `--api-keys` for stable links `ssh USERNAME/NAME@HOST`.

use crate::net::relay::names::{NAME_RULE, valid_name};
use clap::Args;

/// Named sessions: stable links instead of random tokens. Also the config keys `api_key`,
/// `name` and `ro_name`, and the variables `COTTY_API_KEY`, `COTTY_NAME`, `COTTY_RO_NAME`.
#[derive(Debug, Clone, Default, Args)]
pub struct NamedArgs {
    /// The relay API key that lets this host name its sessions (config: api_key). Other
    /// users of this machine can read a flag in `ps`: prefer api_key in the config or
    /// COTTY_API_KEY.
    #[arg(short = 'k', long = "api-key", value_name = "KEY")]
    pub api_key: Option<String>,

    /// A stable name for the read-write link, `ssh -p PORT USERNAME/NAME@HOST` and
    /// `…/#USERNAME/NAME`, with USERNAME from the relay's --api-keys file; needs -k. Names are
    /// guessable: use them with a list of guests' keys or approval (config: name).
    #[arg(short = 'n', long = "name", value_name = "NAME", value_parser = parse_name)]
    pub name: Option<String>,

    /// A stable name for the read-only link, as -n for the read-write one (config: ro_name).
    #[arg(short = 'r', long = "ro-name", value_name = "NAME", value_parser = parse_name)]
    pub ro_name: Option<String>,
}

/// Checks a session name against the relay's rule, so a typo fails before dialling.
pub fn parse_name(text: &str) -> Result<String, String> {
    if valid_name(text) {
        Ok(text.to_string())
    } else {
        Err(format!("expected {NAME_RULE}, got {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("cotty").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn short_and_long_flags_fill_the_names() {
        let cli = parse(&["-F", "-k", "KEY123", "-n", "demo", "-r", "demo_ro-1"]).expect("parses");
        assert_eq!(cli.named.api_key.as_deref(), Some("KEY123"));
        assert_eq!(cli.named.name.as_deref(), Some("demo"));
        assert_eq!(cli.named.ro_name.as_deref(), Some("demo_ro-1"));
        let cli = parse(&["--api-key", "K", "--name", "a", "--ro-name", "b"]).expect("parses");
        assert_eq!(
            (cli.named.name.as_deref(), cli.named.ro_name.as_deref()),
            (Some("a"), Some("b"))
        );
        let max = "x".repeat(50);
        assert!(parse(&["-n", &max]).is_ok(), "50 characters are allowed");
    }

    #[test]
    fn a_bad_name_names_the_flag_and_the_rule() {
        let long = "x".repeat(51);
        for (flag, bad) in [
            ("--name", "a/b"),
            ("--name", "dé"),
            ("--name", ""),
            ("--ro-name", long.as_str()),
            ("--ro-name", "a b"),
        ] {
            let err = parse(&[flag, bad]).expect_err(bad);
            assert!(
                err.contains(flag) && err.contains("A-Z, a-z, 0-9, _ and -"),
                "{flag} {bad:?}: {err}"
            );
        }
    }
}
