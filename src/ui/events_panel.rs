//! What changed, newest first, as the model logged it; above it, when there was any, the
//! failover timeline: one row per shard outage, open ones first in the model's order.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::failover::IncidentView;
use crate::model::objects::Time;
use crate::model::timeline::Severity;

use super::PanelView;
use super::details::Details;
use super::table::{Column, RowCells, Rows};
use super::text::age;
use super::theme::{Theme, Tone, severity_glyph, severity_tone};

/// What a row of the events panel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// The "Failover" heading (only when there are incidents).
    FailoverHeading,
    /// One incident of `snap.failover`.
    Incident(usize),
    /// The "Events" heading below the incidents.
    EventsHeading,
    /// One entry of `snap.events`.
    Event(usize),
}

/// The events panel's rows: the failover timeline (if any), then the log.
pub struct EventRows<'a> {
    snap: &'a Snapshot,
    /// Rows before the log: headings and incidents (0 without incidents).
    top: usize,
}

impl<'a> EventRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> EventRows<'a> {
        let top = if snap.failover.is_empty() { 0 } else { snap.failover.len() + 2 };
        EventRows { snap, top }
    }

    fn item(&self, i: usize) -> Item {
        let n = self.snap.failover.len();
        match i {
            _ if self.top == 0 => Item::Event(i),
            0 => Item::FailoverHeading,
            i if i <= n => Item::Incident(i - 1),
            i if i == n + 1 => Item::EventsHeading,
            i => Item::Event(i - self.top),
        }
    }
}

/// A duration in two units (`42s`, `2m0s`, `1h5m`, `2d3h`), for recovery times.
fn span(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// `+11s` after the beginning of the incident.
fn after(inc: &IncidentView, at: Time) -> String {
    format!("+{}", span((at - inc.incident.began).num_seconds()))
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

/// One incident on one line: what is open (or how it recovered) and why.
fn incident_line(snap: &Snapshot, inc: &IncidentView, theme: Theme) -> Line<'static> {
    let i = &inc.incident;
    let dim = theme.dim();
    let sep = || Span::styled(" · ", dim);
    let mut spans = Vec::new();
    if inc.open {
        // Open and already without a leader is the worst case: nothing reconciles.
        let tone = if i.lost_leader_at.is_some() { Tone::Bad } else { Tone::Warn };
        let style = theme.tone(tone);
        spans.push(Span::styled("● ", style));
        spans.push(Span::styled(i.shard.clone(), theme.heading()));
        let open = span((snap.taken_at - i.began).num_seconds());
        spans.push(Span::styled(format!("  open {open}  "), style));
        spans.push(Span::styled(i.cause.clone(), style));
        if let Some(at) = i.lost_ready_at {
            spans.push(sep());
            spans.push(Span::styled(format!("lost ready {}", after(inc, at)), style));
        }
        if let Some(at) = i.lost_leader_at {
            spans.push(sep());
            spans.push(Span::styled(format!("leader {}", after(inc, at)), style));
        }
        if !i.waited.is_empty() {
            spans.push(sep());
            spans.push(Span::styled(format!("{} waiting", plural(i.waited.len(), "object")), style));
        }
    } else {
        let good = theme.tone(Tone::Good);
        spans.push(Span::styled("✓ ", good));
        spans.push(Span::styled(i.shard.clone(), theme.heading()));
        let took = inc.recovery_secs.map(span).unwrap_or_else(|| "—".into());
        let mut recovered = format!("  recovered in {took}");
        if !i.recovered_on.is_empty() {
            recovered.push_str(&format!(" on {}", i.recovered_on.join(", ")));
        }
        spans.push(Span::styled(recovered, good));
        spans.push(sep());
        spans.push(Span::styled(i.cause.clone(), theme.tone(Tone::Plain)));
        if !i.waited.is_empty() {
            spans.push(sep());
            spans.push(Span::styled(format!("{} waited", plural(i.waited.len(), "object")), dim));
        }
    }
    Line::from(spans)
}

/// `2025-06-01T11:58:00+00:00 (2m ago, +11s)`, or "—".
fn moment(snap: &Snapshot, inc: &IncidentView, at: Option<Time>) -> String {
    match at {
        None => "—".into(),
        Some(at) => {
            let ago = age((snap.taken_at - at).num_seconds());
            format!("{} ({ago} ago, {})", at.to_rfc3339(), after(inc, at))
        }
    }
}

fn incident_details(snap: &Snapshot, inc: &IncidentView, theme: Theme) -> Details {
    let i = &inc.incident;
    let plain = theme.tone(Tone::Plain);
    let mut d = Details::new(format!("failover of {}", i.shard));
    let (state, tone) = if inc.open {
        (format!("open for {}", span((snap.taken_at - i.began).num_seconds())), Tone::Bad)
    } else {
        (format!("recovered in {}", inc.recovery_secs.map(span).unwrap_or_else(|| "—".into())), Tone::Good)
    };
    d.field(theme, "State", state, theme.tone(tone));
    d.field(theme, "Cause", i.cause.clone(), plain);
    let began = format!("{} ({} ago)", i.began.to_rfc3339(), age((snap.taken_at - i.began).num_seconds()));
    d.field(theme, "Began", began, plain);
    d.field(theme, "Lost ready", moment(snap, inc, i.lost_ready_at), plain);
    d.field(theme, "Lost leader", moment(snap, inc, i.lost_leader_at), plain);
    d.field(theme, "Recovered", moment(snap, inc, i.recovered_at), plain);
    let on = if i.recovered_on.is_empty() { "—".to_string() } else { i.recovered_on.join(", ") };
    d.field(theme, "Recovered on", on, plain);
    d.heading(theme, format!("Objects that waited ({})", i.waited.len()));
    if i.waited.is_empty() {
        d.line(Line::styled("none", theme.dim()));
    }
    for key in &i.waited {
        d.line(Line::raw(format!("  {key}")));
    }
    d
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
        self.top + self.snap.events.len()
    }

    // Headings carry counts and entries ages: what a row stands for is its item.
    fn id(&self, i: usize) -> String {
        match self.item(i) {
            Item::FailoverHeading => "failover".into(),
            Item::Incident(k) => {
                let inc = &self.snap.failover[k].incident;
                format!("incident {} {}", inc.shard, inc.began.to_rfc3339())
            }
            Item::EventsHeading => "events".into(),
            Item::Event(k) => {
                let e = &self.snap.events[k];
                format!("{} {} {}", e.at.to_rfc3339(), e.subject, e.message)
            }
        }
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let i = match self.item(i) {
            Item::FailoverHeading => {
                let open = self.snap.failover.iter().filter(|f| f.open).count();
                let mut spans = vec![Span::styled("Failover", theme.heading())];
                let n = plural(self.snap.failover.len(), "incident");
                spans.push(Span::styled(format!(" · {n}"), theme.dim()));
                if open > 0 {
                    spans.push(Span::styled(format!(" · {open} open"), theme.tone(Tone::Bad)));
                }
                return RowCells::Wide(Line::from(spans));
            }
            Item::Incident(k) => {
                return RowCells::Wide(incident_line(self.snap, &self.snap.failover[k], theme));
            }
            Item::EventsHeading => {
                let n = plural(self.snap.events.len(), "event");
                return RowCells::Wide(Line::from(vec![
                    Span::styled("Events", theme.heading()),
                    Span::styled(format!(" · {n}"), theme.dim()),
                ]));
            }
            Item::Event(i) => i,
        };
        let e = &self.snap.events[i];
        let tone = severity_tone(e.severity);
        // A glyph for either severity, so NO_COLOR keeps the difference.
        let mark = match e.severity {
            Severity::Warning => Span::styled(severity_glyph(e.severity), theme.tone(Tone::Warn)),
            Severity::Info => Span::styled(severity_glyph(e.severity), theme.dim()),
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
        let i = match self.item(i) {
            Item::Incident(k) => return incident_details(self.snap, &self.snap.failover[k], theme),
            Item::FailoverHeading => {
                let mut d = Details::new("Failover");
                d.line(Line::raw("Shard outages, newest first: when each began, lost readiness and its leader, when and where it recovered, and which objects waited."));
                return d;
            }
            Item::EventsHeading => {
                let mut d = Details::new("Events");
                d.line(Line::raw("What changed, newest first, times in UTC."));
                return d;
            }
            Item::Event(i) => i,
        };
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
