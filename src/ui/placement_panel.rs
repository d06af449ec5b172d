//! Nodes and the controller pods on them, with placement violations listed first.

use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::placement::{NodeView, PlacedPod, Violation};

use super::PanelView;
use super::details::Details;
use super::table::{Column, RowCells, Rows};
use super::theme::{Theme, Tone};

/// One row: a violation, a node, a pod under its node, or the unscheduled group.
#[derive(Debug, Clone, Copy)]
enum Item {
    Violation(usize),
    Node(usize),
    Pod(usize, usize),
    Unscheduled,
    UnscheduledPod(usize),
}

/// The placement panel's rows.
pub struct PlacementRows<'a> {
    snap: &'a Snapshot,
    /// Row order, as indices only: building it formats nothing.
    items: Vec<Item>,
}

impl<'a> PlacementRows<'a> {
    /// Rows for this snapshot.
    pub fn new(snap: &'a Snapshot) -> PlacementRows<'a> {
        let p = &snap.placement;
        let mut items: Vec<Item> = (0..p.violations.len()).map(Item::Violation).collect();
        for (n, node) in p.nodes.iter().enumerate() {
            items.push(Item::Node(n));
            items.extend((0..node.pods.len()).map(|i| Item::Pod(n, i)));
        }
        if !p.unscheduled.is_empty() {
            items.push(Item::Unscheduled);
            items.extend((0..p.unscheduled.len()).map(Item::UnscheduledPod));
        }
        PlacementRows { snap, items }
    }

    /// The node or pod row `i` shows, for the action keys; `None` on other rows.
    pub fn target(&self, i: usize) -> Option<Target<'a>> {
        let p = &self.snap.placement;
        match *self.items.get(i)? {
            Item::Node(n) => Some(Target::Node(&p.nodes[n])),
            Item::Pod(n, j) => Some(Target::Pod(&p.nodes[n].pods[j])),
            Item::UnscheduledPod(j) => Some(Target::Pod(&p.unscheduled[j])),
            Item::Violation(_) | Item::Unscheduled => None,
        }
    }
}

/// What an action key on the Placement panel acts on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A node row.
    Node(&'a NodeView),
    /// A pod row (scheduled or not).
    Pod(&'a PlacedPod),
}

/// A violation in one sentence.
pub fn violation_text(v: &Violation) -> String {
    match v {
        Violation::OffShardNode { pod, shard, node, node_shard } => {
            let label =
                node_shard.as_deref().map_or("no shard label".to_string(), |s| format!("labelled {s}"));
            format!("pod {pod} of {shard} runs on {node} ({label})")
        }
        Violation::SharedNode { node, shards } => {
            format!("node {node} runs pods of several shards: {}", shards.join(", "))
        }
        Violation::Pending { pod, shard, message } => {
            let of = shard.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            format!("pod {pod}{of} Pending: {message}")
        }
        Violation::UnhealthyNode { node, shards, reason } => {
            format!("node {node} is {reason}; affects {}", shards.join(", "))
        }
    }
}

fn concerns(v: &Violation, name: &str) -> bool {
    match v {
        Violation::OffShardNode { pod, node, .. } => pod == name || node == name,
        Violation::SharedNode { node, .. } | Violation::UnhealthyNode { node, .. } => node == name,
        Violation::Pending { pod, .. } => pod == name,
    }
}

fn node_status(ready: Option<bool>) -> (&'static str, Tone) {
    match ready {
        Some(true) => ("Ready", Tone::Good),
        Some(false) => ("NotReady", Tone::Bad),
        None => ("Unknown", Tone::Warn),
    }
}

fn pod_tone(p: &PlacedPod) -> Tone {
    match p.phase.as_str() {
        "Running" if p.ready => Tone::Good,
        "Running" => Tone::Warn,
        "Succeeded" => Tone::Muted,
        _ => Tone::Bad,
    }
}

fn pods(n: usize) -> String {
    if n == 1 { "1 pod".into() } else { format!("{n} pods") }
}

fn dash_or(s: Option<&str>) -> String {
    s.unwrap_or("—").to_string()
}

fn node_cells(node: &NodeView, theme: Theme) -> Vec<Line<'static>> {
    let (status, tone) = node_status(node.ready);
    let mut info = vec![Span::raw(pods(node.pods.len()))];
    if node.cordoned {
        info.push(Span::styled(" · cordoned", theme.tone(Tone::Warn)));
    }
    if !node.taints.is_empty() {
        info.push(Span::styled(format!(" · taints: {}", node.taints.join(", ")), theme.dim()));
    }
    vec![
        Line::raw(node.name.clone()),
        Line::raw(dash_or(node.shard.as_deref())),
        Line::styled(status, theme.tone(tone)),
        Line::from(info),
    ]
}

fn pod_cells(p: &PlacedPod, last: bool, theme: Theme) -> Vec<Line<'static>> {
    let branch = if last { "└" } else { "├" };
    let (ready, tone) = if p.ready { ("ready", Tone::Good) } else { ("not ready", Tone::Bad) };
    vec![
        Line::from(vec![Span::styled(format!(" {branch} "), theme.dim()), Span::raw(p.name.clone())]),
        Line::raw(dash_or(p.shard.as_deref())),
        Line::styled(p.phase.clone(), theme.tone(pod_tone(p))),
        Line::styled(ready, theme.tone(tone)),
    ]
}

impl Rows for PlacementRows<'_> {
    fn columns(&self, width: u16) -> Vec<Column> {
        // Pod names run to ~45 characters; more width is better spent on taints.
        let name = (width as usize * 45 / 100).clamp(30, 50) as u16;
        vec![
            Column::new("NODE / POD", Constraint::Length(name)),
            Column::new("SHARD", Constraint::Length(8)),
            Column::new("STATUS", Constraint::Length(9)),
            Column::new("INFO", Constraint::Fill(1)),
        ]
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn cells(&self, i: usize, theme: Theme) -> RowCells {
        let p = &self.snap.placement;
        match self.items[i] {
            Item::Violation(v) => RowCells::Wide(Line::styled(
                format!("✕ {}", violation_text(&p.violations[v])),
                theme.tone(Tone::Bad),
            )),
            Item::Node(n) => RowCells::Cols(node_cells(&p.nodes[n], theme)),
            Item::Pod(n, i) => {
                RowCells::Cols(pod_cells(&p.nodes[n].pods[i], i + 1 == p.nodes[n].pods.len(), theme))
            }
            Item::Unscheduled => RowCells::Cols(vec![
                Line::styled("(not scheduled)", theme.tone(Tone::Warn)),
                Line::raw(""),
                Line::raw(""),
                Line::raw(pods(p.unscheduled.len())),
            ]),
            Item::UnscheduledPod(i) => {
                RowCells::Cols(pod_cells(&p.unscheduled[i], i + 1 == p.unscheduled.len(), theme))
            }
        }
    }

    fn empty(&self) -> String {
        "no nodes".into()
    }

    /// A pod also matches its node's name, so filtering by a node keeps its pods.
    fn text(&self, i: usize) -> String {
        let row = self.cells(i, Theme::new(true)).plain();
        match self.items[i] {
            Item::Pod(n, _) => format!("{} {row}", self.snap.placement.nodes[n].name),
            _ => row,
        }
    }
}

impl PanelView for PlacementRows<'_> {
    fn rows(&self) -> &dyn Rows {
        self
    }

    fn legend(&self) -> &'static str {
        "violations first"
    }

    fn details(&self, i: usize, theme: Theme) -> Details {
        let p = &self.snap.placement;
        match self.items[i] {
            Item::Violation(v) => {
                let mut d = Details::new("Placement violation");
                d.line(Line::styled(violation_text(&p.violations[v]), theme.tone(Tone::Bad)));
                d
            }
            Item::Node(n) => self.node_details(&p.nodes[n], theme),
            Item::Pod(n, i) => self.pod_details(&p.nodes[n].pods[i], Some(&p.nodes[n]), theme),
            Item::Unscheduled => {
                let mut d = Details::new("Pods bound to no node");
                for pod in &p.unscheduled {
                    d.line(format!("{} ({})", pod.name, pod.phase));
                }
                d
            }
            Item::UnscheduledPod(i) => self.pod_details(&p.unscheduled[i], None, theme),
        }
    }
}

impl PlacementRows<'_> {
    fn violations_about(&self, d: &mut Details, name: &str, theme: Theme) {
        let found: Vec<_> = self.snap.placement.violations.iter().filter(|v| concerns(v, name)).collect();
        if !found.is_empty() {
            d.heading(theme, "Violations");
            for v in found {
                d.line(Line::styled(format!("✕ {}", violation_text(v)), theme.tone(Tone::Bad)));
            }
        }
    }

    fn node_details(&self, node: &NodeView, theme: Theme) -> Details {
        let mut d = Details::new(format!("Node {}", node.name));
        let (status, tone) = node_status(node.ready);
        let plain = theme.tone(Tone::Plain);
        d.field(theme, "Shard", dash_or(node.shard.as_deref()), plain);
        d.field(theme, "Status", status, theme.tone(tone));
        d.field(theme, "Cordoned", if node.cordoned { "yes" } else { "no" }, plain);
        d.field(theme, "Taints", if node.taints.is_empty() { "none" } else { "" }, plain);
        for t in &node.taints {
            d.line(format!("  {t}"));
        }
        self.violations_about(&mut d, &node.name, theme);
        d.heading(theme, format!("Controller pods ({})", node.pods.len()));
        for pod in &node.pods {
            let (ready, tone) = if pod.ready { ("ready", Tone::Good) } else { ("not ready", Tone::Bad) };
            d.line(Line::from(vec![
                Span::raw(format!("{}  {}  ", pod.name, dash_or(pod.shard.as_deref()))),
                Span::styled(pod.phase.clone(), theme.tone(pod_tone(pod))),
                Span::raw(", "),
                Span::styled(ready, theme.tone(tone)),
            ]));
        }
        d
    }

    fn pod_details(&self, pod: &PlacedPod, node: Option<&NodeView>, theme: Theme) -> Details {
        let mut d = Details::new(format!("Pod {}", pod.name));
        let plain = theme.tone(Tone::Plain);
        d.field(theme, "Shard", dash_or(pod.shard.as_deref()), plain);
        d.field(theme, "Deployment", dash_or(pod.deployment.as_deref()), plain);
        d.field(theme, "Phase", pod.phase.clone(), theme.tone(pod_tone(pod)));
        d.field(theme, "Ready", if pod.ready { "yes" } else { "no" }, plain);
        match node {
            Some(n) => {
                let (status, tone) = node_status(n.ready);
                d.field(theme, "Node", format!("{} ({status})", n.name), theme.tone(tone));
            }
            None => {
                d.field(theme, "Node", "none: not scheduled", theme.tone(Tone::Warn));
            }
        }
        self.violations_about(&mut d, &pod.name, theme);
        d
    }
}
