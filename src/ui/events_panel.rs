//! What changed, newest first, as the model logged it.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::timeline::Severity;

use super::PanelView;
use super::details::Details;
use super::table::{Column, RowCells, Rows};
use super::text::age;
use super::theme::{Theme, Tone, severity_tone};

/// The events panel's rows: the log itself, no index needed.
pub struct EventRows<'a> {
    snap: &'a Snapshot,
}

impl<'a> EventRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> EventRows<'a> {
        EventRows { snap }
    }
}

impl Rows for EventRows<'_> {
    fn columns(&self, width: u16) -> Vec<Column> {
        let subject = (width as usize * 2 / 5).clamp(24, 52) as u16;
        vec![
            // Times are UTC: the UI reads no clock or time zone of its own.
            Column::new("TIME", Constraint::Length(8)),
            Column::new("AGE", Constraint::Length(4)),
            Column::new("!", Constraint::Length(1)),
            Column::new("SUBJECT", Constraint::Length(subject)),
            Column::new("WHAT HAPPENED", Constraint::Fill(1)),
        ]
    }

    fn len(&self) -> usize {
        self.snap.events.len()
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let e = &self.snap.events[i];
        let tone = severity_tone(e.severity);
        let mark = match e.severity {
            Severity::Warning => Span::styled("!", theme.tone(Tone::Warn)),
            Severity::Info => Span::raw(" "),
        };
        RowCells::Cols(vec![
            Line::styled(e.at.format("%H:%M:%S").to_string(), theme.dim()),
            Line::styled(age((self.snap.taken_at - e.at).num_seconds()), theme.dim()),
            Line::from(mark),
            Line::raw(e.subject.clone()),
            Line::styled(e.message.clone(), theme.tone(tone)),
        ])
    }

    fn empty(&self) -> String {
        "nothing has changed yet".into()
    }
}

impl PanelView for EventRows<'_> {
    fn rows(&self) -> &dyn Rows {
        self
    }

    fn legend(&self) -> &'static str {
        "newest first, times in UTC"
    }

    fn details(&self, i: usize, theme: Theme) -> Details {
        let e = &self.snap.events[i];
        let plain = theme.tone(Tone::Plain);
        let mut d = Details::new(e.subject.clone());
        let ago = age((self.snap.taken_at - e.at).num_seconds());
        d.field(theme, "When", format!("{} ({ago} ago)", e.at.to_rfc3339()), plain);
        let sev = match e.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
        };
        d.field(theme, "Severity", sev, theme.tone(severity_tone(e.severity)));
        d.field(theme, "What happened", e.message.clone(), plain);
        d
    }
}
