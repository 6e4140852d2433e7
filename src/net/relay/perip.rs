//! Limits per source address: connections open, new connections a minute, failed token
//! lookups a minute; and log lines about refusals that cannot flood the log.
//!
//! Open connections are counted in a table, and each accepted connection holds an
//! [`IpSlot`] that gives its place back when dropped. The two rates are governor's keyed
//! GCRA limiters: a quota of N a minute lets a burst of N through, then one every 60/N s,
//! and the refused are told governor's own wait. A failed lookup that goes over its rate
//! blocks lookups from that address until then: a correct token is not tried while the
//! address is blocked, and the refused attempts are not counted again.

use crate::net::relay::limits::Limits;
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tracing::{info, warn};

/// A rate limiter with one state per source address.
type Keyed<C> =
    RateLimiter<IpAddr, HashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Open connections by source address.
type OpenTable = IpCounts;

/// How many of something (connections, hosted sessions) each source address has open now.
/// A lookup table: its lock is held for one map operation, never across an `.await`.
#[derive(Debug, Default, Clone)]
pub struct IpCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl IpCounts {
    /// Counts one more for `ip`, unless it has `max` already: then the count it has.
    pub fn take(&self, ip: IpAddr, max: usize) -> Result<IpSlot, usize> {
        let mut open = lock(&self.0);
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            let had = *n;
            if had == 0 {
                open.remove(&ip);
            }
            return Err(had);
        }
        *n += 1;
        Ok(IpSlot {
            ip,
            open: self.clone(),
        })
    }
}

/// What each source address has open and has used up; one per relay, in [`Shared`].
///
/// [`Shared`]: crate::net::relay::server::Shared
pub struct PerIp<C: Clock + Clone = DefaultClock> {
    /// The time for the rate limiters and the lookup blocks; a fake one in tests.
    clock: C,
    /// Connections one address may hold open.
    max_open: usize,
    /// Failed lookups a minute, for the log line.
    max_failed: u32,
    /// Open connections by address, shared with the slots that give them back. A lock for
    /// a table of counters: held for one update, never across an `.await`.
    open: OpenTable,
    /// New connections a minute by address.
    new_connections: Keyed<C>,
    /// Failed token lookups a minute by address.
    failed_lookups: Keyed<C>,
    /// Addresses whose lookups are refused, until when. Held like `open`.
    blocked: Mutex<HashMap<IpAddr, C::Instant>>,
    /// Log lines about blocked addresses, so a guessing script cannot flood the log.
    log: LogGate,
}

/// Why a connection was refused at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address has this many connections open already (--max-connections-per-ip).
    TooManyOpen(usize),
    /// The address opened too many connections in the last minute; the next one may come
    /// after this long (--max-new-connections-per-minute).
    TooFast(Duration),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooManyOpen(n) => {
                write!(f, "{n} connections open from it (--max-connections-per-ip)")
            }
            Refusal::TooFast(wait) => write!(
                f,
                "too many new connections from it, next in {} s (--max-new-connections-per-minute)",
                whole_seconds(*wait)
            ),
        }
    }
}

/// One open connection's place in its address's count; dropping it gives the place back.
pub struct IpSlot {
    /// The address counted.
    ip: IpAddr,
    /// The table it is counted in.
    open: OpenTable,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open.0);
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl PerIp {
    /// The per-address limits of `limits`, on the real clock.
    pub fn new(limits: &Limits) -> PerIp {
        PerIp::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> PerIp<C> {
    /// The per-address limits of `limits`, on `clock`.
    pub fn with_clock(limits: &Limits, clock: C) -> PerIp<C> {
        let keyed = |per_minute: u32| {
            let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
            RateLimiter::new(quota, HashMapStateStore::default(), clock.clone())
        };
        PerIp {
            max_open: limits.connections_per_ip.max(1),
            max_failed: limits.failed_lookups_per_minute,
            open: OpenTable::default(),
            new_connections: keyed(limits.new_connections_per_minute),
            failed_lookups: keyed(limits.failed_lookups_per_minute),
            blocked: Mutex::new(HashMap::new()),
            log: LogGate::new(),
            clock,
        }
    }

    /// Counts a new connection from `ip`, or says why it may not come in.
    pub fn admit(&self, ip: IpAddr) -> Result<IpSlot, Refusal> {
        let slot = self
            .open
            .take(ip, self.max_open)
            .map_err(Refusal::TooManyOpen)?;
        if let Err(not_until) = self.new_connections.check_key(&ip) {
            // Dropping the slot gives the place back.
            return Err(Refusal::TooFast(not_until.wait_time_from(self.clock.now())));
        }
        Ok(slot)
    }

    /// Before a token lookup: the message for a guest whose address is blocked for failing
    /// too many lookups, or `None` when it may look up. In-process guests are never blocked.
    pub fn lookup_refusal(&self, addr: Option<SocketAddr>) -> Option<String> {
        let ip = addr?.ip();
        let now = self.clock.now();
        let until = *lock(&self.blocked).get(&ip)?;
        (until > now).then(|| too_many_attempts(until.duration_since(now).into()))
    }

    /// After a failed token lookup: counts it, and when that goes over the rate blocks the
    /// address and returns the message for the guest (else `None`).
    pub fn count_failed_lookup(&self, addr: Option<SocketAddr>) -> Option<String> {
        let ip = addr?.ip();
        let not_until = self.failed_lookups.check_key(&ip).err()?;
        let now = self.clock.now();
        let wait = not_until.wait_time_from(now);
        lock(&self.blocked).insert(ip, now + Nanos::from(wait));
        self.log.warn(|| {
            format!(
                "token lookups from {ip} refused for {} s: more than {} failed a minute \
                 (--max-failed-lookups-per-minute)",
                whole_seconds(wait),
                self.max_failed
            )
        });
        Some(too_many_attempts(wait))
    }

    /// Forgets addresses that have used nothing up lately, so the tables stay small. The
    /// relay calls it every minute.
    pub fn tidy(&self) {
        let now = self.clock.now();
        lock(&self.blocked).retain(|_, until| *until > now);
        for lim in [&self.new_connections, &self.failed_lookups] {
            lim.retain_recent();
            lim.shrink_to_fit();
        }
    }

    /// Addresses the tables remember, for tests of [`PerIp::tidy`].
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.new_connections.len() + self.failed_lookups.len() + lock(&self.blocked).len()
    }
}

/// What a guest over the failed-lookup rate sees before the relay closes its channel.
fn too_many_attempts(wait: Duration) -> String {
    format!(
        "cotty: too many attempts from your address; wait {} s\r\n",
        whole_seconds(wait)
    )
}

/// A wait in whole seconds, rounded up and at least 1, so "wait 0 s" is never said.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Takes a lock whose data stays valid even if a holder panicked (counters and instants).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The log target of the gate's lines: the relay's, whichever part of it wrote them.
const LOG_TARGET: &str = "cotty::net::relay";

/// Lets through a burst of 10 log lines, then one a second, and says how many it left out.
pub struct LogGate {
    /// The rate of lines.
    lim: DefaultDirectRateLimiter,
    /// Lines left out since the last one written.
    dropped: AtomicU64,
}

impl Default for LogGate {
    fn default() -> Self {
        LogGate::new()
    }
}

impl LogGate {
    /// A gate of 10 lines at once, then one a second.
    pub fn new() -> LogGate {
        let ten = NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN);
        LogGate {
            lim: RateLimiter::direct(Quota::per_second(NonZeroU32::MIN).allow_burst(ten)),
            dropped: AtomicU64::new(0),
        }
    }

    /// Logs the line `line` makes as a warning, unless too many went out just now.
    pub fn warn(&self, line: impl FnOnce() -> String) {
        if let Some(left_out) = self.pass() {
            warn!(target: LOG_TARGET, "{}{left_out}", line());
        }
    }

    /// Logs the line `line` makes as information, unless too many went out just now.
    pub fn info(&self, line: impl FnOnce() -> String) {
        if let Some(left_out) = self.pass() {
            info!(target: LOG_TARGET, "{}{left_out}", line());
        }
    }

    /// Whether a line may go out now, with the note of how many were left out before it.
    fn pass(&self) -> Option<String> {
        if self.lim.check().is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(match self.dropped.swap(0, Ordering::Relaxed) {
            0 => String::new(),
            n => format!(" ({n} similar lines left out)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limits(per_ip: usize, new_per_minute: u32, failed_per_minute: u32) -> Limits {
        Limits {
            connections_per_ip: per_ip,
            new_connections_per_minute: new_per_minute,
            failed_lookups_per_minute: failed_per_minute,
            ..Limits::default()
        }
    }

    fn addr(last: u8) -> Option<SocketAddr> {
        Some(SocketAddr::from(([192, 0, 2, last], 4000)))
    }

    #[test]
    fn open_connections_are_capped_and_given_back_on_drop() {
        let p = PerIp::with_clock(&limits(2, 100, 20), FakeRelativeClock::default());
        let ip: IpAddr = [192, 0, 2, 1].into();
        let a = p.admit(ip).expect("first");
        let _b = p.admit(ip).expect("second");
        assert_eq!(p.admit(ip).err(), Some(Refusal::TooManyOpen(2)));
        // Another address has its own count.
        assert!(p.admit([192, 0, 2, 2].into()).is_ok());
        drop(a);
        assert!(p.admit(ip).is_ok(), "a dropped slot frees its place");
    }

    #[test]
    fn new_connections_are_rate_limited_with_governors_wait() {
        let clock = FakeRelativeClock::default();
        let p = PerIp::with_clock(&limits(100, 3, 20), clock.clone());
        let ip: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..3 {
            drop(p.admit(ip).expect("within the burst"));
        }
        // 3 a minute: one more every 20 s.
        assert_eq!(
            p.admit(ip).err(),
            Some(Refusal::TooFast(Duration::from_secs(20)))
        );
        clock.advance(Duration::from_secs(19));
        assert!(matches!(p.admit(ip), Err(Refusal::TooFast(_))));
        clock.advance(Duration::from_secs(1));
        assert!(p.admit(ip).is_ok());
    }

    #[test]
    fn failed_lookups_block_the_address_until_governor_allows_one_more() {
        let clock = FakeRelativeClock::default();
        let p = PerIp::with_clock(&limits(100, 100, 2), clock.clone());
        for _ in 0..2 {
            assert_eq!(p.lookup_refusal(addr(1)), None);
            assert_eq!(p.count_failed_lookup(addr(1)), None);
        }
        // The third failure goes over 2 a minute: one more in 30 s.
        let msg = p.count_failed_lookup(addr(1)).expect("over the rate");
        assert_eq!(
            msg,
            "cotty: too many attempts from your address; wait 30 s\r\n"
        );
        clock.advance(Duration::from_millis(10_500));
        let msg = p.lookup_refusal(addr(1)).expect("still blocked");
        assert!(msg.ends_with("wait 20 s\r\n"), "{msg:?}");
        assert_eq!(p.lookup_refusal(addr(2)), None, "others are not blocked");
        clock.advance(Duration::from_secs(20));
        assert_eq!(p.lookup_refusal(addr(1)), None);
        assert_eq!(p.count_failed_lookup(addr(1)), None, "one more allowed");
    }

    #[test]
    fn in_process_guests_are_never_limited() {
        let p = PerIp::with_clock(&limits(1, 1, 1), FakeRelativeClock::default());
        for _ in 0..5 {
            assert_eq!(p.count_failed_lookup(None), None);
            assert_eq!(p.lookup_refusal(None), None);
        }
    }

    #[test]
    fn tidy_forgets_addresses_that_used_nothing_up() {
        let clock = FakeRelativeClock::default();
        let p = PerIp::with_clock(&limits(10, 60, 1), clock.clone());
        drop(p.admit([192, 0, 2, 1].into()).expect("in"));
        p.count_failed_lookup(addr(1));
        p.count_failed_lookup(addr(1));
        assert!(p.remembered() >= 3);
        clock.advance(Duration::from_secs(120));
        p.tidy();
        assert_eq!(p.remembered(), 0);
    }

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
    }
}
