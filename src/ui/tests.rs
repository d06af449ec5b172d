//! Full-screen golden tests: what the user sees, as text, at 80×24 and 160×48, plus
//! colours and every size from 1×1 up drawing without a panic.

use std::sync::Arc;

use chrono::Duration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::style::{Color, Modifier};

use crate::model::Snapshot;
use crate::model::event::WatchState;
use crate::model::graph::DependencyGraph;

use super::sample::{now, snapshot, snapshot_with_failover};
use super::{Panel, Request, UiState, draw};

/// The buffer as lines of text, trailing spaces trimmed (they are invisible anyway).
pub(super) fn text(buf: &Buffer) -> String {
    let width = buf.area.width as usize;
    let mut out = Vec::new();
    for row in buf.content.chunks(width.max(1)) {
        let mut line = String::new();
        let mut skip = 0;
        for cell in row {
            if skip == 0 {
                line.push_str(cell.symbol());
            }
            skip = std::cmp::max(skip, unicode_cells(cell.symbol())).saturating_sub(1);
        }
        out.push(line.trim_end().to_string());
    }
    out.join("\n")
}

fn unicode_cells(symbol: &str) -> usize {
    ratatui::text::Span::raw(symbol).width()
}

pub(super) fn draw_to(snap: &Snapshot, state: &UiState, width: u16, height: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    term.draw(|f| draw(f, snap, state)).expect("draw");
    term.backend().buffer().clone()
}

fn screen(snap: &Snapshot, state: &UiState, width: u16, height: u16) -> String {
    text(&draw_to(snap, state, width, height))
}

fn on(panel: Panel) -> UiState {
    UiState { panel, ..UiState::new(false) }
}

macro_rules! golden {
    ($name:ident, $panel:expr) => {
        #[test]
        fn $name() {
            let snap = snapshot();
            let state = on($panel);
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&snap, &state, 80, 24));
            insta::assert_snapshot!(concat!(stringify!($name), "_160x48"), screen(&snap, &state, 160, 48));
        }
    };
}

golden!(shards, Panel::Shards);
golden!(placement, Panel::Placement);
golden!(dependencies, Panel::Dependencies);
golden!(assignment, Panel::Assignment);
golden!(events, Panel::Events);

#[test]
fn events_with_a_failover_timeline() {
    let snap = snapshot_with_failover();
    let state = on(Panel::Events);
    insta::assert_snapshot!("events_failover_80x24", screen(&snap, &state, 80, 24));
    insta::assert_snapshot!("events_failover_160x48", screen(&snap, &state, 160, 48));
    // Enter on the open incident (row 1, under the heading): every time and the waited objects.
    let mut state = on(Panel::Events);
    state.lists[Panel::Events.index()].selected = 1;
    state.details = true;
    insta::assert_snapshot!("details_failover_open_80x24", screen(&snap, &state, 80, 24));
    state.lists[Panel::Events.index()].selected = 2;
    insta::assert_snapshot!("details_failover_closed_160x48", screen(&snap, &state, 160, 48));
}

#[test]
fn help_overlay() {
    let snap = snapshot();
    let state = UiState { help: true, ..on(Panel::Shards) };
    insta::assert_snapshot!("help_80x24", screen(&snap, &state, 80, 24));
    insta::assert_snapshot!("help_160x48", screen(&snap, &state, 160, 48));
}

#[test]
fn details_of_a_blocked_kustomization() {
    let snap = snapshot();
    let mut state = on(Panel::Dependencies);
    // Tree order: flux-system, infra-sources, infra-crds, infra-controllers, infra-configs.
    state.lists[Panel::Dependencies.index()].selected = 4;
    state.details = true;
    insta::assert_snapshot!("details_infra_configs_80x24", screen(&snap, &state, 80, 24));
    insta::assert_snapshot!("details_infra_configs_160x48", screen(&snap, &state, 160, 48));
}

#[test]
fn details_of_a_shard_and_a_node() {
    let snap = snapshot();
    let mut state = on(Panel::Shards);
    state.lists[Panel::Shards.index()].selected = 2;
    state.details = true;
    insta::assert_snapshot!("details_shard2_80x24", screen(&snap, &state, 80, 24));
    let mut state = on(Panel::Placement);
    state.lists[Panel::Placement.index()].selected = 11;
    state.details = true;
    insta::assert_snapshot!("details_worker2_80x24", screen(&snap, &state, 80, 24));
}

#[test]
fn confirmation_overlay() {
    let snap = snapshot();
    let mut state = on(Panel::Placement);
    state.lists[Panel::Placement.index()].selected = 14;
    state.confirm = Some(Request::Cordon("shardwatch-worker3".into()));
    insta::assert_snapshot!("confirm_cordon_80x24", screen(&snap, &state, 80, 24));
    state.lists[Panel::Placement.index()].selected = 12;
    state.confirm = Some(Request::DeletePod("source-controller-shard2-5b7c8d9f4-k2x9p".into()));
    insta::assert_snapshot!("confirm_delete_pod_80x24", screen(&snap, &state, 80, 24));
    // The new actions: the consequence wraps and the overlay grows to show all of it.
    state.lists[Panel::Placement.index()].selected = 11;
    state.confirm = Some(Request::FailNode("shardwatch-worker2".into()));
    insta::assert_snapshot!("confirm_fail_node_80x24", screen(&snap, &state, 80, 24));
    state.confirm = Some(Request::RestoreNode("shardwatch-worker2".into()));
    insta::assert_snapshot!("confirm_restore_node_80x24", screen(&snap, &state, 80, 24));
    state.lists[Panel::Placement.index()].selected = 14;
    state.confirm = Some(Request::Drain("shardwatch-worker3".into()));
    insta::assert_snapshot!("confirm_drain_80x24", screen(&snap, &state, 80, 24));
    let mut state = on(Panel::Shards);
    state.lists[Panel::Shards.index()].selected = 3;
    state.confirm = Some(Request::ScaleShard { shard: "shard3".into(), replicas: 0, deployments: 3 });
    insta::assert_snapshot!("confirm_scale_shard_80x24", screen(&snap, &state, 80, 24));
    state.confirm = Some(Request::ScaleShard { shard: "shard3".into(), replicas: 1, deployments: 3 });
    insta::assert_snapshot!("confirm_scale_shard_back_80x24", screen(&snap, &state, 80, 24));
    state.lists[Panel::Shards.index()].selected = 0;
    state.confirm = Some(Request::ScaleShard { shard: "main".into(), replicas: 0, deployments: 4 });
    insta::assert_snapshot!("confirm_scale_main_80x24", screen(&snap, &state, 80, 24));
    // Read-only: the refusal is on the footer line.
    let state = UiState { message: Some("read-only: actions are disabled".into()), ..on(Panel::Placement) };
    let s = screen(&snap, &state, 80, 24);
    assert_eq!(s.lines().last(), Some(" read-only: actions are disabled"), "{s}");
}

/// The header and panels when shardwatch cannot see everything.
fn impaired() -> Snapshot {
    let mut snap = snapshot();
    snap.watches.insert("kustomizations".into(), WatchState::NotInstalled);
    snap.watches.insert("nodes".into(), WatchState::Forbidden("nodes is forbidden: User cannot list".into()));
    let since = now() - Duration::seconds(12);
    snap.watches.insert("pods".into(), WatchState::Lost { since, error: "connection reset".into() });
    snap.dependencies = Arc::new(DependencyGraph::default());
    let placement = Arc::make_mut(&mut snap.placement);
    placement.nodes.clear();
    placement.violations.clear();
    snap
}

#[test]
fn header_and_panels_say_what_is_not_visible() {
    let snap = impaired();
    insta::assert_snapshot!("impaired_dependencies_80x24", screen(&snap, &on(Panel::Dependencies), 80, 24));
    insta::assert_snapshot!("impaired_placement_80x24", screen(&snap, &on(Panel::Placement), 80, 24));
    insta::assert_snapshot!("impaired_shards_80x24", screen(&snap, &on(Panel::Shards), 80, 24));
    let mut syncing = snapshot();
    syncing.watches.clear();
    syncing.dependencies = Arc::new(DependencyGraph::default());
    let s = screen(&syncing, &on(Panel::Dependencies), 80, 24);
    assert!(s.contains("kustomizations: listing…"), "{s}");
}

#[test]
fn header_counts_the_kinds_still_being_listed() {
    let mut snap = snapshot();
    let all = snap.watches.len();
    for state in snap.watches.values_mut().take(2) {
        *state = WatchState::Syncing;
    }
    let s = screen(&snap, &on(Panel::Shards), 120, 24);
    let watch_line = s.lines().find(|l| l.starts_with("watch ")).unwrap_or_default();
    assert!(watch_line.contains(&format!("syncing: {} of {all} kinds listed", all - 2)), "{s}");
    assert!(!watch_line.contains("live"), "{s}");
}

#[test]
fn filter_shows_matching_rows_only() {
    let snap = snapshot();
    let state = UiState { filter: "WORKER2".into(), ..on(Panel::Placement) };
    insta::assert_snapshot!("placement_filtered_80x24", screen(&snap, &state, 80, 24));
    let state = UiState { filter: "no such thing".into(), ..on(Panel::Events) };
    assert!(screen(&snap, &state, 80, 24).contains("no row matches \"no such thing\""));
}

/// Where `needle` first appears on screen.
fn find(buf: &Buffer, needle: &str) -> Position {
    let t = text(buf);
    let (y, line) = t.lines().enumerate().find(|(_, l)| l.contains(needle)).expect("on screen");
    let x = line[..line.find(needle).unwrap_or(0)].chars().count();
    Position::new(x as u16, y as u16)
}

#[test]
fn failed_state_is_red_and_no_color_uses_modifiers_only() {
    let snap = snapshot();
    let buf = draw_to(&snap, &on(Panel::Dependencies), 120, 30);
    let pos = find(&buf, "✕ Failed");
    let red = super::theme::Palette::default().bad;
    assert_eq!(buf[pos].fg, red);
    assert_eq!(buf[(pos.x + 2, pos.y)].fg, red, "the word, not only the glyph");

    let plain = UiState { no_color: true, ..on(Panel::Dependencies) };
    let buf = draw_to(&snap, &plain, 120, 30);
    let pos = find(&buf, "✕ Failed");
    assert_eq!(buf[pos].fg, Color::Reset);
    assert!(buf[pos].modifier.contains(Modifier::BOLD));
    let coloured = buf.content.iter().filter(|c| c.fg != Color::Reset || c.bg != Color::Reset).count();
    assert_eq!(coloured, 0, "NO_COLOR: no cell has a colour");
}

#[test]
fn selected_row_is_highlighted() {
    let snap = snapshot();
    let mut state = on(Panel::Shards);
    state.lists[0].selected = 2;
    let buf = draw_to(&snap, &state, 80, 24);
    let pos = find(&buf, "○ shard2");
    let palette = super::theme::Palette::default();
    assert_eq!(buf[pos].bg, palette.selection);
    // Muted text on the selected row must differ from the bar, or it vanishes.
    assert!(buf.content.iter().all(|c| c.bg != palette.selection || c.fg != c.bg));
    let other = find(&buf, "◐ shard3");
    assert_eq!(buf[other].bg, palette.background);
}

#[test]
fn never_panics_at_any_size() {
    let snap = snapshot();
    let empty = Snapshot { shards: vec![], events: Arc::new(vec![]), ..impaired() };
    let mut sizes = vec![(1, 1), (20, 5), (80, 24), (200, 60), (0, 0), (3, 40), (250, 2)];
    // A cheap deterministic spread of odd sizes.
    let mut seed: u32 = 7;
    for _ in 0..40 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        sizes.push(((seed >> 8) as u16 % 180 + 1, (seed >> 20) as u16 % 60 + 1));
    }
    for (w, h) in sizes {
        for panel in Panel::ALL {
            for (help, details, filter) in
                [(false, false, ""), (true, false, ""), (false, true, ""), (false, false, "x")]
            {
                let confirm = details.then(|| Request::DeletePod("a-very-long-pod-name-0123456789".into()));
                let mut state = UiState { help, details, confirm, filter: filter.into(), ..on(panel) };
                state.lists[panel.index()].selected = 1000;
                for s in [&snap, &empty] {
                    draw_to(s, &state, w, h);
                }
            }
        }
    }
}
