//! The incremental views always equal a from-scratch computation, after any sequence of
//! events: adds, status flips, dependsOn edits, deletes, relists, controllers going down or
//! watching with another selector, sources (a release's chart and its repository) failing,
//! watch states, with the clock moving between refreshes.

use proptest::prelude::*;

use super::super::event::{Change, ClusterEvent, Object, ObjectId, ResourceKind, WatchState};
use super::super::fixture::*;
use super::super::objects::Deployment;
use super::super::objects::{FluxKey, FluxKind, FluxObject, Node, Pod, Time};
use super::super::placement::Violation;
use super::super::snapshot::Snapshot;
use super::super::store::Model;
use super::super::views::Views;
use super::now;

const NAMES: usize = 8;
const NODES: [&str; 5] =
    ["shardwatch-worker", "shardwatch-worker2", "shardwatch-worker3", "extra-0", "extra-1"];
const SHARDS: [Option<&str>; 4] = [None, Some("shard1"), Some("shard2"), Some("shard4")];
/// The `team` label a Flux object may carry.
const TEAMS: [Option<&str>; 3] = [None, Some("payments"), Some("ads")];
/// Watch selector forms (`{key}` is the shard label, `{shard}` the controller's shard):
/// every operator, several requirements, none at all, and one the controller refuses.
const SELECTORS: [Option<&str>; 10] = [
    Some("{key}={shard}"),
    Some("{key} in ({shard}, shard4)"),
    Some("{key} notin (shard1,shard2)"),
    Some("{key}!=shard2"),
    Some("!{key}"),
    Some("team in (payments),!legacy"),
    Some("team notin (payments),team"),
    Some("!team"),
    None,
    Some("team in (payments"),
];

/// One step of a random history, in plain numbers so proptest can shrink it.
#[derive(Debug, Clone)]
enum Step {
    /// Put Kustomization `name` (or a HelmRelease / GitRepository) with a state and deps.
    Put { kind: u8, name: usize, shard: usize, state: u8, deps: Vec<usize>, team: usize },
    /// Delete it.
    Delete { kind: u8, name: usize },
    /// Relist every Kustomization as it stands, minus one.
    Relist { drop: usize },
    /// Give a shard's (or main's) kustomize-controller another watch selector form.
    Selector { shard: usize, form: usize },
    /// Scale a shard's kustomize-controller to 0 or 1 ready replicas.
    Controller { shard: usize, ready: bool },
    /// The shard's kustomize-controller stops asking for its shard's nodes (upstream
    /// sharding pins nothing): off-shard pods count only while some node is labelled.
    Unpin { shard: usize },
    /// The Kustomization watch is lost or live again.
    Watch { lost: bool },
    /// Put a node: one of the seed's workers or an extra one, labelled for a shard or not,
    /// Ready, NotReady, cordoned or Unknown.
    Node { name: usize, shard: usize, state: u8 },
    /// Delete a node.
    NodeDelete { name: usize },
    /// Relist the nodes as they stand, minus one.
    NodeRelist { drop: usize },
    /// Put a shard's kustomize-controller pod: on a node (or one nobody knows), Pending,
    /// or terminating.
    Pod { shard: usize, node: usize, state: u8 },
    /// Delete that pod.
    PodDelete { shard: usize },
    /// Refresh the views, `secs` later than the last step.
    Refresh { secs: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..5, 0..NAMES, 0..SHARDS.len(), 0u8..7, proptest::collection::vec(0..NAMES + 2, 0..3), 0..TEAMS.len())
            .prop_map(|(kind, name, shard, state, deps, team)| Step::Put { kind, name, shard, state, deps, team }),
        2 => (0..4usize, 0..SELECTORS.len()).prop_map(|(shard, form)| Step::Selector { shard, form }),
        1 => (0u8..5, 0..NAMES).prop_map(|(kind, name)| Step::Delete { kind, name }),
        1 => (0..NAMES).prop_map(|drop| Step::Relist { drop }),
        1 => (0..3usize, any::<bool>()).prop_map(|(shard, ready)| Step::Controller { shard, ready }),
        1 => any::<bool>().prop_map(|lost| Step::Watch { lost }),
        1 => (0..3usize).prop_map(|shard| Step::Unpin { shard }),
        2 => (0..NODES.len(), 0..SHARDS.len(), 0u8..4)
            .prop_map(|(name, shard, state)| Step::Node { name, shard, state }),
        1 => (0..NODES.len()).prop_map(|name| Step::NodeDelete { name }),
        1 => (0..NODES.len()).prop_map(|drop| Step::NodeRelist { drop }),
        2 => (0..3usize, 0..NODES.len() + 1, 0u8..3).prop_map(|(shard, node, state)| Step::Pod { shard, node, state }),
        1 => (0..3usize).prop_map(|shard| Step::PodDelete { shard }),
        3 => (0i64..900).prop_map(|secs| Step::Refresh { secs }),
    ]
}

fn kind(k: u8) -> FluxKind {
    match k {
        0 => FluxKind::Kustomization,
        1 => FluxKind::HelmRelease,
        3 => FluxKind::HelmChart,
        4 => FluxKind::HelmRepository,
        _ => FluxKind::GitRepository,
    }
}

/// Object `name` of kind `k`: a HelmChart is named as helm-controller names a release's chart.
fn name_of(k: u8, name: usize) -> String {
    match kind(k) {
        FluxKind::HelmChart => format!("{NS}-o{name}"),
        _ => format!("o{name}"),
    }
}

fn object(k: u8, name: usize, shard: usize, state: u8, deps: &[usize], at: Time) -> FluxObject {
    object_of(k, name, shard, state, deps, 0, at)
}

fn object_of(
    k: u8,
    name: usize,
    shard: usize,
    state: u8,
    deps: &[usize],
    team: usize,
    at: Time,
) -> FluxObject {
    // Names past NAMES are dependencies that never exist.
    let names: Vec<String> = deps.iter().map(|d| format!("o{d}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let shard = SHARDS[shard];
    let obj = match kind(k) {
        FluxKind::Kustomization => with_source(
            kustomization(NS, &format!("o{name}"), shard, &names),
            &format!("GitRepository/{NS}/o{}", name % 3),
        ),
        // A release reads its chart (when it exists) made from a HelmRepository.
        FluxKind::HelmRelease => with_source(
            helm_release(NS, &format!("o{name}"), shard, &names),
            &format!("HelmRepository/{NS}/o{}", name % 3),
        ),
        FluxKind::HelmChart => with_source(
            flux_object(FluxKind::HelmChart, NS, &name_of(k, name), shard),
            &format!("HelmRepository/{NS}/o{}", name % 3),
        ),
        kind => flux_object(kind, NS, &format!("o{name}"), shard),
    };
    let labels = TEAMS[team].map(|t| vec![("team".into(), t.into())]).unwrap_or_default();
    let obj = FluxObject { created: Some(ago(at, 3600)), labels, ..obj };
    match state {
        0 => with_ready(obj, ago(at, 120)),
        1 => with_failed(obj, "BuildFailed", "kustomize build failed", ago(at, 30)),
        2 => with_waiting(obj, ago(at, 700)),
        3 => with_progressing(obj, ago(at, 5)),
        4 => with_suspended(with_ready(obj, ago(at, 100))),
        5 => with_stale(with_ready(obj, ago(at, 60))),
        _ => obj,
    }
}

fn put_node(name: usize, shard: usize, state: u8) -> Node {
    let n = node(NODES[name], SHARDS[shard]);
    match state {
        0 => n,
        1 => not_ready(n),
        2 => Node { unschedulable: true, ..n },
        _ => Node { ready: None, ..n },
    }
}

fn put_pod(shard: usize, node: usize, state: u8) -> Pod {
    let dep = controller("kustomize-controller", Some(["shard1", "shard2", "shard3"][shard]));
    // A fixed creation time keeps the name, so a put replaces the same pod.
    let p = pod_of(&dep, NODES.get(node).copied().unwrap_or("nowhere"), now());
    match state {
        0 => p,
        1 => pending(p, "0/4 nodes are available"),
        _ => Pod { terminating: true, ..p },
    }
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut at = now();
    let mut model: Model = seed_stack(at);
    let mut views = Views::new();
    let check = |model: &mut Model, views: &mut Views, at: Time| -> Result<(), TestCaseError> {
        let mut incremental = views.refresh(model, at);
        incremental.stamp(at);
        let scratch = Snapshot::of(model, at);
        prop_assert_eq!(incremental, scratch);
        Ok(())
    };
    check(&mut model, &mut views, at)?;
    for s in steps {
        let change = match s {
            Step::Put { kind, name, shard, state, deps, team } => {
                Change::Applied(Object::Flux(object_of(*kind, *name, *shard, *state, deps, *team, at)))
            }
            Step::Selector { shard, form } => {
                let shard = [Some("shard1"), Some("shard2"), Some("shard3"), None][*shard];
                let mut dep = controller("kustomize-controller", shard);
                dep.watch_label_selector = SELECTORS[*form]
                    .map(|f| f.replace("{key}", SHARD_LABEL).replace("{shard}", shard.unwrap_or("main")));
                Change::Applied(Object::Deployment(dep))
            }
            Step::Delete { kind: k, name } => Change::Deleted(ObjectId::Flux(FluxKey {
                kind: kind(*k),
                namespace: NS.into(),
                name: name_of(*k, *name).into(),
            })),
            Step::Relist { drop } => {
                let keep: Vec<Object> = model
                    .flux
                    .values()
                    .filter(|o| o.key.kind == FluxKind::Kustomization && *o.key.name != format!("o{drop}"))
                    .cloned()
                    .map(Object::Flux)
                    .collect();
                Change::Listed(ResourceKind::Flux(FluxKind::Kustomization), keep)
            }
            Step::Controller { shard, ready } => {
                let shard = ["shard1", "shard2", "shard3"][*shard];
                let dep = with_replicas(controller("kustomize-controller", Some(shard)), u32::from(*ready));
                Change::Applied(Object::Deployment(dep))
            }
            Step::Unpin { shard } => {
                let shard = ["shard1", "shard2", "shard3"][*shard];
                let dep = controller("kustomize-controller", Some(shard));
                Change::Applied(Object::Deployment(Deployment { required_node_shards: Vec::new(), ..dep }))
            }
            Step::Watch { lost } => {
                let state = if *lost {
                    WatchState::Lost { since: at, error: "connection refused".into() }
                } else {
                    WatchState::Live
                };
                Change::Watch(ResourceKind::Flux(FluxKind::Kustomization), state)
            }
            Step::Node { name, shard, state } => {
                Change::Applied(Object::Node(put_node(*name, *shard, *state)))
            }
            Step::NodeDelete { name } => Change::Deleted(ObjectId::Node(NODES[*name].to_string())),
            Step::NodeRelist { drop } => {
                let keep = model
                    .nodes
                    .values()
                    .filter(|n| n.name != NODES[*drop])
                    .cloned()
                    .map(Object::Node)
                    .collect();
                Change::Listed(ResourceKind::Node, keep)
            }
            Step::Pod { shard, node, state } => Change::Applied(Object::Pod(put_pod(*shard, *node, *state))),
            Step::PodDelete { shard } => {
                let pod = put_pod(*shard, 0, 0);
                Change::Deleted(ObjectId::Pod(pod.namespace, pod.name))
            }
            Step::Refresh { secs } => {
                at += chrono::Duration::seconds(*secs);
                views.tick();
                check(&mut model, &mut views, at)?;
                continue;
            }
        };
        model.apply(ClusterEvent { at, change });
    }
    check(&mut model, &mut views, at)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn incremental_views_equal_a_fresh_computation(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }
}

#[test]
fn a_status_change_redoes_the_chain_above_it_only() {
    // ks0 <- ks1 <- ks2: ks0 failing blocks the chain; Ready again unblocks it.
    let at = now();
    let mut model = seed_stack(at);
    for (i, deps) in [(0, vec![]), (1, vec![0]), (2, vec![1])] {
        let mut o = object(0, i, 1, 2, &deps, at);
        if i == 0 {
            o = object(0, 0, 1, 1, &[], at);
        }
        model.apply(applied(at, o));
    }
    let mut views = Views::new();
    let before = views.refresh(&mut model, at);
    let node =
        |s: &Snapshot, n: &str| s.dependencies.nodes.iter().find(|g| &*g.key.name == n).cloned().unwrap();
    assert_eq!(
        node(&before, "o2").root_cause.as_ref().and_then(|c| c.key.clone()).map(|k| k.name),
        Some("o0".into())
    );
    model.apply(applied(at, object(0, 0, 1, 0, &[], at)));
    let after = views.refresh(&mut model, at);
    assert_eq!(
        node(&after, "o2").root_cause.as_ref().and_then(|c| c.key.clone()).map(|k| k.name),
        Some("o1".into())
    );
    // Rows nothing reaches are shared with the previous snapshot, not copied.
    let untouched =
        |s: &Snapshot| s.dependencies.nodes.iter().find(|g| &*g.key.name == "flux-system").cloned().unwrap();
    assert!(std::sync::Arc::ptr_eq(&untouched(&before), &untouched(&after)));
}

#[test]
fn a_node_update_that_changes_nothing_shown_keeps_placement_shared() {
    // A big cluster's Nodes change all the time (heartbeats, labels nobody reads): the
    // placement view, and so the screen, stay as they were.
    let at = now();
    let mut model = seed_stack(at);
    let mut views = Views::new();
    let before = views.refresh(&mut model, at);
    let mut n = put_node(0, 1, 0);
    n.labels.insert("example.com/heartbeat".into(), "42".into());
    model.apply(applied(at, n));
    let same = views.refresh(&mut model, at);
    assert!(std::sync::Arc::ptr_eq(&before.placement, &same.placement));
    assert_eq!(before.shards, same.shards);
    model.apply(applied(at, put_node(0, 1, 1)));
    let changed = views.refresh(&mut model, at);
    assert!(!std::sync::Arc::ptr_eq(&before.placement, &changed.placement));
    assert!(changed.placement.violations.iter().any(|v| matches!(v, Violation::UnhealthyNode { .. })));
}
