//! When the peer of a link was last heard from, and the wait for it to fall silent.
//!
//! Both ends of the uplink ping every [`PING_EVERY`] and give a link up once nothing has
//! arrived for [`DEAD_AFTER`], so a silent link (packets dropped, not reset) is found long
//! before TCP would notice. The reading side stamps the heartbeat; a watchdog waits on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// How often each side sends a ping. Stricter than the 5 s of the design, so that guests see
/// "host reconnecting" within 5 s of the host's last message.
pub const PING_EVERY: Duration = Duration::from_secs(2);
/// A link on which nothing arrived for this long is dead: found within 15 s.
pub const DEAD_AFTER: Duration = Duration::from_secs(12);
/// How often the watchdog looks.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The last time something arrived on a link. Shared by reference between the reading and
/// watching halves of one task, so an atomic rather than a lock.
#[derive(Debug)]
pub struct Heartbeat {
    /// When the link started; stamps count from here.
    start: Instant,
    /// Milliseconds after `start` at which the peer was last heard from.
    last: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

impl Heartbeat {
    /// A heartbeat that counts the link's start as the last time heard.
    pub fn new() -> Heartbeat {
        Heartbeat {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Notes that something arrived now.
    pub fn stamp(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// How long nothing has arrived.
    pub fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Returns once nothing has arrived for [`DEAD_AFTER`], with how long it was.
    pub async fn dead(&self) -> Duration {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        loop {
            tick.tick().await;
            let silent = self.silent_for();
            if silent >= DEAD_AFTER {
                return silent;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_link_is_dead_after_the_silence_and_a_stamp_resets_it() {
        let hb = Heartbeat::new();
        tokio::time::sleep(Duration::from_secs(10)).await;
        hb.stamp();
        assert!(hb.silent_for() < Duration::from_secs(1));
        let silent = hb.dead().await;
        assert!(silent >= DEAD_AFTER && silent < DEAD_AFTER + Duration::from_secs(2));
        assert!(hb.start.elapsed() >= Duration::from_secs(10) + DEAD_AFTER);
    }
}
