//! The command line: `cotty -F`, `cotty -F new-session CMD…`, `cotty relay`.

use crate::core::types::Size;
use crate::net::relay::web::origin::PublicUrl;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

pub mod access;
pub use access::{
    ApprovalCommand, ApproveArgs, ForgeArgs, HostKeysArgs, LinkArgs, NamedArgs, NewLinkArgs,
    RelayApproveArgs, RelayKeysArgs, SwitchCommand,
};

/// Share a terminal over plain ssh.
///
/// `cotty` starts your shell in a dashboard and hands out two links: guests join with any
/// stock ssh client, `ssh -p PORT TOKEN@HOST` to type along or `ssh -p PORT ro-TOKEN@HOST` to
/// watch. When the relay serves the web view, it hands out two web links too
/// (`http://HOST:PORT/#TOKEN`, `…/#ro-TOKEN`) for guests in a browser, a phone's among them.
/// With no relay configured, a relay runs inside cotty itself (port 2222, or the next free
/// one). Inside the dashboard, `C-b ?` lists the keys; a guest leaves with `C-b d`.
///
/// Settings come from the config file, then COTTY_* environment variables, then flags; see
/// `cotty --print-default-config`.
#[derive(Debug, Parser)]
#[command(name = "cotty", version, about, long_about, after_help = EXAMPLES)]
pub struct Cli {
    /// Run headless, without a dashboard (like `tmate -F`): print the links (`ssh session:`,
    /// `ssh session read only:`, and `web session:` lines when the relay serves the web view)
    /// and a line per guest event on stdout, and start the program again whenever it exits.
    #[arg(short = 'F', long = "headless")]
    pub headless: bool,

    /// The control socket: where a running cotty listens, or which one a command talks to
    /// [default: $XDG_RUNTIME_DIR/cotty/default, or /tmp/cotty-UID/default].
    /// Also accepted after the command, as in `cotty list-guests -S PATH`.
    #[arg(
        short = 'S',
        long = "socket",
        value_name = "PATH",
        env = "COTTY_SOCKET",
        global = true
    )]
    pub socket: Option<PathBuf>,

    /// The config file [default: $XDG_CONFIG_HOME/cotty/cotty.toml].
    #[arg(
        short = 'f',
        long = "config",
        value_name = "FILE",
        env = "COTTY_CONFIG"
    )]
    pub config: Option<PathBuf>,

    /// Print a commented default config file and exit.
    #[arg(long)]
    pub print_default_config: bool,

    /// The relay to dial, as HOST:PORT, or HOST for port 2222; without one, cotty runs its own
    /// relay (config: relay).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub relay: Option<String>,

    /// The relay's host key fingerprint (SHA256:…, as `cotty relay` prints it). Without it,
    /// the first key seen is stored in the known-relays file and checked from then on
    /// (config: relay_fingerprint).
    #[arg(long, value_name = "SHA256:…")]
    pub relay_fingerprint: Option<String>,

    /// The known-relays file [default: known_relays in the cotty config directory].
    #[arg(long, value_name = "FILE")]
    pub known_relays: Option<PathBuf>,

    /// The private key this host offers a relay that only lets listed keys host (its
    /// --host-keys); an Ed25519 key is created (mode 0600) if the file is missing
    /// [default: host_key in the cotty data directory] (config: identity).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,

    /// Where the built-in relay listens [default: 0.0.0.0:2222, or the next free port];
    /// 127.0.0.1:0 takes any free port (config: listen).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The host name in the built-in relay's links [default: this machine's first
    /// non-loopback address] (config: public_host).
    #[arg(long, value_name = "NAME")]
    pub public_host: Option<String>,

    /// Share a tmux session that runs already (the most recent one without SESSION), with its
    /// windows and splits: cotty runs `tmux attach-session` as the shared program, and its own
    /// prefix becomes tmux_prefix (C-] unless set), so that tmux keeps C-b for everyone.
    #[arg(long, value_name = "SESSION", num_args = 0..=1, default_missing_value = "")]
    pub tmux: Option<String>,

    /// The program to share instead of $SHELL (config: shell).
    #[arg(long, value_name = "PATH")]
    pub shell: Option<String>,

    /// The dashboard's colours: dark, light, high-contrast, or a theme file's name in the
    /// config directory's themes/ (config: theme).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,

    /// The dashboard's prefix key, such as C-b or C-a (config: prefix).
    #[arg(long, value_name = "KEY")]
    pub prefix: Option<String>,

    /// How the shared size is chosen: smallest (of the host and the read-write guests) or
    /// host (config: window_size).
    #[arg(long, value_name = "POLICY")]
    pub window_size: Option<String>,

    /// Fix the shared terminal size instead of following the terminals.
    #[arg(long, value_name = "COLSxROWS")]
    pub size: Option<Size>,

    /// Named sessions: -k, -n, -r.
    #[command(flatten)]
    pub named: NamedArgs,

    /// Log more to stderr (-v info, -vv debug; the relay logs info by default); RUST_LOG
    /// overrides. The dashboard writes its log to the sidebar instead.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Guests' keys as GitHub, GitLab or Codeberg publish them.
    #[command(flatten)]
    pub forge: ForgeArgs,
    /// Who may join: `--approve` makes every new guest wait for the host's answer.
    #[command(flatten)]
    pub approve: ApproveArgs,
    /// Links that expire (--link-ttl).
    #[command(flatten)]
    pub links: LinkArgs,

    /// What to do; without a command cotty shares your shell.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Guest keys (`-a`).
    #[command(flatten)]
    pub keys: HostKeysArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay server that hosts dial out to and guests ssh into, or join in a browser
    /// (the web page is on the same port).
    ///
    /// Every option but --config and --print-default-config is also a key of the config
    /// file, named with `_` for `-` (max_guests for --max-guests); a flag beats the file.
    /// Durations are written 20s, 10m, 2h or "1h 30m".
    Relay(Box<RelayArgs>),
    /// Share CMD instead of your shell: `cotty new-session htop`. With -d (as tmate's
    /// `new-session -d`), a headless host starts in the background and this returns once its
    /// control socket answers.
    NewSession {
        /// Detached: run headless in the background, like -F without the output lines.
        #[arg(short = 'd', long = "detached")]
        detached: bool,
        /// The program and its arguments [default: your shell].
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        cmd: Vec<String>,
    },
    /// Show a message built from FORMAT, like tmux: `cotty -S SOCK display -p '#{ssh}'`.
    /// Variables: #{ssh}, #{ssh_ro}, #{web}, #{web_ro}, #{session}, #{guests}, #{locked},
    /// #{relay_state}, #{link:N} and #{link_web:N} (extra link N, from new-link)
    /// (tmate's #{tmate_ssh}, #{tmate_ssh_ro}, #{tmate_web} and #{tmate_web_ro} work too;
    /// the web ones are an error when the relay serves no web view).
    #[command(name = "display-message", visible_alias = "display")]
    Display {
        /// Print to stdout; without it the message goes to the host's log.
        #[arg(short = 'p')]
        print: bool,
        /// The text, with #{…} variables.
        #[arg(value_name = "FORMAT")]
        format: String,
    },
    /// Print the host's log.
    ShowMessages,
    /// Print one line per guest: id, name, via, address, access, size, idle time.
    #[command(visible_alias = "list-clients")]
    ListGuests,
    /// Disconnect a guest, named by its id or its name as list-guests prints them.
    Kick {
        /// The guest.
        #[arg(value_name = "GUEST")]
        guest: String,
    },
    /// End the session: guests see "session ended by host" and cotty exits.
    KillSession,
    /// Wait until the session's links exist, then return (exit 1 after --timeout). tmate's
    /// `wait tmate-ready` is the same.
    WaitReady {
        /// How long to wait, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
        timeout: f64,
    },
    /// tmate's `wait EVENT`: `cotty wait tmate-ready` is `cotty wait-ready`.
    Wait {
        /// The event; only `tmate-ready` (or `ready`) is known.
        #[arg(value_name = "EVENT", value_parser = ["tmate-ready", "ready"])]
        event: String,
        /// How long to wait, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
        timeout: f64,
    },
    /// Read the -a file again; guests that join from now on are checked against it, those
    /// inside stay.
    ReloadKeys,
    /// Answers to guests that wait (`--approve`): `admit ID [--ro]` and `deny ID`.
    #[command(flatten)]
    Approval(ApprovalCommand),
    /// Make an extra link and print it (the ssh command, and the web link when the relay
    /// serves the web view); the sidebar lists it, and `display -p '#{link:N}'` prints it.
    NewLink(NewLinkArgs),
    /// Switch a link off and on again from a script: `link-off LINK` and `link-on LINK`.
    #[command(flatten)]
    Switch(SwitchCommand),
}

impl Command {
    /// Whether this command talks to a running cotty over its control socket.
    pub fn is_control(&self) -> bool {
        !matches!(self, Command::Relay(_) | Command::NewSession { .. })
    }
}

/// Options of `cotty relay`. Each setting is also a key of the `--config` file, named as the
/// flag with `_` for `-`; a flag beats the file.
#[derive(Debug, Args, Default)]
pub struct RelayArgs {
    /// The relay's config file (TOML); see `cotty relay --print-default-config`.
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print a commented default relay config file and exit.
    #[arg(long)]
    pub print_default_config: bool,

    /// Where to listen for hosts and guests: ssh, and the web page on the same port
    /// [default: 0.0.0.0:2222].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,

    /// Also serve the web page (not ssh) on ADDR, e.g. 127.0.0.1:8080 behind a reverse
    /// proxy; the same limits count both ports together [default: the --listen port only].
    #[arg(long, value_name = "ADDR")]
    pub web_listen: Option<std::net::SocketAddr>,

    /// The host name printed in links [default: this machine's hostname].
    #[arg(long, value_name = "NAME")]
    pub public_host: Option<String>,

    /// The port printed in links [default: the port of --listen].
    #[arg(long, value_name = "N")]
    pub public_port: Option<u16>,

    /// The address browsers reach the relay at, when not http://PUBLIC_HOST:PUBLIC_PORT: a
    /// reverse proxy's https://relay.example.org (scheme, host and port; no path). Web links
    /// start with it, and the page's websocket must come from it
    /// [default: http://, or https:// with --tls-cert, PUBLIC_HOST:PUBLIC_PORT].
    #[arg(long, value_name = "URL", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,

    /// Serve HTTPS on the relay's ports with this certificate chain (PEM, leaf first, as
    /// certbot's fullchain.pem); needs --tls-key. Web links become https://
    /// [default: plain HTTP].
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM, as certbot's privkey.pem); needs --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// The relay sits behind a reverse proxy: take a web client's address from the last
    /// X-Forwarded-For entry, which the proxy adds. Connections are still counted per TCP
    /// address, the proxy's: raise --max-connections-per-ip to match. Without it, the header
    /// is ignored.
    #[arg(long)]
    pub trust_proxy: bool,

    /// The relay's ssh host key; an Ed25519 key is created (mode 0600) if the file is
    /// missing [default: relay_host_key in the cotty data directory].
    #[arg(long, value_name = "PATH")]
    pub host_key: Option<PathBuf>,

    /// Only hosts that log in with a public key listed in FILE (authorized_keys format, one
    /// `[from="ADDRS"] TYPE KEY [COMMENT]` a line; from= limits where a key may host from)
    /// may share sessions [default: anyone may host].
    #[arg(long, value_name = "FILE")]
    pub host_keys: Option<PathBuf>,

    /// Turn on named sessions (`ssh USERNAME/NAME@HOST`): FILE lists `API_KEY USERNAME`, one
    /// a line; hosts name sessions with -k KEY -n NAME. Re-read on SIGHUP [default: off].
    #[arg(long, value_name = "FILE")]
    pub api_keys: Option<PathBuf>,

    /// The most connections open at once, hosts and guests together; more are closed at
    /// once [default: from the open-file limit, `ulimit -n`].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_connections: Option<usize>,

    /// The most connections open at once from one source address [default: 32].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_connections_per_ip: Option<usize>,

    /// New connections a minute from one source address, in a burst or one every 60/N s
    /// [default: 120].
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub max_new_connections_per_minute: Option<u32>,

    /// Failed session lookups (wrong links) a minute from one source address; then its
    /// guests are told to wait [default: 20].
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub max_failed_lookups_per_minute: Option<u32>,

    /// Time from connecting to an open shell or uplink, ssh handshake and login included;
    /// slower connections are closed [default: 20s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub login_grace: Option<Duration>,

    /// The most sessions hosted at once from one source address [default: 16].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_sessions_per_ip: Option<usize>,

    /// The most read-only guests in one session [default: 64].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_guests: Option<usize>,

    /// The most read-write guests in one session, on top of the read-only ones [default: 16].
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_rw_guests: Option<usize>,

    /// The largest pane a host may share and a guest terminal the relay draws for
    /// [default: 500x250].
    #[arg(long, value_name = "COLSxROWS")]
    pub max_pane: Option<Size>,

    /// An ssh connection with no traffic for this long is closed [default: 1h].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// How long a session whose host dropped is kept for the host to come back [default: 10m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub resume_grace: Option<Duration>,

    /// A guest that takes no screen update for this long is dropped [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub guest_stall_timeout: Option<Duration>,

    /// Guest-key policy (`--require-authorized-keys`).
    #[command(flatten)]
    pub keys: RelayKeysArgs,
    /// How long guests of an `--approve` session wait for the host's answer.
    #[command(flatten)]
    pub approval: RelayApproveArgs,
}

/// The form every duration is written in, for messages.
pub const DURATION_FORM: &str = "a duration such as 20s, 10m or 2h";

/// Parses a duration written `20s`, `10m`, `2h` or `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("expected {DURATION_FORM} ({e})"))
}

/// Parses a count of at least 1.
pub fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number, at least 1".into()),
    }
}

/// Parses a rate a minute of at least 1.
pub fn parse_rate(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number a minute, at least 1".into()),
    }
}

/// The default path of the relay's host key.
pub fn default_host_key() -> PathBuf {
    data_dir().join("relay_host_key")
}

/// The default path of the key a host logs in to a relay with (`--identity`).
pub fn default_identity() -> PathBuf {
    data_dir().join("host_key")
}

/// cotty's data directory, where the keys it makes for itself live.
fn data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cotty")
}

/// What `cotty --help` ends with: examples, the dashboard's keys and the files.
pub const EXAMPLES: &str = "\
Examples:
  cotty                                     share your shell; links in the sidebar
  cotty -S /tmp/pair display -p '#{ssh}'    print the link of the cotty on /tmp/pair
  cotty -S /tmp/pair new-link --once --ttl 1h   a link for one guest, for an hour
  cotty -S /tmp/pair link-off rw            refuse new guests on the read-write link
  cotty -S /tmp/pair link-on 2              let guests in with extra link 2 again
  cotty -F new-session htop                 headless: share htop, print the links
  cotty --relay relay.example.org:2222      use a shared relay instead of the built-in one
  cotty relay --public-host relay.example.org
  ssh -p 2222 TOKEN@relay.example.org       a guest; any OpenSSH client
  http://relay.example.org:2222/#TOKEN      a guest in a browser (relays with the web view)

Dashboard keys (prefix C-b): C-b s sidebar, C-b S show/hide it, C-b L lock guests,
C-b ? help, C-b q quit, C-b C-b a literal C-b. In the sidebar: Enter/y copy a link
(ssh or web), d switch it off, Q QR code (a web link's opens on a phone), m read-only/
read-write, k kick, Tab next section, Esc back. A guest asking to join (--approve):
a admit read-write, r admit read-only, d deny.

Files:
  config          $XDG_CONFIG_HOME/cotty/cotty.toml  (~/.config/cotty/cotty.toml)
  user themes     $XDG_CONFIG_HOME/cotty/themes/NAME.toml
  known relays    $XDG_CONFIG_HOME/cotty/known_relays
  relay host key  $XDG_DATA_HOME/cotty/relay_host_key  (~/.local/share/cotty/relay_host_key)
  host identity   $XDG_DATA_HOME/cotty/host_key
  control socket  $XDG_RUNTIME_DIR/cotty/default, or /tmp/cotty-UID/default";

#[cfg(test)]
mod tests;
