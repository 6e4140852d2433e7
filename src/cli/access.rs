//! Who may join, on the command line (issue 12): guest keys from a file or a forge, named
//! sessions, asking the host, and links that expire; flattened into [`super::Cli`],
//! [`super::Command`] and [`super::RelayArgs`].

use super::parse_duration;
use crate::core::types::LinkRef;
use crate::net::relay::names::{NAME_RULE, valid_name};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

// Guest keys: `-a/--authorized-keys` on the host, `--require-authorized-keys` on the relay.

/// The host's guest-key flags.
#[derive(Debug, Args, Default, Clone)]
pub struct HostKeysArgs {
    /// Only guests that prove one of the keys in FILE may join (OpenSSH authorized_keys
    /// format; a key's comment is the guest's name, the option `cotty-ro` makes that key
    /// read-only, and `from="ADDRS"` limits the addresses it may join from). Web guests prove
    /// a key with the `ssh … approve-web CODE` line their page shows. `cotty -S SOCKET
    /// reload-keys` reads the file again.
    #[arg(short = 'a', long = "authorized-keys", value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,
}

/// The relay's guest-key flags.
#[derive(Debug, Args, Default, Clone)]
pub struct RelayKeysArgs {
    /// Refuse sessions that let anyone with the link in: a host must list its guests' keys
    /// (`cotty -a FILE`) or admit each guest itself (`--approve`).
    #[arg(long)]
    pub require_authorized_keys: bool,
}

// Forge keys: `--github`, `--gitlab` and `--codeberg USER`.

/// Guests named by their account on a forge. The keys the forge publishes for each user
/// (`https://github.com/USER.keys` and the like) may join, named `USER (github)`. Each flag
/// may be given again for more users, and replaces the config file's list for its forge.
#[derive(Debug, Clone, Default, Args)]
pub struct ForgeArgs {
    /// Let the ssh keys that GitHub publishes for USER join, named `USER (github)`; repeat for
    /// more users (config: github).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub github: Vec<String>,

    /// Let the ssh keys that GitLab publishes for USER join, named `USER (gitlab)`; repeat for
    /// more users (config: gitlab).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub gitlab: Vec<String>,

    /// Let the ssh keys that Codeberg publishes for USER join, named `USER (codeberg)`; repeat
    /// for more users (config: codeberg).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub codeberg: Vec<String>,
}

/// What a user name may be, for messages.
pub const USER_FORM: &str =
    "a user name of letters, digits, '-', '_' and '.', starting with a letter, digit or '_'";

/// The longest user name taken; the forges allow 39 (GitHub) to 255 characters.
const MAX_USER: usize = 255;

/// Parses a forge user name. The name becomes part of a URL path, so only the characters the
/// forges allow in names are taken: no `/`, `?`, `%` or `..` can reach the request.
pub fn parse_user(text: &str) -> Result<String, String> {
    let text = text.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let first_ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && text.len() <= MAX_USER && text.chars().all(allowed) {
        Ok(text.to_string())
    } else {
        Err(format!("expected {USER_FORM}"))
    }
}

// Named sessions: `-k/--api-key`, `-n/--name`, `-r/--ro-name`.

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

// Asking the host: `--approve`, the relay's `--approve-timeout`, `admit` and `deny`.

/// The host's flag that makes guests wait for its answer.
#[derive(Debug, Args, Default, Clone, PartialEq, Eq)]
pub struct ApproveArgs {
    /// Ask before anyone joins: every new guest waits ("waiting for the host to let you
    /// in…") until you press a (read-write), r (read-only) or d (deny) in the dashboard, or
    /// answer with `cotty -S SOCKET admit ID [--ro]` / `deny ID`. A key you admitted once is let
    /// in again at once for the rest of the session (config: approve).
    #[arg(long)]
    pub approve: bool,
}

/// The relay's setting for guests that wait.
#[derive(Debug, Args, Default, Clone, PartialEq, Eq)]
pub struct RelayApproveArgs {
    /// How long a guest of an `--approve` session waits for the host's answer; then it is
    /// told "the host did not answer" and disconnected [default: 2m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub approve_timeout: Option<Duration>,
}

/// The control commands that answer a waiting guest.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum ApprovalCommand {
    /// Let a waiting guest in (`--approve`), by the id its "is waiting" line gives; read-write
    /// unless --ro (a read-only link stays read-only).
    Admit {
        /// The waiting guest's id.
        #[arg(value_name = "ID")]
        guest: String,
        /// Admit it read-only.
        #[arg(long)]
        ro: bool,
    },
    /// Turn a waiting guest away (`--approve`): it is told the host did not let it in.
    Deny {
        /// The waiting guest's id.
        #[arg(value_name = "ID")]
        guest: String,
    },
}

impl From<ApprovalCommand> for crate::control::Request {
    fn from(cmd: ApprovalCommand) -> Self {
        match cmd {
            ApprovalCommand::Admit { guest, ro } => crate::control::Request::Admit {
                guest,
                read_only: ro,
            },
            ApprovalCommand::Deny { guest } => crate::control::Request::Deny { guest },
        }
    }
}

// Links that expire and extra links: `--link-ttl` and `new-link`.

/// The host's options for its links.
#[derive(Debug, Args, Default, Clone)]
pub struct LinkArgs {
    /// After DURATION (such as 2h) from the start of the session its links let no new guest
    /// in ("this link has expired"); guests already in stay. A reconnect to the relay does not
    /// move the deadline [default: no end] (config: link_ttl).
    #[arg(long, value_name = "DURATION")]
    pub link_ttl: Option<String>,
}

/// Options of `new-link`.
#[derive(Debug, Args, Clone, PartialEq, Eq)]
pub struct NewLinkArgs {
    /// A read-only link: its guests watch.
    #[arg(long)]
    pub ro: bool,
    /// A one-time link: it lets one guest in, then stops working.
    #[arg(long)]
    pub once: bool,
    /// The link lets guests in for DURATION (such as 30m) [default: as long as the
    /// session's links, see --link-ttl].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<Duration>,
}

impl NewLinkArgs {
    /// `--ttl` in whole seconds, rounded up so that a short one is never zero.
    pub fn ttl_secs(&self) -> Option<u64> {
        self.ttl
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }
}

/// The control commands that switch a link off and on again, as `d` does in the sidebar.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum SwitchCommand {
    /// Switch LINK off, as `d` in the sidebar does: new guests with it are refused ("this
    /// link was switched off by the host"); guests inside stay. LINK is rw, ro (a main link,
    /// its ssh and web link together) or N (extra link N, as new-link prints it). For an
    /// extra link it answers once the relay has switched it, and fails while the relay is
    /// not connected; a main link's switch also holds across reconnects.
    LinkOff {
        /// rw, ro, or the number N of an extra link.
        #[arg(value_name = "LINK", value_parser = parse_link)]
        link: LinkRef,
    },
    /// Switch LINK on again: it lets new guests in (unless it expired or was used up).
    LinkOn {
        /// rw, ro, or the number N of an extra link.
        #[arg(value_name = "LINK", value_parser = parse_link)]
        link: LinkRef,
    },
}

/// Parses `LINK` for clap, which names the argument in front of the message.
fn parse_link(text: &str) -> Result<LinkRef, String> {
    text.parse()
}

impl From<SwitchCommand> for crate::control::Request {
    fn from(cmd: SwitchCommand) -> Self {
        let (link, enabled) = match cmd {
            SwitchCommand::LinkOff { link } => (link, false),
            SwitchCommand::LinkOn { link } => (link, true),
        };
        crate::control::Request::SwitchLink { link, enabled }
    }
}

#[cfg(test)]
mod keys_tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::path::Path;

    #[test]
    fn the_key_flags_parse() {
        let cli = Cli::try_parse_from(["cotty", "-F", "-a", "guests"]).expect("parses");
        assert_eq!(
            cli.keys.authorized_keys.as_deref(),
            Some(Path::new("guests"))
        );
        let cli =
            Cli::try_parse_from(["cotty", "relay", "--require-authorized-keys"]).expect("parses");
        match cli.command {
            Some(Command::Relay(a)) => assert!(a.keys.require_authorized_keys),
            other => panic!("got {other:?}"),
        }
        let cli = Cli::try_parse_from(["cotty", "reload-keys"]).expect("parses");
        assert!(matches!(cli.command, Some(Command::ReloadKeys)));
    }
}

#[cfg(test)]
mod forge_tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn each_flag_repeats_and_keeps_its_order() {
        let line = "cotty --github alice --gitlab bob --github carol --codeberg dave.e";
        let cli = Cli::try_parse_from(line.split_whitespace()).expect("parses");
        assert_eq!(cli.forge.github, ["alice", "carol"]);
        assert_eq!(cli.forge.gitlab, ["bob"]);
        assert_eq!(cli.forge.codeberg, ["dave.e"]);
    }

    #[test]
    fn a_name_that_could_change_the_url_is_refused_naming_the_flag() {
        for bad in ["../x", "a/b", "a?b", "a%2f", ".hidden", "", "é"] {
            let err = Cli::try_parse_from(["cotty", "--github", bad]).expect_err(bad);
            let text = err.to_string();
            assert!(
                text.contains("--github") && text.contains(USER_FORM),
                "{text}"
            );
        }
        assert_eq!(parse_user("_x-1.y"), Ok("_x-1.y".to_string()));
        assert!(parse_user(&"a".repeat(MAX_USER + 1)).is_err());
        assert!(parse_user("-x").is_err(), "a name never starts like a flag");
    }
}

#[cfg(test)]
mod named_tests {
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

#[cfg(test)]
mod approve_tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn admit_and_deny_are_control_commands() {
        let cli = Cli::try_parse_from(["cotty", "-S", "/tmp/s", "admit", "3", "--ro"])
            .expect("admit parses");
        let Some(Command::Approval(ApprovalCommand::Admit { guest, ro })) = &cli.command else {
            panic!("{:?}", cli.command);
        };
        assert_eq!((guest.as_str(), *ro), ("3", true));
        assert!(cli.command.as_ref().is_some_and(Command::is_control));
        let cli = Cli::try_parse_from(["cotty", "deny", "4"]).expect("deny parses");
        assert!(matches!(
            cli.command,
            Some(Command::Approval(ApprovalCommand::Deny { ref guest })) if guest == "4"
        ));
        assert!(
            Cli::try_parse_from(["cotty", "admit"]).is_err(),
            "an id is needed"
        );
    }

    #[test]
    fn the_host_flag_and_the_relay_timeout_parse() {
        let cli = Cli::try_parse_from(["cotty", "--approve"]).expect("parses");
        assert!(cli.approve.approve);
        let cli =
            Cli::try_parse_from(["cotty", "relay", "--approve-timeout", "3s"]).expect("parses");
        let Some(Command::Relay(args)) = cli.command else {
            panic!("not the relay");
        };
        assert_eq!(args.approval.approve_timeout, Some(Duration::from_secs(3)));
    }
}

#[cfg(test)]
mod links_tests {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn new_link_takes_its_flags_and_a_bad_ttl_names_the_flag() {
        let cli = Cli::try_parse_from([
            "cotty", "-S", "s", "new-link", "--ro", "--once", "--ttl", "90s",
        ])
        .expect("parses");
        match cli.command {
            Some(Command::NewLink(a)) => {
                assert!(a.ro && a.once);
                assert_eq!(a.ttl, Some(Duration::from_secs(90)));
                assert_eq!(a.ttl_secs(), Some(90));
            }
            other => panic!("got {other:?}"),
        }
        let cli = Cli::try_parse_from(["cotty", "new-link"]).expect("parses");
        assert!(
            matches!(cli.command, Some(Command::NewLink(ref a)) if !a.ro && !a.once && a.ttl.is_none())
        );
        let err = Cli::try_parse_from(["cotty", "new-link", "--ttl", "5"]).expect_err("no unit");
        assert!(err.to_string().contains("--ttl"), "{err}");
    }

    #[test]
    fn link_off_and_on_take_rw_ro_or_n_and_a_bad_link_names_link() {
        use crate::cli::access::SwitchCommand;
        use crate::control::Request;
        use crate::core::types::{Access, LinkRef};
        let cli = Cli::try_parse_from(["cotty", "-S", "s", "link-off", "rw"]).expect("parses");
        let Some(Command::Switch(cmd)) = cli.command else {
            panic!("not link-off");
        };
        assert_eq!(
            Request::from(cmd),
            Request::SwitchLink {
                link: LinkRef::Main(Access::ReadWrite),
                enabled: false
            }
        );
        let cli = Cli::try_parse_from(["cotty", "link-on", "3"]).expect("parses");
        assert!(matches!(
            cli.command,
            Some(Command::Switch(SwitchCommand::LinkOn {
                link: LinkRef::Extra(3)
            }))
        ));
        let err = Cli::try_parse_from(["cotty", "link-off", "web"]).expect_err("not a link");
        let err = err.to_string();
        assert!(
            err.contains("<LINK>") && err.contains("rw (the read-write link)"),
            "{err}"
        );
        Cli::try_parse_from(["cotty", "link-on"]).expect_err("LINK is required");
    }

    #[test]
    fn the_host_takes_a_link_ttl() {
        let cli = Cli::try_parse_from(["cotty", "-F", "--link-ttl", "2h"]).expect("parses");
        assert_eq!(cli.links.link_ttl.as_deref(), Some("2h"));
    }
}
