//! The command line of asking the host (`--approve`): the host's flag, the relay's timeout,
//! and the control commands `admit` and `deny` that answer a waiting guest.

use super::parse_duration;
use clap::{Args, Subcommand};
use std::time::Duration;

/// The host's flag that makes guests wait for its answer.
#[derive(Debug, Args, Default, Clone, PartialEq, Eq)]
pub struct ApproveArgs {
    /// Ask before anyone joins: every new guest waits ("waiting for the host to let you
    /// in…") until you press a (read-write), r (read-only) or d (deny) in the dashboard, or
    /// answer with `cotty admit ID [--ro]` / `cotty deny ID`. A key you admitted once is let
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

#[cfg(test)]
mod tests {
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
