//! A real relay on 127.0.0.1:0 and a real host, both in this process, for end-to-end tests.
//!
//! Each test owns its runtime, so the synchronous ssh-guest driver can block the test thread
//! while the relay and host run on the runtime's workers.

use super::guest::{GuestOptions, SshGuest};
use cotty::core::layout::SizePolicy;
use cotty::core::pty::CommandSpec;
use cotty::host::{Host, HostOptions, RelayChoice};
use cotty::net::proto::Links;
use cotty::net::relay::server::Limits;
use cotty::net::relay::{Relay, RelayConfig};
use cotty::net::uplink::RelayTarget;
use std::time::Duration;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// A relay, optionally a host, and a scratch directory.
pub struct TestEnv {
    /// Runs the relay and the host.
    pub rt: Runtime,
    /// The relay's port on 127.0.0.1.
    pub port: u16,
    /// The relay key's fingerprint.
    pub fingerprint: String,
    /// The host, once started.
    pub host: Option<Host>,
    /// The host's links.
    pub links: Links,
    /// Scratch space: keys, known_relays, files the shared program writes.
    pub dir: TempDir,
    /// Stops the relay.
    shutdown: CancellationToken,
}

impl TestEnv {
    /// Starts a relay only.
    pub fn relay() -> TestEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = RelayConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            public_host: "127.0.0.1".into(),
            public_port: None,
            host_key: dir.path().join("relay_key"),
            host_keys: None,
            // Every test guest comes from 127.0.0.1, and the hostile test opens a thousand
            // connections: the per-address limits are tested in relay_limits.rs instead.
            limits: Limits {
                connections_per_ip: 10_000,
                new_connections_per_minute: 100_000,
                ..Limits::default()
            },
        };
        let relay = rt.block_on(Relay::bind(cfg)).expect("relay binds");
        let port = relay.local_addr().expect("addr").port();
        let fingerprint = relay.fingerprint().to_string();
        let shutdown = CancellationToken::new();
        rt.spawn(relay.run(shutdown.clone()));
        TestEnv {
            rt,
            port,
            fingerprint,
            host: None,
            links: Links::default(),
            dir,
            shutdown,
        }
    }

    /// Starts a relay and a host that shares `argv` (a shell prompt of `$ ` for bash).
    pub fn start(argv: &[&str]) -> TestEnv {
        let mut env = TestEnv::relay();
        let opts = HostOptions {
            relay: RelayChoice::Remote(RelayTarget {
                addr: format!("127.0.0.1:{}", env.port),
                fingerprint: Some(env.fingerprint.clone()),
                known_relays: env.dir.path().join("known_relays"),
                identity: None,
            }),
            cmd: CommandSpec {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec![
                    ("PS1".into(), "$ ".into()),
                    ("HISTFILE".into(), "/dev/null".into()),
                ],
            },
            policy: SizePolicy::default(),
            host_size: None,
            respawn: true,
        };
        let mut host = env.rt.block_on(Host::start(opts)).expect("host starts");
        env.links = env.rt.block_on(host.links(WAIT)).expect("host gets links");
        env.host = Some(host);
        env
    }

    /// A bash with no rc files.
    pub fn bash() -> TestEnv {
        TestEnv::start(&["bash", "--norc", "--noprofile"])
    }

    /// The read-write token.
    pub fn rw(&self) -> String {
        token(&self.links.ssh)
    }

    /// The read-only token.
    pub fn ro(&self) -> String {
        token(&self.links.ssh_ro)
    }

    /// A stock ssh guest with `token`.
    pub fn guest(&self, token: &str, opts: GuestOptions) -> SshGuest {
        SshGuest::spawn(self.port, token, opts)
    }

    /// The host's own vt100 screen of the shared pane.
    pub fn host_screen(&self) -> vt100::Screen {
        let host = self.host.as_ref().expect("a host is running");
        self.rt
            .block_on(host.session.screen())
            .expect("host screen")
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Waits until the guest shows a shell prompt (`$` at the start of a row).
pub fn wait_prompt(g: &SshGuest) {
    g.wait_for("a prompt", WAIT, |s| {
        s.rows(0, 500).any(|r| r.starts_with('$'))
    })
    .expect("prompt on the guest's screen");
}

/// The user part of `ssh -p PORT USER@HOST`.
pub fn token(link: &str) -> String {
    let user_host = link.split_whitespace().last().expect("link has words");
    user_host.split('@').next().expect("user@host").to_string()
}

/// The port of `ssh -p PORT USER@HOST`.
pub fn port_of(link: &str) -> u16 {
    let mut words = link.split_whitespace();
    assert_eq!(words.next(), Some("ssh"), "{link}");
    assert_eq!(words.next(), Some("-p"), "{link}");
    words
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in the link")
}

/// A short random marker, so a test cannot pass on stale text.
pub fn marker(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{prefix}-{hex}")
}
