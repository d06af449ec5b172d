//! The mouse: the wheel scrolls (like `j`/`k`), a click on a tab switches to it, a click
//! on a row selects it. Clicks are ignored while an overlay or a prompt is open.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::header::problems;
use super::table::Visible;
use super::{Input, KeyOutcome, Panel, UiState, handle_key, layout, view};
use crate::model::Snapshot;

/// Applies one mouse event to the state; `area` is where the dashboard is drawn.
pub fn handle_mouse(state: &mut UiState, mouse: MouseEvent, snap: &Snapshot, area: Rect) -> KeyOutcome {
    let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
    match mouse.kind {
        MouseEventKind::ScrollDown => handle_key(state, key(KeyCode::Down), snap),
        MouseEventKind::ScrollUp => handle_key(state, key(KeyCode::Up), snap),
        MouseEventKind::Down(MouseButton::Left) => {
            click(state, Position::new(mouse.column, mouse.row), snap, area)
        }
        _ => KeyOutcome::Ignored,
    }
}

fn click(state: &mut UiState, at: Position, snap: &Snapshot, area: Rect) -> KeyOutcome {
    let busy = state.input != Input::Normal
        || state.help
        || state.details
        || state.explain.is_some()
        || state.confirm.is_some();
    if busy {
        return KeyOutcome::Ignored;
    }
    let areas = layout::split(area);
    if areas.tabs.contains(at) {
        return match tab_at(snap, at.x - areas.tabs.x) {
            Some(panel) if panel != state.panel => {
                let digit = char::from(b'1' + panel.index() as u8);
                handle_key(state, KeyEvent::new(KeyCode::Char(digit), KeyModifiers::NONE), snap)
            }
            _ => KeyOutcome::Ignored,
        };
    }
    if !areas.body.contains(at) {
        return KeyOutcome::Ignored;
    }
    // Where the table drew its rows last time (the first row's line, the window's offset).
    let list = state.list();
    let (top, page, offset) = (list.top.get(), list.page.get(), list.offset.get());
    if at.y < top || usize::from(at.y - top) >= page {
        return KeyOutcome::Ignored;
    }
    let pos = offset + usize::from(at.y - top);
    let rows = Visible::of(view(snap, state.panel).rows(), &state.filter).len();
    if pos >= rows || pos == state.list().selected {
        return KeyOutcome::Ignored;
    }
    state.message = None;
    state.list_mut().selected = pos;
    KeyOutcome::Changed
}

/// The panel whose tab covers column `x` of the tab line (as `header::render_tabs` lays
/// them out: ` N Title ` then a space or a `!n ` problem count).
fn tab_at(snap: &Snapshot, x: u16) -> Option<Panel> {
    let mut start = 0usize;
    for panel in Panel::ALL {
        let title = format!(" {} {} ", panel.index() + 1, panel.title()).chars().count();
        let mark = match problems(snap, panel) {
            0 => 1,
            n => format!("!{n} ").chars().count(),
        };
        let end = start + title + mark;
        if (start..end).contains(&usize::from(x)) {
            return Some(panel);
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::render;
    use crate::ui::sample::snapshot;
    use ratatui::buffer::Buffer;

    fn left_click(column: u16, row: u16) -> MouseEvent {
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn drawn(state: &UiState, area: Rect) -> String {
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &snapshot(), state);
        (0..area.height)
            .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn clicks_switch_panels_and_select_rows_and_the_wheel_scrolls() {
        let snap = snapshot();
        let area = Rect::new(0, 0, 120, 34);
        let mut state = UiState::new(true);
        let screen = drawn(&state, area);
        // The Placement tab, found where it is drawn.
        let tabs_line = screen.lines().nth(layout::split(area).tabs.y as usize).unwrap().to_string();
        let x = tabs_line.find("2 Placement").map(|b| tabs_line[..b].chars().count()).unwrap() as u16;
        let tabs_y = layout::split(area).tabs.y;
        assert_eq!(handle_mouse(&mut state, left_click(x + 3, tabs_y), &snap, area), KeyOutcome::Changed);
        assert_eq!(state.panel, Panel::Placement);
        // Draw it (the table records where its rows are), then click the fourth row.
        drawn(&state, area);
        let top = state.list().top.get();
        assert_eq!(handle_mouse(&mut state, left_click(10, top + 3), &snap, area), KeyOutcome::Changed);
        assert_eq!(state.list().selected, 3);
        // Below the last row, or on the border: nothing.
        assert_eq!(
            handle_mouse(&mut state, left_click(0, area.height - 1), &snap, area),
            KeyOutcome::Ignored
        );
        let wheel = |kind| MouseEvent { kind, column: 5, row: top, modifiers: KeyModifiers::NONE };
        handle_mouse(&mut state, wheel(MouseEventKind::ScrollDown), &snap, area);
        assert_eq!(state.list().selected, 4);
        handle_mouse(&mut state, wheel(MouseEventKind::ScrollUp), &snap, area);
        assert_eq!(state.list().selected, 3);
        // With help open, a click changes nothing underneath.
        state.help = true;
        assert_eq!(handle_mouse(&mut state, left_click(10, top), &snap, area), KeyOutcome::Ignored);
        assert_eq!(state.list().selected, 3);
    }
}
