//! Pane geometry and the window size policy (`smallest` or `host`, as tmux and tmate have).

use crate::core::types::Size;

/// How the shared window size is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizePolicy {
    /// The smallest of the host's terminal and every read-write guest's terminal.
    #[default]
    Smallest,
    /// The host's terminal alone; guests with smaller terminals see a cropped view.
    Host,
    /// A size fixed on the command line (`--size COLSxROWS`).
    Fixed(Size),
}

impl SizePolicy {
    /// Computes the shared size.
    ///
    /// `host` is the host's own terminal size (none for the headless host) and `guests` the
    /// areas of the read-write guests. With nobody to measure, the size is 80x24.
    pub fn compute(self, host: Option<Size>, guests: impl IntoIterator<Item = Size>) -> Size {
        match self {
            SizePolicy::Fixed(size) => size.at_least_one(),
            SizePolicy::Host => host.unwrap_or(Size::DEFAULT).at_least_one(),
            SizePolicy::Smallest => {
                let mut out: Option<Size> = host;
                for g in guests {
                    out = Some(match out {
                        None => g,
                        Some(o) => Size::new(o.cols.min(g.cols), o.rows.min(g.rows)),
                    });
                }
                out.unwrap_or(Size::DEFAULT).at_least_one()
            }
        }
    }
}

/// The part of a larger screen that a smaller view shows, chosen so the cursor stays visible.
///
/// `screen` is the pane's size, `view` the space the viewer has, and `cursor` the cursor's
/// (row, col). Returns the (row, col) offset of the view's top-left corner into the pane.
pub fn follow_cursor(screen: Size, view: Size, cursor: (u16, u16)) -> (u16, u16) {
    fn axis(len: u16, room: u16, pos: u16) -> u16 {
        if len <= room || room == 0 {
            return 0;
        }
        let max_off = len - room;
        // Keep the cursor on the last visible line/column when it is past the view.
        pos.saturating_sub(room - 1).min(max_off)
    }
    (
        axis(screen.rows, view.rows, cursor.0),
        axis(screen.cols, view.cols, cursor.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_takes_the_minimum_of_each_axis() {
        let p = SizePolicy::Smallest;
        assert_eq!(p.compute(None, []), Size::DEFAULT);
        assert_eq!(
            p.compute(None, [Size::new(100, 30), Size::new(120, 20)]),
            Size::new(100, 20)
        );
        assert_eq!(
            p.compute(Some(Size::new(90, 50)), [Size::new(120, 40)]),
            Size::new(90, 40)
        );
    }

    #[test]
    fn host_and_fixed_ignore_guests() {
        assert_eq!(
            SizePolicy::Host.compute(Some(Size::new(70, 20)), [Size::new(10, 5)]),
            Size::new(70, 20)
        );
        let fixed = SizePolicy::Fixed(Size::new(132, 43));
        assert_eq!(fixed.compute(None, [Size::new(10, 5)]), Size::new(132, 43));
    }

    #[test]
    fn view_follows_the_cursor() {
        let screen = Size::new(100, 40);
        // A view as large as the screen never scrolls.
        assert_eq!(follow_cursor(screen, Size::new(100, 40), (39, 99)), (0, 0));
        // Cursor at the top-left of a small view: no offset.
        assert_eq!(follow_cursor(screen, Size::new(50, 20), (0, 0)), (0, 0));
        // Cursor at the bottom-right: it sits on the view's last row and column.
        assert_eq!(follow_cursor(screen, Size::new(50, 20), (39, 99)), (20, 50));
        assert_eq!(follow_cursor(screen, Size::new(50, 20), (25, 60)), (6, 11));
    }
}
