//! The `cotty` binary: parse the command line and hand over to the host or the relay.

use anyhow::{Context, Result, bail};
use clap::Parser;
use cotty::cli::{Cli, Command, RelayArgs, default_host_key, default_identity};
use cotty::config::{self, WindowSize};
use cotty::control::Request;
use cotty::control::client;
use cotty::core::keys::parse_key_spec;
use cotty::core::layout::SizePolicy;
use cotty::core::pty::CommandSpec;
use cotty::host::detach;
use cotty::host::embedded::EmbeddedOptions;
use cotty::host::guestkeys::GuestKeySource;
use cotty::host::headless::session_name;
use cotty::host::{HostOptions, HostState, RelayChoice, run_headless};
use cotty::net::known_relays;
use cotty::net::relay::Relay;
use cotty::net::uplink::RelayTarget;
use cotty::relay_config;
use cotty::ui::dashboard::{self, App};
use cotty::ui::theme::{Theme, user_theme_dir};
use std::io::Write;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

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

async fn run(mut cli: Cli) -> Result<()> {
    if cli.print_default_config {
        print!("{}", config::DEFAULT_CONFIG);
        return Ok(());
    }
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone())?;
    let mut detach_now = false;
    let argv = match cli.command.take() {
        Some(Command::Relay(args)) => return run_relay(*args, shutdown).await,
        Some(cmd) if cmd.is_control() => {
            let path = match cli.socket.clone() {
                Some(path) => path,
                None => client::pick_default_socket().unwrap_or_else(|many| {
                    eprintln!("cotty: {many}");
                    std::process::exit(1);
                }),
            };
            let (request, timeout) = control_request(cmd);
            let code = client::run(&path, request, timeout).await;
            std::process::exit(code);
        }
        Some(Command::NewSession { cmd, detached }) => {
            // The background copy is the headless host; the caller starts it (below).
            cli.headless |= detached;
            detach_now = detached && !detach::is_detached_copy();
            cmd
        }
        Some(_) | None => Vec::new(),
    };
    let settings = config::load(&cli)?;
    if detach_now {
        return detach::start(cli.socket.as_deref());
    }
    let argv = match &cli.tmux {
        Some(_) if !argv.is_empty() => bail!(
            "--tmux shares a tmux session, not a program: leave out new-session {}",
            argv.join(" ")
        ),
        Some(session) => {
            let tmux_env = std::env::var("TMUX").ok();
            cotty::host::tmux::attach_argv(session, tmux_env.as_deref())?
        }
        None => argv,
    };
    let argv = match (argv.is_empty(), &settings.shell) {
        (true, Some(shell)) => vec![shell.clone()],
        _ => argv,
    };
    let policy = match (cli.size, settings.window_size) {
        (Some(size), _) => SizePolicy::Fixed(size),
        (None, WindowSize::Smallest) => SizePolicy::Smallest,
        (None, WindowSize::Host) => SizePolicy::Host,
    };
    let named = settings.named.name.is_some() || settings.named.ro_name.is_some();
    if named && settings.relay.is_none() {
        bail!(
            "named sessions (-n/-r) need a relay started with --api-keys, and the built-in relay \
             has none; pass --relay HOST:PORT (config: relay)"
        );
    }
    let relay = match settings.relay.clone() {
        Some(addr) => RelayChoice::Remote(RelayTarget {
            addr,
            fingerprint: settings.relay_fingerprint.clone(),
            known_relays: settings
                .known_relays
                .clone()
                .unwrap_or_else(known_relays::default_path),
            identity: Some(settings.identity.clone().unwrap_or_else(default_identity)),
        }),
        None => RelayChoice::Embedded(EmbeddedOptions {
            listen: settings
                .listen
                .as_deref()
                .map(|l| {
                    l.parse().with_context(|| {
                        format!("invalid listen address {l:?} (listen / --listen): use IP:PORT")
                    })
                })
                .transpose()?,
            public_host: settings.public_host.clone(),
            host_key: default_host_key(),
        }),
    };
    // Before anything starts, so that a forge user who cannot be had stops the host at once.
    let forge_keys =
        cotty::host::forge::fetch_all(&settings.forge, cotty::host::forge::TIMEOUT).await?;
    let opts = HostOptions {
        relay,
        cmd: CommandSpec {
            argv,
            // So that prompts and scripts in the shared shell can tell it is shared, and which
            // session it is (as tmate's TMUX does). COTTY=1 is set for every program.
            env: vec![("COTTY_SESSION".into(), session_name())],
        },
        policy,
        host_size: None,
        respawn: cli.headless,
        forge_keys,
        named: settings.named.clone(),
        guest_keys: GuestKeySource::from_settings(&settings),
        approve: settings.approve,
        link_ttl: settings.link_ttl,
    };
    if cli.headless {
        return run_headless(opts, cli.socket, shutdown).await;
    }
    // Sharing tmux: tmux keeps C-b, and the dashboard's keys move to tmux_prefix.
    let (settings, prefix_key) = if cli.tmux.is_some() {
        let prefix = settings.tmux_prefix.clone();
        (config::Settings { prefix, ..settings }, "tmux_prefix")
    } else {
        (settings, "prefix")
    };
    let theme = Theme::load(&settings.theme, user_theme_dir().as_deref())
        .with_context(|| format!("theme {:?} {}", settings.theme, set_in(&settings, "theme")))?;
    let prefix = parse_key_spec(&settings.prefix).with_context(|| {
        format!(
            "prefix {:?} {}",
            settings.prefix,
            set_in(&settings, prefix_key)
        )
    })?;
    let mut state = HostState::new(session_name());
    state.set_link_ttl(settings.link_ttl);
    let app = App::new(state, &settings, theme, prefix);
    // After the settings, so that a mistake in them is told first; before anything starts.
    if let Err(advice) = dashboard::check_terminal() {
        eprintln!("{advice}");
        std::process::exit(1);
    }
    dashboard::run(opts, app, cli.socket, shutdown).await
}

/// Where a dashboard setting can have come from, for its error: the key, its flag (the key's
/// name with - for _, unless it has none) and the config file if one was read, as
/// `(theme / --theme, ~/.config/cotty/cotty.toml)`.
fn set_in(settings: &config::Settings, key: &str) -> String {
    let file = settings.file.as_ref().map(|f| format!(", {}", f.display()));
    let flag = match key {
        "tmux_prefix" => String::new(),
        _ => format!(" / --{}", key.replace('_', "-")),
    };
    format!("({key}{flag}{})", file.unwrap_or_default())
}

/// The control request for a command, and how long to wait for its answer.
fn control_request(cmd: Command) -> (Request, Duration) {
    let short = Duration::from_secs(10);
    match cmd {
        Command::Display { format, print } => (Request::Display { format, print }, short),
        Command::ShowMessages => (Request::ShowMessages, short),
        Command::ListGuests => (Request::ListGuests, short),
        Command::Kick { guest } => (Request::Kick { guest }, short),
        Command::KillSession => (Request::KillSession, short),
        Command::WaitReady { timeout } | Command::Wait { timeout, .. } => (
            Request::WaitReady,
            Duration::from_secs_f64(timeout.clamp(0.0, 86_400.0)),
        ),
        Command::ReloadKeys => (Request::ReloadKeys, short),
        // The host answers once the relay has made the link, within the socket's own timeout.
        Command::NewLink(a) => (
            Request::NewLink {
                read_only: a.ro,
                once: a.once,
                ttl_secs: a.ttl_secs(),
            },
            short,
        ),
        Command::Relay(_) | Command::NewSession { .. } => (Request::ShowMessages, short),
        Command::Approval(cmd) => (cmd.into(), short),
        // An extra link's answer waits for the relay, within the socket's own timeout.
        Command::Switch(cmd) => (cmd.into(), short),
    }
}

async fn run_relay(args: RelayArgs, shutdown: CancellationToken) -> Result<()> {
    if args.print_default_config {
        print!("{}", relay_config::DEFAULT_RELAY_CONFIG);
        return Ok(());
    }
    let settings = relay_config::load(&args)?;
    let limits = settings.config.limits;
    let mut relay = Relay::bind(settings.config).await?;
    relay.catch_hangup()?;
    let mut out = std::io::stdout();
    writeln!(out, "cotty relay listening on {}", relay.local_addr()?)?;
    writeln!(out, "host key fingerprint: {}", relay.fingerprint())?;
    if let Some(web) = relay.web_addr()? {
        writeln!(out, "cotty relay serving the web on {web}")?;
    }
    let cap = format!(
        "max connections {} ({})",
        limits.connections, settings.connections_from
    );
    writeln!(out, "{cap}")?;
    out.flush()?;
    info!("{cap}");
    for w in &settings.warnings {
        warn!("{w}");
    }
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
        // Colour codes only for a person at a terminal, not in a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
