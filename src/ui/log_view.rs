//! The log view `l` opens: a controller's, a pod's, or the lines of a Flux object's owning
//! controller that name it, as they arrive, with a filter, pause and wrap. The lines come
//! from `app.rs` (which reads them through `cluster/`); this only keeps and draws them.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::theme::{Theme, Tone};
use crate::model::controller_log::{
    LOG_CAPACITY, LogBuffer, LogLine, LogMessage, LogSource, LogWindow, readable,
};

/// An open log view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    /// Whose log.
    pub source: LogSource,
    /// How much of it (`t` changes the time window, `P` reads the previous container).
    pub window: LogWindow,
    /// The lines read so far, newest last, bounded (shared: a key press clones the state).
    pub lines: Arc<LogBuffer>,
    /// What the reader said: which pods it reads, why a pod's log cannot be read.
    pub notes: Vec<String>,
    /// Case-insensitive substring the shown lines must contain.
    pub filter: String,
    /// The filter is being typed.
    pub typing: bool,
    /// Stopped at a position instead of following the newest line.
    pub paused: bool,
    /// Long lines wrap instead of being cut.
    pub wrap: bool,
    /// While paused: lines between the bottom of the view and the newest line.
    pub from_bottom: usize,
}

impl LogView {
    /// A view of `source` with no line yet.
    pub fn new(source: LogSource) -> LogView {
        LogView {
            source,
            window: LogWindow::VIEW,
            lines: Arc::new(LogBuffer::new(LOG_CAPACITY)),
            notes: Vec::new(),
            filter: String::new(),
            typing: false,
            paused: false,
            wrap: false,
            from_bottom: 0,
        }
    }

    /// Adds a line read.
    pub fn push(&mut self, line: LogLine) {
        Arc::make_mut(&mut self.lines).push(line);
    }

    /// Takes in what the reader reports.
    pub fn apply(&mut self, message: LogMessage) {
        match message {
            LogMessage::Line(l) => self.push(l),
            LogMessage::Note(n) => self.note(n),
            LogMessage::Error { pod, message } if pod.is_empty() => self.note(message),
            LogMessage::Error { pod, message } => self.note(format!("{pod}: {message}")),
            LogMessage::Ended { pod } => self.note(format!("{pod}: the log ended")),
        }
    }

    /// Reads `window` instead: the lines and notes so far are dropped.
    fn reread(&mut self, window: LogWindow) {
        self.window = window;
        self.lines = Arc::new(LogBuffer::new(LOG_CAPACITY));
        self.notes.clear();
        self.from_bottom = 0;
    }

    /// Adds a note from the reader (shown above the lines).
    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// The lines shown under the filter, as text (`pod  time level message`).
    pub fn shown(&self) -> Vec<String> {
        let several = {
            let mut pods = self.lines.lines().map(|l| &l.pod);
            let first = pods.next();
            pods.any(|p| Some(p) != first)
        };
        let needle = self.filter.to_lowercase();
        self.lines
            .lines()
            .map(|l| if several { format!("{}  {}", l.pod, readable(&l.text)) } else { readable(&l.text) })
            .filter(|t| needle.is_empty() || t.to_lowercase().contains(&needle))
            .collect()
    }
}

/// A key in the log view; `false` when the view is to close.
pub fn key(view: &mut LogView, key: KeyEvent) -> bool {
    if view.typing {
        match key.code {
            KeyCode::Enter => view.typing = false,
            KeyCode::Esc => {
                view.filter.clear();
                view.typing = false;
            }
            KeyCode::Backspace => {
                view.filter.pop();
            }
            KeyCode::Char(c) => view.filter.push(c),
            _ => {}
        }
        return true;
    }
    let pause_at = |view: &mut LogView, by: isize| {
        view.paused = true;
        view.from_bottom = view.from_bottom.saturating_add_signed(by).min(view.lines.len().saturating_sub(1));
    };
    match key.code {
        KeyCode::Esc if !view.filter.is_empty() => view.filter.clear(),
        KeyCode::Esc | KeyCode::Char('l') | KeyCode::Backspace => return false,
        KeyCode::Char('/') => {
            view.filter.clear();
            view.typing = true;
        }
        KeyCode::Char('p') | KeyCode::Char(' ') => {
            view.paused = !view.paused;
            view.from_bottom = 0;
        }
        KeyCode::Char('w') => view.wrap = !view.wrap,
        // A new window is read from scratch: the reader starts again (app.rs sees the change).
        KeyCode::Char('t') => {
            view.reread(LogWindow { since_seconds: view.window.next_since(), ..view.window })
        }
        KeyCode::Char('P') => view.reread(LogWindow { previous: !view.window.previous, ..view.window }),
        KeyCode::Char('k') | KeyCode::Up => pause_at(view, 1),
        KeyCode::Char('j') | KeyCode::Down => pause_at(view, -1),
        KeyCode::PageUp => pause_at(view, 20),
        KeyCode::PageDown => pause_at(view, -20),
        KeyCode::Char('g') | KeyCode::Home => pause_at(view, isize::MAX),
        KeyCode::Char('G') | KeyCode::End => {
            view.paused = false;
            view.from_bottom = 0;
        }
        _ => {}
    }
    true
}

/// Draws the view over the whole of `area`.
pub fn render(buf: &mut Buffer, area: Rect, view: &LogView, theme: Theme) {
    if area.height < 4 || area.width < 20 {
        return;
    }
    Clear.render(area, buf);
    let shown = view.shown();
    let window = view.window.describe();
    let mut state = vec![window.as_str(), if view.paused { "paused" } else { "following" }];
    if view.wrap {
        state.push("wrap");
    }
    let count = if view.lines.dropped > 0 {
        format!("{} lines (oldest {} dropped)", view.lines.len(), view.lines.dropped)
    } else {
        format!("{} lines", view.lines.len())
    };
    let title = Line::from(vec![
        Span::styled(format!(" log · {} ", view.source), theme.heading()),
        Span::styled(format!("{count} · {} ", state.join(" · ")), theme.dim()),
    ]);
    let hint = Line::styled(
        " / filter  p pause  w wrap  t time  P previous  j/k scroll  G follow  Esc close ",
        theme.dim(),
    )
    .right_aligned();
    let block = Block::bordered().border_style(theme.border()).title(title).title_bottom(hint);
    let inner = block.inner(area);
    block.render(area, buf);
    let mut top: Vec<Line> =
        view.notes.iter().map(|n| Line::styled(n.clone(), theme.tone(Tone::Warn))).collect();
    if view.typing || !view.filter.is_empty() {
        let cursor = if view.typing { "▏" } else { "" };
        top.push(Line::styled(format!("/{}{cursor}  ({} match)", view.filter, shown.len()), theme.key()));
    }
    let top_rows = (top.len() as u16).min(inner.height.saturating_sub(1));
    Paragraph::new(top).wrap(Wrap { trim: false }).render(Rect { height: top_rows, ..inner }, buf);
    let body = Rect { y: inner.y + top_rows, height: inner.height - top_rows, ..inner };
    if shown.is_empty() {
        let empty = if view.lines.is_empty() { "no line yet" } else { "no line matches the filter" };
        Line::styled(empty, theme.dim()).render(body, buf);
        return;
    }
    // The bottom of the view is the newest line, or `from_bottom` above it when paused.
    let end = shown.len() - view.from_bottom.min(shown.len() - 1);
    let width = usize::from(body.width.max(1));
    let rows_of = |t: &String| if view.wrap { t.chars().count().div_ceil(width).max(1) } else { 1 };
    let (mut start, mut used) = (end, 0usize);
    while start > 0 && used + rows_of(&shown[start - 1]) <= usize::from(body.height) {
        used += rows_of(&shown[start - 1]);
        start -= 1;
    }
    let lines: Vec<Line> = shown[start..end].iter().map(|t| Line::raw(t.clone())).collect();
    let para = Paragraph::new(lines);
    let para = if view.wrap { para.wrap(Wrap { trim: false }) } else { para };
    para.render(body, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn press(view: &mut LogView, code: KeyCode) -> bool {
        key(view, KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn view_with(lines: &[(&str, &str)]) -> LogView {
        let mut v = LogView::new(LogSource::Pod("p".into()));
        for (pod, text) in lines {
            v.push(LogLine { pod: (*pod).into(), text: (*text).into() });
        }
        v
    }

    #[test]
    fn the_filter_keeps_matching_lines_and_pods_are_named_when_several() {
        let mut v = view_with(&[("a", "alpha one"), ("b", "beta two"), ("a", "alpha three")]);
        assert_eq!(v.shown().len(), 3);
        assert_eq!(v.shown()[1], "b  beta two");
        for c in "/ALPHA".chars() {
            press(&mut v, KeyCode::Char(c));
        }
        press(&mut v, KeyCode::Enter);
        assert_eq!(v.shown(), ["a  alpha one", "a  alpha three"]);
        assert!(press(&mut v, KeyCode::Esc), "the first Esc clears the filter");
        assert_eq!(v.shown().len(), 3);
        assert!(!press(&mut v, KeyCode::Esc), "the second closes");
    }

    #[test]
    fn scrolling_pauses_and_g_follows_again() {
        let mut v = view_with(&[("p", "1"), ("p", "2"), ("p", "3")]);
        press(&mut v, KeyCode::Char('k'));
        assert!(v.paused);
        assert_eq!(v.from_bottom, 1);
        press(&mut v, KeyCode::Char('G'));
        assert!(!v.paused);
        press(&mut v, KeyCode::Char('w'));
        assert!(v.wrap);
    }

    #[test]
    fn t_and_shift_p_read_another_window_from_scratch() {
        let mut v = view_with(&[("p", "1")]);
        assert_eq!(v.window.describe(), "last 10m");
        press(&mut v, KeyCode::Char('t'));
        assert_eq!((v.window.since_seconds, v.lines.len()), (Some(3600), 0), "read again");
        press(&mut v, KeyCode::Char('t'));
        assert_eq!(v.window.describe(), "all");
        press(&mut v, KeyCode::Char('P'));
        assert_eq!(v.window.describe(), "all · previous container");
        assert!(v.window.follow);
    }

    #[test]
    fn the_newest_lines_fill_the_view_and_notes_come_first() {
        let mut v = view_with(&[("p", "one"), ("p", "two"), ("p", "three"), ("p", "four")]);
        v.note("pod q: forbidden: this user may not read pods/log".into());
        let area = Rect::new(0, 0, 60, 5);
        let mut buf = Buffer::empty(area);
        render(&mut buf, area, &v, Theme::new(true));
        let row = |y: u16| (0..60).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>();
        assert!(row(0).contains("log · pod p"), "{}", row(0));
        assert!(row(1).contains("forbidden"), "{}", row(1));
        assert!(row(2).contains("three") && row(3).contains("four"), "{}\n{}", row(2), row(3));
    }
}
