//! The command line: `cotty -F`, `cotty -F new-session CMD…`, `cotty relay`.

use crate::core::types::Size;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Share a terminal over plain ssh.
///
/// A host runs cotty: it starts a shell in a PTY and dials out to a relay, which hands out
/// two links. Guests join with any stock ssh client, `ssh -p PORT TOKEN@relay` to type along
/// or `ssh -p PORT ro-TOKEN@relay` to watch. Inside, `C-b d` detaches a guest.
#[derive(Debug, Parser)]
#[command(name = "cotty", version, about, long_about, after_help = EXAMPLES)]
pub struct Cli {
    /// Run headless, without a terminal of its own (like `tmate -F`): print the links and a
    /// line per guest event on stdout, and start the program again whenever it exits.
    #[arg(short = 'F', long = "headless")]
    pub headless: bool,

    /// The relay to dial, as HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", env = "COTTY_RELAY")]
    pub relay: Option<String>,

    /// The relay's host key fingerprint (SHA256:…, as `cotty relay` prints it). Without it,
    /// the first key seen is stored in the known-relays file and checked from then on.
    #[arg(long, value_name = "SHA256:…", env = "COTTY_RELAY_FINGERPRINT")]
    pub relay_fingerprint: Option<String>,

    /// The known-relays file [default: known_relays in the cotty config directory].
    #[arg(long, value_name = "FILE")]
    pub known_relays: Option<PathBuf>,

    /// Fix the shared terminal size instead of following the guests' terminals.
    #[arg(long, value_name = "COLSxROWS")]
    pub size: Option<Size>,

    /// Log more to stderr (-v info, -vv debug; the relay logs info by default); RUST_LOG
    /// overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// What to do; without a command the host shares your shell.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay server that hosts dial out to and guests ssh into.
    Relay(RelayArgs),
    /// Share CMD instead of your shell: `cotty -F new-session htop`.
    NewSession {
        /// The program and its arguments.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        cmd: Vec<String>,
    },
}

/// Options of `cotty relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where to listen for ssh connections from hosts and guests.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:2222")]
    pub listen: std::net::SocketAddr,

    /// The host name printed in links [default: this machine's hostname].
    #[arg(long, value_name = "NAME")]
    pub public_host: Option<String>,

    /// The port printed in links [default: the port of --listen].
    #[arg(long, value_name = "N")]
    pub public_port: Option<u16>,

    /// The relay's ssh host key; an Ed25519 key is created (mode 0600) if the file is
    /// missing [default: relay_host_key in the cotty data directory].
    #[arg(long, value_name = "PATH")]
    pub host_key: Option<PathBuf>,

    /// The most ssh connections open at once, hosts and guests together.
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub max_connections: usize,

    /// The most guests in one session.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_guests: usize,
}

const EXAMPLES: &str = "\
Examples:
  cotty relay --listen 0.0.0.0:2222 --public-host relay.example.org
  cotty -F --relay relay.example.org:2222
  cotty -F --relay relay.example.org:2222 new-session htop
  ssh -p 2222 TOKEN@relay.example.org       (a guest; any OpenSSH client)

Files:
  known relays    $XDG_CONFIG_HOME/cotty/known_relays  (~/.config/cotty/known_relays)
  relay host key  $XDG_DATA_HOME/cotty/relay_host_key  (~/.local/share/cotty/relay_host_key)";

/// The default path of the relay's host key.
pub fn default_host_key() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cotty")
        .join("relay_host_key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn new_session_takes_the_rest_of_the_line() {
        let cli = Cli::try_parse_from([
            "cotty",
            "-F",
            "--relay",
            "h:1",
            "new-session",
            "sh",
            "-c",
            "echo -n hi",
        ])
        .expect("parses");
        assert!(cli.headless);
        match cli.command {
            Some(Command::NewSession { cmd }) => assert_eq!(cmd, ["sh", "-c", "echo -n hi"]),
            other => panic!("got {other:?}"),
        }
    }

    #[test]
    fn a_bad_size_names_the_flag_and_the_form() {
        let err = Cli::try_parse_from(["cotty", "--size", "80"]).expect_err("bad size");
        let text = err.to_string();
        assert!(
            text.contains("--size") && text.contains("COLSxROWS"),
            "{text}"
        );
    }
}
