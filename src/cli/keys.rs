//! The flags of issue 12's guest keys: `-a/--authorized-keys` on the host and
//! `--require-authorized-keys` on the relay, flattened into [`super::Cli`] and
//! [`super::RelayArgs`].

use clap::Args;
use std::path::PathBuf;

/// The host's guest-key flags.
#[derive(Debug, Args, Default, Clone)]
pub struct HostKeysArgs {
    /// Only guests that prove one of the keys in FILE may join (OpenSSH authorized_keys
    /// format; a key's comment is the guest's name, and the option `cotty-ro` makes that key
    /// read-only). Web guests prove a key with the `ssh … approve-web CODE` line their page
    /// shows. `cotty reload-keys` reads the file again.
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

#[cfg(test)]
mod tests {
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
