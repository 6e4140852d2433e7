//! The uplink supervisor: one actor that connects, reconnects with capped, jittered backoff,
//! resumes the session, and reports its state.
//!
//! It is the only owner of the relay connection. The front ends only draw the
//! [`UplinkEvent`]s it sends. It keeps trying forever, unless the relay refuses for a
//! reason that no retry can change; then it says so and waits for the end, and the shell keeps
//! running either way. It never panics on anything that comes from the network.

use crate::core::session::SessionHandle;
use crate::net::proto::Hello;
use crate::net::relay::server::LocalRelay;
use crate::net::uplink::kept::Kept;
use crate::net::uplink::link::{self, LinkEnd};
use crate::net::uplink::ssh::{SshUplink, connect_ssh};
use crate::net::uplink::{Fatal, LinkState, RelayTarget, UplinkEvent};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// The second try waits about this long; each one after waits twice as long as the last.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// A link lost within this long of the last loss waits a little before it is redialled.
const QUICK_LOSS: Duration = Duration::from_secs(1);
/// How long the ssh connection to a remote relay may take, handshake included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to reach the relay.
#[derive(Clone)]
pub enum Dialer {
    /// A relay over ssh.
    Remote(RelayTarget),
    /// The relay in this process, through an in-memory pipe.
    Local(LocalRelay),
}

/// The running supervisor. [`Uplink::stop`] ends it; it is safe to call more than once.
pub struct Uplink {
    /// Cancelled to stop connecting; a live link still delivers the session's End first.
    stop: CancellationToken,
    /// The supervisor's task, taken by the first `stop`.
    task: Option<JoinHandle<()>>,
}

impl Uplink {
    /// Starts supervising the connection of `session` to the relay `dialer` reaches.
    pub fn spawn(
        dialer: Dialer,
        hello: Hello,
        session: SessionHandle,
        events: mpsc::Sender<UplinkEvent>,
    ) -> Uplink {
        let stop = CancellationToken::new();
        let sup = Supervisor {
            dialer,
            hello,
            session,
            events,
            kept: Kept::default(),
            started: Instant::now(),
        };
        let task = tokio::spawn(sup.run(stop.clone()));
        Uplink {
            stop,
            task: Some(task),
        }
    }

    /// Waits up to `grace` for the supervisor to finish on its own (the session's End going
    /// up), then stops it. Safe to call twice: the second call returns at once.
    pub async fn stop(&mut self, grace: Duration) {
        let Some(mut task) = self.task.take() else {
            return;
        };
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            self.stop.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut task).await;
        }
        self.stop.cancel();
    }
}

impl Drop for Uplink {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The supervisor's state, owned by its task.
struct Supervisor {
    /// How to reach the relay.
    dialer: Dialer,
    /// The hello of this host; `resume` is filled in for each try.
    hello: Hello,
    /// The session whose output goes up.
    session: SessionHandle,
    /// Where the state goes.
    events: mpsc::Sender<UplinkEvent>,
    /// The proof from the last welcome and the extra links, to take the session up again
    /// with the same links.
    kept: Kept,
    /// When the session started: each hello's `link_ttl_secs` is what is left from here.
    started: Instant,
}

impl Supervisor {
    async fn run(mut self, stop: CancellationToken) {
        self.state(LinkState::Connecting).await;
        // Failed tries since the link was last up.
        let mut attempt: u32 = 0;
        // When a link that was up was last lost, so a relay that keeps accepting and
        // dropping the host is not redialled in a tight loop.
        let mut last_lost: Option<Instant> = None;
        loop {
            let end = tokio::select! {
                end = self.connect_once() => end,
                _ = stop.cancelled() => return,
            };
            let why = match end {
                LinkEnd::SessionOver => return,
                LinkEnd::Refused(why) => {
                    info!("relay refused the host: {why}");
                    self.state(LinkState::Refused(why)).await;
                    // Nothing more to do; but the state stays readable until told to stop
                    // or the session ends (then at once, so a refused host exits promptly).
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = self.session.closed() => {}
                    }
                    return;
                }
                LinkEnd::ResumeRefused(why) => {
                    self.log(format!(
                        "the relay could not resume the session ({why}); registering a new one, \
                         with new links"
                    ))
                    .await;
                    self.kept.forget();
                    attempt += 1;
                    why
                }
                LinkEnd::Lost(why) => {
                    // The link was up: the first try comes at once, unless the last loss was
                    // within a second; then after a short pause.
                    let now = Instant::now();
                    let again = last_lost.is_some_and(|t| now - t < QUICK_LOSS);
                    attempt = if again { 2 } else { 1 };
                    last_lost = Some(now);
                    why
                }
                LinkEnd::Failed(why) => {
                    attempt += 1;
                    why
                }
            };
            let next_in = backoff(attempt, jitter());
            info!("uplink down ({why}); attempt {attempt} in {next_in:?}");
            self.state(LinkState::Reconnecting {
                attempt,
                next_in,
                why,
            })
            .await;
            tokio::select! {
                _ = tokio::time::sleep(next_in) => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// Makes one connection and runs it until it ends.
    async fn connect_once(&mut self) -> LinkEnd {
        let mut hello = self.hello.clone();
        hello.resume = self.kept.resume.clone();
        hello.extra_links = self.kept.hello_links(Instant::now());
        hello.link_ttl_secs = ttl_left(self.hello.link_ttl_secs, self.started.elapsed());
        match &self.dialer {
            Dialer::Local(relay) => {
                let stream = relay.connect();
                link::run(stream, hello, &self.session, &self.events, &mut self.kept).await
            }
            Dialer::Remote(target) => {
                let connected =
                    tokio::time::timeout(CONNECT_TIMEOUT, connect_ssh(target, self.events.clone()))
                        .await;
                match connected {
                    Err(_) => LinkEnd::Failed(format!(
                        "no ssh handshake with {} within {CONNECT_TIMEOUT:?}",
                        target.addr
                    )),
                    Ok(Err(e)) if e.chain().any(|c| c.is::<Fatal>()) => {
                        LinkEnd::Refused(format!("{e:#}"))
                    }
                    Ok(Err(e)) => LinkEnd::Failed(format!("{e:#}")),
                    Ok(Ok(SshUplink { handle, stream })) => {
                        let end =
                            link::run(stream, hello, &self.session, &self.events, &mut self.kept)
                                .await;
                        // The ssh connection lives as long as the link.
                        drop(handle);
                        end
                    }
                }
            }
        }
    }

    async fn state(&self, state: LinkState) {
        let _ = self.events.send(UplinkEvent::State(state)).await;
    }

    async fn log(&self, line: String) {
        let _ = self.events.send(UplinkEvent::Log(line)).await;
    }
}

/// The pause before try `attempt` (from 1): none for the first, then about 0.5 s doubling to
/// [`MAX_PAUSE`]. `jitter` in [0, 1) spreads it over ±20 %, so hosts that lost the same relay
/// do not all come back in the same instant.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    if attempt <= 1 {
        return Duration::ZERO;
    }
    let doublings = (attempt - 2).min(16);
    let base = FIRST_PAUSE.saturating_mul(1 << doublings).min(MAX_PAUSE);
    base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
        .min(MAX_PAUSE)
}

/// What is left of a link lifetime of `ttl` seconds after `elapsed`, rounded down so that a
/// reconnect never moves the deadline later; `None` for no end.
pub fn ttl_left(ttl: Option<u64>, elapsed: Duration) -> Option<u64> {
    ttl.map(|t| Duration::from_secs(t).saturating_sub(elapsed).as_secs())
}

/// A number in [0, 1) from the OS random source; 0.5 if there is none.
fn jitter() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_is_at_once_then_doubling_to_a_cap() {
        assert_eq!(backoff(0, 0.5), Duration::ZERO);
        assert_eq!(backoff(1, 0.9), Duration::ZERO);
        assert_eq!(backoff(2, 0.5), Duration::from_millis(500));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(1));
        assert_eq!(backoff(4, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(8, 0.5), Duration::from_secs(30));
        assert_eq!(backoff(1000, 0.99), Duration::from_secs(30));
    }

    #[test]
    fn a_reconnect_sends_what_is_left_of_the_link_lifetime() {
        assert_eq!(ttl_left(None, Duration::from_secs(5)), None);
        assert_eq!(ttl_left(Some(60), Duration::ZERO), Some(60));
        assert_eq!(ttl_left(Some(60), Duration::from_millis(1500)), Some(58));
        assert_eq!(ttl_left(Some(60), Duration::from_secs(600)), Some(0));
    }

    #[test]
    fn jitter_spreads_the_pause_by_a_fifth() {
        assert_eq!(backoff(3, 0.0), Duration::from_millis(800));
        assert!(backoff(3, 0.999) > Duration::from_millis(1190));
        assert!(backoff(3, 0.999) < Duration::from_millis(1200));
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }
}
