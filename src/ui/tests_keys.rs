//! Key handling: panel switching, movement, filter, command, overlays, quitting.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::sample::snapshot;
use super::{Input, KeyOutcome, Panel, Request, UiState, handle_key};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

fn typing(state: &mut UiState, s: &str) {
    let snap = snapshot();
    for c in s.chars() {
        handle_key(state, ch(c), &snap);
    }
}

#[test]
fn tab_number_and_backtab_switch_panels() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    assert_eq!(handle_key(&mut s, key(KeyCode::Tab), &snap), KeyOutcome::Changed);
    assert_eq!(s.panel, Panel::Placement);
    assert_eq!(handle_key(&mut s, ch('3'), &snap), KeyOutcome::Changed);
    assert_eq!(s.panel, Panel::Dependencies);
    assert_eq!(handle_key(&mut s, ch('3'), &snap), KeyOutcome::Ignored);
    handle_key(&mut s, ch('1'), &snap);
    handle_key(&mut s, KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT), &snap);
    assert_eq!(s.panel, Panel::Events);
}

#[test]
fn colon_jumps_to_a_panel_by_prefix() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    typing(&mut s, ":dep");
    assert_eq!(s.input, Input::Command("dep".into()));
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    assert_eq!((s.panel, &s.input), (Panel::Dependencies, &Input::Normal));
    typing(&mut s, ":nope");
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    assert_eq!(s.panel, Panel::Dependencies);
    assert!(s.message.as_deref().unwrap_or("").contains("unknown panel"));
    typing(&mut s, ":q");
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter), &snap), KeyOutcome::Quit);
}

#[test]
fn movement_stops_at_both_ends() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    assert_eq!(handle_key(&mut s, ch('k'), &snap), KeyOutcome::Ignored);
    handle_key(&mut s, ch('j'), &snap);
    handle_key(&mut s, key(KeyCode::Down), &snap);
    assert_eq!(s.list().selected, 2);
    handle_key(&mut s, ch('G'), &snap);
    assert_eq!(s.list().selected, snap.shards.len() - 1);
    assert_eq!(handle_key(&mut s, ch('j'), &snap), KeyOutcome::Ignored);
    handle_key(&mut s, key(KeyCode::PageUp), &snap);
    assert_eq!(s.list().selected, 0);
    handle_key(&mut s, key(KeyCode::PageDown), &snap);
    assert_eq!(s.list().selected, snap.shards.len() - 1);
    handle_key(&mut s, ch('g'), &snap);
    assert_eq!(s.list().selected, 0);
}

#[test]
fn slash_filters_and_esc_clears() {
    let snap = snapshot();
    let mut s = UiState { panel: Panel::Events, ..UiState::new(false) };
    typing(&mut s, "/foo");
    assert_eq!((s.filter.as_str(), &s.input), ("foo", &Input::Filter));
    assert_eq!(handle_key(&mut s, key(KeyCode::Backspace), &snap), KeyOutcome::Changed);
    handle_key(&mut s, ch('o'), &snap);
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    assert_eq!((s.filter.as_str(), &s.input), ("foo", &Input::Normal));
    // While typing, q is text, not quit.
    typing(&mut s, "/q");
    assert_eq!(s.filter, "q");
    handle_key(&mut s, key(KeyCode::Esc), &snap);
    assert_eq!((s.filter.as_str(), &s.input), ("", &Input::Normal));
    // Esc in normal mode clears a kept filter.
    typing(&mut s, "/shard2");
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    assert_eq!(handle_key(&mut s, key(KeyCode::Esc), &snap), KeyOutcome::Changed);
    assert_eq!(s.filter, "");
}

#[test]
fn filter_bounds_movement() {
    let snap = snapshot();
    let mut s = UiState { panel: Panel::Events, ..UiState::new(false) };
    typing(&mut s, "/worker2");
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    handle_key(&mut s, ch('G'), &snap);
    let matching = snap.events.iter().filter(|e| e.subject.contains("worker2")).count();
    assert_eq!(s.list().selected, matching - 1);
}

#[test]
fn enter_opens_details_and_esc_closes() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter), &snap), KeyOutcome::Changed);
    assert!(s.details);
    // Panel keys do nothing under the overlay; j scrolls it instead.
    handle_key(&mut s, ch('2'), &snap);
    assert_eq!(s.panel, Panel::Shards);
    handle_key(&mut s, ch('j'), &snap);
    assert_eq!(s.details_scroll, 1);
    handle_key(&mut s, key(KeyCode::Esc), &snap);
    assert!(!s.details);
    assert_eq!(s.details_scroll, 0);
}

#[test]
fn enter_on_an_empty_panel_does_nothing() {
    let mut snap = snapshot();
    Arc::make_mut(&mut snap.events).clear();
    let mut s = UiState { panel: Panel::Events, ..UiState::new(false) };
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter), &snap), KeyOutcome::Ignored);
    assert!(!s.details);
}

#[test]
fn help_toggles_and_swallows_keys() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    handle_key(&mut s, ch('?'), &snap);
    assert!(s.help);
    handle_key(&mut s, ch('j'), &snap);
    assert_eq!(s.list().selected, 0);
    handle_key(&mut s, ch('?'), &snap);
    assert!(!s.help);
}

#[test]
fn q_and_ctrl_c_quit_release_is_ignored() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    assert_eq!(handle_key(&mut s, ch('q'), &snap), KeyOutcome::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    s.input = Input::Filter;
    assert_eq!(handle_key(&mut s, ctrl_c, &snap), KeyOutcome::Quit);
    let mut release = ch('q');
    release.kind = KeyEventKind::Release;
    assert_eq!(handle_key(&mut UiState::new(false), release, &snap), KeyOutcome::Ignored);
}

#[test]
fn panel_names_resolve() {
    assert_eq!(Panel::from_name("PL"), Some(Panel::Placement));
    assert_eq!(Panel::from_name("4"), Some(Panel::Assignment));
    assert_eq!(Panel::from_name("ks"), Some(Panel::Dependencies));
    assert_eq!(Panel::from_name("0"), None);
    assert_eq!(Panel::from_name(""), None);
}

/// The Placement panel with row `row` selected (0, 1 violations; 14 shardwatch-worker3;
/// 12 a shard2 source-controller pod).
fn placement_at(row: usize) -> UiState {
    let mut s = UiState { panel: Panel::Placement, ..UiState::new(false) };
    s.lists[Panel::Placement.index()].selected = row;
    s
}

#[test]
fn c_on_a_node_asks_and_y_confirms() {
    let snap = snapshot();
    let mut s = placement_at(14);
    assert_eq!(handle_key(&mut s, ch('c'), &snap), KeyOutcome::Changed);
    assert_eq!(s.confirm, Some(Request::Cordon("shardwatch-worker3".into())));
    // Movement keys do not move under the overlay: only y confirms.
    let outcome = handle_key(&mut s, ch('y'), &snap);
    assert_eq!(outcome, KeyOutcome::Request(Request::Cordon("shardwatch-worker3".into())));
    assert_eq!(s.confirm, None);
    assert!(s.message.as_deref().unwrap_or("").contains("cordoning node shardwatch-worker3"));
}

#[test]
fn anything_but_y_cancels() {
    let snap = snapshot();
    for cancel in [ch('n'), key(KeyCode::Esc), ch('j'), key(KeyCode::Enter), ch('q')] {
        let mut s = placement_at(14);
        handle_key(&mut s, ch('c'), &snap);
        assert_eq!(handle_key(&mut s, cancel, &snap), KeyOutcome::Changed, "{cancel:?}");
        assert_eq!(s.confirm, None);
        assert_eq!(s.list().selected, 14, "the cancelling key does nothing else");
        assert_eq!(s.message.as_deref(), Some("cancelled"));
    }
}

#[test]
fn x_on_a_pod_asks_to_delete_it() {
    let snap = snapshot();
    let mut s = placement_at(12);
    handle_key(&mut s, ch('x'), &snap);
    let Some(Request::DeletePod(pod)) = s.confirm.clone() else { panic!("{:?}", s.confirm) };
    assert!(pod.starts_with("source-controller-shard2-"), "{pod}");
    assert_eq!(handle_key(&mut s, ch('y'), &snap), KeyOutcome::Request(Request::DeletePod(pod)));
}

#[test]
fn action_keys_need_the_right_row() {
    let snap = snapshot();
    // x on a node, c on a pod, c on a violation: a message, no overlay.
    for (row, c, want) in [(14, 'x', "select a pod"), (12, 'c', "select a node"), (0, 'c', "select a node")] {
        let mut s = placement_at(row);
        handle_key(&mut s, ch(c), &snap);
        assert_eq!(s.confirm, None);
        assert!(s.message.as_deref().unwrap_or("").contains(want), "{row} {c}: {:?}", s.message);
    }
    // u on a node that is not cordoned.
    let mut s = placement_at(14);
    handle_key(&mut s, ch('u'), &snap);
    assert_eq!(s.confirm, None);
    assert!(s.message.as_deref().unwrap_or("").contains("not cordoned"));
    // Other panels: nothing to act on.
    let mut s = UiState::new(false);
    handle_key(&mut s, ch('x'), &snap);
    assert_eq!(s.confirm, None);
    assert!(s.message.as_deref().unwrap_or("").contains("no action on this panel"));
}

#[test]
fn u_on_a_cordoned_node_asks_to_uncordon() {
    let mut snap = snapshot();
    Arc::make_mut(&mut Arc::make_mut(&mut snap.placement).nodes[3]).cordoned = true;
    let mut s = placement_at(14);
    handle_key(&mut s, ch('c'), &snap);
    assert_eq!(s.confirm, None, "already cordoned");
    handle_key(&mut s, ch('u'), &snap);
    assert_eq!(s.confirm, Some(Request::Uncordon("shardwatch-worker3".into())));
}

#[test]
fn read_only_refuses_action_keys() {
    let snap = snapshot();
    for (row, c) in [(14, 'c'), (14, 'u'), (12, 'x')] {
        let mut s = UiState { read_only: true, ..placement_at(row) };
        assert_eq!(handle_key(&mut s, ch(c), &snap), KeyOutcome::Changed);
        assert_eq!(s.confirm, None);
        assert_eq!(s.message.as_deref(), Some("read-only: actions are disabled"));
    }
}

#[test]
fn a_remote_cluster_refuses_node_pod_and_scale_keys_with_the_reason() {
    let snap = snapshot();
    let why =
        "context prod at https://k8s.example.com is neither ...; pass --allow-remote to change it anyway";
    for (row, c) in [(14, 'c'), (14, 'd'), (14, 'f'), (12, 'x')] {
        let mut s = UiState { remote_refusal: Some(why.into()), ..placement_at(row) };
        assert_eq!(handle_key(&mut s, ch(c), &snap), KeyOutcome::Changed);
        assert_eq!(s.confirm, None, "{c}");
        assert_eq!(s.message, Some(format!("{c}: refused: {why}")), "{c}");
    }
    let mut s = UiState { remote_refusal: Some(why.into()), panel: Panel::Shards, ..UiState::new(true) };
    handle_key(&mut s, ch('s'), &snap);
    assert_eq!(s.message, Some(format!("s: refused: {why}")), "scaling a shard");
}

#[test]
fn d_on_a_node_asks_to_drain_it() {
    let snap = snapshot();
    let mut s = placement_at(14);
    handle_key(&mut s, ch('d'), &snap);
    assert_eq!(s.confirm, Some(Request::Drain("shardwatch-worker3".into())));
    assert_eq!(
        handle_key(&mut s, ch('y'), &snap),
        KeyOutcome::Request(Request::Drain("shardwatch-worker3".into()))
    );
    assert_eq!(s.message.as_deref(), Some("draining node shardwatch-worker3…"));
}

#[test]
fn f_fails_a_ready_node_and_r_restores_a_not_ready_one() {
    let snap = snapshot();
    // Row 14: shardwatch-worker3, Ready; row 11: shardwatch-worker2, NotReady.
    let mut s = placement_at(14);
    handle_key(&mut s, ch('f'), &snap);
    assert_eq!(s.confirm, Some(Request::FailNode("shardwatch-worker3".into())));
    assert_eq!(
        handle_key(&mut s, ch('y'), &snap),
        KeyOutcome::Request(Request::FailNode("shardwatch-worker3".into()))
    );
    assert_eq!(s.message.as_deref(), Some("failing node shardwatch-worker3…"));
    let mut s = placement_at(11);
    handle_key(&mut s, ch('r'), &snap);
    assert_eq!(s.confirm, Some(Request::RestoreNode("shardwatch-worker2".into())));
    handle_key(&mut s, ch('y'), &snap);
    assert_eq!(s.message.as_deref(), Some("restoring node shardwatch-worker2…"));
}

#[test]
fn f_and_r_refuse_a_node_already_in_that_state() {
    let snap = snapshot();
    for (row, c, want) in [
        (11, 'f', "node shardwatch-worker2 is already NotReady"),
        (14, 'r', "node shardwatch-worker3 is already Ready"),
    ] {
        let mut s = placement_at(row);
        assert_eq!(handle_key(&mut s, ch(c), &snap), KeyOutcome::Changed);
        assert_eq!(s.confirm, None);
        assert_eq!(s.message.as_deref(), Some(want));
    }
    // Readiness Unknown (what a node without heartbeats shows first): it is down already,
    // so f refuses and r asks.
    let mut snap = snapshot();
    Arc::make_mut(&mut Arc::make_mut(&mut snap.placement).nodes[3]).ready = None;
    let mut s = placement_at(14);
    handle_key(&mut s, ch('f'), &snap);
    assert_eq!(s.confirm, None);
    assert_eq!(s.message.as_deref(), Some("node shardwatch-worker3 is already not Ready (Unknown)"));
    handle_key(&mut s, ch('r'), &snap);
    assert_eq!(s.confirm, Some(Request::RestoreNode("shardwatch-worker3".into())));
}

#[test]
fn f_and_r_say_why_when_it_is_unknown_where_nodes_run() {
    let snap = snapshot();
    let why = "cannot fail or restore nodes: the kubeconfig in use (/k) is not the local cluster's";
    for (row, c) in [(14, 'f'), (11, 'r')] {
        let mut s = UiState { cannot_fail_nodes: Some(why.into()), ..placement_at(row) };
        assert_eq!(handle_key(&mut s, ch(c), &snap), KeyOutcome::Changed);
        assert_eq!(s.confirm, None);
        assert_eq!(s.message, Some(format!("{c}: {why}")));
    }
    // Cordon and drain do not need it.
    let mut s = UiState { cannot_fail_nodes: Some(why.into()), ..placement_at(14) };
    handle_key(&mut s, ch('d'), &snap);
    assert_eq!(s.confirm, Some(Request::Drain("shardwatch-worker3".into())));
}

#[test]
fn node_keys_need_a_node_row() {
    let snap = snapshot();
    // 12: a pod; 0: a violation.
    for (row, c) in [(12, 'f'), (12, 'r'), (12, 'd'), (0, 'f'), (0, 'd')] {
        let mut s = placement_at(row);
        handle_key(&mut s, ch(c), &snap);
        assert_eq!(s.confirm, None);
        assert_eq!(s.message, Some(format!("{c}: select a node first")), "row {row}");
    }
    // Node keys on the Shards panel, s on Placement.
    for c in ['f', 'r', 'd'] {
        let mut s = UiState::new(false);
        handle_key(&mut s, ch(c), &snap);
        assert_eq!(s.message, Some(format!("{c}: no action on this panel")));
    }
    let mut s = placement_at(14);
    handle_key(&mut s, ch('s'), &snap);
    assert_eq!(s.confirm, None);
    assert!(s.message.as_deref().unwrap_or("").contains("Shards panel"), "{:?}", s.message);
}

/// The Shards panel with row `row` selected (0 main, 1–3 shard1–shard3).
fn shards_at(row: usize) -> UiState {
    let mut s = UiState::new(false);
    s.lists[Panel::Shards.index()].selected = row;
    s
}

#[test]
fn s_on_a_shard_asks_to_scale_it_to_zero() {
    let snap = snapshot();
    let mut s = shards_at(3);
    handle_key(&mut s, ch('s'), &snap);
    let want = Request::ScaleShard { shard: "shard3".into(), replicas: 0, deployments: 3 };
    assert_eq!(s.confirm, Some(want.clone()));
    assert_eq!(want.question(), "Scale shard shard3 to zero (3 Deployments)?");
    assert_eq!(handle_key(&mut s, ch('y'), &snap), KeyOutcome::Request(want));
    assert_eq!(s.message.as_deref(), Some("scaling shard shard3 to 0…"));
    // main is a shard too: the unsharded controllers, four Deployments here.
    let mut s = shards_at(0);
    handle_key(&mut s, ch('s'), &snap);
    let main = s.confirm.clone().expect("asks");
    assert_eq!(main.question(), "Scale shard main to zero (4 Deployments)?");
}

#[test]
fn s_on_a_shard_at_zero_scales_it_back_to_one() {
    let mut snap = snapshot();
    for c in &mut snap.shards[3].controllers {
        c.desired = 0;
    }
    let mut s = shards_at(3);
    handle_key(&mut s, ch('s'), &snap);
    let want = Request::ScaleShard { shard: "shard3".into(), replicas: 1, deployments: 3 };
    assert_eq!(s.confirm, Some(want.clone()));
    assert_eq!(want.question(), "Scale shard shard3 back to 1 replica (3 Deployments)?");
    // One controller still up: s scales the shard down, not back.
    snap.shards[3].controllers[0].desired = 1;
    let mut s = shards_at(3);
    handle_key(&mut s, ch('s'), &snap);
    assert!(matches!(s.confirm, Some(Request::ScaleShard { replicas: 0, .. })), "{:?}", s.confirm);
}

#[test]
fn s_follows_the_filter() {
    let snap = snapshot();
    let mut s = UiState::new(false);
    typing(&mut s, "/shard2");
    handle_key(&mut s, key(KeyCode::Enter), &snap);
    handle_key(&mut s, ch('s'), &snap);
    assert!(
        matches!(&s.confirm, Some(Request::ScaleShard { shard, .. }) if shard == "shard2"),
        "{:?}",
        s.confirm
    );
}

#[test]
fn read_only_refuses_the_new_action_keys() {
    let snap = snapshot();
    for (mut s, c) in
        [(placement_at(14), 'f'), (placement_at(11), 'r'), (placement_at(14), 'd'), (shards_at(3), 's')]
    {
        s.read_only = true;
        assert_eq!(handle_key(&mut s, ch(c), &snap), KeyOutcome::Changed);
        assert_eq!(s.confirm, None, "{c}");
        assert_eq!(s.message.as_deref(), Some("read-only: actions are disabled"));
    }
}
