//! The `dependsOn` graph as a tree: each object under the dependency that sets its depth
//! (the others are counted as `+N` and listed in details), and under every blocked object
//! the root cause at the bottom of its chain.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::assignment::Orphan;
use crate::model::flux_state::ObjectState;
use crate::model::graph::{GraphNode, RootCause};
use crate::model::objects::FluxKey;
use crate::model::tree_rows::TreeRow;

use super::PanelView;
use super::details::Details;
use super::table::{Column, RowCells, Rows};
use super::text::{age_since, kind_short, short_name, short_revision};
use super::theme::{Theme, Tone, state_glyph};

/// Deeper chains are rare; past this the indentation would eat the name.
const MAX_INDENT: usize = 8;

#[derive(Debug, Clone, Copy)]
enum Item {
    Cycle(usize),
    Node(usize),
    RootCause(usize),
}

/// The dependencies panel's rows, read from the graph's row index for the rows drawn only.
pub struct DependencyRows<'a> {
    snap: &'a Snapshot,
}

/// Why an orphan's state says nothing about now, in words.
pub fn frozen_message(key: &FluxKey, shard: &str, orphan: Orphan) -> String {
    let controller = key.kind.controller();
    match orphan {
        Orphan::ControllerNotReady => {
            format!("frozen: {controller} of {shard} has no ready replica; nothing reconciles it")
        }
        Orphan::NoController => format!("frozen: no {controller} serves {shard}; nothing reconciles it"),
    }
}

impl<'a> DependencyRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> DependencyRows<'a> {
        DependencyRows { snap }
    }

    /// What row `i` shows: the cycles first, then the tree with its root-cause lines.
    fn item(&self, i: usize) -> Option<Item> {
        let g = &self.snap.dependencies;
        if i < g.cycles.len() {
            return Some(Item::Cycle(i));
        }
        Some(match g.rows.row(i - g.cycles.len())? {
            TreeRow::Node(t) => Item::Node(*g.tree.order.get(t)?),
            TreeRow::Cause(t) => Item::RootCause(*g.tree.order.get(t)?),
        })
    }

    /// The shard and verdict of an object nothing live reconciles (its state is frozen),
    /// looked up for the rows drawn only: the orphans are kept in key order.
    fn orphan(&self, key: &FluxKey) -> Option<(&'a str, Orphan)> {
        let orphans = &self.snap.assignment.orphans;
        let i = orphans.binary_search_by(|o| o.key.cmp(key)).ok()?;
        let o = &orphans[i];
        Some((o.shard.as_str(), o.orphan?))
    }

    /// Tree guides for node `i`: `│ ` or blanks for each ancestor below the roots, then
    /// `├ `/`└ ` (`own`), or for the line under it (`!own`) its own continuation.
    fn guides(&self, i: usize, own: bool) -> String {
        let mut chain = vec![i];
        while let Some(p) = self.snap.dependencies.tree.parent[*chain.last().unwrap_or(&i)] {
            chain.push(p);
        }
        // chain = node, parent, ..., root; the root draws nothing.
        chain.pop();
        let mut out = String::new();
        for (n, &a) in chain.iter().rev().enumerate() {
            let is_node = n + 1 == chain.len();
            out.push_str(match (is_node && own, self.snap.dependencies.tree.last[a]) {
                (true, true) => "└ ",
                (true, false) => "├ ",
                (false, true) => "  ",
                (false, false) => "│ ",
            });
        }
        // Past this depth the guides would eat the name; keep the innermost ones.
        let keep = MAX_INDENT * 2;
        let len = out.chars().count();
        if len > keep { out.chars().skip(len - keep).collect() } else { out }
    }

    fn name(&self, key: &FluxKey) -> String {
        format!("{}/{}", kind_short(key.kind), short_name(key, &self.snap.flux_namespace))
    }
}

/// `⤷ root cause: Kustomization/ns/name Reason: message`, or the missing dependency.
pub fn root_cause_line(rc: &RootCause, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::styled("⤷ root cause: ", theme.tone(Tone::Warn))];
    match (&rc.missing, &rc.key) {
        (Some(m), _) => spans.push(Span::styled(
            format!("dependency {}/{} does not exist", m.namespace, m.name),
            theme.tone(Tone::Bad),
        )),
        (None, key) => {
            let who = key.as_ref().map_or_else(|| "unknown object".to_string(), |k| k.to_string());
            spans.push(Span::styled(who, theme.state(rc.state)));
            let reason = if rc.reason.is_empty() { rc.state.as_str() } else { &rc.reason };
            spans.push(Span::styled(format!(" {reason}"), theme.state(rc.state)));
            if !rc.message.is_empty() {
                spans.push(Span::raw(format!(": {}", rc.message)));
            }
        }
    }
    Line::from(spans)
}

impl Rows for DependencyRows<'_> {
    fn columns(&self, width: u16) -> Vec<Column> {
        let object = (width as usize * 3 / 10).clamp(24, 44) as u16;
        let revision = if width >= 120 { 18 } else { 13 };
        vec![
            Column::new("OBJECT", Constraint::Length(object)),
            Column::new("STATE", Constraint::Length(13)),
            Column::new("AGE", Constraint::Length(4)),
            Column::new("REVISION", Constraint::Length(revision)),
            Column::new("MESSAGE", Constraint::Fill(1)),
        ]
    }

    fn len(&self) -> usize {
        self.snap.dependencies.cycles.len() + self.snap.dependencies.rows.len()
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let g = &self.snap.dependencies;
        let Some(item) = self.item(i) else { return RowCells::Wide(Line::default()) };
        match item {
            Item::Cycle(c) => {
                let path: Vec<String> = g.cycles[c].iter().map(|k| self.name(k)).collect();
                let text = format!("✕ dependency cycle: {}", path.join(" → "));
                RowCells::Wide(Line::styled(text, theme.tone(Tone::Bad)))
            }
            Item::RootCause(n) => {
                let node = &g.nodes[n];
                let mut line =
                    node.cause_elsewhere().map(|rc| root_cause_line(rc, theme)).unwrap_or_default();
                line.spans.insert(0, Span::styled(format!("{}  ", self.guides(n, false)), theme.dim()));
                RowCells::Wide(line)
            }
            Item::Node(n) => {
                let node = &g.nodes[n];
                let s = node.state.state;
                // Dependencies beyond the tree parent, so a second edge is never hidden.
                let extra = (node.depends_on.len() + node.missing.len()).saturating_sub(1);
                let more = if extra > 0 { format!(" +{extra}") } else { String::new() };
                let message = match s {
                    ObjectState::Ready => String::new(),
                    ObjectState::Suspended => "reconciliation suspended".into(),
                    // No status at all: say why (missing source, not reconciled yet).
                    _ if node.state.reason.is_empty() && node.state.message.is_empty() => node
                        .root_cause
                        .as_ref()
                        .filter(|rc| rc.key.as_ref() == Some(&node.key) && !rc.reason.is_empty())
                        .map(|rc| format!("{}: {}", rc.reason, rc.message))
                        .unwrap_or_default(),
                    _ if node.state.reason.is_empty() => node.state.message.to_string(),
                    _ => format!("{}: {}", node.state.reason, node.state.message),
                };
                // A frozen state is shown as such: it may have been true once, not now.
                let frozen = self.orphan(&node.key).map(|(shard, o)| frozen_message(&node.key, shard, o));
                let (state, state_style) = match frozen {
                    Some(_) => (format!("❄ {}", s.as_str()), theme.tone(Tone::Warn)),
                    None => (format!("{} {}", state_glyph(s), s.as_str()), theme.state(s)),
                };
                let (message, message_style) = match frozen {
                    Some(f) => (f, theme.tone(Tone::Warn)),
                    None => {
                        let style = if s == ObjectState::Failed { theme.state(s) } else { theme.dim() };
                        (message, style)
                    }
                };
                RowCells::Cols(vec![
                    Line::from(vec![
                        Span::styled(self.guides(n, true), theme.dim()),
                        Span::styled(format!("{}/", kind_short(node.key.kind)), theme.dim()),
                        Span::raw(short_name(&node.key, &self.snap.flux_namespace)),
                        Span::styled(more, theme.dim()),
                    ]),
                    Line::styled(state, state_style),
                    Line::styled(age_since(self.snap.taken_at, node.since), theme.dim()),
                    Line::styled(
                        node.revision.as_deref().map(short_revision).unwrap_or_default(),
                        theme.dim(),
                    ),
                    Line::styled(message, message_style),
                ])
            }
        }
    }

    fn empty(&self) -> String {
        "no Kustomizations or HelmReleases".into()
    }

    /// A root cause line also matches its object's name, so a filter keeps them together.
    fn text(&self, i: usize) -> String {
        let row = self.cells(i, Theme::new(true)).plain();
        match self.item(i) {
            Some(Item::RootCause(n)) => format!("{} {row}", self.snap.dependencies.nodes[n].key),
            _ => row,
        }
    }
}

impl PanelView for DependencyRows<'_> {
    fn rows(&self) -> &dyn Rows {
        self
    }

    fn legend(&self) -> &'static str {
        "each under its deepest dependency"
    }

    fn flux_key(&self, i: usize) -> Option<FluxKey> {
        match self.item(i)? {
            Item::Node(n) | Item::RootCause(n) => Some(self.snap.dependencies.nodes.get(n)?.key.clone()),
            Item::Cycle(_) => None,
        }
    }

    fn details(&self, i: usize, theme: Theme) -> Details {
        let g = &self.snap.dependencies;
        let n = match self.item(i) {
            None => return Details::new(""),
            Some(Item::Cycle(c)) => {
                let mut d = Details::new("Dependency cycle");
                d.line(Line::styled(
                    "These objects wait on each other; none can ever become Ready:",
                    theme.tone(Tone::Bad),
                ));
                for k in &g.cycles[c] {
                    d.line(format!("  → {k}"));
                }
                return d;
            }
            Some(Item::Node(n) | Item::RootCause(n)) => n,
        };
        let node = &g.nodes[n];
        let s = node.state.state;
        let plain = theme.tone(Tone::Plain);
        let mut d = Details::new(node.key.to_string());
        d.field(theme, "State", format!("{} {}", state_glyph(s), s.as_str()), theme.state(s));
        if let Some((shard, o)) = self.orphan(&node.key) {
            d.field(theme, "Frozen", frozen_message(&node.key, shard, o), theme.tone(Tone::Warn));
        }
        d.field(theme, "Reason", node.state.reason.to_string(), plain);
        d.field(theme, "Message", node.state.message.to_string(), plain);
        let since = node
            .state
            .since
            .map(|t| format!("{} ago ({})", age_since(self.snap.taken_at, node.since), t.to_rfc3339()));
        d.field(theme, "In this state", since.unwrap_or_else(|| "unknown".into()), plain);
        d.field(theme, "Revision", node.revision.as_deref().unwrap_or("—").to_string(), plain);
        d.field(theme, "Depth", node.depth.to_string(), plain);
        if let Some(rc) = node.cause_elsewhere() {
            d.heading(theme, "Blocked by");
            d.line(root_cause_line(rc, theme));
        }
        if !node.depends_on.is_empty() || !node.missing.is_empty() {
            d.heading(theme, "Depends on");
            for dep in &node.depends_on {
                let state = g.node(dep).map(|m| m.state.state);
                let (text, style) = state.map_or(("?".to_string(), theme.dim()), |st| {
                    (format!("{} {}", state_glyph(st), st.as_str()), theme.state(st))
                });
                d.line(Line::from(vec![Span::raw(format!("  {dep}  ")), Span::styled(text, style)]));
            }
            for m in &node.missing {
                let text = format!("  {}/{}  does not exist", m.namespace, m.name);
                d.line(Line::styled(text, theme.tone(Tone::Bad)));
            }
        }
        let dependents: Vec<&GraphNode> =
            g.needed_by.get(n).into_iter().flatten().filter_map(|&m| g.nodes.get(m)).map(|m| &**m).collect();
        if !dependents.is_empty() {
            d.heading(theme, "Needed by");
            for m in dependents {
                let st = m.state.state;
                d.line(Line::from(vec![
                    Span::raw(format!("  {}  ", m.key)),
                    Span::styled(format!("{} {}", state_glyph(st), st.as_str()), theme.state(st)),
                ]));
            }
        }
        d
    }
}
