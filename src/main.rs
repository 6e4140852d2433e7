//! The `cotty` binary: parse the command line and hand over to the host or the relay.

use anyhow::{Context, Result, bail};
use clap::Parser;
use cotty::cli::{Cli, Command, RelayArgs, default_host_key};
use cotty::core::pty::CommandSpec;
use cotty::host::{HostOptions, run_headless};
use cotty::net::known_relays;
use cotty::net::relay::server::Limits;
use cotty::net::relay::{Relay, RelayConfig};
use cotty::net::uplink::RelayTarget;
use std::io::Write;
use tokio_util::sync::CancellationToken;

fn main() {
    let cli = Cli::parse();
    // A relay operator wants to see sessions come and go; a host's terminal stays quiet.
    let is_relay = matches!(cli.command, Some(Command::Relay(_)));
    init_tracing(cli.verbose, is_relay);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cotty: failed to start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("cotty: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone())?;
    let argv = match cli.command {
        Some(Command::Relay(args)) => return run_relay(args, shutdown).await,
        Some(Command::NewSession { cmd }) => cmd,
        Some(_) => bail!("not built yet"),
        None => Vec::new(),
    };
    host(
        cli.headless,
        cli.relay,
        cli.relay_fingerprint,
        cli.known_relays,
        cli.size,
        argv,
        shutdown,
    )
    .await
}

async fn host(
    headless: bool,
    relay: Option<String>,
    fingerprint: Option<String>,
    known: Option<std::path::PathBuf>,
    size: Option<cotty::core::types::Size>,
    argv: Vec<String>,
    shutdown: CancellationToken,
) -> Result<()> {
    if !headless {
        bail!(
            "the dashboard is not built yet; run the headless host with \
             `cotty -F --relay HOST:PORT` (see cotty --help)"
        );
    }
    let Some(addr) = relay else {
        bail!("no relay given: pass --relay HOST:PORT (start one with `cotty relay`)");
    };
    let opts = HostOptions {
        relay: RelayTarget {
            addr,
            fingerprint,
            known_relays: known.unwrap_or_else(known_relays::default_path),
        },
        cmd: CommandSpec {
            argv,
            env: Vec::new(),
        },
        size,
    };
    run_headless(opts, shutdown).await
}

async fn run_relay(args: RelayArgs, shutdown: CancellationToken) -> Result<()> {
    let public_host = match args.public_host {
        Some(h) => h,
        None => gethostname::gethostname().into_string().map_err(|_| {
            anyhow::anyhow!("this machine's hostname is not UTF-8; pass --public-host")
        })?,
    };
    let cfg = RelayConfig {
        listen: args.listen,
        public_host,
        public_port: args.public_port,
        host_key: args.host_key.unwrap_or_else(default_host_key),
        limits: Limits {
            connections: args.max_connections,
            guests_per_session: args.max_guests,
            ..Limits::default()
        },
    };
    let relay = Relay::bind(cfg).await?;
    let mut out = std::io::stdout();
    writeln!(out, "cotty relay listening on {}", relay.local_addr()?)?;
    writeln!(out, "host key fingerprint: {}", relay.fingerprint())?;
    out.flush()?;
    relay.run(shutdown).await
}

/// Cancels `token` on SIGINT or SIGTERM.
fn spawn_signal_handler(token: CancellationToken) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("failed to listen for SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("failed to listen for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        token.cancel();
    });
    Ok(())
}

fn init_tracing(verbose: u8, is_relay: bool) {
    let default = match (verbose, is_relay) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info,russh=warn",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
