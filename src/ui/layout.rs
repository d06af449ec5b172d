//! Where the header, tabs, panel body and footer go, degrading gracefully on tiny
//! terminals: the panel body is the last thing to give up space.

use ratatui::layout::{Constraint, Layout, Rect};

/// The screen's regions; any of them may be empty on a small terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Cluster identity, verdict and watch state.
    pub header: Rect,
    /// The panel tabs.
    pub tabs: Rect,
    /// The current panel.
    pub body: Rect,
    /// Key hints, filter and prompts.
    pub footer: Rect,
}

/// Lines of the header when there is room for it.
pub const HEADER_HEIGHT: u16 = 3;

/// Splits the screen. Below 12 lines the header goes; below 4 the tabs and footer go.
pub fn split(area: Rect) -> Areas {
    let header = if area.height >= 12 { HEADER_HEIGHT } else { 0 };
    let chrome = if area.height >= 4 { 1 } else { 0 };
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(header),
        Constraint::Length(chrome),
        Constraint::Fill(1),
        Constraint::Length(chrome),
    ])
    .areas(area);
    Areas { header, tabs, body, footer }
}

/// A centred rectangle of at most `width`×`height`, keeping a margin of 2 columns and
/// 1 line around it when the screen allows.
pub fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let margin_x = if area.width > 20 { 2 } else { 0 };
    let margin_y = if area.height > 8 { 1 } else { 0 };
    let w = width.min(area.width.saturating_sub(2 * margin_x));
    let h = height.min(area.height.saturating_sub(2 * margin_y));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popup_stays_inside() {
        for (w, h) in [(0, 0), (1, 1), (20, 5), (80, 24), (300, 100)] {
            let area = Rect::new(3, 2, w, h);
            let p = popup(area, 100, 30);
            assert_eq!(area.intersection(p), p, "{w}x{h}");
        }
    }
}
