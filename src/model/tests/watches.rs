//! Watch states through outages: a resumed watch is Live on its first event, an outage
//! keeps the time it began, and nothing is judged while lists are coming in.

use super::{change, now, put};
use crate::model::event::{Change, ClusterEvent, ResourceKind, WatchState};
use crate::model::fixture::*;
use crate::model::objects::FluxKind;
use crate::model::store::{ListProgress, Model};
use crate::model::verdict::Verdict;
use crate::model::{ModelConfig, Snapshot};

const KS: ResourceKind = ResourceKind::Flux(FluxKind::Kustomization);

fn lost(secs_ago: i64, error: &str) -> WatchState {
    WatchState::Lost { since: ago(now(), secs_ago), error: error.into() }
}

#[test]
fn a_resumed_watch_is_live_on_its_first_event_without_a_relist() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(KS, lost(30, "connection refused")));
    let ks = with_ready(kustomization(NS, "resumed", Some("shard1"), &[]), now());
    put(&mut model, ks);
    assert_eq!(model.watch(KS), WatchState::Live);
    assert!(model.flux.keys().any(|k| &*k.name == "resumed"));
    let last: Vec<_> =
        model.log.iter().rev().take(2).map(|e| (e.subject.as_str(), e.message.as_str())).collect();
    assert!(last.contains(&("watch/kustomizations", "watching")), "{last:?}");
    // A deletion proves the watch delivers just as well.
    change(&mut model, Change::Watch(ResourceKind::Node, lost(5, "EOF")));
    change(&mut model, Change::Deleted(crate::model::ObjectId::Node(WORKERS[0].into())));
    assert_eq!(model.watch(ResourceKind::Node), WatchState::Live);
}

#[test]
fn an_event_of_one_kind_does_not_revive_another() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(ResourceKind::Lease, lost(30, "connection refused")));
    put(&mut model, node("extra", None));
    assert!(matches!(model.watch(ResourceKind::Lease), WatchState::Lost { .. }));
}

#[test]
fn retries_keep_the_time_the_outage_began() {
    let mut model = seed_stack(now());
    change(&mut model, Change::Watch(KS, lost(60, "connection refused")));
    change(&mut model, Change::Watch(KS, lost(40, "connection reset by peer")));
    change(&mut model, Change::Watch(KS, lost(10, "connection refused")));
    assert_eq!(model.watch(KS), lost(60, "connection refused"));
    let lost_lines = model.log.iter().filter(|e| e.message.starts_with("connection lost")).count();
    assert_eq!(lost_lines, 1, "one outage, one line");
    let reasons = Snapshot::of(&model, now()).overall.reasons;
    let at = ago(now(), 60).format("%H:%M:%S").to_string();
    assert!(reasons.iter().any(|r| r.contains(&format!("connection lost since {at}"))), "{reasons:?}");
    // Once back, the next outage starts afresh.
    change(&mut model, Change::Watch(KS, WatchState::Live));
    change(&mut model, Change::Watch(KS, lost(2, "EOF")));
    assert_eq!(model.watch(KS), lost(2, "EOF"));
}

#[test]
fn nothing_is_judged_from_half_the_lists() {
    let mut model = Model::new(ModelConfig::default());
    for kind in ResourceKind::all() {
        change(&mut model, Change::Watch(kind, WatchState::Syncing));
    }
    let all = ResourceKind::all().len();
    assert_eq!(model.list_progress(), ListProgress { listed: 0, of: all });
    // Nodes and Deployments are in, with a stack that would look healthy; the rest is not.
    let stack = seed_stack(now());
    change(
        &mut model,
        Change::Listed(ResourceKind::Node, stack.nodes.values().cloned().map(Into::into).collect()),
    );
    change(
        &mut model,
        Change::Listed(
            ResourceKind::Deployment,
            stack.deployments.values().cloned().map(Into::into).collect(),
        ),
    );
    change(
        &mut model,
        Change::Watch(ResourceKind::Event, WatchState::Forbidden("events is forbidden".into())),
    );
    assert_eq!(model.list_progress(), ListProgress { listed: 3, of: all });
    let o = Snapshot::of(&model, now()).overall;
    assert_eq!((o.verdict, o.reasons), (Verdict::Unknown, vec![format!("syncing: 3 of {all} kinds listed")]));
    for kind in ResourceKind::all() {
        if model.watch(kind) == WatchState::Syncing {
            change(&mut model, Change::Listed(kind, vec![]));
        }
    }
    assert!(!model.list_progress().busy());
    assert_ne!(Snapshot::of(&model, now()).overall.verdict, Verdict::Unknown);
}

#[test]
fn a_relist_is_syncing_and_keeps_the_old_objects_until_the_new_list() {
    let mut model = seed_stack(now());
    let before = model.flux.len();
    change(&mut model, Change::Watch(KS, WatchState::Syncing));
    assert_eq!(model.flux.len(), before, "old objects stay while listing again");
    let o = Snapshot::of(&model, now()).overall;
    assert_eq!(o.verdict, Verdict::Unknown);
    assert!(o.reasons[0].starts_with("syncing: "), "{:?}", o.reasons);
    // The new list drops what was deleted while away.
    let kept: Vec<_> =
        model.flux.values().filter(|f| f.key.kind == FluxKind::Kustomization).skip(1).cloned().collect();
    let n = kept.len();
    model.apply(ClusterEvent {
        at: now(),
        change: Change::Listed(KS, kept.into_iter().map(Into::into).collect()),
    });
    assert_eq!(model.flux.keys().filter(|k| k.kind == FluxKind::Kustomization).count(), n);
    assert_eq!(model.watch(KS), WatchState::Live);
    assert!(!model.list_progress().busy());
}
