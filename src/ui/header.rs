//! The top of the screen: where we are looking, the verdict, what we cannot see, and
//! the panel tabs with a count of problems on each.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::model::Snapshot;
use crate::model::event::WatchState;
use crate::model::shards::Health;

use super::Panel;
use super::text::fit;
use super::theme::{Theme, Tone, verdict_glyph, verdict_label, verdict_tone};
use super::visibility;

fn put(buf: &mut Buffer, area: Rect, row: u16, line: Line<'static>) {
    if row < area.height {
        let r = Rect { y: area.y + row, height: 1, ..area };
        fit(line, r.width as usize).render(r, buf);
    }
}

/// Draws identity, verdict and watch state into up to three lines of `area`.
pub fn render(buf: &mut Buffer, area: Rect, snap: &Snapshot, theme: Theme) {
    let c = &snap.cluster;
    let dim = theme.dim();
    let unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
    let context = if c.context.is_empty() { "(no context)".to_string() } else { c.context.clone() };
    put(
        buf,
        area,
        0,
        Line::from(vec![
            Span::styled("ctx ", dim),
            Span::styled(context, theme.heading()),
            Span::styled(" · ", dim),
            Span::raw(c.server.clone()),
            Span::styled(" · k8s ", dim),
            Span::raw(unknown(&c.kubernetes_version)),
            Span::styled(" · flux ", dim),
            Span::raw(unknown(&c.flux_version)),
        ]),
    );

    let v = snap.overall.verdict;
    let mut verdict =
        vec![Span::styled(format!("{} {}", verdict_glyph(v), verdict_label(v)), theme.tone(verdict_tone(v)))];
    if !snap.overall.reasons.is_empty() {
        verdict.push(Span::raw(format!("  {}", snap.overall.reasons.join(" · "))));
    }
    put(buf, area, 1, Line::from(verdict));

    let mut problems: Vec<(Tone, String)> = snap
        .watches
        .iter()
        .filter(|(_, state)| **state != WatchState::Syncing)
        .filter_map(|(kind, state)| visibility::short(snap, kind, state))
        .collect();
    problems.sort_by_key(|(tone, _)| *tone != Tone::Bad);
    // Kinds being listed are counted in one place, first: until they are all in, what is
    // shown is partial (and the verdict says Unknown).
    if let Some(progress) = visibility::list_progress(snap) {
        problems.insert(0, (Tone::Warn, progress));
    }
    let mut watch = vec![Span::styled("watch ", dim)];
    if problems.is_empty() {
        let (text, tone) =
            if snap.watches.is_empty() { ("not started", Tone::Muted) } else { ("live", Tone::Good) };
        watch.push(Span::styled(text, theme.tone(tone)));
    }
    for (i, (tone, text)) in problems.into_iter().enumerate() {
        if i > 0 {
            watch.push(Span::styled(" · ", dim));
        }
        watch.push(Span::styled(text, theme.tone(tone)));
    }
    put(buf, area, 2, Line::from(watch));
}

/// How many things on a panel need attention (0: nothing to flag).
pub(super) fn problems(snap: &Snapshot, panel: Panel) -> usize {
    match panel {
        Panel::Shards => snap.shards.iter().filter(|s| s.health != Health::Healthy).count(),
        Panel::Placement => snap.placement.violations.len(),
        Panel::Dependencies => snap.dependencies.blocked,
        Panel::Assignment => snap.assignment.orphans.len(),
        Panel::Events => snap.failover.iter().filter(|i| i.open).count(),
    }
}

/// Draws the tab bar: `1 Shards !1  2 Placement !2 ...`, the current one highlighted.
pub fn render_tabs(buf: &mut Buffer, area: Rect, snap: &Snapshot, current: Panel, theme: Theme) {
    let mut spans = Vec::new();
    for panel in Panel::ALL {
        let style = if panel == current { theme.active_tab() } else { theme.tone(Tone::Plain) };
        spans.push(Span::styled(format!(" {} {} ", panel.index() + 1, panel.title()), style));
        match problems(snap, panel) {
            0 => spans.push(Span::raw(" ")),
            n => spans.push(Span::styled(format!("!{n} "), theme.tone(Tone::Bad))),
        }
    }
    let tabs = Line::from(spans);
    let brand = Line::styled("shardwatch ", theme.dim()).right_aligned();
    if area.width as usize > tabs.width() + brand.width() {
        brand.render(area, buf);
    }
    put(buf, area, 0, tabs);
}
