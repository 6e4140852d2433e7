//! The command line of links that expire and extra links: the host's `--link-ttl` and
//! `cotty -S S new-link [--ro] [--once] [--ttl D]`.

use crate::cli::parse_duration;
use clap::Args;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
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
    fn the_host_takes_a_link_ttl() {
        let cli = Cli::try_parse_from(["cotty", "-F", "--link-ttl", "2h"]).expect("parses");
        assert_eq!(cli.links.link_ttl.as_deref(), Some("2h"));
    }
}
