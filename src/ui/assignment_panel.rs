//! Which shard owns which Flux object, the orphans first since nothing reconciles them.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::assignment::{AssignedObject, Orphan, ShardAssignment};
use crate::model::flux_state::ObjectState;

use super::PanelView;
use super::details::Details;
use super::flux_request::requested_note;
use super::object_events;
use super::table::{Column, RowCells, Rows};
use super::text::{age_since, kind_short, short_name};
use super::theme::{Theme, Tone, state_glyph};

#[derive(Debug, Clone, Copy)]
enum Item {
    OrphanHeading,
    Orphan(usize),
    ShardHeading(usize),
    Object(usize, usize),
}

/// The assignment panel's rows, found by walking the shards' lengths (not a list of
/// every object), so a frame costs the rows it draws plus one step per shard.
pub struct AssignmentRows<'a> {
    snap: &'a Snapshot,
}

impl<'a> AssignmentRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> AssignmentRows<'a> {
        AssignmentRows { snap }
    }

    /// What row `i` shows: the orphans under their heading, then each shard's objects.
    fn item(&self, i: usize) -> Option<Item> {
        let a = &self.snap.assignment;
        if i == 0 {
            return Some(Item::OrphanHeading);
        }
        let mut rest = i - 1;
        if rest < a.orphans.len() {
            return Some(Item::Orphan(rest));
        }
        rest -= a.orphans.len();
        for (s, shard) in a.shards.iter().enumerate() {
            match rest {
                0 => return Some(Item::ShardHeading(s)),
                r if r <= shard.objects.len() => return Some(Item::Object(s, r - 1)),
                r => rest = r - 1 - shard.objects.len(),
            }
        }
        None
    }

    /// The row of shard `s`'s heading.
    fn shard_heading_row(&self, s: usize) -> usize {
        let a = &self.snap.assignment;
        1 + a.orphans.len() + a.shards.iter().take(s).map(|sh| 1 + sh.objects.len()).sum::<usize>()
    }

    fn object(&self, item: Item) -> Option<&'a AssignedObject> {
        let a = &self.snap.assignment;
        match item {
            Item::Orphan(o) => a.orphans.get(o).map(|o| &**o),
            Item::Object(s, o) => a.shards.get(s).and_then(|sh| sh.objects.get(o)).map(|o| &**o),
            _ => None,
        }
    }
}

/// Why an orphan matters, short enough for a cell.
fn orphan_note(o: Orphan, shard: &str) -> (String, Tone) {
    match o {
        Orphan::NoController => (format!("no controller for {shard}"), Tone::Bad),
        Orphan::ControllerNotReady => ("controller not ready: status may be stale".into(), Tone::Warn),
    }
}

/// Objects listed in a heading's details: more would only scroll off (the rows below the
/// heading list them all), and building them would cost each frame the shard's size.
const DETAIL_LINES: usize = 200;

/// `… and N more` under a list cut at `DETAIL_LINES`.
fn more_line(d: &mut Details, total: usize, theme: Theme) {
    if total > DETAIL_LINES {
        d.line(Line::styled(
            format!("  … and {} more (listed below the heading)", total - DETAIL_LINES),
            theme.dim(),
        ));
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

fn shard_heading(s: &ShardAssignment, theme: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled(s.shard.clone(), theme.heading()),
        Span::styled(format!(" · {}", plural(s.objects.len(), "object")), theme.dim()),
    ];
    if !s.has_controllers {
        spans.push(Span::styled(" · no controllers", theme.tone(Tone::Bad)));
    }
    Line::from(spans)
}

impl Rows for AssignmentRows<'_> {
    fn columns(&self, width: u16) -> Vec<Column> {
        let object = (width as usize * 3 / 10).clamp(24, 48) as u16;
        vec![
            Column::new("OBJECT", Constraint::Length(object)),
            Column::new("SHARD", Constraint::Length(8)),
            Column::new("STATE", Constraint::Length(13)),
            Column::new("AGE", Constraint::Length(4)),
            Column::new("NOTE", Constraint::Fill(1)),
        ]
    }

    fn len(&self) -> usize {
        let a = &self.snap.assignment;
        1 + a.orphans.len() + a.shards.iter().map(|s| 1 + s.objects.len()).sum::<usize>()
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let a = &self.snap.assignment;
        let Some(item) = self.item(i) else { return RowCells::Wide(Line::default()) };
        match item {
            Item::OrphanHeading if a.orphans.is_empty() => RowCells::Wide(Line::styled(
                "✓ no orphans: every object has a ready controller",
                theme.tone(Tone::Good),
            )),
            Item::OrphanHeading => RowCells::Wide(Line::styled(
                format!("Orphans · {} nobody reconciles", plural(a.orphans.len(), "object")),
                theme.tone(Tone::Bad),
            )),
            Item::ShardHeading(s) => RowCells::Wide(shard_heading(&a.shards[s], theme)),
            Item::Orphan(_) | Item::Object(..) => {
                let Some(o) = self.object(item) else { return RowCells::Wide(Line::default()) };
                let st = o.state.state;
                let note = match (&o.state.pending_reconcile, o.orphan) {
                    (Some(p), orphan) => {
                        let owner = orphan.map(|x| (o.shard.as_str(), x));
                        let text = requested_note(p, self.snap.taken_at, o.key.kind, owner);
                        Line::styled(
                            text,
                            theme.tone(if orphan.is_some() { Tone::Warn } else { Tone::Plain }),
                        )
                    }
                    (None, Some(orphan)) => {
                        let (text, tone) = orphan_note(orphan, &o.shard);
                        Line::styled(text, theme.tone(tone))
                    }
                    (None, None) if st == ObjectState::Ready => Line::default(),
                    (None, None) if st == ObjectState::Suspended => Line::styled("suspended", theme.dim()),
                    (None, None) => Line::styled(o.state.reason.to_string(), theme.dim()),
                };
                RowCells::Cols(vec![
                    Line::from(vec![
                        Span::styled(format!("  {}/", kind_short(o.key.kind)), theme.dim()),
                        Span::raw(short_name(&o.key, &self.snap.flux_namespace)),
                    ]),
                    Line::raw(o.shard.clone()),
                    Line::styled(format!("{} {}", state_glyph(st), st.as_str()), theme.state(st)),
                    Line::styled(age_since(self.snap.taken_at, o.since), theme.dim()),
                    note,
                ])
            }
        }
    }

    fn empty(&self) -> String {
        "no Flux objects".into()
    }

    fn heading_of(&self, i: usize) -> Option<usize> {
        match self.item(i)? {
            Item::OrphanHeading | Item::Orphan(_) => Some(0),
            Item::ShardHeading(s) | Item::Object(s, _) => Some(self.shard_heading_row(s)),
        }
    }
}

impl PanelView for AssignmentRows<'_> {
    fn rows(&self) -> &dyn Rows {
        self
    }

    fn legend(&self) -> &'static str {
        "orphans first, then per shard"
    }

    fn flux_key(&self, i: usize) -> Option<crate::model::objects::FluxKey> {
        self.object(self.item(i)?).map(|o| o.key.clone())
    }

    fn details(&self, i: usize, theme: Theme) -> Details {
        let a = &self.snap.assignment;
        let plain = theme.tone(Tone::Plain);
        let Some(item) = self.item(i) else { return Details::new("gone") };
        match item {
            Item::OrphanHeading => {
                let mut d = Details::new("Orphans");
                d.line("Objects labelled for a shard with no controller for their kind, or whose");
                d.line("controller has no ready replica. Their status is not being updated.");
                for o in a.orphans.iter().take(DETAIL_LINES) {
                    let (note, tone) =
                        o.orphan.map_or((String::new(), Tone::Plain), |x| orphan_note(x, &o.shard));
                    d.line(Line::from(vec![
                        Span::raw(format!("  {}  ", o.key)),
                        Span::styled(note, theme.tone(tone)),
                    ]));
                }
                more_line(&mut d, a.orphans.len(), theme);
                d
            }
            Item::ShardHeading(s) => {
                let shard = &a.shards[s];
                let mut d = Details::new(format!("Objects of {}", shard.shard));
                let has = if shard.has_controllers { "yes" } else { "no" };
                d.field(
                    theme,
                    "Controllers",
                    has,
                    if shard.has_controllers { plain } else { theme.tone(Tone::Bad) },
                );
                for o in shard.objects.iter().take(DETAIL_LINES) {
                    let st = o.state.state;
                    d.line(Line::from(vec![
                        Span::raw(format!("  {}  ", o.key)),
                        Span::styled(format!("{} {}", state_glyph(st), st.as_str()), theme.state(st)),
                    ]));
                }
                more_line(&mut d, shard.objects.len(), theme);
                d
            }
            item => {
                let Some(o) = self.object(item) else { return Details::new("gone") };
                let st = o.state.state;
                let mut d = Details::new(o.key.to_string());
                d.field(theme, "Shard", o.shard.clone(), plain);
                d.field(theme, "State", format!("{} {}", state_glyph(st), st.as_str()), theme.state(st));
                d.field(theme, "Reason", o.state.reason.to_string(), plain);
                d.field(theme, "Message", o.state.message.to_string(), plain);
                d.field(theme, "In this state", age_since(self.snap.taken_at, o.since), plain);
                d.field(theme, "Revision", o.revision.as_deref().unwrap_or("—").to_string(), plain);
                if let Some(orphan) = o.orphan {
                    let (note, tone) = orphan_note(orphan, &o.shard);
                    d.field(theme, "Orphaned", note, theme.tone(tone));
                }
                if !o.conflict.is_empty() {
                    // Two controllers reconcile it at once: their applies and statuses fight.
                    let also = format!("also selected by {}", o.conflict.join(", "));
                    d.field(theme, "Conflict", also, theme.tone(Tone::Bad));
                }
                object_events::add(&mut d, self.snap, &o.key, &o.state, theme);
                d
            }
        }
    }
}
