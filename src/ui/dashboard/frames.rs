//! When the dashboard draws a frame: only after something visible changed, at once when the
//! change is small, and at most about 60 frames a second under bulk output.
//!
//! The loop used to draw after every wakeup and then wait out a fixed 16 ms window. A key for
//! the shell woke it first and drew an unchanged frame, so the key's echo, about a millisecond
//! later, waited out the rest of that window: a median echo of 18 ms. Now only changes mark a
//! frame, and frames are paced by the relay's token bucket ([`Pacer`]): a frame that changed
//! few cells of the pane (an echo, a prompt) costs a fifth of one, so typing is never held,
//! while a flood of output is still held to the frame rate.
//!
//! What a frame will cost is only known once the pane is drawn, so the pacer is asked with the
//! cost of the last frame: bulk output goes on being bulk, and typing goes on being small.

use crate::core::pacer::{self, Pacer};
use ratatui::buffer::Buffer;
use tokio::time::Instant;

/// Pane cells a frame may change and still count as small. An echo changes one or two, a new
/// prompt line a few dozen; a screenful of output changes thousands.
const SMALL_CELLS: usize = 256;

/// The frame schedule: whether a frame is owed, and when it may go out.
#[derive(Debug)]
pub struct Frames {
    /// Holds bulk output to the frame rate and lets small changes through.
    pacer: Pacer,
    /// Something visible changed since the last frame.
    dirty: bool,
    /// What the next frame is expected to cost: what the last one cost.
    cost: f64,
}

impl Frames {
    /// A schedule that owes the first frame, due at once.
    pub fn new(now: Instant) -> Frames {
        Frames {
            pacer: Pacer::new(now),
            dirty: true,
            cost: pacer::FULL,
        }
    }

    /// Something visible changed: a frame is owed.
    pub fn mark(&mut self) {
        self.dirty = true;
    }

    /// When the owed frame may be drawn (`now` or later); `None` when no frame is owed.
    pub fn due(&mut self, now: Instant) -> Option<Instant> {
        self.dirty.then(|| self.pacer.ready_at(now, self.cost))
    }

    /// Records a frame drawn at `now` that changed `cells` cells of the pane.
    pub fn drawn(&mut self, now: Instant, cells: usize) {
        self.cost = if cells <= SMALL_CELLS {
            pacer::SMALL
        } else {
            pacer::FULL
        };
        self.pacer.take(now, self.cost);
        self.dirty = false;
    }
}

/// Cells that differ between two drawings of the pane; all of them when the size changed.
pub fn changed_cells(old: &Buffer, new: &Buffer) -> usize {
    if old.area != new.area {
        return new.content.len().max(old.content.len());
    }
    old.content
        .iter()
        .zip(&new.content)
        .filter(|(a, b)| a != b)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use std::time::Duration;

    const PANE: Rect = Rect {
        x: 0,
        y: 0,
        width: 80,
        height: 24,
    };

    /// Frames drawn during one second when something changes every millisecond, each frame
    /// changing `cells` cells.
    fn frames_in_a_second(f: &mut Frames, start: Instant, cells: usize) -> usize {
        let mut drawn = 0;
        let mut now = start;
        while now < start + Duration::from_secs(1) {
            f.mark();
            if f.due(now).is_some_and(|at| at <= now) {
                f.drawn(now, cells);
                drawn += 1;
            }
            now += Duration::from_millis(1);
        }
        drawn
    }

    #[test]
    fn nothing_changed_means_no_frame() {
        let t0 = Instant::now();
        let mut f = Frames::new(t0);
        assert_eq!(f.due(t0), Some(t0), "the first frame is owed at once");
        f.drawn(t0, 1920);
        assert_eq!(f.due(t0 + Duration::from_secs(1)), None);
        f.mark();
        assert!(f.due(t0 + Duration::from_secs(1)).is_some());
    }

    #[test]
    fn an_echo_goes_out_at_once_even_right_after_another_frame() {
        let t0 = Instant::now();
        let mut f = Frames::new(t0);
        f.drawn(t0, 1920);
        // 250 keys a second, each echo one cell, each drawn the moment it comes.
        let mut t = t0;
        for i in 0..1000 {
            t += Duration::from_millis(4);
            f.mark();
            assert_eq!(f.due(t), Some(t), "echo {i} held back");
            f.drawn(t, 1);
        }
    }

    #[test]
    fn bulk_output_is_held_to_about_60_frames_a_second() {
        let t0 = Instant::now();
        let mut f = Frames::new(t0);
        let bulk = frames_in_a_second(&mut f, t0, PANE.area() as usize);
        // Four frames back to back, then one per 16 ms.
        assert!((60..=70).contains(&bulk), "{bulk} frames in a busy second");
        // A flood of small changes is capped too, at about 300 a second.
        let small = frames_in_a_second(&mut f, t0 + Duration::from_secs(1), 2);
        assert!((290..=340).contains(&small), "{small} small frames");
    }

    #[test]
    fn changed_cells_counts_cells_and_a_new_size_changes_all() {
        let old = Buffer::empty(PANE);
        let mut new = old.clone();
        assert_eq!(changed_cells(&old, &new), 0);
        new.set_string(2, 0, "ab", ratatui::style::Style::default());
        assert_eq!(changed_cells(&old, &new), 2);
        let bigger = Buffer::empty(Rect::new(0, 0, 100, 30));
        assert_eq!(changed_cells(&old, &bigger), 3000);
    }
}
