//! A real relay on 127.0.0.1:0 and a real host, both in this process, for end-to-end tests.
//!
//! Each test owns its runtime, so the synchronous ssh-guest driver can block the test thread
//! while the relay and host run on the runtime's workers.

use super::guest::{GuestOptions, SshGuest};
use super::wait::wait_until;
use cotty::core::layout::SizePolicy;
use cotty::core::pty::CommandSpec;
use cotty::core::session::SessionCmd;
use cotty::host::{Host, HostOptions, RelayChoice};
use cotty::net::proto::Links;
use cotty::net::relay::server::Limits;
use cotty::net::relay::{Relay, RelayConfig};
use cotty::net::uplink::RelayTarget;
use cotty::net::uplink::UplinkEvent;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
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
    /// Every uplink event after the first links, in order: a task drains them, so the
    /// supervisor never waits for a test that does not look.
    pub events: Arc<Mutex<Vec<UplinkEvent>>>,
    /// Stops the relay.
    shutdown: CancellationToken,
}

/// The relay's limits for tests. Every test guest comes from 127.0.0.1, and the hostile test
/// opens a thousand connections: the per-address limits are tested in relay_limits.rs instead.
pub fn test_limits() -> Limits {
    Limits {
        connections_per_ip: 10_000,
        new_connections_per_minute: 100_000,
        ..Limits::default()
    }
}

impl TestEnv {
    /// A runtime and a scratch directory, with no relay yet: for tests that run the relay as
    /// a process, and set `port` and `fingerprint` from it.
    pub fn bare() -> TestEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        TestEnv {
            rt,
            port: 0,
            fingerprint: String::new(),
            host: None,
            links: Links::default(),
            dir: tempfile::tempdir().expect("tempdir"),
            events: Arc::default(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Starts a relay only.
    pub fn relay() -> TestEnv {
        TestEnv::relay_with(test_limits())
    }

    /// Starts a relay only, with its own limits.
    pub fn relay_with(limits: Limits) -> TestEnv {
        let mut env = TestEnv::bare();
        let cfg = RelayConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            public_host: "127.0.0.1".into(),
            public_port: None,
            host_key: env.dir.path().join("relay_key"),
            host_keys: None,
            limits,
            web: Default::default(),
            api_keys: None,
            require_authorized_keys: false,
        };
        let relay = env.rt.block_on(Relay::bind(cfg)).expect("relay binds");
        env.port = relay.local_addr().expect("addr").port();
        env.fingerprint = relay.fingerprint().to_string();
        env.rt.spawn(relay.run(env.shutdown.clone()));
        env
    }

    /// Starts a relay and a host that shares `argv` (a shell prompt of `$ ` for bash).
    pub fn start(argv: &[&str]) -> TestEnv {
        let mut env = TestEnv::relay();
        let port = env.port;
        env.start_host(port, argv);
        env
    }

    /// Starts a host that shares `argv` and dials the relay at 127.0.0.1:`dial` (the relay's
    /// port, or a proxy in front of it), and waits for its links.
    pub fn start_host(&mut self, dial: u16, argv: &[&str]) {
        self.start_host_with(dial, argv, SizePolicy::default());
    }

    /// Like [`TestEnv::start_host`], with a size policy of its own.
    pub fn start_host_with(&mut self, dial: u16, argv: &[&str], policy: SizePolicy) {
        let opts = HostOptions {
            relay: RelayChoice::Remote(RelayTarget {
                addr: format!("127.0.0.1:{dial}"),
                fingerprint: Some(self.fingerprint.clone()),
                known_relays: self.dir.path().join("known_relays"),
                identity: None,
            }),
            cmd: CommandSpec {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec![
                    ("PS1".into(), "$ ".into()),
                    ("HISTFILE".into(), "/dev/null".into()),
                ],
            },
            policy,
            host_size: None,
            respawn: true,
            forge_keys: None,
            named: Default::default(),
            guest_keys: Default::default(),
            approve: false,
            link_ttl: None,
        };
        let mut host = self.rt.block_on(Host::start(opts)).expect("host starts");
        self.links = self.rt.block_on(host.links(WAIT)).expect("host gets links");
        let (_, closed) = mpsc::channel(1);
        let mut events = std::mem::replace(&mut host.events, closed);
        let log = self.events.clone();
        self.rt.spawn(async move {
            while let Some(ev) = events.recv().await {
                log.lock().expect("events").push(ev);
            }
        });
        self.host = Some(host);
    }

    /// How many times the relay accepted the host since its first links, and whether every
    /// one of those gave the same links back.
    pub fn reconnects(&self) -> (usize, bool) {
        let events = self.events.lock().expect("events");
        let mut n = 0;
        let mut same = true;
        for ev in events.iter() {
            if let UplinkEvent::Connected { links, resumed } = ev {
                n += 1;
                same &= *resumed && *links == self.links;
            }
        }
        (n, same)
    }

    /// Waits until the relay has accepted the host `n` times since its first links.
    pub fn wait_reconnects(&self, n: usize, timeout: Duration) {
        let res = wait_until(&format!("{n} reconnects of the host"), timeout, || {
            self.reconnects().0 >= n
        });
        if let Err(e) = res {
            panic!("{e}; events: {:?}", self.events.lock().expect("events"));
        }
    }

    /// Types `text` on the host's own keyboard (not through the relay).
    pub fn host_type(&self, text: &str) {
        let host = self.host.as_ref().expect("a host is running");
        let cmd = SessionCmd::HostInput(text.as_bytes().to_vec());
        self.rt
            .block_on(host.session.send(cmd))
            .expect("host input");
    }

    /// Sends a command to the host's session.
    pub fn host_cmd(&self, cmd: SessionCmd) {
        let host = self.host.as_ref().expect("a host is running");
        self.rt.block_on(host.session.send(cmd)).expect("session");
    }

    /// The shared shell's PID, read by typing `echo $$` on the host's keyboard, so it works
    /// whether or not the relay is there.
    pub fn shell_pid(&self) -> u32 {
        let m = marker("pid");
        self.host_type(&format!("echo {m}=$$\r"));
        let mut pid = None;
        let res = wait_until("the shell's PID on the host's screen", WAIT, || {
            let text = self.host_screen().text();
            pid = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{m}=")))
                .and_then(|p| p.trim().parse().ok());
            pid.is_some()
        });
        res.expect("the shell answers");
        pid.expect("a PID")
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

    /// The read-write web link.
    pub fn web(&self) -> String {
        self.links
            .web
            .clone()
            .expect("the host's links include a web link")
    }

    /// The read-only web link.
    pub fn web_ro(&self) -> String {
        self.links
            .web_ro
            .clone()
            .expect("the host's links include a read-only web link")
    }

    /// A stock ssh guest with `token`.
    pub fn guest(&self, token: &str, opts: GuestOptions) -> SshGuest {
        SshGuest::spawn(self.port, token, opts)
    }

    /// The host's own screen of the shared pane.
    pub fn host_screen(&self) -> cotty::core::term::ScreenState {
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
        s.rows.iter().any(|r| r.text().starts_with('$'))
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

/// Writes 50 numbered lines of 325 columns, `<00><01>…<79>`, wider than any screen or window
/// of the tests: for sideways scrolling in `less -S`.
pub fn write_wide_file(path: impl AsRef<std::path::Path>) {
    let text: String = (1..=50)
        .map(|i| {
            let cells: String = (0..80).map(|k| format!("<{k:02}>")).collect();
            format!("{i:03} {cells}\n")
        })
        .collect();
    std::fs::write(path, text).expect("write");
}
