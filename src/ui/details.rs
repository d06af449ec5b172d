//! The overlay `Enter` opens: everything known about the selected row, untruncated
//! (long messages wrap instead of ending in "…").

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::layout::popup;
use super::text::fit;
use super::theme::{Theme, Tone};

/// What the details overlay shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Details {
    /// Title: what the row is (`Kustomization/flux-system/apps`).
    pub title: String,
    /// The content, wrapped to the overlay's width.
    pub lines: Vec<Line<'static>>,
}

impl Details {
    /// Empty details with this title.
    pub fn new(title: impl Into<String>) -> Details {
        Details { title: title.into(), lines: Vec::new() }
    }

    /// Adds `label: value`, the label dimmed so values stand out.
    pub fn field(&mut self, theme: Theme, label: &str, value: impl Into<String>, style: Style) -> &mut Self {
        self.lines.push(Line::from(vec![
            Span::styled(format!("{label}: "), theme.dim()),
            Span::styled(value.into(), style),
        ]));
        self
    }

    /// Adds a section heading, after a blank line.
    pub fn heading(&mut self, theme: Theme, text: impl Into<String>) -> &mut Self {
        self.lines.push(Line::default());
        self.lines.push(Line::styled(text.into(), theme.heading()));
        self
    }

    /// Adds a line.
    pub fn line(&mut self, line: impl Into<Line<'static>>) -> &mut Self {
        self.lines.push(line.into());
        self
    }
}

/// Draws the details of the selected row under a short list, below a titled rule.
pub fn render_preview(buf: &mut Buffer, area: Rect, details: &Details, theme: Theme) {
    if area.height < 2 {
        return;
    }
    let title = format!("─ {} ", details.title);
    let rule = Line::styled(format!("{title}{}", "─".repeat(area.width as usize)), theme.dim());
    fit(rule, area.width as usize).render(Rect { height: 1, ..area }, buf);
    // Headings start with a blank line; at the top it would only waste a row.
    let skip = details.lines.iter().take_while(|l| l.width() == 0).count();
    let body = Rect { y: area.y + 1, height: area.height - 1, ..area };
    Paragraph::new(details.lines[skip..].to_vec()).wrap(Wrap { trim: false }).render(body, buf);
}

/// Draws the overlay over `area`, scrolled down by `scroll` lines.
pub fn render(buf: &mut Buffer, area: Rect, details: &Details, scroll: u16, theme: Theme) {
    let rect = popup(area, 100, 30);
    if rect.is_empty() {
        return;
    }
    Clear.render(rect, buf);
    let inner_width = rect.width.saturating_sub(4) as usize;
    let title = fit(Line::styled(format!(" {} ", details.title), theme.heading()), inner_width);
    Paragraph::new(details.lines.clone())
        .block(overlay_block(title, theme))
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .render(rect, buf);
}

/// The frame of a scrolling overlay: `title` on top, the keys that close and scroll it below.
pub fn overlay_block(title: Line<'static>, theme: Theme) -> Block<'static> {
    let hint = Line::from(vec![
        Span::styled(" Esc", theme.key()),
        // Styled, or the words would take the border's colour.
        Span::styled(" close  ", theme.tone(Tone::Plain).fg(ratatui::style::Color::Reset)),
        Span::styled("j/k", theme.key()),
        Span::styled(" scroll ", theme.tone(Tone::Plain).fg(ratatui::style::Color::Reset)),
    ])
    .right_aligned();
    Block::bordered().border_style(theme.border()).title(title).title_bottom(hint)
}
