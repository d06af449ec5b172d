//! The view `e` opens on a Flux object: why it is not Ready. The cause first, then the
//! dependency chain, what the bottom of the chain waits for (Pending pods with the
//! scheduler's or kubelet's reason, and the Warning events of each), its conditions and
//! its own events. Drawn from the snapshot on every frame, so it follows the cluster live.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use crate::model::Snapshot;
use crate::model::event::WatchState;
use crate::model::explain::{EventLine, Explanation, WaitedFor};
use crate::model::flux_state::ObjectState;
use crate::model::objects::FluxKey;

use super::layout::split;
use super::log_view::LogView;
use super::text::{fit, opt_age};
use super::theme::{Theme, Tone, state_glyph};

/// Deeper links are drawn at this indentation, so a long chain keeps its messages readable.
const MAX_INDENT: usize = 6;

/// A line and the indentation its wrapped continuation lines get.
type Indented = (Line<'static>, usize);

/// Lines under construction: messages wrap under their own start, not at the left edge.
#[derive(Default)]
struct Out(Vec<Indented>);

impl Out {
    fn push(&mut self, line: impl Into<Line<'static>>, indent: usize) {
        self.0.push((line.into(), indent));
    }
}

fn heading(lines: &mut Out, theme: Theme, text: impl Into<String>) {
    lines.push(Line::default(), 0);
    lines.push(Line::styled(text.into(), theme.heading()), 0);
}

/// Word-wraps `line` to `width`, continuation lines indented by `indent`. A word longer than
/// a line is left for the paragraph's own wrapping.
fn wrap((line, indent): Indented, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width || width < indent + 16 {
        return vec![line];
    }
    let mut out = Vec::new();
    let (mut cur, mut used): (Vec<Span<'static>>, usize) = (Vec::new(), 0);
    for span in line.spans {
        for word in span.content.split_inclusive(' ') {
            let w = Span::raw(word).width();
            let fits = used + word.trim_end().chars().count() <= width;
            if !fits && used > indent {
                out.push(Line::from(std::mem::take(&mut cur)));
                cur.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            cur.push(Span::styled(word.to_string(), span.style));
            used += w;
        }
    }
    out.push(Line::from(cur));
    out
}

/// An event line; wrapped text continues under `indent` plus two.
fn event_line(lines: &mut Out, e: &EventLine, indent: usize, theme: Theme) {
    let line = Line::from(vec![
        Span::raw(" ".repeat(indent)),
        Span::styled(format!("⚠ {}", e.reason), theme.tone(Tone::Warn)),
        Span::styled(format!(" ×{} · {} ago: ", e.count, opt_age(e.age_secs)), theme.dim()),
        Span::raw(e.message.clone()),
    ]);
    lines.push(line, indent + 2);
}

/// What the pending-pods watch allows saying about a workload with no Pending pod.
fn no_pods_line(snap: &Snapshot, theme: Theme) -> Line<'static> {
    match snap.watches.get("pending pods") {
        Some(WatchState::Live) => {
            Line::styled("    no Pending pod (its pods may run without being Ready)", theme.dim())
        }
        Some(WatchState::Forbidden(_)) => {
            Line::styled("    pods unknown: no permission to list pods", theme.tone(Tone::Bad))
        }
        Some(WatchState::Lost { .. }) => {
            Line::styled("    pods unknown: the pod watch is lost", theme.tone(Tone::Bad))
        }
        _ => Line::styled("    pods unknown: pods not listed yet", theme.dim()),
    }
}

fn waited_for(lines: &mut Out, snap: &Snapshot, w: &WaitedFor, theme: Theme) {
    let mut spans = vec![Span::raw("  "), Span::styled(w.id(), theme.heading())];
    if !w.status.is_empty() {
        spans.push(Span::styled(format!("  {}", w.status), theme.tone(Tone::Warn)));
    }
    if w.kind == "CustomResourceDefinition" {
        spans.push(Span::styled("  CRD not established", theme.tone(Tone::Bad)));
    }
    if !w.detail.is_empty() {
        spans.push(Span::raw(format!("  {}", w.detail)));
    }
    lines.push(Line::from(spans), 4);
    for p in &w.pods {
        let node = p.node.as_deref().map(|n| format!(" on {n}")).unwrap_or_default();
        let line = Line::from(vec![
            Span::raw(format!("    pod {}", p.name)),
            Span::styled(format!(" Pending{node} · {}  ", opt_age(p.age_secs)), theme.dim()),
            Span::styled(p.reason.clone(), theme.tone(Tone::Bad)),
        ]);
        lines.push(line, 8);
        if !p.message.is_empty() {
            lines.push(Line::raw(format!("      {}", p.message)), 6);
        }
        for e in &p.events {
            event_line(lines, e, 6, theme);
        }
    }
    if w.more_pods > 0 {
        lines.push(Line::styled(format!("    … and {} more Pending pods", w.more_pods), theme.dim()), 6);
    }
    if w.pods.is_empty() && matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
        lines.push(no_pods_line(snap, theme), 6);
    }
    for e in &w.events {
        event_line(lines, e, 4, theme);
    }
}

fn chain(lines: &mut Out, e: &Explanation, theme: Theme) {
    heading(lines, theme, "Dependency chain");
    for (i, l) in e.chain.iter().enumerate() {
        let indent = 2 * i.min(MAX_INDENT);
        let arrow = if i == 0 { "  " } else { "  └ " };
        let s = l.state.state;
        let mut spans = vec![
            Span::styled(format!("{}{arrow}", " ".repeat(indent)), theme.dim()),
            Span::styled(format!("{} {:<8}", state_glyph(s), s.as_str()), theme.state(s)),
            Span::raw(format!(" {}", l.key)),
        ];
        if !l.state.reason.is_empty() {
            spans.push(Span::styled(format!("  {}", l.state.reason), theme.dim()));
        }
        lines.push(Line::from(spans), indent + 6);
        // The bottom's message is the evidence; the waiting ones only name their dependency.
        if i + 1 == e.chain.len() && s != ObjectState::Waiting && !l.state.message.is_empty() {
            lines.push(Line::raw(format!("{}      {}", " ".repeat(indent), l.state.message)), indent + 6);
        }
    }
    if e.chain_truncated {
        lines.push(Line::styled(format!("  … cut after {} objects", e.chain.len()), theme.dim()), 4);
    }
    if let Some(d) = e.root_cause.as_ref().and_then(|r| r.missing.as_ref()) {
        let text = format!("  └ {}/{} does not exist", d.namespace, d.name);
        lines.push(Line::styled(text, theme.tone(Tone::Bad)), 4);
    }
}

/// Lines of the owning controller's log shown under the cause.
const LOG_SHOWN: usize = 5;

/// The newest lines the owning controller logged about the object, or why there are none.
fn controller_log(lines: &mut Out, log: &LogView, theme: Theme) {
    heading(lines, theme, format!("Its controller's log (newest {LOG_SHOWN}; l for all)"));
    for n in &log.notes {
        lines.push(Line::styled(format!("  {n}"), theme.dim()), 4);
    }
    let shown = log.shown();
    if shown.is_empty() {
        lines.push(Line::styled("  no line names it in the last 10 minutes", theme.dim()), 4);
    }
    for l in shown.iter().skip(shown.len().saturating_sub(LOG_SHOWN)) {
        lines.push(Line::raw(format!("  {l}")), 4);
    }
}

/// The explanation as lines, cause first.
fn explanation(snap: &Snapshot, e: &Explanation, log: Option<&LogView>, theme: Theme) -> Out {
    let mut lines = Out::default();
    if let Some(s) = &e.state {
        let reason = if s.reason.is_empty() { String::new() } else { format!("  {}", s.reason) };
        let line = Line::from(vec![
            Span::styled(format!("{} {}", state_glyph(s.state), s.state.as_str()), theme.state(s.state)),
            Span::raw(reason),
            Span::styled(format!(" · {}", opt_age(e.age_secs)), theme.dim()),
        ]);
        lines.push(line, 2);
    }
    let cause = Line::from(vec![
        Span::styled("⤷ cause: ", theme.tone(Tone::Warn)),
        Span::styled(e.cause.clone(), theme.tone(Tone::Bad)),
    ]);
    lines.push(cause, 9);
    for b in &e.blind {
        lines.push(Line::styled(format!("not visible: {b}"), theme.tone(Tone::Bad)), 13);
    }
    if let Some(log) = log {
        controller_log(&mut lines, log, theme);
    }
    if e.chain.len() > 1 || e.root_cause.as_ref().is_some_and(|r| r.missing.is_some()) {
        chain(&mut lines, e, theme);
    }
    if let Some(of) = &e.waits_for_of {
        if !e.missing_kinds.is_empty() {
            heading(&mut lines, theme, format!("Kinds {of} could not apply"));
            for k in &e.missing_kinds {
                let text = format!("  {} {}  CRD not installed or not established", k.kind, k.version);
                lines.push(Line::styled(text, theme.tone(Tone::Bad)), 4);
            }
        }
        if !e.waits_for.is_empty() {
            heading(&mut lines, theme, format!("{of} waits for"));
            for w in &e.waits_for {
                waited_for(&mut lines, snap, w, theme);
            }
        }
    }
    if !e.conditions.is_empty() {
        heading(&mut lines, theme, "Conditions");
        for c in &e.conditions {
            let tone = match (c.type_.as_str(), c.status.as_str()) {
                (_, "Unknown") | ("Reconciling", "True") => Tone::Warn,
                ("Ready" | "Healthy", "False") | ("Stalled", "True") => Tone::Bad,
                _ => Tone::Plain,
            };
            let line = Line::from(vec![
                Span::raw(format!("  {:<12}", c.type_)),
                Span::styled(format!("{:<8}", c.status), theme.tone(tone)),
                Span::raw(c.reason.clone()),
                Span::styled(format!(" · {}", opt_age(c.age_secs)), theme.dim()),
            ]);
            lines.push(line, 6);
            if !c.message.is_empty() {
                lines.push(Line::styled(format!("      {}", c.message), theme.dim()), 6);
            }
        }
    }
    if !e.events.is_empty() {
        heading(&mut lines, theme, "Events");
        for ev in &e.events {
            event_line(&mut lines, ev, 2, theme);
        }
    }
    lines
}

/// What to show for `key`: its explanation, or why there is none.
fn content(snap: &Snapshot, key: &FluxKey, log: Option<&LogView>, theme: Theme) -> Out {
    if let Some(e) = snap.explanations.iter().find(|e| &e.key == key) {
        return explanation(snap, e, log, theme);
    }
    // Only blocked objects are explained: say what this one is instead.
    let a = &snap.assignment;
    let state = snap.dependencies.nodes.iter().find(|n| &n.key == key).map(|n| n.state.state).or_else(|| {
        let mut objects = a.orphans.iter().chain(a.shards.iter().flat_map(|s| s.objects.iter()));
        objects.find(|o| &o.key == key).map(|o| o.state.state)
    });
    let mut out = Out::default();
    match state {
        Some(s) => {
            out.push(Line::styled(format!("{} {}", state_glyph(s), s.as_str()), theme.state(s)), 0);
            let why = "Nothing to explain: only objects that are not Ready are explained.";
            out.push(Line::styled(why, theme.dim()), 0);
        }
        None => {
            let why = "Not found: it was deleted, or is no longer followed.";
            out.push(Line::styled(why, theme.tone(Tone::Warn)), 0);
        }
    }
    out
}

/// How many lines the view has before wrapping (how far it scrolls, as details do).
pub fn line_count(snap: &Snapshot, key: &FluxKey, log: Option<&LogView>) -> usize {
    content(snap, key, log, Theme::new(true)).0.len()
}

/// Draws the view for `key` over everything but the header and footer lines, scrolled
/// down by `scroll` lines.
pub fn render(
    buf: &mut Buffer,
    area: Rect,
    snap: &Snapshot,
    key: &FluxKey,
    scroll: u16,
    log: Option<&LogView>,
    theme: Theme,
) {
    let areas = split(area);
    let rect = Rect { y: areas.tabs.y, height: areas.tabs.height + areas.body.height, ..area };
    if rect.width < 3 || rect.height < 3 {
        return;
    }
    Clear.render(rect, buf);
    let inner_width = rect.width.saturating_sub(2) as usize;
    let title = fit(Line::styled(format!(" Explain {key} "), theme.heading()), inner_width.saturating_sub(2));
    let block = super::details::overlay_block(title, theme);
    let lines: Vec<Line> =
        content(snap, key, log, theme).0.into_iter().flat_map(|l| wrap(l, inner_width)).collect();
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)).render(rect, buf);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::model::event::{Change, ClusterEvent, ObjectId, ResourceKind, WatchState};
    use crate::model::fixture::{NS, demo_model};
    use crate::model::objects::{FluxKey, FluxKind, Time};
    use crate::model::{Model, Snapshot};
    use crate::ui::{KeyOutcome, Panel, UiState, draw, handle_key};

    fn now() -> Time {
        chrono::Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().unwrap_or_default()
    }

    fn ks(name: &str) -> FluxKey {
        FluxKey { kind: FluxKind::Kustomization, namespace: NS.into(), name: name.into() }
    }

    fn screen(snap: &Snapshot, state: &UiState, width: u16, height: u16) -> String {
        let mut term = Terminal::new(TestBackend::new(width, height)).expect("test backend");
        term.draw(|f| draw(f, snap, state)).expect("draw");
        let buf = term.backend().buffer().clone();
        let mut out = Vec::new();
        for row in buf.content.chunks(buf.area.width.max(1) as usize) {
            let (mut line, mut skip) = (String::new(), 0usize);
            for cell in row {
                if skip == 0 {
                    line.push_str(cell.symbol());
                }
                skip = skip.max(ratatui::text::Span::raw(cell.symbol()).width()).saturating_sub(1);
            }
            out.push(line.trim_end().to_string());
        }
        out.join("\n")
    }

    fn explaining(name: &str) -> UiState {
        UiState { panel: Panel::Dependencies, explain: Some(ks(name)), ..UiState::new(false) }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn change(model: &mut Model, change: Change) {
        model.apply(ClusterEvent { at: now(), change });
    }

    #[test]
    fn explains_a_waiting_kustomization_down_to_the_pending_pod() {
        let snap = Snapshot::of(&demo_model(now()), now());
        let state = explaining("apps");
        insta::assert_snapshot!("explain_apps_80x24", screen(&snap, &state, 80, 24));
        insta::assert_snapshot!("explain_apps_120x34", screen(&snap, &state, 120, 34));
        // The failed object itself shows its health-check message under the cause.
        let s = screen(&snap, &explaining("infra-controllers"), 120, 34);
        assert!(s.contains("Deployment/cert-manager/cert-manager-webhook  InProgress"), "{s}");
        assert!(s.contains("⚠ FailedScheduling ×4 · 40s ago"), "{s}");
    }

    #[test]
    fn says_what_it_cannot_see_instead_of_no_pods() {
        let mut model = demo_model(now());
        let forbidden = WatchState::Forbidden("pods is forbidden".into());
        change(&mut model, Change::Watch(ResourceKind::PendingPod, forbidden));
        change(&mut model, Change::Listed(ResourceKind::PendingPod, Vec::new()));
        change(&mut model, Change::Watch(ResourceKind::PendingPod, WatchState::Forbidden("no".into())));
        let snap = Snapshot::of(&model, now());
        insta::assert_snapshot!(
            "explain_forbidden_pods_80x24",
            screen(&snap, &explaining("infra-controllers"), 80, 24)
        );
        let s = screen(&snap, &explaining("infra-controllers"), 120, 34);
        assert!(s.contains("pods unknown: no permission to list pods"), "{s}");
        assert!(!s.contains("no Pending pod"), "{s}");
    }

    #[test]
    fn redraws_from_each_new_snapshot() {
        let mut model = demo_model(now());
        let state = explaining("apps");
        let before = screen(&Snapshot::of(&model, now()), &state, 120, 34);
        assert!(before.contains("cause: pod cert-manager/cert-manager-webhook-"), "{before}");
        // The pod is scheduled at last: it leaves the Pending watch.
        let pod = model.pending_pods.keys().next().cloned().expect("a pending pod");
        change(&mut model, Change::Deleted(ObjectId::PendingPod(pod.0, pod.1)));
        let after = screen(&Snapshot::of(&model, now()), &state, 120, 34);
        assert!(after.contains("no Pending pod (its pods may run without being Ready)"), "{after}");
        assert!(!after.contains("cause: pod "), "{after}");
        // Once Ready, there is nothing left to explain.
        let ready = Snapshot::of(&crate::model::fixture::seed_stack(now()), now());
        let s = screen(&ready, &explaining("infra-configs"), 80, 24);
        assert!(s.contains("Nothing to explain"), "{s}");
    }

    #[test]
    fn e_opens_it_on_flux_rows_and_esc_closes_it() {
        let snap = Snapshot::of(&demo_model(now()), now());
        let mut state = UiState { panel: Panel::Dependencies, ..UiState::new(false) };
        let row = (0..50)
            .find(|&i| {
                state.lists[Panel::Dependencies.index()].selected = i;
                super::super::selected_flux_key(&snap, &state) == Some(ks("apps"))
            })
            .expect("apps is a row");
        state.lists[Panel::Dependencies.index()].selected = row;
        assert_eq!(handle_key(&mut state, key(KeyCode::Char('e')), &snap), KeyOutcome::Changed);
        assert_eq!(state.explain, Some(ks("apps")));
        // Scrolling stops at the last line; Esc closes.
        for _ in 0..500 {
            handle_key(&mut state, key(KeyCode::Char('j')), &snap);
        }
        let last = super::line_count(&snap, &ks("apps"), None) as u16 - 1;
        assert_eq!(state.explain_scroll, last);
        handle_key(&mut state, key(KeyCode::Esc), &snap);
        assert_eq!((state.explain.clone(), state.explain_scroll), (None, 0));
        // From the details overlay too.
        handle_key(&mut state, key(KeyCode::Enter), &snap);
        assert!(state.details);
        handle_key(&mut state, key(KeyCode::Char('e')), &snap);
        assert_eq!((state.details, state.explain.clone()), (false, Some(ks("apps"))));
        // The Shards panel has no Flux object to explain.
        let mut shards = UiState::new(false);
        handle_key(&mut shards, key(KeyCode::Char('e')), &snap);
        assert_eq!(shards.explain, None);
        assert!(shards.message.as_deref().unwrap_or("").contains("select a Kustomization"));
        // The Assignment panel's object rows are Flux objects.
        let mut assignment = UiState { panel: Panel::Assignment, ..UiState::new(false) };
        let found = (0..60).any(|i| {
            assignment.lists[Panel::Assignment.index()].selected = i;
            super::super::selected_flux_key(&snap, &assignment).is_some()
        });
        assert!(found);
    }

    #[test]
    fn never_panics_at_any_size() {
        let snap = Snapshot::of(&demo_model(now()), now());
        for (w, h) in [(0, 0), (1, 1), (3, 40), (20, 5), (40, 10), (80, 24), (250, 2), (200, 60)] {
            for name in ["apps", "infra-controllers", "flux-system", "nope"] {
                let mut state = explaining(name);
                state.explain_scroll = 1000;
                screen(&snap, &state, w, h);
                state.help = true;
                screen(&snap, &state, w, h);
            }
        }
    }
}
