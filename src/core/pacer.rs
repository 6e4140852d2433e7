//! Frame pacing: draw at once when the screen has been quiet, at most ~60 times a second
//! under sustained bulk output.
//!
//! A plain "one frame per 16 ms" rule delays a keystroke's echo by up to 16 ms whenever keys
//! come faster than frames. A token bucket lets a short burst through at once, and a small
//! update (an echo, a cursor move) costs a fifth of a frame, so typing is never held back
//! while a flood of output is still capped.
//!
//! The relay paces its room's views and each guest's frames with it, and the host's dashboard
//! its own frames (`ui::dashboard::frames`).

use std::time::Duration;
use tokio::time::Instant;

/// The sustained frame interval (about 60 frames a second).
pub const FRAME: Duration = Duration::from_millis(16);
/// Frames that may go out back to back after a quiet spell.
const BURST: f64 = 4.0;
/// What a frame costs, in frames.
pub const FULL: f64 = 1.0;
/// What a small update costs: about 300 of them a second are allowed.
pub const SMALL: f64 = 0.2;

/// A token bucket of frames.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// Frames that may go out now (fractional while refilling).
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl Pacer {
    /// A full bucket.
    pub fn new(now: Instant) -> Self {
        Pacer {
            tokens: BURST,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() / FRAME.as_secs_f64();
        self.tokens = (self.tokens + earned).min(BURST);
        self.at = now;
    }

    /// When a frame of `cost` ([`FULL`] or [`SMALL`]) may go out: now or later.
    pub fn ready_at(&mut self, now: Instant, cost: f64) -> Instant {
        self.refill(now);
        if self.tokens >= cost {
            now
        } else {
            now + FRAME.mul_f64(cost - self.tokens)
        }
    }

    /// Records that a frame of `cost` went out.
    pub fn take(&mut self, now: Instant, cost: f64) {
        self.refill(now);
        self.tokens = (self.tokens - cost).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of `cost` sent as fast as allowed during one second, after `start`.
    fn frames_in_a_second(p: &mut Pacer, start: Instant, cost: f64) -> usize {
        let mut frames = 0;
        let mut now = start;
        let end = start + Duration::from_secs(1);
        while now < end {
            now = p.ready_at(now, cost);
            p.take(now, cost);
            frames += 1;
            now += Duration::from_millis(1);
        }
        frames
    }

    #[test]
    fn a_quiet_screen_draws_at_once_and_a_busy_one_is_held_to_the_frame_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        // After a quiet spell, a few frames go out back to back.
        for _ in 0..4 {
            assert_eq!(p.ready_at(t0, FULL), t0);
            p.take(t0, FULL);
        }
        // Then the next waits for one frame's worth of time.
        assert_eq!(p.ready_at(t0, FULL), t0 + FRAME);
        // Sustained bulk output gets at most one frame per FRAME: about 62 in a second.
        let bulk = frames_in_a_second(&mut p, t0 + Duration::from_secs(1), FULL);
        assert!((60..=70).contains(&bulk), "{bulk} frames in a busy second");
    }

    #[test]
    fn typing_faster_than_the_frame_rate_is_never_held_back() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0);
        // An echo every 4 ms (250 keys a second) goes out at once, every time.
        let mut t = t0;
        for i in 0..500 {
            t += Duration::from_millis(4);
            assert_eq!(p.ready_at(t, SMALL), t, "key {i} held back");
            p.take(t, SMALL);
        }
        // A flood of small updates is still capped: about 312 a second, plus what is left of
        // the burst.
        let small = frames_in_a_second(&mut p, t + Duration::from_secs(1), SMALL);
        assert!(
            (300..=340).contains(&small),
            "{small} small frames in a second"
        );
    }
}
