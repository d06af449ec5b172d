//! The one scrollable, filterable list every panel is drawn with.
//!
//! A panel only says how many rows it has and how to format row `i`; the table asks
//! for the rows on screen and nothing else, so a panel of 20,000 objects costs what
//! a screenful costs. Only an active filter reads every row, since it must.

use std::cell::Cell;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Widget;

use super::text::{fit, plain};
use super::theme::Theme;

/// One column: its title and how wide it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Title shown above the rows.
    pub title: String,
    /// Width constraint, laid out with one space between columns.
    pub width: Constraint,
}

impl Column {
    /// A column with this title and width.
    pub fn new(title: impl Into<String>, width: Constraint) -> Column {
        Column { title: title.into(), width }
    }
}

/// What one row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum RowCells {
    /// One line per column.
    Cols(Vec<Line<'static>>),
    /// One line across every column (section headings, violations, root causes).
    Wide(Line<'static>),
}

/// A panel's rows, formatted on demand.
pub trait Rows {
    /// The columns, in order, for a table `width` columns wide.
    fn columns(&self, width: u16) -> Vec<Column>;
    /// How many rows there are before filtering.
    fn len(&self) -> usize;
    /// The cells of row `i` (`i < len()`).
    fn cells(&self, i: usize, theme: Theme) -> RowCells;
    /// What to say when there is no row at all.
    fn empty(&self) -> String {
        "nothing to show".into()
    }
    /// The text a filter matches against: the row as shown, cells joined by spaces.
    fn text(&self, i: usize) -> String {
        self.cells(i, Theme::new(true)).plain()
    }
    /// The heading row of the section row `i` is in, when the panel has sections: a
    /// filter keeps it above the matching rows, so a match says which section it is from.
    fn heading_of(&self, _i: usize) -> Option<usize> {
        None
    }
    /// What row `i` stands for, stable while its state and age change (the selection
    /// follows it when rows appear or move): the first column without the tree's
    /// indent, or a wide row's text.
    fn id(&self, i: usize) -> String {
        let text = match self.cells(i, Theme::new(true)) {
            RowCells::Cols(cells) => cells.first().map(plain).unwrap_or_default(),
            RowCells::Wide(line) => plain(&line),
        };
        text.trim_start_matches([' ', '└', '├', '│', '─']).to_string()
    }
}

impl RowCells {
    /// The row's text without styles, cells joined by spaces.
    pub fn plain(&self) -> String {
        match self {
            RowCells::Cols(cells) => cells.iter().map(plain).collect::<Vec<_>>().join(" "),
            RowCells::Wide(line) => plain(line),
        }
    }
}

/// The rows a filter lets through, as indices into the panel's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// No filter: rows `0..n`, without building a list.
    All(usize),
    /// The matching rows, in order.
    Only(Vec<usize>),
}

impl Visible {
    /// Applies a case-insensitive substring filter (empty: everything).
    pub fn of(rows: &dyn Rows, filter: &str) -> Visible {
        let needle = filter.trim().to_lowercase();
        if needle.is_empty() {
            return Visible::All(rows.len());
        }
        let mut shown = Vec::new();
        for i in (0..rows.len()).filter(|&i| rows.text(i).to_lowercase().contains(&needle)) {
            // Rows come in order, so a section's heading is either the last one pushed
            // or not pushed yet.
            if let Some(h) = rows.heading_of(i).filter(|h| *h < i && shown.last() < Some(h)) {
                shown.push(h);
            }
            shown.push(i);
        }
        Visible::Only(shown)
    }

    /// Number of rows shown.
    pub fn len(&self) -> usize {
        match self {
            Visible::All(n) => *n,
            Visible::Only(v) => v.len(),
        }
    }

    /// Whether nothing is shown.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The panel row at visible position `pos`.
    pub fn get(&self, pos: usize) -> Option<usize> {
        match self {
            Visible::All(n) => (pos < *n).then_some(pos),
            Visible::Only(v) => v.get(pos).copied(),
        }
    }
}

/// Selection and scroll of one panel's list.
///
/// `offset` and `page` are cells because only drawing knows how tall the list is:
/// `draw` takes the state by shared reference and records what it laid out, so the next
/// PgDn moves by a real page and the selection never scrolls out of view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListState {
    /// Selected position among the visible rows.
    pub selected: usize,
    /// First visible position drawn last time.
    pub offset: Cell<usize>,
    /// Rows that fitted last time (0 before the first draw).
    pub page: Cell<usize>,
    /// What the selected row stands for ([`Rows::id`]), so the selection follows it.
    pub anchor: Option<String>,
    /// The screen line of the first row drawn last time (where a click lands).
    pub top: Cell<u16>,
}

impl ListState {
    /// Moves the selection by `delta`, clamped to `len` rows.
    pub fn move_by(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1);
        self.selected = self.selected.min(last).saturating_add_signed(delta).min(last);
    }

    /// Rows a PgUp/PgDn moves by (a guess of 10 before the first draw).
    pub fn page_size(&self) -> usize {
        match self.page.get() {
            0 => 10,
            n => n,
        }
    }
}

/// Keeps `selected` on screen, moving the window as little as possible.
fn scroll(selected: usize, offset: usize, height: usize, len: usize) -> usize {
    let max_offset = len.saturating_sub(height);
    let offset = offset.min(max_offset);
    if selected < offset {
        selected
    } else if height > 0 && selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    }
}

/// Draws a column header and the visible rows of `rows` into `area`; `empty` is said
/// when no row is visible.
pub fn render(
    buf: &mut Buffer,
    area: Rect,
    rows: &dyn Rows,
    visible: &Visible,
    list: &ListState,
    empty: &str,
    theme: Theme,
) {
    if area.is_empty() {
        return;
    }
    let columns = rows.columns(area.width);
    let strip = Rect { height: 1, ..area };
    let spans = Layout::horizontal(columns.iter().map(|c| c.width)).spacing(1).split(strip);
    for (col, rect) in columns.iter().zip(spans.iter()) {
        let title = Line::styled(col.title.clone(), theme.heading());
        fit(title, rect.width as usize).render(*rect, buf);
    }
    let body = Rect { y: area.y + 1, height: area.height - 1, ..area };
    let height = body.height as usize;
    list.page.set(height);
    list.top.set(body.y);
    if visible.is_empty() || height == 0 {
        let line = Line::styled(empty.to_string(), theme.dim());
        if !body.is_empty() && visible.is_empty() {
            fit(line, body.width as usize).render(body, buf);
        }
        return;
    }
    let selected = list.selected.min(visible.len() - 1);
    let offset = scroll(selected, list.offset.get(), height, visible.len());
    list.offset.set(offset);
    for (line_no, pos) in (offset..visible.len()).take(height).enumerate() {
        let Some(i) = visible.get(pos) else { break };
        let y = body.y + line_no as u16;
        match rows.cells(i, theme) {
            RowCells::Cols(cells) => {
                for (cell, rect) in cells.into_iter().zip(spans.iter()) {
                    let r = Rect { y, height: 1, ..*rect };
                    fit(cell, r.width as usize).render(r, buf);
                }
            }
            RowCells::Wide(line) => {
                let r = Rect { y, height: 1, ..body };
                fit(line, r.width as usize).render(r, buf);
            }
        }
        if pos == selected {
            buf.set_style(Rect { y, height: 1, ..body }, theme.selected());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Numbers(usize);

    impl Rows for Numbers {
        fn columns(&self, _: u16) -> Vec<Column> {
            vec![Column::new("N", Constraint::Length(6)), Column::new("WORD", Constraint::Fill(1))]
        }
        fn len(&self) -> usize {
            self.0
        }
        fn cells(&self, i: usize, _: Theme) -> RowCells {
            let word = if i % 2 == 0 { "even" } else { "odd" };
            RowCells::Cols(vec![Line::raw(i.to_string()), Line::raw(word)])
        }
    }

    #[test]
    fn filter_is_case_insensitive_substring() {
        let rows = Numbers(6);
        assert_eq!(Visible::of(&rows, ""), Visible::All(6));
        assert_eq!(Visible::of(&rows, "ODD"), Visible::Only(vec![1, 3, 5]));
        assert_eq!(Visible::of(&rows, "nothing"), Visible::Only(vec![]));
    }

    /// Tens as headings: row 20 heads 21..=29.
    struct Sections;

    impl Rows for Sections {
        fn columns(&self, _: u16) -> Vec<Column> {
            vec![Column::new("N", Constraint::Fill(1))]
        }
        fn len(&self) -> usize {
            40
        }
        fn cells(&self, i: usize, _: Theme) -> RowCells {
            let text = if i % 10 == 0 { format!("section {}", i / 10) } else { format!("row {i}") };
            RowCells::Cols(vec![Line::raw(text)])
        }
        fn heading_of(&self, i: usize) -> Option<usize> {
            Some(i / 10 * 10)
        }
    }

    #[test]
    fn a_filter_keeps_the_heading_of_each_matching_section_once() {
        // "row 1" matches 1 and 11..=19; "section 3" only its heading.
        assert_eq!(
            Visible::of(&Sections, "row 1"),
            Visible::Only([0, 1, 10].into_iter().chain(11..20).collect())
        );
        assert_eq!(Visible::of(&Sections, "section 3"), Visible::Only(vec![30]));
        assert_eq!(Visible::of(&Sections, "row 35"), Visible::Only(vec![30, 35]));
        assert_eq!(Visible::of(&Sections, "nothing"), Visible::Only(vec![]));
    }

    #[test]
    fn selection_stays_on_screen() {
        assert_eq!(scroll(0, 0, 5, 100), 0);
        assert_eq!(scroll(7, 0, 5, 100), 3);
        assert_eq!(scroll(2, 3, 5, 100), 2);
        assert_eq!(scroll(99, 0, 5, 100), 95);
        // A shrunken list pulls the window back.
        assert_eq!(scroll(1, 50, 5, 3), 0);
    }

    /// Rows that fail the test if anything off screen is formatted.
    struct Huge;

    impl Rows for Huge {
        fn columns(&self, _: u16) -> Vec<Column> {
            vec![Column::new("N", Constraint::Fill(1))]
        }
        fn len(&self) -> usize {
            1_000_000
        }
        fn cells(&self, i: usize, _: Theme) -> RowCells {
            assert!((500..520).contains(&i), "formatted off-screen row {i}");
            RowCells::Cols(vec![Line::raw(i.to_string())])
        }
    }

    #[test]
    fn only_visible_rows_are_formatted() {
        let area = Rect::new(0, 0, 20, 11);
        let mut buf = Buffer::empty(area);
        let list = ListState {
            selected: 509,
            offset: Cell::new(500),
            page: Cell::new(0),
            anchor: None,
            top: Cell::new(0),
        };
        render(&mut buf, area, &Huge, &Visible::of(&Huge, ""), &list, "", Theme::new(false));
        assert_eq!(list.offset.get(), 500);
        assert_eq!(list.page.get(), 10);
    }
}
